"""Issue 9 item 11 with the real kubectl: `setup --write-kubeconfig` for a confidential client writes the secret into
the exec stanza's env:, so kubectl starts get-token with the secret in its environment and not in its argv (which any
local user can read in /proc/PID/cmdline); the printed `kubectl config set-credentials` command does the same."""

from __future__ import annotations

import os
import subprocess

import yaml
from harness.apiserver import FakeAPIServer
from harness.netsso import browser_args

PODS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"containers": []}},
]


def _args(provider) -> list[str]:
    return [f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.confidential_client_id}",
            f"--certificate-authority={provider.ca_path}", "--oidc-extra-scope=groups"]


def test_kubectl_runs_get_token_with_the_secret_in_env_not_argv(provider, pki, home, browser_command, run_netsso,
                                                                run_kubectl, recorder, tmp_path):
    secret = provider.confidential_client_secret
    recorder.tokens.add(secret)
    env = {"NETSSO_OIDC_CLIENT_SECRET": secret}
    r = run_netsso("setup", *_args(provider), *browser_args(browser_command), "--write-kubeconfig", "--user", "sso",
                   env=env, timeout=90)
    assert r.returncode == 0, r.stderr
    cfg = yaml.safe_load(home.kubeconfig.read_text())
    exec_ = cfg["users"][0]["user"]["exec"]
    assert exec_["env"] == [{"name": "NETSSO_OIDC_CLIENT_SECRET", "value": secret}]
    assert not [a for a in exec_["args"] if secret in a]
    # record what kubectl really starts: argv and the secret's presence in the environment
    seen = tmp_path / "plugin-runs"
    wrapper = tmp_path / "kubectl-netsso-recorded"
    wrapper.write_text(f'#!/bin/sh\nprintf "argv: %s\\n" "$*" >> "{seen}"\n'
                       f'[ -n "$NETSSO_OIDC_CLIENT_SECRET" ] && echo "env: secret present" >> "{seen}"\n'
                       f'exec "{exec_["command"]}" "$@"\n')
    wrapper.chmod(0o755)
    exec_["command"] = str(wrapper)
    with FakeAPIServer(provider.issuer, pki.ca_cert, provider.confidential_client_id,
                       tls=(pki.leaf_cert, pki.leaf_key), objects=PODS) as api:
        cfg["clusters"] = [{"name": "prod", "cluster": {"server": api.url, "certificate-authority": str(pki.ca_cert)}}]
        cfg["contexts"] = [{"name": "prod", "context": {"cluster": "prod", "user": "sso", "namespace": "shop"}}]
        cfg["current-context"] = "prod"
        home.kubeconfig.write_text(yaml.safe_dump(cfg))
        got = run_kubectl("get", "pods", "-o", "name")
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["pod/web-1"]
    runs = seen.read_text()
    assert "argv: get-token" in runs and "env: secret present" in runs
    assert secret not in runs  # not in any argv kubectl used
    assert len(browser_command.invocations()) == 1  # served from setup's login: same settings, same cache entry


def test_printed_set_credentials_command_uses_exec_env(provider, home, browser_command, run_netsso, recorder):
    secret = provider.confidential_client_secret
    recorder.tokens.add(secret)
    r = run_netsso("setup", *_args(provider), *browser_args(browser_command), env={"NETSSO_OIDC_CLIENT_SECRET": secret},
                   timeout=90)
    assert r.returncode == 0, r.stderr
    command = r.stdout.split("## 1.", 1)[1].split("\n", 1)[1].split("\n\n", 1)[0]
    command = "\n".join(line for line in command.splitlines() if not line.startswith("#"))
    assert secret not in command and "--exec-env=NETSSO_OIDC_CLIENT_SECRET=${NETSSO_OIDC_CLIENT_SECRET}" in command
    kubeconfig = home.path / "pasted-config"
    done = subprocess.run(["bash", "-c", command], env={**home.env, "KUBECONFIG": str(kubeconfig),
                                                        "NETSSO_OIDC_CLIENT_SECRET": secret},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    exec_ = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["exec"]
    assert exec_["env"] == [{"name": "NETSSO_OIDC_CLIENT_SECRET", "value": secret}]
    assert not [a for a in exec_["args"] if secret in a]
    assert oct(os.stat(kubeconfig).st_mode & 0o077) == "0o0"
