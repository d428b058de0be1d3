"""A pod and its own node always talk (issue 10 item 5), through the installed executable and the engines.

"Traffic to and from the node where a Pod is running is always allowed, regardless of the IP address of the Pod or
the node" (kubernetes.io, Network Policies): under a default deny, the kubelet's probes (node -> pod), a pod calling
its node (pod -> node, e.g. the kubelet on 10250) and a hostNetwork agent on the same node must not look blocked, and
no ipBlock policy may be proposed for them. Another node's address stays subject to policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.executable import netsso

from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.cluster.manifests import load_snapshot

DENY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}  # fmt: skip


def _pod(name: str, ns: str, node: str, host_ip: str | None, *, hostnet: bool = False, ip: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"podIP": ip or host_ip}
    if host_ip:
        status["hostIP"] = host_ip
    ports = [{"name": "http", "containerPort": 8080}]
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "c", "image": "i", "ports": ports}]}
    if hostnet:
        spec["hostNetwork"] = True
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": name.rstrip("-ab")}},
            "spec": spec, "status": status}  # fmt: skip


def cluster(tmp: Path, *, with_host_ips: bool = True, with_nodes: bool = False) -> str:
    """shop/web on node-a (10.1.0.1) under a default deny; hostNetwork agents on node-a and node-b (10.1.0.2)."""
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("shop", "kube-system")
    ]
    docs += [
        DENY,
        _pod("web", "shop", "node-a", "10.1.0.1" if with_host_ips else None, ip="10.244.1.5"),
        _pod("agent-a", "kube-system", "node-a", "10.1.0.1", hostnet=True),
        _pod("agent-b", "kube-system", "node-b", "10.1.0.2", hostnet=True),
    ]
    if with_nodes:
        docs += [
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n},
             "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": n}]}}
            for n, ip in (("node-a", "10.1.0.1"), ("node-b", "10.1.0.2"))
        ]  # fmt: skip
    folder = tmp / "cluster"
    folder.mkdir(exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(folder)


@pytest.mark.parametrize(
    ("host_ips", "nodes"), [(True, False), (False, True), (True, True)], ids=["hostIP", "Node objects", "both"]
)
def test_node_to_pod_and_pod_to_node_are_allowed_under_default_deny(tmp_path: Path, host_ips: bool, nodes: bool) -> None:
    folder = cluster(tmp_path, with_host_ips=host_ips, with_nodes=nodes)
    p = netsso("can-reach", "ip:10.1.0.1", "shop/web", "--port", "8080", "--manifests", folder, home=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ALLOWED  ip:10.1.0.1 -> shop/web on 8080/TCP")
    assert "ingress from node node-a (10.1.0.1): always allowed (a pod and its own node)" in p.stdout
    assert "traffic to and from the node where a Pod is running is always allowed" in p.stdout  # the rule, quoted
    assert "NetworkPolicy that would allow it" not in p.stdout  # no ipBlock policy for a flow that needs none
    p = netsso("can-reach", "shop/web", "ip:10.1.0.1", "--port", "10250", "--manifests", folder, home=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "egress to node node-a (10.1.0.1): always allowed" in p.stdout


def test_hostnetwork_pod_on_the_same_node_counts_as_the_node(tmp_path: Path) -> None:
    folder = cluster(tmp_path)
    args = ("--port", "8080", "--manifests", folder, "-o", "json")
    p = netsso("can-reach", "kube-system/agent-a", "shop/web", *args, home=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["fix"] == [] and data["flows"][0]["ingress"]["allowed"] is True
    p = netsso("can-reach", "shop/web", "kube-system/agent-a", "--port", "8080", "--manifests", folder, home=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


def test_another_nodes_address_stays_subject_to_policy(tmp_path: Path) -> None:
    folder = cluster(tmp_path)
    for src in ("ip:10.1.0.2", "kube-system/agent-b"):
        p = netsso("can-reach", src, "shop/web", "--port", "8080", "--manifests", folder, home=tmp_path)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "isolated for ingress by shop/default-deny" in p.stdout
        fix = list(yaml.safe_load_all(p.stdout.split("(review before applying):", 1)[1]))
        assert fix[0]["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.1.0.2/32"}}]


def test_paths_and_expect_apply_the_rule(tmp_path: Path) -> None:
    folder = cluster(tmp_path)
    p = netsso("paths", "-A", "--port", "8080", "--manifests", folder, "-o", "json", home=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = {(r["from"], r["to"]): r["allowed"] for r in json.loads(p.stdout)["paths"]}
    assert rows[("kube-system/agent-a", "shop/web")] is True  # same node
    assert rows[("kube-system/agent-b", "shop/web")] is False  # another node
    assert rows[("shop/web", "kube-system/agent-a")] is True
    assert rows[("shop/web", "kube-system/agent-b")] is False
    expect = tmp_path / "expect.yaml"
    expect.write_text(yaml.safe_dump({"expect": [
        {"name": "kubelet probes web", "from": "ip:10.1.0.1", "mustReach": "shop/web", "port": 8080},
        {"name": "web never reaches node-b", "from": "shop/web", "mustNotReach": "ip:10.1.0.2"},
        {"name": "web never reaches its node", "from": "shop/web", "mustNotReach": "ip:10.1.0.1"},
    ]}))  # fmt: skip
    p = netsso("audit", "--manifests", folder, "--expect", str(expect), "-o", "json", home=tmp_path)
    status = {r["name"]: r["status"] for r in json.loads(p.stdout)["expectations"]}
    assert status == {"kubelet probes web": "PASS", "web never reaches node-b": "PASS", "web never reaches its node": "FAIL"}


def test_reach_from_a_hostnetwork_pod_depends_on_the_node(tmp_path: Path) -> None:
    engine = ReachEngine(load_snapshot([cluster(tmp_path)]))
    by_name = {w.name: w for w in engine.snapshot.workloads}
    from_a, _ = engine.reach_from_peer(engine.compiled.peer(by_name["agent-a"]))
    from_b, _ = engine.reach_from_peer(engine.compiled.peer(by_name["agent-b"]))
    assert "shop/web" in {d.ref for d in from_a}
    assert "shop/web" not in {d.ref for d in from_b}
