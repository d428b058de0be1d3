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
from kubectl_netsso.usecases import can_i, permissions, whoami
from kubectl_netsso.usecases.identity import IdentityInput
from kubectl_netsso.usecases.source import Source

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


def shop(namespace: str | None = None, user: str | None = None, groups: tuple[str, ...] = ()) -> Source:
    return Source(kube(namespace, user, groups), ("example:shop",), with_default_roles=True)


def test_can_i_names_the_granting_binding() -> None:
    inp = can_i.CanIInput(("create", "deployments.apps"), wide=True)
    result = can_i.run(inp, shop("shop", "alice", ("oidc:shop-devs",)))
    assert result.allowed is True and result.exit_code == 0
    assert result.request.namespace == "shop" and result.request.api_group == "apps"
    assert result.decision is not None and result.decision.grant is not None
    assert result.bound and result.to_dict()["identity"]["from"] == "--as"
    denied = can_i.run(can_i.CanIInput(("delete", "namespaces")), shop("shop", "alice", ("oidc:shop-devs",)))
    assert denied.allowed is False and denied.exit_code == 1 and denied.bound == ()


def test_can_i_follows_kubectl_argument_rules() -> None:
    from kubectl_netsso.errors import EXIT_USAGE, NetssoError

    for args in [("get",), ("get", "pods", "x"), ("g t", "pods"), ("get", "pods/a/b")]:
        with pytest.raises(NetssoError) as info:
            can_i.run(can_i.CanIInput(args), shop("shop", "alice"))
        assert info.value.exit_code == EXIT_USAGE
    # TYPE/NAME splits at the first '/': pods/log is a pod named log, not the log subresource
    result = can_i.run(can_i.CanIInput(("get", "pods/log")), shop("shop", "alice"))
    assert (result.request.resource, result.request.name, result.request.subresource) == ("pods", "log", "")


def test_can_i_list_and_permissions_agree() -> None:
    source = shop("frontend", None, ("oidc:contractors",))
    listed = can_i.run_list(IdentityInput(), source)
    assert listed.to_dict()["namespace"] == "frontend" and listed.rules
    perms = permissions.run(permissions.PermissionsInput(), source)
    assert perms.namespace == "frontend" and perms.who is not None
    cells = {
        (r.resource.resource, r.resource.group, r.resource.namespaced, verb): c
        for r in perms.matrix
        for verb, c in zip(perms.data["verbs"], r.cells, strict=True)
    }
    # every cell the matrix allows is covered by one of the listed rules
    from kubectl_netsso.rbac.rules import Request, rule_allows

    for (resource, group, namespaced, verb), allowed in cells.items():
        if allowed and namespaced:
            req = Request(verb=verb, resource=resource, api_group=group, namespace="frontend")
            assert any(rule_allows(rule, req) for rule, _via in listed.rules), (resource, verb)
    assert any(cells.values())
    assert any(r.name for r in perms.risky if r.allowed)  # contractors may create pods in frontend: flagged
