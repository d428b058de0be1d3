"""16 get-token processes at once on an expired ID token with a valid refresh token: one refresh, 16 valid tokens."""

from __future__ import annotations

import shutil
import time

from harness.netsso import (
    browser_args,
    credential,
    exec_info,
    jwt_claims,
    provider_args,
    read_cache,
    run_get_token_together,
)

N = 16


def test_sixteen_concurrent_get_token_share_one_refresh(provider, apiserver, home, browser_command, run_netsso, recorder):
    args = provider_args(provider, *browser_args(browser_command))
    provider.set_ttl(id_token=3)
    r = run_netsso("login", *args, timeout=90)
    assert r.returncode == 0, r.stderr
    old = read_cache(home.cache_dir)
    provider.set_ttl(id_token=300)  # the refreshed token is long-lived: the 15 others must take it from the cache
    time.sleep(max(0.0, jwt_claims(old["id_token"])["exp"] - time.time() + 0.2))
    assert provider.refresh_grants(ok_only=False) == 0

    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    env = dict(home.env, KUBERNETES_EXEC_INFO=exec_info(interactive=False), NETSSO_EXPIRY_MARGIN="0")
    started = time.monotonic()
    results = run_get_token_together(exe, args, env, N, recorder, "kubectl-netsso get-token (concurrent)")
    recorder.timing(f"{N} concurrent get-token with one refresh (wall)", time.monotonic() - started)

    assert [rc for rc, _, _ in results] == [0] * N, [err for _, _, err in results]
    tokens = {credential(out)["status"]["token"] for _, out, _ in results}
    assert provider.refresh_grants(ok_only=False) == 1, provider.stats()["grants"]
    assert len(tokens) == 1 and old["id_token"] not in tokens
    # every printed token is accepted by the kube-apiserver rules (signature, iss, aud, exp)
    token = tokens.pop()
    user = apiserver.authenticate(token)
    assert user.username == f"{provider.issuer}#alice"
    assert len(browser_command.invocations()) == 1  # only the initial login
    assert read_cache(home.cache_dir)["id_token"] == token
    assert read_cache(home.cache_dir)["refresh_token"] != old["refresh_token"]  # rotated
