"""Provider settings from flags and NETSSO_* environment variables, and the token cache key.

Stdlib only and no dataclasses (importing dataclasses pulls in inspect, ~8 ms): this module is on the
get-token fast path, which kubectl runs before every command.
"""

from __future__ import annotations

import json
import os

try:  # the builtin sha256 avoids loading OpenSSL's _hashlib (~2 ms) on the fast path
    from _sha256 import sha256 as _sha256
except ImportError:  # pragma: no cover - other Python builds
    from hashlib import sha256 as _sha256

GRANT_TYPES = ("auto", "authcode", "authcode-keyboard", "device-code", "client-credentials")
STORAGES = ("file", "disk", "keyring", "none")  # disk: kubelogin's name for file
PKCE_METHODS = ("auto", "S256", "no")
DEFAULT_LISTEN_ADDRESSES = ("127.0.0.1:8000", "127.0.0.1:18000")
DEFAULT_REDIRECT_PATH = "/callback"
DEFAULT_SCOPES = ("openid",)
DATA_SUFFIX = ".json"  # <cache dir>/<key>.json holds the token set (cache.py writes it, the fast path reads it)

# One table drives the click options (cli/provider_options.py), the fast-path parser and from_exec_args.
# (flag, dest, kind, env var, help). kind: "str" | "multi" | "bool" | "int".
# Multi-valued env vars are comma separated.
OPTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("--oidc-issuer-url", "issuer_url", "str", "NETSSO_OIDC_ISSUER_URL", "Issuer URL of the OpenID Provider (https)."),
    ("--oidc-client-id", "client_id", "str", "NETSSO_OIDC_CLIENT_ID", "OAuth client id registered at the provider."),
    ("--oidc-client-secret", "client_secret", "str", "NETSSO_OIDC_CLIENT_SECRET", "Client secret (omit for public clients)."),
    ("--oidc-extra-scope", "extra_scopes", "multi", "NETSSO_OIDC_EXTRA_SCOPE",
     "Scope to request besides openid (repeatable), e.g. email, groups, offline_access."),
    ("--oidc-auth-request-extra-params", "extra_params", "multi", "NETSSO_OIDC_AUTH_REQUEST_EXTRA_PARAMS",
     "Extra authorization request parameter KEY=VALUE (repeatable)."),
    ("--certificate-authority", "certificate_authorities", "multi", "NETSSO_CERTIFICATE_AUTHORITY",
     "PEM file with CA certificates to trust for the provider (repeatable)."),
    ("--insecure-skip-tls-verify", "insecure_skip_tls_verify", "bool", "NETSSO_INSECURE_SKIP_TLS_VERIFY",
     "Do not verify the provider's TLS certificate (insecure; prints a warning)."),
    ("--token-cache-dir", "token_cache_dir", "str", "NETSSO_TOKEN_CACHE_DIR",
     "Token cache directory (default: $KUBECACHEDIR/netsso or ~/.kube/cache/netsso)."),
    ("--token-cache-storage", "token_cache_storage", "str", "NETSSO_TOKEN_CACHE_STORAGE",
     "Where tokens are kept: file (default; disk is the same), keyring (OS secret store) or none."),
    ("--grant-type", "grant_type", "str", "NETSSO_GRANT_TYPE",
     "auto (default), authcode, authcode-keyboard, device-code or client-credentials (CI bots; needs the client "
     "secret; never opens a browser)."),
    ("--oidc-use-access-token", "use_access_token", "bool", "NETSSO_OIDC_USE_ACCESS_TOKEN",
     "Send the access token instead of the ID token (a JWT, verified against the provider's JWKS)."),
    ("--oidc-pkce-method", "pkce_method", "str", "NETSSO_OIDC_PKCE_METHOD",
     "PKCE: auto (default: S256 unless discovery lists only other methods), S256 or no."),
    ("--tls-client-cert", "tls_client_cert", "str", "NETSSO_TLS_CLIENT_CERT",
     "PEM client certificate for a provider that requires mutual TLS (with --tls-client-key)."),
    ("--tls-client-key", "tls_client_key", "str", "NETSSO_TLS_CLIENT_KEY",
     "PEM private key of --tls-client-cert: your own file, readable by nobody else."),
    ("--open-url-after-authentication", "open_url_after_authentication", "str", "NETSSO_OPEN_URL_AFTER_AUTHENTICATION",
     "URL (https, or http on loopback) the browser goes to after a successful login."),
    ("--listen-address", "listen_addresses", "multi", "NETSSO_LISTEN_ADDRESS",
     "Loopback address for the redirect listener (repeatable; default 127.0.0.1:8000, 127.0.0.1:18000, then random)."),
    ("--oidc-redirect-path", "redirect_path", "str", "NETSSO_OIDC_REDIRECT_PATH",
     "Path of the loopback redirect URI (default /callback)."),
    ("--oidc-redirect-url", "redirect_url", "str", "NETSSO_OIDC_REDIRECT_URL",
     "Redirect URI for authcode-keyboard (default urn:ietf:wg:oauth:2.0:oob)."),
    ("--authentication-timeout", "authentication_timeout", "int", "NETSSO_AUTHENTICATION_TIMEOUT",
     "Seconds to wait for the browser or device login (default 180)."),
    ("--browser-command", "browser_command", "str", "NETSSO_BROWSER_COMMAND",
     "Command to open the login URL with (run without a shell; the URL is appended)."),
    ("--skip-open-browser", "skip_open_browser", "bool", "NETSSO_SKIP_OPEN_BROWSER",
     "Do not open a browser; only print the URL to stderr."),
    ("--expiry-margin", "expiry_margin", "int", "NETSSO_EXPIRY_MARGIN",
     "Seconds before the ID token's exp at which it counts as expired (default 60)."),
    ("--force-refresh", "force_refresh", "bool", "NETSSO_FORCE_REFRESH",
     "Refresh (or log in) even if the cached ID token is still valid."),
)
_BY_FLAG = {o[0]: o for o in OPTIONS}
_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """Bad flag or environment value; the CLI turns it into a one-line error."""


