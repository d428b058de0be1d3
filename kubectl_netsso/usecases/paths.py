"""paths: every flow in scope (per pod pair on each port, or --compact as grouped rules), plus the flows to and from
addresses outside the cluster. The verdicts stay in the engine's class bitsets; renderers read them per pair."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_USAGE, NetssoError

if TYPE_CHECKING:
    from ..cluster.snapshot import Snapshot, Workload
    from ..netpol.compact import CompactResult
    from ..netpol.compile import CompiledSnapshot
    from ..netpol.endpoints import Endpoint
    from ..netpol.external import ExternalFlow
    from ..netpol.model import Direction, Verdict
    from ..netpol.paths import PathsResult
    from .source import Source

# "about a million rows": past this a per-pair answer is for machines; people want the grouped rules
BIG_OUTPUT_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class PathsInput:
    from_text: str | None = None
    to_text: str | None = None
    port_text: str | None = None
    protocol: str | None = None  # None: TCP with a port, else every declared protocol
    ipblock_pods: str | None = None  # None: what the CNI does (match; ignore under Cilium)
    compact: bool = False
    external: bool = True  # also the flows to and from addresses outside the cluster


@dataclass(frozen=True, slots=True)
class PortKey:
    port: int | str | None
    protocol: str

    @property
    def text(self) -> str:
        return f"{'any' if self.port is None else self.port}/{self.protocol}"


def resolved_port(w: Workload, port: int | str | None, protocol: str) -> int | None:
    """A named port's number on a destination ("resolved on the destination pod by name and protocol")."""
    from ..netpol.ports import resolve_named

    return resolve_named(port, protocol, w.ports) if isinstance(port, str) else None


class PathsBlock:
    """One port/protocol of a paths run over the engine's PathsResult (class bitsets), with pair lookups."""

    def __init__(self, result: PathsResult, sources: Sequence[Workload], destinations: Sequence[Workload]) -> None:
        self.result = result
        self.sources = sources
        self.destinations = destinations
        self._sel: dict[tuple[str, int], tuple[str, ...]] = {}

    def allowed(self, i: int, j: int) -> bool | None:
        return self.result.allowed(0, i, j)

    def directions(self, i: int, j: int) -> tuple[bool | None, bool | None]:
        return self.result.direction(0, i, j)

    def evidence(self, i: int, j: int) -> Verdict:
        return self.result.evidence(0, i, j, explain=False)

    def resolved_port(self, j: int, port: int | str | None, protocol: str) -> int | None:
        return resolved_port(self.destinations[j], port, protocol)

    @staticmethod
    def index_of(dest_index: int, dst_idx: Sequence[int]) -> int | None:
        """Position of run destination dest_index inside a block's destination list (sorted ascending)."""
        k = bisect_left(dst_idx, dest_index)
        return k if k < len(dst_idx) and dst_idx[k] == dest_index else None

    def selecting(self, direction: Direction, index: int) -> tuple[str, ...]:
        """Policies selecting source i (egress) or destination j (ingress): per class, from one representative."""
        res = self.result
        cls = res.source_class[index] if direction == "egress" else res.dest_class[index]
        key = (direction, cls)
        if key not in self._sel:
            self._sel[key] = tuple(res.selecting(direction, cls))
        return self._sel[key]


# (direction, workload, flow): "egress" from a pod to addresses outside, or "ingress" into one
External = tuple[str, "Workload", "ExternalFlow"]
Block = tuple[PortKey, list[int], PathsBlock]  # (port, destination indexes, verdicts)


@dataclass(frozen=True, slots=True)
class PathsRun:
    """Everything the per-pair renderers need: the pods/workloads in scope and a verdict per (source, destination,
    port)."""

    sources: list[Workload]
    destinations: list[Workload]
    blocks: list[Block]
    scope_ns: str | None  # -n NS: only flows into or out of NS
    warnings: list[str]
    external: list[External]  # flows to and from addresses outside the cluster

    def in_scope(self, a: Workload, b: Workload) -> bool:
        return self.scope_ns is None or a.namespace == self.scope_ns or b.namespace == self.scope_ns

    def row_count(self) -> int:
        total = 0
        for _key, dst_idx, _block in self.blocks:
            if self.scope_ns is None:
                total += len(self.sources) * len(dst_idx)
            else:
                in_ns = sum(1 for i in dst_idx if self.destinations[i].namespace == self.scope_ns)
                for s in self.sources:
                    total += len(dst_idx) if s.namespace == self.scope_ns else in_ns
        return total + len(self.external)

    @property
    def size_warning(self) -> str | None:
        """A per-pair answer of more than about a million rows is for machines, not people (said once, on stderr)."""
        total = self.row_count()
        if total > BIG_OUTPUT_ROWS:
            return f"about {total:,} per-pair rows; --compact gives the same connectivity as grouped rules"
        return None


@dataclass(frozen=True, slots=True)
class CompactPaths:
    """--compact: the allowed connectivity as grouped rules."""

    result: CompactResult
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "warnings": self.warnings}



def _in_cluster(snap: Snapshot, text: str, namespace: str, role: str) -> Endpoint:
    """--from/--to resolved; paths lists pod-to-pod flows, so an address outside the cluster is a usage error."""
    from ..netpol import endpoints

    end = endpoints.resolve_endpoint(snap, text, namespace, role=role)
    if end.is_external:
        flag = "--from" if role == "source" else "--to"
        raise NetssoError(
            f"{flag} must be in the cluster: paths lists pod-to-pod flows",
            hint="use can-reach for ip: endpoints",
            exit_code=EXIT_USAGE,
        )
    return end


