"""The codebook YAML format: parse, validate and write it, without a database.

The format (``codebooks/*.yaml``) is the one researchers edit by hand, so every
mistake is reported as one line naming the file, the line and the place in the
tree (``relation_classes[2].main_categories[0]``), never as a traceback.

Parsing goes through PyYAML's composer rather than ``safe_load`` because only
the node tree keeps line numbers; scalars are taken as their written text, so
``number: 01`` stays ``"01"`` and a concept called ``yes`` stays ``"yes"``.

Besides the documented keys, two optional top-level sections keep a codebook
lossless while axial coding is under way: ``unassigned_main_categories`` (main
categories in no relation class yet) and ``unassigned_categories`` (initial
categories in no main category yet). They are written only when non-empty, so
a finished codebook uses exactly the documented format.

Node names in ``model.edges`` may name the core category, a relation class, a
main category or an initial category; a name found on two of these levels must
carry a prefix (``main_category:名称``). Parsed edges hold resolved
``NodeRef``s, so ``parse_codebook(dump_codebook(spec)) == spec``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from groundcode.domain.errors import BadCodebookFile, GroundcodeError, NotFound, Refused
from groundcode.domain.levels import LEVELS, NODE_KINDS
from groundcode.domain.model import Edge, NodeRef
from groundcode.domain.vocab import NodeKind

NULL_TAG = "tag:yaml.org,2002:null"
# The words for a model node's kind in messages ("a main category").
KIND_WORDS: dict[str, str] = {
    NodeKind.CORE: "the core category",
    NodeKind.RELATION_CLASS: "a relation class",
    NodeKind.MAIN_CATEGORY: "a main category",
    NodeKind.CATEGORY: "an initial category",
}
GENERATED_MARK = "groundcode codebook:"


@dataclass(frozen=True)
class ConceptSpec:
    name: str
    definition: str | None = None
    group: str | None = None  # the category's sub-definition it is listed under (``definitions:``)


@dataclass(frozen=True)
class CategorySpec:
    name: str
    number: str | None = None
    definition: str | None = None
    concepts: tuple[ConceptSpec, ...] = ()


@dataclass(frozen=True)
class MainCategorySpec:
    name: str
    number: str | None = None
    definition: str | None = None
    categories: tuple[CategorySpec, ...] = ()


@dataclass(frozen=True)
class RelationClassSpec:
    name: str
    definition: str | None = None
    main_categories: tuple[MainCategorySpec, ...] = ()


# A model edge in a file is the one model-edge type of the domain.
EdgeSpec = Edge


@dataclass(frozen=True)
class CodebookSpec:
    """A whole codebook as plain values; equal specs mean equal codebooks."""

    name: str | None = None
    core_category: str | None = None
    core_definition: str | None = None
    storyline: str | None = None
    relation_classes: tuple[RelationClassSpec, ...] = ()
    uncategorised: tuple[ConceptSpec, ...] = ()
    unassigned_main_categories: tuple[MainCategorySpec, ...] = ()
    unassigned_categories: tuple[CategorySpec, ...] = ()
    edges: tuple[EdgeSpec, ...] = ()
    # The leading comment lines (credits), without the line dump_codebook generates.
    header: tuple[str, ...] = field(default=())

    # -- walking -----------------------------------------------------------
    def main_categories(self) -> list[MainCategorySpec]:
        out = [m for rc in self.relation_classes for m in rc.main_categories]
        return out + list(self.unassigned_main_categories)

    def categories(self) -> list[CategorySpec]:
        out = [c for m in self.main_categories() for c in m.categories]
        return out + list(self.unassigned_categories)

    def concepts(self) -> list[ConceptSpec]:
        out = [k for c in self.categories() for k in c.concepts]
        return out + list(self.uncategorised)

    def node_names(self) -> dict[str, set[str]]:
        """Names per model-node kind, for resolving edge endpoints."""
        return {
            NodeKind.CORE: {self.core_category} if self.core_category else set(),
            NodeKind.RELATION_CLASS: {rc.name for rc in self.relation_classes},
            NodeKind.MAIN_CATEGORY: {m.name for m in self.main_categories()},
            NodeKind.CATEGORY: {c.name for c in self.categories()},
        }


# ---------------------------------------------------------------------------
# small helpers shared with the service
# ---------------------------------------------------------------------------


def clean_text(value: str | None) -> str | None:
    """Definitions and storylines: surrounding blanks dropped, empty means absent."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def clean_label(name: str) -> str:
    """Names collapse inner whitespace, as ``coding.codes.clean_name`` does."""
    return " ".join(name.split())


