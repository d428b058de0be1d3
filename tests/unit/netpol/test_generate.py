"""The NetworkPolicy generator: shapes, names, validation (engine-level checks are in test_generate_engine.py)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.netpol.generate import PolicyInputError, allow_flow, default_deny, to_yaml

NS_LABEL = "kubernetes.io/metadata.name"


def test_default_deny_selects_all_pods_both_directions() -> None:
    objs = default_deny("shop")
    assert len(objs) == 1
    pol = objs[0]
    assert pol["apiVersion"] == "networking.k8s.io/v1" and pol["kind"] == "NetworkPolicy"
    assert pol["metadata"]["namespace"] == "shop"
    assert pol["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_default_deny_with_dns_adds_kube_dns_egress_on_53_udp_and_tcp() -> None:
    objs = default_deny("shop", allow_dns=True)
    assert len(objs) == 2
    dns = objs[1]["spec"]
    assert dns["policyTypes"] == ["Egress"]
    (rule,) = dns["egress"]
    (peer,) = rule["to"]
    # one peer: namespace AND pod selector (not two peers, which would be OR)
    assert peer == {
        "namespaceSelector": {"matchLabels": {NS_LABEL: "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    assert sorted((p["protocol"], p["port"]) for p in rule["ports"]) == [("TCP", 53), ("UDP", 53)]


def test_allow_flow_cross_namespace_has_ingress_in_dst_and_egress_in_src() -> None:
    ing, eg = allow_flow("frontend", {"app": "web"}, "shop", {"app": "api"}, 8080, "TCP")
    assert ing["metadata"]["namespace"] == "shop"
    assert ing["spec"]["podSelector"] == {"matchLabels": {"app": "api"}}
    assert ing["spec"]["policyTypes"] == ["Ingress"]
    assert ing["spec"]["ingress"] == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {NS_LABEL: "frontend"}}, "podSelector": {"matchLabels": {"app": "web"}}}
            ],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    assert eg["metadata"]["namespace"] == "frontend"
    assert eg["spec"]["podSelector"] == {"matchLabels": {"app": "web"}}
    assert eg["spec"]["policyTypes"] == ["Egress"]
    assert eg["spec"]["egress"][0]["to"] == [
        {"namespaceSelector": {"matchLabels": {NS_LABEL: "shop"}}, "podSelector": {"matchLabels": {"app": "api"}}}
    ]


def test_allow_flow_same_namespace_uses_pod_selector_only() -> None:
    ing, eg = allow_flow("shop", {"app": "web"}, "shop", {"app": "api"}, "http", "tcp")
    assert ing["spec"]["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app": "web"}}}]
    assert ing["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]
    assert eg["spec"]["egress"][0]["to"] == [{"podSelector": {"matchLabels": {"app": "api"}}}]


def test_allow_flow_sides_and_external_endpoints() -> None:
    only_ingress = allow_flow("a", {}, "b", {}, 80, "TCP", sides=("ingress",))
    assert [o["spec"]["policyTypes"] for o in only_ingress] == [["Ingress"]]
    ext_src = allow_flow(None, None, "b", {"app": "x"}, 443, "TCP", src_external_cidr="203.0.113.7")
    assert len(ext_src) == 1
    assert ext_src[0]["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "203.0.113.7/32"}}]
    ext_dst = allow_flow("a", {"app": "x"}, None, None, 443, "TCP", dst_external_cidr="2001:db8::/64")
    assert len(ext_dst) == 1
    assert ext_dst[0]["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "2001:db8::/64"}}]


def test_allow_flow_without_port_allows_all_ports_of_the_protocol() -> None:
    ing, _ = allow_flow("a", {}, "b", {}, None, "UDP")
    assert ing["spec"]["ingress"][0]["ports"] == [{"protocol": "UDP"}]
    assert ing["spec"]["podSelector"] == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"protocol": "ICMP"},
        {"port": 0},
        {"port": 70000},
        {"port": "Not_A_Name"},
        {"port": "waytoolongportname"},
        {"src_namespace": "Bad_NS"},
        {"src_external_cidr": "10.0.0.300/8", "src_namespace": None},
        {"sides": ("sideways",)},
    ],
)
def test_allow_flow_rejects_bad_input(kwargs: dict) -> None:
    args = {"src_namespace": "a", "src_labels": {}, "dst_namespace": "b", "dst_labels": {}, "port": 80, "protocol": "TCP"}
    args.update(kwargs)
    with pytest.raises(PolicyInputError):
        allow_flow(**args)


def test_names_are_deterministic_distinct_and_valid() -> None:
    a = allow_flow("frontend", {"app": "web"}, "shop", {"app": "api"}, 8080, "TCP")
    b = allow_flow("frontend", {"app": "web"}, "shop", {"app": "api"}, 8080, "TCP")
    c = allow_flow("frontend", {"app": "admin"}, "shop", {"app": "api"}, 8080, "TCP")
    assert [o["metadata"]["name"] for o in a] == [o["metadata"]["name"] for o in b]
    names_a = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in a}
    names_c = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in c}
    assert not names_a & names_c  # two flows never overwrite each other's policy


_label_value = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?", fullmatch=True)


@given(
    src=st.dictionaries(st.sampled_from(["app", "tier", "app.kubernetes.io/name"]), _label_value, max_size=3),
    dst=st.dictionaries(st.sampled_from(["app", "role"]), _label_value, max_size=2),
    port=st.one_of(st.integers(1, 65535), st.sampled_from(["http", "grpc-web", "metrics"])),
)
def test_generated_names_are_dns_labels(src: dict, dst: dict, port: int | str) -> None:
    import re

    for obj in allow_flow("some-namespace-with-a-long-name", src, "other", dst, port, "SCTP"):
        name = obj["metadata"]["name"]
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name


def test_to_yaml_is_multi_document_and_round_trips() -> None:
    objs = default_deny("shop", allow_dns=True) + allow_flow("frontend", {"app": "web"}, "shop", {"app": "api"}, 8080, "TCP")
    text = to_yaml(objs)
    assert text.count("\n---\n") == 3
    assert list(yaml.safe_load_all(text)) == objs
    assert to_yaml(objs) == text
