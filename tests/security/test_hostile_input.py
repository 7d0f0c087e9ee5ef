"""Hostile input: every importer gives a clean import or one clear error, never a traceback or a partial write."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundcode.domain.errors import GroundcodeError
from groundcode.project import Project

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    db = d / "p.db"
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        (d / "seed.txt").write_text("健康码\n\n数据共享与互认。\n", encoding="utf-8")
        lead.corpus.import_files([d / "seed.txt"], type=1)
    return db


def _state(p: Project) -> tuple[int, int, int]:
    return (
        len(p.corpus.documents()),
        len(p.as_user("chen").coding.codings()),
        sum(1 for _ in p.codebook.tree().concepts()),
    )


def _one_line(exc: GroundcodeError) -> None:
    assert "\n" not in str(exc) and str(exc).strip()


@SETTINGS
@given(
    data=st.binary(min_size=0, max_size=2000),
    suffix=st.sampled_from([".txt", ".csv", ".jsonl", ".md", ".html"]),
)
def test_random_bytes_import_cleanly_or_fail_cleanly(
    base: Path, tmp_path: Path, data: bytes, suffix: str
) -> None:
    f = tmp_path / f"input{suffix}"
    f.write_bytes(data)
    with Project.open(base, user="chen") as p:
        before = _state(p)
        try:
            report = p.corpus.import_files([f], type=4)
        except GroundcodeError as exc:
            _one_line(exc)
            assert _state(p) == before
        else:
            assert _state(p)[0] == before[0] + report.documents


@SETTINGS
@given(text=st.text(max_size=600))
def test_random_yaml_codebook(base: Path, tmp_path: Path, text: str) -> None:
    f = tmp_path / "cb.yaml"
    f.write_text(text, encoding="utf-8")
    with Project.open(base, user="chen") as p:
        before = p.codebook.to_spec()
        try:
            p.codebook.import_yaml(f)
        except GroundcodeError as exc:
            _one_line(exc)
            assert p.codebook.to_spec() == before


@SETTINGS
@given(rows=st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=6), max_size=12))
def test_random_codings_csv(base: Path, tmp_path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["document", "passage", "code", "coder"])
    w.writerows(rows)
    f = tmp_path / "c.csv"
    f.write_text(buf.getvalue(), encoding="utf-8")
    with Project.open(base, user="chen") as p:
        before = _state(p)
        try:
            p.coding.import_csv(f)
        except GroundcodeError as exc:
            _one_line(exc)
            assert _state(p) == before
        else:
            # Clean import: undo it so later examples start from the same project.
            p.db.run(lambda s: s.execute(__import__("sqlalchemy").text("DELETE FROM coding")))


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.text(max_size=5), st.text(max_size=5), st.text(max_size=5)), max_size=15
    )
)
def test_random_agreement_csv(tmp_path: Path, rows: list[tuple[str, str, str]]) -> None:
    from groundcode.analysis.agreement_csv import agreement_from_csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["unit", "coder", "code"])
    w.writerows(rows)
    f = tmp_path / "a.csv"
    f.write_text(buf.getvalue(), encoding="utf-8")
    try:
        out = agreement_from_csv(f).to_json()
    except GroundcodeError as exc:
        _one_line(exc)
    else:
        import json

        json.dumps(out, allow_nan=False)


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_random_qdpx(tmp_path: Path, data: bytes) -> None:
    from groundcode.interchange.refi_read import read_qdpx

    f = tmp_path / "x.qdpx"
    f.write_bytes(data)
    with pytest.raises(GroundcodeError) as err:
        read_qdpx(f)
    _one_line(err.value)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return path


XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>'
)


@pytest.mark.parametrize("suffix", [".docx", ".xlsx"])
@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_office_files_with_entities_are_refused(
    base: Path, tmp_path: Path, suffix: str, payload: bytes
) -> None:
    part = "word/document.xml" if suffix == ".docx" else "xl/workbook.xml"
    f = _zip(tmp_path / f"evil{suffix}", {"[Content_Types].xml": payload, part: payload})
    with Project.open(base, user="chen") as p:
        before = _state(p)
        with pytest.raises(GroundcodeError) as err:
            p.corpus.import_files([f], type=1)
        _one_line(err.value)
        assert "evil" in str(err.value)
        assert _state(p) == before


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".qdpx"])
def test_zip_slip_and_bombs_are_refused(base: Path, tmp_path: Path, suffix: str) -> None:
    slip = _zip(tmp_path / f"slip{suffix}", {"../../evil.txt": b"x", "project.qde": b"<x/>"})
    bomb = _zip(
        tmp_path / f"bomb{suffix}",
        {"word/document.xml": b"\0" * (300 * 1024 * 1024), "project.qde": b"<x/>"},
    )
    for f in (slip, bomb):
        with pytest.raises(GroundcodeError) as err:
            if suffix == ".qdpx":
                from groundcode.interchange.refi_read import read_qdpx

                read_qdpx(f)
            else:
                with Project.open(base, user="chen") as p:
                    p.corpus.import_files([f], type=1)
        _one_line(err.value)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_csv_with_nul_bytes_and_a_huge_line(base: Path, tmp_path: Path) -> None:
    nul = tmp_path / "nul.csv"
    nul.write_bytes("text\n正常一行\n坏\x00行\n".encode())
    huge = tmp_path / "huge.txt"
    huge.write_text("健康码" * 3_400_000, encoding="utf-8")  # a 10-million-character single line
    with Project.open(base, user="chen") as p:
        before = _state(p)
        with pytest.raises(GroundcodeError) as err:
            p.corpus.import_files([nul], type=4)
        assert "nul.csv" in str(err.value)
        assert _state(p) == before
        report = p.corpus.import_files([huge], type=1)
        assert report.documents == 1
        doc = p.corpus.document(report.files[0].first)
        assert len(doc.text) == 10_200_000


def test_invalid_utf8_in_the_middle_is_refused(base: Path, tmp_path: Path) -> None:
    f = tmp_path / "mixed.txt"
    f.write_bytes(
        "前半部分是UTF-8文本。\n".encode() * 50 + b"\xff\xfe\xfa" + "后半部分。".encode("gbk") * 20
    )
    with Project.open(base, user="chen") as p, pytest.raises(GroundcodeError) as err:
        p.corpus.import_files([f], type=1)
    assert "mixed.txt" in str(err.value)


@pytest.mark.parametrize(
    "term", ['"', "*", "NEAR", "OR", 'a" OR "b', "健康码 NEAR 互认", "(", "数据*", "-"]
)
def test_search_terms_are_literal(base: Path, term: str) -> None:
    with Project.open(base, user="chen") as p:
        result = p.corpus.search(term)
        for hit in result.hits:
            doc = p.corpus.document(hit.document)
            assert term in doc.passages[hit.passage - 1].text
