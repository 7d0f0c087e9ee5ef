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
from typing import BinaryIO

from groundcode.domain.errors import FileRefused, GroundcodeError

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
    path: Path | BinaryIO, kind: str, max_total: int = MAX_TOTAL, max_ratio: int = MAX_RATIO
) -> None:
    """Raise ``InvalidInput`` unless ``path`` is a sound, safe zip; ``kind`` (".docx") names it in messages."""
    damaged = FileRefused(str(path), 0, "damaged_archive", kind)
    try:
        if not zipfile.is_zipfile(path):
            raise damaged
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                if _unsafe_name(info.filename):
                    raise FileRefused(str(path), 0, "unsafe_member", info.filename[:80])
                total += info.file_size
                if total > max_total:
                    raise FileRefused(
                        str(path), 0, "zip_too_big", f"{max_total // (1024 * 1024)} MB"
                    )
                if info.file_size > RATIO_MIN_SIZE and info.file_size > max_ratio * max(
                    info.compress_size, 1
                ):
                    ratio = info.file_size // max(info.compress_size, 1)
                    raise FileRefused(
                        str(path), 0, "zip_ratio", f"{info.filename[:80]} ({ratio}:1)"
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
                                raise FileRefused(str(path), 0, "xml_doctype", info.filename[:80])
                            tail = chunk[-_TAIL:]
    except GroundcodeError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, zlib.error):
        raise damaged from None
    except (OSError, RuntimeError, NotImplementedError) as exc:
        # Encrypted members, unsupported compression methods, unreadable files.
        raise FileRefused(
            str(path), 0, "archive_unreadable", f"{kind}, {type(exc).__name__}"
        ) from None
