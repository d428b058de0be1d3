"""Truth tables modelled on the upstream sig-network e2e suite (kubernetes/kubernetes test/e2e/network/netpol).

The model: namespaces x, y, z, each with pods a, b, c labelled pod=<name>; every pod serves 80 and 81 on TCP, UDP
and SCTP with ports named serve-<port>-<proto>. Each case states the policies and the expected reachability the way
the upstream test does (start from "all allowed", then ExpectPeer / ExpectAllIngress / ExpectAllEgress / Expect), and
the whole table is compared -- for the single-flow evaluator, the class-based paths engine and the naive engine.
Loopback pairs are skipped, as upstream does (ignoreLoopback); loopback has its own unit test.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import allowed_pair
from kubectl_netsso.netpol.paths import compute_paths

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
NS_LABEL = "kubernetes.io/metadata.name"


def pod_ip(ns: str, pod: str) -> str:
    return f"10.0.{NAMESPACES.index(ns) + 1}.{PODS.index(pod) + 10}"


def cluster(policies: Iterable[tuple[str, str, dict[str, Any]]]) -> Snapshot:
    ports = tuple(
        ContainerPort(port, proto, f"serve-{port}-{proto.lower()}") for port in (80, 81) for proto in ("TCP", "UDP", "SCTP")
    )
    return Snapshot(
        namespaces=tuple(Namespace(ns, {"ns": ns}) for ns in NAMESPACES),
        workloads=tuple(
            Workload(ns, pod, "Pod", {"pod": pod}, ports, ips=(pod_ip(ns, pod),)) for ns in NAMESPACES for pod in PODS
        ),
        network_policies=tuple(NetworkPolicy(ns, name, spec) for ns, name, spec in policies),
    )


class Reachability:
    """Expected truth table; keys are ("x/a", "y/b"). Mirrors the upstream helper's vocabulary."""

    def __init__(self, default: bool = True) -> None:
        self.table = {
            (f"{fn}/{fp}", f"{tn}/{tp}"): default for fn in NAMESPACES for fp in PODS for tn in NAMESPACES for tp in PODS
        }

    def expect(self, src: str, dst: str, value: bool) -> None:
        self.table[(src, dst)] = value

    def expect_peer(self, src: tuple[str | None, str | None], dst: tuple[str | None, str | None], value: bool) -> None:
        for s, d in self.table:
            if _is(s, src) and _is(d, dst):
                self.table[(s, d)] = value

    def expect_all_ingress(self, pod: str, value: bool) -> None:
        self.expect_peer((None, None), tuple(pod.split("/")), value)  # type: ignore[arg-type]

    def expect_all_egress(self, pod: str, value: bool) -> None:
        self.expect_peer(tuple(pod.split("/")), (None, None), value)  # type: ignore[arg-type]


def _is(ref: str, peer: tuple[str | None, str | None]) -> bool:
    ns, pod = ref.split("/")
    return (peer[0] is None or peer[0] == ns) and (peer[1] is None or peer[1] == pod)


def check(
    policies: list[tuple[str, str, dict[str, Any]]],
    port: int | str,
    protocol: str,
    expected: Reachability,
    ipblock_pods: str = "match",
) -> None:
    compiled = compile_snapshot(cluster(policies), ipblock_pods=ipblock_pods)  # type: ignore[arg-type]
    assert not compiled.warnings, compiled.warnings
    peers = [compiled.peer(w) for w in compiled.snapshot.workloads]
    refs = [p.ref for p in peers]
    want = {k: v for k, v in expected.table.items() if k[0] != k[1]}
    single = {(s.ref, d.ref): allowed_pair(compiled, s, d, port, protocol) for s in peers for d in peers if s.ref != d.ref}
    assert _diff(single, want) == [], "single-flow evaluator"
    for engine in ("classes", "naive"):
        result = compute_paths(compiled, peers, peers, [(port, protocol)], engine=engine)
        got = {(refs[i], refs[j]): result.allowed(0, i, j) for i in range(len(peers)) for j in range(len(peers)) if i != j}
        assert _diff(got, want) == [], f"paths engine {engine}"


def _diff(got: dict[tuple[str, str], bool | None], want: dict[tuple[str, str], bool]) -> list[str]:
    return sorted(f"{s} -> {d}: got {got[(s, d)]}, want {v}" for (s, d), v in want.items() if got[(s, d)] is not v)


def sel(**labels: str) -> dict[str, Any]:
    return {"matchLabels": dict(labels)}


