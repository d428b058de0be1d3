"""The one-shot loopback redirect listener, driven with real HTTP requests to 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from kubectl_netsso.auth.loopback import LoopbackListener, parse_listen_address
from kubectl_netsso.errors import NetssoError

ISS = "https://sso.example.test"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def wait_async(listener: LoopbackListener, timeout: float) -> dict[str, Any]:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["code"] = listener.wait(timeout)
        except NetssoError as exc:
            box["error"] = exc

    box["thread"] = threading.Thread(target=run, daemon=True)  # a hung listener must not hang pytest
    box["thread"].start()
    return box


@pytest.fixture()
def listener() -> Any:
    lst = LoopbackListener(["127.0.0.1:0"], "/callback", issuer=ISS)
    lst.start("good-state")
    yield lst
    lst.close()


def test_binds_loopback_only(listener: LoopbackListener) -> None:
    assert listener.host == "127.0.0.1" and listener.port > 0
    assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"


def test_stray_requests_ignored_then_code_accepted(listener: LoopbackListener, capsys: pytest.CaptureFixture[str]) -> None:
    box = wait_async(listener, 10)
    base = f"http://127.0.0.1:{listener.port}"
    assert get(base + "/favicon.ico")[0] == 404
    assert get(base + "/other?code=x&state=good-state")[0] == 404
    status, body = get(base + "/callback?state=wrong&code=evil")
    assert status == 400 and "state mismatch" in body
    assert get(base + "/callback?state=good-state")[0] == 400  # no code: keep waiting
    status, body = get(base + f"/callback?code=the-code&state=good-state&iss={ISS}")
    assert status == 200 and "Authenticated" in body
    box["thread"].join(5)
    assert box["code"] == "the-code"
    assert "wrong or missing state" in capsys.readouterr().err
    with pytest.raises(OSError):  # one-shot: the listener is gone
        urllib.request.urlopen(base + "/callback?code=again&state=good-state", timeout=2)


def test_provider_error_shown_on_page_and_raised(listener: LoopbackListener) -> None:
    box = wait_async(listener, 10)
    status, body = get(f"http://127.0.0.1:{listener.port}/callback?state=good-state&error=access_denied"
                       "&error_description=%3Cb%3ENope%3C%2Fb%3E%1b[31m")
    box["thread"].join(5)
    assert status == 400 and "access_denied: &lt;b&gt;Nope&lt;/b&gt;" in body  # escaped, never HTML from the provider
    err = box["error"]
    # control chars escaped visibly, by the output package's escape()
    assert "the provider refused the login: access_denied: <b>Nope</b>\\u001b[31m" in err.message


def test_error_with_wrong_state_does_not_abort(listener: LoopbackListener) -> None:
    box = wait_async(listener, 10)
    base = f"http://127.0.0.1:{listener.port}/callback"
    assert get(base + "?state=forged&error=access_denied")[0] == 400
    assert get(base + "?state=good-state&code=c1")[0] == 200
    box["thread"].join(5)
    assert box["code"] == "c1"


def test_wrong_issuer_on_redirect_rejected(listener: LoopbackListener) -> None:
    box = wait_async(listener, 10)
    get(f"http://127.0.0.1:{listener.port}/callback?state=good-state&code=c&iss=https%3A%2F%2Fevil.test")
    box["thread"].join(5)
    assert "expected 'https://sso.example.test'" in box["error"].message


def test_timeout() -> None:
    lst = LoopbackListener(["127.0.0.1:0"], "/cb")
    lst.start("s")
    start = time.monotonic()
    with pytest.raises(NetssoError, match="no login response from the browser within 0 s") as exc:
        lst.wait(0.3)
    assert time.monotonic() - start < 3 and "--authentication-timeout" in (exc.value.hint or "")


def test_busy_port_falls_through_to_next_address() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        lst = LoopbackListener([f"127.0.0.1:{port}", "127.0.0.1:0"], "/callback")
        assert lst.port != port
        lst.close()
        with pytest.raises(NetssoError, match="in use"):
            LoopbackListener([f"127.0.0.1:{port}"], "/callback")
    finally:
        busy.close()


@pytest.mark.parametrize("addr", ["0.0.0.0:8000", "192.168.1.5:8000", "example.com:80", "[::]:8000"])
def test_non_loopback_addresses_refused(addr: str) -> None:
    with pytest.raises(NetssoError):
        parse_listen_address(addr)


def test_loopback_address_forms() -> None:
    assert parse_listen_address("localhost:8000") == ("127.0.0.1", 8000)
    assert parse_listen_address("[::1]:0") == ("::1", 0)


# -- issue 9 item 1: idle connections ---------------------------------------------------------------------------

def _idle(port: int, n: int) -> list[socket.socket]:
    """Local processes that connect to the listener and send nothing."""
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]


def test_idle_connections_do_not_block_the_redirect(listener: LoopbackListener) -> None:
    idle = _idle(listener.port, 5)
    try:
        box = wait_async(listener, 8)
        status, body = get(f"http://127.0.0.1:{listener.port}/callback?code=c-1&state=good-state&iss={ISS}")
        assert status == 200 and "Authenticated" in body
        box["thread"].join(10)
        assert box.get("code") == "c-1"
    finally:
        for s in idle:
            s.close()


def test_timeout_ends_within_bounds_while_idle_connections_are_open() -> None:
    lst = LoopbackListener(["127.0.0.1:0"], "/callback", issuer=ISS)
    lst.start("s")
    idle = _idle(lst.port, 5)
    try:
        box = wait_async(lst, 1)
        box["thread"].join(6)
        assert not box["thread"].is_alive(), "wait()/close() hung on an idle connection"
        assert "no login response from the browser within 1 s" in box["error"].message
    finally:
        for s in idle:
            s.close()


def test_a_flood_of_idle_connections_is_survived(listener: LoopbackListener) -> None:
    """More idle connections than handler slots: the extra ones are closed at once, the listener keeps serving."""
    from kubectl_netsso.auth import loopback

    box = wait_async(listener, 15)
    idle = []
    for _ in range(loopback.MAX_CONNECTIONS + 20):
        idle += _idle(listener.port, 1)
        time.sleep(0.002)
    try:
        extra = idle[-1]
        extra.settimeout(5)
        assert extra.recv(10) == b""  # over the limit: hung up on
    finally:
        for s in idle:
            s.close()
    status, _body = get(f"http://127.0.0.1:{listener.port}/callback?code=c-2&state=good-state")
    box["thread"].join(10)
    assert status == 200 and box.get("code") == "c-2"


def test_idle_connection_is_dropped_after_the_connection_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubectl_netsso.auth import loopback

    monkeypatch.setattr(loopback._Handler, "timeout", 0.5)
    lst = LoopbackListener(["127.0.0.1:0"], "/callback")
    lst.start("s")
    try:
        (s,) = _idle(lst.port, 1)
        s.settimeout(5)
        started = time.monotonic()
        assert s.recv(100) == b""  # the listener hung up on us
        assert time.monotonic() - started < 4
        s.close()
    finally:
        lst.close()


# -- issue 9 item 10: RFC 9207 ------------------------------------------------------------------------------------

def test_missing_iss_is_rejected_when_the_provider_promises_it() -> None:
    lst = LoopbackListener(["127.0.0.1:0"], "/callback", issuer=ISS, require_iss=True)
    lst.start("st")
    box = wait_async(lst, 10)
    status, body = get(f"http://127.0.0.1:{lst.port}/callback?code=c&state=st")
    box["thread"].join(5)
    assert status == 400 and "issuer" in body
    assert "has no iss parameter" in box["error"].message and "RFC 9207" in box["error"].message


def test_missing_iss_is_accepted_when_the_provider_does_not_promise_it(listener: LoopbackListener) -> None:
    box = wait_async(listener, 10)
    assert get(f"http://127.0.0.1:{listener.port}/callback?code=c&state=good-state")[0] == 200
    box["thread"].join(5)
    assert box["code"] == "c"


@pytest.mark.parametrize("query", ["code=c&state=good-state", "error=access_denied&state=good-state",
                                   "code=c&state=good-state&iss=https%3A%2F%2Fevil.test"])
def test_the_page_is_written_before_the_login_ends(listener: LoopbackListener, monkeypatch: pytest.MonkeyPatch,
                                                   query: str) -> None:
    """Handler threads are daemons: once wait() returns the process may exit and end them, so the browser's page
    must be complete by then (it used to be written after the login was finished: a cut-off page, seen in e2e)."""
    from kubectl_netsso.auth import loopback

    written = threading.Event()
    page = loopback._Handler._page

    def slow_page(self: Any, *args: Any) -> None:
        time.sleep(0.3)  # widen the window in which the old order let wait() return first
        page(self, *args)
        written.set()

    monkeypatch.setattr(loopback._Handler, "_page", slow_page)
    box = wait_async(listener, 10)
    client = threading.Thread(target=get, args=(f"http://127.0.0.1:{listener.port}/callback?{query}",), daemon=True)
    client.start()
    box["thread"].join(10)
    assert written.is_set(), "the login ended before its page was written"
    client.join(5)
