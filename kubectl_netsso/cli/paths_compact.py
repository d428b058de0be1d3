"""paths tables beside the per-pair one: `--compact` rules (netpol/compact.py) and the flows to and from addresses
outside the cluster (netpol/external.py). The JSON/YAML forms are in output/paths_stream.py; the run in
usecases/paths.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.compact import CompactResult
    from ..usecases.paths import PathsRun

def _safe(text: str) -> str:
    """Names and labels come from manifests or the cluster: escaped as every other text output escapes them."""
    from ..output.text import escape

    return escape(text)


# --- --compact ---------------------------------------------------------------------------------------------------


def print_compact(result: CompactResult) -> None:
    from ..netpol.compact import describe_ports
    from ..output import TerminalWriter

    out = TerminalWriter(sys.stdout)
    if not result.rules:
        out.write("no flows in scope are allowed\n")
        return
    unknown = any(r.allowed is None for r in result.rules)
    rows = [
        [_safe(r.source.describe()), _safe(r.destination.describe()), describe_ports(r.ports)]
        + (["UNKNOWN" if r.allowed is None else "allowed"] if unknown else [])
        for r in result.rules
    ]
    headers = ["FROM", "TO", "PORTS"] + (["VERDICT"] if unknown else [])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    n_unknown = sum(1 for r in result.rules if r.allowed is None)
    noun = "rule" if len(result.rules) == 1 else "rules"
    tail = f"{len(result.rules)} {noun}" + (f" ({n_unknown} UNKNOWN: they depend on what could not be read)" if n_unknown else "")
    out.write(f"\n{tail}; flows no rule lists are denied; a pod may always reach itself\n")
    out.flush()


# --- per-pair: addresses outside the cluster ----------------------------------------------------------------------


def print_external_table(run: PathsRun, group: Callable[[Workload], str]) -> None:
    """Flows to and from addresses outside the cluster, one line per workload, addresses and verdict (ports
    joined), after the pod-to-pod table."""
    from ..output import style

    if not run.external:
        return
    agg: dict[tuple[str, str, str], dict[str, list[bool | None]]] = {}
    for direction, w, f in run.external:
        g = group(w)
        key = (g, f.ref, "") if direction == "egress" else (f.ref, g, "")
        port = f"{'any' if f.port is None else f.port}/{f.protocol}"
        agg.setdefault(key, {}).setdefault(port, []).append(f.allowed)
    lines: list[tuple[str, str, str, str, bool | None]] = []
    for (a, b, _), by_port in agg.items():
        by_verdict: dict[bool | None, list[str]] = {}
        for port, values in by_port.items():
            v = values[0] if all(x is values[0] for x in values) else None
            by_verdict.setdefault(v, []).append(port)
        for v, port_list in sorted(by_verdict.items(), key=lambda kv: {True: 0, None: 1, False: 2}[kv[0]]):
            text = {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}[v]
            lines.append((_safe(a), _safe(b), ",".join(port_list), text, v))
    w_from = max(len("FROM"), *(len(x[0]) for x in lines))
    w_to = max(len("TO"), *(len(x[1]) for x in lines))
    w_port = max(len("PORTS"), *(len(x[2]) for x in lines))
    from ..output import TerminalWriter

    # the writer turns the colour marks of style() into SGR codes (and escapes anything else)
    out = TerminalWriter(sys.stdout)
    out.write("\n" + "  ".join(["FROM".ljust(w_from), "TO".ljust(w_to), "PORTS".ljust(w_port), "VERDICT"]) + "\n")
    colour = {True: "green", False: "red", None: "yellow"}
    for a, b, ports, text, v in lines:
        out.write("  ".join([a.ljust(w_from), b.ljust(w_to), ports.ljust(w_port), style(text, colour[v])]).rstrip() + "\n")
    n = {True: 0, False: 0, None: 0}
    for *_x, v in lines:
        n[v] += 1
    out.write(f"\n{len(lines)} external flows (outside the cluster): {n[True]} allowed, {n[False]} denied, {n[None]} unknown\n")
    out.flush()


