"""Issue 12 item 1: a policy-like object the engine does not evaluate (another CNI's CRD, Istio AuthorizationPolicy,
Antrea, policy.networking.k8s.io ClusterNetworkPolicy, an unknown version of a known kind) never leaves a confident
verdict behind: every verdict it could change is UNKNOWN with the reason, and `audit` lists it. Staged Calico
policies are not enforced: they change nothing and get an info note. Through the installed kubectl-netsso."""

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

EXE = shutil.which("kubectl-netsso") or str(Path(sys.executable).parent / "kubectl-netsso")


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    e.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "no-kubeconfig"), NO_COLOR="1")
    return e


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60)


def ns(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def pod(namespace: str, name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]},
    }  # fmt: skip


def cluster(tmp_path: Path, *extra: Any) -> str:
    """Namespaces a and b, pods a/x a/y b/x b/y, no NetworkPolicy (everything open), plus extra objects."""
    docs = [ns("a"), ns("b"), pod("a", "x", "x"), pod("a", "y", "y"), pod("b", "x", "x"), pod("b", "y", "y"), *extra]
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(folder)


ANTREA_NP = {
    "apiVersion": "crd.antrea.io/v1beta1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all", "namespace": "a"},
    "spec": {"priority": 5, "appliedTo": [{"podSelector": {}}], "ingress": [{"action": "Drop"}], "egress": [{"action": "Drop"}]},
}  # fmt: skip
ISTIO_AP = {
    "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "deny-all", "namespace": "a"},
    "spec": {},
}  # fmt: skip
CLUSTER_NP = {
    "apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "admin-deny"},
    "spec": {"tier": "Admin", "priority": 10, "subject": {"namespaces": {}},
             "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]},
}  # fmt: skip
NP_V2 = {
    "apiVersion": "networking.k8s.io/v2", "kind": "NetworkPolicy", "metadata": {"name": "future", "namespace": "b"},
    "spec": {"podSelector": {}},
}  # fmt: skip
STAGED = {
    "apiVersion": "projectcalico.org/v3", "kind": "StagedGlobalNetworkPolicy", "metadata": {"name": "try-deny-all"},
    "spec": {"stagedAction": "Set", "selector": "all()", "types": ["Ingress", "Egress"]},
}  # fmt: skip
NOT_A_POLICY = [
    {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "a"},
     "spec": {"selector": {}}},
    {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c", "namespace": "a"}, "spec": {}},
]  # fmt: skip


CILIUM_DENY_ALL = {
    "apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "deny-all", "namespace": "a"},
    "spec": {"endpointSelector": {}, "ingress": [{}], "egress": [{}]},
}  # fmt: skip
CALICO_DENY_ALL = {
    "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "deny-all"},
    "spec": {"selector": "all()", "types": ["Ingress", "Egress"]},
}  # fmt: skip


def test_the_issue_folder_a_cilium_and_a_calico_deny_all_are_never_a_confident_allowed(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, CILIUM_DENY_ALL, CALICO_DENY_ALL)
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder)
    assert p.returncode != 0 and "ALLOWED" not in p.stdout, p.stdout
    assert "no policy isolates" not in p.stdout
    assert "CiliumNetworkPolicy a/deny-all is not evaluated" in p.stdout + p.stderr
    # both CNIs' objects: which one enforces is not guessed -- both stay UNKNOWN until --cni says
    assert p.stdout.startswith("UNKNOWN") and "GlobalNetworkPolicy deny-all is not evaluated" in p.stdout, p.stdout
    assert "pass --cni calico or --cni cilium" in p.stderr, p.stderr
    # --cni calico: Calico's deny-all is evaluated (it denies), Cilium's still makes it UNKNOWN
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder, "--cni", "calico")
    assert p.stdout.startswith("UNKNOWN") and "GNP deny-all" in p.stdout, p.stdout
    assert "CiliumNetworkPolicy a/deny-all is not evaluated (--cni calico evaluates Calico policies)" in p.stdout
    # --cni cilium: Cilium's deny-all is evaluated (`ingress: [{}]` isolates and allows nothing)
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder, "--cni", "cilium")
    assert p.stdout.startswith("UNKNOWN") and "CNP a/deny-all" in p.stdout, p.stdout


