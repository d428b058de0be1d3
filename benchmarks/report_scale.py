"""Benchmark `kubectl netsso report --html` on generated clusters: the 20-namespace one of the report's tests (161
workloads) and the 3,000-pod one of the paths benchmark (30 namespaces, 600 policies).

    python benchmarks/report_scale.py [--workdir DIR] [--runs 3]

Prints, per cluster: wall time of the installed `kubectl-netsso report` (loading included; best of --runs), the
in-process split (build_report with its namespace matrix, render_html), the page size, and what the page holds
(matrix cells, rules in the cell panels, whether the graph is drawn).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gencluster import generate  # noqa: E402

CLUSTERS = {
    "20 namespaces / 161 workloads": {"namespaces": 20, "pods": 400, "policies": 40, "replicas": 3},
    "3,000 pods / 30 namespaces / 600 policies": {"namespaces": 30, "pods": 3000, "policies": 600, "replicas": 3},
}


def in_process(folder: str) -> tuple[float, float, float, object]:
    from kubectl_netsso.access.footholds import workload_groups
    from kubectl_netsso.access.nsmatrix import namespace_matrix
    from kubectl_netsso.access.reach import ReachEngine
    from kubectl_netsso.access.report import build_report
    from kubectl_netsso.cluster.manifests import load_snapshot
    from kubectl_netsso.output.report import render_html

    snap = load_snapshot([folder])
    engine = ReachEngine(snap)
    scope = sorted({w.namespace for w in snap.workloads})
    t0 = time.perf_counter()
    data = build_report(engine, scope=scope, source=folder, identity=None, identity_text=None, reaches=[], findings=[])
    t1 = time.perf_counter()
    render_html(data)
    t2 = time.perf_counter()
    namespace_matrix(engine.compiled, snap.workloads, workload_groups(snap.workloads), scope)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="netsso-report-bench-")
    exe = shutil.which("kubectl-netsso")
    if exe is None:
        print("kubectl-netsso is not on PATH (pip install -e .)", file=sys.stderr)
        return 2
    try:
        for name, spec in CLUSTERS.items():
            folder = os.path.join(work, name.split()[0].replace(",", ""))
            counts = generate(folder, **spec)
            page = os.path.join(work, os.path.basename(folder) + ".html")
            walls = []
            for _ in range(args.runs):
                t = time.perf_counter()
                subprocess.run([exe, "report", "--html", page, "--manifests", folder], check=True, stderr=subprocess.DEVNULL)
                walls.append(time.perf_counter() - t)
            build, render, matrix, data = in_process(folder)
            m = data.ns_matrix  # type: ignore[attr-defined]
            rules = sum(len(c.rules) for c in m.cells.values())
            drawn = "drawn" if '<svg id="graph"' in open(page, encoding="utf-8").read() else "not drawn (over the threshold)"
            print(f"{name}: {counts['pods']} pods, {counts['workloads']} workloads, {counts['policies']} policies")
            print(f"  kubectl-netsso report --html: {min(walls):.2f} s wall (best of {args.runs}, loading included)")
            print(f"  in process: build_report {build:.2f} s (its namespace matrix {matrix:.2f} s), render_html {render:.2f} s")
            size = os.path.getsize(page) / 1024
            shape = f"{len(m.rows)} x {len(m.columns)}"
            print(f"  page: {size:.0f} KiB; matrix {shape}, {len(m.cells)} cells, {rules} rules; graph {drawn}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
