"""Hypothesis: with Calico semantics the class engine (paths) equals the one-flow evaluator on random clusters mixing
Calico NetworkPolicies / GlobalNetworkPolicies (tiers, orders, Allow/Deny/Pass/Log, the selector language, namespace
and service-account selectors, nets/notNets, ports/notPorts with ranges and named ports, network sets) with
Kubernetes NetworkPolicies and AdminNetworkPolicies; and random Calico specs never crash the loader or the engine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import unit.netpol.test_compact as compact_t  # module import: its tests are not collected twice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit.netpol.test_properties import NODE_IPS, NS_NAMES, clusters, ports_strategy

from kubectl_netsso.cluster.manifests import snapshot_from_objects
from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import allowed_pair, evaluate_flow
from kubectl_netsso.netpol.model import ExternalPeer, Flow
from kubectl_netsso.netpol.paths import compute_paths

V3 = "projectcalico.org/v3"

label_sel = st.sampled_from(
    [
        "all()", "app == 'a'", "app != 'b'", "has(tier)", "!has(env)", "app in {'a', 'b'}", "tier not in {'c'}",
        "app == 'a' && tier == 'b'", "app == 'c' || env == 'a'", "!(app == 'a')", "tier starts with 'a'",
        "projectcalico.org/namespace == 'ns1'", "projectcalico.org/serviceaccount == 'sa1'", "role == 'ext'",
        "role in {'ext', 'lan'}", "has(host)", "",
    ]
)  # fmt: skip
ns_sel = st.sampled_from(["all()", "global()", "team == 'a'", "projectcalico.org/name == 'ns2'", "has(team)", "team != 'b'"])
sa_sel = st.sampled_from(["projectcalico.org/name == 'sa1'", "role == 'x'", "all()"])
nets = st.sampled_from([["10.0.0.0/29"], ["0.0.0.0/0"], ["203.0.113.0/24"], ["10.0.0.0/24", "10.9.0.0/24"]])
ports = st.lists(st.sampled_from([80, 443, "79:81", "1:1000", "http", "dns", 8080]), min_size=1, max_size=2)


@st.composite
def entity(draw: Any, dest: bool) -> dict[str, Any]:
    e: dict[str, Any] = {}
    for key, strategy, chance in (
        ("selector", label_sel, 2),
        ("notSelector", label_sel, 4),
        ("namespaceSelector", ns_sel, 4),
        ("nets", nets, 5),
        ("notNets", nets, 6),
    ):
        if draw(st.integers(0, chance)) == 0:
            e[key] = draw(strategy)
    if draw(st.integers(0, 4)) == 0:
        sa: dict[str, Any] = {}
        if draw(st.booleans()):
            sa["names"] = draw(st.lists(st.sampled_from(["default", "sa1"]), min_size=1, max_size=2))
        else:
            sa["selector"] = draw(sa_sel)
        e["serviceAccounts"] = sa
    if dest and draw(st.integers(0, 2)) == 0:
        e["ports" if draw(st.integers(0, 3)) else "notPorts"] = draw(ports)
    return e


@st.composite
def rule(draw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"action": draw(st.sampled_from(["Allow", "Allow", "Deny", "Pass", "Log"]))}
    src, dst = draw(entity(False)), draw(entity(True))
    if src:
        r["source"] = src
    if dst:
        r["destination"] = dst
    if "ports" in dst or "notPorts" in dst or draw(st.integers(0, 3)) == 0:
        r["protocol"] = draw(st.sampled_from(["TCP", "UDP", 6]))
    elif draw(st.integers(0, 8)) == 0:
        r["notProtocol"] = draw(st.sampled_from(["UDP", "TCP"]))
    return r


@st.composite
def calico_docs(draw: Any, namespaces: list[str]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    if draw(st.booleans()):
        docs.append({"apiVersion": V3, "kind": "Tier", "metadata": {"name": "t1"},
                     "spec": {"order": 100, "defaultAction": draw(st.sampled_from(["Deny", "Pass"]))}})  # fmt: skip
    if draw(st.booleans()):
        docs.append({"apiVersion": V3, "kind": "Tier", "metadata": {"name": "t2"},
                     "spec": {"order": 5000, "defaultAction": "Pass"}})  # fmt: skip
    if draw(st.booleans()):
        docs.append({"apiVersion": V3, "kind": "GlobalNetworkSet", "metadata": {"name": "ext", "labels": {"role": "ext"}},
                     "spec": {"nets": ["203.0.113.0/24"]}})  # fmt: skip
    if draw(st.booleans()):
        docs.append({"apiVersion": V3, "kind": "NetworkSet", "metadata": {"name": "lan", "namespace": namespaces[0],
                     "labels": {"role": "lan"}}, "spec": {"nets": ["10.0.0.0/30"]}})  # fmt: skip
    if draw(st.integers(0, 3)) == 0:  # the node n1's interface: policies selecting it police hostNetwork pods
        docs.append({"apiVersion": V3, "kind": "HostEndpoint", "metadata": {"name": "n1-eth0", "labels": {"host": "n1"}},
                     "spec": {"node": "n1", "interfaceName": "eth0", "expectedIPs": [NODE_IPS["n1"]]}})  # fmt: skip
    for i in range(draw(st.integers(1, 4))):
        glob = draw(st.booleans())
        spec: dict[str, Any] = {"selector": draw(label_sel)}
        if draw(st.booleans()):
            spec["order"] = draw(st.sampled_from([100, 1000, 2000, 999.5]))
        if draw(st.integers(0, 2)) == 0:
            spec["tier"] = draw(st.sampled_from(["t1", "t2", "default"]))
        if draw(st.booleans()):
            spec["ingress"] = draw(st.lists(rule(), max_size=3))
        if draw(st.booleans()):
            spec["egress"] = draw(st.lists(rule(), max_size=3))
        types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        if types is not None:
            spec["types"] = types
        if glob and draw(st.integers(0, 2)) == 0:
            spec["namespaceSelector"] = draw(ns_sel)
        if draw(st.integers(0, 6)) == 0:
            spec["serviceAccountSelector"] = draw(sa_sel)
        meta: dict[str, Any] = {"name": f"c{i}"}
        if not glob:
            meta["namespace"] = draw(st.sampled_from(namespaces))
        kind = "GlobalNetworkPolicy" if glob else "NetworkPolicy"
        docs.append({"apiVersion": V3, "kind": kind, "metadata": meta, "spec": spec})
    return docs


@st.composite
def calico_clusters(draw: Any) -> Snapshot:
    base: Snapshot = draw(clusters(with_gaps=False))
    sas = ("default", "sa1")
    # mostly without IPs, as manifests are (label indexes decide for those), some with (matched one by one)
    workloads = tuple(
        replace(w, service_account=draw(st.sampled_from(sas)), ips=w.ips if draw(st.integers(0, 3)) == 0 else ())
        for w in base.workloads
    )
    namespaces = [n.name for n in base.namespaces]
    extra = snapshot_from_objects([(f"doc {i}", d) for i, d in enumerate(draw(calico_docs(namespaces)))])
    assert not extra.invalid, extra.invalid
    service_accounts = ()
    if draw(st.booleans()):  # the ServiceAccount objects (their labels) are known, else unknown
        from kubectl_netsso.cluster.snapshot import ServiceAccount

        service_accounts = tuple(
            ServiceAccount(ns, sa, {"role": "x"} if sa == "sa1" else {}) for ns in namespaces for sa in sas
        )
    return replace(
        base,
        workloads=workloads,
        calico_policies=extra.calico_policies,
        calico_tiers=extra.calico_tiers,
        calico_network_sets=extra.calico_network_sets,
        calico_host_endpoints=extra.calico_host_endpoints,
        service_accounts=service_accounts,
    )


SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(calico_clusters(), ports_strategy, st.booleans())
def test_calico_class_engine_equals_brute_force(snapshot: Snapshot, port: tuple[Any, str], externals: bool) -> None:
    compiled = compile_snapshot(snapshot, cni="calico")
    peers: list[Any] = [compiled.peer(w) for w in snapshot.workloads]
    if externals:
        peers += [ExternalPeer("203.0.113.9"), ExternalPeer("10.0.0.2"), ExternalPeer(NODE_IPS["n1"])]
    result = compute_paths(compiled, peers, peers, [port])
    naive = compute_paths(compiled, peers, peers, [port], engine="naive")
    for i, src in enumerate(peers):
        for j, dst in enumerate(peers):
            if port[0] is None:
                brute = evaluate_flow(compiled, Flow(src, dst, None, port[1]), explain=False).allowed
            else:
                brute = allowed_pair(compiled, src, dst, port[0], port[1])
            got = result.allowed(0, i, j)
            assert got is brute, f"{src.ref} -> {dst.ref} on {port}: classes {got}, brute force {brute}"
            assert naive.allowed(0, i, j) is brute
            if src is not dst and port[0] is not None:
                v = evaluate_flow(compiled, Flow(src, dst, port[0], port[1]), explain=False)
                assert result.direction(0, i, j) == (v.egress.allowed, v.ingress.allowed), (src.ref, dst.ref)


@SETTINGS
@given(calico_clusters(), st.sampled_from([80, "http", 8080]))
def test_without_calico_policies_calico_and_kubernetes_semantics_agree(snapshot: Snapshot, port: int | str) -> None:
    """Kubernetes NetworkPolicies are Calico policies in the default tier at order 1000 (conversion.go): with no Calico
    objects, Calico's tiered evaluation gives exactly the Kubernetes verdicts, ANP and BANP included."""
    plain = replace(snapshot, calico_policies=(), calico_tiers=(), calico_network_sets=())
    k8s, cal = compile_snapshot(plain, cni="generic"), compile_snapshot(plain, cni="calico")
    peers = [k8s.peer(w) for w in plain.workloads]
    for src in peers:
        for dst in peers:
            assert allowed_pair(k8s, src, dst, port, "TCP") is allowed_pair(cal, src, dst, port, "TCP"), (src.ref, dst.ref)


