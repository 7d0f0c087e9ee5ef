"""The streaming ``.qdpx`` import stores exactly what the read-everything-first import stored.

The expected digests were recorded with the former import (see
``tests/interchange/golden.py``); every table is compared, row for row with
its id, for the demo project's export into a fresh project and into itself,
and for an odd foreign project into a fresh project and into the demo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interchange.golden import GOLDEN, scenarios


@pytest.mark.parametrize("chunk", [None, 3], ids=["default-chunks", "3-source-chunks"])
def test_imports_store_the_recorded_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int | None
) -> None:
    """Chunk boundaries change nothing: 3 sources (or 200 characters) a chunk gives the same."""
    if chunk is not None:
        from groundcode.interchange import service

        monkeypatch.setattr(service, "SOURCES_PER_CHUNK", chunk)
        monkeypatch.setattr(service, "CHARS_PER_CHUNK", 200)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = scenarios(tmp_path)
    for name, want in expected.items():
        for table, digest in want["tables"].items():
            assert got[name]["tables"].get(table) == digest, (name, table)
        assert got[name]["tables"].keys() == want["tables"].keys(), name
        assert got[name]["result"] == want["result"], (name, "report")


def test_variables_after_the_sources_give_the_same_rows(tmp_path: Path) -> None:
    """Against the schema's order, Variables after Sources: read in a first pass instead."""
    from datetime import datetime

    from groundcode.project import Project
    from tests.interchange.golden import dump, foreign_qde, foreign_qdpx

    since = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - the store keeps naive UTC
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    usual = foreign_qdpx(tmp_path / "a" / "foreign.qdpx")
    qde = foreign_qde().decode()
    variables = qde[qde.index("<Variables>") : qde.index("</Variables>") + len("</Variables>")]
    late = qde.replace(variables, "").replace("</Sources>", "</Sources>" + variables)
    moved = foreign_qdpx(tmp_path / "b" / "foreign.qdpx", late.encode())
    tables = {}
    for name, archive in (("usual", usual), ("late", moved)):
        with Project.create(tmp_path / f"{name}.db") as p:
            p.interchange.import_qdpx(archive)
        tables[name] = dump(tmp_path / f"{name}.db", since)
        tables[name].pop("import_batch")  # the file's digest differs, nothing else
    assert tables["late"] == tables["usual"]
