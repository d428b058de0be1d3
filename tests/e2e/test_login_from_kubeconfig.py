"""Issue 16 item 1: login, logout and setup take the provider settings from the current context's exec entry
(after flags and environment), say on -v where each came from, and logout without flags forgets that provider."""

from __future__ import annotations

import pytest
import yaml
from harness.netsso import browser_args, cache_files, provider_args, read_cache

pytestmark = pytest.mark.e2e


def test_setup_then_login_and_logout_with_no_flags(provider, apiserver, home, browser_command, run_netsso, run_kubectl):
    browser_command.set(login="alice+dev")
    r = run_netsso("setup", *provider_args(provider, *browser_args(browser_command)), "--write-kubeconfig",
                   "--user", "sso", timeout=90)
    assert r.returncode == 0, r.stderr
    cfg = yaml.safe_load(home.kubeconfig.read_text())
    cfg["clusters"] = [{"name": "prod", "cluster": {"server": apiserver.url, "certificate-authority": str(apiserver.ca_path)}}]
    cfg["contexts"] = [{"name": "prod", "context": {"cluster": "prod", "user": "sso"}}]
    cfg["current-context"] = "prod"
    home.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    home.kubeconfig.write_text(yaml.safe_dump(cfg))
    assert run_netsso("logout", "--no-revoke").returncode == 0  # forget setup's login: login below must run again
    assert cache_files(home.cache_dir) == []

    r = run_netsso("-v", "login", timeout=90)
    assert r.returncode == 0, r.stderr
    assert "Logged in" in r.stdout
    # -v says where each setting came from
    assert f"--oidc-issuer-url={provider.issuer}" in r.stderr and 'kubeconfig user "sso"' in r.stderr, r.stderr
    assert len(browser_command.invocations()) == 2
    # the token login cached is the one kubectl's get-token finds: no third browser
    r = run_kubectl("get", "pods", "-A", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert len(browser_command.invocations()) == 2

    r = run_netsso("logout")
    assert r.returncode == 0, r.stderr
    assert "Logged out of" in r.stdout and provider.issuer in r.stdout
    assert cache_files(home.cache_dir) == []


def test_flags_win_over_environment_over_the_kubeconfig(provider, kubeconfig, home, browser_command, run_netsso):
    env = dict(home.env, NETSSO_AUTHENTICATION_TIMEOUT="77")
    r = run_netsso("-v", "login", *browser_args(browser_command), "--expiry-margin=30", env=env, timeout=90)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    origin = {ln.split("=", 1)[0].split()[-1]: ln for ln in lines if "=" in ln and "--" in ln and "[" in ln}
    assert "[flag]" in origin["--expiry-margin"] and "[flag]" in origin["--browser-command"]
    assert "[env NETSSO_AUTHENTICATION_TIMEOUT]" in origin["--authentication-timeout"]
    assert 'kubeconfig user "oidc"' in origin["--oidc-client-id"]


def test_logout_finds_the_login_whatever_its_scopes(provider, home, browser_command, run_netsso):
    """Leaving out one --oidc-extra-scope used to say "No cached tokens" although one existed."""
    assert run_netsso("login", *provider_args(provider, *browser_args(browser_command)), timeout=90).returncode == 0
    assert read_cache(home.cache_dir)["refresh_token"]
    r = run_netsso("logout", f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.client_id}",
                   f"--certificate-authority={provider.ca_path}")
    assert r.returncode == 0, r.stderr
    assert "No cached tokens" not in r.stdout
    assert cache_files(home.cache_dir) == []
    assert provider.stats()["revocations"] == 1


def test_login_without_any_provider_says_where_it_looked(home, run_netsso):
    home.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    home.kubeconfig.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                                               "contexts": [], "current-context": ""}))
    r = run_netsso("login")
    assert r.returncode == 2
    assert r.stderr.startswith("error: the issuer URL is missing"), r.stderr
    assert "Traceback" not in r.stderr
    assert "kubeconfig user runs kubectl netsso get-token" in r.stderr


def test_a_context_that_names_nothing_is_a_usage_error(kubeconfig, run_netsso):
    r = run_netsso("logout", "--context", "nope")
    assert r.returncode == 2 and r.stderr.startswith('error: context "nope" not found'), r.stderr
