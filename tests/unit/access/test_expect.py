"""--expect: schema validation (errors name file and entry) and checking on the shop example."""

from __future__ import annotations

import pytest
import yaml
from helpers import REPO

from kubectl_netsso.access.expect import ExpectationChecker, load_expectations
from kubectl_netsso.access.footholds import RbacPermissions, derive_footholds
from kubectl_netsso.access.reach import ReachEngine, reach_all
from kubectl_netsso.cluster.defaults import default_roles_snapshot
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import merge_rbac
from kubectl_netsso.errors import NetssoError
from kubectl_netsso.rbac.authorize import Authorizer

DATA = REPO / "tests" / "data" / "access"


@pytest.fixture(scope="module")
def checker() -> ExpectationChecker:
    snap = merge_rbac(load_snapshot([str(REPO / "examples" / "shop")]), default_roles_snapshot())
    engine = ReachEngine(snap)
    az = Authorizer(snap)

    def reach_of(user: str, groups: tuple[str, ...]) -> list:
        return reach_all(engine, derive_footholds(snap, RbacPermissions(az, user or "someone", groups)))

    return ExpectationChecker(engine, reach_of)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"mustReach": "a/b"}, "exactly one source"),
        ({"from": "a/b", "group": "g", "mustReach": "a/b"}, "exactly one source"),
        ({"from": "a/b"}, "mustReach / mustNotReach"),
        ({"from": "a/b", "mustReach": "x", "mustNotReach": "y"}, "mustReach / mustNotReach"),
        ({"from": "a/b", "mustReach": "x", "port": 0}, "invalid port"),
        ({"from": "a/b", "mustReach": "x", "protocol": "ICMP"}, "protocol"),
        ({"from": "a/b", "mustReach": "x", "severity": "urgent"}, "severity"),
        ({"from": "a/b", "mustReach": "x", "colour": "red"}, "unknown key"),
        ({"serviceAccount": "nonamespace", "mustReach": "x"}, "NAMESPACE/NAME"),
        ({"from": "a/b", "labels": {"a": "b"}, "mustReach": "x"}, "labels go with namespace"),
        ("just a string", "must be a mapping"),
    ],
)
def test_schema_errors_name_the_file_and_entry(entry: object, message: str) -> None:
    with pytest.raises(NetssoError) as err:
        load_expectations({"expect": [{"from": "ok/x", "mustReach": "ok/y"}, entry]}, "mine.yaml")
    assert err.value.message.startswith("mine.yaml: expect[1]")
    assert message in err.value.message


def test_schema_accepts_a_bare_list_and_defaults() -> None:
    (e,) = load_expectations([{"group": "g", "mustNotReach": "db/svc/pg", "port": "5432"}], "f")
    assert (e.source_kind, e.groups, e.port, e.protocol, e.severity, e.must_reach) == (
        "identity",
        ("g",),
        5432,
        "TCP",
        "high",
        False,
    )
    (s,) = load_expectations({"expect": [{"serviceAccount": "ci/deployer", "mustReach": "x"}]}, "f")
    assert s.user == "system:serviceaccount:ci:deployer"


def _results(checker: ExpectationChecker, name: str) -> list:
    data = yaml.safe_load((DATA / name).read_text())
    return [checker.check(e) for e in load_expectations(data, name)]


def test_passing_file(checker: ExpectationChecker) -> None:
    results = _results(checker, "expect-pass.yaml")
    assert [(r.status, r.expectation.name) for r in results if r.ok is not True] == []
    assert len(results) == 4


def test_failing_file_explains_each_failure(checker: ExpectationChecker) -> None:
    storefront, devs = _results(checker, "expect-fail.yaml")
    assert storefront.ok is False
    text = "\n".join(storefront.explanation)
    # the misconfiguration: the api admits namespaces labelled team=frontend, the storefront's has team=web
    assert "team=frontend" in text and "team=web" in text
    assert "kind: NetworkPolicy" in text  # the fix snippet from the generator
    assert devs.ok is False
    assert devs.expectation.severity == "critical"
    assert "app=api" in "\n".join(devs.explanation)  # wearing the trusted label
    finding = devs.finding()
    assert finding is not None and finding.check == "expectation-failed" and finding.severity == "critical"


