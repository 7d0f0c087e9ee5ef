"""Assignments, done marks, queues and the holdout start, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from groundcode.domain.errors import BadOption, Conflict, Forbidden, NotFound
from groundcode.project import Project
from groundcode.store.tables import AuditLog, DoneMark
from tests.conftest import MakeProject


@pytest.fixture
def team(make_project: MakeProject, tmp_path: Path) -> Project:
    """A lead, two coders, 10 comments (7 build, 3 holdout), one excluded."""
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.coding.add_coder("zhou")
    rows = "\n".join(f"评论{i}：健康码与数据共享的第{i}条意见" for i in range(1, 11))
    (tmp_path / "c.csv").write_text("text\n" + rows + "\n", encoding="utf-8")
    lead.corpus.import_files([tmp_path / "c.csv"], type=4)
    lead.corpus.split(holdout=0.3, seed=1)
    lead.corpus.exclude(["4-10"], reason="test")
    return lead


def _audit(p: Project, action: str) -> list[AuditLog]:
    with p.db.read() as s:
        return list(s.execute(select(AuditLog).where(AuditLog.action == action)).scalars())


def _splits(p: Project) -> dict[str, str]:
    docs = p.corpus.documents()
    return dict(zip(docs["number"], docs["split"], strict=True))


def test_assign_split_queue_and_done(team: Project) -> None:
    res = team.progress.assign(["lin", "zhou"], split="all")
    assert (res.documents, res.added, res.already) == (9, 18, 0)
    again = team.progress.assign(["lin"], split="build")
    assert again.added == 0 and again.already == again.documents
    splits = _splits(team)
    build = [n for n, sp in splits.items() if sp == "build" and n != "4-10"]
    holdout = [n for n, sp in splits.items() if sp == "holdout" and n != "4-10"]
    lin = team.as_user("lin")
    q = lin.progress.queue()
    # Holdout documents wait for the holdout start.
    assert sorted(q["number"]) == sorted(build)
    assert list(q.columns) == ["number", "type", "title", "split", "passages", "assigned_at"]
    done = lin.progress.done([build[0], build[1]])
    assert done.changed == (build[0], build[1]) and done.unchanged == ()
    assert lin.progress.done([build[0]]).unchanged == (build[0],)
    assert build[0] not in set(lin.progress.queue()["number"])
    prog = team.progress.progress().set_index("coder")
    assert prog.loc["lin", "assigned"] == 9
    assert prog.loc["lin", "done"] == 2
    assert prog.loc["lin", "waiting"] == len(holdout)
    assert prog.loc["lin", "queue"] == len(build) - 2
    # The holdout start lets holdout documents in.
    team.progress.begin_holdout()
    assert set(holdout) <= set(lin.progress.queue()["number"])
    undone = lin.progress.done([build[0]], undo=True)
    assert undone.changed == (build[0],)
    assert build[0] in set(lin.progress.queue()["number"])
    marks = _audit(team, "done.mark")
    assert len(marks) == 2
    after = json.loads(marks[0].after or "{}")
    assert after["coder"] == "lin" and after["document"] == build[0] and after["at"]
    assert len(_audit(team, "done.undo")) == 1
    assert len(_audit(team, "assign")) == 3


def test_progress_rows_are_the_frame_and_blind_mode_applies_in_the_room(team: Project) -> None:
    """The people screen's frozen rows carry what ``progress()`` shows, row for row."""
    team.progress.assign(["lin", "zhou"], split="all")
    team.as_user("lin").progress.done(["4-1"])
    rows = team.progress.progress_rows()
    frame = team.progress.progress()
    assert [tuple(r.__dict__.values()) for r in rows] == [
        tuple(r) for r in frame.itertuples(index=False)
    ]
    assert [r.coder for r in rows] == ["chen", "lin", "zhou"]
    team.people.set_blind_mode(True)
    assert [r.coder for r in team.as_user("lin").progress.progress_rows()] == ["lin"]


def test_sample_is_seeded_and_stratified(team: Project) -> None:
    a = team.progress.assign(["lin"], sample=0.5, seed=3)
    b = team.progress.assign(["zhou"], sample=0.5, seed=3)
    assert a.documents == b.documents == 4  # round(9 * 0.5) of the one source type
    assert list(team.progress.queue("lin")["number"]) == list(team.progress.queue("zhou")["number"])


def test_assign_by_numbers_and_next(team: Project) -> None:
    build = [n for n, sp in _splits(team).items() if sp == "build" and n != "4-10"]
    team.progress.assign(["lin"], documents=[build[2], f" {build[0]} "])
    lin = team.as_user("lin")
    assert lin.progress.next_in_queue() == build[2]
    assert lin.progress.next_in_queue(after=build[2]) == build[0]
    lin.progress.done([build[2], build[0]])
    assert lin.progress.next_in_queue() is None


def _state(p: Project) -> tuple[int, int, str]:
    with p.db.read() as s:
        marks = len(list(s.execute(select(DoneMark)).scalars()))
        audits = len(list(s.execute(select(AuditLog)).scalars()))
    return marks, audits, p.progress.queue("lin").to_json()


def test_bad_input_changes_nothing(team: Project) -> None:
    team.progress.assign(["lin"], split="build")
    before = _state(team)
    with pytest.raises(NotFound) as e:
        team.progress.assign(["lin", "nobody"], split="all")
    assert (e.value.kind, e.value.name) == ("coder", "nobody")
    with pytest.raises(Conflict) as c:
        team.as_user("lin").progress.done(["4-1", "4-10"])
    assert (c.value.what, c.value.name) == ("document_excluded", "4-10")
    with pytest.raises(NotFound):
        team.as_user("lin").progress.done(["4-99"])
    with pytest.raises(Forbidden) as f:
        team.as_user("lin").progress.begin_holdout()
    assert (f.value.action, f.value.needs) == ("saturation.begin", "lead")
    with pytest.raises(Forbidden):
        team.as_user("lin").progress.assign(["lin"], split="all")
    with pytest.raises(BadOption):
        team.progress.assign(["lin"], split="everything")
    with pytest.raises(BadOption):
        team.progress.assign(["lin"], split="all", sample=0.5)
    with pytest.raises(Forbidden):
        team.as_user("zhou").progress.queue("lin")
    assert _state(team) == before


def test_holdout_start_once_and_audited(team: Project) -> None:
    assert team.progress.holdout_start() is None
    at = team.progress.begin_holdout()
    assert team.progress.holdout_start() == at
    with pytest.raises(Conflict) as e:
        team.progress.begin_holdout()
    assert e.value.what == "holdout_started"
    [row] = _audit(team, "saturation.begin")
    assert row.actor == "chen"


def test_codings_import_done_marks_every_document(team: Project, tmp_path: Path) -> None:
    f = tmp_path / "lin.csv"
    f.write_text("document,passage,code\n4-1,1,x\n4-2,1,y\n4-1,1,y\n", encoding="utf-8")
    res = team.coding.import_csv(f, coder="lin", done=True)
    assert res.done == 2
    marks = team.progress.done_marks("lin")
    assert sorted(marks["document"]) == ["4-1", "4-2"]
    bad = tmp_path / "bad.csv"
    bad.write_text("document,passage,code\n4-3,1,x\n4-10,1,y\n", encoding="utf-8")
    with pytest.raises(Conflict):
        team.coding.import_csv(bad, coder="zhou", done=True)
    assert len(team.progress.done_marks("zhou")) == 0
