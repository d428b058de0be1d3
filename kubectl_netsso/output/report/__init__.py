# ruff: noqa: E501  (HTML/SVG templates read better unwrapped)
"""The HTML report page: one self-contained page (inline CSS, JS and SVG; nothing fetched) from access/report.py's
ReportData. Every piece is built with html.py's escaping builder; the CSS and JS are package files beside this one.

Graph: one column per namespace, one node per workload. A node whose ingress is isolated by a policy (denied by
default) is drawn solid with a shield; a node open to everything (selected by no ingress policy) is drawn dashed
red -- edges to open nodes are not drawn, since anything whose egress allows it reaches them. Edges are the flows
the policies allow into isolated nodes (and to allowed external ranges), labelled with their ports. Above
DETAIL_LIMIT workloads, namespaces on a circle instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from ... import __version__
from ...access.model import severity_rank
from .html import Markup, html, join, script_json

if TYPE_CHECKING:
    from ...access.report import Node, ReportData

__all__ = ["render_html"]


@cache
def _asset(name: str) -> str:
    """report.css / report.js, read once from the package (a zip or a folder alike)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _sev(s: str) -> Markup:
    return html('<span class="sev {}">{}</span>', s, s)


def render_html(data: ReportData) -> str:
    title = "kubectl netsso report"
    head = html(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        "<title>{}</title><style>\n{}</style></head><body>",
        title,
        Markup(_asset("report.css")),  # a package file: trusted
    )
    header = html(
        '<header><h1>{}: identity × network</h1><div class="meta">'
        "generated {} by kubectl-netsso {} from <b>{}</b> · "
        "{} namespace(s): {}{}"
        "</div></header><main>",
        title,
        data.generated,
        __version__,
        data.source,
        len(data.scope),
        ", ".join(data.scope[:12]),
        " …" if len(data.scope) > 12 else "",
    )
    payload = script_json(
        {
            "generated": data.generated,
            "source": data.source,
            "scope": data.scope,
            "identity": data.identity,
            "graph": data.graph_dict(),
            "findings": [f.to_dict() for f in data.findings],
        }
    )
    tail = html(
        '<script type="application/json" id="netsso-data">{}</script><script>\n{}</script></main></body></html>',
        payload,
        Markup(_asset("report.js")),  # a package file: trusted
    )
    page = [head, header, _summary(data), _identity_section(data), _matrix_section(data), _graph_section(data)]
    return str(join([*page, _findings_section(data), tail]))


def _summary(data: ReportData) -> Markup:
    counts: dict[str, int] = {}
    for f in data.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    workloads, isolated = data.workload_count, data.isolated_count
    cards = [
        ("namespaces", str(len(data.scope))),
        ("workloads", str(workloads)),
        ("ingress-isolated", f"{isolated}/{workloads}"),
        ("allowed flows drawn" if not data.aggregated else "namespace-to-namespace edges", str(len(data.edges))),
        ("findings", str(len(data.findings))),
    ]
    for sev in ("critical", "high"):
        if counts.get(sev):
            cards.append((sev, str(counts[sev])))
    html_cards = join(html('<div class="card"><b>{}</b><span class="muted">{}</span></div>', v, k) for k, v in cards)
    warn = html('<div class="warn">warning: {}</div>', data.cni_warning) if data.cni_warning else Markup("")
    notes = join(html('<div class="warn">{}</div>', n) for n in data.notes)
    return html('<section id="summary"><h2>Summary</h2><div class="cards">{}</div>{}{}</section>', html_cards, warn, notes)


def _identity_section(data: ReportData) -> Markup:
    if data.identity_text is None:
        return html(
            '<section id="identity"><h2>Identity</h2><p class="muted">No identity given (log in, or pass --as / '
            "--as-group): footholds are not shown; the permissions matrix covers every RBAC subject.</p></section>"
        )
    ident = data.identity or {}
    groups = ", ".join(ident.get("groups") or []) or "(none)"
    rows = []
    for r in data.reaches:
        fh = r.foothold
        reach = "any" if r.any_destination else str(len(r.destinations))
        rows.append(
            html(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                fh.display,
                fh.actions_text(),
                "; ".join(fh.obtained),
                reach,
                ", ".join(r.top(6)),
                _sev(r.risk),
                r.risk_reason,
            )
        )
    head = html(
        "<thead><tr><th>Foothold</th><th>Access</th><th>Obtained via</th><th>Reaches</th>"
        "<th>Top destinations</th><th>Risk</th><th>Why</th></tr></thead>"
    )
    shown = 25  # the riskiest first; the rest folded
    if rows:
        table_html = html('<table id="footholds">{}<tbody>{}</tbody></table>', head, join(rows[:shown]))
    else:
        table_html = html("<p>No footholds: this identity can neither exec into, create nor re-police anything in scope.</p>")
    if len(rows) > shown:
        table_html += html(
            "<details><summary>{} more footholds</summary><table>{}<tbody>{}</tbody></table></details>",
            len(rows) - shown,
            head,
            join(rows[shown:]),
        )
    return html(
        '<section id="identity"><h2>Identity and footholds</h2><p><b>{}</b> '
        '<span class="muted">(from {}; groups: {})</span></p>{}</section>',
        data.identity_text,
        str(ident.get("from") or ""),
        groups,
        table_html,
    )


