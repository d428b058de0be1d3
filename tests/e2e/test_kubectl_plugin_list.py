"""kubectl discovers the installed plugin and hands it its arguments untouched."""

from __future__ import annotations

import shutil


def test_kubectl_plugin_list_finds_netsso(home, run_kubectl):
    r = run_kubectl("plugin", "list")
    assert r.returncode == 0, r.stderr
    found = [line for line in r.stdout.splitlines() if line.rstrip().endswith("/kubectl-netsso")]
    assert found == [shutil.which("kubectl-netsso", path=home.env["PATH"])], r.stdout
    assert "warning" not in r.stderr.lower(), r.stderr


def test_kubectl_runs_the_plugin_with_its_arguments(home, run_kubectl):
    r = run_kubectl("netsso", "--help")
    assert r.returncode == 0, r.stderr
    for command in ("login", "get-token", "setup", "logout"):
        assert command in r.stdout
    bad = run_kubectl("netsso", "get-token", "--no-such-flag")
    assert bad.returncode != 0
    assert "Traceback" not in bad.stderr and "error" in bad.stderr.lower()
