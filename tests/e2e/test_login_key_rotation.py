"""Provider signing-key rotation: the plugin refetches the JWKS once on an unknown `kid` (its discovery/JWKS cache is
stale), and the API double (like kube-apiserver) does the same."""

from __future__ import annotations

import requests
from harness.netsso import browser_args, provider_args, read_cache


def _kid(token: str) -> str:
    import base64
    import json

    head = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"])


def test_login_after_key_rotation(provider, apiserver, home, browser_command, run_netsso):
    args = provider_args(provider, *browser_args(browser_command), "--force-refresh")
    assert run_netsso("login", *args, timeout=90).returncode == 0
    first = read_cache(home.cache_dir)["id_token"]
    ok = requests.get(apiserver.url + "/api/v1/namespaces", headers={"Authorization": f"Bearer {first}"},
                      verify=str(apiserver.ca_path), timeout=10)
    assert ok.status_code == 200  # the API double now holds the old JWKS
    # the plugin keeps discovery + JWKS on disk: it knows only the old key now
    cached_meta = list((home.cache_dir / "discovery").glob("*.json"))
    assert cached_meta and _kid(first) in cached_meta[0].read_text()
    old_kid = _kid(first)

    provider.rotate_keys()
    r = run_netsso("login", *args, timeout=90)
    assert r.returncode == 0, r.stderr
    second = read_cache(home.cache_dir)["id_token"]
    assert _kid(first) != _kid(second) == provider.signing_jwk["kid"]
    ok = requests.get(apiserver.url + "/api/v1/namespaces", headers={"Authorization": f"Bearer {second}"},
                      verify=str(apiserver.ca_path), timeout=10)
    assert ok.status_code == 200
    assert len(browser_command.invocations()) == 2
    refreshed = cached_meta[0].read_text()
    assert provider.signing_jwk["kid"] in refreshed and old_kid in refreshed  # refetched once, old key still published
