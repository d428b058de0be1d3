"""who-can live against the loopback API server double: the shop RBAC served as API objects, listed with a real ID
token from the test OpenID Provider; a 403 on listing ClusterRoleBindings is a visible gap, never a silent "nobody"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_access_live import cache_token, shop_objects

pytestmark = pytest.mark.e2e


@pytest.fixture
def rbac_cluster(apiserver: Any) -> Any:
    apiserver.set_objects(shop_objects())
    return apiserver


def test_who_can_live_lists_rbac_objects(provider: Any, rbac_cluster: Any, kubeconfig: Path, home: Any,
                                         run_netsso: Any) -> None:  # fmt: skip
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    p = run_netsso("who-can", "create", "pods", "--subresource", "exec", "-n", "payments", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["source"].startswith("live") and data["complete"] is True and data["gaps"] == []
    names = {(s["kind"], s["name"], s["scope"]) for s in data["subjects"]}
    assert ("Group", "oidc:payments-oncall", "payments") in names
    listed = {r.path.split("?")[0] for r in rbac_cluster.requests if r.method == "GET"}
    assert "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" in listed
    # only the namespace asked: no RoleBindings of other namespaces were read
    assert not any("/namespaces/frontend/" in path for path in listed)


def test_who_can_live_forbidden_cluster_role_bindings_is_a_gap(provider: Any, rbac_cluster: Any, kubeconfig: Path,
                                                               home: Any, run_netsso: Any) -> None:  # fmt: skip
    rbac_cluster.forbid("clusterrolebindings")
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    p = run_netsso("who-can", "create", "pods", "--subresource", "exec", "-n", "payments")
    assert p.returncode == 0, p.stderr  # the RoleBinding in payments still answers
    assert p.stderr.count("warning: cannot see clusterrolebindings") == 1, p.stderr
    assert "incomplete: cannot see clusterrolebindings" in p.stdout
    # only ClusterRoleBindings can grant a URL: nobody seen, but the answer is incomplete -> exit 3, not "no"
    url = run_netsso("who-can", "get", "/healthz", "-o", "json")
    assert url.returncode == 3, url.stderr
    data = json.loads(url.stdout)
    assert data["complete"] is False and data["allowed"] is False
    assert any(g.startswith("cannot see clusterrolebindings") for g in data["gaps"])
    assert "Traceback" not in url.stderr


def test_who_can_live_cluster_wide_question_reads_no_role_bindings(provider: Any, rbac_cluster: Any, kubeconfig: Path,
                                                                   home: Any, run_netsso: Any) -> None:  # fmt: skip
    """A URL only ClusterRoleBindings can grant: a RoleBinding list you may not read is no gap in that answer."""
    rbac_cluster.forbid("rolebindings")
    rbac_cluster.forbid("rolebindings", namespace="*")
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    p = run_netsso("who-can", "get", "/healthz", "-o", "json")
    # the shop objects bind no discovery role: nobody (1), and a complete answer, not the incomplete 3
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["complete"] is True and data["gaps"] == [] and "rolebindings" not in p.stderr


def test_who_can_reach_live(provider: Any, rbac_cluster: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    """Pods (owned through ReplicaSets), Services, policies and RBAC listed from the API server: the same answer as
    offline on the example, with live pods grouped by their workload."""
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    p = run_netsso("who-can-reach", "db/svc/postgres", "--port", "5432", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["source"].startswith("live")
    oncall = next(s for s in data["subjects"] if s["name"] == "oidc:payments-oncall")
    [path] = oncall["paths"]
    assert path["foothold"]["kind"] == "pod" and path["foothold"]["target"] == "payments/deployment/payments"
    assert any("db/postgres-ingress" in v for v in path["via"])
    table = run_netsso("who-can-reach", "db/svc/postgres", "--port", "5432")
    assert table.returncode == 0 and "Group oidc:payments-oncall" in table.stdout
