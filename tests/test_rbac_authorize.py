"""Bindings, subjects, aggregation and decisions (rbac.go, rule.go, clusterroleaggregation semantics)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_netsso.cluster.decode import snapshot_from_objects as decode
from kubectl_netsso.cluster.defaults import default_roles_snapshot
from kubectl_netsso.cluster.snapshot import PolicyRule, Role, RoleBinding, Snapshot, Subject, merge_rbac
from kubectl_netsso.rbac.authorize import Authorizer, compile_rbac, identity, selector_matches, subjects_for
from kubectl_netsso.rbac.rules import Request


def snapshot_from_objects(objs: Any) -> Snapshot:
    """The project's one decoder (manifests, live and the default roles all use it), on plain dicts."""
    snap = decode([(f"t.yaml document {i}", o) for i, o in enumerate(objs, 1)])
    assert not snap.invalid, snap.invalid
    return snap


def cr(name: str, rules: list[dict[str, Any]] | None, labels: dict[str, str] | None = None, agg: list[dict] | None = None):
    obj: dict[str, Any] = {"kind": "ClusterRole", "metadata": {"name": name, "labels": labels or {}}, "rules": rules}
    if agg is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": agg}
    return obj


def role(ns: str, name: str, rules: list[dict[str, Any]]):
    return {"kind": "Role", "metadata": {"name": name, "namespace": ns}, "rules": rules}


def rb(ns: str | None, name: str, role_kind: str, role_name: str, *subjects: dict[str, str]):
    meta: dict[str, Any] = {"name": name}
    if ns is not None:
        meta["namespace"] = ns
    return {
        "kind": "RoleBinding" if ns is not None else "ClusterRoleBinding",
        "metadata": meta,
        "roleRef": {"kind": role_kind, "name": role_name, "apiGroup": "rbac.authorization.k8s.io"},
        "subjects": list(subjects),
    }


def user(n: str) -> dict[str, str]:
    return {"kind": "User", "name": n}


def group(n: str) -> dict[str, str]:
    return {"kind": "Group", "name": n}


def sa(n: str, ns: str | None = None) -> dict[str, str]:
    d = {"kind": "ServiceAccount", "name": n}
    if ns:
        d["namespace"] = ns
    return d


GET_PODS = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}


def az(*objs: Any) -> Authorizer:
    return Authorizer(snapshot_from_objects(objs))


def req(verb: str, resource: str, ns: str = "shop", **kw: Any) -> Request:
    return Request(verb=verb, resource=resource, namespace=ns, **kw)


# ---------------------------------------------------------------------------------------------- identity groups


def test_identity_adds_authenticated() -> None:
    assert identity("alice", ["dev"]).groups == ("dev", "system:authenticated")


def test_identity_service_account_groups() -> None:
    i = identity("system:serviceaccount:ci:deployer")
    assert i.groups == ("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated")


def test_identity_impersonated_service_account_with_groups_gets_only_those() -> None:
    # impersonation.go: the SA groups are added only "if groups aren't specified for a service account"
    sa = "system:serviceaccount:ci:deployer"
    assert identity(sa, ["foo"], impersonated=True).groups == ("foo", "system:authenticated")
    assert identity(sa, impersonated=True).groups == identity(sa).groups
    assert identity(sa, ["foo"]).groups == ("foo", "system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated")


def test_identity_anonymous() -> None:
    assert identity("system:anonymous").groups == ("system:unauthenticated",)


def test_identity_unauthenticated_group_suppresses_authenticated() -> None:
    assert identity("x", ["system:unauthenticated"]).groups == ("system:unauthenticated",)


def test_malformed_service_account_name_is_a_plain_user() -> None:
    assert identity("system:serviceaccount:ci").groups == ("system:authenticated",)


# ---------------------------------------------------------------------------------------------- subjects


def test_user_subject() -> None:
    a = az(role("shop", "r", [GET_PODS]), rb("shop", "b", "Role", "r", user("alice")))
    assert a.authorize("alice", [], req("get", "pods")).allowed
    assert not a.authorize("bob", [], req("get", "pods")).allowed


def test_user_star_is_not_a_wildcard() -> None:
    a = az(role("shop", "r", [GET_PODS]), rb("shop", "b", "Role", "r", user("*")))
    assert not a.authorize("alice", [], req("get", "pods")).allowed


def test_group_subject_and_system_authenticated() -> None:
    a = az(role("shop", "r", [GET_PODS]), rb("shop", "b", "Role", "r", group("system:authenticated")))
    assert a.authorize("anyone", [], req("get", "pods")).allowed
    assert not a.authorize("system:anonymous", [], req("get", "pods")).allowed


