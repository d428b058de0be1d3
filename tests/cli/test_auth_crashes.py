"""Issue 9 item 9: absurd claims and hostile cache contents never crash login or get-token, and a 5xx from the
token endpoint is named as such. Through the installed executable against an in-test provider (FakeOP) that issues
what a hostile or broken provider would."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_op import NONINTERACTIVE_EXEC_INFO, FakeOP, PluginRunner, fake_jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.auth import execcred
from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.cli.auth import _relative


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


def _no_traceback(proc: Any) -> None:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


def test_exp_1e20_neither_breaks_login_nor_later_get_token(op: FakeOP, tmp_path: Path) -> None:
    op.id_claims = {"exp": 1e20}
    plugin = PluginRunner(op, tmp_path)
    login = plugin.run("login")
    _no_traceback(login)
    assert login.returncode == 0, login.stderr
    assert "expires: 9999-12-31" in login.stdout
    for _ in range(2):  # the fast path serves it, and the full path agrees
        got = plugin.run("get-token", env={"KUBERNETES_EXEC_INFO": NONINTERACTIVE_EXEC_INFO})
        _no_traceback(got)
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout)["status"]["expirationTimestamp"].startswith("9999-12-31T")


@pytest.mark.parametrize("exp", [float("nan"), float("inf"), "NaN", True, None, "1e20"])
def test_non_numeric_or_non_finite_exp_is_a_one_line_rejection(op: FakeOP, tmp_path: Path, exp: object) -> None:
    op.id_claims = {"exp": exp}
    login = PluginRunner(op, tmp_path).run("login")
    _no_traceback(login)
    assert login.returncode == 3
    errors = [line for line in login.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: ID token rejected: no numeric exp claim"], login.stderr


@pytest.mark.parametrize("exp", ["1e400", "-1e400", "NaN", "Infinity", "-1e20", "1e20", str(10 ** 400), "true", '"x"',
                                 "[]", "{}"])
def test_get_token_never_tracebacks_whatever_exp_the_cache_holds(op: FakeOP, tmp_path: Path, exp: str) -> None:
    plugin = PluginRunner(op, tmp_path)
    settings = ProviderSettings.from_values({}, plugin.env)
    now = int(time.time())
    entry = plugin.cache_dir / (settings.cache_key() + ".json")
    open_cache(settings).save(TokenSet(fake_jwt({"sub": "alice", "iat": now, "exp": now + 600}), None))
    payload = '{"sub": "alice", "iat": ' + str(now) + ', "exp": ' + exp + "}"  # raw JSON: NaN, 1e400, ...
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    head = fake_jwt({}).split(".")[0]
    entry.write_text(json.dumps({"id_token": f"{head}.{body}.c2ln"}))
    os.chmod(entry, 0o600)
    got = plugin.run("get-token", env={"KUBERNETES_EXEC_INFO": NONINTERACTIVE_EXEC_INFO})
    _no_traceback(got)
    if got.returncode == 0:
        stamp = json.loads(got.stdout)["status"].get("expirationTimestamp", "")
        assert stamp == "" or stamp[:4].isdigit()
    else:
        assert got.returncode == 3 and "login required" in got.stderr, got.stderr


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exp=_json, iat=_json, extra=st.dictionaries(st.sampled_from(["refresh_token", "issuer", "client_id", "x"]), _json))
def test_fast_path_returns_or_declines_for_any_cached_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            exp: object, iat: object, extra: dict[str, object]) -> None:
    """Property: whatever exp/iat (any JSON value) and other fields a cache entry holds, the fast path prints one
    valid ExecCredential (0) or declines (None); it never raises (it runs outside the CLI's error handler)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", NONINTERACTIVE_EXEC_INFO)
    args = ["--oidc-issuer-url", "https://sso.example.test", "--oidc-client-id", "kube", f"--token-cache-dir={directory}"]
    settings_ = ProviderSettings.from_exec_args(args, {})
    open_cache(settings_).save(TokenSet(fake_jwt({"sub": "a"}), None))
    entry = directory / (settings_.cache_key() + ".json")
    entry.write_text(json.dumps({"id_token": fake_jwt({"sub": "a", "exp": exp, "iat": iat}), **extra}))
    written: list[str] = []
    monkeypatch.setattr(execcred, "_write_stdout", written.append)
    result = execcred.fast_path(args)
    assert result in (0, None)
    if result == 0:
        out = json.loads(written[0])
        assert out["kind"] == "ExecCredential" and out["status"]["token"]


@given(st.one_of(st.floats(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(float)))
def test_expiry_formatting_never_overflows(ts: float) -> None:
    stamp = execcred.format_timestamp(ts)
    assert len(stamp) == 20 and stamp.endswith("Z")
    assert isinstance(_relative(ts), str)


def test_a_503_from_the_token_endpoint_is_named_not_unreachable(op: FakeOP, tmp_path: Path) -> None:
    plugin = PluginRunner(op, tmp_path)
    settings = ProviderSettings.from_values({}, plugin.env)
    now = int(time.time())
    open_cache(settings).save(TokenSet(fake_jwt({"sub": "alice", "iat": now - 600, "exp": now - 10}),
                                       "rt-still-good-0123456789", op.issuer, "netsso"))
    op.token_reply = (503, "text/html", b"<html><body>Service Temporarily Unavailable</body></html>")
    got = plugin.run("get-token", env={"KUBERNETES_EXEC_INFO": NONINTERACTIVE_EXEC_INFO})
    _no_traceback(got)
    assert got.returncode == 3
    errors = [line for line in got.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the provider returned HTTP 503" in errors[0], got.stderr
    assert "unreachable" not in got.stderr
    cached = open_cache(settings).load()
    assert cached is not None and cached.refresh_token == "rt-still-good-0123456789"  # a 503 does not kill the RT
