# ruff: noqa: E501  (HTML/CSS/SVG templates read better unwrapped)
"""The HTML report: one self-contained page (inline CSS, JS and SVG; nothing fetched) for compliance reviews.

``build_report`` gathers plain data (graph nodes and edges, the subjects x actions matrix, footholds, findings);
``render_html`` turns it into the page. Pure: the CLI writes the file.

Graph: one column per namespace, one node per workload. A node whose ingress is isolated by a policy (denied by
default) is drawn solid with a shield; a node open to everything (selected by no ingress policy) is drawn dashed
red -- edges to open nodes are not drawn, since anything whose egress allows it reaches them. Edges are the flows
the policies allow into isolated nodes (and to allowed external ranges), labelled with their ports.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import __version__
from ..netpol.evaluate import evaluate_flow
from ..netpol.model import ExternalPeer, Flow
from ..output.text import escape
from .footholds import ALL_ACTIONS, CREATE_ACTIONS, NETPOL_ACTIONS, group_by_subject, subjects_with_actions, workload_groups
from .model import Finding, Reach, severity_rank
from .reach import INTERNET_PROBE, ReachEngine

MAX_NODES = 1500  # workloads whose flows are computed for the graph
DETAIL_LIMIT = 60  # above this many workloads the graph shows namespaces (flows aggregated), not workloads
INTERNET = "internet"

# Matrix columns: (title, actions that count for it, risk when held).
MATRIX_COLUMNS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("exec", frozenset({"exec"}), "medium"),
    ("attach", frozenset({"attach"}), "medium"),
    ("port-forward", frozenset({"port-forward"}), "low"),
    ("pod proxy", frozenset({"pod proxy"}), "low"),
    ("service proxy", frozenset({"service proxy"}), "low"),
    ("create pods", frozenset({"create pods"}), "high"),
    ("create/patch workloads", frozenset(a.name for a in CREATE_ACTIONS if a.name != "create pods"), "high"),
    ("write NetworkPolicies", frozenset(a.name for a in NETPOL_ACTIONS), "critical"),
)


@dataclass(frozen=True, slots=True)
class Node:
    id: str  # workload ref, "ip:CIDR" or "internet"
    namespace: str  # "" for external
    name: str
    kind: str
    ingress_isolated: bool
    egress_isolated: bool
    ports: tuple[str, ...] = ()
    pods: int = 1


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    ports: tuple[str, ...]


@dataclass
class ReportData:
    generated: str
    source: str
    scope: list[str]
    identity: dict[str, Any] | None
    identity_text: str | None
    namespaces: list[dict[str, Any]]
    nodes: list[Node]
    edges: list[Edge]
    matrix_columns: list[str]
    matrix: list[dict[str, Any]]
    reaches: list[Reach]
    findings: list[Finding]
    expectations: list[Any]
    cni_warning: str | None = None
    notes: list[str] = field(default_factory=list)
    aggregated: bool = False
    workload_count: int = 0
    isolated_count: int = 0

    def graph_dict(self) -> dict[str, Any]:
        return {
            "nodes": [{"id": n.id, "namespace": n.namespace, "isolated": n.ingress_isolated} for n in self.nodes],
            "edges": [{"from": e.source, "to": e.target, "ports": list(e.ports)} for e in self.edges],
        }


def build_report(
    engine: ReachEngine,
    *,
    scope: Sequence[str],
    source: str,
    identity: dict[str, Any] | None,
    identity_text: str | None,
    reaches: Sequence[Reach],
    findings: Sequence[Finding],
    expectations: Sequence[Any] = (),
    authorizer: object | None = None,
    cni_warning: str | None = None,
    now: datetime | None = None,
) -> ReportData:
    scope_set = set(scope)
    compiled = engine.compiled
    notes: list[str] = []
    groups = [(ref, pods) for ref, pods in workload_groups(engine.snapshot.workloads) if pods[0].namespace in scope_set]
    if len(groups) > MAX_NODES:
        notes.append(f"graph limited to the first {MAX_NODES} of {len(groups)} workloads")
        groups = groups[:MAX_NODES]
    nodes: list[Node] = []
    edges: list[Edge] = []
    ids = {ref for ref, _ in groups}
    probe = ExternalPeer(INTERNET_PROBE)
    internet_edges: list[Edge] = []
    external: dict[str, Node] = {}
    for ref, pods in groups:
        w = pods[0]
        peer = compiled.peer(w)
        into = evaluate_flow(compiled, Flow(probe, peer, None, "TCP"), explain=False)
        out_of = evaluate_flow(compiled, Flow(peer, probe, None, "TCP"), explain=False)
        ports = tuple(sorted({f"{p.port}/{p.protocol}" for p in w.ports}))
        nodes.append(
            Node(
                ref,
                w.namespace,
                ref.rsplit("/", 1)[-1],
                w.kind if not (w.kind == "Pod" and w.owner) else w.owner.split("/")[0],
                bool(into.ingress.selecting),
                bool(out_of.egress.selecting),
                ports,
                len(pods),
            )
        )
        if into.ingress.selecting and into.allowed is True:
            internet_edges.append(Edge(INTERNET, ref, (f"{into.resolved_port or 'some'}/TCP",)))
    isolated = {n.id for n in nodes if n.ingress_isolated}
    for ref, pods in groups:
        found, _ = engine.reach_from_peer(compiled.peer(pods[0]), exclude=(ref,))
        for d in found:
            if d.ref in isolated and d.ref in ids:
                edges.append(Edge(ref, d.ref, d.ports))
            elif d.ref.startswith("ip:") and d.ref != "ip:0.0.0.0/0":
                external.setdefault(d.ref, Node(d.ref, "", d.ref[3:], "External", False, False))
                edges.append(Edge(ref, d.ref, d.ports))
    if internet_edges:
        external[INTERNET] = Node(INTERNET, "", "internet", "External", False, False)
        edges = internet_edges + edges
    workload_count, isolated_count = len(nodes), sum(1 for n in nodes if n.ingress_isolated)
    aggregated = len(nodes) > DETAIL_LIMIT
    if aggregated:
        nodes, edges = _aggregate(nodes, edges)
        notes.append(
            f"{len(groups)} workloads: the graph shows namespaces; an edge counts the allowed workload-to-workload flows"
        )
    nodes = list(external.values()) + nodes
    namespaces = []
    for ns in scope:
        policies = compiled.policies_in(ns)
        namespaces.append(
            {
                "name": ns,
                "labels": {k: v for k, v in compiled.labels_of(ns).items() if k != "kubernetes.io/metadata.name"},
                "policies": len(policies),
                "defaultDenyIngress": any(_deny_all(p, "ingress") for p in policies),
                "defaultDenyEgress": any(_deny_all(p, "egress") for p in policies),
            }
        )
    matrix: list[dict[str, Any]] = []
    if authorizer is not None:
        rows = subjects_with_actions(authorizer, list(scope), ALL_ACTIONS)
        for subject, srows in sorted(group_by_subject(rows).items(), key=lambda kv: (kv[0].kind, kv[0].name)):
            cells = []
            for _title, actions, risk in MATRIX_COLUMNS:
                nss = sorted({r.namespace for r in srows if r.action in actions})
                grants = sorted({r.grant for r in srows if r.action in actions})
                cells.append(
                    {
                        "namespaces": nss,
                        "all": len(nss) == len(scope) and len(scope) > 1,
                        "risk": risk if nss else "",
                        "grants": grants,
                    }
                )
            matrix.append({"subject": subject.ref, "kind": subject.kind, "cells": cells})
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    return ReportData(
        generated=stamp,
        source=source,
        scope=list(scope),
        identity=identity,
        identity_text=identity_text,
        namespaces=namespaces,
        nodes=nodes,
        edges=edges,
        matrix_columns=[c[0] for c in MATRIX_COLUMNS],
        matrix=matrix,
        reaches=list(reaches),
        findings=list(findings),
        expectations=list(expectations),
        cni_warning=cni_warning,
        notes=notes,
        aggregated=aggregated,
        workload_count=workload_count,
        isolated_count=isolated_count,
    )


def _aggregate(nodes: list[Node], edges: list[Edge]) -> tuple[list[Node], list[Edge]]:
    """Workloads -> one node per namespace; flows between namespaces counted (flows inside one are left out)."""
    ns_of = {n.id: n.namespace for n in nodes}
    by_ns: dict[str, list[Node]] = {}
    for n in nodes:
        by_ns.setdefault(n.namespace, []).append(n)
    out_nodes = [
        Node(ns, ns, ns, "Namespace", all(x.ingress_isolated for x in ws), all(x.egress_isolated for x in ws), (), len(ws))
        for ns, ws in sorted(by_ns.items())
    ]
    counts: dict[tuple[str, str], int] = {}
    for e in edges:
        a = ns_of.get(e.source, e.source)
        b = ns_of.get(e.target, e.target)
        if a != b:
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return out_nodes, [Edge(a, b, (f"{n} flow{'s' if n > 1 else ''}",)) for (a, b), n in sorted(counts.items())]


def _deny_all(p: Any, direction: str) -> bool:
    rules = p.rules(direction)
    return bool(
        p.kind == "NetworkPolicy"
        and rules is not None
        and len(rules) == 0
        and p.subject_pod_selector is not None
        and p.subject_pod_selector.is_empty
    )


# --- rendering ---------------------------------------------------------------------------------------------------


def E(text: str) -> str:
    """HTML-escaped, and what could reorder or hide text (bidi overrides, invisible and control characters) shown
    escaped, as on a terminal (output/text.py): a reviewer must see the name that is there."""
    return html.escape(escape(text, newlines=True))


def _script_json(value: Any) -> str:
    """JSON to embed in a <script> element: no '<' at all, so no "</script>" and no "<!--<script>" (which puts the
    HTML tokenizer in its double-escaped state, where the element's own end tag no longer ends it and the page's
    JavaScript becomes part of the data); '>' and '&' too, and U+2028/U+2029, which end a JavaScript line. The
    escapes are JSON's, so JSON.parse gives back the exact strings."""
    text = json.dumps(value, ensure_ascii=True)  # every non-ASCII character as \u, U+2028/U+2029 included
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


