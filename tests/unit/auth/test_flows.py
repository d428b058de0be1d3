"""Grants and get-token order against a tiny in-test token server (the real provider is in tests/e2e)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_op import FakeOP, fake_jwt, follow_opened_urls

from kubectl_netsso.auth import browser, credentials, flows
from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.discovery import discover
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.errors import NetssoError


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


@pytest.fixture()
def settings(op: FakeOP, tmp_path: Path) -> ProviderSettings:
    return ProviderSettings(op.issuer, "netsso", extra_scopes=("groups", "offline_access"),
                            token_cache_dir=str(tmp_path / "cache"), listen_addresses=("127.0.0.1:0",),
                            grant_type="authcode", authentication_timeout=10, browser_command="fake-browser")


@pytest.fixture()
def fake_browser(op: FakeOP, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return follow_opened_urls(op, monkeypatch)


def test_authcode_login_uses_pkce_state_nonce_and_verifies(op: FakeOP, settings: ProviderSettings,
                                                           fake_browser: list[str]) -> None:
    tokens = flows.login_authcode(settings, discover(settings))
    assert tokens.claims["sub"] == "alice" and tokens.refresh_token
    url = fake_browser[0]
    for param in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "redirect_uri=http%3A%2F%2F127.0.0.1%3A"):
        assert param in url
    assert "scope=openid+groups+offline_access" in url
    assert op.stats["code"] == 1


def test_authcode_provider_error_is_reported(op: FakeOP, settings: ProviderSettings, fake_browser: list[str]) -> None:
    op.auth_error = ("access_denied", "User said no")
    with pytest.raises(NetssoError, match="the provider refused the login: access_denied: User said no"):
        flows.login_authcode(settings, discover(settings))


def test_refresh_rotates_and_keeps_old_rt_when_none_returned(op: FakeOP, settings: ProviderSettings) -> None:
    provider = discover(settings)
    first = TokenSet(op.id_token(), "rt-1", op.issuer, "netsso")
    op.refresh_tokens["rt-1"] = "alice"
    rotated = flows.refresh(settings, provider, first)
    assert rotated.refresh_token and rotated.refresh_token != "rt-1"
    op.rotate = False
    kept = flows.refresh(settings, provider, rotated)
    assert kept.refresh_token == rotated.refresh_token  # RFC 6749 6: no new RT -> keep the old one
    with pytest.raises(flows.RefreshFailed):  # reuse of the rotated-away token
        flows.refresh(settings, provider, first)


def test_refresh_without_id_token_needs_login(op: FakeOP, settings: ProviderSettings) -> None:
    op.refresh_returns_id_token = False
    op.refresh_tokens["rt-x"] = "alice"
    with pytest.raises(flows.RefreshFailed, match="no new ID token"):
        flows.refresh(settings, discover(settings), TokenSet(op.id_token(), "rt-x"))


def test_refresh_for_another_subject_is_rejected(op: FakeOP, settings: ProviderSettings) -> None:
    op.refresh_tokens["rt-y"] = "mallory"
    with pytest.raises(flows.RefreshFailed, match="another subject"):
        flows.refresh(settings, discover(settings), TokenSet(op.id_token("alice"), "rt-y"))


def test_device_flow_polls_with_slow_down(op: FakeOP, settings: ProviderSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(flows, "_sleep", waits.append)
    op.device_script = ["authorization_pending", "slow_down", "authorization_pending"]
    tokens = flows.login_device(settings.replace(skip_open_browser=True), discover(settings))
    assert tokens.claims["sub"] == "alice"
    # RFC 8628: default interval 5 s; slow_down adds 5 s for this and all later polls.
    assert waits == [5, 5, 10, 10]


def test_device_flow_survives_a_dropped_poll(op: FakeOP, settings: ProviderSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    # A provider whose keep-alive timeout equals the poll interval (Node's default is 5 s, RFC 8628's default interval
    # is 5 s) closes the reused connection just as the next poll is sent: that poll gets no answer. The device code is
    # still good, so polling goes on.
    monkeypatch.setattr(flows, "_sleep", lambda s: None)
    op.device_script = ["authorization_pending", "drop", "authorization_pending", "drop", "drop"]
    tokens = flows.login_device(settings.replace(skip_open_browser=True), discover(settings))
    assert tokens.claims["sub"] == "alice"


def test_device_flow_gives_up_when_the_provider_stays_unreachable(op: FakeOP, settings: ProviderSettings,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows, "_sleep", lambda s: None)
    op.device_script = ["drop"] * flows.DEVICE_POLL_FAILURES
    with pytest.raises(NetssoError, match="unreachable"):
        flows.login_device(settings.replace(skip_open_browser=True), discover(settings))
    assert op.device_script == []


@pytest.mark.parametrize(("error", "message"), [("access_denied", "denied"), ("expired_token", "expired")])
def test_device_flow_stops_on_terminal_errors(op: FakeOP, settings: ProviderSettings, monkeypatch: pytest.MonkeyPatch,
                                              error: str, message: str) -> None:
    monkeypatch.setattr(flows, "_sleep", lambda s: None)
    op.device_interval = 2
    op.device_script = ["authorization_pending", error]
    with pytest.raises(NetssoError, match=message):
        flows.login_device(settings.replace(skip_open_browser=True), discover(settings))
    assert op.stats["device_poll"] == 2


def test_revoke_posts_refresh_token(op: FakeOP, settings: ProviderSettings) -> None:
    assert flows.revoke(settings, discover(settings), "rt-revoke-me")
    assert op.revoked == ["rt-revoke-me"]


# -- get-token order -------------------------------------------------------------------------------------------------

def _seed(settings: ProviderSettings, tokens: TokenSet) -> None:
    open_cache(settings).save(tokens)


def test_get_token_serves_valid_cache_without_network(settings: ProviderSettings, op: FakeOP) -> None:
    tok = TokenSet(op.id_token(), "rt-never-used")
    _seed(settings, tok)
    op.server.shutdown()  # no provider at all: must not be needed
    assert credentials.get_token(settings) == tok


def test_get_token_refreshes_expired_token(settings: ProviderSettings, op: FakeOP) -> None:
    op.refresh_tokens["rt-1"] = "alice"
    _seed(settings, TokenSet(fake_jwt({"sub": "alice", "exp": time.time() - 5}), "rt-1"))
    fresh = credentials.get_token(settings)
    assert fresh.is_valid(60) and op.stats["refresh"] == 1
    assert open_cache(settings).load() == fresh


def test_non_interactive_device_grant_is_login_required(settings: ProviderSettings, op: FakeOP) -> None:
    s = settings.replace(grant_type="device-code")
    with pytest.raises(NetssoError, match="^login required: run kubectl netsso login ") as exc:
        credentials.get_token(s, interactive=False)
    assert exc.value.exit_code == 3
    assert op.stats["device_poll"] == 0


def test_non_interactive_browser_login_then_backoff(settings: ProviderSettings, op: FakeOP,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", lambda url, cmd=None: opened.append(url) or True)  # user never logs in
    s = settings.replace(authentication_timeout=1)
    with pytest.raises(NetssoError, match="no login response"):
        credentials.get_token(s, interactive=False)
    assert len(opened) == 1
    state = json.loads(Path(open_cache(s).state_path).read_text())
    assert state["outcome"] == "failed"
    # A second non-interactive call within 5 minutes must not open another browser.
    with pytest.raises(NetssoError, match="login required") as exc:
        credentials.get_token(s, interactive=False)
    assert "abandoned or failed" in (exc.value.hint or "")
    assert len(opened) == 1
    # After the back-off a browser may open again (here: the fake browser completes the login).
    Path(open_cache(s).state_path).write_text(json.dumps({"outcome": "failed", "at": time.time() - 301}))
    monkeypatch.setattr(browser, "open_url",
                        lambda url, cmd=None: threading.Thread(target=op.browse, args=(url,)).start() or True)
    assert credentials.get_token(s, interactive=False).claims["sub"] == "alice"
    assert not os.path.exists(open_cache(s).state_path)


def test_dead_refresh_token_falls_back_to_login(settings: ProviderSettings, op: FakeOP, fake_browser: list[str]) -> None:
    _seed(settings, TokenSet(fake_jwt({"sub": "alice", "exp": time.time() - 5}), "rt-revoked"))
    tokens = credentials.get_token(settings, interactive=True)
    assert op.stats["refresh_error"] == 1 and op.stats["code"] == 1
    assert tokens.refresh_token != "rt-revoked"


def test_parallel_get_token_refreshes_once(settings: ProviderSettings, op: FakeOP) -> None:
    """Threads hold separate flock descriptors, so they exclude each other like processes do."""
    op.refresh_tokens["rt-1"] = "alice"
    _seed(settings, TokenSet(fake_jwt({"sub": "alice", "exp": time.time() - 5}), "rt-1"))
    results: list[Any] = []

    def worker() -> None:
        try:
            results.append(credentials.get_token(settings))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(isinstance(r, TokenSet) for r in results), results
    assert len({r.id_token for r in results}) == 1
    assert op.stats["refresh"] == 1 and op.stats["refresh_error"] == 0


def test_parallel_get_token_processes_refresh_once(op: FakeOP, tmp_path: Path) -> None:
    """Real processes through the installed entry point: one refresh at the provider, every process gets the token."""
    import subprocess

    from helpers.executable import exe, isolated_env

    script = exe()
    env = isolated_env(tmp_path, KUBECACHEDIR=str(tmp_path / "kc"),
                       KUBERNETES_EXEC_INFO=json.dumps({"apiVersion": "client.authentication.k8s.io/v1",
                                                        "kind": "ExecCredential", "spec": {"interactive": False}}))
    args = ["get-token", "--oidc-issuer-url", op.issuer, "--oidc-client-id", "netsso", "--grant-type", "authcode"]
    s = ProviderSettings.from_exec_args(args, env)
    op.refresh_tokens["rt-1"] = "alice"
    open_cache(s).save(TokenSet(fake_jwt({"sub": "alice", "exp": time.time() - 5}), "rt-1"))
    procs = [subprocess.Popen([script, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [o[1] for o in outs]
    tokens = {json.loads(o[0])["status"]["token"] for o in outs}
    assert len(tokens) == 1 and op.stats["refresh"] == 1 and op.stats["refresh_error"] == 0 and op.stats["code"] == 0
