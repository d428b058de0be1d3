"""can-reach and paths live: the installed kubectl-netsso reads the loopback API server double (bearer ID token from
the real test OpenID Provider), including a 403 on one namespace's NetworkPolicies (verdicts -> unknown, never
"allowed") and the warning for a CNI that does not enforce NetworkPolicy (flannel alone)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"


def shop_live_objects() -> list[dict[str, Any]]:
    """examples/shop as a live cluster shows it: Pods (2 per Deployment, with IPs and owner references through a
    ReplicaSet), ReplicaSets, StatefulSet pods, Services, NetworkPolicies, Namespaces. CronJobs have no pod running."""
    docs: list[dict[str, Any]] = []
    for path in sorted(SHOP.rglob("*.yaml")):
        if "rbac" in path.parts:
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    out: list[dict[str, Any]] = []
    ip = 10
    for d in docs:
        kind, meta = d["kind"], d["metadata"]
        if kind in ("Namespace", "Service", "NetworkPolicy"):
            out.append(d)
            continue
        if kind not in ("Deployment", "StatefulSet"):
            continue
        ns, name = meta["namespace"], meta["name"]
        tmpl = d["spec"]["template"]
        owner = {"apiVersion": "apps/v1", "kind": kind, "name": name, "controller": True, "uid": f"uid-{name}"}
        if kind == "Deployment":
            rs_hash = hashlib.sha256(name.encode()).hexdigest()[:9]
            rs_name = f"{name}-{rs_hash}"
            out.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": rs_name, "namespace": ns, "ownerReferences": [owner]},
                        "spec": {"replicas": 2, "selector": d["spec"]["selector"], "template": tmpl}})  # fmt: skip
            owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "controller": True, "uid": f"uid-{rs_name}"}
            names = [f"{rs_name}-{s}" for s in ("a1b2c", "d3e4f")]
        else:
            names = [f"{name}-0"]
        for pod_name in names:
            ip += 1
            labels = dict(tmpl["metadata"]["labels"])
            out.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "ownerReferences": [owner]},
                        "spec": copy.deepcopy(tmpl["spec"]),
                        "status": {"phase": "Running", "podIP": f"10.244.0.{ip}",
                                   "podIPs": [{"ip": f"10.244.0.{ip}"}]}})  # fmt: skip
    return out


def cache_token(home: Any, provider: Any, token: str) -> None:
    """Put an ID token into the plugin's cache entry for the harness kubeconfig (AUTH's cache API)."""
    args = [f"--oidc-issuer-url={provider.issuer}", f"--oidc-client-id={provider.client_id}",
            f"--certificate-authority={provider.ca_path}", "--oidc-extra-scope=groups", "--oidc-extra-scope=email"]  # fmt: skip
    settings = ProviderSettings.from_exec_args(args, home.env)
    open_cache(settings).save(TokenSet(token, None, provider.issuer, provider.client_id))


@pytest.fixture
def shop_live(provider: Any, apiserver: Any, kubeconfig: Path, home: Any) -> Any:
    apiserver.set_objects(shop_live_objects())
    cache_token(home, provider, provider.mint_id_token("alice", ["netsso-users"]))
    return apiserver


def test_can_reach_live_explains_the_namespace_label_bug(shop_live: Any, run_netsso: Any) -> None:
    p = run_netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80")
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout.startswith("DENIED  frontend/deployment/web -> shop/svc/api on 80/TCP")
    assert "0 of 4 pod pairs allowed" in p.stdout  # 2 web pods x 2 api pods behind the Service
    assert "team=frontend" in p.stdout and "team=web" in p.stdout
    assert "kind: NetworkPolicy" in p.stdout
    # the double saw list calls with the bearer token and no 403
    paths = {r.path for r in shop_live.requests}
    assert any(path.endswith("/networkpolicies") for path in paths)
    assert all(r.status < 400 for r in shop_live.requests), [(r.path, r.status) for r in shop_live.requests if r.status >= 400]


def test_can_reach_live_allowed_by_pod_name(shop_live: Any, run_netsso: Any) -> None:
    pods = [o["metadata"]["name"] for o in shop_live_objects() if o["kind"] == "Pod" and o["metadata"]["namespace"] == "shop"]
    p = run_netsso("can-reach", pods[0], "payments/svc/payments", "-n", "shop", "--port", "443", "-o", "json")
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["allowed"] is True and data["from"] == f"shop/{pods[0]}"
    assert len(data["flows"]) == 2 and {f["port"] for f in data["flows"]} == {8443}


def test_paths_live_json_names_pods_and_lists_every_pair_once(shop_live: Any, run_netsso: Any) -> None:
    p = run_netsso("paths", "-A", "--port", "8443", "--protocol", "TCP", "--no-external", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    pods = sorted(f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in shop_live_objects() if o["kind"] == "Pod")
    pairs = [(r["from"], r["to"]) for r in data["paths"]]
    assert sorted(pairs) == sorted((a, b) for a in pods for b in pods)
    allowed = {(r["from"], r["to"]) for r in data["paths"] if r["allowed"]}
    api = [x for x in pods if x.startswith("shop/api-")]
    payments = [x for x in pods if x.startswith("payments/payments-")]
    coredns = [x for x in pods if x.startswith("kube-system/")]
    loopback = {(x, x) for x in pods}  # "a pod cannot block traffic to itself"
    assert allowed == {(a, b) for a in api for b in payments} | {(a, b) for a in coredns for b in coredns} | loopback
    assert data["workloads"][api[0]]["kind"] == "Pod"


def test_paths_live_table_groups_pods_by_workload(shop_live: Any, run_netsso: Any) -> None:
    p = run_netsso("paths", "-n", "payments", "--port", "8443")
    assert p.returncode == 0, p.stderr
    rows = [ln.split() for ln in p.stdout.splitlines()[1:] if ln.strip() and "flows:" not in ln]
    allowed = [r for r in rows if "ALLOWED" in r]
    # 2 api pods x 2 payments pods are one row; every pod of payments to itself (loopback) vs to its sibling differs
    assert ["shop/deployment/api", "payments/deployment/payments", "8443/TCP", "ALLOWED"] in allowed
    assert any(r[:3] == ["payments/deployment/payments", "8443/TCP", "PARTLY"] or r[1:4] == ["payments/deployment/payments",
               "8443/TCP", "PARTLY"] for r in rows), rows  # fmt: skip


def test_live_403_on_one_namespace_policies_gives_unknown(shop_live: Any, run_netsso: Any) -> None:
    shop_live.forbid("networkpolicies")  # the cluster-wide list
    shop_live.forbid("networkpolicies", namespace="shop")  # and the shop namespace's list
    p = run_netsso("can-reach", "frontend/deploy/web", "shop/deploy/api", "--port", "8080", "-o", "json")
    assert p.returncode == 3, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["status"] == "UNKNOWN" and data["allowed"] is None
    flow = data["flows"][0]
    assert flow["egress"]["allowed"] is True  # frontend's policies were readable
    assert flow["ingress"]["allowed"] is None
    assert "networkpolicies" in flow["ingress"]["unknownReason"] and "shop" in flow["ingress"]["unknownReason"]
    # human output says UNKNOWN and why
    p = run_netsso("can-reach", "frontend/deploy/web", "shop/deploy/api", "--port", "8080")
    assert p.returncode == 3 and p.stdout.startswith("UNKNOWN")
    assert "unknown:" in p.stdout
    assert p.stdout.count("cannot see networkpolicies in namespace shop") == 1, p.stdout  # said once, not twice
    # paths: flows into shop are unknown (null) unless the source side already denies; others stay known
    p = run_netsso("paths", "-A", "--port", "8443", "-o", "json")
    assert p.returncode == 0, p.stderr
    assert "warning: cannot see networkpolicies in namespace shop" in p.stderr
    rows = json.loads(p.stdout)["paths"]
    into_shop = [r for r in rows if r["to"].startswith("shop/") and r["from"] != r["to"]]  # a pod to itself stays allowed
    assert into_shop and all(r["allowed"] is None or r["egress"]["allowed"] is False for r in into_shop)
    assert any(r["allowed"] is None for r in into_shop)
    api_to_payments = [r for r in rows if r["from"].startswith("shop/api-") and r["to"].startswith("payments/")]
    assert api_to_payments and all(r["allowed"] is None for r in api_to_payments)  # shop's egress is unknown too
    db_rows = [r for r in rows if r["from"].startswith("payments/") and r["to"].startswith("db/")]
    assert all(r["allowed"] is False for r in db_rows)  # 8443 is not allowed there, and it is known


def test_flannel_without_policy_agent_warns(shop_live: Any, run_netsso: Any) -> None:
    shop_live.add_objects([
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-flannel-ds", "namespace": "kube-flannel"},
         "spec": {"selector": {"matchLabels": {"app": "flannel"}},
                  "template": {"metadata": {"labels": {"app": "flannel"}},
                               "spec": {"containers": [{"name": "kube-flannel",
                                                        "image": "ghcr.io/flannel-io/flannel:v0.25.6"}]}}}},
    ])  # fmt: skip
    p = run_netsso("can-reach", "shop/deploy/api", "payments/svc/payments", "--port", "443")
    assert p.returncode == 0
    assert "warning:" in p.stderr and "flannel" in p.stderr.lower()
    p = run_netsso("paths", "-n", "db", "--port", "5432", "-o", "json")
    assert p.returncode == 0
    assert "warning:" in p.stderr and "flannel" in p.stderr.lower()
    assert any("flannel" in w.lower() for w in json.loads(p.stdout)["warnings"])


def test_no_warning_without_flannel(shop_live: Any, run_netsso: Any) -> None:
    p = run_netsso("paths", "-n", "db", "--port", "5432")
    assert p.returncode == 0
    assert "warning:" not in p.stderr


def test_403_on_pods_of_a_namespace_is_a_warning_not_a_silent_omission(shop_live: Any, run_netsso: Any) -> None:
    shop_live.forbid("pods")
    shop_live.forbid("pods", namespace="db")
    p = run_netsso("paths", "-A", "--port", "5432", "-o", "json")
    assert p.returncode == 0, p.stderr
    assert "warning: cannot see pods in namespace db" in p.stderr
    data = json.loads(p.stdout)
    assert not any(r["to"].startswith("db/") for r in data["paths"])
    assert any("cannot see pods in namespace db" in w for w in data["warnings"])


def test_live_pod_and_its_own_node_always_talk(shop_live: Any, run_netsso: Any) -> None:
    """Issue 10 item 5, live: Node objects give node addresses; a hostNetwork agent on the web pods' node reaches them
    despite frontend's default deny, one on another node does not; a 403 on nodes is a warning, and the pods'
    hostIPs still name their node."""
    objects = shop_live_objects()
    for o in objects:
        if o["kind"] == "Pod" and o["metadata"]["namespace"] == "frontend":
            o["spec"]["nodeName"] = "node-a"
    for name, ip in (("node-a", "10.1.0.1"), ("node-b", "10.1.0.2")):
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                        "status": {"addresses": [{"type": "InternalIP", "address": ip}]}})  # fmt: skip
        objects.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": f"agent-{name}", "namespace": "kube-system", "labels": {"app": "agent"}},
                        "spec": {"nodeName": name, "hostNetwork": True, "containers": [{"name": "a", "image": "agent"}]},
                        "status": {"phase": "Running", "hostIP": ip, "podIP": ip, "podIPs": [{"ip": ip}]}})  # fmt: skip
    shop_live.set_objects(objects)
    web = next(o["metadata"]["name"] for o in objects if o["kind"] == "Pod" and o["metadata"]["namespace"] == "frontend")
    p = run_netsso("can-reach", "ip:10.1.0.1", f"frontend/{web}", "--port", "8080")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "always allowed (a pod and its own node)" in p.stdout
    p = run_netsso("can-reach", "kube-system/agent-node-a", f"frontend/{web}", "--port", "8080")
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_netsso("can-reach", "kube-system/agent-node-b", f"frontend/{web}", "--port", "8080")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "ipBlock" in p.stdout and "10.1.0.2/32" in p.stdout  # another node: subject to policy, fixable by ipBlock
    # without the right to list nodes: a warning; pods' status.hostIP still know where web runs
    for o in objects:
        if o["kind"] == "Pod" and o["metadata"]["namespace"] == "frontend":
            o["status"]["hostIP"] = "10.1.0.1"
    shop_live.set_objects(objects)
    shop_live.forbid("nodes")
    p = run_netsso("can-reach", "ip:10.1.0.1", f"frontend/{web}", "--port", "8080")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "warning: cannot see nodes" in p.stderr and "Traceback" not in p.stderr


def test_live_policy_allow_reads_both_ends_namespaces_and_matches_can_reach(shop_live: Any, run_netsso: Any) -> None:
    """policy allow live read only the context's namespace (with -A, which it no longer offers, all of them): it reads
    the namespaces of FROM and TO, and prints what can-reach suggests for the same flow (issue 10 item 10)."""
    p = run_netsso("policy", "allow", "frontend/deploy/web", "shop/svc/api", "--port", "80", "--side", "ingress")
    assert p.returncode == 0, p.stdout + p.stderr
    (policy,) = yaml.safe_load_all(p.stdout)
    assert policy["metadata"]["name"] == "allow-api-from-frontend-web-http"
    r = run_netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", "-o", "json")
    data = json.loads(r.stdout)
    assert data["fix"] == [policy]
