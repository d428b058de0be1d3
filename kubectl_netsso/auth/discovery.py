"""OpenID Provider discovery (.well-known/openid-configuration) and JWKS, with a short on-disk cache and clear errors.

Also the one place HTTP to the provider is configured: TLS verification (CA files, insecure flag) and error
translation. requests lets REQUESTS_CA_BUNDLE override ``Session.verify``, so ``verify=`` is passed on every call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from typing import Any

from .. import log
from ..errors import NetssoError
from .settings import ProviderSettings

DISCOVERY_TTL = 3600  # seconds a cached discovery document / JWKS is reused (JWKS is refetched on an unknown kid)
HTTP_TIMEOUT = 15
TLS_HINT = "pass the provider's CA certificate with --certificate-authority (or, for a test only, --insecure-skip-tls-verify)"
NET_HINT = "check --oidc-issuer-url or your network/VPN"
_warned_insecure = False


def tls_verify(settings: ProviderSettings) -> bool | str:
    """requests' ``verify`` value: False (insecure, warns once), a CA bundle path, or True (system trust)."""
    global _warned_insecure
    if settings.insecure_skip_tls_verify:
        if not _warned_insecure:
            log.warn("TLS certificate verification of the OpenID Provider is disabled (--insecure-skip-tls-verify)")
            _warned_insecure = True
        try:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        except ImportError:  # pragma: no cover
            pass
        return False
    cas = settings.certificate_authorities
    for path in cas:
        if not os.path.isfile(path):
            raise NetssoError(f"certificate authority file {path} does not exist", hint="check --certificate-authority")
    if not cas:
        return True
    if len(cas) == 1:
        return cas[0]
    return _combined_bundle(settings)


_bundles: dict[tuple[str, ...], str] = {}


def client_cert(settings: ProviderSettings) -> tuple[str, str] | None:
    """requests' ``cert`` value for a provider that requires mutual TLS, or None.

    The key is held to the token cache's file rules (safefs): the user's own regular file, not reached through a
    symlink, writable by nobody else, and here also readable by nobody else (it is a credential, like the refresh
    token). Checked on every use, since another local user must not be able to swap it for theirs."""
    if not settings.tls_client_cert or not settings.tls_client_key:
        return None
    from . import safefs

    for path, what, private in ((settings.tls_client_cert, "--tls-client-cert", False),
                                (settings.tls_client_key, "--tls-client-key", True)):
        try:
            data = safefs.read_private(path, limit=256 * 1024)
            if private and safefs.readable_by_others(path):
                raise safefs.UnsafeFile("is readable by other users (chmod 600 it)")
        except FileNotFoundError:
            raise NetssoError(f"{what} {path} does not exist", hint=f"check {what}") from None
        except safefs.UnsafeFile as exc:
            raise NetssoError(f"{what} {path} {exc}", hint="use your own file, chmod 600, not a symlink") from None
        except OSError as exc:
            raise NetssoError(f"cannot read {what} {path}: {exc.strerror or exc}", hint=f"check {what}") from None
        if b"-----BEGIN " not in data:
            raise NetssoError(f"{what} {path} is not a PEM file", hint=f"check {what}")
    return settings.tls_client_cert, settings.tls_client_key


def _combined_bundle(settings: ProviderSettings) -> str:
    """requests takes one CA file: concatenate several into a private temp file for this process only.

    Trust material is never kept in the cache: a CA file planted there by another user would make the plugin trust
    their server. mkstemp creates the file 0600 with O_EXCL, and it is removed when the process exits."""
    key = settings.certificate_authorities
    if key in _bundles:
        return _bundles[key]
    import atexit
    import tempfile

    parts = []
    for path in key:
        try:
            with open(path, "rb") as fh:
                parts.append(fh.read().strip() + b"\n")
        except OSError as exc:
            raise NetssoError(f"cannot read certificate authority file {path}: {exc.strerror or exc}",
                              hint="check --certificate-authority") from None
    fd, target = tempfile.mkstemp(prefix="kubectl-netsso-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"".join(parts))
    atexit.register(_remove, target)
    _bundles[key] = target
    return target


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# Every URL of the provider that the plugin calls or hands to a browser (OIDC Discovery 3; RFC 8414; RFC 8628; RFC 7009).
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "device_authorization_endpoint", "revocation_endpoint")
_warned_http: set[str] = set()


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: object, what: str) -> str:
    """An https:// URL (plain http:// only on a loopback host, with a warning), or NetssoError naming what it is.

    The provider decides these URLs, and they end up in a browser's argv (a value starting with "-" is a browser
    flag: --renderer-cmd-prefix runs a program) or receive the client secret, codes and refresh tokens; file:,
    javascript: and every other scheme are refused, and so are spaces and control characters."""
    from urllib.parse import urlsplit

    shown = repr(url)[:200] if isinstance(url, str) else type(url).__name__
    hint = "the OpenID Provider must publish https URLs; http is accepted only on 127.0.0.1/[::1]/localhost, for testing"
    if not isinstance(url, str) or not url or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise NetssoError(f"{what} {shown} is not a URL", hint=hint)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise NetssoError(f"{what} {shown} is not a URL", hint=hint) from None
    scheme = parts.scheme.lower()
    if scheme == "https" and host and url[:8].lower() == "https://":
        return url
    if scheme == "http" and url[:7].lower() == "http://" and is_loopback_host(host):
        origin = f"http://{parts.netloc}"
        if origin not in _warned_http:
            _warned_http.add(origin)
            log.warn(f"the OpenID Provider at {origin} uses plain http (accepted on a loopback address only, for testing)")
        return url
    if scheme == "http":
        raise NetssoError(f"{what} {shown} uses plain http: it would carry secrets and tokens unencrypted", hint=hint)
    raise NetssoError(f"{what} {shown} is not an https URL", hint=hint)


