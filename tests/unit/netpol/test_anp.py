"""AdminNetworkPolicy (v1alpha1) and BaselineAdminNetworkPolicy tiers: ANP (priority order) -> NetworkPolicy -> BANP."""

from __future__ import annotations

from typing import Any

from kubectl_netsso.cluster.snapshot import AdminNetworkPolicy, ContainerPort, Gap, Namespace, NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import evaluate_flow
from kubectl_netsso.netpol.explain import explain_text
from kubectl_netsso.netpol.model import ExternalPeer, Flow

PORTS = (ContainerPort(8080, "TCP", "http"), ContainerPort(9090, "TCP", "metrics"))


def cluster(
    anps: list[tuple[str, dict[str, Any]]] = (),
    nps: list[tuple[str, str, dict[str, Any]]] = (),  # type: ignore[assignment]
    banp: dict[str, Any] | None = None,
    gaps: tuple[Gap, ...] = (),
) -> Snapshot:
    objs = [AdminNetworkPolicy(name, "AdminNetworkPolicy", spec) for name, spec in anps]
    if banp is not None:
        objs.append(AdminNetworkPolicy("default", "BaselineAdminNetworkPolicy", banp))
    return Snapshot(
        namespaces=(
            Namespace("shop", {"env": "prod"}),
            Namespace("dev", {"env": "dev"}),
            Namespace("mon", {"role": "monitoring"}),
        ),
        workloads=(
            Workload("shop", "api", "Pod", {"app": "api"}, PORTS, ips=("10.1.0.5",)),
            Workload("dev", "tool", "Pod", {"app": "tool"}, (), ips=("10.2.0.5",)),
            Workload("mon", "prom", "Pod", {"app": "prom"}, (), ips=("10.3.0.5",)),
        ),
        network_policies=tuple(NetworkPolicy(ns, n, s) for ns, n, s in nps),
        admin_network_policies=tuple(objs),
        gaps=gaps,
    )


def run(s: Snapshot, src: str, dst: str, port: int | str = 8080, protocol: str = "TCP"):
    c = compile_snapshot(s)
    peers = {w.ref: c.peer(w) for w in s.workloads}
    a = ExternalPeer(src[3:]) if src.startswith("ip:") else peers[src]
    b = ExternalPeer(dst[3:]) if dst.startswith("ip:") else peers[dst]
    return evaluate_flow(c, Flow(a, b, port, protocol))


PROD = {"namespaces": {"matchLabels": {"env": "prod"}}}
FROM_DEV = [{"namespaces": {"matchLabels": {"env": "dev"}}}]
FROM_MON = [{"namespaces": {"matchLabels": {"role": "monitoring"}}}]


def anp(
    priority: int,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
    subject: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"priority": priority, "subject": subject or PROD}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return spec


ALLOW_ALL_NP = ("shop", "allow-all", {"podSelector": {}, "ingress": [{}]})
DENY_ALL_NP = ("shop", "deny-all", {"podSelector": {}, "ingress": []})


def test_anp_deny_beats_networkpolicy_allow():
    s = cluster([("deny-dev", anp(10, [{"name": "no-dev", "action": "Deny", "from": FROM_DEV}]))], [ALLOW_ALL_NP])
    v = run(s, "dev/tool", "shop/api")
    assert v.allowed is False
    assert v.ingress.decided_by is not None and v.ingress.decided_by.kind == "AdminNetworkPolicy"
    assert v.ingress.decided_by.rule_name == "no-dev"
    assert "NP shop/allow-all" in v.ingress.selecting  # evidence still lists the NP that selects the pod
    assert v.fix == () and any("cannot override" in n for n in v.notes)
    assert run(s, "mon/prom", "shop/api").allowed is True


def test_anp_allow_beats_networkpolicy_deny():
    s = cluster([("allow-mon", anp(5, [{"action": "Allow", "from": FROM_MON}]))], [DENY_ALL_NP])
    assert run(s, "mon/prom", "shop/api").allowed is True
    assert run(s, "dev/tool", "shop/api").allowed is False


