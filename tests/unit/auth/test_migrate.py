"""Issue 16 item 2: the kubelogin migration's plan and its careful write (backup, atomic, mode kept, no symlink
followed for the new files)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from kubectl_netsso.auth.migrate import plan_file, write_with_backup
from kubectl_netsso.errors import NetssoError

ISS = "https://sso.example.com"


def _config(args: list[str]) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "users": [
        {"name": "k", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubectl",
                                        "args": ["oidc-login", "get-token", *args]}}},
        {"name": "static", "user": {"token": "abc"}}]})


def test_plan_moves_the_secret_out_of_argv_and_out_of_the_diff(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(_config([f"--oidc-issuer-url={ISS}", "--oidc-client-id=kube", "--oidc-client-secret=Sup3r-secret"]))
    plan = plan_file(str(path), "/opt/bin/kubectl-netsso")
    assert [u.name for u in plan.users] == ["k"] and plan.new_text is not None
    new = yaml.safe_load(plan.new_text)
    exec_ = new["users"][0]["user"]["exec"]
    assert exec_["command"] == "/opt/bin/kubectl-netsso"
    assert exec_["args"] == ["get-token", f"--oidc-issuer-url={ISS}", "--oidc-client-id=kube"]
    assert exec_["env"] == [{"name": "NETSSO_OIDC_CLIENT_SECRET", "value": "Sup3r-secret"}]
    assert new["users"][1] == {"name": "static", "user": {"token": "abc"}}
    assert "Sup3r-secret" not in plan.diff and "[redacted]" in plan.diff


def test_shell_environment_never_ends_up_in_the_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(_config([f"--oidc-issuer-url={ISS}", "--oidc-client-id=kube"]))
    plan = plan_file(str(path), "kubectl-netsso", env={"HOME": str(tmp_path), "NETSSO_OIDC_CLIENT_SECRET": "mine",
                                                        "NETSSO_OIDC_EXTRA_SCOPE": "admin"})
    assert plan.new_text is not None and "mine" not in plan.new_text and "admin" not in plan.new_text


def test_write_keeps_the_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "kubeconfig"
    real.parent.mkdir()
    real.write_text("old: 1\n")
    real.chmod(0o640)
    link = tmp_path / "config"
    link.symlink_to(real)
    backup = write_with_backup(str(link), "new: 2\n", now=0)
    assert link.is_symlink() and real.read_text() == "new: 2\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert Path(backup).read_text() == "old: 1\n" and stat.S_IMODE(os.stat(backup).st_mode) == 0o640
    assert backup == f"{real}.netsso-backup-19700101-000000"


def test_a_planted_symlink_at_the_backup_path_is_not_written_through(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("old: 1\n")
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    (tmp_path / "config.netsso-backup-19700101-000000").symlink_to(victim)
    with pytest.raises(NetssoError, match="cannot create"):
        write_with_backup(str(path), "new: 2\n", now=0)
    assert victim.read_text() == "keep me\n" and path.read_text() == "old: 1\n"


def test_the_diff_shows_no_neighbours_credentials(tmp_path: Path) -> None:
    """A diff's context lines may come from other users: their static tokens, keys and kubelogin secrets."""
    doc = {"apiVersion": "v1", "kind": "Config", "users": [
        {"name": "a-static", "user": {"token": "static-bearer-value", "client-key-data": "S0VZREFUQQ=="}},
        {"name": "b-ropc", "user": {"exec": {"command": "kubectl", "args": [
            "oidc-login", "get-token", f"--oidc-issuer-url={ISS}", "--oidc-client-id=x", "--password=hunter2-pass",
            "--oidc-client-secret", "other-secret-1"]}}},
        {"name": "c", "user": {"exec": {"command": "kubectl", "args": [
            "oidc-login", "get-token", f"--oidc-issuer-url={ISS}", "--oidc-client-id=kube"]}}},
        {"name": "d-static", "user": {"password": "pw-value-9"}}]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    plan = plan_file(str(path), "kubectl-netsso")
    assert plan.diff and [u.name for u in plan.users if u.new_exec] == ["c"]
    for value in ("static-bearer-value", "S0VZREFUQQ==", "hunter2-pass", "other-secret-1", "pw-value-9"):
        assert value not in plan.diff, value
