"""Connectivity of two snapshots compared: for every pair of workloads (and address ranges outside the cluster),
the ports allowed before and after, with the policies that made the difference. Pure: no I/O.

Each side is evaluated once by the compact engine's connectivity (pod equivalence classes x port classes, all
ports of every protocol) over one common population: the workloads of both sides matched by namespace/kind/name
(a renamed workload is a removal and an addition) and the address atoms cut at every ipBlock boundary of either
side. A workload's joint class is (its class before, its class after); pairs of joint classes are compared, never
pod pairs, and are expanded to pairs only on request (``FlowChange.pairs``). The grouped view reads the changes
back through the compact engine's rule cover (``compact_rules``), one relation per kind of change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .compact import (
    MAX_PORT,
    CompactRule,
    Connectivity,
    PortRange,
    PortSet,
    compact_rules,
    connectivity,
    describe_ports,
    normalize_ports,
)
from .compile import CompiledSnapshot
from .evaluate import evaluate_flow, selecting_policies
from .external import AddressAtom, address_atoms, blocks, node_addresses
from .model import Flow, Peer, PodPeer
from .paths import PathsResult
from .ranges import complement

ADDED, REMOVED, CHANGED, UNKNOWN = "added", "removed", "changed", "unknown"
# the grouped view's relations: new flows, flows gone, ports opened / closed on flows that stay
GROUPS = ("new", "removed", "opened", "closed")
MAX_EXPLAINED = 200  # removed flows explained with the NEW side's verdict (one evaluation each)


# --- port sets -----------------------------------------------------------------------------------------------


def _spans(ports: PortSet) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in ports:
        if r.name is None:
            out[r.protocol].append((r.first, r.last))
    return out


def subtract_ports(a: PortSet, b: PortSet) -> PortSet:
    """The ports of a that b does not have (numeric ranges, per protocol)."""
    if not b:
        return a
    have, minus = _spans(a), _spans(b)
    out: list[PortRange] = []
    for proto, spans in have.items():
        holes = complement(minus.get(proto, []), 1, MAX_PORT)
        for x, y in spans:
            for h0, h1 in holes:
                lo, hi = max(x, h0), min(y, h1)
                if lo <= hi:
                    out.append(PortRange(proto, lo, hi))
    out += [r for r in a if r.name is not None and r not in b]
    return normalize_ports(out)


def port_in(ports: PortSet, port: int, protocol: str) -> bool:
    return any(r.protocol == protocol and r.name is None and r.first <= port <= r.last for r in ports)


# --- one side ------------------------------------------------------------------------------------------------


def common_atoms(*sides: Sequence[AddressAtom]) -> list[AddressAtom]:
    """The coarsest atoms finer than each side's: cut wherever any side cuts."""
    cuts: dict[int, set[int]] = {4: set(), 6: set()}
    ends: dict[int, int] = {}
    for atoms in sides:
        for a in atoms:
            cuts[a.version].add(a.start)
            ends[a.version] = max(ends.get(a.version, 0), a.end)
    out: list[AddressAtom] = []
    for version in (4, 6):
        points = sorted(cuts[version])
        if not points:
            continue
        for first, nxt in zip(points, [*points[1:], ends[version] + 1], strict=True):
            out.append(AddressAtom(version, first, nxt - 1))
    return out


