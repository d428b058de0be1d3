"""One flow -> a verdict per direction (egress from the source, ingress to the destination) with the evidence.

Per direction the tiers are evaluated in order: AdminNetworkPolicy (ascending priority; first matching rule decides;
Pass skips to the next tier), NetworkPolicy (isolation + union of allow rules), BaselineAdminNetworkPolicy, then
default allow. "AdminNetworkPolicy ... Allow ... Deny ... Pass: the traffic is delegated to the NetworkPolicy tier,
and if no NetworkPolicy selects the pod, to the BaselineAdminNetworkPolicy" (network-policy-api apis/v1alpha1).

Long because: one flow's evaluation per tier (ANP, NP, BANP, and the CNI dispatch) with the quoted rules beside each;
the explanations are apart in explain.py.
"""

from __future__ import annotations

from dataclasses import replace

from ..cluster.snapshot import ContainerPort
from .compile import CompiledPolicy, CompiledRule, CompiledSnapshot
from .foreign import ForeignVerdict
from .match import Tri, dest_ports_of, rule_matches, selects
from .model import (
    KIND_ANP,
    Direction,
    DirectionVerdict,
    ExternalPeer,
    Flow,
    NearMiss,
    Peer,
    PodPeer,
    RuleRef,
    Step,
    Verdict,
    combine,
)
from .ports import Request, make_request

NOTE_HOSTNET = (
    "hostNetwork pod {ref}: NetworkPolicy does not apply to it (the spec leaves hostNetwork pods undefined; most "
    "plugins ignore them and see their traffic as the node's IP)"
)


def own_node(pod: Peer, other: Peer) -> str | None:
    """The node of ``pod`` when ``other`` is that node: one of its addresses, or a hostNetwork pod on it (such a pod
    sends and receives as the node). None otherwise, and when the node is not known (workloads, manifests without
    nodeName / hostIP / Node objects)."""
    if not isinstance(pod, PodPeer) or pod.host_network or not (pod.node or pod.node_ips):
        return None
    if isinstance(other, ExternalPeer):
        if other.ip in pod.node_ips:
            return f"node {pod.node} ({other.ip})" if pod.node else f"its node {other.ip}"
        return None
    if not other.host_network:
        return None
    if (pod.node and other.node == pod.node) or set(other.ips + other.node_ips) & set(pod.node_ips):
        return f"hostNetwork pod {other.ref} on its node" + (f" {pod.node}" if pod.node else "")
    return None


NODE_RULE = (
    "traffic between a pod and the node it runs on is always allowed, whatever the policies (\"traffic to and from "
    "the node where a Pod is running is always allowed\", kubernetes.io, Network Policies)"
)


def is_loopback(source: Peer, destination: Peer) -> bool:
    """A pod talking to itself (same Pod object). Workloads stand for several pods, so they are not loopback; nor are
    hypothetical pods (named "{labels}" by selector endpoints): two of them with the same labels are two pods."""
    return (
        isinstance(source, PodPeer)
        and not source.name.startswith("{")
        and isinstance(destination, PodPeer)
        and source.kind == "Pod"
        and destination.kind == "Pod"
        and source.namespace == destination.namespace
        and source.name == destination.name
        and bool(source.name)
    )


def evaluate_flow(compiled: CompiledSnapshot, flow: Flow, *, explain: bool = True) -> Verdict:
    """The verdict for one flow. explain=True adds the closest rules for denied directions and a minimal fix.

    Cost: only the policies of the two pods' namespaces plus the ANPs/BANP are examined (~ms on large clusters).
    port None means "any port": allowed when some port of the protocol is allowed both ways (every port where a rule
    boundary lies is tried; between boundaries the answer cannot change).
    """
    if flow.port is None:
        return _evaluate_any_port(compiled, flow, explain=explain)
    protocol = flow.protocol.upper()
    dst = flow.destination
    request = make_request(flow.port, protocol, dest_ports_of(dst), dst.ref)
    notes: list[str] = []
    if request.problem:
        notes.append(request.problem)
    if is_loopback(flow.source, dst):
        # "traffic to and from the pod itself is always allowed" -- a pod cannot block itself (kubernetes.io, Network
        # Policies; e2e reachability.AllowLoopback()).
        reason = "traffic from a pod to itself is always allowed"
        eg = DirectionVerdict("egress", True, reason)
        ing = DirectionVerdict("ingress", True, reason)
        return Verdict(flow, True, eg, ing, request.number, (reason,))
    eg = evaluate_direction(compiled, "egress", flow.source, dst, request, explain=explain, with_selecting=True)
    ing = evaluate_direction(compiled, "ingress", dst, flow.source, request, explain=explain, with_selecting=True)
    allowed = combine(eg.allowed, ing.allowed)
    for d in (eg, ing):
        notes.extend(n for n in d.notes if n not in notes)
    verdict = Verdict(flow, allowed, eg, ing, request.number, tuple(notes))
    if explain and allowed is not True:
        from .explain import attach_fix

        verdict = attach_fix(compiled, verdict)
    return verdict


