"""Audit checks over a snapshot: NetworkPolicy hygiene, identities whose footholds reach beyond what the policies
intend, and (live) a CNI that does not enforce NetworkPolicy. Each finding: severity, object, one-line reason, hint.

Checks (id: severity):
    no-network-policy            high    namespace with workloads and no NetworkPolicy at all
    no-default-deny-ingress      medium  namespace without a policy selecting every pod for Ingress with no rules
    no-default-deny-egress       low     the same for Egress
    dns-egress-denied            medium  egress-isolated workload that may not reach the cluster DNS on 53/UDP
    policy-selects-nothing       low     NetworkPolicy whose podSelector matches no pod of its namespace
    peer-matches-nothing         medium  from/to entry whose selectors match no pod (or namespaceSelector no namespace)
    rule-shadowed                low     rule allowing a subset of what an earlier-or-broader rule of the same policy allows
    named-port-undefined         medium  named port that no pod the rule applies to defines
    create-pods-cross-namespace  high    subject can create pods/workloads in NS and, wearing labels some policy trusts,
                                         reach other namespaces
    edit-networkpolicies         high    subject can create/update/patch/delete NetworkPolicies (critical: everywhere)
    wildcard-exec                medium  subject holds verbs ["*"] on pods/exec
    cluster-admin                medium  subject holds * on * everywhere (reported once instead of the above;
                                         info for the built-in system:masters group)
    cni-not-enforcing            high    live cluster whose CNI is not known to enforce NetworkPolicy
    expectation-failed           per entry (default high)   an --expect assertion does not hold
    invalid-manifest             high    offline: an object the API server would reject (left out of every verdict;
                                         applying its file fails)
    policy-not-evaluated         high    a policy object this tool does not evaluate (another CNI's, Istio's, an unknown
                                         version), or a policy resource it could not read: the verdicts it could change
                                         are UNKNOWN
    staged-policy                info    a Calico staged policy: not enforced, it changes no verdict

System namespaces (kube-system, kube-public, kube-node-lease) are left out of the default-deny checks.

Long because: it is the registry of every check in the table above, in report order, with the rule-cover
helpers that rule-shadowed and peer-matches-nothing share.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Iterable, Mapping, Sequence

from ..cluster.snapshot import ContainerPort, Snapshot, Workload
from ..netpol.compile import CompiledPolicy, CompiledRule, PeerMatcher
from ..netpol.evaluate import evaluate_flow, selecting_policies
from ..netpol.explain import selection_labels, stable_labels
from ..netpol.match import namespace_selected, selects
from ..netpol.model import KIND_BANP, KIND_NP, Direction, Flow, PodPeer
from ..netpol.ports import PortMatcher
from ..netpol.selectors import LabelSelector
from .footholds import (
    CREATE_ACTIONS,
    NETPOL_ACTIONS,
    POD_ACTIONS,
    SubjectAccess,
    group_by_subject,
    namespaces_in,
    subjects_with_actions,
)
from .model import Finding, Subject, sort_findings
from .reach import ReachEngine, beyond

CHECKS = (
    "no-network-policy", "no-default-deny-ingress", "no-default-deny-egress", "dns-egress-denied",
    "policy-selects-nothing", "peer-matches-nothing", "rule-shadowed", "named-port-undefined",
    "create-pods-cross-namespace", "edit-networkpolicies", "wildcard-exec", "cluster-admin", "cni-not-enforcing",
    "expectation-failed", "invalid-manifest", "policy-not-evaluated", "staged-policy",
)  # fmt: skip
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}


def audit(
    engine: ReachEngine,
    *,
    authorizer: object | None = None,
    namespaces: Sequence[str] | None = None,
    cni_warning: str | None = None,
) -> list[Finding]:
    """All checks in scope (namespaces None: everything in the snapshot). Findings sorted, most severe first."""
    scope = list(namespaces) if namespaces is not None else namespaces_in(engine.snapshot)
    findings: list[Finding] = []
    findings += check_default_deny(engine, scope)
    findings += check_dns_egress(engine, scope)
    findings += check_policies(engine, scope)
    findings += check_invalid_objects(engine.snapshot)
    findings += check_unevaluated(engine, scope)
    if authorizer is not None:
        findings += check_identities(engine, authorizer, scope)
    if cni_warning:
        findings.append(
            Finding(
                "high",
                "cni-not-enforcing",
                "cluster",
                cni_warning,
                "install a NetworkPolicy-enforcing CNI or policy agent (Calico, Cilium, Antrea, kube-router, ...)",
            )
        )
    return sort_findings(findings)


# --- input ------------------------------------------------------------------------------------------------------


def check_invalid_objects(snapshot: Snapshot) -> list[Finding]:
    """Manifests the API server would reject: every verdict was computed without them, and `kubectl apply` of their
    file fails. Reported whatever the namespace scope: a broken input file is never out of scope."""
    out = []
    for inv in snapshot.invalid:
        if inv.kind and inv.name:
            obj = "/".join(p for p in (inv.kind.lower(), inv.namespace, inv.name) if p)
        else:
            obj = inv.location
        out.append(
            Finding(
                "high",
                "invalid-manifest",
                obj,
                f"{inv.location}: {inv.reason}: the API server rejects this object (applying the file fails), "
                "so every answer here was computed without it",
                inv.hint or "fix the field named in the reason; kubectl apply --dry-run=server -f FILE shows the API "
                "server's own message",
                details={"location": inv.location},
            )
        )
    return out


def check_unevaluated(engine: ReachEngine, scope: Sequence[str]) -> list[Finding]:
    """Policy objects no engine here evaluates, and policy resources that could not be read: fail closed, so the
    verdicts they could change are UNKNOWN -- and said here once per object (cluster-scoped ones whatever the scope)."""
    from ..netpol.foreign import effect_of

    out = []
    in_scope = set(scope)
    for obj in engine.snapshot.unevaluated:
        if obj.namespace is not None and obj.namespace not in in_scope:
            continue
        kind = f"{obj.kind.lower()}.{obj.group}" if obj.group else obj.kind.lower()
        ref = "/".join(p for p in (kind, obj.namespace, obj.name) if p)
        if obj.staged:
            out.append(
                Finding(
                    "info",
                    "staged-policy",
                    ref,
                    f"{obj.label} is staged: {obj.why}",
                    "enforce it (calicoctl or the Calico web console) when its preview looks right",
                    details={"location": obj.source},
                )
            )
            continue
        effect = effect_of(obj)
        out.append(
            Finding(
                "high",
                "policy-not-evaluated",
                ref,
                f"{effect.reason}: {effect.unknown_text()} here",
                "check the flows it governs with the tool of its own project; "
                + ("pass --cni to choose the CNI whose policies are evaluated" if obj.group in _CNI_GROUPS else
                   "or leave it out of the input if it is not enforced in the cluster"),
                details={"location": obj.source, "apiVersion": obj.api_version},
            )
        )  # fmt: skip
    for effect in engine.compiled.foreign:
        if not effect.gap:
            continue
        if effect.namespace is not None and effect.namespace not in in_scope:
            continue
        out.append(
            Finding(
                "high",
                "policy-not-evaluated",
                effect.label,
                f"{effect.reason}: {effect.unknown_text()} here",
                "grant list on that resource to the identity running the check",
            )
        )
    return out


_CNI_GROUPS = ("projectcalico.org", "crd.projectcalico.org", "cilium.io")


# --- namespaces -------------------------------------------------------------------------------------------------


def _workloads_by_ns(engine: ReachEngine) -> dict[str, list[Workload]]:
    out: dict[str, list[Workload]] = {}
    for w in engine.snapshot.workloads:
        out.setdefault(w.namespace, []).append(w)
    return out


def _is_default_deny(policy: CompiledPolicy, direction: str) -> bool:
    """podSelector {} with this policy type and no rules: "Default deny all ingress traffic" (kubernetes.io,
    Network Policies, "Default policies")."""
    rules = policy.rules(direction)  # type: ignore[arg-type]
    return (
        policy.kind == KIND_NP
        and rules is not None
        and len(rules) == 0
        and policy.subject_pod_selector is not None
        and policy.subject_pod_selector.is_empty
    )


def _isolates_every_pod(policy: CompiledPolicy, direction: str) -> bool:
    """podSelector {} with this policy type, whatever its rules allow (unless one rule allows everything): every pod,
    new ones included, is isolated for the direction -- "a pod is isolated for ingress if there is any NetworkPolicy
    that both selects the pod and has Ingress in its policyTypes" (kubernetes.io, Network Policies)."""
    rules = policy.rules(direction)  # type: ignore[arg-type]
    return (
        policy.kind == KIND_NP
        and rules is not None
        and policy.subject_pod_selector is not None
        and policy.subject_pod_selector.is_empty
        and not any(r.all_peers and r.all_ports for r in rules)
    )