def parse_args(args: list[str] | tuple[str, ...]) -> tuple[dict[str, object], list[str]]:
    """Parse provider flags (``--flag value`` / ``--flag=value``) out of args; return (values, other args).

    Only the flags of OPTIONS are understood; anything else is returned in the second list untouched.
    """
    values: dict[str, object] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=")
        opt = _BY_FLAG.get(name)
        if opt is None:
            rest.append(arg)
            i += 1
            continue
        _flag, dest, kind, _env, _help = opt
        if kind == "bool":
            values[dest] = (inline.lower() in _TRUE) if eq else True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        else:
            if i + 1 >= len(args):
                raise SettingsError(f"option {name} requires a value")
            value = args[i + 1]
            i += 2
        if kind == "multi":
            values.setdefault(dest, [])
            values[dest].append(value)  # type: ignore[attr-defined]
        else:
            values[dest] = value
    return values, rest


def values_from_env(env: dict[str, str] | os._Environ[str]) -> dict[str, object]:
    """The NETSSO_* environment variables as option values (flags win over these)."""
    values: dict[str, object] = {}
    for _flag, dest, kind, var, _help in OPTIONS:
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        if kind == "bool":
            values[dest] = raw.strip().lower() in _TRUE
        elif kind == "multi":
            values[dest] = [p.strip() for p in raw.split(",") if p.strip()]
        else:
            values[dest] = raw
    return values


def _as_int(name: str, value: object, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be a whole number of seconds, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative")
    return number


def default_cache_dir(env: dict[str, str] | os._Environ[str] | None = None) -> str:
    """$KUBECACHEDIR/netsso, else ~/.kube/cache/netsso (kubectl's own cache convention)."""
    env = os.environ if env is None else env
    base = env.get("KUBECACHEDIR")
    if base:
        return os.path.join(os.path.expanduser(base), "netsso")
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".kube", "cache", "netsso")