def allowed_pair(compiled: CompiledSnapshot, source: Peer, destination: Peer, port: int | str, protocol: str) -> Tri:
    """Just the answer for one pair (no evidence): the brute-force reference the paths engine is tested against."""
    if is_loopback(source, destination):
        return True
    request = make_request(port, protocol.upper(), dest_ports_of(destination), destination.ref)
    eg = evaluate_direction(compiled, "egress", source, destination, request, explain=False).allowed
    if eg is False:
        return False
    return combine(eg, evaluate_direction(compiled, "ingress", destination, source, request, explain=False).allowed)


def selecting_policies(compiled: CompiledSnapshot, direction: Direction, subject: Peer) -> tuple[str, ...]:
    """Every policy that selects the pod for this direction, in evaluation order: "ANP x", "NP ns/name", "BANP default"."""
    if not isinstance(subject, PodPeer) or subject.host_network:
        return ()
    if compiled.cni == "calico":
        from . import calico

        return calico.selecting(compiled, direction, subject)
    if compiled.cni == "cilium":
        from . import cilium

        return cilium.selecting(compiled, direction, subject)
    out = [a.label for a in compiled.admin_policies if a.rules(direction) and selects(compiled, a, subject) is True]
    out += [
        p.label
        for p in compiled.policies_in(subject.namespace)
        if p.rules(direction) is not None and selects(compiled, p, subject)
    ]
    b = compiled.baseline
    if b is not None and b.rules(direction) and selects(compiled, b, subject) is True:
        out.append(b.label)
    return tuple(out)


def evaluate_direction(
    compiled: CompiledSnapshot,
    direction: Direction,
    subject: Peer,
    other: Peer,
    request: Request,
    *,
    explain: bool = True,
    with_selecting: bool | None = None,
) -> DirectionVerdict:
    """The verdict of one direction for subject (the source for egress, the destination for ingress).

    other is the far end; request is the destination port as resolved on the destination. ``selecting`` lists every
    policy selecting the subject for this direction (all tiers), whichever tier decided (with_selecting defaults to
    explain; the bare answer skips it for speed).
    """
    verdict = _evaluate_direction(compiled, direction, subject, other, request, explain=explain)
    if not (explain if with_selecting is None else with_selecting):
        return verdict
    return replace(verdict, selecting=selecting_policies(compiled, direction, subject))


def _evaluate_direction(
    compiled: CompiledSnapshot,
    direction: Direction,
    subject: Peer,
    other: Peer,
    request: Request,
    *,
    explain: bool = True,
) -> DirectionVerdict:
    if isinstance(subject, ExternalPeer):
        side = "source" if direction == "egress" else "destination"
        return DirectionVerdict(direction, True, f"{side} {subject.ref} is outside the cluster: no {direction} policy applies")
    node = own_node(subject, other)
    if node is not None:
        # The pod's own node (the kubelet's probes, node-local agents): no policy of any tier can block it.
        what = f"{'to' if direction == 'egress' else 'from'} {node}"
        reason = f"{direction} {what}: always allowed (a pod and its own node)"
        return DirectionVerdict(direction, True, reason, notes=(NODE_RULE,))
    foreign = compiled.foreign_for(direction, subject)
    verdict = _evaluate_tiers(compiled, direction, subject, other, request, explain=explain)
    if foreign is None:
        return verdict
    return _with_foreign(direction, verdict, foreign)


def _with_foreign(direction: Direction, verdict: DirectionVerdict, foreign: ForeignVerdict) -> DirectionVerdict:
    """Fail closed: a policy this tool does not evaluate could change the verdict, so it is UNKNOWN -- unless every such
    policy can only deny on top of the CNI (a mesh layer) and the CNI already denies."""
    if foreign.restrict_only and verdict.allowed is False:
        note = f"{foreign.reason}; it can only deny more, so the flow stays denied"
        return replace(verdict, notes=verdict.notes + (note,))
    notes = verdict.notes
    if verdict.unknown_reason:
        notes += (f"also unknown: {verdict.unknown_reason}",)
    elif verdict.allowed is not None:
        notes += (f"the policies evaluated here {'allow' if verdict.allowed else 'deny'} it",)
    steps = verdict.steps + (Step("?", "Unknown", None, foreign.reason),)
    return DirectionVerdict(
        direction, None, f"unknown: {foreign.reason}", verdict.selecting, None, (), steps, foreign.reason, notes
    )


