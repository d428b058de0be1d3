"""`paths --compact` and the external rows of `paths`, through the installed `kubectl-netsso` executable.

The compact rules must say exactly what the per-pair rows say (on every declared port, and for addresses outside the
cluster), in every format; the options narrow them as they narrow the per-pair output.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import test_netpol_compact as tc  # the rule expansion that reads only the JSON contract
import yaml
from test_network_cli import REPO, SHOP, assert_one_line_error, netsso, write

from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.netpol.model import ExternalPeer, PodPeer

PROBES = ("8.8.8.8", "10.1.2.3", "172.16.5.5", "172.20.0.1", "172.31.255.255", "192.168.1.1", "203.0.113.7", "2001:db8::1")


def compact(*args: str) -> dict[str, Any]:
    p = netsso("paths", "--compact", *args, "-o", "json")
    assert p.returncode == 0, p.stderr
    data: dict[str, Any] = json.loads(p.stdout)
    assert set(data) == {"rules", "warnings"}
    return data


def per_pair(*args: str) -> dict[str, Any]:
    p = netsso("paths", *args, "-o", "json")
    assert p.returncode == 0, p.stderr
    data: dict[str, Any] = json.loads(p.stdout)
    return data


def peers_by_name(folder: str) -> dict[str, PodPeer]:
    """What the rows name (NS/NAME for a pod, NS/kind/NAME for a workload) -> the labels and ports the rules select
    on, read with the manifest loader."""
    snap = load_snapshot([folder])
    out = {}
    for w in snap.workloads:
        out[w.ref] = PodPeer(w.namespace, dict(w.labels), {}, tuple(w.ports), (), False, w.name, w.kind)
    return out


def in_blocks(address: str, blocks: list[dict[str, Any]]) -> bool:
    ip = ipaddress.ip_address(address)
    for b in blocks:
        net = ipaddress.ip_network(b["cidr"])
        if ip.version == net.version and ip in net and not any(ip in ipaddress.ip_network(e) for e in b["except"]):
            return True
    return False


def assert_rules_say_what_rows_say(rules: list[dict[str, Any]], rows: list[dict[str, Any]], peers: dict[str, PodPeer]) -> int:
    checked = 0
    ext_rows: dict[tuple[str, str, Any, str], list[dict[str, Any]]] = {}
    for r in rows:
        port = r.get("resolvedPort", r["port"])
        if r["from"].startswith("ip:") or r["to"].startswith("ip:"):
            direction = "egress" if r["to"].startswith("ip:") else "ingress"
            pod = r["from"] if direction == "egress" else r["to"]
            ext_rows.setdefault((direction, pod, port, r["protocol"]), []).append(r)
            continue
        src, dst = peers[r["from"]], peers[r["to"]]
        if r["from"] == r["to"] and src.kind == "Pod":
            continue  # a pod to itself: always allowed, not listed
        assert tc.expanded(rules, src, dst, port, r["protocol"]) is r["allowed"], r
        checked += 1
    for (direction, pod, port, protocol), group in ext_rows.items():
        for address in PROBES:
            holding = [r for r in group if in_blocks(address, r["ipBlocks"])]
            assert len(holding) == 1, (direction, pod, port, address, group)  # the rows split the address space
            ext = ExternalPeer(address)
            src, dst = (peers[pod], ext) if direction == "egress" else (ext, peers[pod])
            assert tc.expanded(rules, src, dst, port, protocol) is holding[0]["allowed"], (holding[0], address)
            checked += 1
    return checked


def test_compact_table_on_the_shop() -> None:
    p = netsso("paths", "-A", "--compact", "--manifests", SHOP)
    assert p.returncode == 0, p.stderr
    assert p.stdout == (
        "FROM                             TO                   PORTS\n"
        "db,frontend,payments,shop: *     kube-system: *       TCP 53; UDP 53\n"
        "ip: 0.0.0.0/0 except 10.0.0.0/8  frontend: *          TCP 8080\n"
        "ip: 0.0.0.0/0, ::/0              kube-system: *       all\n"
        "kube-system: *                   ip: 0.0.0.0/0, ::/0  all\n"
        "kube-system: *                   kube-system: *       all\n"
        "payments: *                      db: *                TCP 5432\n"
        "payments: *                      ip: 203.0.113.0/24   TCP 443\n"
        "shop: app=api                    payments: *          TCP 8443\n"
        "\n"
        "8 rules; flows no rule lists are denied; a pod may always reach itself\n"
    )


def test_compact_json_says_what_the_per_pair_rows_say_on_the_shop() -> None:
    rules = compact("-A", "--manifests", SHOP)["rules"]
    for r in rules:
        assert set(r) == {"from", "to", "ports", "portsText", "allowed"} and r["allowed"] is True
    rows = per_pair("-A", "--manifests", SHOP)["paths"]
    assert assert_rules_say_what_rows_say(rules, rows, peers_by_name(SHOP)) > 100


def test_compact_json_says_what_the_per_pair_rows_say_on_a_generated_cluster(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gencluster import generate

    folder = str(tmp_path / "gen")
    generate(folder, namespaces=4, pods=30, policies=56, replicas=2, seed=5)
    rules = compact("-A", "--manifests", folder)["rules"]
    rows = per_pair("-A", "--manifests", folder)["paths"]
    assert {r["allowed"] for r in rows} == {True, False}
    assert assert_rules_say_what_rows_say(rules, rows, peers_by_name(folder)) > 1000
    # yaml is the same document
    p = netsso("paths", "-A", "--compact", "--manifests", folder, "-o", "yaml")
    assert yaml.safe_load(p.stdout) == {"rules": rules, "warnings": []}


def test_compact_scope_from_to_and_port_narrow_the_rules() -> None:
    peers = peers_by_name(SHOP)
    # -n shop: only flows into or out of shop
    rules = compact("-n", "shop", "--manifests", SHOP)["rules"]
    assert rules and all("shop" in r["from"].get("namespaces", []) or "shop" in r["to"].get("namespaces", []) for r in rules)
    rows = per_pair("-n", "shop", "--manifests", SHOP)["paths"]
    assert assert_rules_say_what_rows_say(rules, rows, peers) > 10
    # --from: only the api's egress, with the api named by a selector that matches nothing else in shop
    rules = compact("-A", "--from", "shop/deploy/api", "--manifests", SHOP)["rules"]
    assert [r["from"]["text"] for r in rules] == ["shop: app=api", "shop: app=api"]
    assert {r["to"]["text"]: r["portsText"] for r in rules} == {"kube-system: *": "TCP 53; UDP 53", "payments: *": "TCP 8443"}
    # --to a Service with --port: its targetPort (named https) on the backends; only pods can be its sources
    rules = compact("-A", "--to", "payments/svc/payments", "--port", "443", "--manifests", SHOP)["rules"]
    assert [(r["from"]["text"], r["to"]["text"], r["ports"]) for r in rules] == [
        ("shop: app=api", "payments: *", [{"protocol": "TCP", "port": "https"}])
    ]
    # --port with a number: that port only, every protocol unless --protocol
    rules = compact("-A", "--port", "53", "--manifests", SHOP)["rules"]
    assert {describe for r in rules for describe in [r["portsText"]]} <= {"TCP 53", "TCP 53; UDP 53", "UDP 53"}
    rules = compact("-A", "--port", "53", "--protocol", "UDP", "--manifests", SHOP)["rules"]
    assert rules and all(p["protocol"] == "UDP" for r in rules for p in r["ports"])
    # no external ends when asked
    rules = compact("-A", "--no-external", "--manifests", SHOP)["rules"]
    assert rules and not any("ipBlocks" in r["from"] or "ipBlocks" in r["to"] for r in rules)


def test_compact_usage_and_bad_input() -> None:
    assert_one_line_error(netsso("paths", "-A", "--compact", "-o", "matrix", "--manifests", SHOP), 2, "--compact prints rules")
    assert_one_line_error(netsso("paths", "-n", "nope", "--compact", "--manifests", SHOP), 3, "namespace nope not found")


def test_compact_names_workloads_that_labels_cannot_tell_apart(tmp_path: Path) -> None:
    def deploy(name: str, port: int) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "a"},
            "spec": {
                "selector": {"matchLabels": {"app": "twin"}},
                "template": {
                    "metadata": {"labels": {"app": "twin"}},
                    "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"name": "web", "containerPort": port}]}]},
                },
            },
        }

    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web-only", "namespace": "a"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "web"}]}]},
    }
    folder = write(tmp_path, "twins.yaml", [deploy("one", 80), deploy("two", 8080), deny])
    rules = compact("-A", "--no-external", "--manifests", folder)["rules"]
    # same labels, different container ports: the named port allows 80 on one and 8080 on the other
    assert sorted((r["to"].get("workloads") or r["to"]["text"], r["portsText"]) for r in rules) == [
        (["a/deployment/one"], "TCP 80"),
        (["a/deployment/two"], "TCP 8080"),
    ]


def test_per_pair_rows_list_addresses_outside_the_cluster() -> None:
    rows = per_pair("-A", "--port", "443", "--from", "payments/payments", "--manifests", SHOP)["paths"]
    ext = [r for r in rows if r["to"].startswith("ip:")]
    assert [(r["to"], r["allowed"]) for r in ext] == [
        ("ip:203.0.113.0/24", True),
        ("ip:0.0.0.0/0 except 203.0.113.0/24, ::/0", False),
    ]
    assert ext[1]["ipBlocks"] == [{"cidr": "0.0.0.0/0", "except": ["203.0.113.0/24"]}, {"cidr": "::/0", "except": []}]
    # ingress from outside: which addresses may reach the web, on its port
    rows = per_pair("-A", "--port", "8080", "--to", "frontend/web", "--manifests", SHOP)["paths"]
    assert [(r["from"], r["allowed"]) for r in rows if r["from"].startswith("ip:")] == [
        ("ip:0.0.0.0/0 except 10.0.0.0/8", True),
        ("ip:10.0.0.0/8, ::/0", False),
    ]
    # the table lists them after the pod-to-pod flows, ports joined per workload and verdict
    p = netsso("paths", "-n", "payments", "--port", "443", "--manifests", SHOP)
    assert "payments/deployment/payments  ip:203.0.113.0/24" in p.stdout
    assert "external flows (outside the cluster): 1 allowed" in p.stdout
    assert not any(
        r["from"].startswith("ip:") or r["to"].startswith("ip:")
        for r in per_pair("-A", "--no-external", "--manifests", SHOP)["paths"]
    )


@pytest.mark.timeout(300)
def test_a_per_pair_answer_of_a_million_rows_suggests_compact_once(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gencluster import generate

    folder = str(tmp_path / "big")
    counts = generate(folder, namespaces=20, pods=1000, policies=40, replicas=1)
    assert counts["workloads"] ** 2 > 1_000_000
    exe = ["kubectl-netsso", "paths", "-A", "--port", "80", "--no-external", "--manifests", folder]
    p = subprocess.run([*exe, "-o", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=280)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("--compact") == 1 and "per-pair rows" in p.stderr
    p = subprocess.run([*exe, "--compact"], capture_output=True, text=True, timeout=280)
    assert p.returncode == 0 and "--compact" not in p.stderr
    p = subprocess.run([*exe[:-2], "--manifests", SHOP], capture_output=True, text=True, timeout=60)
    assert "--compact" not in p.stderr
