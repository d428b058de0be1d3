"""Under a terminal (interactiveMode IfAvailable -> spec.interactive true) kubectl lets the plugin run the device-code
flow: the user code reaches the user's terminal, the user confirms it in a browser, the command then succeeds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pytest
from harness.kubeconfig import write_kubeconfig
from harness.netsso import CountingPlugin


def test_device_code_under_a_tty_through_kubectl(provider, apiserver, home, browser, tmp_path, recorder):
    if shutil.which("script") is None:
        pytest.skip("util-linux `script` is needed to give kubectl a terminal")
    apiserver.set_objects([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
                            "spec": {"containers": []}}])
    provider.set_device(interval=1)
    counted = CountingPlugin(tmp_path / "plugin", shutil.which("kubectl-netsso", path=home.env["PATH"]))
    write_kubeconfig(home.kubeconfig, server=apiserver.url, ca_path=apiserver.ca_path, issuer=provider.issuer,
                     provider_ca=provider.ca_path, extra_args=["--grant-type=device-code", "--skip-open-browser"],
                     command=str(counted.path), namespace="shop")
    # `script` runs kubectl on a pseudo-terminal; -f flushes, -e returns kubectl's exit code
    proc = subprocess.Popen(["script", "-qfec", "kubectl get pods -o name", os.devnull], env=home.env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    uri = None
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and uri is None:
            chunk = proc.stdout.read() or b""
            seen += chunk
            text = seen.decode(errors="replace")
            code = re.search(r"\b([A-Z]{4}-[A-Z]{4})\b", text)
            link = re.search(r"(https://127\.0\.0\.1:\d+/device)", text)
            if code and link:
                uri = f"{link.group(1)}?user_code={code.group(1)}"
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        assert uri, seen.decode(errors="replace")
        assert "Sign-in Success" in browser.confirm_device(uri, login="carol+sre")
        while proc.poll() is None and time.monotonic() < deadline + 30:
            seen += proc.stdout.read() or b""
            time.sleep(0.1)
        seen += proc.stdout.read() or b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = seen.decode(errors="replace")
    recorder.record("kubectl get pods (tty, device code)", text, "")
    assert proc.returncode == 0, text
    assert "pod/web-1" in text
    runs = counted.runs()
    assert runs and runs[0]["spec"]["interactive"] is True
    assert {q.user for q in apiserver.requests if q.user} == {f"{provider.issuer}#carol+sre"}
