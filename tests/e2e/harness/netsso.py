"""Small helpers for driving the real `kubectl-netsso` in e2e tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from .browser import BrowserCommand
from .provider import OIDCProvider


def provider_args(provider: OIDCProvider, *extra: str, scopes: tuple[str, ...] = ("groups", "email")) -> list[str]:
    """The provider flags every auth command takes, for the test OP."""
    args = [f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.client_id}",
            f"--certificate-authority={provider.ca_path}"]
    args += [f"--oidc-extra-scope={s}" for s in scopes]
    return args + list(extra)


def browser_args(browser_command: BrowserCommand) -> list[str]:
    return ["--grant-type=authcode", "--listen-address=127.0.0.1:0", f"--browser-command={browser_command.path}"]


def exec_info(interactive: bool = False, api_version: str = "client.authentication.k8s.io/v1") -> str:
    """KUBERNETES_EXEC_INFO as kubectl 1.32 sends it (without cluster info)."""
    return json.dumps({"kind": "ExecCredential", "apiVersion": api_version, "spec": {"interactive": interactive}})


def credential(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    assert data["kind"] == "ExecCredential", data
    return dict(data)


def cache_files(cache_dir: Path, suffix: str = ".json") -> list[Path]:
    return sorted(p for p in cache_dir.glob(f"*{suffix}") if not p.name.startswith("keyring-index"))


def read_cache(cache_dir: Path) -> dict[str, Any]:
    files = cache_files(cache_dir)
    assert len(files) == 1, files
    return dict(json.loads(files[0].read_text()))


def jwt_claims(token: str) -> dict[str, Any]:
    import base64

    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


class CountingPlugin:
    """A wrapper executable for a kubeconfig's exec `command` that logs each run (argv + KUBERNETES_EXEC_INFO) and then
    execs the real kubectl-netsso: shows how often kubectl ran the plugin."""

    def __init__(self, directory: Path, exe: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "kubectl-netsso-counted"
        self.log = directory / "plugin-runs.log"
        self.path.write_text(f'#!/bin/sh\nprintf "%s\\n" "${{KUBERNETES_EXEC_INFO:-none}}" >> "{self.log}"\n'
                             f'exec "{exe}" "$@"\n')
        self.path.chmod(0o755)

    def runs(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            if not line.strip():
                continue
            out.append(json.loads(line) if line.startswith("{") else {})
        return out

    def reset(self) -> None:
        if self.log.exists():
            self.log.unlink()


def run_get_token_together(exe: str, args: list[str], env: dict[str, str], n: int, recorder: Any,
                           label: str) -> list[tuple[int, str, str]]:
    """Start n `get-token` processes at once (like n kubectl commands), wait for all; (rc, stdout, stderr) each.

    Every output goes to the recorder, so the suite-wide token leak scan sees it."""
    procs = [subprocess.Popen([exe, "get-token", *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
        results.append((p.returncode, out, err))
        recorder.record(label, out, err, stdout_is_credential=True)
    return results