def _matrix_section(data: ReportData) -> Markup:
    if not data.matrix:
        return html('<section id="matrix"><h2>Permissions matrix</h2><p class="muted">No RBAC objects in the source.</p></section>')
    head = join(html("<th>{}</th>", c) for c in data.matrix_columns)
    rows = []
    for row in data.matrix:
        cells = []
        for c in row["cells"]:
            if not c["namespaces"]:
                cells.append(html('<td class="muted">–</td>'))
                continue
            text = "all namespaces" if c["all"] else ", ".join(c["namespaces"])
            cells.append(html('<td class="cell-{}" title="{}">{}</td>', c["risk"], "; ".join(c["grants"]), text))
        rows.append(html("<tr><td><code>{}</code></td>{}</tr>", row["subject"], join(cells)))
    return html(
        '<section id="matrix"><h2>Permissions matrix</h2><p class="muted">Which RBAC subject may do what, where '
        "(hover a cell for the granting binding). Shaded cells are footholds into the network.</p>"
        '<table id="perm-matrix"><thead><tr><th>Subject</th>{}</tr></thead><tbody>{}</tbody></table></section>',
        head,
        join(rows),
    )


_BADGE_FILL = {"isolated": "#1b7a3d", "open": "#c62828", "external": "#7e57c2"}


def _node_svg(node: Node, cls: str, rect: tuple[float, float, float, float], label: str, title: Markup, badges: list[Markup]) -> Markup:
    """One node of either graph: a group carrying the node's id (the page's script highlights by it), its box,
    name and badges."""
    x, y, w, h = rect
    return html(
        '<g class="node {}" data-id="{}" data-namespace="{}" data-isolated="{}">'
        "<title>{}</title>"
        '<rect x="{}" y="{}" width="{}" height="{}" rx="5"/>'
        "{}{}</g>",
        cls,
        node.id,
        node.namespace,
        str(node.ingress_isolated).lower(),
        title,
        Markup(_num(x)),
        Markup(_num(y)),
        w,
        h,
        label,
        join(badges),
    )


def _num(v: float) -> str:
    """A coordinate as the graphs write it: one decimal for computed (float) positions, integers as they are."""
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def _node_class(node: Node) -> str:
    return "external" if not node.namespace else ("isolated" if node.ingress_isolated else "open")


def _circle_svg(data: ReportData) -> Markup:
    """Namespaces (and external ranges) on a circle, flows between them as curves through the middle."""
    n = max(1, len(data.nodes))
    radius = max(220.0, n * 22.0)
    w, h = 160, 28
    size = radius * 2 + w + 60
    cx = cy = size / 2
    pos: dict[str, tuple[float, float]] = {}
    node_svg = []
    for i, node in enumerate(data.nodes):
        angle = 2 * math.pi * i / n - math.pi / 2
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        pos[node.id] = (x, y)
        label = node.name if len(node.name) <= 20 else node.name[:19] + "…"
        sub = "" if not node.namespace else f"{node.pods} workloads"
        text = html('<text x="{:.1f}" y="{:.1f}">{}</text>', x - w / 2 + 8, y + 4, label)
        badge = html('<text class="badge" x="{:.1f}" y="{:.1f}" text-anchor="end" fill="#5c6677">{}</text>', x + w / 2 - 6, y + 4, sub)
        node_svg.append(_node_svg(node, _node_class(node), (x - w / 2, y - h / 2, w, h), text, html("{}", node.id), [badge]))
    edge_svg = []
    for e in data.edges:
        if e.source not in pos or e.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        mx, my = (x1 + x2) / 2 * 0.6 + cx * 0.4, (y1 + y2) / 2 * 0.6 + cy * 0.4
        edge_svg.append(
            html(
                '<g class="flow"><path class="edge" d="M{:.1f},{:.1f} Q{:.1f},{:.1f} {:.1f},{:.1f}" marker-end="url(#arrow)" '
                'data-from="{}" data-to="{}" data-ports="{}">'
                "<title>{} → {}: {}</title></path></g>",
                x1, y1, mx, my, x2, y2,
                e.source, e.target, ", ".join(e.ports),
                e.source, e.target, ", ".join(e.ports),
            )  # fmt: skip
        )
    return html(
        '<svg id="graph" class="dense" xmlns="http://www.w3.org/2000/svg" style="width:100%;height:auto;max-width:{:.0f}px" '
        'viewBox="0 0 {:.0f} {:.0f}" role="img" aria-label="namespaces and allowed flows between them">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#3f6fb5"/></marker></defs>'
        '<g class="edges">{}</g><g class="nodes">{}</g></svg>',
        size,
        size,
        size,
        join(edge_svg),
        join(node_svg),
    )


