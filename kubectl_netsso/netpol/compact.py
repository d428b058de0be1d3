"""All connectivity on all ports as a short list of grouped rules: from (namespaces x pod selector, named
workloads, or IP ranges) -> to (the same) : protocol and port ranges. Pure: no I/O.

How it stays exact and fast:
- ports: every protocol's 1-65535 is cut wherever a policy port, endPort or a destination's container port (named
  ports) starts or ends; cuts on which every rule matches the same destinations are merged, so the paths engine
  (netpol/paths.py) evaluates one representative port per distinct behaviour, never 65,535 ports;
- addresses outside the cluster: cut the same way at every ipBlock / networks boundary (netpol/external.py);
- rules are read off the engine's per-class bitsets (rows of destination classes per source class and port), never
  expanded to pod pairs. Per connection set, whole namespace x namespace blocks come first, then rows grouped by
  their destination set; a rule for ports P may also cover pairs allowed on more than P (rules add up, as policies
  do), which keeps selectors short; rules with the same ends are merged (ports added up), and so are rules that
  differ only in their namespace lists.
A rule reads: every pod matching FROM may open a connection to every pod (or address) matching TO on PORTS. A
pair's allowed ports are the union of the rules that cover it; pairs no rule covers are denied. Pairs whose verdict
depends on data the source could not read get separate rules with allowed=None (unknown), never merged into the
allowed ones. A pod to itself is always allowed and not listed.

Long because: port cuts, rule cover (_cover) and rule merging (_merge_rules) are the steps above of one
algorithm over private per-class tables (_Describer); split, those tables would become an interface.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .compile import CompiledPolicy, CompiledSnapshot
from .external import AddressAtom, IpBlockText, address_atoms, blocks, node_addresses
from .match import dest_ports_of, ports_match
from .model import PROTOCOLS, ExternalPeer, Peer, PodPeer
from .paths import PathsResult, compute_paths
from .ports import make_request
from .ranges import complement
from .selectors import EMPTY, LabelSelector, Requirement

MAX_PORT = 65535


# --- records ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortRange:
    """first..last of one protocol, or a named port (resolved on each destination pod) when name is set."""

    protocol: str
    first: int = 1
    last: int = MAX_PORT
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.name is not None:
            return {"protocol": self.protocol, "port": self.name}
        if self.first == self.last:
            return {"protocol": self.protocol, "port": self.first}
        return {"protocol": self.protocol, "port": self.first, "endPort": self.last}


PortSet = tuple[PortRange, ...]


def _proto_order(protocol: str) -> int:
    return PROTOCOLS.index(protocol) if protocol in PROTOCOLS else len(PROTOCOLS)


def normalize_ports(ranges: Iterable[PortRange]) -> PortSet:
    """Sorted by protocol then port, overlapping and adjacent numeric ranges merged."""
    numeric: dict[str, list[tuple[int, int]]] = defaultdict(list)
    named: set[tuple[str, str]] = set()
    for r in ranges:
        if r.name is not None:
            named.add((r.protocol, r.name))
        else:
            numeric[r.protocol].append((r.first, r.last))
    out: list[PortRange] = []
    for proto in sorted(set(numeric) | {p for p, _ in named}, key=_proto_order):
        merged: list[list[int]] = []
        for a, b in sorted(numeric.get(proto, ())):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out.extend(PortRange(proto, a, b) for a, b in merged)
        out.extend(PortRange(proto, name=n) for p, n in sorted(named) if p == proto)
    return tuple(out)


def describe_ports(ports: PortSet) -> str:
    """``TCP 80,8000-8100; UDP 53``; a whole protocol is ``TCP all``, mostly-open ``TCP all but 5432``; every
    port of every protocol is ``all``."""
    by_proto: dict[str, list[PortRange]] = defaultdict(list)
    for r in ports:
        by_proto[r.protocol].append(r)
    full = {p for p, rs in by_proto.items() if any(r.name is None and r.first == 1 and r.last == MAX_PORT for r in rs)}
    if full == set(PROTOCOLS):
        return "all"
    parts = []
    for proto in sorted(by_proto, key=_proto_order):
        rs = by_proto[proto]
        nums = [(r.first, r.last) for r in rs if r.name is None]
        names = [r.name for r in rs if r.name is not None]
        if proto in full:
            parts.append(f"{proto} all")
            continue
        holes = complement(nums, 1, MAX_PORT)
        if nums and len(holes) < len(nums) and not names:
            parts.append(f"{proto} all but {_ranges_text(holes)}")
        else:
            parts.append(f"{proto} {','.join(filter(None, [_ranges_text(nums), *names]))}")
    return "; ".join(parts)


def _ranges_text(ranges: Sequence[tuple[int, int]]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


@dataclass(frozen=True, slots=True)
class Side:
    """One end of a rule.

    kind "pods": pods in ``namespaces`` whose labels match ``selector`` (the empty selector: every pod there);
    kind "workloads": exactly the listed pods/workloads (``NS/NAME`` or ``NS/kind/NAME``) when no label selector
    singles them out; kind "ip": addresses outside the cluster, as ipBlocks. ``all_namespaces`` says the namespace
    list is every namespace that has pods (shown as ``*``).
    """

    kind: str
    namespaces: tuple[str, ...] = ()
    selector: LabelSelector = EMPTY
    workloads: tuple[str, ...] = ()
    ip_blocks: tuple[IpBlockText, ...] = ()
    all_namespaces: bool = False
    atoms: frozenset[AddressAtom] = field(default=frozenset(), compare=False)

    def describe(self) -> str:
        if self.kind == "ip":
            return "ip: " + ", ".join(b.describe() for b in self.ip_blocks)
        if self.kind == "workloads":
            return ", ".join(self.workloads)
        where = "*" if self.all_namespaces and len(self.namespaces) > 1 else ",".join(self.namespaces)
        return f"{where}: {selector_text(self.selector)}"

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "ip":
            return {"ipBlocks": [b.to_dict() for b in self.ip_blocks], "text": self.describe()}
        if self.kind == "workloads":
            return {"namespaces": list(self.namespaces), "workloads": list(self.workloads), "text": self.describe()}
        return {"namespaces": list(self.namespaces), "podSelector": selector_dict(self.selector), "text": self.describe()}


def selector_text(sel: LabelSelector) -> str:
    return "*" if sel.is_empty else sel.describe()


def selector_dict(sel: LabelSelector) -> dict[str, Any]:
    """As a metav1.LabelSelector: single-value In as matchLabels, the rest as matchExpressions ({} = every pod)."""
    labels = {r.key: r.values[0] for r in sel.requirements if r.operator == "In" and len(r.values) == 1}
    exprs = [
        {"key": r.key, "operator": r.operator, **({"values": list(r.values)} if r.operator in ("In", "NotIn") else {})}
        for r in sel.requirements
        if not (r.operator == "In" and len(r.values) == 1)
    ]
    out: dict[str, Any] = {}
    if labels:
        out["matchLabels"] = labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


@dataclass(frozen=True, slots=True)
class CompactRule:
    """FROM may reach TO on ports (allowed True), or may or may not (allowed None: depends on unreadable data)."""

    source: Side
    destination: Side
    ports: PortSet
    allowed: bool | None = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source.to_dict(),
            "to": self.destination.to_dict(),
            "ports": [p.to_dict() for p in self.ports],
            "portsText": describe_ports(self.ports),
            "allowed": self.allowed,
        }


@dataclass(frozen=True, slots=True)
class CompactResult:
    """The rules (allowed first, then unknown), and what they were computed from (``connectivity``: per source
    class, the allowed destination classes, for callers that also count pairs)."""

    rules: tuple[CompactRule, ...]
    stats: Mapping[str, Any] = field(default_factory=dict)
    connectivity: Connectivity | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [r.to_dict() for r in self.rules]}


# --- the port dimension ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortClass:
    """Ports on which every rule of every policy matches the same destinations: one evaluation stands for all."""

    protocol: str
    representative: int | str
    ranges: PortSet


def _policies(compiled: CompiledSnapshot) -> list[CompiledPolicy]:
    out: list[CompiledPolicy] = [p for ps in compiled.network_policies.values() for p in ps]
    out += list(compiled.admin_policies)
    if compiled.baseline is not None:
        out.append(compiled.baseline)
    return out


def port_classes(
    compiled: CompiledSnapshot, destinations: Sequence[Peer], protocols: Sequence[str] = PROTOCOLS, port: int | None = None
) -> list[PortClass]:
    """Every port of the protocols (or only ``port``) grouped into classes of identical behaviour."""
    rules = [r for p in _policies(compiled) for rs in (p.ingress or (), p.egress or ()) for r in rs if not r.all_ports]
    distinct = list({r.ports: r for r in rules}.values())  # rules with equal port lists match alike
    groups = list({dest_ports_of(d): None for d in destinations})
    out: list[PortClass] = []
    for protocol in protocols:
        if port is not None:
            out.append(PortClass(protocol, port, (PortRange(protocol, port, port),)))
            continue
        cuts = {1}
        for r in distinct:
            for m in r.ports:
                if m.protocol in (protocol, "*") and isinstance(m.port, int):
                    cuts.add(m.port)
                    cuts.add((m.end_port if m.end_port is not None else m.port) + 1)
        for dp in groups:
            for cp in dp or ():
                if cp.protocol.upper() == protocol:  # where a named port resolves
                    cuts.add(cp.port)
                    cuts.add(cp.port + 1)
            cuts |= compiled.cni_port_cuts(protocol, dp)  # Calico's port ranges and named ports
        points = sorted(c for c in cuts if 1 <= c <= MAX_PORT) + [MAX_PORT + 1]
        by_signature: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
        for a, b in zip(points, points[1:], strict=False):
            signature = tuple(
                frozenset(i for i, dp in enumerate(groups) if ports_match(r, make_request(a, protocol, dp), dp)) for r in distinct
            ) + compiled.cni_port_signature(protocol, a, groups)
            by_signature.setdefault(signature, []).append((a, b - 1))
        for spans in by_signature.values():
            out.append(PortClass(protocol, spans[0][0], normalize_ports(PortRange(protocol, a, b) for a, b in spans)))
    return out


# --- connectivity ------------------------------------------------------------------------------------------------


@dataclass
class Connectivity:
    """Per source class: {port set: destination-class bitset} of allowed pairs, and the same for unknown pairs."""

    result: PathsResult
    port_classes: list[PortClass]
    allowed: list[dict[int, int]]
    unknown: list[dict[int, int]]
    conns: list[PortSet]


def connectivity(
    compiled: CompiledSnapshot,
    sources: Sequence[Peer],
    destinations: Sequence[Peer],
    *,
    protocols: Sequence[str] = PROTOCOLS,
    port: int | str | None = None,
    scope_ns: str | None = None,
) -> Connectivity:
    """Evaluate every port class with the paths engine and read each source class's row into port sets.

    scope_ns: only pairs with an end in that namespace. Pairs of two external addresses are never flows.
    """
    if isinstance(port, str):
        # a named port: one evaluation, the port shown by name (it resolves on each destination)
        classes = [PortClass(p, port, (PortRange(p, name=port),)) for p in protocols]
    else:
        classes = port_classes(compiled, destinations, protocols, port)
    result = compute_paths(compiled, sources, destinations, [(c.representative, c.protocol) for c in classes])
    n_dst = len(result.dest_reps)
    dst_all = (1 << n_dst) - 1
    dst_ext = 0
    dst_in_ns = 0
    for j, rep in enumerate(result.dest_reps):
        if isinstance(rep, ExternalPeer):
            dst_ext |= 1 << j
        elif rep.namespace == scope_ns:
            dst_in_ns |= 1 << j
    conn_ids: dict[frozenset[int], int] = {}
    conns: list[PortSet] = []

    def conn_of(ks: frozenset[int]) -> int:
        cid = conn_ids.get(ks)
        if cid is None:
            cid = conn_ids[ks] = len(conns)
            conns.append(normalize_ports(r for k in ks for r in classes[k].ranges))
        return cid

    allowed: list[dict[int, int]] = []
    unknown: list[dict[int, int]] = []
    memo: dict[tuple[int, ...], tuple[dict[int, int], dict[int, int]]] = {}
    for s, rep in enumerate(result.source_reps):
        mask = dst_all
        if isinstance(rep, ExternalPeer):
            mask &= ~dst_ext
        if scope_ns is not None and (isinstance(rep, ExternalPeer) or rep.namespace != scope_ns):
            mask &= dst_in_ns
        key = (mask, *(result.matrix[k][s] for k in range(len(classes))), *(result.unknown[k][s] for k in range(len(classes))))
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = _split_row(result, s, mask, len(classes), conn_of)
        allowed.append(hit[0])
        unknown.append(hit[1])
    return Connectivity(result, classes, allowed, unknown, conns)


def _split_row(result: PathsResult, s: int, mask: int, n: int, conn_of: Any) -> tuple[dict[int, int], dict[int, int]]:
    """Partition one row's destination classes by (allowed port classes, unknown port classes)."""
    parts: list[tuple[int, frozenset[int], frozenset[int]]] = [(mask, frozenset(), frozenset())]
    for k in range(n):
        a_bits, u_bits = result.matrix[k][s], result.unknown[k][s]
        if not (a_bits | u_bits) & mask:
            continue
        nxt = []
        for bits, ak, uk in parts:
            a, u = bits & a_bits, bits & u_bits
            rest = bits & ~(a_bits | u_bits)
            if a:
                nxt.append((a, ak | {k}, uk))
            if u:
                nxt.append((u, ak, uk | {k}))
            if rest:
                nxt.append((rest, ak, uk))
        parts = nxt
    allowed: dict[int, int] = defaultdict(int)
    unknown: dict[int, int] = defaultdict(int)
    for bits, ak, uk in parts:
        if ak:
            allowed[conn_of(ak)] |= bits
        if uk:
            unknown[conn_of(uk)] |= bits
    return dict(allowed), dict(unknown)


