"""The foundation acceptance: init, codebook round trip, and one-line errors with exit 2."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.cli.conftest import RunCli

ROOT = Path(__file__).resolve().parents[2]
CODEBOOK = ROOT / "codebooks" / "health-code.yaml"
BAD = ROOT / "tests" / "data" / "codebooks"


def _levels(doc: dict) -> tuple[int, int, int, list[tuple[str, str, tuple[str, ...]]]]:
    rcs = doc["relation_classes"]
    mains = [m for rc in rcs for m in rc["main_categories"]]
    cats = [c for m in mains for c in m["categories"]]
    flat = [
        (
            c["name"],
            c.get("definition") or "",
            tuple(k if isinstance(k, str) else k["name"] for k in c.get("concepts", [])),
        )
        for c in cats
    ]
    return len(rcs), len(mains), len(cats), flat


def test_codebook_round_trip_is_structural_identity(
    db_url: str, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out.yaml"
    assert run_cli("--db", db_url, "init").code == 0
    assert run_cli("--db", db_url, "codebook", "import", str(CODEBOOK)).code == 0
    r = run_cli("--db", db_url, "codebook", "export", str(out))
    assert r.code == 0, r.err
    original = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    back = yaml.safe_load(out.read_text(encoding="utf-8"))
    n_rc, n_main, n_cat, flat = _levels(back)
    assert (n_rc, n_main, n_cat) == (6, 13, 40)
    assert flat == _levels(original)[3]
    assert back["core_category"] == original["core_category"]
    assert back["storyline"].strip() == original["storyline"].strip()
    assert back["model"]["edges"] == original["model"]["edges"]
    numbers = [
        c["number"]
        for rc in back["relation_classes"]
        for m in rc["main_categories"]
        for c in m["categories"]
    ]
    assert numbers == [str(i) for i in range(1, 41)]


def _snapshot(run_cli: RunCli, db: str, tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    r = run_cli("--db", db, "codebook", "export", str(target), "--force")
    assert r.code == 0, r.err
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture", "needle"),
    [
        ("malformed.yaml", "malformed.yaml:10"),
        ("concept-twice.yaml", "数据加密"),
        ("unknown-level.yaml", "subcategories"),
        ("bad-edge.yaml", "信息共享难"),
    ],
)
def test_bad_codebook_is_one_line_exit_2_project_unchanged(
    fixture: str, needle: str, db_url: str, tmp_path: Path, run_cli: RunCli
) -> None:
    assert run_cli("--db", db_url, "init").code == 0
    assert run_cli("--db", db_url, "codebook", "import", str(BAD / "small.yaml")).code == 0
    before = _snapshot(run_cli, db_url, tmp_path, "before.yaml")
    r = run_cli("--db", db_url, "codebook", "import", str(BAD / fixture))
    assert r.code == 2
    assert r.err.count("\n") == 1 and r.err.startswith("groundcode: ")
    assert fixture in r.err and needle in r.err
    assert _snapshot(run_cli, db_url, tmp_path, "after.yaml") == before


def test_missing_parent_folder_is_exit_2(tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("--db", str(tmp_path / "nope" / "x.db"), "init")
    assert r.code == 2
    assert "no folder" in r.err and r.err.count("\n") == 1
    assert not (tmp_path / "nope").exists()


def test_opening_a_missing_project_says_how_to_create_one(tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("--db", str(tmp_path / "none.db"), "corpus")
    assert r.code == 2 and "groundcode init" in r.err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.postgres
def test_wrong_password_is_one_line_without_the_password(run_cli: RunCli) -> None:
    base = os.environ.get("GROUNDCODE_TEST_PG")
    if not base:
        pytest.skip("GROUNDCODE_TEST_PG is not set")
    url = make_url(base)
    # The CI server trusts its socket, so ask for a TCP host that refuses the password instead.
    wrong = url.set(
        username="nobody_here", password="s3cret-wrong", host="127.0.0.1", port=1, query={}
    ).render_as_string(hide_password=False)
    r = run_cli("--db", wrong, "init")
    assert r.code == 2
    assert "s3cret-wrong" not in r.err and "cannot open the database" in r.err
    assert r.err.count("\n") == 1


def test_usage_errors_are_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    r = run_cli("--db", str(tmp_path / "x.db"), "import")
    assert r.code == 2 and r.err.count("\n") == 1


def test_help_reads_like_a_guide(run_cli: RunCli) -> None:
    r = run_cli("--help")
    assert r.code == 0
    for word in ("init", "import", "agree", "saturation", "export", "GROUNDCODE_DB"):
        assert word in r.out


def test_env_var_names_the_project(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDCODE_DB", str(tmp_path / "env.db"))
    assert run_cli("init").code == 0
    assert (tmp_path / "env.db").exists()
    shutil.rmtree(tmp_path)