CSS = """
:root{--fg:#1d2330;--muted:#5c6677;--bg:#f6f7f9;--card:#fff;--line:#d9dee7;--crit:#8e0d0d;--high:#c62828;--med:#b26a00;
--low:#4a6a8a;--ok:#1b7a3d;--edge:#3f6fb5;--open:#c62828}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#18263a;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:20px}header .meta{color:#c5d0de;font-size:13px}
main{padding:18px 28px;max-width:1500px}section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600}code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#eef1f5;padding:1px 4px;border-radius:3px}
.sev{font-weight:700;text-transform:uppercase;font-size:11px;padding:2px 6px;border-radius:4px;color:#fff;white-space:nowrap}
.sev.critical{background:var(--crit)}.sev.high{background:var(--high)}.sev.medium{background:var(--med)}.sev.low{background:var(--low)}.sev.info{background:#888}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}.muted{color:var(--muted)}.warn{background:#fff4e5;border:1px solid #f0c27b;padding:8px 12px;border-radius:6px;margin:8px 0}
.cell-critical{background:#f8d4d4}.cell-high{background:#fbe3e3}.cell-medium{background:#fff1d6}.cell-low{background:#eef3f8}
#graph-wrap{overflow:auto;border:1px solid var(--line);border-radius:6px;background:#fbfcfd}
svg .ns-box{fill:#f1f4f8;stroke:#c9d2de}svg .ns-box.deny{fill:#eef7f1;stroke:#7fb592}svg .ns-title{font:600 13px system-ui,sans-serif;fill:#1d2330}
svg .ns-sub{font:11px system-ui,sans-serif;fill:#5c6677}svg .node rect{fill:#fff;stroke:#7a8699;stroke-width:1.2}
svg .node.isolated rect{stroke:var(--ok);stroke-width:2}svg .node.open rect{stroke:var(--open);stroke-dasharray:5 3;stroke-width:1.6}
svg .node.external rect{fill:#f3effa;stroke:#7e57c2}svg .node text{font:12px system-ui,sans-serif;fill:#1d2330}
svg .node .badge{font:10px system-ui,sans-serif}svg .edge{fill:none;stroke:var(--edge);stroke-width:1.4;opacity:.75}
svg.dense .edge{opacity:.3;stroke-width:1}svg.dense .edge.hl{opacity:1;stroke-width:2}svg .edge-label{font:10px system-ui,sans-serif;fill:#2d4f86}svg .dim{opacity:.12}svg .hl{opacity:1;stroke-width:2.6}
.legend span{margin-right:16px}.legend i{display:inline-block;width:22px;height:12px;vertical-align:middle;margin-right:5px;border-radius:3px}
input[type=search]{padding:5px 8px;border:1px solid var(--line);border-radius:5px;width:280px;margin-bottom:8px}
details summary{cursor:pointer;color:var(--muted)}
"""