# --- describing sets of classes ----------------------------------------------------------------------------------


def _bits(x: int) -> Iterator[int]:
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


class _Describer:
    """Turns a set of classes of one side into Sides: per namespace the shortest exact label selector over every
    pod of that namespace in the cluster (the population), else the workloads by name; addresses as ipBlocks."""

    def __init__(
        self,
        reps: Sequence[Peer],
        members: Sequence[list[Peer]],
        population: Sequence[PodPeer],
        atoms: Mapping[str, AddressAtom],
    ) -> None:
        self.reps = reps
        self.atoms = atoms
        self.members = members
        self.by_ns: dict[str, list[PodPeer]] = defaultdict(list)
        for p in population:
            self.by_ns[p.namespace].append(p)
        self.all_ns = frozenset(self.by_ns)
        self.index = {ns: {id(p): i for i, p in enumerate(ps)} for ns, ps in self.by_ns.items()}
        self.ref_index = {ns: {p.ref: i for i, p in enumerate(ps)} for ns, ps in self.by_ns.items()}
        self._sel: dict[tuple[str, int], LabelSelector | None] = {}
        self._sides: dict[int, tuple[Side, ...]] = {}
        self.ns_mask: dict[str | None, int] = defaultdict(int)
        for c, rep in enumerate(reps):
            self.ns_mask[None if isinstance(rep, ExternalPeer) else rep.namespace] |= 1 << c

    def namespace_of(self, c: int) -> str | None:
        rep = self.reps[c]
        return None if isinstance(rep, ExternalPeer) else rep.namespace

    def sides(self, classes: int) -> tuple[Side, ...]:
        hit = self._sides.get(classes)
        if hit is not None:
            return hit
        per_ns: dict[str | None, list[int]] = defaultdict(list)
        for c in _bits(classes):
            per_ns[self.namespace_of(c)].append(c)
        by_selector: dict[LabelSelector, list[str]] = defaultdict(list)
        out: list[Side] = []
        for ns, cs in per_ns.items():
            if ns is None:
                atoms = frozenset(self.atoms[self.reps[c].ip] for c in cs)  # type: ignore[union-attr]
                out.append(Side("ip", ip_blocks=blocks(atoms), atoms=atoms))
                continue
            sel = self._selector(ns, cs)
            if sel is None:
                refs = sorted({m.ref for c in cs for m in self.members[c]})
                out.append(Side("workloads", (ns,), workloads=tuple(refs)))
            else:
                by_selector[sel].append(ns)
        for sel, nss in by_selector.items():
            out.append(self.pods_side(nss, sel))
        result = tuple(out)
        self._sides[classes] = result
        return result

    def pods_side(self, namespaces: Iterable[str], sel: LabelSelector) -> Side:
        nss = tuple(sorted(set(namespaces)))
        return Side("pods", nss, sel, all_namespaces=frozenset(nss) == self.all_ns)

    def _selector(self, ns: str, cs: list[int]) -> LabelSelector | None:
        pop = self.by_ns.get(ns, [])
        idx, by_ref = self.index.get(ns, {}), self.ref_index.get(ns, {})
        want = 0
        for c in cs:
            for m in self.members[c]:
                i = idx.get(id(m))
                if i is None:
                    i = by_ref.get(m.ref)
                if i is None:  # not in the population: only a list can name it
                    return None
                want |= 1 << i
        key = (ns, want)
        if key not in self._sel:
            self._sel[key] = exact_selector(pop, want)
        return self._sel[key]


