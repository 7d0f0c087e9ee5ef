"""The codebook YAML format on its own: parsing, one-line errors, lossless writing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundcode.coding.codebook_yaml import (
    CategorySpec,
    CodebookSpec,
    ConceptSpec,
    EdgeSpec,
    MainCategorySpec,
    NodeRef,
    RelationClassSpec,
    dump_codebook,
    parse_codebook,
)
from groundcode.domain.errors import GroundcodeError

ROOT = Path(__file__).resolve().parents[2]
HEALTH_CODE = ROOT / "codebooks" / "health-code.yaml"

SMALL = """\
# A small codebook for tests.
#
# credits: the test suite
name: 小样本
core_category:
  name: 核心
  definition: 核心定义
storyline: |
  第一句。
  第二句。
relation_classes:
  - name: 情境背景
    definition: 背景
    main_categories:
      - number: "1"
        name: 突发事件
        categories:
          - number: 01
            name: 危害性
            definition: 危害
            concepts:
              - 危及生命
              - {name: 基础疾病, definition: 合并基础疾病}
          - number: "2"
            name: 传染性
            concepts: [人传人]
  - name: 应对
    main_categories:
      - number: "2"
        name: 政策规范
        categories:
          - number: "3"
            name: 制度框架
            concepts: [出台文件, 监管]
uncategorised:
  - 未归类概念
model:
  edges:
    - {from: 情境背景, to: 核心, label: 影响}
    - {from: 突发事件, to: 政策规范, label: 推动}
    - {from: 制度框架, to: 核心}
"""


def test_parse_small_reads_every_level_in_order() -> None:
    spec = parse_codebook(SMALL, "small.yaml")
    assert spec.name == "小样本"
    assert spec.header == ("A small codebook for tests.", "", "credits: the test suite")
    assert (spec.core_category, spec.core_definition) == ("核心", "核心定义")
    assert spec.storyline == "第一句。\n第二句。"
    assert [rc.name for rc in spec.relation_classes] == ["情境背景", "应对"]
    assert [c.name for c in spec.categories()] == ["危害性", "传染性", "制度框架"]
    # numbers are the written text, never integers
    assert [c.number for c in spec.categories()] == ["01", "2", "3"]
    assert spec.categories()[0].concepts == (
        ConceptSpec("危及生命"),
        ConceptSpec("基础疾病", "合并基础疾病"),
    )
    assert spec.uncategorised == (ConceptSpec("未归类概念"),)
    assert spec.edges[0] == EdgeSpec(
        NodeRef("relation_class", "情境背景"), NodeRef("core", "核心"), "影响"
    )
    assert spec.edges[2].label is None


def test_dump_round_trips_and_keeps_the_header() -> None:
    spec = parse_codebook(SMALL, "small.yaml")
    text = dump_codebook(spec)
    assert text.startswith("# groundcode codebook: 小样本\n# A small codebook for tests.\n#\n")
    assert 'number: "01"' in text
    assert "{from: 情境背景, to: 核心, label: 影响}" in text
    assert parse_codebook(text, "again.yaml") == spec
    # writing twice gives the same text
    assert dump_codebook(parse_codebook(text, "again.yaml")) == text


def test_prefixed_endpoint_resolves_a_name_on_two_levels() -> None:
    text = """\
relation_classes:
  - name: 应对
    main_categories:
      - name: 政策
        categories:
          - name: 政策
model:
  edges:
    - {from: "main_category:政策", to: "category:政策"}
    - {from: 应对, to: "category:政策"}
