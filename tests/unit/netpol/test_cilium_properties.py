"""Hypothesis: with Cilium semantics the class engine (paths) equals the one-flow evaluator on random clusters mixing
CiliumNetworkPolicies / CiliumClusterwideNetworkPolicies (endpoint selectors with namespace scoping, entities, CIDR
rules with except, toPorts with ranges, port 0, named ports and ANY, L7 rules, deny rules, fromRequires, toFQDNs,
toServices, enableDefaultDeny, the enforcement modes) with Kubernetes NetworkPolicies; compact rules and external rows
are exact too; random Cilium specs never crash the loader or the engine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import unit.netpol.test_compact as compact_t  # module import: its tests are not collected twice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit.netpol.test_properties import NODE_IPS, clusters, ports_strategy

from kubectl_netsso.cluster.manifests import snapshot_from_objects
from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, Service, ServicePort, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import allowed_pair, evaluate_flow
from kubectl_netsso.netpol.model import ExternalPeer, Flow
from kubectl_netsso.netpol.paths import compute_paths

V2 = "cilium.io/v2"

match_labels = st.sampled_from(
    [{}, {"app": "a"}, {"tier": "b"}, {"k8s:app": "b"}, {"any:env": "a"}, {"app": "a", "tier": "c"},
     {"k8s:io.kubernetes.pod.namespace": "ns2"}, {"io.cilium.k8s.namespace.labels.team": "a"},
     {"io.cilium.k8s.policy.serviceaccount": "sa1"}, {"reserved:host": ""}]
)  # fmt: skip
expressions = st.sampled_from(
    [[], [{"key": "app", "operator": "In", "values": ["a", "b"]}], [{"key": "env", "operator": "DoesNotExist"}],
     [{"key": "io.kubernetes.pod.namespace", "operator": "NotIn", "values": ["ns1"]}],
     [{"key": "tier", "operator": "Exists"}]]
)  # fmt: skip


@st.composite
def esel(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ml, me = draw(match_labels), draw(expressions)
    if ml or draw(st.booleans()):
        out["matchLabels"] = ml
    if me:
        out["matchExpressions"] = me
    return out


port_entry = st.sampled_from(
    [{"port": "80", "protocol": "TCP"}, {"port": "80"}, {"port": "443", "protocol": "ANY"}, {"port": "0", "protocol": "UDP"},
     {"port": "79", "endPort": 81, "protocol": "TCP"}, {"port": "http", "protocol": "TCP"}, {"port": "dns", "protocol": "UDP"},
     {"port": "8080", "protocol": "UDP"}, {"port": "1", "endPort": 1000}]
)  # fmt: skip
ENTITIES = ["world", "cluster", "host", "remote-node", "all", "kube-apiserver", "world-ipv4", "health"]
CIDRS = ["203.0.113.0/24", "10.0.0.0/8", "0.0.0.0/0", "10.9.0.1/32"]


@st.composite
def to_ports(draw: Any, deny: bool, l7_ok: bool) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 2))):
        pr: dict[str, Any] = {"ports": draw(st.lists(port_entry, min_size=0 if not deny else 1, max_size=2))}
        if not deny and l7_ok and pr["ports"] and all(p.get("protocol") == "TCP" and p["port"] != "0" for p in pr["ports"]):
            if draw(st.integers(0, 2)) == 0:
                pr["rules"] = {"http": [{"method": "GET", "path": "/"}]}
        out.append(pr)
    return out


@st.composite
def crule(draw: Any, ingress: bool, deny: bool) -> dict[str, Any]:
    side = "from" if ingress else "to"
    r: dict[str, Any] = {}
    kind = draw(st.sampled_from(["endpoints", "endpoints", "entities", "cidr", "cidrset", "none", "fqdn", "services"]))
    if kind == "endpoints":
        r[f"{side}Endpoints"] = draw(st.lists(esel(), min_size=1, max_size=2))
    elif kind == "entities":
        r[f"{side}Entities"] = draw(st.lists(st.sampled_from(ENTITIES), min_size=1, max_size=2, unique=True))
    elif kind == "cidr":
        r[f"{side}CIDR"] = draw(st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2, unique=True))
    elif kind == "cidrset":
        r[f"{side}CIDRSet"] = [{"cidr": "10.0.0.0/8", "except": draw(st.sampled_from([[], ["10.0.0.0/24"], ["10.9.0.0/16"]]))}]
    elif kind == "fqdn" and not ingress and not deny:
        r["toFQDNs"] = [{"matchPattern": "*.example.com"}]
    elif kind == "services" and not ingress:
        r["toServices"] = [{"k8sService": {"serviceName": draw(st.sampled_from(["web", "ext"])), "namespace": "ns1"}}]
    if draw(st.integers(0, 6)) == 0:
        r[f"{side}Requires"] = [draw(esel())]
    if "toServices" not in r and draw(st.integers(0, 1)) == 0:
        r["toPorts"] = draw(to_ports(deny, l7_ok=True))
    return r


@st.composite
def cilium_docs(draw: Any, namespaces: list[str]) -> list[dict[str, Any]]:
    docs = []
    for i in range(draw(st.integers(1, 3))):
        cluster_wide = draw(st.booleans())
        spec: dict[str, Any] = {"endpointSelector": draw(esel())}
        for key, ingress, deny in (("ingress", True, False), ("ingressDeny", True, True), ("egress", False, False),
                                   ("egressDeny", False, True)):  # fmt: skip
            chance = 1 if not deny else 3
            if draw(st.integers(0, chance)) == 0:
                spec[key] = draw(st.lists(crule(ingress, deny), max_size=2))
        if draw(st.integers(0, 4)) == 0:
            spec["enableDefaultDeny"] = {draw(st.sampled_from(["ingress", "egress"])): draw(st.booleans())}
        meta: dict[str, Any] = {"name": f"c{i}"}
        if not cluster_wide:
            meta["namespace"] = draw(st.sampled_from(namespaces))
        kind = "CiliumClusterwideNetworkPolicy" if cluster_wide else "CiliumNetworkPolicy"
        doc: dict[str, Any] = {"apiVersion": V2, "kind": kind, "metadata": meta}
        if draw(st.integers(0, 3)) == 0:
            doc["specs"] = [spec, {"endpointSelector": draw(esel()), "ingress": [{}]}]
        else:
            doc["spec"] = spec
        docs.append(doc)
    return docs


@st.composite
def cilium_clusters(draw: Any) -> tuple[Snapshot, str]:
    base: Snapshot = draw(clusters(with_anp=draw(st.integers(0, 4)) == 0, with_gaps=False))
    workloads = tuple(replace(w, service_account=draw(st.sampled_from(["default", "sa1"]))) for w in base.workloads)
    namespaces = [n.name for n in base.namespaces]
    docs = draw(cilium_docs(namespaces))
    extra = snapshot_from_objects([(f"doc {i}", d) for i, d in enumerate(docs)])
    assert not extra.invalid, extra.invalid
    services = (
        Service("ns1", "web", {"app": "a"}, (ServicePort(80, 80, "TCP"),)),
        Service("ns1", "ext", None, (ServicePort(443, 443, "TCP"),)),
    )
    mode = draw(st.sampled_from(["default", "default", "default", "always", "never"]))
    return replace(base, workloads=workloads, cilium_policies=extra.cilium_policies, services=services), mode


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cni(mode: str) -> str:
    return "cilium" if mode == "default" else f"cilium:{mode}"


@SETTINGS
@given(cilium_clusters(), ports_strategy, st.booleans())
def test_cilium_class_engine_equals_brute_force(cluster: tuple[Snapshot, str], port: tuple[Any, str], externals: bool) -> None:
    snapshot, mode = cluster
    compiled = compile_snapshot(snapshot, cni=_cni(mode))
    peers: list[Any] = [compiled.peer(w) for w in snapshot.workloads]
    if externals:
        peers += [ExternalPeer("203.0.113.9"), ExternalPeer("10.0.0.2"), ExternalPeer(NODE_IPS["n1"]), ExternalPeer("fd00::1")]
    result = compute_paths(compiled, peers, peers, [port])
    for i, src in enumerate(peers):
        for j, dst in enumerate(peers):
            if port[0] is None:
                brute = evaluate_flow(compiled, Flow(src, dst, None, port[1]), explain=False).allowed
            else:
                brute = allowed_pair(compiled, src, dst, port[0], port[1])
            got = result.allowed(0, i, j)
            assert got is brute, f"{src.ref} -> {dst.ref} on {port}: classes {got}, brute force {brute}"
            if src is not dst and port[0] is not None:
                v = evaluate_flow(compiled, Flow(src, dst, port[0], port[1]), explain=False)
                assert result.direction(0, i, j) == (v.egress.allowed, v.ingress.allowed), (src.ref, dst.ref)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cilium_clusters())
def test_cilium_compact_rules_and_external_rows_are_exact(cluster: tuple[Snapshot, str]) -> None:
    snapshot, mode = cluster
    compiled = compile_snapshot(snapshot, cni=_cni(mode))
    compact_t.check_cni(compiled, list(snapshot.workloads))


fuzz_keys = st.sampled_from(
    ["endpointSelector", "nodeSelector", "matchLabels", "matchExpressions", "key", "operator", "values", "ingress", "egress",
     "ingressDeny", "egressDeny", "fromEndpoints", "toEndpoints", "fromEntities", "toEntities", "fromCIDR", "toCIDRSet",
     "cidr", "except", "toPorts", "ports", "port", "endPort", "protocol", "rules", "http", "dns", "toFQDNs", "matchName",
     "fromRequires", "toServices", "k8sService", "serviceName", "enableDefaultDeny", "icmps", "x"]
)  # fmt: skip
fuzz = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000)
    | st.sampled_from(["80", "http", "0", "TCP", "ANY", "world", "cluster", "10.0.0.0/8", "In", "app", "a", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(fuzz_keys, children, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(fuzz, st.booleans(), st.sampled_from([80, "http", None]))
def test_random_cilium_specs_never_crash(spec: Any, cluster_wide: bool, port: Any) -> None:
    meta: dict[str, Any] = {"name": "p"} if cluster_wide else {"name": "p", "namespace": "a"}
    kind = "CiliumClusterwideNetworkPolicy" if cluster_wide else "CiliumNetworkPolicy"
    extra = snapshot_from_objects([("doc", {"apiVersion": V2, "kind": kind, "metadata": meta, "spec": spec})])
    snap = Snapshot(
        namespaces=(Namespace("a", {"team": "a"}),),
        workloads=(Workload("a", "p", "Pod", {"app": "a"}, (ContainerPort(80, "TCP", "http"),), ("10.0.0.1",)),),
        cilium_policies=extra.cilium_policies,
    )
    compiled = compile_snapshot(snap, cni="cilium")
    peer = compiled.peer(snap.workloads[0])
    for other in (peer, ExternalPeer("10.0.0.9")):
        evaluate_flow(compiled, Flow(other, peer, port, "TCP")).to_dict()
        evaluate_flow(compiled, Flow(peer, other, port, "TCP")).to_dict()
    compute_paths(compiled, [peer], [peer], [(port, "TCP")])


def test_a_node_address_is_its_own_external_row_under_cilium() -> None:
    """Found by the property above: a CIDR rule allows 10.0.0.0/8 but not the node 10.9.0.2 inside it ("CIDR rules do
    not apply to ... an IP belonging to a node"), so the external rows must cut the node's address out."""
    from kubectl_netsso.cluster.snapshot import Node
    from kubectl_netsso.netpol.external import external_egress

    cnp = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "c0", "namespace": "a"},
           "spec": {"endpointSelector": {}, "egress": [{"toCIDRSet": [{"cidr": "10.0.0.0/8"}]}]}}  # fmt: skip
    snap = Snapshot(
        namespaces=(Namespace("a", {}),),
        workloads=(Workload("a", "p", "Pod", {}, ()),),
        nodes=(Node("n2", ("10.9.0.2",)),),
        cilium_policies=snapshot_from_objects([("doc", cnp)]).cilium_policies,
    )
    compiled = compile_snapshot(snap, cni="cilium")
    peer = compiled.peer(snap.workloads[0])
    rows = {f.ref: f.allowed for f in external_egress(compiled, [peer], [(1, "TCP")])}
    allowed = next(ref for ref, a in rows.items() if a is True)
    denied = next(ref for ref, a in rows.items() if a is False)
    assert allowed.startswith("ip:0.0.0.0/0 except (") and "10.9.0.2/32" in allowed, rows  # cut out of the allowed
    assert "10.9.0.2/32" in denied.split(", "), rows
    assert allowed_pair(compiled, peer, ExternalPeer("10.9.0.2"), 1, "TCP") is False
    assert allowed_pair(compiled, peer, ExternalPeer("10.9.0.3"), 1, "TCP") is True
