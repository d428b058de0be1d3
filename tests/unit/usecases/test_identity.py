"""usecases/identity.py: the offline identity (--as, --as-group, or the cached token mapped like the API server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.errors import NetssoError
from kubectl_netsso.usecases.identity import GROUP_MEMBER, IdentityInput, offline_identity, optional_identity

NO_KUBECONFIG = os.path.join(os.path.dirname(__file__), "no-such-kubeconfig")


def kube(user: str | None = None, groups: tuple[str, ...] = ()) -> KubeOptions:
    return KubeOptions(NO_KUBECONFIG, None, None, False, user, groups)


def test_as_user_and_groups() -> None:
    who = offline_identity(kube("alice", ("oidc:shop-devs",)), IdentityInput())
    assert who.user == "alice" and who.how == "--as" and who.token is None
    assert who.to_dict() == {"user": "alice", "groups": list(who.identity.groups), "from": "--as"}
    assert "oidc:shop-devs" in who.identity.groups and "system:authenticated" in who.identity.groups


def test_a_group_alone_is_any_member_of_it() -> None:
    who = offline_identity(kube(None, ("oidc:contractors",)), IdentityInput())
    assert who.identity.user == GROUP_MEMBER and who.user is None and who.how == "--as-group"
    assert who.text.startswith("a member of the groups [")


def test_without_as_or_a_cached_token_there_is_no_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path))
    with pytest.raises(NetssoError, match="not logged in"):
        offline_identity(kube(), IdentityInput())
    assert optional_identity(kube(), IdentityInput(), required=False) is None
    with pytest.raises(NetssoError, match="no identity for an offline check") as info:
        optional_identity(kube(), IdentityInput(), required=True)
    assert info.value.__cause__ is not None  # why there was none stays attached (shown at -vvv)
