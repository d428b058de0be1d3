"""The root command through the installed executable: help, version, usage errors, completion, no tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

EXE = shutil.which("kubectl-netsso")
COMPLETE = shutil.which("kubectl_complete-netsso")
pytestmark = pytest.mark.skipif(EXE is None, reason="kubectl-netsso is not installed (pip install -e .)")


def run(*args: str, exe: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([exe or EXE or "", *args], capture_output=True, text=True, env=env, timeout=60)


def test_help_lists_every_command() -> None:
    from kubectl_netsso.cli.main import LAZY_COMMANDS

    result = run("--help")
    assert result.returncode == 0
    for name in LAZY_COMMANDS:
        assert f"  {name}" in result.stdout, f"{name} missing from --help"


def test_version() -> None:
    from kubectl_netsso import __version__

    result = run("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "No such command" in result.stderr


def test_completion_lists_subcommands() -> None:
    assert COMPLETE
    result = run("can", exe=COMPLETE)
    lines = result.stdout.splitlines()
    assert "can-i" in lines and "can-reach" in lines
    assert lines[-1] == ":4"


def test_completion_of_output_choices() -> None:
    assert COMPLETE
    result = run("paths", "-o", "", exe=COMPLETE)
    lines = result.stdout.splitlines()
    assert "json" in lines and "yaml" in lines


def test_output_cut_short_by_a_closed_pipe_is_quiet_and_not_exit_1(tmp_path: Path) -> None:
    # `... | head -c 10`: click turns EPIPE into exit 1, which here would read as "denied / findings"
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gencluster import generate

    generate(str(tmp_path), namespaces=3, pods=60, policies=6, replicas=1, seed=3)  # ~0.5 MB: more than a pipe holds
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen(
        [EXE or "", "paths", "-A", "--manifests", str(tmp_path), "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b'{"paths": '
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == "", err


@pytest.mark.parametrize(
    "command",
    ["whoami", "can-i", "permissions", "can-reach", "paths", "reach", "audit", "report", "policy default-deny", "policy allow"],
)
def test_help_shows_an_example(command: str) -> None:
    result = run(*command.split(), "-h")
    assert result.returncode == 0
    assert "Example" in result.stdout and "kubectl netsso " + command.split()[0] in result.stdout.split("Example", 1)[1]
