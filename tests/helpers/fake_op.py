"""Helpers for the auth unit tests (no tests here): locally generated signing keys and a tiny token-endpoint server.

The real OpenID Provider (npm oidc-provider) is exercised by the e2e tests under tests/e2e/. This in-test server only
stands in where the provider is not the point (PKCE bookkeeping, refresh rotation, device polling, error answers).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from .executable import exe, isolated_env

_KEY_CACHE: dict[str, RSAKey] = {}


def rsa_key(kid: str = "k1") -> RSAKey:
    """A 2048-bit RSA key (generated once per kid per test session)."""
    if kid not in _KEY_CACHE:
        _KEY_CACHE[kid] = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
    return _KEY_CACHE[kid]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], key: RSAKey | None = None, alg: str = "RS256", header: dict[str, Any] | None = None) -> str:
    key = key or rsa_key()
    hdr = {"alg": alg, "kid": key.kid, **(header or {})}
    return jwt.encode(hdr, claims, key)


def unsigned_jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    hdr = header or {"alg": "none", "typ": "JWT"}
    return f"{b64url(json.dumps(hdr).encode())}.{b64url(json.dumps(claims).encode())}."


def fake_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped string with a fake signature (for cache and expiry tests that never verify)."""
    hdr = b64url(json.dumps({"alg": "RS256", "kid": "k1"}).encode())
    return f"{hdr}.{b64url(json.dumps(claims).encode())}.{b64url(secrets.token_bytes(32))}"


