"""Issue 16: where provider settings come from (flags > environment > the kubeconfig exec entry), kubelogin's flags
read as this plugin's, and which exec entries count."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.auth.kubelogin import translate
from kubectl_netsso.auth.resolve import ExecEntry, describe, resolve
from kubectl_netsso.auth.settings import SettingsError, parse_args
from kubectl_netsso.cluster.kubeconfig import ExecConfig, exec_plugin_kind

ISS = "https://sso.example.com"
ENTRY = ExecEntry("netsso", (f"--oidc-issuer-url={ISS}", "--oidc-client-id=kube", "--oidc-extra-scope=groups",
                             "--expiry-margin=30"), {"NETSSO_OIDC_CLIENT_SECRET": "s3cret-value"}, where='user "u"')


def test_the_entry_fills_in_what_flags_and_environment_leave_out() -> None:
    r = resolve({"expiry_margin": 10}, {"NETSSO_AUTHENTICATION_TIMEOUT": "77"}, ENTRY)
    s = r.settings
    assert (s.issuer_url, s.client_id, s.extra_scopes, s.client_secret) == (ISS, "kube", ("groups",), "s3cret-value")
    assert (s.expiry_margin, s.authentication_timeout) == (10, 77)
    assert r.origins["expiry_margin"] == "flag"
    assert r.origins["authentication_timeout"] == "env NETSSO_AUTHENTICATION_TIMEOUT"
    assert r.origins["issuer_url"] == 'user "u"' and r.origins["client_secret"] == 'user "u" env'
    assert r.origins["grant_type"] == "default"


def test_environment_wins_over_the_entry() -> None:
    r = resolve({}, {"NETSSO_OIDC_EXTRA_SCOPE": "email"}, ENTRY)
    assert r.settings.extra_scopes == ("email",) and r.origins["extra_scopes"] == "env NETSSO_OIDC_EXTRA_SCOPE"


def test_an_entry_for_another_provider_is_not_used() -> None:
    """Its CA, secret and scopes must never leak into another provider's login."""
    r = resolve({"issuer_url": "https://other.example.com", "client_id": "x"}, {}, ENTRY)
    assert not r.used_entry and r.settings.client_secret is None and r.settings.extra_scopes == ()
    with pytest.raises(SettingsError, match="issuer URL is missing"):  # the same issuer is not enough
        resolve({"client_id": "other"}, {}, ENTRY)
    with pytest.raises(SettingsError, match="issuer URL is missing"):
        resolve({}, {}, None)


def test_describe_never_shows_the_client_secret() -> None:
    text = "\n".join(describe(resolve({}, {}, ENTRY)))
    assert "s3cret-value" not in text and "--oidc-client-secret=[redacted]  [user \"u\" env]" in text
    assert f"--oidc-issuer-url={ISS}  [user \"u\"]" in text


@pytest.mark.parametrize(("command", "args", "kind"), [
    ("kubectl", ["oidc-login", "get-token", f"--oidc-issuer-url={ISS}"], "kubelogin"),
    ("/usr/local/bin/kubelogin", ["get-token", "--oidc-issuer-url", ISS], "kubelogin"),
    ("kubectl-oidc_login", ["get-token", f"--oidc-issuer-url={ISS}"], "kubelogin"),
    ("kubelogin", ["get-token", "--login", "devicecode", "--server-id", "x"], None),  # Azure's kubelogin
    ("kubectl-netsso", ["get-token", f"--oidc-issuer-url={ISS}"], "netsso"),
    ("aws", ["eks", "get-token"], None),
])
def test_which_exec_entries_hold_provider_settings(command: str, args: list[str], kind: str | None) -> None:
    assert exec_plugin_kind(ExecConfig(command=command, args=tuple(args))) == kind


def test_kubelogin_flags_in_the_forms_its_readme_documents() -> None:
    tr = translate([f"--oidc-issuer-url={ISS}", "--oidc-client-id=kube", "--oidc-client-secret", "sec",
                    "--oidc-extra-scope=email,groups", "--token-cache-storage=disk", "--authentication-timeout-sec=60",
                    "--listen-port=8000", "--listen-port", "18000", "--token-cache-dir=/x", "--oidc-use-pkce",
                    "--grant-type=device-code", "--insecure-skip-tls-verify=false", "-v", "1"])
    values, rest = parse_args(list(tr.args))
    assert rest == [] and tr.refused == ()
    assert values["client_secret"] == "sec" and values["token_cache_storage"] == "file"
    assert values["extra_scopes"] == ["email", "groups"] and values["authentication_timeout"] == "60"
    assert values["listen_addresses"] == ["127.0.0.1:8000", "127.0.0.1:18000"]
    assert values["grant_type"] == "device-code" and "insecure_skip_tls_verify" not in values
    assert any(d.startswith("--token-cache-dir") for d in tr.dropped)
    assert values["pkce_method"] == "S256"
    tr = translate(["--oidc-use-access-token", "--oidc-pkce-method=no", "--open-url-after-authentication=https://w.example",
                    "--grant-type=client-credentials"])
    values, rest = parse_args(list(tr.args))
    assert rest == [] and values == {"use_access_token": True, "pkce_method": "no", "grant_type": "client-credentials",
                                     "open_url_after_authentication": "https://w.example"}


@pytest.mark.parametrize("arg", ["--grant-type=password", "--username=bob", "--certificate-authority-data=QUJD",
                                 "--oidc-request-header=Origin=x", "--local-server-cert=c.pem", "--no-such-flag"])
def test_kubelogin_settings_that_cannot_be_honoured_are_refused(arg: str) -> None:
    assert translate([f"--oidc-issuer-url={ISS}", arg]).refused
    with pytest.raises(SettingsError, match="cannot honour"):
        resolve({}, {}, ExecEntry("kubelogin", (f"--oidc-issuer-url={ISS}", "--oidc-client-id=k", arg)))


@given(st.lists(st.sampled_from(["--oidc-issuer-url", "--oidc-client-id=a", "--listen-port", "--token-cache-dir",
                                 "-v", "x", "=", "--grant-type", "password", "--oidc-extra-scope", ",", "--v=2",
                                 "--oidc-use-access-token=false", "--force-refresh"]) | st.text(max_size=12),
                max_size=12))
def test_translate_never_crashes_and_yields_only_our_flags(args: list[str]) -> None:
    tr = translate(args)
    _values, rest = parse_args(list(tr.args))
    assert rest == []
