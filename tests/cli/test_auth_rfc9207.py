"""Issue 9 item 10 (RFC 9207) through the installed executable: when discovery says
authorization_response_iss_parameter_supported: true, an authorization response without iss is rejected (loopback
and pasted), and one with iss must name the issuer; without the promise a response without iss still works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.fake_op import FakeOP, PluginRunner


@pytest.fixture()
def op() -> Any:
    with FakeOP() as server:
        yield server


def _errors(proc: Any) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def test_response_without_iss_is_rejected_when_promised(op: FakeOP, tmp_path: Path) -> None:
    op.extra_config["authorization_response_iss_parameter_supported"] = True
    op.send_iss = False
    got = PluginRunner(op, tmp_path).run("login")
    assert got.returncode == 3
    assert _errors(got) == ["error: the login response has no iss parameter, though the provider says it always sends "
                            "one (RFC 9207)"], got.stderr
    assert op.stats["code"] == 0  # the code was never exchanged


def test_response_with_the_right_iss_is_accepted_when_promised(op: FakeOP, tmp_path: Path) -> None:
    op.extra_config["authorization_response_iss_parameter_supported"] = True
    got = PluginRunner(op, tmp_path).run("login")
    assert got.returncode == 0, got.stderr
    assert op.stats["code"] == 1


def test_response_without_iss_is_accepted_without_the_promise(op: FakeOP, tmp_path: Path) -> None:
    op.send_iss = False
    got = PluginRunner(op, tmp_path).run("login")
    assert got.returncode == 0, got.stderr


def test_pasted_redirect_without_iss_is_rejected_when_promised(op: FakeOP, tmp_path: Path) -> None:
    op.extra_config["authorization_response_iss_parameter_supported"] = True
    plugin = PluginRunner(op, tmp_path)
    import subprocess
    from urllib.parse import parse_qs, urlsplit

    from helpers.executable import exe as plugin_exe

    proc = subprocess.Popen([plugin_exe(), "login", "--grant-type=authcode-keyboard", "--skip-open-browser",
                             "--oidc-redirect-url=http://127.0.0.1:9/keyboard"], env=plugin.env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stdin is not None
    line = proc.stderr.readline()
    while line and not line.startswith("Open this URL"):
        line = proc.stderr.readline()
    url = line.split(": ", 1)[1].strip()
    state = parse_qs(urlsplit(url).query)["state"][0]
    out, err = proc.communicate(f"http://127.0.0.1:9/keyboard?code=pasted-code&state={state}\n", timeout=30)
    assert proc.returncode == 3
    assert "has no iss parameter" in err and "RFC 9207" in err, err
    assert op.stats["code"] == 0
