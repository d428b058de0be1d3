"""Offline resource names (TYPE[.GROUP]) and the permissions matrix on plain data."""

from __future__ import annotations

import pytest

from kubectl_netsso.cluster.snapshot import PolicyRule
from kubectl_netsso.errors import NetssoError
from kubectl_netsso.rbac.matrix import MATRIX_VERBS, build_matrix
from kubectl_netsso.rbac.resources import BUILTIN, ResourceIndex
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


def test_unknown_resource_is_a_one_line_error() -> None:
    with pytest.raises(NetssoError) as exc:
        INDEX.resolve("frobnicators")
    assert "not known" in exc.value.message and "\n" not in exc.value.message


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


def test_matrix_asks_cluster_scoped_resources_cluster_wide() -> None:
    asked: list[Request] = []

    def decide(req: Request) -> bool | None:
        asked.append(req)
        return None

    build_matrix([INDEX.resolve("nodes")], "shop", decide)
    assert {r.namespace for r in asked if r.resource == "nodes"} == {""}
