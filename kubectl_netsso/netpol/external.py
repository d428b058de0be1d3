"""Addresses outside the cluster as the policies see them: the address space cut into atoms at every ipBlock /
networks boundary, and sets of atoms written back as the fewest CIDR blocks (``0.0.0.0/0 except 10.0.0.0/8``).

Every address of one atom is matched by exactly the same ipBlock / networks entries (with their excepts), so one
representative address per atom decides the whole atom: the address space costs a handful of peers, not 2^128.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .compile import CompiledPolicy, CompiledSnapshot
from .model import ExternalPeer, Peer, PodPeer
from .paths import compute_paths
from .ranges import complement

_SPACE = {4: 1 << 32, 6: 1 << 128}
_ALL = {4: "0.0.0.0/0", 6: "::/0"}


@dataclass(frozen=True, slots=True)
class AddressAtom:
    """Addresses [start, end] of one IP family that every policy treats alike; ``peer`` stands for all of them."""

    version: int
    start: int
    end: int

    @property
    def peer(self) -> ExternalPeer:
        return ExternalPeer(str(_address(self.version, self.start)))


@dataclass(frozen=True, slots=True)
class IpBlockText:
    """One block of an address set as a NetworkPolicy ipBlock has it: a CIDR, minus excepts inside it."""

    cidr: str
    excepts: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.excepts:
            return self.cidr
        if len(self.excepts) == 1:
            return f"{self.cidr} except {self.excepts[0]}"
        return f"{self.cidr} except ({', '.join(self.excepts)})"

    def to_dict(self) -> dict[str, object]:
        return {"cidr": self.cidr, "except": list(self.excepts)}


def _address(version: int, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def _policies(compiled: CompiledSnapshot) -> list[CompiledPolicy]:
    out: list[CompiledPolicy] = [p for ps in compiled.network_policies.values() for p in ps]
    out += list(compiled.admin_policies)
    if compiled.baseline is not None:
        out.append(compiled.baseline)
    return out


def address_atoms(compiled: CompiledSnapshot, singles: Iterable[str] = ()) -> list[AddressAtom]:
    """Both families (IPv4 first), each cut at the first address and one past the last of every CIDR and except.

    singles: addresses that are atoms of their own -- the nodes pods run on, since "traffic to and from the node
    where a Pod is running is always allowed" makes a node's address unlike its neighbours for those pods.
    A family no policy mentions is one atom (all of it): traffic there is decided by isolation and "all peers"
    rules alone, which still makes it allowed or denied as a whole.
    """
    cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
    for text in (*singles, *compiled.cni_addresses()):
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        cuts[ip.version].update((int(ip), int(ip) + 1))
    for p in _policies(compiled):
        for rules in (p.ingress or (), p.egress or ()):
            for rule in rules:
                for pm in rule.peers:
                    if pm.kind not in ("ipBlock", "networks"):
                        continue
                    for net in (*pm.cidrs, *pm.excepts):
                        start = int(net.network_address)
                        cuts[net.version].add(start)
                        cuts[net.version].add(start + net.num_addresses)
    for net in compiled.cni_networks():  # Calico nets / network sets
        start = int(net.network_address)
        cuts[net.version].add(start)
        cuts[net.version].add(start + net.num_addresses)
    atoms: list[AddressAtom] = []
    for version in (4, 6):
        points = sorted(c for c in cuts[version] if c < _SPACE[version])
        points.append(_SPACE[version])
        atoms.extend(AddressAtom(version, a, b - 1) for a, b in zip(points, points[1:], strict=False))
    return atoms


def node_addresses(peers: Iterable[Peer]) -> set[str]:
    """The addresses of the nodes the pods run on (as far as known)."""
    return {ip for p in peers if isinstance(p, PodPeer) for ip in p.node_ips}


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + 1:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _cidrs(version: int, intervals: Sequence[tuple[int, int]]) -> list[str]:
    nets: list[str] = []
    for a, b in intervals:
        nets.extend(str(n) for n in ipaddress.summarize_address_range(_address(version, a), _address(version, b)))
    return nets


def blocks(atoms: Iterable[AddressAtom]) -> tuple[IpBlockText, ...]:
    """The fewest blocks for a set of atoms, per family: the CIDRs that cover it, or the whole family except the
    CIDRs of what is missing when that is shorter (``0.0.0.0/0 except 10.0.0.0/8`` instead of 29 CIDRs)."""
    by_version: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for atom in atoms:
        by_version[atom.version].append((atom.start, atom.end))
    out: list[IpBlockText] = []
    for version in (4, 6):
        have = _merge(by_version[version])
        if not have:
            continue
        top = _SPACE[version] - 1
        if have == [(0, top)]:
            out.append(IpBlockText(_ALL[version]))
            continue
        missing = complement(have, 0, top)
        inside, outside = _cidrs(version, have), _cidrs(version, missing)
        if len(outside) < len(inside):
            out.append(IpBlockText(_ALL[version], tuple(outside)))
        else:
            out.extend(IpBlockText(c) for c in inside)
    return tuple(out)


def describe(atoms: Iterable[AddressAtom]) -> str:
    """Blocks as text, comma-separated: ``0.0.0.0/0 except 10.0.0.0/8, ::/0``."""
    return ", ".join(b.describe() for b in blocks(atoms))


def contains(block: IpBlockText, address: str) -> bool:
    """Is an address inside the block (inside its CIDR and in none of its excepts)?"""
    ip = ipaddress.ip_address(address)
    net = ipaddress.ip_network(block.cidr)
    if ip.version != net.version or ip not in net:
        return False
    return not any(ip in ipaddress.ip_network(e) for e in block.excepts if ipaddress.ip_network(e).version == ip.version)


# --- per-pair flows to and from outside the cluster ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExternalFlow:
    """Addresses outside the cluster that one pod/workload may (or may not) reach, or be reached from, on a port.

    index: position of the pod/workload in the sources (egress) or destinations (ingress) given; blocks: the
    addresses, as few ipBlocks as possible; allowed/egress/ingress as in a per-pair row (three-valued).
    """

    direction: str  # "egress": pod -> addresses; "ingress": addresses -> pod
    index: int
    port: int | str | None
    protocol: str
    blocks: tuple[IpBlockText, ...]
    allowed: bool | None
    egress: bool | None
    ingress: bool | None

    @property
    def ref(self) -> str:
        """``ip:0.0.0.0/0 except 10.0.0.0/8, ::/0`` -- the external end as the JSON contract names it."""
        return "ip:" + ", ".join(b.describe() for b in self.blocks)


_ORDER = {True: 0, None: 1, False: 2}


def external_egress(
    compiled: CompiledSnapshot, sources: Sequence[Peer], ports: Sequence[tuple[int | str | None, str]]
) -> Iterator[ExternalFlow]:
    """Per source (input order) and port: the address space split into allowed / unknown / denied parts, one flow
    per non-empty part. Computed per class of sources, so it costs a few bitsets, not sources x addresses."""
    atoms = address_atoms(compiled, node_addresses(sources))
    if not sources or not ports:
        return
    res = compute_paths(compiled, list(sources), [a.peer for a in atoms], list(ports))
    cache: dict[tuple[int, int], list[_Part]] = {}
    by_states: dict[tuple[Any, ...], list[_Part]] = {}  # most classes see the addresses alike: blocks drawn once
    for i, sc in enumerate(res.source_class):
        for k, (port, protocol) in enumerate(res.ports):
            parts = cache.get((k, sc))
            if parts is None:
                states = tuple(_state(res, k, sc, res.dest_class[j]) for j in range(len(atoms)))
                parts = by_states.get(states)
                if parts is None:
                    parts = by_states[states] = _parts(atoms, states)
                cache[(k, sc)] = parts
            for bl, a, e, n in parts:
                yield ExternalFlow("egress", i, port, protocol, bl, a, e, n)


def external_ingress(
    compiled: CompiledSnapshot, destinations: Sequence[Peer], ports: Sequence[tuple[int | str | None, str]]
) -> Iterator[ExternalFlow]:
    """Per destination (input order) and port: which addresses outside the cluster may open connections to it."""
    atoms = address_atoms(compiled, node_addresses(destinations))
    if not destinations or not ports:
        return
    res = compute_paths(compiled, [a.peer for a in atoms], list(destinations), list(ports))
    cache: dict[tuple[int, int], list[_Part]] = {}
    by_states: dict[tuple[Any, ...], list[_Part]] = {}
    for j, dc in enumerate(res.dest_class):
        for k, (port, protocol) in enumerate(res.ports):
            parts = cache.get((k, dc))
            if parts is None:
                states = tuple(_state(res, k, res.source_class[i], dc) for i in range(len(atoms)))
                parts = by_states.get(states)
                if parts is None:
                    parts = by_states[states] = _parts(atoms, states)
                cache[(k, dc)] = parts
            for bl, a, e, n in parts:
                yield ExternalFlow("ingress", j, port, protocol, bl, a, e, n)


_Part = tuple[tuple[IpBlockText, ...], bool | None, bool | None, bool | None]


def _state(res: Any, k: int, sc: int, dc: int) -> tuple[bool | None, bool | None, bool | None]:
    bit = 1 << dc

    def tri(known: list[list[int]], unknown: list[list[int]]) -> bool | None:
        return None if unknown[k][sc] & bit else bool(known[k][sc] & bit)

    return tri(res.matrix, res.unknown), tri(res.egress, res.egress_unknown), tri(res.ingress, res.ingress_unknown)


def _parts(atoms: Sequence[AddressAtom], states: Sequence[tuple[bool | None, bool | None, bool | None]]) -> list[_Part]:
    groups: dict[tuple[bool | None, bool | None, bool | None], list[AddressAtom]] = {}
    for atom, st in zip(atoms, states, strict=True):
        groups.setdefault(st, []).append(atom)
    return [
        (blocks(g), *st)
        for st, g in sorted(groups.items(), key=lambda kv: (_ORDER[kv[0][0]], _ORDER[kv[0][1]], _ORDER[kv[0][2]]))
    ]


__all__ = [
    "AddressAtom",
    "ExternalFlow",
    "IpBlockText",
    "address_atoms",
    "blocks",
    "contains",
    "describe",
    "external_egress",
    "external_ingress",
]
