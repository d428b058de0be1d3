"""Speed, memory and correctness of `kubectl-netsso paths` at scale, side by side with network-config-analyzer (NCA).

For each size it generates a deterministic cluster (benchmarks/gencluster.py) into a temp folder, then runs as child
processes (wall time, and peak RSS from os.wait4's rusage of that child):

  ours:  kubectl-netsso paths -A --port 80 --protocol TCP -o json --manifests DIR   (stdout into a drained pipe; rows counted)
  nca:   nca --connectivity -r DIR -o txt_no_fw_rules -f FILE                       (its own venv, see below)

and, on the 3,000-pod folder, one `kubectl-netsso can-reach` (loading included). Where NCA ran, the set of allowed
(from, to) workload pairs on 80/TCP is compared with ours (self pairs excluded: NCA does not list a workload to
itself) and every difference is printed. The generated clusters give pods no IPs, so ipBlocks never match pods, the
case where both tools must agree.

NCA (pip package network-config-analyzer 2.1.0) is installed on first use into a venv under
$XDG_CACHE_HOME/netsso-bench (default ~/.cache/netsso-bench) created by this script; `--skip-nca` skips it.

    python benchmarks/paths_scale.py                      # agreement sizes + 3,000 + 20,000 (NCA up to --nca-max-pods)
    python benchmarks/paths_scale.py --sizes agree        # only the small agreement clusters
    python benchmarks/paths_scale.py --sizes 3000 --nca-max-pods 3000 --nca-timeout 900   # NCA at 3,000 (~10 min)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gencluster import generate  # noqa: E402

NCA_VERSION = "2.1.0"


@dataclass(frozen=True)
class Size:
    name: str
    namespaces: int
    pods: int
    policies: int
    replicas: int
    agreement: bool = False


SIZES = {
    "agree": [
        Size("agree-50", 5, 50, 10, 3, True),
        Size("agree-200", 10, 200, 40, 3, True),
        Size("agree-200-r1", 10, 200, 60, 1, True),
        Size("agree-1000", 20, 1000, 200, 3, True),
    ],
    # the NCA baseline shape (reference: 30 ns x 100 pods, 3 replicas per Deployment, 600 policies)
    "3000": [Size("3000", 30, 3000, 600, 3)],
    # 20,000 pods in 100 namespaces; Deployments of 10 replicas (about 2,500 workloads, 6 million pairs in the JSON)
    "20000": [Size("20000", 100, 20000, 4000, 10)],
    # the same 20,000 pods as 3-replica Deployments: about 6,700 workloads, 45 million pairs (about 6 GiB of JSON)
    "20000-r3": [Size("20000-r3", 100, 20000, 4000, 3)],
}


@dataclass
class Run:
    wall: float
    maxrss_mib: float
    rc: int
    timed_out: bool = False
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# A tiny launcher process starts the measured command and reports its rusage. Linux records the peak RSS of the
# address space a process leaves at exec(), so a child forked straight from this (large) benchmark process would
# report this process's memory as its own peak; forked from the small launcher it reports only its own.
_LAUNCHER = r"""
import json, os, sys, time
report, timeout, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
timed_out = False
while True:
    got, status, usage = os.wait4(pid, os.WNOHANG)
    if got:
        break
    if timeout > 0 and time.perf_counter() - t0 > timeout:
        os.kill(pid, 9)
        got, status, usage = os.wait4(pid, 0)
        timed_out = True
        break
    time.sleep(0.005)
wall = time.perf_counter() - t0
with open(report, "w") as fh:
    json.dump({"wall": wall, "maxrss_kib": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
               "rc": os.waitstatus_to_exitcode(status), "timed_out": timed_out}, fh)
