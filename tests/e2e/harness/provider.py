"""Start/stop the test OpenID Provider (node tests/e2e/oidc/provider.mjs) and talk to its admin endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from .ca import TestPKI, make_signing_jwks

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"


class ProviderStartError(RuntimeError):
    pass


class OIDCProvider:
    """A running oidc-provider on https://127.0.0.1:<port>; see tests/e2e/harness/README.md."""

    client_id = "netsso"
    confidential_client_id = "netsso-confidential"
    confidential_client_secret = "netsso-test-secret"
    jwt_access_client_id = "netsso-jwt-access"  # public; its access tokens are JWTs with aud "netsso"
    ci_client_id = "netsso-ci"  # client_credentials only; JWT access tokens with aud "netsso", sub "netsso-ci"
    ci_client_secret = "netsso-ci-test-secret"

    def __init__(self, pki: TestPKI, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.pki = pki
        self.workdir = workdir
        self.extra_env = dict(env or {})
        self.ca_path: Path = pki.ca_cert
        self.issuer = ""
        self.admin_url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []
        self._log_lock = threading.Lock()
        self.signing_jwk: dict[str, Any] = {}
        self.minted: list[str] = []
        self._forged: dict[str, dict[str, str]] = {}

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self, timeout: float = 20.0, port: int = 0) -> OIDCProvider:
        node = shutil.which("node")
        if node is None:
            raise ProviderStartError("node is not installed")
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            raise ProviderStartError(f"oidc-provider not installed: run `npm ci` in {OIDC_DIR}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        jwks_path = self.workdir / "signing-jwks.json"
        if not self.signing_jwk:
            self.signing_jwk = make_signing_jwks(jwks_path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_OP_")}
        env.update(self.extra_env)
        env.update(NETSSO_OP_CERT=str(self.pki.leaf_cert), NETSSO_OP_KEY=str(self.pki.leaf_key),
                   NETSSO_OP_JWKS_FILE=str(jwks_path), NETSSO_OP_PORT=str(port))
        self.proc = subprocess.Popen(
            [node, str(OIDC_DIR / "provider.mjs")], cwd=OIDC_DIR, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                line = line.rstrip("\n")
                with self._log_lock:
                    self.log.append(line)
                if line.startswith("READY "):
                    parts = line.split()
                    self.issuer = parts[1]
                    self.admin_url = self.issuer + parts[2].split("=", 1)[1]
                    ready.set()

        threading.Thread(target=pump, name="oidc-provider-log", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ProviderStartError("oidc-provider did not start:\n" + "\n".join(self.log[-30:]))
        return self

    def rotate_keys(self, keep_old: bool = True) -> None:
        """Restart the provider on the same issuer URL with a new signing key (new kid; the old one still published
        when keep_old). All provider state (sessions, grants, refresh tokens) is lost, as after a real restart."""
        port = int(self.issuer.rsplit(":", 1)[1])
        old = self.signing_jwk
        n = int(str(old.get("kid", "netsso-test-key-1")).rsplit("-", 1)[1]) + 1
        self.stop()
        self.signing_jwk = make_signing_jwks(self.workdir / "signing-jwks.json", kid=f"netsso-test-key-{n}",
                                             also=[old] if keep_old else None)
        self._forged.clear()
        with self._log_lock:
            self.log.clear()
        deadline = time.monotonic() + 10
        while True:  # the port may linger for a moment after the old process exits
            try:
                self.start(port=port)
                return
            except ProviderStartError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plain HTTP helpers ----------------------------------------------------------------------------------
    def _get(self, url: str) -> requests.Response:
        return requests.get(url, verify=str(self.ca_path), timeout=10)

    def _post(self, url: str, **kw: Any) -> requests.Response:
        return requests.post(url, verify=str(self.ca_path), timeout=10, **kw)

    def discovery(self) -> dict[str, Any]:
        return self._get(self.issuer + "/.well-known/openid-configuration").json()

    def jwks(self) -> dict[str, Any]:
        return self._get(self.discovery()["jwks_uri"]).json()

    def token_request(self, data: dict[str, str], auth: tuple[str, str] | None = None) -> requests.Response:
        return self._post(self.discovery()["token_endpoint"], data=data, auth=auth)

    def device_authorize(self, scope: str = "openid offline_access groups email profile") -> dict[str, Any]:
        r = self._post(self.discovery()["device_authorization_endpoint"], data={"client_id": self.client_id, "scope": scope})
        r.raise_for_status()
        return r.json()

    # -- admin -----------------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return self._get(self.admin_url + "/stats").json()

    def grant_count(self, grant_type: str, ok_only: bool = True) -> int:
        g = self.stats()["grants"].get(grant_type, {"ok": 0, "error": 0})
        return int(g["ok"]) if ok_only else int(g["ok"]) + int(g["error"])

    def refresh_grants(self, ok_only: bool = True) -> int:
        return self.grant_count("refresh_token", ok_only)

    def _settings(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self._post(self.admin_url + "/settings", data=json.dumps(body))
        r.raise_for_status()
        return r.json()

    def set_ttl(self, *, id_token: int | None = None, access_token: int | None = None, refresh_token: int | None = None,
                device_code: int | None = None, authorization_code: int | None = None) -> None:
        names = {"IdToken": id_token, "AccessToken": access_token, "RefreshToken": refresh_token,
                 "DeviceCode": device_code, "AuthorizationCode": authorization_code}
        self._settings({"ttl": {k: v for k, v in names.items() if v is not None}})

    def set_device(self, interval: int | None = None, slow_down: bool = False, slow_down_step: int = 5,
                   force_slow_down: int = 0) -> None:
        """interval: added to the device authorization response; slow_down: polls sooner than the interval get
        `slow_down` (interval grows by slow_down_step); force_slow_down: the next N pending polls get `slow_down`."""
        self._settings({"interval": interval, "slow_down": slow_down, "slow_down_step": slow_down_step,
                        "force_slow_down": force_slow_down})

    def events(self, grant_type: str | None = None) -> list[dict[str, Any]]:
        """Token requests in order: {"t", "grant_type", "status", "error", "client_id", "client_auth"}; client_auth is
        how the client authenticated: "client_secret_basic" (Authorization: Basic), "client_secret_post" or "none"."""
        return [e for e in self.stats()["events"] if grant_type is None or e["grant_type"] == grant_type]

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        self._settings({"accounts": accounts})

    def reset(self) -> None:
        self._post(self.admin_url + "/reset").raise_for_status()

    # -- tokens ----------------------------------------------------------------------------------------------
    def mint_id_token(self, sub: str = "alice", groups: Iterable[str] | None = ("netsso-users",), *, ttl: int = 300,
                      claims: dict[str, Any] | None = None, drop: Iterable[str] = (), key: Any = None,
                      alg: str = "RS256", header: dict[str, Any] | None = None) -> str:
        """An ID token like the provider issues, signed with its own key unless ``key``/``alg`` say otherwise."""
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        now = int(time.time())
        payload: dict[str, Any] = {"iss": self.issuer, "sub": sub, "aud": self.client_id, "iat": now, "exp": now + ttl,
                                   "email": f"{sub.split('+')[0]}@example.test", "email_verified": True}
        if groups is not None:
            payload["groups"] = list(groups)
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
        signing_key = key if key is not None else RSAKey.import_key(self.signing_jwk)
        hdr = {"alg": alg, "typ": "JWT"}
        if key is None:
            hdr["kid"] = self.signing_jwk["kid"]
        hdr.update(header or {})
        token = jwt.encode(hdr, payload, signing_key, algorithms=[alg])
        self.minted.append(token)
        return token

    def forged_tokens(self, sub: str = "alice") -> dict[str, str]:
        """ID tokens a verifier must reject, by name (made once per subject: RSA key generation is slow)."""
        if sub not in self._forged:
            self._forged[sub] = self._make_forged(sub)
        return dict(self._forged[sub])

    def _make_forged(self, sub: str) -> dict[str, str]:
        import base64
        import hashlib
        import hmac

        from joserfc.jwk import RSAKey

        def b64(obj: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        now = int(time.time())
        body = {"iss": self.issuer, "sub": sub, "aud": self.client_id, "iat": now, "exp": now + 300, "groups": ["admins"]}
        other = RSAKey.generate_key(2048, parameters={"kid": self.signing_jwk["kid"]})
        public_pem = RSAKey.import_key(self.signing_jwk).as_pem(private=False)
        forged = {
            "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(body)}.",
            "wrong_key": self.mint_id_token(sub, key=other, header={"kid": self.signing_jwk["kid"]}),
            "wrong_iss": self.mint_id_token(sub, claims={"iss": "https://127.0.0.1:1/evil"}),
            "wrong_aud": self.mint_id_token(sub, claims={"aud": "someone-else"}),
            "expired": self.mint_id_token(sub, claims={"iat": now - 600, "exp": now - 300}),
        }
        # the classic key-confusion forgery: HMAC keyed with the provider's public key (joserfc refuses to build it)
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': self.signing_jwk['kid']})}.{b64(body)}"
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        forged["hs256_pubkey"] = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        self.minted.extend(forged.values())
        return forged

    def log_lines(self, prefix: str = "") -> list[str]:
        with self._log_lock:
            return [ln for ln in self.log if ln.startswith(prefix)]