def ns_is(name: str) -> dict[str, Any]:
    return {"matchLabels": {NS_LABEL: name}}


# --- the cases --------------------------------------------------------------------------------------------------------


def test_default_deny_ingress():
    # "should support a 'default-deny-ingress' policy"
    r = Reachability()
    r.expect_peer((None, None), ("x", None), False)
    check([("x", "deny-ingress", {"podSelector": {}, "ingress": []})], 80, "TCP", r)


def test_default_deny_all():
    # "should support a 'default-deny-all' policy"
    r = Reachability()
    r.expect_peer((None, None), ("x", None), False)
    r.expect_peer(("x", None), (None, None), False)
    check([("x", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})], 80, "TCP", r)


def test_allow_from_pods_in_server_namespace_by_pod_selector():
    # "should enforce policy to allow traffic from pods within server namespace based on PodSelector"
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("x/b", "x/a", True)
    check(
        [("x", "x-a-allows-x-b", {"podSelector": sel(pod="a"), "ingress": [{"from": [{"podSelector": sel(pod="b")}]}]})],
        80,
        "TCP",
        r,
    )


def test_allow_from_namespace_by_label():
    # "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector"
    r = Reachability()
    r.expect_peer(("x", None), ("x", "a"), False)
    r.expect_peer(("z", None), ("x", "a"), False)
    check(
        [
            (
                "x",
                "allow-client-a-via-ns-selector",
                {"podSelector": sel(pod="a"), "ingress": [{"from": [{"namespaceSelector": ns_is("y")}]}]},
            )
        ],
        80,
        "TCP",
        r,
    )


def test_pod_selector_or_namespace_selector_as_two_peers():
    # "should enforce policy based on PodSelector or NamespaceSelector"
    r = Reachability()
    r.expect("x/c", "x/a", False)
    notin_x = {"matchExpressions": [{"key": NS_LABEL, "operator": "NotIn", "values": ["x"]}]}
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"namespaceSelector": notin_x}, {"podSelector": sel(pod="b")}]}]}
    check([("x", "allow-ns-y-match-selector", spec)], 80, "TCP", r)


def test_pod_selector_and_namespace_selector_in_one_peer():
    # "should enforce policy based on PodSelector and NamespaceSelector"
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("y/b", "x/a", True)
    r.expect("z/b", "x/a", True)
    notin_x = {"matchExpressions": [{"key": NS_LABEL, "operator": "NotIn", "values": ["x"]}]}
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"namespaceSelector": notin_x, "podSelector": sel(pod="b")}]}]}
    check([("x", "allow-ns-y-podselector-and-nsselector", spec)], 80, "TCP", r)


def test_multiple_pod_and_namespace_selectors_with_in():
    # "should enforce policy based on Multiple PodSelectors and NamespaceSelectors"
    r = Reachability()
    r.expect_peer(("x", None), ("x", "a"), False)
    r.expect("y/a", "x/a", False)
    r.expect("z/a", "x/a", False)
    notin_x = {"matchExpressions": [{"key": NS_LABEL, "operator": "NotIn", "values": ["x"]}]}
    pods_bc = {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]}
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"namespaceSelector": notin_x, "podSelector": pods_bc}]}]}
    check([("x", "allow-ns-y-z-pod-b-c", spec)], 80, "TCP", r)


def test_ports_only_port_81_from_namespace_y():
    # "should enforce policy based on Ports" (81 allowed from y) and "multiple, stacked policies" (80 denied)
    spec = {
        "podSelector": sel(pod="a"),
        "ingress": [{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 81, "protocol": "TCP"}]}],
    }
    allow = Reachability()
    allow.expect_peer(("x", None), ("x", "a"), False)
    allow.expect_peer(("z", None), ("x", "a"), False)
    check([("x", "allow-81", spec)], 81, "TCP", allow)
    deny = Reachability()
    deny.expect_all_ingress("x/a", False)
    check([("x", "allow-81", spec)], 80, "TCP", deny)
    # stacking a second policy for port 80 unblocks it (policies are a union)
    spec80 = {
        "podSelector": sel(pod="a"),
        "ingress": [{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 80, "protocol": "TCP"}]}],
    }
    check([("x", "allow-81", spec), ("x", "allow-80", spec80)], 80, "TCP", allow)


def test_allow_all_policy():
    # "should support allow-all policy": ingress: [{}]
    check([("x", "allow-all", {"podSelector": {}, "ingress": [{}]})], 81, "TCP", Reachability())