JS = """
(function(){
  'use strict';
  var svg=document.getElementById('graph');
  if(svg){
    var edges=svg.querySelectorAll('.edge');
    var nodes=svg.querySelectorAll('.node');
    function clear(){for(var i=0;i<edges.length;i++){edges[i].classList.remove('dim','hl');}
      for(var j=0;j<nodes.length;j++){nodes[j].classList.remove('dim');}}
    function focus(id){
      var keep={};keep[id]=true;
      for(var i=0;i<edges.length;i++){var e=edges[i];var on=e.getAttribute('data-from')===id||e.getAttribute('data-to')===id;
        e.classList.toggle('hl',on);e.classList.toggle('dim',!on);
        if(on){keep[e.getAttribute('data-from')]=true;keep[e.getAttribute('data-to')]=true;}}
      for(var j=0;j<nodes.length;j++){nodes[j].classList.toggle('dim',!keep[nodes[j].getAttribute('data-id')]);}
    }
    for(var k=0;k<nodes.length;k++){(function(n){
      n.addEventListener('mouseenter',function(){focus(n.getAttribute('data-id'));});
      n.addEventListener('mouseleave',clear);})(nodes[k]);}
  }
  var box=document.getElementById('finding-filter');
  if(box){box.addEventListener('input',function(){
    var q=box.value.toLowerCase();var rows=document.querySelectorAll('#findings tbody tr');
    for(var i=0;i<rows.length;i++){rows[i].style.display=rows[i].textContent.toLowerCase().indexOf(q)>=0?'':'none';}
  });}
  var data=document.getElementById('netsso-data');
  if(data){window.netssoReport=JSON.parse(data.textContent);}
})();
"""


