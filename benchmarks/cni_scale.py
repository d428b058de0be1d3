"""`paths -A` with Calico or Cilium policies mixed in, against the NetworkPolicy-only time on the same cluster size
(issue 12: a 3,000-pod cluster with 600 mixed policies stays within 2x), and the Calico side by side with
network-config-analyzer (NCA accepts Calico's NetworkPolicy / GlobalNetworkPolicy / NetworkSet objects).

For each mix (none, calico, cilium) it generates a deterministic cluster (benchmarks/gencluster.py: the same pods and
namespaces; every other policy the CNI's own with --mix), then times, as child processes (wall, peak RSS):

  kubectl-netsso paths -A -o json --manifests DIR                      (every declared port, the default)
  kubectl-netsso paths -A --port 80 --protocol TCP -o json --manifests DIR
  kubectl-netsso paths -A --compact -o json --manifests DIR            (every port of TCP, UDP, SCTP)

interleaved over --repeat rounds (the machine is shared: the median is reported) and prints the ratio to the
NetworkPolicy-only run. With --nca, the Calico clusters up to --nca-max-pods are also run through NCA (per-pair
output) and every connection on every port is compared with our compact rules expanded; each difference is printed.

    python benchmarks/cni_scale.py                          # 3,002 pods / 600 policies, 3 rounds
    python benchmarks/cni_scale.py --pods 1000 --policies 200 --nca --nca-max-pods 1100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gencluster import generate  # noqa: E402
from paths_scale import compare, ensure_nca, ours_exe, ours_pairs, parse_nca_pairs, run_child, run_piped  # noqa: E402

MIXES = ("none", "calico", "cilium")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--policies", type=int, default=600)
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--nca", action="store_true", help="compare the Calico mix with network-config-analyzer")
    ap.add_argument("--nca-max-pods", type=int, default=1100)
    ap.add_argument("--workdir", help="keep the clusters and outputs here (default: a temp dir)")
    a = ap.parse_args()
    exe = ours_exe()
    work = a.workdir or tempfile.mkdtemp(prefix="netsso-cni-")
    folders = {}
    for mix in MIXES:
        folder = os.path.join(work, mix)
        counts = generate(folder, namespaces=a.namespaces, pods=a.pods, policies=a.policies, mix=None if mix == "none" else mix)
        folders[mix] = folder
        print(f"{mix:7s} {counts}")
    runs: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    what = {
        "paths -A": ["paths", "-A", "-o", "json"],
        "paths -A --port 80": ["paths", "-A", "--port", "80", "--protocol", "TCP", "-o", "json"],
        "paths -A --compact": ["paths", "-A", "--compact", "-o", "json"],
    }
    for _ in range(a.repeat):
        for name, args in what.items():
            for mix in MIXES:
                r = run_piped([exe, *args, "--manifests", folders[mix]])
                if r.rc != 0:
                    print(f"{mix} {name}: exit {r.rc}: {r.stderr.strip()[:400]}")
                runs.setdefault((name, mix), []).append((r.wall, r.maxrss_mib, int(r.extra.get("rows", 0))))
    print(f"\n{a.pods} pods, {a.policies} policies ({a.namespaces} namespaces); median of {a.repeat} rounds, interleaved")
    print(f"{'command':22s} {'mix':7s} {'wall s':>8s} {'peak MiB':>9s} {'rows':>10s} {'vs none':>8s}")
    for name in what:
        base = statistics.median(w for w, _m, _r in runs[(name, "none")])
        for mix in MIXES:
            walls = [w for w, _m, _r in runs[(name, mix)]]
            med = statistics.median(walls)
            peak = max(m for _w, m, _r in runs[(name, mix)])
            rows = runs[(name, mix)][0][2]
            print(f"{name:22s} {mix:7s} {med:8.2f} {peak:9.1f} {rows:10d} {med / base:7.2f}x")
    if a.nca and a.pods <= a.nca_max_pods:
        folder = os.path.join(work, "calico-nca")
        generate(folder, namespaces=a.namespaces, pods=a.pods, policies=a.policies, mix="calico", nca_safe=True)
        return nca_side_by_side(exe, folder, work)
    return 0


def nca_side_by_side(exe: str, folder: str, work: str) -> int:
    """Our compact rules expanded vs NCA's per-pair lines on a Calico mix without the features NCA does not read
    (tiers, serviceAccounts in rule peers: gencluster.NCA_UNSUPPORTED)."""
    nca = ensure_nca()
    ours_out = os.path.join(work, "calico-compact.json")
    r = run_child([exe, "paths", "-A", "--compact", "-o", "json", "--manifests", folder, "--cni", "calico"], ours_out)
    nca_out = os.path.join(work, "calico-nca.txt")
    n = run_child([nca, "--connectivity", "-r", folder, "-o", "txt_no_fw_rules", "-f", nca_out], os.path.join(work, "nca.log"))
    print(f"\nCalico mix side by side: ours --compact {r.wall:.2f} s; nca per pair {n.wall:.2f} s (exit {n.rc})")
    if n.rc != 0:
        print(n.stderr[-2000:])
        return 1
    with open(ours_out, encoding="utf-8") as fh:
        rules = json.load(fh)["rules"]
    mine, mine_ext = ours_pairs(rules, folder)
    theirs, theirs_ext = parse_nca_pairs(nca_out)
    diffs = compare(mine, theirs, "workload pairs") + compare(mine_ext, theirs_ext, "addresses outside the cluster")
    print(f"differences: {diffs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