def test_priority_lower_number_first_and_rule_order():
    allow = ("allow", anp(1, [{"action": "Allow", "from": FROM_DEV}]))
    deny = ("deny", anp(2, [{"action": "Deny", "from": FROM_DEV}]))
    assert run(cluster([deny, allow]), "dev/tool", "shop/api").allowed is True
    allow_late = ("allow", anp(3, [{"action": "Allow", "from": FROM_DEV}]))
    assert run(cluster([deny, allow_late]), "dev/tool", "shop/api").allowed is False
    ordered = ("one", anp(1, [{"action": "Deny", "from": FROM_DEV}, {"action": "Allow", "from": FROM_DEV}]))
    assert run(cluster([ordered]), "dev/tool", "shop/api").allowed is False


def test_same_priority_warns():
    s = cluster([("a", anp(7, [{"action": "Deny", "from": FROM_DEV}])), ("b", anp(7, [{"action": "Allow", "from": FROM_DEV}]))])
    assert any("share priority 7" in w for w in compile_snapshot(s).warnings)


def test_pass_delegates_to_networkpolicy_then_baseline():
    pass_dev = ("pass", anp(1, [{"action": "Pass", "from": FROM_DEV}]))
    deny_later = ("deny", anp(2, [{"action": "Deny", "from": FROM_DEV}]))
    # Pass skips the lower-priority Deny; the NetworkPolicy tier (allow-all) decides
    assert run(cluster([pass_dev, deny_later], [ALLOW_ALL_NP]), "dev/tool", "shop/api").allowed is True
    # no NetworkPolicy selects the pod: BANP decides
    banp = {"subject": PROD, "ingress": [{"action": "Deny", "from": FROM_DEV}]}
    v = run(cluster([pass_dev, deny_later], [], banp), "dev/tool", "shop/api")
    assert v.allowed is False and v.ingress.decided_by.kind == "BaselineAdminNetworkPolicy"  # type: ignore[union-attr]
    assert [st.tier for st in v.ingress.steps] == ["ANP", "NP", "BANP"]


def test_banp_only_when_networkpolicy_does_not_decide():
    banp = {"subject": PROD, "ingress": [{"action": "Deny", "from": FROM_DEV}]}
    assert run(cluster([], [], banp), "dev/tool", "shop/api").allowed is False
    assert run(cluster([], [ALLOW_ALL_NP], banp), "dev/tool", "shop/api").allowed is True
    assert run(cluster([], [], banp), "mon/prom", "shop/api").allowed is True  # no BANP rule matches: default allow


def test_banp_must_be_named_default():
    s = Snapshot(
        namespaces=(Namespace("a"),),
        admin_network_policies=(AdminNetworkPolicy("other", "BaselineAdminNetworkPolicy", {"subject": {"namespaces": {}}}),),
    )
    c = compile_snapshot(s)
    assert c.baseline is None and any("named 'default'" in w for w in c.warnings)


def test_subject_pods_selector():
    subject = {"pods": {"namespaceSelector": {"matchLabels": {"env": "prod"}}, "podSelector": {"matchLabels": {"app": "other"}}}}
    s = cluster([("x", anp(1, [{"action": "Deny", "from": FROM_DEV}], subject=subject))])
    assert run(s, "dev/tool", "shop/api").allowed is True  # api is not app=other


def test_anp_ports_number_named_range():
    rule = {"action": "Deny", "from": FROM_DEV, "ports": [{"portNumber": {"protocol": "TCP", "port": 8080}}]}
    s = cluster([("p", anp(1, [rule]))])
    assert run(s, "dev/tool", "shop/api", 8080).allowed is False
    assert run(s, "dev/tool", "shop/api", 8081).allowed is True
    named = cluster([("p", anp(1, [{"action": "Deny", "from": FROM_DEV, "ports": [{"namedPort": "metrics"}]}]))])
    assert run(named, "dev/tool", "shop/api", 9090).allowed is False
    assert run(named, "dev/tool", "shop/api", 8080).allowed is True
    rng = cluster(
        [
            (
                "p",
                anp(
                    1,
                    [
                        {
                            "action": "Deny",
                            "from": FROM_DEV,
                            "ports": [{"portRange": {"protocol": "UDP", "start": 1000, "end": 2000}}],
                        }
                    ],
                ),
            )
        ]
    )
    assert run(rng, "dev/tool", "shop/api", 1500, "UDP").allowed is False
    assert run(rng, "dev/tool", "shop/api", 1500, "TCP").allowed is True