def _sev(s: str) -> str:
    return f'<span class="sev {E(s)}">{E(s)}</span>'


def render_html(data: ReportData) -> str:
    parts: list[str] = []
    title = "kubectl netsso report"
    parts.append('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">')
    parts.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    parts.append('<link rel="icon" href="data:,">')
    parts.append(f"<title>{E(title)}</title><style>{CSS}</style></head><body>")
    parts.append(
        f'<header><h1>{E(title)}: identity × network</h1><div class="meta">'
        f"generated {E(data.generated)} by kubectl-netsso {E(__version__)} from <b>{E(data.source)}</b> · "
        f"{len(data.scope)} namespace(s): {E(', '.join(data.scope[:12]))}{' …' if len(data.scope) > 12 else ''}"
        "</div></header><main>"
    )
    parts.append(_summary(data))
    parts.append(_identity_section(data))
    parts.append(_matrix_section(data))
    parts.append(_graph_section(data))
    parts.append(_findings_section(data))
    payload = _script_json(
        {
            "generated": data.generated,
            "source": data.source,
            "scope": data.scope,
            "identity": data.identity,
            "graph": data.graph_dict(),
            "findings": [f.to_dict() for f in data.findings],
        }
    )
    parts.append(f'<script type="application/json" id="netsso-data">{payload}</script>')
    parts.append(f"<script>{JS}</script></main></body></html>")
    return "".join(parts)


