"""The report's data and page on plain inputs: workload graph for small clusters, namespace graph for large ones."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpers import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.access.report import DETAIL_LIMIT, build_report
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.output.report import render_html
from kubectl_netsso.output.report.html import script_json as _script_json

sys.path.insert(0, str(REPO / "benchmarks"))

from gencluster import generate  # noqa: E402

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _report(snap: object) -> object:
    engine = ReachEngine(snap)  # type: ignore[arg-type]
    scope = sorted({w.namespace for w in engine.snapshot.workloads})
    return build_report(engine, scope=scope, source="test", identity=None, identity_text=None, reaches=[], findings=[], now=NOW)


def test_small_cluster_graph_has_workloads_and_is_deterministic() -> None:
    snap = load_snapshot([str(REPO / "examples" / "shop")])
    data = _report(snap)
    assert not data.aggregated  # type: ignore[attr-defined]
    ids = {n.id for n in data.nodes}  # type: ignore[attr-defined]
    assert "shop/deployment/api" in ids and "internet" in ids
    html = render_html(data)  # type: ignore[arg-type]
    assert "generated 2026-01-02 03:04:05 UTC" in html
    assert render_html(_report(snap)) == html  # type: ignore[arg-type]
    assert "<script src" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_large_cluster_graph_is_aggregated_by_namespace(tmp_path: Path) -> None:
    generate(str(tmp_path), namespaces=4, pods=200, policies=40, replicas=2, seed=3)
    data = _report(load_snapshot([str(tmp_path)]))
    assert data.workload_count > DETAIL_LIMIT  # type: ignore[attr-defined]
    assert data.aggregated  # type: ignore[attr-defined]
    ns_nodes = {n.id for n in data.nodes if n.namespace}  # type: ignore[attr-defined]
    assert ns_nodes == {"kube-system", "ns-000", "ns-001", "ns-002", "ns-003"}
    for e in data.edges:  # type: ignore[attr-defined]
        assert e.source != e.target and e.ports[0].split()[0].isdigit()
    html = render_html(data)  # type: ignore[arg-type]
    # too large to draw: the page says so with the numbers and points to the matrix and to paths -o dot
    assert '<svg id="graph"' not in html and 'id="graph-off"' in html
    assert f"Not drawn: {data.workload_count} workloads and {data.flow_count} allowed flows" in html  # type: ignore[attr-defined]
    assert 'href="#flows"' in html and "paths -A -o dot" in html and '<table id="ns-matrix">' in html


# JSON inside <script>: a string holding "<!--<script>" kept the page's JavaScript from running (the e2e test in
# tests/e2e/test_access_report.py shows it in Chromium); here, that no such text can be in the element at all
script_strings = st.text(
    alphabet=st.sampled_from(["<", ">", "&", "/", "!", "-", "s", "\u2028", "\u2029", "\x1b", "é", '"', "\\"])
)


@settings(max_examples=300)
@given(st.recursive(script_strings, lambda c: st.lists(c, max_size=3) | st.dictionaries(script_strings, c, max_size=3)))
def test_embedded_json_has_no_markup_characters_and_parses_back_exactly(value: Any) -> None:
    text = _script_json(value)
    assert not set(text) & set("<>&\u2028\u2029") and text.isascii()
    assert json.loads(text) == value


def test_the_graph_is_drawn_up_to_the_threshold_and_not_above() -> None:
    """At most GRAPH_MAX_NODES boxes and GRAPH_MAX_EDGES edges: drawn; one more of either: the page says why not."""
    import dataclasses

    from kubectl_netsso.access.report import Edge, Node
    from kubectl_netsso.output.report.graph import GRAPH_MAX_EDGES, GRAPH_MAX_NODES

    data = _report(load_snapshot([str(REPO / "examples" / "shop")]))

    def sized(nodes: int, edges: int) -> str:
        ns = [Node(f"shop/deployment/w{i}", "shop", f"w{i}", "Deployment", True, False) for i in range(nodes)]
        es = [Edge(ns[i % nodes].id, ns[(i + 1 + i // nodes) % nodes].id, ("80/TCP",)) for i in range(edges)]
        return render_html(dataclasses.replace(data, nodes=ns, edges=es, flow_count=len(es), workload_count=nodes))  # type: ignore[type-var]

    page = sized(GRAPH_MAX_NODES, GRAPH_MAX_EDGES)
    assert '<svg id="graph"' in page and page.count('class="edge"') == GRAPH_MAX_EDGES
    for nodes, edges in ((GRAPH_MAX_NODES + 1, 1), (2, GRAPH_MAX_EDGES + 1)):
        page = sized(nodes, edges)
        assert '<svg id="graph"' not in page
        assert f"Not drawn: {nodes} workloads ({nodes} boxes with the addresses outside) and {edges} allowed flows" in page


def test_edge_labels_without_room_are_listed_under_the_graph() -> None:
    import dataclasses

    from kubectl_netsso.access.report import Edge, Node

    data = _report(load_snapshot([str(REPO / "examples" / "shop")]))
    target = Node("db/statefulset/pg", "db", "pg", "StatefulSet", True, False)
    sources = [Node(f"shop/deployment/w{i}", "shop", f"w{i}", "Deployment", True, False) for i in range(30)]
    edges = [Edge(s.id, target.id, (f"port-{i}=80{i:02d}/TCP", "metrics=9090/TCP")) for i, s in enumerate(sources)]
    page = render_html(dataclasses.replace(data, nodes=[*sources, target], edges=edges, flow_count=30, workload_count=31))  # type: ignore[type-var]
    drawn = page.count('class="edge-label"')
    listed = page.count("<li><code>shop/deployment/w")
    assert 0 < drawn < 30 and drawn + listed == 30
    assert '<ul id="graph-legend">' in page
