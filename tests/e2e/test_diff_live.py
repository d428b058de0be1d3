"""diff with a live side: the installed kubectl-netsso reads the loopback API server double (bearer ID token from the
real test OpenID Provider) serving examples/shop as a cluster shows it -- pods owned through ReplicaSets, services,
policies, RBAC -- and compares it with a folder (the pull request), matching live pods to their Deployments."""

from __future__ import annotations

import glob
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_network_live import cache_token, shop_live_objects

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"
RBAC_KINDS = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
PR = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: contractors-exec, namespace: shop}
subjects: [{kind: Group, name: oidc:contractors, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: pod-exec, apiGroup: rbac.authorization.k8s.io}
"""


def rbac_objects() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(glob.glob(str(SHOP / "rbac" / "*.yaml"))):
        out += [d for d in yaml.safe_load_all(Path(path).read_text()) if isinstance(d, dict) and d.get("kind") in RBAC_KINDS]
    return out


@pytest.fixture
def shop_cluster(provider: Any, apiserver: Any, kubeconfig: Path, home: Any) -> Any:
    apiserver.set_objects(shop_live_objects() + rbac_objects())
    cache_token(home, provider, provider.mint_id_token("alice", ["netsso-users"]))
    return apiserver


def test_diff_live_against_a_pull_request_folder(shop_cluster: Any, run_netsso: Any, tmp_path: Path) -> None:
    pr = tmp_path / "pr"
    shutil.copytree(SHOP, pr)
    (pr / "rbac" / "contractors-exec-shop.yaml").write_text(PR)
    p = run_netsso("diff", "live", str(pr), "-o", "json", "--fail-on", "risky-permissions")
    assert p.returncode == 1, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["old"]["live"] is True and data["old"]["source"].startswith("live")
    assert data["matched"] == ["risky-permissions"]
    gained = {(c["subject"]["name"], c["namespace"], c["permission"]) for c in data["permissions"]["changes"]
              if c["change"] == "gained"}  # fmt: skip
    assert ("oidc:contractors", "shop", "create pods/exec") in gained
    assert all(c["subject"]["name"] == "oidc:contractors" for c in data["permissions"]["changes"])
    # live pods are matched to their Deployments / StatefulSets: the only workload that differs is the CronJob,
    # which has no pod running in the cluster (so the folder adds its flows)
    touched = {ref for c in data["connectivity"]["changes"] for ref in (*c["from"], *c["to"]) if not ref.startswith("ip:")}
    assert touched and all(c["change"] == "added" for c in data["connectivity"]["changes"])
    assert "shop/cronjob/sales-report" in touched
    assert all("shop/cronjob/sales-report" in (*c["from"], *c["to"]) for c in data["connectivity"]["changes"])
    assert any("pods compared as the workload that owns them" in n for n in data["notes"])
    # the double was read with the bearer token: pods, policies and the RBAC objects
    paths = {r.path for r in shop_cluster.requests}
    assert any(x.endswith("/pods") for x in paths) and any(x.endswith("/rolebindings") for x in paths)
    assert all(r.status < 400 for r in shop_cluster.requests if "/selfsubject" not in r.path)


def test_diff_live_with_itself_is_no_change(shop_cluster: Any, run_netsso: Any) -> None:
    p = run_netsso("diff", "live", "live", "--fail-on", "any")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no change in connectivity, permissions, reach, findings" in p.stdout


def test_diff_live_403_on_policies_is_a_warning_of_its_side(shop_cluster: Any, run_netsso: Any) -> None:
    shop_cluster.forbid("networkpolicies")
    shop_cluster.forbid("networkpolicies", namespace="shop")
    p = run_netsso("diff", str(SHOP), "live", "--only", "connectivity", "-o", "json")
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert any("cannot see networkpolicies" in w for w in data["new"]["warnings"])
    assert any(line.startswith("warning: NEW (live): cannot see networkpolicies") for line in p.stderr.splitlines())
    # verdicts depending on shop's policies are unknown on the live side, never silently allowed
    assert any(c["unknownAfter"] for c in data["connectivity"]["changes"])


def test_diff_live_context_sides(shop_cluster: Any, run_netsso: Any) -> None:
    # live:CONTEXT names a context of the kubeconfig (here the harness's only one, "test")
    p = run_netsso("diff", "live:test", "live", "--only", "connectivity,permissions", "--fail-on", "any")
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_netsso("diff", "live:nope", "live")
    assert p.returncode == 2 and p.stderr.startswith("error: ") and "nope" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_diff_live_that_cannot_read_rbac_says_permissions_are_partial(shop_cluster: Any, run_netsso: Any) -> None:
    shop_cluster.forbid("rolebindings")
    shop_cluster.forbid("rolebindings", namespace="shop")
    p = run_netsso("diff", "live", str(SHOP), "--only", "permissions", "-o", "json")
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert any(n.startswith("live could not read rolebindings") for n in data["notes"]), data["notes"]
    assert any("cannot see rolebindings" in w for w in data["old"]["warnings"])
