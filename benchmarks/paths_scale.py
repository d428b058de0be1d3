"""Speed, memory and correctness of `kubectl-netsso paths` at scale, side by side with network-config-analyzer (NCA),
both doing the full connectivity on all ports and protocols.

For each size it generates a deterministic cluster (benchmarks/gencluster.py) into a temp folder, then runs as child
processes (wall time, and peak RSS from os.wait4's rusage of that child):

  ours compact:   kubectl-netsso paths -A --compact -o json --manifests DIR        (all ports; rules counted)
  ours per pair:  kubectl-netsso paths -A --port 80 --protocol TCP -o json ...     (stdout into a drained pipe)
  nca fw-rules:   nca --connectivity -r DIR -f FILE                                (its default, minimised rules)
  nca per pair:   nca --connectivity -r DIR -o txt_no_fw_rules -f FILE             (for the agreement check)

and, on the 3,000-pod folder, one `kubectl-netsso can-reach` (loading included). Where NCA ran, the connections of
every (from, to) workload pair on every port of TCP, UDP and SCTP -- our compact rules expanded, NCA's per-pair
lines -- are compared (self pairs excluded: NCA does not list a workload to itself), and so are the connections of
each workload to and from probe addresses outside the cluster (IPv4: NCA has no IPv6 here); every difference is
printed. The generated clusters give pods no IPs, so ipBlocks never match pods, the case where both tools must agree.

NCA (pip package network-config-analyzer 2.1.0) is installed on first use into a venv under
$XDG_CACHE_HOME/netsso-bench (default ~/.cache/netsso-bench) created by this script; `--skip-nca` skips it.

    python benchmarks/paths_scale.py                      # agreement sizes + 3,000 + 20,000 (NCA up to --nca-max-pods)
    python benchmarks/paths_scale.py --sizes agree        # only the small agreement clusters
    python benchmarks/paths_scale.py --sizes 3000 --nca-max-pods 3000 --nca-timeout 900   # NCA at 3,000 (~10 min)
"""

from __future__ import annotations

import argparse
import ipaddress
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

PROTOCOLS = ("TCP", "UDP", "SCTP")
Conn = tuple[tuple[str, tuple[tuple[int, int], ...]], ...]  # ((protocol, merged port ranges), ...), sorted
PROBES = ("1.2.3.4", "9.255.255.255", "10.0.0.1", "11.0.0.1", "172.16.0.1", "172.17.0.1", "172.31.255.255",
          "172.32.0.1", "192.168.0.1", "203.0.113.5", "255.255.255.255")  # fmt: skip

_NCA_LINE = re.compile(r"^(\S+) => (\S+) : (.*)$")
_NCA_ENDPOINT = re.compile(r"^([^/\s]+)/([^\[\s]+)\[(\w+)\]$")
_NCA_GROUP = re.compile(r"\{([^{}]*)\}")


def canonical(spans: dict[str, list[tuple[int, int]]]) -> Conn:
    out = []
    for proto in PROTOCOLS:
        merged: list[list[int]] = []
        for a, b in sorted(spans.get(proto, ())):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if merged:
            out.append((proto, tuple((a, b) for a, b in merged)))
    return tuple(out)


def nca_conn(conn: str) -> dict[str, list[tuple[int, int]]]:
    """An NCA connection text as port ranges per protocol ('All connections', '{protocols:TCP, UDP,dst_ports:53,80-90}')."""
    conn = conn.strip()
    spans: dict[str, list[tuple[int, int]]] = {}
    if conn.startswith("All connections"):
        return {p: [(1, 65535)] for p in PROTOCOLS}
    if conn.startswith("All but "):
        # 'All but {protocols:TCP}' (seen with Calico Deny rules): every port of every protocol minus the groups
        return _complement(nca_conn(conn[len("All but ") :]))
    for group in _NCA_GROUP.findall(conn):
        m = re.match(r"protocols:(.*?)(?:,dst_ports:(.*))?$", group.strip())
        if not m:
            continue
        ranges = [(1, 65535)]
        if m.group(2) is not None:
            ranges = []
            for item in m.group(2).split(","):
                lo, _, hi = item.strip().partition("-")
                ranges.append((int(lo), int(hi or lo)))
        for p in m.group(1).split(","):
            spans.setdefault(p.strip().upper(), []).extend(ranges)
    return spans


