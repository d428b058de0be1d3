"""One-shot redirect listener on the loopback interface: state check, success/failure page, timeout (RFC 8252 7.3)."""

from __future__ import annotations

import errno
import html
import ipaddress
import socket
import socketserver
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import log
from ..errors import NetssoError
from ..output.text import escape
from .settings import DEFAULT_LISTEN_ADDRESSES

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>{title}</h1><p>{body}</p></body></html>"""


def parse_listen_address(address: str) -> tuple[str, int]:
    """'127.0.0.1:8000', '[::1]:0' or 'localhost:8000' -> (ip, port). Only loopback addresses are accepted:
    RFC 8252 8.3 "listen on the loopback network interface only" (never on other interfaces)."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
        port = int(port_text)
    except ValueError:
        raise NetssoError(f"--listen-address {address!r} is not HOST:PORT", hint="e.g. --listen-address 127.0.0.1:8000") from None
    if not ip.is_loopback:
        raise NetssoError(f"--listen-address {address!r} is not a loopback address",
                          hint="the redirect listener only binds to 127.0.0.1 or [::1]")
    if not 0 <= port <= 65535:
        raise NetssoError(f"--listen-address {address!r}: port out of range")
    return str(ip), port


# Any local process can connect to the listener. One that connects and sends nothing must not hold up the browser's
# redirect, the --authentication-timeout or the per-provider lock: each connection gets its own daemon thread with a
# socket timeout, at most MAX_CONNECTIONS at once, and closing never waits for a handler.
CONNECTION_TIMEOUT = 10.0
MAX_CONNECTIONS = 128  # beyond this, new connections are closed at once (threads stay bounded)