def test_ingress_on_one_named_port():
    # "should allow ingress access on one named port"
    spec = {"podSelector": {}, "ingress": [{"ports": [{"port": "serve-81-tcp"}]}]}
    check([("x", "allow-all", spec)], 81, "TCP", Reachability())
    r80 = Reachability()
    r80.expect_peer((None, None), ("x", None), False)
    check([("x", "allow-all", spec)], 80, "TCP", r80)


def test_ingress_from_namespace_on_one_named_port():
    # "should allow ingress access from namespace on one named port"
    spec = {
        "podSelector": sel(pod="a"),
        "ingress": [{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": "serve-80-tcp", "protocol": "TCP"}]}],
    }
    r = Reachability()
    r.expect_peer(("x", None), ("x", "a"), False)
    r.expect_peer(("z", None), ("x", "a"), False)
    check([("x", "named", spec)], 80, "TCP", r)
    fail = Reachability()
    fail.expect_all_ingress("x/a", False)
    check([("x", "named", spec)], 81, "TCP", fail)


def test_egress_on_one_named_port_egress_only_policy():
    # "should allow egress access on one named port" -- policyTypes Egress only: ingress stays open
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "serve-80-tcp"}]}]}
    check([("x", "allow-egress", spec)], 80, "TCP", Reachability())
    r81 = Reachability()
    r81.expect_peer(("x", None), (None, None), False)
    check([("x", "allow-egress", spec)], 81, "TCP", r81)


def test_named_port_requested_by_name():
    # Asking for the port by name resolves on each destination pod: serve-80-tcp is 80 everywhere.
    spec = {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}
    check([("x", "allow-80", spec)], "serve-80-tcp", "TCP", Reachability())
    r = Reachability()
    r.expect_peer((None, None), ("x", None), False)
    check([("x", "allow-80", spec)], "serve-81-tcp", "TCP", r)


def test_ingress_and_egress_together():
    # "should work with Ingress, Egress specified together"
    spec = {
        "podSelector": sel(pod="a"),
        "policyTypes": ["Egress", "Ingress"],
        "ingress": [{"from": [{"podSelector": sel(pod="b")}]}],
        "egress": [{"ports": [{"port": 80}]}],
    }
    r80 = Reachability()
    r80.expect_all_ingress("x/a", False)
    r80.expect("x/b", "x/a", True)
    check([("x", "allow-client-a-via-pod-selector", spec)], 80, "TCP", r80)
    r81 = Reachability()
    r81.expect_all_ingress("x/a", False)
    r81.expect_all_egress("x/a", False)
    r81.expect("x/b", "x/a", True)
    check([("x", "allow-client-a-via-pod-selector", spec)], 81, "TCP", r81)


def test_egress_denied_on_client_even_if_server_allows():
    # "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)"
    egress = {
        "podSelector": sel(pod="a"),
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": ns_is("y"), "podSelector": sel(pod="a")}]}],
    }
    ingress_rule = [{"from": [{"namespaceSelector": ns_is("x"), "podSelector": sel(pod="a")}]}]
    r = Reachability()
    r.expect_peer(("x", "a"), (None, None), False)
    r.expect_peer((None, None), ("y", "a"), False)
    r.expect_peer(("x", "a"), ("y", "a"), True)
    r.expect_peer((None, None), ("y", "b"), False)
    check(
        [
            ("x", "allow-to-ns-y-pod-a", egress),
            ("y", "allow-from-xa-on-ya", {"podSelector": sel(pod="a"), "ingress": ingress_rule}),
            ("y", "allow-from-xa-on-yb", {"podSelector": sel(pod="b"), "ingress": ingress_rule}),
        ],
        80,
        "TCP",
        r,
    )


def test_protocol_only_port_entry():
    # "should enforce ingress policy allowing any port traffic to a server on a specific protocol"
    spec = {"podSelector": sel(pod="a"), "ingress": [{"ports": [{"protocol": "TCP"}]}]}
    check([("x", "allow-ingress-by-proto", spec)], 80, "TCP", Reachability())
    udp = Reachability()
    udp.expect_peer((None, None), ("x", "a"), False)
    check([("x", "allow-ingress-by-proto", spec)], 80, "UDP", udp)


def test_multiple_policies_union_allow_all_wins():
    # "should enforce multiple ingress policies with ingress allow-all policy taking precedence"
    only80 = {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}
    r = Reachability()
    r.expect_peer((None, None), ("x", None), False)
    check([("x", "allow-ingress-port-80", only80)], 81, "TCP", r)
    check(
        [("x", "allow-ingress-port-80", only80), ("x", "allow-ingress", {"podSelector": {}, "ingress": [{}]})],
        81,
        "TCP",
        Reachability(),
    )


