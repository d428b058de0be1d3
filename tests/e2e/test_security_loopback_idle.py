"""Issue 9 item 1: a local process that connects to the login's loopback listener and sends nothing. The real
browser login must still complete, and --authentication-timeout must still end the login with one error line within
seconds (and so release the per-provider lock). Real provider, real Chromium, the installed executable; RFC 9207
(item 10) with the real provider's redirect, which names its issuer."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from harness.netsso import exec_info, provider_args

from kubectl_netsso.auth.cache import file_lock, open_cache
from kubectl_netsso.auth.settings import ProviderSettings


def _start_login(provider: Any, home: Any, *extra: str) -> tuple[subprocess.Popen[str], dict[str, str], str]:
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    assert exe
    proc = subprocess.Popen([exe, "login", *provider_args(provider, "--grant-type=authcode", "--skip-open-browser",
                                                          "--listen-address=127.0.0.1:0", *extra)],
                            env=home.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        m = re.search(r"(https://127\.0\.0\.1:\d+/auth\?\S+)", line)
        if m:
            q = parse_qs(urlsplit(m.group(1)).query)
            return proc, {"url": m.group(1), "redirect_uri": q["redirect_uri"][0], "state": q["state"][0]}, seen
    proc.kill()
    raise AssertionError(seen)


@pytest.fixture
def idle_sockets() -> Iterator[list[socket.socket]]:
    held: list[socket.socket] = []
    yield held
    for s in held:
        s.close()


def _hold_idle(info: dict[str, str], held: list[socket.socket], n: int) -> None:
    cb = urlsplit(info["redirect_uri"])
    for _ in range(n):
        held.append(socket.create_connection((cb.hostname, cb.port), timeout=5))


def test_idle_connection_held_open_while_a_real_browser_login_completes(provider, home, browser, recorder, idle_sockets):
    proc, info, seen = _start_login(provider, home, "--authentication-timeout=60")
    try:
        _hold_idle(info, idle_sockets, 3)  # connected first, never sending a byte, kept open all along
        final = browser.login(info["url"], "alice")
        assert final.startswith(info["redirect_uri"])
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            out, err = proc.communicate()
        recorder.record("kubectl-netsso login (idle loopback connection)", out, seen + err)
    assert proc.returncode == 0, err
    assert "alice" in out
    assert provider.grant_count("authorization_code") == 1


def test_authentication_timeout_ends_the_login_while_idle_connections_are_open(provider, home, recorder, idle_sockets):
    proc, info, seen = _start_login(provider, home, "--authentication-timeout=5")
    started = time.monotonic()
    try:
        _hold_idle(info, idle_sockets, 5)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            out, err = proc.communicate()
        recorder.record("kubectl-netsso login (timeout, idle loopback connections)", out, seen + err)
    elapsed = time.monotonic() - started
    assert proc.returncode == 3 and elapsed < 12, (proc.returncode, elapsed)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == ["error: no login response from the browser within 5 s"], err
    assert "Traceback" not in err
    # the per-provider lock is free again: another kubectl-netsso can log in or refresh at once
    settings = ProviderSettings.from_exec_args(provider_args(provider), home.env)
    with file_lock(open_cache(settings).lock_path, timeout=0.5):
        pass
    again = recorder.run([shutil.which("kubectl-netsso", path=home.env["PATH"]) or "kubectl-netsso", "get-token",
                          *provider_args(provider)], env={**home.env, "KUBERNETES_EXEC_INFO": exec_info()},
                         label="kubectl-netsso get-token (after timed-out login)", timeout=20)
    assert "waiting for another kubectl-netsso process" not in again.stderr


def test_redirect_without_iss_is_rejected_by_the_real_providers_promise(provider, home, recorder):
    """The real provider advertises authorization_response_iss_parameter_supported: true (RFC 9207)."""
    assert provider.discovery().get("authorization_response_iss_parameter_supported") is True
    proc, info, seen = _start_login(provider, home, "--authentication-timeout=30")
    try:
        r = requests.get(info["redirect_uri"] + "?" + urlencode({"code": "injected-code", "state": info["state"]}),
                         timeout=5, allow_redirects=False)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            out, err = proc.communicate()
        recorder.record("kubectl-netsso login (redirect without iss)", out, seen + err)
    assert r.status_code == 400
    assert proc.returncode == 3
    assert "has no iss parameter" in err and "RFC 9207" in err, err
    assert provider.grant_count("authorization_code", ok_only=False) == 0  # never exchanged
