"""Last test of the suite: no token string in any captured output of the suite's login / get-token / kubectl runs.

get-token's stdout is kubectl's credential channel (the token belongs there) and is excluded; everything else (stderr
of every run, stdout of login/logout/setup/kubectl) is scanned for every token the harness saw (bearer tokens at the API
double, tokens in caches, minted and forged tokens, tokens printed by get-token) and for anything shaped like a JWT.
"""

from __future__ import annotations

import pytest
from harness.env import JWT_RE


@pytest.mark.leak_scan
def test_no_token_in_any_captured_output(captured_outputs, seen_tokens, recorder):
    runs = len(captured_outputs) // 2
    if runs == 0:
        pytest.skip("no login/get-token run was captured in this session (run the whole e2e suite)")
    secrets = {t for t in seen_tokens if len(t) >= 16}
    leaks = []
    for label, text in captured_outputs:
        for token in secrets:
            if token in text:
                leaks.append((label, token[:12] + "..."))
        for match in JWT_RE.findall(text):
            leaks.append((label, match[:12] + "... (JWT-shaped)"))
        # the refresh token, even half of it, must not appear either
        for token in secrets:
            if len(token) >= 32 and token[: len(token) // 2] in text:
                leaks.append((label, token[:8] + "... (partial)"))
    assert not leaks, leaks
    assert secrets, "the harness saw no tokens: the scan would be vacuous"
