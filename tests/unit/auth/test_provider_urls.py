"""Issue 9 items 4 and 5: URLs from the provider (issuer, discovery endpoints, device verification URIs) must be
https (plain http only on a loopback host, with a warning), and nothing that is not an http(s) URL, in particular
nothing starting with "-", ever reaches a browser's argv. The real-Chromium attack is in
tests/e2e/test_security_browser_argv.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.fake_op import FakeOP, PluginRunner
from helpers.https_op import HTTPS_OP_EXTRA

from kubectl_netsso.auth import browser, discovery, flows
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.errors import NetssoError

HOSTILE = ["--renderer-cmd-prefix=/tmp/x.sh", "file:///etc/passwd", "javascript:alert(document.cookie)",
           "http://sso.example.test/auth", "ftp://sso.example.test/auth", "data:text/html,<script>x</script>",
           "https://", "https://sso.example.test/a b", "https://sso.example.test/\x1b[2J", "//sso.example.test/auth",
           "HTTPS:/sso.example.test", "https://sso.example.test:99999/"]


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


@pytest.mark.parametrize("name", ["authorization_endpoint", "token_endpoint", "jwks_uri", "device_authorization_endpoint",
                                  "revocation_endpoint"])
@pytest.mark.parametrize("value", HOSTILE)
def test_every_endpoint_from_discovery_must_be_https(op: FakeOP, tmp_path: Path, name: str, value: str) -> None:
    op.extra_config[name] = value
    settings = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "c"))
    with pytest.raises(NetssoError, match=f"the provider's {name} ") as exc:
        discovery.discover(settings)
    assert "https" in (exc.value.hint or "")
    assert not list((tmp_path / "c").rglob("*.json"))  # a refused document is not cached either


def test_loopback_http_is_accepted_with_one_warning(op: FakeOP, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "_warned_http", set())
    settings = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "c"))
    assert discovery.discover(settings).token_endpoint == op.issuer + "/token"
    assert discovery.discover(settings).token_endpoint == op.issuer + "/token"
    err = capsys.readouterr().err
    assert err.count(f"warning: the OpenID Provider at {op.issuer} uses plain http") == 1


def test_a_cached_document_with_a_bad_endpoint_is_fetched_again(op: FakeOP, tmp_path: Path) -> None:
    settings = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "c"))
    op.extra_config["authorization_endpoint"] = "javascript:alert(1)"
    with pytest.raises(NetssoError):
        discovery.discover(settings)
    import json
    import time

    from kubectl_netsso.auth.cache import atomic_write, ensure_dir

    path = discovery._cache_file(settings)
    assert path is not None
    ensure_dir(str(Path(path).parent))
    atomic_write(path, json.dumps({"fetched_at": time.time(), "config": op.config(), "jwks": None}).encode())
    op.extra_config.clear()
    assert discovery.discover(settings).authorization_endpoint == op.issuer + "/auth"


def test_plain_http_issuer_is_refused_before_any_request(tmp_path: Path) -> None:
    plugin = PluginRunner(FakeOP(), tmp_path)  # never started: nothing may be contacted
    got = plugin.run("login", env={"NETSSO_OIDC_ISSUER_URL": "http://sso.example.test"})
    assert got.returncode == 3 and "Traceback" not in got.stderr
    errors = [line for line in got.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: issuer URL 'http://sso.example.test' uses plain http: it would carry secrets and tokens "
                      "unencrypted"], got.stderr
    assert "hint: check --oidc-issuer-url: it must be the provider's https:// issuer" in got.stderr


def test_https_issuer_with_plain_http_token_endpoint_is_refused(https_op: tuple[str, Path], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9 item 5: the client secret, the code and the refresh token would cross the network in clear text."""
    issuer, cert = https_op
    monkeypatch.setitem(HTTPS_OP_EXTRA, "token_endpoint", "http://sso.example.test/token")
    settings = ProviderSettings(issuer, "kube", certificate_authorities=(str(cert),), token_cache_dir=str(tmp_path / "c"))
    with pytest.raises(NetssoError, match="the provider's token_endpoint 'http://sso.example.test/token' uses plain http"):
        discovery.discover(settings, use_cache=False)


@pytest.mark.parametrize("field", ["verification_uri", "verification_uri_complete"])
@pytest.mark.parametrize("value", ["--renderer-cmd-prefix=/tmp/x.sh", "javascript:alert(1)", "file:///etc/passwd",
                                   "http://sso.example.test/device"])
def test_device_verification_uris_must_be_https(op: FakeOP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                field: str, value: str) -> None:
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", lambda url, command=None: opened.append(url) or True)
    monkeypatch.setattr(flows, "_sleep", lambda s: None)
    original = op._handler()

    class Hostile(original):  # type: ignore[misc, valid-type]
        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            if isinstance(body, dict) and "device_code" in body:
                body = dict(body, **{field: value})
            super()._json(status, body, headers)

    op.server.RequestHandlerClass = Hostile
    settings = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "c"), grant_type="device-code",
                                browser_command="true")
    with pytest.raises(NetssoError, match=f"verification_uri{'_complete' if field.endswith('complete') else ''} "):
        flows.login_device(settings, discovery.discover(settings))
    assert opened == []


@pytest.mark.parametrize("url", ["--renderer-cmd-prefix=/tmp/x.sh", "-x", "javascript:alert(1)", "file:///etc/passwd",
                                 " https://x", ""])
def test_nothing_but_http_urls_reaches_a_browser(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(browser.subprocess, "Popen", lambda argv, **kw: started.append(argv))
    with pytest.raises(NetssoError, match="not an http\\(s\\) URL"):
        browser.open_url(url, "chromium --headless")
    assert started == []


@pytest.mark.parametrize(("command", "expected_tail"), [
    ("chromium --headless=new", ["--", "https://sso.example.test/auth?x=1"]),
    ("/usr/bin/google-chrome", ["--", "https://sso.example.test/auth?x=1"]),
    ("firefox --new-window", ["--new-window", "https://sso.example.test/auth?x=1"]),
    ("chromium -- ", ["--", "https://sso.example.test/auth?x=1"]),
])
def test_chromium_family_gets_the_url_after_dashdash(command: str, expected_tail: list[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(browser.subprocess, "Popen", lambda argv, **kw: started.append(argv))
    assert browser.open_url("https://sso.example.test/auth?x=1", command)
    assert started[0][-len(expected_tail):] == expected_tail
    assert started[0].count("--") <= 1
