"""The traffic model and the verdict records of the NetworkPolicy engine (plain data, JSON-ready via ``to_dict``).

A flow goes from a source peer to a destination peer on one port/protocol. A peer is a pod (or a workload standing
for any pod of it, or a hypothetical pod from a selector) or an IP address outside the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..cluster.snapshot import NAMESPACE_NAME_LABEL, ContainerPort, Workload

Direction = Literal["ingress", "egress"]
PROTOCOLS = ("TCP", "UDP", "SCTP")

# Tiers, in evaluation order ("AdminNetworkPolicy ... then NetworkPolicy ... then BaselineAdminNetworkPolicy",
# network-policy-api apis/v1alpha1 adminnetworkpolicy_types.go).
KIND_NP = "NetworkPolicy"
KIND_ANP = "AdminNetworkPolicy"
KIND_BANP = "BaselineAdminNetworkPolicy"
KIND_SHORT = {
    KIND_NP: "NP",
    KIND_ANP: "ANP",
    KIND_BANP: "BANP",
    "CalicoNetworkPolicy": "Calico NP",
    "GlobalNetworkPolicy": "GNP",
    "CiliumNetworkPolicy": "CNP",
    "CiliumClusterwideNetworkPolicy": "CCNP",
}


def label_map(labels: Mapping[str, object]) -> dict[str, str]:
    """Labels as the API keeps them: string values (YAML may have turned `true` / `2` into bool / int)."""
    out: dict[str, str] = {}
    for k, v in labels.items():
        if isinstance(v, str):
            out[str(k)] = v
        elif isinstance(v, bool):
            out[str(k)] = "true" if v else "false"
        else:
            out[str(k)] = "" if v is None else str(v)
    return out


@dataclass(frozen=True, slots=True)
class PodPeer:
    """A pod (or any pod of a workload, or a hypothetical pod) as one end of a flow.

    ``name`` and ``kind`` identify it for output and for the loopback rule (a Pod to itself); ``ips`` are its pod
    IPs when known (live); ``ports`` its container ports (named ports are resolved against them when it is the
    destination); ``node`` / ``node_ips`` the node it runs on and that node's addresses, when known (pods only).
    """

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[str, ...] = ()
    host_network: bool = False
    name: str = ""
    kind: str = "Pod"
    node: str | None = None
    node_ips: tuple[str, ...] = ()
    service_account: str | None = None  # Calico and Cilium select pods by it

    @property
    def ref(self) -> str:
        """NS/NAME for pods, NS/kind/NAME for workloads (as Workload.ref)."""
        if self.kind == "Pod":
            return f"{self.namespace}/{self.name}"
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"

    @property
    def is_external(self) -> bool:
        return False

    @classmethod
    def from_workload(
        cls, workload: Workload, namespace_labels: Mapping[str, str] | None = None, node_ips: tuple[str, ...] = ()
    ) -> PodPeer:
        """A peer for a snapshot pod/workload; namespace labels default to the automatic name label only.

        node_ips: the addresses of the pod's node (its status.hostIPs plus the Node object's, when known).
        """
        ns_labels = label_map(namespace_labels or {})
        ns_labels.setdefault(NAMESPACE_NAME_LABEL, workload.namespace)
        host = tuple(dict.fromkeys((*workload.host_ips, *node_ips)))
        if workload.host_network:
            # a hostNetwork pod's IPs are its node's ("podIP ... same as hostIP for hostNetwork pods", PodStatus)
            host = tuple(dict.fromkeys((*host, *workload.ips)))
        return cls(
            namespace=workload.namespace,
            labels=label_map(workload.labels),
            namespace_labels=ns_labels,
            ports=tuple(workload.ports),
            ips=tuple(workload.ips),
            host_network=workload.host_network,
            name=workload.name,
            kind=workload.kind,
            node=workload.node,
            node_ips=host,
            service_account=workload.service_account,
        )


@dataclass(frozen=True, slots=True)
class ExternalPeer:
    """An IP address outside the cluster (``ip:ADDRESS``). Only ipBlock (NP) and networks (ANP) peers match it."""

    ip: str

    @property
    def ref(self) -> str:
        return f"ip:{self.ip}"

    @property
    def is_external(self) -> bool:
        return True


Peer = PodPeer | ExternalPeer


@dataclass(frozen=True, slots=True)
class Flow:
    """source -> destination on port/protocol.

    port: a number, a port name (resolved on the destination pod by name AND protocol), or None for "any port"
    (allowed when some port of the protocol is allowed in both directions).
    """

    source: Peer
    destination: Peer
    port: int | str | None
    protocol: str = "TCP"

    def describe(self) -> str:
        port = "any port" if self.port is None else str(self.port)
        return f"{self.source.ref} -> {self.destination.ref} on {port}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Where a decision came from: policy (kind, ns/name or name), direction, rule index, peer index.

    Indexes are 0-based here (positions in spec.ingress / spec.egress and the rule's from/to list); human text and
    JSON number rules and peers from 1 and add the exact spec path. None when the decision is not a rule's.
    """

    kind: str
    policy: str
    direction: Direction
    rule_index: int | None = None
    peer_index: int | None = None
    action: str = "Allow"
    rule_name: str | None = None

    def describe(self) -> str:
        what = f"{KIND_SHORT.get(self.kind, self.kind)} {self.policy}"
        if self.rule_index is not None:
            what += f" {self.direction} rule {self.rule_index + 1}"
            if self.rule_name:
                what += f" ({self.rule_name})"
            if self.peer_index is not None:
                what += f" peer {self.peer_index + 1}"
        return what

    @property
    def path(self) -> str | None:
        """spec.ingress[0].from[1] (NP: from/to; ANP/BANP: from/to as well)."""
        if self.rule_index is None:
            return None
        if self.rule_name and self.kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
            # Cilium: the section (ingressDeny, egress, ...) and, in a `specs` list, which rule: specs[1].ingress[0]
            section = self.rule_name if self.rule_name.startswith("specs[") else f"spec.{self.rule_name}"
            return f"{section}[{self.rule_index}]"
        text = f"spec.{self.direction}[{self.rule_index}]"
        if self.peer_index is not None:
            text += f".{'from' if self.direction == 'ingress' else 'to'}[{self.peer_index}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "policy": self.policy,
            "direction": self.direction,
            "rule": None if self.rule_index is None else self.rule_index + 1,
            "peer": None if self.peer_index is None else self.peer_index + 1,
            "path": self.path,
            "action": self.action,
            "ruleName": self.rule_name,
        }


