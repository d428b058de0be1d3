"""Offline resource names (TYPE[.GROUP]) and the permissions matrix on plain data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.cluster.snapshot import PolicyRule
from kubectl_netsso.errors import NetssoError
from kubectl_netsso.rbac.matrix import MATRIX_VERBS, build_matrix
from kubectl_netsso.rbac.resources import BUILTIN, SPECIAL, ResourceIndex
from kubectl_netsso.rbac.rules import Request, rule_allows

INDEX = ResourceIndex()


@pytest.mark.parametrize(
    "arg, group, resource",
    [
        ("pods", "", "pods"), ("po", "", "pods"), ("pod", "", "pods"), ("Pod", "", "pods"),
        ("deploy", "apps", "deployments"), ("deployments.apps", "apps", "deployments"), ("deploy.apps", "apps", "deployments"),
        ("svc", "", "services"), ("netpol", "networking.k8s.io", "networkpolicies"),
        ("networkpolicies.networking.k8s.io", "networking.k8s.io", "networkpolicies"),
        ("events", "", "events"), ("events.events.k8s.io", "events.k8s.io", "events"),
        ("cj", "batch", "cronjobs"), ("crd", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("widgets.example.com", "example.com", "widgets"), ("*", "", "*"), ("users", "", "users"),
    ],
)  # fmt: skip
def test_resolve(arg: str, group: str, resource: str) -> None:
    rt = INDEX.resolve(arg)
    assert (rt.group, rt.resource) == (group, resource)


def test_every_builtin_resolves_by_all_its_names() -> None:
    for t in BUILTIN:
        for name in (t.resource, t.singular, t.kind, *t.short_names, f"{t.resource}.{t.group}" if t.group else t.resource):
            got = INDEX.resolve(name)
            if name == t.resource + "." + t.group or not any(o.resource == t.resource and o is not t for o in BUILTIN):
                assert (got.group, got.resource) == (t.group, t.resource), name


def test_unknown_resource_is_taken_literally_with_kubectls_warning() -> None:
    # RBAC rules may name any string: kubectl warns and asks anyway (issue 10 item 3)
    warnings: list[str] = []
    rt = ResourceIndex(offline=True).resolve("Foobar", warnings)
    assert (rt.resource, rt.group, rt.namespaced) == ("foobar", "", True)
    assert warnings == ["the server doesn't have a resource type 'foobar' (offline: not a built-in type, and no RBAC "
                        "rule in the manifests names it); checked as written"]  # fmt: skip
    live: list[str] = []
    assert INDEX.resolve("widgets.example.com", live).group == "example.com"
    assert live == ["the server doesn't have a resource type 'widgets.example.com'; checked as written"]
    assert INDEX.resolve("frobnicators").resource == "frobnicators"  # no list given: no warnings collected


@pytest.mark.parametrize(
    "arg, ref, warned",
    [("pod", "pods", True), ("Pod", "pods", True), ("Deployment", "deployments.apps", True),
     ("deployment.apps", "deployments.apps", True), ("pods", "pods", False), ("deployments", "deployments.apps", False),
     ("po", "pods", False), ("deploy", "deployments.apps", False), ("NetworkPolicy", "networkpolicies.networking.k8s.io", True)],
)  # fmt: skip
def test_singular_and_kind_forms_map_to_the_plural_with_a_warning(arg: str, ref: str, warned: bool) -> None:
    warnings: list[str] = []
    assert INDEX.resolve(arg, warnings).ref == ref
    assert warnings == ([f"resource type {arg!r} checked as {ref!r} (RBAC rules name the plural)"] if warned else [])


@given(st.text(alphabet=st.sampled_from("abcdefgijklmnoprstuvwxyzPD.-*"), min_size=1, max_size=16))
def test_resolve_never_fails_and_warns_at_most_once(name: str) -> None:
    warnings: list[str] = []
    rt = INDEX.resolve(name, warnings)
    assert len(warnings) <= 1
    base, dot, group = name.partition(".")
    hits = INDEX.lookup(base, group if dot else None)
    if name == "*" or name.lower() in SPECIAL:
        assert not warnings
    elif not hits:
        assert rt.resource == base.lower() and warnings[0].startswith(f"the server doesn't have a resource type {name.lower()!r}")
    elif base.lower() == hits[0].resource:
        assert rt == hits[0] and not warnings


@pytest.mark.parametrize(
    "arg, ref, sub",
    [("pods/exec", "pods/exec", "exec"), ("deployments.apps/scale", "deployments.apps/scale", "scale"),
     ("pod/log", "pods/log", "log"), ("pods", "pods", "")],
)  # fmt: skip
def test_subresource_rows(arg: str, ref: str, sub: str) -> None:
    rt = INDEX.resolve_with_subresource(arg)
    assert (rt.ref, rt.subresource) == (ref, sub)


@pytest.mark.parametrize("arg", ["pods/", "pods/exec/x", "/exec"])
def test_bad_subresource_rows_are_usage_errors(arg: str) -> None:
    with pytest.raises(NetssoError) as exc:
        INDEX.resolve_with_subresource(arg)
    assert exc.value.exit_code == 2


def test_extra_resources_from_rules() -> None:
    idx = INDEX.with_extra([("example.com", "widgets"), ("*", "*"), ("", "pods/exec")])
    assert idx.resolve("widgets").group == "example.com"


def test_matrix_cells_and_risky() -> None:
    rules = [PolicyRule(("get", "list"), ("",), ("pods",)), PolicyRule(("create",), ("",), ("pods/exec",)),
             PolicyRule(("*",), ("networking.k8s.io",), ("networkpolicies",))]  # fmt: skip

    def decide(req: Request) -> bool | None:
        return any(rule_allows(r, req) for r in rules)

    rows, risky = build_matrix([INDEX.resolve("pods"), INDEX.resolve("netpol"), INDEX.resolve("nodes")], "shop", decide)
    cells = {r.resource.resource: dict(zip(MATRIX_VERBS, r.cells, strict=True)) for r in rows}
    assert cells["pods"]["get"] and cells["pods"]["list"] and not cells["pods"]["create"]
    assert all(cells["networkpolicies"].values())
    assert rows[0].risky == ("exec",)
    assert rows[1].risky == ("create", "update", "patch", "delete")
    assert {r.name for r in risky if r.allowed} == {
        "create pods/exec", "create networkpolicies.networking.k8s.io", "update networkpolicies.networking.k8s.io",
        "patch networkpolicies.networking.k8s.io", "delete networkpolicies.networking.k8s.io",
    }  # fmt: skip


def test_matrix_subresource_row_asks_the_subresource() -> None:
    rules = [PolicyRule(("create", "get"), ("",), ("pods/exec",)), PolicyRule(("create",), ("",), ("pods/portforward",))]

    def decide(req: Request) -> bool | None:
        return any(rule_allows(r, req) for r in rules)

    rows, _ = build_matrix([INDEX.resolve_with_subresource("pods/exec"), INDEX.resolve("pods")], "shop", decide)
    exec_row, pods_row = rows
    assert dict(zip(MATRIX_VERBS, exec_row.cells, strict=True)) == {
        "get": True, "list": False, "watch": False, "create": True, "update": False, "patch": False, "delete": False}
    assert exec_row.risky == ("exec",) and pods_row.risky == ("exec", "portforward")
    assert not any(pods_row.cells)
    assert exec_row.to_dict()["subresource"] == "exec" and exec_row.to_dict()["name"] == "pods/exec"


def test_matrix_asks_cluster_scoped_resources_cluster_wide() -> None:
    asked: list[Request] = []

    def decide(req: Request) -> bool | None:
        asked.append(req)
        return None

    build_matrix([INDEX.resolve("nodes")], "shop", decide)
    assert {r.namespace for r in asked if r.resource == "nodes"} == {""}
