"""whoami / can-i / permissions live against the loopback API server double, with ID tokens from the real test OpenID
Provider, and the project's own RBAC evaluator plugged in as the double's authorizer (so SSAR/SSRR answers are real
RBAC answers on examples/shop/rbac + the default ClusterRoles)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
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
SHOP_RBAC = str(REPO / "examples" / "shop" / "rbac")


class RbacAuthorizer:
    """The harness Authorizer protocol backed by kubectl_netsso.rbac (as kube-apiserver's RBAC authorizer)."""

    def __init__(self, paths: list[str], incomplete: bool = False) -> None:
        self.az = Authorizer(merge_rbac(load_snapshot(paths), default_roles_snapshot()))
        self.incomplete = incomplete

    def authorize(self, user: UserInfo, attrs: dict[str, Any]) -> Decision:
        if attrs.get("nonResource"):
            req = Request(verb=str(attrs.get("verb", "")), path=str(attrs.get("path", "")))
        else:
            req = Request(
                verb=str(attrs.get("verb", "")), resource=str(attrs.get("resource", "")), api_group=str(attrs.get("group", "")),
                subresource=str(attrs.get("subresource", "")), name=str(attrs.get("name", "")),
                namespace=str(attrs.get("namespace", "")),
            )  # fmt: skip
        d = self.az.decide(Identity(user.username, tuple(user.groups)), req)
        # rbac.go: allowed -> "RBAC: allowed by ..."; otherwise NoOpinion with an empty reason
        return Decision(d.allowed, ("RBAC: " + d.reason) if d.allowed else "")

    def rules(self, user: UserInfo, namespace: str) -> RulesResult:
        grants, errors = self.az.rules_for(Identity(user.username, tuple(user.groups)), namespace)
        res, non = [], []
        for g in grants:
            d = rule_to_dict(g.rule.rule)
            if g.rule.rule.non_resource_urls:
                non.append({"verbs": d["verbs"], "nonResourceURLs": d["nonResourceURLs"]})
            if g.rule.rule.resources:
                res.append({k: v for k, v in d.items() if k != "nonResourceURLs"})
        err = "; ".join(errors) + ("node authorizer cannot list rules" if self.incomplete else "")
        return RulesResult(res, non, incomplete=self.incomplete, evaluation_error=err)


def cache_token(home: Any, provider: Any, token: str) -> None:
    """Put an ID token into the plugin's cache entry for the kubeconfig written by the harness (AUTH's cache API)."""
    args = [f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.client_id}",
            f"--certificate-authority={provider.ca_path}", "--oidc-extra-scope=groups", "--oidc-extra-scope=email"]
    settings = ProviderSettings.from_exec_args(args, home.env)
    open_cache(settings).save(TokenSet(token, None, provider.issuer, provider.client_id))


@pytest.fixture
def shop_api(apiserver: Any) -> Any:
    apiserver.authorizer = RbacAuthorizer([SHOP_RBAC])
    apiserver.groups_prefix = "oidc:"
    return apiserver