def _ssl_reason(exc: BaseException) -> str:
    text = str(exc)
    match = re.search(r"certificate verify failed: ([^()'\"]+)", text)
    if match:
        return "certificate verify failed: " + match.group(1).strip().rstrip(".")
    match = re.search(r"(hostname '[^']+' doesn't match[^'\"]*)", text)
    return match.group(1) if match else "TLS handshake failed"


def http_request(settings: ProviderSettings, method: str, url: str, what: str, **kwargs: Any) -> Any:
    """One HTTP call to the provider with TLS settings applied; network/TLS failures become a one-line NetssoError."""
    import requests

    log.register_secret(settings.client_secret, min_length=6)  # before any request: an error may echo it
    kwargs.setdefault("timeout", HTTP_TIMEOUT)
    kwargs["verify"] = tls_verify(settings)
    cert = client_cert(settings)
    if cert is not None:
        kwargs["cert"] = cert
    log.debug(f"{method} {url}", at=2)
    try:
        response = requests.request(method, url, **kwargs)
    except requests.exceptions.SSLError as exc:
        raise NetssoError(f"TLS failure talking to {what} at {_origin(url)}: {_ssl_reason(exc)}", hint=TLS_HINT) from None
    except requests.exceptions.Timeout:
        raise NetssoError(f"{what} at {_origin(url)} unreachable: timed out", hint=NET_HINT) from None
    except requests.exceptions.ConnectionError as exc:
        reason = "connection refused" if "refused" in str(exc).lower() else "connection failed"
        raise NetssoError(f"{what} at {_origin(url)} unreachable: {reason}", hint=NET_HINT) from None
    except requests.exceptions.RequestException as exc:
        raise NetssoError(f"{what} at {_origin(url)} failed: {type(exc).__name__}") from None
    log.debug(f"-> HTTP {response.status_code}", at=2)
    return response


def _origin(url: str) -> str:
    match = re.match(r"^([a-z]+://[^/?#]+)", url)
    return match.group(1) if match else url


class ProviderMetadata:
    """The provider's discovery document and JWKS (JWKS loaded lazily, refetched once on an unknown kid)."""

    def __init__(self, settings: ProviderSettings, config: dict[str, Any], jwks: dict[str, Any] | None = None) -> None:
        # Checked here, not only when fetched: a cached document goes through the same rules.
        for name in ENDPOINTS:
            if config.get(name) is not None:
                check_url(config[name], f"the provider's {name}")
        self.settings = settings
        self.config = config
        self._jwks = jwks

    @property
    def issuer(self) -> str:
        return str(self.config["issuer"])

    def endpoint(self, name: str) -> str | None:
        value = self.config.get(name)
        return value if isinstance(value, str) and value else None

    @property
    def authorization_endpoint(self) -> str:
        return str(self.config["authorization_endpoint"])

    @property
    def token_endpoint(self) -> str:
        return str(self.config["token_endpoint"])

    def require(self, name: str, feature: str) -> str:
        value = self.endpoint(name)
        if value is None:
            raise NetssoError(f"the provider {self.issuer} does not support {feature} (no {name} in its discovery document)",
                              hint="use another --grant-type")
        return value

    @property
    def iss_parameter_supported(self) -> bool:
        """RFC 9207 3: the provider says every authorization response carries iss."""
        return self.config.get("authorization_response_iss_parameter_supported") is True

    @property
    def signing_algs(self) -> list[str]:
        algs = self.config.get("id_token_signing_alg_values_supported")
        return [a for a in algs if isinstance(a, str)] if isinstance(algs, list) else ["RS256"]

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            self._jwks = fetch_jwks(self.settings, str(self.config["jwks_uri"]))
            _store(self.settings, self.config, self._jwks)
        return self._jwks


