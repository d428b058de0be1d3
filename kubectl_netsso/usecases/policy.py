"""policy: ready-to-apply NetworkPolicy objects -- default-deny and allow-dns for a namespace, and the minimal
policies that allow one FROM -> TO flow (the same generator as can-reach's fix)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_USAGE, NetssoError

if TYPE_CHECKING:
    from ..cluster.target import KubeOptions
    from .source import Source


def _usage(message: str, hint: str | None = None) -> NetssoError:
    return NetssoError(message, hint=hint, exit_code=EXIT_USAGE)


@dataclass(frozen=True, slots=True)
class PolicyResult:
    objects: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...] = ()

    def to_yaml(self) -> str:
        from ..netpol.generate import to_yaml

        return to_yaml(self.objects)


@dataclass(frozen=True, slots=True)
class DefaultDenyInput:
    ingress_only: bool = False
    egress_only: bool = False
    allow_dns: bool = False


@dataclass(frozen=True, slots=True)
class AllowDnsInput:
    pod_selector: str | None = None  # None: every pod of the namespace


@dataclass(frozen=True, slots=True)
class AllowInput:
    source: str
    destination: str
    port_text: str | None = None
    protocol: str = "TCP"
    side: str = "both"  # "both" | "ingress" | "egress"


def policy_namespace(kube: KubeOptions) -> str:
    """The namespace the policies go into (the one current-namespace rule), checked as a namespace name."""
    from ..netpol.generate import PolicyInputError, _check_name
    from .source import current_namespace

    ns = current_namespace(kube)
    try:
        _check_name(ns, "namespace")
    except PolicyInputError as err:
        raise _usage(err.message) from err
    return ns


def default_deny(inp: DefaultDenyInput, kube: KubeOptions) -> PolicyResult:
    from ..netpol import generate

    if inp.ingress_only and inp.egress_only:
        raise _usage("--ingress-only and --egress-only exclude each other", hint="give neither to deny both directions")
    if inp.allow_dns and inp.ingress_only:
        raise _usage("--allow-dns goes with an egress deny, not with --ingress-only", hint="leave out --allow-dns")
    ns = policy_namespace(kube)
    objs = generate.default_deny(ns, allow_dns=inp.allow_dns, ingress=not inp.egress_only, egress=not inp.ingress_only)
    return PolicyResult(tuple(objs))


def allow_dns(inp: AllowDnsInput, kube: KubeOptions) -> PolicyResult:
    from ..netpol import endpoints, generate

    labels = endpoints.parse_labels(inp.pod_selector) if inp.pod_selector is not None else None
    return PolicyResult(tuple(generate.allow_dns_egress(policy_namespace(kube), labels)))


def run(inp: AllowInput, source: Source) -> PolicyResult:
    """policy allow FROM TO: the minimal policies for one flow (endpoint syntax as in can-reach)."""
    from ..netpol import endpoints, generate

    port = endpoints.parse_port(inp.port_text)
    protocol = inp.protocol.upper()

    def wanted(ns: str) -> list[str]:
        # live: read the namespaces of both ends (and the context's), nothing more
        ends = (t for t in (inp.source, inp.destination) if not t.lower().startswith("ip:"))
        return sorted({ns} | {endpoints.split_endpoint(t, ns)[0] for t in ends})

    loaded = source.load({"network"}, wanted)
    snap, ns = loaded.snapshot, loaded.namespace
    warnings = tuple(loaded.warnings(cni=False))
    src = endpoints.resolve_endpoint(snap, inp.source, ns, role="source")
    dst = endpoints.resolve_endpoint(snap, inp.destination, ns, role="destination")
    if src.is_external and dst.is_external:
        raise _usage(
            "both FROM and TO are outside the cluster: no NetworkPolicy applies",
            hint="one end must be a pod, workload or Service",
        )
    sides = ("ingress", "egress") if inp.side == "both" else (inp.side,)
    objs = generate.allow_endpoints(snap, src, dst, port, protocol, sides)
    if not objs:
        raise _usage(f"no policy to print for --side {inp.side} with {src.ref} -> {dst.ref}")
    return PolicyResult(tuple(objs), warnings)


__all__ = ["AllowDnsInput", "AllowInput", "DefaultDenyInput", "PolicyResult", "allow_dns", "default_deny", "run"]