def _baseline_denies_all(engine: ReachEngine, namespace: str, direction: str) -> bool:
    """A BaselineAdminNetworkPolicy selecting the namespace with a Deny rule for every peer counts as default deny."""
    banp = engine.compiled.baseline
    if banp is None or banp.kind != KIND_BANP:
        return False
    probe = engine.compiled.selector_peer(namespace, {})
    if selects(engine.compiled, banp, probe) is not True:
        return False
    for rule in banp.rules(direction) or ():  # type: ignore[arg-type]
        if rule.action == "Deny" and (
            rule.all_peers
            or any(
                pm.kind == "pods"
                and pm.namespace_selector is not None
                and pm.namespace_selector.is_empty
                and (pm.pod_selector is None or pm.pod_selector.is_empty)
                for pm in rule.peers
            )
        ):
            return True
    return False


def check_default_deny(engine: ReachEngine, scope: Sequence[str]) -> list[Finding]:
    out: list[Finding] = []
    workloads = _workloads_by_ns(engine)
    for ns in scope:
        if ns in SYSTEM_NAMESPACES:
            continue
        if engine.compiled.np_gap(ns):
            continue  # cannot see the policies: no claim either way
        policies = engine.compiled.policies_in(ns)
        n = len(workloads.get(ns, ()))
        cni_deny = {d: cni_isolators(engine, ns, d) for d in ("ingress", "egress")}
        if not policies and not n:
            continue  # an empty namespace: nothing to protect yet
        unpoliced = not policies and not cni_selecting(engine, ns, workloads.get(ns, []))
        if unpoliced and n and not _baseline_denies_all(engine, ns, "ingress") and not any(cni_deny.values()):
            command = policy_command("default-deny", "-n", ns, "--allow-dns")
            out.append(
                Finding(
                    "high",
                    "no-network-policy",
                    f"namespace/{ns}",
                    f"no NetworkPolicy: its {n} workload(s) accept traffic from anywhere and may connect anywhere",
                    f"start with a default deny of both directions that keeps DNS working: {command}",
                    {"command": command},
                )
            )
            continue
        for direction, sev in (("ingress", "medium"), ("egress", "low")):
            if any(_is_default_deny(p, direction) for p in policies) or _baseline_denies_all(engine, ns, direction):
                continue
            if cni_deny[direction]:
                continue  # a CNI policy selects every pod of the namespace: what it does not allow is denied
            isolating = [p.label for p in policies if _isolates_every_pod(p, direction)]
            effect = (
                f"new pods are still isolated by {', '.join(isolating)} (podSelector {{}}) and get what its rules allow"
                if isolating
                else f"new pods are open for {direction}"
            )
            # exactly the missing policy: one direction, and (egress) the DNS allow only for pods it would cut off
            args = ["default-deny", "-n", ns, f"--{direction}-only"]
            if direction == "egress" and _default_deny_cuts_dns(engine, ns, workloads.get(ns, [])):
                args.append("--allow-dns")
            command = policy_command(*args)
            out.append(
                Finding(
                    sev,
                    f"no-default-deny-{direction}",
                    f"namespace/{ns}",
                    f"no default-deny {direction} policy (podSelector {{}}, policyTypes [{direction.capitalize()}], no rules): "
                    f"{effect}",
                    command,
                    {"command": command},
                )
            )
    return out


