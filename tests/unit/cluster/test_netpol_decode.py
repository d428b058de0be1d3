"""cluster/netpol_decode.py: NetworkPolicy and (Baseline)AdminNetworkPolicy specs, cleaned and checked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.cluster.fields import InvalidField, ObjectRef
from kubectl_netsso.cluster.netpol_decode import decode_admin_network_policy, decode_network_policy

NP = ObjectRef("NetworkPolicy", "np", "shop", {}, "f document 1")
ANP = ObjectRef("AdminNetworkPolicy", "anp", None, {}, "f document 2")
BANP = ObjectRef("BaselineAdminNetworkPolicy", "default", None, {}, "f document 3")


def test_network_policy_keeps_only_checked_fields_and_defaults() -> None:
    doc = {"spec": {"podSelector": None, "ingress": [None, {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                                          "ports": [{"port": "http"}, {"port": 8000, "endPort": 8080}],
                                                          "unknown": 1}],
                    "egress": [], "extra": True}}  # fmt: skip
    policy = decode_network_policy(NP, doc)
    assert (policy.namespace, policy.name, policy.source) == ("shop", "np", "f document 1")
    assert policy.spec == {
        "podSelector": {},
        "ingress": [
            {},
            {
                "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": []}}],
                "ports": [{"protocol": "TCP", "port": "http"}, {"protocol": "TCP", "port": 8000, "endPort": 8080}],
            },
        ],
        "egress": [],
    }


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (None, "spec is required"),
        ({"policyTypes": ["Ingress", "Both"]}, "spec.policyTypes[1] must be Ingress or Egress, not 'Both'"),
        ({"ingress": [{"from": [{}]}]}, "spec.ingress[0].from[0] must set podSelector, namespaceSelector or ipBlock"),
        ({"egress": [{"to": [{"podSelector": {}, "ipBlock": {"cidr": "1.2.3.0/24"}}]}]},
         "spec.egress[0].to[0]: ipBlock cannot be combined with podSelector or namespaceSelector"),
        ({"ingress": [{"ports": [{"port": "http", "endPort": 90}]}]},
         "spec.ingress[0].ports[0].endPort needs a numeric port"),
        ({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]},
         "spec.ingress[0].ports[0].endPort must be >= port (90), not 80"),
        ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["x"]}}]}]},
         "spec.egress[0].to[0].ipBlock.except[0] must be a CIDR such as 10.0.0.0/8, not 'x'"),
    ],
)  # fmt: skip
def test_network_policy_errors_name_the_field(spec: Any, error: str) -> None:
    with pytest.raises(InvalidField) as err:
        decode_network_policy(NP, {"spec": spec})
    assert str(err.value) == error


@given(st.integers(-5, 1005))
def test_anp_priority_is_0_to_1000(priority: int) -> None:
    doc = {"spec": {"priority": priority, "subject": {"namespaces": {}}}}
    if 0 <= priority <= 1000:
        assert decode_admin_network_policy(ANP, doc).priority == priority
    else:
        with pytest.raises(InvalidField, match="spec.priority must be between 0 and 1000"):
            decode_admin_network_policy(ANP, doc)


def test_anp_subject_peers_ports_and_actions() -> None:
    doc = {"spec": {"priority": 3, "subject": {"pods": {"podSelector": {"matchLabels": {"app": "db"}}}},
                    "ingress": [{"name": "web", "action": "Pass", "from": [{"pods": {}}],
                                 "ports": [{"portRange": {"start": 1, "end": 9}}, {"namedPort": "sql"}]}],
                    "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}, {"futurePeer": {"x": 1}}]}]}}  # fmt: skip
    anp = decode_admin_network_policy(ANP, doc)
    assert anp.kind == "AdminNetworkPolicy" and anp.name == "anp" and anp.source == "f document 2"
    assert anp.spec["subject"] == {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}}
    assert anp.spec["ingress"] == [
        {
            "action": "Pass",
            "name": "web",
            "from": [{"pods": {"namespaceSelector": {}, "podSelector": {}}}],
            "ports": [{"portRange": {"protocol": "TCP", "start": 1, "end": 9}}, {"namedPort": "sql"}],
        }
    ]
    # an unknown peer type is passed on for the engine to fail closed on, not refused
    assert anp.spec["egress"] == [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}, {"futurePeer": {"x": 1}}]}]


@pytest.mark.parametrize(
    ("ref", "spec", "error"),
    [
        (BANP, {"subject": {"namespaces": {}}, "ingress": [{"action": "Pass", "from": [{"namespaces": {}}]}]},
         "spec.ingress[0].action must be one of Allow, Deny, not 'Pass'"),
        (ANP, {"priority": 1, "subject": {"namespaces": {}, "pods": {}}},
         "spec.subject must set exactly one of namespaces or pods"),
        (ANP, {"priority": 1, "subject": {"namespaces": {}}, "egress": [{"action": "Allow", "to": []}]},
         "spec.egress[0].to must list at least one peer"),
        (ANP, {"priority": 1, "subject": {"namespaces": {}},
               "ingress": [{"action": "Allow", "from": [{"namespaces": {}, "pods": {}}]}]},
         "spec.ingress[0].from[0] must set exactly one of namespaces or pods"),
        (ANP, {"priority": 1, "subject": {"namespaces": {}},
               "egress": [{"action": "Allow", "to": [{"namespaces": {}}], "ports": [{"portRange": {"start": 9, "end": 1}}]}]},
         "spec.egress[0].ports[0].portRange.end must be >= start (9), not 1"),
    ],
)  # fmt: skip
def test_anp_errors_name_the_field(ref: ObjectRef, spec: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidField) as err:
        decode_admin_network_policy(ref, {"spec": spec})
    assert str(err.value) == error