def test_whoami_live_issuer_prefix_and_groups_prefix(provider: Any, shop_api: Any, kubeconfig: Path, home: Any,
                                                     run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("alice", ["shop-devs"]))
    p = run_netsso("whoami", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["cluster"]["username"] == f"{provider.issuer}#alice"
    assert data["cluster"]["groups"] == ["oidc:shop-devs", "system:authenticated"]
    codes = [f["code"] for f in data["findings"]]
    assert codes == ["issuer-prefix", "groups-prefix"]
    table = run_netsso("whoami")
    assert "Cluster view (SelfSubjectReview)" in table.stdout and "Local view (cached ID token)" in table.stdout
    assert "hint:" in table.stdout
    assert any(r.path.endswith("/selfsubjectreviews") for r in shop_api.requests)


def test_whoami_live_no_groups_claim(provider: Any, apiserver: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("nogroups", None))
    data = json.loads(run_netsso("whoami", "-o", "json").stdout)
    assert "no-groups-claim" in [f["code"] for f in data["findings"]]
    assert data["cluster"]["groups"] == ["system:authenticated"]


def test_whoami_live_overage(provider: Any, apiserver: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    apiserver.resolve_distributed_claims = False
    token = provider.mint_id_token("overage", None, claims={
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://127.0.0.1:9/groups"}},
    })  # fmt: skip
    cache_token(home, provider, token)
    p = run_netsso("whoami", "-o", "json")
    data = json.loads(p.stdout)
    assert "groups-overage" in [f["code"] for f in data["findings"]]


def test_whoami_local_expired(provider: Any, apiserver: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("alice", ["dev"], ttl=-120))
    p = run_netsso("whoami", "--local")
    assert p.returncode == 0
    assert "token-expired" in p.stdout and "EXPIRED" in p.stdout


def test_whoami_local_not_logged_in(apiserver: Any, kubeconfig: Path, run_netsso: Any) -> None:
    p = run_netsso("whoami", "--local")
    assert p.returncode == 3
    assert p.stderr.startswith("error: not logged in: run kubectl netsso login")


def test_can_i_live_yes_no(provider: Any, shop_api: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("alice", ["shop-devs"]))
    yes = run_netsso("can-i", "create", "deployments", "-n", "shop")
    assert yes.returncode == 0, yes.stderr
    assert yes.stdout.splitlines()[0] == "yes"
    assert "RBAC: allowed by RoleBinding shop/shop-devs-edit -> ClusterRole edit" in yes.stdout
    print("\n$ kubectl netsso can-i create deployments -n shop\n" + yes.stdout)  # shown with -s (README example)
    no = run_netsso("can-i", "get", "secrets", "-n", "payments")
    assert no.returncode == 1 and no.stdout.splitlines()[0] == "no"
    exec_ = run_netsso("can-i", "create", "pods", "--subresource", "exec", "-n", "frontend", "-o", "json")
    data = json.loads(exec_.stdout)
    assert exec_.returncode == 0 and data["allowed"] is True and data["source"] == "live"
    reviews = [r for r in shop_api.requests if r.path.endswith("/selfsubjectaccessreviews")]
    assert len(reviews) == 3 and all(r.status == 201 for r in reviews)


def test_can_i_live_list_and_incomplete(provider: Any, shop_api: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("ci", ["contractors"]))
    p = run_netsso("can-i", "--list", "-n", "frontend")
    assert p.returncode == 0, p.stderr
    assert "pods/exec" in p.stdout and "networkpolicies.networking.k8s.io" in p.stdout
    shop_api.authorizer = RbacAuthorizer([SHOP_RBAC], incomplete=True)
    p2 = run_netsso("can-i", "--list", "-n", "frontend", "-o", "json")
    assert json.loads(p2.stdout)["incomplete"] is True
    assert "the list may be incomplete" in p2.stderr


def test_permissions_live(provider: Any, shop_api: Any, kubeconfig: Path, home: Any, run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("bob", ["payments-oncall"]))
    p = run_netsso("permissions", "-n", "payments", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    pods = next(r for r in data["rows"] if r["name"] == "pods")
    assert pods["verbs"]["get"] is True and pods["verbs"]["delete"] is False and pods["risky"] == ["exec"]
    secrets = next(r for r in data["rows"] if r["name"] == "secrets")
    assert not any(secrets["verbs"].values())
    table = run_netsso("perms", "-n", "payments")
    assert table.returncode == 0 and "RISKY" in table.stdout


def test_can_i_live_impersonation_forbidden(provider: Any, shop_api: Any, kubeconfig: Path, home: Any,
                                            run_netsso: Any) -> None:
    cache_token(home, provider, provider.mint_id_token("alice", ["shop-devs"]))
    p = run_netsso("can-i", "get", "pods", "-n", "shop", "--as", "mallory")
    assert p.returncode == 3
    assert p.stderr.startswith("error:") and "Traceback" not in p.stderr


def test_unreachable_api_server(provider: Any, home: Any, run_netsso: Any) -> None:
    from harness.kubeconfig import write_kubeconfig

    write_kubeconfig(home.kubeconfig, server="https://127.0.0.1:9", ca_path=provider.ca_path, issuer=provider.issuer,
                     client_id=provider.client_id, provider_ca=provider.ca_path)  # fmt: skip
    cache_token(home, provider, provider.mint_id_token("alice", ["dev"]))
    p = run_netsso("can-i", "get", "pods")
    assert p.returncode == 3 and p.stderr.startswith("error:") and "Traceback" not in p.stderr
