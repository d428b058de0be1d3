"""`kubectl netsso login` through the real provider and a real headless Chromium (authorization code + PKCE)."""

from __future__ import annotations

import stat
import time
from urllib.parse import parse_qs, urlsplit

from harness.netsso import browser_args, jwt_claims, provider_args, read_cache


def test_login_authcode_through_a_real_browser(provider, home, browser_command, run_netsso, recorder):
    browser_command.set(login="alice+dev+ops")
    started = time.monotonic()
    r = run_netsso("login", *provider_args(provider, *browser_args(browser_command)), timeout=90)
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    recorder.timing("login round trip (authcode, real browser)", elapsed)
    opened = browser_command.invocations()[0]["t"]
    done = browser_command.wait_finished(1)[0]
    recorder.timing("login: process start -> discovery -> browser command started", opened - (time.time() - elapsed))
    if "t_done" in done:
        recorder.timing("login: browser command (Chromium start + sign-in + callback page)", done["t_done"] - opened)
    # who you are, from the verified ID token
    assert "alice+dev+ops" in r.stdout
    assert "dev, ops" in r.stdout or ("dev" in r.stdout and "ops" in r.stdout)
    assert "Traceback" not in r.stderr
    # exactly one browser, sent to the provider's authorization endpoint with PKCE S256, state and nonce
    calls = browser_command.invocations()
    assert len(calls) == 1
    auth = urlsplit(calls[0]["url"])
    assert f"{auth.scheme}://{auth.netloc}{auth.path}" == provider.discovery()["authorization_endpoint"]
    q = parse_qs(auth.query)
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["state"][0] and q["nonce"][0] and q["client_id"] == ["netsso"]
    redirect = urlsplit(q["redirect_uri"][0])
    assert redirect.hostname == "127.0.0.1" and redirect.path == "/callback"
    # the browser landed on the plugin's success page
    result = browser_command.wait_finished(1)[0]
    assert result["final_url"].startswith(q["redirect_uri"][0]), result
    assert "logged in" in result.get("page", "").lower(), result
    # the provider saw one code exchange and no refresh; the cache holds the tokens
    assert provider.grant_count("authorization_code") == 1 and provider.refresh_grants() == 0
    cached = read_cache(home.cache_dir)
    assert jwt_claims(cached["id_token"])["sub"] == "alice+dev+ops"
    assert cached["refresh_token"]
    # the URL is also printed to stderr, so a user can copy it
    assert provider.discovery()["authorization_endpoint"] in r.stderr


def test_login_cache_files_are_private(provider, home, browser_command, run_netsso):
    import os

    # even with a permissive umask the cache dir is 0700 and the files 0600
    r = run_netsso("login", *provider_args(provider, *browser_args(browser_command)), timeout=90,
                   preexec_fn=lambda: os.umask(0))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(home.cache_dir.stat().st_mode) == 0o700
    files = [p for p in home.cache_dir.iterdir() if p.is_file()]
    assert any(p.suffix == ".json" for p in files)
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, (p.name, oct(p.stat().st_mode))
    assert not [p for p in home.cache_dir.iterdir() if p.name.startswith(".tmp-")]  # no temp file left behind


def test_login_provider_error_is_one_line(provider, home, browser_command, run_netsso):
    browser_command.set(action="abort")  # the user clicks "Cancel" at the provider -> error=access_denied
    r = run_netsso("login", *provider_args(provider, *browser_args(browser_command)), timeout=90)
    assert r.returncode == 3, (r.stdout, r.stderr)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "access_denied" in errors[0], r.stderr
    assert "Traceback" not in r.stderr
    page = browser_command.wait_finished(1)[0].get("page", "")
    assert "access_denied" in page or "aborted" in page.lower(), page
    assert not list(home.cache_dir.glob("*.json")) if home.cache_dir.exists() else True
