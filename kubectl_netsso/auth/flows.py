"""OAuth 2.0 / OIDC grants with authlib: authorization code + PKCE (loopback or keyboard), device code (RFC 8628),
refresh (the provider may rotate the refresh token) and revocation (RFC 7009)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import log
from ..errors import NetssoError
from ..output.text import for_terminal
from . import browser, pkce
from .discovery import TLS_HINT, ProviderMetadata, check_url, http_request, tls_verify
from .loopback import LoopbackListener, _clean
from .settings import ProviderSettings
from .tokens import TokenSet, decode_claims
from .verify import verify_id_token

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
_sleep: Callable[[float], None] = time.sleep  # replaced in unit tests


class OAuthProblem(NetssoError):
    """An OAuth error response (``error`` / ``error_description`` kept for callers that branch on them)."""

    def __init__(self, what: str, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        text = f"{what}: {_clean(error)}" + (f": {_clean(description)}" if description else "")
        super().__init__(text)


class ProviderUnreachable(NetssoError):
    """No answer from the provider (connection refused, reset or closed, timeout)."""


# Device polling: this many polls in a row without an answer end the login. One lost poll is normal: a provider whose
# keep-alive timeout equals the poll interval (Node's http server: 5 s; RFC 8628's default interval: 5 s) closes the
# idle connection just as the next poll is sent on it.
DEVICE_POLL_FAILURES = 3


class RefreshFailed(NetssoError):
    """The refresh token could not be used (expired, revoked, rotated elsewhere, no ID token returned)."""


def _session(settings: ProviderSettings, **kwargs: Any) -> Any:
    from authlib.integrations.requests_client import OAuth2Session

    log.register_secret(settings.client_secret, min_length=6)  # before any request: an error may echo it
    auth_method = "client_secret_basic" if settings.client_secret else "none"
    sess = OAuth2Session(client_id=settings.client_id, client_secret=settings.client_secret,
                         token_endpoint_auth_method=auth_method, **kwargs)
    # REQUESTS_CA_BUNDLE would override Session.verify; verify= is also passed on every call below.
    sess.verify = tls_verify(settings)
    return sess


def _token_call(settings: ProviderSettings, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call an authlib token endpoint method with verify= and translate every failure into one-line errors."""
    import requests
    from authlib.integrations.base_client import OAuthError

    kwargs["verify"] = tls_verify(settings)
    kwargs.setdefault("timeout", 15)
    try:
        token = fn(*args, **kwargs)
    except OAuthError as exc:
        raise OAuthProblem(what, str(exc.error or "error"), exc.description) from None
    except requests.exceptions.SSLError:
        raise NetssoError(f"{what}: TLS verification of the provider failed", hint=TLS_HINT) from None
    except requests.exceptions.HTTPError as exc:
        # authlib raises this for a 5xx, or a non-JSON error page: the provider answered, so it is not "unreachable"
        status = exc.response.status_code if exc.response is not None else "error"
        raise NetssoError(f"{what}: the provider returned HTTP {status}",
                          hint="the provider (or a proxy in front of it) is failing; try again in a moment") from None
    except requests.exceptions.RequestException as exc:
        raise ProviderUnreachable(f"{what}: the provider is unreachable ({type(exc).__name__})",
                          hint="check --oidc-issuer-url or your network/VPN") from None
    except ValueError:
        raise NetssoError(f"{what}: the provider's answer is not a token response") from None
    result = dict(token)
    for name in ("access_token", "refresh_token", "id_token"):
        log.register_secret(result.get(name))
    return result


def _token_set(settings: ProviderSettings, provider: ProviderMetadata, token: dict[str, Any], nonce: str | None,
               old_refresh_token: str | None = None) -> TokenSet:
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise NetssoError("the provider returned no ID token", hint="request the openid scope; check the client settings")
    verify_id_token(id_token, provider, settings.client_id, nonce=nonce)
    refresh_token = token.get("refresh_token") or old_refresh_token
    return TokenSet(id_token, refresh_token if isinstance(refresh_token, str) else None, provider.issuer, settings.client_id)


