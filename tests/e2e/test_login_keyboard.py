"""`kubectl netsso login --grant-type authcode-keyboard`: the user opens the printed URL, logs in at the real provider in
a real (headless) Chromium and pastes the code (or the whole address the browser ended on) into the plugin's stdin.

oidc-provider refuses `urn:ietf:wg:oauth:2.0:oob` for native clients, so the redirect URI is a configured loopback
address on which nothing listens (`--oidc-redirect-url http://127.0.0.1:<unused port>/keyboard`, registered as
`http://127.0.0.1/keyboard` in provider.mjs; RFC 8252 7.3 lets the port vary): the browser's last page fails to load,
and its address bar holds the code, as it would for a user on a machine without a loopback listener.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from harness.netsso import jwt_claims, provider_args, read_cache
from harness.require import unavailable

PROMPT = "Enter the authorization code"
AUTH_URL_RE = re.compile(r"(https://127\.0\.0\.1:\d+/auth\?\S+)")


def unused_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound and released; the OS does not hand it out again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nothing_listens(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


class KeyboardLogin:
    """A running `kubectl-netsso login --grant-type=authcode-keyboard` with pipes on stdin/stdout/stderr.

    stdout and stderr are drained by threads reading the raw file descriptors (the prompt has no newline, and mixing
    a buffered readline with communicate() would lose what the buffer already held)."""

    def __init__(self, exe: str, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([exe, "login", *args], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._changed = threading.Condition()
        self._threads = [threading.Thread(target=self._drain, args=(stream, buf), daemon=True)
                         for stream, buf in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))]
        for t in self._threads:
            t.start()
        self.url = ""
        self.params: dict[str, str] = {}

    def _drain(self, stream: Any, buf: list[bytes]) -> None:
        fd = stream.fileno()
        while True:
            chunk = os.read(fd, 65536)
            with self._changed:
                if chunk:
                    buf.append(chunk)
                self._changed.notify_all()
            if not chunk:
                return

    @property
    def stdout(self) -> str:
        with self._changed:
            return b"".join(self._out).decode(errors="replace")

    @property
    def stderr(self) -> str:
        with self._changed:
            return b"".join(self._err).decode(errors="replace")

    def wait_for_prompt(self, timeout: float = 30.0) -> str:
        """Wait until the authorization URL and the paste prompt are on stderr; return the URL."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                err = b"".join(self._err).decode(errors="replace")
                found = AUTH_URL_RE.search(err)
                if found and PROMPT in err:
                    break
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self._threads[1].is_alive():
                    raise AssertionError(f"no authorization URL and prompt on stderr (exit {self.proc.poll()}): {err}")
                self._changed.wait(min(left, 0.2))
        self.url = found.group(1)
        self.params = {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}
        return self.url

    def paste(self, text: str, timeout: float = 60.0) -> int:
        """Type ``text`` + Enter into the plugin's stdin, close it, and wait for the exit code."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.close()
        return self.finish(timeout)

    def finish(self, timeout: float = 60.0) -> int:
        try:
            rc = self.proc.wait(timeout)
        finally:
            self.kill()
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(10)


@pytest.fixture
def keyboard_login(provider, home, recorder):
    """start(*extra_args, redirect_port=None) -> a KeyboardLogin whose redirect is http://127.0.0.1:<port>/keyboard.
    Every process is killed after the test and its output recorded for the suite's token-leak scan."""
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    if exe is None:
        unavailable("kubectl-netsso is not installed (pip install -e .)")
    started: list[KeyboardLogin] = []

    def start(*extra: str, redirect_port: int | None = None) -> KeyboardLogin:
        port = redirect_port or unused_loopback_port()
        args = provider_args(provider, "--grant-type=authcode-keyboard",
                             f"--oidc-redirect-url=http://127.0.0.1:{port}/keyboard", *extra)
        login = KeyboardLogin(exe, args, dict(home.env))
        started.append(login)
        return login

    yield start
    for login in started:
        login.kill()
        recorder.record("kubectl-netsso login (authcode-keyboard)", login.stdout, login.stderr)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def _redirect_params(final_url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(final_url).query).items()}


