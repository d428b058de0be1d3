"""who-can through the installed `kubectl-netsso` executable, on examples/shop: what people see, the JSON contract,
exit codes, one-line errors, hostile names."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from helpers import REPO
from helpers.executable import netsso

SHOP = str(REPO / "examples" / "shop")
OFFLINE = ("--manifests", SHOP, "--with-default-roles")


def test_who_can_exec_into_payments(tmp_path: Path) -> None:
    r = netsso("who-can", "create", "pods", "--subresource", "exec", "-n", "payments", *OFFLINE, home=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("# who can create pods/exec in namespace payments")
    assert lines[1].split()[:2] == ["SUBJECT", "SCOPE"]
    body = "\n".join(lines)
    assert "Group oidc:payments-oncall" in body
    assert "RoleBinding payments/payments-oncall-exec -> ClusterRole pod-exec, rule 2" in body
    assert "Group system:masters" in body and "superuser: outside RBAC" in body
    # contractors exec in frontend only; shop-devs hold edit in shop only
    assert "oidc:contractors" not in body and "oidc:shop-devs" not in body


def test_who_can_agrees_with_can_i_for_the_subjects_it_names(tmp_path: Path) -> None:
    """The command-level face of the property test: each group listed is a yes for can-i --as-group, and a group
    of the example that is not listed is a no."""
    asked = ("create", "pods", "--subresource", "exec", "-n", "frontend")
    r = netsso("who-can", *asked, *OFFLINE, "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    groups = {s["name"] for s in json.loads(r.stdout)["subjects"] if s["kind"] == "Group"}
    assert "oidc:contractors" in groups
    for group in ("oidc:contractors", "oidc:shop-devs", "oidc:payments-oncall"):
        ci = netsso("can-i", *asked, *OFFLINE, "--as-group", group, "-q", home=tmp_path)
        assert (ci.returncode == 0) == (group in groups), group


def test_who_can_json_contract(tmp_path: Path) -> None:
    r = netsso("who-can", "get", "secrets", "-A", *OFFLINE, "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"request", "evaluated", "scope", "allowed", "subjects", "escalations", "errors", "gaps",
                         "complete", "claimPrefixes", "source"}  # fmt: skip
    assert data["scope"] == "all namespaces" and data["complete"] is True
    devs = next(s for s in data["subjects"] if s["name"] == "oidc:shop-devs")
    assert devs["scope"] == "shop" and devs["grant"]["role"] == {"kind": "ClusterRole", "namespace": None, "name": "edit"}
    assert devs["grant"]["aggregatedFrom"]["clusterRole"] == "system:aggregate-to-edit"
    assert devs["direct"] is True and devs["escalation"] is None
    masters = data["subjects"][-1]
    assert masters["name"] == "system:masters" and masters["superuser"] is True and "verbs" in masters["wildcards"]


def test_who_can_resource_names_and_token_groups(tmp_path: Path) -> None:
    (tmp_path / "rbac.yaml").write_text(
        """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: one-secret, namespace: shop}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [db, api-key]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: shop}