@dataclass(frozen=True, slots=True)
class Difference:
    """One reason a rule does not match the flow.

    field: "namespace" | "pod" | "ipBlock" | "port" | "protocol" | "named-port" | "peer-type" | "network" | "node".
    expected: what the rule asks for (text); actual: what the flow has; text: the human sentence.
    """

    field: str
    expected: str
    actual: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "expected": self.expected, "actual": self.actual, "text": self.text}


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A rule that almost allows the flow: the rule and exactly what differs (fewest differences first)."""

    rule: RuleRef
    differences: tuple[Difference, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.to_dict(), "differences": [d.to_dict() for d in self.differences], "text": self.text}


@dataclass(frozen=True, slots=True)
class Step:
    """One tier's effect in the walkthrough of a direction, e.g. ANP deny-ssh: Pass, NP: Allow (shop/api-in)."""

    tier: str  # "ANP" | "NP" | "BANP" | "default"
    outcome: str  # "Allow" | "Deny" | "Pass" | "NoMatch" | "Unknown"
    rule: RuleRef | None = None
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"tier": self.tier, "outcome": self.outcome, "rule": self.rule.to_dict() if self.rule else None, "text": self.text}


@dataclass(frozen=True, slots=True)
class DirectionVerdict:
    """The verdict of one direction: egress from the source, or ingress to the destination.

    allowed: True / False / None (unknown: ``unknown_reason`` says why, e.g. a 403 listing policies).
    selecting: refs of the policies that select the pod for this direction ("NP shop/api-ingress", "ANP deny-all").
    decided_by: the rule that allowed or denied (None when no policy applies: default allow, or NP isolation
    without any matching rule).
    closest: when denied, the rules closest to allowing with what differs (filled by explain; empty when not asked).
    """

    direction: Direction
    allowed: bool | None
    reason: str
    selecting: tuple[str, ...] = ()
    decided_by: RuleRef | None = None
    closest: tuple[NearMiss, ...] = ()
    steps: tuple[Step, ...] = ()
    unknown_reason: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "policies": list(self.selecting),
            "decidedBy": self.decided_by.to_dict() if self.decided_by else None,
            "closest": [n.to_dict() for n in self.closest],
            "walkthrough": [s.to_dict() for s in self.steps],
            "unknownReason": self.unknown_reason,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """A flow's verdict: allowed iff egress from the source AND ingress to the destination allow it.

    allowed is None (unknown) when a direction is unknown and the other does not deny.
    ``port`` is the resolved destination port number when known (a named port resolved on the destination pod).
    ``fix`` is a minimal NetworkPolicy list that would allow the flow (explain.py fills it for denied flows).
    """

    flow: Flow
    allowed: bool | None
    egress: DirectionVerdict
    ingress: DirectionVerdict
    resolved_port: int | None = None
    notes: tuple[str, ...] = ()
    fix: tuple[Mapping[str, Any], ...] = ()

    @property
    def status(self) -> str:
        return {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}[self.allowed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.flow.source.ref,
            "to": self.flow.destination.ref,
            "port": self.flow.port,
            "resolvedPort": self.resolved_port,
            "protocol": self.flow.protocol,
            "allowed": self.allowed,
            "egress": self.egress.to_dict(),
            "ingress": self.ingress.to_dict(),
            "notes": list(self.notes),
            "fix": [dict(o) for o in self.fix],
        }


def combine(egress: bool | None, ingress: bool | None) -> bool | None:
    """Three-valued AND: "both the egress policy on the source pod and the ingress policy on the destination pod
    need to allow the connection" (kubernetes.io, Network Policies); a known deny beats an unknown."""
    if egress is False or ingress is False:
        return False
    if egress is None or ingress is None:
        return None
    return True
