"""`--oidc-client-secret` against the test provider's confidential client (`netsso-confidential`, client_secret_basic):
the secret is what authenticates the code exchange and the refresh at the token endpoint (the provider's event log
names the client and how it authenticated), the cache entry is not the public client's, refresh works after real
expiry, a wrong secret is refused, and the secret never appears in any output (every run goes through the harness
recorder, and the secret is added to the tokens the suite-wide leak scan looks for)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import time

import pytest
from harness.netsso import browser_args, cache_files, credential, exec_info, jwt_claims, provider_args

from kubectl_netsso.auth.settings import ProviderSettings

SCOPES = ("groups", "email")


def confidential_args(provider, *extra: str, secret: str | None = None) -> list[str]:
    """provider_args for the confidential client (same issuer, CA and scopes as the public client's)."""
    args = [f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.confidential_client_id}",
            f"--oidc-client-secret={secret or provider.confidential_client_secret}",
            f"--certificate-authority={provider.ca_path}"]
    return args + [f"--oidc-extra-scope={s}" for s in SCOPES] + list(extra)


def settings_for(provider, home, client_id: str, secret: str | None) -> ProviderSettings:
    """The settings the plugin builds from those flags in the test's environment (to name the cache entry)."""
    return ProviderSettings(provider.issuer, client_id, client_secret=secret, extra_scopes=SCOPES,
                            certificate_authorities=[str(provider.ca_path)], token_cache_dir=str(home.cache_dir))


def secret_forms(client_id: str, secret: str) -> set[str]:
    """The secret and the Basic credential that carries it (base64 of id:secret), as they could leak."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {secret, basic}


@pytest.fixture
def secret_watch(provider, recorder):
    """Every form of the confidential client's secret, also handed to the suite-wide leak scan."""
    forms = secret_forms(provider.confidential_client_id, provider.confidential_client_secret)
    recorder.tokens.update(forms)
    return forms


def assert_no_secret(runs, forms: set[str]) -> None:
    for r in runs:
        for text in (r.stdout, r.stderr):
            for form in forms:
                assert form not in text, f"client secret in the output of {r.args[1:2]}"


def test_confidential_login_get_token_refresh_and_logout(provider, home, browser_command, run_netsso, recorder,
                                                          secret_watch):
    cid = provider.confidential_client_id
    provider.set_ttl(id_token=8)
    browser_command.set(login="alice+dev")
    runs = []
    r = run_netsso("login", *confidential_args(provider, *browser_args(browser_command)), timeout=90)
    runs.append(r)
    assert r.returncode == 0, r.stderr
    assert "alice+dev" in r.stdout and "Traceback" not in r.stderr
    # the code exchange was made by the confidential client, authenticated with HTTP Basic (its registered method);
    # the provider only answers 200 to that client when the secret is right
    assert [(e["status"], e["client_id"], e["client_auth"]) for e in provider.events("authorization_code")] == \
        [(200, cid, "client_secret_basic")]
    q = browser_command.invocations()[0]["url"]
    assert f"client_id={cid}" in q and "code_challenge_method=S256" in q  # PKCE stays on for a confidential client
    assert "secret" not in q.lower()  # the secret never goes to the browser

    conf = settings_for(provider, home, cid, provider.confidential_client_secret)
    entry = home.cache_dir / f"{conf.cache_key()}.json"
    assert [p.name for p in cache_files(home.cache_dir)] == [entry.name]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    cached = json.loads(entry.read_text())
    assert jwt_claims(cached["id_token"])["aud"] == cid and cached["refresh_token"]

    # get-token serves the cached token (no new grant)
    env = {"KUBERNETES_EXEC_INFO": exec_info(), "NETSSO_EXPIRY_MARGIN": "0"}
    r = run_netsso("get-token", *confidential_args(provider), env=env)
    runs.append(r)
    assert r.returncode == 0, r.stderr
    assert credential(r.stdout)["status"]["token"] == cached["id_token"]
    assert len(provider.events()) == 1

    # after the ID token really expired, get-token refreshes, again as the confidential client with its secret
    provider.set_ttl(id_token=300)
    time.sleep(max(0.0, jwt_claims(cached["id_token"])["exp"] - time.time() + 0.2))
    r = run_netsso("get-token", *confidential_args(provider), env=env)
    runs.append(r)
    assert r.returncode == 0, r.stderr
    token = credential(r.stdout)["status"]["token"]
    claims = jwt_claims(token)
    assert token != cached["id_token"] and claims["aud"] == cid and claims["sub"] == "alice+dev"
    assert claims["exp"] > time.time() + 200
    assert [(e["status"], e["client_id"], e["client_auth"]) for e in provider.events("refresh_token")] == \
        [(200, cid, "client_secret_basic")]
    refreshed = json.loads(entry.read_text())
    # (oidc-provider rotates refresh tokens of public clients only; a confidential client keeps its refresh token)
    assert refreshed["id_token"] == token and refreshed["refresh_token"]

    # with every debug level on, a forced refresh still prints neither the secret nor its Basic header
    # (run through the recorder directly: its stdout is the credential channel, which run_netsso only knows for a
    # first argument "get-token")
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    r = recorder.run([exe, "-vvv", "get-token", *confidential_args(provider, "--force-refresh")], env=dict(home.env, **env),
                     label="kubectl-netsso -vvv get-token", stdout_is_credential=True)
    runs.append(r)
    assert r.returncode == 0, r.stderr
    assert provider.refresh_grants() == 2

    # logout revokes the refresh token (the revocation endpoint also needs the client's credentials) and forgets
    r = run_netsso("logout", *confidential_args(provider))
    runs.append(r)
    assert r.returncode == 0 and "revoked" in r.stdout, (r.stdout, r.stderr)
    assert provider.stats()["revocations"] == 1 and not entry.exists()
    assert_no_secret(runs, secret_watch)


