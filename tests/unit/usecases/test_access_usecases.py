"""usecases/reach.py, audit.py and report.py on the shipped shop example (with the default roles), as functions."""

from __future__ import annotations

import os

import pytest

from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.errors import EXIT_USAGE, NetssoError
from kubectl_netsso.usecases import audit, reach, report
from kubectl_netsso.usecases.identity import IdentityInput
from kubectl_netsso.usecases.source import Source

NO_KUBECONFIG = os.path.join(os.path.dirname(__file__), "no-such-kubeconfig")


def shop(namespace: str | None = None, user: str | None = None, groups: tuple[str, ...] = ()) -> Source:
    kube = KubeOptions(NO_KUBECONFIG, None, namespace, False, user, groups)
    return Source(kube, ("example:shop",), with_default_roles=True)


def test_reach_of_contractors_finds_the_critical_foothold() -> None:
    result = reach.run(IdentityInput(), shop(None, None, ("oidc:contractors",)))
    data = result.to_dict()
    assert data["identity"]["from"] == "--as-group" and data["identity"]["user"] is None
    assert set(data["namespaces"]) >= {"frontend", "shop", "payments"}  # offline without -n: every namespace
    assert result.reaches and data["summary"]["footholds"] == len(result.reaches)
    # rewriting NetworkPolicies is critical: the riskiest foothold comes first
    assert result.reaches[0].risk == "critical" and data["footholds"][0]["risk"] == "critical"


def test_reach_needs_an_identity_offline() -> None:
    with pytest.raises(NetssoError, match="no identity for an offline check"):
        reach.run(IdentityInput(), shop())


def test_audit_with_the_shipped_expectations() -> None:
    result = audit.run(audit.AuditInput(expect_paths=("example:shop-expect.yaml",)), shop())
    data = result.to_dict()
    assert data["expectations"] and {e["status"] for e in data["expectations"]} <= {"PASS", "FAIL", "UNKNOWN"}
    assert data["passed"] is (not result.failing) and result.exit_code == (1 if result.failing else 0)
    assert sum(data["summary"].values()) == len(data["findings"])
    # --only and --fail-on narrow the same findings
    only = {f.check for f in result.findings[:1]}
    narrowed = audit.run(audit.AuditInput(only=tuple(only), fail_on="never"), shop())
    assert {f.check for f in narrowed.findings} <= only and narrowed.exit_code == 0


def test_audit_rejects_an_unknown_check() -> None:
    with pytest.raises(NetssoError) as info:
        audit.run(audit.AuditInput(only=("no-such-check",)), shop())
    assert info.value.exit_code == EXIT_USAGE


def test_report_page_is_built_from_the_same_context() -> None:
    result = report.run(report.ReportInput(IdentityInput()), shop(None, None, ("oidc:contractors",)))
    assert result.footholds > 0 and result.findings > 0
    from kubectl_netsso.output.report import render_html

    html = render_html(result.data)
    assert html.lstrip().lower().startswith("<!doctype html") and "oidc:contractors" in html
