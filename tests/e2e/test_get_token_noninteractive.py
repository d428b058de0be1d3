"""Non-interactive get-token (IDEs, k9s, CI): at most one browser per cache key, and no new one for 5 minutes after a
login that was abandoned or failed; device-code never runs without a terminal."""

from __future__ import annotations

import json
import shutil
import time

import requests
from harness.netsso import credential, exec_info, provider_args, run_get_token_together


def _state_file(home):
    states = list(home.cache_dir.glob("*.state"))
    assert len(states) == 1, list(home.cache_dir.iterdir())
    return states[0]


def test_abandoned_login_opens_one_browser_and_backs_off(provider, home, browser_command, run_netsso, recorder):
    browser_command.set(action="ignore")  # the browser opens, nobody logs in
    args = provider_args(provider, "--grant-type=authcode", "--listen-address=127.0.0.1:0",
                         f"--browser-command={browser_command.path}", "--authentication-timeout=4")
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    env = dict(home.env, KUBERNETES_EXEC_INFO=exec_info(interactive=False))
    # four kubectl-like callers at once (an IDE polling several clusters views)
    outs = run_get_token_together(exe, args, env, 4, recorder, "kubectl-netsso get-token (abandoned)")
    assert len(browser_command.invocations()) == 1, browser_command.invocations()
    assert all(rc == 3 and out == "" for rc, out, _ in outs), outs
    for _, _, err in outs:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in err, err

    # within 5 minutes: no new browser, a one-line error telling the user to log in
    r = run_netsso("get-token", *args, env={"KUBERNETES_EXEC_INFO": exec_info(interactive=False)})
    assert r.returncode == 3 and r.stdout == ""
    assert "kubectl netsso login" in r.stderr, r.stderr
    assert len(browser_command.invocations()) == 1

    # 5 minutes later (the state's timestamp moved back): one new browser login, which now succeeds
    state = _state_file(home)
    data = json.loads(state.read_text())
    data["at"] = time.time() - 301
    state.write_text(json.dumps(data))
    browser_command.set(action="login")
    # a real headless login takes longer than 4 s on a loaded machine: the short timeout was for the abandoned ones
    patient = [a for a in args if not a.startswith("--authentication-timeout")] + ["--authentication-timeout=60"]
    r = run_netsso("get-token", *patient, env={"KUBERNETES_EXEC_INFO": exec_info(interactive=False)}, timeout=90)
    assert r.returncode == 0, r.stderr
    assert credential(r.stdout)["status"]["token"]
    assert len(browser_command.invocations()) == 2


def test_revoked_refresh_token_gives_login_required_without_a_terminal(provider, home, browser_command, run_netsso):
    from harness.netsso import browser_args, jwt_claims, read_cache

    provider.set_ttl(id_token=3)
    r = run_netsso("login", *provider_args(provider, *browser_args(browser_command)), timeout=90)
    assert r.returncode == 0, r.stderr
    cached = read_cache(home.cache_dir)
    revoke = requests.post(provider.discovery()["revocation_endpoint"], verify=str(provider.ca_path), timeout=10,
                           data={"token": cached["refresh_token"], "token_type_hint": "refresh_token",
                                 "client_id": provider.client_id})
    assert revoke.status_code == 200
    time.sleep(max(0.0, jwt_claims(cached["id_token"])["exp"] - time.time() + 0.2))
    # no browser command and a device-code grant: nothing may run without a terminal
    r = run_netsso("get-token", *provider_args(provider, "--grant-type=device-code"),
                   env={"KUBERNETES_EXEC_INFO": exec_info(interactive=False), "NETSSO_EXPIRY_MARGIN": "0"})
    assert r.returncode == 3 and r.stdout == "", r.stderr
    assert provider.refresh_grants(ok_only=False) == 1 and provider.refresh_grants() == 0
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: login required"), r.stderr
    assert "invalid_grant" in r.stderr  # the user learns why
    assert provider.stats()["device_authorizations"] == 0 and len(browser_command.invocations()) == 1


def test_device_code_never_runs_non_interactively(provider, home, run_netsso):
    args = provider_args(provider, "--grant-type=device-code")
    r = run_netsso("get-token", *args, env={"KUBERNETES_EXEC_INFO": exec_info(interactive=False)})
    assert r.returncode == 3 and r.stdout == ""
    assert r.stderr.startswith("error: login required"), r.stderr
    assert provider.stats()["device_authorizations"] == 0
