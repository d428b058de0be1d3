"""Bad provider settings against the real provider: one `error:` line (+ `hint:`), exit 3, never a traceback."""

from __future__ import annotations

import socket

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("case", ["no-ca", "unreachable", "not-an-op", "wrong-client"])
def test_login_bad_settings_one_line(provider, home, run_netsso, case):
    args = {
        # the test CA is not trusted by default: the user needs --certificate-authority
        "no-ca": [f"--oidc-issuer-url={provider.issuer}", "--oidc-client-id=netsso"],
        "unreachable": [f"--oidc-issuer-url=https://127.0.0.1:{_free_port()}", "--oidc-client-id=netsso"],
        "not-an-op": [f"--oidc-issuer-url={provider.issuer}/nothing-here", "--oidc-client-id=netsso",
                      f"--certificate-authority={provider.ca_path}"],
        "wrong-client": [f"--oidc-issuer-url={provider.issuer}", "--oidc-client-id=nobody",
                         f"--certificate-authority={provider.ca_path}", "--grant-type=device-code"],
    }[case]
    r = run_netsso("login", *args, "--skip-open-browser", "--authentication-timeout=5", timeout=60)
    assert r.returncode == 3, (r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, r.stderr
    assert "Traceback" not in r.stderr
    if case == "no-ca":
        assert any(line.startswith("hint:") and "--certificate-authority" in line for line in lines), r.stderr
    if case == "unreachable":
        assert "127.0.0.1" in errors[0]
    if case == "wrong-client":
        assert "client" in errors[0].lower()