DIRECTIONS: tuple[Direction, ...] = ("ingress", "egress")


def cni_selecting(engine: ReachEngine, namespace: str, workloads: Sequence[Workload]) -> bool:
    """Whether a CNI's own policy (Calico, Cilium) selects some pod of the namespace for some direction: then the
    namespace is not "without NetworkPolicy" (the per-direction default-deny checks still apply)."""
    compiled = engine.compiled
    if compiled.cni == "generic":
        return False
    for w in workloads:
        peer = compiled.peer(w)
        for d in DIRECTIONS:
            if any(not label.startswith(("NP ", "ANP ", "BANP ")) for label in selecting_policies(compiled, d, peer)):
                return True
    return False


def cni_isolators(engine: ReachEngine, namespace: str, direction: str) -> list[str]:
    """CNI policies that select every pod of the namespace (a new one included) for the direction, so that what no rule
    allows is denied: Calico policies whose selector looks only at the namespace, in a tier whose default action is
    Deny ("If the Tier applies to the endpoint, but takes no action on the packet the packet is dropped"); Cilium
    rules whose endpoint selector looks only at the namespace, with default deny for the direction."""
    compiled = engine.compiled
    out: list[str] = []
    if compiled.cni == "calico":
        from ..netpol import calico
        from ..netpol.calico_selector import keys

        probe = compiled.selector_peer(namespace, {})
        for tier in compiled.calico.tiers:
            if tier.default_action != "Deny":
                continue
            for e in tier.entries:
                cp = e.calico
                if cp is None or cp.rules(direction) is None or cp.sa_selector is not None:  # type: ignore[arg-type]
                    continue
                if keys(cp.selector) <= {calico.LABEL_NAMESPACE, calico.LABEL_ORCHESTRATOR}:
                    if calico.policy_selects(compiled, cp, probe) is True:
                        out.append(cp.label)
    if compiled.cni == "cilium":
        # "If any rule selects the endpoint ... default deny" for the direction (cilium.py): a rule whose endpoint
        # selector looks only at the namespace selects every pod of it, a new one included
        from ..netpol import cilium

        probe = compiled.selector_peer(namespace, {})
        for cc in compiled.cilium.policies:
            if cc.subject is None or not cc.default_deny[direction]:
                continue
            if all(k == cilium.NS_KEY or k.startswith(cilium.NS_LABELS_PREFIX) for k in cc.subject.keys):
                if cilium.policy_selects(compiled, cc, probe) is True:
                    out.append(cc.label)
    return out


