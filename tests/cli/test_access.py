"""reach / audit / report through the installed `kubectl-netsso` executable, on examples/shop."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from helpers import REPO
from helpers.executable import netsso

SHOP = str(REPO / "examples" / "shop")
DATA = REPO / "tests" / "data" / "access"
OFFLINE = ("--manifests", SHOP, "--with-default-roles")


def test_reach_table_for_the_over_privileged_group(tmp_path: Path) -> None:
    r = netsso("reach", *OFFLINE, "--as-group", "oidc:contractors", home=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("# a member of the groups (groups: oidc:contractors)")
    assert lines[1].split()[:2] == ["FOOTHOLD", "ACCESS"]
    body = "\n".join(lines)
    assert "NetworkPolicies of frontend" in body and "critical" in body
    assert "new pods in frontend" in body and "pod frontend/deployment/web" in body
    assert "RoleBinding frontend/contractors -> Role frontend/contractor" in body


def test_reach_json_contract(tmp_path: Path) -> None:
    r = netsso("reach", *OFFLINE, "--as", "alice", "--as-group", "oidc:shop-devs", "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["identity"]["user"] == "alice" and "oidc:shop-devs" in data["identity"]["groups"]
    assert set(data) == {"identity", "source", "namespaces", "summary", "footholds"}
    create = next(f for f in data["footholds"] if f["foothold"]["kind"] == "create")
    assert create["risk"] == "high"
    pay = next(d for d in create["destinations"] if d["to"] == "payments/deployment/payments")
    assert pay["asLabels"] == {"app": "api"} and pay["ports"] == ["https=8443/TCP"]
    assert data["summary"]["footholds"] == len(data["footholds"])


def test_reach_yaml_and_scope(tmp_path: Path) -> None:
    r = netsso("reach", *OFFLINE, "-n", "payments", "--as-group", "oidc:payments-oncall", "-o", "yaml", home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = yaml.safe_load(r.stdout)
    assert data["namespaces"] == ["payments"]
    assert [f["foothold"]["target"] for f in data["footholds"]] == ["payments/deployment/payments"]


def test_reach_without_identity_offline_is_an_error(tmp_path: Path) -> None:
    r = netsso("reach", "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 3
    assert r.stderr.startswith("error: ") and "--as" in r.stderr and "Traceback" not in r.stderr


def test_reach_bad_manifests_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: NetworkPolicy\nmetadata: [oops\n")
    r = netsso("reach", "--manifests", str(bad), "--as", "a", home=tmp_path)
    assert r.returncode == 3 and "bad.yaml" in r.stderr and "Traceback" not in r.stderr


def test_audit_finds_the_shop_problems_and_exits_1(tmp_path: Path) -> None:
    r = netsso("audit", *OFFLINE, "-o", "json", home=tmp_path)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert data["passed"] is False and data["failOn"] == "high"
    got = {(f["check"], f["object"]) for f in data["findings"]}
    assert ("edit-networkpolicies", "group oidc:sre") in got
    assert ("edit-networkpolicies", "group oidc:contractors") in got
    assert ("wildcard-exec", "group oidc:contractors") in got
    assert ("create-pods-cross-namespace", "serviceaccount shop/ci-deployer") in got
    assert ("peer-matches-nothing", "networkpolicy/shop/api-ingress ingress rule 1 from entry 1") in got
    for f in data["findings"]:
        assert f["severity"] in ("info", "low", "medium", "high", "critical") and f["reason"] and f["hint"]


def test_audit_says_offline_that_it_does_not_act_as_the_identity_given(tmp_path: Path) -> None:
    """audit checks every subject; offline there is no API server to impersonate, so --as/--as-group changed nothing
    and said nothing: a user could read the findings as that identity's. Now one warning, same findings."""
    plain = netsso("audit", *OFFLINE, "-o", "json", home=tmp_path)
    r = netsso("audit", *OFFLINE, "-o", "json", "--as", "alice", "--as-group", "oidc:contractors", home=tmp_path)
    assert r.returncode == plain.returncode == 1
    assert json.loads(r.stdout) == json.loads(plain.stdout)
    warnings = [ln for ln in r.stderr.splitlines() if "--as" in ln]
    assert warnings == ["warning: --as/--as-group have no effect on audit offline: it checks every subject "
                        "(for one identity: kubectl netsso reach --as ... or report --as ...)"]
    assert "--as" not in plain.stderr


