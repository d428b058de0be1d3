"""Generated RBAC for the property tests (hypothesis): ClusterRoles (some aggregating by label), Roles, and
ClusterRoleBindings / RoleBindings (some naming missing roles) to users, groups and ServiceAccounts, as API objects.

One generator with the pools as parameters, for the forward evaluator's tests (tests/unit/rbac/test_property.py) and
who-can's against it (tests/unit/rbac/test_whocan.py); plus the identity a subject stands for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from kubectl_netsso.cluster.snapshot import Subject
from kubectl_netsso.rbac.authorize import Identity, identity

RBAC = "rbac.authorization.k8s.io/v1"
RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Pools:
    namespaces: Sequence[str] = ("a", "b")
    verbs: Sequence[str] = ("get", "list", "create", "*")
    api_groups: Sequence[str] = ("", "apps", "*")
    resources: Sequence[str] = ("pods", "pods/exec", "deployments", "*", "*/scale", "pods/*", "deployments/scale")
    names: Sequence[Sequence[str]] = ((), ("web",))
    users: Sequence[str] = ("alice", "bob")
    groups: Sequence[str] = ("devs", "system:authenticated", "system:serviceaccounts:a")
    service_accounts: Sequence[str] = ("ci",)
    sa_without_namespace: bool = False  # ServiceAccount subjects may omit their namespace
    cluster_roles: int = 4
    aggregators: int = 1  # how many of the first ClusterRoles may aggregate others
    roles: int = 3
    bindings: int = 5


def rule_strategy(p: Pools) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda v, g, r, n: {"verbs": v, "apiGroups": g, "resources": r, **({"resourceNames": list(n)} if n else {})},
        st.lists(st.sampled_from(list(p.verbs)), min_size=1, max_size=2, unique=True),
        st.lists(st.sampled_from(list(p.api_groups)), min_size=1, max_size=2, unique=True),
        st.lists(st.sampled_from(list(p.resources)), min_size=1, max_size=2, unique=True),
        st.sampled_from(list(p.names)),
    )


URL_RULE = st.builds(
    lambda v, u: {"verbs": v, "nonResourceURLs": u},
    st.lists(st.sampled_from(["get", "*"]), min_size=1, max_size=1),
    st.lists(st.sampled_from(["/healthz", "/api*", "*"]), min_size=1, max_size=1),
)


def subject_strategy(p: Pools) -> st.SearchStrategy[dict[str, Any]]:
    sa_namespaces = [*p.namespaces, None] if p.sa_without_namespace else list(p.namespaces)
    return st.one_of(
        st.builds(lambda n: {"kind": "User", "name": n, "apiGroup": RBAC_GROUP}, st.sampled_from(list(p.users))),
        st.builds(lambda n: {"kind": "Group", "name": n, "apiGroup": RBAC_GROUP}, st.sampled_from(list(p.groups))),
        st.builds(lambda n, ns: {"kind": "ServiceAccount", "name": n, **({"namespace": ns} if ns else {})},
                  st.sampled_from(list(p.service_accounts)), st.sampled_from(sa_namespaces)),
    )  # fmt: skip


def cluster(p: Pools) -> st.SearchStrategy[list[dict[str, Any]]]:
    rule_st, subject_st = rule_strategy(p), subject_strategy(p)

    @st.composite
    def draw_cluster(draw: Any) -> list[dict[str, Any]]:
        objs: list[dict[str, Any]] = []
        cr_names = [f"cr{i}" for i in range(draw(st.integers(1, p.cluster_roles)))]
        for i, name in enumerate(cr_names):
            obj: dict[str, Any] = {"apiVersion": RBAC, "kind": "ClusterRole",
                                   "metadata": {"name": name, "labels": draw(st.sampled_from([{}, {"agg": "x"}, {"agg": "y"}]))},
                                   "rules": draw(st.lists(st.one_of(rule_st, URL_RULE), max_size=3))}  # fmt: skip
            if i < p.aggregators and draw(st.booleans()):
                obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"agg": draw(st.sampled_from(["x", "y"]))}}]}
            objs.append(obj)
        roles = []
        for i in range(draw(st.integers(0, p.roles))):
            ns = draw(st.sampled_from(list(p.namespaces)))
            roles.append((ns, f"r{i}"))
            objs.append({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": f"r{i}", "namespace": ns},
                         "rules": draw(st.lists(rule_st, max_size=3))})  # fmt: skip
        for i in range(draw(st.integers(1, p.bindings))):
            cluster_wide = draw(st.booleans())
            if cluster_wide or not roles or draw(st.booleans()):
                ref = {"kind": "ClusterRole", "name": draw(st.sampled_from([*cr_names, "missing"]))}
                ns = draw(st.sampled_from(list(p.namespaces)))
            else:
                ns, rname = draw(st.sampled_from(roles))
                ref = {"kind": "Role", "name": rname}
            meta: dict[str, Any] = {"name": f"b{i}"} if cluster_wide else {"name": f"b{i}", "namespace": ns}
            objs.append({"apiVersion": RBAC, "kind": "ClusterRoleBinding" if cluster_wide else "RoleBinding",
                         "metadata": meta, "roleRef": {**ref, "apiGroup": RBAC_GROUP},
                         "subjects": draw(st.lists(subject_st, min_size=1, max_size=3))})  # fmt: skip
        return objs

    return draw_cluster()


def identity_of(s: Subject) -> Identity:
    """The identity an RBAC subject stands for, as can-i --as / --as-group builds it: the user, any member of the
    group (no user name a binding could name), the ServiceAccount."""
    if s.kind == "Group":
        return identity("netsso:member-of-groups", [s.name], impersonated=True)
    if s.kind == "ServiceAccount":
        return identity(f"system:serviceaccount:{s.namespace}:{s.name}")
    return identity(s.name)
