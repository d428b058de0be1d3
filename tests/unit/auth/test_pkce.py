"""PKCE (RFC 7636) verifier and S256 challenge."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.auth import pkce


def test_rfc7636_appendix_b_vector() -> None:
    # RFC 7636 Appendix B: the example verifier and its S256 challenge.
    assert pkce.s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_valid_and_unique() -> None:
    seen = {pkce.new_verifier() for _ in range(50)}
    assert len(seen) == 50
    assert all(pkce.VERIFIER_RE.match(v) and 43 <= len(v) <= 128 for v in seen)


@pytest.mark.parametrize("bad", ["short", "a" * 129, "a" * 42 + "!", "ä" * 50])
def test_invalid_verifier_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        pkce.s256_challenge(bad)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=43, max_size=128))
def test_challenge_is_unpadded_base64url_sha256(verifier: str) -> None:
    challenge = pkce.s256_challenge(verifier)
    assert "=" not in challenge and len(challenge) == 43
    assert base64.urlsafe_b64decode(challenge + "=") == hashlib.sha256(verifier.encode()).digest()


def test_state_and_nonce_have_32_random_bytes() -> None:
    a, b = pkce.new_state(), pkce.new_state()
    assert a != b and len(base64.urlsafe_b64decode(a + "=")) == 32