def test_egress_to_cidr_block_matches_pod_ip():
    # "should allow egress access to server in CIDR block"
    spec = {
        "podSelector": sel(pod="a"),
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": pod_ip("y", "b") + "/32"}}]}],
    }
    r = Reachability()
    r.expect_all_egress("x/a", False)
    r.expect("x/a", "y/b", True)
    check([("x", "allow-client-a-via-cidr-egress-rule", spec)], 80, "TCP", r)
    # A CNI that applies ipBlock only outside the cluster (ipblock-pods=ignore) denies it.
    r_ignore = Reachability()
    r_ignore.expect_all_egress("x/a", False)
    check([("x", "allow-client-a-via-cidr-egress-rule", spec)], 80, "TCP", r_ignore, ipblock_pods="ignore")


def test_ipblock_except_and_overlap_union():
    # "should enforce except clause ..." and "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed"
    cidr = {"ipBlock": {"cidr": "10.0.0.0/16", "except": [pod_ip("x", "b") + "/32"]}}
    spec = {"podSelector": sel(pod="a"), "policyTypes": ["Egress"], "egress": [{"to": [cidr]}]}
    r = Reachability()
    r.expect("x/a", "x/b", False)
    check([("x", "allow-cidr-except", spec)], 80, "TCP", r)
    spec2 = {
        "podSelector": sel(pod="a"),
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": pod_ip("x", "b") + "/32"}}]}],
    }
    check([("x", "allow-cidr-except", spec), ("x", "allow-b", spec2)], 80, "TCP", Reachability())


def test_end_port_range():
    # endPort: "the range of ports from port to endPort if set, inclusive" (NetworkPolicyPort.EndPort)
    spec = {
        "podSelector": sel(pod="a"),
        "ingress": [{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 79, "endPort": 80, "protocol": "TCP"}]}],
    }
    r = Reachability()
    r.expect_peer(("x", None), ("x", "a"), False)
    r.expect_peer(("z", None), ("x", "a"), False)
    check([("x", "range", spec)], 80, "TCP", r)
    r81 = Reachability()
    r81.expect_all_ingress("x/a", False)
    check([("x", "range", spec)], 81, "TCP", r81)


def test_sctp_or_udp_only_policy_does_not_admit_tcp():
    # "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'" / "should not allow access by TCP when a
    # policy specifies only UDP"
    for proto in ("SCTP", "UDP"):
        spec = {"podSelector": sel(pod="a"), "ingress": [{"ports": [{"port": 81, "protocol": proto}]}]}
        r = Reachability()
        r.expect_all_ingress("x/a", False)
        check([("x", f"allow-only-{proto.lower()}", spec)], 81, "TCP", r)
        check([("x", f"allow-only-{proto.lower()}", spec)], 81, proto, Reachability())


def test_deny_ingress_from_other_namespaces():
    # "should deny ingress from pods on other namespaces": podSelector {} peer = the policy's namespace only
    spec = {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}
    r = Reachability()
    r.expect_peer(("y", None), ("x", None), False)
    r.expect_peer(("z", None), ("x", None), False)
    check([("x", "deny-empty-policy", spec)], 80, "TCP", r)


def test_allow_from_all_namespaces_with_empty_namespace_selector():
    # "should enforce policy to allow ingress traffic from pods in all namespaces"
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"namespaceSelector": {}}]}]}
    check([("x", "allow-from-another-ns", spec)], 80, "TCP", Reachability())


@pytest.mark.parametrize("broken", [False, True])
def test_table_comparison_can_fail(broken: bool):
    # The comparison is not a tautology: a wrong expectation is reported.
    r = Reachability()
    r.expect_peer((None, None), ("x", None), False)
    if broken:
        r.expect("y/a", "x/a", True)
        with pytest.raises(AssertionError):
            check([("x", "deny-ingress", {"podSelector": {}})], 80, "TCP", r)
    else:
        check([("x", "deny-ingress", {"podSelector": {}})], 80, "TCP", r)


