"""One test per NetworkPolicy v1 rule (reference/netpol-semantics.md §3), on plain data through evaluate_flow."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_netsso.cluster.snapshot import ContainerPort, Gap, Namespace, NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import evaluate_flow
from kubectl_netsso.netpol.model import ExternalPeer, Flow, PodPeer
from kubectl_netsso.netpol.ports import PortError, make_request, parse_anp_port, parse_np_port
from kubectl_netsso.netpol.selectors import SelectorError, parse_selector

HTTP = (ContainerPort(8080, "TCP", "http"), ContainerPort(53, "UDP", "dns"))


def snap(*policies: tuple[str, str, dict[str, Any]], gaps: tuple[Gap, ...] = (), extra: tuple[Workload, ...] = ()) -> Snapshot:
    return Snapshot(
        namespaces=(
            Namespace("shop", {"team": "shop"}),
            Namespace("frontend", {"team": "frontend"}),
            Namespace("web", {"team": "web"}),
        ),
        workloads=(
            Workload("shop", "api-7d9", "Pod", {"app": "api"}, HTTP, ips=("10.1.0.5",)),
            Workload("shop", "db", "Pod", {"app": "db"}, (ContainerPort(5432, "TCP", "pg"),), ips=("10.1.0.6",)),
            Workload("frontend", "ui", "Pod", {"app": "ui"}, (), ips=("10.2.0.7",)),
            Workload("web", "ui", "Pod", {"app": "ui"}, (), ips=("10.3.0.8", "fd00::8")),
        )
        + extra,
        network_policies=tuple(NetworkPolicy(ns, name, spec) for ns, name, spec in policies),
        gaps=gaps,
    )


def flow(s: Snapshot, src: str, dst: str, port: int | str | None = 8080, protocol: str = "TCP", **kw: Any):
    compiled = compile_snapshot(s, **kw)
    peers = {w.ref: compiled.peer(w) for w in s.workloads}
    source = ExternalPeer(src[3:]) if src.startswith("ip:") else peers[src]
    dest = ExternalPeer(dst[3:]) if dst.startswith("ip:") else peers[dst]
    return evaluate_flow(compiled, Flow(source, dest, port, protocol))


def ingress_from(
    peers: list[dict[str, Any]] | None = None, ports: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if peers is not None:
        rule["from"] = peers
    if ports is not None:
        rule["ports"] = ports
    return {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [rule], **extra}


# --- isolation and defaults --------------------------------------------------------------------------------------------


def test_pod_selected_by_no_policy_is_open_both_ways():
    v = flow(snap(), "frontend/ui", "shop/api-7d9")
    assert v.allowed is True
    assert "allowed by default" in v.egress.reason and "allowed by default" in v.ingress.reason
    assert v.egress.selecting == () and v.ingress.selecting == ()


def test_policy_types_default_ingress_only_when_no_egress_section():
    s = snap(("shop", "deny", {"podSelector": {}}))  # no policyTypes, no egress: Ingress only
    assert flow(s, "shop/api-7d9", "frontend/ui").allowed is True  # egress of shop pods unaffected
    assert flow(s, "frontend/ui", "shop/api-7d9").allowed is False


def test_policy_types_default_adds_egress_when_egress_rules_present():
    s = snap(("shop", "p", {"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]}))
    v = flow(s, "shop/api-7d9", "frontend/ui")
    assert v.egress.allowed is False  # Egress added by defaulting; the rule only allows the own namespace
    # and Ingress is always there: ingress to shop is now isolated with no ingress rules
    assert flow(s, "frontend/ui", "shop/api-7d9").ingress.allowed is False


def test_empty_egress_list_without_policy_types_does_not_isolate_egress():
    s = snap(("shop", "p", {"podSelector": {}, "egress": []}))
    assert flow(s, "shop/api-7d9", "frontend/ui").egress.allowed is True


def test_egress_only_policy_leaves_ingress_open():
    s = snap(("shop", "p", {"podSelector": {}, "policyTypes": ["Egress"], "ingress": []}))
    assert flow(s, "frontend/ui", "shop/api-7d9").ingress.allowed is True  # ingress rules ignored without Ingress type
    assert flow(s, "shop/api-7d9", "frontend/ui").egress.allowed is False


def test_flow_needs_source_egress_and_destination_ingress():
    s = snap(("frontend", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}))
    v = flow(s, "frontend/ui", "shop/api-7d9")
    assert (v.allowed, v.egress.allowed, v.ingress.allowed) == (False, False, True)


def test_ingress_empty_list_denies_and_empty_rule_allows_all():
    deny = snap(("shop", "p", {"podSelector": {}, "ingress": []}))
    allow = snap(("shop", "p", {"podSelector": {}, "ingress": [{}]}))
    assert flow(deny, "frontend/ui", "shop/api-7d9").allowed is False
    v = flow(allow, "frontend/ui", "shop/api-7d9")
    assert v.allowed is True and v.ingress.decided_by is not None and v.ingress.decided_by.rule_index == 0
    assert flow(allow, "ip:203.0.113.9", "shop/api-7d9").allowed is True  # a rule without from = all sources


def test_omitted_pod_selector_selects_every_pod_of_namespace():
    s = snap(("shop", "p", {"ingress": []}))
    assert flow(s, "frontend/ui", "shop/db", 5432).allowed is False


def test_policies_combine_as_union():
    a = ("shop", "a", ingress_from([{"namespaceSelector": {"matchLabels": {"team": "web"}}}]))
    b = ("shop", "b", ingress_from([{"namespaceSelector": {"matchLabels": {"team": "frontend"}}}]))
    assert flow(snap(a), "frontend/ui", "shop/api-7d9").allowed is False
    v = flow(snap(a, b), "frontend/ui", "shop/api-7d9")
    assert v.allowed is True and v.ingress.decided_by.policy == "shop/b"  # type: ignore[union-attr]
    assert set(v.ingress.selecting) == {"NP shop/a", "NP shop/b"}


# --- peers -------------------------------------------------------------------------------------------------------------


def test_pod_selector_only_peer_is_in_the_policys_namespace():
    s = snap(("shop", "p", ingress_from([{"podSelector": {"matchLabels": {"app": "ui"}}}])))
    assert flow(s, "frontend/ui", "shop/api-7d9").allowed is False
    s2 = snap(("shop", "p", ingress_from([{"podSelector": {"matchLabels": {"app": "db"}}}])))
    assert flow(s2, "shop/db", "shop/api-7d9").allowed is True


def test_namespace_selector_only_peer_means_all_pods_there():
    s = snap(("shop", "p", ingress_from([{"namespaceSelector": {"matchLabels": {"team": "frontend"}}}])))
    assert flow(s, "frontend/ui", "shop/api-7d9").allowed is True
    assert flow(s, "web/ui", "shop/api-7d9").allowed is False


def test_namespace_and_pod_selector_in_one_peer_is_and_two_peers_is_or():
    both = [{"namespaceSelector": {"matchLabels": {"team": "web"}}, "podSelector": {"matchLabels": {"app": "db"}}}]
    either = [{"namespaceSelector": {"matchLabels": {"team": "web"}}}, {"podSelector": {"matchLabels": {"app": "db"}}}]
    assert flow(snap(("shop", "p", ingress_from(both))), "web/ui", "shop/api-7d9").allowed is False
    assert flow(snap(("shop", "p", ingress_from(either))), "web/ui", "shop/api-7d9").allowed is True
    assert flow(snap(("shop", "p", ingress_from(either))), "shop/db", "shop/api-7d9").allowed is True


def test_empty_namespace_selector_is_all_namespaces_but_not_external():
    s = snap(("shop", "p", ingress_from([{"namespaceSelector": {}}])))
    assert flow(s, "web/ui", "shop/api-7d9").allowed is True
    assert flow(s, "ip:198.51.100.1", "shop/api-7d9").allowed is False


def test_namespace_selected_by_automatic_name_label():
    s = snap(("shop", "p", ingress_from([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}])))
    assert flow(s, "web/ui", "shop/api-7d9").allowed is True
    assert flow(s, "frontend/ui", "shop/api-7d9").allowed is False


# --- ipBlock -----------------------------------------------------------------------------------------------------------


def test_ipblock_external_ip_with_except_ipv4():
    s = snap(("shop", "p", ingress_from([{"ipBlock": {"cidr": "198.51.100.0/24", "except": ["198.51.100.128/25"]}}])))
    assert flow(s, "ip:198.51.100.7", "shop/api-7d9").allowed is True
    v = flow(s, "ip:198.51.100.200", "shop/api-7d9")
    assert v.allowed is False
    assert "198.51.100.200 is in except 198.51.100.128/25" in v.ingress.closest[0].text


def test_ipblock_ipv6_and_dual_stack_pod():
    s = snap(("shop", "p", ingress_from([{"ipBlock": {"cidr": "fd00::/64"}}])))
    assert flow(s, "ip:fd00::1", "shop/api-7d9").allowed is True
    assert flow(s, "ip:2001:db8::1", "shop/api-7d9").allowed is False
    assert flow(s, "web/ui", "shop/api-7d9").allowed is True  # web/ui has fd00::8
    assert flow(s, "web/ui", "shop/api-7d9", ipblock_pods="ignore").allowed is False


def test_ipblock_pod_without_known_ip_does_not_match():
    extra = (Workload("web", "noip", "Deployment", {"app": "x"}),)
    s = snap(("shop", "p", ingress_from([{"ipBlock": {"cidr": "0.0.0.0/0"}}])), extra=extra)
    v = flow(s, "web/deployment/noip", "shop/api-7d9")
    assert v.allowed is False and "unknown" in v.ingress.closest[0].text


def test_egress_to_external_ip():
    s = snap(
        (
            "shop",
            "p",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443}]}],
            },
        )
    )
    assert flow(s, "shop/api-7d9", "ip:203.0.113.5", 443).allowed is True
    assert flow(s, "shop/api-7d9", "ip:203.0.113.5", 80).allowed is False
    assert flow(s, "shop/api-7d9", "ip:192.0.2.1", 443).allowed is False


# --- ports -------------------------------------------------------------------------------------------------------------


def test_default_protocol_is_tcp():
    s = snap(("shop", "p", ingress_from(None, [{"port": 8080}])))
    assert flow(s, "frontend/ui", "shop/api-7d9", 8080, "TCP").allowed is True
    assert flow(s, "frontend/ui", "shop/api-7d9", 8080, "UDP").allowed is False


def test_named_port_resolves_on_destination_by_name_and_protocol():
    s = snap(("shop", "p", ingress_from(None, [{"port": "http"}])))
    assert flow(s, "frontend/ui", "shop/api-7d9", 8080).allowed is True
    assert flow(s, "frontend/ui", "shop/api-7d9", 8081).allowed is False
    s_udp = snap(("shop", "p", ingress_from(None, [{"port": "dns", "protocol": "UDP"}])))
    assert flow(s_udp, "frontend/ui", "shop/api-7d9", 53, "UDP").allowed is True
    s_wrong = snap(("shop", "p", ingress_from(None, [{"port": "dns"}])))  # dns is UDP on the pod; rule says TCP
    v = flow(s_wrong, "frontend/ui", "shop/api-7d9", 53, "TCP")
    assert v.allowed is False


def test_named_port_missing_on_pod_explained():
    s = snap(("shop", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]}))
    v = flow(s, "frontend/ui", "shop/db", 5432)
    assert v.allowed is False
    assert "named port http (TCP) not defined on pod shop/db" in v.ingress.closest[0].text


def test_named_port_egress_resolves_on_peer_pod_never_on_ip():
    s = snap(("frontend", "p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "http"}]}]}))
    assert flow(s, "frontend/ui", "shop/api-7d9", 8080).allowed is True
    assert flow(s, "frontend/ui", "ip:203.0.113.5", 8080).allowed is False


def test_request_by_port_name():
    s = snap(("shop", "p", ingress_from(None, [{"port": 8080}])))
    v = flow(s, "frontend/ui", "shop/api-7d9", "http")
    assert v.allowed is True and v.resolved_port == 8080


def test_end_port_inclusive_range():
    s = snap(("shop", "p", ingress_from(None, [{"port": 8000, "endPort": 8080}])))
    assert flow(s, "frontend/ui", "shop/api-7d9", 8000).allowed is True
    assert flow(s, "frontend/ui", "shop/api-7d9", 8080).allowed is True
    v = flow(s, "frontend/ui", "shop/api-7d9", 8081)
    assert v.allowed is False and "allows ports 8000-8080/TCP; request is 8081/TCP" in v.ingress.closest[0].text


def test_port_entry_with_only_protocol():
    s = snap(("shop", "p", ingress_from(None, [{"protocol": "UDP"}])))
    assert flow(s, "frontend/ui", "shop/api-7d9", 9999, "UDP").allowed is True
    assert flow(s, "frontend/ui", "shop/api-7d9", 9999, "TCP").allowed is False


def test_any_port_request_needs_one_port_allowed_both_ways():
    s = snap(
        ("frontend", "eg", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 80}]}]}),
        ("shop", "in", ingress_from(None, [{"port": 8080}])),
    )
    v = flow(s, "frontend/ui", "shop/api-7d9", None)
    assert v.allowed is False  # egress only 80, ingress only 8080: no common port
    s2 = snap(
        (
            "frontend",
            "eg",
            {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 8000, "endPort": 9000}]}]},
        ),
        ("shop", "in", ingress_from(None, [{"port": 8080}])),
    )
    v2 = flow(s2, "frontend/ui", "shop/api-7d9", None)
    assert v2.allowed is True and v2.resolved_port == 8080


# --- self, hostNetwork -------------------------------------------------------------------------------------------------


def test_traffic_to_itself_is_allowed():
    s = snap(("shop", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}))
    v = flow(s, "shop/api-7d9", "shop/api-7d9")
    assert v.allowed is True and "itself" in v.notes[0]
    assert flow(s, "shop/db", "shop/api-7d9").allowed is False


def test_workload_to_itself_is_not_loopback():
    extra = (Workload("shop", "worker", "Deployment", {"app": "worker"}),)
    s = snap(("shop", "deny", {"podSelector": {}}), extra=extra)
    assert flow(s, "shop/deployment/worker", "shop/deployment/worker").allowed is False  # replica to replica


def test_host_network_pod_is_outside_policy():
    extra = (Workload("shop", "node-agent", "Pod", {"app": "api"}, (), ips=("192.168.1.10",), host_network=True),)
    s = snap(("shop", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}), extra=extra)
    v = flow(s, "frontend/ui", "shop/node-agent")
    assert v.allowed is True and any("hostNetwork" in n for n in v.notes)
    # as a source it is not matched by pod selectors (it appears as its node's IP)
    s2 = snap(("frontend", "p", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}), extra=extra)
    assert flow(s2, "shop/node-agent", "frontend/ui", 80).allowed is False
    s3 = snap(
        ("frontend", "p", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.1.0/24"}}]}]}), extra=extra
    )
    assert flow(s3, "shop/node-agent", "frontend/ui", 80, ipblock_pods="ignore").allowed is True


def test_external_source_egress_is_not_policed():
    v = flow(snap(), "ip:203.0.113.1", "shop/api-7d9")
    assert v.egress.allowed is True and "outside the cluster" in v.egress.reason


# --- gaps --------------------------------------------------------------------------------------------------------------


def test_gap_listing_policies_makes_dependent_verdicts_unknown():
    s = snap(gaps=(Gap("networkpolicies", "shop", "403 Forbidden"),))
    v = flow(s, "frontend/ui", "shop/api-7d9")
    assert v.allowed is None and v.ingress.allowed is None and "403 Forbidden" in (v.ingress.unknown_reason or "")
    assert v.egress.allowed is True
    assert flow(s, "frontend/ui", "web/ui", 80).allowed is True  # does not depend on shop


def test_known_deny_beats_unknown():
    s = snap(
        ("frontend", "deny-eg", {"podSelector": {}, "policyTypes": ["Egress"]}), gaps=(Gap("networkpolicies", "shop", "403"),)
    )
    assert flow(s, "frontend/ui", "shop/api-7d9").allowed is False


def test_gap_on_namespace_labels_makes_namespace_selector_unknown():
    s = snap(
        ("shop", "p", ingress_from([{"namespaceSelector": {"matchLabels": {"team": "frontend"}}}])),
        gaps=(Gap("namespaces", None, "403 listing namespaces"),),
    )
    v = flow(s, "frontend/ui", "shop/api-7d9")
    assert v.allowed is None
    # selecting by the automatic name label does not need the labels
    s2 = snap(
        ("shop", "p", ingress_from([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "frontend"}}}])),
        gaps=(Gap("namespaces", None, "403"),),
    )
    assert flow(s2, "frontend/ui", "shop/api-7d9").allowed is True


# --- invalid input fails closed ----------------------------------------------------------------------------------------


def test_invalid_selector_and_port_fail_closed_with_warnings():
    bad = {
        "podSelector": {},
        "ingress": [
            {"from": [{"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}]},
            {"ports": [{"port": 70000}]},
        ],
    }
    s = snap(("shop", "bad", bad))
    compiled = compile_snapshot(s)
    assert any("operator" in w for w in compiled.warnings) and any("70000" in w for w in compiled.warnings)
    assert flow(s, "shop/db", "shop/api-7d9").allowed is False


def test_ipblock_with_selector_is_invalid():
    s = snap(("shop", "bad", ingress_from([{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}])))
    assert any("ipBlock together" in w for w in compile_snapshot(s).warnings)
    assert flow(s, "shop/db", "shop/api-7d9").allowed is False


# --- selectors and ports as units --------------------------------------------------------------------------------------


def test_selector_null_vs_empty_and_operators():
    assert parse_selector(None) is None
    empty = parse_selector({})
    assert empty is not None and empty.matches({}) and empty.matches({"a": "b"})
    s = parse_selector(
        {
            "matchLabels": {"app": "api"},
            "matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["db"]},
                {"key": "env", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert s is not None
    assert s.matches({"app": "api", "env": "prod"})
    assert s.matches({"app": "api", "env": "prod", "tier": "web"})
    assert not s.matches({"app": "api", "env": "prod", "tier": "db"})
    assert not s.matches({"app": "api"})
    assert not s.matches({"app": "api", "env": "x", "legacy": "1"})
    assert s.describe() == "app=api,tier!=db,env,!legacy"
    with pytest.raises(SelectorError):
        parse_selector({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})
    with pytest.raises(SelectorError):
        parse_selector({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})


def test_port_parsing_rules():
    assert parse_np_port({}).protocol == "TCP"
    with pytest.raises(PortError):
        parse_np_port({"port": "http", "endPort": 90})
    with pytest.raises(PortError):
        parse_np_port({"port": 90, "endPort": 80})
    with pytest.raises(PortError):
        parse_np_port({"protocol": "ICMP"})
    assert parse_anp_port({"portRange": {"start": 1000, "end": 2000}}).end_port == 2000
    with pytest.raises(PortError):
        parse_anp_port({"portNumber": {"port": 80}, "namedPort": "http"})
    r = make_request("http", "TCP", HTTP, "shop/api")
    assert r.number == 8080 and r.problem is None
    assert make_request("http", "UDP", HTTP, "shop/api").problem is not None


def test_peer_refs():
    p = PodPeer("shop", name="api", kind="Deployment")
    assert p.ref == "shop/deployment/api"
    assert ExternalPeer("10.0.0.1").ref == "ip:10.0.0.1"


def test_paths_with_gap_reports_unknown_pairs_only_where_they_depend_on_it():
    from kubectl_netsso.netpol.paths import compute_paths

    s = snap(
        ("frontend", "deny-eg", {"podSelector": {}, "policyTypes": ["Egress"]}), gaps=(Gap("networkpolicies", "shop", "403"),)
    )
    compiled = compile_snapshot(s)
    peers = [compiled.peer(w) for w in s.workloads]
    result = compute_paths(compiled, peers, peers, [(8080, "TCP")])
    got = {(r.source.ref, r.destination.ref): r for r in result.rows()}
    assert got[("web/ui", "shop/api-7d9")].allowed is None  # ingress to shop is unknown
    assert got[("web/ui", "shop/api-7d9")].egress is True
    assert got[("frontend/ui", "shop/api-7d9")].allowed is False  # egress denied: known regardless of shop
    assert got[("shop/db", "web/ui")].allowed is None  # egress from shop unknown
    assert got[("web/ui", "frontend/ui")].allowed is True
    assert got[("shop/db", "shop/db")].allowed is True  # loopback
    assert result.selecting("ingress", result.dest_class[0]) == ()


def test_label_values_compare_as_strings():
    extra = (Workload("web", "v2", "Pod", {"version": 2, "canary": True}),)  # type: ignore[dict-item]
    s = snap(
        (
            "shop",
            "p",
            ingress_from([{"namespaceSelector": {}, "podSelector": {"matchLabels": {"version": "2", "canary": "true"}}}]),
        ),
        extra=extra,
    )
    assert flow(s, "web/v2", "shop/api-7d9").allowed is True
    assert flow(s, "web/ui", "shop/api-7d9").allowed is False
    assert flow(snap(("shop", "p", ingress_from(None, [{"port": 8080}]))), "web/ui", "shop/api-7d9", "8080").allowed is True


def test_two_hypothetical_pods_with_same_labels_are_not_loopback():
    s = snap(("shop", "deny", {"podSelector": {}}))
    compiled = compile_snapshot(s)
    a = compiled.selector_peer("shop", {"app": "x"})
    b = compiled.selector_peer("shop", {"app": "x"})
    assert a.name == "{app=x}"
    assert evaluate_flow(compiled, Flow(a, b, 80, "TCP")).allowed is False
