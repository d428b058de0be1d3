"""whoami / can-i / permissions through the installed kubectl-netsso executable, offline on examples/shop."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest
from helpers import REPO
from helpers.executable import EXE

SHOP = str(REPO / "examples" / "shop")
ISSUER = "https://idp.example.test"


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


def offline(*args: str) -> list[str]:
    return [*args, "--manifests", SHOP, "--with-default-roles"]


def fake_jwt(claims: dict) -> str:
    def seg(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256', 'kid': 'k'})}.{seg(claims)}.c2lnbmF0dXJl"


def cache_token(cache_dir: Path, claims: dict) -> list[str]:
    """Store a token set in the project's cache (AUTH's API) and return the provider flags selecting it."""
    from kubectl_netsso.auth.cache import open_cache
    from kubectl_netsso.auth.settings import ProviderSettings
    from kubectl_netsso.auth.tokens import TokenSet

    flags = ["--oidc-issuer-url", ISSUER, "--oidc-client-id", "netsso", "--token-cache-dir", str(cache_dir)]
    settings = ProviderSettings.from_values({"issuer_url": ISSUER, "client_id": "netsso", "token_cache_dir": str(cache_dir)})
    open_cache(settings).save(TokenSet(fake_jwt(claims), "refresh-secret-value", ISSUER, "netsso"))
    return flags


# ---------------------------------------------------------------------------------------------- can-i offline


def test_can_i_as_service_account_with_as_group_drops_the_sa_groups(env: dict[str, str], tmp_path: Path) -> None:
    # like the API server's impersonation: --as SA --as-group G means exactly [G], not the SA's own groups
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: sas}\n"
        "subjects: [{kind: Group, name: 'system:serviceaccounts:ci'}]\n"
        "roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}\n"
    )
    sa = "system:serviceaccount:ci:bot"
    args = ["can-i", "list", "pods", "-n", "ci", "--manifests", str(rbac), "--with-default-roles", "--as", sa]
    assert run(env, *args).returncode == 0
    assert run(env, *args, "--as-group", "dev").returncode == 1
    assert run(env, *args, "--as-group", "system:serviceaccounts:ci").returncode == 0
    reach = ["reach", "-n", "ci", "--manifests", str(rbac), "--with-default-roles", "--as", sa, "--as-group", "dev", "-o", "json"]
    p = run(env, *reach)
    assert json.loads(p.stdout)["identity"]["groups"] == ["dev", "system:authenticated"], p.stderr


def test_can_i_yes_names_the_grant(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "create", "deployments.apps", "-n", "shop", "--as", "alice", "--as-group", "oidc:shop-devs"))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "yes"
    assert "allowed by RoleBinding shop/shop-devs-edit -> ClusterRole edit, rule" in p.stdout


def test_can_i_no_exit_1(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "create", "deployments", "-n", "payments", "--as", "alice", "--as-group", "oidc:shop-devs"))
    assert p.returncode == 1
    assert p.stdout.splitlines()[0] == "no"


def test_can_i_quiet(env: dict[str, str]) -> None:
    yes = run(env, *offline("can-i", "-q", "create", "pods", "--subresource", "exec", "-n", "payments",
                            "--as", "bob", "--as-group", "oidc:payments-oncall"))  # fmt: skip
    no = run(env, *offline("can-i", "-q", "get", "secrets", "-n", "payments", "--as", "bob",
                           "--as-group", "oidc:payments-oncall"))  # fmt: skip
    assert (yes.returncode, yes.stdout, no.returncode, no.stdout) == (0, "", 1, "")


def test_can_i_type_slash_name_is_a_name_not_a_subresource(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "create", "pods/exec", "-n", "frontend", "--as", "c", "--as-group", "oidc:contractors",
                          "-o", "json"))  # fmt: skip
    data = json.loads(p.stdout)
    assert data["request"]["resourceAttributes"] == {"verb": "create", "group": "", "resource": "pods", "name": "exec",
                                                     "namespace": "frontend"}  # fmt: skip
    assert p.returncode == 0  # the contractor may create pods (any name)
    # a "yes" to a question the user probably did not mean to ask: said on stderr, with the spelling they meant
    assert p.stderr.splitlines() == ["warning: 'pods/exec' asks about a pod named 'exec' (kubectl's TYPE/NAME rule); "
                                     "for the exec subresource: pods --subresource exec"]
    plain = run(env, *offline("can-i", "get", "pods/web-0", "-n", "frontend", "--as", "c", "-o", "json"))
    sub = run(env, *offline("can-i", "create", "pods/exec", "--subresource", "exec", "-n", "frontend", "--as", "c"))
    assert "subresource" not in plain.stderr and "TYPE/NAME" not in sub.stderr


def test_can_i_pods_star_is_literal(env: dict[str, str]) -> None:
    # system:authenticated holds get on "pods/log" and the literal "pods/*" in frontend
    log_ = run(env, *offline("can-i", "get", "pods", "--subresource", "log", "-n", "frontend", "--as", "x"))
    exec_ = run(env, *offline("can-i", "get", "pods", "--subresource", "exec", "-n", "frontend", "--as", "x"))
    assert (log_.returncode, exec_.returncode) == (0, 1)


def test_can_i_service_account_namespace_defaulting(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "patch", "deployments.apps", "-n", "shop", "--as", "system:serviceaccount:shop:ci-deployer"))
    assert p.returncode == 0 and "RoleBinding shop/ci-deployer -> Role shop/deployer" in p.stdout


def test_can_i_sre_cluster_wide(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "delete", "networkpolicies", "-A", "--as", "s", "--as-group", "oidc:sre", "-o", "json"))
    data = json.loads(p.stdout)
    assert p.returncode == 0 and data["grant"]["binding"]["name"] == "sre-netpol-admin"
    assert "namespace" not in data["request"]["resourceAttributes"]


def test_can_i_without_default_roles_reports_missing_role(env: dict[str, str]) -> None:
    p = run(env, "can-i", "get", "pods", "-n", "shop", "--manifests", SHOP, "--as", "a", "--as-group", "oidc:shop-devs")
    assert p.returncode == 1
    assert 'clusterrole.rbac.authorization.k8s.io "edit" not found' in p.stdout


def test_can_i_non_resource_url(env: dict[str, str]) -> None:
    # Granted to every authenticated user by the default binding system:discovery (loaded with the default roles).
    p = run(env, *offline("can-i", "get", "/healthz", "--as", "a"))
    assert p.returncode == 0 and "non-resource URL" in p.stdout and "ClusterRoleBinding system:discovery" in p.stdout
    p = run(env, "can-i", "get", "/healthz", "--as", "a", "--manifests", SHOP)
    assert p.returncode == 1 and "non-resource URL" in p.stdout
    bad = run(env, *offline("can-i", "get", "/healthz", "--subresource", "x", "--as", "a"))
    assert bad.returncode == 2 and "--subresource can not be used with NonResourceURL" in bad.stderr


def test_can_i_manifests_from_stdin(env: dict[str, str]) -> None:
    text = (REPO / "examples/shop/rbac/contractors.yaml").read_text()
    p = run(env, "can-i", "patch", "networkpolicies", "-n", "frontend", "--manifests", "-", "--as", "c",
            "--as-group", "oidc:contractors", stdin=text)  # fmt: skip
    assert p.returncode == 0, p.stderr


def test_can_i_list(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "--list", "-n", "shop", "--as", "system:serviceaccount:shop:ci-deployer"))
    assert p.returncode == 0
    assert p.stdout.splitlines()[0].split() == ["RESOURCES", "NON-RESOURCE", "URLS", "RESOURCE", "NAMES", "VERBS"]
    assert "deployments.apps/scale" in p.stdout
    j = json.loads(run(env, *offline("can-i", "--list", "-n", "shop", "--as", "system:serviceaccount:shop:ci-deployer",
                                     "-o", "json")).stdout)  # fmt: skip
    # Its own RoleBinding, plus the default bindings every authenticated identity has (self reviews, discovery).
    assert {r["binding"]["name"] for r in j["rules"]} == {
        "ci-deployer", "system:basic-user", "system:discovery", "system:public-info-viewer"}


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["can-i", "get"], 2, "you must specify two arguments"),
        (["can-i", "get", "pods", "extra"], 2, "too many arguments"),
        (["can-i", "--list", "get", "pods"], 2, "--list does not take arguments"),
        (["can-i", "get", "pods", "--no-headers"], 2, "--no-headers is only valid with --list"),
        (["can-i", "get", "pods", "--bogus"], 2, "No such option"),
    ],
)
def test_can_i_errors(env: dict[str, str], args: list[str], code: int, message: str) -> None:
    p = run(env, *args, "--manifests", SHOP)
    assert p.returncode == code, (p.stdout, p.stderr)
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_malformed_rbac_names_file_and_document(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: rbac.authorization.k8s.io/v1\n"
                   "kind: RoleBinding\nmetadata: {name: b, namespace: x}\nroleRef: {kind: Role}\nsubjects: []\n")  # fmt: skip
    p = run(env, "can-i", "get", "pods", "--manifests", str(bad), "--as", "a")
    assert p.returncode == 1 and p.stdout.startswith("no")  # answered from the rest: the binding is left out
    assert p.stderr == (f"warning: {bad} document 2: RoleBinding x/b: roleRef.name is required; "
                        "left out: the API server would reject this object\n")


def test_unknown_verb_warns(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "frob", "pods", "-n", "shop", "--as", "a"))
    assert p.returncode == 1 and "verb 'frob' is not a known verb" in p.stderr


def test_cluster_scoped_resource_is_checked_cluster_wide(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "list", "nodes", "-n", "shop", "--as", "a", "-o", "json"))
    assert "is not namespace scoped" in p.stderr
    assert "namespace" not in json.loads(p.stdout)["request"]["resourceAttributes"]


# ---------------------------------------------------------------------------------------------- permissions


def test_permissions_matrix(env: dict[str, str]) -> None:
    p = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--as-group", "oidc:contractors"))
    assert p.returncode == 0, p.stderr
    rows = {line.split()[0]: line.split()[1:] for line in p.stdout.splitlines()[2:] if line.strip()}
    assert rows["pods"][:7] == ["✔", "✔", "✔", "✔", "✖", "✖", "✔"]
    assert "exec" in rows["pods"][7] and "portforward" in rows["pods"][7]
    assert rows["secrets"] == ["✖"] * 7


def test_permissions_json(env: dict[str, str]) -> None:
    p = run(env, *offline("permissions", "-n", "shop", "--as", "a", "--as-group", "oidc:shop-devs", "-o", "json"))
    data = json.loads(p.stdout)
    pods = next(r for r in data["rows"] if r["name"] == "pods")
    assert pods["verbs"]["create"] is True and "exec" in pods["risky"]
    secrets = next(r for r in data["rows"] if r["name"] == "secrets")
    assert secrets["verbs"]["get"] is True and "read" in secrets["risky"]  # edit reads secrets
    assert any(r["permission"] == "impersonate serviceaccounts" for r in data["risky"])


# ---------------------------------------------------------------------------------------------- cached identity, whoami


def test_whoami_local(env: dict[str, str], tmp_path: Path) -> None:
    now = int(time.time())
    flags = cache_token(tmp_path / "cache", {"iss": ISSUER, "sub": "alice", "aud": "netsso", "iat": now, "exp": now + 3600,
                                             "groups": ["shop-devs"], "email": "alice@example.test"})  # fmt: skip
    p = run(env, "whoami", "--local", *flags)
    assert p.returncode == 0, p.stderr
    assert "https://idp.example.test#alice" in p.stdout and "shop-devs" in p.stdout
    assert "refresh-secret-value" not in p.stdout + p.stderr and "eyJ" not in p.stdout + p.stderr
    j = json.loads(run(env, "whoami", "--local", *flags, "-o", "json").stdout)
    assert j["local"]["subject"] == "alice" and j["cluster"] is None and j["local"]["expired"] is False


@pytest.mark.parametrize(
    "extra, code",
    [
        ({"_claim_names": {"groups": "s1"}, "_claim_sources": {"s1": {"endpoint": "https://graph.example"}}}, "groups-overage"),
        ({}, "no-groups-claim"),
        ({"groups": ["a"], "exp": 1000}, "token-expired"),
    ],
)
def test_whoami_local_findings(env: dict[str, str], tmp_path: Path, extra: dict, code: str) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "alice", "aud": "netsso", "iat": now, "exp": now + 3600, **extra}
    flags = cache_token(tmp_path / "cache", claims)
    j = json.loads(run(env, "whoami", "--local", *flags, "-o", "json").stdout)
    assert code in [f["code"] for f in j["findings"]]
    text = run(env, "whoami", "--local", *flags).stdout
    assert code in text and "hint:" in text


ABSURD_STAMPS = {"1e20": 1e20, "-1e20": -1e20, "10^30": 10**30, "10^400": 10**400, "-10^400": -(10**400), "1.5e300": 1.5e300}


@pytest.mark.parametrize("stamp", ABSURD_STAMPS.values(), ids=ABSURD_STAMPS.keys())
def test_whoami_local_survives_a_providers_absurd_timestamps(env: dict[str, str], tmp_path: Path, stamp: float) -> None:
    # exp and iat are the provider's numbers: gmtime() overflowed on 1e20 (exit 3, "internal error"), float() on 10**400
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "alice", "aud": "netsso", "iat": stamp, "exp": stamp}
    flags = cache_token(tmp_path / "cache", claims)
    p = run(env, "whoami", "--local", *flags)
    assert p.returncode == 0, p.stderr
    rows = {line.split()[0]: line for line in p.stdout.splitlines() if line.split()[:1] in (["Issued"], ["Expires"])}
    assert set(rows) == {"Issued", "Expires"}, p.stdout
    assert "not a valid time" in rows["Expires"] and "not a valid time" in rows["Issued"], p.stdout
    j = json.loads(run(env, "whoami", "--local", *flags, "-o", "json").stdout)
    assert j["local"]["expiresAt"] == stamp  # the claim as it is, for machines
    assert j["local"]["expired"] is (stamp < now)


def test_whoami_local_not_logged_in(env: dict[str, str], tmp_path: Path) -> None:
    p = run(env, "whoami", "--local", "--oidc-issuer-url", ISSUER, "--oidc-client-id", "x", "--token-cache-dir", str(tmp_path))
    assert p.returncode == 3
    assert p.stderr.startswith("error: not logged in: run kubectl netsso login")


def test_can_i_with_cached_identity_and_prefixes(env: dict[str, str], tmp_path: Path) -> None:
    now = int(time.time())
    flags = cache_token(tmp_path / "cache", {"iss": ISSUER, "sub": "alice", "aud": "netsso", "iat": now, "exp": now + 3600,
                                             "groups": ["contractors"]})  # fmt: skip
    base = ("can-i", "patch", "networkpolicies", "-n", "frontend", *flags)
    assert run(env, *offline(*base)).returncode == 1  # groups without the prefix do not match oidc:contractors
    p = run(env, *offline(*base, "--groups-prefix", "oidc:", "-o", "json"))
    data = json.loads(p.stdout)
    assert p.returncode == 0 and data["identity"]["user"] == "https://idp.example.test#alice"
    assert data["identity"]["groups"][0] == "oidc:contractors"
    p2 = run(env, *offline(*base, "--groups-prefix", "oidc:", "--username-prefix", "-", "-o", "json"))
    assert json.loads(p2.stdout)["identity"]["user"] == "alice"
