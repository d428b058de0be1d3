"""Objects the API server would reject are left out with a warning (file, document, reason), every answer comes from
the rest, and `audit` lists each as an invalid-manifest finding; only unreadable files stop a command. Through the
installed kubectl-netsso executable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXE = shutil.which("kubectl-netsso") or str(Path(sys.executable).parent / "kubectl-netsso")
RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    e.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "no-kubeconfig"), NO_COLOR="1")
    return e


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60)


def shop_with(tmp_path: Path, *docs: Any) -> tuple[str, Path]:
    """examples/shop plus bad.yaml holding docs; returns (folder, bad file)."""
    folder = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", folder)
    bad = folder / "bad.yaml"
    bad.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(folder), bad


CRB_TO_A_ROLE = {
    "apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "contractors-everywhere"},
    "subjects": [{"kind": "Group", "name": "oidc:contractors", "apiGroup": "rbac.authorization.k8s.io"}],
    "roleRef": {"kind": "Role", "name": "contractor", "apiGroup": "rbac.authorization.k8s.io"},
}  # fmt: skip
CRB_SA_WITHOUT_NAMESPACE = {
    "apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "ci-admin"},
    "subjects": [{"kind": "ServiceAccount", "name": "ci-deployer"}],
    "roleRef": {"kind": "ClusterRole", "name": "cluster-admin", "apiGroup": "rbac.authorization.k8s.io"},
}  # fmt: skip


def test_rbac_answers_come_from_the_rest_with_a_warning_per_rejected_object(env: dict[str, str], tmp_path: Path) -> None:
    folder, bad = shop_with(tmp_path, CRB_TO_A_ROLE, CRB_SA_WITHOUT_NAMESPACE)
    p = run(env, "can-i", "patch", "networkpolicies", "-n", "frontend", "--manifests", folder, "--with-default-roles",
            "--as", "carol", "--as-group", "oidc:contractors")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("yes") and "RoleBinding frontend/contractors" in p.stdout
    lines = p.stderr.splitlines()
    first = next(ln for ln in lines if "contractors-everywhere" in ln)
    second = next(ln for ln in lines if "ci-admin" in ln)
    assert first.startswith(f"warning: {bad} document 1: ClusterRoleBinding contractors-everywhere: ")
    assert "roleRef.kind must be ClusterRole, not 'Role'" in first and "left out" in first
    assert second.startswith(f"warning: {bad} document 2: ClusterRoleBinding ci-admin: ")
    assert "subjects[0].namespace is required for a ServiceAccount in a ClusterRoleBinding" in second
    # the rejected cluster-admin binding grants nothing, in any namespace
    sa = run(env, "can-i", "delete", "secrets", "-n", "payments", "--manifests", folder, "--with-default-roles",
             "--as", "system:serviceaccount:shop:ci-deployer")  # fmt: skip
    assert (sa.returncode, sa.stdout.splitlines()[0]) == (1, "no"), sa.stderr
    for args in (["permissions", "-n", "frontend"], ["reach", "-A"], ["can-i", "--list", "-n", "frontend"]):
        r = run(env, *args, "--manifests", folder, "--with-default-roles", "--as", "carol", "--as-group", "oidc:contractors")
        assert r.returncode == 0 and "contractors-everywhere" in r.stderr, (args, r.stderr)


def test_audit_lists_each_rejected_object_as_a_finding(env: dict[str, str], tmp_path: Path) -> None:
    folder, bad = shop_with(tmp_path, CRB_TO_A_ROLE, CRB_SA_WITHOUT_NAMESPACE)
    p = run(env, "audit", "--manifests", folder, "--with-default-roles", "-o", "json")
    assert p.returncode == 1, p.stderr  # high findings fail the default --fail-on high
    found = [f for f in json.loads(p.stdout)["findings"] if f["check"] == "invalid-manifest"]
    assert [(f["severity"], f["object"]) for f in found] == [
        ("high", "clusterrolebinding/ci-admin"), ("high", "clusterrolebinding/contractors-everywhere")]  # fmt: skip
    assert found[1]["details"]["location"] == f"{bad} document 1"
    assert "roleRef.kind must be ClusterRole, not 'Role'" in found[1]["reason"] and found[1]["hint"]
    text = run(env, "audit", "--manifests", folder, "--with-default-roles", "--only", "invalid-manifest")
    assert text.returncode == 1 and "HIGH      invalid-manifest  clusterrolebinding/ci-admin" in text.stdout
    assert "2 finding(s): 2 high; --fail-on high: FAIL" in text.stdout
    clean = run(env, "audit", "--manifests", str(REPO / "examples" / "shop"), "--only", "invalid-manifest")
    assert clean.returncode == 0 and "0 finding(s)" in clean.stdout


def _meta(name: str, ns: str | None = "shop") -> dict[str, Any]:
    return {"name": name, **({"namespace": ns} if ns else {})}


# One invalid object of every kind the loader checks, with the reason the loader gives.
BAD_OBJECTS = [
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta("np"),
      "spec": {"podSelector": {}, "policyTypes": ["ingress"]}},
     "networkpolicy/shop/np", "spec.policyTypes[0] must be Ingress or Egress, not 'ingress'"),
    ({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": _meta("anp", None),
      "spec": {"priority": 5000, "subject": {"namespaces": {}}}},
     "adminnetworkpolicy/anp", "spec.priority must be between 0 and 1000, not 5000"),
    ({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
      "metadata": _meta("default", None), "spec": {"subject": {"namespaces": {}, "pods": {}}}},
     "baselineadminnetworkpolicy/default", "spec.subject must set exactly one of namespaces or pods"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("d"), "spec": {}},
     "deployment/shop/d", "spec.template is required"),
    ({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("c"), "spec": {"jobTemplate": {"spec": {}}}},
     "cronjob/shop/c", "spec.jobTemplate.spec.template is required"),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"containers": [{"ports": [{"containerPort": 0}]}]}},
     "pod/shop/p", "spec.containers[0].ports[0].containerPort must be between 1 and 65535, not 0"),
    ({"apiVersion": "v1", "kind": "Service", "metadata": _meta("s"), "spec": {"ports": [{"port": 80, "protocol": "HTTP"}]}},
     "service/shop/s", "spec.ports[0].protocol must be one of TCP, UDP, SCTP, not 'HTTP'"),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": {"pci": True}}},
     "namespace/n", "metadata.labels.pci must be a string, not a boolean"),
    ({"apiVersion": RBAC, "kind": "Role", "metadata": _meta("r"), "rules": [{"verbs": "get"}]},
     "role/shop/r", "rules[0].verbs must be a list, not a string"),
    ({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": _meta("cr", None), "rules": "all"},
     "clusterrole/cr", "rules must be a list, not a string"),
    ({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": _meta("rb"), "roleRef": {"kind": "Role", "name": "x"},
      "subjects": [{"kind": "Robot", "name": "r2d2"}]},
     "rolebinding/shop/rb", "subjects[0].kind must be User, Group or ServiceAccount, not 'Robot'"),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "shop"}, "spec": {}},
     "pod", "metadata.name is required"),
]  # fmt: skip


@pytest.mark.parametrize(("doc", "obj", "reason"), BAD_OBJECTS, ids=[o for _, o, _ in BAD_OBJECTS])
def test_every_kind_is_left_out_with_a_warning_and_a_finding(
    env: dict[str, str], tmp_path: Path, doc: dict[str, Any], obj: str, reason: str
) -> None:
    folder, bad = shop_with(tmp_path, doc)
    p = run(env, "audit", "--manifests", folder, "--with-default-roles", "--fail-on", "never", "-o", "json")
    assert p.returncode == 0, p.stderr
    (finding,) = [f for f in json.loads(p.stdout)["findings"] if f["check"] == "invalid-manifest"]
    expected_obj = obj if "/" in obj else f"{bad} document 1"
    assert (finding["object"], finding["details"]["location"]) == (expected_obj, f"{bad} document 1")
    assert reason in finding["reason"]
    warning = next(ln for ln in p.stderr.splitlines() if str(bad) in ln)
    assert warning.startswith(f"warning: {bad} document 1: ") and reason in warning
    paths = run(env, "paths", "-n", "shop", "--manifests", folder, "--port", "8080")
    assert paths.returncode in (0, 1) and reason in paths.stderr and "Traceback" not in paths.stderr, paths.stderr


def test_a_rejected_default_deny_does_not_deny(env: dict[str, str], tmp_path: Path) -> None:
    def pod(name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "t", "labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}  # fmt: skip

    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "t"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}  # fmt: skip
    valid = tmp_path / "valid.yaml"
    valid.write_text(yaml.safe_dump_all([pod("a"), pod("b"), deny]))
    invalid = tmp_path / "invalid.yaml"
    broken = {**deny, "spec": {"podSelector": {}, "policyTypes": ["ingress"]}}  # the API server refuses "ingress"
    invalid.write_text(yaml.safe_dump_all([pod("a"), pod("b"), broken]))
    denied = run(env, "can-reach", "t/a", "t/b", "--port", "80", "--manifests", str(valid))
    allowed = run(env, "can-reach", "t/a", "t/b", "--port", "80", "--manifests", str(invalid))
    assert (denied.returncode, allowed.returncode) == (1, 0), (denied.stdout, allowed.stdout, allowed.stderr)
    assert f"{invalid} document 3: NetworkPolicy t/deny: spec.policyTypes[0] must be Ingress or Egress" in allowed.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n", "invalid YAML"),
        (b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n", "not UTF-8 text"),
    ],
)
def test_unreadable_files_stay_errors(env: dict[str, str], tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "broken.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    p = run(env, "can-i", "get", "pods", "--manifests", str(path), "--as", "a")
    assert p.returncode == 3 and p.stderr.startswith(f"error: {path}") and message in p.stderr
    assert len(p.stderr.strip().splitlines()) <= 2


def test_live_objects_the_decoder_rejects_are_warnings_not_manifest_findings() -> None:
    # The API server stored them, so they are not manifests that fail to apply: a warning, and no invalid-manifest.
    from kubectl_netsso.cluster.live import _snapshot_from_live

    objs = [("live clusterrolebindings", CRB_TO_A_ROLE), ("live clusterrolebindings", CRB_SA_WITHOUT_NAMESPACE)]
    snap = _snapshot_from_live(objs, {}, (), source="live: context t")
    assert snap.bindings == () and snap.invalid == ()
    assert snap.warnings == (
        "skipped an object the loader could not read: live clusterrolebindings: ClusterRoleBinding contractors-everywhere:"
        " roleRef.kind must be ClusterRole, not 'Role'",
        "skipped an object the loader could not read: live clusterrolebindings: ClusterRoleBinding ci-admin:"
        " subjects[0].namespace is required for a ServiceAccount in a ClusterRoleBinding",
    )


def test_packaged_default_roles_go_through_the_strict_decoder() -> None:
    from kubectl_netsso.cluster.defaults import default_roles_snapshot

    snap = default_roles_snapshot()
    assert snap.invalid == () and snap.warnings == () and len(snap.roles) > 20
    # the strict decoder's defaults: subjects' apiGroup filled in, as the API server stores them
    assert all(s.api_group == "rbac.authorization.k8s.io" for b in snap.bindings for s in b.subjects if s.kind == "Group")
