"""Forged ID tokens are rejected by the plugin's verifier (against the real provider's JWKS) and by the API double
(kube-apiserver's OIDC rules): alg none, another key, HS256 keyed with the public key, wrong iss/aud, expired."""

from __future__ import annotations

import pytest
import requests

FORGERIES = ["alg_none", "wrong_key", "wrong_iss", "wrong_aud", "expired", "hs256_pubkey"]


@pytest.fixture
def forged(provider):
    return provider.forged_tokens("mallory")


@pytest.fixture
def metadata(provider, home):
    from kubectl_netsso.auth.discovery import discover
    from kubectl_netsso.auth.settings import ProviderSettings

    settings = ProviderSettings.from_exec_args(
        [f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.client_id}",
         f"--certificate-authority={provider.ca_path}"], home.env)
    return discover(settings, use_cache=False)


def test_genuine_token_passes_both_verifiers(provider, apiserver, metadata):
    from kubectl_netsso.auth.verify import verify_id_token

    token = provider.mint_id_token("alice", claims={"nonce": "n-1"})
    assert verify_id_token(token, metadata, provider.client_id, nonce="n-1")["sub"] == "alice"
    assert apiserver.authenticate(token).username == f"{provider.issuer}#alice"


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_token_rejected_by_the_plugin_verifier(provider, metadata, forged, name):
    from kubectl_netsso.auth.verify import IdTokenError, verify_id_token
    from kubectl_netsso.errors import NetssoError

    with pytest.raises(NetssoError) as err:
        verify_id_token(forged[name], metadata, provider.client_id)
    assert isinstance(err.value, IdTokenError) or "ID token" in str(err.value)
    assert forged[name] not in str(err.value)  # never echo the token


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_token_rejected_by_the_api_double(apiserver, forged, name):
    r = requests.get(apiserver.url + "/api/v1/namespaces", headers={"Authorization": f"Bearer {forged[name]}"},
                     verify=str(apiserver.ca_path), timeout=10)
    assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"


def test_wrong_nonce_rejected(provider, metadata):
    from kubectl_netsso.auth.verify import verify_id_token
    from kubectl_netsso.errors import NetssoError

    token = provider.mint_id_token("alice", claims={"nonce": "other"})
    with pytest.raises(NetssoError):
        verify_id_token(token, metadata, provider.client_id, nonce="expected")
