"""Near misses on plain data: binding subjects naming the token's user or groups with another prefix, and the flag that
makes the offline mapping match them."""

from __future__ import annotations

import shlex
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.cluster.decode import snapshot_from_objects
from kubectl_netsso.rbac.authorize import Authorizer, compile_rbac, identity
from kubectl_netsso.rbac.claims import ClaimMapping, map_claims
from kubectl_netsso.rbac.nearmiss import near_misses
from kubectl_netsso.rbac.rules import Request

ISSUER = "https://idp.example.test"
RBAC = "rbac.authorization.k8s.io"


def model(*subjects: dict[str, str], namespace: str | None = "shop") -> Any:
    binding: dict[str, Any] = {
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": {"name": "b", **({"namespace": namespace} if namespace else {})},
        "subjects": list(subjects), "roleRef": {"kind": "ClusterRole", "name": "reader", "apiGroup": RBAC},
    }  # fmt: skip
    role = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "reader"},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}  # fmt: skip
    return snapshot_from_objects([("t document 1", role), ("t document 2", binding)])


def group(name: str) -> dict[str, str]:
    return {"kind": "Group", "name": name, "apiGroup": RBAC}


def user(name: str) -> dict[str, str]:
    return {"kind": "User", "name": name, "apiGroup": RBAC}


CLAIMS = {"iss": ISSUER, "sub": "alice", "email": "alice@example.test", "groups": ["contractors", "dev"]}


def flags(snap: Any, mapping: ClaimMapping | None = None, namespaces: list[str] | None = None) -> list[str]:
    return [m.flag for m in near_misses(compile_rbac(snap), CLAIMS, mapping or ClaimMapping(), ISSUER, namespaces)]


def test_prefixed_group() -> None:
    (miss,) = near_misses(compile_rbac(model(group("oidc:contractors"))), CLAIMS, ClaimMapping(), ISSUER)
    assert (miss.binding, miss.kind, miss.subject, miss.value, miss.mapped, miss.flag) == (
        "RoleBinding shop/b", "Group", "oidc:contractors", "contractors", "contractors", "--groups-prefix oidc:")
    assert miss.message == ("RoleBinding shop/b names Group 'oidc:contractors'; your token's 'groups' claim "
                            "'contractors' is checked as 'contractors' here, so it does not match")  # fmt: skip


def test_group_prefix_given_but_the_binding_has_none() -> None:
    assert flags(model(group("dev")), ClaimMapping(groups_prefix="oidc:")) == ["--groups-prefix ''"]


def test_username_forms() -> None:
    # the API server's default prefix is "<issuer>#" for the sub claim: a binding naming plain "alice" misses it
    assert flags(model(user("alice"))) == ["--username-prefix -"]
    assert flags(model(user(f"{ISSUER}#alice")), ClaimMapping(username_prefix="-")) == [
        f"--username-prefix {shlex.quote(ISSUER + '#')}"]  # fmt: skip
    assert flags(model(user("oidc:alice"))) == ["--username-prefix oidc:"]
    assert flags(model(user("alice@example.test"))) == ["--username-claim email"]


def test_no_near_miss_for_matches_unrelated_names_or_other_scopes() -> None:
    assert flags(model(group("contractors"))) == []  # matches as is
    assert flags(model(group("webdev"), group("system:dev"), user("malice"))) == []  # not a prefix form
    assert flags(model(group("oidc:dev"), group("dev"))) == []  # the binding applies through "dev" already
    assert flags(model(group("oidc:dev")), namespaces=["payments"]) == []  # RoleBinding of another namespace
    assert flags(model(group("oidc:dev"), namespace=None), namespaces=[]) == ["--groups-prefix oidc:"]  # cluster-wide


prefixes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8).flatmap(
    lambda word: st.sampled_from([f"{word}:", f"{word}-", f"https://{word}.example#", f"{word}/"]))  # fmt: skip
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10).filter(lambda n: n.strip("-"))


@given(prefix=prefixes, name=names, kind=st.sampled_from(["Group", "User"]))
def test_the_suggested_flag_makes_the_binding_apply(prefix: str, name: str, kind: str) -> None:
    claims = {"iss": ISSUER, "sub": name, "groups": [name]}
    subject = (group if kind == "Group" else user)(prefix + name)
    snap = model(subject)
    base = ClaimMapping(username_prefix="-")
    az = Authorizer(snap)
    request = Request("get", "pods", namespace="shop")
    mapped = map_claims(claims, base, ISSUER)
    assert not az.decide(identity(mapped.username or "", mapped.groups), request).allowed
    (miss,) = near_misses(az.model, claims, base, ISSUER)
    flag, value = miss.flag.split(" ", 1)
    value = shlex.split(value)[0]
    fixed = ClaimMapping(username_prefix=value, groups_prefix=base.groups_prefix) if flag == "--username-prefix" \
        else ClaimMapping(username_prefix="-", groups_prefix=value)
    remapped = map_claims(claims, fixed, ISSUER)
    assert az.decide(identity(remapped.username or "", remapped.groups), request).allowed
    assert near_misses(az.model, claims, fixed, ISSUER) == []
