"""Issue 9 item 4 against the real Chromium: a hostile provider whose discovery document says the authorization
endpoint is ``--renderer-cmd-prefix=<program>``. On the old code the login put that value first in Chromium's argv
and Chromium ran the attacker's program for its renderer; now the login stops before any browser starts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from harness.browser import CHROMIUM, FLAGS, chromium_available
from harness.require import unavailable


class HostileProvider:
    """An http OpenID Provider on 127.0.0.1 whose discovery endpoints are whatever the test says."""

    def __init__(self, endpoints: dict[str, str]) -> None:
        outer = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                if self.path.startswith("/.well-known/openid-configuration"):
                    body = json.dumps({"issuer": outer.issuer, "token_endpoint": outer.issuer + "/token",
                                       "jwks_uri": outer.issuer + "/jwks", **endpoints}).encode()
                else:
                    body = b'{"keys": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chromium_wrapper(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A --browser-command that records its argv and runs the real headless Chromium (at most 20 s) with it."""
    missing = chromium_available()
    if missing:
        unavailable(missing)
    paths = {"wrapper": tmp_path / "open-in-chromium", "argv": tmp_path / "argv.json", "pid": tmp_path / "chromium.pid",
             "profile": tmp_path / "profile"}
    flags = " ".join(f for f in FLAGS if f != "--ignore-certificate-errors")
    paths["wrapper"].write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > '{paths['argv']}'\n"
        f"echo $$ > '{paths['pid']}'\n"
        f"exec timeout 20 {CHROMIUM} {flags} --user-data-dir='{paths['profile']}' \"$@\"\n")
    paths["wrapper"].chmod(0o755)
    yield paths
    if paths["pid"].exists():  # the browser we started (old code only): end it by its pid
        try:
            os.killpg(os.getpgid(int(paths["pid"].read_text())), signal.SIGKILL)
        except (OSError, ValueError):
            pass


@pytest.mark.parametrize("endpoint", ["--renderer-cmd-prefix={evil} #", "-{evil}", "javascript:alert(1)//",
                                      "file://{evil}"])
def test_authorization_endpoint_never_becomes_a_browser_flag(home, recorder, chromium_wrapper, tmp_path: Path,
                                                             endpoint: str) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch '{marker}'\nexec \"$@\"\n")
    evil.chmod(0o755)
    hostile = HostileProvider({"authorization_endpoint": endpoint.format(evil=evil)})
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    assert exe
    try:
        r: Any = recorder.run([exe, "login", f"--oidc-issuer-url={hostile.issuer}", "--oidc-client-id=netsso",
                               "--grant-type=authcode", "--listen-address=127.0.0.1:0", "--authentication-timeout=8",
                               f"--browser-command={chromium_wrapper['wrapper']}"],
                              env=home.env, label="kubectl-netsso login (hostile authorization_endpoint)", timeout=60)
    finally:
        hostile.stop()
    assert r.returncode == 3 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the provider's authorization_endpoint" in errors[0], r.stderr
    assert not chromium_wrapper["argv"].exists(), "a browser was started with " + chromium_wrapper["argv"].read_text()
    assert not marker.exists(), "Chromium ran the attacker's program"
