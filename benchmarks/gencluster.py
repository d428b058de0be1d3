"""Deterministic generator of cluster manifests for the `paths` benchmarks (and the CLI tests).

`generate(out_dir, namespaces=N, pods=P, policies=K, replicas=R, seed=S)` writes one folder per namespace with
Namespace, workloads (Deployments with R replicas, a StatefulSet and a bare Pod per namespace), Services, and K
NetworkPolicies cycling through every kind the engine handles: default-deny ingress / ingress+egress, same-namespace
pod peers, namespaceSelector peers, namespace AND pod peers, matchExpressions (In, NotIn, Exists, DoesNotExist),
numeric / named / protocol-only ports, endPort ranges, ipBlock with except (ingress and egress), DNS egress,
`ingress: [{}]`. Pods carry no IPs, so ipBlocks never match pods (the case where NCA and netsso agree by design).

`mix="calico"|"cilium"` makes every other policy that CNI's own (tiers, GlobalNetworkPolicies, network sets; Cilium
rules with entities, deny rules, CIDRs, L7, clusterwide FQDN egress) for the mixed-policy figures.

Also usable from the command line: `python benchmarks/gencluster.py DIR -n 20 -p 1000 -k 200 [--mix calico]`.
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


CALICO_KINDS = 7
CILIUM_KINDS = 6
# Calico kinds network-config-analyzer 2.1.0 refuses: "serviceAccounts is not yet supported inside network policy
# peer" (6), "tier is not a valid entry in the specification of network policy spec" (4)
NCA_UNSUPPORTED = frozenset({4, 6})


def _calico_doc(kind: int, rng: random.Random, ns: str, name: str) -> dict[str, Any]:
    """One Calico object of kind (0..6): namespace default denies, role and label allows with ranges and named ports,
    ordered Deny before Allow, a tier's metadata deny with Pass, nets and GlobalNetworkSets, service accounts."""
    role, other = rng.choice(ROLES), rng.choice(ROLES)
    meta = {"name": name, "namespace": ns}
    spec: dict[str, Any]
    if kind == 0:  # the docs' default deny for a team's namespaces, DNS kept (GlobalNetworkPolicy, no order: last)
        team = rng.choice(TEAMS)
        spec = {"namespaceSelector": f"team == '{team}'", "types": ["Ingress", "Egress"], "egress": [
            {"action": "Allow", "protocol": "UDP", "destination": {"selector": "k8s-app == 'kube-dns'", "ports": [53]}}]}
        return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}
    if kind == 1:
        spec = {"selector": f"role == '{role}'", "order": 500, "ingress": [
            {"action": "Allow", "protocol": "TCP", "source": {"selector": f"role == '{other}'"},
             "destination": {"ports": [80, "8000:8100"]}}]}
    elif kind == 2:
        spec = {"selector": f"role in {{'{role}', '{other}'}}", "ingress": [
            {"action": "Allow", "protocol": "TCP", "source": {"namespaceSelector": "env == 'prod'", "selector": "has(canary)"},
             "destination": {"ports": ["http"]}}]}
    elif kind == 3:
        spec = {"selector": f"role == '{role}'", "order": 50, "types": ["Ingress"], "ingress": [
            {"action": "Deny", "protocol": "TCP", "source": {"selector": "canary == 'true'"},
             "destination": {"notPorts": [9090]}},
            {"action": "Log"}, {"action": "Allow", "source": {"namespaceSelector": "all()"}}]}
    elif kind == 4:  # the security tier: metadata denied everywhere, the rest passed on
        spec = {"tier": "security", "order": 10, "selector": "all()", "types": ["Egress"], "egress": [
            {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}}, {"action": "Pass"}]}
        return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                "metadata": {"name": f"security.{name}"}, "spec": spec}
    elif kind == 5:
        spec = {"selector": f"role == '{role}'", "types": ["Egress"], "egress": [
            {"action": "Allow", "protocol": "TCP", "destination": {"nets": ["203.0.113.0/24"], "ports": [443]}},
            {"action": "Allow", "protocol": "TCP", "destination": {"namespaceSelector": "global()",
                                                                   "selector": "role == 'partner'"}},
            {"action": "Allow", "destination": {"selector": "role in {'db', 'cache'}"}},
            {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}}]}
    else:
        spec = {"selector": f"role == '{role}'", "ingress": [
            {"action": "Allow", "protocol": "TCP", "source": {"serviceAccounts": {"names": ["default"]}},
             "destination": {"ports": [5432, 6379]}}]}
    return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}  # fmt: skip