def test_each_cni_alone_denies_the_issue_folder(env, tmp_path: Path) -> None:
    for obj, cni in ((CILIUM_DENY_ALL, "cilium"), (CALICO_DENY_ALL, "calico")):
        (tmp_path / cni).mkdir()
        folder = cluster(tmp_path / cni, obj)
        p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder, "-o", "json")
        assert p.returncode == 1, p.stdout + p.stderr
        data = json.loads(p.stdout)
        assert data["status"] == "DENIED" and data["cni"] == cni, data


def test_an_unknown_version_of_a_cni_kind_is_never_a_confident_allowed(env, tmp_path: Path) -> None:
    cnp = {"apiVersion": "cilium.io/v3", "kind": "CiliumNetworkPolicy", "metadata": {"name": "deny-all", "namespace": "a"},
           "spec": {"endpointSelector": {}, "ingress": [{}]}}  # fmt: skip
    folder = cluster(tmp_path, cnp)
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder)
    assert p.returncode == 3, p.stdout + p.stderr
    assert p.stdout.startswith("UNKNOWN"), p.stdout
    assert "CiliumNetworkPolicy a/deny-all is not evaluated" in p.stdout
    assert "no policy isolates" not in p.stdout
    assert "CiliumNetworkPolicy a/deny-all" in p.stderr  # the warning names it too


def test_a_namespaced_object_makes_its_namespace_unknown_and_leaves_the_others_decided(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, ANTREA_NP)
    into_a = run(env, "can-reach", "b/x", "a/y", "--port", "80", "--manifests", folder, "-o", "json")
    data = json.loads(into_a.stdout)
    assert into_a.returncode == 3 and data["status"] == "UNKNOWN"
    flow = data["flows"][0]
    assert flow["egress"]["allowed"] is True  # b/x's egress: nothing in b could change it
    assert flow["ingress"]["allowed"] is None
    assert "NetworkPolicy (crd.antrea.io/v1beta1) a/deny-all is not evaluated" in flow["ingress"]["unknownReason"]
    out_of_a = json.loads(run(env, "can-reach", "a/x", "b/y", "--port", "80", "--manifests", folder, "-o", "json").stdout)
    assert out_of_a["flows"][0]["egress"]["allowed"] is None
    within_b = run(env, "can-reach", "b/x", "b/y", "--port", "80", "--manifests", folder)
    assert within_b.returncode == 0 and within_b.stdout.startswith("ALLOWED"), within_b.stdout


def test_a_cluster_scoped_object_makes_every_verdict_unknown(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, CLUSTER_NP)
    p = run(env, "can-reach", "b/x", "b/y", "--port", "80", "--manifests", folder)
    assert p.returncode == 3 and p.stdout.startswith("UNKNOWN"), p.stdout
    assert "ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) admin-deny is not evaluated" in p.stdout


def test_an_unknown_version_of_a_known_kind_is_not_read_as_the_known_one(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, NP_V2)
    p = run(env, "can-reach", "a/x", "b/y", "--port", "80", "--manifests", folder, "-o", "json")
    data = json.loads(p.stdout)
    assert data["status"] == "UNKNOWN", data
    reason = data["flows"][0]["ingress"]["unknownReason"]
    assert "NetworkPolicy (networking.k8s.io/v2) b/future is not evaluated" in reason
    assert "v2" in reason and "version" in reason