def _show_url(url: str, settings: ProviderSettings, prefix: str = "Open this URL in a browser") -> bool:
    """Print the URL to stderr (always, so it can be copied) and try to open it; True if a browser was started."""
    log.info(f"{prefix}: {url}")
    if settings.skip_open_browser:
        return False
    opened = browser.open_url(url, settings.browser_command)
    if not opened:
        log.debug("no graphical browser could be opened; open the URL above yourself")
    return opened


def _auth_params(settings: ProviderSettings) -> dict[str, str]:
    return {k: v for k, v in settings.extra_params}


# -- authorization code + PKCE with the loopback listener -----------------------------------------------------------

def login_authcode(settings: ProviderSettings, provider: ProviderMetadata, require_browser: bool = False) -> TokenSet:
    """Authorization code flow with PKCE S256, state and nonce; the redirect comes back to a one-shot loopback listener.

    ``require_browser``: fail instead of waiting when no browser could be started (non-interactive callers).
    """
    verifier, state, nonce = pkce.new_verifier(), pkce.new_state(), pkce.new_state()
    log.register_secret(verifier)
    listener = LoopbackListener(settings.listen_addresses, settings.redirect_path, issuer=provider.issuer,
                                require_iss=provider.iss_parameter_supported)
    try:
        redirect_uri = listener.redirect_uri
        sess = _session(settings, scope=" ".join(settings.scopes), redirect_uri=redirect_uri)
        url, _ = sess.create_authorization_url(
            provider.authorization_endpoint, state=state, nonce=nonce,
            code_challenge=pkce.s256_challenge(verifier), code_challenge_method="S256", **_auth_params(settings))
        listener.start(state)
        log.debug(f"listening for the redirect on {redirect_uri}")
        opened = _show_url(url, settings)
        if require_browser and not opened:
            raise NetssoError("login required: no browser could be opened for the login",
                              hint="run kubectl netsso login in a terminal")
        code = listener.wait(settings.authentication_timeout)
    finally:
        listener.close()
    log.register_secret(code)
    token = _token_call(settings, "code exchange failed", sess.fetch_token, provider.token_endpoint,
                        grant_type="authorization_code", code=code, code_verifier=verifier, redirect_uri=redirect_uri)
    return _token_set(settings, provider, token, nonce)


# -- authorization code, pasted by the user ------------------------------------------------------------------------

def login_keyboard(settings: ProviderSettings, provider: ProviderMetadata,
                   read_line: Callable[[], str] | None = None) -> TokenSet:
    """The user opens the URL, logs in and pastes the code (or the whole redirect URL) into the terminal."""
    verifier, state, nonce = pkce.new_verifier(), pkce.new_state(), pkce.new_state()
    log.register_secret(verifier)
    redirect_uri = settings.redirect_url or OOB_REDIRECT
    sess = _session(settings, scope=" ".join(settings.scopes), redirect_uri=redirect_uri)
    url, _ = sess.create_authorization_url(
        provider.authorization_endpoint, state=state, nonce=nonce,
        code_challenge=pkce.s256_challenge(verifier), code_challenge_method="S256", **_auth_params(settings))
    _show_url(url, settings)
    sys.stderr.write("Enter the authorization code (or the whole redirect URL): ")
    sys.stderr.flush()
    raw = (read_line or sys.stdin.readline)()
    if read_line is None and (not raw.endswith("\n") or not _isatty(sys.stdin)):
        # No terminal echoed the Enter (stdin is a pipe, or EOF): end the prompt line ourselves, so that a following
        # "error: ..." starts its own line.
        _tell("")
    line = raw.strip()
    if not line:
        raise NetssoError("no authorization code entered")
    code = line
    if "code=" in line or "error=" in line:
        query = parse_qs(urlsplit(line).query or line.lstrip("?"))
        if query.get("state", [state])[0] != state:
            raise NetssoError("the pasted response belongs to another login (state mismatch)")
        iss = query.get("iss", [None])[0]
        if iss is None and provider.iss_parameter_supported:
            # RFC 9207 2.4, as for the loopback listener (a bare pasted code carries no response parameters at all).
            raise NetssoError("the pasted response has no iss parameter, though the provider says it always sends one "
                              "(RFC 9207)", hint="paste the whole redirect URL of this login")
        if iss is not None and iss != provider.issuer:
            # RFC 9207 2.4: "clients MUST compare the iss parameter ... to the issuer identifier" (mix-up defence),
            # for a pasted redirect URL as for the loopback listener.
            raise NetssoError(f"the pasted response came from issuer {_clean(iss)!r}, expected {provider.issuer!r}")
        if "error" in query:
            desc = query.get("error_description", [""])[0]
            detail = _clean(query["error"][0]) + (f": {_clean(desc)}" if desc else "")
            raise NetssoError(f"the provider refused the login: {detail}")
        code = query.get("code", [""])[0]
    log.register_secret(code)
    token = _token_call(settings, "code exchange failed", sess.fetch_token, provider.token_endpoint,
                        grant_type="authorization_code", code=code, code_verifier=verifier, redirect_uri=redirect_uri)
    return _token_set(settings, provider, token, nonce)


