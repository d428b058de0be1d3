"""Issue 9 item 7: a provider that echoes the secrets it received (refresh token, client secret, code) in its error
must not get them printed. Through the installed executable against FakeOP with token_echo (a leaky provider)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from helpers.fake_op import NONINTERACTIVE_EXEC_INFO, FakeOP, PluginRunner, fake_jwt

from kubectl_netsso import log
from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet

REFRESH_TOKEN = "RT+live/secret=0123456789abcdef"  # characters that percent-encoding changes
CLIENT_SECRET = "client-S3cret+value/xyz"


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


def _forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), quote_plus(secret), secret[: len(secret) // 2 + 2]]


@pytest.mark.parametrize("verbosity", [[], ["-vvv"]])
def test_refresh_error_echoing_the_refresh_token_and_client_secret(op: FakeOP, tmp_path: Path,
                                                                   verbosity: list[str]) -> None:
    op.token_echo = True
    plugin = PluginRunner(op, tmp_path)
    env = {"NETSSO_OIDC_CLIENT_SECRET": CLIENT_SECRET, "KUBERNETES_EXEC_INFO": NONINTERACTIVE_EXEC_INFO}
    settings = ProviderSettings.from_values({}, {**plugin.env, **env})
    now = int(time.time())
    open_cache(settings).save(TokenSet(fake_jwt({"sub": "alice", "iat": now - 600, "exp": now - 10}), REFRESH_TOKEN,
                                       op.issuer, "netsso"))
    got = plugin.run(*verbosity, "get-token", env=env)
    assert got.returncode == 3 and "Traceback" not in got.stderr
    assert "invalid_grant: refresh token [redacted]" in got.stderr, got.stderr  # the provider's message is still shown
    for secret in (REFRESH_TOKEN, CLIENT_SECRET):
        for form in _forms(secret):
            assert form not in got.stderr and form not in got.stdout, (form, got.stderr)


def test_code_exchange_error_echoing_the_code_and_client_secret(op: FakeOP, tmp_path: Path) -> None:
    op.token_echo = True
    got = PluginRunner(op, tmp_path).run("login", env={"NETSSO_OIDC_CLIENT_SECRET": CLIENT_SECRET})
    assert got.returncode == 3 and "code exchange failed: invalid_grant" in got.stderr, got.stderr
    assert "code [redacted] used" in got.stderr
    for form in _forms(CLIENT_SECRET):
        assert form not in got.stderr


def test_registered_secrets_leave_no_prefix_and_longest_wins() -> None:
    log.register_secret("outer-secret-inner-secret-1234")
    log.register_secret("inner-secret-1234")
    out = log.redact("x outer-secret-inner-secret-1234 y inner-secret-1234 z")
    assert out == "x [redacted] y [redacted] z"
    log.register_secret("short", min_length=6)
    assert log.redact("short") == "short"


@pytest.mark.parametrize("verbosity", [[], ["-vvv"]])
def test_client_credentials_error_echoing_the_client_secret(op: FakeOP, tmp_path: Path, verbosity: list[str]) -> None:
    """Issue 16: the client-credentials grant (CI bots) sends the secret on every token request."""
    op.token_echo = True
    got = PluginRunner(op, tmp_path).run(*verbosity, "get-token", "--grant-type=client-credentials",
                                         env={"NETSSO_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                                              "KUBERNETES_EXEC_INFO": NONINTERACTIVE_EXEC_INFO})
    assert got.returncode == 3 and "client credentials grant failed: invalid_grant" in got.stderr, got.stderr
    for form in _forms(CLIENT_SECRET):
        assert form not in got.stderr and form not in got.stdout, (form, got.stderr)


@pytest.mark.parametrize("verbosity", [["-v"], ["-vvv"]])
def test_a_secret_in_a_kubelogin_entrys_arguments_is_never_shown(op: FakeOP, tmp_path: Path,
                                                                 verbosity: list[str]) -> None:
    """Issue 16: login reads the kubeconfig's exec entry; -v lists every setting with its origin, the secret as
    [redacted], and a refused login's hint (login required: run ...) leaves it out."""
    import yaml

    runner = PluginRunner(op, tmp_path)
    kubeconfig = runner.home / ".kube" / "config"
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": "kubectl",
            "args": ["oidc-login", "get-token", f"--oidc-issuer-url={op.issuer}", "--oidc-client-id=netsso",
                     f"--oidc-client-secret={CLIENT_SECRET}"]}}}]}))
    env = {k: "" for k in ("NETSSO_OIDC_ISSUER_URL", "NETSSO_OIDC_CLIENT_ID")}
    op.token_echo = True
    got = runner.run(*verbosity, "login", env=env)
    assert got.returncode == 3, got.stderr
    assert '--oidc-client-secret=[redacted]  [kubeconfig user "u" (context "c")]' in got.stderr, got.stderr
    for form in _forms(CLIENT_SECRET):
        assert form not in got.stderr and form not in got.stdout, (form, got.stderr)