@dataclass(frozen=True)
class Unresolved:
    """Why an edge endpoint did not resolve; ``ambiguous`` tells a missing name from a clash."""

    reason: str  # a catalog id: no_such_node, not_a_node, ambiguous_node
    name: str
    detail: str = ""
    ambiguous: bool = False

    def error(self) -> GroundcodeError:
        """The typed error for a caller outside a file (the model editor)."""
        if self.ambiguous:
            return Refused(self.reason, name=self.name, detail=self.detail)
        return NotFound(kind="node", name=self.name)


def resolve_node(text: str, names: dict[str, set[str]]) -> NodeRef | Unresolved:
    """Resolve an edge endpoint written bare (``名称``) or prefixed (``category:名称``)."""
    text = text.strip()
    kind, sep, rest = text.partition(":")
    if sep and kind.strip() in NODE_KINDS:
        kind, name = kind.strip(), clean_label(rest)
        if name in names[kind]:
            return NodeRef(kind, name)
        return Unresolved("no_such_node", name, kind)
    name = clean_label(text)
    found = [k for k in NODE_KINDS if name in names[k]]
    if len(found) == 1:
        return NodeRef(found[0], name)
    if not found:
        return Unresolved("not_a_node", name)
    options = " | ".join(f"{k}:{name}" for k in found)
    return Unresolved("ambiguous_node", name, options, ambiguous=True)


def node_text(ref: NodeRef, names: dict[str, set[str]]) -> str:
    """How an endpoint is written: bare when unambiguous, else prefixed."""
    owners = [k for k in NODE_KINDS if ref.name in names[k]]
    if owners == [ref.kind] and ":" not in ref.name:
        return ref.name
    return f"{ref.kind}:{ref.name}"


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------

