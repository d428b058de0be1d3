"""The report's namespace x namespace matrix: per (source namespace, destination namespace) the number of allowed
workload flows and that pair's compact rules. Pure.

One run of the compact engine over every workload of the snapshot (the same call as `paths -A --compact`), then:
- a cell's count is the number of ordered (source workload, destination workload) pairs, the source in the row's
  namespace and the destination in the column's, that are allowed on at least one port of any protocol (read off the
  engine's per-class bitsets; unknown verdicts are not counted). A workload to itself counts when its pods may reach
  each other (a bare Pod to itself is loopback and never counted). The "outside" row counts the workloads of a
  namespace that some address outside the cluster may reach; the "outside" column those that may reach some address;
- ``open`` counts the cell's flows into workloads open to all ingress: on some port, every pod and every address
  outside the cluster passes their ingress policies (no ingress policy selects them, or one allows everything);
- a cell's rules are the cluster-wide rules (`paths -A --compact`) that cover the pair, each restricted to it: a
  rule over namespaces A,B,C shown in the cell (A, X) reads ``A: selector``. Restricting loses nothing: every rule
  holds for every pod it names, so the restricted rules cover exactly the cell's pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..netpol.compact import CompactRule, Side, compact_paths, describe_ports

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.compile import CompiledSnapshot
    from ..netpol.paths import PathsResult

OUTSIDE = "outside"  # the row / column of addresses outside the cluster

# ("ns", name) or ("outside", ""): "outside" is also a valid namespace name, so a key says which it is
NsKey = tuple[str, str]


def key_text(key: NsKey) -> str:
    return key[1] if key[0] == "ns" else "outside the cluster"


@dataclass(frozen=True, slots=True)
class CellRule:
    source: str
    destination: str
    ports: str
    allowed: bool | None
    sides: tuple[Side, Side] = dataclasses.field(compare=False)  # the restricted sides the texts describe


@dataclass(frozen=True, slots=True)
class Cell:
    source: NsKey
    destination: NsKey
    flows: int
    open: int
    rules: tuple[CellRule, ...]


@dataclass(frozen=True, slots=True)
class NamespaceMatrix:
    rows: tuple[NsKey, ...]
    columns: tuple[NsKey, ...]
    cells: Mapping[tuple[NsKey, NsKey], Cell]
    open_workloads: Mapping[NsKey, int]  # per destination column: workloads open to all ingress

    def cell(self, source: NsKey, destination: NsKey) -> Cell | None:
        return self.cells.get((source, destination))


def namespace_matrix(
    compiled: CompiledSnapshot,
    workloads: Sequence[Workload],
    groups: Sequence[tuple[str, Sequence[Workload]]],
    scope: Sequence[str],
) -> NamespaceMatrix:
    """groups: (ref, pods) per workload (access.footholds.workload_groups)."""
    pods = sorted(workloads, key=lambda w: (w.namespace, w.name, w.kind))
    peers = [compiled.peer(w) for w in pods]
    compact = compact_paths(compiled, peers, peers, peers)
    conn = compact.connectivity
    assert conn is not None
    res = conn.result
    group_of: dict[int, int] = {}
    for gi, (_ref, members) in enumerate(groups):
        for w in members:
            group_of[id(w)] = gi
    # peer index -> group (pods) or -1 (an address outside the cluster)
    src_group = [group_of.get(id(pods[i]), -2) if i < len(pods) else -1 for i in range(len(res.sources))]
    dst_group = [group_of.get(id(pods[j]), -2) if j < len(pods) else -1 for j in range(len(res.destinations))]
    loopback_only = {gi for gi, (_r, ms) in enumerate(groups) if len(ms) == 1 and ms[0].kind == "Pod"}
    # per destination class: the groups in it (bitset), and whether an outside address is in it
    class_groups = [0] * len(res.dest_reps)
    class_outside = [False] * len(res.dest_reps)
    for j, dc in enumerate(res.dest_class):
        g = dst_group[j]
        if g >= 0:
            class_groups[dc] |= 1 << g
        elif g == -1:
            class_outside[dc] = True
    reach: dict[int, int] = {}  # source group -> destination groups bitset
    to_outside: set[int] = set()
    from_outside = 0
    row_cache: dict[int, tuple[int, bool]] = {}
    for i, sc in enumerate(res.source_class):
        hit = row_cache.get(sc)
        if hit is None:
            allowed_classes = 0
            for bits in conn.allowed[sc].values():
                allowed_classes |= bits
            mask, out = 0, False
            c = 0
            while allowed_classes:
                if allowed_classes & 1:
                    mask |= class_groups[c]
                    out = out or class_outside[c]
                allowed_classes >>= 1
                c += 1
            hit = row_cache[sc] = (mask, out)
        g = src_group[i]
        if g == -1:
            from_outside |= hit[0]
        elif g >= 0:
            own = 1 << g
            mask = hit[0] & ~own if g in loopback_only else hit[0]
            reach[g] = reach.get(g, 0) | mask
            if hit[1]:
                to_outside.add(g)
    in_scope = set(scope)
    ns_of = [members[0].namespace for _r, members in groups]
    present = set(ns_of)
    namespaces = [ns for ns in scope if ns in present]
    ns_mask: dict[str, int] = {}
    for gi, ns in enumerate(ns_of):
        ns_mask[ns] = ns_mask.get(ns, 0) | 1 << gi
    open_mask = 0
    for gi in _open_groups(res, dst_group):
        open_mask |= 1 << gi
    counts: dict[tuple[NsKey, NsKey], tuple[int, int]] = {}
    for g, mask in reach.items():
        a = ns_of[g]
        if a not in in_scope:
            continue
        for b in namespaces:
            m = mask & ns_mask[b]
            if m:
                key = (("ns", a), ("ns", b))
                n, o = counts.get(key, (0, 0))
                counts[key] = (n + m.bit_count(), o + (m & open_mask).bit_count())
        if g in to_outside:
            key = (("ns", a), (OUTSIDE, ""))
            n, o = counts.get(key, (0, 0))
            counts[key] = (n + 1, o)
    for b in namespaces:
        m = from_outside & ns_mask[b]
        if m:
            counts[((OUTSIDE, ""), ("ns", b))] = (m.bit_count(), (m & open_mask).bit_count())
    rules = _restricted_rules(compact.rules, set(namespaces))
    keys = sorted(set(counts) | set(rules), key=lambda k: (k[0][0] == OUTSIDE, k[0][1], k[1][0] == OUTSIDE, k[1][1]))
    cells = {k: Cell(k[0], k[1], *counts.get(k, (0, 0)), tuple(rules.get(k, ()))) for k in keys}
    has_out_row = any(k[0][0] == OUTSIDE for k in cells)
    has_out_col = any(k[1][0] == OUTSIDE for k in cells)
    ns_keys: list[NsKey] = [("ns", ns) for ns in namespaces]
    outside: list[NsKey] = [(OUTSIDE, "")]
    open_by_ns = {("ns", ns): (ns_mask[ns] & open_mask).bit_count() for ns in namespaces}
    return NamespaceMatrix(
        rows=tuple(ns_keys + (outside if has_out_row else [])),
        columns=tuple(ns_keys + (outside if has_out_col else [])),
        cells=cells,
        open_workloads=open_by_ns,
    )


def _open_groups(res: PathsResult, dst_group: Sequence[int]) -> set[int]:
    """Groups with a pod open to all ingress: on some port class, every source (every pod, every address outside)
    passes the pod's ingress policies (a verdict that depends on unreadable data does not count)."""
    every = (1 << len(res.dest_reps)) - 1
    open_classes = 0
    for k in range(len(res.ports)):
        cls = every
        for sc in range(len(res.source_reps)):
            cls &= res.ingress[k][sc] & ~res.ingress_unknown[k][sc]
            if not cls:
                break
        open_classes |= cls
    return {dst_group[j] for j, dc in enumerate(res.dest_class) if open_classes >> dc & 1 and dst_group[j] >= 0}


