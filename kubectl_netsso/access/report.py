"""The HTML report's data: ``build_report`` gathers plain data (graph nodes and edges, the subjects x actions
matrix, footholds, findings) for compliance reviews; output/report/ turns it into the page. Pure: the CLI writes
the file.

The namespace x namespace matrix of allowed flows is access/nsmatrix.py's. Graph nodes are workloads (or, above
DETAIL_LIMIT, namespaces); a node records whether a policy isolates its ingress. Edges are the flows the policies
allow into isolated nodes (and to allowed external ranges) with their ports: edges to open nodes are left out, since
anything whose egress allows it reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..netpol.evaluate import evaluate_flow
from ..netpol.model import ExternalPeer, Flow
from .footholds import ALL_ACTIONS, CREATE_ACTIONS, NETPOL_ACTIONS, group_by_subject, subjects_with_actions, workload_groups
from .model import Finding, Reach
from .nsmatrix import NamespaceMatrix, namespace_matrix
from .reach import INTERNET_PROBE, ReachEngine

MAX_NODES = 1500  # workloads whose flows are computed for the graph
DETAIL_LIMIT = 60  # above this many workloads the graph data (the page's embedded JSON) has namespaces, not workloads
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
    flow_count: int = 0  # the edges before aggregation: flows into isolated workloads and to allowed ranges
    ns_matrix: NamespaceMatrix | None = None

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
    flow_count = len(edges)
    ns_matrix = namespace_matrix(compiled, engine.snapshot.workloads, workload_groups(engine.snapshot.workloads), scope)
    aggregated = len(nodes) > DETAIL_LIMIT
    if aggregated:
        nodes, edges = _aggregate(nodes, edges)
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
        flow_count=flow_count,
        ns_matrix=ns_matrix,
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
