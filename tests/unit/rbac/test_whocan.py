"""who-can (rbac/whocan.py) against the forward authorizer (rbac/authorize.py): a subject is listed exactly when
authorize() allows an identity carrying it, over generated RBAC with aggregation, resourceNames, subresources,
namespaced vs cluster bindings and ServiceAccount subjects with and without a namespace."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from helpers import rbac_gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.decode import snapshot_from_objects
from kubectl_netsso.cluster.snapshot import Snapshot, Subject
from kubectl_netsso.rbac.authorize import Authorizer, Identity, compile_rbac, identity
from kubectl_netsso.rbac.rules import Request
from kubectl_netsso.rbac.whocan import BIND, IMPERSONATE, POD_AS_SA, ReverseIndex, escalations, token_name, who_can

NAMESPACES = ["a", "b"]
USERS = ["alice", "bob", "system:anonymous"]
GROUP_NAMES = ["devs", "oidc:ops", "system:authenticated", "system:unauthenticated", "system:serviceaccounts",
               "system:serviceaccounts:a", "system:masters"]  # fmt: skip
POOLS = rbac_gen.Pools(
    namespaces=NAMESPACES, verbs=("get", "list", "create", "delete", "*"),
    resources=("pods", "pods/exec", "pods/log", "deployments", "secrets", "*", "*/exec", "pods/*", "nodes"),
    names=((), ("web",), ("web", "db")), users=USERS, groups=GROUP_NAMES, service_accounts=("ci", "deployer"),
    sa_without_namespace=True, cluster_roles=5, aggregators=2, roles=3, bindings=6,
)  # fmt: skip


def cluster() -> st.SearchStrategy[list[dict[str, Any]]]:
    return rbac_gen.cluster(POOLS)


def snap(objs: list[dict[str, Any]], strip_sa_namespaces: bool = False) -> Snapshot:
    """The decoded objects. strip_sa_namespaces: ServiceAccount subjects as records without a namespace (the decoder
    defaults them to the RoleBinding's and drops a ClusterRoleBinding naming none; the engines must not depend on
    it: in a ClusterRoleBinding such a subject matches nobody)."""
    s = snapshot_from_objects([(f"doc {i}", o) for i, o in enumerate(objs, 1)])
    if not strip_sa_namespaces:
        return s
    bindings = tuple(
        replace(b, subjects=tuple(replace(x, namespace=None) if x.kind == "ServiceAccount" and i % 2 else x
                                  for i, x in enumerate(b.subjects)))
        for b in s.bindings
    )  # fmt: skip
    return replace(s, bindings=bindings)


REQUESTS = [
    Request("get", "pods", namespace="a"),
    Request("get", "pods", name="web", namespace="b"),
    Request("get", "pods", name="db", namespace="a"),
    Request("create", "pods", subresource="exec", namespace="a"),
    Request("create", "pods", subresource="exec", name="web", namespace="b"),
    Request("get", "pods", subresource="log", namespace="b"),
    Request("create", "deployments", "apps", namespace="b"),
    Request("delete", "secrets", namespace="a"),
    Request("list", "pods", namespace=""),
    Request("get", "nodes", name="web"),
    Request("get", path="/healthz"),
    Request("get", path="/apis"),
]


def corpus(objs: list[dict[str, Any]]) -> list[Identity]:
    """Every identity the subjects of the corpus stand for, as can-i --as / --as-group builds them."""
    out = [identity(u) for u in USERS] + [identity("carol", [g]) for g in GROUP_NAMES]
    out += [identity("dave", ["devs", "oidc:ops"])]
    out += [identity(f"system:serviceaccount:{ns}:{n}") for ns in NAMESPACES for n in ("ci", "deployer")]
    out += [identity("system:serviceaccount:a:ci", ["devs"], impersonated=True)]  # --as SA --as-group devs: no SA groups
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster(), strip=st.booleans())
def test_who_can_lists_a_subject_exactly_when_can_i_says_yes(objs: list[dict[str, Any]], strip: bool) -> None:
    az = Authorizer(snap(objs, strip))
    idents = corpus(objs)
    for req in REQUESTS:
        found = who_can(az.model, req, any_name=False)
        for ident in idents:
            assert found.allows(ident) == az.decide(ident, req).allowed, (req, ident, found)
        for h in found.direct:
            # every row is true on its own: the subject's own identity is allowed through the row's binding
            d = az.decide(rbac_gen.identity_of(h.subject), req)
            assert d.allowed, (req, h)
            assert h.grant is not None and h.grant.rule.rule is not None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster())
def test_names_only_rows_hold_it_on_those_names(objs: list[dict[str, Any]]) -> None:
    """Without /NAME, a rule limited to resourceNames is a row with those names: allowed on each; a name-free row is
    allowed the nameless request; whoever is allowed on a name has a row for it."""
    az = Authorizer(snap(objs))
    for req in (r for r in REQUESTS if r.is_resource_request and not r.name):
        found = who_can(az.model, req, any_name=True)
        for h in found.direct:
            ident = rbac_gen.identity_of(h.subject)
            if h.names:
                for n in h.names:
                    assert az.decide(ident, replace(req, name=n)).allowed, (req, h, n)
            else:
                assert az.decide(ident, req).allowed, (req, h)
        # and every identity allowed on a name has a row saying so (a name-free row, or one listing the name)
        for n in ("web", "db"):
            for ident in corpus(objs):
                if az.decide(ident, replace(req, name=n)).allowed:
                    assert any(h.covers(ident) and (not h.names or n in h.names)
                               for h in found.holders if h.direct or h.superuser), (req, n, ident)  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster(), strip=st.booleans())
def test_all_namespaces_rows_are_per_namespace_answers(objs: list[dict[str, Any]], strip: bool) -> None:
    """-A on a namespaced resource: a row of scope NS means can-i -n NS says yes; every yes has a row."""
    az = Authorizer(snap(objs, strip))
    for req in (Request("get", "pods"), Request("create", "pods", subresource="exec"), Request("delete", "secrets")):
        found = who_can(az.model, req, any_name=False, namespaces=NAMESPACES)
        for ns in NAMESPACES:
            here = replace(req, namespace=ns)
            for ident in corpus(objs):
                listed = any(h.covers(ident) and h.scope in ("", ns) for h in found.holders if h.direct or h.superuser)
                assert listed == az.decide(ident, here).allowed, (here, ident)


def _objs(*docs: dict[str, Any]) -> list[dict[str, Any]]:
    return list(docs)


def _binding(
    kind: str, name: str, role_kind: str, role: str, subjects: list[dict[str, Any]], ns: str | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": rbac_gen.RBAC, "kind": kind, "metadata": meta, "subjects": subjects,
            "roleRef": {"kind": role_kind, "name": role, "apiGroup": "rbac.authorization.k8s.io"}}  # fmt: skip


def _role(kind: str, name: str, rules: list[dict[str, Any]], ns: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"namespace": ns} if ns else {}), **extra.pop("meta", {})}
    return {"apiVersion": rbac_gen.RBAC, "kind": kind, "metadata": meta, "rules": rules, **extra}


def test_aggregated_rule_is_named_with_its_origin_and_numbered_like_can_i() -> None:
    objs = _objs(
        _role("ClusterRole", "agg", [], aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"agg": "x"}}]}),
        _role("ClusterRole", "piece", [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]},
                                       {"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}],
              meta={"labels": {"agg": "x"}}),
        _binding("RoleBinding", "devs", "ClusterRole", "agg", [{"kind": "Group", "name": "devs"}], ns="shop"),
    )  # fmt: skip
    az = Authorizer(snap(objs))
    req = Request("create", "pods", subresource="exec", namespace="shop")
    found = who_can(az.model, req)
    [row] = found.direct
    assert row.subject == Subject("Group", "devs") and row.scope == "shop"
    assert row.grant_text() == az.decide(identity("x", ["devs"]), req).reason.removeprefix("allowed by ")
    assert "aggregated from ClusterRole piece, rule 2" in row.grant_text()
    assert who_can(az.model, replace(req, namespace="other")).direct == ()
    assert found.holders[-1].superuser and found.holders[-1].subject.name == "system:masters"


def test_escalation_paths() -> None:
    objs = _objs(
        _role("ClusterRole", "exec", [{"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}]),
        _role("ClusterRole", "binder", [{"verbs": ["bind"], "apiGroups": ["rbac.authorization.k8s.io"],
                                         "resources": ["clusterroles"], "resourceNames": ["exec"]},
                                        {"verbs": ["create"], "apiGroups": ["rbac.authorization.k8s.io"],
                                         "resources": ["rolebindings"]}]),
        _role("ClusterRole", "imp", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["serviceaccounts"]}]),
        _role("ClusterRole", "podmaker", [{"verbs": ["create"], "apiGroups": [""], "resources": ["pods"]}]),
        _binding("RoleBinding", "sa-exec", "ClusterRole", "exec", [{"kind": "ServiceAccount", "name": "ci"}], ns="shop"),
        _binding("RoleBinding", "b", "ClusterRole", "binder", [{"kind": "User", "name": "bea"}], ns="shop"),
        _binding("RoleBinding", "i", "ClusterRole", "imp", [{"kind": "User", "name": "ivy"}], ns="shop"),
        _binding("RoleBinding", "p", "ClusterRole", "podmaker", [{"kind": "Group", "name": "makers"}], ns="shop"),
        _binding("RoleBinding", "other", "ClusterRole", "podmaker", [{"kind": "User", "name": "olga"}], ns="elsewhere"),
    )  # fmt: skip
    index = ReverseIndex(compile_rbac(snap(objs)))
    req = Request("create", "pods", subresource="exec", namespace="shop")
    found = index.holders(req)
    paths = {(h.subject.name, h.escalation, h.via) for h in escalations(index, found, [Request("create", "pods")])}
    assert paths == {
        ("bea", BIND, "ClusterRole exec"),
        ("ivy", IMPERSONATE, "ServiceAccount shop/ci"),
        ("makers", POD_AS_SA, "ServiceAccount shop/ci"),
    }


def test_impersonating_a_group_takes_a_user_too() -> None:
    def imp(resource: str, names: list[str] | None = None) -> dict[str, Any]:
        return {"verbs": ["impersonate"], "apiGroups": [""], "resources": [resource],
                **({"resourceNames": names} if names else {})}  # fmt: skip

    objs = _objs(
        _role("ClusterRole", "exec", [{"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}]),
        _role("ClusterRole", "groups-only", [imp("groups", ["devs"])]),
        _role("ClusterRole", "groups-and-a-user", [imp("groups", ["devs"]), imp("users", ["nobody"])]),
        _binding("RoleBinding", "devs", "ClusterRole", "exec", [{"kind": "Group", "name": "devs"}], ns="shop"),
        _binding("ClusterRoleBinding", "g", "ClusterRole", "groups-only", [{"kind": "User", "name": "gus"}]),
        _binding("ClusterRoleBinding", "gu", "ClusterRole", "groups-and-a-user", [{"kind": "User", "name": "uma"}]),
    )  # fmt: skip
    index = ReverseIndex(compile_rbac(snap(objs)))
    found = index.holders(Request("create", "pods", subresource="exec", namespace="shop"))
    assert {(h.subject.name, h.escalation) for h in escalations(index, found)} == {("uma", IMPERSONATE)}


def test_token_name_maps_the_groups_prefix() -> None:
    assert token_name(Subject("Group", "oidc:shop-devs"), "oidc:") == "shop-devs"
    assert token_name(Subject("Group", "shop-devs"), "oidc:") is None
    assert token_name(Subject("Group", "oidc:"), "oidc:") is None
    assert token_name(Subject("User", "https://idp#alice"), "oidc:", "https://idp#") == "alice"
    assert token_name(Subject("ServiceAccount", "ci", "a"), "oidc:", "x") is None
