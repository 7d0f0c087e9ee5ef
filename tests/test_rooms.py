"""The rooms: Project wires them, no room builds another, and p.coding still answers.

The room map is docs/ARCHITECTURE.md; these tests keep the two rules that a
layer contract cannot see (a room calling a sibling's constructor inside a
call, and the old names of ``p.coding`` drifting from the rooms they moved to).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from groundcode.analysis.queries import QueryService
from groundcode.coding.memos import MemoService
from groundcode.domain.errors import BadOption
from groundcode.domain.levels import code_level
from groundcode.domain.model import Edge, NodeRef
from groundcode.people.service import PeopleService
from groundcode.project import Project
from groundcode.store.edges import edge_of, new_row, store_edge
from tests.conftest import MakeProject

ROOT = Path(__file__).resolve().parents[1] / "groundcode"


def test_no_room_constructs_another_service() -> None:
    """Only ``project.py`` calls a ``...Service(...)`` constructor (front ends reach rooms through it)."""
    found: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "project.py" or rel.startswith(("cli/", "tui/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name.endswith("Service"):
                    found.append(f"{rel}:{node.lineno} {name}(...)")
    assert found == []


def test_coding_keeps_the_names_that_moved(project: Project) -> None:
    """``p.coding.add_coder`` and friends are the new rooms' own methods, on the same rooms."""
    desk = project.coding
    for name in ("coders", "add_coder", "remove_coder", "status", "role", "set_blind_mode"):
        method = getattr(desk, name)
        assert method.__func__ is getattr(PeopleService, name)
        assert method.__self__ is project.people
    for name in ("add_memo", "edit_memo", "delete_memo", "memos", "memos_page"):
        method = getattr(desk, name)
        assert method.__func__ is getattr(MemoService, name)
        assert method.__self__ is project.memos
    for name in ("frequencies", "cooccurrence", "retrieve", "coverage", "progress"):
        method = getattr(desk, name)
        assert method.__func__ is getattr(QueryService, name)
        assert method.__self__ is project.queries
    assert project.queries.codings is project.codings
    assert project.analysis.codebook is project.codebook
    assert project.exports.interchange is project.interchange


MOVED = {
    "coders",
    "add_coder",
    "give_login",
    "remove_coder",
    "status",
    "visible_coder_ids",
    "role",
    "blind_mode",
    "set_blind_mode",
    "add_memo",
    "edit_memo",
    "delete_memo",
    "memos",
    "memos_page",
    "frequencies",
    "cooccurrence",
    "retrieve",
    "coverage",
    "progress",
}


def test_no_module_calls_the_moved_names_through_p_coding(project: Project) -> None:
    """The front ends and rooms call ``p.people``/``p.memos``/``p.queries`` themselves.

    ``p.coding``'s old names are kept for scripts only; a call ``x.coding.<moved>``
    anywhere in ``groundcode/`` would tie new code to the desk again.
    """
    desk = project.coding
    assert {name for name in MOVED if name in vars(desk)} == MOVED  # the list is the desk's
    found: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in MOVED
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "coding"
            ):
                found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno} {node.attr}")
    assert found == []


def test_one_edge_between_row_audit_and_facts() -> None:
    edge = Edge(NodeRef("main_category", "A"), NodeRef("core", "B"), "leads to")
    assert Edge.from_flat(list(edge.flat())) == edge
    assert edge.to_json() == {"from": "main_category:A", "to": "core:B", "label": "leads to"}
    row = new_row(edge, position=3)
    assert (row.from_kind, row.from_name, row.to_kind, row.to_name, row.label, row.position) == (
        "main_category",
        "A",
        "core",
        "B",
        "leads to",
        3,
    )
    assert edge_of(row) == edge
    moved = edge.repointed(NodeRef("core", "B"), NodeRef("core", "C"))
    store_edge(row, moved)
    assert edge_of(row) == Edge(NodeRef("main_category", "A"), NodeRef("core", "C"), "leads to")
    assert moved.dangling({"main_category": {"A"}, "core": {"B"}})
    assert not moved.dangling({"main_category": {"A"}, "core": {"C"}})


def test_code_levels_are_one_map(make_project: MakeProject, tmp_path: Path) -> None:
    """Agreement and the passage matrix read "main" and "main_category" alike; other words are refused."""
    assert [code_level(w) for w in ("concept", "category", "main", "main_category")] == [
        "concept",
        "category",
        "main",
        "main",
    ]
    with pytest.raises(BadOption) as err:
        code_level("relation_class")
    assert (err.value.option, err.value.allowed) == ("level", "concept, category, main")

    p = make_project()
    p.people.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.people.add_coder("lin")
    lead.people.add_coder("zhou")
    (tmp_path / "a.txt").write_text("标题\n\n第一段。\n\n第二段。\n", encoding="utf-8")
    lead.corpus.import_files([tmp_path / "a.txt"], type=1)
    lead.codebook.create_main_category("治理")
    lead.codebook.create_category("采集", main="治理")
    for who, passage in (("lin", 2), ("zhou", 2), ("zhou", 3)):
        p.as_user(who).coding.apply("1-1", "概念", passage=passage)
    lead.codebook.move("concept", "概念", "采集")
    by_word = lead.analysis.agreement(level="main").to_json()
    assert lead.analysis.agreement(level="main_category").to_json() == by_word
    assert by_word["level"] == "main"