subjects: [{kind: Group, name: "oidc:readers", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: one-secret, apiGroup: rbac.authorization.k8s.io}
"""
    )
    r = netsso("who-can", "get", "secrets", "-n", "shop", "--manifests", str(tmp_path), "--groups-prefix", "oidc:",
               home=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    row = next(ln for ln in r.stdout.splitlines() if "oidc:readers" in ln)
    assert "(token group readers)" in row and "only api-key, db" in row
    named = netsso("who-can", "get", "secrets/db", "-n", "shop", "--manifests", str(tmp_path), "-o", "yaml", home=tmp_path)
    assert named.returncode == 0
    subject = yaml.safe_load(named.stdout)["subjects"][0]
    assert subject["name"] == "oidc:readers" and subject["resourceNames"] == []
    other = netsso("who-can", "get", "secrets/other", "-n", "shop", "--manifests", str(tmp_path), home=tmp_path)
    assert other.returncode == 1 and "no RBAC subject holds it" in other.stdout


ESCALATION = """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secrets, namespace: shop}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-secrets, namespace: shop}
subjects: [{kind: ServiceAccount, name: ci}]
roleRef: {kind: Role, name: secrets, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods, namespace: shop}
rules: [{apiGroups: [""], resources: [pods], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-pods, namespace: shop}
subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: pods, apiGroup: rbac.authorization.k8s.io}
"""


def test_who_can_escalation_paths(tmp_path: Path) -> None:
    """devs may create pods in shop, and the ServiceAccount ci there may read secrets: a pod running as ci gives
    devs what ci holds. The path is listed apart (devs do not hold it) and --no-escalations leaves it out."""
    (tmp_path / "rbac.yaml").write_text(ESCALATION)
    asked = ("who-can", "get", "secrets", "-n", "shop", "--manifests", str(tmp_path))
    r = netsso(*asked, "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [(s["kind"], s["name"]) for s in data["subjects"]] == [("ServiceAccount", "ci"), ("Group", "system:masters")]
    [esc] = data["escalations"]
    assert (esc["kind"], esc["name"], esc["escalation"], esc["via"]) == (
        "Group", "devs", "create pods as", "ServiceAccount shop/ci")  # fmt: skip
    assert esc["direct"] is False and esc["grant"]["binding"]["name"] == "devs-pods"
    text = netsso(*asked, home=tmp_path).stdout
    assert "Can obtain it (escalation paths):" in text
    assert "create pods as ServiceAccount shop/ci" in text
    quiet = json.loads(netsso(*asked, "--no-escalations", "-o", "json", home=tmp_path).stdout)
    assert quiet["escalations"] == []


def test_who_can_non_resource_url_and_csv(tmp_path: Path) -> None:
    r = netsso("who-can", "get", "/healthz", *OFFLINE, "-o", "csv", home=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    names = {row["name"] for row in rows}
    assert {"system:authenticated", "system:unauthenticated", "system:masters"} <= names
    assert all(row["scope"] == "" for row in rows)  # non-resource URLs: ClusterRoleBindings only


def test_who_can_nobody_exits_1(tmp_path: Path) -> None:
    r = netsso("who-can", "delete", "nodes", "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 1
    assert "no RBAC subject holds it" in r.stdout


def test_who_can_type_slash_subresource_name_warns_that_it_names_an_object(tmp_path: Path) -> None:
    """kubectl's rule: pods/exec is a pod named exec. Answered as written, but nobody should read the answer as the
    exec subresource's without being told (the subresource question gives other subjects)."""
    named = netsso("who-can", "create", "pods/exec", "-n", "payments", *OFFLINE, home=tmp_path)
    sub = netsso("who-can", "create", "pods", "--subresource", "exec", "-n", "payments", *OFFLINE, home=tmp_path)
    assert named.stdout.startswith("# who can create pods named 'exec' in namespace payments")
    assert "warning: 'pods/exec' asks about a pod named 'exec' (kubectl's TYPE/NAME rule); for the exec subresource: " \
           "pods --subresource exec" in named.stderr
    assert "TYPE/NAME" not in sub.stderr and "oidc:payments-oncall" in sub.stdout
    assert "oidc:payments-oncall" not in named.stdout


def test_who_can_usage_errors(tmp_path: Path) -> None:
    for args in (("get",), ("get", "pods", "extra"), ("get", "/healthz", "--subresource", "x"), ("get", "a/b/c")):
        r = netsso("who-can", *args, "--manifests", SHOP, home=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) <= 2 and "Traceback" not in r.stderr
    bad = netsso("who-can", "get", "pods", "-o", "dot", "--manifests", SHOP, home=tmp_path)
    assert bad.returncode == 2


def test_who_can_hostile_names_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "rbac.yaml").write_text(
        """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "evil\\u001b[31m"}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects: [{kind: User, name: "=cmd|\\u001b]0;pwned\\u0007", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: "evil\\u001b[31m", apiGroup: rbac.authorization.k8s.io}
"""
    )
    for fmt in ("table", "wide", "csv", "json", "yaml"):
        r = netsso("who-can", "get", "pods", "-n", "x", "--manifests", str(tmp_path), "-o", fmt, home=tmp_path)
        assert r.returncode == 0, (fmt, r.stderr)
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout, fmt
    rows = list(csv.reader(io.StringIO(netsso("who-can", "get", "pods", "-n", "x", "--manifests", str(tmp_path), "-o",
                                              "csv", home=tmp_path).stdout)))  # fmt: skip
    assert rows[1][1].startswith("'=")


# --- who-can-reach -------------------------------------------------------------------------------------------------


