"""Checks on zip-based files (.docx, .xlsx, .qdpx) before any library parses them.

Refused: damaged archives, member names that escape the archive (zip-slip),
archives that inflate beyond a bound or by an absurd ratio (zip bombs), and
XML parts that declare a DOCTYPE or entities (external entities, billion
laughs). Office files never need either.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from groundcode.errors import UsageError

MAX_TOTAL = 200 * 1024 * 1024
MAX_RATIO = 200
XML_SUFFIXES = (".xml", ".rels", ".qde", ".vml")


def check_zip(path: Path, kind: str, *, max_total: int = MAX_TOTAL, max_ratio: int = MAX_RATIO) -> None:
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{path}: not a valid {kind} (truncated or damaged)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                name = info.filename
                if name.startswith(("/", "\\")) or ".." in Path(name.replace("\\", "/")).parts or ":" in name:
                    raise UsageError(f"{path}: unsafe member name '{name[:60]}' in the archive")
                total += info.file_size
                if total > max_total:
                    raise UsageError(f"{path}: expands to more than {max_total // (1024 * 1024)} MB (zip bomb?)")
                if info.compress_size and info.file_size > 1024 * 1024 and info.file_size / info.compress_size > max_ratio:
                    raise UsageError(f"{path}: member '{name[:60]}' is compressed {info.file_size // info.compress_size}:1 (zip bomb?)")
            for info in infos:
                if info.filename.lower().endswith(XML_SUFFIXES):
                    with zf.open(info) as fh:
                        head = fh.read(64 * 1024)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise UsageError(f"{path}: XML part '{info.filename[:60]}' declares a DOCTYPE or entities (refused)")
            if zf.testzip() is not None:
                raise UsageError(f"{path}: not a valid {kind} (a member is damaged)")
    except zipfile.BadZipFile:
        raise UsageError(f"{path}: not a valid {kind} (truncated or damaged)") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise UsageError(f"{path}: not a valid {kind} ({type(exc).__name__})") from None
