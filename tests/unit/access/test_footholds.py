"""Foothold derivation and reach on plain data (snapshot dataclasses + the offline RBAC evaluator)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.access.footholds import RbacPermissions, derive_footholds, subjects_with_actions, workload_groups
from kubectl_netsso.access.model import CREATE, NETPOL, POD, SERVICE
from kubectl_netsso.access.reach import ReachEngine, labels_satisfying, reach_all
from kubectl_netsso.cluster.snapshot import (
    ContainerPort,
    Namespace,
    NetworkPolicy,
    PolicyRule,
    Role,
    RoleBinding,
    Service,
    ServicePort,
    Snapshot,
    Subject,
    Workload,
)
from kubectl_netsso.netpol.selectors import parse_selector
from kubectl_netsso.rbac.authorize import Authorizer

NSL = "kubernetes.io/metadata.name"


def _ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, {NSL: name, **labels})


def _deny(ns: str) -> NetworkPolicy:
    return NetworkPolicy(ns, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def _role(ns: str | None, name: str, *rules: PolicyRule) -> Role:
    return Role(name, ns, rules)


def _bind(ns: str | None, name: str, role_kind: str, role: str, *subjects: Subject) -> RoleBinding:
    return RoleBinding(name, ns, role_kind, role, subjects)


G = Subject("Group", "devs")


def base_snapshot(roles: tuple[Role, ...] = (), bindings: tuple[RoleBinding, ...] = ()) -> Snapshot:
    """web (frontend) -> api (shop) allowed by policy; api (shop) -> db (data) allowed only for app=api."""
    return Snapshot(
        namespaces=(_ns("frontend", team="web"), _ns("shop", team="shop"), _ns("data", team="data")),
        workloads=(
            Workload("frontend", "web", "Deployment", {"app": "web"}, (ContainerPort(8080, "TCP", "http"),)),
            Workload("shop", "api", "Deployment", {"app": "api"}, (ContainerPort(8080, "TCP", "http"),)),
            Workload("shop", "worker", "Pod", {"app": "worker"}, ()),
            Workload("data", "db", "StatefulSet", {"app": "db"}, (ContainerPort(5432, "TCP", "pg"),)),
        ),
        services=(Service("shop", "api", {"app": "api"}, (ServicePort(80, "http"),)),),
        network_policies=(
            _deny("frontend"),
            _deny("shop"),
            _deny("data"),
            NetworkPolicy(
                "frontend",
                "web-egress",
                {
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "shop"}},
                                    "podSelector": {"matchLabels": {"app": "api"}},
                                }
                            ]
                        }
                    ],
                },
            ),
            NetworkPolicy(
                "shop",
                "api-ingress",
                {
                    "podSelector": {"matchLabels": {"app": "api"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "web"}},
                                    "podSelector": {"matchLabels": {"app": "web"}},
                                }
                            ],
                            "ports": [{"port": 8080}],
                        }
                    ],
                },
            ),
            NetworkPolicy(
                "shop",
                "api-egress",
                {
                    "podSelector": {"matchLabels": {"app": "api"}},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "data"}},
                                    "podSelector": {"matchLabels": {"app": "db"}},
                                }
                            ],
                            "ports": [{"port": 5432}],
                        }
                    ],
                },
            ),
            NetworkPolicy(
                "data",
                "db-ingress",
                {
                    "podSelector": {"matchLabels": {"app": "db"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": "shop"}},
                                    "podSelector": {"matchLabels": {"app": "api"}},
                                }
                            ]
                        }
                    ],
                },
            ),
        ),
        roles=roles,
        bindings=bindings,
    )


def footholds_for(snap: Snapshot, groups: tuple[str, ...] = ("devs",), user: str = "alice") -> list:
    return derive_footholds(snap, RbacPermissions(Authorizer(snap), user, groups))


def test_no_bindings_no_footholds() -> None:
    assert footholds_for(base_snapshot()) == []


def test_exec_in_namespace_gives_one_foothold_per_workload_with_the_grant() -> None:
    snap = base_snapshot(
        (_role("shop", "exec", PolicyRule(("create",), ("",), ("pods/exec",))),),
        (_bind("shop", "devs-exec", "Role", "exec", G),),
    )
    fhs = footholds_for(snap)
    assert {(f.kind, f.target) for f in fhs} == {(POD, "shop/deployment/api"), (POD, "shop/worker")}
    api = next(f for f in fhs if f.target == "shop/deployment/api")
    assert api.actions == ("exec",)
    assert api.obtained == ("RoleBinding shop/devs-exec -> Role shop/exec",)
    # another group has nothing
    assert footholds_for(snap, ("others",)) == []


def test_get_on_pods_exec_is_not_exec() -> None:
    snap = base_snapshot(
        (_role("shop", "r", PolicyRule(("get",), ("",), ("pods/exec", "pods/log"))),), (_bind("shop", "b", "Role", "r", G),)
    )
    assert footholds_for(snap) == []


def test_resource_names_restrict_exec_to_named_bare_pods() -> None:
    snap = base_snapshot(
        (_role("shop", "r", PolicyRule(("create",), ("",), ("pods/exec", "pods/portforward"), ("worker",))),),
        (_bind("shop", "b", "Role", "r", G),),
    )
    fhs = footholds_for(snap)
    assert [(f.target, f.actions) for f in fhs] == [("shop/worker", ("exec", "port-forward"))]


def test_create_pods_workloads_services_and_netpol_footholds() -> None:
    snap = base_snapshot(
        (
            _role(
                "shop",
                "r",
                PolicyRule(("create",), ("apps",), ("deployments",)),
                PolicyRule(("get",), ("",), ("services/proxy",)),
                PolicyRule(("patch", "delete"), ("networking.k8s.io",), ("networkpolicies",)),
            ),
        ),
        (_bind("shop", "b", "Role", "r", G),),
    )
    kinds = {(f.kind, f.target): f for f in footholds_for(snap)}
    assert set(kinds) == {(CREATE, "shop/*"), (SERVICE, "shop/svc/api"), (NETPOL, "shop/networkpolicies")}
    assert kinds[(CREATE, "shop/*")].actions == ("create deployments",)
    assert kinds[(NETPOL, "shop/networkpolicies")].actions == ("patch networkpolicies", "delete networkpolicies")


def test_wrong_api_group_grants_nothing() -> None:
    snap = base_snapshot(
        (_role("shop", "r", PolicyRule(("create",), ("",), ("deployments",))),), (_bind("shop", "b", "Role", "r", G),)
    )
    assert footholds_for(snap) == []


def test_cluster_role_binding_reaches_every_namespace() -> None:
    snap = base_snapshot(
        (_role(None, "np", PolicyRule(("*",), ("networking.k8s.io",), ("networkpolicies",))),),
        (_bind(None, "np", "ClusterRole", "np", G),),
    )
    assert sorted(f.namespace for f in footholds_for(snap) if f.kind == NETPOL) == ["data", "frontend", "shop"]


def test_live_pods_are_grouped_by_owner() -> None:
    pods = [
        Workload("shop", "api-7d9f-abcde", "Pod", {"app": "api"}, owner="ReplicaSet/api-7d9f"),
        Workload("shop", "api-7d9f-fghij", "Pod", {"app": "api"}, owner="ReplicaSet/api-7d9f"),
        Workload("shop", "db-0", "Pod", {"app": "db"}, owner="StatefulSet/db"),
        Workload("shop", "lonely", "Pod", {"app": "x"}),
    ]
    groups = dict(workload_groups(pods))
    assert sorted(groups) == ["shop/deployment/api", "shop/lonely", "shop/statefulset/db"]
    assert len(groups["shop/deployment/api"]) == 2


# --- reach -------------------------------------------------------------------------------------------------------


def _reach_by_target(snap: Snapshot) -> dict:
    return {r.foothold.target: r for r in reach_all(ReachEngine(snap), footholds_for(snap))}


def test_exec_reach_follows_the_pods_policies() -> None:
    snap = base_snapshot(
        (_role(None, "exec", PolicyRule(("create",), ("",), ("pods/exec",))),),
        (_bind("frontend", "b1", "ClusterRole", "exec", G), _bind("shop", "b2", "ClusterRole", "exec", G)),
    )
    r = _reach_by_target(snap)
    web = r["frontend/deployment/web"]
    assert [(d.ref, d.ports) for d in web.destinations] == [("shop/deployment/api", ("http=8080/TCP",))]
    assert web.destinations[0].note == "via shop/svc/api"
    assert web.risk == "medium"
    api = r["shop/deployment/api"]
    assert [d.ref for d in api.destinations] == ["data/statefulset/db"]
    worker = r["shop/worker"]
    assert worker.destinations == () and worker.risk == "low"


def test_port_forward_reaches_only_the_pod_itself() -> None:
    snap = base_snapshot(
        (_role("data", "pf", PolicyRule(("create",), ("",), ("pods/portforward",))),), (_bind("data", "b", "Role", "pf", G),)
    )
    (r,) = _reach_by_target(snap).values()
    assert [(d.ref, d.ports) for d in r.destinations] == [("data/statefulset/db", ("5432/TCP",))]
    assert "NetworkPolicy does not apply" in r.destinations[0].note


def test_create_pods_wears_trusted_labels_and_reaches_across_namespaces() -> None:
    snap = base_snapshot((_role("shop", "r", PolicyRule(("create",), ("",), ("pods",))),), (_bind("shop", "b", "Role", "r", G),))
    (r,) = _reach_by_target(snap).values()
    assert r.foothold.kind == CREATE
    db = next(d for d in r.destinations if d.ref == "data/statefulset/db")
    assert db.labels == {"app": "api"}  # the label set data/db-ingress trusts
    assert r.risk == "high" and "data/statefulset/db" in r.risk_reason


def test_create_pods_without_trusted_labels_stays_home() -> None:
    snap = base_snapshot((_role("data", "r", PolicyRule(("create",), ("",), ("pods",))),), (_bind("data", "b", "Role", "r", G),))
    (r,) = _reach_by_target(snap).values()
    assert [d.ref for d in r.destinations] == []
    assert r.risk == "medium"


def test_netpol_foothold_is_critical_and_covers_the_namespace() -> None:
    snap = base_snapshot(
        (_role("shop", "r", PolicyRule(("update",), ("networking.k8s.io",), ("networkpolicies",))),),
        (_bind("shop", "b", "Role", "r", G),),
    )
    (r,) = _reach_by_target(snap).values()
    assert r.risk == "critical" and r.any_destination
    assert sorted(d.ref for d in r.destinations) == ["shop/deployment/api", "shop/worker"]


def test_unisolated_pod_reaches_the_internet() -> None:
    snap = Snapshot(
        namespaces=(_ns("open"),),
        workloads=(Workload("open", "a", "Deployment", {"app": "a"}, (ContainerPort(80),)),),
        roles=(_role("open", "r", PolicyRule(("create",), ("",), ("pods/exec",))),),
        bindings=(_bind("open", "b", "Role", "r", G),),
    )
    (r,) = _reach_by_target(snap).values()
    assert [d.ref for d in r.destinations] == ["ip:0.0.0.0/0"]


def test_subjects_with_actions_reverse_query() -> None:
    snap = base_snapshot(
        (_role("shop", "r", PolicyRule(("*",), ("",), ("pods/exec",))),),
        (_bind("shop", "b", "Role", "r", G, Subject("ServiceAccount", "ci")),),
    )
    rows = subjects_with_actions(Authorizer(snap), ["shop", "data"])
    exec_rows = sorted((r.subject.ref, r.namespace, r.verbs) for r in rows if r.action == "exec")
    assert exec_rows == [("group devs", "shop", ("*",)), ("serviceaccount shop/ci", "shop", ("*",))]


# --- labels_satisfying -----------------------------------------------------------------------------------------

_key = st.sampled_from(["app", "tier", "team", "env"])
_val = st.sampled_from(["a", "b", "c"])
_req = st.one_of(
    st.builds(lambda k, vs: {"key": k, "operator": "In", "values": vs}, _key, st.lists(_val, min_size=1, max_size=3)),
    st.builds(lambda k, vs: {"key": k, "operator": "NotIn", "values": vs}, _key, st.lists(_val, min_size=1, max_size=3)),
    st.builds(lambda k: {"key": k, "operator": "Exists"}, _key),
    st.builds(lambda k: {"key": k, "operator": "DoesNotExist"}, _key),
)


@given(match=st.dictionaries(_key, _val, max_size=2), exprs=st.lists(_req, max_size=3))
def test_labels_satisfying_returns_a_matching_set_or_none(match: dict, exprs: list) -> None:
    sel = parse_selector({"matchLabels": match, "matchExpressions": exprs})
    assert sel is not None
    labels = labels_satisfying(sel)
    if labels is not None:
        assert sel.matches(labels)


def test_labels_satisfying_simple_cases() -> None:
    assert labels_satisfying(parse_selector({"matchLabels": {"app": "web"}})) == {"app": "web"}  # type: ignore[arg-type]
    assert labels_satisfying(parse_selector({})) == {}  # type: ignore[arg-type]
    impossible = parse_selector({"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]})
    assert labels_satisfying(impossible) is None  # type: ignore[arg-type]


def test_reach_that_stays_home_apart_from_dns_says_so() -> None:
    # DNS does not count as cross-namespace reach for the risk, but "stays in its namespace" alone would contradict
    # the destinations listed (kube-system/coredns): the reason says "(DNS aside)".
    dns_only = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"namespaceSelector": {"matchLabels": {NSL: "kube-system"}}}], "ports": [{"port": 53, "protocol": "UDP"}]}
        ],
    }
    rules = (PolicyRule(("create",), ("",), ("pods", "pods/exec")),)
    snap = Snapshot(
        namespaces=(_ns("app"), _ns("kube-system")),
        workloads=(
            Workload("app", "a", "Deployment", {"app": "a"}, (ContainerPort(80),)),
            Workload("kube-system", "coredns", "Deployment", {"k8s-app": "kube-dns"}, (ContainerPort(53, "UDP", "dns"),)),
        ),
        network_policies=(_deny("app"), NetworkPolicy("app", "dns", dns_only)),
        roles=(_role("app", "r", *rules),),
        bindings=(_bind("app", "b", "Role", "r", G),),
    )
    reaches = _reach_by_target(snap)
    assert {r.foothold.kind for r in reaches.values()} == {CREATE, POD}
    for r in reaches.values():
        assert [d.ref for d in r.destinations if d.namespace == "kube-system"] == ["kube-system/deployment/coredns"]
        assert r.risk in ("low", "medium") and r.risk_reason.endswith("(DNS aside)"), r.risk_reason
