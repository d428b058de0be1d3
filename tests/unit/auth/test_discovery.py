"""Discovery and TLS: unreachable issuer, not an OpenID Provider, TLS failure with the --certificate-authority hint,
custom CA files, the insecure flag, the on-disk discovery cache, and the keyboard (paste) grant."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_auth_support import FakeOP

from kubectl_netsso.auth import browser, discovery, flows
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.errors import NetssoError


def _self_signed(directory: Path, cn: str = "netsso unit test") -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


HTTPS_OP_EXTRA: dict[str, str] = {}  # discovery fields the https_op fixture adds or overrides (monkeypatch.setitem)


@pytest.fixture()
def https_op(tmp_path: Path) -> Any:
    """A discovery document served over HTTPS with a self-signed certificate."""
    cert, key = _self_signed(tmp_path)
    box: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"issuer": box["issuer"], "authorization_endpoint": box["issuer"] + "/auth",
                               "token_endpoint": box["issuer"] + "/token", "jwks_uri": box["issuer"] + "/jwks",
                               **HTTPS_OP_EXTRA}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    box["issuer"] = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield box["issuer"], cert
    server.shutdown()
    server.server_close()


def test_tls_failure_suggests_certificate_authority(https_op: tuple[str, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    issuer, _cert = https_op
    s = ProviderSettings(issuer, "kube", token_cache_dir=str(tmp_path / "c"))
    with pytest.raises(NetssoError) as exc:
        discovery.discover(s)
    assert exc.value.message.startswith(f"TLS failure talking to issuer at {issuer}: certificate verify failed")
    assert "--certificate-authority" in (exc.value.hint or "")


def test_custom_ca_trusts_provider_despite_env_bundle(https_op: tuple[str, Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    issuer, cert = https_op
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    s = ProviderSettings(issuer, "kube", certificate_authorities=(str(cert),), token_cache_dir=str(tmp_path / "c"))
    assert discovery.discover(s, use_cache=False).issuer == issuer
    other, _key = _self_signed(tmp_path / "other", cn="another CA")
    both = s.replace(certificate_authorities=(str(other), str(cert)))  # several CA files are combined
    assert discovery.discover(both, use_cache=False).issuer == issuer


def test_insecure_skip_verify_warns(https_op: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "_warned_insecure", False)
    s = ProviderSettings(https_op[0], "kube", insecure_skip_tls_verify=True, token_cache_dir=str(tmp_path / "c"))
    assert discovery.discover(s, use_cache=False).issuer == https_op[0]
    assert "TLS certificate verification of the OpenID Provider is disabled" in capsys.readouterr().err


def test_missing_ca_file(tmp_path: Path) -> None:
    s = ProviderSettings("https://127.0.0.1:1", "kube", certificate_authorities=(str(tmp_path / "nope.pem"),))
    with pytest.raises(NetssoError, match="certificate authority file .* does not exist"):
        discovery.discover(s)


def test_discovery_issuer_mismatch_and_cache(tmp_path: Path) -> None:
    with FakeOP() as op:
        s = ProviderSettings(op.issuer, "kube", token_cache_dir=str(tmp_path / "c"))
        first = discovery.discover(s)
        assert first.token_endpoint == op.issuer + "/token"
        op.extra_config["token_endpoint"] = op.issuer + "/changed"
        assert discovery.discover(s).token_endpoint == op.issuer + "/token"  # from the on-disk cache
        assert discovery.discover(s, use_cache=False).token_endpoint == op.issuer + "/changed"
        op.extra_config["issuer"] = op.issuer + "/"
        with pytest.raises(NetssoError, match="says its issuer is"):
            discovery.discover(s, use_cache=False)


def test_keyboard_grant_accepts_pasted_redirect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    with FakeOP() as op:
        s = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "c"), grant_type="authcode-keyboard")
        urls: list[str] = []
        monkeypatch.setattr(browser, "open_url", lambda url, cmd=None: urls.append(url) or False)

        class Stop(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a: Any, **k: Any) -> None:
                return None

        def paste() -> str:  # the user copies the address the provider redirected the browser to
            try:
                urllib.request.build_opener(Stop).open(urls[0], timeout=5)
            except urllib.error.HTTPError as err:
                return str(err.headers["Location"])
            raise AssertionError("no redirect")

        tokens = flows.login_keyboard(s, discovery.discover(s), read_line=paste)
        assert tokens.claims["sub"] == "alice"
        assert "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob" in urls[0]
        with pytest.raises(NetssoError, match="state mismatch"):
            flows.login_keyboard(s, discovery.discover(s), read_line=lambda: "urn:x?code=abc&state=forged")


def test_a_ca_bundle_planted_in_the_cache_is_never_trusted(https_op: tuple[str, Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9 item 3: several --certificate-authority files used to be combined into <cache>/ca/<sha>.pem and reused;
    whoever wrote that file first decided which servers the plugin trusts. Trust material is no longer cached."""
    import hashlib

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    issuer, attacker_cert = https_op  # the attacker's server: its certificate is in none of the user's CA files
    mine_a, _ = _self_signed(tmp_path / "a", cn="my CA a")
    mine_b, _ = _self_signed(tmp_path / "b", cn="my CA b")
    cache = tmp_path / "c"
    s = ProviderSettings(issuer, "kube", certificate_authorities=(str(mine_a), str(mine_b)), token_cache_dir=str(cache))
    blob = b"".join(Path(p).read_bytes().strip() + b"\n" for p in s.certificate_authorities)
    planted = cache / "ca" / (hashlib.sha256(blob).hexdigest() + ".pem")
    planted.parent.mkdir(parents=True)
    planted.write_bytes(attacker_cert.read_bytes())
    os.chmod(planted, 0o600)
    with pytest.raises(NetssoError, match="certificate verify failed"):
        discovery.discover(s, use_cache=False)
    assert planted.read_bytes() == attacker_cert.read_bytes()  # not used, not rewritten
    assert not [p for p in cache.rglob("*.pem") if p != planted]  # and nothing new cached
