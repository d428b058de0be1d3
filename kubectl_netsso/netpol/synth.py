"""Deterministic synthetic clusters (as Snapshots) for scale figures and tests of the engine.

N namespaces x P pods (grouped in deployments of ``replicas`` pods that share labels), K NetworkPolicies of every kind
the engine handles: default deny (ingress / all), same-namespace pod peers, namespaceSelector peers, namespace AND pod
peers, matchExpressions, egress to namespace+pod and to ipBlock with except and an endPort range, ingress from an
ipBlock, DNS egress, numeric / named / endPort ports.
"""

from __future__ import annotations

import random
from typing import Any

from ..cluster.snapshot import NAMESPACE_NAME_LABEL, ContainerPort, Namespace, NetworkPolicy, Snapshot, Workload

TIERS = ("web", "api", "db", "cache", "worker")


def generate(
    namespaces: int = 30,
    pods_per_namespace: int = 100,
    policies: int = 600,
    replicas: int = 3,
    seed: int = 42,
    with_ips: bool = False,
) -> Snapshot:
    """A cluster of namespaces x pods_per_namespace Pods (+2 kube-dns pods) and ``policies`` NetworkPolicies."""
    rng = random.Random(seed)
    ns_objs = [Namespace("kube-system", {NAMESPACE_NAME_LABEL: "kube-system"})]
    workloads: list[Workload] = [
        Workload(
            "kube-system",
            f"coredns-{i}",
            "Pod",
            {"k8s-app": "kube-dns"},
            (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")),
            owner="Deployment/coredns",
        )
        for i in range(2)
    ]
    names = [f"ns{i:03d}" for i in range(namespaces)]
    deployments: dict[str, list[str]] = {}
    ip_counter = 0
    for n in names:
        ns_objs.append(
            Namespace(n, {NAMESPACE_NAME_LABEL: n, "team": f"t{rng.randrange(8)}", "env": rng.choice(("prod", "dev"))})
        )
        deployments[n] = []
        for d in range(max(1, pods_per_namespace // max(1, replicas))):
            app = f"app{d:03d}"
            deployments[n].append(app)
            tier = TIERS[d % len(TIERS)]
            labels = {"app": app, "tier": tier}
            ports: tuple[ContainerPort, ...] = (ContainerPort(8080, "TCP", "http"), ContainerPort(9090, "TCP", "metrics"))
            if tier == "db":
                ports = (ContainerPort(5432, "TCP", "pg"),)
            for r in range(replicas):
                ip: tuple[str, ...] = ()
                if with_ips:
                    ip_counter += 1
                    ip = (f"10.{ip_counter >> 16 & 255}.{ip_counter >> 8 & 255}.{ip_counter & 255}",)
                workloads.append(Workload(n, f"{app}-{r}", "Pod", labels, ports, ip, owner=f"Deployment/{app}"))
    pols: list[NetworkPolicy] = []
    for k in range(policies):
        n = names[k % len(names)]
        apps = deployments[n]
        kind = k // len(names) % 10
        spec = _policy(kind, rng, n, apps, names)
        pols.append(NetworkPolicy(n, f"p{k:04d}-{kind}", spec))
    total = len(workloads)
    return Snapshot(
        namespaces=tuple(ns_objs),
        workloads=tuple(workloads),
        network_policies=tuple(pols),
        source=f"synthetic: {namespaces} namespaces, {total} pods, {policies} policies, seed {seed}",
    )


def _policy(kind: int, rng: random.Random, ns: str, apps: list[str], names: list[str]) -> dict[str, Any]:
    app = rng.choice(apps)
    other = rng.choice(names)
    target = {"matchLabels": {"app": app}}
    if kind == 0:
        return {"podSelector": {}, "policyTypes": ["Ingress"]}
    if kind == 1:
        return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    if kind == 2:
        return {
            "podSelector": target,
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": rng.choice(apps)}}}], "ports": [{"port": "http"}]}],
        }
    if kind == 3:
        return {
            "podSelector": target,
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(8)}"}}}],
                    "ports": [{"port": 8080, "protocol": "TCP"}],
                }
            ],
        }
    if kind == 4:
        return {
            "podSelector": target,
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: other}},
                            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
                        }
                    ]
                }
            ],
        }
    if kind == 5:
        return {
            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}}],
                    "ports": [{"port": 8000, "endPort": 8100}],
                }
            ],
        }
    if kind == 6:
        return {
            "podSelector": target,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: other}},
                            "podSelector": {"matchLabels": {"tier": "api"}},
                        }
                    ],
                    "ports": [{"port": "http"}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "172.16.0.0/12", "except": ["172.16.5.0/24"]}}],
                    "ports": [{"port": 30000, "endPort": 32767}],
                },
            ],
        }
    if kind == 7:
        return {"podSelector": target, "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.0.0/16"}}], "ports": [{"port": 443}]}]}
    if kind == 8:
        return {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }
            ],
        }
    return {
        "podSelector": {"matchLabels": {"tier": "db"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "api"}}}], "ports": [{"port": "pg"}]}],
    }
