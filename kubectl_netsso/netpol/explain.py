"""For a denied flow: the closest rules and exactly what differs, and a minimal NetworkPolicy that would allow it."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .compile import CompiledPolicy, CompiledRule, CompiledSnapshot, PeerMatcher
from .match import peer_matches
from .model import (
    KIND_ANP,
    Difference,
    Direction,
    ExternalPeer,
    NearMiss,
    Peer,
    PodPeer,
    RuleRef,
    Verdict,
)
from .ports import Request, any_protocol
from .selectors import LabelSelector, describe_labels

MAX_CLOSEST = 3

# Labels that name an app; a generated policy selects on these rather than on every label of the pod.
_APP_KEYS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app",
    "k8s-app",
    "name",
    "component",
)
# Labels set by controllers per pod/revision: never select on them.
_VOLATILE = (
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "pod-template-generation",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "job-name",
)


def closest_rules(
    compiled: CompiledSnapshot,
    direction: Direction,
    policies: Sequence[CompiledPolicy],
    other: Peer,
    request: Request,
    dest: Peer,
) -> tuple[NearMiss, ...]:
    """The NetworkPolicy rules (of policies isolating the pod) closest to allowing the flow, fewest differences first."""
    misses: list[tuple[int, int, NearMiss]] = []
    order = 0
    for p in policies:
        rules = p.rules(direction) or ()
        if not rules:
            ref = RuleRef(p.kind, p.ref, direction, None, None, "Allow")
            diff = Difference(
                "rules",
                f"an {direction} rule",
                "none",
                f"policy {p.ref} selects the pod for {direction} and has no {direction} rules (denies all {direction})",
            )
            misses.append((99, order, NearMiss(ref, (diff,), diff.text)))
            order += 1
            continue
        for rule in rules:
            diffs, peer_idx = rule_differences(compiled, p, rule, direction, other, request, dest)
            if not diffs:
                continue
            ref = RuleRef(p.kind, p.ref, direction, rule.index, peer_idx, rule.action, rule.name)
            text = "; ".join(d.text for d in diffs)
            misses.append(
                (len(diffs), order, NearMiss(ref, tuple(diffs), f"policy {p.ref} {direction} rule {rule.index + 1} {text}"))
            )
            order += 1
    misses.sort(key=lambda m: (m[0], m[1]))
    return tuple(m[2] for m in misses[:MAX_CLOSEST])


def rule_differences(
    compiled: CompiledSnapshot,
    policy: CompiledPolicy,
    rule: CompiledRule,
    direction: Direction,
    other: Peer,
    request: Request,
    dest: Peer,
) -> tuple[list[Difference], int | None]:
    """What keeps one rule from matching: port differences plus those of the closest peer entry."""
    diffs: list[Difference] = []
    if not rule.all_ports:
        dest_ports = dest.ports if isinstance(dest, PodPeer) else None
        reasons: list[tuple[int, Difference]] = []
        for m in rule.ports:
            m = any_protocol(m, request.protocol)
            why = m.mismatch(request, dest_ports, dest.ref)
            if why is None:
                reasons = []
                break
            field = "protocol" if m.protocol != request.protocol else ("named-port" if isinstance(m.port, str) else "port")
            reasons.append((0 if field != "protocol" else 1, Difference(field, m.describe(), request.describe(), why)))
        if reasons:
            reasons.sort(key=lambda r: r[0])
            diffs.append(reasons[0][1])
    peer_idx: int | None = None
    if not rule.all_peers:
        best: list[Difference] | None = None
        for pm in rule.peers:
            if peer_matches(compiled, pm, other):
                best, peer_idx = [], pm.index
                break
            d = peer_differences(compiled, pm, direction, other)
            if best is None or len(d) < len(best):
                best, peer_idx = d, pm.index
        diffs.extend(best or [])
    return diffs, peer_idx


def peer_differences(compiled: CompiledSnapshot, pm: PeerMatcher, direction: Direction, other: Peer) -> list[Difference]:
    """Why one from/to entry does not match the far end, one Difference per failing part."""
    word = "from" if direction == "ingress" else "to"
    who = "source" if direction == "ingress" else "destination"
    if pm.kind == "invalid":
        return [
            Difference(
                "peer-type", "a valid peer", pm.problem or "invalid", f"has an invalid peer ({pm.problem}) that matches nothing"
            )
        ]
    if pm.kind == "nodes":
        return [Difference("node", "node IPs", other.ref, f"allows {word} nodes only (not evaluated: no node data)")]
    if pm.kind in ("ipBlock", "networks"):
        expected = pm.describe()
        if isinstance(other, ExternalPeer):
            ip = ipaddress.ip_address(other.ip)
            excluded = [e for e in pm.excepts if e.version == ip.version and ip in e]
            if excluded:
                why = f"{other.ip} is in except {excluded[0]}"
            else:
                why = f"{other.ip} is outside {', '.join(map(str, pm.cidrs))}"
            return [Difference("ipBlock", expected, other.ip, f"allows {word} {expected}; {who} {why}")]
        if other.host_network:
            return [
                Difference(
                    "ipBlock",
                    expected,
                    other.ref,
                    f"allows {word} {expected}; {who} is a hostNetwork pod with IPs {', '.join(other.ips) or 'unknown'}",
                )
            ]
        if pm.kind == "ipBlock" and compiled.ipblock_pods == "ignore":
            return [
                Difference(
                    "ipBlock",
                    expected,
                    other.ref,
                    f"allows {word} {expected}, which applies only to traffic outside the cluster (ipblock-pods=ignore); "
                    f"{who} is pod {other.ref}",
                )
            ]
        if not other.ips:
            return [
                Difference(
                    "ipBlock",
                    expected,
                    other.ref,
                    f"allows {word} {expected}; the IP of pod {other.ref} is unknown (manifests carry no pod IPs)",
                )
            ]
        return [
            Difference(
                "ipBlock",
                expected,
                ",".join(other.ips),
                f"allows {word} {expected}; pod {other.ref} has IP {', '.join(other.ips)}",
            )
        ]
    # pods
    if isinstance(other, ExternalPeer):
        return [
            Difference(
                "peer-type",
                pm.describe(),
                other.ip,
                f"allows {word} {pm.describe()}; {who} {other.ref} is outside the cluster (only ipBlock matches it)",
            )
        ]
    if other.host_network:
        return [
            Difference(
                "peer-type",
                pm.describe(),
                other.ref,
                f"allows {word} {pm.describe()}; {who} {other.ref} is a hostNetwork pod (selectors do not match it)",
            )
        ]
    diffs: list[Difference] = []
    if pm.namespace is not None:
        if other.namespace != pm.namespace:
            diffs.append(
                Difference(
                    "namespace",
                    pm.namespace,
                    other.namespace,
                    f"allows {word} pods in namespace {pm.namespace} only (podSelector without namespaceSelector); "
                    f"{who} is in namespace {other.namespace}",
                )
            )
    elif pm.namespace_selector is None:
        diffs.append(
            Difference(
                "namespace", "(invalid selector)", other.namespace, "has an invalid namespaceSelector that matches nothing"
            )
        )
    elif not pm.namespace_selector.matches(other.namespace_labels):
        sel = pm.namespace_selector
        diffs.append(
            Difference(
                "namespace",
                sel.describe(),
                describe_labels(other.namespace_labels),
                f"allows {word} namespaces with {sel.describe()}; "
                f"namespace {other.namespace} has {_relevant(sel, other.namespace_labels)}",
            )
        )
    if pm.pod_selector is None:
        diffs.append(Difference("pod", "(invalid selector)", other.ref, "has an invalid podSelector that matches nothing"))
    elif not pm.pod_selector.matches(other.labels):
        sel = pm.pod_selector
        diffs.append(
            Difference(
                "pod",
                sel.describe(),
                describe_labels(other.labels),
                f"allows {word} pods with {sel.describe()}; pod {other.ref} has {_relevant(sel, other.labels)}",
            )
        )
    return diffs


def _relevant(sel: LabelSelector, labels: Mapping[str, str]) -> str:
    """The labels the failing requirements look at: "team=frontend", "no label team"."""
    parts = []
    for req in sel.mismatches(labels):
        if req.key in labels:
            parts.append(f"{req.key}={labels[req.key]}")
        else:
            parts.append(f"no label {req.key}")
    return ", ".join(dict.fromkeys(parts)) or describe_labels(labels)


def stable_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels without those controllers set per pod or revision (pod-template-hash, ...)."""
    return {k: v for k, v in labels.items() if k not in _VOLATILE}