@dataclass
class SideFlows:
    """One side evaluated: the peers by key, the connectivity, and per (source class, destination class) the ports."""

    compiled: CompiledSnapshot
    peers: dict[str, Peer]
    index: dict[str, int]
    conn: Connectivity
    _ports: dict[int, tuple[dict[int, PortSet], dict[int, PortSet]]] = field(default_factory=dict)  # by row_key

    def class_of(self, key: str) -> int:
        i = self.index.get(key)
        return -1 if i is None else self.conn.result.source_class[i]

    def row_key(self, sc: int) -> int:
        """Source classes whose rows are equal share one row object in the connectivity (its memo): its id."""
        return -1 if sc < 0 else id(self.conn.allowed[sc])

    def row(self, sc: int) -> tuple[dict[int, PortSet], dict[int, PortSet]]:
        """(allowed, unknown) ports per destination class from source class sc (empty for a missing workload)."""
        if sc < 0:
            return {}, {}
        key = self.row_key(sc)
        row = self._ports.get(key)
        if row is None:
            row = self._ports[key] = (self._read(self.conn.allowed[sc]), self._read(self.conn.unknown[sc]))
        return row

    def _read(self, row: Mapping[int, int]) -> dict[int, PortSet]:
        acc: dict[int, list[PortRange]] = defaultdict(list)
        for cid, bits in row.items():
            ranges = self.conn.conns[cid]
            while bits:
                low = bits & -bits
                acc[low.bit_length() - 1].extend(ranges)
                bits ^= low
        return {dc: normalize_ports(rs) for dc, rs in acc.items()}


def side_flows(compiled: CompiledSnapshot, workloads: Sequence[Any], atoms: Sequence[AddressAtom]) -> SideFlows:
    """Every pod/workload of a side (snapshot Workloads) and the common atoms, all ports of every protocol."""
    peers: dict[str, Peer] = {}
    for w in workloads:
        peers[w.ref] = compiled.peer(w)
    for a in atoms:
        peers[a.peer.ref] = a.peer
    order = list(peers)
    conn = connectivity(compiled, [peers[k] for k in order], [peers[k] for k in order])
    return SideFlows(compiled, peers, {k: i for i, k in enumerate(order)}, conn)


def diff_atoms(
    old: CompiledSnapshot, new: CompiledSnapshot, old_workloads: Sequence[Any], new_workloads: Sequence[Any]
) -> list[AddressAtom]:
    """The address atoms of both sides (their ipBlock cuts and node addresses) refined into one list."""
    singles_old = node_addresses(old.peer(w) for w in old_workloads)
    singles_new = node_addresses(new.peer(w) for w in new_workloads)
    return common_atoms(address_atoms(old, singles_old), address_atoms(new, singles_new))


# --- the comparison ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowChange:
    """Every source in ``sources`` to every destination in ``destinations`` (a pod never to itself): the ports
    allowed before and after (and those whose verdict is unknown), the policies that made the difference and,
    for a flow removed or narrowed, why NEW denies it (as can-reach explains it)."""

    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    before: PortSet
    after: PortSet
    unknown_before: PortSet = ()
    unknown_after: PortSet = ()
    causes: tuple[str, ...] = ()
    explanation: str = ""
    external: str = ""  # "egress" (to addresses outside), "ingress" (from them), "" (pod to pod)

    @property
    def kind(self) -> str:
        if self.before == self.after:
            return UNKNOWN  # only which ports are unknown changed (a side could not read something)
        if not self.before:
            return ADDED
        if not self.after:
            return REMOVED
        return CHANGED

    @property
    def gained(self) -> PortSet:
        return subtract_ports(self.after, self.before)

    @property
    def lost(self) -> PortSet:
        return subtract_ports(self.before, self.after)

    def pairs(self) -> Iterator[tuple[str, str]]:
        for s in self.sources:
            for d in self.destinations:
                if s != d or not _is_pod_ref(s):
                    yield s, d

    @property
    def pair_count(self) -> int:
        n = len(self.sources) * len(self.destinations)
        if self.sources == self.destinations:
            n -= sum(1 for s in self.sources if _is_pod_ref(s))
        return n

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.kind,
            "from": list(self.sources),
            "to": list(self.destinations),
            "external": self.external or None,
            "pairs": self.pair_count,
            "before": describe_ports(self.before) if self.before else None,
            "after": describe_ports(self.after) if self.after else None,
            "portsAdded": [p.to_dict() for p in self.gained],
            "portsRemoved": [p.to_dict() for p in self.lost],
            "portsAddedText": describe_ports(self.gained) if self.gained else None,
            "portsRemovedText": describe_ports(self.lost) if self.lost else None,
            "unknownBefore": describe_ports(self.unknown_before) if self.unknown_before else None,
            "unknownAfter": describe_ports(self.unknown_after) if self.unknown_after else None,
            "causes": list(self.causes),
            "explanation": self.explanation or None,
        }


