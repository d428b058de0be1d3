"""Hostile requests to the login's loopback listener: strays are ignored, a wrong state or a missing code never ends
the login, the provider's error is shown (escaped) and ends it, repeated callbacks are refused, garbage is survived."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from harness.netsso import provider_args


@pytest.fixture
def pending_login(provider, home, recorder):
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    proc = subprocess.Popen(
        [exe, "login", *provider_args(provider, "--grant-type=authcode", "--skip-open-browser",
                                      "--listen-address=127.0.0.1:0", "--authentication-timeout=30")],
        env=home.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    deadline = time.monotonic() + 20
    url = None
    while time.monotonic() < deadline and url is None:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        m = re.search(r"(https://127\.0\.0\.1:\d+/auth\?\S+)", line)
        url = m.group(1) if m else None
    assert url, seen
    q = parse_qs(urlsplit(url).query)
    info = {"proc": proc, "url": url, "redirect_uri": q["redirect_uri"][0], "state": q["state"][0], "stderr": seen,
            "issuer": provider.issuer}
    yield info
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    recorder.record("kubectl-netsso login (hostile loopback)", out, info["stderr"] + err)


def _get(url: str) -> requests.Response:
    return requests.get(url, timeout=5, allow_redirects=False)


def test_hostile_requests_then_a_real_login(pending_login, browser, provider):
    cb, state, proc = pending_login["redirect_uri"], pending_login["state"], pending_login["proc"]
    origin = cb.rsplit("/", 1)[0]
    assert urlsplit(cb).hostname == "127.0.0.1"
    assert _get(origin + "/favicon.ico").status_code == 404
    assert _get(origin + "/other?" + urlencode({"code": "x", "state": state})).status_code == 404
    wrong = _get(cb + "?" + urlencode({"code": "stolen", "state": "not-the-state"}))
    assert wrong.status_code == 400 and "state" in wrong.text.lower()
    assert _get(cb + "?" + urlencode({"code": "x"})).status_code == 400  # missing state
    assert _get(cb + "?" + urlencode({"state": state})).status_code == 400  # missing code
    assert _get(cb + "?%ZZ%%&&==&state=%00").status_code in (400, 404)
    host, port = urlsplit(cb).hostname, urlsplit(cb).port
    for garbage in (b"GARBAGE\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, b"GET /" + b"A" * 70000):
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(garbage)
            s.shutdown(socket.SHUT_WR)
            try:
                s.recv(1024)
            except OSError:
                pass
    time.sleep(0.3)
    assert proc.poll() is None, "the listener gave up on hostile input"
    # the real user completes the login in the browser: it still works
    final = browser.login(pending_login["url"], "alice")
    assert final.startswith(cb)
    out, err = proc.communicate(timeout=30)
    pending_login["stderr"] += err
    assert proc.returncode == 0, err
    assert "alice" in out
    assert "state" in err.lower()  # the wrong-state request was reported (a warning, not the end)
    assert provider.grant_count("authorization_code") == 1
    # a repeated callback after the login: the listener is gone or refuses
    try:
        again = _get(cb + "?" + urlencode({"code": "again", "state": state}))
        assert again.status_code != 200
    except requests.ConnectionError:
        pass


def test_provider_error_on_the_redirect_ends_the_login(pending_login):
    cb, state, proc = pending_login["redirect_uri"], pending_login["state"], pending_login["proc"]
    # an error description with HTML (for the page) and terminal escape sequences (for the terminal)
    hostile = "<script>alert(1)</script> no \x1b]0;pwned\x07\x1b[2J"
    # with iss, as the provider sends it (RFC 9207): a response without it is rejected before its content is looked at
    r = _get(cb + "?" + urlencode({"error": "access_denied", "error_description": hostile, "state": state,
                                   "iss": pending_login["issuer"]}))
    assert r.status_code == 400
    assert "<script>" not in r.text and "access_denied" in r.text
    out, err = proc.communicate(timeout=15)
    pending_login["stderr"] += err
    assert proc.returncode == 3
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "access_denied" in errors[0], err
    assert "\x1b" not in err and "\x07" not in err, repr(err)
    assert "Traceback" not in err


def test_mixed_up_issuer_on_the_redirect_is_refused(pending_login):
    cb, state, proc = pending_login["redirect_uri"], pending_login["state"], pending_login["proc"]
    r = _get(cb + "?" + urlencode({"code": "x", "state": state, "iss": "https://127.0.0.1:1/evil"}))
    assert r.status_code == 400
    out, err = proc.communicate(timeout=15)
    pending_login["stderr"] += err
    assert proc.returncode == 3 and "issuer" in err, err