def exact_selector(population: Sequence[PodPeer], want: int, max_terms: int = 3) -> LabelSelector | None:
    """The shortest label selector (greedy, up to max_terms requirements) that matches exactly the pods whose
    bits are in ``want`` among ``population``; None when labels cannot tell them apart."""
    everyone = (1 << len(population)) - 1
    if want == everyone:
        return EMPTY
    keys = sorted({k for p in population for k in p.labels})
    candidates: list[tuple[Requirement, int]] = []
    for k in keys:
        inside = {p.labels.get(k) for i, p in enumerate(population) if want >> i & 1}
        outside = {p.labels.get(k) for i, p in enumerate(population) if not want >> i & 1}
        if None not in inside:
            vals = tuple(sorted(v for v in inside if v is not None))
            candidates.append((Requirement(k, "In", vals), _mask(population, lambda lb, k=k, v=vals: lb.get(k) in v)))
            if None in outside:
                candidates.append((Requirement(k, "Exists"), _mask(population, lambda lb, k=k: k in lb)))
        elif inside == {None}:
            candidates.append((Requirement(k, "DoesNotExist"), _mask(population, lambda lb, k=k: k not in lb)))
        excluded = tuple(sorted(v for v in outside - inside if v is not None))
        if excluded:
            candidates.append(
                (Requirement(k, "NotIn", excluded), _mask(population, lambda lb, k=k, v=excluded: lb.get(k) not in v))
            )
    cur = everyone
    chosen: list[Requirement] = []
    while cur != want and len(chosen) < max_terms:
        best: tuple[int, float, int, str, Requirement, int] | None = None
        for req, m in candidates:
            left = (cur & m).bit_count()
            # fewest pods left, then the shortest term: one value (tier=backend) reads better than a bare key (tier),
            # which reads better than two values; positive before negative (role=web rather than app!=db)
            score = (left, len(req.values) or 1.5, _OPERATOR_RANK[req.operator], req.describe(), req, m)
            if (cur & m) != cur and (best is None or score[:4] < best[:4]):
                best = score
        if best is None:
            return None
        chosen.append(best[4])
        cur &= best[5]
    if cur != want:
        return None
    return LabelSelector(tuple(sorted(chosen, key=lambda r: (r.key, r.operator))))


