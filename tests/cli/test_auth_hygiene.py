"""Issue 9 item 11: the browser does not inherit NETSSO_* secrets; setup puts a client secret into the exec env:
form (not get-token's argv); --write-kubeconfig writes through a symlinked kubeconfig and says that comments were
not kept. Through the installed executable against FakeOP; the real-kubectl check is in
tests/e2e/test_setup_secret_env.py."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.fake_op import FakeOP, PluginRunner

from kubectl_netsso.auth.settings import ProviderSettings

SECRET = "client-secret-for-hygiene-0123"


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


def test_the_browser_process_gets_no_netsso_variables(op: FakeOP, tmp_path: Path) -> None:
    plugin = PluginRunner(op, tmp_path)
    dump = tmp_path / "browser-env"
    script = f"env > {dump}; exec {sys.executable} {plugin.browse} " + '"$1"'
    command = f"sh -c {shlex.quote(script)} browser"  # the plugin appends the URL: $1
    got = plugin.run("login", env={"NETSSO_OIDC_CLIENT_SECRET": SECRET, "NETSSO_BROWSER_COMMAND": command})
    assert got.returncode == 0, got.stderr
    env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert "HOME" in env  # the dump is real
    assert [k for k in env if k.startswith("NETSSO_")] == []
    assert SECRET not in dump.read_text()


def _setup(plugin: PluginRunner, *extra: str) -> Any:
    return plugin.run("setup", "--write-kubeconfig", *extra, env={"NETSSO_OIDC_CLIENT_SECRET": SECRET})


def test_setup_puts_the_client_secret_in_the_exec_env_not_the_args(op: FakeOP, tmp_path: Path) -> None:
    plugin = PluginRunner(op, tmp_path)
    got = _setup(plugin)
    assert got.returncode == 0, got.stderr
    assert SECRET not in got.stdout and SECRET not in got.stderr
    assert '"--exec-env=NETSSO_OIDC_CLIENT_SECRET=${NETSSO_OIDC_CLIENT_SECRET}"' in got.stdout
    assert "--oidc-client-secret" not in got.stdout
    exec_ = yaml.safe_load((plugin.home / ".kube" / "config").read_text())["users"][0]["user"]["exec"]
    assert not [a for a in exec_["args"] if SECRET in a or a.startswith("--oidc-client-secret")]
    assert exec_["env"] == [{"name": "NETSSO_OIDC_CLIENT_SECRET", "value": SECRET}]
    # what kubectl will run (args + env) is the same provider, hence the same cache entry, as the login setup did
    rebuilt = ProviderSettings.from_exec_args(exec_["args"], {e["name"]: e["value"] for e in exec_["env"]})
    assert rebuilt.cache_key() == ProviderSettings.from_values({}, {**plugin.env, "NETSSO_OIDC_CLIENT_SECRET": SECRET}
                                                               ).cache_key()


def test_setup_creates_the_kube_dir_0700(op: FakeOP, tmp_path: Path) -> None:
    plugin = PluginRunner(op, tmp_path)
    got = _setup(plugin)
    assert got.returncode == 0, got.stderr
    assert oct(os.stat(plugin.home / ".kube").st_mode & 0o777) == "0o700"


def test_write_kubeconfig_through_a_symlink_keeps_it_a_link(op: FakeOP, tmp_path: Path) -> None:
    plugin = PluginRunner(op, tmp_path)
    real = tmp_path / "dotfiles" / "kubeconfig"
    real.parent.mkdir()
    real.write_text("# my clusters, keep this note\napiVersion: v1\nkind: Config\nclusters:\n"
                    "- name: prod\n  cluster: {server: 'https://10.0.0.1:6443'}\ncontexts: []\nusers: []\n")
    link = plugin.home / ".kube" / "config"
    link.parent.mkdir(mode=0o700)
    os.symlink(real, link)
    got = _setup(plugin)
    assert got.returncode == 0, got.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    data = yaml.safe_load(real.read_text())
    assert [c["name"] for c in data["clusters"]] == ["prod"] and [u["name"] for u in data["users"]] == ["netsso"]
    assert f"warning: the comments in {link} were not kept" in got.stderr


def test_write_kubeconfig_without_comments_does_not_warn(op: FakeOP, tmp_path: Path) -> None:
    plugin = PluginRunner(op, tmp_path)
    got = _setup(plugin)
    assert got.returncode == 0 and "comments" not in got.stderr, got.stderr


def test_a_failed_kubeconfig_write_names_the_kubeconfig_not_the_token_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The atomic writer is shared with the token cache; its error used to say "token cache file" and hint at
    --token-cache-dir for a kubeconfig that could not be written. The old file stays as it was."""
    from kubectl_netsso.auth import cache as cache_mod
    from kubectl_netsso.cli.setup import write_kubeconfig_user
    from kubectl_netsso.errors import NetssoError

    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nusers: []\n")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_mod.os, "replace", full_disk)
    settings = ProviderSettings.from_values({"issuer_url": "https://op.example", "client_id": "kubectl"}, {})
    with pytest.raises(NetssoError) as err:
        write_kubeconfig_user(str(kubeconfig), "oidc", settings)
    assert err.value.message == f"cannot write kubeconfig {kubeconfig}: No space left on device"
    assert "token" not in (err.value.hint or "") and "--kubeconfig" in (err.value.hint or "")
    assert kubeconfig.read_text() == "apiVersion: v1\nkind: Config\nusers: []\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config"]
