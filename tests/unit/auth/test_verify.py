"""ID token verification with locally generated keys: genuine tokens pass, forged ones never do."""

from __future__ import annotations

import time
from typing import Any

import pytest
from helpers.fake_op import b64url, rsa_key, sign, unsigned_jwt
from joserfc.jwk import RSAKey

from kubectl_netsso.auth.discovery import ProviderMetadata
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.verify import IdTokenError, verify_id_token

ISS = "https://sso.example.test"


class Provider(ProviderMetadata):
    """Discovery metadata with a JWKS that can change between fetches (key rotation)."""

    def __init__(self, keys: list[RSAKey], algs: list[str] | None = None, next_keys: list[RSAKey] | None = None) -> None:
        config: dict[str, Any] = {"issuer": ISS, "authorization_endpoint": ISS + "/auth", "token_endpoint": ISS + "/token",
                                  "jwks_uri": ISS + "/jwks"}
        if algs is not None:
            config["id_token_signing_alg_values_supported"] = algs
        super().__init__(ProviderSettings(ISS, "kube"), config, {"keys": [k.as_dict(private=False) for k in keys]})
        self.next_keys = next_keys
        self.fetches = 0

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        if refresh and self.next_keys is not None:
            self.fetches += 1
            self._jwks = {"keys": [k.as_dict(private=False) for k in self.next_keys]}
        assert self._jwks is not None
        return self._jwks


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISS, "sub": "alice", "aud": "kube", "iat": now, "exp": now + 300, "nonce": "n-123"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_genuine_token_verifies() -> None:
    out = verify_id_token(sign(claims()), Provider([rsa_key()]), "kube", nonce="n-123")
    assert out["sub"] == "alice"


def test_alg_none_rejected() -> None:
    with pytest.raises(IdTokenError, match="alg none"):
        verify_id_token(unsigned_jwt(claims()), Provider([rsa_key()]), "kube")


def test_hs256_signed_with_the_public_key_rejected() -> None:
    """The RS256 -> HS256 confusion attack: HMAC keyed with the provider's public key bytes."""
    import hashlib
    import hmac
    import json

    public_pem = rsa_key().as_pem(private=False)
    signing_input = f"{b64url(json.dumps({'alg': 'HS256', 'kid': 'k1'}).encode())}.{b64url(json.dumps(claims()).encode())}"
    forged = signing_input + "." + b64url(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    with pytest.raises(IdTokenError, match="HS256 is not allowed"):
        verify_id_token(forged, Provider([rsa_key()], algs=["RS256", "HS256"]), "kube")


def test_wrong_key_rejected() -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, other key
    with pytest.raises(IdTokenError, match="signature does not verify"):
        verify_id_token(sign(claims(), attacker), Provider([rsa_key()]), "kube")


def test_tampered_payload_rejected() -> None:
    header, _payload, sig = sign(claims()).split(".")
    import json

    tampered = f"{header}.{b64url(json.dumps(claims(sub='admin')).encode())}.{sig}"
    with pytest.raises(IdTokenError, match="signature"):
        verify_id_token(tampered, Provider([rsa_key()]), "kube")


def test_alg_not_in_discovery_rejected() -> None:
    with pytest.raises(IdTokenError, match="id_token_signing_alg_values_supported"):
        verify_id_token(sign(claims()), Provider([rsa_key()], algs=["ES256"]), "kube")


@pytest.mark.parametrize(("over", "message"), [
    ({"iss": "https://evil.test"}, "issuer"),
    ({"iss": ISS + "/"}, "issuer"),
    ({"aud": "other-client"}, "audience"),
    ({"aud": ["kube", "other"]}, "no azp"),
    ({"aud": ["kube", "other"], "azp": "other"}, "azp"),
    ({"exp": int(time.time()) - 120}, "expired"),
    ({"exp": None}, "exp"),
    ({"iat": int(time.time()) + 3600}, "future"),
    ({"nonce": "other"}, "nonce"),
    ({"nonce": None}, "nonce"),
])
def test_bad_claims_rejected(over: dict[str, Any], message: str) -> None:
    with pytest.raises(IdTokenError, match=message):
        verify_id_token(sign(claims(**over)), Provider([rsa_key()]), "kube", nonce="n-123")


def test_several_audiences_with_matching_azp_accepted() -> None:
    verify_id_token(sign(claims(aud=["kube", "other"], azp="kube")), Provider([rsa_key()]), "kube", nonce="n-123")


def test_nonce_not_required_on_refresh() -> None:
    verify_id_token(sign(claims(nonce=None)), Provider([rsa_key()]), "kube", nonce=None)


def test_unknown_kid_refetches_jwks_once() -> None:
    new_key = rsa_key("k2")
    provider = Provider([rsa_key()], next_keys=[rsa_key(), new_key])
    assert verify_id_token(sign(claims(), new_key), provider, "kube", nonce="n-123")["sub"] == "alice"
    assert provider.fetches == 1
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k3"})
    with pytest.raises(IdTokenError, match="no key with kid 'k3'"):
        verify_id_token(sign(claims(), stranger), provider, "kube", nonce="n-123")
    assert provider.fetches == 2


def test_not_a_jwt() -> None:
    with pytest.raises(IdTokenError, match="not a JWT"):
        verify_id_token("abc.def", Provider([rsa_key()]), "kube")
