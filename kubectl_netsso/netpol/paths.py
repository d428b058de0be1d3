"""All flows in scope, computed over equivalence classes of pods and expanded to pod/workload pairs only at output.

Two pods are equivalent when every policy treats them alike: same namespace (hence namespace labels), same pod
labels, same container ports (named ports), same hostNetwork flag, and -- only when ipBlocks could match pod IPs --
the same set of ipBlock/network entries their IPs fall in. Per (port, protocol) the engine computes, for each
source class, a bitset over destination classes (Python ints) from per-policy-peer selector bitsets, so the cost is
about classes x rules bit operations instead of pods^2 x policies evaluations.

Long because: the class partition (_Universe) and the per-port bitset fill (_Rows) for every policy tier are
one algorithm over one private representation; split, that representation would become an interface.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .compile import CompiledPolicy, CompiledRule, CompiledSnapshot, PeerMatcher
from .evaluate import candidate_ports, evaluate_direction, evaluate_flow, is_loopback, own_node, selecting_policies
from .match import Tri, dest_ports_of, peer_matches, ports_match
from .model import KIND_NP, Direction, ExternalPeer, Flow, Peer, PodPeer, Verdict, combine
from .ports import Request, make_request
from .selectors import LabelSelector

IpSignature = tuple[Any, ...]
PortSpec = tuple[int | str | None, str]  # (port number, port name, or None = any port; protocol)


@dataclass(frozen=True, slots=True)
class PathRow:
    """One expanded pair: allowed = egress AND ingress (three-valued)."""

    source: Peer
    destination: Peer
    port: int | str | None
    protocol: str
    allowed: bool | None
    egress: bool | None
    ingress: bool | None

    def to_dict(self) -> dict[str, Any]:
        """The README JSON row: {"from", "to", "port", "protocol", "allowed", "egress": {...}, "ingress": {...}}."""
        return {
            "from": _name(self.source),
            "to": _name(self.destination),
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
            "egress": {"allowed": self.egress},
            "ingress": {"allowed": self.ingress},
        }


def _name(peer: Peer) -> str:
    """NS/NAME for a pod, NS/kind/NAME for a workload (as can-reach and the paths table name them), ip:ADDR."""
    return peer.ref


@dataclass
class PathsResult:
    """The class-level answer plus what is needed to expand it.

    sources/destinations: the peers in scope (input order); ports: the (port, protocol) list evaluated.
    source_class[i] / dest_class[j]: class index of each peer; matrix[k][sc] is an int bitset over destination
    classes of allowed pairs for ports[k], unknown[k][sc] the bitset of unknown ones (allowed bits exclude unknown).
    egress/ingress hold the per-direction bitsets the same way (for the row's egress/ingress fields).
    """

    compiled: CompiledSnapshot
    sources: list[Peer]
    destinations: list[Peer]
    ports: list[PortSpec]
    source_class: list[int] = field(default_factory=list)
    dest_class: list[int] = field(default_factory=list)
    source_reps: list[Peer] = field(default_factory=list)
    dest_reps: list[Peer] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)
    unknown: list[list[int]] = field(default_factory=list)
    egress: list[list[int]] = field(default_factory=list)
    egress_unknown: list[list[int]] = field(default_factory=list)
    ingress: list[list[int]] = field(default_factory=list)
    ingress_unknown: list[list[int]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    _evidence: dict[Any, Verdict] = field(default_factory=dict, repr=False)
    _loop: dict[int, int] | None = field(default=None, repr=False)
    _selecting: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def allowed(self, k: int, i: int, j: int) -> bool | None:
        """Verdict for ports[k], sources[i] -> destinations[j] (loopback of one Pod is always allowed)."""
        src, dst = self.sources[i], self.destinations[j]
        if is_loopback(src, dst):
            return True
        sc, dc = self.source_class[i], self.dest_class[j]
        bit = 1 << dc
        if self.unknown[k][sc] & bit:
            return None
        return bool(self.matrix[k][sc] & bit)

    def direction(self, k: int, i: int, j: int) -> tuple[bool | None, bool | None]:
        """(egress, ingress) of one pair."""
        if is_loopback(self.sources[i], self.destinations[j]):
            return True, True
        sc, dc = self.source_class[i], self.dest_class[j]
        bit = 1 << dc
        eg = None if self.egress_unknown[k][sc] & bit else bool(self.egress[k][sc] & bit)
        ing = None if self.ingress_unknown[k][sc] & bit else bool(self.ingress[k][sc] & bit)
        return eg, ing

    def pairs(self, k: int) -> Iterator[tuple[int, int, bool | None, bool | None, bool | None]]:
        """Fast expansion for ports[k]: (i, j, allowed, egress, ingress) for every source x destination, input order."""
        loop = self._loopbacks()
        dest_class = self.dest_class
        cache: dict[int, tuple[str, str, str]] = {}
        for i, sc in enumerate(self.source_class):
            states = cache.get(sc)
            if states is None:
                states = cache[sc] = self._row_states(k, sc)
            a_row, e_row, n_row = states
            lj = loop.get(i, -1)
            for j, dc in enumerate(dest_class):
                if j == lj:
                    yield i, j, True, True, True
                else:
                    yield i, j, _STATE[a_row[dc]], _STATE[e_row[dc]], _STATE[n_row[dc]]

    def row_strings(self, k: int, i: int) -> tuple[str, str, str]:
        """One character per destination (input order) for sources[i] on ports[k]: '1' allowed, '0' denied, '?'
        unknown -- (allowed, egress, ingress). Cheap bulk access for matrix output."""
        a_row, e_row, n_row = self._row_states(k, self.source_class[i])
        dc = self.dest_class
        a, e, n = "".join(a_row[c] for c in dc), "".join(e_row[c] for c in dc), "".join(n_row[c] for c in dc)
        lj = self._loopbacks().get(i)
        if lj is not None:
            a, e, n = (x[:lj] + "1" + x[lj + 1 :] for x in (a, e, n))
        return a, e, n

    def rows(self) -> Iterator[PathRow]:
        """Every (port, source, destination) in scope exactly once, ports outermost, then input order."""
        for k, (port, protocol) in enumerate(self.ports):
            for i, j, allowed, eg, ing in self.pairs(k):
                yield PathRow(self.sources[i], self.destinations[j], port, protocol, allowed, eg, ing)

    def _row_states(self, k: int, sc: int) -> tuple[str, str, str]:
        """Per destination class a character: '1' allowed, '0' denied, '?' unknown (allowed, egress, ingress)."""
        n = len(self.dest_reps)
        out = []
        for known, unknown in (
            (self.matrix, self.unknown),
            (self.egress, self.egress_unknown),
            (self.ingress, self.ingress_unknown),
        ):
            row = format(known[k][sc], f"0{n}b")[::-1] if n else ""
            u = unknown[k][sc]
            if u:
                mask = format(u, f"0{n}b")[::-1]
                row = "".join("?" if m == "1" else c for c, m in zip(row, mask, strict=True))
            out.append(row)
        return out[0], out[1], out[2]

    def _loopbacks(self) -> dict[int, int]:
        """source index -> destination index of the same Pod (always allowed)."""
        if self._loop is not None:
            return self._loop
        pods = {(d.namespace, d.name): j for j, d in enumerate(self.destinations) if isinstance(d, PodPeer) and d.kind == "Pod"}
        out = {}
        for i, s in enumerate(self.sources):
            if isinstance(s, PodPeer) and s.kind == "Pod" and s.name and not s.name.startswith("{"):
                j = pods.get((s.namespace, s.name))
                if j is not None:
                    out[i] = j
        self._loop = out
        return out

    def selecting(self, direction: Direction, cls: int) -> tuple[str, ...]:
        """Policies selecting a class's pods for a direction (egress: a source class, ingress: a destination class);
        the same strings as DirectionVerdict.selecting. Memoised per class."""
        key = (direction, cls)
        hit = self._selecting.get(key)
        if hit is None:
            rep = self.source_reps[cls] if direction == "egress" else self.dest_reps[cls]
            hit = self._selecting[key] = selecting_policies(self.compiled, direction, rep)
        return hit

    def evidence(self, k: int, i: int, j: int, *, explain: bool = False) -> Verdict:
        """The full verdict (deciding policies, closest rules) of one pair, computed on demand (cached per class pair)."""
        key = (k, self.source_class[i], self.dest_class[j], is_loopback(self.sources[i], self.destinations[j]), explain)
        if key not in self._evidence:
            port, protocol = self.ports[k]
            flow = Flow(self.sources[i], self.destinations[j], port, protocol)
            self._evidence[key] = evaluate_flow(self.compiled, flow, explain=explain)
        return self._evidence[key]


_STATE: dict[str, bool | None] = {"1": True, "0": False, "?": None}


def class_key(compiled: CompiledSnapshot, peer: Peer, ip_signature: IpSignature = ()) -> tuple[Any, ...]:
    """What makes two peers indistinguishable to every policy (see module docstring)."""
    if isinstance(peer, ExternalPeer):
        return ("ip", peer.ip)
    return (
        "pod",
        peer.namespace,
        frozenset(peer.labels.items()),
        frozenset(peer.namespace_labels.items()),
        frozenset((cp.port, cp.protocol.upper(), cp.name) for cp in peer.ports),
        peer.host_network,
        ip_signature,
        # Calico selects pods by service account too (projectcalico.org/serviceaccount, serviceAccountSelector)
        peer.service_account if compiled.cni != "generic" else None,
    )


def compute_paths(
    compiled: CompiledSnapshot,
    sources: Sequence[Peer],
    destinations: Sequence[Peer],
    ports: Sequence[PortSpec],
    *,
    engine: str = "classes",
) -> PathsResult:
    """Every source x destination x (port, protocol), over equivalence classes.

    A port given by name is resolved on each destination class (its container ports). Port None = any port
    (allowed when some port is allowed both ways). engine="naive" evaluates every class pair with the single-flow
    evaluator (the reference the class engine is tested against).
    """
    t0 = time.perf_counter()
    result = PathsResult(compiled, list(sources), list(destinations), [(p, proto.upper()) for p, proto in ports])
    _classify(result)
    t1 = time.perf_counter()
    src_u = _Universe(compiled, result.source_reps)
    dst_u = src_u if result.source_reps is result.dest_reps else _Universe(compiled, result.dest_reps)
    tainted_src, tainted_dst = _tainted(compiled, src_u), _tainted(compiled, dst_u)
    local = _node_local(result)
    for port, protocol in result.ports:
        if engine == "naive" or tainted_src == src_u.all:
            _fill_naive(result, port, protocol)
            continue
        rows = _fill_classes(compiled, src_u, dst_u, port, protocol)
        if local is not None:
            _allow_node_local(rows, *local)
        if tainted_src or tainted_dst:
            _patch_tainted(result, rows, port, protocol, tainted_src, tainted_dst)
        _append(result, rows)
    t2 = time.perf_counter()
    result.stats.update(
        {
            "peers": (len(result.sources), len(result.destinations)),
            "classes": (len(result.source_reps), len(result.dest_reps)),
            "classify_s": round(t1 - t0, 4),
            "evaluate_s": round(t2 - t1, 4),
        }
    )
    return result


def ports_in_scope(destinations: Sequence[Peer], protocol: str | None = None) -> list[PortSpec]:
    """The distinct declared container ports of the destinations (for a paths run without --port)."""
    out: dict[tuple[int, str], None] = {}
    for d in destinations:
        if isinstance(d, PodPeer):
            for cp in d.ports:
                if protocol is None or cp.protocol.upper() == protocol.upper():
                    out[(cp.port, cp.protocol.upper())] = None
    return [(p, proto) for p, proto in sorted(out, key=lambda p: (p[1], p[0]))]


# --- classification -------------------------------------------------------------------------------------------------


def _ip_blocks(compiled: CompiledSnapshot) -> list[PeerMatcher]:
    """Distinct ipBlock / networks entries of all policies (pod IPs are classified by which of them they fall in)."""
    seen: dict[tuple[Any, ...], PeerMatcher] = {}
    policies: list[CompiledPolicy] = [p for ps in compiled.network_policies.values() for p in ps]
    policies += list(compiled.admin_policies) + ([compiled.baseline] if compiled.baseline else [])
    for p in policies:
        for rules in (p.ingress or (), p.egress or ()):
            for rule in rules:
                for pm in rule.peers:
                    if pm.kind in ("ipBlock", "networks"):
                        seen.setdefault((pm.kind, pm.cidrs, pm.excepts), pm)
    return list(seen.values())


def _node_anchor(peer: Peer) -> bool:
    """A peer that can be some pod's node: an address, or a hostNetwork pod (it is its node on the network)."""
    return isinstance(peer, ExternalPeer) or (isinstance(peer, PodPeer) and peer.host_network)


def _nodes_matter(result: PathsResult) -> bool:
    """Whether any flow in scope can be pod <-> its own node: only then do pods on different nodes differ."""
    peers = [*result.sources, *result.destinations]
    return any(_node_anchor(p) for p in peers) and any(isinstance(p, PodPeer) and (p.node or p.node_ips) for p in peers)


def _node_local(result: PathsResult) -> tuple[list[int], list[int]] | None:
    """Per source class, the destination classes that are its own node (egress) and those whose node it is
    (ingress): "traffic to and from the node where a Pod is running is always allowed" (kubernetes.io, Network
    Policies). None when there are none. Pods are found per anchor through indexes by node name and address."""
    if not _nodes_matter(result):
        return None

    def index(reps: Sequence[Peer]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        by_node: dict[str, list[int]] = defaultdict(list)
        by_ip: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(reps):
            if isinstance(p, PodPeer) and not p.host_network:
                if p.node:
                    by_node[p.node].append(i)
                for ip in p.node_ips:
                    by_ip[ip].append(i)
        return by_node, by_ip

    def on_node(anchor: Peer, idx: tuple[dict[str, list[int]], dict[str, list[int]]]) -> set[int]:
        by_node, by_ip = idx
        if isinstance(anchor, ExternalPeer):
            return set(by_ip.get(anchor.ip, ()))
        assert isinstance(anchor, PodPeer)
        found = set(by_node.get(anchor.node, ())) if anchor.node else set()
        for ip in (*anchor.ips, *anchor.node_ips):
            found.update(by_ip.get(ip, ()))
        return found

    src_reps, dst_reps = result.source_reps, result.dest_reps
    egress = [0] * len(src_reps)
    ingress = [0] * len(src_reps)
    dst_idx = index(dst_reps)
    for s, anchor in enumerate(src_reps):  # the source is the node: ingress of pods on it
        if _node_anchor(anchor):
            for d in on_node(anchor, dst_idx):
                if own_node(dst_reps[d], anchor):
                    ingress[s] |= 1 << d
    src_idx = index(src_reps)
    for d, anchor in enumerate(dst_reps):  # the destination is the node: egress of pods on it
        if _node_anchor(anchor):
            for s in on_node(anchor, src_idx):
                if own_node(src_reps[s], anchor):
                    egress[s] |= 1 << d
    return (egress, ingress) if any(egress) or any(ingress) else None


def _allow_node_local(rows: _Rows, egress: Sequence[int], ingress: Sequence[int]) -> None:
    """A pod and its own node: that direction is allowed whatever the policies; the pair is then what the other
    direction says (for "any port" too: the other direction's some-port answer)."""
    for s, (e, i) in enumerate(zip(egress, ingress, strict=True)):
        if e or i:
            rows.egress[s] |= e
            rows.egress_unknown[s] &= ~e
            rows.ingress[s] |= i
            rows.ingress_unknown[s] &= ~i
            both = e | i
            allowed = rows.egress[s] & rows.ingress[s] & both
            unknown = (e & rows.ingress_unknown[s]) | (i & rows.egress_unknown[s])
            rows.allowed[s] = (rows.allowed[s] & ~both) | allowed
            rows.unknown[s] = (rows.unknown[s] & ~both) | (unknown & ~allowed)


def _classify(result: PathsResult) -> None:
    compiled = result.compiled
    blocks: list[PeerMatcher] | None = None
    nodes = _nodes_matter(result)
    same = result.sources == result.destinations
    sides = [(result.sources, result.source_class, result.source_reps)]
    if not same:
        sides.append((result.destinations, result.dest_class, result.dest_reps))
    for peers, classes, reps in sides:
        index: dict[tuple[Any, ...], int] = {}
        for peer in peers:
            sig: IpSignature = ()
            if isinstance(peer, PodPeer) and peer.ips:
                if blocks is None:
                    blocks = _ip_blocks(compiled)
                # ips matter only through the ipBlock/networks entries they fall in.
                sig = tuple(i for i, pm in enumerate(blocks) if peer_matches(compiled, pm, peer))
            if nodes and isinstance(peer, PodPeer):
                sig += (("node", peer.node, peer.node_ips),)
            if compiled.cni == "calico" and isinstance(peer, PodPeer) and peer.ips:
                from .paths_cni import calico_ip_signature

                sig += (calico_ip_signature(compiled, peer),)
            key = class_key(compiled, peer, sig)
            if key not in index:
                index[key] = len(reps)
                reps.append(peer)
            classes.append(index[key])
    if same:
        # One universe for both sides: selector bitsets are computed once.
        result.dest_class = list(result.source_class)
        result.dest_reps = result.source_reps


class _Universe:
    """One side's classes with inverted label indexes, so a selector becomes a few big-int operations."""

    def __init__(self, compiled: CompiledSnapshot, reps: list[Peer]) -> None:
        self.compiled = compiled
        self.reps = reps
        self.n = len(reps)
        self.all = (1 << self.n) - 1
        self.pods = 0  # pod classes that selectors can see (not hostNetwork)
        self.hostnet = 0
        self.external = 0
        self.by_ns: dict[str, int] = defaultdict(int)
        self.label_idx: dict[tuple[str, str], int] = defaultdict(int)
        self.key_idx: dict[str, int] = defaultdict(int)
        self.ns_label_idx: dict[tuple[str, str], int] = defaultdict(int)
        self.ns_key_idx: dict[str, int] = defaultdict(int)
        self._sel: dict[Any, int] = {}
        self._peer: dict[Any, int] = {}
        self._by_ports: dict[Any, int] | None = None
        for i, rep in enumerate(reps):
            bit = 1 << i
            if isinstance(rep, ExternalPeer):
                self.external |= bit
                continue
            self.by_ns[rep.namespace] |= bit
            if rep.host_network:
                self.hostnet |= bit
                continue
            self.pods |= bit
            for k, v in rep.labels.items():
                self.label_idx[(k, v)] |= bit
                self.key_idx[k] |= bit
            for k, v in rep.namespace_labels.items():
                self.ns_label_idx[(k, v)] |= bit
                self.ns_key_idx[k] |= bit

    def selector_set(self, sel: LabelSelector | None, *, ns: bool) -> int:
        """Pod classes whose (namespace) labels match; null selector -> none, empty -> all pod classes."""
        if sel is None:
            return 0
        key = (ns, sel)
        hit = self._sel.get(key)
        if hit is not None:
            return hit
        lab, keys = (self.ns_label_idx, self.ns_key_idx) if ns else (self.label_idx, self.key_idx)
        out = self.pods
        for r in sel.requirements:
            if r.operator == "In":
                m = 0
                for v in r.values:
                    m |= lab.get((r.key, v), 0)
                out &= m
            elif r.operator == "NotIn":
                m = 0
                for v in r.values:
                    m |= lab.get((r.key, v), 0)
                out &= ~m
            elif r.operator == "Exists":
                out &= keys.get(r.key, 0)
            else:
                out &= ~keys.get(r.key, 0)
            if not out:
                break
        self._sel[key] = out
        return out

    def peer_set(self, pm: PeerMatcher) -> int:
        """Classes a from/to entry matches (same answers as match.peer_matches on every representative)."""
        hit = self._peer.get(pm)
        if hit is not None:
            return hit
        if pm.kind == "invalid":
            out = self.all if pm.matches_all else 0
        elif pm.kind == "nodes":
            out = 0
        elif pm.kind in ("ipBlock", "networks"):
            out = 0
            for i, rep in enumerate(self.reps):
                if (isinstance(rep, ExternalPeer) or rep.ips or pm.kind == "networks") and peer_matches(self.compiled, pm, rep):
                    out |= 1 << i
        else:
            pods = self.selector_set(pm.pod_selector, ns=False)
            if pm.namespace is not None:
                out = pods & self.by_ns.get(pm.namespace, 0)
            else:
                out = pods & self.selector_set(pm.namespace_selector, ns=True)
        self._peer[pm] = out
        return out

    def by_ports(self) -> dict[Any, int]:
        """Classes grouped by destination ports (None for external addresses) -> bitset."""
        if self._by_ports is None:
            groups: dict[Any, int] = defaultdict(int)
            for i, rep in enumerate(self.reps):
                groups[dest_ports_of(rep)] |= 1 << i
            self._by_ports = dict(groups)
        return self._by_ports

    def rule_set(self, rule: CompiledRule) -> int:
        if rule.all_peers:
            return self.all
        out = 0
        for pm in rule.peers:
            out |= self.peer_set(pm)
        return out

    def subject_set(self, policy: CompiledPolicy) -> int:
        key = ("subject", policy.kind, policy.namespace, policy.name)
        hit = self._sel.get(key)
        if hit is not None:
            return hit
        pods = self.selector_set(policy.subject_pod_selector, ns=False)
        if policy.kind == KIND_NP:
            out = pods & self.by_ns.get(policy.subject_namespace or "", 0)
        else:
            out = pods & self.selector_set(policy.subject_namespace_selector, ns=True)
        self._sel[key] = out
        return out


def _tainted(compiled: CompiledSnapshot, u: _Universe) -> int:
    """Classes whose verdicts may depend on unreadable data (Gaps): evaluated pair by pair, three-valued."""
    if compiled.anp_gap or compiled.banp_gap or None in compiled.np_gaps or None in compiled.label_gaps:
        return u.all
    out = 0
    for ns in set(compiled.np_gaps) | set(compiled.label_gaps):
        out |= u.by_ns.get(ns or "", 0)
    if compiled.label_sensitive:
        for ns, members in u.by_ns.items():
            if compiled.label_gap(ns):  # e.g. not defined in the manifests: labels unknown
                out |= members
    if compiled.cni == "calico":
        from .paths_cni import calico_tainted

        out |= calico_tainted(compiled, u)
    if compiled.cni == "cilium":
        from .paths_cni import cilium_tainted

        out |= cilium_tainted(compiled, u)
    return out


def _bits(x: int) -> Iterator[int]:
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


@dataclass
class _Rows:
    allowed: list[int]
    unknown: list[int]
    egress: list[int]
    egress_unknown: list[int]
    ingress: list[int]
    ingress_unknown: list[int]


def _append(result: PathsResult, rows: _Rows) -> None:
    result.matrix.append(rows.allowed)
    result.unknown.append(rows.unknown)
    result.egress.append(rows.egress)
    result.egress_unknown.append(rows.egress_unknown)
    result.ingress.append(rows.ingress)
    result.ingress_unknown.append(rows.ingress_unknown)


def _fill_classes(compiled: CompiledSnapshot, src: _Universe, dst: _Universe, port: int | str | None, protocol: str) -> _Rows:
    if port is None:
        # Any port: the allowed sets only change at rule boundaries and container port numbers; OR over those
        # (three-valued: allowed when some port is allowed both ways, unknown when none is and some may be).
        acc: _Rows | None = None
        for c in _global_candidates(compiled, dst, protocol):
            one = _port_rows(compiled, src, dst, c, protocol)
            if acc is None:
                acc = one
                continue
            for s in range(src.n):
                acc.allowed[s] |= one.allowed[s]
                acc.unknown[s] = (acc.unknown[s] | one.unknown[s]) & ~acc.allowed[s]
                acc.egress[s] |= one.egress[s]
                acc.egress_unknown[s] = (acc.egress_unknown[s] | one.egress_unknown[s]) & ~acc.egress[s]
                acc.ingress[s] |= one.ingress[s]
                acc.ingress_unknown[s] = (acc.ingress_unknown[s] | one.ingress_unknown[s]) & ~acc.ingress[s]
        assert acc is not None
        return acc
    return _port_rows(compiled, src, dst, port, protocol)


def _port_rows(compiled: CompiledSnapshot, src: _Universe, dst: _Universe, port: int | str, protocol: str) -> _Rows:
    own: tuple[list[int], list[int]] | None = None  # a CNI engine's own unknown pairs (egress, ingress)
    if compiled.cni == "cilium":
        from .paths_cni import cilium_directions

        eg, ing, eu_own, iu_own = cilium_directions(compiled, src, dst, port, protocol)
        own = (eu_own, iu_own)
    else:
        eg, ing = _directions(compiled, src, dst, port, protocol)
    z = [0] * src.n
    if not compiled.foreign and own is None:
        return _Rows([e & i for e, i in zip(eg, ing, strict=True)], z, eg, list(z), ing, list(z))
    eu, iu = _foreign_unknown(compiled, src, dst, eg, ing) if compiled.foreign else (list(z), list(z))
    if own is not None:
        eu = [a | b for a, b in zip(eu, own[0], strict=True)]
        iu = [a | b for a, b in zip(iu, own[1], strict=True)]
    allowed = [e & i for e, i in zip(eg, ing, strict=True)]
    unknown = [(a | b) & (e | a) & (i | b) for e, a, i, b in zip(eg, eu, ing, iu, strict=True)]
    return _Rows(allowed, unknown, eg, eu, ing, iu)


def _foreign_unknown(
    compiled: CompiledSnapshot, src: _Universe, dst: _Universe, eg: list[int], ing: list[int]
) -> tuple[list[int], list[int]]:
    """Policies not evaluated here (netpol/foreign.py) make their subjects' directions UNKNOWN -- only the allowed
    ones when all of them can only deny on top of the CNI. Moves those bits from eg/ing (in place) to the returned
    unknown bitsets, as evaluate._with_foreign does per pair."""
    eu = [0] * src.n
    iu = [0] * src.n
    full_e, restrict_e = _foreign_subjects(compiled, src, "egress")
    for s in _bits(full_e | restrict_e):
        bit = 1 << s
        eu[s] = dst.all if full_e & bit else eg[s]
        eg[s] &= ~eu[s]
    full_i, restrict_i = _foreign_subjects(compiled, dst, "ingress")
    if full_i or restrict_i:
        for s in range(src.n):
            iu[s] = full_i | (ing[s] & restrict_i)
            ing[s] &= ~iu[s]
    return eu, iu


def _foreign_subjects(compiled: CompiledSnapshot, u: _Universe, direction: Direction) -> tuple[int, int]:
    """(classes whose direction any unevaluated policy makes unknown, classes where all such policies only restrict)."""
    full = restrict = 0
    for i, rep in enumerate(u.reps):
        fv = compiled.foreign_for(direction, rep)
        if fv is not None:
            if fv.restrict_only:
                restrict |= 1 << i
            else:
                full |= 1 << i
    return full, restrict


def _global_candidates(compiled: CompiledSnapshot, dst: _Universe, protocol: str) -> list[int]:
    out = {1}
    policies: list[CompiledPolicy] = [p for ps in compiled.network_policies.values() for p in ps]
    policies += list(compiled.admin_policies) + ([compiled.baseline] if compiled.baseline else [])
    for p in policies:
        for rules in (p.ingress or (), p.egress or ()):
            for rule in rules:
                for m in rule.ports:
                    if m.protocol in (protocol, "*") and isinstance(m.port, int):
                        out.add(m.port)
                        end = m.end_port if m.end_port is not None else m.port
                        if end < 65535:
                            out.add(end + 1)
    for rep in dst.reps:
        if isinstance(rep, PodPeer):
            for cp in rep.ports:
                if cp.protocol.upper() == protocol:
                    out.add(cp.port)
                    if cp.port < 65535:
                        out.add(cp.port + 1)
    out |= compiled.cni_port_cuts(protocol, None)
    return sorted(out)


def _port_sets(dst: _Universe, port: int | str, protocol: str) -> tuple[list[tuple[Request, Any, int]], dict[Any, int]]:
    """Destination classes grouped by their container ports (named ports resolve the same within a group), with the
    request resolved once per group."""
    groups = [(make_request(port, protocol, ports), ports, members) for ports, members in dst.by_ports().items()]
    return groups, {}


def _rule_ports(dst: _Universe, rule: CompiledRule, groups: list[tuple[Request, Any, int]], cache: dict[Any, int]) -> int:
    """Destination classes on which the rule's ports admit the request (named ports resolved per class)."""
    if rule.all_ports:
        return dst.all
    hit = cache.get(rule.ports)
    if hit is not None:
        return hit
    out = 0
    for request, ports, members in groups:
        if ports_match(rule, request, ports):
            out |= members
    cache[rule.ports] = out
    return out


def _directions(
    compiled: CompiledSnapshot, src: _Universe, dst: _Universe, port: int | str, protocol: str
) -> tuple[list[int], list[int]]:
    """Per source class: (egress-allowed dest bitset, ingress-allowed dest bitset), tiers ANP -> NP -> BANP -> allow."""
    if compiled.cni == "calico":
        from .paths_cni import calico_directions

        return calico_directions(compiled, src, dst, port, protocol)
    requests, pcache = _port_sets(dst, port, protocol)
    n_src, all_dst = src.n, dst.all

    # ---- egress: subject = source class, peers over destination classes ----
    anp_eg = [
        (src.subject_set(a), [(r.action, dst.rule_set(r) & _rule_ports(dst, r, requests, pcache)) for r in a.egress or ()])
        for a in compiled.admin_policies
        if a.egress
    ]
    np_iso = [False] * n_src
    np_allow = [0] * n_src
    for policies in compiled.network_policies.values():
        for p in policies:
            if p.egress is None:
                continue
            members = src.subject_set(p)
            if not members:
                continue
            allow = 0
            for r in p.egress:
                allow |= dst.rule_set(r) & _rule_ports(dst, r, requests, pcache)
            for s in _bits(members):
                np_iso[s] = True
                np_allow[s] |= allow
    banp = compiled.baseline
    banp_eg = None
    if banp is not None and banp.egress:
        banp_eg = (
            src.subject_set(banp),
            [(r.action, dst.rule_set(r) & _rule_ports(dst, r, requests, pcache)) for r in banp.egress],
        )
    egress = []
    unpoliced_src = src.hostnet | src.external
    for s in range(n_src):
        bit = 1 << s
        if unpoliced_src & bit:
            egress.append(all_dst)
            continue
        allow, remaining = _admin_tier((r for members, rules in anp_eg if members & bit for r in rules), all_dst)
        if np_iso[s]:
            allow |= remaining & np_allow[s]
        else:
            if banp_eg is not None and banp_eg[0] & bit:
                banp_allow, remaining = _baseline_tier(banp_eg[1], remaining)
                allow |= banp_allow
            allow |= remaining
        egress.append(allow)

    # ---- ingress: subject = destination class, peers over source classes; rows still per source class ----
    anp_in = [
        (
            dst.subject_set(a),
            [(r.action, src.rule_set(r), dst.subject_set(a) & _rule_ports(dst, r, requests, pcache)) for r in a.ingress or ()],
        )
        for a in compiled.admin_policies
        if a.ingress
    ]
    iso_in = 0
    groups: dict[int, int] = defaultdict(int)  # source-class set -> destination classes it may reach
    for policies in compiled.network_policies.values():
        for p in policies:
            if p.ingress is None:
                continue
            members = dst.subject_set(p)
            if not members:
                continue
            iso_in |= members
            for r in p.ingress:
                reach = members & _rule_ports(dst, r, requests, pcache)
                if reach:
                    groups[src.rule_set(r)] |= reach
    np_in = [0] * n_src
    for srcs, reach in groups.items():
        for s in _bits(srcs):
            np_in[s] |= reach
    banp_in = None
    if banp is not None and banp.ingress:
        t = dst.subject_set(banp)
        banp_in = [(r.action, src.rule_set(r), t & _rule_ports(dst, r, requests, pcache)) for r in banp.ingress]
    unpoliced_dst = dst.hostnet | dst.external
    ingress = []
    for s in range(n_src):
        bit = 1 << s
        allow, remaining = _admin_tier(
            ((action, m) for _members, in_rules in anp_in for action, srcs, m in in_rules if srcs & bit), all_dst
        )
        allow |= remaining & iso_in & np_in[s]
        remaining &= ~iso_in
        if banp_in is not None:
            banp_allow, remaining = _baseline_tier(((action, m) for action, srcs, m in banp_in if srcs & bit), remaining)
            allow |= banp_allow
        allow |= remaining
        ingress.append(allow | unpoliced_dst)
    return egress, ingress


def _admin_tier(rules: Iterable[tuple[str, int]], undecided: int) -> tuple[int, int]:
    """AdminNetworkPolicy rules (action, destination-class bitset) in priority order over the undecided classes.

    The first matching rule decides: Allow / Deny end evaluation, Pass hands the class to NetworkPolicy. Returns the
    allowed classes and the ones left for the NetworkPolicy tier (undecided or passed)."""
    allow = passed = 0
    for action, m in rules:
        hit = m & undecided
        if not hit:
            continue
        if action == "Allow":
            allow |= hit
        elif action == "Pass":
            passed |= hit
        undecided &= ~hit
    return allow, undecided | passed


def _baseline_tier(rules: Iterable[tuple[str, int]], remaining: int) -> tuple[int, int]:
    """BaselineAdminNetworkPolicy rules in order over the classes no policy above decided: (allowed, still remaining)."""
    allow = 0
    for action, m in rules:
        hit = m & remaining
        if action == "Allow":
            allow |= hit
        remaining &= ~hit
    return allow, remaining


def _patch_tainted(result: PathsResult, rows: _Rows, port: int | str | None, protocol: str, t_src: int, t_dst: int) -> None:
    """Re-evaluate, three-valued and pair by pair, the class pairs that touch a class with a Gap."""
    for s, src in enumerate(result.source_reps):
        for d in range(len(result.dest_reps)):
            if not ((t_src >> s) & 1 or (t_dst >> d) & 1):
                continue
            ev, iv, av = _pair_naive(result, src, result.dest_reps[d], port, protocol)
            bit = 1 << d
            for value, known, unknown in (
                (av, rows.allowed, rows.unknown),
                (ev, rows.egress, rows.egress_unknown),
                (iv, rows.ingress, rows.ingress_unknown),
            ):
                known[s] &= ~bit
                unknown[s] &= ~bit
                if value is None:
                    unknown[s] |= bit
                elif value:
                    known[s] |= bit


def _pair_naive(result: PathsResult, src: Peer, dst: Peer, port: int | str | None, protocol: str) -> tuple[Tri, Tri, Tri]:
    if port is None:
        # Any port: allowed as evaluate_flow decides it; each direction is "some port is allowed this way".
        v = evaluate_flow(result.compiled, Flow(_nonself(src), dst, None, protocol), explain=False)
        eg_any: Tri = False
        in_any: Tri = False
        for c in sorted(candidate_ports(result.compiled, Flow(src, dst, None, protocol), protocol, dest_ports_of(dst))):
            req = make_request(c, protocol, dest_ports_of(dst), dst.ref)
            if eg_any is not True:
                eg_any = _or3(eg_any, evaluate_direction(result.compiled, "egress", src, dst, req, explain=False).allowed)
            if in_any is not True:
                in_any = _or3(in_any, evaluate_direction(result.compiled, "ingress", dst, src, req, explain=False).allowed)
        return eg_any, in_any, v.allowed
    req = make_request(port, protocol, dest_ports_of(dst), dst.ref)
    ev = evaluate_direction(result.compiled, "egress", src, dst, req, explain=False).allowed
    iv = evaluate_direction(result.compiled, "ingress", dst, src, req, explain=False).allowed
    return ev, iv, combine(ev, iv)


def _or3(a: Tri, b: Tri) -> Tri:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _fill_naive(result: PathsResult, port: int | str | None, protocol: str) -> None:
    n = len(result.source_reps)
    rows = _Rows([0] * n, [0] * n, [0] * n, [0] * n, [0] * n, [0] * n)
    _patch_tainted(result, rows, port, protocol, (1 << n) - 1, 0)
    _append(result, rows)


def _nonself(peer: Peer) -> Peer:
    """Class representatives stand for every member; loopback is decided per pod pair at expansion."""
    if isinstance(peer, PodPeer) and peer.kind == "Pod":
        return replace(peer, name="")
    return peer