def _cache_file(settings: ProviderSettings) -> str | None:
    if settings.token_cache_storage == "none":
        return None
    key = hashlib.sha256(json.dumps([settings.issuer_url, settings.certificate_authorities,
                                     settings.insecure_skip_tls_verify]).encode()).hexdigest()
    return os.path.join(settings.token_cache_dir, "discovery", key + ".json")


def _load_cached(settings: ProviderSettings) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    path = _cache_file(settings)
    if path is None:
        return None
    from .cache import check_existing_dir, read_bounded

    if not check_existing_dir(settings.token_cache_dir):
        return None
    raw = read_bounded(path)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        age = time.time() - float(data["fetched_at"])
        config, jwks = data["config"], data.get("jwks")
        # A fetched_at in the future would make the entry fresh forever: only an age within [0, TTL] counts.
        if not 0 <= age <= DISCOVERY_TTL or not isinstance(config, dict) or config.get("issuer") != settings.issuer_url:
            return None
        if jwks is not None and not isinstance(jwks, dict):
            return None
        return config, jwks
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _store(settings: ProviderSettings, config: dict[str, Any], jwks: dict[str, Any] | None) -> None:
    path = _cache_file(settings)
    if path is None:
        return
    from .cache import atomic_write, ensure_dir

    try:
        ensure_dir(settings.token_cache_dir)
        ensure_dir(os.path.dirname(path))
        atomic_write(path, json.dumps({"fetched_at": time.time(), "config": config, "jwks": jwks}).encode())
    except NetssoError as err:
        log.debug(f"not caching discovery: {err.message}")


def check_issuer(issuer: str) -> None:
    try:
        check_url(issuer, "issuer URL")
    except NetssoError as err:
        # The API server only accepts https issuers (--oidc-issuer-url "must use the https scheme").
        raise NetssoError(err.message, hint="check --oidc-issuer-url: it must be the provider's https:// issuer") from None


def fetch_config(settings: ProviderSettings) -> dict[str, Any]:
    """GET <issuer>/.well-known/openid-configuration and check it describes this issuer (OIDC Discovery 4.3)."""
    issuer = settings.issuer_url
    check_issuer(issuer)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = http_request(settings, "GET", url, "issuer", headers={"Accept": "application/json"})
    not_op = f"{issuer} is not an OpenID Provider"
    hint = "check --oidc-issuer-url: it must serve /.well-known/openid-configuration"
    if response.status_code != 200:
        raise NetssoError(f"{not_op}: discovery answered HTTP {response.status_code}", hint=hint)
    try:
        config = response.json()
    except ValueError:
        raise NetssoError(f"{not_op}: the discovery document is not JSON", hint=hint) from None
    if not isinstance(config, dict):
        raise NetssoError(f"{not_op}: the discovery document is not a JSON object", hint=hint)
    missing = [f for f in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not config.get(f)]
    if missing:
        raise NetssoError(f"{not_op}: the discovery document lacks {', '.join(missing)}", hint=hint)
    # OIDC Discovery 4.3: "The issuer value returned MUST be identical to the Issuer URL that was used as the prefix
    # to /.well-known/openid-configuration to retrieve the configuration information."
    if config["issuer"] != issuer:
        raise NetssoError(f"the provider says its issuer is {config['issuer']!r}, not {issuer!r}",
                          hint="use exactly the provider's issuer as --oidc-issuer-url (mind a trailing slash)")
    return config


def fetch_jwks(settings: ProviderSettings, url: str) -> dict[str, Any]:
    response = http_request(settings, "GET", url, "JWKS endpoint", headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise NetssoError(f"could not fetch the provider's signing keys: HTTP {response.status_code} from {url}")
    try:
        jwks = response.json()
    except ValueError:
        raise NetssoError(f"the provider's signing keys at {url} are not JSON") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise NetssoError(f"the provider's signing keys at {url} are not a JWK set")
    return jwks


def discover(settings: ProviderSettings, use_cache: bool = True) -> ProviderMetadata:
    """Provider metadata from the on-disk cache (if fresh and use_cache) or the network."""
    check_issuer(settings.issuer_url)
    if use_cache:
        cached = _load_cached(settings)
        if cached is not None:
            try:
                metadata = ProviderMetadata(settings, cached[0], cached[1])
            except NetssoError as err:
                log.debug(f"not using the cached discovery document: {err.message}")
            else:
                log.debug("using cached discovery document")
                return metadata
    config = fetch_config(settings)
    metadata = ProviderMetadata(settings, config)  # checks the endpoints before anything is cached or called
    _store(settings, config, None)
    return metadata
