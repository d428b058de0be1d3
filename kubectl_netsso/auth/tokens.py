"""Token set, unverified JWT claim decoding and expiry with a safety margin (stdlib only: on the fast path)."""

from __future__ import annotations

import base64
import json
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: this module is on the fast path
    from typing import Any


class TokenError(ValueError):
    """A token that cannot be decoded (never carries the token itself in its message)."""


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode_claims(jwt: str) -> dict[str, Any]:
    """The claims of a JWT *without* verifying it (for display and expiry only; verify.py verifies at login)."""
    parts = jwt.split(".") if isinstance(jwt, str) else []
    if len(parts) != 3:
        raise TokenError("not a JWT (expected three dot-separated parts)")
    try:
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, TypeError):
        raise TokenError("not a JWT (payload is not base64url JSON)") from None
    if not isinstance(claims, dict):
        raise TokenError("not a JWT (payload is not a JSON object)")
    return claims


def decode_header(jwt: str) -> dict[str, Any]:
    """The JOSE header of a JWT, unverified."""
    parts = jwt.split(".") if isinstance(jwt, str) else []
    if len(parts) != 3:
        raise TokenError("not a JWT (expected three dot-separated parts)")
    try:
        header = json.loads(_b64url_decode(parts[0]))
    except (ValueError, TypeError):
        raise TokenError("not a JWT (header is not base64url JSON)") from None
    if not isinstance(header, dict):
        raise TokenError("not a JWT (header is not a JSON object)")
    return header


def expiry_of(jwt: str) -> float | None:
    """The ``exp`` claim as a Unix timestamp, or None when absent, not a number or NaN (JSON parsers accept NaN)."""
    try:
        exp = decode_claims(jwt).get("exp")
    except TokenError:
        return None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    try:
        value = float(exp)
    except OverflowError:  # an int beyond float range
        value = float("inf") if exp > 0 else float("-inf")
    return None if value != value else value


class TokenSet:
    """The tokens kept for one cache key: the ID token (sent to the API server) and the refresh token.

    The access token is deliberately not stored: kubectl only needs the ID token, and every token kept at rest is one
    more secret to leak. Plain class with __slots__ (no dataclasses import on the fast path).
    """

    __slots__ = ("id_token", "refresh_token", "issuer", "client_id")

    id_token: str
    refresh_token: str | None
    issuer: str | None
    client_id: str | None

    def __init__(self, id_token: str, refresh_token: str | None = None, issuer: str | None = None,
                 client_id: str | None = None) -> None:
        self.id_token = id_token
        self.refresh_token = refresh_token or None
        self.issuer = issuer
        self.client_id = client_id

    def __repr__(self) -> str:  # never show the tokens themselves
        rt = "[redacted]" if self.refresh_token else None
        return f"TokenSet(id_token=[redacted], refresh_token={rt}, issuer={self.issuer!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenSet):
            return NotImplemented
        return (self.id_token, self.refresh_token, self.issuer, self.client_id) == (
            other.id_token, other.refresh_token, other.issuer, other.client_id)

    @property
    def claims(self) -> dict[str, Any]:
        return decode_claims(self.id_token)

    @property
    def expires_at(self) -> float | None:
        return expiry_of(self.id_token)

    def effective_margin(self, margin: float) -> float:
        """The margin, but at most half the token's lifetime (exp - iat): with a provider TTL at or below the margin a
        freshly refreshed token would otherwise count as expired at once and every call would refresh again."""
        try:
            claims = decode_claims(self.id_token)
        except TokenError:
            return margin
        exp, iat = claims.get("exp"), claims.get("iat")
        if isinstance(exp, (int, float)) and isinstance(iat, (int, float)) and not isinstance(exp, bool) \
                and not isinstance(iat, bool):
            try:
                half = (float(exp) - float(iat)) / 2
            except OverflowError:  # ints beyond float range: an absurd lifetime, keep the margin
                return margin
            if half > 0:  # False for NaN too
                return min(margin, half)
        return margin

    def is_valid(self, margin: float = 60, now: float | None = None) -> bool:
        """True when the ID token expires more than the (effective) margin from now.

        The margin keeps kubectl from sending a token the API server rejects a few seconds later: client-go reuses a
        credential until exactly expirationTimestamp, and clocks differ (int128/kubelogin#754).
        """
        exp = self.expires_at
        if exp is None:
            return False
        return exp - self.effective_margin(margin) > (time.time() if now is None else now)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id_token": self.id_token}
        if self.refresh_token:
            data["refresh_token"] = self.refresh_token
        if self.issuer:
            data["issuer"] = self.issuer
        if self.client_id:
            data["client_id"] = self.client_id
        return data

    @classmethod
    def from_dict(cls, data: Any) -> TokenSet:
        if not isinstance(data, dict) or not isinstance(data.get("id_token"), str) or not data["id_token"]:
            raise TokenError("cache entry has no id_token")
        rt = data.get("refresh_token")
        return cls(
            id_token=data["id_token"],
            refresh_token=rt if isinstance(rt, str) else None,
            issuer=data.get("issuer") if isinstance(data.get("issuer"), str) else None,
            client_id=data.get("client_id") if isinstance(data.get("client_id"), str) else None,
        )
