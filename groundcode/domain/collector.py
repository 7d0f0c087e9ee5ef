"""Holding Python's cyclic garbage collector during bulk work, safely across threads.

Imports and the saturation test build some hundred thousand acyclic row
objects; as they pile up the collector walks the whole heap again and again
(up to 0.9 s a pass at the reference size), and every thread stops meanwhile,
the TUI's screen too. Reference counting frees such rows, so nothing
accumulates while the collector waits. The collector is one per process and
the TUI runs these jobs in worker threads, possibly two at once, so the hold
is counted: the collector resumes when the last holder is done, and only if
it was running when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False


@contextmanager
def collector_held() -> Iterator[None]:
    """No cyclic collections inside the block (nor in other threads meanwhile)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
