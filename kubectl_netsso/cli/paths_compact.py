"""What `paths` adds to its per-pair output, and its compact view: `--compact` rules (netpol/compact.py); per-pair
flows for addresses outside the cluster (netpol/external.py); the note that a per-pair answer is too big to read.
Only wiring here: output/ renders both (render_compact, render_paths in each format module).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_OK

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.external import ExternalFlow

# "about a million rows": past this a per-pair answer is for machines; people want the grouped rules
BIG_OUTPUT_ROWS = 1_000_000

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
    from ..output import render
    from ..output.results import CompactView

    render(CompactView(result, warnings), output, kind="compact")
    return EXIT_OK


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
