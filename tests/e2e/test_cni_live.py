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
