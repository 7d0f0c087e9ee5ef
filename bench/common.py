"""Small helpers shared by the benchmark scripts: timing, peak memory, child processes.

Each measured step runs in its own interpreter so its peak resident memory
(VmHWM) is the step's own and one step's caches never help the next. The
machine is shared, so small operations are timed as medians of repeated runs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def snapshot(db: Path, out: Path) -> Path:
    """Copy a project file after folding its WAL in, so the copy is complete on its own.

    Benches that write (codings, done marks, imports) work on such a copy, so the
    reference project stays as it was built and every step sees the same data.
    """
    con = sqlite3.connect(str(db))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    shutil.copyfile(db, out)
    return out


def vmhwm_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss may include the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_time(
    fn: Callable[[], Any],
    repeat: int = 7,
    warm: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, Any]:
    """Median time of ``fn`` over ``repeat`` runs after ``warm`` untimed runs (wall clock)."""
    out = None
    for _ in range(warm):
        out = fn()
    times = []
    for _ in range(repeat):
        t0 = clock()
        out = fn()
        times.append(clock() - t0)
    return statistics.median(times), out


def median_cpu(fn: Callable[[], Any], repeat: int = 7, warm: int = 1) -> tuple[float, Any]:
    """Median CPU time (user + system) of ``fn``: on a machine shared by many jobs the wall
    time of a millisecond operation measures the scheduler, its CPU time the work."""
    return median_time(fn, repeat, warm, clock=time.process_time)


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_child(args: list[str], *, timeout: float = 3600) -> dict[str, Any]:
    """Run ``python ARGS`` from the repository; its last stdout line is one JSON object."""
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(args)} printed no result:\n{proc.stdout[-2000:]}")
    return json.loads(lines[-1])


def emit(result: dict[str, Any]) -> None:
    """Print a child's result with its peak memory, as the last line of its output."""
    print(json.dumps({**result, "hwm_mb": vmhwm_mb()}, ensure_ascii=False), flush=True)
