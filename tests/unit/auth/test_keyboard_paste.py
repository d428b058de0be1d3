"""authcode-keyboard pasting: a pasted redirect URL naming another issuer is refused before any code exchange
(RFC 9207 mix-up defence, as the loopback listener does), and with a piped stdin the prompt line is ended so that an
error starts its own line."""

from __future__ import annotations

import io
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from helpers.fake_op import FakeOP

from kubectl_netsso.auth import browser, discovery, flows
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.errors import NetssoError


class _Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a: Any, **k: Any) -> None:
        return None


def _redirected_to(url: str) -> str:
    """The address the provider sends the browser to (what a user copies from the address bar)."""
    try:
        urllib.request.build_opener(_Stop).open(url, timeout=5)
    except urllib.error.HTTPError as err:
        return str(err.headers["Location"])
    raise AssertionError("no redirect")


@pytest.fixture
def keyboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    urls: list[str] = []
    monkeypatch.setattr(browser, "open_url", lambda url, cmd=None: urls.append(url) or False)
    with FakeOP() as op:
        s = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "c"), grant_type="authcode-keyboard",
                             redirect_url="http://127.0.0.1:9/keyboard")
        yield op, s, urls


def test_pasted_redirect_from_another_issuer_is_refused_before_the_exchange(keyboard: Any) -> None:
    op, s, urls = keyboard

    def paste_with_other_issuer() -> str:
        real = _redirected_to(urls[-1])
        q = {k: v[0] for k, v in parse_qs(urlsplit(real).query).items()}
        assert q["iss"] == op.issuer  # the fake OP sends iss (RFC 9207) like oidc-provider does
        q["iss"] = "https://attacker.example.test"
        return real.split("?", 1)[0] + "?" + urlencode(q)

    with pytest.raises(NetssoError, match="came from issuer 'https://attacker.example.test'"):
        flows.login_keyboard(s, discovery.discover(s), read_line=paste_with_other_issuer)
    assert op.stats["code"] == 0 and len(op.codes) == 1  # the code was never sent to the token endpoint

    # the same paste with the right issuer (or without iss, for providers that do not send it) logs in
    assert flows.login_keyboard(s, discovery.discover(s), read_line=lambda: _redirected_to(urls[-1])).claims["sub"] == "alice"

    def without_iss() -> str:
        real = _redirected_to(urls[-1])
        q = {k: v[0] for k, v in parse_qs(urlsplit(real).query).items() if k != "iss"}
        return real.split("?", 1)[0] + "?" + urlencode(q)

    assert flows.login_keyboard(s, discovery.discover(s), read_line=without_iss).claims["sub"] == "alice"
    assert op.stats["code"] == 2


def test_piped_stdin_gets_the_prompt_line_ended(keyboard: Any, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    op, s, _urls = keyboard
    monkeypatch.setattr(sys, "stdin", io.StringIO("not-a-code\n"))  # a pipe: no terminal echoes the Enter
    with pytest.raises(NetssoError, match="code exchange failed: invalid_grant"):
        flows.login_keyboard(s, discovery.discover(s))
    err = capsys.readouterr().err
    assert err.endswith("Enter the authorization code (or the whole redirect URL): \n"), err

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # EOF without a line (Ctrl-D)
    with pytest.raises(NetssoError, match="no authorization code entered"):
        flows.login_keyboard(s, discovery.discover(s))
    assert capsys.readouterr().err.endswith(": \n")


def test_a_terminal_echoes_the_enter_itself(keyboard: Any, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    op, s, _urls = keyboard

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty("not-a-code\n"))
    with pytest.raises(NetssoError):
        flows.login_keyboard(s, discovery.discover(s))
    assert capsys.readouterr().err.endswith("(or the whole redirect URL): ")  # no blank line after the user's Enter