_OPERATOR_RANK = {"In": 0, "Exists": 1, "NotIn": 2, "DoesNotExist": 3}


def _mask(population: Sequence[PodPeer], pred: Any) -> int:
    out = 0
    for i, p in enumerate(population):
        if pred(p.labels):
            out |= 1 << i
    return out


# --- rules -------------------------------------------------------------------------------------------------------


def compact_rules(conn: Connectivity, population: Sequence[PodPeer], atoms: Sequence[AddressAtom] = ()) -> CompactResult:
    """The grouped rules of a Connectivity (see the module docstring for the method)."""
    res = conn.result
    src_members: list[list[Peer]] = [[] for _ in res.source_reps]
    for i, c in enumerate(res.source_class):
        src_members[c].append(res.sources[i])
    dst_members: list[list[Peer]] = [[] for _ in res.dest_reps]
    for j, c in enumerate(res.dest_class):
        dst_members[c].append(res.destinations[j])
    by_ip = {a.peer.ip: a for a in atoms}
    for peer in (*res.source_reps, *res.dest_reps):
        if isinstance(peer, ExternalPeer) and peer.ip not in by_ip:
            raise ValueError(f"external peer {peer.ip} is not an address atom")
    src_d = _Describer(res.source_reps, src_members, population, by_ip)
    dst_d = src_d if res.source_reps is res.dest_reps else _Describer(res.dest_reps, dst_members, population, by_ip)
    # A class of one Pod paired with itself is only that pod's loopback: always allowed, so any rule may cover it.
    loop: dict[int, int] = {}
    if res.source_reps is res.dest_reps:
        for c, ms in enumerate(src_members):
            if (
                len(ms) == 1
                and isinstance(ms[0], PodPeer)
                and ms[0].kind == "Pod"
                and ms[0].name
                and not ms[0].name.startswith("{")
            ):
                loop[c] = 1 << c
    rules: list[CompactRule] = []
    for allowed_value, rows in ((True, conn.allowed), (None, conn.unknown)):
        raw = _cover(rows, conn.conns, src_d, dst_d, loop)
        rules.extend(_merge_rules(raw, conn.conns, allowed_value, src_d, dst_d))
    rules.sort(key=lambda r: (r.allowed is not True, r.source.describe(), r.destination.describe(), describe_ports(r.ports)))
    stats = dict(res.stats)
    stats.update({"port_classes": len(conn.port_classes), "connection_sets": len(conn.conns)})
    return CompactResult(tuple(rules), stats)