def _graph_section(data: ReportData) -> Markup:
    if data.aggregated:
        return html(
            '<section id="graph-section"><h2>Network graph (by namespace)</h2><p class="legend"><span><i style="border:2px '
            'solid #1b7a3d;background:#fff"></i>every workload ingress isolated</span><span><i style="border:2px dashed '
            '#c62828;background:#fff"></i>some workload open to all</span><span><i style="background:#3f6fb5;height:3px">'
            '</i>allowed flows (count)</span></p><div id="graph-wrap">{}</div>'
            '<p class="muted">Hover a namespace to highlight its flows.</p></section>',
            _circle_svg(data),
        )
    col_w, node_h, gap, top, pad = 210, 30, 10, 58, 14
    columns: list[tuple[str, list[Node]]] = []
    ext = [n for n in data.nodes if not n.namespace]
    if ext:
        columns.append(("outside the cluster", ext))
    by_ns: dict[str, list[Node]] = {}
    for n in data.nodes:
        if n.namespace:
            by_ns.setdefault(n.namespace, []).append(n)
    ns_info = {n["name"]: n for n in data.namespaces}
    for ns in _column_order(data, [ns for ns in data.scope if ns in by_ns]):
        columns.append((ns, by_ns[ns]))
    # every namespace box is as tall as the tallest column
    total_h = max([top, *(top + len(nodes) * (node_h + gap) + pad for _t, nodes in columns)]) + 10
    pos: dict[str, tuple[float, float]] = {}
    boxes: list[Markup] = []
    node_svg: list[Markup] = []
    for ci, (title, nodes) in enumerate(columns):
        x = pad + ci * (col_w + 50)
        info = ns_info.get(title)
        deny = bool(info and info["defaultDenyIngress"])
        sub = ""
        if info is not None:
            sub = ("default-deny in" if info["defaultDenyIngress"] else "no default-deny in") + (
                " + out" if info["defaultDenyEgress"] else ""
            )
        boxes.append(
            html(
                '<g class="namespace" data-namespace="{}"><rect class="ns-box{}" x="{}" y="8" '
                'width="{}" height="{}" rx="8"/><text class="ns-title" x="{}" y="28">{}</text>'
                '<text class="ns-sub" x="{}" y="44">{}</text></g>',
                title, Markup(" deny" if deny else ""), x,
                col_w, total_h - 16, x + 10, title,
                x + 10, sub,
            )  # fmt: skip
        )
        for ni, n in enumerate(nodes):
            y = top + ni * (node_h + gap)
            pos[n.id] = (x, y)
            cls = _node_class(n)
            badge = "" if not n.namespace else ("deny by default" if n.ingress_isolated else "open to all")
            label = n.name if len(n.name) <= 22 else n.name[:21] + "…"
            kind = "" if not n.namespace else f"{n.kind.lower()}{f' ×{n.pods}' if n.pods > 1 else ''}"
            node_title = html("{}{}", n.id, html(" · ports {}", ", ".join(n.ports)) if n.ports else Markup(""))
            badges = [
                html('<text class="badge" x="{}" y="{}" text-anchor="end" fill="{}">{}</text>', x + col_w - 16, y + 13, Markup(_BADGE_FILL[cls]), badge),
                html('<text class="badge" x="{}" y="{}" text-anchor="end" fill="#5c6677">{}</text>', x + col_w - 16, y + 25, kind),
            ]
            text = html('<text x="{}" y="{}">{}</text>', x + 18, y + 19, label)
            node_svg.append(_node_svg(n, cls, (x + 10, y, col_w - 20, node_h), text, node_title, badges))
    width = pad * 2 + max(1, len(columns)) * (col_w + 50) - 50
    edge_svg: list[Markup] = []
    for e in data.edges:
        if e.source not in pos or e.target not in pos:
            continue
        sx, sy = pos[e.source]
        tx, ty = pos[e.target]
        y1, y2 = sy + node_h / 2, ty + node_h / 2
        if tx > sx:
            x1, x2 = sx + col_w - 10, tx + 10
            d = f"M{x1},{y1} C{x1 + 40},{y1} {x2 - 40},{y2} {x2},{y2}"
        elif tx < sx:
            x1, x2 = sx + 10, tx + col_w - 10
            d = f"M{x1},{y1} C{x1 - 40},{y1} {x2 + 40},{y2} {x2},{y2}"
        else:
            x1 = x2 = sx + col_w - 10
            d = f"M{x1},{y1} C{x1 + 45},{y1} {x2 + 45},{y2} {x2},{y2}"
        ports = ", ".join(e.ports[:3]) + (" …" if len(e.ports) > 3 else "")
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4
        edge_svg.append(
            html(
                '<g class="flow"><path class="edge" d="{}" marker-end="url(#arrow)" data-from="{}" data-to="{}" '
                'data-ports="{}"><title>{} → {}: {}</title></path>'
                '<text class="edge-label" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                d, e.source, e.target,
                ", ".join(e.ports), e.source, e.target, ", ".join(e.ports),
                mx, my, ports,
            )  # fmt: skip
        )
    # Up to 8 columns fit the page (scaled); wider graphs keep their size and scroll.
    size = html('style="width:100%;height:auto"') if len(columns) <= 8 else html('width="{}" height="{}"', width, total_h)
    svg = html(
        '<svg id="graph" xmlns="http://www.w3.org/2000/svg" {} viewBox="0 0 {} {}" '
        'role="img" aria-label="namespaces, workloads and allowed flows">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#3f6fb5"/></marker></defs>'
        '{}<g class="edges">{}</g><g class="nodes">{}</g></svg>',
        size,
        width,
        total_h,
        join(boxes),
        join(edge_svg),
        join(node_svg),
    )
    legend = html(
        '<p class="legend"><span><i style="border:2px solid #1b7a3d;background:#fff"></i>ingress isolated: denied by default, '
        'only the drawn flows get in</span><span><i style="border:2px dashed #c62828;background:#fff"></i>open: no ingress '
        'policy, anything reaches it (not drawn)</span><span><i style="background:#3f6fb5;height:3px"></i>allowed flow '
        "(ports)</span></p>"
    )
    return html(
        '<section id="graph-section"><h2>Network graph</h2>{}<div id="graph-wrap">{}</div>'
        '<p class="muted">Hover a workload to highlight its flows.</p></section>',
        legend,
        svg,
    )


