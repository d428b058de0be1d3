"""Redaction: tokens, JWTs, Authorization headers and secret form fields never reach stderr."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso import log


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict) -> str:
    header = _b64(json.dumps({"alg": "RS256", "kid": "k1"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(b'signature-bytes-here')}"


def test_jwt_is_redacted() -> None:
    jwt = make_jwt({"sub": "alice", "exp": 1})
    out = log.redact(f"token is {jwt} ok")
    assert jwt not in out and "[redacted]" in out and out.endswith(" ok")


def test_bearer_header_is_redacted() -> None:
    out = log.redact("Authorization: Bearer abcdefghijklmnop123")
    assert "abcdefghijklmnop123" not in out


@pytest.mark.parametrize("field", ["refresh_token", "access_token", "id_token", "client_secret", "code", "device_code"])
def test_form_and_json_fields_are_redacted(field: str) -> None:
    secret = "S3cr3tValue-xyz_0123"
    assert secret not in log.redact(f"{field}={secret}&x=1")
    assert secret not in log.redact(json.dumps({field: secret}))


def test_registered_secret_is_redacted_anywhere() -> None:
    opaque = "opaque-refresh-0123456789"
    log.register_secret(opaque)
    assert opaque not in log.redact(f"refresh failed for {opaque}: invalid_grant")


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=4))
def test_any_jwt_in_any_text_is_redacted(claims: dict) -> None:
    jwt = make_jwt(claims)
    assert jwt not in log.redact("prefix " + jwt + " suffix")


def test_debug_respects_level(capsys: pytest.CaptureFixture[str]) -> None:
    log.set_level(0)
    log.debug("hidden")
    log.set_level(1)
    log.debug("shown")
    log.set_level(0)
    assert capsys.readouterr().err == "shown\n"
