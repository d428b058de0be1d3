"""The real kubectl runs `kubectl-netsso get-token` from a kubeconfig and calls the API double with the ID token."""

from __future__ import annotations

import shutil
import time

import pytest
from harness.kubeconfig import write_kubeconfig
from harness.netsso import CountingPlugin, browser_args, jwt_claims, provider_args, read_cache

OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
     "spec": {"containers": [{"name": "web", "image": "nginx"}]}, "status": {"phase": "Running"}},
]


@pytest.fixture
def plugin(home, provider, apiserver, browser_command, tmp_path):
    apiserver.set_objects(OBJECTS)
    counted = CountingPlugin(tmp_path / "plugin", shutil.which("kubectl-netsso", path=home.env["PATH"]))
    extra = [a for a in provider_args(provider, *browser_args(browser_command)) if not a.startswith(
        ("--oidc-issuer-url", "--oidc-client-id", "--certificate-authority", "--oidc-extra-scope"))]
    write_kubeconfig(home.kubeconfig, server=apiserver.url, ca_path=apiserver.ca_path, issuer=provider.issuer,
                     provider_ca=provider.ca_path, extra_args=extra, command=str(counted.path), namespace="shop")
    return counted


def test_first_login_cache_hit_and_refresh_after_expiry(provider, apiserver, home, browser_command, plugin,
                                                        run_kubectl, recorder):
    provider.set_ttl(id_token=8)
    env = {"NETSSO_EXPIRY_MARGIN": "1"}
    # 1. first use: no cache -> kubectl (not interactive: stdin is not a TTY) runs the plugin, which logs in through
    #    the browser (allowed without a terminal: one pending login at most)
    started = time.monotonic()
    r = run_kubectl("get", "pods", "-o", "name", env=env, timeout=120)
    recorder.timing("first kubectl get pods incl. browser login", time.monotonic() - started)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pod/web-1"]
    assert len(browser_command.invocations()) == 1
    runs = plugin.runs()
    assert len(runs) == 1 and runs[0]["spec"]["interactive"] is False
    assert runs[0]["apiVersion"] == "client.authentication.k8s.io/v1"
    authed = [q for q in apiserver.requests if q.user]
    assert authed and all(q.user == f"{provider.issuer}#alice" for q in authed)
    assert provider.grant_count("authorization_code") == 1
    first_token = read_cache(home.cache_dir)["id_token"]

    # 2. a second kubectl process: served from the plugin's cache, nothing at the provider, no browser
    r = run_kubectl("get", "pods", "-o", "name", env=env)
    assert r.returncode == 0, r.stderr
    assert len(plugin.runs()) == 2 and len(browser_command.invocations()) == 1
    assert provider.refresh_grants(ok_only=False) == 0 and provider.grant_count("authorization_code") == 1
    assert apiserver.tokens_seen == {first_token}

    # 3. after the ID token expired (really: the API double would now answer 401 to it), the refresh token is used
    exp = jwt_claims(first_token)["exp"]
    time.sleep(max(0.0, exp - time.time() + 0.2))
    apiserver.clear_log()
    r = run_kubectl("get", "pods", "-o", "name", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pod/web-1"]
    assert provider.refresh_grants() == 1
    assert len(browser_command.invocations()) == 1
    new_token = read_cache(home.cache_dir)["id_token"]
    assert new_token != first_token and new_token in apiserver.tokens_seen
    assert all(q.status < 400 for q in apiserver.requests), [(q.path, q.status) for q in apiserver.requests]


def test_401_makes_kubectl_run_the_plugin_again(provider, apiserver, home, browser_command, plugin, run_kubectl):
    r = run_kubectl("get", "pods", "-o", "name", timeout=120)  # logs in, fills the discovery cache
    assert r.returncode == 0, r.stderr
    plugin.reset()
    apiserver.clear_log()
    apiserver.fail_auth_next(1)
    r = run_kubectl("get", "pods", "-o", "name")
    # client-go: a 401 invalidates the credential and runs the plugin again (it does not retry a plain GET)
    assert len(plugin.runs()) == 2, (r.stdout, r.stderr)
    assert [q.status for q in apiserver.requests][:1] == [401]
    if r.returncode != 0:
        assert "must be logged in" in r.stderr or "Unauthorized" in r.stderr, r.stderr
    # a cached token is still valid: the second run needs neither browser nor provider
    assert len(browser_command.invocations()) == 1 and provider.refresh_grants(ok_only=False) == 0
    r = run_kubectl("get", "pods", "-o", "name")
    assert r.returncode == 0 and r.stdout.split() == ["pod/web-1"], r.stderr


def test_get_token_answers_in_the_callers_api_version(provider, home, browser_command, run_netsso):
    from harness.netsso import credential, exec_info

    args = provider_args(provider, *browser_args(browser_command))
    assert run_netsso("login", *args, timeout=90).returncode == 0
    for version in ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"):
        r = run_netsso("get-token", *args, env={"KUBERNETES_EXEC_INFO": exec_info(False, version)})
        assert r.returncode == 0, r.stderr
        cred = credential(r.stdout)
        assert cred["apiVersion"] == version
        token = cred["status"]["token"]
        claims = jwt_claims(token)
        # expirationTimestamp = exp - 60 s margin (RFC 3339 UTC)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"] - 60))
        assert cred["status"]["expirationTimestamp"] == stamp
        assert r.stderr.strip() == "" or token not in r.stderr
    r = run_netsso("get-token", *args, env={"KUBERNETES_EXEC_INFO": "{not json"})
    assert r.returncode == 3 and r.stdout == "" and r.stderr.startswith("error:"), (r.stdout, r.stderr)
