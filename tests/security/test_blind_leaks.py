"""Blind mode without leaks: backup, consensus and the codebook follow the visibility rule.

``store.access.visibility`` decides; these are the paths that used to go
around it: a coder's ``backup`` copied everyone's work, ``--as consensus``
read the consensus, and ``codebook show`` listed concepts only the other coder
had created.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from groundcode.domain.errors import Forbidden
from groundcode.project import Project
from tests.cli.conftest import cli_call


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "p.db"
    with Project.create(path) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        lead.coding.add_coder("zhou")
        f = tmp_path / "c.csv"
        f.write_text("title,text\n一,健康码数据共享。\n二,行程码互认。\n", encoding="utf-8")
        lead.corpus.import_files([f], type=4)
        lead.codebook.create_concept("共享概念")
        p.as_user("lin").coding.apply("4-1", "林的概念", passage=1)
        p.as_user("zhou").coding.apply("4-1", "周的秘密概念", passage=1)
        p.as_user("zhou").coding.apply("4-2", "共享概念", passage=1)
        lead.analysis.reconcile(coders=["lin", "zhou"])
    return path


def test_codebook_show_leaves_out_the_other_coders_concepts(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli_call(capsys, "--db", str(db), "--as", "lin", "codebook", "show")
    assert code == 0, err
    assert "林的概念" in out and "共享概念" in out
    assert "周的秘密概念" not in out
    with Project.open(db, user="lin") as p:
        names = set(p.codebook.concepts_frame()["concept"])
    assert "周的秘密概念" not in names and "林的概念" in names
    with Project.open(db, user="chen") as p:
        assert "周的秘密概念" in set(p.codebook.concepts_frame()["concept"])


def test_acting_as_consensus_reads_nothing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "export.csv"
    code, _out, err = cli_call(
        capsys, "--db", str(db), "--as", "consensus", "codings", "export", str(out_file)
    )
    assert code == 2 and err.count("\n") == 1, err
    assert not out_file.exists(), err
    with Project.open(db, user="consensus") as p, pytest.raises(Forbidden):
        p.coding.codings()


def test_a_coders_backup_is_refused(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.db"
    code, _o, err = cli_call(capsys, "--db", str(db), "--as", "lin", "backup", "-o", str(out))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    code, _o, err = cli_call(capsys, "--db", str(db), "--as", "chen", "backup", "-o", str(out))
    assert code == 0, err
    assert out.exists()


@pytest.mark.parametrize("suffix", [".yaml", ".xlsx", ".qdc"])
def test_codebook_files_leave_out_the_other_coders_concepts(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """The codebook files a coder exports follow the tree's rule: no concept only the
    other coder created, and counts only of the coder's own codings."""
    with Project.open(db, user="zhou") as p:
        # zhou also codes the shared concept, so a leaked count would read 2.
        p.coding.apply("4-1", "共享概念", passage=1)
    out = tmp_path / f"cb{suffix}"
    code, _o, err = cli_call(capsys, "--db", str(db), "--as", "lin", "codebook", "export", str(out))
    assert code == 0, err
    text = _file_text(out)
    assert "林的概念" in text and "共享概念" in text
    assert "周的秘密概念" not in text
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        rows = {r[0]: r[-1] for r in load_workbook(out).active.iter_rows(values_only=True)}
        assert rows["林的概念"] == 1 and rows["共享概念"] == 0
    lead_out = tmp_path / f"lead{suffix}"
    code, _o, err = cli_call(
        capsys, "--db", str(db), "--as", "chen", "codebook", "export", str(lead_out)
    )
    assert code == 0, err
    assert "周的秘密概念" in _file_text(lead_out)


def _file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        return "\n".join(
            str(v) for row in load_workbook(path).active.iter_rows(values_only=True) for v in row
        )
    return path.read_text(encoding="utf-8")
