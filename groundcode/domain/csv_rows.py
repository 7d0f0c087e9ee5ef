"""CSV rows read strictly: a malformed file is refused with its row, never half-read.

Python's ``csv`` module, left lenient, lets one unterminated ``"`` swallow the
rest of the file into a single cell, so a 10,000-row file imports as one
document. ``rows`` reads in strict mode and turns every ``csv.Error`` into
``InvalidInput(file, row, reason)``: ``unterminated_quote`` when a quoted cell
is still open at the end of the file, ``bad_quote`` for a stray quote,
``cell_too_large`` for a cell past ``max_cell`` characters (a limit that keeps
a 200 MB cell from tying up the machine).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator

from groundcode.domain.errors import InvalidInput

# Large enough for a whole long document in one cell (corpus imports).
MAX_DOCUMENT_CELL = 50_000_000


def rows(
    text: str, file: str, *, delimiter: str = ",", max_cell: int = MAX_DOCUMENT_CELL
) -> Iterator[tuple[int, list[str]]]:
    """(record number from 1, cells) for each record of ``text``; refuses malformed input."""
    csv.field_size_limit(min(sys.maxsize, max(max_cell, 1)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    record = 0
    while True:
        start_line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = str(exc)
            if "unexpected end of data" in message:
                raise InvalidInput(file, start_line, "unterminated_quote") from None
            if "field larger than field limit" in message:
                raise InvalidInput(file, start_line, "cell_too_large", str(max_cell)) from None
            raise InvalidInput(file, start_line, "bad_quote", message[:80]) from None
        record += 1
        yield record, values
