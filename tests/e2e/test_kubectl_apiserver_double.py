"""The kube API double itself: OIDC authentication like kube-apiserver, lists for kubectl, review APIs for the Python
client (pydantic-validated), 403s and impersonation."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml
from harness.apiserver import Decision, FakeAPIServer, RulesResult, UserInfo

NS = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"team": n}}} for n in ("shop", "db")]
PODS = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
     "spec": {"containers": [{"name": "web", "image": "nginx"}]}, "status": {"phase": "Running"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pg-0", "namespace": "db", "labels": {"app": "pg"}},
     "spec": {"containers": [{"name": "pg", "image": "postgres"}]}, "status": {"phase": "Running"}},
]


def _get(api: FakeAPIServer, path: str, token: str | None = None, **headers: str) -> requests.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(api.url + path, headers=headers, verify=str(api.ca_path), timeout=10)


def test_valid_provider_token_authenticates_with_kube_default_prefix(provider, apiserver):
    apiserver.set_objects(NS + PODS)
    token = provider.mint_id_token("alice+dev", groups=["dev", "ops"])
    r = _get(apiserver, "/api/v1/namespaces/shop/pods", token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "PodList" and [p["metadata"]["name"] for p in body["items"]] == ["web-1"]
    rec = apiserver.requests[-1]
    # --oidc-username-prefix default for a non-email claim is "<issuer>#"
    assert rec.user == f"{provider.issuer}#alice+dev"
    assert rec.groups == ("dev", "ops", "system:authenticated")
    assert _get(apiserver, "/api/v1/pods?labelSelector=app%3Dpg", token).json()["items"][0]["metadata"]["name"] == "pg-0"


@pytest.mark.parametrize("name", ["alg_none", "wrong_key", "wrong_iss", "wrong_aud", "expired", "hs256_pubkey"])
def test_forged_tokens_are_rejected_with_a_status(provider, apiserver, name):
    token = provider.forged_tokens()[name]
    r = _get(apiserver, "/api/v1/namespaces", token)
    assert r.status_code == 401
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_missing_claims_and_anonymous(provider, pki):
    with FakeAPIServer(provider.issuer, pki.ca_cert, tls=(pki.leaf_cert, pki.leaf_key), username_claim="email",
                       groups_prefix="oidc:", allow_anonymous=True) as api:
        r = _get(api, "/api/v1/namespaces")
        assert r.status_code == 200 and api.requests[-1].user == "system:anonymous"
        ok = provider.mint_id_token("bob", claims={"groups": "single"})
        assert _get(api, "/api/v1/namespaces", ok).status_code == 200
        assert api.requests[-1].user == "bob@example.test"  # email claim: no prefix by default
        assert api.requests[-1].groups == ("oidc:single", "system:authenticated")
        unverified = provider.mint_id_token("bob", claims={"email_verified": False})
        assert _get(api, "/api/v1/namespaces", unverified).status_code == 401
        no_email = provider.mint_id_token("bob", drop=["email"])
        assert _get(api, "/api/v1/namespaces", no_email).status_code == 401
        # an invalid token is never downgraded to anonymous
        assert _get(api, "/api/v1/namespaces", "garbage").status_code == 401


def test_forbidden_and_fail_auth_next(provider, apiserver):
    token = provider.mint_id_token("alice")
    apiserver.forbid("pods", "db")
    r = _get(apiserver, "/api/v1/namespaces/db/pods", token)
    assert r.status_code == 403
    assert r.json()["reason"] == "Forbidden"
    assert 'cannot list resource "pods" in API group "" in the namespace "db"' in r.json()["message"]
    assert _get(apiserver, "/api/v1/namespaces/shop/pods", token).status_code == 200
    apiserver.fail_auth_next(1)
    assert _get(apiserver, "/api/v1/namespaces/shop/pods", token).status_code == 401
    assert _get(apiserver, "/api/v1/namespaces/shop/pods", token).status_code == 200


class _OnlyShop:
    def authorize(self, user: UserInfo, attrs: dict) -> Decision:
        if attrs.get("verb") == "impersonate":
            return Decision(user.username.endswith("#admin"), "impersonation for admin only")
        ok = attrs.get("namespace") == "shop"
        return Decision(ok, f"shop only ({user.username})", denied=not ok)

    def rules(self, user: UserInfo, namespace: str) -> RulesResult:
        rules = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}] if namespace == "shop" else []
        return RulesResult(rules, [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}], incomplete=False)


def test_reviews_validate_in_the_python_client_and_follow_the_authorizer(provider, pki):
    from kubernetes import client

    with FakeAPIServer(provider.issuer, pki.ca_cert, tls=(pki.leaf_cert, pki.leaf_key), authorizer=_OnlyShop()) as api:
        cfg = client.Configuration()
        cfg.host = api.url
        cfg.ssl_ca_cert = str(pki.ca_cert)
        cfg.api_key = {"authorization": "Bearer " + provider.mint_id_token("alice", groups=["dev"])}
        with client.ApiClient(cfg) as c:
            ssr = client.AuthenticationV1Api(c).create_self_subject_review(client.V1SelfSubjectReview())
            assert ssr.status.user_info.username == f"{provider.issuer}#alice"
            assert ssr.status.user_info.groups == ["dev", "system:authenticated"]
            authz = client.AuthorizationV1Api(c)
            yes = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    namespace="shop", verb="list", resource="pods"))))
            no = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
                    namespace="db", verb="list", resource="pods"))))
            assert (yes.status.allowed, no.status.allowed, no.status.denied) == (True, False, True)
            assert no.spec.resource_attributes.namespace == "db"
            rules = authz.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(
                spec=client.V1SelfSubjectRulesReviewSpec(namespace="shop")))
            assert rules.status.resource_rules[0].verbs == ["get", "list"] and rules.status.incomplete is False
        assert [r.status for r in api.requests] == [201, 201, 201, 201]
        # lists are authorized too; impersonation needs the impersonate verb
        alice = provider.mint_id_token("alice")
        assert _get(api, "/api/v1/namespaces/db/pods", alice).status_code == 403
        assert _get(api, "/api/v1/namespaces/shop/pods", alice, **{"Impersonate-User": "bob"}).status_code == 403
        admin = provider.mint_id_token("admin")
        r = _get(api, "/api/v1/namespaces/shop/pods", admin, **{"Impersonate-User": "bob", "Impersonate-Group": "g1"})
        assert r.status_code == 200
        assert (api.requests[-1].user, api.requests[-1].groups, api.requests[-1].impersonated_by) == (
            "bob", ("g1", "system:authenticated"), f"{provider.issuer}#admin")


def test_real_kubectl_lists_from_the_double_with_a_static_token(provider, apiserver, home, run_kubectl):
    apiserver.set_objects(NS + PODS)
    token = provider.mint_id_token("alice")
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "t",
           "clusters": [{"name": "t", "cluster": {"server": apiserver.url, "certificate-authority": str(apiserver.ca_path)}}],
           "users": [{"name": "u", "user": {"token": token}}],
           "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u", "namespace": "shop"}}]}
    Path(home.env["KUBECONFIG"]).parent.mkdir(parents=True, exist_ok=True)
    Path(home.env["KUBECONFIG"]).write_text(yaml.safe_dump(cfg))
    r = run_kubectl("get", "pods", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pod/web-1"]
    r = run_kubectl("get", "networkpolicies", "-A")
    assert r.returncode == 0, r.stderr
    apiserver.forbid("pods", "db")
    r = run_kubectl("get", "pods", "-n", "db")
    assert r.returncode == 1 and "Forbidden" in r.stderr and 'cannot list resource "pods"' in r.stderr
