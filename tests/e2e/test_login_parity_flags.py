"""Issue 16 item 3, against the real provider, browser and kubectl: client credentials for CI (never a browser),
--oidc-use-access-token through kubectl, --oidc-pkce-method, --open-url-after-authentication, --token-cache-storage disk."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from harness.kubeconfig import write_kubeconfig
from harness.netsso import browser_args, cache_files, jwt_claims, provider_args, read_cache

pytestmark = pytest.mark.e2e

PODS = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ci"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job-1", "namespace": "ci"}, "spec": {"containers": []}}]


def test_client_credentials_through_kubectl_never_opens_a_browser(provider, apiserver, home, browser_command,
                                                                  run_kubectl, run_netsso):
    apiserver.set_objects(PODS)
    write_kubeconfig(home.kubeconfig, server=apiserver.url, ca_path=apiserver.ca_path, issuer=provider.issuer,
                     client_id=provider.ci_client_id, provider_ca=provider.ca_path, scopes=(),
                     extra_args=["--grant-type=client-credentials", f"--browser-command={browser_command.path}"],
                     env={"NETSSO_OIDC_CLIENT_SECRET": provider.ci_client_secret})
    r = run_kubectl("get", "pods", "-n", "ci", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pod/job-1"]
    assert browser_command.invocations() == []
    users = {q.user for q in apiserver.requests if q.user}
    assert users == {f"{provider.issuer}#{provider.ci_client_id}"}, users
    events = [e for e in provider.stats()["events"] if e["grant_type"] == "client_credentials"]
    assert [(e["status"], e["client_auth"]) for e in events] == [(200, "client_secret_basic")]
    # the second kubectl call is a cache hit: no new grant
    assert run_kubectl("get", "pods", "-n", "ci").returncode == 0
    assert provider.grant_count("client_credentials") == 1
    # the secret is in neither the cache file nor any output
    assert provider.ci_client_secret not in (home.cache_dir / cache_files(home.cache_dir)[0].name).read_text()


def test_client_credentials_without_the_secret_is_one_line(provider, home, run_netsso):
    r = run_netsso("login", f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.ci_client_id}",
                   f"--certificate-authority={provider.ca_path}", "--grant-type=client-credentials")
    assert r.returncode == 3 and r.stderr.startswith("error: --grant-type client-credentials needs the client secret")
    assert "Traceback" not in r.stderr


def test_a_wrong_client_secret_is_not_echoed(provider, home, run_netsso):
    secret = "wrong-secret-value-123"
    r = run_netsso("login", f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.ci_client_id}",
                   f"--certificate-authority={provider.ca_path}", "--grant-type=client-credentials",
                   env={"NETSSO_OIDC_CLIENT_SECRET": secret})
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("error: client credentials grant failed: invalid_client"), r.stderr
    assert secret not in r.stdout + r.stderr


def test_access_token_mode_through_kubectl(provider, apiserver, home, browser_command, run_kubectl, run_netsso):
    """The ID token of this client has aud netsso-jwt-access, which the API double (audience netsso) rejects: only the
    access token (aud netsso) gets kubectl in."""
    apiserver.set_objects(PODS)

    write_kubeconfig(home.kubeconfig, server=apiserver.url, ca_path=apiserver.ca_path, issuer=provider.issuer,
                     client_id=provider.jwt_access_client_id, provider_ca=provider.ca_path,
                     extra_args=["--oidc-use-access-token", *browser_args(browser_command)])
    browser_command.set(login="alice+dev")
    r = run_netsso("login", timeout=90)  # settings from the kubeconfig written above
    assert r.returncode == 0, r.stderr
    token = read_cache(home.cache_dir)["id_token"]
    claims = jwt_claims(token)
    assert claims["aud"] == "netsso" and claims["client_id"] == provider.jwt_access_client_id, claims
    assert "nonce" not in claims  # an access token, not the ID token
    r = run_kubectl("get", "pods", "-n", "ci", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert token in apiserver.tokens_seen
    assert {q.user for q in apiserver.requests if q.user} == {f"{provider.issuer}#alice+dev"}
    assert len(browser_command.invocations()) == 1


def test_access_token_mode_refuses_an_opaque_access_token(provider, home, browser_command, run_netsso):
    r = run_netsso("login", *provider_args(provider, "--oidc-use-access-token", *browser_args(browser_command)),
                   timeout=90)
    assert r.returncode == 3
    assert r.stderr.splitlines()[-2].startswith("error: the provider's access token is not a JWT"), r.stderr


def test_pkce_method_no_sends_no_challenge(provider, home, browser_command, run_netsso):
    env = {"NETSSO_OIDC_CLIENT_SECRET": provider.confidential_client_secret}
    r = run_netsso("login", f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.confidential_client_id}",
                   f"--certificate-authority={provider.ca_path}", "--oidc-pkce-method=no", *browser_args(browser_command),
                   env=env, timeout=90)
    assert r.returncode == 0, r.stderr
    query = parse_qs(urlsplit(browser_command.invocations()[-1]["url"]).query)
    assert "code_challenge" not in query and "code_challenge_method" not in query
    # and auto sends S256 (the provider lists it)
    assert run_netsso("login", f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.confidential_client_id}",
                      f"--certificate-authority={provider.ca_path}", "--force-refresh", *browser_args(browser_command),
                      env=env, timeout=90).returncode == 0
    query = parse_qs(urlsplit(browser_command.invocations()[-1]["url"]).query)
    assert query["code_challenge_method"] == ["S256"]


def test_pkce_no_for_a_public_client_is_the_providers_one_line_refusal(provider, home, browser_command, run_netsso):
    r = run_netsso("login", *provider_args(provider, "--oidc-pkce-method=no", *browser_args(browser_command)), timeout=90)
    assert r.returncode == 3
    assert "error: the provider refused the login: invalid_request" in r.stderr, r.stderr


class _Landing(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        body = b"<html><body>landed</body></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_open_url_after_authentication(provider, home, browser_command, run_netsso):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Landing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/welcome?from=netsso"
        r = run_netsso("login", *provider_args(provider, f"--open-url-after-authentication={url}",
                                               *browser_args(browser_command)), timeout=90)
        assert r.returncode == 0, r.stderr
        assert _Landing.hits[:1] == ["/welcome?from=netsso"]  # (then the browser's /favicon.ico)
    finally:
        server.shutdown()
        server.server_close()


def test_open_url_after_authentication_must_be_a_web_url(provider, home, run_netsso):
    r = run_netsso("login", *provider_args(provider, "--open-url-after-authentication=javascript:alert(1)"))
    assert r.returncode == 2 and r.stderr.startswith("error: --open-url-after-authentication must be an https URL")


def test_disk_is_kubelogins_name_for_file(provider, home, browser_command, run_netsso):
    assert run_netsso("login", *provider_args(provider, "--token-cache-storage=disk", *browser_args(browser_command)),
                      timeout=90).returncode == 0
    files = cache_files(home.cache_dir)
    r = run_netsso("logout", *provider_args(provider), "--no-revoke")  # same entry as the default storage
    assert r.returncode == 0 and "removed the cached tokens" in r.stdout, r.stdout
    assert files and cache_files(home.cache_dir) == []