def test_confidential_and_public_clients_have_separate_cache_entries(provider, home, browser_command, run_netsso,
                                                                     secret_watch):
    cid = provider.confidential_client_id
    runs = []
    browser_command.set(login="alice+ops")
    runs.append(run_netsso("login", *confidential_args(provider, *browser_args(browser_command)), timeout=90))
    browser_command.set(login="alice+dev")
    runs.append(run_netsso("login", *provider_args(provider, *browser_args(browser_command)), timeout=90))
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]

    public = settings_for(provider, home, provider.client_id, None)
    conf = settings_for(provider, home, cid, provider.confidential_client_secret)
    assert public.cache_key() != conf.cache_key()
    # the secret is part of the key: the same client id with another secret is another entry
    assert settings_for(provider, home, cid, "another-secret").cache_key() != conf.cache_key()
    assert {p.name for p in cache_files(home.cache_dir)} == {f"{public.cache_key()}.json", f"{conf.cache_key()}.json"}
    for p in cache_files(home.cache_dir):
        # the key is a hash: the file name does not reveal the secret; the entry does not store it either
        assert provider.confidential_client_secret not in p.name
        assert provider.confidential_client_secret not in p.read_text()

    # each get-token is served from its own entry: the right audience and subject, no new grant, no browser
    env = {"KUBERNETES_EXEC_INFO": exec_info()}
    r_conf = run_netsso("get-token", *confidential_args(provider), env=env)
    r_pub = run_netsso("get-token", *provider_args(provider), env=env)
    runs += [r_conf, r_pub]
    assert r_conf.returncode == 0 and r_pub.returncode == 0, (r_conf.stderr, r_pub.stderr)
    c_conf = jwt_claims(credential(r_conf.stdout)["status"]["token"])
    c_pub = jwt_claims(credential(r_pub.stdout)["status"]["token"])
    assert (c_conf["aud"], c_conf["sub"]) == (cid, "alice+ops")
    assert (c_pub["aud"], c_pub["sub"]) == (provider.client_id, "alice+dev")
    assert [(e["client_id"], e["client_auth"]) for e in provider.events("authorization_code")] == \
        [(cid, "client_secret_basic"), (provider.client_id, "none")]
    assert len(provider.events()) == 2 and len(browser_command.invocations()) == 2

    # logging out of one leaves the other
    runs.append(run_netsso("logout", *confidential_args(provider)))
    assert runs[-1].returncode == 0
    assert {p.name for p in cache_files(home.cache_dir)} == {f"{public.cache_key()}.json"}
    assert_no_secret(runs, secret_watch)


def test_a_wrong_secret_is_refused_at_the_token_endpoint(provider, home, browser_command, run_netsso, recorder):
    wrong = "wrong-secret-" + os.urandom(8).hex()
    forms = secret_forms(provider.confidential_client_id, wrong)
    recorder.tokens.update(forms)
    r = run_netsso("login", *confidential_args(provider, *browser_args(browser_command), secret=wrong), timeout=90)
    assert r.returncode == 3, (r.stdout, r.stderr)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "invalid_client" in errors[0], r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    # the browser login succeeded; the provider refused the code exchange because of the secret
    assert browser_command.wait_finished(1)[0].get("final_url", "").startswith("http://127.0.0.1:")
    assert [(e["status"], e["error"], e["client_auth"]) for e in provider.events("authorization_code")] == \
        [(401, "invalid_client", "client_secret_basic")]
    assert not (home.cache_dir.exists() and cache_files(home.cache_dir))
    assert_no_secret([r], forms)


def test_login_required_message_leaves_the_secret_out(provider, home, run_netsso, secret_watch):
    """Without a terminal and without a cached token, get-token names the login command to run, minus the secret."""
    r = run_netsso("get-token", *confidential_args(provider, "--grant-type=device-code"),
                   env={"KUBERNETES_EXEC_INFO": exec_info(interactive=False)})
    assert r.returncode == 3 and r.stdout == "", r.stderr
    assert r.stderr.startswith("error: login required: run kubectl netsso login"), r.stderr
    assert f"--oidc-client-id={provider.confidential_client_id}" in r.stderr
    assert "--oidc-client-secret" not in r.stderr
    assert_no_secret([r], secret_watch)
    assert provider.events() == []