def _is_pod_ref(ref: str) -> bool:
    # NS/NAME is a Pod (loopback always allowed, never a flow); NS/kind/NAME a workload (pod to another of its pods)
    return not ref.startswith("ip:") and ref.count("/") == 1


@dataclass(frozen=True, slots=True)
class GroupedRule:
    """One rule of the grouped view: every pod matching FROM to every pod (or address) matching TO on ``rule``'s ports."""

    group: str  # one of GROUPS
    rule: CompactRule
    causes: tuple[str, ...]
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = self.rule.to_dict()
        out.pop("allowed", None)
        return {"group": self.group, **out, "causes": list(self.causes), "explanation": self.explanation or None}


@dataclass(frozen=True, slots=True)
class ConnectivityDiff:
    changes: tuple[FlowChange, ...]
    grouped: tuple[GroupedRule, ...]
    changed_policies: Mapping[str, str]  # "NP shop/api-in" -> added | removed | changed
    stats: Mapping[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {ADDED: 0, REMOVED: 0, CHANGED: 0, UNKNOWN: 0}
        for c in self.changes:
            out[c.kind] += c.pair_count
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": {**{f"{k}Pairs": v for k, v in self.counts().items()}, "changes": len(self.changes)},
            "policies": [{"policy": k, "change": v} for k, v in sorted(self.changed_policies.items())],
            "changes": [c.to_dict() for c in self.changes],
            "groups": [g.to_dict() for g in self.grouped],
        }


def _member_names(keys: Sequence[str], atoms: Mapping[str, AddressAtom]) -> tuple[str, ...]:
    """A joint class's members: pod/workload refs, and its addresses outside as ipBlocks ("ip: 10.0.0.0/8")."""
    pods = [k for k in keys if not k.startswith("ip:")]
    ext = [atoms[k] for k in keys if k.startswith("ip:")]
    out = sorted(pods)
    if ext:
        out.append("ip: " + ", ".join(b.describe() for b in blocks(ext)))
    return tuple(out)


