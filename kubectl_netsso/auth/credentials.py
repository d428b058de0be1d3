"""Obtaining a valid ID token: cached -> refresh under the lock -> login, with the non-interactive browser rules."""

from __future__ import annotations

import shlex
import time

from .. import log
from ..errors import NetssoError
from . import browser
from .cache import TokenCache, open_cache
from .settings import ProviderSettings
from .tokens import TokenSet

# After a browser login that a non-interactive caller started was abandoned or failed, no new browser opens for this
# long (the "hundreds of browser tabs overnight" complaint: int128/kubelogin#904, #1330).
BROWSER_RETRY_AFTER = 300


def resolve_grant(settings: ProviderSettings) -> str:
    """``auto``: authorization code when a browser can be opened, device code when not (SSH, no display on Linux)."""
    if settings.grant_type != "auto":
        return settings.grant_type
    if settings.skip_open_browser or browser.can_open_browser(settings.browser_command):
        return "authcode"
    return "device-code"


def login_command(settings: ProviderSettings) -> str:
    """The ``kubectl netsso login ...`` line for messages (client secret left out)."""
    args = [a for a in settings.exec_args()[1:] if not a.startswith("--oidc-client-secret")]
    return "kubectl netsso login " + " ".join(shlex.quote(a) for a in args)


def login_required(settings: ProviderSettings, why: str | None = None) -> NetssoError:
    return NetssoError("login required: run " + login_command(settings), hint=why)


def _lock_timeout(settings: ProviderSettings) -> float:
    # A waiting process may sit behind another process's whole browser login.
    return float(settings.authentication_timeout + 60)


def run_login(settings: ProviderSettings, grant: str, require_browser: bool = False) -> TokenSet:
    """Discovery, then the given grant; returns verified tokens (not cached)."""
    from . import flows
    from .discovery import discover

    provider = discover(settings)
    if grant == "authcode":
        return flows.login_authcode(settings, provider, require_browser=require_browser)
    if grant == "authcode-keyboard":
        return flows.login_keyboard(settings, provider)
    if grant == "device-code":
        return flows.login_device(settings, provider)
    if grant == "client-credentials":
        return flows.login_client_credentials(settings, provider)
    raise NetssoError(f"unknown grant type {grant!r}")


def _try_refresh(settings: ProviderSettings, cache: TokenCache, cached: TokenSet) -> TokenSet | None:
    from . import flows
    from .discovery import discover

    provider = discover(settings)
    try:
        fresh = flows.refresh(settings, provider, cached)
    except flows.RefreshFailed as exc:
        log.info(f"{exc.message}; a new login is needed")
        # The refresh token is dead (expired, revoked or rotated away): never send it again.
        cache.save(TokenSet(cached.id_token, None, cached.issuer, cached.client_id))
        return None
    cache.save(fresh)
    log.debug("refreshed the ID token")
    return fresh


def get_token(settings: ProviderSettings, interactive: bool = False, caller: str | None = None) -> TokenSet:
    """A token set whose ID token is valid for more than settings.expiry_margin seconds.

    Order: valid cached token -> refresh token (under the per-key lock, cache re-read after locking) -> login.
    ``interactive=False`` (the default for in-process use by other commands) allows only the browser authcode flow,
    at most one pending login per cache key across processes and none within 5 minutes of an abandoned or failed one;
    otherwise raises NetssoError("login required: run kubectl netsso login ...", exit 3). ``caller`` names the
    command the user ran (e.g. "kubectl netsso whoami") when it is not kubectl running get-token, for the hint.
    """
    cache = open_cache(settings)
    margin = settings.expiry_margin
    if not settings.force_refresh:
        cached = cache.load()
        if cached is not None and cached.is_valid(margin):
            return cached
    with cache.lock(_lock_timeout(settings)):
        # Another process may have refreshed or logged in while we waited for the lock: re-read first, so 16
        # parallel kubectl calls cause exactly one refresh (rotating refresh tokens are single-use).
        cached = cache.load()
        if cached is not None and cached.is_valid(margin) and not settings.force_refresh:
            return cached
        if cached is not None and cached.refresh_token:
            fresh = _try_refresh(settings, cache, cached)
            if fresh is not None:
                return fresh
        return _login_locked(settings, cache, interactive, caller)


def _login_locked(settings: ProviderSettings, cache: TokenCache, interactive: bool, caller: str | None = None) -> TokenSet:
    grant = resolve_grant(settings)
    if interactive or grant == "client-credentials":  # no browser, no terminal: CI runs it unattended
        tokens = run_login(settings, grant)
        cache.save(tokens)
        _clear_state(cache)
        return tokens
    # Not interactive (IDEs, Lens, k9s, CI): only the browser flow may run, since it needs no terminal.
    if grant != "authcode":
        who = f"{caller} is not running in one (stdin is not a terminal)" if caller else \
            "kubectl called get-token non-interactively"
        raise login_required(settings, f"the {grant} login needs a terminal; {who}")
    if settings.skip_open_browser:
        raise login_required(settings, "--skip-open-browser is set, so no browser login can start without a terminal")
    state = cache.read_login_state()
    at = state.get("at")
    if state.get("outcome") in ("started", "failed", "abandoned") and isinstance(at, (int, float)):
        age = time.time() - at
        if 0 <= age < BROWSER_RETRY_AFTER:
            # "started" while we hold the lock means its process died: an abandoned login.
            raise login_required(settings, f"a browser login for this provider was abandoned or failed {int(age)} s ago; "
                                           f"no new browser opens for {BROWSER_RETRY_AFTER // 60} minutes")
    cache.write_login_state("started")
    try:
        tokens = run_login(settings, "authcode", require_browser=True)
    except NetssoError:
        cache.write_login_state("failed")
        raise
    except BaseException:
        cache.write_login_state("abandoned")
        raise
    cache.save(tokens)
    _clear_state(cache)
    return tokens


def _clear_state(cache: TokenCache) -> None:
    import os

    try:
        os.unlink(cache.state_path)
    except OSError:
        pass


def login(settings: ProviderSettings, grant: str | None = None) -> TokenSet:
    """Interactive login (the ``login`` and ``setup`` commands): always runs the grant, then caches the result."""
    cache = open_cache(settings)
    with cache.lock(_lock_timeout(settings)):
        tokens = run_login(settings, grant or resolve_grant(settings))
        cache.save(tokens)
        _clear_state(cache)
    return tokens
