"""ID token verification (OpenID Connect Core 3.1.3.7) with joserfc against the provider's JWKS."""

from __future__ import annotations

import math
import time
from typing import Any

from ..errors import NetssoError
from .discovery import ProviderMetadata
from .tokens import TokenError, decode_claims, decode_header

# Only asymmetric algorithms: "none" is never acceptable and an HMAC alg would let anyone who knows the *public* key
# forge tokens (the classic RS256 -> HS256 confusion attack).
ASYMMETRIC_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA"})
LEEWAY = 30  # seconds of clock skew tolerated on exp/iat


class IdTokenError(NetssoError):
    def __init__(self, message: str) -> None:
        super().__init__("ID token rejected: " + message,
                         hint="the provider returned a token that fails verification; check --oidc-issuer-url, --oidc-client-id")


def allowed_algorithms(provider: ProviderMetadata) -> list[str]:
    """Algorithms the discovery document allows, intersected with the asymmetric ones (default RS256)."""
    return [a for a in provider.signing_algs if a in ASYMMETRIC_ALGS] or ["RS256"]


def verify_id_token(id_token: str, provider: ProviderMetadata, client_id: str, nonce: str | None = None,
                    now: float | None = None) -> dict[str, Any]:
    """Verify signature and claims; return the claims. ``nonce`` is checked when given (login, not refresh: OIDC Core
    12.2 does not require a nonce in a refreshed ID token)."""
    claims = _signed_claims(id_token, provider, allowed_algorithms(provider), IdTokenError,
                            "id_token_signing_alg_values_supported")
    check_claims(claims, provider.issuer, client_id, nonce=nonce, now=now)
    return claims


class AccessTokenError(NetssoError):
    def __init__(self, message: str) -> None:
        super().__init__("access token rejected: " + message,
                         hint="--oidc-use-access-token needs a JWT access token signed by the provider's keys")


def verify_access_token(token: str, provider: ProviderMetadata, now: float | None = None) -> dict[str, Any]:
    """A JWT access token (RFC 9068) sent to the API server in place of the ID token: signature against the JWKS
    (asymmetric algorithms only), ``iss``, ``exp``, ``iat``, and an audience. The audience is the one it carries:
    it names the resource (the API server's configured audience), not this client, so it is not compared here."""
    claims = _signed_claims(token, provider, sorted(ASYMMETRIC_ALGS), AccessTokenError, None)
    now = time.time() if now is None else now
    if claims.get("iss") != provider.issuer:
        raise AccessTokenError(f"issuer {claims.get('iss')!r} is not {provider.issuer!r}")
    aud = claims.get("aud")
    if not (isinstance(aud, str) and aud) and not (isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud)):
        raise AccessTokenError("no audience (aud): the API server could not tell it is meant for it")
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not _finite(exp):
        raise AccessTokenError("no numeric exp claim")
    if exp + LEEWAY <= now:
        raise AccessTokenError("token is expired")
    if iat is not None and (isinstance(iat, bool) or not isinstance(iat, (int, float)) or not _finite(iat)
                            or iat - LEEWAY > now):
        raise AccessTokenError("bad iat claim (issued in the future, or not a number)")
    return claims


def _signed_claims(token: str, provider: ProviderMetadata, allowed: list[str], error: type[NetssoError],
                   allowed_from: str | None) -> dict[str, Any]:
    from joserfc import jwt
    from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
    from joserfc.jwk import KeySet

    try:
        header = decode_header(token)
        decode_claims(token)
    except TokenError as exc:
        raise error(str(exc)) from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise error("unsigned token (alg none)")
    if alg not in ASYMMETRIC_ALGS:
        raise error(f"algorithm {alg} is not allowed (only asymmetric signatures are accepted)")
    if alg not in allowed:
        raise error(f"algorithm {alg} is not among the provider's {allowed_from} {allowed}")

    decoded = None
    for attempt in (0, 1):
        try:
            keys = KeySet.import_key_set(provider.jwks(refresh=attempt == 1))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise NetssoError(f"the provider's JWKS cannot be used: {exc}") from None
        try:
            decoded = jwt.decode(token, keys, algorithms=[alg])
            break
        except InvalidKeyIdError:
            if attempt == 0:
                continue  # the provider may have rotated its keys: refetch the JWKS once
            raise error(f"no key with kid {header.get('kid')!r} in the provider's JWKS") from None
        except BadSignatureError:
            raise error("signature does not verify with the provider's keys") from None
        except (JoseError, ValueError, TypeError) as exc:
            raise error(f"cannot verify signature ({type(exc).__name__})") from None
    assert decoded is not None
    return dict(decoded.claims)


def _finite(value: int | float) -> bool:
    """NaN or Infinity (JSON parsers accept both) would pass every comparison below; huge ints are fine."""
    return isinstance(value, int) or math.isfinite(value)


def check_claims(claims: dict[str, Any], issuer: str, client_id: str, nonce: str | None = None,
                 now: float | None = None) -> None:
    """OIDC Core 3.1.3.7 steps 2-4, 9, 10, 11 on already signature-checked claims."""
    now = time.time() if now is None else now
    # 2. "The Issuer Identifier ... MUST exactly match the value of the iss (issuer) Claim."
    if claims.get("iss") != issuer:
        raise IdTokenError(f"issuer {claims.get('iss')!r} is not {issuer!r}")
    # 3. "The Client MUST validate that the aud (audience) Claim contains its client_id value"
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise IdTokenError(f"audience {aud!r} does not contain the client id {client_id!r}")
    # 4./5. "If the ID Token contains multiple audiences, the Client SHOULD verify that an azp Claim is present"
    # and "If an azp (authorized party) Claim is present, the Client SHOULD verify that its client_id is the Claim Value."
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise IdTokenError("several audiences but no azp claim")
    if azp is not None and azp != client_id:
        raise IdTokenError(f"authorized party (azp) {azp!r} is not the client id {client_id!r}")
    # 9. "The current time MUST be before the time represented by the exp Claim"
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not _finite(exp):
        raise IdTokenError("no numeric exp claim")
    if exp + LEEWAY <= now:
        raise IdTokenError("token is expired")
    # 10. "The iat Claim can be used to reject tokens that were issued too far away from the current time"
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)) or not _finite(iat):
        raise IdTokenError("no numeric iat claim")
    if iat - LEEWAY > now:
        raise IdTokenError("token is issued in the future (iat); check the clock")
    # 11. "If a nonce value was sent in the Authentication Request, a nonce Claim MUST be present and its value
    # checked to verify that it is the same value as the one that was sent"
    if nonce is not None and claims.get("nonce") != nonce:
        raise IdTokenError("nonce does not match the login request")
