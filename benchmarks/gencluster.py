"""Deterministic generator of cluster manifests for the `paths` benchmarks (and the CLI tests).

`generate(out_dir, namespaces=N, pods=P, policies=K, replicas=R, seed=S)` writes one folder per namespace with
Namespace, workloads (Deployments with R replicas, a StatefulSet and a bare Pod per namespace), Services, and K
NetworkPolicies cycling through every kind the engine handles: default-deny ingress / ingress+egress, same-namespace
pod peers, namespaceSelector peers, namespace AND pod peers, matchExpressions (In, NotIn, Exists, DoesNotExist),
numeric / named / protocol-only ports, endPort ranges, ipBlock with except (ingress and egress), DNS egress,
`ingress: [{}]`. Pods carry no IPs, so ipBlocks never match pods (the case where NCA and netsso agree by design).

Also usable from the command line: `python benchmarks/gencluster.py DIR -n 20 -p 1000 -k 200`.
"""

from __future__ import annotations

import argparse
import os
import random
from typing import Any

import yaml

ROLES = ("web", "api", "worker", "db", "cache")
TEAMS = ("team-a", "team-b", "team-c", "team-d", "team-e")
ENVS = ("prod", "staging", "dev")


def _dump(path: str, docs: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump_all(docs, fh, sort_keys=False, default_flow_style=None, width=1000)


def _ports(role: str, idx: int) -> list[dict[str, Any]]:
    """Container ports per role; the name `http` maps to 80 on some pods and 8080 on others (named-port work)."""
    if role == "db":
        return [{"name": "postgres", "containerPort": 5432}, {"name": "metrics", "containerPort": 9187}]
    if role == "cache":
        return [{"name": "redis", "containerPort": 6379}, {"name": "http", "containerPort": 80}]
    http = 80 if idx % 3 else 8080
    ports = [{"name": "http", "containerPort": http}, {"name": "metrics", "containerPort": 9090}]
    if http != 80:
        ports.append({"name": "plain", "containerPort": 80})
    if role == "worker":
        ports.append({"name": "syslog", "containerPort": 514, "protocol": "UDP"})
    return ports


def _template(labels: dict[str, str], ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "main", "image": "registry.example/app:1.0", "ports": ports}]},
    }


def _policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def _policy_spec(kind: int, rng: random.Random, ns_index: int, apps: list[str]) -> dict[str, Any]:
    """One policy of kind (0..13); rng picks the concrete selectors."""
    role = rng.choice(ROLES)
    other_role = rng.choice(ROLES)
    team = rng.choice(TEAMS)
    app = rng.choice(apps)
    if kind == 0:  # default deny ingress
        return {"podSelector": {}, "policyTypes": ["Ingress"]}
    if kind == 1:  # default deny ingress + egress for one role
        return {"podSelector": {"matchLabels": {"role": role}}, "policyTypes": ["Ingress", "Egress"]}
    if kind == 2:  # same-namespace pod peer, numeric port
        return {
            "podSelector": {"matchLabels": {"role": role}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": other_role}}}], "ports": [{"port": 80}]}],
        }
    if kind == 3:  # namespaceSelector peer, named port
        return {
            "podSelector": {"matchLabels": {"app": app}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": team}}}], "ports": [{"port": "http"}]}],
        }
    if kind == 4:  # namespace AND pod in one peer, endPort range
        return {
            "podSelector": {"matchLabels": {"role": role}},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"env": rng.choice(ENVS)}},
                            "podSelector": {"matchLabels": {"role": other_role}},
                        }
                    ],
                    "ports": [{"port": 70, "endPort": 90, "protocol": "TCP"}],
                }
            ],
        }
    if kind == 5:  # matchExpressions, protocol-only port
        return {
            "podSelector": {"matchExpressions": [{"key": "role", "operator": "In", "values": [role, other_role]}]},
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": [team]}]}}
                    ],
                    "ports": [{"protocol": "TCP"}],
                }
            ],
        }
    if kind == 6:  # egress: ns+pod peer on a named port, ipBlock with except, endPort
        return {
            "podSelector": {"matchLabels": {"role": role}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": team}},
                            "podSelector": {"matchLabels": {"role": other_role}},
                        }
                    ],
                    "ports": [{"port": "http"}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "172.16.0.0/12", "except": ["172.16.0.0/16"]}}],
                    "ports": [{"port": 30000, "endPort": 32767}],
                },
            ],
        }
    if kind == 7:  # ingress from an external ipBlock
        return {
            "podSelector": {"matchLabels": {"role": "web"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 80}]}],
        }
    if kind == 8:  # DNS egress for the whole namespace
        return {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }
            ],
        }
    if kind == 9:  # egress to any namespace's role pods, numeric port + a UDP port
        return {
            "podSelector": {"matchLabels": {"role": role}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"role": other_role}}}],
                    "ports": [{"port": 80}, {"port": 5432}, {"port": 514, "protocol": "UDP"}],
                }
            ],
        }
    if kind == 10:  # allow all ingress to one role
        return {"podSelector": {"matchLabels": {"role": role}}, "ingress": [{}]}
    if kind == 11:  # Exists / DoesNotExist pod selectors, two OR peers
        return {
            "podSelector": {
                "matchExpressions": [
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "role", "operator": "In", "values": [role]},
                ]
            },
            "ingress": [
                {
                    "from": [
                        {"podSelector": {"matchExpressions": [{"key": "canary", "operator": "Exists"}]}},
                        {"namespaceSelector": {"matchLabels": {"env": rng.choice(ENVS)}}},
                    ],
                    "ports": [{"port": "http"}, {"port": 9090}],
                }
            ],
        }
    if kind == 12:  # default deny egress (explicit type, no rules)
        return {"podSelector": {"matchLabels": {"role": role}}, "policyTypes": ["Egress"]}
    # kind 13: egress to all, on the named port http only
    return {
        "podSelector": {"matchLabels": {"app": app}},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": "http", "protocol": "TCP"}]}],
    }


