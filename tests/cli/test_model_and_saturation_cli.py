"""`groundcode model` and `groundcode saturation` on a project built from the sample codebook."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from groundcode.project import Project
from tests.cli.conftest import RunCli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path, run_cli: RunCli) -> str:
    path = str(tmp_path / "m.db")
    assert run_cli("--db", path, "init").code == 0
    assert run_cli("--db", path, "coder", "add", "chen", "--role", "lead").code == 0
    assert (
        run_cli(
            "--db",
            path,
            "--as",
            "chen",
            "codebook",
            "import",
            str(ROOT / "codebooks" / "health-code.yaml"),
        ).code
        == 0
    )
    return path


def _mermaid_structure(text: str) -> tuple[set[str], set[str]]:
    """Defined node ids and ids used by edges; fails on anything a flowchart does not allow."""
    lines = [ln.strip() for ln in text.strip().splitlines()]
    assert lines[0] == "flowchart LR"
    defined: set[str] = set()
    used: set[str] = set()
    depth = 0
    for ln in lines[1:]:
        if m := re.fullmatch(r'subgraph (\w+)\["[^"]*"\]', ln):
            defined.add(m.group(1))
            depth += 1
        elif ln == "end":
            depth -= 1
            assert depth >= 0
        elif m := re.fullmatch(r'(\w+)(\["[^"]*"\]|\(\["[^"]*"\]\))', ln):
            defined.add(m.group(1))
        elif m := re.fullmatch(r'(\w+) -->(\|"[^"]*"\|)? (\w+)', ln):
            used |= {m.group(1), m.group(3)}
        elif ln.startswith("style "):
            continue
        else:
            raise AssertionError(f"not a flowchart line: {ln}")
    assert depth == 0
    return defined, used


def test_model_formats(db: str, tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("--db", db, "--as", "chen", "model", "--format", "mermaid")
    assert r.code == 0, r.err
    defined, used = _mermaid_structure(r.out)
    assert used <= defined
    assert len(used) >= 10
    assert "健康码信息共享难问题的形成机理及对策" in r.out
    svg = tmp_path / "m.svg"
    assert run_cli("--db", db, "--as", "chen", "model", "--format", "svg", "-o", str(svg)).code == 0
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and "情境背景" in svg.read_text(encoding="utf-8")
    dot = run_cli("--db", db, "--as", "chen", "model", "--format", "dot")
    assert dot.out.startswith("digraph model {") and dot.out.count("{") == dot.out.count("}")


def test_invalid_models_give_a_clear_message(db: str, run_cli: RunCli) -> None:
    with Project.open(db, user="chen") as p:
        p.codebook.add_edge("信息存储", "突发公共卫生事件", "反馈")
    assert run_cli("--db", db, "--as", "chen", "model").code == 0  # cycles are allowed by default
    r = run_cli("--db", db, "--as", "chen", "model", "--cycles", "forbid")
    assert r.code == 2 and "cycle" in r.err and r.err.count("\n") == 1
    assert run_cli("--db", db, "--as", "chen", "model", "--cycles", "allow").code == 0
    with Project.open(db, user="chen") as p:
        p.codebook.delete("main_category", "健康码驱动因素", force=True)
    r = run_cli("--db", db, "--as", "chen", "model")
    assert r.code == 2 and "健康码驱动因素" in r.err and "no longer exists" in r.err


def test_saturation_json_and_strict(db: str, tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("--db", db, "--as", "chen", "saturation", "--json")
    data = json.loads(r.out)
    assert list(data)[:6] == [
        "saturated",
        "reasons",
        "new_concepts",
        "new_categories",
        "holdout",
        "guest",
    ]
    assert data["saturated"] is None and data["guest"]["reached_at"] is None
    r = run_cli("--db", db, "--as", "chen", "saturation", "--strict")
    assert r.code == 1 and "no saturation verdict" in r.err
