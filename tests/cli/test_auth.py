"""login / get-token / setup / logout through the click CLI against the in-test token server; redaction; browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers.fake_op import FakeOP, fake_jwt, follow_opened_urls

from kubectl_netsso import log
from kubectl_netsso.auth import browser
from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.cli import auth as cli_auth
from kubectl_netsso.cli import setup as cli_setup
from kubectl_netsso.cli.main import run


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


@pytest.fixture()
def env(op: FakeOP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for k in list(os.environ):
        if k.startswith("NETSSO_") or k in ("KUBERNETES_EXEC_INFO", "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION"):
            monkeypatch.delenv(k, raising=False)
    values = {"HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "kc"), "NETSSO_OIDC_ISSUER_URL": op.issuer,
              "NETSSO_OIDC_CLIENT_ID": "netsso", "NETSSO_LISTEN_ADDRESS": "127.0.0.1:0",
              "NETSSO_OIDC_EXTRA_SCOPE": "groups,offline_access", "KUBECONFIG": str(tmp_path / "kubeconfig")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture()
def fake_browser(op: FakeOP, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return follow_opened_urls(op, monkeypatch)


def settings_from_env() -> ProviderSettings:
    return ProviderSettings.from_values({})


def test_login_prints_identity_and_caches(env: dict[str, str], fake_browser: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["login", "--grant-type", "authcode", "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["subject"] == "alice" and out["groups"] == ["dev", "ops"] and out["email"] == "alice@example.test"
    assert open_cache(settings_from_env()).load() is not None


def test_get_token_after_login_and_secrets_never_printed(env: dict[str, str], fake_browser: list[str], op: FakeOP,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    log.set_level(3)
    try:
        assert run(["login", "--grant-type", "authcode"]) == 0
        cached = open_cache(settings_from_env()).load()
        assert cached is not None and cached.refresh_token
        # expire it: the CLI path must refresh (the fast path is not used in-process)
        open_cache(settings_from_env()).save(TokenSet(fake_jwt({"sub": "alice", "exp": time.time() - 1}),
                                                      cached.refresh_token))
        os.environ["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": "client.authentication.k8s.io/v1",
                                                         "kind": "ExecCredential", "spec": {"interactive": False}})
        assert run(["get-token"]) == 0
    finally:
        log.set_level(0)
        os.environ.pop("KUBERNETES_EXEC_INFO", None)
    captured = capsys.readouterr()
    cred = json.loads(captured.out.strip().splitlines()[-1])
    fresh = open_cache(settings_from_env()).load()
    assert fresh is not None and cred["status"]["token"] == fresh.id_token and op.stats["refresh"] == 1
    # -vvv: still no token, refresh token or authorization code on stderr
    for secret in (cached.id_token, cached.refresh_token, fresh.id_token, fresh.refresh_token or "-"):
        assert secret not in captured.err
    assert "code=code-" not in captured.err


def test_get_token_non_interactive_login_required(env: dict[str, str], capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", json.dumps({"apiVersion": "client.authentication.k8s.io/v1",
                                                           "kind": "ExecCredential", "spec": {"interactive": False}}))
    assert run(["get-token", "--grant-type", "device-code"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: login required: run kubectl netsso login --oidc-issuer-url=")


def test_missing_issuer_is_usage_error(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NETSSO_OIDC_ISSUER_URL")
    assert run(["login"]) == 2
    assert "error: the issuer URL is missing" in capsys.readouterr().err


def test_unreachable_issuer_is_one_line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("NETSSO_OIDC_ISSUER_URL", f"http://127.0.0.1:{port}")
    from kubectl_netsso.auth import discovery

    monkeypatch.setattr(discovery, "_warned_http", set())
    assert run(["login", "--grant-type", "authcode"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"warning: the OpenID Provider at http://127.0.0.1:{port} uses plain http " \
                     "(accepted on a loopback address only, for testing)"
    err = err[1:]
    assert err[0] == f"error: issuer at http://127.0.0.1:{port} unreachable: connection refused"
    assert err[1].startswith("hint: check --oidc-issuer-url")


def test_not_an_openid_provider(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, op: FakeOP,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NETSSO_OIDC_ISSUER_URL", op.issuer + "/nothing-here")
    assert run(["login", "--grant-type", "authcode"]) == 3
    assert "is not an OpenID Provider: discovery answered HTTP 404" in capsys.readouterr().err


def test_setup_prints_everything(env: dict[str, str], fake_browser: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["setup", "--grant-type", "authcode", "--bind-group", "dev", "--role", "view", "-n", "team-a",
                "--write-kubeconfig"]) == 0
    out = capsys.readouterr().out
    assert "kubectl config set-credentials netsso \\\n    --exec-api-version=client.authentication.k8s.io/v1" in out
    assert "--exec-interactive-mode=IfAvailable" in out and f"--exec-command={cli_setup.plugin_path()}" in out
    assert os.path.isabs(cli_setup.plugin_path())
    assert "--oidc-username-claim=email" in out and "--oidc-groups-claim=groups" in out
    docs = out.split("## 3.")[1]
    auth_cfg = yaml.safe_load(docs.split("\n", 1)[1].split("# you will be")[0])
    assert auth_cfg["kind"] == "AuthenticationConfiguration" and auth_cfg["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert auth_cfg["jwt"][0]["claimMappings"]["groups"] == {"claim": "groups", "prefix": "oidc:"}
    rb = yaml.safe_load(out.split("## 4.")[1].split("\n", 1)[1])
    assert rb["kind"] == "RoleBinding" and rb["metadata"]["namespace"] == "team-a"
    assert rb["subjects"][0]["name"] == "oidc:dev" and rb["roleRef"] == {"kind": "ClusterRole", "apiGroup":
                                                                         "rbac.authorization.k8s.io", "name": "view"}
    kubeconfig = yaml.safe_load(Path(env["KUBECONFIG"]).read_text())
    exec_ = kubeconfig["users"][0]["user"]["exec"]
    assert exec_["interactiveMode"] == "IfAvailable" and exec_["args"][0] == "get-token"
    assert ProviderSettings.from_exec_args(exec_["args"], {}).cache_key() == settings_from_env().cache_key()


def test_apiserver_mapping_warns_without_groups(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_setup.apiserver_mapping({"sub": "a", "email": "a@x", "email_verified": False}, None, "oidc:", None,
                                      "oidc:") == ("sub", None)
    assert "no groups claim" in capsys.readouterr().err


def test_cluster_role_binding_without_namespace() -> None:
    crb = cli_setup.binding("oidc:ops", "admin", "ClusterRole", None)
    assert crb["kind"] == "ClusterRoleBinding" and "namespace" not in crb["metadata"]


def test_logout_revokes_and_removes(env: dict[str, str], op: FakeOP, capsys: pytest.CaptureFixture[str]) -> None:
    s = settings_from_env()
    open_cache(s).save(TokenSet(op.id_token(), "rt-logout-me"))
    assert run(["logout"]) == 0
    assert op.revoked == ["rt-logout-me"] and open_cache(s).load() is None
    assert "revoked the refresh token" in capsys.readouterr().out
    assert run(["logout"]) == 0
    assert "No cached tokens" in capsys.readouterr().out


def test_logout_all(env: dict[str, str], op: FakeOP, capsys: pytest.CaptureFixture[str]) -> None:
    open_cache(settings_from_env()).save(TokenSet(op.id_token(), "rt-a", op.issuer, "netsso"))
    open_cache(settings_from_env().replace(client_id="other")).save(TokenSet(op.id_token(), None))
    assert run(["logout", "--all"]) == 0
    assert "removed 2 cache entries" in capsys.readouterr().out and op.revoked == ["rt-a"]


# -- browser -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("envvars", "platform", "expected"), [
    ({}, "linux", False), ({"DISPLAY": ":0"}, "linux", True), ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"DISPLAY": ":0", "SSH_CONNECTION": "1 2 3 4"}, "linux", False), ({}, "darwin", True),
])
def test_auto_grant_choice(envvars: dict[str, str], platform: str, expected: bool) -> None:
    assert browser.can_open_browser(None, envvars, platform) is expected
    assert browser.can_open_browser("my-browser", envvars, platform) is True


def test_text_browser_refused() -> None:
    with pytest.raises(Exception, match="text-mode browser"):
        browser.open_url("https://x.test", "w3m")


def test_browser_command_output_never_reaches_stdout(tmp_path: Path) -> None:
    """The browser command's own stdout is redirected to stderr: stdout belongs to the ExecCredential."""
    marker = tmp_path / "ran"
    script = tmp_path / "browser.sh"
    script.write_text(f"#!/bin/sh\necho browser-says-hello\necho \"$1\" > {marker}\n")
    script.chmod(0o755)
    code = ("import sys; from kubectl_netsso.auth import browser; "
            f"sys.exit(0 if browser.open_url('https://x.test/auth?a=1', {str(script)!r}) else 1)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    for _ in range(50):
        if marker.exists():
            break
        time.sleep(0.05)
    time.sleep(0.1)
    assert proc.returncode == 0 and marker.read_text().strip() == "https://x.test/auth?a=1"
    assert "browser-says-hello" not in proc.stdout


def test_login_url_is_printed_to_stderr_not_stdout(env: dict[str, str], fake_browser: list[str]) -> None:
    result = CliRunner().invoke(cli_auth.login, ["--grant-type", "authcode"])
    assert result.exit_code == 0, result.output
    assert "Open this URL in a browser: " + fake_browser[0] in result.stderr
    assert fake_browser[0] not in result.stdout and "Logged in" in result.stdout


def test_setup_command_never_prints_the_client_secret() -> None:
    """setup prints a set-credentials command to paste: the secret comes from $NETSSO_OIDC_CLIENT_SECRET when it runs."""
    import subprocess

    from kubectl_netsso.auth.settings import ProviderSettings
    from kubectl_netsso.cli.setup import display_command, set_credentials_command

    secret = "s3cret-value-0123456789"
    settings = ProviderSettings.from_values(
        {"issuer_url": "https://idp.example.test", "client_id": "netsso", "client_secret": secret}, env={}
    )
    text = display_command(set_credentials_command(settings, "netsso"))
    assert secret not in text
    assert '"--exec-env=NETSSO_OIDC_CLIENT_SECRET=${NETSSO_OIDC_CLIENT_SECRET}"' in text
    assert "--oidc-client-secret" not in text  # issue 9 item 11: not an argument of get-token (readable in /proc)
    # The printed text is valid shell that hands kubectl the secret from the environment.
    echoed = subprocess.run(["bash", "-c", "printf '%s\\n' " + text.replace("\\\n", " ")], capture_output=True, text=True,
                            env={"NETSSO_OIDC_CLIENT_SECRET": secret, "PATH": "/usr/bin:/bin"}, check=True).stdout
    assert f"--exec-env=NETSSO_OIDC_CLIENT_SECRET={secret}" in echoed.splitlines()
