"""Coding operations, undo/redo, memos, blind mode and codings files, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from groundcode.domain.errors import BlindHidden, Forbidden, GroundcodeError, InvalidInput, NotFound
from groundcode.project import Project
from tests.conftest import MakeProject

TEXT_A = "健康码采集规定\n\n各地健康码采集姓名和证件号码。\n\n数据应当加密存储，到期销毁。\n"
TEXT_B = "红码申诉\n\n我昨天去了外地，回来就变成红码，申诉了三天才转绿。\n"


@pytest.fixture
def study(make_project: MakeProject, tmp_path: Path) -> Project:
    """A lead, two coders, two documents, blind mode on (two coders exist)."""
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.coding.add_coder("zhou")
    (tmp_path / "a.txt").write_text(TEXT_A, encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXT_B, encoding="utf-8")
    lead.corpus.import_files([tmp_path / "a.txt"], type=1)
    lead.corpus.import_files([tmp_path / "b.txt"], type=4)
    return p


def test_apply_to_passage_and_span(study: Project) -> None:
    lin = study.as_user("lin")
    doc = lin.corpus.document("1-1")
    assert [x.text for x in doc.passages] == [
        "健康码采集规定",
        "各地健康码采集姓名和证件号码。",
        "数据应当加密存储，到期销毁。",
    ]
    c = lin.coding.apply("1-1", "采集内容", passage=2)
    assert (c.start, c.end, c.passage, c.snippet) == (
        doc.passages[1].start,
        doc.passages[1].end,
        2,
        doc.passages[1].text,
    )
    start = doc.text.index("加密存储")
    span = lin.coding.apply("1-1", "数据加密", start=start, end=start + 4)
    assert span.snippet == "加密存储" and span.passage == 3
    # A new name became an uncategorised concept.
    assert lin.codebook.tree().concept("数据加密").category is None
    # Applying the same thing twice is idempotent.
    again = lin.coding.apply("1-1", "数据加密", start=start, end=start + 4)
    assert again.id == span.id
    assert len(lin.coding.document_codings("1-1")) == 2


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 5), (0, 10_000)])
def test_bad_spans_are_refused(study: Project, start: int, end: int) -> None:
    with pytest.raises(GroundcodeError, match="outside the text"):
        study.as_user("lin").coding.apply("1-1", "x", start=start, end=end)
    assert study.as_user("chen").coding.codings().empty


def test_several_concepts_on_one_span_and_removal(study: Project) -> None:
    lin = study.as_user("lin")
    a = lin.coding.apply("4-1", "红码误判", passage=2)
    b = lin.coding.apply("4-1", "申诉纠错", passage=2)
    assert {c.concept for c in lin.coding.document_codings("4-1")} == {"红码误判", "申诉纠错"}
    lin.coding.remove(a.id)
    assert [c.id for c in lin.coding.document_codings("4-1")] == [b.id]


def test_each_change_returns_the_view_a_reread_would_show(study: Project) -> None:
    """apply, change_span and remove hand back the coding as the document's read shows it.

    A front end updates from that value instead of reading the document again.
    """
    lin = study.as_user("lin").codings
    applied = lin.apply("1-1", "采集内容", start=2, end=6)
    assert lin.document_codings("1-1") == [applied]
    assert lin.apply("1-1", "采集内容", start=2, end=6) == applied  # already there: the same
    moved = lin.change_span(applied.id, 3, 7)
    assert lin.document_codings("1-1") == [moved]
    assert (moved.id, moved.start, moved.end, moved.snippet) == (applied.id, 3, 7, TEXT_A[3:7])
    passage = lin.apply("1-1", "数据加密", passage=3)
    assert passage in lin.document_codings("1-1")
    gone = lin.remove(passage.id)
    assert gone == passage
    assert lin.document_codings("1-1") == [moved]


def test_one_coder_cannot_touch_anothers_codings(study: Project) -> None:
    c = study.as_user("lin").coding.apply("4-1", "红码误判", passage=2)
    zhou = study.as_user("zhou")
    with pytest.raises(NotFound):
        zhou.coding.remove(c.id)
    with pytest.raises(NotFound):
        zhou.coding.change_span(c.id, 0, 2)
    assert len(study.as_user("chen").coding.document_codings("4-1")) == 1


def test_undo_redo_chain(study: Project) -> None:
    lin = study.as_user("lin")
    c1 = lin.coding.apply("1-1", "采集内容", passage=2)
    c2 = lin.coding.apply("1-1", "数据加密", passage=3)
    lin.coding.change_span(c2.id, c2.start, c2.start + 4)
    assert lin.coding.undo() is not None  # span change undone
    assert next(c for c in lin.coding.document_codings("1-1") if c.id == c2.id).end == c2.end
    assert lin.coding.undo() is not None  # apply of c2 undone
    assert [c.id for c in lin.coding.document_codings("1-1")] == [c1.id]
    assert lin.coding.redo() is not None
    assert {c.id for c in lin.coding.document_codings("1-1")} == {c1.id, c2.id}
    # A new change ends the redo chain.
    lin.coding.undo()
    lin.coding.apply("1-1", "存储销毁", passage=3)
    assert lin.coding.redo() is None
    # Undo is per coder: zhou has nothing to undo.
    assert study.as_user("zhou").coding.undo() is None


def test_every_change_is_audited(study: Project) -> None:
    lin = study.as_user("lin")
    c = lin.coding.apply("1-1", "采集内容", passage=2)
    lin.coding.change_span(c.id, c.start, c.start + 2)
    lin.coding.remove(c.id)
    from sqlalchemy import select

    from groundcode.store.tables import AuditLog

    with study.db.read() as s:
        rows = s.execute(
            select(AuditLog.action, AuditLog.actor)
            .where(AuditLog.entity == "coding")
            .order_by(AuditLog.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("coding.apply", "lin"),
        ("coding.span", "lin"),
        ("coding.remove", "lin"),
    ]


def test_blind_mode_every_read_path(study: Project) -> None:
    lin, zhou, lead = study.as_user("lin"), study.as_user("zhou"), study.as_user("chen")
    lin.coding.apply("4-1", "红码误判", passage=2, memo="lin 的备忘")
    zhou.coding.apply("4-1", "跨省通行受阻", passage=2, memo="zhou 的备忘")
    zhou.coding.add_memo("document", "4-1", "zhou 对文本的备忘")
    assert lin.coding.blind_mode() is True
    # A coder sees only their own codings and memos, everywhere.
    assert {c.coder for c in lin.coding.document_codings("4-1")} == {"lin"}
    assert set(lin.coding.codings()["coder"]) == {"lin"}
    assert set(lin.coding.memos()["author"]) == {"lin"}
    assert "zhou" not in lin.coding.progress().to_string()
    tree = lin.codebook.tree(coder_ids=lin.coding.visible_coder_ids())
    # zhou's own concept is zhou's open coding: absent from lin's codebook in blind mode.
    assert "跨省通行受阻" not in {k.name for k in tree.concepts()}
    assert tree.concept("红码误判").n_codings == 1
    with pytest.raises((Forbidden, BlindHidden)):
        lin.coding.codings(coders=["zhou"])
    with pytest.raises((Forbidden, BlindHidden)):
        lin.analysis.agreement()
    with pytest.raises((Forbidden, BlindHidden)):
        lin.coding.set_blind_mode(False)
    # Nobody in particular gets nothing.
    with pytest.raises((Forbidden, BlindHidden)):
        study.coding.codings()
    # The lead sees everyone.
    assert set(lead.coding.codings()["coder"]) == {"lin", "zhou"}
    lead.coding.set_blind_mode(False)
    assert set(lin.coding.codings()["coder"]) == {"lin", "zhou"}


def test_memos_on_every_target(study: Project) -> None:
    lin = study.as_user("lin")
    c = lin.coding.apply("1-1", "采集内容", passage=2)
    lin.coding.add_memo("project", None, "研究问题：信息共享为何难")
    lin.coding.add_memo("document", "1-1", "政策原文")
    lin.coding.add_memo("concept", "采集内容", "个人信息的范围")
    lin.coding.add_memo("coding", c.id, "这里说的是采集字段")
    frame = lin.coding.memos()
    assert list(frame["kind"]) == ["project", "document", "concept", "coding"]
    targets = [None if pd.isna(t) else t for t in frame["target"]]
    assert targets == [None, "1-1", "采集内容", str(c.id)]
    assert list(lin.coding.memos(search="字段")["kind"]) == ["coding"]
    with pytest.raises(NotFound):
        lin.coding.add_memo("concept", "没有这个概念", "x")


def test_codings_csv_round_trip(study: Project, tmp_path: Path) -> None:
    lead = study.as_user("chen")
    src = tmp_path / "codings.csv"
    src.write_text(
        "document,passage,code,coder,memo\n1-1,2,采集内容,lin,看字段\n1-1,3,数据加密,zhou,\n"
        "4-1,2,红码误判,lin,\n",
        encoding="utf-8",
    )
    result = lead.coding.import_csv(src)
    assert result.codings == 3 and set(result.new_concepts) == {"采集内容", "数据加密", "红码误判"}
    out = tmp_path / "out.csv"
    assert lead.exports.codings_csv(out) == 3
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["document"], r["passage"], r["code"], r["coder"]) for r in rows] == [
        ("1-1", "2", "采集内容", "lin"),
        ("1-1", "3", "数据加密", "zhou"),
        ("4-1", "2", "红码误判", "lin"),
    ]
    assert rows[0]["memo"] == "看字段"
    doc = lead.corpus.document("1-1")
    assert rows[0]["text"] == doc.text[int(rows[0]["start"]) : int(rows[0]["end"])]
    # The span form written out imports again into a fresh project with the same codings.
    assert lead.coding.import_csv(out).codings == 0  # already present: idempotent


@pytest.mark.parametrize(
    ("body", "row", "reason", "detail"),
    [
        ("document,passage,code,coder\n1-1,2,a,lin\n9-9,1,b,lin\n", 3, "unknown_document", "9-9"),
        ("document,passage,code,coder\n1-1,2,a,lin\n1-1,7,b,lin\n", 3, "no_passage", "1-1 #7"),
        (
            "document,start,end,code,coder\n1-1,0,5,a,lin\n1-1,3,999,b,lin\n",
            3,
            "span_outside",
            "1-1 3-999 (0-40)",
        ),
        (
            "document,passage,code,coder\n1-1,2,a,lin\n1-1,2,b,nobody\n",
            3,
            "unknown_coder",
            "nobody",
        ),
        ("document,code\n1-1,a\n", 0, "codings_columns", "document,code"),
        ("document,passage,code\n1-1,2,a\n", 0, "no_coder_column", ""),
    ],
)
def test_bad_codings_file_changes_nothing(
    study: Project, tmp_path: Path, body: str, row: int, reason: str, detail: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(body, encoding="utf-8")
    lead = study.as_user("chen")
    with pytest.raises(InvalidInput) as err:
        lead.coding.import_csv(f)
    got = err.value
    assert (got.file, got.row, got.reason, got.detail) == (str(f), row, reason, detail)
    assert lead.coding.codings().empty
    assert lead.codebook.tree().n_codings == 0
    names = {k.name for k in lead.codebook.tree().concepts()}
    assert "a" not in names


def test_ten_thousand_codings_in_one_transaction(study: Project, tmp_path: Path) -> None:
    lead = study.as_user("chen")
    doc = lead.corpus.document("1-1")
    n = len(doc.text)
    rows = ["document,start,end,code,coder"]
    for i in range(10_000):
        a = i % (n - 2)
        rows.append(f"1-1,{a},{a + 2},概念{i % 50},{'lin' if i % 2 else 'zhou'}")
    good = tmp_path / "good.csv"
    good.write_text("\n".join(rows) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join(rows[:5001] + ["1-1,0,99999,x,lin"] + rows[5001:]) + "\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as info:
        lead.coding.import_csv(bad)
    assert (info.value.row, info.value.reason) == (5002, "span_outside")
    assert lead.coding.codings().empty
    result = lead.coding.import_csv(good)
    assert result.codings + result.skipped_existing == 10_000
    assert len(lead.coding.codings()) == result.codings


def test_imported_snippets_in_every_form_across_insert_chunks(
    study: Project, tmp_path: Path
) -> None:
    """Each imported coding keeps the text it names, cut to MAX_SNIPPET characters.

    One file mixes the passage form (the whole passage), the span form (a slice
    of the document) and spans checked against a passage, over more rows than one
    insert chunk, with a passage longer than the snippet limit.
    """
    from groundcode.coding.codings_csv import CHUNK
    from groundcode.coding.records import MAX_SNIPPET

    lead = study.as_user("chen")
    long_text = "长段落" * 2000  # one passage of 6,000 characters
    (tmp_path / "long.txt").write_text(f"标题\n\n{long_text}\n", encoding="utf-8")
    lead.corpus.import_files([tmp_path / "long.txt"], type=1)
    docs = {n: lead.corpus.document(n) for n in ("1-1", "1-2", "4-1")}
    passages = lead.corpus.passages(status=None)
    ptext = {
        (d, i): t
        for d, i, t in zip(passages["document"], passages["passage"], passages["text"], strict=True)
    }
    rows = ["document,passage,start,end,code,coder"]
    want = []
    for i in range(CHUNK + 1200):
        number = ("1-1", "1-2", "4-1")[i % 3]
        coder = ("lin", "zhou")[i % 2]
        code = f"概念{i}"
        text = docs[number].text
        if i % 4 == 0:  # the whole passage
            idx = 2
            rows.append(f"{number},{idx},,,{code},{coder}")
            want.append((code, ptext[(number, idx)][:MAX_SNIPPET]))
        elif i % 4 == 1:  # a span checked against its passage
            a = text.index(ptext[(number, 2)])
            rows.append(f"{number},2,{a},{a + 3},{code},{coder}")
            want.append((code, text[a : a + 3]))
        else:  # a span anywhere, up to the whole document
            b = len(text) - (i % 5)
            rows.append(f"{number},,{i % 3},{b},{code},{coder}")
            want.append((code, text[i % 3 : b][:MAX_SNIPPET]))
    f = tmp_path / "mixed.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert lead.coding.import_csv(f).codings == len(want)
    got = lead.coding.codings()
    assert sorted(zip(got["concept"], got["text"], strict=True)) == sorted(want)
    assert max(len(t) for _, t in want) == MAX_SNIPPET


def test_queries(study: Project) -> None:
    lin = study.as_user("lin")
    lin.coding.apply("1-1", "采集内容", passage=2)
    lin.coding.apply("1-1", "数据加密", passage=2)
    lin.coding.apply("4-1", "红码误判", passage=2)
    freq = lin.coding.frequencies(by="type")
    assert set(zip(freq["concept"], freq["type"], freq["codings"], strict=True)) == {
        ("采集内容", "policy", 1),
        ("数据加密", "policy", 1),
        ("红码误判", "selfmedia", 1),
    }
    co = lin.coding.cooccurrence()
    assert co.loc["采集内容", "数据加密"] == 1 and co.loc["采集内容", "红码误判"] == 0
    got = lin.coding.retrieve("数据加密", context=3)
    assert (
        got.loc[0, "text"] == "各地健康码采集姓名和证件号码。" and got.loc[0, "after"] == "\n\n数"
    )
    cov = lin.coding.coverage()
    assert set(zip(cov["document"], cov["coded"], cov["passages"], strict=True)) == {
        ("1-1", 1, 3),
        ("4-1", 1, 2),
    }
    assert lin.coding.next_uncoded() == ("1-1", 1)
    assert lin.coding.next_uncoded(after="4-1") == ("4-1", 1)