def selection_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels a generated policy should select on: the app-naming ones if present, else all stable labels."""
    stable = stable_labels(labels)
    named = {k: stable[k] for k in _APP_KEYS if k in stable}
    return named or stable


def minimal_fix(compiled: CompiledSnapshot, verdict: Verdict) -> tuple[list[dict[str, Any]], str | None]:
    """NetworkPolicies that would allow the flow on top of what exists, for each denied side; (objects, note).

    An AdminNetworkPolicy Deny cannot be overridden by a NetworkPolicy: no objects, and a note saying so.
    """
    flow = verdict.flow
    sides: list[str] = []
    for d in (verdict.egress, verdict.ingress):
        if d.allowed is False:
            if d.decided_by is not None and d.decided_by.kind == KIND_ANP and d.decided_by.action == "Deny":
                return [], (
                    f"{d.direction} is denied by AdminNetworkPolicy {d.decided_by.policy}: "
                    "a NetworkPolicy cannot override it; a cluster admin must change the ANP"
                )
            cni_note = _cni_denial(d)
            if cni_note is not None:
                return [], cni_note
            sides.append(d.direction)
    if not sides:
        return [], None
    try:
        from . import generate
    except ImportError:  # pragma: no cover - generate.py ships with the package
        return [], "policy generator unavailable"
    src, dst = flow.source, flow.destination
    port: int | str | None = flow.port
    hypothetical = isinstance(dst, PodPeer) and dst.name.startswith("{")  # --to-selector: its ports are not known
    if isinstance(port, str) and isinstance(dst, PodPeer) and verdict.resolved_port is None and not hypothetical:
        # A named port "will be looked up as a named port in the target Pod's container ports": a pod without it
        # has no such port, and no policy can open one (types.go NetworkPolicyPort.Port).
        return [], (
            f"named port {port} ({flow.protocol.upper()}) is not defined on {dst.ref}: no NetworkPolicy can allow it; "
            f"name a container port {port} there, or ask for a port number"
        )
    if port is None:
        port = verdict.resolved_port
    if port is None and isinstance(dst, PodPeer):
        declared = [cp.port for cp in dst.ports if cp.protocol.upper() == flow.protocol.upper()]
        port = declared[0] if declared else None
    kwargs: dict[str, Any] = {
        "src_namespace": src.namespace if isinstance(src, PodPeer) else None,
        "src_labels": selection_labels(src.labels) if isinstance(src, PodPeer) else None,
        "dst_namespace": dst.namespace if isinstance(dst, PodPeer) else None,
        "dst_labels": selection_labels(dst.labels) if isinstance(dst, PodPeer) else None,
        "port": port,
        "protocol": flow.protocol.upper(),
        "sides": tuple(sides),
    }
    if isinstance(src, ExternalPeer):
        kwargs["src_external_cidr"] = _host_cidr(src.ip)
    if isinstance(dst, ExternalPeer):
        kwargs["dst_external_cidr"] = _host_cidr(dst.ip)
    # hostNetwork pods: "most plugins ignore them in podSelector/namespaceSelector and treat them as the node IP"
    # (kubernetes.io, NetworkPolicy and hostNetwork pods): a selector peer would not match; the node's IP would.
    for end, key in ((src, "src_external_cidr"), (dst, "dst_external_cidr")):
        if isinstance(end, PodPeer) and end.host_network:
            if not end.ips:
                return [], (
                    f"{end.ref} is a hostNetwork pod: pod and namespace selectors do not match it; allow its node's "
                    "IP with an ipBlock instead (the IP is not known here)"
                )
            kwargs[key] = _host_cidr(end.ips[0])
    try:
        return list(generate.allow_flow(**kwargs)), None
    except Exception as exc:  # a generator refusal must not break the verdict
        return [], f"could not generate a policy: {exc}"


def _cni_denial(d: Any) -> str | None:
    """A denial a Kubernetes NetworkPolicy cannot lift: a Cilium deny rule, a Calico Deny rule, or the end-of-tier drop
    of a tier before Calico's default tier (where Kubernetes NetworkPolicies live, at order 1000)."""
    ref = d.decided_by
    if ref is not None and ref.action == "Deny" and ref.kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        return (
            f"{d.direction} is denied by {ref.describe()}: Cilium's deny rules take precedence over every allow, "
            "a Kubernetes NetworkPolicy's included; change that deny rule"
        )
    if ref is not None and ref.action == "Deny" and ref.kind in ("CalicoNetworkPolicy", "GlobalNetworkPolicy"):
        tier = d.steps[-1].tier if d.steps else ""
        if tier and tier != "tier default":
            return (
                f"{d.direction} is denied by {ref.describe()} in Calico {tier}, before the default tier where Kubernetes "
                "NetworkPolicies are: no NetworkPolicy can lift it; change that Calico policy, or allow it before that rule"
            )
        return (
            f"{d.direction} is denied by {ref.describe()} in Calico's default tier: a Kubernetes NetworkPolicy (order "
            "1000) comes first only when that policy's order is higher; change that Calico policy, or add a Calico "
            "Allow rule before it"
        )
    last = d.steps[-1] if d.steps else None
    if ref is None and last is not None and last.tier.startswith("tier ") and last.tier != "tier default":
        return (
            f"{d.direction} is dropped at the end of Calico {last.tier}: a Kubernetes NetworkPolicy (default tier) is never "
            f"reached; allow it in that tier, or Pass it on to the default tier"
        )
    return None


