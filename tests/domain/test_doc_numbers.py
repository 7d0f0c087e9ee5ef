"""Every public method that takes a document number reads "2-05", " 2-5 " and "２－５" alike.

The parser is ``domain.values.DocNumber``; these tests drive the services on a
real project, so a room that parsed numbers its own way would fail here.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from groundcode.domain.errors import BadDocNumber, NotFound
from groundcode.domain.values import DocNumber
from groundcode.project import Project
from tests.conftest import MakeProject

SPELLINGS = ("2-05", " 2-5 ", "２－５")
PARAGRAPHS = [
    "健康码采集姓名和证件号码。",
    "数据应当加密存储，到期销毁。",
    "我昨天去了外地，回来就变成红码。",
    "申诉了三天才转绿，很麻烦。",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2-5", DocNumber(2, 5)),
        ("2-05", DocNumber(2, 5)),
        (" 2-5 ", DocNumber(2, 5)),
        ("２－５", DocNumber(2, 5)),
        ("2 - 5", DocNumber(2, 5)),
        ("2–5", DocNumber(2, 5)),
        ("12-340", DocNumber(12, 340)),
    ],
)
def test_parse(text: str, expected: DocNumber) -> None:
    assert DocNumber.parse(text) == expected
    assert str(DocNumber.parse(text)) == f"{expected.type_id}-{expected.seq}"


@pytest.mark.parametrize("text", ["", "2", "2-", "-5", "a-b", "2-5-1", "2.5", "二-五", "2-5x"])
def test_anything_else_is_a_typed_error(text: str) -> None:
    with pytest.raises(BadDocNumber) as info:
        DocNumber.parse(text)
    assert info.value.text == text.strip()


@pytest.fixture
def study(make_project: MakeProject, tmp_path: Path) -> Project:
    """A lead and two coders; documents 2-1 .. 2-5, each of four paragraphs."""
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.coding.add_coder("zhou")
    files = []
    for i in range(5):
        f = tmp_path / f"d{i}.txt"
        f.write_text("\n\n".join(f"{x}{i}" for x in PARAGRAPHS) + "\n", encoding="utf-8")
        files.append(f)
    for f in files:
        lead.corpus.import_files([f], type=2)
    return p


def _same(results: list[Any]) -> None:
    first = results[0]
    for other in results[1:]:
        if hasattr(first, "equals"):
            assert first.equals(other)
        else:
            assert other == first


# Public methods with a document-number parameter, and the test below that covers them.
COVERED = {
    "corpus.document",
    "corpus.exclude",
    "corpus.include",
    "corpus.mark_personal",
    "coding.apply",
    "coding.invivo",
    "coding.document_codings",
    "coding.codings",
    "coding.next_uncoded",
    "coding.add_memo",
    "analysis.decide",
    "analysis.suggest",
    "progress.assign",
    "progress.done",
    "progress.next_in_queue",
}
NUMBER_PARAMS = {"document", "documents", "number", "numbers", "after"}
# ``number`` here is a category's number ("C3"), not a document's.
NOT_DOCUMENTS = {"codebook.create", "codebook.create_category", "codebook.create_main_category"}


def test_every_method_taking_a_number_is_covered(project: Project) -> None:
    """A new public method with a document-number parameter must join this test."""
    found = set()
    for room in ("corpus", "coding", "codebook", "progress", "analysis", "exports", "interchange"):
        service = getattr(project, room)
        for name, fn in inspect.getmembers(type(service), inspect.isfunction):
            if name.startswith("_"):
                continue
            if NUMBER_PARAMS & set(inspect.signature(fn).parameters):
                found.add(f"{room}.{name}")
    # add_memo takes the number as its target when the kind is "document".
    found = (found - NOT_DOCUMENTS) | {"coding.add_memo"}
    assert found <= COVERED, found - COVERED


def test_corpus_reads_and_screening(study: Project) -> None:
    lead = study.as_user("chen")
    _same([lead.corpus.document(n) for n in SPELLINGS])
    assert lead.corpus.document(SPELLINGS[2]).number == "2-5"
    assert [lead.corpus.exclude([n], reason="off topic") for n in SPELLINGS] == [1, 1, 1]
    assert lead.corpus.document("2-5").status == "excluded"
    assert [lead.corpus.include([n]) for n in SPELLINGS] == [1, 1, 1]
    assert [lead.corpus.mark_personal([n]) for n in SPELLINGS] == [1, 1, 1]
    assert lead.corpus.document("2-5").personal


def test_coding(study: Project) -> None:
    lin = study.as_user("lin")
    applied = [lin.coding.apply(n, "采集内容", passage=1) for n in SPELLINGS]
    assert {c.id for c in applied} == {applied[0].id}
    text = lin.corpus.document("2-5").text
    start = text.index("加密存储")
    _same([lin.coding.invivo(n, start, start + 4).id for n in SPELLINGS])
    _same([lin.coding.document_codings(n) for n in SPELLINGS])
    assert len(lin.coding.document_codings("２－５")) == 2
    _same([lin.coding.codings(document=n) for n in SPELLINGS])
    assert len(lin.coding.codings(document=" 2-5 ")) == 2
    _same([lin.coding.next_uncoded(after=n) for n in ("2-04", " 2-4 ", "２－４")])
    assert lin.coding.next_uncoded(after="２－４") == ("2-4", 1)
    memos = [lin.coding.add_memo("document", n, "读过") for n in SPELLINGS]
    assert len({m.target for m in memos}) == 1


def test_analysis(study: Project) -> None:
    lin, zhou, lead = (study.as_user(n) for n in ("lin", "zhou", "chen"))
    for i in range(1, 6):
        for idx in range(1, 5):
            lin.coding.apply(f"2-{i}", "采集" if idx % 2 else "申诉", passage=idx)
    zhou.coding.apply("2-5", "加密", passage=2)
    lead.analysis.reconcile(coders=["lin", "zhou"])
    decided = []
    for n in SPELLINGS:
        lead.analysis.decide(n, 2, "b", coders=["lin", "zhou"])
        cons = lead.coding.codings(coders=["consensus"])
        decided.append(sorted(cons[cons["document"] == "2-5"]["concept"]))
    _same(decided)
    _same([lin.analysis.suggest(n, passage=1) for n in SPELLINGS])


def test_unknown_and_malformed_numbers(study: Project) -> None:
    lin = study.as_user("lin")
    with pytest.raises(NotFound) as info:
        lin.coding.apply("２－９", "采集", passage=1)
    assert (info.value.kind, info.value.name) == ("document", "2-9")
    with pytest.raises(BadDocNumber):
        lin.corpus.document("2/5")


def test_assignments_and_done_marks(study: Project) -> None:
    lead, lin = study.as_user("chen"), study.as_user("lin")
    assigned = [lead.progress.assign(["lin"], documents=[n, "2-4"]) for n in SPELLINGS]
    assert sorted(lin.progress.queue()["number"]) == ["2-4", "2-5"]
    assert assigned[1] == assigned[2]
    _same([lin.progress.next_in_queue(after=n) for n in SPELLINGS])
    queue = lin.progress.queue()["number"].tolist()
    assert lin.progress.next_in_queue(after="２－５") == queue[(queue.index("2-5") + 1) % 2]
    done = [lin.progress.done([n]) for n in SPELLINGS]
    assert done[1] == done[2]
    assert lin.progress.done_marks()["document"].tolist() == ["2-5"]
