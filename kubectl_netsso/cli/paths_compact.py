"""What `paths` adds to its per-pair output, and its compact view: `--compact` rules (netpol/compact.py) as a table,
JSON `{"rules": [...], "warnings": [...]}` or YAML; per-pair rows for addresses outside the cluster
(netpol/external.py); the note that a per-pair answer is too big to read. Only wiring and rendering here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_OK

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.compact import CompactResult
    from ..netpol.external import ExternalFlow

# "about a million rows": past this a per-pair answer is for machines; people want the grouped rules
BIG_OUTPUT_ROWS = 1_000_000

def _safe(text: str) -> str:
    """Names and labels come from manifests or the cluster: escaped as every other text output escapes them."""
    from ..output.text import escape

    return escape(text)


# --- --compact ---------------------------------------------------------------------------------------------------


def run_compact(
    compiled: Any,
    population: Sequence[Workload],
    sources: Sequence[Workload],
    destinations: Sequence[Workload],
    *,
    port: int | str | None,
    protocol: str | None,
    scope_ns: str | None,
    external_sources: bool,
    external_destinations: bool,
    warnings: list[str],
    output: str,
) -> int:
    from ..netpol.compact import compact_paths
    from ..netpol.model import PROTOCOLS

    peers = {id(w): compiled.peer(w) for w in population}
    protocols: tuple[str, ...] = (protocol,) if protocol else PROTOCOLS
    result = compact_paths(
        compiled,
        [peers[id(w)] for w in sources],
        [peers[id(w)] for w in destinations],
        list(peers.values()),
        protocols=protocols,
        port=port,
        scope_ns=scope_ns,
        external_sources=external_sources,
        external_destinations=external_destinations,
    )
    log.debug(f"compact: {len(result.rules)} rules, {result.stats}")
    if output in ("json", "yaml"):
        data = {**result.to_dict(), "warnings": warnings}
        if output == "json":
            # one rule per line, as paths prints one path per line: greppable, and diffs stay readable
            rules = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in data["rules"])
            body = f"\n  {rules}\n" if rules else ""
            sys.stdout.write(f'{{"rules": [{body}],\n"warnings": {json.dumps(warnings)}}}\n')
        else:
            from ..output import to_yaml

            sys.stdout.write(to_yaml(data))
        sys.stdout.flush()
    else:
        print_compact(result)
    return EXIT_OK


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


def external_flows(
    compiled: Any,
    sources: Sequence[Workload],
    destinations: Sequence[Workload],
    blocks: Sequence[tuple[Any, Sequence[int], Any]],
    *,
    scope_ns: str | None,
    egress: bool,
    ingress: bool,
) -> list[tuple[str, Workload, ExternalFlow]]:
    """("egress", source, flow) / ("ingress", destination, flow) for the per-pair output: on the run's ports, egress
    flows of the sources, ingress flows of each port's destinations (with -n NS: only pods of NS)."""
    from ..netpol.external import external_egress, external_ingress

    ports = [(key.port, key.protocol) for key, _idx, _b in blocks]
    out: list[tuple[str, Workload, ExternalFlow]] = []
    if egress:
        srcs = [w for w in sources if scope_ns is None or w.namespace == scope_ns]
        for f in external_egress(compiled, [compiled.peer(w) for w in srcs], ports):
            out.append(("egress", srcs[f.index], f))
    if ingress:
        members = {(key.port, key.protocol): set(idx) for key, idx, _b in blocks}
        chosen = [i for i, w in enumerate(destinations) if scope_ns is None or w.namespace == scope_ns]
        dsts = [destinations[i] for i in chosen]
        for f in external_ingress(compiled, [compiled.peer(w) for w in dsts], ports):
            if chosen[f.index] in members[(f.port, f.protocol)]:
                out.append(("ingress", dsts[f.index], f))
    return out


def _resolved(w: Workload, port: Any, protocol: str) -> int | None:
    if not isinstance(port, str):
        return None
    for cp in w.ports:
        if cp.name == port and cp.protocol.upper() == protocol:
            return int(cp.port)
    return None


def external_row(direction: str, w: Workload, f: ExternalFlow, name: Callable[[Workload], str]) -> dict[str, Any]:
    """One per-pair JSON row; the external end is ``ip:BLOCKS``, and the same addresses as data in ipBlocks."""
    row: dict[str, Any] = {
        "from": name(w) if direction == "egress" else f.ref,
        "to": f.ref if direction == "egress" else name(w),
        "port": f.port,
        "protocol": f.protocol,
        "allowed": f.allowed,
        "egress": {"allowed": f.egress},
        "ingress": {"allowed": f.ingress},
    }
    rp = _resolved(w, f.port, f.protocol) if direction == "ingress" else None
    if rp is not None:
        row["resolvedPort"] = rp
    row["ipBlocks"] = [b.to_dict() for b in f.blocks]
    return row


def external_json(run: Any, name: Callable[[Workload], str]) -> Iterator[bytes]:
    """The external rows of the per-pair JSON, one per line, in the same compact form as the pod rows."""
    for direction, w, f in run.external:
        yield json.dumps(external_row(direction, w, f, name), separators=(",", ":")).encode("ascii")


def print_external_table(run: Any, group: Callable[[Workload], str]) -> None:
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


def warn_if_big(run: Any) -> None:
    """Once, on stderr: a per-pair answer of more than about a million rows is for machines, not people."""
    total = 0
    for _key, dst_idx, _block in run.blocks:
        if run.scope_ns is None:
            total += len(run.sources) * len(dst_idx)
        else:
            in_ns = sum(1 for i in dst_idx if run.destinations[i].namespace == run.scope_ns)
            for s in run.sources:
                total += len(dst_idx) if s.namespace == run.scope_ns else in_ns
    total += len(run.external)
    if total > BIG_OUTPUT_ROWS:
        log.warn(f"about {total:,} per-pair rows; --compact gives the same connectivity as grouped rules")