def _column_order(data: ReportData, namespaces: list[str]) -> list[str]:
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


def _findings_section(data: ReportData) -> Markup:
    rows = []
    for f in sorted(data.findings, key=lambda f: -severity_rank(f.severity)):
        expl = f.details.get("explanation") if isinstance(f.details, Mapping) else None
        extra = html("<details><summary>explanation</summary><pre>{}</pre></details>", "\n".join(map(str, expl))) if expl else Markup("")
        rows.append(
            html(
                '<tr data-severity="{}"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}{}</td><td class="muted">{}</td></tr>',
                f.severity, _sev(f.severity), f.check, f.object, f.reason, extra, f.hint,
            )  # fmt: skip
        )
    if rows:
        body = html(
            '<input type="search" id="finding-filter" placeholder="filter findings…" aria-label="filter findings">'
            '<table id="findings"><thead><tr><th>Severity</th><th>Check</th><th>Object</th><th>Reason</th><th>Fix hint</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            join(rows),
        )
    else:
        body = html("<p>No findings.</p>")
    exp = Markup("")
    if data.expectations:
        erows = join(
            html("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", r.status, r.expectation.name or "", r.expectation.describe(), r.summary)
            for r in data.expectations
        )
        exp = html(
            '<h2 style="margin-top:16px">Expectations</h2><table id="expectations"><thead><tr><th>Status</th><th>Name</th>'
            "<th>Assertion</th><th>Result</th></tr></thead><tbody>{}</tbody></table>",
            erows,
        )
    return html('<section id="audit"><h2>Audit findings</h2>{}{}</section>', body, exp)
