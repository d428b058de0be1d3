"""Discovery and TLS: unreachable issuer, not an OpenID Provider, TLS failure with the --certificate-authority hint,
custom CA files, the insecure flag, the on-disk discovery cache, and the keyboard (paste) grant."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_op import FakeOP
from helpers.https_op import self_signed

from kubectl_netsso.auth import browser, discovery, flows
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.errors import NetssoError


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
    other, _key = self_signed(tmp_path / "other", cn="another CA")
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
    mine_a, _ = self_signed(tmp_path / "a", cn="my CA a")
    mine_b, _ = self_signed(tmp_path / "b", cn="my CA b")
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
