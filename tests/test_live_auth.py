"""cluster/live.py authentication against the API double trusting the real test OpenID Provider (node oidc-provider).

- kubeconfig user = this plugin (exec kubectl-netsso get-token ...): the token comes in-process from the plugin's
  own cache (the exec command is a path that does not exist, so a second process could not have served it);
- impersonation: --as / repeated --as-group reach the server as Impersonate-User / one Impersonate-Group each;
- other users: a static token, and a foreign exec plugin run by the kubernetes client.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))

from harness.apiserver import FakeAPIServer  # noqa: E402
from harness.ca import TestPKI as PKI  # noqa: E402
from harness.ca import make_pki  # noqa: E402
from harness.provider import OIDCProvider, ProviderStartError  # noqa: E402
from harness.require import unavailable  # noqa: E402

from kubectl_netsso.auth.cache import open_cache  # noqa: E402
from kubectl_netsso.auth.settings import ProviderSettings  # noqa: E402
from kubectl_netsso.auth.tokens import TokenSet  # noqa: E402
from kubectl_netsso.cli.options import KubeOptions  # noqa: E402
from kubectl_netsso.cluster import live  # noqa: E402
from kubectl_netsso.cluster.kubeconfig import resolve_context  # noqa: E402
from kubectl_netsso.errors import NetssoError  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def provider(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OIDCProvider]:
    try:
        op = OIDCProvider(pki, tmp_path_factory.mktemp("oidc")).start()
    except ProviderStartError as exc:
        unavailable(f"OpenID Provider unavailable: {exc}")
    yield op
    op.stop()


@pytest.fixture(scope="module")
def apiserver(provider: OIDCProvider, pki: PKI) -> Iterator[FakeAPIServer]:
    api = FakeAPIServer(provider.issuer, provider.ca_path, tls=(pki.leaf_cert, pki.leaf_key))
    api.set_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}])
    api.start()
    yield api
    api.stop()


def _write(tmp_path: Path, apiserver: FakeAPIServer, pki: PKI, user: dict[str, Any]) -> str:
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {"server": apiserver.url, "certificate-authority": str(pki.ca_cert)}}],
        "users": [{"name": "sso", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "sso", "namespace": "shop"}}],
        "current-context": "test",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _kube(path: str, as_user: str | None = None, as_groups: tuple[str, ...] = ()) -> KubeOptions:
    return KubeOptions(kubeconfig=path, context=None, namespace=None, all_namespaces=False, as_user=as_user, as_groups=as_groups)


@pytest.fixture
def netsso_kubeconfig(tmp_path: Path, apiserver: FakeAPIServer, provider: OIDCProvider, pki: PKI) -> tuple[str, str]:
    """A kubeconfig whose user is this plugin, and a valid ID token placed in the plugin's cache for it."""
    cache_dir = tmp_path / "cache"
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            # a path that does not exist: if anything tried to run the plugin as a process, it would fail
            "command": str(tmp_path / "nowhere" / "kubectl-netsso"),
            "args": [
                "get-token",
                f"--oidc-issuer-url={provider.issuer}",
                "--oidc-client-id=netsso",
                f"--certificate-authority={provider.ca_path}",
                f"--token-cache-dir={cache_dir}",
            ],
            "interactiveMode": "IfAvailable",
        }
    }
    path = _write(tmp_path, apiserver, pki, user)
    ctx = resolve_context(path)
    assert ctx.user_is_netsso
    assert ctx.exec is not None
    settings = ProviderSettings.from_exec_args(list(ctx.exec.netsso_args), ctx.exec.process_env())
    token = provider.mint_id_token("alice", groups=("dev", "ops"))
    open_cache(settings).save(TokenSet(id_token=token, refresh_token=None, issuer=provider.issuer))
    return path, token


def test_netsso_user_token_comes_in_process(
    netsso_kubeconfig: tuple[str, str], apiserver: FakeAPIServer, provider: OIDCProvider
) -> None:
    path, token = netsso_kubeconfig
    info = live.LiveClient(_kube(path), interactive=False).self_subject_review()
    assert info["username"] == f"{provider.issuer}#alice"
    assert info["groups"] == ["dev", "ops", "system:authenticated"]
    assert token in apiserver.tokens_seen


def test_impersonation_headers(netsso_kubeconfig: tuple[str, str], apiserver: FakeAPIServer, provider: OIDCProvider) -> None:
    path, _ = netsso_kubeconfig
    apiserver.clear_log()
    client = live.LiveClient(_kube(path, as_user="bob", as_groups=("g1", "g2")), interactive=False)
    info = client.self_subject_review()
    assert info["username"] == "bob"
    assert info["groups"] == ["g1", "g2", "system:authenticated"]  # two separate Impersonate-Group headers
    assert apiserver.requests[-1].impersonated_by == f"{provider.issuer}#alice"
    snap = live.load_snapshot(_kube(path, as_user="bob"), None, parts={"network"})
    assert [n.name for n in snap.namespaces] == ["shop"]


def test_netsso_user_without_cached_token_needs_login(
    tmp_path: Path, apiserver: FakeAPIServer, provider: OIDCProvider, pki: PKI
) -> None:
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "kubectl-netsso",
            "args": [
                "get-token",
                f"--oidc-issuer-url={provider.issuer}",
                "--oidc-client-id=netsso",
                f"--certificate-authority={provider.ca_path}",
                f"--token-cache-dir={tmp_path / 'empty-cache'}",
                "--grant-type=device-code",
            ],
        }
    }
    path = _write(tmp_path, apiserver, pki, user)
    with pytest.raises(NetssoError) as err:
        live.LiveClient(_kube(path), interactive=False).self_subject_review()
    assert "login" in err.value.message


def test_static_token_user(tmp_path: Path, apiserver: FakeAPIServer, provider: OIDCProvider, pki: PKI) -> None:
    token = provider.mint_id_token("carol", groups=("qa",))
    path = _write(tmp_path, apiserver, pki, {"token": token})
    info = live.LiveClient(_kube(path)).self_subject_review()
    assert info["username"] == f"{provider.issuer}#carol" and info["groups"] == ["qa", "system:authenticated"]


def test_foreign_exec_plugin_is_run_by_the_client(
    tmp_path: Path, apiserver: FakeAPIServer, provider: OIDCProvider, pki: PKI
) -> None:
    token = provider.mint_id_token("dave", groups=())
    script = tmp_path / "other-plugin"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"},
    }
    script.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(credential))})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script), "interactiveMode": "Never"}}
    path = _write(tmp_path, apiserver, pki, user)
    assert not resolve_context(path).user_is_netsso
    info = live.LiveClient(_kube(path)).self_subject_review()
    assert info["username"] == f"{provider.issuer}#dave"


def test_expired_token_is_401(tmp_path: Path, apiserver: FakeAPIServer, provider: OIDCProvider, pki: PKI) -> None:
    token = provider.forged_tokens("erin")["expired"]
    path = _write(tmp_path, apiserver, pki, {"token": token})
    with pytest.raises(NetssoError) as err:
        live.load_snapshot(_kube(path), None)
    assert "401 Unauthorized" in err.value.message
    assert token not in str(err.value) and token[:20] not in (err.value.hint or "")
    assert os.environ.get("KUBERNETES_EXEC_INFO") is None
