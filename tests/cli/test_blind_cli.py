"""Blind mode on the command line: a coder's outputs (--json included) carry no other coder's work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from groundcode.demo import build_demo
from tests.cli.conftest import RunCli

DATA = Path(__file__).resolve().parents[1] / "data" / "agreement"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blind") / "demo.db"
    build_demo(path)
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> str:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_file, copy)
    return str(copy)


def test_a_coders_reads_never_show_another_coder(
    demo: str, tmp_path: Path, run_cli: RunCli
) -> None:
    lin = ["--db", demo, "--as", "lin"]
    assert (
        run_cli(*lin, "memo", "add", "lin 的备忘", "--on", "document", "--target", "4-1").code == 0
    )
    assert (
        run_cli(
            "--db",
            demo,
            "--as",
            "zhou",
            "memo",
            "add",
            "zhou 的秘密备忘",
            "--on",
            "document",
            "--target",
            "4-1",
        ).code
        == 0
    )
    out = tmp_path / "c.csv"
    assert run_cli(*lin, "codings", "export", str(out)).code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert ",lin," in text and "zhou" not in text and "consensus" not in text
    for args in (
        ("memo", "list", "--json"),
        ("codebook", "show", "--json"),
        ("saturation", "--json"),
        ("suggest", "4-1", "--json"),
        ("status", "--json"),
    ):
        r = run_cli(*lin, *args)
        assert r.code == 0, (args, r.err)
        body = r.out
        if args[0] == "status":
            data = json.loads(body)
            assert data["blind"] is True
            continue
        assert "zhou" not in body and "秘密" not in body, args
    assert json.loads(run_cli(*lin, "saturation", "--json").out)["basis"] == "lin"
    for args in (
        ("agree",),
        ("agree", "--json"),
        ("reconcile",),
        ("codings", "export", str(tmp_path / "z.csv"), "--coders", "zhou"),
        ("blind", "off"),
        ("saturation", "--coder", "zhou"),
    ):
        r = run_cli(*lin, *args)
        assert r.code == 2 and r.err.count("\n") == 1, (args, r.err)
    # Without --as, reading codings is refused outright.
    r = run_cli("--db", demo, "codings", "export", str(tmp_path / "n.csv"))
    assert r.code == 2 and "--as" in r.err


def test_agree_json_shape_as_lead(demo: str, run_cli: RunCli) -> None:
    r = run_cli("--db", demo, "--as", "chen", "agree", "--json")
    data = json.loads(r.out)
    from tests.analysis.test_agreement_core import SPEC_KEYS

    assert list(data)[: len(SPEC_KEYS)] == SPEC_KEYS
    assert data["coders"] == ["lin", "zhou"] and 0.7 < data["kappa"] < 0.9
    assert set(data["per_code"][0]) >= {
        "code",
        "kappa",
        "agreement",
        "both",
        "a_only",
        "b_only",
        "neither",
    }


@pytest.mark.parametrize("name", ["bad_missing_columns", "bad_one_coder", "bad_empty", "bad_gbk"])
def test_agree_csv_bad_input(name: str, run_cli: RunCli) -> None:
    f = DATA / f"{name}.csv"
    r = run_cli("agree", "--csv", str(f))
    assert r.code == 2 and r.err.count("\n") == 1 and f.name in r.err