def _supersets(conns: list[PortSet], used: set[int]) -> dict[int, list[int]]:
    """For each used port set, the used port sets that contain it (itself included)."""
    expanded = {c: _expand(conns[c]) for c in used}
    return {c: [d for d in used if _contains(expanded[d], expanded[c])] for c in used}


def _expand(ports: PortSet) -> dict[tuple[str, str | None], list[tuple[int, int]]]:
    out: dict[tuple[str, str | None], list[tuple[int, int]]] = defaultdict(list)
    for r in ports:
        out[(r.protocol, r.name)].append((r.first, r.last))
    return out


def _contains(
    big: Mapping[tuple[str, str | None], list[tuple[int, int]]], small: Mapping[tuple[str, str | None], list[tuple[int, int]]]
) -> bool:
    for key, spans in small.items():
        have = big.get(key)
        if not have:
            return False
        for a, b in spans:
            if not any(x <= a and b <= y for x, y in have):
                return False
    return True


def _touched(x: int, describer: _Describer) -> Iterator[str | None]:
    """The namespaces (None: external addresses) of the classes in a bitset, one mask operation per namespace."""
    while x:
        low = (x & -x).bit_length() - 1
        ns = describer.namespace_of(low)
        yield ns
        x &= ~describer.ns_mask[ns]