def _complement(spans: dict[str, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for proto in PROTOCOLS:
        start = 1
        for a, b in canonical_ranges(spans.get(proto, [])):
            if a > start:
                out.setdefault(proto, []).append((start, a - 1))
            start = max(start, b + 1)
        if start <= 65535:
            out.setdefault(proto, []).append((start, 65535))
    return out


def canonical_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def nca_ranges(text: str) -> list[tuple[int, int]] | None:
    """'0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255' or '0.0.0.0/0' as address intervals; None: not addresses."""
    out = []
    for item in text.split(","):
        try:
            if "-" in item:
                a, b = item.split("-", 1)
                out.append((_ip(a), _ip(b)))
            else:
                net = ipaddress.ip_network(item, strict=False)
                out.append((int(net.network_address), int(net.broadcast_address)))
        except ValueError:
            return None
    return out


def parse_nca_pairs(path: str) -> tuple[dict[tuple[str, str], Conn], dict[tuple[str, str, str], Conn]]:
    """From `-o txt_no_fw_rules`: {(from, to): conn} for workload pairs, {(direction, workload, probe): conn}."""
    pairs: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = {}
    ext: dict[tuple[str, str, str], dict[str, list[tuple[int, int]]]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = _NCA_LINE.match(line.strip())
            if not m:
                continue
            a, b = _NCA_ENDPOINT.match(m.group(1)), _NCA_ENDPOINT.match(m.group(2))
            spans = nca_conn(m.group(3))
            if a and b:
                acc = pairs.setdefault((f"{a.group(1)}/{a.group(2)}", f"{b.group(1)}/{b.group(2)}"), {})
            elif a or b:
                ranges = nca_ranges(m.group(2) if a else m.group(1))
                if ranges is None:
                    continue
                w = a or b
                assert w is not None
                for probe in PROBES:
                    if any(lo <= _ip(probe) <= hi for lo, hi in ranges):
                        acc = ext.setdefault(("egress" if a else "ingress", f"{w.group(1)}/{w.group(2)}", probe), {})
                        for proto, rs in spans.items():
                            acc.setdefault(proto, []).extend(rs)
                continue
            else:
                continue
            for proto, rs in spans.items():
                acc.setdefault(proto, []).extend(rs)
    return {k: canonical(v) for k, v in pairs.items()}, {k: canonical(v) for k, v in ext.items()}


def count_nca_rules(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.startswith("src"))


def ours_pairs(rules: list[dict[str, Any]], folder: str) -> tuple[dict[tuple[str, str], Conn], dict[tuple[str, str, str], Conn]]:
    """Our compact rules expanded to the same shapes as parse_nca_pairs (workloads from the folder, by label)."""
    from kubectl_netsso.cluster.manifests import load_snapshot
    from kubectl_netsso.netpol.selectors import parse_selector

    workloads = [(f"{w.namespace}/{w.name}", w.namespace, dict(w.labels)) for w in load_snapshot([folder]).workloads]

    def members(side: dict[str, Any]) -> list[str]:
        if "ipBlocks" in side:
            return []
        if "workloads" in side:
            return [
                name
                for name, _ns, _l in workloads
                if any(name == "/".join((r.split("/")[0], r.split("/")[-1])) for r in side["workloads"])
            ]
        sel = parse_selector(side["podSelector"])
        assert sel is not None
        return [name for name, ns, labels in workloads if ns in side["namespaces"] and sel.matches(labels)]

    def probes(side: dict[str, Any]) -> list[str]:
        out = []
        for probe in PROBES:
            ip = ipaddress.ip_address(probe)
            for b in side.get("ipBlocks", ()):
                net = ipaddress.ip_network(b["cidr"])
                if ip.version == net.version and ip in net and not any(ip in ipaddress.ip_network(e) for e in b["except"]):
                    out.append(probe)
                    break
        return out

    pairs: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = {}
    ext: dict[tuple[str, str, str], dict[str, list[tuple[int, int]]]] = {}
    for r in rules:
        if r["allowed"] is not True:
            continue
        spans: dict[str, list[tuple[int, int]]] = {}
        for p in r["ports"]:
            spans.setdefault(p["protocol"], []).append((p["port"], p.get("endPort", p["port"])))
        src, dst = members(r["from"]), members(r["to"])
        targets: list[dict[str, list[tuple[int, int]]]] = []
        for a in src:
            targets.extend(pairs.setdefault((a, b), {}) for b in dst)
            targets.extend(ext.setdefault(("egress", a, probe), {}) for probe in probes(r["to"]))
        for b in dst:
            targets.extend(ext.setdefault(("ingress", b, probe), {}) for probe in probes(r["from"]))
        for acc in targets:
            for proto, rs in spans.items():
                acc.setdefault(proto, []).extend(rs)
    return {k: canonical(v) for k, v in pairs.items()}, {k: canonical(v) for k, v in ext.items()}


def compare(mine: dict[Any, Conn], theirs: dict[Any, Conn], what: str, self_pairs: bool = False) -> int:
    """Print up to 10 differences; return how many keys differ (empty connections count as absent)."""
    mine = {k: v for k, v in mine.items() if v and (self_pairs or k[0] != k[1])}
    theirs = {k: v for k, v in theirs.items() if v and (self_pairs or k[0] != k[1])}
    diff = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    for k in diff[:10]:
        print(f"    {what} differ: {k}: ours {mine.get(k)} nca {theirs.get(k)}")
    return len(diff)


def count_rows(path: str) -> tuple[int, int, int]:
    """(pod-to-pod rows, rows with an address outside the cluster, distinct pod pairs) of our per-pair JSON."""
    pods = ext = 0
    pairs: set[tuple[str, str]] | None = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip().rstrip(",")
            if not line.startswith('{"from"'):
                continue
            row = json.loads(line)
            if row["from"].startswith("ip:") or row["to"].startswith("ip:"):
                ext += 1
                continue
            pods += 1
            if pairs is not None:
                pairs.add((row["from"], row["to"]))
                if len(pairs) > 3_000_000:
                    pairs = None  # too many to hold for the uniqueness check; counted only
    return pods, ext, (len(pairs) if pairs is not None else -1)


# --- main --------------------------------------------------------------------------------------------------------


def fmt_s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description="kubectl-netsso paths at scale vs network-config-analyzer")
    ap.add_argument("--sizes", default="agree,3000,20000", help="comma list of: agree, 3000, 20000, 20000-r3")
    ap.add_argument("--skip-nca", action="store_true", help="do not install or run NCA")
    ap.add_argument("--nca-max-pods", type=int, default=1100, help="run NCA only on clusters up to this many pods")
    ap.add_argument("--nca-timeout", type=float, default=900.0, help="seconds before NCA is killed")
    ap.add_argument("--skip-pairs", action="store_true", help="do not time the per-pair JSON")
    ap.add_argument("--workdir", help="keep generated clusters and outputs here (default: a temp dir, removed)")
    args = ap.parse_args()

    exe = ours_exe()
    nca = None if args.skip_nca else ensure_nca()
    work = args.workdir or tempfile.mkdtemp(prefix="netsso-bench-")
    os.makedirs(work, exist_ok=True)
    rows: list[list[str]] = []
    problems = 0
    compared = 0
    try:
        for group in args.sizes.split(","):
            for size in SIZES[group.strip()]:
                folder = os.path.join(work, f"cluster-{size.name}")
                shutil.rmtree(folder, ignore_errors=True)
                counts = generate(
                    folder, namespaces=size.namespaces, pods=size.pods, policies=size.policies, replicas=size.replicas
                )
                tag = f"[{size.name}]"
                print(
                    f"{tag} {counts['pods']} pods in {counts['workloads']} workloads, {counts['policies']} policies", flush=True
                )
                # ours, compact: all ports and protocols, addresses outside the cluster included
                out_compact = os.path.join(work, f"ours-compact-{size.name}.json")
                comp = run_child([exe, "paths", "-A", "--compact", "-o", "json", "--manifests", folder], out_compact)
                if comp.rc != 0:
                    print(f"{tag} kubectl-netsso --compact failed rc={comp.rc}: {comp.stderr.strip()[-400:]}")
                    problems += 1
                    continue
                with open(out_compact, encoding="utf-8") as fh:
                    our_rules = json.load(fh)["rules"]
                print(
                    f"{tag} ours --compact: {comp.wall:.2f} s (CPU {comp.extra['cpu']:.2f} s), {comp.maxrss_mib:.0f} MiB peak, "
                    f"{len(our_rules)} rules",
                    flush=True,
                )
                # ours, per pair on 80/TCP (the figure main had), streamed into a drained pipe
                pairs_run: Run | None = None
                n_paths = 0
                out_mib = 0.0
                if not args.skip_pairs:
                    argv = [exe, "paths", "-A", "--port", "80", "--protocol", "TCP", "-o", "json", "--manifests", folder]
                    pairs_run = run_piped(argv)
                    if pairs_run.rc != 0:
                        print(f"{tag} kubectl-netsso per pair failed rc={pairs_run.rc}: {pairs_run.stderr.strip()[-400:]}")
                        problems += 1
                        continue
                    n_paths = pairs_run.extra["rows"]
                    out_mib = pairs_run.extra["bytes"] / 2**20
                    print(
                        f"{tag} ours per pair 80/TCP: {pairs_run.wall:.2f} s (CPU {pairs_run.extra['cpu']:.2f} s), "
                        f"{pairs_run.maxrss_mib:.0f} MiB peak, {n_paths} rows, {out_mib:.0f} MiB JSON",
                        flush=True,
                    )
                    if size.agreement:
                        # untimed second run into a file: every pod pair exactly once, plus the address rows
                        out_json = os.path.join(work, f"ours-{size.name}.json")
                        run_child(argv, out_json)
                        n_pods, n_ext, n_distinct = count_rows(out_json)
                        if n_pods != counts["workloads"] ** 2 or n_distinct not in (-1, n_pods):
                            print(f"{tag} MISMATCH: {n_pods} pod rows ({n_distinct} distinct), want {counts['workloads'] ** 2}")
                            problems += 1
                        os.unlink(out_json)
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
                        f"{tag} can-reach (incl. loading), median of 5: {cr.wall:.2f} s "
                        f"(min {runs[0].wall:.2f}, CPU {cr.extra['cpu']:.2f} s), {cr.maxrss_mib:.0f} MiB, rc={cr.rc}"
                    )
                nca_run: Run | None = None
                nca_rules: int | None = None
                agree = "-"
                if nca is not None and counts["pods"] <= args.nca_max_pods:
                    nca_out = os.path.join(work, f"nca-{size.name}.txt")
                    nca_run = run_child(
                        [nca, "--connectivity", "-r", folder, "-f", nca_out],
                        os.path.join(work, f"nca-{size.name}.log"),
                        timeout=args.nca_timeout,
                    )
                    if nca_run.timed_out or not os.path.exists(nca_out):
                        print(f"{tag} nca killed after {args.nca_timeout:.0f} s (or no output)")
                    else:
                        nca_rules = count_nca_rules(nca_out)
                        print(
                            f"{tag} nca fw-rules: {nca_run.wall:.2f} s (CPU {nca_run.extra['cpu']:.2f} s), "
                            f"{nca_run.maxrss_mib:.0f} MiB, {nca_rules} rules",
                            flush=True,
                        )
                        if len(our_rules) > nca_rules:
                            print(f"{tag} MORE RULES than nca: {len(our_rules)} > {nca_rules}")
                            problems += 1
                        pairs_out = os.path.join(work, f"nca-pairs-{size.name}.txt")
                        nca_pairs_run = run_child(
                            [nca, "--connectivity", "-r", folder, "-o", "txt_no_fw_rules", "-f", pairs_out],
                            os.path.join(work, f"nca-pairs-{size.name}.log"),
                            timeout=args.nca_timeout,
                        )
                        if not nca_pairs_run.timed_out and os.path.exists(pairs_out):
                            theirs, theirs_ext = parse_nca_pairs(pairs_out)
                            mine, mine_ext = ours_pairs(our_rules, folder)
                            bad = compare(mine, theirs, "pair connections") + compare(
                                mine_ext, theirs_ext, "outside-address connections", self_pairs=True
                            )
                            compared += 1
                            agree = "yes" if not bad else f"NO ({bad})"
                            print(
                                f"{tag} all ports: {len([v for k, v in mine.items() if v and k[0] != k[1]])} workload pairs "
                                f"connected (ours), {len([v for k, v in theirs.items() if v and k[0] != k[1]])} (nca); "
                                f"{len(mine_ext)} address probes; equal: {agree}",
                                flush=True,
                            )
                            problems += 1 if bad else 0
                speedup = f"{nca_run.wall / comp.wall:.0f}x" if nca_run and not nca_run.timed_out else "-"
                rows.append(
                    [
                        size.name,
                        str(counts["pods"]),
                        str(counts["workloads"]),
                        str(counts["policies"]),
                        fmt_s(comp.wall),
                        f"{comp.maxrss_mib:.0f}",
                        str(len(our_rules)),
                        ("killed" if nca_run and nca_run.timed_out else fmt_s(nca_run.wall if nca_run else None)),
                        f"{nca_run.maxrss_mib:.0f}" if nca_run else "-",
                        "-" if nca_rules is None else str(nca_rules),
                        speedup,
                        agree,
                        fmt_s(pairs_run.wall if pairs_run else None),
                        f"{pairs_run.maxrss_mib:.0f}" if pairs_run else "-",
                        str(n_paths) if pairs_run else "-",
                        f"{out_mib:.0f}" if pairs_run else "-",
                        fmt_s(reach_s),
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
        "ours --compact s",
        "MiB",
        "rules",
        "nca fw-rules s",
        "MiB",
        "rules",
        "speedup",
        "all ports equal",
        "ours per pair 80/TCP s",
        "MiB",
        "rows",
        "JSON MiB",
        "can-reach s",
    ]
    print()
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nagreement: {compared} cluster(s) compared with nca on all ports; {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
