"""usecases/policy.py: generated policies on the shipped shop example, called as functions."""

from __future__ import annotations

import os

import pytest
import yaml

from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.errors import EXIT_USAGE, NetssoError
from kubectl_netsso.usecases import can_reach, policy
from kubectl_netsso.usecases.source import Source

NO_KUBECONFIG = os.path.join(os.path.dirname(__file__), "no-such-kubeconfig")


def kube(namespace: str | None = None) -> KubeOptions:
    return KubeOptions(NO_KUBECONFIG, None, namespace, False, None, ())


def test_allow_prints_the_policy_can_reach_suggests() -> None:
    shop = Source(kube(), ("example:shop",))
    denied = can_reach.run(can_reach.CanReachInput("frontend/deploy/web", "shop/svc/api", "80"), shop)
    result = policy.run(policy.AllowInput("frontend/deploy/web", "shop/svc/api", "80", side="ingress"), shop)
    assert [o["metadata"]["name"] for o in result.objects] == [o["metadata"]["name"] for o in denied.fix]
    [obj] = yaml.safe_load_all(result.to_yaml())
    assert obj["metadata"]["namespace"] == "shop"
    assert obj["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]  # the targetPort, as written


def test_default_deny_both_directions_in_the_current_namespace() -> None:
    result = policy.default_deny(policy.DefaultDenyInput(allow_dns=True), kube("payments"))
    assert {o["metadata"]["namespace"] for o in result.objects} == {"payments"}
    types = {t for o in result.objects for t in o["spec"]["policyTypes"]}
    assert types == {"Ingress", "Egress"}


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: policy.default_deny(policy.DefaultDenyInput(True, True), kube()), "exclude each other"),
        (lambda: policy.default_deny(policy.DefaultDenyInput(True, False, True), kube()), "--allow-dns goes with"),
        (lambda: policy.allow_dns(policy.AllowDnsInput(), kube("Not_A_Name")), "not a valid namespace name"),
        (
            lambda: policy.run(policy.AllowInput("ip:10.0.0.1", "ip:10.0.0.2"), Source(kube(), ("example:shop",))),
            "both FROM and TO are outside the cluster",
        ),
    ],
)
def test_usage_errors(call: object, needle: str) -> None:
    with pytest.raises(NetssoError) as info:
        call()  # type: ignore[operator]
    assert info.value.exit_code == EXIT_USAGE and needle in info.value.message