def test_who_can_reach_postgres(tmp_path: Path) -> None:
    r = netsso("who-can-reach", "db/svc/postgres", "--port", "5432", *OFFLINE, home=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("# who can reach db/svc/postgres on 5432/TCP")
    assert "anyone in the cluster: no" in lines and "outside the cluster: no" in lines
    body = "\n".join(lines)
    oncall = next(ln for ln in lines if ln.startswith("Group oidc:payments-oncall"))
    assert "pod payments/deployment/payments" in oncall and "NP db/postgres-ingress ingress rule 1" in oncall
    assert "NetworkPolicies of db" in body  # oidc:sre can rewrite them
    assert lines[-1].startswith("Group system:masters")  # always can: last


def test_who_can_reach_json_and_csv(tmp_path: Path) -> None:
    r = netsso("who-can-reach", "payments/deploy/payments", "--port", "8443", *OFFLINE, "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"to", "port", "protocol", "targets", "reachable", "anyone", "outside", "subjects", "unknown",
                         "gaps", "complete", "source"}  # fmt: skip
    devs = next(s for s in data["subjects"] if s["name"] == "oidc:shop-devs")
    create = next(p for p in devs["paths"] if p["foothold"]["kind"] == "create")
    assert create["asLabels"] == {"app": "api"} and create["to"] == "payments/deployment/payments"
    assert create["foothold"]["access"][0]["grant"] == "RoleBinding shop/shop-devs-edit -> ClusterRole edit"
    assert [s["rank"] for s in data["subjects"][:-1]] == sorted(s["rank"] for s in data["subjects"][:-1])
    rows = list(csv.DictReader(io.StringIO(netsso("who-can-reach", "payments/deploy/payments", "--port", "8443",
                                                  *OFFLINE, "-o", "csv", home=tmp_path).stdout)))  # fmt: skip
    assert {r["name"] for r in rows} == {s["name"] for s in data["subjects"]}


def test_who_can_reach_open_destination(tmp_path: Path) -> None:
    (tmp_path / "open.yaml").write_text(
        """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: open, labels: {app: web}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
"""
    )
    r = netsso("who-can-reach", "open/web", "--port", "80", "--manifests", str(tmp_path), "-o", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["anyone"][0]["who"] == "anyone in the cluster"
    assert data["outside"][0]["who"] == "ip:0.0.0.0/0"
    # no binding: only system:masters, allowed before RBAC, has footholds
    assert [s["name"] for s in data["subjects"]] == ["system:masters"]
    text = netsso("who-can-reach", "open/web", "--port", "80", "--manifests", str(tmp_path), home=tmp_path).stdout
    assert "anyone in the cluster -> open/web (80/TCP)" in text and "outside: 0.0.0.0/0" in text


def test_who_can_reach_nobody_but_the_superuser_exits_1(tmp_path: Path) -> None:
    (tmp_path / "closed.yaml").write_text(
        """apiVersion: v1
kind: Pod
metadata: {name: db, namespace: closed, labels: {app: db}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: closed}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""
    )
    r = netsso("who-can-reach", "closed/db", "--port", "5432", "--manifests", str(tmp_path), "-o", "json", home=tmp_path)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert data["reachable"] is False and [s["name"] for s in data["subjects"]] == ["system:masters"]
    assert data["anyone"] == [] and data["outside"] == []


def test_who_can_reach_usage_errors(tmp_path: Path) -> None:
    for args in (("ip:10.0.0.1",), ("db/svc/nothere",), ()):
        r = netsso("who-can-reach", *args, "--manifests", SHOP, home=tmp_path)
        assert r.returncode in (2, 3), (args, r.returncode, r.stderr)
        assert r.stderr.startswith(("error: ", "Usage:")) and "Traceback" not in r.stderr


def test_who_can_reach_hostile_names_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: open, labels: {app: web}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec, namespace: open}
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: "b\\u001b[2J", namespace: open}
subjects: [{kind: Group, name: "@evil\\u001b]0;x\\u0007", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: exec, apiGroup: rbac.authorization.k8s.io}
"""
    )
    for fmt in ("table", "wide", "csv", "json", "yaml"):
        r = netsso("who-can-reach", "open/web", "--port", "80", "--manifests", str(tmp_path), "-o", fmt, home=tmp_path)
        assert r.returncode == 0, (fmt, r.stderr)
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout, fmt
        if fmt == "csv":
            row = next(x for x in csv.DictReader(io.StringIO(r.stdout)) if x["kind"] == "Group")
            assert row["name"].startswith("'@")


def test_who_can_token_user_names_from_the_provider_settings(tmp_path: Path) -> None:
    """With the provider known (NETSSO_* here; flags or the kubeconfig exec entry too), a User subject with the API
    server's default '<issuer>#' username prefix shows the token's user; --username-prefix '-' turns it off."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "rbac.yaml").write_text(
        """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects: [{kind: User, name: "https://idp.example.test#alice", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: r, apiGroup: rbac.authorization.k8s.io}
"""
    )
    env = {"NETSSO_OIDC_ISSUER_URL": "https://idp.example.test", "NETSSO_OIDC_CLIENT_ID": "netsso"}
    asked = ("who-can", "get", "pods", "-n", "x", "--manifests", str(tmp_path / "m"), "-o", "json")
    r = netsso(*asked, env=env, home=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    alice = next(s for s in data["subjects"] if s["kind"] == "User")
    assert alice["tokenName"] == "alice" and data["claimPrefixes"]["username"] == "https://idp.example.test#"
    off = json.loads(netsso(*asked, "--username-prefix", "-", env=env, home=tmp_path).stdout)
    assert "tokenName" not in next(s for s in off["subjects"] if s["kind"] == "User")