"""
    spec = parse_codebook(text, "two.yaml")
    assert spec.edges[0].source == NodeRef("main_category", "政策")
    assert spec.edges[0].target == NodeRef("category", "政策")
    dumped = dump_codebook(spec)
    assert "main_category:政策" in dumped
    assert parse_codebook(dumped, "two.yaml") == spec


BAD_CASES: list[tuple[str, str, int | None, str]] = [
    ("malformed", "name: x\nrelation_classes:\n  - name: [unclosed\n", 4, "malformed YAML"),
    (
        "unknown-key",
        "relation_classes:\n  - name: A\n    main_categories:\n      - name: M\n"
        "        subcategories: []\n",
        5,
        "relation_classes[0].main_categories[0]: unknown key 'subcategories' "
        "(expected one of: number, name, definition, categories)",
    ),
    (
        "concept-twice",
        "relation_classes:\n  - name: A\n    main_categories:\n      - name: M\n"
        "        categories:\n          - name: C\n            concepts: [甲, 乙]\n"
        "uncategorised:\n  - 甲\n",
        9,
        "concept '甲' is listed twice (first at line 7)",
    ),
    (
        "duplicate-category",
        "unassigned_categories:\n  - name: C\n  - name: C\n",
        3,
        "initial category 'C' is listed twice (first at line 2)",
    ),
    (
        "missing-name",
        "relation_classes:\n  - definition: no name here\n",
        2,
        "relation_classes[0]: a relation class needs a name",
    ),
    (
        "bad-edge",
        "unassigned_categories:\n  - name: C\nmodel:\n  edges:\n    - {from: C, to: 不存在}\n",
        5,
        "model.edges[0].to: '不存在' is not the core category",
    ),
    (
        "ambiguous-edge",
        "unassigned_main_categories:\n  - name: X\n    categories:\n      - name: X\n"
        "model:\n  edges:\n    - {from: X, to: X}\n",
        7,
        "'X' is ambiguous",
    ),
    ("unknown-top-key", "name: x\nlevels: 3\n", 2, "unknown key 'levels'"),
    (
        "not-a-list",
        "relation_classes:\n  name: A\n",
        2,
        "relation_classes: expected a list",
    ),
    ("empty", "# only a comment\n", None, "holds no codebook"),
    ("top-list", "- a\n- b\n", 1, "expected a mapping"),
]


@pytest.mark.parametrize(
    ("label", "text", "line", "needle"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_codebooks_give_one_line_naming_file_and_line(
    label: str, text: str, line: int | None, needle: str
) -> None:
    with pytest.raises(GroundcodeError) as info:
        parse_codebook(text, f"{label}.yaml")
    message = str(info.value)
    assert "\n" not in message
    where = f"{label}.yaml:{line}: " if line is not None else f"{label}.yaml: "
    assert message.startswith(where), message
    assert needle in message


@pytest.mark.skipif(not HEALTH_CODE.exists(), reason="codebooks/health-code.yaml not written yet")
def test_health_code_parses_and_round_trips() -> None:
    spec = parse_codebook(HEALTH_CODE.read_text(encoding="utf-8"), str(HEALTH_CODE))
    assert len(spec.relation_classes) == 6
    assert len(spec.main_categories()) == 13
    assert len(spec.categories()) == 40
    assert parse_codebook(dump_codebook(spec), "again.yaml") == spec


# -- any codebook round-trips ------------------------------------------------

_chars = st.sampled_from(list("健康码信息共享ab Z:#-'\"{}[]&*!|>%@`,?\t"))
_names = st.text(_chars, min_size=1, max_size=8).map(lambda s: " ".join(s.split())).filter(bool)
_texts = st.none() | st.text(
    st.sampled_from(list("定义说明 ab:#\n'\"")), min_size=1, max_size=20
).map(lambda s: s.strip() or None)
_numbers = st.none() | st.sampled_from(["1", "01", "2.5", "yes", "null", "第三"])


@st.composite
def codebooks(draw: st.DrawFn) -> CodebookSpec:
    def names(n: int) -> list[str]:
        return draw(st.lists(_names, min_size=n, max_size=n, unique=True))

    concept_names = iter(names(draw(st.integers(0, 8))))
    cat_names = iter(names(draw(st.integers(0, 5))))
    main_names = iter(names(draw(st.integers(0, 4))))
    rc_names = names(draw(st.integers(0, 3)))

    def concepts() -> tuple[ConceptSpec, ...]:
        out = []
        for _ in range(draw(st.integers(0, 2))):
            name = next(concept_names, None)
            if name is not None:
                out.append(ConceptSpec(name, draw(_texts)))
        return tuple(out)

    def cats() -> tuple[CategorySpec, ...]:
        out = []
        for _ in range(draw(st.integers(0, 2))):
            name = next(cat_names, None)
            if name is not None:
                out.append(CategorySpec(name, draw(_numbers), draw(_texts), concepts()))
        return tuple(out)

    def mains() -> tuple[MainCategorySpec, ...]:
        out = []
        for _ in range(draw(st.integers(0, 2))):
            name = next(main_names, None)
            if name is not None:
                out.append(MainCategorySpec(name, draw(_numbers), draw(_texts), cats()))
        return tuple(out)

    rcs = tuple(RelationClassSpec(n, draw(_texts), mains()) for n in rc_names)
    spec = CodebookSpec(
        name=draw(st.none() | _names),
        core_category=draw(st.none() | _names),
        storyline=draw(_texts),
        relation_classes=rcs,
        unassigned_main_categories=mains(),
        unassigned_categories=cats(),
        uncategorised=concepts(),
    )
    spec = CodebookSpec(
        **{**spec.__dict__, "core_definition": draw(_texts) if spec.core_category else None}
    )
    nodes = [NodeRef(kind, n) for kind, ns in spec.node_names().items() for n in sorted(ns)]
    edges: tuple[EdgeSpec, ...] = ()
    if nodes:
        pairs = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes), st.none() | _names)
        edges = tuple(EdgeSpec(a, b, label) for a, b, label in draw(st.lists(pairs, max_size=4)))
    return CodebookSpec(**{**spec.__dict__, "edges": edges})


@settings(max_examples=150, deadline=None)
@given(codebooks())
def test_any_codebook_round_trips(spec: CodebookSpec) -> None:
    assert parse_codebook(dump_codebook(spec), "generated.yaml") == spec