TOP_KEYS = (
    "name",
    "core_category",
    "storyline",
    "relation_classes",
    "uncategorised",
    "unassigned_main_categories",
    "unassigned_categories",
    "model",
)
CORE_KEYS = ("name", "definition")
RC_KEYS = ("name", "definition", "main_categories")
MAIN_KEYS = ("number", "name", "definition", "categories")
CAT_KEYS = ("number", "name", "definition", "concepts", "definitions")
GROUP_KEYS = ("definition", "concepts")
CONCEPT_KEYS = ("name", "definition")
MODEL_KEYS = ("edges",)
EDGE_KEYS = ("from", "to", "label")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        # first line where each name was seen, per level
        self.seen: dict[str, dict[str, int]] = {level: {} for level in LEVELS}

    # -- errors ------------------------------------------------------------
    def fail(
        self,
        node: Node | None,
        path: str,
        reason: str,
        *,
        name: str = "",
        level: str = "",
        detail: str = "",
    ) -> BadCodebookFile:
        row = node.start_mark.line + 1 if node is not None else 0
        return BadCodebookFile(self.source, row, reason, detail, at=path, name=name, level=level)

    # -- node shapes ---------------------------------------------------------
    def mapping(self, node: Node, path: str, allowed: tuple[str, ...]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, path, "expected_mapping", detail=", ".join(allowed))
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, path, "key_not_text")
            key = key_node.value
            if key not in allowed:
                raise self.fail(key_node, path, "unknown_key", name=key, detail=", ".join(allowed))
            if key in out:
                raise self.fail(key_node, path, "key_twice", name=key)
            out[key] = value_node
        return out

    def sequence(self, node: Node | None, path: str) -> list[Node]:
        if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
            return []
        if not isinstance(node, SequenceNode):
            raise self.fail(node, path, "expected_list")
        return list(node.value)

    def text(self, node: Node | None, path: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node, ScalarNode):
            raise self.fail(node, path, "expected_text")
        if node.tag == NULL_TAG and node.style is None:
            return None
        return str(node.value)

    def name(self, fields: dict[str, Node], parent: Node, path: str, level: str) -> str:
        raw = self.text(fields.get("name"), f"{path}.name")
        name = clean_label(raw or "")
        if not name:
            raise self.fail(fields.get("name", parent), path, "needs_name", level=level)
        return self.register(level, name, fields.get("name", parent), path)

    def register(self, level: str, name: str, node: Node, path: str) -> str:
        line = node.start_mark.line + 1
        first = self.seen[level].get(name)
        if first is not None:
            raise self.fail(node, path, "listed_twice", name=name, level=level, detail=str(first))
        self.seen[level][name] = line
        return name

    # -- levels --------------------------------------------------------------
    def concept(self, node: Node, path: str) -> ConceptSpec:
        if isinstance(node, ScalarNode):
            name = clean_label(self.text(node, path) or "")
            if not name:
                raise self.fail(node, path, "needs_name", level="concept")
            return ConceptSpec(self.register("concept", name, node, path))
        fields = self.mapping(node, path, CONCEPT_KEYS)
        name = self.name(fields, node, path, "concept")
        definition = clean_text(self.text(fields.get("definition"), f"{path}.definition"))
        return ConceptSpec(name, definition)

    def concepts(self, node: Node | None, path: str) -> tuple[ConceptSpec, ...]:
        return tuple(
            self.concept(item, f"{path}[{i}]") for i, item in enumerate(self.sequence(node, path))
        )

    def category(self, node: Node, path: str) -> CategorySpec:
        """A category; ``definitions:`` lists sub-definitions, each with its own concepts
        (the paper's Table 1 row 10), after any concepts listed directly."""
        fields = self.mapping(node, path, CAT_KEYS)
        name = self.name(fields, node, path, "category")
        concepts = list(self.concepts(fields.get("concepts"), f"{path}.concepts"))
        groups = fields.get("definitions")
        for i, item in enumerate(self.sequence(groups, f"{path}.definitions")):
            where = f"{path}.definitions[{i}]"
            group = self.mapping(item, where, GROUP_KEYS)
            label = clean_text(self.text(group.get("definition"), f"{where}.definition"))
            if not label:
                raise self.fail(item, where, "a definition group needs its definition")
            for k in self.concepts(group.get("concepts"), f"{where}.concepts"):
                concepts.append(ConceptSpec(k.name, k.definition, label))
        return CategorySpec(
            name=name,
            number=clean_text(self.text(fields.get("number"), f"{path}.number")),
            definition=clean_text(self.text(fields.get("definition"), f"{path}.definition")),
            concepts=tuple(concepts),
        )

    def categories(self, node: Node | None, path: str) -> tuple[CategorySpec, ...]:
        return tuple(
            self.category(item, f"{path}[{i}]") for i, item in enumerate(self.sequence(node, path))
        )

    def main_category(self, node: Node, path: str) -> MainCategorySpec:
        fields = self.mapping(node, path, MAIN_KEYS)
        name = self.name(fields, node, path, "main_category")
        return MainCategorySpec(
            name=name,
            number=clean_text(self.text(fields.get("number"), f"{path}.number")),
            definition=clean_text(self.text(fields.get("definition"), f"{path}.definition")),
            categories=self.categories(fields.get("categories"), f"{path}.categories"),
        )

    def main_categories(self, node: Node | None, path: str) -> tuple[MainCategorySpec, ...]:
        return tuple(
            self.main_category(item, f"{path}[{i}]")
            for i, item in enumerate(self.sequence(node, path))
        )

    def relation_class(self, node: Node, path: str) -> RelationClassSpec:
        fields = self.mapping(node, path, RC_KEYS)
        name = self.name(fields, node, path, "relation_class")
        return RelationClassSpec(
            name=name,
            definition=clean_text(self.text(fields.get("definition"), f"{path}.definition")),
            main_categories=self.main_categories(
                fields.get("main_categories"), f"{path}.main_categories"
            ),
        )

    def edges(self, node: Node | None, names: dict[str, set[str]]) -> tuple[EdgeSpec, ...]:
        if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
            return ()
        model = self.mapping(node, "model", MODEL_KEYS)
        out: list[EdgeSpec] = []
        for i, item in enumerate(self.sequence(model.get("edges"), "model.edges")):
            path = f"model.edges[{i}]"
            fields = self.mapping(item, path, EDGE_KEYS)
            ends: list[NodeRef] = []
            for key in ("from", "to"):
                raw = self.text(fields.get(key), f"{path}.{key}")
                if not raw or not raw.strip():
                    raise self.fail(fields.get(key, item), path, "edge_needs", name=key)
                ref = resolve_node(raw, names)
                if isinstance(ref, Unresolved):
                    raise self.fail(
                        fields[key], f"{path}.{key}", ref.reason, name=ref.name, detail=ref.detail
                    )
                ends.append(ref)
            label = clean_text(self.text(fields.get("label"), f"{path}.label"))
            out.append(EdgeSpec(ends[0], ends[1], label))
        return tuple(out)

    def document(self, root: Node, header: tuple[str, ...]) -> CodebookSpec:
        top = self.mapping(root, "", TOP_KEYS)
        core_category: str | None = None
        core_definition: str | None = None
        core = top.get("core_category")
        if core is not None and not (isinstance(core, ScalarNode) and core.tag == NULL_TAG):
            if isinstance(core, ScalarNode):
                core_category = clean_label(core.value) or None
            else:
                fields = self.mapping(core, "core_category", CORE_KEYS)
                core_category = clean_label(
                    self.text(fields.get("name"), "core_category.name") or ""
                )
                if not core_category:
                    raise self.fail(core, "core_category", "needs_name", level="core")
                core_definition = clean_text(
                    self.text(fields.get("definition"), "core_category.definition")
                )
        rcs = tuple(
            self.relation_class(item, f"relation_classes[{i}]")
            for i, item in enumerate(self.sequence(top.get("relation_classes"), "relation_classes"))
        )
        spec = CodebookSpec(
            name=clean_text(self.text(top.get("name"), "name")),
            core_category=core_category,
            core_definition=core_definition,
            storyline=clean_text(self.text(top.get("storyline"), "storyline")),
            relation_classes=rcs,
            unassigned_main_categories=self.main_categories(
                top.get("unassigned_main_categories"), "unassigned_main_categories"
            ),
            unassigned_categories=self.categories(
                top.get("unassigned_categories"), "unassigned_categories"
            ),
            uncategorised=self.concepts(top.get("uncategorised"), "uncategorised"),
            header=header,
        )
        edges = self.edges(top.get("model"), spec.node_names())
        return CodebookSpec(**{**spec.__dict__, "edges": edges})