def _cilium_doc(kind: int, rng: random.Random, ns: str, name: str) -> dict[str, Any]:
    """One Cilium object of kind (0..5): endpoint allows with ports, deny rules, a clusterwide DNS/FQDN egress by
    namespace label, CIDR egress with except, an L7 rule from another namespace, a deny without default deny."""
    role, other = rng.choice(ROLES), rng.choice(ROLES)
    meta = {"name": name, "namespace": ns}
    if kind == 0:
        spec: dict[str, Any] = {"endpointSelector": {"matchLabels": {"role": role}}, "ingress": [
            {"fromEndpoints": [{"matchLabels": {"role": other}}], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}]}
    elif kind == 1:
        spec = {"endpointSelector": {"matchLabels": {"role": role}}, "ingressDeny": [{"fromEndpoints": [
            {"matchLabels": {"canary": "true"}}]}], "ingress": [{"fromEntities": ["cluster"]}]}
    elif kind == 2:
        env = rng.choice(ENVS)
        spec = {"endpointSelector": {"matchLabels": {"io.cilium.k8s.namespace.labels.env": env}}, "egress": [
            {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
             "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
            {"toEndpoints": [{}]}]}
        return {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name}, "spec": spec}
    elif kind == 3:
        spec = {"endpointSelector": {"matchLabels": {"role": role}}, "egress": [
            {"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}], "toPorts": [{"ports": [{"port": "443"}]}]},
            {"toEndpoints": [{"matchExpressions": [{"key": "role", "operator": "In", "values": ["db", "cache"]}]}]}]}
    elif kind == 4:
        spec = {"endpointSelector": {"matchLabels": {"role": role}}, "ingress": [
            {"fromEndpoints": [{"matchLabels": {"io.cilium.k8s.namespace.labels.team": rng.choice(TEAMS)}}],
             "toPorts": [{"ports": [{"port": "http", "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}]}]}
    else:
        spec = {"endpointSelector": {}, "enableDefaultDeny": {"ingress": False},
                "ingressDeny": [{"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "0", "protocol": "TCP"}]}]}]}
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": spec}  # fmt: skip


def generate(
    out_dir: str,
    *,
    namespaces: int,
    pods: int,
    policies: int,
    replicas: int = 3,
    seed: int = 42,
    ipblock_pod_ips: bool = False,
    mix: str | None = None,
    nca_safe: bool = False,
) -> dict[str, int]:
    """Write the cluster; return counts {namespaces, pods, workloads, policies, services}.

    pods is the total over app namespaces (replicas summed); each namespace gets one StatefulSet (1 replica) and one
    bare Pod, the rest Deployments of `replicas`. kube-system adds 2 coredns pods.
    ipblock_pod_ips=True gives bare Pods a status.podIP in 10.0.0.0/8 (the case where engines legitimately differ).
    mix="calico" or "cilium": every other policy is that CNI's own instead of a NetworkPolicy (same total);
    nca_safe=True leaves out the Calico features network-config-analyzer does not read (NCA_UNSUPPORTED).
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
        if mix and k % 2:
            ckind = (k // 2) % (CALICO_KINDS if mix == "calico" else CILIUM_KINDS)
            if nca_safe and mix == "calico" and ckind in NCA_UNSUPPORTED:
                ckind = 1
            make = _calico_doc if mix == "calico" else _cilium_doc
            by_ns.setdefault(i, []).append(make(ckind, rng, f"ns-{i:03d}", f"{mix}-{k:05d}-k{ckind}"))
            counts["policies"] += 1
            continue
        spec = _policy_spec(kind, rng, i, apps_by_ns[i])
        by_ns.setdefault(i, []).append(_policy(f"ns-{i:03d}", f"np-{k:05d}-k{kind}", spec))
        counts["policies"] += 1
    if mix == "calico":
        tier = {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "security"}, "spec": {"order": 100}}
        partners = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
                    "metadata": {"name": "partners", "labels": {"role": "partner"}},
                    "spec": {"nets": ["198.51.100.0/24"]}}  # fmt: skip
        _dump(os.path.join(out_dir, "calico-global.yaml"), [partners] if nca_safe else [tier, partners])
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
    ap.add_argument("--mix", choices=("calico", "cilium"), help="every other policy is this CNI's own")
    ap.add_argument("--nca-safe", action="store_true", help="only Calico features network-config-analyzer reads")
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
            mix=a.mix,
            nca_safe=a.nca_safe,
        )
    )


if __name__ == "__main__":
    main()