@pytest.mark.parametrize("paste", ["code", "redirect-url"])
def test_keyboard_login_through_a_real_browser(paste, provider, home, browser, keyboard_login, recorder):
    port = unused_loopback_port()
    redirect_uri = f"http://127.0.0.1:{port}/keyboard"
    started = time.monotonic()
    login = keyboard_login(redirect_port=port)
    url = login.wait_for_prompt()

    # the URL is the provider's authorization endpoint with the configured redirect, PKCE S256, a state and a nonce
    auth = urlsplit(url)
    assert f"{auth.scheme}://{auth.netloc}{auth.path}" == provider.discovery()["authorization_endpoint"]
    q = login.params
    assert q["redirect_uri"] == redirect_uri, q
    assert q["response_type"] == "code" and q["client_id"] == provider.client_id
    assert q["code_challenge_method"] == "S256" and re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"]), q
    assert len(q["state"]) >= 22 and len(q["nonce"]) >= 22 and q["state"] != q["nonce"]
    assert "code_verifier" not in q

    # a real browser logs in; it ends on the unreachable redirect address, whose query carries the code
    assert nothing_listens(port)
    final = browser.login(url, login="alice+dev", leave_prefix=provider.issuer + "/")
    assert final.startswith(redirect_uri + "?"), final
    back = _redirect_params(final)
    assert back["state"] == q["state"] and back["code"], back
    assert back.get("iss") == provider.issuer  # RFC 9207: the provider names itself on the redirect
    assert nothing_listens(port)  # the keyboard flow opened no listener of its own
    assert provider.grant_count("authorization_code", ok_only=False) == 0  # nothing exchanged before the paste
    recorder.tokens.add(back["code"])  # an authorization code is a credential too: the leak scan looks for it

    rc = login.paste(back["code"] if paste == "code" else final)
    elapsed = time.monotonic() - started
    assert rc == 0, login.stderr
    recorder.timing(f"login round trip (authcode-keyboard, Chromium already running, paste {paste})", elapsed)
    out, err = login.stdout, login.stderr
    assert "Traceback" not in err and not error_lines(err), err
    assert re.search(r"^\s*subject:\s+alice\+dev$", out, re.M), out
    assert "dev" in out
    # exactly one code exchange, by the public client, with the code the browser got (no refresh, no device flow)
    events = provider.events("authorization_code")
    assert [(e["status"], e["client_id"], e["client_auth"]) for e in events] == [(200, provider.client_id, "none")]
    assert provider.refresh_grants(ok_only=False) == 0 and provider.stats()["device_authorizations"] == 0
    # the code is single-use: the plugin really spent it (a second exchange is refused by the provider)
    again = provider.token_request({"grant_type": "authorization_code", "code": back["code"], "client_id":
                                    provider.client_id, "redirect_uri": redirect_uri, "code_verifier": "x" * 43})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # the verified tokens are cached in a private file
    cached = read_cache(home.cache_dir)
    claims = jwt_claims(cached["id_token"])
    assert claims["sub"] == "alice+dev" and claims["aud"] == provider.client_id and claims["nonce"] == q["nonce"]
    assert cached["refresh_token"]
    assert stat.S_IMODE(home.cache_dir.stat().st_mode) == 0o700
    for f in (p for p in home.cache_dir.iterdir() if p.is_file()):
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, (f.name, oct(f.stat().st_mode))
    data_files = [p for p in home.cache_dir.glob("*.json")]
    assert len(data_files) == 1 and stat.S_IMODE(data_files[0].stat().st_mode) == 0o600
    # neither the code nor a token is echoed
    for text in (out, err):
        assert back["code"] not in text and cached["id_token"] not in text and cached["refresh_token"] not in text