fuzz_keys = st.sampled_from(
    ["selector", "namespaceSelector", "serviceAccountSelector", "order", "tier", "types", "ingress", "egress", "action",
     "protocol", "notProtocol", "source", "destination", "nets", "notNets", "ports", "notPorts", "serviceAccounts",
     "names", "services", "name", "namespace", "http", "methods", "icmp", "ipVersion", "doNotTrack", "x"]
)  # fmt: skip
fuzz = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=True)
    | st.sampled_from(["all()", "a == 'b'", "Allow", "Deny", "Pass", "TCP", "10.0.0.0/8", "1:2", "http", "Ingress", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(fuzz_keys, children, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(fuzz, st.booleans(), st.sampled_from([80, "http", None]))
def test_random_calico_specs_never_crash(spec: Any, glob: bool, port: Any) -> None:
    meta: dict[str, Any] = {"name": "p"} if glob else {"name": "p", "namespace": "a"}
    doc = {"apiVersion": V3, "kind": "GlobalNetworkPolicy" if glob else "NetworkPolicy", "metadata": meta, "spec": spec}
    extra = snapshot_from_objects([("doc", doc)])
    snap = Snapshot(
        namespaces=(Namespace("a", {"team": "a"}),),
        workloads=(Workload("a", "p", "Pod", {"app": "a"}, (ContainerPort(80, "TCP", "http"),), ("10.0.0.1",)),),
        calico_policies=extra.calico_policies,
    )
    compiled = compile_snapshot(snap, cni="calico")
    peer = compiled.peer(snap.workloads[0])
    for other in (peer, ExternalPeer("10.0.0.9")):
        evaluate_flow(compiled, Flow(other, peer, port, "TCP")).to_dict()
        evaluate_flow(compiled, Flow(peer, other, port, "TCP")).to_dict()
    compute_paths(compiled, [peer], [peer], [(port, "TCP")])
    assert NS_NAMES  # the shared strategies' namespaces


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calico_clusters())
def test_calico_compact_rules_and_external_rows_are_exact(snapshot: Snapshot) -> None:
    """paths --compact and the external rows cut ports and addresses at Calico's ranges, named ports and nets too:
    expanded back, they give the per-pair verdict (the same check as test_netpol_compact, on Calico policies)."""
    compiled = compile_snapshot(snapshot, cni="calico")
    compact_t.check_cni(compiled, list(snapshot.workloads))
