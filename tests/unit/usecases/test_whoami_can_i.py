"""usecases/whoami.py, can_i.py and permissions.py called as functions: a token in the project's own cache (its API),
the shop example's RBAC offline."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.rbac.claims import ClaimMapping
from kubectl_netsso.usecases import whoami
from kubectl_netsso.usecases.identity import IdentityInput

ISSUER = "https://issuer.example.test"
NO_KUBECONFIG = os.path.join(os.path.dirname(__file__), "no-such-kubeconfig")


def kube(namespace: str | None = None, user: str | None = None, groups: tuple[str, ...] = ()) -> KubeOptions:
    return KubeOptions(NO_KUBECONFIG, None, namespace, False, user, groups)


def unsigned_jwt(claims: dict[str, Any]) -> str:
    def seg(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256', 'kid': 'k'})}.{seg(claims)}.c2lnbmF0dXJl"


def cached(tmp_path: Path, claims: dict[str, Any], mapping: ClaimMapping | None = None) -> IdentityInput:
    values: dict[str, object] = {"issuer_url": ISSUER, "client_id": "netsso", "token_cache_dir": str(tmp_path)}
    open_cache(ProviderSettings.from_values(values)).save(TokenSet(unsigned_jwt(claims), None, ISSUER, "netsso"))
    return IdentityInput(values, mapping or ClaimMapping())


def test_whoami_local_maps_the_token_like_the_api_server(tmp_path: Path) -> None:
    now = int(time.time())
    inp = cached(tmp_path, {"iss": ISSUER, "sub": "alice", "groups": ["dev"], "iat": now, "exp": now + 600})
    result = whoami.run(whoami.WhoamiInput(inp, local=True), kube())
    assert result.cluster is None and result.exit_code == 0
    assert result.mapped is not None and result.mapped.username == f"{ISSUER}#alice"  # the default issuer# prefix
    data = result.to_dict()
    assert data["local"]["subject"] == "alice" and data["local"]["expired"] is False and data["compared"] is False
    assert data["findings"] == []  # the prefix findings need the cluster's view


def test_whoami_local_flags_an_expired_token_without_groups(tmp_path: Path) -> None:
    inp = cached(tmp_path, {"iss": ISSUER, "sub": "bob", "exp": int(time.time()) - 60})
    data = whoami.run(whoami.WhoamiInput(inp, local=True), kube()).to_dict()
    assert data["local"]["expired"] is True
    assert {f["code"] for f in data["findings"]} >= {"token-expired", "no-groups-claim"}


def test_whoami_local_without_a_token_says_not_logged_in(tmp_path: Path) -> None:
    from kubectl_netsso.errors import NetssoError

    values: dict[str, object] = {"issuer_url": ISSUER, "client_id": "netsso", "token_cache_dir": str(tmp_path)}
    with pytest.raises(NetssoError, match="not logged in"):
        whoami.run(whoami.WhoamiInput(IdentityInput(values), local=True), kube())
