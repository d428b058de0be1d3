"""Benchmark `kubectl netsso reach -A` and `audit` on the 3,000-pod generated cluster plus RBAC for 200 groups.

The cluster comes from benchmarks/gencluster.py (the paths benchmark's generator: 30 namespaces, 3,000 pods, 600
policies of every kind); the RBAC is generated here, deterministically: 5 ClusterRoles (exec, creator, deployer,
netpol-editor, wild-exec) bound by RoleBindings to 200 SSO groups in 1-4 namespaces each, a few ClusterRoleBindings,
and one "platform" group holding exec + create pods in every namespace (the worst case for `reach`).

    python benchmarks/reach_audit.py [--workdir DIR] [--groups 200] [--pods 3000]

Prints wall time and peak RSS of each command (the installed `kubectl-netsso`, loading the folder included) and the
target (< 10 s each).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gencluster import generate  # noqa: E402  (the paths benchmark's generator, same folder)

TARGET_S = 10.0

CLUSTER_ROLES: dict[str, list[dict[str, Any]]] = {
    "bench-exec": [
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create"]},
    ],
    "bench-creator": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get", "list"]}],
    "bench-deployer": [
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["create", "patch", "update"]}
    ],
    "bench-netpol-editor": [
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["create", "update", "patch"]}
    ],
    "bench-wild-exec": [{"apiGroups": [""], "resources": ["pods/exec", "pods/portforward"], "verbs": ["*"]}],
}


def generate_rbac(path: str, namespaces: list[str], groups: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": n}, "rules": rules}
        for n, rules in CLUSTER_ROLES.items()
    ]
    bindings = 0
    roles = list(CLUSTER_ROLES)
    weights = [45, 20, 15, 10, 10]
    for g in range(groups):
        group = f"oidc:team-{g:03d}"
        for ns in rng.sample(namespaces, rng.randint(1, 4)):
            role = rng.choices(roles, weights)[0]
            docs.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": f"{group.split(':')[1]}-{role}", "namespace": ns},
                    "subjects": [{"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}],
                    "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
                }
            )
            bindings += 1
        if g % 50 == 49:  # a few cluster-wide grants
            docs.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"{group.split(':')[1]}-cluster-exec"},
                    "subjects": [{"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}],
                    "roleRef": {"kind": "ClusterRole", "name": "bench-exec", "apiGroup": "rbac.authorization.k8s.io"},
                }
            )
            bindings += 1
    # the worst case for reach: exec + create pods everywhere
    for role in ("bench-exec", "bench-creator"):
        docs.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"platform-{role}"},
                "subjects": [{"kind": "Group", "name": "oidc:platform", "apiGroup": "rbac.authorization.k8s.io"}],
                "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
            }
        )
        bindings += 1
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump_all(docs, fh, sort_keys=False)
    return {"groups": groups + 1, "bindings": bindings, "clusterRoles": len(CLUSTER_ROLES)}


def ours_exe() -> str:
    exe = shutil.which("kubectl-netsso") or os.path.join(os.path.dirname(sys.executable), "kubectl-netsso")
    if not os.path.exists(exe):
        sys.exit("kubectl-netsso is not installed (pip install -e .)")
    return exe


def timed(argv: list[str]) -> tuple[float, float, int, str, str]:
    """(wall seconds, child peak RSS MiB, exit code, stdout, stderr)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    return wall, _child_rss(), proc.returncode, out, err


def _child_rss() -> float:
    import resource

    # RUSAGE_CHILDREN ru_maxrss is the largest child so far; each command here is at least as big as the last one
    # that mattered, so report the running maximum (KiB on Linux).
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def summary_table(rows: list[tuple[str, float, float, str]]) -> None:
    """The figures as a Markdown table: (command, wall seconds, target seconds, result)."""
    print()
    print("| command | wall (s) | target | result |")
    print("|---|---|---|---|")
    for title, wall, target, what in rows:
        print(f"| {title} | {wall:.2f} | < {target:.0f} s {'ok' if wall < target else 'MISSED'} | {what} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", help="keep the generated folder here (default: a temp dir, removed)")
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--namespaces", type=int, default=30)
    ap.add_argument("--policies", type=int, default=600)
    ap.add_argument("--groups", type=int, default=200)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="netsso-reach-bench-")
    folder = os.path.join(work, f"cluster-{args.pods}")
    shutil.rmtree(folder, ignore_errors=True)
    try:
        counts = generate(folder, namespaces=args.namespaces, pods=args.pods, policies=args.policies, replicas=3)
        nss = [f"ns-{i:03d}" for i in range(args.namespaces)]
        rbac = generate_rbac(os.path.join(folder, "rbac.yaml"), nss, args.groups)
        print(
            f"cluster: {counts['pods']} pods in {counts['workloads']} workloads, {counts['namespaces']} namespaces, "
            f"{counts['policies']} policies; RBAC: {rbac['groups']} groups, {rbac['bindings']} bindings"
        )
        exe = ours_exe()
        runs = [
            ("reach -A (group with exec+create in 1-4 ns)", ["reach", "-A", "--as-group", "oidc:team-000", "-o", "json"]),
            ("reach -A (exec + create pods everywhere)", ["reach", "-A", "--as-group", "oidc:platform", "-o", "json"]),
            ("audit -A (all checks, 201 groups)", ["audit", "-A", "-o", "json", "--fail-on", "never"]),
        ]
        rows = []
        worst = 0.0
        for title, argv in runs:
            wall, rss, rc, out, err = timed([exe, *argv, "--manifests", folder])
            if rc != 0:
                print(f"{title}: exit {rc}: {err.strip()[-500:]}")
                return 1
            data = json.loads(out)
            if argv[0] == "reach":
                what = f"{data['summary']['footholds']} footholds, " + ", ".join(
                    f"{n} {k}" for k, n in data["summary"]["byRisk"].items()
                )
            else:
                what = f"{len(data['findings'])} findings: " + ", ".join(f"{n} {k}" for k, n in data["summary"].items())
            rows.append((title, wall, rss, what))
            worst = max(worst, wall)
            print(f"{title}: {wall:.2f} s, peak RSS <= {rss:.0f} MiB; {what}", flush=True)
        summary_table([(title, wall, TARGET_S, what) for title, wall, _rss, what in rows])
        return 0 if worst < TARGET_S else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