def test_an_istio_authorization_policy_can_only_deny_on_top_so_a_denied_flow_stays_denied(env, tmp_path: Path) -> None:
    deny_into_a = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "only-x", "namespace": "a"},
        "spec": {"podSelector": {"matchLabels": {"app": "y"}},
                 "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}]},
    }  # fmt: skip
    folder = cluster(tmp_path, ISTIO_AP, deny_into_a)
    denied = run(env, "can-reach", "b/x", "a/y", "--port", "80", "--manifests", folder)
    assert denied.returncode == 1 and denied.stdout.startswith("DENIED"), denied.stdout
    assert "AuthorizationPolicy a/deny-all" in denied.stdout  # said, but it cannot open what the CNI denies
    allowed_by_np = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder)
    assert allowed_by_np.returncode == 3 and allowed_by_np.stdout.startswith("UNKNOWN"), allowed_by_np.stdout
    # an AuthorizationPolicy is enforced by the server-side proxy: egress from a is not its business
    egress = json.loads(run(env, "can-reach", "a/x", "b/y", "--port", "80", "--manifests", folder, "-o", "json").stdout)
    assert egress["status"] == "ALLOWED", egress


def test_staged_policies_change_nothing_and_are_noted(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, STAGED)
    p = run(env, "can-reach", "a/x", "b/y", "--port", "80", "--manifests", folder)
    assert p.returncode == 0 and p.stdout.startswith("ALLOWED"), p.stdout
    assert "StagedGlobalNetworkPolicy try-deny-all" in p.stderr and "not enforced" in p.stderr
    audit = json.loads(run(env, "audit", "--manifests", folder, "-o", "json").stdout)
    staged = [f for f in audit["findings"] if f["check"] == "staged-policy"]
    assert len(staged) == 1 and staged[0]["severity"] == "info", audit["findings"]


def test_objects_that_are_not_policies_change_nothing(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, *NOT_A_POLICY)
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder)
    assert p.returncode == 0 and p.stdout.startswith("ALLOWED"), p.stdout
    assert "not evaluated" not in p.stderr


def test_a_kind_named_like_a_network_policy_from_an_unknown_group_is_not_evaluated(env, tmp_path: Path) -> None:
    odd = {"apiVersion": "net.example.com/v1", "kind": "FirewallNetworkPolicy", "metadata": {"name": "fw"}, "spec": {}}
    folder = cluster(tmp_path, odd)
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", folder)
    assert p.returncode == 3 and "FirewallNetworkPolicy (net.example.com/v1) fw is not evaluated" in p.stdout, p.stdout


def test_audit_reports_each_object_it_did_not_evaluate(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, ANTREA_NP, CLUSTER_NP, ISTIO_AP)
    p = run(env, "audit", "--manifests", folder, "-o", "json")
    assert p.returncode == 1, p.stderr
    found = [f for f in json.loads(p.stdout)["findings"] if f["check"] == "policy-not-evaluated"]
    objects = sorted(f["object"] for f in found)
    assert objects == sorted(
        ["networkpolicy.crd.antrea.io/a/deny-all", "clusternetworkpolicy.policy.networking.k8s.io/admin-deny",
         "authorizationpolicy.security.istio.io/a/deny-all"]
    ), objects  # fmt: skip
    assert all(f["severity"] == "high" for f in found)
    cluster_wide = next(f for f in found if "admin-deny" in f["object"])
    assert "every verdict" in cluster_wide["reason"]
    table = run(env, "audit", "--manifests", folder)
    assert "policy-not-evaluated" in table.stdout


def test_paths_marks_exactly_the_affected_flows_unknown(env, tmp_path: Path) -> None:
    folder = cluster(tmp_path, ANTREA_NP)
    p = run(env, "paths", "-A", "--port", "80", "--manifests", folder, "-o", "json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)["paths"]
    for r in rows:
        touches_a = r["from"].startswith("a/") or r["to"].startswith("a/")
        if r["from"] == r["to"]:
            assert r["allowed"] is True  # a pod to itself
        elif touches_a:
            assert r["allowed"] is None, r
        else:
            assert r["allowed"] is True, r
