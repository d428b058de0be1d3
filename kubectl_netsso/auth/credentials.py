"""Obtaining a valid ID token: cached -> refresh under the lock -> login, with the non-interactive browser rules."""

from __future__ import annotations

from .settings import ProviderSettings
from .tokens import TokenSet


def get_token(settings: ProviderSettings, interactive: bool = False) -> TokenSet:
    """A token set whose ID token is valid for more than settings.expiry_margin seconds.

    Order: valid cached token -> refresh token (under the per-key lock, cache re-read after locking) -> login.
    ``interactive=False`` (the default for in-process use by other commands) allows only the browser authcode flow,
    at most one pending login per cache key across processes and none within 5 minutes of an abandoned or failed one;
    otherwise raises NetssoError("login required: run kubectl netsso login ...", exit 3).
    """
    raise NotImplementedError  # filled in below in a later commit
