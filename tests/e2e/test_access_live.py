"""reach / audit / report live against the loopback API server double: real ID tokens from the test OpenID Provider,
the shop example served as API objects (pods with owners, services, policies, RBAC), SelfSubjectAccessReviews answered
by the project's RBAC evaluator, and a flannel DaemonSet the CNI check must flag."""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness.apiserver import Decision, RulesResult, UserInfo

from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.cluster.defaults import default_roles_snapshot
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import merge_rbac
from kubectl_netsso.rbac.authorize import Authorizer, Identity
from kubectl_netsso.rbac.rules import Request, rule_to_dict

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"
API_KINDS = {"Namespace", "Service", "NetworkPolicy", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}


class ShopRbac:
    """The double's authorizer: kube-apiserver's RBAC decisions, computed by kubectl_netsso.rbac on the shop RBAC."""

    def __init__(self) -> None:
        self.az = Authorizer(merge_rbac(load_snapshot([str(SHOP / "rbac")]), default_roles_snapshot()))

    def authorize(self, user: UserInfo, attrs: dict[str, Any]) -> Decision:
        if attrs.get("nonResource"):
            req = Request(verb=str(attrs.get("verb", "")), path=str(attrs.get("path", "")))
        else:
            req = Request(
                verb=str(attrs.get("verb", "")),
                resource=str(attrs.get("resource", "")),
                api_group=str(attrs.get("group", "")),
                subresource=str(attrs.get("subresource", "")),
                name=str(attrs.get("name", "")),
                namespace=str(attrs.get("namespace", "")),
            )
        d = self.az.decide(Identity(user.username, tuple(user.groups)), req)
        return Decision(d.allowed, ("RBAC: " + d.reason) if d.allowed else "")

    def rules(self, user: UserInfo, namespace: str) -> RulesResult:
        grants, _ = self.az.rules_for(Identity(user.username, tuple(user.groups)), namespace)
        res = [
            {k: v for k, v in rule_to_dict(g.rule.rule).items() if k != "nonResourceURLs"}
            for g in grants
            if g.rule.rule.resources
        ]
        return RulesResult(res, [])


def shop_objects() -> list[dict[str, Any]]:
    """The shop manifests as the API would return them: pods instead of Deployments (owned through a ReplicaSet)."""
    objs: list[dict[str, Any]] = []
    for path in sorted(glob.glob(str(SHOP / "**" / "*.yaml"), recursive=True)):
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if isinstance(doc, dict) and doc.get("kind") in API_KINDS:
                objs.append(doc)
    objs += [
        o
        for o in yaml.safe_load_all((REPO / "kubectl_netsso" / "data" / "kubernetes-bootstrap-cluster-roles.yaml").read_text())
        if isinstance(o, dict)
    ]
    flat: list[dict[str, Any]] = []
    for o in objs:
        flat.extend(o.get("items", []) if o.get("kind", "").endswith("List") else [o])
    snap = load_snapshot([str(SHOP)])
    for i, w in enumerate(snap.workloads):
        owner = {
            "Deployment": ("ReplicaSet", f"{w.name}-5d8f7c"),
            "StatefulSet": ("StatefulSet", w.name),
            "CronJob": ("Job", f"{w.name}-2891"),
        }.get(w.kind)
        ports = [{"containerPort": p.port, "protocol": p.protocol, **({"name": p.name} if p.name else {})} for p in w.ports]
        meta: dict[str, Any] = {"name": f"{w.name}-{i:02d}x", "namespace": w.namespace, "labels": dict(w.labels)}
        if owner:
            meta["ownerReferences"] = [
                {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True, "uid": "u"}
            ]
        flat.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": {"containers": [{"name": "main", "image": "registry.example/app:1", "ports": ports}]},
                "status": {"phase": "Running", "podIP": f"10.244.0.{10 + i}", "podIPs": [{"ip": f"10.244.0.{10 + i}"}]},
            }
        )
    flat.append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "kube-flannel-ds", "namespace": "kube-flannel"},
            "spec": {
                "template": {"spec": {"containers": [{"name": "kube-flannel", "image": "docker.io/flannel/flannel:v0.25.1"}]}}
            },
        }
    )
    return flat


