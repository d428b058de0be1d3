"""PKCE (RFC 7636): a random code verifier and its S256 challenge (stdlib)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

# RFC 7636 4.1: code_verifier = high-entropy cryptographic random STRING using [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~",
# with a minimum length of 43 characters and a maximum length of 128 characters.
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def new_verifier(nbytes: int = 48) -> str:
    """A verifier of 64 base64url characters (48 random bytes); always matches VERIFIER_RE."""
    verifier = secrets.token_urlsafe(nbytes)
    assert VERIFIER_RE.match(verifier)
    return verifier


def s256_challenge(verifier: str) -> str:
    """RFC 7636 4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), without padding."""
    if not VERIFIER_RE.match(verifier):
        raise ValueError("invalid PKCE code verifier (RFC 7636: 43-128 chars of [A-Za-z0-9-._~])")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """32 random bytes base64url, for state and nonce (as int128/kubelogin does)."""
    return secrets.token_urlsafe(32)
