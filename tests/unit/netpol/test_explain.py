"""Evidence for verdicts: deciding rule, closest rules with exact differences, and the minimal allowing policy."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import evaluate_flow
from kubectl_netsso.netpol.explain import explain_text, selection_labels
from kubectl_netsso.netpol.model import ExternalPeer, Flow

API_PORTS = (ContainerPort(8080, "TCP", "web"),)


def shop(*policies: tuple[str, str, dict[str, Any]]) -> Snapshot:
    return Snapshot(
        namespaces=(Namespace("shop", {"team": "shop"}), Namespace("frontend", {"team": "frontend"})),
        workloads=(
            Workload("shop", "api-7d9", "Pod", {"app": "api", "pod-template-hash": "7d9"}, API_PORTS),
            Workload("frontend", "web-1", "Pod", {"app": "web"}),
        ),
        network_policies=tuple(NetworkPolicy(ns, n, s) for ns, n, s in policies),
    )


def verdict(
    s: Snapshot, src: str = "frontend/web-1", dst: str = "shop/api-7d9", port: int | str | None = 8080, proto: str = "TCP"
):
    c = compile_snapshot(s)
    peers = {w.ref: c.peer(w) for w in s.workloads}
    a = ExternalPeer(src[3:]) if src.startswith("ip:") else peers[src]
    b = ExternalPeer(dst[3:]) if dst.startswith("ip:") else peers[dst]
    return evaluate_flow(c, Flow(a, b, port, proto))


API_INGRESS = {
    "podSelector": {"matchLabels": {"app": "api"}},
    "ingress": [
        {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]},
        {"from": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}], "ports": [{"port": 8080}]},
    ],
}


def test_closest_rule_says_which_namespace_label_differs():
    v = verdict(shop(("shop", "api-ingress", API_INGRESS)))
    assert v.allowed is False and v.egress.allowed is True
    closest = v.ingress.closest[0]
    assert (
        closest.text
        == "policy shop/api-ingress ingress rule 2 allows from namespaces with team=web; namespace frontend has team=frontend"
    )
    assert closest.rule.rule_index == 1 and closest.rule.to_dict()["rule"] == 2
    assert [d.field for d in closest.differences] == ["namespace"]
    assert closest.differences[0].expected == "team=web"
    assert v.ingress.selecting == ("NP shop/api-ingress",)


def test_closest_rule_port_difference():
    v = verdict(shop(("shop", "api-ingress", API_INGRESS)), port=80)
    texts = [n.text for n in v.ingress.closest]
    assert any("allows port 8080/TCP; request is 80/TCP" in t for t in texts)


def test_named_port_not_defined_on_destination():
    p = {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]}
    v = verdict(shop(("shop", "named", p)))
    assert v.ingress.closest[0].differences[0].field == "named-port"
    assert "named port http (TCP) not defined on pod shop/api-7d9" in v.ingress.closest[0].text


def test_deny_all_policy_explained():
    v = verdict(shop(("shop", "deny", {"podSelector": {}})))
    assert "has no ingress rules (denies all ingress)" in v.ingress.closest[0].text


def test_pod_selector_only_peer_other_namespace_explained():
    p = {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}
    v = verdict(shop(("shop", "same-ns", p)))
    assert "allows from pods in namespace shop only (podSelector without namespaceSelector); source is in namespace frontend" in (
        v.ingress.closest[0].text
    )


def test_allowed_verdict_names_rule_and_peer():
    p = {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"namespaceSelector": {}}]}]}
    v = verdict(shop(("shop", "ok", p)))
    assert v.allowed is True
    ref = v.ingress.decided_by
    assert ref is not None and (ref.rule_index, ref.peer_index) == (0, 1)
    assert ref.path == "spec.ingress[0].from[1]"
    d = v.to_dict()
    assert d["ingress"]["decidedBy"]["rule"] == 1 and d["ingress"]["decidedBy"]["peer"] == 2 and d["allowed"] is True


def test_fix_is_minimal_and_makes_the_flow_allowed():
    s = shop(("shop", "api-ingress", API_INGRESS), ("frontend", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}))
    v = verdict(s)
    assert v.allowed is False and len(v.fix) == 2  # both sides denied -> ingress + egress policies
    kinds = sorted(o["spec"]["policyTypes"][0] for o in v.fix)
    assert kinds == ["Egress", "Ingress"]
    ingress_policy = next(o for o in v.fix if o["spec"]["policyTypes"] == ["Ingress"])
    assert ingress_policy["spec"]["podSelector"] == {"matchLabels": {"app": "api"}}  # not the pod-template-hash
    fixed = _apply(s, v.fix)
    assert verdict(fixed).allowed is True
    assert verdict(fixed, port=9090).allowed is False  # the fix opens only the flow's port


def test_fix_for_external_destination_and_source():
    s = shop(("shop", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}))
    out = verdict(s, src="shop/api-7d9", dst="ip:203.0.113.10", port=443)
    assert out.allowed is False and len(out.fix) == 1
    assert out.fix[0]["spec"]["egress"][0]["to"][0] == {"ipBlock": {"cidr": "203.0.113.10/32"}}
    assert verdict(_apply(s, out.fix), src="shop/api-7d9", dst="ip:203.0.113.10", port=443).allowed is True
    inbound = verdict(s, src="ip:2001:db8::5", dst="shop/api-7d9")
    assert verdict(_apply(s, inbound.fix), src="ip:2001:db8::5", dst="shop/api-7d9").allowed is True


def test_no_fix_for_a_named_port_the_destination_does_not_define():
    # a policy cannot open a port the pod does not have: suggesting `port: http` would change nothing
    s = shop(("shop", "deny", {"podSelector": {}}))
    v = verdict(s, port="http")
    assert v.allowed is False and v.fix == ()
    assert any("named port http (TCP) is not defined on shop/api-7d9: no NetworkPolicy can allow it" in n for n in v.notes)
    assert verdict(s, port="web").fix  # the pod's own port name: a fix exists
    c = compile_snapshot(s)
    src = c.peer(s.workloads[1])
    future = c.selector_peer("shop", {"app": "api"}, (), name="{app=api}")  # a pod that may define http one day
    assert evaluate_flow(c, Flow(src, future, "http", "TCP")).fix


def test_fix_for_a_hostnetwork_source_uses_its_node_ip_not_selectors():
    base = shop(("shop", "deny", {"podSelector": {}}))
    for ips, fixable in (((), False), (("192.168.0.5",), True)):
        node_agent = Workload("frontend", "agent", "Pod", {"app": "web"}, (), ips, host_network=True)
        s = Snapshot(namespaces=base.namespaces, workloads=base.workloads + (node_agent,), network_policies=base.network_policies)
        v = verdict(s, src="frontend/agent")
        assert v.allowed is False
        if not fixable:
            assert v.fix == () and any("hostNetwork pod" in n and "ipBlock" in n for n in v.notes)
            continue
        (obj,) = v.fix
        assert obj["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "192.168.0.5/32"}}]
        assert verdict(_apply(s, v.fix), src="frontend/agent").allowed is True


def test_explain_text_lines():
    v = verdict(shop(("shop", "api-ingress", API_INGRESS)))
    lines = explain_text(v)
    assert lines[0] == "DENIED: frontend/web-1 -> shop/api-7d9 on 8080/TCP"
    assert any(line.startswith("  ingress to destination: denied") for line in lines)
    assert any("closest: policy shop/api-ingress ingress rule 2" in line for line in lines)


def test_selection_labels_prefers_app_labels():
    assert selection_labels({"app": "api", "pod-template-hash": "x", "version": "2"}) == {"app": "api"}
    assert selection_labels({"role": "x", "controller-revision-hash": "y"}) == {"role": "x"}


def _apply(s: Snapshot, objs: Any) -> Snapshot:
    extra = tuple(NetworkPolicy(o["metadata"]["namespace"], o["metadata"]["name"], o["spec"]) for o in objs)
    return Snapshot(namespaces=s.namespaces, workloads=s.workloads, network_policies=s.network_policies + extra)


# Property: for any denied flow between two pods that no ANP denies, applying the suggested fix allows it.
peer_sel = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["a", "b"]), max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["n1", "n2"]),
            st.fixed_dictionaries(
                {"podSelector": st.builds(lambda d: {"matchLabels": d}, peer_sel)},
                optional={
                    "policyTypes": st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]),
                    "ingress": st.lists(st.fixed_dictionaries({}, optional={"ports": st.just([{"port": 80}])}), max_size=1),
                },
            ),
        ),
        max_size=3,
    ),
    peer_sel,
    peer_sel,
    st.sampled_from([80, 443, "http"]),
)
def test_fix_always_opens_the_flow(
    policies: list[tuple[str, dict[str, Any]]], src_labels: dict[str, str], dst_labels: dict[str, str], port: int | str
):
    s = Snapshot(
        namespaces=(Namespace("n1"), Namespace("n2")),
        workloads=(
            Workload("n1", "src", "Pod", src_labels),
            Workload("n2", "dst", "Pod", dst_labels, (ContainerPort(443, "TCP", "http"),)),
        ),
        network_policies=tuple(NetworkPolicy(ns, f"p{i}", spec) for i, (ns, spec) in enumerate(policies)),
    )
    v = verdict(s, "n1/src", "n2/dst", port)
    if v.allowed:
        return
    assert v.fix, v.notes
    assert verdict(_apply(s, v.fix), "n1/src", "n2/dst", port).allowed is True