def test_audit_fail_on_and_skip(tmp_path: Path) -> None:
    assert netsso("audit", *OFFLINE, "--fail-on", "never", home=tmp_path).returncode == 0
    skip = ["--skip", "edit-networkpolicies", "--skip", "create-pods-cross-namespace"]
    r = netsso("audit", *OFFLINE, *skip, home=tmp_path)
    assert r.returncode == 0, r.stdout  # only medium findings left
    assert "--fail-on high: PASS" in r.stdout
    assert netsso("audit", *OFFLINE, *skip, "--fail-on", "medium", home=tmp_path).returncode == 1
    r = netsso("audit", "--manifests", SHOP, "--only", "no-such-check", home=tmp_path)
    assert r.returncode == 2 and "unknown check" in r.stderr


def test_audit_expect_file_that_passes(tmp_path: Path) -> None:
    r = netsso("audit", *OFFLINE, "--expect", str(DATA / "expect-pass.yaml"), "--only", "expectation-failed", home=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("PASS  ") == 4
    assert "0 finding(s)" in r.stdout


def test_audit_expect_file_that_fails_explains_the_flow(tmp_path: Path) -> None:
    r = netsso("audit", *OFFLINE, "--expect", str(DATA / "expect-fail.yaml"), "--only", "expectation-failed", home=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "FAIL  the storefront calls the api" in out
    assert "DENIED: frontend/deployment/web -> shop/deployment/api on 8080/TCP" in out
    assert "team=frontend; namespace frontend has team=web" in out
    assert "FAIL  shop developers never reach payments" in out
    assert "a new pod wearing app=api" in out
    j = json.loads(
        netsso(
            "audit",
            *OFFLINE,
            "--expect",
            str(DATA / "expect-fail.yaml"),
            "--only",
            "expectation-failed",
            "-o",
            "json",
            home=tmp_path,
        ).stdout
    )
    assert [e["status"] for e in j["expectations"]] == ["FAIL", "FAIL"]
    assert all(f["details"]["explanation"] for f in j["findings"])


def test_audit_bad_expect_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("expect:\n  - from: a/b\n")
    r = netsso("audit", "--manifests", SHOP, "--expect", str(bad), home=tmp_path)
    assert r.returncode == 3 and "bad.yaml: expect[0]" in r.stderr
    r = netsso("audit", "--manifests", SHOP, "--expect", str(tmp_path / "missing.yaml"), home=tmp_path)
    assert r.returncode == 3 and "cannot read" in r.stderr
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"expect:\n  - name: \xff\xfe\n")
    r = netsso("audit", "--manifests", SHOP, "--expect", str(binary), home=tmp_path)
    assert r.returncode == 3 and "binary.yaml: not UTF-8 text" in r.stderr and "internal error" not in r.stderr


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = netsso(
        "report",
        "--html",
        str(out),
        *OFFLINE,
        "--as-group",
        "oidc:contractors",
        "--expect",
        str(DATA / "expect-fail.yaml"),
        home=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stderr
    # the edges drawn (flows into isolated workloads), not all allowed flows: paths -A counts 15 on the shop
    assert "4 allowed flows drawn (as on the page)" in r.stderr, r.stderr
    text = out.read_text()
    p = _Collect()
    p.feed(text)
    for tag, attrs in p.tags:
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            # nothing fetched: no http(s) or protocol-relative URLs (the SVG namespace is an attribute, not a fetch)
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)
        assert tag not in ("iframe", "object", "embed")
    assert "@import" not in text and "url(http" not in text
    nodes = {a["data-id"] for t, a in p.tags if t == "g" and "node" in (a.get("class") or "").split()}
    assert {"frontend/deployment/web", "shop/deployment/api", "db/statefulset/postgres", "internet"} <= nodes
    edges = {(a["data-from"], a["data-to"]) for t, a in p.tags if t == "path" and a.get("class") == "edge"}
    assert ("shop/deployment/api", "payments/deployment/payments") in edges
    assert ("frontend/deployment/web", "shop/deployment/api") not in edges  # the misconfiguration
    assert "expectation-failed" in text and "oidc:contractors" in text


@pytest.mark.parametrize("where", ["-"])
def test_report_to_stdout(tmp_path: Path, where: str) -> None:
    r = netsso("report", "--html", where, "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<!DOCTYPE html>") and "No identity given" in r.stdout


def test_report_unwritable_path(tmp_path: Path) -> None:
    r = netsso("report", "--html", str(tmp_path / "no" / "such" / "dir.html"), "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: cannot write")


def test_namespace_not_in_the_manifests_is_warned_once(tmp_path: Path) -> None:
    for cmd in (["audit"], ["reach", "--as-group", "oidc:sre"]):
        r = netsso(*cmd, "-n", "shpo", *OFFLINE, home=tmp_path)
        assert r.stderr.count("namespace shpo is not in the manifests") == 1, r.stderr
        r = netsso(*cmd, "-n", "shop", *OFFLINE, home=tmp_path)
        assert "not in the manifests" not in r.stderr
