"""An error keeps its cause: one `error:` line by default, and at -vvv what it came from (redacted, never a secret)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-static-token-0123456789"


def netsso(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kubectl-netsso")
    argv = [exe] if exe else [sys.executable, "-m", "kubectl_netsso"]
    env = dict(os.environ, NO_COLOR="1", KUBECONFIG=str(kubeconfig or REPO / "tests" / "no-such-kubeconfig"))
    return subprocess.run([*argv, *args], capture_output=True, text=True, env=env, timeout=60)


def test_a_manifest_error_shows_its_cause_only_at_vvv(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    data = "apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\u00e9}\n".encode("latin-1")
    bad.write_bytes(data)
    at = data.index(0xE9)
    quiet = netsso("paths", "-A", "--manifests", str(bad))
    assert quiet.returncode == 3
    assert quiet.stderr.splitlines() == [f"error: {bad}: not UTF-8 text (byte 0xe9 at offset {at})"]
    loud = netsso("-vvv", "paths", "-A", "--manifests", str(bad))
    assert loud.returncode == 3
    assert f"error: {bad}: not UTF-8 text (byte 0xe9 at offset {at})" in loud.stderr.splitlines()
    assert "caused by:" in loud.stderr
    assert f"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position {at}" in loud.stderr


def test_an_unreachable_server_shows_the_clients_reason_at_vvv_without_the_token(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}}}]\n"
        f"users: [{{name: u, user: {{token: {SECRET}}}}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u, namespace: shop}}]\n"
    )
    quiet = netsso("paths", kubeconfig=kubeconfig)
    assert quiet.returncode == 3
    assert quiet.stderr.splitlines()[0] == f"error: https://127.0.0.1:{port}: API server unreachable: connection refused"
    assert "caused by" not in quiet.stderr
    loud = netsso("-vvv", "paths", kubeconfig=kubeconfig)
    assert loud.returncode == 3
    assert "caused by:" in loud.stderr
    assert "Connection refused" in loud.stderr.split("caused by:", 1)[1]
    assert SECRET not in loud.stderr and SECRET not in loud.stdout