def _header_lines(text: str) -> tuple[str, ...]:
    """The comment block before the first YAML content, minus our generated line."""
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped[1:]
        body = body[1:] if body.startswith(" ") else body
        if body.startswith(GENERATED_MARK):
            continue
        out.append(body.rstrip())
    return tuple(out)


#: A codebook is at most eight collections deep; past this a file is refused
#: before PyYAML's recursive composer sees it (10,000 levels would crash it).
MAX_YAML_DEPTH = 64


def _check_depth(text: str, source_name: str) -> None:
    """Refuse deeply nested YAML from the event stream, which is read without recursion."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                raise BadCodebookFile(source_name, line, "too_deep", str(MAX_YAML_DEPTH))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_codebook(text: str, source_name: str) -> CodebookSpec:
    """Parse and validate a codebook; any problem is one ``BadCodebookFile``."""
    parser = _Parser(source_name)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        _check_depth(text, source_name)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "unreadable").split())
        raise BadCodebookFile(
            source_name, mark.line + 1 if mark is not None else 0, "malformed_yaml", problem
        ) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise BadCodebookFile(source_name, 0, "malformed_yaml", detail) from None
    if root is None:
        raise BadCodebookFile(source_name, 0, "no_codebook")
    return parser.document(root, _header_lines(text))


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


class _Quoted(str):
    """Numbers are strings: always written in double quotes, as in the format."""


class _Literal(str):
    """Multi-line text (the storyline) is written as a ``|`` block."""


class _Flow(dict[str, Any]):
    """Edges are written on one line, ``{from: A, to: B, label: C}``."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as hand-written codebooks do.
        super().increase_indent(flow, False)


