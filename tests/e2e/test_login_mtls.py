"""Issue 16 item 3: --tls-client-cert/--tls-client-key for a provider that requires mutual TLS (the real provider with
NETSSO_OP_CLIENT_CA), with the key held to the token cache's file rules."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from harness.netsso import credential, exec_info
from harness.provider import OIDCProvider, ProviderStartError
from harness.require import unavailable

pytestmark = pytest.mark.e2e


def _client_cert(pki, directory: Path) -> tuple[Path, Path]:
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netsso-ci-bot")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=2))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    cert_path, key_path = directory / "client.pem", directory / "client-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture(scope="module")
def mtls_provider(pki, tmp_path_factory) -> Iterator[OIDCProvider]:
    try:
        op = OIDCProvider(pki, tmp_path_factory.mktemp("oidc-mtls"), env={"NETSSO_OP_CLIENT_CA": str(pki.ca_cert)}).start()
    except ProviderStartError as exc:
        unavailable(f"OpenID Provider unavailable: {exc}")
    yield op
    op.stop()


def _args(op: OIDCProvider) -> list[str]:
    return [f"--oidc-issuer-url={op.issuer}", f"--oidc-client-id={op.ci_client_id}", f"--certificate-authority={op.ca_path}",
            "--grant-type=client-credentials"]


def test_client_certificate_gets_through_mutual_tls(mtls_provider, pki, home, tmp_path, run_netsso):
    cert, key = _client_cert(pki, tmp_path)
    env = {"NETSSO_OIDC_CLIENT_SECRET": mtls_provider.ci_client_secret, "KUBERNETES_EXEC_INFO": exec_info()}
    r = run_netsso("get-token", *_args(mtls_provider), f"--tls-client-cert={cert}", f"--tls-client-key={key}", env=env)
    assert r.returncode == 0, r.stderr
    assert credential(r.stdout)["status"]["token"]

    r = run_netsso("get-token", *_args(mtls_provider), "--force-refresh", env=env)  # no certificate: refused
    assert r.returncode == 3 and r.stderr.startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) <= 2


@pytest.mark.parametrize("attack", ["group-readable", "symlink", "not-pem"])
def test_the_key_follows_the_cache_file_rules(attack, pki, home, tmp_path, run_netsso, mtls_provider):
    cert, key = _client_cert(pki, tmp_path)
    if attack == "group-readable":
        key.chmod(0o640)
    elif attack == "symlink":
        real = tmp_path / "elsewhere.pem"
        key.rename(real)
        os.symlink(real, key)
    else:
        key.write_text("not a key\n")
        key.chmod(0o600)
    env = {"NETSSO_OIDC_CLIENT_SECRET": mtls_provider.ci_client_secret}
    r = run_netsso("login", *_args(mtls_provider), f"--tls-client-cert={cert}", f"--tls-client-key={key}", env=env)
    assert r.returncode == 3
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"error: --tls-client-key {key} "), r.stderr
    assert {"group-readable": "readable by other users", "symlink": "symbolic link", "not-pem": "not a PEM"}[attack] in first