def _summary(data: ReportData) -> str:
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
    html_cards = "".join(f'<div class="card"><b>{E(v)}</b><span class="muted">{E(k)}</span></div>' for k, v in cards)
    warn = f'<div class="warn">warning: {E(data.cni_warning)}</div>' if data.cni_warning else ""
    notes = "".join(f'<div class="warn">{E(n)}</div>' for n in data.notes)
    return f'<section id="summary"><h2>Summary</h2><div class="cards">{html_cards}</div>{warn}{notes}</section>'


def _identity_section(data: ReportData) -> str:
    if data.identity_text is None:
        return (
            '<section id="identity"><h2>Identity</h2><p class="muted">No identity given (log in, or pass --as / '
            "--as-group): footholds are not shown; the permissions matrix covers every RBAC subject.</p></section>"
        )
    ident = data.identity or {}
    groups = ", ".join(ident.get("groups") or []) or "(none)"
    rows = []
    for r in data.reaches:
        fh = r.foothold
        reach = "any" if r.any_destination else str(len(r.destinations))
        dests = ", ".join(r.top(6))
        rows.append(
            f"<tr><td><code>{E(fh.display)}</code></td><td>{E(fh.actions_text())}</td>"
            f"<td>{E('; '.join(fh.obtained))}</td><td>{E(reach)}</td><td>{E(dests)}</td><td>{_sev(r.risk)}</td>"
            f"<td>{E(r.risk_reason)}</td></tr>"
        )
    head = (
        "<thead><tr><th>Foothold</th><th>Access</th><th>Obtained via</th><th>Reaches</th>"
        "<th>Top destinations</th><th>Risk</th><th>Why</th></tr></thead>"
    )
    shown = 25  # the riskiest first; the rest folded
    table_html = (
        f'<table id="footholds">{head}<tbody>' + "".join(rows[:shown]) + "</tbody></table>"
        if rows
        else "<p>No footholds: this identity can neither exec into, create nor re-police anything in scope.</p>"
    )
    if len(rows) > shown:
        table_html += (
            f"<details><summary>{len(rows) - shown} more footholds</summary><table>{head}<tbody>"
            + "".join(rows[shown:])
            + "</tbody></table></details>"
        )
    return (
        f'<section id="identity"><h2>Identity and footholds</h2><p><b>{E(data.identity_text)}</b> '
        f'<span class="muted">(from {E(str(ident.get("from") or ""))}; groups: {E(groups)})</span></p>{table_html}</section>'
    )


def _matrix_section(data: ReportData) -> str:
    if not data.matrix:
        return '<section id="matrix"><h2>Permissions matrix</h2><p class="muted">No RBAC objects in the source.</p></section>'
    head = "".join(f"<th>{E(c)}</th>" for c in data.matrix_columns)
    rows = []
    for row in data.matrix:
        cells = []
        for c in row["cells"]:
            if not c["namespaces"]:
                cells.append('<td class="muted">–</td>')
                continue
            text = "all namespaces" if c["all"] else ", ".join(c["namespaces"])
            cells.append(f'<td class="cell-{E(c["risk"])}" title="{E("; ".join(c["grants"]))}">{E(text)}</td>')
        rows.append(f"<tr><td><code>{E(row['subject'])}</code></td>{''.join(cells)}</tr>")
    return (
        '<section id="matrix"><h2>Permissions matrix</h2><p class="muted">Which RBAC subject may do what, where '
        "(hover a cell for the granting binding). Shaded cells are footholds into the network.</p>"
        f'<table id="perm-matrix"><thead><tr><th>Subject</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _circle_svg(data: ReportData) -> str:
    """Namespaces (and external ranges) on a circle, flows between them as curves through the middle."""
    import math

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
        cls = "external" if not node.namespace else ("isolated" if node.ingress_isolated else "open")
        label = node.name if len(node.name) <= 20 else node.name[:19] + "…"
        sub = "" if not node.namespace else f"{node.pods} workloads"
        node_svg.append(
            f'<g class="node {cls}" data-id="{E(node.id)}" data-namespace="{E(node.namespace)}" data-isolated="{str(node.ingress_isolated).lower()}">'
            f"<title>{E(node.id)}</title>"
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w}" height="{h}" rx="5"/>'
            f'<text x="{x - w / 2 + 8:.1f}" y="{y + 4:.1f}">{E(label)}</text>'
            f'<text class="badge" x="{x + w / 2 - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="#5c6677">{E(sub)}</text></g>'
        )
    edge_svg = []
    for e in data.edges:
        if e.source not in pos or e.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        mx, my = (x1 + x2) / 2 * 0.6 + cx * 0.4, (y1 + y2) / 2 * 0.6 + cy * 0.4
        edge_svg.append(
            f'<g class="flow"><path class="edge" d="M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}" marker-end="url(#arrow)" '
            f'data-from="{E(e.source)}" data-to="{E(e.target)}" data-ports="{E(", ".join(e.ports))}">'
            f"<title>{E(e.source)} → {E(e.target)}: {E(', '.join(e.ports))}</title></path></g>"
        )
    return (
        f'<svg id="graph" class="dense" xmlns="http://www.w3.org/2000/svg" style="width:100%;height:auto;max-width:{size:.0f}px" '
        f'viewBox="0 0 {size:.0f} {size:.0f}" role="img" aria-label="namespaces and allowed flows between them">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#3f6fb5"/></marker></defs>'
        f'<g class="edges">{"".join(edge_svg)}</g><g class="nodes">{"".join(node_svg)}</g></svg>'
    )


