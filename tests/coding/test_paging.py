"""Paged lists equal the DataFrame methods' rows, page by page, on SQLite and PostgreSQL.

The project interleaves source types across imports (comments, then media,
then comments again), so document ids do not follow document numbers across
types: the pages must still come in number order, as the frames do.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from groundcode.domain.paging import Page
from groundcode.project import Project
from tests.conftest import MakeProject

CONCEPTS = ["健康码", "行程码", "隐私", "申诉", "数据共享"]


def _comments(path: Path, start: int, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "date"])
        for i in range(start, start + n):
            w.writerow([f"第{i}条评论：健康码转红码了，申诉很久。", "2022-03-01"])


@pytest.fixture
def big(make_project: MakeProject, tmp_path: Path) -> Project:
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.coding.add_coder("zhou")
    _comments(tmp_path / "c1.csv", 0, 30)
    lead.corpus.import_files([tmp_path / "c1.csv"], type=4)
    media = tmp_path / "m.txt"
    media.write_text("\n".join(f"第{i}段：数据共享平台上线。" for i in range(12)), encoding="utf-8")
    lead.corpus.import_files([media], type=2)
    _comments(tmp_path / "c2.csv", 30, 20)
    lead.corpus.import_files([tmp_path / "c2.csv"], type=4)
    rng = random.Random(3)
    units = [(f"4-{i}", 1) for i in range(1, 51)] + [("2-1", k) for k in range(1, 13)]
    rng.shuffle(units)  # codings inserted out of number order
    rows = []
    for number, passage in units:
        for coder in ("lin", "zhou"):
            for concept in rng.sample(CONCEPTS, rng.randint(0, 3)):
                rows.append([number, passage, concept, coder])
    with (tmp_path / "codings.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["document", "passage", "code", "coder"])
        w.writerows(rows)
    lead.coding.import_csv(tmp_path / "codings.csv")
    # Spans sharing a start, so the tie-break (start, then id) is exercised.
    lin = p.as_user("lin")
    lin.coding.apply("2-1", "隐私", start=0, end=3)
    lin.coding.apply("2-1", "隐私", start=0, end=5)
    for number in ("4-3", "2-1", "4-40"):
        lin.coding.add_memo("document", number, f"关于{number}")
    lin.coding.add_memo("concept", "隐私", "隐私的定义")
    lin.coding.add_memo("project", None, "项目备忘")
    p.as_user("zhou").coding.add_memo("document", "4-7", "周的备忘")
    return p


def _all(fetch, size: int) -> list:  # type: ignore[no-untyped-def]
    out: list = []
    offset = 0
    while True:
        page: Page = fetch(offset, size)
        out.extend(page.items)
        assert len(page.items) <= size
        if not page.has_more:
            return out
        assert len(page.items) == size
        offset += size


@pytest.mark.parametrize("size", [1, 7, 50])
@pytest.mark.parametrize("user", ["chen", "lin"])
def test_segment_and_coding_pages_equal_the_frame(big: Project, size: int, user: str) -> None:
    p = big.as_user(user)
    for concept in ("健康码", "隐私"):
        frame = p.coding.codings(concept=concept)
        got = _all(lambda o, n, c=concept: p.coding.segments_page(c, offset=o, limit=n), size)
        assert [c.id for c in got] == frame["id"].tolist()
        assert [(c.document, c.passage, c.coder, c.start, c.end) for c in got] == list(
            zip(
                frame["document"],
                frame["passage"],
                frame["coder"],
                frame["start"],
                frame["end"],
                strict=True,
            )
        )
        assert [c.snippet for c in got] == frame["text"].tolist()
        assert p.coding.segments_count(concept) == len(frame)
    frame = p.coding.codings()
    got = _all(lambda o, n: p.coding.codings_page(offset=o, limit=n), size)
    assert [c.id for c in got] == frame["id"].tolist()
    assert [c.category for c in got] == [None if v is None else v for v in frame["category"]]
    assert p.coding.codings_count() == len(frame)


def test_blind_coder_pages_show_only_their_own(big: Project) -> None:
    lin = big.as_user("lin")
    assert lin.coding.blind_mode()
    assert {c.coder for c in lin.coding.codings_page(limit=500).items} == {"lin"}
    assert {c.coder for c in lin.coding.segments_page("健康码", limit=500).items} <= {"lin"}
    assert {m.author for m in lin.coding.memos_page(limit=50).items} == {"lin"}


@pytest.mark.parametrize("size", [2, 50])
def test_document_pages_equal_the_frame(big: Project, size: int) -> None:
    big.as_user("chen").corpus.exclude(["4-5", "2-1"], reason="test")
    for kw in ({}, {"status": "included"}, {"status": "excluded"}, {"type": 4}):
        frame = big.corpus.documents(**kw)  # type: ignore[arg-type]
        got = _all(lambda o, n, kw=kw: big.corpus.documents_page(offset=o, limit=n, **kw), size)
        assert [d.number for d in got] == frame["number"].tolist()
        assert [d.passages for d in got] == frame["passages"].tolist()
        assert [d.status for d in got] == frame["status"].tolist()
        if "type" not in kw:
            assert big.corpus.documents_count(**kw) == len(frame)  # type: ignore[arg-type]


@pytest.mark.parametrize("user", ["chen", "lin"])
def test_memo_pages_equal_the_frame(big: Project, user: str) -> None:
    p = big.as_user(user)
    for kind in (None, "document"):
        frame = p.coding.memos(kind=kind)
        got = _all(lambda o, n, k=kind: p.coding.memos_page(kind=k, offset=o, limit=n), 2)
        assert [(m.id, m.target_kind, m.target, m.author, m.text) for m in got] == list(
            zip(
                frame["id"],
                frame["kind"],
                frame["target"],
                frame["author"],
                frame["text"],
                strict=True,
            )
        )


@pytest.mark.parametrize("user", ["chen", "lin"])
def test_retrieval_pages_equal_the_frame_at_every_level(big: Project, user: str) -> None:
    """Segments of a concept, a category and a main category, with context, page by page."""
    lead = big.as_user("chen")
    lead.codebook.create("main", "治理", number="1")
    lead.codebook.create("category", "身份", number="1", parent="治理")
    lead.codebook.create("category", "权利", number="2", parent="治理")
    lead.codebook.move("concept", "健康码", "身份")
    lead.codebook.move("concept", "行程码", "身份")
    lead.codebook.move("concept", "隐私", "权利")
    p = big.as_user(user)
    for level, code in (("concept", "隐私"), ("category", "身份"), ("main", "治理")):
        frame = p.queries.retrieve(code, level=level, context=5)
        assert len(frame)
        got = _all(
            lambda o, n, lv=level, c=code: p.queries.retrieve_page(
                c, level=lv, context=5, offset=o, limit=n
            ),
            7,
        )
        assert [(g.coding.id, g.before, g.text, g.after) for g in got] == list(
            zip(frame["id"], frame["before"], frame["text"], frame["after"], strict=True)
        )


def test_exclusion_pages_equal_the_list(big: Project) -> None:
    lead = big.as_user("chen")
    lead.corpus.exclude(["4-5", "2-1", "4-2", "4-30"], reason="test")
    lead.corpus.screen(min_chars=1000)
    for kind in (None, "manual"):
        full = lead.corpus.exclusions(kind=kind)
        assert full
        got = _all(lambda o, n, k=kind: lead.corpus.exclusions_page(kind=k, offset=o, limit=n), 3)
        assert got == full


@pytest.mark.parametrize("search", ["关于4-1", "隐私", "PROJECT", "%", "周"])
def test_memo_search_pages_equal_the_frame_search(big: Project, search: str) -> None:
    """The paged search finds what the frame's search finds, in the same order (LIKE escaped)."""
    lead = big.as_user("chen")
    lead.coding.add_memo("project", None, "a Project memo, 100% done")
    frame = lead.coding.memos(search=search)
    got = _all(lambda o, n: lead.memos.memos_page(search=search, offset=o, limit=n), 2)
    assert [m.id for m in got] == frame["id"].tolist()


def test_disagreement_pages_equal_the_list(big: Project) -> None:
    lead = big.as_user("chen")
    result = lead.analysis.agreement(coders=["lin", "zhou"])
    full = lead.analysis.disagreements(result=result)
    assert full
    got = _all(lambda o, n: lead.analysis.disagreements_page(result=result, offset=o, limit=n), 4)
    assert [d.to_json() for d in got] == [d.to_json() for d in full]


def test_a_bad_window_is_refused(big: Project) -> None:
    with pytest.raises(ValueError):
        big.coding.codings_page(offset=-1)
    with pytest.raises(ValueError):
        big.corpus.documents_page(limit=0)