def _quoted(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


def _flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


_Dumper.add_representer(_Quoted, _quoted)
_Dumper.add_representer(_Literal, _literal)
_Dumper.add_representer(_Flow, _flow)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != ():
        out[key] = value


def _concept_out(c: ConceptSpec) -> Any:
    if c.definition is None:
        return c.name
    return {"name": c.name, "definition": c.definition}


def _category_out(c: CategorySpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "number", _Quoted(c.number) if c.number is not None else None)
    out["name"] = c.name
    _put(out, "definition", c.definition)
    _put(out, "concepts", [_concept_out(k) for k in c.concepts if k.group is None])
    groups: dict[str, list[Any]] = {}
    for k in c.concepts:
        if k.group is not None:
            groups.setdefault(k.group, []).append(_concept_out(k))
    _put(
        out,
        "definitions",
        [{"definition": label, "concepts": items} for label, items in groups.items()],
    )
    return out


def _main_out(m: MainCategorySpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "number", _Quoted(m.number) if m.number is not None else None)
    out["name"] = m.name
    _put(out, "definition", m.definition)
    _put(out, "categories", [_category_out(c) for c in m.categories])
    return out


def _rc_out(rc: RelationClassSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rc.name}
    _put(out, "definition", rc.definition)
    _put(out, "main_categories", [_main_out(m) for m in rc.main_categories])
    return out


def _comment_block(lines: Iterable[str]) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in lines)


def dump_codebook(spec: CodebookSpec) -> str:
    """Write ``spec`` in the codebook format, keeping every order."""
    doc: dict[str, Any] = {}
    _put(doc, "name", spec.name)
    if spec.core_category is not None:
        core: dict[str, Any] = {"name": spec.core_category}
        _put(core, "definition", spec.core_definition)
        doc["core_category"] = core
    if spec.storyline is not None:
        multi_line = "\n" in spec.storyline
        doc["storyline"] = _Literal(spec.storyline + "\n") if multi_line else spec.storyline
    _put(doc, "relation_classes", [_rc_out(rc) for rc in spec.relation_classes])
    _put(doc, "uncategorised", [_concept_out(c) for c in spec.uncategorised])
    _put(
        doc,
        "unassigned_main_categories",
        [_main_out(m) for m in spec.unassigned_main_categories],
    )
    _put(doc, "unassigned_categories", [_category_out(c) for c in spec.unassigned_categories])
    if spec.edges:
        names = spec.node_names()
        edges = []
        for e in spec.edges:
            edge = _Flow()
            edge["from"] = node_text(e.source, names)
            edge["to"] = node_text(e.target, names)
            _put(edge, "label", e.label)
            edges.append(edge)
        doc["model"] = {"edges": edges}
    head = [f"{GENERATED_MARK} {spec.name or 'unnamed'}", *spec.header]
    body = "{}\n"  # an empty codebook is still a mapping
    if doc:
        body = yaml.dump(
            doc,
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=100_000,
        )
    return _comment_block(head) + body