def _graph_section(data: ReportData) -> str:
    if data.aggregated:
        return (
            '<section id="graph-section"><h2>Network graph (by namespace)</h2><p class="legend"><span><i style="border:2px '
            'solid #1b7a3d;background:#fff"></i>every workload ingress isolated</span><span><i style="border:2px dashed '
            '#c62828;background:#fff"></i>some workload open to all</span><span><i style="background:#3f6fb5;height:3px">'
            f'</i>allowed flows (count)</span></p><div id="graph-wrap">{_circle_svg(data)}</div>'
            '<p class="muted">Hover a namespace to highlight its flows.</p></section>'
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
    pos: dict[str, tuple[float, float]] = {}
    boxes: list[str] = []
    node_svg: list[str] = []
    height = top
    for ci, (title, nodes) in enumerate(columns):
        x = pad + ci * (col_w + 50)
        info = ns_info.get(title)
        deny = bool(info and info["defaultDenyIngress"])
        h = top + len(nodes) * (node_h + gap) + pad
        height = max(height, h)
        sub = ""
        if info is not None:
            sub = ("default-deny in" if info["defaultDenyIngress"] else "no default-deny in") + (
                " + out" if info["defaultDenyEgress"] else ""
            )
        boxes.append(
            f'<g class="namespace" data-namespace="{E(title)}"><rect class="ns-box{" deny" if deny else ""}" x="{x}" y="8" '
            f'width="{col_w}" height="{{H}}" rx="8"/><text class="ns-title" x="{x + 10}" y="28">{E(title)}</text>'
            f'<text class="ns-sub" x="{x + 10}" y="44">{E(sub)}</text></g>'
        )
        for ni, n in enumerate(nodes):
            y = top + ni * (node_h + gap)
            pos[n.id] = (x, y)
            cls = "external" if not n.namespace else ("isolated" if n.ingress_isolated else "open")
            badge = "" if not n.namespace else ("deny by default" if n.ingress_isolated else "open to all")
            label = n.name if len(n.name) <= 22 else n.name[:21] + "…"
            kind = "" if not n.namespace else f"{n.kind.lower()}{f' ×{n.pods}' if n.pods > 1 else ''}"
            node_svg.append(
                f'<g class="node {cls}" data-id="{E(n.id)}" data-namespace="{E(n.namespace)}" data-isolated="{str(n.ingress_isolated).lower()}">'
                f"<title>{E(n.id)}{' · ports ' + E(', '.join(n.ports)) if n.ports else ''}</title>"
                f'<rect x="{x + 10}" y="{y}" width="{col_w - 20}" height="{node_h}" rx="5"/>'
                f'<text x="{x + 18}" y="{y + 19}">{E(label)}</text>'
                f'<text class="badge" x="{x + col_w - 16}" y="{y + 13}" text-anchor="end" fill="{"#1b7a3d" if cls == "isolated" else "#c62828" if cls == "open" else "#7e57c2"}">{E(badge)}</text>'
                f'<text class="badge" x="{x + col_w - 16}" y="{y + 25}" text-anchor="end" fill="#5c6677">{E(kind)}</text></g>'
            )
    width = pad * 2 + max(1, len(columns)) * (col_w + 50) - 50
    edge_svg: list[str] = []
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
            f'<g class="flow"><path class="edge" d="{d}" marker-end="url(#arrow)" data-from="{E(e.source)}" data-to="{E(e.target)}" '
            f'data-ports="{E(", ".join(e.ports))}"><title>{E(e.source)} → {E(e.target)}: {E(", ".join(e.ports))}</title></path>'
            f'<text class="edge-label" x="{mx}" y="{my}" text-anchor="middle">{E(ports)}</text></g>'
        )
    total_h = height + 10
    boxes_html = "".join(b.replace("{H}", str(total_h - 16)) for b in boxes)
    # Up to 8 columns fit the page (scaled); wider graphs keep their size and scroll.
    size = 'style="width:100%;height:auto"' if len(columns) <= 8 else f'width="{width}" height="{total_h}"'
    svg = (
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {width} {total_h}" '
        'role="img" aria-label="namespaces, workloads and allowed flows">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#3f6fb5"/></marker></defs>'
        f'{boxes_html}<g class="edges">{"".join(edge_svg)}</g><g class="nodes">{"".join(node_svg)}</g></svg>'
    )
    legend = (
        '<p class="legend"><span><i style="border:2px solid #1b7a3d;background:#fff"></i>ingress isolated: denied by default, '
        'only the drawn flows get in</span><span><i style="border:2px dashed #c62828;background:#fff"></i>open: no ingress '
        'policy, anything reaches it (not drawn)</span><span><i style="background:#3f6fb5;height:3px"></i>allowed flow '
        "(ports)</span></p>"
    )
    return (
        f'<section id="graph-section"><h2>Network graph</h2>{legend}<div id="graph-wrap">{svg}</div>'
        '<p class="muted">Hover a workload to highlight its flows.</p></section>'
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


def _findings_section(data: ReportData) -> str:
    rows = []
    for f in sorted(data.findings, key=lambda f: -severity_rank(f.severity)):
        expl = f.details.get("explanation") if isinstance(f.details, Mapping) else None
        extra = ""
        if expl:
            extra = "<details><summary>explanation</summary><pre>" + E("\n".join(map(str, expl))) + "</pre></details>"
        rows.append(
            f'<tr data-severity="{E(f.severity)}"><td>{_sev(f.severity)}</td><td><code>{E(f.check)}</code></td>'
            f'<td>{E(f.object)}</td><td>{E(f.reason)}{extra}</td><td class="muted">{E(f.hint)}</td></tr>'
        )
    body = (
        '<input type="search" id="finding-filter" placeholder="filter findings…" aria-label="filter findings">'
        '<table id="findings"><thead><tr><th>Severity</th><th>Check</th><th>Object</th><th>Reason</th><th>Fix hint</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No findings.</p>"
    )
    exp = ""
    if data.expectations:
        erows = "".join(
            f"<tr><td>{E(r.status)}</td><td>{E(r.expectation.name or '')}</td><td>{E(r.expectation.describe())}</td><td>{E(r.summary)}</td></tr>"
            for r in data.expectations
        )
        exp = (
            '<h2 style="margin-top:16px">Expectations</h2><table id="expectations"><thead><tr><th>Status</th><th>Name</th>'
            f"<th>Assertion</th><th>Result</th></tr></thead><tbody>{erows}</tbody></table>"
        )
    return f'<section id="audit"><h2>Audit findings</h2>{body}{exp}</section>'