def diff_connectivity(
    old: SideFlows,
    new: SideFlows,
    atoms: Sequence[AddressAtom],
    changed_policies: Mapping[str, str],
    changed_workloads: Mapping[str, str],
    *,
    explain: bool = True,
) -> ConnectivityDiff:
    """Compare two sides over their joint classes; changed_policies: policy label -> change (for the causes),
    changed_workloads: workload ref -> change (added / removed / changed labels, ports...)."""
    keys = sorted(set(old.index) | set(new.index))
    joint: dict[tuple[int, int], list[str]] = defaultdict(list)
    for k in keys:
        joint[(old.class_of(k), new.class_of(k))].append(k)
    classes = list(joint)
    by_atom = {a.peer.ref: a for a in atoms}
    names = [_member_names(joint[c], by_atom) for c in classes]
    changes: list[FlowChange] = []
    cells: list[tuple[int, int, FlowChange]] = []
    # the cells of one source row depend only on its two rows (old, new): compared once per distinct pair of rows
    row_diffs: dict[tuple[int, int], list[tuple[int, PortSet, PortSet, PortSet, PortSet]]] = {}
    dest_a = [da for da, _db in classes]
    dest_b = [db for _da, db in classes]
    for si, (sa, sb) in enumerate(classes):
        key = (old.row_key(sa), new.row_key(sb))
        diffs = row_diffs.get(key)
        if diffs is None:
            (ra, rua), (rb, rub) = old.row(sa), new.row(sb)
            diffs = []
            for di in range(len(classes)):
                da, db = dest_a[di], dest_b[di]
                before, after = ra.get(da, ()), rb.get(db, ())
                ub, ua = rua.get(da, ()), rub.get(db, ())
                if before != after or ub != ua:
                    diffs.append((di, before, after, ub, ua))
            row_diffs[key] = diffs
        if not diffs:
            continue
        src_keys = joint[(sa, sb)]
        src_ext = src_keys[0].startswith("ip:")
        for di, before, after, ub, ua in diffs:
            if si == di and len(src_keys) == 1 and _is_pod_ref(src_keys[0]):
                continue  # one Pod to itself: loopback, always allowed
            dst_keys = joint[classes[di]]
            ext = "ingress" if src_ext else ("egress" if dst_keys[0].startswith("ip:") else "")
            causes = _causes(old, new, src_keys[0], dst_keys[0], changed_policies, changed_workloads, src_keys, dst_keys)
            change = FlowChange(names[si], names[di], before, after, ub, ua, causes, external=ext)
            changes.append(change)
            cells.append((si, di, change))
    if explain:
        explained = 0
        for n, (si, di, change) in enumerate(cells):
            if change.lost and explained < MAX_EXPLAINED:
                text = _explain(new, joint[classes[si]][0], joint[classes[di]][0], change.lost)
                cells[n] = (si, di, _with(change, explanation=text))
                explained += 1
    changes = [c for _si, _di, c in cells]
    grouped = _grouped(old, new, classes, joint, cells, atoms)
    stats = {"jointClasses": len(classes), "classes": (len(old.conn.result.source_reps), len(new.conn.result.source_reps))}
    return ConnectivityDiff(tuple(changes), tuple(grouped), dict(changed_policies), stats)


def _with(change: FlowChange, **kw: Any) -> FlowChange:
    from dataclasses import replace

    return replace(change, **kw)


def _causes(
    old: SideFlows,
    new: SideFlows,
    src: str,
    dst: str,
    changed_policies: Mapping[str, str],
    changed_workloads: Mapping[str, str],
    src_keys: Sequence[str],
    dst_keys: Sequence[str],
) -> tuple[str, ...]:
    """The changed policies selecting the source (egress) or the destination (ingress) on either side, then the
    changed workloads at either end."""
    found: list[str] = []
    for side in (old, new):
        for key, direction in ((src, "egress"), (dst, "ingress")):
            peer = side.peers.get(key)
            if peer is None:
                continue
            for label in selecting_policies(side.compiled, direction, peer):  # type: ignore[arg-type]
                if label in changed_policies:
                    text = f"{label} ({changed_policies[label]})"
                    if text not in found:
                        found.append(text)
    for key in (*src_keys[:3], *dst_keys[:3]):
        what = changed_workloads.get(key)
        if what:
            text = f"{key} ({what})"
            if text not in found:
                found.append(text)
    for key in (src, dst):
        what = changed_workloads.get("namespace:" + key.split("/", 1)[0]) if not key.startswith("ip:") else None
        if what and what not in found:
            found.append(what)
    if not found and changed_policies:
        # no changed policy selects either end by the labels above (e.g. a Calico or Cilium policy, whose labels the
        # engines spell otherwise): the changed policies, said to be untraced rather than guessed
        found = [f"{label} ({what}; not traced to this flow)" for label, what in sorted(changed_policies.items())][:3]
    return tuple(found)


