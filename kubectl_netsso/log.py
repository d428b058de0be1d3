"""Verbosity-levelled logging to stderr, with tokens, JWTs and Authorization headers redacted and control
characters escaped (a message is one line; only -v details keep their line breaks)."""

from __future__ import annotations

import re
import sys

from .output.text import for_terminal

_level = 0

# A JWT: three base64url segments, the first starting with the base64 of '{"' ("eyJ").
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_FIELDS = re.compile(
    r'(?i)("?(?:access_token|refresh_token|id_token|token|client_secret|code|code_verifier|device_code|password)'
    r'"?\s*[:=]\s*"?)([^"&\s,}]+)'
)
_secrets: set[str] = set()


def set_level(level: int) -> None:
    global _level
    _level = level


def level() -> int:
    return _level


def register_secret(value: str | None, min_length: int = 8) -> None:
    """Remember a secret value (an opaque token, a code, the client secret) so it is redacted wherever it appears,
    also in the percent-encoded forms a provider echoing a request body would show. Short values are left alone
    (replacing every "abc" in a message would garble it); a client secret is registered with min_length=6."""
    if not isinstance(value, str) or len(value) < min_length:
        return
    from urllib.parse import quote, quote_plus

    _secrets.update({value, quote(value, safe=""), quote_plus(value)})


def redact(text: str) -> str:
    """Replace every token-looking string in text by a short, harmless prefix (registered secrets: nothing of them)."""
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: one secret may contain another
        if secret in text:
            text = text.replace(secret, "[redacted]")
    text = _JWT.sub(lambda m: m.group(0)[:8] + "...[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _SECRET_FIELDS.sub(r"\1[redacted]", text)
    return text


def _emit(msg: str, newlines: bool = False) -> None:
    try:
        sys.stderr.write(for_terminal(redact(msg), newlines) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def info(msg: str) -> None:
    """A message for the user (always shown, on stderr)."""
    _emit(msg)


def warn(msg: str) -> None:
    _emit("warning: " + msg)


def debug(msg: str, at: int = 1) -> None:
    """Shown with -v (level 1) or more; HTTP details use level 2, bodies level 3."""
    if _level >= at:
        _emit(msg, newlines=True)
