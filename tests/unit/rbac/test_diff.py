"""The permissions diff (rbac/diff.py) against the authorizer: under random RBAC edits (add or remove a binding,
widen or narrow a role's rule), every request NEW allows and OLD does not (per subject, per namespace) is a gained
permission of that subject there (or cluster-wide), every one OLD allows and NEW does not is a lost one, and every
concrete gained or lost permission is such a request."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import PolicyRule, Role, RoleBinding, Snapshot, Subject
from kubectl_netsso.rbac.authorize import Authorizer, compile_rbac
from kubectl_netsso.rbac.diff import GAINED, LOST, Atom, diff_permissions, identity_of, risky_labels
from kubectl_netsso.rbac.rules import Request, rule_allows

sys.path.insert(0, str(REPO / "benchmarks"))

from reach_audit import generate_rbac  # noqa: E402

NAMESPACES = ("app-00", "app-01", "app-02", "app-03")
REQUESTS = [
    ("get", "", "pods", ""), ("list", "", "pods", ""), ("create", "", "pods", ""), ("delete", "", "pods", ""),
    ("create", "", "pods", "exec"), ("create", "", "pods", "attach"), ("create", "", "pods", "portforward"),
    ("get", "", "services", ""), ("get", "", "secrets", ""), ("create", "apps", "deployments", ""),
    ("patch", "apps", "statefulsets", ""), ("create", "networking.k8s.io", "networkpolicies", ""),
    ("update", "networking.k8s.io", "networkpolicies", ""), ("bind", "rbac.authorization.k8s.io", "roles", ""),
]  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    path = tmp_path_factory.mktemp("rbac") / "rbac.yaml"
    generate_rbac(str(path), list(NAMESPACES), groups=12, seed=3)
    return load_snapshot([str(path)])


def _subjects(*snaps: Snapshot) -> list[Subject]:
    found: set[Subject] = set()
    for s in snaps:
        found |= set(Authorizer(s).subjects())
    return sorted(found, key=lambda s: (s.kind, s.namespace or "", s.name))


def assert_diff_matches_the_authorizer(old: Snapshot, new: Snapshot) -> int:
    ma, mb = compile_rbac(old), compile_rbac(new)
    subjects = _subjects(old, new)
    changes = diff_permissions(ma, mb, subjects, NAMESPACES)
    az_a, az_b = Authorizer(ma), Authorizer(mb)
    checked = 0
    for subject in subjects:
        ident = identity_of(subject)
        mine = [c for c in changes if c.subject == subject]
        for ns in ("", *NAMESPACES):
            for verb, group, resource, sub in REQUESTS:
                req = Request(verb, resource, group, sub, "", ns)
                a, b = az_a.decide(ident, req).allowed, az_b.decide(ident, req).allowed
                scopes = {ns, ""}
                covered_gain = any(c.change == GAINED and c.namespace in scopes and rule_allows(c.atom.rule(), req) for c in mine)
                covered_loss = any(c.change == LOST and c.namespace in scopes and rule_allows(c.atom.rule(), req) for c in mine)
                if b and not a:
                    assert covered_gain, (subject, req)
                if a and not b:
                    assert covered_loss, (subject, req)
                checked += 1
        for c in mine:
            atom = c.atom
            if "*" in (atom.verb, atom.api_group, atom.resource) or atom.name or atom.url:
                continue
            req = atom.request(c.namespace)
            a, b = az_a.decide(ident, req).allowed, az_b.decide(ident, req).allowed
            assert (b and not a) if c.change == GAINED else (a and not b), c
    return checked


def test_no_edit_no_change(base: Snapshot) -> None:
    m = compile_rbac(base)
    assert diff_permissions(m, m, _subjects(base), NAMESPACES) == []


EDIT = st.tuples(
    st.sampled_from(["add-binding", "remove-binding", "widen", "narrow", "cluster-binding"]),
    st.integers(0, 100),
    st.sampled_from(["bench-exec", "bench-creator", "bench-deployer", "bench-netpol-editor", "bench-wild-exec"]),
    st.sampled_from(NAMESPACES),
)


def _edit(snap: Snapshot, op: str, index: int, role: str, ns: str) -> Snapshot:
    bindings = list(snap.bindings)
    roles = list(snap.roles)
    group = Subject("Group", f"oidc:team-{index % 14:03d}")
    if op == "add-binding":
        bindings.append(RoleBinding(f"edit-{index}", ns, "ClusterRole", role, (group,)))
    elif op == "cluster-binding":
        bindings.append(RoleBinding(f"edit-crb-{index}", None, "ClusterRole", role, (group,)))
    elif op == "remove-binding" and bindings:
        bindings.pop(index % len(bindings))
    elif op in ("widen", "narrow"):
        r = next(x for x in roles if x.name == role)
        rules = list(r.rules)
        k = index % len(rules)
        rule = rules[k]
        if op == "widen":
            rules[k] = replace(rule, verbs=("*",)) if index % 2 else replace(rule, resources=(*rule.resources, "secrets"))
        else:
            rules[k] = replace(rule, verbs=rule.verbs[1:] or rule.verbs)
        roles[roles.index(r)] = replace(r, rules=tuple(rules))
    return replace(snap, bindings=tuple(bindings), roles=tuple(roles))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(EDIT, min_size=1, max_size=3))
def test_diff_equals_the_set_difference_of_can_i(base: Snapshot, edits: list[tuple[str, int, str, str]]) -> None:
    new = base
    for edit in edits:
        new = _edit(new, *edit)
    assert assert_diff_matches_the_authorizer(base, new) > 100
    assert_diff_matches_the_authorizer(new, base)


def test_moving_a_grant_to_a_cluster_role_binding_loses_nothing_in_the_namespace() -> None:
    role = Role("exec", None, (PolicyRule(("create",), ("",), ("pods/exec",)),))
    g = Subject("Group", "devs")
    old = Snapshot(roles=(role,), bindings=(RoleBinding("devs", "a", "ClusterRole", "exec", (g,)),))
    new = Snapshot(roles=(role,), bindings=(RoleBinding("devs", None, "ClusterRole", "exec", (g,)),))
    changes = diff_permissions(compile_rbac(old), compile_rbac(new), [g], ["a"])
    assert [(c.change, c.namespace, c.atom.text, c.risky) for c in changes] == [
        ("gained", "", "create pods/exec", ("create pods/exec",))
    ]
    assert changes[0].via == "ClusterRoleBinding devs -> ClusterRole exec, rule 1"


def test_risky_labels_are_those_of_permissions() -> None:
    assert risky_labels(Atom("get", "", "secrets"), "a") == ("get secrets",)
    assert risky_labels(Atom("*", "", "pods/exec"), "a") == ("create pods/exec",)
    assert "impersonate users" in risky_labels(Atom("impersonate", "", "users"), "")
    assert risky_labels(Atom("impersonate", "", "users"), "a") == ()  # cluster-scoped: only cluster-wide
    assert risky_labels(Atom("get", "", "pods"), "a") == ()
    assert risky_labels(Atom("get", url="/healthz"), "") == ()


def test_widening_a_verb_gains_the_wildcard_and_loses_nothing() -> None:
    g = Subject("Group", "devs")
    rb = (RoleBinding("devs", "a", "ClusterRole", "r", (g,)),)
    old = Snapshot(roles=(Role("r", None, (PolicyRule(("get",), ("",), ("pods",)),)),), bindings=rb)
    new = Snapshot(roles=(Role("r", None, (PolicyRule(("*",), ("",), ("pods",)),)),), bindings=rb)
    changes = diff_permissions(compile_rbac(old), compile_rbac(new), [g], ["a"])
    assert [(c.change, c.atom.text) for c in changes] == [("gained", "* pods")]
    assert "create pods" in changes[0].risky
    back = diff_permissions(compile_rbac(new), compile_rbac(old), [g], ["a"])
    assert [(c.change, c.atom.text) for c in back] == [("lost", "* pods")]


def test_generated_paths(tmp_path: Path) -> None:
    # the generated file itself loads: the fixture's source of truth is real manifests
    path = tmp_path / "r.yaml"
    counts = generate_rbac(str(path), list(NAMESPACES), groups=5)
    snap = load_snapshot([str(path)])
    assert len(snap.bindings) == counts["bindings"]
