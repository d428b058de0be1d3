"""`kubectl netsso login --grant-type device-code`: the user confirms the code in a real browser (RFC 8628)."""

from __future__ import annotations

import re
import subprocess
import time

from harness.netsso import jwt_claims, provider_args, read_cache


def _start(home, provider, *extra):
    import shutil

    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    return subprocess.Popen([exe, "login", *provider_args(provider, "--grant-type=device-code", *extra)], env=home.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(stream, pattern: str, timeout: float = 20.0) -> tuple[re.Match[str], str]:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen += line
        m = re.search(pattern, seen)
        if m:
            return m, seen
    raise AssertionError(f"{pattern!r} not printed; got:\n{seen}")


def _device_uri(proc) -> tuple[str, str, str]:
    """(verification URI with the user code, the user code, stderr so far) from what the plugin shows the user."""
    m, seen = _read_until(proc.stderr, r"(https://127\.0\.0\.1:\d+/device\S*)")
    code = re.search(r"\b([A-Z]{4}-[A-Z]{4})\b", seen)
    if code is None:
        code, more = _read_until(proc.stderr, r"\b([A-Z]{4}-[A-Z]{4})\b")
        seen += more
    user_code = code.group(1)
    uri = m.group(1)
    if "user_code=" not in uri:
        uri = f"{uri}?user_code={user_code}"
    return uri, user_code, seen


DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


def test_device_code_confirmed_in_the_browser(provider, home, browser, recorder):
    # interval 1 s from the provider, and one `slow_down` answer: RFC 8628 3.5 "the interval MUST be increased by 5
    # seconds for this and all subsequent requests"
    provider.set_device(interval=1, force_slow_down=1)
    proc = _start(home, provider, "--skip-open-browser")
    try:
        uri, user_code, seen = _device_uri(proc)
        deadline = time.monotonic() + 10
        while not provider.events(DEVICE) and time.monotonic() < deadline:  # let the first poll get its slow_down
            time.sleep(0.1)
        assert "Sign-in Success" in browser.confirm_device(uri, login="bob+sre")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    recorder.record("kubectl-netsso login --grant-type device-code", out, seen + err)
    assert proc.returncode == 0, (err, provider.events(DEVICE))
    assert "bob+sre" in out
    assert user_code in seen
    assert provider.grant_count(DEVICE) == 1
    assert provider.stats()["device_authorizations"] == 1
    polls = provider.events(DEVICE)
    assert polls[0].get("error") == "slow_down" and polls[-1]["status"] == 200, polls
    gaps = [b["t"] - a["t"] for a, b in zip(polls, polls[1:], strict=False)]
    assert all(g >= 5.8 for g in gaps), gaps  # 1 s + 5 s after the slow_down
    assert jwt_claims(read_cache(home.cache_dir)["id_token"])["groups"] == ["sre"]


def test_device_code_abort(provider, home, browser, recorder):
    provider.set_device(interval=1)
    proc = _start(home, provider, "--skip-open-browser")
    try:
        uri, _code, seen = _device_uri(proc)
        browser.confirm_device(uri, abort=True)
        out, err = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    recorder.record("kubectl-netsso login device abort", out, seen + err)
    assert proc.returncode == 3, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and ("denied" in errors[0] or "access_denied" in errors[0]), err
    assert "Traceback" not in err
    polls = provider.events(DEVICE)
    assert polls and all(p["status"] == 400 for p in polls)
    assert polls[-1].get("error") == "access_denied", polls
    gaps = [b["t"] - a["t"] for a, b in zip(polls, polls[1:], strict=False)]
    assert all(g >= 0.9 for g in gaps), gaps  # the provider's interval is respected
