"""ExecCredential in/out and the stdlib-only get-token fast path (subprocess: what it imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.executable import exe as _script
from helpers.executable import isolated_env
from helpers.fake_op import fake_jwt

from kubectl_netsso.auth import execcred
from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet

V1 = "client.authentication.k8s.io/v1"
V1B1 = "client.authentication.k8s.io/v1beta1"
HEAVY = ("click", "authlib", "requests", "joserfc", "keyring", "kubernetes", "tabulate", "yaml", "urllib3", "cryptography")


def test_exec_info_absent_means_v1beta1() -> None:
    info = execcred.parse_exec_info(None)
    assert (info.api_version, info.interactive, info.present) == (V1B1, None, False)


@pytest.mark.parametrize("api", [V1, V1B1])
def test_exec_info_api_version_and_interactive(api: str) -> None:
    raw = json.dumps({"kind": "ExecCredential", "apiVersion": api,
                      "spec": {"interactive": True, "cluster": {"server": "https://127.0.0.1:6443"}}})
    info = execcred.parse_exec_info(raw)
    assert info.api_version == api and info.interactive is True and info.cluster == {"server": "https://127.0.0.1:6443"}
    assert execcred.is_interactive(info)


@pytest.mark.parametrize(("raw", "message"), [
    ("{nope", "not valid JSON"),
    ("[1]", "not a JSON object"),
    ('{"apiVersion": "client.authentication.k8s.io/v1alpha1", "kind": "ExecCredential"}', "unsupported apiVersion"),
    ('{"apiVersion": "client.authentication.k8s.io/v1", "kind": "Pod"}', "kind 'Pod'"),
    ('{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "spec": {"interactive": "yes"}}', "boolean"),
])
def test_malformed_exec_info(raw: str, message: str) -> None:
    with pytest.raises(execcred.ExecInfoError, match=message):
        execcred.parse_exec_info(raw)


def test_exec_info_present_without_interactive_is_not_interactive() -> None:
    info = execcred.parse_exec_info(json.dumps({"kind": "ExecCredential", "apiVersion": V1, "spec": {}}))
    assert execcred.is_interactive(info) is False


def test_exec_credential_expiry_minus_margin() -> None:
    out = json.loads(execcred.exec_credential("tok", 1_900_000_060, V1, 60))
    assert out == {"apiVersion": V1, "kind": "ExecCredential", "spec": {},
                   "status": {"token": "tok", "expirationTimestamp": "2030-03-17T17:46:40Z"}}


# -- fast path ---------------------------------------------------------------------------------------------------

@pytest.fixture()
def warm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], TokenSet, dict[str, str]]:
    env = {"HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "kc")}
    for k in list(os.environ):
        if k.startswith("NETSSO_") or k == "KUBERNETES_EXEC_INFO":
            monkeypatch.delenv(k)
    monkeypatch.setenv("HOME", env["HOME"])
    monkeypatch.setenv("KUBECACHEDIR", env["KUBECACHEDIR"])
    args = ["--oidc-issuer-url", "https://sso.example.test", "--oidc-client-id", "kube", "--oidc-extra-scope", "groups"]
    now = int(time.time())
    tok = TokenSet(fake_jwt({"sub": "alice", "iat": now, "exp": now + 3600}), "rt-abcdefgh")
    open_cache(ProviderSettings.from_exec_args(args, env)).save(tok)
    return args, tok, env


def test_fast_path_serves_warm_cache(warm: tuple[list[str], TokenSet, dict[str, str]], capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    args, tok, _env = warm
    info = {"kind": "ExecCredential", "apiVersion": V1, "spec": {"interactive": False}}
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", json.dumps(info))
    assert execcred.fast_path(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["apiVersion"] == V1 and out["status"]["token"] == tok.id_token
    exp = tok.expires_at or 0
    assert out["status"]["expirationTimestamp"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(exp - 60)))


@pytest.mark.parametrize("extra", [["--force-refresh"], ["--token-cache-storage", "keyring"], ["--help"], ["--bogus"],
                                   ["--oidc-extra-scope", "email"]])
def test_fast_path_declines(warm: tuple[list[str], TokenSet, dict[str, str]], extra: list[str],
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert execcred.fast_path(warm[0] + extra) is None
    assert capsys.readouterr().out == ""


def test_fast_path_declines_expired_and_malformed_info(warm: tuple[list[str], TokenSet, dict[str, str]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    args, _tok, env = warm
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", "{broken")
    assert execcred.fast_path(args) is None
    monkeypatch.delenv("KUBERNETES_EXEC_INFO")
    now = int(time.time())
    nearly_expired = TokenSet(fake_jwt({"sub": "a", "iat": now - 3000, "exp": now + 30}))
    open_cache(ProviderSettings.from_exec_args(args, env)).save(nearly_expired)
    assert execcred.fast_path(args) is None  # inside the 60 s margin


def test_warm_get_token_subprocess_imports_nothing_heavy(warm: tuple[list[str], TokenSet, dict[str, str]]) -> None:
    args, tok, env = warm
    probe = (
        "import sys, json\n"
        "from kubectl_netsso.__main__ import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
        "sys.stderr.write('MODULES:' + json.dumps(sorted(sys.modules)) + '\\n')\n"
        "sys.exit(rc)\n"
    )
    full_env = isolated_env(Path(env["HOME"]), **env)
    full_env["KUBERNETES_EXEC_INFO"] = json.dumps({"kind": "ExecCredential", "apiVersion": V1, "spec": {"interactive": False}})
    proc = subprocess.run([sys.executable, "-c", probe, "get-token", *args], env=full_env, capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"]["token"] == tok.id_token
    modules = json.loads(proc.stderr.split("MODULES:", 1)[1])
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert loaded == [], f"the fast path imported {loaded}"
    assert "kubectl_netsso.cli" not in modules and "kubectl_netsso.auth.flows" not in modules


def test_installed_entry_point_serves_cache_and_malformed_info_is_one_line(
        warm: tuple[list[str], TokenSet, dict[str, str]]) -> None:
    args, tok, env = warm
    full_env = isolated_env(Path(env["HOME"]), **env)
    ok = subprocess.run([_script(), "get-token", *args], env=full_env, capture_output=True, text=True, timeout=30,
                        stdin=subprocess.DEVNULL)
    assert ok.returncode == 0 and ok.stderr == ""
    assert json.loads(ok.stdout)["apiVersion"] == V1B1  # no exec info -> v1beta1
    bad = subprocess.run([_script(), "get-token", *args], env={**full_env, "KUBERNETES_EXEC_INFO": "{oops"},
                         capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert bad.returncode == 3 and bad.stdout == ""
    lines = bad.stderr.strip().splitlines()
    assert lines[0].startswith("error: KUBERNETES_EXEC_INFO is not valid JSON") and len(lines) <= 2
    assert "Traceback" not in bad.stderr and tok.id_token not in bad.stderr