def policy_command(*args: str) -> str:
    """A `kubectl netsso policy ...` command line, every argument shell-quoted (names come from manifests)."""
    return "kubectl netsso policy " + " ".join(shlex.quote(a) for a in args)


def _egress_isolated(engine: ReachEngine, peer: PodPeer) -> bool:
    return bool(selecting_policies(engine.compiled, "egress", peer))


def _default_deny_cuts_dns(engine: ReachEngine, ns: str, workloads: Sequence[Workload]) -> bool:
    """Whether a default-deny egress would take DNS from a pod that has it now: one not egress-isolated yet (a new
    pod with no labels included), whose egress the deny makes empty."""
    dns = _dns_peers(engine)[0]
    peers = [engine.compiled.selector_peer(ns, {})] + [engine.compiled.peer(w) for w in workloads if not w.host_network]
    for peer in peers:
        if _egress_isolated(engine, peer):
            continue  # its egress (DNS or not) is what its policies say already; the deny adds nothing to it
        if evaluate_flow(engine.compiled, Flow(peer, dns, 53, "UDP"), explain=False).egress.allowed is not False:
            return True
    return False


def _dns_fix_labels(engine: ReachEngine, w: Workload, workloads: Sequence[Workload]) -> dict[str, str] | None:
    """The podSelector for a DNS-only allow that fixes w without isolating anyone new: {} (None) when every pod of
    the namespace, a new one included, is egress-isolated already; else labels of w that select only such pods."""
    compiled = engine.compiled
    same_ns = [x for x in workloads if x.namespace == w.namespace and not x.host_network]
    if _egress_isolated(engine, compiled.selector_peer(w.namespace, {})) and all(
        _egress_isolated(engine, compiled.peer(x)) for x in same_ns
    ):
        return None
    for labels in (selection_labels(w.labels), stable_labels(w.labels), dict(w.labels)):
        if labels and all(
            _egress_isolated(engine, compiled.peer(x)) for x in same_ns if all(x.labels.get(k) == v for k, v in labels.items())
        ):
            return labels
    return dict(w.labels)


