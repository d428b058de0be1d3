"""Benchmark `kubectl netsso who-can` over 2,000 bindings / 500 roles and `who-can-reach` on the 3,000-pod /
600-policy cluster with RBAC for 200 groups.

who-can: RBAC generated here, deterministically: 100 ClusterRoles (5 of them aggregating others by label) and 400
Roles over 30 namespaces, rules drawn from a pool with wildcards, subresources and resourceNames; 2,000 bindings
(a fifth ClusterRoleBindings) to users, groups and ServiceAccounts (some without namespace).
who-can-reach: benchmarks/gencluster.py (30 namespaces, 3,000 pods, 600 policies) + reach_audit.generate_rbac
(200 SSO groups, a platform group with exec + create pods everywhere).

    python benchmarks/who_can.py [--workdir DIR]

Prints the wall time of each command (the installed `kubectl-netsso`, reading the folder included), the engine
time alone for who-can (compile + one reverse query, in process), and the targets (who-can < 1 s, who-can-reach
< 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from typing import Any

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gencluster import generate  # noqa: E402  (the paths benchmark's generator, same folder)
from reach_audit import generate_rbac, ours_exe, summary_table, timed  # noqa: E402

WHO_CAN_TARGET_S = 1.0
WHO_CAN_REACH_TARGET_S = 5.0
API = "rbac.authorization.k8s.io/v1"
RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["db-password", "api-key"]},
    {"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["get", "list"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["create", "patch", "update"]},
    {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["*"]},
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["view"]},
    {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]},
]


def generate_big_rbac(path: str, namespaces: list[str], roles: int = 500, bindings: int = 2000, seed: int = 11) -> dict[str, int]:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    cluster_roles = [f"cr-{i:03d}" for i in range(roles // 5)]
    for i, name in enumerate(cluster_roles):
        # the first 5 aggregate the others by label (a chain: aggregator 0 also takes aggregator 1's rules, ...)
        labels = {"agg": f"a{i % 5}"} if i >= 5 else {"agg": f"a{i - 1}"} if i else {}
        doc: dict[str, Any] = {"apiVersion": API, "kind": "ClusterRole", "metadata": {"name": name, "labels": labels},
                               "rules": rng.sample(RULES, rng.randint(1, 4))}  # fmt: skip
        if i < 5:
            doc["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"agg": f"a{i}"}}]}
            doc["rules"] = []
        docs.append(doc)
    ns_roles = []
    for i in range(roles - len(cluster_roles)):
        ns = rng.choice(namespaces)
        ns_roles.append((ns, f"role-{i:03d}"))
        docs.append({"apiVersion": API, "kind": "Role", "metadata": {"name": f"role-{i:03d}", "namespace": ns},
                     "rules": rng.sample(RULES, rng.randint(1, 4))})  # fmt: skip
    for i in range(bindings):
        kind = rng.choices(["Group", "User", "ServiceAccount"], [60, 25, 15])[0]
        subject: dict[str, Any] = {"kind": kind, "name": f"{kind.lower()}-{rng.randrange(300):03d}"}
        if kind == "Group":
            subject["name"] = f"oidc:team-{rng.randrange(200):03d}"
        if kind != "ServiceAccount":
            subject["apiGroup"] = "rbac.authorization.k8s.io"
        if i % 5 == 0:
            if kind == "ServiceAccount":
                subject["namespace"] = rng.choice(namespaces)
            docs.append({"apiVersion": API, "kind": "ClusterRoleBinding", "metadata": {"name": f"crb-{i:04d}"},
                         "subjects": [subject], "roleRef": {"kind": "ClusterRole", "name": rng.choice(cluster_roles),
                                                            "apiGroup": "rbac.authorization.k8s.io"}})  # fmt: skip
            continue
        if rng.random() < 0.5:
            ns, role = rng.choice(ns_roles)
            ref = {"kind": "Role", "name": role, "apiGroup": "rbac.authorization.k8s.io"}
        else:
            ns = rng.choice(namespaces)
            ref = {"kind": "ClusterRole", "name": rng.choice(cluster_roles), "apiGroup": "rbac.authorization.k8s.io"}
        if kind == "ServiceAccount" and rng.random() < 0.5:
            subject["namespace"] = ns
        docs.append({"apiVersion": API, "kind": "RoleBinding", "metadata": {"name": f"rb-{i:04d}", "namespace": ns},
                     "subjects": [subject], "roleRef": ref})  # fmt: skip
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump_all(docs, fh, sort_keys=False)
    return {"roles": roles, "bindings": bindings}


def engine_seconds(folder: str, args: list[str], namespace: str) -> tuple[float, int]:
    """Compile + one reverse query, in process (what the command spends after reading the YAML)."""
    from kubectl_netsso.cluster.manifests import load_snapshot
    from kubectl_netsso.rbac.authorize import compile_rbac
    from kubectl_netsso.rbac.rules import Request
    from kubectl_netsso.rbac.whocan import ReverseIndex

    snap = load_snapshot([folder])
    start = time.perf_counter()
    verb, resource, sub = args
    found = ReverseIndex(compile_rbac(snap)).holders(Request(verb, resource, subresource=sub, namespace=namespace))
    return time.perf_counter() - start, len(found.direct)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", help="keep the generated folders here (default: a temp dir, removed)")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="netsso-whocan-bench-")
    try:
        nss = [f"ns-{i:03d}" for i in range(30)]
        rbac_dir = os.path.join(work, "rbac-2000")
        shutil.rmtree(rbac_dir, ignore_errors=True)
        os.makedirs(rbac_dir)
        counts = generate_big_rbac(os.path.join(rbac_dir, "rbac.yaml"), nss)
        print(f"who-can corpus: {counts['roles']} roles, {counts['bindings']} bindings in {len(nss)} namespaces")
        exe = ours_exe()
        rows = []
        ok = True
        secs, n = engine_seconds(rbac_dir, ["create", "pods", "exec"], "ns-000")
        print(f"engine alone (compile + query create pods/exec -n ns-000): {secs * 1000:.0f} ms, {n} rows")
        runs = [
            ("who-can create pods/exec -n ns-000", ["who-can", "create", "pods", "--subresource", "exec", "-n", "ns-000"]),
            ("who-can get secrets -A", ["who-can", "get", "secrets", "-A"]),
            ("who-can get /healthz", ["who-can", "get", "/healthz"]),
        ]
        for title, argv in runs:
            wall, rss, rc, out, err = timed([exe, *argv, "--manifests", rbac_dir, "-o", "json"])
            if rc not in (0, 1):
                print(f"{title}: exit {rc}: {err.strip()[-500:]}")
                return 1
            data = json.loads(out)
            what = f"{len(data['subjects'])} subjects, {len(data['escalations'])} escalation paths"
            rows.append((title, wall, WHO_CAN_TARGET_S, what))
            ok = ok and wall < WHO_CAN_TARGET_S
            print(f"{title}: {wall:.2f} s, peak RSS <= {rss:.0f} MiB; {what}", flush=True)
        folder = os.path.join(work, "cluster-3000")
        shutil.rmtree(folder, ignore_errors=True)
        c = generate(folder, namespaces=30, pods=3000, policies=600, replicas=3)
        r = generate_rbac(os.path.join(folder, "rbac.yaml"), nss, 200)
        print(f"who-can-reach cluster: {c['pods']} pods, {c['policies']} policies; {r['groups']} groups, {r['bindings']} "
              "bindings")  # fmt: skip
        for title, argv in [
            ("who-can-reach ns-000/svc/api-0001 --port 80", ["who-can-reach", "ns-000/svc/api-0001", "--port", "80"]),
            ("who-can-reach ns-014/deploy/web-0010 (any port)", ["who-can-reach", "ns-014/deploy/web-0010"]),
        ]:
            wall, rss, rc, out, err = timed([exe, *argv, "--manifests", folder, "-o", "json"])
            if rc not in (0, 1):
                print(f"{title}: exit {rc}: {err.strip()[-500:]}")
                return 1
            data = json.loads(out)
            what = (f"{len(data['subjects'])} subjects, {sum(len(s['paths']) for s in data['subjects'])} paths, anyone "
                    f"{bool(data['anyone'])}, outside {bool(data['outside'])}")  # fmt: skip
            rows.append((title, wall, WHO_CAN_REACH_TARGET_S, what))
            ok = ok and wall < WHO_CAN_REACH_TARGET_S
            print(f"{title}: {wall:.2f} s, peak RSS <= {rss:.0f} MiB; {what}", flush=True)
        summary_table(rows)
        return 0 if ok else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
