"""Issue 16 item 2: `setup --from-kubelogin` rewrites kubeconfig users that run int128/kubelogin (in the forms its
README documents) to run this plugin; then the real kubectl logs in through the real browser and lists pods at the
API double. Also item 1 for kubelogin entries: `login` with no flags reads one."""

from __future__ import annotations

import os
import stat

import pytest
import yaml
from harness.apiserver import FakeAPIServer

pytestmark = pytest.mark.e2e

PODS = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"containers": []}}]


def _kubelogin_config(provider, apiserver, browser_command, extra_users=()) -> dict:
    # kubelogin's README form: command kubectl, args oidc-login get-token, the secret among the arguments
    krew_form = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubectl", "args": [
        "oidc-login", "get-token", f"--oidc-issuer-url={provider.issuer}",
        f"--oidc-client-id={provider.confidential_client_id}", f"--oidc-client-secret={provider.confidential_client_secret}",
        "--oidc-extra-scope=email,groups", f"--certificate-authority={provider.ca_path}", "--token-cache-storage=disk",
        "--grant-type=authcode", "--listen-address=127.0.0.1:0", f"--browser-command={browser_command.path}"]}
    users = [{"name": "oidc", "user": {"exec": krew_form}}, *extra_users]
    return {"apiVersion": "v1", "kind": "Config", "current-context": "prod", "preferences": {},
            "clusters": [{"name": "prod", "cluster": {"server": apiserver.url, "certificate-authority": str(apiserver.ca_path)}}],
            "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "oidc", "namespace": "shop"}}],
            "users": users}


def _write(home, cfg: dict, mode: int = 0o640) -> None:
    home.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    home.kubeconfig.write_text("# managed by hand\n" + yaml.safe_dump(cfg, sort_keys=False))
    home.kubeconfig.chmod(mode)


@pytest.fixture
def confidential_api(provider, pki):
    """An API server whose OIDC audience is the confidential client (what kubelogin's README setup uses)."""
    with FakeAPIServer(provider.issuer, pki.ca_cert, provider.confidential_client_id, tls=(pki.leaf_cert, pki.leaf_key),
                       objects=PODS) as api:
        yield api


def test_migrated_kubeconfig_works_with_kubectl(provider, confidential_api, home, browser_command, run_netsso,
                                                run_kubectl):
    apiserver = confidential_api
    standalone = {"name": "plain", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                  "command": "/usr/local/bin/kubelogin", "args": ["get-token", f"--oidc-issuer-url={provider.issuer}",
                                                                  "--oidc-client-id", provider.client_id]}}}
    _write(home, _kubelogin_config(provider, apiserver, browser_command, [standalone]))
    before = home.kubeconfig.read_text()

    r = run_netsso("setup", "--from-kubelogin", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "-      - oidc-login" in r.stdout and "+      command: " in r.stdout, r.stdout
    assert provider.confidential_client_secret not in r.stdout + r.stderr and "[redacted]" in r.stdout
    assert home.kubeconfig.read_text() == before and not list(home.kubeconfig.parent.glob("config.netsso-backup-*"))

    r = run_netsso("setup", "--from-kubelogin")
    assert r.returncode == 0, r.stderr
    assert provider.confidential_client_secret not in r.stdout + r.stderr
    backups = list(home.kubeconfig.parent.glob("config.netsso-backup-*"))
    assert len(backups) == 1 and backups[0].read_text() == before
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o640
    assert stat.S_IMODE(home.kubeconfig.stat().st_mode) == 0o640  # the mode is kept
    assert "comments in" in r.stderr and "were not kept" in r.stderr
    cfg = yaml.safe_load(home.kubeconfig.read_text())
    users = {u["name"]: u["user"]["exec"] for u in cfg["users"]}
    migrated = users["oidc"]
    assert os.path.basename(migrated["command"]) == "kubectl-netsso" and migrated["args"][0] == "get-token"
    assert migrated["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert not any(provider.confidential_client_secret in a for a in migrated["args"])  # moved out of argv
    assert migrated["env"] == [{"name": "NETSSO_OIDC_CLIENT_SECRET", "value": provider.confidential_client_secret}]
    assert "--oidc-extra-scope=email" in migrated["args"] and "--oidc-extra-scope=groups" in migrated["args"]
    assert os.path.basename(users["plain"]["command"]) == "kubectl-netsso"

    # the real kubectl runs the migrated entry: a new login (nothing of kubelogin's reused), then the API call
    browser_command.set(login="alice+dev")
    r = run_kubectl("get", "pods", "-o", "name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pod/web-1"]
    assert len(browser_command.invocations()) == 1
    assert {q.user for q in apiserver.requests if q.user} == {f"{provider.issuer}#alice+dev"}
    events = [e for e in provider.stats()["events"] if e["grant_type"] == "authorization_code"]
    assert [(e["client_id"], e["client_auth"]) for e in events] == [(provider.confidential_client_id, "client_secret_basic")]

    r = run_netsso("setup", "--from-kubelogin")  # once more: nothing left to do
    assert r.returncode == 0 and r.stdout.startswith("Nothing to migrate"), r.stdout


def test_login_reads_a_kubelogin_entry_without_flags(provider, apiserver, home, browser_command, run_netsso):
    _write(home, _kubelogin_config(provider, apiserver, browser_command), mode=0o600)
    r = run_netsso("-v", "login", timeout=90)
    assert r.returncode == 0, r.stderr
    assert "Logged in" in r.stdout
    assert 'kubelogin\'s --token-cache-dir' not in r.stderr
    assert f"--oidc-client-id={provider.confidential_client_id}  [kubeconfig user \"oidc\" (context \"prod\")]" in r.stderr
    assert provider.confidential_client_secret not in r.stdout + r.stderr


def test_a_user_that_cannot_be_migrated_is_left_as_it_is(provider, apiserver, home, browser_command, run_netsso):
    password = {"name": "ropc", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "kubectl", "args": ["oidc-login", "get-token", f"--oidc-issuer-url={provider.issuer}",
                                               "--oidc-client-id=x", "--username=bob", "--password=hunter2-pass"]}}}
    _write(home, _kubelogin_config(provider, apiserver, browser_command, [password]), mode=0o600)
    r = run_netsso("setup", "--from-kubelogin")
    assert r.returncode == 1
    assert "user 'ropc' not migrated: --username: the password grant is not supported" in r.stderr, r.stderr
    assert r.stderr.rstrip().splitlines()[-1] == "error: 1 kubeconfig user(s) not migrated (see the reasons above)"
    assert "hunter2-pass" not in r.stdout + r.stderr
    users = {u["name"]: u["user"]["exec"] for u in yaml.safe_load(home.kubeconfig.read_text())["users"]}
    assert users["ropc"]["command"] == "kubectl" and os.path.basename(users["oidc"]["command"]) == "kubectl-netsso"


def test_context_limits_the_migration_and_must_exist(provider, apiserver, home, browser_command, run_netsso):
    _write(home, _kubelogin_config(provider, apiserver, browser_command), mode=0o600)
    r = run_netsso("setup", "--from-kubelogin", "--context", "nope")
    assert r.returncode == 2 and r.stderr.startswith('error: context "nope" not found'), r.stderr
    r = run_netsso("setup", "--dry-run")
    assert r.returncode == 2 and r.stderr.startswith("error: --dry-run goes with --from-kubelogin")