def test_rows_expansion_matches_allowed():
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"podSelector": sel(pod="b")}]}]}
    compiled = compile_snapshot(cluster([("x", "p", spec)]))
    peers = [compiled.peer(w) for w in compiled.snapshot.workloads]
    result = compute_paths(compiled, peers, peers, [(80, "TCP"), ("serve-81-tcp", "TCP")])
    rows = list(result.rows())
    assert len(rows) == 2 * len(peers) ** 2
    by_key = {(r.source.ref, r.destination.ref, r.port): r for r in rows}
    assert by_key[("x/b", "x/a", 80)].allowed is True
    assert by_key[("x/c", "x/a", 80)].to_dict() == {
        "from": "x/c",
        "to": "x/a",
        "port": 80,
        "protocol": "TCP",
        "allowed": False,
        "egress": {"allowed": True},
        "ingress": {"allowed": False},
    }
    assert by_key[("x/a", "x/a", 80)].allowed is True  # loopback
    for k in range(2):
        for i, j, allowed, _eg, _ing in result.pairs(k):
            assert allowed is result.allowed(k, i, j)
    ev = result.evidence(0, peers.index(next(p for p in peers if p.ref == "x/c")), 0)
    assert ev.allowed is False and ev.ingress.selecting == ("NP x/p",)


def test_row_strings_one_char_per_destination():
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"podSelector": sel(pod="b")}]}]}
    compiled = compile_snapshot(cluster([("x", "p", spec)]))
    peers = [compiled.peer(w) for w in compiled.snapshot.workloads]
    result = compute_paths(compiled, peers, peers, [(80, "TCP")])
    xa = next(i for i, p in enumerate(peers) if p.ref == "x/a")
    for i in range(len(peers)):
        allowed, egress, ingress = result.row_strings(0, i)
        assert len(allowed) == len(peers) and set(egress) == {"1"}
        assert [c == "1" for c in allowed] == [result.allowed(0, i, j) for j in range(len(peers))]
        assert ingress[xa] == ("1" if peers[i].ref in ("x/a", "x/b") else "0")


def test_allow_ingress_traffic_for_a_target():
    # "should enforce policy to allow ingress traffic for a target": deny-all in x, then allow all to x/a
    allow = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"podSelector": {}, "namespaceSelector": {}}]}]}
    r = Reachability()
    r.expect_all_ingress("x/a", True)
    r.expect_all_ingress("x/b", False)
    r.expect_all_ingress("x/c", False)
    check([("x", "deny-all", {"podSelector": {}, "ingress": []}), ("x", "allow-all-to-a", allow)], 80, "TCP", r)


def test_deny_egress_from_pod_and_from_namespace():
    # "should deny egress from pods based on PodSelector" / "should deny egress from all pods in a namespace"
    r = Reachability()
    r.expect_all_egress("x/a", False)
    check([("x", "deny-egress-pod-a", {"podSelector": sel(pod="a"), "policyTypes": ["Egress"]})], 80, "TCP", r)
    r2 = Reachability()
    r2.expect_peer(("x", None), (None, None), False)
    check([("x", "deny-egress-ns-x", {"podSelector": {}, "policyTypes": ["Egress"]})], 80, "TCP", r2)


def test_ingress_and_egress_controlled_independently():
    # "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector"
    allow_egress = ("x", "allow-egress-for-target", {"podSelector": sel(pod="a"), "policyTypes": ["Egress"], "egress": [{}]})
    check([allow_egress], 80, "TCP", Reachability())
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    deny_ingress = ("x", "deny-ingress-via-label-selector", {"podSelector": sel(pod="a"), "policyTypes": ["Ingress"]})
    check([allow_egress, deny_ingress], 80, "TCP", r)


def test_multiple_egress_policies_allow_all_wins():
    # "should enforce multiple egress policies with egress allow-all policy taking precedence"
    only80 = ("x", "allow-egress-port-80", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 80}]}]})
    r = Reachability()
    r.expect_peer(("x", None), (None, None), False)
    check([only80], 81, "TCP", r)
    all_egress = ("x", "allow-egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})
    check([only80, all_egress], 81, "TCP", Reachability())


def test_pod_selector_with_match_expressions_and_namespace_default_label():
    # "should enforce policy based on PodSelector with MatchExpressions" and "... NamespaceSelector with MatchLabels
    # using default ns label"
    in_b = {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b"]}]}
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("x/b", "x/a", True)
    check([("x", "x-a-allows-x-b", {"podSelector": sel(pod="a"), "ingress": [{"from": [{"podSelector": in_b}]}]})], 80, "TCP", r)
    r2 = Reachability()
    r2.expect_peer(("x", None), ("x", "a"), False)
    r2.expect_peer(("z", None), ("x", "a"), False)
    spec = {"podSelector": sel(pod="a"), "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {NS_LABEL: "y"}}}]}]}
    check([("x", "allow-client-a-via-ns-selector", spec)], 80, "TCP", r2)
