"""Provider settings: flags, NETSSO_* env vars, from_exec_args, and the cache key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.auth.settings import OPTIONS, ProviderSettings, SettingsError, parse_args, values_from_env

BASE = ["--oidc-issuer-url", "https://sso.example.test", "--oidc-client-id", "kube"]


def make(args: list[str], env: dict[str, str] | None = None) -> ProviderSettings:
    return ProviderSettings.from_exec_args(args, env or {"HOME": "/home/u"})


def test_flags_both_syntaxes_and_unknown_args_kept() -> None:
    values, rest = parse_args(["get-token", "--oidc-issuer-url=https://a", "--oidc-client-id", "c", "-v",
                               "--oidc-extra-scope", "groups", "--oidc-extra-scope=email", "--skip-open-browser"])
    assert values == {"issuer_url": "https://a", "client_id": "c", "extra_scopes": ["groups", "email"], "skip_open_browser": True}
    assert rest == ["get-token", "-v"]


def test_missing_value_is_an_error() -> None:
    with pytest.raises(SettingsError, match="requires a value"):
        parse_args(["--oidc-client-id"])


def test_env_vars_and_flags_win() -> None:
    env = {"HOME": "/h", "NETSSO_OIDC_ISSUER_URL": "https://env.test", "NETSSO_OIDC_CLIENT_ID": "env-client",
           "NETSSO_OIDC_EXTRA_SCOPE": "groups, email", "NETSSO_INSECURE_SKIP_TLS_VERIFY": "true",
           "NETSSO_AUTHENTICATION_TIMEOUT": "30", "NETSSO_TOKEN_CACHE_STORAGE": "none"}
    s = make([], env)
    assert (s.issuer_url, s.client_id, s.extra_scopes) == ("https://env.test", "env-client", ("groups", "email"))
    assert s.insecure_skip_tls_verify and s.authentication_timeout == 30 and s.token_cache_storage == "none"
    s2 = make(["--oidc-client-id", "flag-client"], env)
    assert s2.client_id == "flag-client" and s2.issuer_url == "https://env.test"


def test_every_option_has_an_env_var() -> None:
    assert all(env.startswith("NETSSO_") for _f, _d, _k, env, _h in OPTIONS)
    addresses = values_from_env({"NETSSO_LISTEN_ADDRESS": "127.0.0.1:1,127.0.0.1:2"})
    assert addresses == {"listen_addresses": ["127.0.0.1:1", "127.0.0.1:2"]}


def test_cache_dir_defaults(tmp_path: object) -> None:
    assert make(BASE, {"HOME": "/home/u"}).token_cache_dir == "/home/u/.kube/cache/netsso"
    assert make(BASE, {"HOME": "/home/u", "KUBECACHEDIR": "/var/kc"}).token_cache_dir == "/var/kc/netsso"


@pytest.mark.parametrize(("args", "message"), [
    ([], "issuer URL is missing"),
    (["--oidc-issuer-url", "https://a"], "client id is missing"),
    (BASE + ["--grant-type", "password"], "--grant-type must be one of"),
    (BASE + ["--token-cache-storage", "tape"], "--token-cache-storage must be one of"),
    (BASE + ["--oidc-pkce-method", "plain"], "--oidc-pkce-method must be one of"),
    (BASE + ["--tls-client-cert", "c.pem"], "go together"),
    (BASE + ["--open-url-after-authentication", "javascript:alert(1)"], "must be an https URL"),
    (BASE + ["--open-url-after-authentication", "http://evil.example/"], "must be an https URL"),
    (BASE + ["--open-url-after-authentication", "http://localhost.evil.example/"], "must be an https URL"),
    (BASE + ["--open-url-after-authentication", "https://x.example/a b"], "must be an https URL"),
    (BASE + ["--authentication-timeout", "soon"], "whole number"),
    (BASE + ["--oidc-auth-request-extra-params", "novalue"], "KEY=VALUE"),
])
def test_bad_settings(args: list[str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        make(args)


def test_cache_key_is_stable_under_ordering() -> None:
    a = make(BASE + ["--oidc-extra-scope", "groups", "--oidc-extra-scope", "email",
                     "--oidc-auth-request-extra-params", "a=1", "--oidc-auth-request-extra-params", "b=2"])
    b = make(["--oidc-auth-request-extra-params", "b=2", "--oidc-extra-scope", "email,groups",
              "--oidc-auth-request-extra-params", "a=1"] + BASE)
    assert a.cache_key() == b.cache_key() and len(a.cache_key()) == 64


@pytest.mark.parametrize("change", [
    ["--oidc-issuer-url", "https://other.test"], ["--oidc-client-id", "other"], ["--oidc-client-secret", "s3cret"],
    ["--oidc-extra-scope", "groups"], ["--oidc-auth-request-extra-params", "prompt=consent"],
    ["--certificate-authority", "/etc/ca.pem"], ["--insecure-skip-tls-verify"], ["--oidc-use-access-token"],
    ["--grant-type", "client-credentials"], ["--tls-client-cert", "/c.pem", "--tls-client-key", "/k.pem"],
])
def test_cache_key_changes_with_token_relevant_settings(change: list[str]) -> None:
    assert make(BASE).cache_key() != make(BASE + change).cache_key()


@pytest.mark.parametrize("change", [
    ["--grant-type", "device-code"], ["--listen-address", "127.0.0.1:9"], ["--token-cache-dir", "/x"],
    ["--token-cache-storage", "keyring"], ["--browser-command", "firefox"], ["--expiry-margin", "5"],
    ["--token-cache-storage", "disk"], ["--oidc-pkce-method", "no"],
    ["--open-url-after-authentication", "https://wiki.example/welcome"],
])
def test_cache_key_ignores_login_behaviour(change: list[str]) -> None:
    assert make(BASE).cache_key() == make(BASE + change).cache_key()


def test_secret_not_in_repr() -> None:
    s = make(BASE + ["--oidc-client-secret", "very-secret-value"])
    assert "very-secret-value" not in repr(s)


@given(scopes=st.lists(st.sampled_from(["groups", "email", "profile", "offline_access"]), unique=True),
       params=st.dictionaries(st.sampled_from(["prompt", "audience", "acr"]), st.text(alphabet="abc=", max_size=5)),
       insecure=st.booleans(), timeout=st.integers(0, 1000))
def test_exec_args_round_trip(scopes: list[str], params: dict[str, str], insecure: bool, timeout: int) -> None:
    args = BASE + [f"--oidc-extra-scope={s}" for s in scopes]
    args += [f"--oidc-auth-request-extra-params={k}={v}" for k, v in params.items()]
    args += ["--insecure-skip-tls-verify"] if insecure else []
    args += ["--authentication-timeout", str(timeout)]
    s = make(args)
    again = make(s.exec_args())
    assert again == s and again.cache_key() == s.cache_key()


def test_existing_logins_keep_their_cache_key() -> None:
    """The issue-16 settings enter the key only when set: a login made before them is still found."""
    import hashlib
    import json

    canonical = {"v": 1, "issuer": "https://sso.example.test", "client_id": "kube", "client_secret": "",
                 "scopes": ["groups", "openid"], "extra_params": [], "ca": [], "insecure": False}
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert make(BASE + ["--oidc-extra-scope", "groups"]).cache_key() == hashlib.sha256(blob).hexdigest()


def test_disk_is_file_and_client_credentials_send_the_access_token() -> None:
    assert make(BASE + ["--token-cache-storage=disk"]).token_cache_storage == "file"
    cc = make(BASE + ["--grant-type=client-credentials"])
    assert cc.use_access_token and "--oidc-use-access-token" not in cc.exec_args()


@given(use_at=st.booleans(), pkce=st.sampled_from(["auto", "S256", "no"]), tls=st.booleans(),
       url=st.sampled_from([None, "https://wiki.example/ok", "http://127.0.0.1:8080/done"]),
       grant=st.sampled_from(["auto", "client-credentials", "device-code"]))
def test_exec_args_round_trip_of_the_parity_flags(use_at: bool, pkce: str, tls: bool, url: str | None,
                                                  grant: str) -> None:
    args = BASE + ["--oidc-pkce-method", pkce, "--grant-type", grant]
    args += ["--oidc-use-access-token"] if use_at else []
    args += ["--tls-client-cert=/c.pem", "--tls-client-key=/k.pem"] if tls else []
    args += [f"--open-url-after-authentication={url}"] if url else []
    s = make(args)
    again = make(s.exec_args())
    assert again == s and again.cache_key() == s.cache_key()