def _evaluate_tiers(
    compiled: CompiledSnapshot,
    direction: Direction,
    subject: PodPeer,
    other: Peer,
    request: Request,
    *,
    explain: bool = True,
) -> DirectionVerdict:
    if subject.host_network:
        note = NOTE_HOSTNET.format(ref=subject.ref)
        return DirectionVerdict(direction, True, f"{direction} not policed: {note}", notes=(note,))
    dest = other if direction == "egress" else subject
    dest_ports = dest_ports_of(dest)
    notes: list[str] = []
    if isinstance(other, PodPeer) and other.host_network:
        notes.append(NOTE_HOSTNET.format(ref=other.ref) + "; pod and namespace selectors do not match it")
    steps: list[Step] = []
    selecting: list[str] = []
    if compiled.cni == "calico":
        return _evaluate_calico(compiled, direction, subject, other, request, notes, explain=explain)
    if compiled.cni == "cilium":
        return _evaluate_cilium(compiled, direction, subject, other, request, notes, explain=explain)

    # --- tier 1: AdminNetworkPolicy -------------------------------------------------------------------------------
    if compiled.anp_gap:
        return _unknown(direction, compiled.anp_gap, selecting, steps, notes)
    passed = False
    for anp in compiled.admin_policies:
        rules = anp.rules(direction)
        if not rules:
            continue
        sel = selects(compiled, anp, subject)
        if sel is False:
            continue
        if sel is None:
            return _unknown(
                direction,
                f"cannot tell whether {anp.label} selects {subject.ref}: " + _label_reason(compiled, subject),
                selecting,
                steps,
                notes,
            )
        selecting.append(anp.label)
        for rule in rules:
            m, peer_idx = rule_matches(compiled, rule, other, request, dest_ports)
            _note_nodes(anp.label, rule, other, m, notes)
            if m is None:
                return _unknown(
                    direction,
                    f"{anp.label} rule {rule.index + 1} may match: " + _label_reason(compiled, other),
                    selecting,
                    steps,
                    notes,
                )
            if not m:
                continue
            ref = RuleRef(anp.kind, anp.ref, direction, rule.index, peer_idx, rule.action, rule.name)
            # "Allow: ... no further rules are evaluated ... Deny: ... Pass: skip all remaining lower-precedence ANP
            # rules and delegate to NetworkPolicy" (apis/v1alpha1 AdminNetworkPolicyRuleAction).
            if rule.action == "Pass":
                steps.append(Step("ANP", "Pass", ref, f"{ref.describe()} passes to NetworkPolicy"))
                passed = True
                break
            allowed = rule.action == "Allow"
            verb = "allows" if allowed else "denies"
            text = f"{ref.describe()} {verb} it (priority {anp.priority}; NetworkPolicy cannot override)"
            steps.append(Step("ANP", rule.action, ref, text))
            _collect_selecting(compiled, direction, subject, selecting)
            return DirectionVerdict(direction, allowed, text, tuple(selecting), ref, (), tuple(steps), None, tuple(notes))
        if passed:
            break
        steps.append(Step("ANP", "NoMatch", None, f"{anp.label}: no rule matches"))

    # --- tier 2: NetworkPolicy ------------------------------------------------------------------------------------
    if isinstance(subject, PodPeer):
        gap = compiled.np_gap(subject.namespace)
        if gap:
            return _unknown(direction, gap, selecting, steps, notes)
    nps = [p for p in compiled.policies_in(subject.namespace) if p.rules(direction) is not None and selects(compiled, p, subject)]
    if nps:
        selecting.extend(p.label for p in nps)
        unknown: str | None = None
        # "Network policies do not conflict; they are additive. If any policy or policies apply to a given pod for a
        # given direction, the connections allowed in that direction from that pod is the union of what the
        # applicable policies allow." (kubernetes.io, Network Policies)
        for p in nps:
            for rule in p.rules(direction) or ():
                m, peer_idx = rule_matches(compiled, rule, other, request, dest_ports)
                if m is True:
                    ref = RuleRef(p.kind, p.ref, direction, rule.index, peer_idx, "Allow")
                    text = f"{ref.describe()} allows it"
                    steps.append(Step("NP", "Allow", ref, text))
                    _collect_selecting(compiled, direction, subject, selecting, after_np=True)
                    return DirectionVerdict(direction, True, text, tuple(selecting), ref, (), tuple(steps), None, tuple(notes))
                if m is None and unknown is None:
                    unknown = f"{p.label} {direction} rule {rule.index + 1} may match: " + _label_reason(compiled, other)
        if unknown:
            return _unknown(direction, unknown, selecting, steps, notes)
        pods_word = "source" if direction == "egress" else "destination"
        text = (
            f"{pods_word} {subject.ref} is isolated for {direction} by {', '.join(p.ref for p in nps)} "
            f"and no {direction} rule allows it"
        )
        steps.append(Step("NP", "Deny", None, text))
        _collect_selecting(compiled, direction, subject, selecting, after_np=True)
        closest: tuple[NearMiss, ...] = ()
        if explain:
            from .explain import closest_rules

            closest = closest_rules(compiled, direction, nps, other, request, dest)
        return DirectionVerdict(direction, False, text, tuple(selecting), None, closest, tuple(steps), None, tuple(notes))
    if not passed:
        steps.append(Step("NP", "NoMatch", None, f"no NetworkPolicy selects {subject.ref} for {direction}"))
    else:
        steps.append(Step("NP", "NoMatch", None, f"no NetworkPolicy selects {subject.ref} for {direction}: on to the baseline"))

    # --- tier 3: BaselineAdminNetworkPolicy -------------------------------------------------------------------------
    if compiled.banp_gap:
        return _unknown(direction, compiled.banp_gap, selecting, steps, notes)
    banp = compiled.baseline
    if banp is not None and banp.rules(direction):
        sel = selects(compiled, banp, subject)
        if sel is None:
            return _unknown(
                direction,
                f"cannot tell whether {banp.label} selects {subject.ref}: " + _label_reason(compiled, subject),
                selecting,
                steps,
                notes,
            )
        if sel:
            selecting.append(banp.label)
            for rule in banp.rules(direction) or ():
                m, peer_idx = rule_matches(compiled, rule, other, request, dest_ports)
                _note_nodes(banp.label, rule, other, m, notes)
                if m is None:
                    return _unknown(
                        direction,
                        f"{banp.label} rule {rule.index + 1} may match: " + _label_reason(compiled, other),
                        selecting,
                        steps,
                        notes,
                    )
                if m:
                    ref = RuleRef(banp.kind, banp.ref, direction, rule.index, peer_idx, rule.action, rule.name)
                    allowed = rule.action == "Allow"
                    text = f"{ref.describe()} {'allows' if allowed else 'denies'} it (baseline)"
                    steps.append(Step("BANP", rule.action, ref, text))
                    return DirectionVerdict(direction, allowed, text, tuple(selecting), ref, (), tuple(steps), None, tuple(notes))
            steps.append(Step("BANP", "NoMatch", None, f"{banp.label}: no rule matches"))

    # --- default ----------------------------------------------------------------------------------------------------
    # "By default, a pod is non-isolated for egress; all outbound connections are allowed." (same for ingress;
    # kubernetes.io, Network Policies, "The two sorts of pod isolation")
    text = f"no policy isolates {subject.ref} for {direction}: allowed by default"
    steps.append(Step("default", "Allow", None, text))
    return DirectionVerdict(direction, True, text, tuple(selecting), None, (), tuple(steps), None, tuple(notes))


