"""Drawing the selective-coding model: Mermaid, Graphviz DOT, SVG and plain text.

Input is a small graph (nodes with a kind, labelled directed edges) that the
analysis service builds from the codebook's model. Relation classes are drawn
as groups (subgraphs) holding their main categories; the core category is
emphasised. The SVG is laid out here (layers by longest path), so no Graphviz
installation is needed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str  # core | relation_class | main_category | category
    group: str | None = None  # relation class id for main categories


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str | None = None


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    title: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


def _mermaid_text(text: str) -> str:
    # Mermaid labels in double quotes; quotes inside become #quot; entities.
    return text.replace('"', "#quot;").replace("\n", " ")


def _grouping(g: Graph) -> tuple[dict[str, list[Node]], dict[str, Node], list[Node]]:
    """Main categories by relation class, nodes by id, and the nodes drawn outside any group."""
    groups: dict[str, list[Node]] = {}
    for n in g.nodes:
        if n.group:
            groups.setdefault(n.group, []).append(n)
    by_id = {n.id: n for n in g.nodes}
    loose = [
        n for n in g.nodes if not n.group and not (n.kind == "relation_class" and n.id in groups)
    ]
    return groups, by_id, loose


def to_mermaid(g: Graph) -> str:
    lines = ["flowchart LR"]
    groups, by_id, loose = _grouping(g)
    for n in loose:
        shape = ('(["', '"])') if n.kind == "core" else ('["', '"]')
        lines.append(f"    {n.id}{shape[0]}{_mermaid_text(n.label)}{shape[1]}")
    for gid, members in groups.items():
        label = by_id[gid].label if gid in by_id else gid
        lines.append(f'    subgraph {gid}["{_mermaid_text(label)}"]')
        for n in members:
            lines.append(f'        {n.id}["{_mermaid_text(n.label)}"]')
        lines.append("    end")
    for e in g.edges:
        if e.label:
            lines.append(f'    {e.source} -->|"{_mermaid_text(e.label)}"| {e.target}')
        else:
            lines.append(f"    {e.source} --> {e.target}")
    for n in g.nodes:
        if n.kind == "core":
            lines.append(f"    style {n.id} stroke-width:3px")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(g: Graph) -> str:
    lines = [
        "digraph model {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Noto Sans CJK SC"];',
        '  edge [fontname="Noto Sans CJK SC"];',
    ]
    groups, by_id, loose = _grouping(g)
    for n in loose:
        extra = ", style=bold, shape=ellipse" if n.kind == "core" else ""
        lines.append(f'  {n.id} [label="{_dot_text(n.label)}"{extra}];')
    for gid, members in groups.items():
        label = by_id[gid].label if gid in by_id else gid
        lines.append(f"  subgraph cluster_{gid} {{")
        lines.append(f'    label="{_dot_text(label)}";')
        for n in members:
            lines.append(f'    {n.id} [label="{_dot_text(n.label)}"];')
        lines.append("  }")
    for e in g.edges:
        lab = f' [label="{_dot_text(e.label)}"]' if e.label else ""
        lines.append(f"  {e.source} -> {e.target}{lab};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(g: Graph) -> dict[str, int]:
    """Longest-path layering over the edges (cycles broken by visiting order)."""
    ids = [n.id for n in g.nodes]
    succ: dict[str, list[str]] = {i: [] for i in ids}
    indeg = dict.fromkeys(ids, 0)
    for e in g.edges:
        if e.source in succ and e.target in succ and e.source != e.target:
            succ[e.source].append(e.target)
            indeg[e.target] += 1
    layer = dict.fromkeys(ids, 0)
    queue = [i for i in ids if indeg[i] == 0]
    done: set[str] = set()
    while queue or len(done) < len(ids):
        if not queue:  # a cycle: release the first unfinished node
            queue.append(next(i for i in ids if i not in done))
        cur = queue.pop(0)
        if cur in done:
            continue
        done.add(cur)
        for nxt in succ[cur]:
            if nxt in done:
                continue
            layer[nxt] = max(layer[nxt], layer[cur] + 1)
            indeg[nxt] -= 1
            if indeg[nxt] <= 0:
                queue.append(nxt)
    return layer


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def to_svg(g: Graph) -> str:
    """A self-contained SVG: layers left to right, boxes sized to their (CJK) labels."""
    nodes = [
        n
        for n in g.nodes
        if n.kind != "relation_class" or any(e.source == n.id or e.target == n.id for e in g.edges)
    ]
    sub = Graph(tuple(nodes), g.edges, g.title)
    layer = _layers(sub)
    cols: dict[int, list[Node]] = {}
    for n in nodes:
        cols.setdefault(layer[n.id], []).append(n)
    char_w, box_h, gap_y, gap_x, pad = 8, 34, 30, 90, 24
    col_w = {c: max(_width(n.label) for n in ns) * char_w + 24 for c, ns in cols.items()}
    pos: dict[str, tuple[float, float, float]] = {}
    x = pad
    height = 0
    for c in sorted(cols):
        y = pad + (40 if g.title else 0)
        for n in cols[c]:
            pos[n.id] = (x, y, col_w[c])
            y += box_h + gap_y
        height = max(height, y)
        x += col_w[c] + gap_x
    width = x - gap_x + pad
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + pad}" '
        f'viewBox="0 0 {width} {height + pad}" font-family="Noto Sans CJK SC, SimSun, sans-serif" font-size="13">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
    ]
    if g.title:
        out.append(
            f'<text x="{pad}" y="{pad + 8}" font-size="16" font-weight="bold">{html.escape(g.title)}</text>'
        )
    for e in g.edges:
        if e.source not in pos or e.target not in pos:
            continue
        x1, y1, w1 = pos[e.source]
        x2, y2, _ = pos[e.target]
        sx, sy = x1 + w1, y1 + box_h / 2
        tx, ty = x2, y2 + box_h / 2
        if tx <= sx:  # same or earlier layer: route under the boxes
            sx, sy, tx, ty = x1 + w1 / 2, y1 + box_h, x2 + 10, y2 + box_h
        mx = (sx + tx) / 2
        out.append(
            f'<path d="M {sx} {sy} C {mx} {sy}, {mx} {ty}, {tx} {ty}" fill="none" stroke="#444" '
            f'stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
        if e.label:
            out.append(
                f'<text x="{mx}" y="{(sy + ty) / 2 - 4}" text-anchor="middle" fill="#333" '
                f'font-size="11">{html.escape(e.label)}</text>'
            )
    group_label = {n.id: n.label for n in g.nodes if n.kind == "relation_class"}
    for n in nodes:
        x0, y0, w = pos[n.id]
        if n.group and n.group in group_label:
            # The relation class a main category belongs to, as a caption over its box.
            out.append(
                f'<text x="{x0 + 2}" y="{y0 - 3}" font-size="10" fill="#555">'
                f"{html.escape(group_label[n.group])}</text>"
            )
        stroke = "3" if n.kind == "core" else "1.2"
        rx = "16" if n.kind == "core" else "4"
        fill = {"core": "#fde9c9", "relation_class": "#e3ecf7", "main_category": "#ffffff"}.get(
            n.kind, "#f5f5f5"
        )
        out.append(
            f'<rect x="{x0}" y="{y0}" width="{w}" height="{box_h}" rx="{rx}" fill="{fill}" '
            f'stroke="#333" stroke-width="{stroke}"/>'
        )
        out.append(
            f'<text x="{x0 + w / 2}" y="{y0 + box_h / 2 + 4}" text-anchor="middle">{html.escape(n.label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_text(g: Graph) -> str:
    """The model as indented text, for the terminal."""
    groups, by_id, _loose = _grouping(g)
    lines = [f"◎ {n.label}" for n in g.nodes if n.kind == "core"]
    for gid, members in groups.items():
        lines.append(f"▣ {by_id[gid].label if gid in by_id else gid}")
        for m in members:
            lines.append(f"   └ {m.label}")
    if g.edges:
        lines.append("")
        for e in g.edges:
            a = by_id[e.source].label if e.source in by_id else e.source
            b = by_id[e.target].label if e.target in by_id else e.target
            lines.append(f"{a} ──{'[' + e.label + ']' if e.label else ''}──▶ {b}")
    for p in g.problems:
        lines.append(f"! {p}")
    return "\n".join(lines) + "\n"


def find_cycles(edges: Sequence[Edge]) -> list[list[str]]:
    """Simple cycles among the edges (for models where the user forbids feedback loops)."""
    succ: dict[str, list[str]] = {}
    for e in edges:
        succ.setdefault(e.source, []).append(e.target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:
        state[v] = 1
        stack.append(v)
        for w in succ.get(v, []):
            if state.get(w) == 1:
                cycles.append(stack[stack.index(w) :] + [w])
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = 2

    for v in list(succ):
        if v not in state:
            visit(v)
    return cycles
