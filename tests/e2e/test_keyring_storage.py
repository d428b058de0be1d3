"""`--token-cache-storage keyring` against a real Secret Service (gnome-keyring on a private D-Bus session)."""

from __future__ import annotations

import subprocess

from harness.netsso import browser_args, credential, exec_info, provider_args


def test_keyring_login_get_token_logout(provider, home, secret_service, browser_command, run_netsso):
    args = provider_args(provider, "--token-cache-storage=keyring")
    r = run_netsso("login", *args, *browser_args(browser_command), timeout=90)
    assert r.returncode == 0, r.stderr
    # the tokens are in the Secret Service, not in a file
    items = subprocess.run(["secret-tool", "search", "--all", "service", "kubectl-netsso"], env=home.env,
                           capture_output=True, text=True, timeout=10)
    assert items.returncode == 0 and "kubectl-netsso" in (items.stdout + items.stderr), items
    data_files = [p for p in home.cache_dir.glob("*.json") if p.name != "keyring-index.json"] if home.cache_dir.exists() else []
    assert data_files == []
    # a cached get-token from the keyring: nothing at the provider, no browser
    grants = provider.stats()["grants"]
    r = run_netsso("get-token", *args, env={"KUBERNETES_EXEC_INFO": exec_info(False)})
    assert r.returncode == 0, r.stderr
    assert credential(r.stdout)["status"]["token"].count(".") == 2
    assert provider.stats()["grants"] == grants and len(browser_command.invocations()) == 1
    # logout removes the item and revokes the refresh token at the provider
    r = run_netsso("logout", *args)
    assert r.returncode == 0, r.stderr
    after = subprocess.run(["secret-tool", "search", "--all", "service", "kubectl-netsso"], env=home.env,
                           capture_output=True, text=True, timeout=10)
    assert "secret =" not in after.stdout
    assert provider.stats()["revocations"] == 1


def test_keyring_without_backend_fails_with_a_hint(provider, home, run_netsso):
    args = provider_args(provider, "--token-cache-storage=keyring")
    r = run_netsso("get-token", *args, env={"KUBERNETES_EXEC_INFO": exec_info(False),
                                            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode == 3 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("error:") and "keyring" in lines[0].lower(), r.stderr
    assert any(line.startswith("hint:") for line in lines), r.stderr
    assert "Traceback" not in r.stderr
