"""The ``.qdpx`` export's memory does not grow with the corpus.

The same generated project as the benchmark's (``bench/make_corpus.py``: long
media documents, comments, two coders' codings) at two sizes, five times
apart, exported with the chunks and the XML buffer made small so that both
sizes span many chunks. The peak of Python allocations during the export
(``tracemalloc``) must stay nearly flat. The former whole-project export
(``export_reference``) is measured the same way as a control: its peak grows
with the corpus, so a flat figure means the streaming works, not that the
measure is blind.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.make_corpus import make
from groundcode.interchange import qdpx_export, refi_write
from groundcode.project import Project
from tests.interchange import export_reference


def _build(folder: Path, scale: float) -> Path:
    data = folder / "data"
    make(data, scale=scale)
    db = folder / "p.db"
    with Project.create(db, name="memory") as p:
        p.coding.add_coder("lead", role="lead")
        lead = p.as_user("lead")
        lead.coding.add_coder("coder_a")
        lead.coding.add_coder("coder_b")
        lead.codebook.import_yaml(data / "codebook.yaml")
        lead.corpus.import_files([data / "documents.jsonl"], type=2, segment="paragraph")
        lead.corpus.import_files([data / "comments.csv"], type=4)
        lead.coding.import_csv(data / "codings.csv")
    return db


def _peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    small = _build(tmp_path_factory.mktemp("small"), 0.004)
    large = _build(tmp_path_factory.mktemp("large"), 0.02)
    return small, large


def _stream(db: Path, out: Path) -> int:
    with Project.open(db, user="lead") as p:
        p.codebook.tree()  # the codebook is whole-project state: warm it outside the measure
        return _peak(lambda: p.interchange.export_qdpx(out))


def _whole(db: Path, out: Path) -> int:
    with Project.open(db, user="lead") as p:
        p.codebook.tree()

        def run() -> None:
            project = export_reference.build_project(p.interchange)
            export_reference.write_qdpx(project, out)

        return _peak(run)


def test_export_peak_stays_flat_as_the_corpus_grows_five_times(
    sizes: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qdpx_export, "EXPORT_CHUNK", 40)
    monkeypatch.setattr(qdpx_export, "CHUNK_CHARS", 40_000)
    monkeypatch.setattr(qdpx_export, "CHUNK_CODINGS", 400)
    monkeypatch.setattr(refi_write, "_FLUSH_CHARS", 1 << 15)
    small, large = sizes
    with Project.open(large, user="lead") as p:
        assert p.corpus.count() >= 2000 and len(p.coding.codings()) >= 7000
    _stream(small, tmp_path / "warm.qdpx")  # first-use caches (statements, imports)
    new_small = _stream(small, tmp_path / "s.qdpx")
    new_large = _stream(large, tmp_path / "l.qdpx")
    old_small = _whole(small, tmp_path / "os.qdpx")
    old_large = _whole(large, tmp_path / "ol.qdpx")
    # The control: holding the project grows with it (about 5x here).
    assert old_large > 3 * old_small, (old_small, old_large)
    # Streaming: what remains per source is a few dozen bytes (a zip directory
    # entry, a GUID digest, a rank), not its text and codings.
    assert new_large < 1.5 * new_small, (new_small, new_large)
    assert new_large < old_large / 4, (new_large, old_large)
