"""Port matching for NetworkPolicyPort and ANP AdminNetworkPolicyPort: number, named port, endPort/portRange, protocol.

Named ports are always resolved on the DESTINATION pod, by name and protocol ("The port on the given protocol. This
can either be a numerical or named port on a pod." -- networking/v1 types.go, NetworkPolicyPort.Port).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..cluster.snapshot import ContainerPort
from .model import PROTOCOLS


class PortError(ValueError):
    """A port entry the API server would reject."""


@dataclass(frozen=True, slots=True)
class Request:
    """The requested destination port as seen on one destination: number after resolution, the name if asked by
    name, the protocol; ``problem`` says why a named request could not be resolved on the destination."""

    number: int | None
    name: str | None
    protocol: str
    problem: str | None = None

    def describe(self) -> str:
        if self.name is not None and self.number is not None:
            return f"{self.name}={self.number}/{self.protocol}"
        if self.name is not None:
            return f"{self.name}/{self.protocol}"
        return f"{self.number}/{self.protocol}"


def resolve_named(name: str, protocol: str, dest_ports: Sequence[ContainerPort] | None) -> int | None:
    """A container port number by name AND protocol on the destination pod; None when it has no such port.

    dest_ports None means the destination is not a pod (an external IP): "a named port never matches an ipBlock".
    """
    if dest_ports is None:
        return None
    for cp in dest_ports:
        if cp.name == name and cp.protocol.upper() == protocol:
            return cp.port
    return None


def make_request(port: int | str, protocol: str, dest_ports: Sequence[ContainerPort] | None, dest_ref: str = "") -> Request:
    """Resolve the requested port on one destination (a name is looked up on the destination pod)."""
    protocol = protocol.upper()
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, int):
        return Request(port, None, protocol)
    number = resolve_named(port, protocol, dest_ports)
    if number is None:
        where = f"pod {dest_ref}" if dest_ports is not None else f"{dest_ref or 'an external address'} (not a pod)"
        return Request(None, port, protocol, f"named port {port} ({protocol}) not defined on {where}")
    return Request(number, port, protocol)


@dataclass(frozen=True, slots=True)
class PortMatcher:
    """One port entry: protocol, and port (number or name; None = every port of the protocol) up to end_port."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    def matches(self, request: Request, dest_ports: Sequence[ContainerPort] | None) -> bool:
        return self.mismatch(request, dest_ports) is None

    def resolved(self, protocol: str, dest_ports: Sequence[ContainerPort] | None) -> tuple[int, int] | None:
        """The inclusive number range this entry allows on a destination (None: a named port it lacks)."""
        if self.port is None:
            return (1, 65535)
        if isinstance(self.port, str):
            n = resolve_named(self.port, protocol, dest_ports)
            return None if n is None else (n, n)
        return (self.port, self.end_port if self.end_port is not None else self.port)

    def mismatch(self, request: Request, dest_ports: Sequence[ContainerPort] | None, dest_ref: str = "") -> str | None:
        """None when the entry matches the request, else why not (a human sentence fragment)."""
        # "protocol ... If not specified, this field defaults to TCP." (NetworkPolicyPort.Protocol)
        if self.protocol != request.protocol:
            return f"allows {self.describe()}; request is {request.describe()}"
        if self.port is None:
            # "If this field is not provided, this matches all port names and numbers." (NetworkPolicyPort.Port)
            return None
        if isinstance(self.port, str):
            n = resolve_named(self.port, self.protocol, dest_ports)
            if n is None:
                where = f"pod {dest_ref}" if dest_ports is not None else f"{dest_ref or 'the destination'} (not a pod)"
                return f"named port {self.port} ({self.protocol}) not defined on {where}"
            if request.number == n:
                return None
            return f"allows port {self.port}={n}/{self.protocol}; request is {request.describe()}"
        if request.number is None:
            return f"allows {self.describe()}; {request.problem or 'request port unresolved'}"
        lo, hi = self.port, self.end_port if self.end_port is not None else self.port
        # "endPort indicates that the range of ports from port to endPort if set, inclusive, should be allowed by
        # the policy." (NetworkPolicyPort.EndPort)
        if lo <= request.number <= hi:
            return None
        return f"allows {self.describe()}; request is {request.describe()}"

    def describe(self) -> str:
        if self.port is None:
            return f"all ports/{self.protocol}"
        if self.end_port is not None and self.end_port != self.port:
            return f"ports {self.port}-{self.end_port}/{self.protocol}"
        return f"port {self.port}/{self.protocol}"

    def boundaries(self, protocol: str, dest_ports: Sequence[ContainerPort] | None) -> Iterable[int]:
        """Port numbers where this entry's answer can change (for "any port" requests)."""
        rng = self.resolved(protocol, dest_ports) if self.protocol == protocol else None
        if rng is not None:
            yield rng[0]
            if rng[1] < 65535:
                yield rng[1] + 1