def _evaluate_calico(
    compiled: CompiledSnapshot,
    direction: Direction,
    subject: PodPeer,
    other: Peer,
    request: Request,
    notes: list[str],
    *,
    explain: bool,
) -> DirectionVerdict:
    """Calico's tiers (netpol/calico.py), with Kubernetes NPs in the default tier and ANP/BANP in theirs."""
    from . import calico

    gap = compiled.anp_gap or compiled.banp_gap or compiled.np_gap(subject.namespace)
    if gap:
        return _unknown(direction, gap, [], [], notes)
    v = calico.evaluate_direction(
        compiled, direction, subject, other, request, explain=explain, label_reason=lambda p: _label_reason(compiled, p)
    )
    return replace(v, notes=tuple(notes) + v.notes) if notes else v


def _evaluate_cilium(
    compiled: CompiledSnapshot,
    direction: Direction,
    subject: PodPeer,
    other: Peer,
    request: Request,
    notes: list[str],
    *,
    explain: bool,
) -> DirectionVerdict:
    """Cilium (netpol/cilium.py): Kubernetes NetworkPolicies and Cilium's own rules together, deny rules first."""
    from . import cilium

    gap = compiled.np_gap(subject.namespace)
    if gap:
        return _unknown(direction, gap, [], [], notes)
    v = cilium.evaluate_direction(compiled, direction, subject, other, request, explain=explain)
    return replace(v, notes=tuple(notes) + v.notes) if notes else v