def _dns_peers(engine: ReachEngine) -> list[PodPeer]:
    found = [
        w
        for w in engine.snapshot.workloads
        if w.namespace == DNS_NAMESPACE and all(w.labels.get(k) == v for k, v in DNS_LABELS.items())
    ]
    if found:
        return [engine.compiled.peer(w) for w in found[:1]]
    ports = (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp"))
    return [engine.compiled.selector_peer(DNS_NAMESPACE, DNS_LABELS, ports, name="kube-dns")]


def check_dns_egress(engine: ReachEngine, scope: Sequence[str]) -> list[Finding]:
    """Egress-isolated workloads that may not send DNS queries (53/UDP) to the cluster DNS pods."""
    out: list[Finding] = []
    scope_set = set(scope)
    dns = _dns_peers(engine)[0]
    cache: dict[tuple[object, ...], tuple[bool | None, str]] = {}
    for w in engine.snapshot.workloads:
        if w.namespace not in scope_set or w.host_network or w.namespace == DNS_NAMESPACE:
            continue
        key = (w.namespace, frozenset(w.labels.items()), w.service_account)
        if key not in cache:
            src = engine.compiled.peer(w)
            v = evaluate_flow(engine.compiled, Flow(src, dns, 53, "UDP"), explain=False)
            cache[key] = (v.egress.allowed, ", ".join(v.egress.selecting))
        allowed, selecting = cache[key]
        if allowed is False:
            labels = _dns_fix_labels(engine, w, engine.snapshot.workloads)
            args = ["allow-dns", "-n", w.namespace]
            if labels:
                args += ["--pod-selector", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
            command = policy_command(*args)
            out.append(
                Finding(
                    "medium",
                    "dns-egress-denied",
                    w.ref,
                    f"egress-isolated (by {selecting}) but DNS to {DNS_NAMESPACE} pods k8s-app=kube-dns on 53/UDP is denied: "
                    "name lookups will fail",
                    f"allow DNS only (egress to kube-dns on 53/UDP and 53/TCP), for pods that are egress-isolated already: "
                    f"{command}",
                    {"command": command},
                )
            )
    return out


# --- policies ---------------------------------------------------------------------------------------------------


def check_policies(engine: ReachEngine, scope: Sequence[str]) -> list[Finding]:
    out: list[Finding] = []
    workloads = [w for w in engine.snapshot.workloads if not w.host_network]
    by_ns = _workloads_by_ns(engine)
    known_ns = set(namespaces_in(engine.snapshot))
    for ns in scope:
        for p in engine.compiled.policies_in(ns):
            obj = f"networkpolicy/{p.ref}"
            selected = [
                w for w in by_ns.get(ns, ()) if not w.host_network and selects(engine.compiled, p, engine.compiled.peer(w))
            ]
            if not selected and by_ns.get(ns):
                out.append(
                    Finding(
                        "low",
                        "policy-selects-nothing",
                        obj,
                        f"podSelector {_sel(p.subject_pod_selector)} matches no pod in {ns}: the policy has no effect",
                        "check the podSelector against the pod template labels (kubectl get pods --show-labels)",
                    )
                )
            for direction in ("ingress", "egress"):
                rules = p.rules(direction)
                if not rules:
                    continue
                out += _dead_peers(engine, p, direction, rules, workloads, known_ns)
                out += _shadowed(engine, p, direction, rules)
                out += _named_ports(engine, p, direction, rules, selected, workloads)
    return out


def _sel(sel: LabelSelector | None) -> str:
    return "(none)" if sel is None else ("{}" if sel.is_empty else sel.describe())


def _rule_name(p: CompiledPolicy, direction: str, rule: CompiledRule) -> str:
    # People count from 1 (as explain's "closest" lines do); JSON consumers get the same text.
    return f"networkpolicy/{p.ref} {direction} rule {rule.index + 1}"


def _dead_peers(
    engine: ReachEngine,
    p: CompiledPolicy,
    direction: str,
    rules: Sequence[CompiledRule],
    workloads: Sequence[Workload],
    known_ns: set[str],
) -> list[Finding]:
    out: list[Finding] = []
    side = "from" if direction == "ingress" else "to"
    # Namespaces named by objects but not defined: the folder holds part of a cluster, and a peer matching nothing
    # in it may match pods that are not in it.
    partial = sorted(ns.name for ns in engine.snapshot.namespaces if not ns.defined)
    for rule in rules:
        for pm in rule.peers:
            if pm.kind != "pods":
                continue
            if any(_peer_matches_workload(engine, pm, w) for w in workloads):
                continue
            obj = _rule_name(p, direction, rule) + f" {side} entry {pm.index + 1}"
            if (
                pm.namespace is None
                and pm.namespace_selector is not None
                and not any(
                    namespace_selected(engine.compiled, pm.namespace_selector, engine.compiled.selector_peer(n, {})) is not False
                    for n in known_ns
                )
            ):
                have = "; ".join(
                    f"{n}: {_labels(engine.compiled.labels_of(n), skip_name=True)}"
                    for n in sorted(known_ns)
                    if n not in SYSTEM_NAMESPACES
                )
                reason = f"namespaceSelector {pm.namespace_selector.describe()} matches no namespace (labels: {have})"
                hint = "fix the selector or label the namespace it means (kubectl label namespace NS key=value)"
            else:
                reason = f"{pm.describe()} matches no pod: the entry allows nothing"
                hint = "check the selectors against the pod template labels and namespace labels"
            severity = "medium"
            if partial and pm.namespace is None:
                severity = "low"
                reason += (
                    f" in the input; it defines no Namespace object for {', '.join(partial)}, so it looks partial and "
                    "pods outside it may match"
                )
                hint = "add the missing Namespace objects and workloads to the input, or " + hint
            out.append(Finding(severity, "peer-matches-nothing", obj, reason, hint))
    return out


def _peer_matches_workload(engine: ReachEngine, pm: PeerMatcher, w: Workload) -> bool:
    if pm.pod_selector is None or not pm.pod_selector.matches(w.labels):
        return False
    if pm.namespace is not None:
        return w.namespace == pm.namespace
    return namespace_selected(engine.compiled, pm.namespace_selector, engine.compiled.peer(w)) is not False


def _labels(labels: Mapping[str, str], skip_name: bool = False) -> str:
    items = sorted((k, v) for k, v in labels.items() if not (skip_name and k == "kubernetes.io/metadata.name"))
    return ",".join(f"{k}={v}" for k, v in items) or "(none)"


def _selector_covers(broad: LabelSelector | None, narrow: LabelSelector | None) -> bool:
    """Every object narrow matches, broad matches too (sufficient test: broad's requirements are among narrow's)."""
    if broad is None or narrow is None:
        return broad is None and narrow is None
    return set(broad.requirements) <= set(narrow.requirements)


def _peer_covers(engine: ReachEngine, policy_ns: str | None, a: PeerMatcher, b: PeerMatcher) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind in ("ipBlock", "networks"):
        for cb in b.cidrs:
            ok = False
            for ca in a.cidrs:
                if ca.version == cb.version and cb.subnet_of(ca):  # type: ignore[arg-type]
                    ok = all(_inside_some(e, b.excepts) or not e.overlaps(cb) for e in a.excepts)
                    if ok:
                        break
            if not ok:
                return False
        return True
    if a.kind != "pods":
        return False
    if not _selector_covers(a.pod_selector, b.pod_selector) and not (a.pod_selector is not None and a.pod_selector.is_empty):
        return False
    if a.namespace is not None:
        return b.namespace == a.namespace
    if a.namespace_selector is not None and a.namespace_selector.is_empty:
        return True
    if b.namespace is not None:
        return namespace_selected(engine.compiled, a.namespace_selector, engine.compiled.selector_peer(b.namespace, {})) is True
    return _selector_covers(a.namespace_selector, b.namespace_selector)


def _inside_some(
    net: ipaddress.IPv4Network | ipaddress.IPv6Network, nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    return any(net.version == n.version and net.subnet_of(n) for n in nets)  # type: ignore[arg-type]


def _port_covers(a: PortMatcher, b: PortMatcher) -> bool:
    if a.protocol != b.protocol:
        return False
    if a.port is None:
        return True
    if b.port is None:
        return False
    if isinstance(a.port, str) or isinstance(b.port, str):
        return a.port == b.port and a.end_port is None and b.end_port is None
    a_hi = a.end_port if a.end_port is not None else a.port
    b_hi = b.end_port if b.end_port is not None else b.port
    return a.port <= b.port and b_hi <= a_hi


def rule_covers(engine: ReachEngine, policy_ns: str | None, a: CompiledRule, b: CompiledRule) -> bool:
    """Rule a allows everything rule b allows (same policy, same direction)."""
    if a.action != b.action:
        return False
    ports_ok = a.all_ports or (not b.all_ports and all(any(_port_covers(pa, pb) for pa in a.ports) for pb in b.ports))
    if not ports_ok:
        return False
    if a.all_peers:
        return True
    if b.all_peers:
        return False
    return all(any(_peer_covers(engine, policy_ns, pa, pb) for pa in a.peers) for pb in b.peers)


def _shadowed(engine: ReachEngine, p: CompiledPolicy, direction: str, rules: Sequence[CompiledRule]) -> list[Finding]:
    out: list[Finding] = []
    for j, rb in enumerate(rules):
        for i, ra in enumerate(rules):
            if i == j:
                continue
            if rule_covers(engine, p.namespace, ra, rb):
                # Two equal rules: report only the later one.
                if rule_covers(engine, p.namespace, rb, ra) and i > j:
                    continue
                out.append(
                    Finding(
                        "low",
                        "rule-shadowed",
                        _rule_name(p, direction, rb),
                        f"everything it allows is already allowed by {direction} rule {ra.index + 1} of the same policy",
                        f"remove rule {rb.index + 1} or narrow rule {ra.index + 1} if it is broader than intended",
                    )
                )
                break
    return out


def _defines(w: Workload, name: str, protocol: str) -> bool:
    return any(cp.name == name and cp.protocol.upper() == protocol for cp in w.ports)


def _named_ports(
    engine: ReachEngine,
    p: CompiledPolicy,
    direction: str,
    rules: Sequence[CompiledRule],
    selected: Sequence[Workload],
    workloads: Sequence[Workload],
) -> list[Finding]:
    """ "named port ... resolved on the destination pod": for ingress the selected pods, for egress the rule's peers."""
    out: list[Finding] = []
    for rule in rules:
        named = [m for m in rule.ports if isinstance(m.port, str)]
        if not named:
            continue
        if direction == "ingress":
            dests = list(selected)
        elif rule.all_peers or any(pm.kind == "ipBlock" for pm in rule.peers):
            # an ipBlock destination is a pod (by its IP) or outside the cluster, where "a named port never matches"
            # (no pod spec to look it up in): if no pod at all defines the name, the entry never matches
            dests = list(workloads)
        else:
            dests = [w for w in workloads if any(_peer_matches_workload(engine, pm, w) for pm in rule.peers if pm.kind == "pods")]
        if not dests:
            continue  # reported as selecting / matching nothing
        for m in named:
            assert isinstance(m.port, str)
            if not any(_defines(w, m.port, m.protocol) for w in dests):
                where = "pod selected by the policy" if direction == "ingress" else "destination pod of the rule"
                out.append(
                    Finding(
                        "medium",
                        "named-port-undefined",
                        _rule_name(p, direction, rule),
                        f"named port {m.port}/{m.protocol} is defined by no {where} ({len(dests)} checked): "
                        "the entry never matches",
                        "use the containerPort name the pods define (names are per protocol) or the port number",
                    )
                )
    return out


# --- identities -------------------------------------------------------------------------------------------------


def _is_cluster_admin(authorizer: object, rows: Sequence[SubjectAccess]) -> str | None:
    from ..rbac.authorize import Authorizer

    assert isinstance(authorizer, Authorizer)
    for r in rows:
        if r.cluster_wide and "*" in r.verbs and "*" in r.resources:
            return r.grant
    return None


def check_identities(engine: ReachEngine, authorizer: object, scope: Sequence[str]) -> list[Finding]:
    """Subjects bound in RBAC whose footholds reach beyond what the policies intend."""
    exec_action = [a for a in POD_ACTIONS if a.name == "exec"]
    rows = subjects_with_actions(authorizer, scope, (*CREATE_ACTIONS, *NETPOL_ACTIONS, *exec_action))
    out: list[Finding] = []
    all_ns = set(namespaces_in(engine.snapshot))
    create_cache: dict[str, tuple[str, str] | None] = {}
    for subject, srows in sorted(group_by_subject(rows).items(), key=lambda kv: (kv[0].kind, kv[0].namespace or "", kv[0].name)):
        who = subject.ref
        admin = _is_cluster_admin(authorizer, srows)
        if admin:
            # system:masters is the API server's built-in superuser group, bound by the bootstrap policy in every
            # cluster: worth knowing who is in it, not a finding about this cluster's RBAC.
            builtin = subject.kind == "Group" and subject.name == "system:masters"
            out.append(
                Finding(
                    "info" if builtin else "medium",
                    "cluster-admin",
                    who,
                    f"holds every verb on every resource in every namespace ({admin}), incl. creating pods anywhere and "
                    "rewriting every NetworkPolicy",
                    "keep cluster-admin to a small break-glass group; give teams namespaced roles",
                )
            )
            continue
        out += _create_findings(engine, subject, srows, create_cache)
        out += _netpol_findings(subject, srows, all_ns, scope)
        wild = sorted({(r.namespace, r.grant) for r in srows if r.action == "exec" and "*" in r.verbs})
        by_grant: dict[str, list[str]] = {}
        for ns, grant in wild:
            by_grant.setdefault(grant, []).append(ns)
        for grant, nss in by_grant.items():
            out.append(
                Finding(
                    "medium",
                    "wildcard-exec",
                    who,
                    f'verbs ["*"] on pods/exec in {_ns_list(nss, all_ns)} ({grant}): exec into any pod there',
                    "grant only the verb needed (create) and only where needed; prefer resourceNames or a break-glass role",
                )
            )
    return out


def _ns_list(nss: Sequence[str], all_ns: set[str]) -> str:
    if set(nss) >= all_ns and len(all_ns) > 1:
        return "every namespace"
    return ", ".join(sorted(nss)) if len(nss) <= 4 else ", ".join(sorted(nss)[:4]) + f" and {len(nss) - 4} more"


def _create_findings(
    engine: ReachEngine, subject: Subject, rows: Sequence[SubjectAccess], cache: dict[str, tuple[str, str] | None]
) -> list[Finding]:
    create_names = {a.name for a in CREATE_ACTIONS}
    by_ns: dict[str, list[SubjectAccess]] = {}
    for r in rows:
        if r.action in create_names:
            by_ns.setdefault(r.namespace, []).append(r)
    out: list[Finding] = []
    for ns, nrows in sorted(by_ns.items()):
        if ns not in cache:
            cache[ns] = _cross_namespace_example(engine, ns)
        example = cache[ns]
        if example is None:
            continue
        summary, evidence = example
        actions = ", ".join(dict.fromkeys(r.action for r in nrows[:3])) + (" ..." if len(nrows) > 3 else "")
        out.append(
            Finding(
                "high",
                "create-pods-cross-namespace",
                subject.ref,
                f"can {actions} in {ns} ({nrows[0].grant}) and so wear any labels: {summary}",
                f"policies trusting pod labels from {ns} trust whoever may create pods there: "
                f"narrow who can create pods in {ns}, "
                "or make the trusted peers stricter (e.g. a dedicated namespace for the trusted workload)",
                {"namespace": ns, "evidence": evidence},
            )
        )
    return out


def _cross_namespace_example(engine: ReachEngine, ns: str) -> tuple[str, str] | None:
    from .model import CREATE, Foothold

    reach = engine.reach(Foothold(CREATE, ns, f"{ns}/*", ()))
    cross = [d for d in reach.destinations if beyond(d, ns)]
    if not cross:
        return None
    d = cross[0]
    labels = _labels(d.labels or {})
    other_ns = sorted({c.namespace for c in cross if c.namespace})
    where = ", ".join(other_ns[:4]) + (f" and {len(other_ns) - 4} more namespaces" if len(other_ns) > 4 else "")
    more = f" and {len(cross) - 1} more in {where}" if len(cross) > 1 else ""
    evidence = ""
    dst = next((w for w in engine.snapshot.workloads if w.ref == d.ref), None)
    port = d.ports[0].split("/")[0].rsplit("=", 1)[-1] if d.ports else ""
    proto = d.ports[0].split("/")[-1] if d.ports else "TCP"
    if dst is not None and port.isdigit():
        v = evaluate_flow(
            engine.compiled,
            Flow(engine.compiled.selector_peer(ns, d.labels or {}), engine.compiled.peer(dst), int(port), proto),
            explain=False,
        )
        if v.ingress.decided_by is not None:
            evidence = f"ingress allowed by {v.ingress.decided_by.describe()}"
        else:
            evidence = v.ingress.reason
    wearing = f"as {labels} a new pod" if d.labels else "a new pod without labels"
    text = f"{wearing} reaches {d.ref} ({', '.join(d.ports)}){more}"
    if evidence:
        text += f"; {evidence}"
    return text, evidence


def _netpol_findings(subject: Subject, rows: Sequence[SubjectAccess], all_ns: set[str], scope: Sequence[str]) -> list[Finding]:
    netpol_names = {a.name for a in NETPOL_ACTIONS}
    nrows = [r for r in rows if r.action in netpol_names]
    if not nrows:
        return []
    nss = sorted({r.namespace for r in nrows})
    verbs = sorted({r.action.split()[0] for r in nrows})
    grants = sorted({r.grant for r in nrows})
    everywhere = all(r.cluster_wide for r in nrows) and set(nss) >= set(scope) and len(scope) > 1
    sev = "critical" if everywhere else "high"
    where = "every namespace" if everywhere else _ns_list(nss, all_ns)
    return [
        Finding(
            sev,
            "edit-networkpolicies",
            subject.ref,
            f"can {'/'.join(verbs)} NetworkPolicies in {where} ({'; '.join(grants[:2])}{' ...' if len(grants) > 2 else ''}): "
            "can rewrite the rules and open any flow there",
            "keep NetworkPolicy write access with the platform team or GitOps; give teams read-only (view) access"
            + ("; bind per namespace instead of a ClusterRoleBinding" if everywhere else ""),
            {"namespaces": nss},
        )
    ]