def _side_keys(side: Side, namespaces: set[str]) -> list[NsKey]:
    if side.kind == "ip":
        return [(OUTSIDE, "")]
    return [("ns", ns) for ns in side.namespaces if ns in namespaces]


def _restrict(side: Side, key: NsKey) -> Side:
    if side.kind != "pods":
        return side  # ip sides are the outside row/column; workload lists are one namespace's already
    return dataclasses.replace(side, namespaces=(key[1],), all_namespaces=False)


def _restricted_rules(rules: Sequence[CompactRule], namespaces: set[str]) -> dict[tuple[NsKey, NsKey], list[CellRule]]:
    out: dict[tuple[NsKey, NsKey], list[CellRule]] = {}
    ports_text: dict[Any, str] = {}
    for r in rules:
        ports = ports_text.get(r.ports)
        if ports is None:
            ports = ports_text[r.ports] = describe_ports(r.ports)
        for a in _side_keys(r.source, namespaces):
            src = _restrict(r.source, a)
            for b in _side_keys(r.destination, namespaces):
                dst = _restrict(r.destination, b)
                out.setdefault((a, b), []).append(CellRule(src.describe(), dst.describe(), ports, r.allowed, (src, dst)))
    return out


__all__ = ["OUTSIDE", "Cell", "CellRule", "NamespaceMatrix", "NsKey", "key_text", "namespace_matrix"]
