"""`groundcode redact` on the command line: what it masked, where, and what it could not reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundcode.project import Project
from tests.cli.conftest import RunCli


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    db = tmp_path / "study.db"
    (tmp_path / "c.csv").write_text(
        "text,title\n电话13812345678，健康码,来电13812345678\n健康码互认,无\n", encoding="utf-8"
    )
    with Project.create(db, user=None) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.corpus.import_files([tmp_path / "c.csv"], type=4)
        lead.coding.add_memo("document", "4-1", "回电13812345678")
    return db


def test_redact_reports_every_place_it_masked(study: Path, run_cli: RunCli) -> None:
    dry = run_cli("--db", str(study), "--as", "chen", "redact", "--dry-run")
    assert dry.code == 0 and dry.out.splitlines() == [
        "would mask in 1 documents: 2 phone, 0 id, 0 email"
    ]
    done = run_cli("--db", str(study), "--as", "chen", "redact")
    assert done.code == 0 and done.err == ""
    lines = done.out.splitlines()
    assert lines[0] == "masked in 1 documents: 2 phone, 0 id, 0 email"
    assert "1 memo.text" in lines[1] and "1 passage.text" in lines[1]
    shown = run_cli("--db", str(study), "show", "4-1", "--json")
    assert "13812345678" not in shown.out and "138******78" in shown.out


def test_redact_json_and_the_copies_it_cannot_mask(study: Path, run_cli: RunCli) -> None:
    copy = study.with_name(study.name + ".bak-0005")
    copy.write_bytes(study.read_bytes())
    res = run_cli("--db", str(study), "--as", "chen", "redact", "--json")
    assert res.code == 0
    data = json.loads(res.out)
    assert data["documents"] == 1 and data["compacted"] is True
    assert data["copies"] == [str(copy)] and data["fields"]["memo.text"] == 1
    human = run_cli("--db", str(study), "--as", "chen", "redact")
    assert f"still unmasked: {copy}" in human.err