def test_a_code_from_another_login_is_refused_then_works_where_it_belongs(provider, home, browser, keyboard_login):
    """PKCE binds the code to the login that asked for it: pasted into a second pending login (other verifier) the
    exchange fails with one error line; pasted into its own login it succeeds."""
    port = unused_loopback_port()  # same redirect URI for both: only the PKCE verifier (and state) differ
    first = keyboard_login(redirect_port=port)
    first.wait_for_prompt()
    # a login holds its cache key's lock until it ends, so a second pending login needs its own cache directory
    other_cache = home.path / "other-cache"
    second = keyboard_login(f"--token-cache-dir={other_cache}", redirect_port=port)
    second.wait_for_prompt()
    assert first.params["code_challenge"] != second.params["code_challenge"]
    assert first.params["state"] != second.params["state"]
    assert first.params["redirect_uri"] == second.params["redirect_uri"]

    final = browser.login(first.url, login="alice", leave_prefix=provider.issuer + "/")
    code = _redirect_params(final)["code"]

    rc = second.paste(code)
    assert rc == 3, (second.stdout, second.stderr)
    errors = error_lines(second.stderr)
    assert len(errors) == 1 and "code exchange failed" in errors[0] and "invalid_grant" in errors[0], second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    assert code not in second.stderr
    assert not (other_cache.exists() and list(other_cache.glob("*.json")))
    events = provider.events("authorization_code")
    assert [(e["status"], e["error"]) for e in events] == [(400, "invalid_grant")], events

    rc = first.paste(code)  # the failed PKCE check did not spend the code
    assert rc == 0, first.stderr
    assert re.search(r"^\s*subject:\s+alice$", first.stdout, re.M), first.stdout
    assert [e["status"] for e in provider.events("authorization_code")] == [400, 200]
    assert jwt_claims(read_cache(home.cache_dir)["id_token"])["sub"] == "alice"


def _bad_pastes(login: KeyboardLogin, issuer: str) -> dict[str, tuple[str, str]]:
    """name -> (what is pasted, text the one error line must contain)."""
    state, redirect = login.params["state"], login.params["redirect_uri"]
    return {
        "garbage-code": ("not-a-real-authorization-code", "invalid_grant"),
        "empty": ("", "no authorization code entered"),
        "other-state": (redirect + "?" + urlencode({"code": "c0de-from-elsewhere-1234", "state": "forged",
                                                    "iss": issuer}), "state mismatch"),
        "provider-error": (redirect + "?" + urlencode({"error": "access_denied", "error_description":
                                                       "End-User aborted interaction", "state": state,
                                                       "iss": issuer}), "access_denied"),
        "mixed-up-issuer": (redirect + "?" + urlencode({"code": "c0de-from-elsewhere-1234", "state": state,
                                                        "iss": "https://127.0.0.1:1/evil"}), "issuer"),
    }


@pytest.mark.parametrize("case", ["garbage-code", "empty", "other-state", "provider-error", "mixed-up-issuer"])
def test_a_wrong_paste_is_one_error_line(case, provider, home, keyboard_login):
    login = keyboard_login()
    login.wait_for_prompt()
    pasted, expected = _bad_pastes(login, provider.issuer)[case]
    rc = login.paste(pasted, timeout=30)
    out, err = login.stdout, login.stderr
    assert rc == 3, (out, err)
    errors = error_lines(err)
    assert len(errors) == 1 and expected in errors[0], err
    assert "Traceback" not in err and out == ""
    assert not (home.cache_dir.exists() and list(home.cache_dir.glob("*.json")))
    # a paste that is refused locally never reaches the token endpoint
    exchanged = provider.grant_count("authorization_code", ok_only=False)
    assert exchanged == (1 if case == "garbage-code" else 0), provider.stats()["grants"]
    if case == "garbage-code":
        assert provider.events("authorization_code")[0]["error"] == "invalid_grant"