def _protocol(value: Any) -> str:
    proto = "TCP" if value is None else str(value).upper()
    if proto not in PROTOCOLS:
        raise PortError(f"protocol {value!r}: must be TCP, UDP or SCTP")
    return proto


def _port_value(value: Any) -> int | str:
    if isinstance(value, bool):
        raise PortError(f"port {value!r}: must be a number or a port name")
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            raise PortError(f"port {value}: must be 1-65535")
        return value
    text = str(value).strip()
    if text.isdigit():
        return _port_value(int(text))
    if not text:
        raise PortError("empty port name")
    return text


def parse_np_port(entry: Mapping[str, Any]) -> PortMatcher:
    """A NetworkPolicyPort {protocol, port, endPort}."""
    if not isinstance(entry, Mapping):
        raise PortError("each ports entry must be a mapping")
    protocol = _protocol(entry.get("protocol"))
    raw = entry.get("port")
    port = None if raw is None else _port_value(raw)
    end = entry.get("endPort")
    end_port: int | None = None
    if end is not None:
        # "The endPort must be equal or greater than port. ... cannot be defined if the port field is not defined
        # or if the port field is defined as a named (string) port." (NetworkPolicyPort.EndPort)
        if not isinstance(port, int):
            raise PortError("endPort requires a numeric port")
        e = _port_value(end)
        if not isinstance(e, int) or e < port:
            raise PortError(f"endPort {end} must be a number >= port {port}")
        end_port = e
    return PortMatcher(protocol, port, end_port)


def parse_anp_port(entry: Mapping[str, Any]) -> PortMatcher:
    """An AdminNetworkPolicyPort: exactly one of portNumber {protocol, port}, namedPort, portRange {protocol, start, end}.

    "namedPort selects the destination port on a pod based on the ContainerPort name" / "portRange selects a port
    range on a pod ... Start defines a network port that is the start of a port range, the Start value must be less
    than End." (network-policy-api apis/v1alpha1 shared_types.go)
    """
    if not isinstance(entry, Mapping):
        raise PortError("each ports entry must be a mapping")
    set_fields = [k for k in ("portNumber", "namedPort", "portRange") if entry.get(k) is not None]
    if len(set_fields) != 1:
        raise PortError("an ANP port entry needs exactly one of portNumber, namedPort, portRange")
    kind = set_fields[0]
    if kind == "namedPort":
        name = _port_value(entry["namedPort"])
        if not isinstance(name, str):
            raise PortError("namedPort must be a name")
        # A namedPort has no protocol field: the container port's own protocol applies; we match it per protocol
        # by trying the requested protocol (see resolve_named).
        return PortMatcher("*", name, None)
    body = entry[kind]
    if not isinstance(body, Mapping):
        raise PortError(f"{kind} must be a mapping")
    protocol = _protocol(body.get("protocol"))
    if kind == "portNumber":
        p = _port_value(body.get("port"))
        if not isinstance(p, int):
            raise PortError("portNumber.port must be a number")
        return PortMatcher(protocol, p, None)
    start, end = _port_value(body.get("start")), _port_value(body.get("end"))
    if not isinstance(start, int) or not isinstance(end, int) or start >= end:
        raise PortError("portRange needs numeric start < end")
    return PortMatcher(protocol, start, end)


def any_protocol(matcher: PortMatcher, protocol: str) -> PortMatcher:
    """ANP namedPort entries carry no protocol: bind them to the request's protocol for matching."""
    if matcher.protocol == "*":
        return PortMatcher(protocol, matcher.port, matcher.end_port)
    return matcher