def test_egress_networks_and_pods_peers():
    eg = [
        {"action": "Deny", "to": [{"networks": ["203.0.113.0/24"]}]},
        {"action": "Deny", "to": [{"pods": {"namespaceSelector": {"matchLabels": {"env": "dev"}}, "podSelector": {}}}]},
    ]
    s = cluster([("p", anp(1, egress=eg))])
    assert run(s, "shop/api", "ip:203.0.113.9", 443).allowed is False
    assert run(s, "shop/api", "ip:198.51.100.9", 443).allowed is True
    assert run(s, "shop/api", "dev/tool", 80).allowed is False
    assert run(s, "shop/api", "mon/prom", 80).allowed is True
    # 0.0.0.0/0 also matches pod-to-pod traffic
    all_net = cluster([("p", anp(1, egress=[{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]))])
    assert run(all_net, "shop/api", "mon/prom", 80).allowed is False


def test_unknown_peer_fails_closed():
    s_allow = cluster([("p", anp(1, [{"action": "Allow", "from": [{"somethingNew": {}}]}]))], [DENY_ALL_NP])
    assert run(s_allow, "dev/tool", "shop/api").allowed is False  # Allow with unknown peer matches nothing
    s_deny = cluster([("p", anp(1, [{"action": "Deny", "from": [{"somethingNew": {}}]}]))])
    assert run(s_deny, "dev/tool", "shop/api").allowed is False  # Deny with unknown peer matches everything


def test_anp_without_rules_in_direction_does_not_touch_it():
    s = cluster([("p", anp(1, egress=[{"action": "Deny", "to": FROM_DEV}]))])
    assert run(s, "dev/tool", "shop/api").allowed is True  # ingress to shop/api untouched


def test_anp_gap_makes_everything_unknown():
    s = cluster(gaps=(Gap("adminnetworkpolicies", None, "403"),))
    assert run(s, "dev/tool", "shop/api").allowed is None


def test_walkthrough_text():
    s = cluster([("pass", anp(1, [{"action": "Pass", "from": FROM_DEV}]))], [DENY_ALL_NP])
    v = run(s, "dev/tool", "shop/api")
    assert v.allowed is False
    text = "\n".join(explain_text(v))
    assert "NP shop/deny-all" in text and "ANP pass" in text


def test_selecting_lists_all_tiers_even_without_explain():
    banp = {"subject": PROD, "ingress": [{"action": "Deny", "from": FROM_DEV}]}
    s = cluster(
        [
            ("allow-mon", anp(5, [{"action": "Allow", "from": FROM_MON}])),
            ("other", anp(9, [{"action": "Deny", "from": FROM_DEV}])),
        ],
        [DENY_ALL_NP],
        banp,
    )
    c = compile_snapshot(s)
    peers = {w.ref: c.peer(w) for w in s.workloads}
    for explain in (True, False):
        v = evaluate_flow(c, Flow(peers["mon/prom"], peers["shop/api"], 8080, "TCP"), explain=explain)
        assert v.allowed is True
        assert v.ingress.selecting == ("ANP allow-mon", "ANP other", "NP shop/deny-all", "BANP default")


def test_nodes_peer_is_noted_for_external_destinations():
    s = cluster([("no-nodes", anp(1, egress=[{"action": "Deny", "to": [{"nodes": {}}]}]))])
    v = run(s, "shop/api", "ip:192.0.2.10", 10250)
    assert v.allowed is True and any("nodes peer" in n for n in v.notes)
    assert not any("nodes peer" in n for n in run(s, "shop/api", "mon/prom", 80).notes)