POLICY_KINDS = 14


def generate(
    out_dir: str, *, namespaces: int, pods: int, policies: int, replicas: int = 3, seed: int = 42, ipblock_pod_ips: bool = False
) -> dict[str, int]:
    """Write the cluster; return counts {namespaces, pods, workloads, policies, services}.

    pods is the total over app namespaces (replicas summed); each namespace gets one StatefulSet (1 replica) and one
    bare Pod, the rest Deployments of `replicas`. kube-system adds 2 coredns pods.
    ipblock_pod_ips=True gives bare Pods a status.podIP in 10.0.0.0/8 (the case where engines legitimately differ).
    """
    rng = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    per_ns = max(2, pods // namespaces)
    counts = {"namespaces": namespaces + 1, "pods": 2, "workloads": 1, "policies": 0, "services": 1}
    # kube-system DNS
    _dump(
        os.path.join(out_dir, "kube-system.yaml"),
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "coredns", "namespace": "kube-system"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    "template": _template(
                        {"k8s-app": "kube-dns"},
                        [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53}],
                    ),
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "kube-dns", "namespace": "kube-system"},
                "spec": {
                    "selector": {"k8s-app": "kube-dns"},
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
                        {"name": "dns-tcp", "port": 53, "targetPort": "dns-tcp"},
                    ],
                },
            },
        ],
    )
    apps_by_ns: list[list[str]] = []
    for i in range(namespaces):
        ns = f"ns-{i:03d}"
        docs: list[dict[str, Any]] = [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"team": TEAMS[i % len(TEAMS)], "env": ENVS[i % len(ENVS)]}},
            }
        ]
        apps: list[str] = []
        remaining = per_ns
        j = 0
        while remaining > 0:
            role = ROLES[j % len(ROLES)]
            name = f"{role}-{j:04d}"
            labels = {"app": name, "role": role}
            if j % 7 == 3:
                labels["canary"] = "true"
            ports = _ports(role, j)
            if j == 0:  # one bare Pod per namespace
                pod: dict[str, Any] = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": _template(labels, ports)["spec"],
                }
                if ipblock_pod_ips:
                    pod["status"] = {"podIP": f"10.{i % 250}.{j // 250}.{j % 250 + 1}"}
                docs.append(pod)
                n = 1
            elif role == "db":
                n = 1
                docs.append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {
                            "replicas": 1,
                            "serviceName": name,
                            "selector": {"matchLabels": {"app": name}},
                            "template": _template(labels, ports),
                        },
                    }
                )
            else:
                n = min(replicas, remaining)
                docs.append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"replicas": n, "selector": {"matchLabels": {"app": name}}, "template": _template(labels, ports)},
                    }
                )
            if role in ("web", "api"):
                docs.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
                    }
                )
                counts["services"] += 1
            apps.append(name)
            counts["pods"] += n
            counts["workloads"] += 1
            remaining -= n
            j += 1
        apps_by_ns.append(apps)
        _dump(os.path.join(out_dir, f"{ns}.yaml"), docs)
    # policies: round-robin over namespaces and kinds, so every kind appears in many namespaces
    by_ns: dict[int, list[dict[str, Any]]] = {}
    for k in range(policies):
        i = k % namespaces
        kind = (k // namespaces + i) % POLICY_KINDS
        spec = _policy_spec(kind, rng, i, apps_by_ns[i])
        by_ns.setdefault(i, []).append(_policy(f"ns-{i:03d}", f"np-{k:05d}-k{kind}", spec))
        counts["policies"] += 1
    for i, docs in by_ns.items():
        _dump(os.path.join(out_dir, f"ns-{i:03d}-netpol.yaml"), docs)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("-n", "--namespaces", type=int, default=5)
    ap.add_argument("-p", "--pods", type=int, default=50)
    ap.add_argument("-k", "--policies", type=int, default=10)
    ap.add_argument("-r", "--replicas", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--ipblock-pod-ips", action="store_true")
    a = ap.parse_args()
    print(
        generate(
            a.dir,
            namespaces=a.namespaces,
            pods=a.pods,
            policies=a.policies,
            replicas=a.replicas,
            seed=a.seed,
            ipblock_pod_ips=a.ipblock_pod_ips,
        )
    )


if __name__ == "__main__":
    main()