def cache_token(home: Any, provider: Any, token: str) -> None:
    args = [
        f"--oidc-issuer-url={provider.issuer}",
        f"--oidc-client-id={provider.client_id}",
        f"--certificate-authority={provider.ca_path}",
        "--oidc-extra-scope=groups",
        "--oidc-extra-scope=email",
    ]
    open_cache(ProviderSettings.from_exec_args(args, home.env)).save(TokenSet(token, None, provider.issuer, provider.client_id))


@pytest.fixture
def shop_cluster(apiserver: Any) -> Any:
    apiserver.set_objects(shop_objects())
    apiserver.groups_prefix = "oidc:"
    return apiserver


def test_reach_live_uses_access_reviews_and_groups_pods_by_workload(
    provider: Any, shop_cluster: Any, kubeconfig: Path, home: Any, run_netsso: Any
) -> None:
    shop_cluster.authorizer = ShopRbac()
    cache_token(home, provider, provider.mint_id_token("alice", ["contractors"]))
    p = run_netsso("reach", "-n", "frontend", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["identity"]["user"].endswith("#alice") and "oidc:contractors" in data["identity"]["groups"]
    assert data["identity"]["from"] == "SelfSubjectReview"
    got = {(f["foothold"]["kind"], f["foothold"]["target"]): f for f in data["footholds"]}
    assert set(got) == {
        ("networkpolicies", "frontend/networkpolicies"),
        ("create", "frontend/*"),
        ("pod", "frontend/deployment/web"),
    }
    assert got[("networkpolicies", "frontend/networkpolicies")]["risk"] == "critical"
    assert "RBAC: allowed by RoleBinding frontend/contractors" in got[("create", "frontend/*")]["foothold"]["access"][0]["grant"]
    # the permissions came from SelfSubjectAccessReviews at the API server, not from reading RBAC objects
    posts = [r for r in shop_cluster.requests if r.method == "POST" and r.path.endswith("/selfsubjectaccessreviews")]
    assert len(posts) >= 10


def test_reach_live_table_for_another_identity(
    provider: Any, shop_cluster: Any, kubeconfig: Path, home: Any, run_netsso: Any
) -> None:
    shop_cluster.authorizer = ShopRbac()
    cache_token(home, provider, provider.mint_id_token("bob", ["payments-oncall"]))
    p = run_netsso("reach", "-n", "payments")
    assert p.returncode == 0, p.stderr
    assert "pod payments/deployment/payments" in p.stdout and "exec" in p.stdout
    assert "RoleBinding payments/payments-oncall-exec" in p.stdout
    assert "frontend" not in p.stdout.split("\n", 1)[1]  # -n payments: nothing else in scope


def test_audit_live_flags_flannel_and_rbac(
    provider: Any, shop_cluster: Any, kubeconfig: Path, home: Any, run_netsso: Any
) -> None:
    # default authorizer of the double: the auditor may read everything
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    p = run_netsso("audit", "-A", "-o", "json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    checks = {(f["check"], f["object"]) for f in data["findings"]}
    assert ("cni-not-enforcing", "cluster") in checks
    assert ("edit-networkpolicies", "group oidc:sre") in checks
    assert ("peer-matches-nothing", "networkpolicy/shop/api-ingress ingress rule 1 from entry 1") in checks
    assert data["source"].startswith("live")


def test_report_live(provider: Any, shop_cluster: Any, kubeconfig: Path, home: Any, run_netsso: Any, tmp_path: Path) -> None:
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    out = tmp_path / "live.html"
    p = run_netsso("report", "--html", str(out), "-A")
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "flannel" in text  # the CNI warning is on the page
    assert 'data-id="payments/deployment/payments"' in text


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "-A", "-o", "json"),
        ("reach", "-A"),
        ("policy", "allow", "frontend/deploy/web", "shop/svc/api", "--port", "80"),
    ],
    ids=["audit", "reach", "policy-allow"],
)
def test_live_gaps_are_printed_by_every_command(
    provider: Any, shop_cluster: Any, kubeconfig: Path, home: Any, run_netsso: Any, args: tuple[str, ...]
) -> None:
    # what the identity could not list makes verdicts unknown: each command says so once (can-reach and paths did,
    # reach, audit and policy allow did not)
    shop_cluster.forbid("networkpolicies")
    shop_cluster.forbid("networkpolicies", namespace="shop")
    cache_token(home, provider, provider.mint_id_token("auditor", ["sre"]))
    p = run_netsso(*args)
    assert "Traceback" not in p.stderr
    assert p.stderr.count("warning: cannot see networkpolicies in namespace shop") == 1, p.stderr