def _cover(
    rows: list[dict[int, int]], conns: list[PortSet], src_d: _Describer, dst_d: _Describer, loop: Mapping[int, int]
) -> list[tuple[int, int, int]]:
    """Rectangles (source classes, destination classes, port set) whose union is exactly the relation."""
    used = {c for row in rows for c in row}
    sup = _supersets(conns, used)
    out: list[tuple[int, int, int]] = []
    by_conn: dict[int, list[int]] = defaultdict(list)
    for s, row in enumerate(rows):
        for c in row:
            by_conn[c].append(s)
    for c in sorted(used, key=lambda c: (len(sup[c]), c)):
        must = {s: rows[s][c] for s in by_conn[c]}
        may_cache: dict[int, int] = {}

        def may(s: int, c: int = c, may_cache: dict[int, int] = may_cache) -> int:
            hit = may_cache.get(s)
            if hit is None:
                row = rows[s]
                hit = loop.get(s, 0)
                for d in sup[c]:
                    hit |= row.get(d, 0)
                may_cache[s] = hit
            return hit

        # 1. whole namespace x namespace blocks
        candidates: dict[str | None, set[str | None]] = defaultdict(set)
        for s, bits in must.items():
            for b in _touched(bits, dst_d):
                candidates[src_d.namespace_of(s)].add(b)
        ns_pairs: dict[str | None, set[str | None]] = defaultdict(set)
        for a, bs in candidates.items():
            srcs = list(_bits(src_d.ns_mask[a]))
            for b in bs:
                bm = dst_d.ns_mask[b]
                if all(may(s) & bm == bm for s in srcs):
                    ns_pairs[a].add(b)
        if ns_pairs:
            for a_set, b_set in _group_pairs(ns_pairs):
                smask = 0
                for a in a_set:
                    smask |= src_d.ns_mask[a]
                dmask = 0
                for b in b_set:
                    dmask |= dst_d.ns_mask[b]
                out.append((smask, dmask, c))
                for s in _bits(smask):
                    if s in must:
                        must[s] &= ~dmask
        must = {s: bits for s, bits in must.items() if bits}
        if not must:
            continue
        # 2. the rest: each row widened to whole namespaces where the wider port sets allow, grouped by row
        by_rows: dict[int, int] = defaultdict(int)
        for s, bits in must.items():
            wide = 0
            m = may(s)
            for b in _touched(bits, dst_d):
                bm = dst_d.ns_mask[b]
                wide |= bm if m & bm == bm else bits & bm
            by_rows[wide] |= 1 << s
        by_cols = _column_groups(must, may, src_d)
        if _cost(by_cols, src_d, dst_d) < _cost([(sm, dm) for dm, sm in by_rows.items()], src_d, dst_d):
            out.extend((sm, dm, c) for sm, dm in by_cols)
        else:
            out.extend((sm, dm, c) for dm, sm in by_rows.items())
    return out


