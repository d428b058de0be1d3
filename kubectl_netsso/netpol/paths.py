"""All flows in scope, computed over equivalence classes of pods and expanded to pod/workload pairs only at output.

Two pods are equivalent when every policy treats them alike: same namespace (hence namespace labels), same pod
labels, same container ports (named ports), same hostNetwork flag, and -- only when ipBlocks could match pod IPs --
the same set of ipBlock/network entries their IPs fall in. Per (port, protocol) the engine computes, for each
source class, a bitset over destination classes (Python ints) from per-policy-peer selector bitsets, so the cost is
about classes x rules bit operations instead of pods^2 x policies evaluations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .compile import CompiledSnapshot
from .evaluate import allowed_pair, evaluate_flow, is_loopback
from .model import ExternalPeer, Flow, Peer, PodPeer, Verdict

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
    """NS/NAME (pod name or workload name), ip:ADDR for external peers."""
    if isinstance(peer, ExternalPeer):
        return peer.ref
    return f"{peer.namespace}/{peer.name}"


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

    @property
    def class_pairs(self) -> int:
        return len(self.source_reps) * len(self.dest_reps)

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

    def rows(self) -> Iterator[PathRow]:
        """Every (port, source, destination) in scope exactly once, ports outermost, then input order."""
        for k, (port, protocol) in enumerate(self.ports):
            for i, src in enumerate(self.sources):
                for j, dst in enumerate(self.destinations):
                    eg, ing = self.direction(k, i, j)
                    yield PathRow(src, dst, port, protocol, self.allowed(k, i, j), eg, ing)

    def evidence(self, k: int, i: int, j: int, *, explain: bool = False) -> Verdict:
        """The full verdict (deciding policies, closest rules) of one pair, computed on demand (cached per class pair)."""
        key = (k, self.source_class[i], self.dest_class[j], is_loopback(self.sources[i], self.destinations[j]), explain)
        cache: dict[Any, Verdict] = self.stats.setdefault("_evidence", {})
        if key not in cache:
            port, protocol = self.ports[k]
            cache[key] = evaluate_flow(
                self.compiled, Flow(self.sources[i], self.destinations[j], port, protocol), explain=explain
            )
        return cache[key]


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
    )


def compute_paths(
    compiled: CompiledSnapshot,
    sources: Sequence[Peer],
    destinations: Sequence[Peer],
    ports: Sequence[PortSpec],
) -> PathsResult:
    """Every source x destination x (port, protocol), over equivalence classes.

    A port given by name is resolved on each destination class (its container ports). Port None = any port.
    """
    result = PathsResult(compiled, list(sources), list(destinations), [(p, proto.upper()) for p, proto in ports])
    _classify(result)
    for port, protocol in result.ports:
        _fill_naive(result, port, protocol)
    return result


def _classify(result: PathsResult) -> None:
    for peers, classes, reps in (
        (result.sources, result.source_class, result.source_reps),
        (result.destinations, result.dest_class, result.dest_reps),
    ):
        index: dict[tuple[Any, ...], int] = {}
        for peer in peers:
            key = class_key(result.compiled, peer, _ip_signature(result.compiled, peer))
            if key not in index:
                index[key] = len(reps)
                reps.append(peer)
            classes.append(index[key])


def _ip_signature(compiled: CompiledSnapshot, peer: Peer) -> IpSignature:
    if not isinstance(peer, PodPeer) or not peer.ips:
        return ()
    return tuple(peer.ips)  # refined in the bitset engine


def _fill_naive(result: PathsResult, port: int | str | None, protocol: str) -> None:
    allowed_rows, unknown_rows, eg_rows, egu_rows, in_rows, inu_rows = [], [], [], [], [], []
    from .evaluate import evaluate_direction
    from .match import dest_ports_of
    from .ports import make_request

    for src in result.source_reps:
        a = u = e = eu = n = nu = 0
        for dc, dst in enumerate(result.dest_reps):
            bit = 1 << dc
            if port is None:
                v = evaluate_flow(result.compiled, Flow(_nonself(src), dst, None, protocol), explain=False)
                ev, iv, av = v.egress.allowed, v.ingress.allowed, v.allowed
            else:
                req = make_request(port, protocol, dest_ports_of(dst), dst.ref)
                ev = evaluate_direction(result.compiled, "egress", src, dst, req, explain=False).allowed
                iv = evaluate_direction(result.compiled, "ingress", dst, src, req, explain=False).allowed
                av = allowed_pair(result.compiled, _nonself(src), dst, port, protocol)
            if av is None:
                u |= bit
            elif av:
                a |= bit
            if ev is None:
                eu |= bit
            elif ev:
                e |= bit
            if iv is None:
                nu |= bit
            elif iv:
                n |= bit
        allowed_rows.append(a)
        unknown_rows.append(u)
        eg_rows.append(e)
        egu_rows.append(eu)
        in_rows.append(n)
        inu_rows.append(nu)
    result.matrix.append(allowed_rows)
    result.unknown.append(unknown_rows)
    result.egress.append(eg_rows)
    result.egress_unknown.append(egu_rows)
    result.ingress.append(in_rows)
    result.ingress_unknown.append(inu_rows)


def _nonself(peer: Peer) -> Peer:
    """Class representatives stand for every member; loopback is decided per pod pair at expansion."""
    if isinstance(peer, PodPeer) and peer.kind == "Pod":
        return PodPeer(peer.namespace, peer.labels, peer.namespace_labels, peer.ports, peer.ips, peer.host_network, "", "Pod")
    return peer
