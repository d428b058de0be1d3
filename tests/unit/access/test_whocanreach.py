"""who-can-reach (access/whocanreach.py) agrees with reach run per subject: for every RBAC subject, the footholds
who-can-reach names for a destination are exactly the footholds `reach --as` that subject lists with the
destination among what they reach (plus exec/attach into the destination's own pod, which reach does not list as
a destination of itself). On examples/shop with the default roles, and over generated bindings on its network."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from helpers import REPO
from helpers.rbac_gen import identity_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.access.footholds import RbacPermissions, derive_footholds, namespaces_in
from kubectl_netsso.access.model import NETPOL, POD, SERVICE, Reach
from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.access.whocanreach import Goal, group_ref, who_can_reach
from kubectl_netsso.cluster.defaults import default_roles_snapshot
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import PolicyRule, Role, RoleBinding, Snapshot, Subject, merge_rbac
from kubectl_netsso.netpol import endpoints
from kubectl_netsso.rbac.authorize import Authorizer, Identity, compile_rbac
from kubectl_netsso.rbac.whocan import ReverseIndex

SHOP = load_snapshot([str(REPO / "examples" / "shop")])
FULL = merge_rbac(SHOP, default_roles_snapshot())
DESTINATIONS = [("db/svc/postgres", 5432), ("payments/deploy/payments", 8443), ("shop/svc/api", 80),
                ("frontend/deploy/web", None), ("db/sts/postgres", "postgres")]  # fmt: skip
BUILT_IN = ["system:authenticated", "system:serviceaccounts", "system:masters"]


def goals_of(snap: Snapshot, text: str, port: int | str | None) -> list[Goal]:
    dst = endpoints.resolve_endpoint(snap, text, "default", role="destination")
    found, _ = endpoints.targets(dst, port, "TCP")
    return [Goal(t.workload, t.port) for t in found if t.problem is None]


def covers(s: Subject, ident: Identity) -> bool:
    if s.kind == "Group":
        return s.name in ident.groups
    if s.kind == "ServiceAccount":
        return ident.user == f"system:serviceaccount:{s.namespace}:{s.name}"
    return ident.user == s.name


def _port_ok(ports: tuple[str, ...], port: int | str | None) -> bool:
    if port is None:
        return bool(ports)
    for text in ports:
        number = text.split("/", 1)[0]
        if number == "any" or text == "service ports":
            return True
        name, _, value = number.partition("=")
        if str(port) in (name, value or name):
            return True
    return False


def expected_from_reach(snap: Snapshot, engine: ReachEngine, az: Authorizer, ident: Identity, goals: list[Goal],
                        port: int | str | None) -> set[tuple[str, str, str]]:  # fmt: skip
    """The footholds `reach` lists for the identity whose destinations include a goal (on the port)."""
    from kubectl_netsso.netpol.endpoints import backing_workloads

    goal_refs = {group_ref(g.workload) for g in goals}
    services = {f"{s.namespace}/svc/{s.name}" for s in snap.services
                if {group_ref(w) for w in backing_workloads(snap, s)} & goal_refs}  # fmt: skip
    perms = RbacPermissions(az, ident.user, ident.groups, complete=True)
    out: set[tuple[str, str, str]] = set()
    for fh in derive_footholds(snap, perms, namespaces_in(snap)):
        r: Reach = engine.reach(fh)
        hit = any(d.ref in goal_refs and _port_ok(d.ports, port) for d in r.destinations)
        if fh.kind == SERVICE:
            hit = fh.target in services
        if fh.kind == NETPOL:
            hit = any(g.workload.namespace == fh.namespace for g in goals)
        if fh.kind == POD and set(fh.actions) & {"exec", "attach", "port-forward", "pod proxy"}:
            hit = hit or bool({group_ref(w) for w in fh.workloads} & goal_refs)  # inside the destination's own pod
        if hit:
            out.add((fh.kind, fh.namespace, fh.target))
    return out


def check_agreement(snap: Snapshot, subjects: list[Subject],
                    destinations: list[tuple[str, int | str | None]] = DESTINATIONS) -> int:  # fmt: skip
    """Asserts the agreement for every subject and destination; returns how many (subject, foothold) rows matched."""
    engine = ReachEngine(snap)
    az = Authorizer(snap)
    index = ReverseIndex(compile_rbac(snap))
    rows = 0
    for text, port in destinations:
        goals = goals_of(snap, text, port)
        found = who_can_reach(snap, engine, index, goals)
        for s in subjects:
            ident = identity_of(s)
            got = {(p.foothold.kind, p.foothold.namespace, p.foothold.target)
                   for sp in found.subjects if covers(sp.subject, ident) for p in sp.paths}  # fmt: skip
            assert got == expected_from_reach(snap, engine, az, ident, goals, port), (text, port, s)
            rows += len(got)
    return rows


def corpus(snap: Snapshot) -> list[Subject]:
    return [*Authorizer(snap).subjects(), *(Subject("Group", g) for g in BUILT_IN)]


def test_who_can_reach_agrees_with_reach_on_the_shop_example() -> None:
    check_agreement(FULL, corpus(FULL))


def test_who_can_reach_postgres_on_the_shop_example() -> None:
    goals = goals_of(FULL, "db/svc/postgres", 5432)
    found = who_can_reach(FULL, ReachEngine(FULL), ReverseIndex(compile_rbac(FULL)), goals)
    by_name = {sp.subject.name: sp for sp in found.subjects}
    oncall = by_name["oidc:payments-oncall"]
    [path] = oncall.paths
    assert (path.foothold.kind, path.foothold.target, path.source) == (POD, "payments/deployment/payments",
                                                                        "payments/deployment/payments")  # fmt: skip
    assert path.ports == ("5432/TCP",)
    assert any("db/postgres-ingress ingress rule 1" in v for v in path.via)
    assert by_name["oidc:sre"].paths[0].foothold.kind == NETPOL
    assert found.subjects[-1].subject.name == "system:masters"  # always can: listed last
    assert found.anyone == () and found.outside == ()
    ranks = [sp.rank for sp in found.subjects[:-1]]
    assert ranks == sorted(ranks)


def test_anyone_and_outside() -> None:
    """A pod no policy isolates for ingress: anyone in the cluster, and any address outside."""
    snap = FULL
    goals = goals_of(snap, "kube-system/deploy/coredns", 53)
    if not goals:
        pytest.skip("the example has no coredns workload")
    found = who_can_reach(snap, ReachEngine(snap), ReverseIndex(compile_rbac(snap)), goals)
    assert found.anyone and found.anyone[0].who == "anyone in the cluster"
    isolated = who_can_reach(snap, ReachEngine(snap), ReverseIndex(compile_rbac(snap)), goals_of(snap, "db/svc/postgres", 5432))
    assert isolated.outside == ()


ROLES = ["edit", "view", "admin", "pod-exec", "cluster-admin", "exec-web-only"]
NAMESPACES = ["frontend", "shop", "payments", "db"]


@st.composite
def bindings(draw: Any) -> list[RoleBinding]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["User", "Group", "ServiceAccount"]))
        name = draw(st.sampled_from(["alice", "devs", "ci"]))
        ns = draw(st.sampled_from([None, *NAMESPACES]))
        sa_ns = draw(st.sampled_from([None, *NAMESPACES])) if kind == "ServiceAccount" else None
        if kind == "ServiceAccount" and ns is None and sa_ns is None:
            sa_ns = "shop"
        subject = Subject(kind, name, namespace=sa_ns)
        out.append(RoleBinding(f"gen{i}", ns, "ClusterRole", draw(st.sampled_from(ROLES)), (subject,)))
    return out


EXEC_WEB = Role("exec-web-only", None, (PolicyRule(verbs=("create",), api_groups=("",), resources=("pods/exec",),
                                                   resource_names=("web",)),))  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(extra=bindings())
def test_who_can_reach_agrees_with_reach_over_generated_bindings(extra: list[RoleBinding]) -> None:
    snap = replace(FULL, roles=(*FULL.roles, EXEC_WEB), bindings=(*FULL.bindings, *extra))
    check_agreement(snap, corpus(snap))


@pytest.mark.parametrize("seed", [1, 2])
def test_who_can_reach_agrees_with_reach_on_generated_clusters(tmp_path: Any, seed: int) -> None:
    """benchmarks/gencluster.py's policies of every kind and reach_audit.py's RBAC (groups bound to exec, create pods,
    deploy, edit NetworkPolicies, wildcard exec in a few namespaces; a platform group everywhere)."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from gencluster import generate
    from reach_audit import generate_rbac

    folder = tmp_path / "cluster"
    generate(str(folder), namespaces=4, pods=60, policies=40, replicas=1, seed=seed)
    generate_rbac(str(folder / "rbac.yaml"), [f"ns-{i:03d}" for i in range(4)], 12, seed=seed)
    snap = load_snapshot([str(folder)])
    picks: list[tuple[str, int | str | None]] = []
    for w in sorted(snap.workloads, key=lambda w: w.ref)[::9][:5]:
        picks.append((w.ref, w.ports[0].port if w.ports else None))
    picks += [(f"{s.namespace}/svc/{s.name}", s.ports[0].port) for s in sorted(snap.services, key=lambda s: s.name)[:2]]
    assert check_agreement(snap, corpus(snap), picks) > 0
