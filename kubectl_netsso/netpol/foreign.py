"""Policies the engine does not evaluate, and what they make UNKNOWN: fail closed, never silent (issue 12).

An object of a kind no engine here evaluates -- another CNI's CRD, an Istio AuthorizationPolicy, an unknown version of
a known kind -- or a policy resource the source could not list (a 403) could change any verdict of the pods it can
select: the direction it polices becomes UNKNOWN with the reason, like an AdminNetworkPolicy the API server would not
show. "Could affect": a namespaced object the pods of its namespace (as the subject of the direction it polices); a
cluster-scoped one every pod, and the host-network traffic of the nodes. A mesh-layer policy (restrict_only) can only
deny on top of the CNI: a flow the CNI denies stays denied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..cluster.snapshot import Gap, UnevaluatedPolicy
from .model import Direction, ExternalPeer, Peer

# Istio's default root namespace: "policies in the root namespace apply to all workloads in the mesh" (Istio
# AuthorizationPolicy reference, meshConfig.rootNamespace, default istio-system).
ISTIO_ROOT_NAMESPACE = "istio-system"


@dataclass(frozen=True, slots=True)
class ForeignEffect:
    """What one unevaluated object (or unreadable policy resource) makes UNKNOWN.

    namespace None: every namespace. pods: pods of the namespace as subjects; hosts: hostNetwork pods (the nodes).
    """

    label: str
    reason: str
    namespace: str | None
    directions: frozenset[str]
    restrict_only: bool = False
    pods: bool = True
    hosts: bool = False
    gap: bool = False  # a policy resource that could not be read (not one object)

    def applies(self, direction: Direction, namespace: str, host_network: bool) -> bool:
        if direction not in self.directions:
            return False
        if self.namespace is not None and self.namespace != namespace:
            return False
        return self.hosts if host_network else self.pods

    def unknown_text(self) -> str:
        """'every verdict is UNKNOWN', 'flows into namespace a that the CNI allows are UNKNOWN'."""
        scope = self.scope_text()
        if self.restrict_only:
            return f"{scope} that the CNI allows are UNKNOWN"
        return f"{scope} {'is' if scope == 'every verdict' else 'are'} UNKNOWN"

    def scope_text(self) -> str:
        """'every verdict', 'flows into and out of namespace a', 'flows into namespace a'."""
        if self.namespace is None and self.directions == {"ingress", "egress"}:
            return "every verdict"
        where = "any namespace" if self.namespace is None else f"namespace {self.namespace}"
        if self.directions == {"ingress"}:
            return f"flows into {where}"
        if self.directions == {"egress"}:
            return f"flows out of {where}"
        return f"flows into and out of {where}"


@dataclass(frozen=True, slots=True)
class ForeignVerdict:
    """The effects that apply to one direction of one subject, as one reason."""

    reason: str
    restrict_only: bool  # all of them can only deny on top of the CNI
    labels: tuple[str, ...]


def effect_of(obj: UnevaluatedPolicy) -> ForeignEffect:
    namespace = obj.namespace
    if obj.kind == "AuthorizationPolicy" and obj.group == "security.istio.io" and namespace == ISTIO_ROOT_NAMESPACE:
        namespace = None
    why = f" ({obj.why})" if obj.why else ""
    return ForeignEffect(
        label=obj.label,
        reason=f"{obj.label} is not evaluated{why}",
        namespace=namespace,
        directions=frozenset(obj.directions),
        restrict_only=obj.restrict_only,
        pods=True,
        hosts=obj.hosts,
    )


def effect_of_gap(gap: Gap, directions: Sequence[str], hosts: bool, restrict_only: bool) -> ForeignEffect:
    where = f" in namespace {gap.namespace}" if gap.namespace else ""
    text = f"cannot see {gap.resource}{where}: {gap.reason}"
    return ForeignEffect(
        label=f"{gap.resource}{where}",
        reason=text,
        namespace=gap.namespace,
        directions=frozenset(directions),
        restrict_only=restrict_only,
        pods=True,
        hosts=hosts and gap.namespace is None,
        gap=True,
    )


def applying(effects: Iterable[ForeignEffect], direction: Direction, subject: Peer) -> ForeignVerdict | None:
    """The unevaluated objects that could change this direction's verdict for this subject, or None."""
    if isinstance(subject, ExternalPeer):
        return None
    found = [e for e in effects if e.applies(direction, subject.namespace, subject.host_network)]
    if not found:
        return None
    reason = found[0].reason
    if len(found) > 1:
        others = ", ".join(e.label for e in found[1:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
        reason += f"; also not evaluated: {others}"
    return ForeignVerdict(reason, all(e.restrict_only for e in found), tuple(e.label for e in found))


def warning_lines(objects: Sequence[UnevaluatedPolicy], effects: Sequence[ForeignEffect]) -> list[str]:
    """One warning per object (a summary beyond a few): what is not evaluated and which verdicts are UNKNOWN."""
    out: list[str] = []
    staged = [o for o in objects if o.staged]
    for o in staged[:5]:
        out.append(f"{o.label}: {o.why}")
    if len(staged) > 5:
        out.append(f"{len(staged) - 5} more staged policies: not enforced, they change no verdict")
    shown = [e for e in effects][:5]
    for e in shown:
        out.append(f"{e.reason}: {e.unknown_text()}")
    if len(effects) > len(shown):
        rest = ", ".join(e.label for e in effects[len(shown) : len(shown) + 5])
        out.append(
            f"{len(effects) - len(shown)} more policy objects are not evaluated ({rest}, ...): "
            "verdicts they could change are UNKNOWN"
        )
    return out