def _column_groups(must: Mapping[int, int], may: Any, src_d: _Describer) -> list[tuple[int, int]]:
    """The same relation grouped by destination: each column widened to whole source namespaces where allowed."""
    cols: dict[int, int] = defaultdict(int)
    for s, bits in must.items():
        for d in _bits(bits):
            cols[d] |= 1 << s
    groups: dict[int, int] = defaultdict(int)
    for d, smask in cols.items():
        wide = 0
        for a in _touched(smask, src_d):
            am = src_d.ns_mask[a]
            if all(may(s) >> d & 1 for s in _bits(am)):
                wide |= am
            else:
                wide |= smask & am
        groups[wide] |= 1 << d
    return list(groups.items())


def _cost(rects: Sequence[tuple[int, int]], src_d: _Describer, dst_d: _Describer) -> int:
    return sum(len(src_d.sides(sm)) * len(dst_d.sides(dm)) for sm, dm in rects)


def _group_pairs(pairs: Mapping[Any, set[Any]]) -> list[tuple[frozenset[Any], frozenset[Any]]]:
    """Namespace pairs as few (source namespaces x destination namespaces) products: group sources by their
    destination set, or destinations by their source set, whichever gives fewer."""
    by_dst: dict[frozenset[Any], set[Any]] = defaultdict(set)
    for a, bs in pairs.items():
        by_dst[frozenset(bs)].add(a)
    inverse: dict[Any, set[Any]] = defaultdict(set)
    for a, bs in pairs.items():
        for b in bs:
            inverse[b].add(a)
    by_src: dict[frozenset[Any], set[Any]] = defaultdict(set)
    for b, as_ in inverse.items():
        by_src[frozenset(as_)].add(b)
    if len(by_src) < len(by_dst):
        return [(a_set, frozenset(b_set)) for a_set, b_set in by_src.items()]
    return [(frozenset(a_set), b_set) for b_set, a_set in by_dst.items()]


