"""The shipped example clusters: example:NAME paths, `kubectl netsso examples DIR`, and -h examples that run anywhere."""

from __future__ import annotations

import filecmp
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from helpers import REPO as ROOT
from helpers.executable import isolated_env

from kubectl_netsso.cli.main import LAZY_COMMANDS, cli

EXE = shutil.which("kubectl-netsso")
pytestmark = pytest.mark.skipif(EXE is None, reason="kubectl-netsso is not installed (pip install -e .)")


def run(*args: str, cwd: Path, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The editable install's executable, or with ``site`` the one a plain `pip install .` put there."""
    # a HOME of its own: no kubeconfig, no cached login, nothing of this checkout on the way
    env = isolated_env(cwd / ".home")
    exe = EXE or ""
    if site is not None:
        exe = str(site / "bin" / "kubectl-netsso")
        env["PYTHONPATH"] = str(site)  # found before the editable install's finder, which comes last on sys.meta_path
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def one_line_error(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert lines and lines[0].startswith("error: ") and all(ln.startswith(("error: ", "hint: ")) for ln in lines), r.stderr
    return lines[0]


def test_the_package_examples_are_the_repo_folder() -> None:
    # one copy: the package's entry points at examples/, so the two cannot drift
    from kubectl_netsso.cluster.examples import ROOT as PACKAGE_EXAMPLES

    assert PACKAGE_EXAMPLES.resolve() == (ROOT / "examples").resolve()


def test_examples_writes_every_file_unchanged(tmp_path: Path) -> None:
    r = run("examples", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "wrote out/calico-shop/ (5 files)", "wrote out/cilium-starwars/ (3 files)", "wrote out/shop/ (17 files)",
        "wrote out/shop-expect.yaml", "wrote out/README.md",
    ]  # fmt: skip
    cmp = filecmp.dircmp(ROOT / "examples", tmp_path / "out")
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files
    repo_files = sorted(p.relative_to(ROOT / "examples") for p in (ROOT / "examples").rglob("*") if p.is_file())
    out_files = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert repo_files == out_files
    for rel in repo_files:
        assert (ROOT / "examples" / rel).read_bytes() == (tmp_path / "out" / rel).read_bytes()


def test_examples_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "examples" / "shop").mkdir(parents=True)
    (tmp_path / "examples" / "shop" / "mine.yaml").write_text("keep: me\n")
    r = run("examples", cwd=tmp_path)
    assert r.returncode == 3 and one_line_error(r) == "error: examples/shop already exists"
    assert (tmp_path / "examples" / "shop" / "mine.yaml").read_text() == "keep: me\n"
    assert not (tmp_path / "examples" / "README.md").exists()


def test_example_paths_work_from_any_folder(tmp_path: Path) -> None:
    r = run("paths", "-A", "--port", "443", "--manifests", "example:shop", "-o", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert '"from":"shop/deployment/api","to":"payments/deployment/payments","port":443' in r.stdout.replace(" ", "")
    sub = run("paths", "-A", "--manifests", "example:shop/db", "--port", "5432", cwd=tmp_path)
    assert sub.returncode == 0 and "db/statefulset/postgres" in sub.stdout


@pytest.mark.parametrize("name", ["nope", "../../etc", "shop/../../..", "", "/etc", "shop/none.yaml"])
def test_unknown_or_escaping_example_names_are_one_line_errors(tmp_path: Path, name: str) -> None:
    r = run("paths", "-A", "--manifests", "example:" + name, cwd=tmp_path)
    assert r.returncode == 3
    line = one_line_error(r)
    assert "example" in line and "/etc/" not in r.stdout


def help_examples(command: str, cwd: Path, site: Path) -> list[list[str]]:
    """The commands in the Example(s) section of `command -h`, continuation lines joined, pipes cut off."""
    text = run(*command.split(), "-h", cwd=cwd, site=site).stdout
    assert "Example" in text, f"{command} -h has no example"
    lines = text.split("Example", 1)[1].splitlines()[1:]
    commands, current = [], ""
    for line in lines:
        if not line.strip():
            break
        current = (current + " " + line.strip()) if current else line.strip()
        if current.endswith("\\"):
            current = current[:-1].strip()
            continue
        commands.append(shlex.split(current.split(" | ")[0]))
        current = ""
    return commands


def _commands() -> list[str]:
    """Every command and subcommand that has its own -h, as typed after `kubectl netsso`."""
    found = []
    for name in sorted(LAZY_COMMANDS):
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, name
        found.append(name)
        if isinstance(command, click.Group):
            found += [f"{name} {sub}" for sub in sorted(command.commands)]
    return found


AUTH = {"login", "get-token", "setup", "logout"}  # their examples need a provider
COMMANDS = [c for c in _commands() if c not in AUTH]
# examples that need a cluster or a login: they must still fail cleanly without one
LIVE = {("whoami",), ("whoami", "--local", "-o", "json"), ("can-i", "create", "pods", "--subresource", "exec", "-n", "payments"),
        ("can-i", "get", "/healthz"), ("can-i", "--list", "-n", "shop")}


def test_the_plain_install_is_not_the_checkout(installed_site: Path, tmp_path: Path) -> None:
    r = run("examples", "out", cwd=tmp_path, site=installed_site)
    assert r.returncode == 0, r.stderr
    code = "import kubectl_netsso.cluster.examples as e; print(e.__file__); print(e.ROOT.resolve())"
    where = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(installed_site)),
                           cwd=tmp_path, capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert len(where) == 2 and all(Path(p).is_relative_to(installed_site) for p in where), where
    assert not (installed_site / "kubectl_netsso" / "examples").is_symlink()  # setuptools copied the files in


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_example_runs_after_a_plain_pip_install(installed_site: Path, tmp_path: Path, command: str) -> None:
    examples = help_examples(command, tmp_path, installed_site)
    assert examples
    for argv in examples:
        assert argv[:2] == ["kubectl", "netsso"], argv
        args = argv[2:]
        r = run(*args, cwd=tmp_path, site=installed_site)
        assert "Traceback" not in r.stderr, (args, r.stderr)
        if tuple(args) in LIVE:
            assert r.returncode == 3 and one_line_error(r), (args, r.stderr)
            continue
        assert r.returncode in (0, 1) and "error:" not in r.stderr, (args, r.returncode, r.stderr)
        assert r.stdout.strip() or r.stderr.startswith("wrote "), args
