"""Checks on zip-based files (.docx, .xlsx, .qdpx) before any library parses them.

Refused, each with one line naming the file:

* archives that are not zips or are truncated/damaged (a member fails its CRC);
* member names that escape the archive (``..``, absolute paths, drive letters);
* archives that would inflate beyond ``max_total`` bytes, or a member whose
  compression ratio exceeds ``max_ratio`` (zip bombs);
* XML parts that declare a DOCTYPE or entities (external entities, "billion
  laughs"). Office and REFI-QDA files never need either, so refusing them
  costs nothing and removes a whole class of parser attacks. The scan covers
  the whole part, in UTF-8 and UTF-16.

The checks read every member once (that is also the integrity check), so the
cost is one decompression of at most ``max_total`` bytes.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from groundcode.errors import UsageError

MAX_TOTAL = 200 * 1024 * 1024
MAX_RATIO = 200
# Small members can have huge ratios legitimately (a run of identical bytes);
# the ratio only matters for members big enough to hurt.
RATIO_MIN_SIZE = 1024 * 1024
XML_SUFFIXES = (".xml", ".rels", ".qde", ".qdc", ".vml")
_CHUNK = 1024 * 1024
_MARKERS = [
    m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be")
]
_DECL = re.compile(b"|".join(re.escape(m) for m in _MARKERS))
_TAIL = max(len(m) for m in _MARKERS)


def _unsafe_name(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return ".." in PurePosixPath(norm).parts


def check_zip(
    path: Path, kind: str, max_total: int = MAX_TOTAL, max_ratio: int = MAX_RATIO
) -> None:
    """Raise UsageError unless ``path`` is a sound, safe zip; ``kind`` (".docx") names it in messages."""
    damaged = f"{path}: not a valid {kind} (truncated or damaged)"
    try:
        if not zipfile.is_zipfile(path):
            raise UsageError(damaged)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                if _unsafe_name(info.filename):
                    raise UsageError(
                        f"{path}: unsafe member name '{info.filename[:80]}' in the {kind} archive"
                    )
                total += info.file_size
                if total > max_total:
                    raise UsageError(
                        f"{path}: expands to more than {max_total // (1024 * 1024)} MB (zip bomb?), refused"
                    )
                if info.file_size > RATIO_MIN_SIZE and info.file_size > max_ratio * max(
                    info.compress_size, 1
                ):
                    ratio = info.file_size // max(info.compress_size, 1)
                    raise UsageError(
                        f"{path}: member '{info.filename[:80]}' is compressed {ratio}:1 (zip bomb?), refused"
                    )
            for info in infos:
                if info.is_dir():
                    continue
                scan = info.filename.lower().endswith(XML_SUFFIXES)
                tail = b""
                with zf.open(info) as fh:
                    while chunk := fh.read(_CHUNK):
                        if scan:
                            if _DECL.search(tail + chunk):
                                raise UsageError(
                                    f"{path}: XML part '{info.filename[:80]}' declares a DOCTYPE or entities, refused"
                                )
                            tail = chunk[-_TAIL:]
    except UsageError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, zlib.error):
        raise UsageError(damaged) from None
    except (OSError, RuntimeError, NotImplementedError) as exc:
        # Encrypted members, unsupported compression methods, unreadable files.
        raise UsageError(f"{path}: cannot open the {kind} archive ({type(exc).__name__})") from None
