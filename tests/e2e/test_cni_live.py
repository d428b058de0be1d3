"""Live mode reads every policy-like kind the cluster serves (issue 12): the API groups found by discovery are listed;
an object this tool does not evaluate makes the verdicts it could change UNKNOWN, a 403 listing one is a gap that
does the same, and a served CRD without objects changes nothing. Through the installed kubectl-netsso against the
loopback API server double (bearer ID token from the real test OpenID Provider)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_network_live import cache_token, shop_live_objects

pytestmark = pytest.mark.e2e

ANTREA_CRDS = [
    ("crd.antrea.io", "v1beta1", "networkpolicies", "NetworkPolicy", True),
    ("crd.antrea.io", "v1beta1", "clusternetworkpolicies", "ClusterNetworkPolicy", False),
]
ANTREA_NP = {
    "apiVersion": "crd.antrea.io/v1beta1", "kind": "NetworkPolicy", "metadata": {"name": "lockdown", "namespace": "shop"},
    "spec": {"priority": 5, "appliedTo": [{"podSelector": {}}], "ingress": [{"action": "Drop"}]},
}  # fmt: skip


@pytest.fixture
def live(provider: Any, apiserver: Any, kubeconfig: Path, home: Any) -> Any:
    apiserver.set_objects(shop_live_objects())
    cache_token(home, provider, provider.mint_id_token("alice", ["netsso-users"]))
    return apiserver


def test_an_antrea_policy_in_the_cluster_makes_its_namespace_unknown(live: Any, run_netsso: Any) -> None:
    live.set_crds(ANTREA_CRDS)
    live.add_objects([ANTREA_NP])
    p = run_netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", "-o", "json")
    assert p.returncode == 3, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["status"] == "UNKNOWN"
    reason = data["flows"][0]["ingress"]["unknownReason"]
    assert "NetworkPolicy (crd.antrea.io/v1beta1) shop/lockdown is not evaluated" in reason
    # discovery found the group; the namespaced resource was listed at the served version
    assert any(r.path == "/apis/crd.antrea.io/v1beta1" for r in live.requests)
    assert any(r.path.endswith("/apis/crd.antrea.io/v1beta1/networkpolicies") for r in live.requests)
    # a flow that touches neither end in shop keeps its verdict
    other = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443")
    assert other.returncode == 3  # its egress side is in shop
    elsewhere = run_netsso("can-reach", "frontend/deploy/web", "payments/svc/payments", "--port", "443")
    assert elsewhere.returncode == 1 and elsewhere.stdout.startswith("DENIED"), elsewhere.stdout


def test_a_served_policy_crd_without_objects_changes_nothing(live: Any, run_netsso: Any) -> None:
    live.set_crds(ANTREA_CRDS)
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443")
    assert p.returncode == 0 and p.stdout.startswith("ALLOWED"), p.stdout + p.stderr
    assert "not evaluated" not in p.stderr


def test_a_403_listing_a_policy_crd_is_a_gap_never_a_silent_allowed(live: Any, run_netsso: Any) -> None:
    live.set_crds(ANTREA_CRDS)
    live.forbid("clusternetworkpolicies.crd.antrea.io")
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443", "-o", "json")
    assert p.returncode == 3, p.stdout + p.stderr
    reason = json.loads(p.stdout)["flows"][0]["egress"]["unknownReason"]
    assert reason.startswith("cannot see clusternetworkpolicies.crd.antrea.io: forbidden"), reason
    audit = run_netsso("audit", "-A", "-o", "json")
    found = [f for f in json.loads(audit.stdout)["findings"] if f["check"] == "policy-not-evaluated"]
    assert [f["object"] for f in found] == ["clusternetworkpolicies.crd.antrea.io"], found


# --- issue 12 items 2-4: Calico and Cilium objects read live are evaluated --------------------------------------------

CILIUM_CRDS = [
    ("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True),
    ("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False),
]
CALICO_CRDS = [
    ("projectcalico.org", "v3", "networkpolicies", "NetworkPolicy", True),
    ("projectcalico.org", "v3", "globalnetworkpolicies", "GlobalNetworkPolicy", False),
    ("crd.projectcalico.org", "v1", "networkpolicies", "NetworkPolicy", True),
    ("crd.projectcalico.org", "v1", "globalnetworkpolicies", "GlobalNetworkPolicy", False),
]
NO_SHOP_INTO_PAYMENTS = {
    "apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "no-shop", "namespace": "payments"},
    "spec": {"endpointSelector": {},
             "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "shop"}}]}]},
}  # fmt: skip
CALICO_NO_SHOP = {
    "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "no-shop"},
    "spec": {"order": 10, "selector": "projectcalico.org/namespace == 'payments'", "types": ["Ingress"],
             "ingress": [{"action": "Deny", "source": {"namespaceSelector": "projectcalico.org/name == 'shop'"}}]},
}  # fmt: skip


def _daemonset(name: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}}  # fmt: skip


def test_a_cilium_policy_in_the_cluster_is_evaluated(live: Any, run_netsso: Any) -> None:
    live.set_crds(CILIUM_CRDS)
    live.add_objects([NO_SHOP_INTO_PAYMENTS, _daemonset("cilium", "quay.io/cilium/cilium:v1.16.0")])
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443", "-o", "json")
    assert p.returncode == 1, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["status"] == "DENIED" and data["cni"] == "cilium"  # --cni auto: the cilium agent DaemonSet
    decided = data["flows"][0]["ingress"]["decidedBy"]
    assert (decided["kind"], decided["policy"], decided["action"]) == ("CiliumNetworkPolicy", "payments/no-shop", "Deny")
    assert any(r.path.endswith("/apis/cilium.io/v2/ciliumnetworkpolicies") for r in live.requests)
    # the same cluster without the DaemonSet: the Cilium objects still say which semantics apply
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443", "--cni", "generic")
    assert p.returncode == 3 and "CiliumNetworkPolicy payments/no-shop is not evaluated (--cni generic" in p.stdout, p.stdout


def test_calico_policies_are_read_once_from_the_api_clients_use(live: Any, run_netsso: Any) -> None:
    live.set_crds(CALICO_CRDS)
    live.add_objects([CALICO_NO_SHOP, _daemonset("calico-node", "docker.io/calico/node:v3.28.0")])
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443", "-o", "json")
    assert p.returncode == 1, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["status"] == "DENIED" and data["cni"] == "calico"
    assert data["flows"][0]["ingress"]["decidedBy"]["policy"] == "no-shop"
    # projectcalico.org/v3 is served by Calico's API server from what it stores as crd.projectcalico.org/v1: one read
    assert any(r.path.endswith("/apis/projectcalico.org/v3/globalnetworkpolicies") for r in live.requests)
    assert not any("/apis/crd.projectcalico.org/v1/globalnetworkpolicies" in r.path for r in live.requests)


def test_a_403_listing_cilium_policies_is_a_gap(live: Any, run_netsso: Any) -> None:
    live.set_crds(CILIUM_CRDS)
    live.add_objects([_daemonset("cilium", "quay.io/cilium/cilium:v1.16.0")])
    live.forbid("ciliumclusterwidenetworkpolicies.cilium.io")
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443", "-o", "json")
    assert p.returncode == 3, p.stdout + p.stderr
    reason = json.loads(p.stdout)["flows"][0]["egress"]["unknownReason"]
    assert reason.startswith("cannot see ciliumclusterwidenetworkpolicies.cilium.io: forbidden"), reason