def test_service_account_namespace_defaults_to_the_binding() -> None:
    a = az(role("shop", "r", [GET_PODS]), rb("shop", "b", "Role", "r", sa("ci")))
    assert a.authorize("system:serviceaccount:shop:ci", [], req("get", "pods")).allowed
    assert not a.authorize("system:serviceaccount:other:ci", [], req("get", "pods")).allowed


def test_service_account_explicit_namespace() -> None:
    a = az(role("shop", "r", [GET_PODS]), rb("shop", "b", "Role", "r", sa("ci", "tools")))
    assert a.authorize("system:serviceaccount:tools:ci", [], req("get", "pods")).allowed
    assert not a.authorize("system:serviceaccount:shop:ci", [], req("get", "pods")).allowed


def test_service_account_without_namespace_in_cluster_binding_matches_nobody() -> None:
    snap = Snapshot(
        roles=(Role("r", None, (PolicyRule(("get",), ("",), ("pods",)),)),),
        bindings=(RoleBinding("b", None, "ClusterRole", "r", (Subject("ServiceAccount", "ci"),)),),
    )
    assert not Authorizer(snap).authorize("system:serviceaccount:shop:ci", [], req("get", "pods")).allowed


def test_service_accounts_group_binding() -> None:
    a = az(role("shop", "r", [GET_PODS]), rb("shop", "b", "Role", "r", group("system:serviceaccounts:ci")))
    assert a.authorize("system:serviceaccount:ci:x", [], req("get", "pods")).allowed
    assert not a.authorize("system:serviceaccount:shop:x", [], req("get", "pods")).allowed


# ---------------------------------------------------------------------------------------------- scope


def test_rolebinding_to_clusterrole_is_scoped_to_its_namespace() -> None:
    a = az(cr("reader", [GET_PODS]), rb("shop", "b", "ClusterRole", "reader", user("alice")))
    assert a.authorize("alice", [], req("get", "pods", "shop")).allowed
    assert not a.authorize("alice", [], req("get", "pods", "payments")).allowed
    assert not a.authorize("alice", [], req("get", "pods", "")).allowed  # cluster-wide list


def test_clusterrolebinding_grants_everywhere() -> None:
    a = az(cr("reader", [GET_PODS]), rb(None, "b", "ClusterRole", "reader", user("alice")))
    for ns in ("shop", "payments", ""):
        assert a.authorize("alice", [], req("get", "pods", ns)).allowed


def test_role_in_other_namespace_is_not_found() -> None:
    a = az(role("other", "r", [GET_PODS]), rb("shop", "b", "Role", "r", user("alice")))
    d = a.authorize("alice", [], req("get", "pods"))
    assert not d.allowed
    assert 'role.rbac.authorization.k8s.io "r" not found' in d.reason


def test_missing_role_error_does_not_hide_other_grants() -> None:
    a = az(
        rb("shop", "a-broken", "ClusterRole", "nope", user("alice")),
        cr("reader", [GET_PODS]),
        rb("shop", "b-works", "ClusterRole", "reader", user("alice")),
    )
    d = a.authorize("alice", [], req("get", "pods"))
    assert d.allowed and d.binding is not None and d.binding.name == "b-works"
    assert any("nope" in e for e in d.errors)


def test_non_resource_urls_only_through_cluster_role_bindings() -> None:
    health = cr("health", [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}])
    via_rb = az(health, rb("shop", "b", "ClusterRole", "health", user("alice")))
    assert not via_rb.authorize("alice", [], Request(verb="get", path="/healthz")).allowed
    via_crb = az(health, rb(None, "b", "ClusterRole", "health", user("alice")))
    assert via_crb.authorize("alice", [], Request(verb="get", path="/healthz")).allowed


def test_namespace_object_request_carries_its_own_namespace() -> None:
    a = az(cr("ns-reader", [{"verbs": ["get"], "apiGroups": [""], "resources": ["namespaces"]}]),
           rb("shop", "b", "ClusterRole", "ns-reader", user("alice")))  # fmt: skip
    assert a.authorize("alice", [], Request("get", "namespaces", name="shop", namespace="shop")).allowed
    assert not a.authorize("alice", [], Request("get", "namespaces", name="payments", namespace="payments")).allowed


def test_system_masters_is_superuser() -> None:
    d = az().authorize("root", ["system:masters"], req("delete", "secrets"))
    assert d.allowed and d.superuser and "system:masters" in d.reason


