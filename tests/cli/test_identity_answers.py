"""Identity answers you can trust (issue 10): unknown resource types, subresource rows, whoami wording, prefixed-group
near misses, and the identity commands' flags. Through the installed kubectl-netsso executable, offline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import REPO
from helpers.executable import EXE

SHOP = str(REPO / "examples" / "shop")


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


def offline(*args: str) -> list[str]:
    return [*args, "--manifests", SHOP, "--with-default-roles"]


UNKNOWN = ("warning: the server doesn't have a resource type 'foobar' (offline: not a built-in type, and no RBAC rule "
           "in the manifests names it); checked as written")  # fmt: skip


# ---------------------------------------------------------------------------------------------- item 3: resource types


def test_can_i_unknown_resource_type_warns_like_kubectl_and_answers(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "watch", "foobar", "-n", "shop", "--as", "a", "--as-group", "oidc:shop-devs"))
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines()[:2] == ["no", "  request: watch foobar in namespace shop"]
    assert p.stderr.splitlines() == [UNKNOWN]
    j = json.loads(run(env, *offline("can-i", "watch", "foobar", "-n", "shop", "--as", "a", "-o", "json")).stdout)
    assert j["request"]["resourceAttributes"] == {"verb": "watch", "group": "", "resource": "foobar", "namespace": "shop"}


def test_can_i_a_rule_may_name_any_string(env: dict[str, str], tmp_path: Path) -> None:
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: odd}\n"
        "rules: [{apiGroups: [''], resources: [foobar], verbs: [watch]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: odd}\n"
        "subjects: [{kind: User, name: a, apiGroup: rbac.authorization.k8s.io}]\n"
        "roleRef: {kind: ClusterRole, name: odd, apiGroup: rbac.authorization.k8s.io}\n"
    )
    p = run(env, "can-i", "watch", "foobar", "--manifests", str(rbac), "--as", "a")
    assert p.returncode == 0 and p.stdout.startswith("yes") and "ClusterRoleBinding odd" in p.stdout
    assert p.stderr == ""  # the manifests name it: not unknown
    unbound = run(env, "can-i", "watch", "foobars", "--manifests", str(rbac), "--as", "a")
    assert unbound.returncode == 1 and "doesn't have a resource type 'foobars'" in unbound.stderr


@pytest.mark.parametrize(("given", "plural"), [("pod", "pods"), ("Deployment", "deployments.apps")])
def test_can_i_singular_and_kind_forms_map_to_the_plural_with_a_warning(env: dict[str, str], given: str, plural: str) -> None:
    p = run(env, *offline("can-i", "create", given, "-n", "shop", "--as", "a", "--as-group", "oidc:shop-devs"))
    assert p.returncode == 0 and p.stdout.splitlines()[1] == f"  request: create {plural} in namespace shop"
    assert p.stderr == f"warning: resource type {given!r} checked as {plural!r} (RBAC rules name the plural)\n"


def test_permissions_accepts_subresources(env: dict[str, str]) -> None:
    p = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--as-group", "oidc:contractors", "--resource", "pods/exec",
                          "--resource", "deployments.apps/scale", "-o", "json"))  # fmt: skip
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)["rows"]}
    assert set(rows) == {"pods/exec", "deployments.apps/scale"}
    assert rows["pods/exec"]["subresource"] == "exec" and rows["pods/exec"]["risky"] == ["exec"]
    assert all(rows["pods/exec"]["verbs"].values())  # the contractor role: verbs ["*"] on pods/exec
    assert not any(rows["deployments.apps/scale"]["verbs"].values())
    table = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--as-group", "oidc:contractors",
                              "--resource", "pods/exec"))  # fmt: skip
    assert table.returncode == 0 and table.stdout.splitlines()[2].split()[:2] == ["pods/exec", "✔"]
    bad = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--resource", "pods/exec/x"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: invalid resource 'pods/exec/x'")


# ---------------------------------------------------------------------------------------------- items 4 and 9: whoami

ISSUER = "https://idp.example.test"


def fake_jwt(claims: dict) -> str:
    import base64

    def seg(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256', 'kid': 'k'})}.{seg(claims)}.c2lnbmF0dXJl"


def cache_token(cache_dir: Path, claims: dict, refresh: str | None = "refresh-secret-value") -> list[str]:
    """Store a token set in the project's cache (AUTH's API); return the provider flags selecting it."""
    from kubectl_netsso.auth.cache import open_cache
    from kubectl_netsso.auth.settings import ProviderSettings
    from kubectl_netsso.auth.tokens import TokenSet

    flags = ["--oidc-issuer-url", ISSUER, "--oidc-client-id", "netsso", "--token-cache-dir", str(cache_dir)]
    settings = ProviderSettings.from_values({"issuer_url": ISSUER, "client_id": "netsso", "token_cache_dir": str(cache_dir)})
    open_cache(settings).save(TokenSet(fake_jwt(claims), refresh, ISSUER, "netsso"))
    return flags


def netsso_kubeconfig(path: Path, cache_dir: Path, server: str = "https://127.0.0.1:9", *extra: str) -> Path:
    """A kubeconfig whose user is this plugin (device-code grant), for a server that refuses connections."""
    import yaml

    args = ["get-token", f"--oidc-issuer-url={ISSUER}", "--oidc-client-id=netsso", f"--token-cache-dir={cache_dir}",
            "--grant-type=device-code", *extra]  # fmt: skip
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                                 "command": "kubectl-netsso", "args": args}}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}],
    }))  # fmt: skip
    return path


def claims(**extra: object) -> dict:
    import time

    now = int(time.time())
    return {"iss": ISSUER, "sub": "alice", "aud": "netsso", "iat": now, "exp": now + 3600, "groups": ["shop-devs"], **extra}


def test_whoami_local_does_not_claim_the_cluster_agrees(env: dict[str, str], tmp_path: Path) -> None:
    flags = cache_token(tmp_path / "cache", claims())
    p = run(env, "whoami", "--local", *flags)
    assert p.returncode == 0, p.stderr
    assert "agree" not in p.stdout
    assert p.stdout.rstrip().endswith(
        "Findings\nnone in the token alone; the cluster's view was not asked (--local), so how the API server maps you"
        " (username and groups prefixes, groups it does not see) was not checked")  # fmt: skip
    assert json.loads(run(env, "whoami", "--local", *flags, "-o", "json").stdout)["compared"] is False
    with_finding = run(env, "whoami", "--local", *cache_token(tmp_path / "c2", claims(groups=None)))
    assert "no-groups-claim" in with_finding.stdout and "(from the token alone: the cluster's view was not asked" in (
        with_finding.stdout)


def test_whoami_unreachable_cluster_is_a_missing_view_not_agreement(env: dict[str, str], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache_token(cache, claims())
    env["KUBECONFIG"] = str(netsso_kubeconfig(tmp_path / "kubeconfig", cache))
    p = run(env, "whoami", stdin="")
    assert p.returncode == 3
    cluster_part = p.stdout.split("Cluster view\n", 1)[1]
    assert cluster_part.startswith("error: ") and "127.0.0.1:9" in cluster_part
    assert "agree" not in p.stdout
    assert "none in the token alone; the cluster's view is missing (see the error above)" in p.stdout
    assert json.loads(run(env, "whoami", "-o", "json", stdin="").stdout)["compared"] is False


def test_whoami_live_login_hint_names_whoami_not_kubectl(env: dict[str, str], tmp_path: Path) -> None:
    # An expired token with no refresh token: the in-process token helper needs a new (device-code) login, which
    # cannot run without a terminal. The user ran whoami, so the hint is about whoami, not "kubectl called get-token".
    cache = tmp_path / "cache"
    cache_token(cache, claims(exp=1000, iat=900), refresh=None)
    env["KUBECONFIG"] = str(netsso_kubeconfig(tmp_path / "kubeconfig", cache))
    p = run(env, "whoami", stdin="")
    assert p.returncode == 3
    assert "kubectl called get-token" not in p.stdout + p.stderr
    error = p.stdout.split("Cluster view\n", 1)[1].splitlines()[0]
    assert error.startswith("error: login required: run kubectl netsso login ")
    assert error.endswith("(the device-code login needs a terminal; kubectl netsso whoami is not running in one "
                          "(stdin is not a terminal))")  # fmt: skip
    # no cached token at all: the same error, on its own
    empty = tmp_path / "empty"
    env["KUBECONFIG"] = str(netsso_kubeconfig(tmp_path / "kubeconfig2", empty))
    p2 = run(env, "can-i", "get", "pods", stdin="")
    assert p2.returncode == 3 and p2.stderr.startswith("error: login required: run kubectl netsso login ")
    assert p2.stderr.splitlines()[1] == ("hint: the device-code login needs a terminal; kubectl netsso can-i is not "
                                         "running in one (stdin is not a terminal)")  # fmt: skip


# ---------------------------------------------------------------------------------------------- item 7: near misses

NEAR_MISS = ("warning: RoleBinding frontend/contractors names Group 'oidc:contractors'; your token's 'groups' claim "
             "'contractors' is checked as 'contractors' here, so it does not match")  # fmt: skip
PREFIX_HINT = ("hint: pass --groups-prefix oidc: if the API server maps your token that way (kubectl netsso whoami "
               "shows how the cluster sees you)")  # fmt: skip


def test_can_i_as_the_cached_identity_names_the_prefixed_group_binding_and_the_flag(env: dict[str, str],
                                                                                    tmp_path: Path) -> None:
    flags = cache_token(tmp_path / "cache", claims(groups=["contractors"]))
    base = offline("can-i", "patch", "networkpolicies", "-n", "frontend", *flags)
    p = run(env, *base)
    assert p.returncode == 1 and p.stdout.startswith("no")
    assert p.stderr.splitlines() == [NEAR_MISS, PREFIX_HINT]
    j = json.loads(run(env, *base, "-o", "json").stdout)
    assert j["nearMisses"] == [{"binding": "RoleBinding frontend/contractors", "kind": "Group", "subject": "oidc:contractors",
                                "claim": "groups", "value": "contractors", "checkedAs": "contractors",
                                "flag": "--groups-prefix oidc:"}]  # fmt: skip
    fixed = run(env, *base, "--groups-prefix", "oidc:")
    assert fixed.returncode == 0 and fixed.stderr == ""
    # with --as the user named the identity: no guessing about token mappings
    explicit = run(env, *offline("can-i", "patch", "networkpolicies", "-n", "frontend", "--as", "x", "--as-group", "contractors"))
    assert explicit.returncode == 1 and explicit.stderr == ""


@pytest.mark.parametrize(
    "args",
    [["permissions", "-n", "frontend"], ["can-i", "--list", "-n", "frontend"], ["reach", "-n", "frontend"],
     ["report", "--html", "-", "-n", "frontend"]],
)  # fmt: skip
def test_near_misses_wherever_the_cached_identity_is_used(env: dict[str, str], tmp_path: Path, args: list[str]) -> None:
    flags = cache_token(tmp_path / "cache", claims(groups=["contractors"]))
    p = run(env, *offline(*args, *flags))
    assert p.returncode == 0, p.stderr
    assert NEAR_MISS in p.stderr.splitlines() and PREFIX_HINT in p.stderr.splitlines()
    assert run(env, *offline(*args, *flags, "--groups-prefix", "oidc:")).stderr.count("names Group") == 0


def test_username_issuer_prefix_near_miss(env: dict[str, str], tmp_path: Path) -> None:
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: alice-view, namespace: shop}\n"
        "subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]\n"
        "roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}\n"
    )
    flags = cache_token(tmp_path / "cache", claims())
    args = ["can-i", "get", "pods", "-n", "shop", "--manifests", str(rbac), "--with-default-roles", *flags]
    p = run(env, *args)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        "warning: RoleBinding shop/alice-view names User 'alice'; your token's 'sub' claim 'alice' is checked as "
        "'https://idp.example.test#alice' here, so it does not match",
        "hint: pass --username-prefix - if the API server maps your token that way (kubectl netsso whoami shows how "
        "the cluster sees you)",
    ]
    assert run(env, *args, "--username-prefix", "-").returncode == 0


# ---------------------------------------------------------------------------------------------- item 10: consistency


def test_can_i_accepts_a_group_alone_offline_like_reach(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "patch", "networkpolicies", "-n", "frontend", "--as-group", "oidc:contractors"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[2] == "  as:      a member of the groups [oidc:contractors system:authenticated]"
    j = json.loads(run(env, *offline("can-i", "patch", "networkpolicies", "-n", "frontend", "--as-group",
                                     "oidc:contractors", "-o", "json")).stdout)  # fmt: skip
    assert j["identity"] == {"user": None, "groups": ["oidc:contractors", "system:authenticated"], "from": "--as-group"}
    reach = json.loads(run(env, *offline("reach", "-n", "frontend", "--as-group", "oidc:contractors", "-o", "json")).stdout)
    assert reach["identity"] == j["identity"]
    listed = run(env, *offline("can-i", "--list", "-n", "frontend", "--as-group", "oidc:contractors"))
    assert listed.returncode == 0 and "networkpolicies.networking.k8s.io" in listed.stdout
    live = run(env, "can-i", "get", "pods", "--as-group", "g")  # the API server impersonates no group without a user
    assert live.returncode == 2 and live.stderr.startswith("error: --as-group needs --as USER on a live cluster")


def _kubeconfig(path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u", "namespace": "frontend"}}],
    }))  # fmt: skip
    return path


@pytest.mark.parametrize(
    "args",
    [["can-i", "get", "pods", "--as", "a"], ["can-i", "get", "pods", "-n", "shop", "--as", "a"],
     ["can-i", "--list", "--as", "a"], ["permissions", "--as", "a"], ["reach", "--as", "a"], ["audit"],
     ["report", "--html", "-", "--as", "a"], ["paths"], ["can-reach", "frontend/web", "shop/api", "--port", "8080"],
     ["can-i", "get", "pods"]],
)  # fmt: skip
def test_unknown_context_offline_is_a_usage_error(env: dict[str, str], tmp_path: Path, args: list[str]) -> None:
    env["KUBECONFIG"] = str(_kubeconfig(tmp_path / "kubeconfig"))
    p = run(env, *args, "--manifests", SHOP, "--context", "nope")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr.startswith(f'error: context "nope" not found in {tmp_path / "kubeconfig"} (known: dev)')
    assert p.stdout == ""
    ok = run(env, *args, "--manifests", SHOP, "--context", "dev")
    assert ok.returncode != 2 and "not found" not in ok.stderr, ok.stderr


def test_known_context_gives_the_offline_namespace(env: dict[str, str], tmp_path: Path) -> None:
    env["KUBECONFIG"] = str(_kubeconfig(tmp_path / "kubeconfig"))
    p = run(env, *offline("can-i", "get", "pods", "--as", "a", "--context", "dev"))
    assert "in namespace frontend" in p.stdout
    live = run(env, "can-i", "get", "pods", "--context", "nope")
    assert live.returncode == 2 and live.stderr.startswith('error: context "nope" not found')


@pytest.mark.parametrize("flag", [["-A"], ["-n", "shop"], ["--as", "bob"], ["--as-group", "dev"]])
def test_whoami_does_not_offer_flags_it_would_ignore(env: dict[str, str], tmp_path: Path, flag: list[str]) -> None:
    flags = cache_token(tmp_path / "cache", claims())
    p = run(env, "whoami", "--local", *flags, *flag)
    assert p.returncode == 2 and "No such option" in p.stderr, p.stderr
    assert flag[0] not in run(env, "whoami", "--help").stdout.replace("--local", "")


def test_scope_commands_say_what_no_n_means(env: dict[str, str]) -> None:
    for command in ("reach", "audit", "report"):
        text = " ".join(run(env, command, "--help").stdout.split())
        assert ("Namespace in scope (default: offline every namespace of the manifests; live the context's, else "
                "'default')") in text
    # and it is what they do: offline without -n, every namespace of the folder
    j = json.loads(run(env, *offline("reach", "--as-group", "oidc:contractors", "-o", "json")).stdout)
    assert j["namespaces"] == ["db", "frontend", "kube-system", "payments", "shop"]


def test_permissions_wide_adds_scope_and_the_granting_bindings(env: dict[str, str]) -> None:
    args = offline("perms", "-n", "frontend", "--as", "carol", "--as-group", "oidc:contractors")
    table = run(env, *args).stdout.splitlines()
    wide = run(env, *args, "-o", "wide").stdout.splitlines()
    assert wide[1].split()[-4:] == ["RISKY", "SCOPE", "GRANTED", "BY"] and table[1].split()[-1] == "RISKY"
    pods = next(ln for ln in wide if ln.startswith("pods "))
    assert pods.rstrip().endswith("frontend  RoleBinding frontend/contractors -> Role frontend/contractor")
    nodes = run(env, *args, "-o", "wide", "--resource", "nodes").stdout.splitlines()[2]
    assert "cluster-wide" in nodes  # a cluster-scoped row is asked cluster-wide


def test_can_i_wide_shows_the_rule_and_the_bindings_offline_and_is_refused_live(env: dict[str, str]) -> None:
    yes = run(env, *offline("can-i", "create", "pods", "--subresource", "exec", "-n", "frontend", "--as", "bob",
                            "--as-group", "oidc:shop-devs", "-o", "wide"))  # fmt: skip
    assert yes.returncode == 0
    assert "  rule:    verbs [create], apiGroups [''], resources [pods/exec]" in yes.stdout.splitlines()
    assert "RoleBinding frontend/shop-devs-exec -> ClusterRole pod-exec" in yes.stdout.splitlines()[-1]
    nobody = run(env, "can-i", "get", "pods", "-n", "x", "--manifests", SHOP, "--as", "a", "-o", "wide")
    assert nobody.stdout.splitlines()[-1] == "  bound:   (no binding applies to this identity here)"
    live = run(env, "can-i", "get", "pods", "-o", "wide")
    assert live.returncode == 2 and live.stderr.startswith("error: -o wide is for offline checks (--manifests)")


def test_login_output_is_table_like_everywhere_with_text_kept_as_a_hidden_alias(env: dict[str, str]) -> None:
    help_text = run(env, "login", "--help").stdout
    assert "[table|json|yaml]" in help_text and "text" not in help_text.split("-o, --output", 1)[1].split("\n")[0]
    provider = ["--oidc-issuer-url", "https://127.0.0.1:1", "--oidc-client-id", "x", "--token-cache-dir", str(Path(env["HOME"]))]
    for fmt in ("table", "text"):  # accepted: the login then fails on the unreachable issuer, not on -o
        p = run(env, "login", *provider, "-o", fmt)
        assert p.returncode == 3 and p.stderr.startswith("error:") and "Invalid value" not in p.stderr, p.stderr
    bad = run(env, "login", *provider, "-o", "wide")
    assert bad.returncode == 2 and "'wide' is not one of 'table', 'json', 'yaml'" in bad.stderr


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_console_that_cannot_print_the_symbols_gets_ascii(env: dict[str, str], encoding: str) -> None:
    env["PYTHONIOENCODING"] = encoding
    p = run(env, *offline("perms", "-n", "frontend", "--as", "carol", "--as-group", "oidc:contractors"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[2].split()[:8] == ["pods", "yes", "yes", "yes", "yes", "no", "no", "yes"]
    html = subprocess.run([EXE, *offline("report", "--html", "-", "--as-group", "oidc:contractors")], env=env,
                          capture_output=True, timeout=60)  # fmt: skip
    # the page says charset=utf-8: its bytes are UTF-8 whatever the console's encoding
    assert html.returncode == 0 and "identity × network" in html.stdout.decode("utf-8")
    assert run(env, *offline("perms", "-n", "frontend", "--as", "carol")).returncode == 0  # no traceback anywhere


def test_names_a_narrow_console_cannot_print_are_escaped_not_a_crash(env: dict[str, str], tmp_path: Path) -> None:
    env["PYTHONIOENCODING"] = "ascii"
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: zoë, namespace: shop}\n"
        "subjects: [{kind: User, name: zoë, apiGroup: rbac.authorization.k8s.io}]\n"
        "roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}\n", encoding="utf-8")
    p = run(env, "can-i", "get", "pods", "-n", "shop", "--manifests", str(rbac), "--with-default-roles", "--as", "zoë")
    assert p.returncode == 0 and "RoleBinding shop/zo\\xeb" in p.stdout, (p.stdout, p.stderr)