def run(inp: PathsInput, source: Source) -> PathsRun | CompactPaths:
    from ..netpol import endpoints

    port = endpoints.parse_port(inp.port_text)
    proto = inp.protocol.upper() if inp.protocol else ("TCP" if port is not None else None)
    loaded = source.load({"network"}, lambda _ns: None, cni=True)  # flows into NS come from everywhere: read all
    snap = loaded.snapshot
    scope_ns = None if source.kube.all_namespaces else loaded.namespace
    compiled = source.compile(loaded, inp.ipblock_pods)
    warnings = loaded.warnings(list(compiled.warnings) or None)
    pods = sorted(snap.workloads, key=lambda w: (w.namespace, w.name, w.kind))
    sources = pods
    destinations = pods
    if inp.from_text:
        src = _in_cluster(snap, inp.from_text, loaded.namespace, "source")
        keep = {id(w) for w in src.workloads}
        sources = [w for w in pods if id(w) in keep]
    if inp.to_text:
        dst = _in_cluster(snap, inp.to_text, loaded.namespace, "destination")
        keep = {id(w) for w in dst.workloads}
        if dst.service is not None and port is not None:
            # as in can-reach, --port with a Service is the Service port: evaluate its targetPort (a name is resolved
            # on each backing pod); pods without a named targetPort are not endpoints of it
            tgts, sp = endpoints.targets(dst, port, proto)
            assert sp is not None
            port = endpoints.policy_port(sp)
            proto = sp.protocol.upper()
            keep = {id(t.workload) for t in tgts if t.problem is None} or keep
            named = f" ({sp.name})" if sp.name else ""
            log.info(f"{dst.ref} port {sp.port}/{proto}{named} -> targetPort {sp.target_port}")
        destinations = [w for w in pods if id(w) in keep]
    if scope_ns is not None and not any(w.namespace == scope_ns for w in pods) and snap.namespace(scope_ns) is None:
        raise NetssoError(f"namespace {scope_ns} not found", hint="use -A for all namespaces, or -n NS")
    if isinstance(port, str) and not any(
        cp.name == port and cp.protocol.upper() == (proto or "TCP") for w in destinations for cp in w.ports
    ):
        # a typo (--port htpp) would otherwise give a silent table of denied (or, unisolated, "allowed") flows
        warnings.append(f"named port {port} ({proto or 'TCP'}) is not a container port of any destination in scope")
    if inp.compact:
        return CompactPaths(
            _compact(
                compiled, pods, sources, destinations, port=port, protocol=proto, scope_ns=scope_ns,
                external_sources=inp.external and not inp.from_text, external_destinations=inp.external and not inp.to_text,
            ),
            warnings,
        )  # fmt: skip
    rows_from = sources
    if scope_ns is not None:
        # -n NS: "flows into and out of that namespace"; rows only for sources with a flow in scope
        into_ns = any(d.namespace == scope_ns for d in destinations)
        rows_from = [w for w in sources if w.namespace == scope_ns or into_ns]
    blocks: list[Block] = []
    for key, dst_idx in port_blocks(destinations, port, proto):
        dsts = [destinations[i] for i in dst_idx]
        blocks.append((key, dst_idx, compute_block(compiled, rows_from, dsts, key.port, key.protocol)))
    external: list[External] = []
    if inp.external:
        external = external_flows(
            compiled, sources, destinations, blocks, scope_ns=scope_ns, egress=not inp.to_text, ingress=not inp.from_text
        )
    return PathsRun(rows_from, destinations, blocks, scope_ns, warnings, external)


def _compact(
    compiled: CompiledSnapshot,
    population: Sequence[Workload],
    sources: Sequence[Workload],
    destinations: Sequence[Workload],
    *,
    port: int | str | None,
    protocol: str | None,
    scope_ns: str | None,
    external_sources: bool,
    external_destinations: bool,
) -> CompactResult:
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
    return result


def port_blocks(
    destinations: Sequence[Workload], port: int | str | None, protocol: str | None
) -> list[tuple[PortKey, list[int]]]:
    """(port/protocol, destination indexes) to evaluate: --port -> every destination; else each declared port."""
    if port is not None:
        return [(PortKey(port, protocol or "TCP"), list(range(len(destinations))))]
    by_key: dict[tuple[int, str], list[int]] = {}
    for i, w in enumerate(destinations):
        for cp in w.ports:
            proto = cp.protocol.upper()
            if protocol and proto != protocol:
                continue
            idx = by_key.setdefault((cp.port, proto), [])
            if not idx or idx[-1] != i:
                idx.append(i)
    return [(PortKey(p, pr), idx) for (p, pr), idx in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def compute_block(
    compiled: CompiledSnapshot,
    sources: Sequence[Workload],
    destinations: Sequence[Workload],
    port: int | str | None,
    protocol: str,
) -> PathsBlock:
    from ..netpol.paths import compute_paths

    result = compute_paths(
        compiled, [compiled.peer(w) for w in sources], [compiled.peer(w) for w in destinations], [(port, protocol)]
    )
    return PathsBlock(result, sources, destinations)


def external_flows(
    compiled: CompiledSnapshot,
    sources: Sequence[Workload],
    destinations: Sequence[Workload],
    blocks: Sequence[Block],
    *,
    scope_ns: str | None,
    egress: bool,
    ingress: bool,
) -> list[External]:
    """("egress", source, flow) / ("ingress", destination, flow) for the per-pair output: on the run's ports, egress
    flows of the sources, ingress flows of each port's destinations (with -n NS: only pods of NS)."""
    from ..netpol.external import external_egress, external_ingress

    ports = [(key.port, key.protocol) for key, _idx, _b in blocks]
    out: list[External] = []
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


__all__ = ["BIG_OUTPUT_ROWS", "CompactPaths", "PathsBlock", "PathsInput", "PathsRun", "PortKey", "resolved_port", "run"]