class ProviderSettings:
    """Everything needed to talk to one OpenID Provider and to find its cached tokens.

    Immutable by convention (a plain class with __slots__ to keep the fast path free of dataclasses).
    """

    __slots__ = (
        "issuer_url", "client_id", "client_secret", "extra_scopes", "extra_params", "certificate_authorities",
        "insecure_skip_tls_verify", "token_cache_dir", "token_cache_storage", "grant_type", "listen_addresses",
        "redirect_path", "redirect_url", "authentication_timeout", "browser_command", "skip_open_browser",
        "expiry_margin", "force_refresh", "use_access_token", "pkce_method", "tls_client_cert", "tls_client_key",
        "open_url_after_authentication",
    )

    issuer_url: str
    client_id: str
    client_secret: str | None
    extra_scopes: tuple[str, ...]
    extra_params: tuple[tuple[str, str], ...]
    certificate_authorities: tuple[str, ...]
    insecure_skip_tls_verify: bool
    token_cache_dir: str
    token_cache_storage: str
    grant_type: str
    listen_addresses: tuple[str, ...]
    redirect_path: str
    redirect_url: str | None
    authentication_timeout: int
    browser_command: str | None
    skip_open_browser: bool
    expiry_margin: int
    force_refresh: bool
    use_access_token: bool
    pkce_method: str
    tls_client_cert: str | None
    tls_client_key: str | None
    open_url_after_authentication: str | None

    def __init__(
        self,
        issuer_url: str,
        client_id: str,
        client_secret: str | None = None,
        extra_scopes: tuple[str, ...] | list[str] = (),
        extra_params: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
        certificate_authorities: tuple[str, ...] | list[str] = (),
        insecure_skip_tls_verify: bool = False,
        token_cache_dir: str | None = None,
        token_cache_storage: str = "file",
        grant_type: str = "auto",
        listen_addresses: tuple[str, ...] | list[str] = (),
        redirect_path: str = DEFAULT_REDIRECT_PATH,
        redirect_url: str | None = None,
        authentication_timeout: int = 180,
        browser_command: str | None = None,
        skip_open_browser: bool = False,
        expiry_margin: int = 60,
        force_refresh: bool = False,
        use_access_token: bool = False,
        pkce_method: str = "auto",
        tls_client_cert: str | None = None,
        tls_client_key: str | None = None,
        open_url_after_authentication: str | None = None,
    ) -> None:
        if not issuer_url:
            raise SettingsError("the issuer URL is missing (--oidc-issuer-url or NETSSO_OIDC_ISSUER_URL)")
        if not client_id:
            raise SettingsError("the client id is missing (--oidc-client-id or NETSSO_OIDC_CLIENT_ID)")
        if token_cache_storage == "disk":
            token_cache_storage = "file"
        if token_cache_storage not in STORAGES:
            raise SettingsError(f"--token-cache-storage must be one of {', '.join(STORAGES)}, got {token_cache_storage!r}")
        if grant_type not in GRANT_TYPES:
            raise SettingsError(f"--grant-type must be one of {', '.join(GRANT_TYPES)}, got {grant_type!r}")
        if pkce_method not in PKCE_METHODS:
            raise SettingsError(f"--oidc-pkce-method must be one of {', '.join(PKCE_METHODS)}, got {pkce_method!r}")
        if bool(tls_client_cert) != bool(tls_client_key):
            raise SettingsError("--tls-client-cert and --tls-client-key go together")
        if open_url_after_authentication and not _web_url(open_url_after_authentication):
            raise SettingsError("--open-url-after-authentication must be an https URL (http only on a loopback host), "
                                f"got {open_url_after_authentication!r}")
        if not redirect_path.startswith("/"):
            redirect_path = "/" + redirect_path
        s = object.__setattr__
        # Kept verbatim: OIDC Discovery 4.3 and the API server compare the issuer exactly (Auth0's ends in "/").
        s(self, "issuer_url", issuer_url)
        s(self, "client_id", client_id)
        s(self, "client_secret", client_secret or None)
        s(self, "extra_scopes", tuple(extra_scopes))
        s(self, "extra_params", tuple(_param_pair(p) for p in extra_params))
        s(self, "certificate_authorities", tuple(os.path.abspath(os.path.expanduser(p)) for p in certificate_authorities))
        s(self, "insecure_skip_tls_verify", bool(insecure_skip_tls_verify))
        s(self, "token_cache_dir", os.path.abspath(os.path.expanduser(token_cache_dir or default_cache_dir())))
        s(self, "token_cache_storage", token_cache_storage)
        s(self, "grant_type", grant_type)
        s(self, "listen_addresses", tuple(listen_addresses))
        s(self, "redirect_path", redirect_path)
        s(self, "redirect_url", redirect_url or None)
        s(self, "authentication_timeout", int(authentication_timeout))
        s(self, "browser_command", browser_command or None)
        s(self, "skip_open_browser", bool(skip_open_browser))
        s(self, "expiry_margin", int(expiry_margin))
        s(self, "force_refresh", bool(force_refresh))
        # client credentials answer with an access token only: that is the credential
        s(self, "use_access_token", bool(use_access_token) or grant_type == "client-credentials")
        s(self, "pkce_method", pkce_method)
        s(self, "tls_client_cert", os.path.abspath(os.path.expanduser(tls_client_cert)) if tls_client_cert else None)
        s(self, "tls_client_key", os.path.abspath(os.path.expanduser(tls_client_key)) if tls_client_key else None)
        s(self, "open_url_after_authentication", open_url_after_authentication or None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ProviderSettings is immutable; use replace()")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProviderSettings):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        secret = "'[redacted]'" if self.client_secret else "None"
        return f"ProviderSettings(issuer_url={self.issuer_url!r}, client_id={self.client_id!r}, client_secret={secret}, ...)"

    def replace(self, **changes: object) -> ProviderSettings:
        kwargs: dict[str, object] = {n: getattr(self, n) for n in self.__slots__}
        kwargs.update(changes)
        return ProviderSettings(**kwargs)  # type: ignore[arg-type]

    # -- construction -------------------------------------------------------------------------------------------

    @classmethod
    def from_values(cls, values: dict[str, object], env: dict[str, str] | os._Environ[str] | None = None) -> ProviderSettings:
        """Settings from parsed option values (None/empty = not given) over NETSSO_* environment variables."""
        env = os.environ if env is None else env
        merged = values_from_env(env)
        for key, value in values.items():
            if value is None or value == () or value == [] or (value is False and key in merged):
                continue
            merged[key] = value
        extra_params: list[tuple[str, str]] = []
        for item in merged.get("extra_params", ()) or ():  # type: ignore[attr-defined]
            key, eq, val = str(item).partition("=")
            if not eq or not key:
                raise SettingsError(f"--oidc-auth-request-extra-params expects KEY=VALUE, got {item!r}")
            extra_params.append((key, val))
        cache_dir = merged.get("token_cache_dir")
        return cls(
            issuer_url=str(merged.get("issuer_url") or ""),
            client_id=str(merged.get("client_id") or ""),
            client_secret=merged.get("client_secret") or None,  # type: ignore[arg-type]
            extra_scopes=_split_scopes(merged.get("extra_scopes")),
            extra_params=extra_params,
            certificate_authorities=tuple(merged.get("certificate_authorities") or ()),  # type: ignore[arg-type]
            insecure_skip_tls_verify=bool(merged.get("insecure_skip_tls_verify")),
            token_cache_dir=str(cache_dir) if cache_dir else default_cache_dir(env),
            token_cache_storage=str(merged.get("token_cache_storage") or "file"),
            grant_type=str(merged.get("grant_type") or "auto"),
            listen_addresses=tuple(merged.get("listen_addresses") or ()),  # type: ignore[arg-type]
            redirect_path=str(merged.get("redirect_path") or DEFAULT_REDIRECT_PATH),
            redirect_url=merged.get("redirect_url") or None,  # type: ignore[arg-type]
            authentication_timeout=_as_int("--authentication-timeout", merged.get("authentication_timeout"), 180),
            browser_command=merged.get("browser_command") or None,  # type: ignore[arg-type]
            skip_open_browser=bool(merged.get("skip_open_browser")),
            expiry_margin=_as_int("--expiry-margin", merged.get("expiry_margin"), 60),
            force_refresh=bool(merged.get("force_refresh")),
            use_access_token=bool(merged.get("use_access_token")),
            pkce_method=str(merged.get("pkce_method") or "auto"),
            tls_client_cert=merged.get("tls_client_cert") or None,  # type: ignore[arg-type]
            tls_client_key=merged.get("tls_client_key") or None,  # type: ignore[arg-type]
            open_url_after_authentication=merged.get("open_url_after_authentication") or None,  # type: ignore[arg-type]
        )

    @classmethod
    def from_exec_args(
        cls, args: list[str] | tuple[str, ...], env: dict[str, str] | os._Environ[str] | None = None
    ) -> ProviderSettings:
        """Rebuild settings from a kubeconfig exec stanza: ``args`` as written there (``get-token`` and other
        non-provider arguments are ignored) and ``env`` = the process environment updated with the stanza's
        ``env`` entries. Raises SettingsError when the issuer or client id is missing or a value is bad."""
        values, _rest = parse_args(list(args))
        return cls.from_values(values, os.environ if env is None else env)

    # -- derived values -----------------------------------------------------------------------------------------

    @property
    def scopes(self) -> tuple[str, ...]:
        """openid first, then the extra scopes in the given order, without duplicates."""
        seen: list[str] = list(DEFAULT_SCOPES)
        for scope in self.extra_scopes:
            if scope not in seen:
                seen.append(scope)
        return tuple(seen)

    def cache_key(self) -> str:
        """sha256 (hex) of a canonical JSON of everything that changes the token.

        Sorted scopes and params keep the key stable whatever the flag order (int128/kubelogin#1638 was an unstable
        key causing repeated logins). CA files count by absolute path, not content: a renewed CA bundle must not force
        a new login. Cache dir, storage and login behaviour (grant type, ports, browser) do not change the token.
        """
        canonical = {
            "v": 1,
            "issuer": self.issuer_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret or "",
            "scopes": sorted(set(self.scopes)),
            "extra_params": sorted([k, v] for k, v in self.extra_params),
            "ca": sorted(self.certificate_authorities),
            "insecure": self.insecure_skip_tls_verify,
        }
        # Added only when set, so that the keys of every existing login stay what they were.
        if self.use_access_token:
            canonical["access_token"] = True  # another credential for the same login
        if self.grant_type == "client-credentials":
            canonical["grant"] = self.grant_type  # the client's own identity, not a user's
        if self.tls_client_cert:
            canonical["client_cert"] = self.tls_client_cert  # mTLS-bound tokens belong to that certificate
        blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return str(_sha256(blob.encode("utf-8")).hexdigest())

    def exec_args(self, include_secret: bool = True) -> list[str]:
        """The get-token arguments that reproduce these settings (for kubeconfig exec stanzas; absolute CA paths).

        ``include_secret=False`` leaves the client secret out, for an exec stanza that passes it in ``env:`` (any
        local user can read a process's argv in /proc; only the same user can read its environment)."""
        out = ["get-token", f"--oidc-issuer-url={self.issuer_url}", f"--oidc-client-id={self.client_id}"]
        if self.client_secret and include_secret:
            out.append(f"--oidc-client-secret={self.client_secret}")
        out += [f"--oidc-extra-scope={s}" for s in self.extra_scopes]
        out += [f"--oidc-auth-request-extra-params={k}={v}" for k, v in self.extra_params]
        out += [f"--certificate-authority={p}" for p in self.certificate_authorities]
        if self.insecure_skip_tls_verify:
            out.append("--insecure-skip-tls-verify")
        if self.token_cache_dir != os.path.abspath(default_cache_dir()):
            out.append(f"--token-cache-dir={self.token_cache_dir}")
        if self.token_cache_storage != "file":
            out.append(f"--token-cache-storage={self.token_cache_storage}")
        if self.grant_type != "auto":
            out.append(f"--grant-type={self.grant_type}")
        out += [f"--listen-address={a}" for a in self.listen_addresses]
        if self.redirect_path != DEFAULT_REDIRECT_PATH:
            out.append(f"--oidc-redirect-path={self.redirect_path}")
        if self.redirect_url:
            out.append(f"--oidc-redirect-url={self.redirect_url}")
        if self.authentication_timeout != 180:
            out.append(f"--authentication-timeout={self.authentication_timeout}")
        if self.browser_command:
            out.append(f"--browser-command={self.browser_command}")
        if self.skip_open_browser:
            out.append("--skip-open-browser")
        if self.expiry_margin != 60:
            out.append(f"--expiry-margin={self.expiry_margin}")
        if self.use_access_token and self.grant_type != "client-credentials":
            out.append("--oidc-use-access-token")
        if self.pkce_method != "auto":
            out.append(f"--oidc-pkce-method={self.pkce_method}")
        if self.tls_client_cert and self.tls_client_key:
            out += [f"--tls-client-cert={self.tls_client_cert}", f"--tls-client-key={self.tls_client_key}"]
        if self.open_url_after_authentication:
            out.append(f"--open-url-after-authentication={self.open_url_after_authentication}")
        return out


def _param_pair(item: object) -> tuple[str, str]:
    """("k", "v") pairs, also accepting "k=v" strings."""
    if isinstance(item, str):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise SettingsError(f"--oidc-auth-request-extra-params expects KEY=VALUE, got {item!r}")
        return key, value
    key, value = item  # type: ignore[misc]
    return str(key), str(value)


def _web_url(url: str) -> bool:
    """https://host..., or http:// on a loopback host; no spaces or control characters (it goes into a Location)."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return False
    lower = url.lower()
    if lower.startswith("https://") and len(url) > 8:
        return True
    if not lower.startswith("http://"):
        return False
    hostport = lower[7:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in hostport:
        return False
    if hostport == "[::1]" or hostport.startswith("[::1]:"):
        return True
    host = hostport.split(":", 1)[0]
    return host == "localhost" or (host.startswith("127.") and host.replace(".", "").isdigit())


def _split_scopes(value: object) -> tuple[str, ...]:
    """Scopes may be given repeated, comma separated or space separated."""
    out: list[str] = []
    for item in value or ():  # type: ignore[attr-defined]
        for part in str(item).replace(",", " ").split():
            if part not in out:
                out.append(part)
    return tuple(out)