class FakeOP:
    """A small OpenID Provider on http://127.0.0.1:<port>: discovery, JWKS, /auth (auto-approves, redirects),
    /token (authorization_code with PKCE check, refresh_token with rotation + reuse detection, device_code),
    /device/auth, /revoke. Counters in ``stats``."""

    def __init__(self, client_id: str = "netsso", id_ttl: int = 300) -> None:
        self.client_id = client_id
        self.id_ttl = id_ttl
        self.key = rsa_key()
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, str] = {}  # live RT -> sub
        self.used_refresh_tokens: set[str] = set()
        self.devices: dict[str, dict[str, Any]] = {}
        self.stats: dict[str, int] = {"refresh": 0, "refresh_error": 0, "code": 0, "device_poll": 0, "revoke": 0}
        self.revoked: list[str] = []
        self.rotate = True
        self.refresh_returns_id_token = True
        self.device_script: list[str] = []  # errors to return on successive polls before success; "drop": no answer
        self.device_interval: int | None = None
        self.auth_error: tuple[str, str] | None = None
        self.extra_config: dict[str, Any] = {}
        self.send_iss = True  # RFC 9207 iss in the authorization response
        self.id_claims: dict[str, Any] = {}  # claims added to (or overriding) every issued ID token
        self.token_reply: tuple[int, str, bytes] | None = None  # (status, content type, body) for every /token POST
        self.token_echo = False  # answer /token with invalid_grant echoing the secrets it received (a leaky provider)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FakeOP:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- tokens ---------------------------------------------------------------------------------------------------

    def id_token(self, sub: str = "alice", nonce: str | None = None, **extra: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": sub, "aud": self.client_id, "iat": now, "exp": now + self.id_ttl,
                  "groups": ["dev", "ops"], "email": "alice@example.test", "email_verified": True}
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_claims)
        claims.update(extra)
        return sign(claims, self.key)

    def _issue(self, sub: str, nonce: str | None) -> dict[str, Any]:
        rt = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[rt] = sub
        return {"access_token": "at-" + secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": self.id_ttl,
                "id_token": self.id_token(sub, nonce), "refresh_token": rt, "scope": "openid"}

    def config(self) -> dict[str, Any]:
        i = self.issuer
        cfg = {"issuer": i, "authorization_endpoint": i + "/auth", "token_endpoint": i + "/token", "jwks_uri": i + "/jwks",
               "device_authorization_endpoint": i + "/device/auth", "revocation_endpoint": i + "/revoke",
               "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}
        cfg.update(self.extra_config)
        return cfg

    # -- the fake browser -------------------------------------------------------------------------------------------

    def browse(self, url: str) -> tuple[int, str]:
        """What a browser does with the authorization URL: GET it, follow the redirect to the loopback listener."""
        req = urllib.request.Request(url)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            resp = opener.open(req, timeout=5)
            location = resp.headers.get("Location")
        except urllib.error.HTTPError as err:
            location = err.headers.get("Location")
            if not location:
                return err.code, err.read().decode()
        try:
            with urllib.request.urlopen(location, timeout=5) as final:
                return final.status, final.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    # -- HTTP -------------------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, op.config())
                if url.path == "/jwks":
                    return self._json(200, {"keys": [op.key.as_dict(private=False)]})
                if url.path == "/auth":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    redirect = q["redirect_uri"]
                    if op.auth_error:
                        params = {"error": op.auth_error[0], "error_description": op.auth_error[1], "state": q.get("state", "")}
                    else:
                        code = "code-" + secrets.token_urlsafe(16)
                        op.codes[code] = q
                        params = {"code": code, "state": q.get("state", "")}
                        if op.send_iss:
                            params["iss"] = op.issuer
                    self.send_response(302)
                    self.send_header("Location", redirect + "?" + urlencode(params))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                path = urlsplit(self.path).path
                with op.lock:
                    if path == "/token":
                        return self._token(form)
                    if path == "/device/auth":
                        dc = "dc-" + secrets.token_urlsafe(16)
                        op.devices[dc] = {"polls": 0}
                        body = {"device_code": dc, "user_code": "ABCD-EFGH", "verification_uri": op.issuer + "/device",
                                "verification_uri_complete": op.issuer + "/device?user_code=ABCD-EFGH", "expires_in": 600}
                        if op.device_interval is not None:
                            body["interval"] = op.device_interval
                        return self._json(200, body)
                    if path == "/revoke":
                        op.stats["revoke"] += 1
                        op.revoked.append(form.get("token", ""))
                        op.refresh_tokens.pop(form.get("token", ""), None)
                        return self._json(200, {})
                return self._json(404, {"error": "not_found"})

            def _token(self, form: dict[str, str]) -> None:
                if op.token_echo:
                    auth = self.headers.get("Authorization") or ""
                    basic = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ":"
                    secret = basic.split(":", 1)[1]
                    echoed = (f"refresh token {form.get('refresh_token')} (or {urlencode({'rt': form.get('refresh_token', '')})})"
                              f" revoked; code {form.get('code')} used; client secret {secret} is wrong")
                    return self._json(400, {"error": "invalid_grant", "error_description": echoed})
                if op.token_reply is not None:
                    status, ctype, data = op.token_reply
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                grant = form.get("grant_type")
                if grant == "authorization_code":
                    req = op.codes.pop(form.get("code", ""), None)
                    if req is None:
                        return self._json(400, {"error": "invalid_grant", "error_description": "unknown code"})
                    challenge = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                    if req.get("code_challenge_method") != "S256" or challenge != req.get("code_challenge"):
                        return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
                    if form.get("redirect_uri") != req.get("redirect_uri"):
                        return self._json(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
                    op.stats["code"] += 1
                    return self._json(200, op._issue("alice", req.get("nonce")))
                if grant == "refresh_token":
                    rt = form.get("refresh_token", "")
                    if rt in op.used_refresh_tokens or rt not in op.refresh_tokens:
                        op.stats["refresh_error"] += 1
                        return self._json(400, {"error": "invalid_grant", "error_description": "grant request is invalid"})
                    op.stats["refresh"] += 1
                    sub = op.refresh_tokens[rt]
                    time.sleep(0.05)  # widen the race window for the concurrency tests
                    body = op._issue(sub, None)
                    if op.rotate:
                        del op.refresh_tokens[rt]
                        op.used_refresh_tokens.add(rt)
                    else:
                        del op.refresh_tokens[body["refresh_token"]]
                        body.pop("refresh_token")
                    if not op.refresh_returns_id_token:
                        body.pop("id_token")
                    return self._json(200, body)
                if grant == "urn:ietf:params:oauth:grant-type:device_code":
                    op.stats["device_poll"] += 1
                    dev = op.devices.get(form.get("device_code", ""))
                    if dev is None:
                        return self._json(400, {"error": "invalid_grant"})
                    if op.device_script:
                        step = op.device_script.pop(0)
                        if step == "drop":  # the connection closes with no answer (an idle keep-alive timed out)
                            self.close_connection = True
                            return None
                        return self._json(400, {"error": step})
                    del op.devices[form["device_code"]]
                    return self._json(200, op._issue("alice", None))
                return self._json(400, {"error": "unsupported_grant_type"})

        return Handler


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def follow_opened_urls(op: FakeOP, monkeypatch: Any) -> list[str]:
    """Replace the browser launcher by a thread that follows the URL like a browser would; returns the opened URLs."""
    from kubectl_netsso.auth import browser

    opened: list[str] = []

    def open_url(url: str, browser_command: str | None = None) -> bool:
        opened.append(url)
        threading.Thread(target=op.browse, args=(url,), daemon=True).start()
        return True

    monkeypatch.setattr(browser, "open_url", open_url)
    return opened


# -- the installed executable against a FakeOP ------------------------------------------------------------------------

_BROWSE = '''import sys, urllib.error, urllib.request
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
try:
    urllib.request.build_opener(NoRedirect).open(sys.argv[-1], timeout=10)
except urllib.error.HTTPError as err:
    location = err.headers.get("Location")
    if location:
        try:
            urllib.request.urlopen(location, timeout=10).read()
        except urllib.error.HTTPError:
            pass
'''


class PluginRunner:
    """Runs the installed ``kubectl-netsso`` with a private HOME against a FakeOP; the "browser" is a tiny script that
    does what a browser does with the URL (GET it, follow the redirect to the loopback listener)."""

    def __init__(self, op: FakeOP, root: Any, client_id: str = "netsso") -> None:
        import sys

        self.op = op
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.browse = root / "browse.py"
        self.browse.write_text(_BROWSE)
        self.cache_dir = self.home / ".kube" / "cache" / "netsso"
        self.env = isolated_env(self.home, KUBECONFIG=str(self.home / ".kube" / "config"),
                                NETSSO_OIDC_ISSUER_URL=op.issuer, NETSSO_OIDC_CLIENT_ID=client_id,
                                NETSSO_LISTEN_ADDRESS="127.0.0.1:0", NETSSO_GRANT_TYPE="authcode",
                                NETSSO_BROWSER_COMMAND=f"{sys.executable} {self.browse}")

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
        import subprocess

        return subprocess.run([exe(), *args], env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)


NONINTERACTIVE_EXEC_INFO = json.dumps({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
                                       "spec": {"interactive": False}})