def attach_fix(compiled: CompiledSnapshot, verdict: Verdict) -> Verdict:
    """The verdict with ``fix`` (and a note when no NetworkPolicy can fix it) for a denied flow."""
    if verdict.allowed is not False:
        return verdict
    objs, note = minimal_fix(compiled, verdict)
    notes = verdict.notes + ((note,) if note else ())
    return replace(verdict, fix=tuple(objs), notes=notes)


def _host_cidr(ip: str) -> str:
    addr = ipaddress.ip_address(ip)
    return f"{addr}/{32 if addr.version == 4 else 128}"


def explain_text(verdict: Verdict) -> list[str]:
    """Human lines for a verdict: status, then per direction the policies, the deciding rule or closest rules."""
    lines = [f"{verdict.status}: {verdict.flow.describe()}"]
    for d in (verdict.egress, verdict.ingress):
        state = {True: "allowed", False: "denied", None: "unknown"}[d.allowed]
        head = "egress from source" if d.direction == "egress" else "ingress to destination"
        lines.append(f"  {head}: {state} - {d.reason}")
        if d.selecting:
            lines.append(f"    policies selecting the pod: {', '.join(d.selecting)}")
        for miss in d.closest:
            lines.append(f"    closest: {miss.text}")
    for note in verdict.notes:
        lines.append(f"  note: {note}")
    return lines
