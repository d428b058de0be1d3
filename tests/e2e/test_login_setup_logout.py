"""`setup` prints a configuration that really works (kube-apiserver flags applied to the API double, the written
kubeconfig user used by the real kubectl, the RBAC binding matching the mapped group); `logout` revokes and forgets."""

from __future__ import annotations

import re

import yaml
from harness.apiserver import Decision, FakeAPIServer, RulesResult, UserInfo
from harness.netsso import browser_args, provider_args, read_cache

PODS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"containers": []}},
]


class BindingAuthorizer:
    """Allows list/get in the binding's namespace to members of its Group subject (enough to check the mapping)."""

    def __init__(self, binding: dict) -> None:
        self.namespace = binding["metadata"]["namespace"]
        self.groups = {s["name"] for s in binding["subjects"] if s["kind"] == "Group"}

    def authorize(self, user: UserInfo, attrs: dict) -> Decision:
        ok = bool(self.groups & set(user.groups)) and attrs.get("namespace") == self.namespace
        return Decision(ok, "bound" if ok else "no binding")

    def rules(self, user: UserInfo, namespace: str) -> RulesResult:
        return RulesResult([], [])


def test_setup_output_works_end_to_end(provider, pki, home, browser_command, run_netsso, run_kubectl):
    browser_command.set(login="alice+dev")
    r = run_netsso("setup", *provider_args(provider, *browser_args(browser_command)), "--bind-group", "dev",
                   "--role", "view", "-n", "shop", "--write-kubeconfig", "--user", "sso", timeout=90)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "--exec-api-version=client.authentication.k8s.io/v1" in out and "--exec-interactive-mode=IfAvailable" in out
    flags = dict(re.findall(r"^--(oidc-[a-z-]+)=(\S+)$", out, re.M))
    assert flags["oidc-issuer-url"] == provider.issuer and flags["oidc-client-id"] == provider.client_id
    assert flags["oidc-groups-claim"] == "groups"
    you_will_be = re.search(r"^# you will be: (\S+)$", out, re.M).group(1)
    docs = [d for d in yaml.safe_load_all(out.split("## 4.", 1)[1].split("\n", 1)[1]) if d]
    binding = docs[0]
    assert binding["kind"] == "RoleBinding" and binding["roleRef"]["name"] == "view"
    auth_cfg = yaml.safe_load(out.split("## 3.", 1)[1].split("\n", 1)[1].split("# you will be")[0])
    assert auth_cfg["jwt"][0]["issuer"]["url"] == provider.issuer
    assert auth_cfg["jwt"][0]["issuer"]["audiences"] == [provider.client_id]

    # a cluster configured with exactly those flags, and the written kubeconfig user: kubectl works, no new login
    with FakeAPIServer(provider.issuer, pki.ca_cert, flags["oidc-client-id"], tls=(pki.leaf_cert, pki.leaf_key),
                       objects=PODS, username_claim=flags.get("oidc-username-claim", "sub"),
                       username_prefix=flags.get("oidc-username-prefix"),
                       groups_claim=flags["oidc-groups-claim"], groups_prefix=flags.get("oidc-groups-prefix", ""),
                       authorizer=BindingAuthorizer(binding)) as api:
        cfg = yaml.safe_load(home.kubeconfig.read_text())
        assert [u["name"] for u in cfg["users"]] == ["sso"]
        cfg["clusters"] = [{"name": "prod", "cluster": {"server": api.url, "certificate-authority": str(pki.ca_cert)}}]
        cfg["contexts"] = [{"name": "prod", "context": {"cluster": "prod", "user": "sso", "namespace": "shop"}}]
        cfg["current-context"] = "prod"
        home.kubeconfig.write_text(yaml.safe_dump(cfg))
        r = run_kubectl("get", "pods", "-o", "name")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["pod/web-1"]
        users = {q.user for q in api.requests if q.user}
        assert users == {you_will_be}, (users, you_will_be)
        # the group the binding names is the group the cluster sees
        bound_groups = BindingAuthorizer(binding).groups
        assert all(bound_groups <= set(q.groups) for q in api.requests if q.user)
        assert run_kubectl("get", "pods", "-n", "default").returncode == 1  # not bound there
    assert len(browser_command.invocations()) == 1
    assert provider.grant_count("authorization_code") == 1


def test_logout_revokes_the_refresh_token_and_forgets(provider, home, browser_command, run_netsso):
    args = provider_args(provider)
    assert run_netsso("login", *args, *browser_args(browser_command), timeout=90).returncode == 0
    old_rt = read_cache(home.cache_dir)["refresh_token"]
    r = run_netsso("logout", *args)
    assert r.returncode == 0, r.stderr
    assert "Logged out" in r.stdout
    assert list(home.cache_dir.glob("*.json")) == []
    assert provider.stats()["revocations"] == 1
    refresh = provider.token_request({"grant_type": "refresh_token", "refresh_token": old_rt,
                                      "client_id": provider.client_id})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    # logging out again is not an error
    again = run_netsso("logout", *args)
    assert again.returncode == 0 and "No cached tokens" in again.stdout
