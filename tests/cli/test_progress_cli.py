"""`assign`, `done`, `queue`, `codings import --done` and `saturation begin` from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import RunCli


@pytest.fixture
def db(tmp_path: Path, run_cli: RunCli) -> str:
    path = str(tmp_path / "p.db")
    assert run_cli("--db", path, "init").code == 0
    assert run_cli("--db", path, "coder", "add", "chen", "--role", "lead").code == 0
    for c in ("lin", "zhou"):
        assert run_cli("--db", path, "--as", "chen", "coder", "add", c).code == 0
    rows = "\n".join(f"评论{i}：健康码与数据共享的第{i}条意见" for i in range(1, 11))
    (tmp_path / "c.csv").write_text("text\n" + rows + "\n", encoding="utf-8")
    assert (
        run_cli("--db", path, "--as", "chen", "import", str(tmp_path / "c.csv"), "--type", "4").code
        == 0
    )
    assert run_cli("--db", path, "--as", "chen", "split", "--seed", "1").code == 0
    assert run_cli("--db", path, "--as", "chen", "exclude", "4-10", "--reason", "x").code == 0
    return path


def test_assign_done_queue(db: str, run_cli: RunCli, tmp_path: Path) -> None:
    r = run_cli("--db", db, "--as", "chen", "assign", "--coders", "lin,zhou", "--split", "all")
    assert r.code == 0, r.err
    assert "9 documents assigned to lin, zhou" in r.out
    q = run_cli("--db", db, "--as", "lin", "queue", "--json")
    assert q.code == 0, q.err
    queued = [d["number"] for d in json.loads(q.out)["documents"]]
    assert queued and all(d["split"] == "build" for d in json.loads(q.out)["documents"])
    r = run_cli("--db", db, "--as", "lin", "done", queued[0], queued[1])
    assert r.code == 0 and "2 document(s) done" in r.out
    q2 = json.loads(run_cli("--db", db, "--as", "lin", "queue", "--json").out)["documents"]
    assert len(q2) == len(queued) - 2
    assert run_cli("--db", db, "--as", "lin", "done", queued[0], "--undo").code == 0
    assert run_cli("--db", db, "--as", "chen", "queue", "--coder", "lin").code == 0
    f = tmp_path / "z.csv"
    f.write_text("document,passage,code\n4-1,1,x\n4-2,1,y\n", encoding="utf-8")
    r = run_cli(
        "--db", db, "--as", "zhou", "codings", "import", str(f), "--coder", "zhou", "--done"
    )
    assert r.code == 0, r.err
    assert "2 document(s) marked done" in r.out


def _unchanged(run_cli: RunCli, db: str) -> str:
    return run_cli("--db", db, "--as", "chen", "queue", "--coder", "lin", "--json").out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--as", "chen", "assign", "--coders", "lin,nobody", "--split", "all"), "nobody"),
        (("--as", "lin", "done", "4-1", "4-10"), "4-10"),
        (("--as", "lin", "saturation", "begin"), "lead"),
        (("--as", "chen", "assign", "--coders", "lin", "--split", "every"), "every"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_changed(
    db: str, run_cli: RunCli, args: tuple[str, ...], needle: str
) -> None:
    assert run_cli("--db", db, "--as", "chen", "assign", "--coders", "lin", "4-2").code == 0
    before = _unchanged(run_cli, db)
    r = run_cli("--db", db, *args)
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 1 and needle in r.err
    assert _unchanged(run_cli, db) == before


def test_saturation_begin_once(db: str, run_cli: RunCli) -> None:
    r = run_cli("--db", db, "--as", "chen", "saturation", "begin")
    assert r.code == 0, r.err
    assert "holdout start recorded" in r.out
    again = run_cli("--db", db, "--as", "chen", "saturation", "begin")
    assert again.code == 2 and "already" in again.err