# ---------------------------------------------------------------------------------------------- decision text


def test_reason_names_binding_role_and_rule() -> None:
    a = az(
        cr("edit", [GET_PODS, {"verbs": ["create"], "apiGroups": ["apps"], "resources": ["deployments"]}]),
        rb("shop", "devs-edit", "ClusterRole", "edit", group("devs")),
    )
    d = a.authorize("alice", ["devs"], Request("create", "deployments", api_group="apps", namespace="shop"))
    # Text counts rules from 1 (like the NetworkPolicy explanations); rule_index is the 0-based index.
    assert d.reason == "allowed by RoleBinding shop/devs-edit -> ClusterRole edit, rule 2"
    assert d.rule_index == 1
    assert d.to_dict()["grant"]["binding"] == {"kind": "RoleBinding", "namespace": "shop", "name": "devs-edit"}


def test_denied_reason() -> None:
    assert az().authorize("alice", [], req("get", "pods")).reason == "no RBAC rule allows it"


# ---------------------------------------------------------------------------------------------- aggregation


def test_aggregation_replaces_own_rules_and_follows_labels() -> None:
    a = az(
        cr("agg", [{"verbs": ["delete"], "apiGroups": [""], "resources": ["nodes"]}], agg=[{"matchLabels": {"to-agg": "true"}}]),
        cr("part", [GET_PODS], labels={"to-agg": "true"}),
        cr("unlabelled", [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
        rb(None, "b", "ClusterRole", "agg", user("alice")),
    )
    d = a.authorize("alice", [], req("get", "pods"))
    assert d.allowed and "aggregated from ClusterRole part, rule 1" in d.reason
    assert not a.authorize("alice", [], req("delete", "nodes", "")).allowed  # own rule replaced
    assert not a.authorize("alice", [], req("delete", "secrets")).allowed


def test_aggregation_chain_view_edit_admin() -> None:
    a = az(
        cr("admin", None, agg=[{"matchLabels": {"aggregate-to-admin": "true"}}]),
        cr("edit", None, labels={"aggregate-to-admin": "true"}, agg=[{"matchLabels": {"aggregate-to-edit": "true"}}]),
        cr("view", None, labels={"aggregate-to-edit": "true"}, agg=[{"matchLabels": {"aggregate-to-view": "true"}}]),
        cr("view-bits", [GET_PODS], labels={"aggregate-to-view": "true"}),
        rb("shop", "b", "ClusterRole", "admin", user("alice")),
    )
    d = a.authorize("alice", [], req("get", "pods"))
    assert d.allowed and "ClusterRole admin" in d.reason and "aggregated from ClusterRole view-bits" in d.reason


def test_aggregation_dedups_rules_in_name_order() -> None:
    m = compile_rbac(snapshot_from_objects([
        cr("agg", [], agg=[{"matchExpressions": [{"key": "a", "operator": "Exists"}]}]),
        cr("b", [GET_PODS, {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}], labels={"a": "1"}),
        cr("a", [GET_PODS], labels={"a": "2"}),
    ]))  # fmt: skip
    rules = m.rules[("", "agg")]
    assert [r.origin_role for r in rules] == ["a", "b"]
    assert [r.rule.verbs for r in rules] == [("get",), ("list",)]


def test_aggregation_with_no_match_empties_the_role() -> None:
    m = compile_rbac(snapshot_from_objects([cr("agg", [GET_PODS], agg=[{"matchLabels": {"x": "y"}}])]))
    assert m.rules[("", "agg")] == ()


def test_aggregation_cycle_terminates() -> None:
    m = compile_rbac(snapshot_from_objects([
        cr("a", [GET_PODS], labels={"l": "a"}, agg=[{"matchLabels": {"l": "b"}}]),
        cr("b", [GET_PODS], labels={"l": "b"}, agg=[{"matchLabels": {"l": "a"}}]),
    ]))  # fmt: skip
    assert isinstance(m.rules[("", "a")], tuple)


@pytest.mark.parametrize(
    "selector, labels, expected",
    [
        ({}, {"a": "1"}, True),
        (None, {"a": "1"}, False),
        ({"matchLabels": {"a": "1"}}, {"a": "1"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "x"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, {"a": "x"}, False),
    ],
)
def test_selector(selector: Any, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected


# ---------------------------------------------------------------------------------------------- default roles


@pytest.fixture(scope="module")
def defaults_az() -> Authorizer:
    snap = snapshot_from_objects([
        rb("shop", "edit", "ClusterRole", "edit", group("editors")),
        rb("shop", "view", "ClusterRole", "view", group("viewers")),
        rb("shop", "admin", "ClusterRole", "admin", group("admins")),
    ])  # fmt: skip
    return Authorizer(merge_rbac(snap, default_roles_snapshot()))


@pytest.mark.parametrize(
    "grp, request_, allowed",
    [
        ("viewers", Request("get", "pods", namespace="shop"), True),
        ("viewers", Request("get", "pods", subresource="log", namespace="shop"), True),
        ("viewers", Request("get", "deployments", "apps", "scale", namespace="shop"), True),
        ("viewers", Request("get", "secrets", namespace="shop"), False),
        ("viewers", Request("create", "pods", subresource="exec", namespace="shop"), False),
        ("editors", Request("create", "pods", subresource="exec", namespace="shop"), True),
        ("editors", Request("get", "secrets", namespace="shop"), True),
        ("editors", Request("create", "networkpolicies", "networking.k8s.io", namespace="shop"), True),
        ("editors", Request("create", "roles", "rbac.authorization.k8s.io", namespace="shop"), False),
        ("editors", Request("impersonate", "serviceaccounts", namespace="shop"), True),
        ("admins", Request("create", "rolebindings", "rbac.authorization.k8s.io", namespace="shop"), True),
        ("admins", Request("bind", "clusterroles", "rbac.authorization.k8s.io", namespace="shop"), False),
        ("admins", Request("get", "pods", namespace="payments"), False),
    ],
)
def test_default_roles(defaults_az: Authorizer, grp: str, request_: Request, allowed: bool) -> None:
    assert defaults_az.authorize("u", [grp], request_).allowed is allowed


# ---------------------------------------------------------------------------------------------- reverse query, rules_for


def test_subjects_with() -> None:
    a = az(
        cr("exec", [{"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}]),
        rb("shop", "b1", "ClusterRole", "exec", group("devs"), sa("ci"), user("alice")),
        rb("payments", "b2", "ClusterRole", "exec", group("pay")),
        rb(None, "b3", "ClusterRole", "exec", group("sre")),
    )
    found, errors = a.subjects_with(Request("create", "pods", subresource="exec", namespace="shop"))
    got = {(s.subject.kind, s.subject.name, s.subject.namespace) for s in found}
    assert got == {("Group", "devs", None), ("ServiceAccount", "ci", "shop"), ("User", "alice", None), ("Group", "sre", None)}
    assert not errors
    sa_grant = next(s for s in found if s.subject.kind == "ServiceAccount")
    assert sa_grant.username == "system:serviceaccount:shop:ci"


def test_subjects_with_any_name() -> None:
    a = az(role("shop", "r", [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["db"]}]),
           rb("shop", "b", "Role", "r", user("alice")))  # fmt: skip
    assert a.subjects_with(Request("get", "secrets", namespace="shop"))[0] == []
    found, _ = a.subjects_with(Request("get", "secrets", namespace="shop"), any_name=True)
    assert [s.named_only for s in found] == [True]
    assert subjects_for(a.model, Request("get", "secrets", name="db", namespace="shop"))[0][0].subject.name == "alice"


def test_rules_for_lists_cluster_and_namespace_rules() -> None:
    a = az(
        cr("reader", [GET_PODS]),
        cr("health", [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]),
        rb(None, "c", "ClusterRole", "reader", user("alice")),
        rb("shop", "n", "ClusterRole", "health", user("alice")),
        rb("shop", "x", "ClusterRole", "reader", user("bob")),
    )
    grants, _ = a.rules_for(identity("alice"), "shop")
    assert [g.binding.name for g in grants] == ["c"]  # URL rule via RoleBinding grants nothing: left out
    assert {s.name for s in a.subjects()} == {"alice", "bob"}


def test_default_bindings_give_authenticated_users_discovery_and_self_reviews() -> None:
    """--with-default-roles also loads the user-facing default bindings (system:discovery, system:basic-user, ...)."""
    from kubectl_netsso.cluster.defaults import default_roles_snapshot
    from kubectl_netsso.rbac.authorize import Authorizer
    from kubectl_netsso.rbac.rules import Request

    az = Authorizer(default_roles_snapshot())
    assert az.authorize("bob", [], Request("get", "", path="/healthz")).allowed
    ssar = Request("create", "selfsubjectaccessreviews", api_group="authorization.k8s.io")
    assert az.authorize("bob", [], ssar).allowed
    assert not az.authorize("bob", [], Request("get", "secrets", namespace="default")).allowed
    assert az.authorize("root", ["system:masters"], Request("delete", "nodes")).allowed