"""


def _launch(argv: list[str], stdout: Any, err: Any, timeout: float | None) -> tuple[subprocess.Popen[bytes], str]:
    fd, report = tempfile.mkstemp(prefix="netsso-bench-", suffix=".json")
    os.close(fd)
    cmd = [sys.executable, "-c", _LAUNCHER, report, str(timeout or 0), *argv]
    return subprocess.Popen(cmd, stdout=stdout, stderr=err), report


def _result(proc: subprocess.Popen[bytes], report: str, err: Any, extra: dict[str, Any]) -> Run:
    proc.wait()
    with open(report, encoding="utf-8") as fh:
        r = json.load(fh)
    os.unlink(report)
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    extra["cpu"] = r["cpu"]
    return Run(r["wall"], r["maxrss_kib"] / 1024.0, r["rc"], r["timed_out"], text, extra)


def run_child(argv: list[str], stdout_path: str, timeout: float | None = None) -> Run:
    """Run argv with stdout to a file: wall time, CPU time and the child's own peak RSS (ru_maxrss)."""
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
        proc, report = _launch(argv, out, err, timeout)
        return _result(proc, report, err, {})


def run_piped(argv: list[str]) -> Run:
    """Run argv with stdout into a pipe this process drains (as `| jq` would): rows and bytes counted, not stored."""
    marker = b'\n  {"from"'
    with tempfile.TemporaryFile() as err:
        proc, report = _launch(argv, subprocess.PIPE, err, None)
        assert proc.stdout is not None
        rows = size = 0
        tail = b""
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            window = tail + chunk
            rows += window.count(marker)
            tail = window[-(len(marker) - 1) :]  # a marker split across two reads is counted once
        return _result(proc, report, err, {"rows": rows, "bytes": size})


def ours_exe() -> str:
    exe = shutil.which("kubectl-netsso")
    if not exe:
        sys.exit("kubectl-netsso is not on PATH: pip install -e . first")
    return exe


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "netsso-bench")
    os.makedirs(path, exist_ok=True)
    return path


def ensure_nca() -> str:
    """The nca executable from the benchmark's own venv (created on first use)."""
    venv = os.path.join(cache_dir(), "nca-venv")
    exe = os.path.join(venv, "bin", "nca")
    if os.path.exists(exe):
        return exe
    print(f"installing network-config-analyzer=={NCA_VERSION} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [os.path.join(venv, "bin", "pip"), "install", "-q", f"network-config-analyzer=={NCA_VERSION}"],
        check=True,
    )
    return exe


# --- parsing -----------------------------------------------------------------------------------------------------

_NCA_LINE = re.compile(r"^(\S+) => (\S+) : (.*)$")
_NCA_ENDPOINT = re.compile(r"^([^/\s]+)/([^\[\s]+)\[(\w+)\]$")
_NCA_GROUP = re.compile(r"\{([^{}]*)\}")


def nca_allows(conn: str, port: int, protocol: str) -> bool:
    """Does an NCA connection text admit port/protocol? ('All connections', '{protocols:TCP, UDP,dst_ports:53,80-90}')."""
    conn = conn.strip()
    if conn.startswith("All connections"):
        return True
    for group in _NCA_GROUP.findall(conn):
        m = re.match(r"protocols:(.*?)(?:,dst_ports:(.*))?$", group.strip())
        if not m:
            continue
        protocols = {p.strip().upper() for p in m.group(1).split(",")}
        if protocol not in protocols:
            continue
        ports = m.group(2)
        if ports is None:
            return True
        for item in ports.split(","):
            item = item.strip()
            if "-" in item:
                lo, hi = item.split("-", 1)
                if int(lo) <= port <= int(hi):
                    return True
            elif item and int(item) == port:
                return True
    return False


def parse_nca(path: str, port: int, protocol: str) -> set[tuple[str, str]]:
    """Allowed (from, to) workload pairs ("ns/name") on port/protocol from `-o txt_no_fw_rules` output."""
    allowed: set[tuple[str, str]] = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = _NCA_LINE.match(line.strip())
            if not m:
                continue
            a, b = _NCA_ENDPOINT.match(m.group(1)), _NCA_ENDPOINT.match(m.group(2))
            if not a or not b:  # IP ranges: outside the pod-to-pod comparison
                continue
            if nca_allows(m.group(3), port, protocol):
                allowed.add((f"{a.group(1)}/{a.group(2)}", f"{b.group(1)}/{b.group(2)}"))
    return allowed


