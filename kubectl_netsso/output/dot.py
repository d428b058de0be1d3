"""`-o dot`: the allowed flows as a Graphviz digraph, for people who draw their own pictures
(``kubectl netsso paths -A -o dot | dot -Tsvg > flows.svg``).

Nodes are workloads (pods of one Deployment/StatefulSet/... together; grouped in a box per namespace) or, with
``--dot-nodes namespace``, namespaces; address ranges outside the cluster are ellipses. An edge is drawn where some
pair is allowed on a port, labelled with those ports; an edge whose flows are only UNKNOWN (they depend on what
could not be read) is dashed. Denied flows are not drawn, nor a pod's flow to itself.

Every ID and label is a quoted DOT string: ``"`` and ``\\`` are backslash-escaped (a name cannot end the string or
start an escape of Graphviz's label language), after what could drive a terminal is escaped as on a terminal.
"""

from __future__ import annotations

from typing import TextIO

from .results import PathsView, group, iter_rows
from .text import TerminalWriter, escape

__all__ = ["NODES", "dot_id", "dot_node", "render_paths"]

NODES = ("workload", "namespace")


def dot_id(text: str) -> str:
    """text as a quoted DOT ID (also a label: Graphviz turns the doubled backslashes back into one)."""
    return '"' + escape(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_node(name: str, attrs: str = "") -> str:
    """A node statement with its label spelled out: Graphviz takes an ID starting with % for one of its own
    anonymous names and would show that instead of the name."""
    return f"{dot_id(name)} [label={dot_id(name)}{', ' + attrs if attrs else ''}]"


def _port_text(port: int | str | None, protocol: str) -> str:
    return f"{'any' if port is None else port}/{protocol}"


def render_paths(run: PathsView, out: TextIO, fmt: str = "dot", *, nodes: str = "workload", **_options: str) -> None:
    by_namespace = nodes == "namespace"

    def node_of(namespace: str, name: str) -> str:
        return namespace if by_namespace else name

    # (from node, to node) -> port text -> True (some pair allowed) / None (only unknown ones)
    edges: dict[tuple[str, str], dict[str, bool | None]] = {}
    members: dict[str, str] = {}  # in-cluster node -> its namespace
    external: set[str] = set()

    def add(a: str, b: str, port: str, allowed: bool | None) -> None:
        if allowed is False:
            return
        ports = edges.setdefault((a, b), {})
        if ports.get(port) is not True:
            ports[port] = allowed

    for w in (*run.sources, *run.destinations):
        members.setdefault(node_of(w.namespace, group(w)), w.namespace)
    for s_i, j, key, block in iter_rows(run):
        s, d = run.sources[s_i], block.destinations[j]
        if s is d:
            continue  # a pod may always reach itself: not a flow anyone draws
        port = _port_text(key.port, key.protocol)
        add(node_of(s.namespace, group(s)), node_of(d.namespace, group(d)), port, block.allowed(s_i, j))
    for direction, w, flow in run.external:
        if flow.allowed is False:
            continue  # an address range appears only where something may reach it or come from it
        here = node_of(w.namespace, group(w))
        external.add(flow.ref)
        a, b = (here, flow.ref) if direction == "egress" else (flow.ref, here)
        add(a, b, _port_text(flow.port, flow.protocol), flow.allowed)
    lines = [
        "digraph paths {",
        "  // kubectl netsso paths: allowed flows (dashed: unknown); denied flows are not drawn",
        "  rankdir=LR;",
        "  node [shape=box];",
    ]
    if by_namespace:
        lines += [f"  {dot_node(n)};" for n in sorted(members)]
    else:
        by_ns: dict[str, list[str]] = {}
        for n, ns in members.items():
            by_ns.setdefault(ns, []).append(n)
        for ns in sorted(by_ns):
            lines.append(f"  subgraph {dot_id('cluster_' + ns)} {{")
            lines.append(f"    label={dot_id(ns)};")
            lines += [f"    {dot_node(n)};" for n in sorted(by_ns[ns])]
            lines.append("  }")
    lines += [f"  {dot_node(n, 'shape=ellipse')};" for n in sorted(external)]
    for (a, b), ports in sorted(edges.items()):
        allowed = [p for p, v in ports.items() if v is True]
        unknown = [p for p, v in ports.items() if v is None]
        if allowed:
            lines.append(f"  {dot_id(a)} -> {dot_id(b)} [label={dot_id(', '.join(allowed))}];")
        if unknown:
            lines.append(f"  {dot_id(a)} -> {dot_id(b)} [label={dot_id(', '.join(unknown) + ' ?')}, style=dashed];")
    lines.append("}")
    writer = TerminalWriter(out)
    writer.write("\n".join(lines) + "\n")
    writer.flush()
