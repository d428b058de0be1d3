"""Benchmark `kubectl netsso diff OLD NEW` on two 3,000-pod / 600-policy folders that differ by a few policies and
bindings (all ports, every section: connectivity, permissions, reach, findings).

OLD is the paths benchmark's cluster (benchmarks/gencluster.py: 30 namespaces, 3,000 pods, 600 policies of every
kind) plus the reach benchmark's RBAC (benchmarks/reach_audit.py generate_rbac: 200 groups); NEW is a copy with a
pull request's worth of edits: a policy removed, one widened (podSelector {}), one port changed, one new ingress
policy, one new external egress policy, a RoleBinding added (exec into a namespace) and one removed.

    python benchmarks/diff_scale.py [--workdir DIR] [--pods 3000] [--policies 600] [--groups 200]

Prints the wall time and peak RSS of the installed `kubectl-netsso` (loading both folders included), the size of the
answer, and the target (< 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gencluster import generate  # noqa: E402
from reach_audit import generate_rbac, ours_exe, timed  # noqa: E402

TARGET_S = 5.0


def _docs(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]


def _write(path: str, docs: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump_all(docs, fh, sort_keys=False)


def pull_request(folder: str) -> list[str]:
    """Edit NEW in place; return what was changed (for the printout)."""
    done: list[str] = []
    # policies of ns-003: drop the first, widen the second, change the third's ports
    path = os.path.join(folder, "ns-003-netpol.yaml")
    docs = _docs(path)
    done.append(f"removed NetworkPolicy ns-003/{docs[0]['metadata']['name']}")
    docs.pop(0)
    docs[0]["spec"]["podSelector"] = {}
    done.append(f"widened NetworkPolicy ns-003/{docs[0]['metadata']['name']} (podSelector {{}})")
    for rule in docs[1]["spec"].get("ingress") or []:
        rule["ports"] = [{"port": 8080}]
    done.append(f"ports of NetworkPolicy ns-003/{docs[1]['metadata']['name']} -> 8080")
    _write(path, docs)
    new = [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "pr-allow-web", "namespace": "ns-007"},
         "spec": {"podSelector": {"matchLabels": {"role": "api"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 80}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "pr-egress-partner", "namespace": "ns-011"},
         "spec": {"podSelector": {"matchLabels": {"role": "worker"}}, "policyTypes": ["Egress"],
                  "egress": [{"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}], "ports": [{"port": 443}]}]}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "pr-contractors-exec", "namespace": "ns-003"},
         "subjects": [{"kind": "Group", "name": "oidc:contractors", "apiGroup": "rbac.authorization.k8s.io"}],
         "roleRef": {"kind": "ClusterRole", "name": "bench-exec", "apiGroup": "rbac.authorization.k8s.io"}},
    ]  # fmt: skip
    _write(os.path.join(folder, "pr.yaml"), new)
    done += ["added NetworkPolicy ns-007/pr-allow-web", "added NetworkPolicy ns-011/pr-egress-partner",
             "added RoleBinding ns-003/pr-contractors-exec"]  # fmt: skip
    rbac = os.path.join(folder, "rbac.yaml")
    docs = _docs(rbac)
    gone = next(i for i, d in enumerate(docs) if d["kind"] == "RoleBinding")
    done.append(f"removed RoleBinding {docs[gone]['metadata']['namespace']}/{docs[gone]['metadata']['name']}")
    docs.pop(gone)
    _write(rbac, docs)
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", help="keep the generated folders here (default: a temp dir, removed)")
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--namespaces", type=int, default=30)
    ap.add_argument("--policies", type=int, default=600)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="netsso-diff-bench-")
    old, new = os.path.join(work, "old"), os.path.join(work, "new")
    for folder in (old, new):
        shutil.rmtree(folder, ignore_errors=True)
    try:
        counts = generate(old, namespaces=args.namespaces, pods=args.pods, policies=args.policies, replicas=3)
        rbac = generate_rbac(os.path.join(old, "rbac.yaml"), [f"ns-{i:03d}" for i in range(args.namespaces)], args.groups)
        shutil.copytree(old, new)
        edits = pull_request(new)
        print(f"cluster: {counts['pods']} pods in {counts['workloads']} workloads, {counts['namespaces']} namespaces, "
              f"{counts['policies']} policies; RBAC: {rbac['groups']} groups, {rbac['bindings']} bindings")  # fmt: skip
        print("pull request: " + "; ".join(edits))
        exe = ours_exe()
        runs = [
            ("diff, every section", ["diff", old, new, "-o", "json"]),
            ("diff --only connectivity", ["diff", old, new, "--only", "connectivity", "-o", "json"]),
            ("diff --only permissions,reach", ["diff", old, new, "--only", "permissions,reach", "-o", "json"]),
            ("diff -o markdown", ["diff", old, new, "-o", "markdown"]),
        ]
        rows = []
        worst = 0.0
        for title, argv in runs:
            best = None
            for _ in range(args.runs):
                wall, rss, rc, out, err = timed([exe, "-vv", *argv])
                if rc not in (0, 1):
                    print(f"{title}: exit {rc}: {err.strip()[-800:]}")
                    return 1
                best = wall if best is None else min(best, wall)
            assert best is not None
            what = ""
            if argv[-1] == "json":
                data = json.loads(out)
                parts = []
                if data["connectivity"] is not None:
                    s = data["connectivity"]["summary"]
                    groups = len(data["connectivity"]["groups"])
                    parts.append(f"{s['changes']} flow changes ({s['addedPairs']} pairs new, {s['removedPairs']} "
                                 f"removed, {s['changedPairs']} changed), {groups} grouped rules")  # fmt: skip
                if data["permissions"] is not None:
                    s = data["permissions"]["summary"]
                    parts.append(f"{s['gained']} permissions gained ({s['riskyGained']} risky), {s['lost']} lost")
                if data["reach"] is not None:
                    parts.append(f"{len(data['reach']['changes'])} reach changes")
                if data["findings"] is not None:
                    parts.append(f"{len(data['findings']['new'])} new / {len(data['findings']['fixed'])} fixed findings")
                what = "; ".join(parts)
            else:
                what = f"{len(out.splitlines())} lines"
            timing = next((ln for ln in err.splitlines() if "diff: load_s" in ln), "")
            rows.append((title, best, rss, what))
            worst = max(worst, best) if title == runs[0][0] else worst
            print(f"{title}: {best:.2f} s (best of {args.runs}), peak RSS <= {rss:.0f} MiB; {what}", flush=True)
            if timing:
                print(f"  {timing.split('diff: ', 1)[1]}")
        print()
        print("| command | wall (s) | target | result |")
        print("|---|---|---|---|")
        for title, wall, _rss, what in rows:
            print(f"| {title} | {wall:.2f} | < {TARGET_S:.0f} s {'ok' if wall < TARGET_S else 'MISSED'} | {what} |")
        return 0 if worst < TARGET_S else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
