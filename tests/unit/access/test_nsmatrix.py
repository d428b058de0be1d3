"""access/nsmatrix.py: the report's namespace x namespace matrix. Counts are checked against evaluate_flow on every
workload pair ("any port", each protocol), and each cell's rules against the pairs they name (expanded with the
selectors over the workloads' labels), on the example and on generated clusters."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.access.footholds import workload_groups
from kubectl_netsso.access.nsmatrix import OUTSIDE, NamespaceMatrix, namespace_matrix
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import Snapshot
from kubectl_netsso.netpol.compact import PortClass, Side, port_classes
from kubectl_netsso.netpol.compile import CompiledSnapshot, compile_snapshot
from kubectl_netsso.netpol.evaluate import evaluate_flow
from kubectl_netsso.netpol.external import address_atoms, node_addresses
from kubectl_netsso.netpol.model import PROTOCOLS, Flow, Peer, PodPeer

sys.path.insert(0, str(REPO / "benchmarks"))

from gencluster import generate  # noqa: E402

SHOP = REPO / "examples" / "shop"


def _matrix(snap: Snapshot) -> tuple[CompiledSnapshot, NamespaceMatrix]:
    compiled = compile_snapshot(snap)
    scope = sorted({w.namespace for w in snap.workloads})
    return compiled, namespace_matrix(compiled, snap.workloads, workload_groups(snap.workloads), scope)


def test_the_example_cluster_cells() -> None:
    compiled, m = _matrix(load_snapshot([str(SHOP)]))
    ns = lambda name: ("ns", name)  # noqa: E731
    out = (OUTSIDE, "")
    assert m.rows[-1] == out and m.columns[-1] == out and ns("shop") in m.rows
    # api may reach payments on 8443 (and only api of shop's two workloads)
    cell = m.cell(ns("shop"), ns("payments"))
    assert cell is not None and cell.flows == 1 and cell.open == 0
    assert [(r.source, r.destination, r.ports, r.allowed) for r in cell.rules] == [
        ("shop: app=api", "payments: *", "TCP 8443", True)
    ]
    # the example's deliberate mistake: the storefront cannot reach the API
    assert m.cell(ns("frontend"), ns("shop")) is None
    # the internet reaches web (ipBlock 0.0.0.0/0 except 10.0.0.0/8) on 8080, payments egresses to one range
    (r,) = m.cell(out, ns("frontend")).rules  # type: ignore[union-attr]
    assert (r.source, r.destination, r.ports) == ("ip: 0.0.0.0/0 except 10.0.0.0/8", "frontend: *", "TCP 8080")
    assert [x.destination for x in m.cell(ns("payments"), out).rules] == ["ip: 203.0.113.0/24"]  # type: ignore[union-attr]
    # coredns has no ingress policy: open to all; everyone's DNS flows into it are marked
    assert m.open_workloads[ns("kube-system")] == 1 and m.open_workloads[ns("shop")] == 0
    assert m.cell(ns("shop"), ns("kube-system")).open == 2  # type: ignore[union-attr]


def _check(snap: Snapshot) -> None:
    compiled, m = _matrix(snap)
    groups = workload_groups(snap.workloads)
    peer = {ref: compiled.peer(pods[0]) for ref, pods in groups}
    atoms = [a.peer for a in address_atoms(compiled, node_addresses(list(peer.values())))]

    def allowed(a: Peer, b: Peer) -> bool:
        return any(evaluate_flow(compiled, Flow(a, b, None, p), explain=False).allowed is True for p in PROTOCOLS)

    # open to all ingress: on one port, every pod and every address outside passes the destination's ingress policies
    classes = port_classes(compiled, list(peer.values()))
    everyone = [*peer.values(), *atoms]

    def is_open(b: Peer) -> bool:
        def ingress(a: Peer, c: PortClass) -> bool | None:
            return evaluate_flow(compiled, Flow(a, b, c.representative, c.protocol), explain=False).ingress.allowed

        return any(all(ingress(a, c) is True for a in everyone) for c in classes)

    opened = {ref for ref, p in peer.items() if is_open(p)}
    expected_open: dict[tuple[object, object], int] = {}

    expected: dict[tuple[object, object], int] = {}
    for ra, a in peer.items():
        for rb, b in peer.items():
            if (ra != rb or a.kind != "Pod") and allowed(a, b):
                key = (("ns", a.namespace), ("ns", b.namespace))
                expected[key] = expected.get(key, 0) + 1
                expected_open[key] = expected_open.get(key, 0) + (rb in opened)
        if any(allowed(a, x) for x in atoms):
            key = (("ns", a.namespace), (OUTSIDE, ""))
            expected[key] = expected.get(key, 0) + 1
        if any(allowed(x, a) for x in atoms):
            key = ((OUTSIDE, ""), ("ns", a.namespace))
            expected[key] = expected.get(key, 0) + 1
            expected_open[key] = expected_open.get(key, 0) + (ra in opened)
    assert {k: c.flows for k, c in m.cells.items() if c.flows} == expected
    assert {k: c.open for k, c in m.cells.items() if c.open} == {k: n for k, n in expected_open.items() if n}
    by_ns: dict[object, int] = {}
    for ref in opened:
        by_ns[("ns", peer[ref].namespace)] = by_ns.get(("ns", peer[ref].namespace), 0) + 1  # type: ignore[union-attr]
    assert {k: n for k, n in m.open_workloads.items() if n} == by_ns

    def members(side: Side, key: tuple[str, str]) -> set[str]:
        if side.kind == "ip":
            return {"outside"}
        if side.kind == "workloads":
            assert side.namespaces == (key[1],)
            return set(side.workloads)
        assert side.namespaces == (key[1],)
        return {
            ref for ref, p in peer.items() if isinstance(p, PodPeer) and p.namespace == key[1] and side.selector.matches(p.labels)
        }

    for (ka, kb), cell in m.cells.items():
        covered: set[tuple[str, str]] = set()
        for r in cell.rules:
            src, dst = r.sides
            assert (r.source, r.destination) == (src.describe(), dst.describe())
            if r.allowed is True:
                covered |= {(a, b) for a in members(src, ka) for b in members(dst, kb) if a != b or peer[a].kind != "Pod"}
        if OUTSIDE in (ka[0], kb[0]):
            assert len({a if kb[0] == OUTSIDE else b for a, b in covered}) == cell.flows
        else:
            assert len(covered) == cell.flows, (ka, kb)


def test_counts_and_rules_on_the_example() -> None:
    _check(load_snapshot([str(SHOP)]))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_counts_and_rules_on_generated_clusters(seed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = Path(tmp_path_factory.mktemp("c")) / str(seed)
    generate(str(folder), namespaces=3, pods=24, policies=12, replicas=2, seed=seed)
    _check(load_snapshot([str(folder)]))


def test_open_to_all_ingress_is_what_every_source_passes(tmp_path: Path) -> None:
    """Open: no ingress policy (z), or one allowing every source (x: `ingress: [{}]`); not open: default deny (y), or
    every pod of every namespace but no address outside (w: namespaceSelector {})."""
    import yaml

    def pod(name: str) -> dict[str, object]:
        spec = {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}
        meta = {"name": name, "namespace": "a", "labels": {"app": name}}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}

    def policy(name: str, app: str, ingress: list[object]) -> dict[str, object]:
        spec = {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"], "ingress": ingress}
        meta = {"name": name, "namespace": "a"}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}

    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}, *(pod(n) for n in "wxyz")]
    docs += [policy("x", "x", [{}]), policy("y", "y", []), policy("w", "w", [{"from": [{"namespaceSelector": {}}]}])]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump_all(docs))
    snap = load_snapshot([str(tmp_path)])
    _compiled, m = _matrix(snap)
    assert m.open_workloads[("ns", "a")] == 2
    cell = m.cell(("ns", "a"), ("ns", "a"))
    # every pod may reach w, x and z (egress is open; a Pod to itself is loopback, not counted); y admits none
    assert cell is not None and cell.flows == 9 and cell.open == 6
    _check(snap)
