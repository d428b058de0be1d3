"""TokenSet, unverified claim decoding, expiry with margin, and that tokens never show in reprs or messages."""

from __future__ import annotations

import time

import pytest
from helpers.fake_op import fake_jwt
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso import log
from kubectl_netsso.auth.tokens import TokenError, TokenSet, decode_claims, decode_header, expiry_of

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=10)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_decode_claims_round_trip(claims: dict[str, object]) -> None:
    assert decode_claims(fake_jwt(claims)) == claims


@pytest.mark.parametrize("bad", ["", "a.b", "a.b.c.d", "eyJ.!!!.x", "e30.W10.x"])
def test_decode_rejects_non_jwts_without_echoing_them(bad: str) -> None:
    with pytest.raises(TokenError) as exc:
        decode_claims(bad)
    assert bad == "" or bad not in str(exc.value)


def test_header_and_expiry() -> None:
    tok = fake_jwt({"exp": 1234})
    assert decode_header(tok)["alg"] == "RS256" and expiry_of(tok) == 1234.0
    assert expiry_of(fake_jwt({"exp": "soon"})) is None and expiry_of(fake_jwt({"exp": True})) is None


def test_validity_with_margin() -> None:
    now = 1_000_000.0
    t = TokenSet(fake_jwt({"iat": now - 3000, "exp": now + 100}))
    assert t.is_valid(60, now=now) and not t.is_valid(120, now=now)
    assert not TokenSet(fake_jwt({"sub": "no-exp"})).is_valid(0, now=now)


def test_margin_is_capped_at_half_the_lifetime() -> None:
    now = time.time()
    short = TokenSet(fake_jwt({"iat": now, "exp": now + 60}))  # a 60 s token with the default 60 s margin
    assert short.effective_margin(60) == 30 and short.is_valid(60)


def test_repr_and_redaction_hide_tokens() -> None:
    t = TokenSet(fake_jwt({"sub": "alice", "exp": 1}), "opaque-refresh-token-value")
    assert t.id_token not in repr(t) and "opaque-refresh-token-value" not in repr(t)
    log.register_secret(t.refresh_token)
    line = log.redact(f"refresh with {t.refresh_token} gave {t.id_token}")
    assert t.id_token not in line and "opaque-refresh-token-value" not in line


def test_from_dict_validates() -> None:
    with pytest.raises(TokenError):
        TokenSet.from_dict({"refresh_token": "x"})
    t = TokenSet.from_dict({"id_token": "a.b.c", "refresh_token": 5, "issuer": "https://i"})
    assert t.refresh_token is None and t.issuer == "https://i"
    assert TokenSet.from_dict(t.to_dict()) == t