# -- device authorization grant (RFC 8628) ---------------------------------------------------------------------------

def login_device(settings: ProviderSettings, provider: ProviderMetadata) -> TokenSet:
    """RFC 8628: show the user code and verification URI, open verification_uri_complete when possible, and poll."""
    endpoint = provider.require("device_authorization_endpoint", "the device code grant")
    data = {"client_id": settings.client_id, "scope": " ".join(settings.scopes), **_auth_params(settings)}
    auth = (settings.client_id, settings.client_secret) if settings.client_secret else None
    response = http_request(settings, "POST", endpoint, "device authorization endpoint", data=data, auth=auth,
                            headers={"Accept": "application/json"})
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise NetssoError(f"device authorization failed: HTTP {response.status_code}, not a JSON answer")
    if response.status_code != 200 or "error" in body:
        raise OAuthProblem("device authorization failed", str(body.get("error", f"HTTP {response.status_code}")),
                           body.get("error_description"))
    device_code, user_code = body.get("device_code"), body.get("user_code")
    # Some providers send the non-standard verification_url (int128/kubelogin PR #846).
    verification_uri = body.get("verification_uri") or body.get("verification_url")
    if not device_code or not user_code or not verification_uri:
        raise NetssoError("device authorization failed: the answer lacks device_code, user_code or verification_uri")
    # Shown to the user and opened in a browser: the same rules as the discovery endpoints (https, never a flag).
    verification_uri = check_url(verification_uri, "the device authorization answer's verification_uri")
    log.register_secret(device_code)
    # RFC 8628 3.2: "interval ... If no value is provided, clients MUST use 5 as the default."
    interval = _number(body.get("interval"), 5)
    expires_in = _number(body.get("expires_in"), 600)
    # The user code must be shown verbatim (log.info would redact "code: ..."); it is not a credential on its own:
    # it only works together with the user's own login at the provider, for a few minutes.
    _tell(f"To log in, visit {_clean(str(verification_uri))} and enter the user code: {_clean(str(user_code))}")
    complete = body.get("verification_uri_complete")
    if complete is not None:
        complete = check_url(complete, "the device authorization answer's verification_uri_complete")
    if complete and not settings.skip_open_browser and browser.can_open_browser(settings.browser_command):
        if browser.open_url(str(complete), settings.browser_command):
            _tell(f"(opened {_clean(str(complete))} in a browser)")
    sess = _session(settings)
    deadline = time.monotonic() + expires_in
    unanswered = 0
    while True:
        _sleep(interval)
        if time.monotonic() > deadline:
            raise NetssoError("the device code expired before the login was confirmed", hint="run the login again")
        try:
            token = _token_call(settings, "device login failed", sess.fetch_token, provider.token_endpoint,
                                grant_type=DEVICE_GRANT, device_code=device_code)
        except ProviderUnreachable as exc:
            unanswered += 1
            if unanswered >= DEVICE_POLL_FAILURES:
                raise
            log.debug(f"device poll got no answer ({exc.message}); polling again")
            continue
        except OAuthProblem as exc:
            unanswered = 0
            # RFC 8628 3.5: authorization_pending -> keep polling; slow_down -> "the interval MUST be increased by
            # 5 seconds for this and all subsequent requests"; access_denied / expired_token -> stop.
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += 5
                log.debug(f"provider asked to slow down; polling every {interval} s")
                continue
            if exc.error == "access_denied":
                raise NetssoError("the device login was denied at the provider",
                                  hint="run the login again and approve it") from None
            if exc.error == "expired_token":
                raise NetssoError("the device code expired before the login was confirmed", hint="run the login again") from None
            raise
        return _token_set(settings, provider, token, None)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _tell(text: str) -> None:
    # not log.info: its redaction takes "user code: XXXX-XXXX" for a secret; escaped as log's writer does
    try:
        sys.stderr.write(for_terminal(text, newlines=False) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return default
    return float(value)


# -- refresh and revocation --------------------------------------------------------------------------------------

def refresh(settings: ProviderSettings, provider: ProviderMetadata, tokens: TokenSet) -> TokenSet:
    """Use the refresh token. RFC 6749 6: the provider may issue a new refresh token (then the old one is dead);
    if it returns none, keep the old one. Raises RefreshFailed when a new login is needed."""
    if not tokens.refresh_token:
        raise RefreshFailed("no refresh token cached")
    sess = _session(settings)  # no scope: authlib would re-send it and providers answer invalid_scope
    try:
        token = _token_call(settings, "refresh failed", sess.fetch_token, provider.token_endpoint,
                            grant_type="refresh_token", refresh_token=tokens.refresh_token)
    except OAuthProblem as exc:
        raise RefreshFailed(exc.message) from None
    if not token.get("id_token"):
        # Entra ID, PingFederate & co. may omit it on refresh (int128/kubelogin#536): only a login gives a new one.
        raise RefreshFailed("refresh failed: the provider returned no new ID token")
    try:
        new = _token_set(settings, provider, token, None, old_refresh_token=tokens.refresh_token)
    except NetssoError as exc:
        raise RefreshFailed(exc.message) from None
    # OIDC Core 12.2: the refreshed ID token's "iss ... sub ... MUST be the same as in the ID Token issued when the
    # original authentication occurred".
    try:
        old_sub = decode_claims(tokens.id_token).get("sub")
    except ValueError:
        old_sub = None
    if old_sub is not None and new.claims.get("sub") != old_sub:
        raise RefreshFailed("refresh failed: the provider returned an ID token for another subject")
    return new


def revoke(settings: ProviderSettings, provider: ProviderMetadata, refresh_token: str) -> bool:
    """RFC 7009: revoke the refresh token when the provider has a revocation_endpoint. True if revoked."""
    endpoint = provider.endpoint("revocation_endpoint")
    if not endpoint:
        return False
    log.register_secret(refresh_token)
    data = {"token": refresh_token, "token_type_hint": "refresh_token"}
    auth = None
    if settings.client_secret:
        auth = (settings.client_id, settings.client_secret)
    else:
        data["client_id"] = settings.client_id
    response = http_request(settings, "POST", endpoint, "revocation endpoint", data=data, auth=auth)
    # RFC 7009 2.2: "The authorization server responds with HTTP status code 200 if the token has been revoked
    # successfully or if the client submitted an invalid token."
    if response.status_code != 200:
        log.warn(f"the provider did not confirm the revocation (HTTP {response.status_code})")
        return False
    return True
