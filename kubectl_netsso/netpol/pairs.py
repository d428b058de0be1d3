"""FROM and TO as can-reach resolves them -> a verdict per pod pair (or address range), and the one answer.

can-reach and ``audit --expect`` both answer through here, so the same endpoints always get the same verdict:
allowed when every pair is allowed, denied when some pair is denied, unknown otherwise (never a silent "allowed").
A Service destination stands for its serving backends on the Service port's targetPort (endpoints.targets). An
``ip:CIDR`` end stands for every address in it: the range is cut at each boundary of the policies' ipBlock / networks
ranges and at the far end's node addresses, so all addresses of one piece get the same verdict and one address per
piece decides it. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import NetssoError
from .compile import CompiledSnapshot
from .endpoints import Endpoint, targets
from .evaluate import evaluate_flow
from .generate import allow_endpoints
from .model import ExternalPeer, Flow, Peer, PodPeer, Verdict

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class PairResult:
    """One source pod/workload (or address range) -> one destination: the engine's Verdict, or a problem found before
    it (a backend without the Service's named targetPort)."""

    source: str
    destination: str
    port: int | str | None
    verdict: Verdict | None = None
    problem: str | None = None

    @property
    def allowed(self) -> bool | None:
        if self.problem is not None:
            return False
        return self.verdict.allowed if self.verdict is not None else None

    def to_dict(self) -> dict[str, Any]:
        if self.verdict is not None:
            d: dict[str, Any] = dict(self.verdict.to_dict())
            d["from"], d["to"] = self.source, self.destination  # an address range, not its representative address
        else:
            d = {"from": self.source, "to": self.destination, "port": self.port, "allowed": False}
        d["problem"] = self.problem
        return d


@dataclass(frozen=True, slots=True)
class EndpointsResult:
    """Every pair of one FROM -> TO question; ``protocol`` is the one evaluated (a Service port's, when TO is one)."""

    source: Endpoint
    destination: Endpoint
    port: int | str | None
    protocol: str
    pairs: tuple[PairResult, ...]
    service: dict[str, Any] | None = None
    ranges: bool = field(default=False)  # an end is ip:CIDR: pairs are address ranges

    @property
    def allowed(self) -> bool | None:
        return overall([p.allowed for p in self.pairs])


def overall(values: Sequence[bool | None]) -> bool | None:
    """All pairs allowed -> allowed; any denied -> denied; otherwise unknown (never a silent 'allowed')."""
    if values and all(v is True for v in values):
        return True
    if any(v is False for v in values):
        return False
    return None


def evaluate_endpoints(
    compiled: CompiledSnapshot, src: Endpoint, dst: Endpoint, port: int | str | None, protocol: str, *, explain: bool = True
) -> EndpointsResult:
    """Every (source, destination) pair of the endpoints on port/protocol (port None: some port of the protocol)."""
    protocol = asked_protocol = protocol.upper()
    service: dict[str, Any] | None = None
    dst_targets: list[tuple[Peer, str, int | str | None, str | None]] = []  # peer, shown name, port, problem
    if dst.service is not None:
        tgts, sp = targets(dst, port, protocol)
        assert sp is not None
        protocol = sp.protocol.upper()
        service = {
            "namespace": dst.service.namespace,
            "name": dst.service.name,
            "port": sp.port,
            "portName": sp.name,
            "targetPort": sp.target_port,
            "protocol": protocol,
            "backends": [t.workload.ref for t in tgts],
            # selected by the Service but without its named targetPort: not endpoints of this Service port
            "notServing": sorted({w.ref for w in dst.workloads} - {t.workload.ref for t in tgts}),
        }
        for t in tgts:
            peer = compiled.peer(t.workload)
            dst_targets.append((peer, peer.ref, t.port, t.problem))
    src_peers = endpoint_peers(compiled, src, near=[] if dst.is_external else _peers_of(compiled, dst))
    if dst.service is None:
        near = [] if src.is_external else [p for p, _ in src_peers]
        dst_targets = [(peer, shown, port, None) for peer, shown in endpoint_peers(compiled, dst, near=near)]
    pairs: list[PairResult] = []
    for speer, sshown in src_peers:
        for dpeer, dshown, dport, problem in dst_targets:
            if problem is not None:
                pairs.append(PairResult(sshown, dshown, dport, problem=problem))
                continue
            verdict = evaluate_flow(compiled, Flow(speer, dpeer, dport, protocol), explain=explain)
            if verdict.fix:
                verdict = _endpoint_fix(compiled, verdict, src, dst, port, asked_protocol)
            pairs.append(PairResult(sshown, dshown, dport, verdict=verdict))
    return EndpointsResult(src, dst, port, protocol, tuple(pairs), service, ranges=src.is_range or dst.is_range)


def _endpoint_fix(
    compiled: CompiledSnapshot, verdict: Verdict, src: Endpoint, dst: Endpoint, port: int | str | None, protocol: str
) -> Verdict:
    """The engine's fix for a denied pair, generated from the endpoints as `policy allow` would (same labels, same
    port, same name); the engine decided which sides need one (an ANP deny or an undefined named port: none)."""
    sides = tuple(d.direction for d in (verdict.egress, verdict.ingress) if d.allowed is False)
    if port is None and dst.service is None:
        port = verdict.resolved_port
        if port is None and isinstance(verdict.flow.destination, PodPeer):
            declared = [cp.port for cp in verdict.flow.destination.ports if cp.protocol.upper() == protocol]
            port = declared[0] if declared else None
    try:
        objs = allow_endpoints(compiled.snapshot, src, dst, port, protocol, sides)
    except NetssoError:
        return verdict  # the engine's own (per pod) policy stands
    return replace(verdict, fix=tuple(objs))


def fix_command(src: Endpoint, dst: Endpoint, port: int | str | None, protocol: str, sides: Sequence[str]) -> str | None:
    """The `kubectl netsso policy allow ...` line that prints the same policies (None for selector endpoints)."""
    if "selector" in (src.kind, dst.kind):
        return None
    args = ["kubectl", "netsso", "policy", "allow", src.ref, dst.ref]
    if port is not None:
        args += ["--port", str(port)]
    if protocol.upper() != "TCP":
        args += ["--protocol", protocol.upper()]
    if len(set(sides)) == 1:
        args += ["--side", sides[0]]
    return " ".join(shlex.quote(a) for a in args)


def _peers_of(compiled: CompiledSnapshot, ep: Endpoint) -> list[Peer]:
    return [p for p, _ in endpoint_peers(compiled, ep)]


def endpoint_peers(compiled: CompiledSnapshot, ep: Endpoint, near: Sequence[Peer] = ()) -> list[tuple[Peer, str]]:
    """The peers an endpoint stands for, each with the name output shows for it.

    An ip:CIDR becomes one address per piece of the range (see module docstring); ``near`` are the pods at the
    other end, whose node addresses are pieces of their own (traffic with a pod's own node is always allowed).
    """
    if ep.ip is not None:
        if not ep.is_range:
            return [(ExternalPeer(ep.ip), ep.ref)]
        return [(ExternalPeer(addr), f"ip:{text}") for addr, text in address_pieces(compiled, ep.ip, near)]
    if ep.kind == "selector":
        w = ep.workloads[0]
        peer = compiled.selector_peer(w.namespace, w.labels, (), name=w.name)
        return [(peer, ep.ref)]
    out: list[tuple[Peer, str]] = []
    for w in ep.workloads:
        peer = compiled.peer(w)
        out.append((peer, peer.ref))
    return out


def _policy_networks(compiled: CompiledSnapshot) -> Iterable[IpNetwork]:
    policies = [p for ps in compiled.network_policies.values() for p in ps]
    policies += list(compiled.admin_policies) + ([compiled.baseline] if compiled.baseline is not None else [])
    for p in policies:
        for rules in (p.ingress or (), p.egress or ()):
            for rule in rules:
                for pm in rule.peers:
                    if pm.kind in ("ipBlock", "networks"):
                        yield from pm.cidrs
                        yield from pm.excepts


def address_pieces(compiled: CompiledSnapshot, network: str, near: Sequence[Peer] = ()) -> list[tuple[str, str]]:
    """(one address, the piece it stands for as CIDR or FIRST-LAST) covering ``network``, in address order.

    Cuts: both ends of every policy range overlapping the network, and each node address of the ``near`` pods (a
    piece of one address: that pod's own node). No verdict changes inside a piece.
    """
    net = ipaddress.ip_network(network, strict=False)
    lo, hi = int(net.network_address), int(net.broadcast_address)
    marks = {lo, hi + 1}

    def cut(first: int, last: int) -> None:
        if last < lo or first > hi:
            return
        marks.add(max(first, lo))
        marks.add(min(last, hi) + 1)

    for other in _policy_networks(compiled):
        if other.version == net.version:
            cut(int(other.network_address), int(other.broadcast_address))
    for peer in near:
        for text in node_addresses(peer):
            try:
                addr = ipaddress.ip_address(text)
            except ValueError:
                continue
            if addr.version == net.version:
                cut(int(addr), int(addr))
    points = sorted(marks)
    make = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    out: list[tuple[str, str]] = []
    for first, after in zip(points, points[1:], strict=False):
        a, b = make(first), make(after - 1)
        nets = list(ipaddress.summarize_address_range(a, b))
        text = str(nets[0]) if len(nets) == 1 else f"{a}-{b}"
        if text.endswith("/32") or text.endswith("/128"):
            text = str(a)
        out.append((str(a), text))
    return out


def node_addresses(peer: Peer) -> tuple[str, ...]:
    """The addresses of the node a pod runs on, when known (empty for workloads and external addresses)."""
    if isinstance(peer, PodPeer):
        return tuple(getattr(peer, "node_ips", ()) or ())
    return ()


__all__ = [
    "EndpointsResult",
    "PairResult",
    "address_pieces",
    "endpoint_peers",
    "evaluate_endpoints",
    "fix_command",
    "overall",
]
