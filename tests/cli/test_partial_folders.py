"""Partial folders: a namespace named by objects but not defined (no Namespace object) has unknown labels
(issue 10 item 6), through the installed executable.

A verdict that depends on such a namespace's labels is UNKNOWN and says why, with the hint to add the Namespace
object; a namespaceSelector on kubernetes.io/metadata.name alone stays decidable (the API server sets that label on
every namespace). paths, reach and audit show UNKNOWN cells, unknown counts and UNKNOWN expectations, not DENIED.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from helpers import REPO
from helpers.executable import netsso

SHOP = REPO / "examples" / "shop"
PARTIAL = ("--manifests", str(SHOP / "shop"), "--manifests", str(SHOP / "frontend"))


def test_can_reach_on_two_namespaces_of_the_shop_is_unknown_not_denied(tmp_path: Path) -> None:
    # with the whole shop this is DENIED (frontend is labelled team=web); with only the shop and frontend folders the
    # labels of both namespaces are unknown, and api-ingress / web-egress select on team
    p = netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", *PARTIAL, home=tmp_path)
    assert p.returncode == 3, p.stdout + p.stderr
    assert p.stdout.startswith("UNKNOWN  frontend/deployment/web -> shop/svc/api on 80/TCP")
    assert "namespace frontend is not defined in the input (no Namespace object), so its labels are unknown" in p.stdout
    assert "add its Namespace object" in p.stdout
    assert "has no label team" not in p.stdout  # the old, wrong DENIED explanation
    assert "namespace(s) frontend, shop are not defined in the input" in p.stderr and "Traceback" not in p.stderr
    # adding the Namespace objects decides it again
    p = netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", *PARTIAL,
               "--manifests", str(SHOP / "namespaces.yaml"), home=tmp_path)  # fmt: skip
    assert p.returncode == 1 and p.stdout.startswith("DENIED"), p.stdout
    assert "not defined in the input" not in p.stderr


def _folder(tmp: Path) -> str:
    """Namespaces a and b have no Namespace object. web in b admits a's pods by name, and c's by team=x."""

    def pod(ns: str, name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}  # fmt: skip

    ingress = [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}}]},
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "c", "team": "x"}}}]},
    ]
    docs = [
        pod("a", "client"), pod("c", "other"), pod("d", "stranger"), pod("b", "web"),
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web", "namespace": "b"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": ingress}},
    ]  # fmt: skip
    path = tmp / "partial.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(path)


def test_metadata_name_selectors_stay_decidable(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    p = netsso("can-reach", "a/client", "b/web", "--port", "80", "--manifests", folder, home=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr  # by name: decidable though a has no Namespace object
    p = netsso("can-reach", "d/stranger", "b/web", "--port", "80", "--manifests", folder, home=tmp_path)
    assert p.returncode == 1, p.stdout + p.stderr  # d is neither a nor c: the name decides, team=x does not matter
    p = netsso("can-reach", "c/other", "b/web", "--port", "80", "--manifests", folder, home=tmp_path)
    assert p.returncode == 3 and p.stdout.startswith("UNKNOWN"), p.stdout  # c by name, but is it team=x?
    assert "namespace c is not defined in the input" in p.stdout


def test_paths_reach_and_audit_show_unknown_not_denied(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    p = netsso("paths", "-A", "--port", "80", "--manifests", folder, "-o", "json", home=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = {(r["from"], r["to"]): r["allowed"] for r in json.loads(p.stdout)["paths"]}
    assert rows[("c/other", "b/web")] is None
    assert rows[("a/client", "b/web")] is True and rows[("d/stranger", "b/web")] is False
    table = netsso("paths", "-A", "--port", "80", "--manifests", folder, home=tmp_path).stdout
    cells, src = {}, ""
    for ln in table.splitlines()[1:]:
        cols = ln.split()
        if len(cols) < 3 or "flows:" in ln:
            continue
        if not ln.startswith(" "):
            src, cols = cols[0], cols[1:]
        cells[(src, cols[0])] = cols[2]
    assert cells[("c/other", "b/web")] == "UNKNOWN" and cells[("d/stranger", "b/web")] == "DENIED", table
    expect = tmp_path / "expect.yaml"
    expect.write_text(yaml.safe_dump({"expect": [
        {"name": "c stays out", "from": "c/other", "mustNotReach": "b/web", "port": 80},
        {"name": "a gets in", "from": "a/client", "mustReach": "b/web", "port": 80},
    ]}))  # fmt: skip
    p = netsso("audit", "--manifests", folder, "--expect", str(expect), "-o", "json", home=tmp_path)
    results = {r["name"]: r for r in json.loads(p.stdout)["expectations"]}
    assert results["c stays out"]["status"] == "UNKNOWN"
    assert "namespace c is not defined in the input" in results["c stays out"]["summary"] + "\n".join(
        results["c stays out"]["explanation"]
    )
    assert results["a gets in"]["status"] == "PASS"
    assert "not defined in the input" in p.stderr
    # reach: a pod created in c may or may not get into b/web: counted as unknown, not as unreachable
    roles = tmp_path / "rbac.yaml"
    roles.write_text(yaml.safe_dump_all([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pods", "namespace": "c"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "devs", "namespace": "c"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pods"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]},
    ]))  # fmt: skip
    p = netsso("reach", "-A", "--manifests", folder, "--manifests", str(roles), "--as-group", "devs", "-o", "json", home=tmp_path)
    assert p.returncode == 0, p.stderr
    (create,) = [f for f in json.loads(p.stdout)["footholds"] if f["foothold"]["kind"] == "create"]
    assert create["unknown"] >= 1
    assert "b/web" not in {d["to"] for d in create["destinations"]}


def test_peer_matching_nothing_in_a_partial_folder_is_not_a_medium_finding(tmp_path: Path) -> None:
    p = netsso("audit", *PARTIAL, "--only", "peer-matches-nothing", "-o", "json", home=tmp_path)
    findings = json.loads(p.stdout)["findings"]
    api_egress = next(f for f in findings if f["object"].startswith("networkpolicy/shop/api-egress"))
    assert api_egress["severity"] == "low"
    assert "pods outside it may match" in api_egress["reason"]