def _explain(new: SideFlows, src: str, dst: str, lost: PortSet) -> str:
    """Why NEW no longer allows the flow, on its first lost port (the reasons can-reach gives)."""
    s, d = new.peers.get(src), new.peers.get(dst)
    if s is None or d is None:
        gone = src if s is None else dst
        return f"{gone} is not in NEW"
    first = lost[0]
    verdict = evaluate_flow(new.compiled, Flow(s, d, first.first, first.protocol), explain=True)
    parts = []
    for dv in (verdict.egress, verdict.ingress):
        if dv.allowed is False:
            text = f"{dv.direction}: {dv.reason}"
            if dv.closest:
                text += f" (closest: {dv.closest[0].text})"
            parts.append(text)
        elif dv.allowed is None:
            parts.append(f"{dv.direction}: unknown ({dv.unknown_reason or dv.reason})")
    where = f"{first.first}/{first.protocol}"
    return f"on {where}: " + "; ".join(parts) if parts else f"on {where}: {verdict.status.lower()}"


def _grouped(
    old: SideFlows,
    new: SideFlows,
    classes: Sequence[tuple[int, int]],
    joint: Mapping[tuple[int, int], list[str]],
    cells: Sequence[tuple[int, int, FlowChange]],
    atoms: Sequence[AddressAtom],
) -> list[GroupedRule]:
    """Per kind of change and set of causes, the changed pairs as the compact engine's rules."""
    relations: dict[tuple[str, tuple[str, ...]], list[tuple[int, int, PortSet, str]]] = defaultdict(list)
    for si, di, c in cells:
        if c.kind == ADDED:
            relations[("new", c.causes)].append((si, di, c.after, ""))
        elif c.kind == REMOVED:
            relations[("removed", c.causes)].append((si, di, c.before, c.explanation))
        elif c.kind == CHANGED:
            if c.gained:
                relations[("opened", c.causes)].append((si, di, c.gained, ""))
            if c.lost:
                relations[("closed", c.causes)].append((si, di, c.lost, c.explanation))
    out: list[GroupedRule] = []
    for (group, causes), rows in sorted(relations.items(), key=lambda kv: (GROUPS.index(kv[0][0]), kv[0][1])):
        side = old if group == "removed" else new
        for rule in _rules(side, old if side is new else new, classes, joint, rows, atoms):
            expl = next((e for si, di, _p, e in rows if e), "")
            out.append(GroupedRule(group, rule, causes, expl))
    return out


def _rules(
    side: SideFlows,
    other: SideFlows,
    classes: Sequence[tuple[int, int]],
    joint: Mapping[tuple[int, int], list[str]],
    rows: Sequence[tuple[int, int, PortSet, str]],
    atoms: Sequence[AddressAtom],
) -> list[CompactRule]:
    """compact_rules over a relation of joint classes: a PathsResult whose classes are the joint ones."""
    peers: list[Peer] = []
    klass: list[int] = []
    reps: list[Peer] = []
    for c, cls in enumerate(classes):
        members = joint[cls]
        for k in members:
            peer = side.peers.get(k) or other.peers[k]
            peers.append(peer)
            klass.append(c)
        reps.append(side.peers.get(members[0]) or other.peers[members[0]])
    result = PathsResult(side.compiled, peers, peers, [])
    result.source_class, result.dest_class = klass, klass
    result.source_reps = result.dest_reps = reps
    conn_ids: dict[PortSet, int] = {}
    conns: list[PortSet] = []
    allowed: list[dict[int, int]] = [{} for _ in classes]
    for si, di, ports, _e in rows:
        cid = conn_ids.get(ports)
        if cid is None:
            cid = conn_ids[ports] = len(conns)
            conns.append(ports)
        allowed[si][cid] = allowed[si].get(cid, 0) | (1 << di)
    conn = Connectivity(result, [], allowed, [{} for _ in classes], conns)
    population = [p for p in side.peers.values() if isinstance(p, PodPeer)]
    return [r for r in compact_rules(conn, population, atoms).rules if r.allowed is True]


__all__ = [
    "ADDED", "CHANGED", "GROUPS", "REMOVED", "UNKNOWN", "ConnectivityDiff", "FlowChange", "GroupedRule", "SideFlows",
    "common_atoms", "diff_atoms", "diff_connectivity", "port_in", "side_flows", "subtract_ports",
]  # fmt: skip
