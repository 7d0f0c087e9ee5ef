"""The streaming REFI writer: sources in chunks, refusals as late as the last chunk.

``write_qdpx_stream`` checks each chunk as it arrives and what needs the whole
stream (a key repeated in two chunks, a note on a source that never came) at
its end; either way the refusal comes before the rename, so the target keeps
its old content and no temporary file is left. Split into chunks, a project
gives the same archive as written whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from groundcode.interchange.errors import ArchiveRefused
from groundcode.interchange.model import QdaProject, QdaSourceEntry
from groundcode.interchange.refi_write import write_qdpx, write_qdpx_stream
from tests.interchange.test_refi import make_project


def _entries(project: QdaProject) -> list[QdaSourceEntry]:
    return [
        (source, [c for c in project.codings if c.source_key == source.key])
        for source in project.sources
    ]


def _one_by_one(entries: Sequence[QdaSourceEntry]) -> Iterator[list[QdaSourceEntry]]:
    for entry in entries:
        yield [entry]


def test_chunks_give_the_archive_written_whole(tmp_path: Path) -> None:
    project = make_project()
    whole = tmp_path / "whole.qdpx"
    warnings = write_qdpx(project, whole)
    split = tmp_path / "split.qdpx"
    assert write_qdpx_stream(project, _one_by_one(_entries(project)), split) == warnings
    assert split.read_bytes() == whole.read_bytes()


def _refused(tmp_path: Path, chunks: Iterator[list[QdaSourceEntry]], match: str) -> None:
    path = tmp_path / "out.qdpx"
    path.write_bytes(b"old")
    with pytest.raises(ArchiveRefused, match=match) as info:
        write_qdpx_stream(make_project(), chunks, path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.qdpx"]


def test_a_bad_coding_in_the_last_chunk_leaves_the_old_file(tmp_path: Path) -> None:
    first, (source, codings) = _entries(make_project())
    outside = replace(codings[0], key="coding:9", end=len(source.text) + 1)
    _refused(tmp_path, _one_by_one([first, (source, [*codings, outside])]), "outside")


def test_a_source_repeated_in_another_chunk_is_refused(tmp_path: Path) -> None:
    first, second = _entries(make_project())
    again = (replace(second[0], name="again"), [])
    _refused(tmp_path, _one_by_one([first, second, again]), "duplicate source key")


def test_a_coding_repeated_in_another_chunk_is_refused(tmp_path: Path) -> None:
    first, (source, codings) = _entries(make_project())
    twice = replace(codings[0], key=first[1][0].key)
    _refused(tmp_path, _one_by_one([first, (source, [twice])]), "duplicate coding key")


def test_a_note_on_a_source_that_never_comes_is_refused(tmp_path: Path) -> None:
    first, second = _entries(make_project())
    # memo:2 is on doc:1 (and memo:4 on one of its codings): streaming only doc:2,
    # the target never arrives, which only the end of the stream can tell.
    assert first[0].key == "doc:1"
    _refused(tmp_path, _one_by_one([second]), "refers to unknown source 'doc:1'")


def test_a_coding_under_the_wrong_source_is_refused(tmp_path: Path) -> None:
    first, (source, codings) = _entries(make_project())
    _refused(
        tmp_path, _one_by_one([first, (source, [*codings, first[1][0]])]), "unknown source .doc:1."
    )
