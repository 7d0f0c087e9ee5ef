"""Safe writing of export files: formula neutralising and all-or-nothing output.

Two promises of SPEC §6 live here so every writer keeps them the same way:

* Exported cells must not run as spreadsheet formulas. Text in a corpus or a
  memo is written by people outside our control (comments scraped from the
  web), and a cell such as ``=HYPERLINK(...)`` opened in Excel or WPS would
  execute. :func:`neutralise` follows the OWASP "CSV injection"
  recommendation: a string that begins with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return gets a leading apostrophe ``'``, which every
  spreadsheet reads as "this is text". The apostrophe stays visible in the
  value; we accept that, because the same value may later be re-saved as CSV,
  where a style flag (Excel's quotePrefix) would be lost.
* A failed export leaves nothing behind and an existing file is never replaced
  without ``--force``. :func:`atomic_output` writes to a temporary file in the
  target folder and renames it over the target only when the writer finished.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groundcode.domain.errors import AlreadyExists, InvalidInput

__all__ = ["TRIGGERS", "atomic_output", "neutralise"]

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

# A plain number written as text ("-5", "+3.2", "-1e3"). A spreadsheet reads it
# as that number and nothing else, so no formula can hide in it; prefixing it
# would turn negative numbers in, say, a Likert column into text for no gain.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralise(value: object) -> object:
    """Return ``value`` made safe to put into a spreadsheet cell.

    Only strings change: one starting with a formula trigger gets a leading
    ``'``. Strings that are exactly a plain number (``"-5"``, ``"+3.5"``) are
    left alone on purpose, since they cannot carry a formula; ``"-2+3"`` is not
    a plain number and is neutralised. ints, floats and every other type pass
    through untouched.
    """
    if not isinstance(value, str) or not value or not value.startswith(TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


@contextlib.contextmanager
def atomic_output(path: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary file sits in the same folder so the final ``os.replace`` is an
    atomic rename on the same file system, and it keeps the target's suffix so
    writers that pick a format from the name (matplotlib, pandas) still work.
    Without ``force`` an existing target is refused before anything is written.
    On any exception the temporary file is removed and the target is untouched.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(str(path), 0, "is_a_folder")
    if path.exists() and not force:
        raise AlreadyExists(str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            str(path.parent), 0, "cannot_create_folder", str(exc.strerror or exc)
        ) from exc
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if path.exists() and not force:
            # Someone else created the target while we were writing.
            raise AlreadyExists(str(path))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        cause = _write_failure(exc)
        if cause is not None:
            raise InvalidInput(str(path), 0, "cannot_write", cause) from None
        raise


def save_docx(doc: Any, tmp: Path) -> None:
    """Save a Word document into memory, then write its bytes to ``tmp``.

    python-docx leaves its zip open when writing fails part-way (a full disk);
    the garbage collector's close then fails again and Python prints a traceback
    after the one-line error. Reports are small, so the zip is built in memory and
    only the final write touches the disk.
    """
    buf = io.BytesIO()
    doc.save(buf)
    tmp.write_bytes(buf.getvalue())


def _write_failure(exc: BaseException) -> str | None:
    """Why writing failed, when the file system refused it (a full disk, a file-size
    limit, a read-only folder); None for any other error.

    The writers hit these as an ``OSError``, or, inside lxml's serialiser (Excel and
    Word files), as a ``SerialisationError`` such as ``IO_ENOSPC``: both are one line
    naming the file, never an internal error.
    """
    if isinstance(exc, OSError):
        return str(exc.strerror or exc)
    try:
        from lxml.etree import SerialisationError
    except ImportError:  # pragma: no cover - lxml comes with python-docx
        return None
    if isinstance(exc, SerialisationError):
        return str(exc)
    return None