def _merge_rules(
    rects: list[tuple[int, int, int]], conns: Sequence[PortSet], allowed: bool | None, src_d: _Describer, dst_d: _Describer
) -> list[CompactRule]:
    """Rectangles -> rules (one per pair of sides); rules with equal ends add up their ports, then rules that
    differ only in one end's namespace list (same selector) or address blocks are joined."""
    pairs: dict[tuple[Side, Side], set[int]] = defaultdict(set)
    for sm, dm, c in rects:
        for a in src_d.sides(sm):
            for b in dst_d.sides(dm):
                pairs[(a, b)].add(c)
    rules = {(a, b): normalize_ports(r for c in ks for r in conns[c]) for (a, b), ks in pairs.items()}
    for _ in range(4):
        changed = False
        for end in (0, 1):
            groups: dict[tuple[Any, ...], list[tuple[Side, Side]]] = defaultdict(list)
            for (a, b), ports in rules.items():
                mine, other = (a, b) if end == 0 else (b, a)
                groups[(_join_key(mine), other, ports)].append((a, b))
            merged: dict[tuple[Side, Side], PortSet] = {}
            for (jk, other, ports), members in groups.items():
                if len(members) == 1 or jk[0] is None:
                    for m in members:
                        merged[m] = normalize_ports((*merged.get(m, ()), *ports))
                    continue
                sides = [m[end] for m in members]
                d = src_d if end == 0 else dst_d
                joined = _join_sides(sides, d)
                key = (joined, other) if end == 0 else (other, joined)
                merged[key] = normalize_ports((*merged.get(key, ()), *ports))
                changed = True
            rules = merged
        if not changed:
            break
    return [CompactRule(a, b, ports, allowed) for (a, b), ports in rules.items()]


def _join_key(side: Side) -> tuple[Any, ...]:
    if side.kind == "pods":
        return ("pods", side.selector)
    if side.kind == "ip":
        return ("ip",)
    return ("workloads",)


def _join_sides(sides: Sequence[Side], d: _Describer) -> Side:
    first = sides[0]
    if first.kind == "pods":
        return d.pods_side((ns for s in sides for ns in s.namespaces), first.selector)
    if first.kind == "ip":
        atoms = frozenset(a for s in sides for a in s.atoms)
        return Side("ip", ip_blocks=blocks(atoms), atoms=atoms)
    return Side(
        "workloads",
        tuple(sorted({ns for s in sides for ns in s.namespaces})),
        workloads=tuple(sorted({w for s in sides for w in s.workloads})),
    )


# --- entry point -------------------------------------------------------------------------------------------------


def compact_paths(
    compiled: CompiledSnapshot,
    sources: Sequence[PodPeer],
    destinations: Sequence[PodPeer],
    population: Sequence[PodPeer],
    *,
    protocols: Sequence[str] = PROTOCOLS,
    port: int | str | None = None,
    scope_ns: str | None = None,
    external_sources: bool = True,
    external_destinations: bool = True,
) -> CompactResult:
    """The rules for sources -> destinations (plus addresses outside the cluster as sources of ingress and
    destinations of egress, unless turned off), on all ports of the protocols or only ``port``."""
    atoms = address_atoms(compiled, node_addresses([*sources, *destinations]))
    ext = [a.peer for a in atoms]
    srcs: list[Peer] = list(sources) + (ext if external_sources else [])
    dsts: list[Peer] = list(destinations) + (ext if external_destinations else [])
    if list(sources) == list(destinations) and external_sources == external_destinations:
        dsts = srcs  # one universe: selector bitsets and class descriptions are computed once
    conn = connectivity(compiled, srcs, dsts, protocols=protocols, port=port, scope_ns=scope_ns)
    return replace(compact_rules(conn, population, atoms), connectivity=conn)


__all__ = [
    "CompactResult",
    "CompactRule",
    "Connectivity",
    "PortClass",
    "PortRange",
    "Side",
    "compact_paths",
    "compact_rules",
    "connectivity",
    "describe_ports",
    "exact_selector",
    "normalize_ports",
    "port_classes",
]