class _Server(ThreadingHTTPServer):
    allow_reuse_address = False  # never share a port with another listener
    daemon_threads = True  # a stuck handler never keeps the process alive
    block_on_close = False  # server_close() does not join handler threads
    request_queue_size = 64  # a burst of connections waits in the backlog instead of being refused

    def __init__(self, addr: tuple[str, int], family: int) -> None:
        self.address_family = family
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(addr, _Handler)
        self.listener: LoopbackListener | None = None

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) we do not need.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # a flood of idle connections: drop the newest, keep serving
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = CONNECTION_TIMEOUT  # StreamRequestHandler.setup() puts it on the socket: an idle client is dropped
    protocol_version = "HTTP/1.0"
    server_version = "kubectl-netsso"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return None  # the default logs the request line, which carries the authorization code

    def _page(self, status: int, title: str, body: str) -> None:
        data = _PAGE.format(title=html.escape(title), body=body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client went away: the response it carried still counts

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        listener = self.server.listener
        assert listener is not None
        listener.handle(self)

    def do_POST(self) -> None:  # noqa: N802
        self._page(405, "Method not allowed", "")

    do_HEAD = do_POST  # noqa: N815


class LoopbackListener:
    """Bind first, then build the redirect URI from the bound port, open the browser, then ``wait(timeout)``."""

    def __init__(self, addresses: Sequence[str] = (), path: str = "/callback", issuer: str | None = None,
                 require_iss: bool = False) -> None:
        self.path = path if path.startswith("/") else "/" + path
        self.issuer = issuer
        # RFC 9207 2.4: with authorization_response_iss_parameter_supported true, a response without iss is rejected.
        self.require_iss = require_iss
        self.expected_state: str | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._code: str | None = None
        self._error: NetssoError | None = None
        self._thread: threading.Thread | None = None
        self._server = self._bind(addresses)
        self._server.listener = self
        host, port = self._server.server_address[:2]
        self.host = str(host)
        self.port = int(port)

    @property
    def redirect_uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    def _bind(self, addresses: Sequence[str]) -> _Server:
        explicit = bool(addresses)
        candidates = [parse_listen_address(a) for a in (addresses or DEFAULT_LISTEN_ADDRESSES)]
        if not explicit:
            # RFC 8252 7.3: the provider "MUST allow any port to be specified" for loopback redirects; some providers
            # only accept registered ports, hence 8000 and 18000 first, then any free port.
            candidates.append(("127.0.0.1", 0))
        failures = []
        for host, port in candidates:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            try:
                return _Server((host, port), family)
            except OSError as exc:
                failures.append(f"{host}:{port} ({'in use' if exc.errno == errno.EADDRINUSE else exc.strerror})")
                log.debug(f"cannot listen on {host}:{port}: {exc.strerror}")
        raise NetssoError(f"cannot listen for the login redirect on {', '.join(failures)}",
                          hint="free one of those ports or pass another --listen-address, e.g. 127.0.0.1:0 for any port")

    def start(self, expected_state: str) -> None:
        self.expected_state = expected_state
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def handle(self, req: _Handler) -> None:
        """One request: ignore strays, reject a wrong state, finish on a code or a provider error.

        The page is written before the login is finished: finishing lets the process exit, which ends this daemon
        thread, and the browser must get the whole page first."""
        url = urlsplit(req.path)
        if url.path != self.path:
            req._page(404, "Not found", "")  # favicon.ico, probes, wrong path: ignore and keep waiting
            return
        with self._lock:
            if self._done.is_set():
                req._page(410, "Already handled", "This login response was already received. You can close this window.")
                return
            query = parse_qs(url.query, keep_blank_values=True)
            state = _one(query, "state")
            if state is None or state != self.expected_state:
                log.warn("ignored a login redirect with a wrong or missing state (not from this login)")
                req._page(400, "Login failed", "The response does not belong to this login (state mismatch).")
                return
            iss = _one(query, "iss")
            error = _one(query, "error")
            if iss is None and self.require_iss and (error is not None or _one(query, "code")):
                # RFC 9207 2.4: "Clients that have received authorization_response_iss_parameter_supported metadata
                # with value true MUST reject authorization responses without the iss parameter" (mix-up defence).
                req._page(400, "Login failed", "The response does not name its issuer.")
                self._finish(None, NetssoError(
                    "the login response has no iss parameter, though the provider says it always sends one (RFC 9207)",
                    hint="the response may come from another provider (mix-up attack); try the login again"))
                return
            if iss is not None and self.issuer is not None and iss != self.issuer:
                # RFC 9207 2.4: "clients MUST compare the iss parameter ... to the issuer identifier" (mix-up defence)
                req._page(400, "Login failed", "The response came from an unexpected issuer.")
                self._finish(None, NetssoError(f"the login response came from issuer {_clean(iss)!r}, expected {self.issuer!r}"))
                return
            if error is not None:
                description = _one(query, "error_description") or ""
                text = _clean(error) + (f": {_clean(description)}" if description else "")
                req._page(400, "Login failed", "The provider reported: " + html.escape(text))
                self._finish(None, NetssoError(f"the provider refused the login: {text}",
                                               hint="check the client settings at the provider, or try again"))
                return
            code = _one(query, "code")
            if not code:
                req._page(400, "Login failed", "The response has no authorization code.")
                return
            req._page(200, "Authenticated", "You are logged in to kubectl netsso. You can close this window.")
            self._finish(code, None)

    def _finish(self, code: str | None, error: NetssoError | None) -> None:
        self._code, self._error = code, error
        self._done.set()

    def wait(self, timeout: float) -> str:
        """The authorization code; NetssoError on a provider error, a wrong issuer or the timeout."""
        try:
            if not self._done.wait(timeout):
                raise NetssoError(f"no login response from the browser within {int(timeout)} s",
                                  hint="finish the login in the browser, or raise --authentication-timeout")
            if self._error is not None:
                raise self._error
            assert self._code is not None
            return self._code
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening. Bounded: the accept loop stops within its poll interval and handler threads are not
        waited for (they are daemons and time out on their own)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        self._server.server_close()


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _clean(text: str, limit: int = 300) -> str:
    """Provider-controlled text, one line of bounded length, with what could drive a terminal escaped visibly by the
    output package's escape() (as every writer does; done here too because the length is bounded after it)."""
    cleaned = escape(text)
    return cleaned[:limit] + ("..." if len(cleaned) > limit else "")
