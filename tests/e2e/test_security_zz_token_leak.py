"""Last test of the suite: no token string in any captured output of the suite's login / get-token / kubectl runs.

get-token's stdout is kubectl's credential channel (the token belongs there) and is excluded; everything else (stderr
of every run, stdout of login/logout/setup/kubectl) is scanned for every token the harness saw (bearer tokens at the API
double, tokens in caches, minted and forged tokens, tokens printed by get-token) and for anything shaped like a JWT.
"""

from __future__ import annotations

import json

import pytest
from harness.env import Recorder, find_leaks

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
RT = "Xq7pV2mN9bL4kR8sT1wY6zA3cD5fG0hJ2uE4iO6pQ8r"


def test_scanner_finds_planted_leaks():
    rec = Recorder()
    rec.record("get-token", json.dumps({"kind": "ExecCredential", "status": {"token": JWT}}), "", stdout_is_credential=True)
    assert find_leaks(rec.outputs, {JWT, RT} | rec.tokens) == []  # the credential channel itself is not a leak
    rec.record("login", "Logged in", f"debug: refresh with {RT[:22]}")
    rec.record("kubectl", "", f"Authorization: Bearer {JWT}")
    found = find_leaks(rec.outputs, {JWT, RT})
    assert ("login [stderr]", RT[:8] + "... (partial)") in found
    assert any(label == "kubectl [stderr]" and "JWT-shaped" in what for label, what in found)


@pytest.mark.leak_scan
def test_no_token_in_any_captured_output(captured_outputs, seen_tokens):
    if not captured_outputs:
        pytest.skip("no login/get-token run was captured in this session (run the whole e2e suite)")
    assert seen_tokens, "the harness saw no tokens: the scan would be vacuous"
    leaks = find_leaks(captured_outputs, seen_tokens)
    assert not leaks, leaks
