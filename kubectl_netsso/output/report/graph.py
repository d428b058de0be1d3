# ruff: noqa: E501  (SVG templates read better unwrapped)
"""The report's workload graph as SVG, drawn from layout.py's geometry, and only where it stays readable.

One column per namespace (the addresses outside the cluster: "internet" as a source on the left, allowed ranges as
destinations on the right), one box per workload. A box whose ingress a policy isolates (denied by default) is
drawn solid; one open to everything (selected by no ingress policy) dashed red, and edges into open boxes are not
drawn, since anything whose egress allows it reaches them. Edges are the flows the policies allow into isolated
boxes (and to allowed external ranges), labelled with their ports.

Readable means at most GRAPH_MAX_NODES boxes and GRAPH_MAX_EDGES edges: above either, the page says so (with the
numbers) and points to the namespace matrix and to `paths -o dot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..text import escape
from .html import Markup, html, join
from .layout import LABEL_SIZE, NODE_H, GraphLayout, Rect, fit_text, layout_graph, text_width

if TYPE_CHECKING:
    from ...access.report import Node, ReportData

__all__ = ["GRAPH_MAX_EDGES", "GRAPH_MAX_NODES", "graph_section", "graph_svg"]

GRAPH_MAX_NODES = 40
GRAPH_MAX_EDGES = 40
NODE_MIN_W, NODE_MAX_W = 150, 240
COL_MAX_W = 280
MIN_SCALE = 0.7  # the drawing shrinks to fit the page down to this; wider, it scrolls
NAME_SIZE, DETAIL_SIZE, TITLE_SIZE, SUB_SIZE = 12, 10, 13, 11

_BADGE_FILL = {"isolated": "#1b7a3d", "open": "#c62828", "external": "#7e57c2"}


def _shown(text: str) -> str:
    """The text as the page shows it (what could hide or reorder it escaped), to measure and cut."""
    return escape(text, newlines=True)


def node_class(node: Node) -> str:
    return "external" if not node.namespace else ("isolated" if node.ingress_isolated else "open")


def _detail(node: Node) -> str:
    if not node.namespace:
        return "any address outside" if node.id == "internet" else "outside the cluster"
    kind = f"{node.kind.lower()}{f' ×{node.pods}' if node.pods > 1 else ''}"
    return f"{kind} · {'isolated' if node.ingress_isolated else 'open to all'}"


def _node_width(node: Node) -> int:
    need = max(text_width(_shown(node.name), NAME_SIZE), text_width(_detail(node), DETAIL_SIZE)) + 18
    return int(min(NODE_MAX_W, max(NODE_MIN_W, need)) + 0.999)


def _columns(data: ReportData) -> list[tuple[str, list[Node]]]:
    by_ns: dict[str, list[Node]] = {}
    for n in data.nodes:
        if n.namespace:
            by_ns.setdefault(n.namespace, []).append(n)
    cols: list[tuple[str, list[Node]]] = []
    sources = [n for n in data.nodes if not n.namespace and n.id == "internet"]
    ranges = [n for n in data.nodes if not n.namespace and n.id != "internet"]
    if sources:
        cols.append(("outside the cluster", sources))
    cols += [(ns, by_ns[ns]) for ns in column_order(data, [ns for ns in data.scope if ns in by_ns])]
    if ranges:
        cols.append(("outside the cluster", ranges))
    return cols


def _edge_label(ports: tuple[str, ...]) -> str:
    return ", ".join(ports[:3]) + (" …" if len(ports) > 3 else "")


def readable(data: ReportData) -> bool:
    return not data.aggregated and len(data.nodes) <= GRAPH_MAX_NODES and len(data.edges) <= GRAPH_MAX_EDGES


def graph_layout(data: ReportData) -> tuple[GraphLayout, list[tuple[str, list[Node]]]]:
    cols = _columns(data)
    ids = {n.id for _t, ns in cols for n in ns}
    edges = [(e.source, e.target, _shown(_edge_label(e.ports))) for e in data.edges if e.source in ids and e.target in ids]
    widths = {n.id: float(_node_width(n)) for _t, ns in cols for n in ns}
    ns_info = {n["name"]: n for n in data.namespaces}
    col_min = [
        min(COL_MAX_W, max(text_width(_shown(t), TITLE_SIZE, bold=True), text_width(_subtitle(ns_info.get(t)), SUB_SIZE)) + 22)
        for t, _ in cols
    ]
    return layout_graph([[n.id for n in ns] for _t, ns in cols], edges, widths, col_min), cols


def _subtitle(info: dict[str, object] | None) -> str:
    if info is None:
        return ""
    return ("default-deny in" if info["defaultDenyIngress"] else "no default-deny in") + (
        " + out" if info["defaultDenyEgress"] else ""
    )


def _num(v: float) -> Markup:
    return Markup(f"{v:.1f}".removesuffix(".0"))


def graph_svg(data: ReportData) -> tuple[Markup, list[tuple[str, str, str]]]:
    """The SVG, and the edge labels that found no place on it (source, target, label) for the legend."""
    lay, cols = graph_layout(data)
    by_id = {n.id: n for _t, ns in cols for n in ns}
    ns_info = {n["name"]: n for n in data.namespaces}
    boxes = []
    for (title, _nodes), box, tbox in zip(cols, lay.columns, lay.titles, strict=True):
        info = ns_info.get(title)
        deny = bool(info and info["defaultDenyIngress"])
        room = box.w - 20
        boxes.append(
            html(
                '<g class="namespace" data-namespace="{}"><title>{}</title><rect class="ns-box{}" {} rx="8"/>'
                '<text class="ns-title" x="{}" y="{}">{}</text>{}</g>',
                title, title, Markup(" deny" if deny else ""), _rect(box),
                _num(box.x + 10), _num(tbox.y + 20), fit_text(_shown(title), TITLE_SIZE, room, bold=True),
                _sub_svg(box.x + 10, tbox.y + 36, fit_text(_subtitle(info), SUB_SIZE, room)),
            )  # fmt: skip
        )
    node_svg = []
    for nid, r in lay.nodes.items():
        n = by_id[nid]
        cls = node_class(n)
        room = r.w - 16
        title = html("{}{}", n.id, html(" · ports {}", ", ".join(n.ports)) if n.ports else Markup(""))
        node_svg.append(
            html(
                '<g class="node {}" data-id="{}" data-namespace="{}" data-isolated="{}"><title>{}</title>'
                '<rect {} rx="5"/><text class="name" x="{}" y="{}">{}</text>'
                '<text class="badge" x="{}" y="{}" fill="{}">{}</text></g>',
                cls, n.id, n.namespace, str(n.ingress_isolated).lower(), title, _rect(r),
                _num(r.x + 8), _num(r.y + 15), fit_text(_shown(n.name), NAME_SIZE, room),
                _num(r.x + 8), _num(r.y + NODE_H - 8), Markup(_BADGE_FILL[cls]), fit_text(_detail(n), DETAIL_SIZE, room),
            )  # fmt: skip
        )
    ports_of = {(e.source, e.target): ", ".join(e.ports) for e in data.edges}
    edge_svg = []
    unplaced: list[tuple[str, str, str]] = []
    for k, e in enumerate(lay.edges):
        d = "M" + " L".join(f"{x:g},{y:g}" for x, y in e.points)
        all_ports = ports_of.get((e.source, e.target), "")
        label = Markup("")
        if e.label is not None:
            label = _label_svg(e.label, e.label_text)
        elif e.label_text:
            unplaced.append((e.source, e.target, all_ports))
        edge_svg.append(
            html(
                '<g class="flow" data-edge="{}"><path class="edge" d="{}" marker-end="url(#arrow)" data-from="{}" data-to="{}" '
                'data-ports="{}"><title>{} → {}: {}</title></path>{}</g>',
                k,
                d,
                e.source,
                e.target,
                all_ports,
                e.source,
                e.target,
                all_ports,
                label,
            )  # fmt: skip
        )
    svg = html(
        '<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" style="width:100%;max-width:{}px;min-width:{}px;height:auto" '
        'role="img" aria-label="namespaces, workloads and allowed flows">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#3f6fb5"/></marker></defs>'
        '<g class="namespaces">{}</g><g class="edges">{}</g><g class="nodes">{}</g></svg>',
        _num(lay.width), _num(lay.height), _num(lay.width), _num(lay.height), _num(lay.width), _num(lay.width * MIN_SCALE),
        join(boxes), join(edge_svg), join(node_svg),
    )  # fmt: skip
    return svg, unplaced


def _rect(r: Rect) -> Markup:
    return html('x="{}" y="{}" width="{}" height="{}"', _num(r.x), _num(r.y), _num(r.w), _num(r.h))


def _sub_svg(x: float, y: float, text: str) -> Markup:
    return html('<text class="ns-sub" x="{}" y="{}">{}</text>', _num(x), _num(y), text) if text else Markup("")


def _label_svg(r: Rect, text: str) -> Markup:
    from .layout import DESCENT

    return html(
        '<text class="edge-label" x="{}" y="{}" font-size="{}">{}</text>',
        _num(r.x + 2),
        _num(r.bottom - DESCENT),
        LABEL_SIZE,
        text,
    )


def graph_section(data: ReportData) -> Markup:
    nodes = len(data.nodes)
    if not readable(data):
        what = f"{data.workload_count} workloads" + (
            f" ({nodes} boxes with the addresses outside)" if not data.aggregated else ""
        )
        return html(
            '<section id="graph-section"><h2>Network graph</h2><p class="graph-off" id="graph-off">Not drawn: {} and {} '
            "allowed flows into isolated workloads are more than a graph shows readably (at most {} boxes and {} edges). "
            'The <a href="#flows">namespace matrix</a> above has every flow, and '
            "<code>kubectl netsso paths -A -o dot</code> writes the whole graph for Graphviz.</p></section>",
            what, data.flow_count, GRAPH_MAX_NODES, GRAPH_MAX_EDGES,
        )  # fmt: skip
    svg, unplaced = graph_svg(data)
    legend = html(
        '<p class="legend"><span><i style="border:2px solid #1b7a3d;background:#fff"></i>ingress isolated: denied by default, '
        'only the drawn flows get in</span><span><i style="border:2px dashed #c62828;background:#fff"></i>open: no ingress '
        'policy, anything reaches it (not drawn)</span><span><i style="background:#3f6fb5;height:3px"></i>allowed flow '
        "(ports)</span></p>"
    )
    extra = Markup("")
    if unplaced:
        extra = html(
            '<p class="muted">Labels without room on the drawing:</p><ul id="graph-legend">{}</ul>',
            join(html("<li><code>{}</code> → <code>{}</code>: {}</li>", a, b, p) for a, b, p in unplaced),
        )
    return html(
        '<section id="graph-section"><h2>Network graph</h2>{}<div id="graph-wrap">{}</div>{}'
        '<p class="muted">Hover a workload to highlight its flows.</p></section>',
        legend, svg, extra,
    )  # fmt: skip


def column_order(data: ReportData, namespaces: list[str]) -> list[str]:
    """Namespaces left to right along the flows (a source before its destinations); unconnected ones last."""
    ns_of = {n.id: n.namespace for n in data.nodes}
    succ: dict[str, set[str]] = {ns: set() for ns in namespaces}
    connected: set[str] = set()
    for e in data.edges:
        a, b = ns_of.get(e.source, ""), ns_of.get(e.target, "")
        if a:
            connected.add(a)
        if b:
            connected.add(b)
        if a and b and a != b and a in succ and b in succ:
            succ[a].add(b)
    rank = dict.fromkeys(namespaces, 0)
    for _ in range(len(namespaces)):  # longest path, bounded (cycles stop growing after len rounds)
        changed = False
        for a in namespaces:
            for b in succ[a]:
                if rank[b] < rank[a] + 1 and rank[a] + 1 < len(namespaces):
                    rank[b] = rank[a] + 1
                    changed = True
        if not changed:
            break
    return sorted(namespaces, key=lambda ns: (ns not in connected, rank[ns], ns))