def _note_nodes(label: str, rule: CompiledRule, other: Peer, matched: Tri, notes: list[str]) -> None:
    """A `nodes` egress peer cannot be evaluated without node IPs: say so when it could have mattered."""
    if matched is True or not any(pm.kind == "nodes" for pm in rule.peers):
        return
    if isinstance(other, ExternalPeer) or (isinstance(other, PodPeer) and other.host_network):
        note = (
            f"{label} egress rule {rule.index + 1} has a nodes peer; node IPs are not known here, "
            f"so {other.ref} is assumed not to be a node"
        )
        if note not in notes:
            notes.append(note)


def _collect_selecting(
    compiled: CompiledSnapshot, direction: Direction, subject: Peer, selecting: list[str], *, after_np: bool = False
) -> None:
    """Add the NetworkPolicies selecting the pod (for evidence) when an ANP decided before the NP tier."""
    if not isinstance(subject, PodPeer) or after_np:
        return
    for p in compiled.policies_in(subject.namespace):
        if p.rules(direction) is not None and selects(compiled, p, subject) and p.label not in selecting:
            selecting.append(p.label)


def _label_reason(compiled: CompiledSnapshot, peer: Peer) -> str:
    if isinstance(peer, PodPeer):
        gap = compiled.label_gap(peer.namespace)
        if gap:
            return gap
    return "depends on data the source could not read"


def _unknown(direction: Direction, reason: str, selecting: list[str], steps: list[Step], notes: list[str]) -> DirectionVerdict:
    steps.append(Step("?", "Unknown", None, reason))
    return DirectionVerdict(direction, None, f"unknown: {reason}", tuple(selecting), None, (), tuple(steps), reason, tuple(notes))


def _evaluate_any_port(compiled: CompiledSnapshot, flow: Flow, *, explain: bool) -> Verdict:
    protocol = flow.protocol.upper()
    dst = flow.destination
    dest_ports = dest_ports_of(dst)
    candidates = sorted(candidate_ports(compiled, flow, protocol, dest_ports))
    # Prefer the destination's own container ports of this protocol: the answer a person expects first.
    declared = [cp.port for cp in (dest_ports or ()) if cp.protocol.upper() == protocol]
    ordered = declared + [c for c in candidates if c not in declared]
    saw_unknown = False
    for port in ordered:
        a = allowed_pair(compiled, flow.source, dst, port, protocol)
        if a is True:
            v = evaluate_flow(compiled, Flow(flow.source, dst, port, protocol), explain=explain)
            return Verdict(
                flow,
                True,
                v.egress,
                v.ingress,
                port,
                v.notes + (f"any port: allowed on {port}/{protocol} (first allowed port found)",),
            )
        if a is None:
            saw_unknown = True
    rep = ordered[0] if ordered else 1
    v = evaluate_flow(compiled, Flow(flow.source, dst, rep, protocol), explain=explain)
    if saw_unknown:
        note = f"any port: no {protocol} port is known to be allowed both ways; some depend on unreadable data"
        return Verdict(flow, None, v.egress, v.ingress, None, v.notes + (note,), v.fix)
    note = f"any port: no {protocol} port is allowed both ways (evidence shown for {rep}/{protocol})"
    return Verdict(flow, False, v.egress, v.ingress, None, v.notes + (note,), v.fix)


def candidate_ports(
    compiled: CompiledSnapshot, flow: Flow, protocol: str, dest_ports: tuple[ContainerPort, ...] | None
) -> set[int]:
    policies: list[CompiledPolicy] = list(compiled.admin_policies)
    if compiled.baseline is not None:
        policies.append(compiled.baseline)
    for end in (flow.source, flow.destination):
        if isinstance(end, PodPeer):
            policies.extend(compiled.policies_in(end.namespace))
    out = {1}
    for p in policies:
        for rules in (p.ingress or (), p.egress or ()):
            for rule in rules:
                for m in rule.ports:
                    if m.protocol in (protocol, "*"):
                        pm = m if m.protocol != "*" else type(m)(protocol, m.port, m.end_port)
                        out.update(pm.boundaries(protocol, dest_ports))
    out |= compiled.cni_port_cuts(protocol, dest_ports)
    return {p for p in out if 1 <= p <= 65535}


__all__ = ["KIND_ANP", "NODE_RULE", "allowed_pair", "evaluate_direction", "evaluate_flow", "is_loopback", "own_node"]