def test_namespace_with_labels_is_a_new_pod(checker: ExpectationChecker) -> None:
    (as_api,) = load_expectations(
        [{"namespace": "shop", "labels": "app=api", "mustReach": "payments/svc/payments", "port": 443}], "f"
    )
    (as_other,) = load_expectations([{"namespace": "shop", "labels": {"app": "x"}, "mustReach": "payments/svc/payments"}], "f")
    assert checker.check(as_api).ok is True
    assert checker.check(as_other).ok is False


def test_unknown_destination_is_unknown_not_pass(checker: ExpectationChecker) -> None:
    (e,) = load_expectations([{"from": "shop/deploy/api", "mustNotReach": "nowhere/svc/ghost"}], "f")
    r = checker.check(e)
    assert r.ok is None and "not found" in r.summary
    assert r.finding() is not None


# --- onlyReachableBy ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def only_checker() -> ExpectationChecker:
    from kubectl_netsso.rbac.whocan import ReverseIndex

    snap = merge_rbac(load_snapshot([str(REPO / "examples" / "shop")]), default_roles_snapshot())
    return ExpectationChecker(ReachEngine(snap), None, "default", ReverseIndex(Authorizer(snap).model))


def _only(to: str, groups: list[str], port: int | None = None) -> object:
    entry: dict[str, object] = {"to": to, "onlyReachableBy": groups}
    if port is not None:
        entry["port"] = port
    [exp] = load_expectations([entry], "f.yaml")
    return exp


def test_only_reachable_by_passes_when_the_groups_are_all_who_reach(only_checker: ExpectationChecker) -> None:
    r = only_checker.check(_only("db/svc/postgres", ["oidc:payments-oncall", "oidc:sre"], 5432))  # type: ignore[arg-type]
    assert r.status == "PASS", r
    assert r.summary == "reachable only by oidc:payments-oncall, oidc:sre"


def test_only_reachable_by_fails_naming_every_other_subject(only_checker: ExpectationChecker) -> None:
    r = only_checker.check(_only("db/svc/postgres", ["oidc:sre"], 5432))  # type: ignore[arg-type]
    assert r.status == "FAIL"
    assert r.summary == "also reachable by group oidc:payments-oncall"
    [line] = r.explanation
    assert line.startswith("Group oidc:payments-oncall: pod payments/deployment/payments (exec;")
    assert "NP db/postgres-ingress ingress rule 1" in line
    finding = r.finding()
    assert finding is not None and finding.check == "expectation-failed"


def test_only_reachable_by_fails_when_anyone_gets_in(tmp_path: object) -> None:
    from kubectl_netsso.cluster.snapshot import ContainerPort, Snapshot, Workload
    from kubectl_netsso.rbac.whocan import ReverseIndex

    snap = Snapshot(workloads=(Workload("open", "web", "Pod", {"app": "web"}, (ContainerPort(80),)),))
    checker = ExpectationChecker(ReachEngine(snap), None, "default", ReverseIndex(Authorizer(snap).model))
    r = checker.check(_only("open/web", ["oidc:ops"], 80))  # type: ignore[arg-type]
    assert r.status == "FAIL" and r.summary.startswith("also reachable by anyone in the cluster, outside (ip:0.0.0.0/0)")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"to": "a/b"}, "onlyReachableBy must be a list"),
        ({"onlyReachableBy": ["g"]}, "to must be an endpoint"),
        ({"to": "a/b", "onlyReachableBy": "g"}, "onlyReachableBy must be a list"),
        ({"to": "a/b", "onlyReachableBy": ["g"], "group": "x"}, "not group"),
        ({"to": "a/b", "onlyReachableBy": ["g"], "port": "0"}, "invalid port"),
    ],
)
def test_only_reachable_by_schema_errors(entry: object, message: str) -> None:
    with pytest.raises(NetssoError) as err:
        load_expectations([entry], "f.yaml")
    assert err.value.message.startswith("f.yaml: expect[0]") and message in err.value.message


def test_only_reachable_by_without_rbac_is_unknown() -> None:
    snap = load_snapshot([str(REPO / "examples" / "shop")])
    r = ExpectationChecker(ReachEngine(snap)).check(_only("db/svc/postgres", ["oidc:sre"]))  # type: ignore[arg-type]
    assert r.status == "UNKNOWN"
