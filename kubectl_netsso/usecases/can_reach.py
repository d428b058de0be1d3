"""can-reach: one FROM -> TO question answered per pod pair, with the reasons and a policy that would allow it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError

if TYPE_CHECKING:
    from ..netpol.endpoints import Endpoint
    from ..netpol.pairs import EndpointsResult, PairResult
    from .source import Source

STATUS = {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}
EXAMPLE_HINT = "e.g. can-reach frontend/deploy/web shop/svc/api --port 80"


@dataclass(frozen=True, slots=True)
class CanReachInput:
    """FROM/TO as typed (NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME, ip:...) or as label selectors; --port as typed."""

    source: str | None = None
    destination: str | None = None
    port_text: str | None = None
    protocol: str = "TCP"
    from_selector: str | None = None
    from_namespace: str | None = None
    to_selector: str | None = None
    to_namespace: str | None = None
    ipblock_pods: str | None = None  # None: what the CNI does (match; ignore under Cilium)


@dataclass(frozen=True, slots=True)
class CanReachResult:
    source: Endpoint
    destination: Endpoint
    port: int | str | None
    answer: EndpointsResult
    fix: tuple[dict[str, Any], ...]  # minimal allowing NetworkPolicies (empty unless denied and fixable)
    fix_command: str | None
    warnings: tuple[str, ...]
    source_text: str  # where the facts came from (the snapshot's source)
    cni: str = "generic"  # whose semantics decided (netpol.compile): generic, calico, cilium

    @property
    def allowed(self) -> bool | None:
        return self.answer.allowed

    @property
    def pairs(self) -> tuple[PairResult, ...]:
        return self.answer.pairs

    @property
    def exit_code(self) -> int:
        return {True: EXIT_OK, False: EXIT_NO, None: EXIT_ERROR}[self.allowed]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON of can-reach."""
        return {
            "status": STATUS[self.allowed],
            "allowed": self.allowed,
            "from": self.source.ref,
            "to": self.destination.ref,
            "port": self.port,
            "protocol": self.answer.protocol,
            "service": self.answer.service,
            "flows": [r.to_dict() for r in self.pairs],
            "fix": [dict(o) for o in self.fix],
            "fixCommand": self.fix_command,
            "warnings": list(self.warnings),
            "source": self.source_text,
            "cni": self.cni,
        }


def _usage(message: str, hint: str | None = None) -> NetssoError:
    return NetssoError(message, hint=hint, exit_code=EXIT_USAGE)


def normalise(inp: CanReachInput) -> CanReachInput:
    """Check the FROM/TO combination before anything is read (usage errors first)."""
    source, destination = inp.source, inp.destination
    if inp.from_selector and source and destination is None:
        source, destination = None, source  # `can-reach --from-selector app=x TO`: the one positional is TO
    if bool(source) == bool(inp.from_selector):
        raise _usage("give exactly one source: FROM or --from-selector", hint=EXAMPLE_HINT)
    if bool(destination) == bool(inp.to_selector):
        if destination is None and source and not inp.from_selector and not inp.to_selector:
            raise _usage("missing TO", hint=EXAMPLE_HINT)
        raise _usage("give exactly one destination: TO or --to-selector")
    return CanReachInput(
        source, destination, inp.port_text, inp.protocol.upper(), inp.from_selector, inp.from_namespace,
        inp.to_selector, inp.to_namespace, inp.ipblock_pods,
    )  # fmt: skip


def run(inp: CanReachInput, source: Source) -> CanReachResult:
    from ..netpol import endpoints
    from ..netpol.pairs import evaluate_endpoints, fix_command

    inp = normalise(inp)
    port = endpoints.parse_port(inp.port_text)
    from_labels = endpoints.parse_labels(inp.from_selector) if inp.from_selector else None
    to_labels = endpoints.parse_labels(inp.to_selector) if inp.to_selector else None

    def wanted(default_ns: str) -> list[str]:
        # live: only the namespaces of the two ends are read
        names: set[str] = set()
        ends = ((inp.source, inp.from_namespace, from_labels), (inp.destination, inp.to_namespace, to_labels))
        for text, sel_ns, labels in ends:
            if labels is not None:
                names.add(sel_ns or default_ns)
            elif text and not text.lower().startswith("ip:"):
                names.add(endpoints.split_endpoint(text, default_ns)[0])
        return sorted(names)

    loaded = source.load({"network"}, wanted, cni=True)
    snap, ns = loaded.snapshot, loaded.namespace
    src = (
        endpoints.selector_endpoint(snap, from_labels, inp.from_namespace or ns)
        if from_labels is not None
        else endpoints.resolve_endpoint(snap, inp.source or "", ns, role="source")
    )
    dst = (
        endpoints.selector_endpoint(snap, to_labels, inp.to_namespace or ns)
        if to_labels is not None
        else endpoints.resolve_endpoint(snap, inp.destination or "", ns, role="destination")
    )
    if src.is_external and dst.is_external:
        raise _usage("both FROM and TO are outside the cluster: no NetworkPolicy applies", hint="one end must be in the cluster")
    compiled = source.compile(loaded, inp.ipblock_pods)
    warnings = loaded.warnings(list(compiled.warnings) or None)
    answer = evaluate_endpoints(compiled, src, dst, port, inp.protocol)
    fix: tuple[dict[str, Any], ...] = ()
    command = None
    if answer.allowed is False:
        fix = _fix(answer.pairs)
        if fix:
            sides = [str(o["spec"]["policyTypes"][0]).lower() for o in fix]
            command = fix_command(src, dst, port, inp.protocol, sides)
    return CanReachResult(src, dst, port, answer, fix, command, tuple(warnings), snap.source, compiled.cni)


def _fix(pairs: tuple[PairResult, ...]) -> tuple[dict[str, Any], ...]:
    """The minimal allowing policies from the engine's explanation of the first denied pair.

    Empty when no NetworkPolicy can fix it (e.g. an AdminNetworkPolicy Deny: the verdict carries a note instead).
    """
    for r in pairs:
        if r.allowed is False and r.verdict is not None:
            return tuple(dict(o) for o in r.verdict.fix)
    return ()


__all__ = ["STATUS", "CanReachInput", "CanReachResult", "run"]
