"""Records of the access engine: footholds, what they reach, audit findings. Plain data, JSON-ready via ``to_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cluster.snapshot import Workload

# Severity order (lowest first); `audit --fail-on` compares against it.
SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


# Foothold kinds, from the least to the most powerful.
POD = "pod"  # exec / attach / port-forward into existing pods (per pod or workload)
SERVICE = "service"  # proxy to a Service through the API server
CREATE = "create"  # create pods or workloads in a namespace: "any pod labels in that namespace"
NETPOL = "networkpolicies"  # create/update/patch/delete NetworkPolicies: "can rewrite the rules"


@dataclass(frozen=True, slots=True)
class Subject:
    """Who: an identity (user + groups) as the authorizer sees it, or one RBAC subject (kind Group/User/ServiceAccount)."""

    kind: str  # "Identity" | "User" | "Group" | "ServiceAccount"
    name: str
    groups: tuple[str, ...] = ()
    namespace: str | None = None

    @property
    def ref(self) -> str:
        if self.kind == "ServiceAccount":
            return f"serviceaccount {self.namespace}/{self.name}"
        if self.kind == "Identity":
            groups = f" (groups {', '.join(self.groups)})" if self.groups else ""
            return f"{self.name or '(no user)'}{groups}"
        return f"{self.kind.lower()} {self.name}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.groups:
            out["groups"] = list(self.groups)
        if self.namespace:
            out["namespace"] = self.namespace
        return out


@dataclass(frozen=True, slots=True)
class Access:
    """One permission that makes a foothold: the action ("exec", "create pods", ...) and the grant that gives it."""

    action: str
    grant: str  # "RoleBinding shop/devs-edit -> ClusterRole edit, rule 3", or the live authorizer's reason

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "grant": self.grant}


@dataclass(frozen=True, slots=True)
class Foothold:
    """A place the identity can act from.

    kind POD: ``target`` is a pod or workload ref and ``workloads`` its pods; SERVICE: ``target`` is NS/svc/NAME;
    CREATE: ``target`` is NS/* (any pod labels in the namespace); NETPOL: ``target`` is NS/networkpolicies.
    """

    kind: str
    namespace: str
    target: str
    access: tuple[Access, ...]
    workloads: tuple[Workload, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.action for a in self.access))

    @property
    def display(self) -> str:
        """How tables name it: "pod frontend/deployment/web", "new pods in shop", "NetworkPolicies of shop"."""
        if self.kind == CREATE:
            return f"new pods in {self.namespace}"
        if self.kind == NETPOL:
            return f"NetworkPolicies of {self.namespace}"
        if self.kind == SERVICE:
            return f"proxy to {self.target}"
        return f"pod {self.target}"

    def actions_text(self, limit: int = 99) -> str:
        """Actions with the verbs of one resource folded: "create/patch deployments, exec"."""
        folded: dict[str, list[str]] = {}
        for a in self.actions:
            verb, _, res = a.partition(" ")
            if res and verb in ("create", "update", "patch", "delete"):
                folded.setdefault(res, []).append(verb)
            else:
                folded.setdefault(a, [])
        parts = [f"{'/'.join(v)} {k}" if v else k for k, v in folded.items()]
        return ", ".join(parts[:limit]) + (f" (+{len(parts) - limit})" if len(parts) > limit else "")

    @property
    def obtained(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.grant for a in self.access))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "target": self.target,
            "display": self.display,
            "actions": list(self.actions),
            "access": [a.to_dict() for a in self.access],
        }


@dataclass(frozen=True, slots=True)
class Destination:
    """A destination reached from a foothold: a workload/pod (ports allowed), a Service, or an external CIDR.

    ``labels`` is the label set a created pod would wear to get there (CREATE footholds); ``via`` names the
    policies that allow it (egress, ingress) when any do.
    """

    ref: str
    namespace: str | None
    ports: tuple[str, ...]  # "8080/TCP", "any/TCP", "http=8080/TCP"
    labels: Mapping[str, str] | None = None
    via: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"to": self.ref, "namespace": self.namespace, "ports": list(self.ports)}
        if self.labels is not None:
            out["asLabels"] = dict(self.labels)
        if self.via:
            out["via"] = list(self.via)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Reach:
    """A foothold and what it reaches, with its risk (critical/high/medium/low) and why."""

    foothold: Foothold
    destinations: tuple[Destination, ...]
    risk: str
    risk_reason: str
    unknown: int = 0  # destinations whose verdict is unknown (a gap: 403, unreadable labels)
    any_destination: bool = False  # NETPOL footholds: any flow in/out of the namespace can be opened

    @property
    def cross_namespace(self) -> tuple[Destination, ...]:
        return tuple(d for d in self.destinations if d.namespace is not None and d.namespace != self.foothold.namespace)

    def top(self, n: int = 3) -> list[str]:
        # Other namespaces first (what the foothold adds), then external ranges, its own namespace, DNS last.
        def rank(d: Destination) -> tuple[int, str]:
            numbers = [p.split("/", 1)[0].rsplit("=", 1)[-1] for p in d.ports]
            if numbers and all(x == "53" for x in numbers):
                return 3, d.ref
            if d.namespace is None:
                return 1, d.ref
            return (0 if d.namespace != self.foothold.namespace else 2), d.ref

        return [d.ref for d in sorted(self.destinations, key=rank)[:n]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "foothold": self.foothold.to_dict(),
            "risk": self.risk,
            "riskReason": self.risk_reason,
            "reachable": len(self.destinations),
            "crossNamespace": len(self.cross_namespace),
            "anyDestination": self.any_destination,
            "unknown": self.unknown,
            "destinations": [d.to_dict() for d in self.destinations],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One audit result: severity, the check, the object, a one-line reason and a fix hint."""

    severity: str
    check: str
    object: str
    reason: str
    hint: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "check": self.check,
            "object": self.object,
            "reason": self.reason,
            "hint": self.hint,
        }
        if self.details:
            out["details"] = dict(self.details)
        return out


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-severity_rank(f.severity), f.check, f.object, f.reason))