def _short(name: str) -> str:
    """Our NS/kind/NAME (a workload) as NCA names it, NS/NAME; pods are NS/NAME already."""
    parts = name.split("/")
    return f"{parts[0]}/{parts[-1]}"


def parse_ours(path: str) -> tuple[set[tuple[str, str]], int, int, int]:
    """(allowed pairs, number of paths, distinct (from, to) pairs, unknown count) from our JSON, line by line."""
    allowed: set[tuple[str, str]] = set()
    total = unknown = 0
    pairs: set[tuple[str, str]] | None = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip().rstrip(",")
            if not line.startswith('{"from"'):
                continue
            row = json.loads(line)
            total += 1
            key = (_short(row["from"]), _short(row["to"]))
            if pairs is not None:
                pairs.add(key)
                if len(pairs) > 3_000_000:
                    pairs = None  # too many to hold for the uniqueness check; counted only
            if row["allowed"] is True:
                allowed.add(key)
            elif row["allowed"] is None:
                unknown += 1
    return allowed, total, (len(pairs) if pairs is not None else -1), unknown


# --- main --------------------------------------------------------------------------------------------------------


def fmt_s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description="kubectl-netsso paths at scale vs network-config-analyzer")
    ap.add_argument("--sizes", default="agree,3000,20000", help="comma list of: agree, 3000, 20000")
    ap.add_argument("--skip-nca", action="store_true", help="do not install or run NCA")
    ap.add_argument("--nca-max-pods", type=int, default=1100, help="run NCA only on clusters up to this many pods")
    ap.add_argument("--nca-timeout", type=float, default=900.0, help="seconds before NCA is killed")
    ap.add_argument("--workdir", help="keep generated clusters and outputs here (default: a temp dir, removed)")
    args = ap.parse_args()

    exe = ours_exe()
    nca = None if args.skip_nca else ensure_nca()
    work = args.workdir or tempfile.mkdtemp(prefix="netsso-bench-")
    os.makedirs(work, exist_ok=True)
    rows: list[list[str]] = []
    disagreements = 0
    compared = 0
    try:
        for group in args.sizes.split(","):
            for size in SIZES[group.strip()]:
                folder = os.path.join(work, f"cluster-{size.name}")
                shutil.rmtree(folder, ignore_errors=True)
                counts = generate(
                    folder, namespaces=size.namespaces, pods=size.pods, policies=size.policies, replicas=size.replicas
                )
                out_json = os.path.join(work, f"ours-{size.name}.json")
                argv = [exe, "paths", "-A", "--port", "80", "--protocol", "TCP", "-o", "json", "--manifests", folder]
                ours = run_piped(argv)  # timed: the JSON streamed into a pipe that is drained and counted
                if ours.rc != 0:
                    print(f"[{size.name}] kubectl-netsso failed rc={ours.rc}: {ours.stderr.strip()[-400:]}")
                    continue
                n_paths = ours.extra["rows"]
                out_mib = ours.extra["bytes"] / 2**20
                expected_pairs = counts["workloads"] ** 2
                print(
                    f"[{size.name}] {counts['pods']} pods in {counts['workloads']} workloads, {counts['policies']} policies: "
                    f"ours {ours.wall:.2f} s (CPU {ours.extra['cpu']:.2f} s), {ours.maxrss_mib:.0f} MiB peak, {n_paths} paths "
                    f"(expected {expected_pairs}), {out_mib:.0f} MiB JSON",
                    flush=True,
                )
                if n_paths != expected_pairs:
                    print(f"[{size.name}] MISMATCH: every pair must appear exactly once")
                    disagreements += 1
                reach_s = None
                if size.name == "3000":
                    cr_argv = [exe, "can-reach", "ns-000/deploy/api-0001", "ns-001/svc/web-0005", "--port", "80"]
                    runs = sorted(
                        (run_child([*cr_argv, "--manifests", folder], os.path.join(work, "can-reach.txt")) for _ in range(5)),
                        key=lambda r: r.wall,
                    )
                    cr = runs[len(runs) // 2]
                    reach_s = cr.wall
                    print(
                        f"[{size.name}] can-reach (incl. loading), median of 5: {cr.wall:.2f} s "
                        f"(min {runs[0].wall:.2f}, CPU {cr.extra['cpu']:.2f} s), {cr.maxrss_mib:.0f} MiB, rc={cr.rc}"
                    )
                allowed: set[tuple[str, str]] = set()
                will_compare = nca is not None and counts["pods"] <= args.nca_max_pods
                if size.agreement or will_compare:
                    # untimed second run into a file, parsed for the uniqueness and agreement checks
                    run_child(argv, out_json)
                    allowed, n_rows, n_pairs, _unknown = parse_ours(out_json)
                    if n_pairs not in (-1, expected_pairs) or n_rows != expected_pairs:
                        print(f"[{size.name}] MISMATCH: {n_rows} rows, {n_pairs} distinct pairs")
                        disagreements += 1
                nca_run: Run | None = None
                agree = "-"
                if will_compare:
                    assert nca is not None
                    nca_out = os.path.join(work, f"nca-{size.name}.txt")
                    nca_run = run_child(
                        [nca, "--connectivity", "-r", folder, "-o", "txt_no_fw_rules", "-f", nca_out],
                        os.path.join(work, f"nca-{size.name}.log"),
                        timeout=args.nca_timeout,
                    )
                    if nca_run.timed_out or not os.path.exists(nca_out):
                        print(f"[{size.name}] nca killed after {args.nca_timeout:.0f} s (or no output)")
                    else:
                        theirs = parse_nca(nca_out, 80, "TCP")
                        mine = {p for p in allowed if p[0] != p[1]}
                        theirs = {p for p in theirs if p[0] != p[1]}
                        only_ours, only_nca = sorted(mine - theirs), sorted(theirs - mine)
                        compared += 1
                        agree = "yes" if not only_ours and not only_nca else f"NO (+{len(only_ours)}/-{len(only_nca)})"
                        print(
                            f"[{size.name}] nca {nca_run.wall:.2f} s (CPU {nca_run.extra['cpu']:.2f} s), "
                            f"{nca_run.maxrss_mib:.0f} MiB; "
                            "allowed pairs on 80/TCP: "
                            f"ours {len(mine)}, nca {len(theirs)}; equal: {agree}"
                        )
                        for a, b in only_ours[:20]:
                            print(f"    only ours: {a} -> {b}")
                        for a, b in only_nca[:20]:
                            print(f"    only nca:  {a} -> {b}")
                        if only_ours or only_nca:
                            disagreements += 1
                speedup = f"{nca_run.wall / ours.wall:.0f}x" if nca_run and not nca_run.timed_out else "-"
                rows.append(
                    [
                        size.name,
                        str(counts["pods"]),
                        str(counts["workloads"]),
                        str(counts["policies"]),
                        str(n_paths),
                        f"{out_mib:.0f}",
                        fmt_s(ours.wall),
                        fmt_s(ours.extra["cpu"]),
                        f"{ours.maxrss_mib:.0f}",
                        fmt_s(reach_s),
                        ("killed" if nca_run and nca_run.timed_out else fmt_s(nca_run.wall if nca_run else None)),
                        fmt_s(nca_run.extra["cpu"] if nca_run else None),
                        f"{nca_run.maxrss_mib:.0f}" if nca_run else "-",
                        speedup,
                        agree,
                    ]
                )
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    headers = [
        "size",
        "pods",
        "workloads",
        "policies",
        "paths (JSON rows)",
        "JSON MiB",
        "ours s",
        "ours CPU s",
        "ours MiB",
        "can-reach s",
        "nca s",
        "nca CPU s",
        "nca MiB",
        "speedup",
        "allowed pairs equal",
    ]
    print()
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nagreement: {compared} cluster(s) compared with nca, {disagreements} with differences")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
