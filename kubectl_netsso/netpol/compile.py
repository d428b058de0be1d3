"""Compile a Snapshot once: NetworkPolicies, AdminNetworkPolicies and the BaselineAdminNetworkPolicy become subject
matchers, ordered rules, peer matchers and port matchers; gaps and namespace labels are indexed for evaluation.

Long because: NetworkPolicy and AdminNetworkPolicy compile into the same CompiledRule and PeerMatcher;
both compilers beside those types keep the shared peer and port semantics in one file.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..cluster import policykinds
from ..cluster.snapshot import NAMESPACE_NAME_LABEL, Gap, NetworkPolicy, Snapshot, Workload
from ..cluster.snapshot import AdminNetworkPolicy as AnpRecord
from .calico import CalicoModel, build_model, host_endpoint_effects
from .cilium import CiliumModel
from .foreign import ForeignEffect, ForeignVerdict, applying, effect_of, effect_of_gap, warning_lines
from .model import KIND_ANP, KIND_BANP, KIND_NP, Direction, Peer, PodPeer, label_map
from .ports import PortError, PortMatcher, parse_anp_port, parse_np_port
from .selectors import EMPTY, LabelSelector, SelectorError, parse_selector

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpBlockPods = Literal["match", "ignore"]


def _net(text: Any) -> IpNetwork:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise ValueError(f"invalid CIDR {text!r}") from None


@dataclass(frozen=True, slots=True)
class PeerMatcher:
    """One entry of a rule's from/to list.

    kind: "pods" (namespace x pod selectors), "ipBlock" (NP), "networks" / "nodes" (ANP egress), "invalid".
    namespace: set for an NP podSelector-only peer (the policy's own namespace); otherwise namespace_selector.
    invalid peers match nothing for an Allow and everything for Deny/Pass (ANP "fail closed"), see ``fail_open``.
    """

    index: int
    kind: str
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    cidrs: tuple[IpNetwork, ...] = ()
    excepts: tuple[IpNetwork, ...] = ()
    problem: str | None = None
    matches_all: bool = False  # an invalid ANP peer of a Deny/Pass rule: fail closed = match everything

    def describe(self) -> str:
        if self.kind == "ipBlock":
            text = f"ipBlock {', '.join(map(str, self.cidrs))}"
            if self.excepts:
                text += f" except {', '.join(map(str, self.excepts))}"
            return text
        if self.kind == "networks":
            return f"networks {', '.join(map(str, self.cidrs))}"
        if self.kind == "nodes":
            return "nodes"
        if self.kind == "invalid":
            return f"invalid peer ({self.problem})"
        pods = self.pod_selector.describe() if self.pod_selector else "(none)"
        if self.namespace is not None:
            where = f"namespace {self.namespace}"
        elif self.namespace_selector is not None and self.namespace_selector.is_empty:
            where = "all namespaces"
        else:
            where = f"namespaces with {self.namespace_selector.describe() if self.namespace_selector else '(none)'}"
        return f"pods {pods} in {where}" if pods != "(all)" else f"all pods in {where}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule: Allow for NetworkPolicy; Allow/Deny/Pass for ANP/BANP. all_peers: no from/to (every peer)."""

    index: int
    action: str
    peers: tuple[PeerMatcher, ...]
    all_peers: bool
    ports: tuple[PortMatcher, ...]
    all_ports: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A NetworkPolicy, ANP or BANP. ingress/egress None: the policy does not affect that direction."""

    kind: str
    name: str
    namespace: str | None
    priority: int
    subject_namespace: str | None  # NP: the policy's namespace
    subject_namespace_selector: LabelSelector | None  # ANP/BANP subject
    subject_pod_selector: LabelSelector | None
    ingress: tuple[CompiledRule, ...] | None
    egress: tuple[CompiledRule, ...] | None
    source: str = ""
    problems: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def label(self) -> str:
        """ "NP shop/api-ingress", "ANP deny-ssh", "BANP default"."""
        short = {KIND_NP: "NP", KIND_ANP: "ANP", KIND_BANP: "BANP"}[self.kind]
        return f"{short} {self.ref}"

    def rules(self, direction: Direction) -> tuple[CompiledRule, ...] | None:
        return self.ingress if direction == "ingress" else self.egress


@dataclass
class CompiledSnapshot:
    """Everything evaluation needs, indexed. Build with ``compile_snapshot``; treat as read-only afterwards."""

    snapshot: Snapshot
    ipblock_pods: IpBlockPods
    namespace_labels: dict[str, Mapping[str, str]]
    network_policies: dict[str, tuple[CompiledPolicy, ...]]  # by namespace
    admin_policies: tuple[CompiledPolicy, ...]  # ANPs, ascending priority then name
    baseline: CompiledPolicy | None
    np_gaps: dict[str | None, str] = field(default_factory=dict)  # namespace (None = all) -> reason
    anp_gap: str | None = None
    banp_gap: str | None = None
    label_gaps: dict[str | None, str] = field(default_factory=dict)  # namespaces whose labels are unknown
    warnings: list[str] = field(default_factory=list)
    node_ips: dict[str, tuple[str, ...]] = field(default_factory=dict)  # node name -> its addresses
    # Namespaces with a Namespace object (or listed live): the others' labels are unknown beyond their name.
    defined_namespaces: frozenset[str] = frozenset()
    # Some policy selects namespaces on a label other than kubernetes.io/metadata.name: only then can a verdict
    # depend on the labels of a namespace that is not in the input.
    label_sensitive: bool = False
    # Policy objects no engine here evaluates, and policy resources that could not be read: what they make UNKNOWN.
    foreign: tuple[ForeignEffect, ...] = ()
    # Whose semantics: "generic" (Kubernetes NetworkPolicy + ANP/BANP), "calico" (tiers, netpol/calico.py), "cilium"
    # (union of allows, deny rules win, netpol/cilium.py).
    cni: str = "generic"
    calico: CalicoModel = field(default_factory=CalicoModel)
    cilium: CiliumModel = field(default_factory=CiliumModel)

    def foreign_for(self, direction: Direction, subject: Peer) -> ForeignVerdict | None:
        """Why this direction of this subject cannot be decided here (an unevaluated policy could change it), or None."""
        return applying(self.foreign, direction, subject) if self.foreign else None

    # Hooks for the views that cut ports and addresses into classes (paths --compact, external flows): what the CNI's
    # own rules add to the NetworkPolicy / ANP cut points.
    def cni_networks(self) -> tuple[IpNetwork, ...]:
        """Every address range a CNI policy or network set names (external addresses are cut at their bounds)."""
        if self.cni == "calico":
            return self.calico.networks
        if self.cni == "cilium":
            return self.cilium.networks
        return ()

    def cni_addresses(self) -> tuple[str, ...]:
        """Addresses unlike their neighbours to the CNI: under Cilium every node's (a node is host / remote-node, never
        world, so CIDR rules skip it: "CIDR rules do not apply to ... an IP belonging to a node")."""
        if self.cni == "cilium":
            return tuple(ip for ips in self.node_ips.values() for ip in ips)
        return ()

    def cni_port_cuts(self, protocol: str, dest_ports: Sequence[Any] | None) -> set[int]:
        """Port numbers where a CNI rule's answer can change (a range's first port and one past its last)."""
        if self.cni == "calico":
            from .calico import port_boundaries

            return port_boundaries(self, protocol, dest_ports)
        if self.cni == "cilium":
            from .cilium import port_boundaries as cilium_boundaries

            return cilium_boundaries(self, protocol, dest_ports)
        return set()

    def cni_port_signature(self, protocol: str, number: int, groups: Sequence[Sequence[Any] | None]) -> tuple[Any, ...]:
        """How every CNI port match answers for this number, per group of destination container ports."""
        if self.cni == "calico":
            from .calico import port_signature

            return port_signature(self, protocol, number, groups)
        if self.cni == "cilium":
            from .cilium import port_signature as cilium_signature

            return cilium_signature(self, protocol, number, groups)
        return ()

    def labels_of(self, namespace: str) -> Mapping[str, str]:
        """A namespace's labels; unknown namespaces still carry the automatic kubernetes.io/metadata.name label."""
        labels = self.namespace_labels.get(namespace)
        if labels is None:
            return {NAMESPACE_NAME_LABEL: namespace}
        return labels

    def peer(self, workload: Workload) -> PodPeer:
        """The PodPeer of a snapshot pod/workload, with its namespace's labels and its node's addresses."""
        node_ips = self.node_ips.get(workload.node, ()) if workload.node else ()
        return PodPeer.from_workload(workload, self.labels_of(workload.namespace), node_ips)

    def selector_peer(self, namespace: str, labels: Mapping[str, str], ports: Sequence[Any] = (), name: str = "") -> PodPeer:
        """A hypothetical pod with these labels in namespace (for --from-selector / --to-selector)."""
        shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return PodPeer(
            namespace, dict(labels), self.labels_of(namespace), tuple(ports), (), False, name or f"{{{shown}}}", "Pod",
            service_account="default",  # "serviceAccountName ... Defaults to 'default'" for a pod that names none
        )

    def np_gap(self, namespace: str) -> str | None:
        return self.np_gaps.get(namespace) or self.np_gaps.get(None)

    def label_gap(self, namespace: str) -> str | None:
        """Why the namespace's labels (other than its name) are not known, or None when they are."""
        gap = self.label_gaps.get(namespace) or self.label_gaps.get(None)
        if gap is None and self.label_sensitive and namespace not in self.defined_namespaces:
            return undefined_namespace_reason(namespace)
        return gap

    @property
    def undefined_namespaces(self) -> list[str]:
        """Namespaces the input names (objects in them) without defining them, when a verdict may depend on it."""
        if not self.label_sensitive:
            return []
        return sorted(ns.name for ns in self.snapshot.namespaces if ns.name not in self.defined_namespaces)

    def policies_in(self, namespace: str) -> tuple[CompiledPolicy, ...]:
        return self.network_policies.get(namespace, ())


class CniError(ValueError):
    """The CNI whose semantics apply cannot be chosen (the input holds several CNIs' policies): pass one."""


CNIS = ("auto", "generic", "calico", "cilium")


def detect_cni(snapshot: Snapshot) -> str:
    """--cni auto offline: the CNI whose policy objects the input holds ("generic" when none)."""
    found = []
    if snapshot.calico_policies or snapshot.calico_tiers:
        found.append("calico")
    if snapshot.cilium_policies:
        found.append("cilium")
    # Several: only one CNI enforces a cluster's policies, and which one is not for a guess -- none is chosen, so every
    # CNI's objects stay UNKNOWN (fail closed) until --cni says which.
    return found[0] if len(found) == 1 else "generic"


def several_cnis(snapshot: Snapshot) -> list[str]:
    found = []
    if snapshot.calico_policies or snapshot.calico_tiers:
        found.append("Calico")
    if snapshot.cilium_policies:
        found.append("Cilium")
    return found if len(found) > 1 else []


def compile_snapshot(
    snapshot: Snapshot, *, ipblock_pods: IpBlockPods | None = "match", cni: str = "auto"
) -> CompiledSnapshot:
    """Compile all policies of a snapshot once.

    ipblock_pods: "match" -- ipBlock peers match pod IPs when known (what the upstream conformance tests expect);
    "ignore" -- ipBlock applies only to traffic from/to outside the cluster (e.g. Cilium, cilium/cilium#9209);
    None -- what the CNI does. cni: "generic" (Kubernetes semantics), "calico" (Calico's tiers, with Kubernetes
    NetworkPolicies in its default tier), or "auto" (the CNI whose objects the input holds, else generic); the
    objects of a CNI not chosen are not evaluated (their verdicts UNKNOWN, netpol/foreign.py).
    Invalid policies (bad selector, port, CIDR) are kept but fail closed (their broken parts match nothing);
    each problem is a warning naming the policy.
    """
    cni, _, mode = cni.partition(":")
    mode = mode or "default"
    if cni not in CNIS:
        raise ValueError(f"cni must be one of {', '.join(CNIS)}")
    auto = cni == "auto"
    if auto:
        cni = detect_cni(snapshot)
    if mode != "default" and cni != "cilium":
        raise CniError(f"a policy enforcement mode ({mode}) is Cilium's: it needs --cni cilium")
    if ipblock_pods is None:
        # Cilium: "ipBlock ... does not select pods" (CIDR rules apply to traffic from / to outside the cluster only)
        ipblock_pods = "ignore" if cni == "cilium" else "match"
    if ipblock_pods not in ("match", "ignore"):
        raise ValueError("ipblock_pods must be 'match' or 'ignore'")
    warnings: list[str] = list(snapshot.warnings)
    why: str | None = None
    if auto and several_cnis(snapshot):
        names = " and ".join(several_cnis(snapshot))
        why = f"the input holds {names} policies: pass --cni to say which CNI enforces them"
        warnings.append(
            f"the input holds {names} policies: only one CNI enforces a cluster's policies, so neither is evaluated "
            "(what they could change is UNKNOWN); pass --cni calico or --cni cilium"
        )
    ns_labels: dict[str, Mapping[str, str]] = {}
    for ns in snapshot.namespaces:
        labels = label_map(ns.labels)
        # "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces, the
        # value of the label is the namespace name." (kubernetes.io, Network Policies)
        labels.setdefault(NAMESPACE_NAME_LABEL, ns.name)
        ns_labels[ns.name] = labels
    by_ns: dict[str, list[CompiledPolicy]] = {}
    for np in snapshot.network_policies:
        cp = compile_network_policy(np)
        for p in cp.problems:
            warnings.append(f"NetworkPolicy {cp.ref}: {p}")
        by_ns.setdefault(np.namespace, []).append(cp)
    anps: list[CompiledPolicy] = []
    banp: CompiledPolicy | None = None
    for anp in snapshot.admin_network_policies:
        cp = compile_admin_policy(anp)
        for p in cp.problems:
            warnings.append(f"{anp.kind} {cp.ref}: {p}")
        if cp.kind == KIND_BANP:
            # "BaselineAdminNetworkPolicy is a cluster level resource ... only a single BANP named 'default' is
            # allowed" (baselineadminnetworkpolicy_types.go, CEL rule self.metadata.name == 'default').
            if cp.name != "default":
                warnings.append(f"BaselineAdminNetworkPolicy {cp.name}: ignored, only one named 'default' is allowed")
                continue
            banp = cp
        else:
            anps.append(cp)
    # "Rules are evaluated in order of priority: ... the lower the number the higher the precedence"
    # (adminnetworkpolicy_types.go, Priority); the same priority with overlapping rules is undefined.
    anps.sort(key=lambda p: (p.priority, p.name))
    seen: dict[int, str] = {}
    for ap in anps:
        if ap.priority in seen:
            warnings.append(
                f"AdminNetworkPolicies {seen[ap.priority]} and {ap.name} share priority {ap.priority}: "
                "which one wins on overlapping traffic is undefined (evaluated here in name order)"
            )
        seen.setdefault(ap.priority, ap.name)
    compiled = CompiledSnapshot(
        snapshot=snapshot,
        ipblock_pods=ipblock_pods,
        namespace_labels=ns_labels,
        network_policies={ns: tuple(v) for ns, v in by_ns.items()},
        admin_policies=tuple(anps),
        baseline=banp,
        warnings=warnings,
    )
    _index_gaps(compiled, snapshot.gaps)
    compiled.cni = cni
    effects = [effect_of(o) for o in snapshot.unevaluated if not o.staged]
    effects += _policy_gap_effects(snapshot.gaps, cni)
    if cni == "calico":
        nps = [p for ps in compiled.network_policies.values() for p in ps]
        compiled.calico = build_model(snapshot, nps, compiled.admin_policies, compiled.baseline, warnings)
        effects += host_endpoint_effects(compiled.calico)
    else:
        effects += [_not_chosen(p.kind, p.api_version, p.namespace, p.name, cni, why) for p in snapshot.calico_policies]
    if cni == "cilium":
        from .cilium import build_model as build_cilium
        from .cilium import unevaluated_effects

        compiled.cilium = build_cilium(snapshot, mode)
        effects += unevaluated_effects(compiled)
    else:
        effects += [_not_chosen(p.kind, p.api_version, p.namespace, p.name, cni, why) for p in snapshot.cilium_policies]
    compiled.foreign = tuple(effects)
    warnings.extend(warning_lines(snapshot.unevaluated, effects))
    compiled.node_ips = node_addresses(snapshot)
    compiled.defined_namespaces = frozenset(ns.name for ns in snapshot.namespaces if ns.defined)
    compiled.label_sensitive = _label_sensitive(compiled) or compiled.calico.label_sensitive or compiled.cilium.label_sensitive
    undefined = compiled.undefined_namespaces
    if undefined:
        shown = ", ".join(undefined[:8]) + (f" and {len(undefined) - 8} more" if len(undefined) > 8 else "")
        warnings.append(
            f"namespace(s) {shown} are not defined in the input (no Namespace object): verdicts that depend on "
            "their labels are UNKNOWN; add their Namespace objects (e.g. kubectl get namespace NAME -o yaml)"
        )
    return compiled


def undefined_namespace_reason(namespace: str) -> str:
    return (
        f"namespace {namespace} is not defined in the input (no Namespace object), so its labels are unknown; "
        "add its Namespace object"
    )


def _label_sensitive(compiled: CompiledSnapshot) -> bool:
    """Whether any namespace selector (NetworkPolicy peer, ANP/BANP subject or peer) looks at a label other than the
    kubernetes.io/metadata.name label that every namespace carries."""
    policies = [p for ps in compiled.network_policies.values() for p in ps]
    policies += list(compiled.admin_policies) + ([compiled.baseline] if compiled.baseline is not None else [])
    for p in policies:
        selectors = [p.subject_namespace_selector]
        for rules in (p.ingress or (), p.egress or ()):
            selectors += [pm.namespace_selector for rule in rules for pm in rule.peers]
        if any(sel is not None and not sel.keys() <= {NAMESPACE_NAME_LABEL} for sel in selectors):
            return True
    return False


def node_addresses(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    """node name -> its IP addresses: the Node objects' and every pod's status.hostIPs on that node (offline
    manifests often hold only the latter; a hostNetwork pod's IPs are its node's too)."""
    out: dict[str, dict[str, None]] = {}
    for node in snapshot.nodes:
        out.setdefault(node.name, {}).update(dict.fromkeys(node.addresses))
    for w in snapshot.workloads:
        if w.node:
            out.setdefault(w.node, {}).update(dict.fromkeys(w.host_ips))
            if w.host_network:
                out[w.node].update(dict.fromkeys(w.ips))
    return {name: tuple(ips) for name, ips in out.items()}


def _policy_gap_effects(gaps: Sequence[Gap], cni: str) -> list[ForeignEffect]:
    """A 403 listing another policy resource (a CNI's CRD, Istio's...) hides policies that could change any verdict of
    the namespace (or of every namespace): those verdicts are UNKNOWN. What policies match on (Calico tiers,
    network sets) matters only with that CNI's semantics."""
    out = []
    for gap in gaps:
        pk = policykinds.by_resource(gap.resource)
        if pk is None or pk.staged or (pk.data and pk.engine != cni):
            continue
        out.append(effect_of_gap(gap, pk.directions, pk.hosts or pk.data, pk.restrict_only))
    return out


def _not_chosen(
    kind: str, api_version: str, namespace: str | None, name: str, cni: str, why: str | None = None
) -> ForeignEffect:
    """A CNI's policy when another CNI's semantics were chosen: not evaluated, so what it could change is UNKNOWN."""
    from ..cluster.snapshot import UnevaluatedPolicy

    why = why or f"--cni {cni} evaluates {'Kubernetes policies only' if cni == 'generic' else cni.capitalize() + ' policies'}"
    obj = UnevaluatedPolicy(kind, api_version, namespace, name, why=why, hosts=namespace is None)
    return effect_of(obj)


def _index_gaps(compiled: CompiledSnapshot, gaps: Sequence[Gap]) -> None:
    for gap in gaps:
        res = gap.resource.lower().split(".", 1)[0]
        reason = f"cannot see {gap.resource}" + (f" in namespace {gap.namespace}" if gap.namespace else "") + f": {gap.reason}"
        if res == "networkpolicies":
            compiled.np_gaps[gap.namespace] = reason
        elif res == "adminnetworkpolicies":
            compiled.anp_gap = reason
        elif res == "baselineadminnetworkpolicies":
            compiled.banp_gap = reason
        elif res == "namespaces":
            compiled.label_gaps[gap.namespace] = reason


# --- NetworkPolicy ------------------------------------------------------------------------------------------------


def compile_network_policy(np: NetworkPolicy) -> CompiledPolicy:
    spec = np.spec if isinstance(np.spec, Mapping) else {}
    problems: list[str] = []
    # "podSelector selects the pods to which this NetworkPolicy object applies. ... An empty podSelector selects all
    # pods in this namespace." (NetworkPolicySpec.PodSelector; omitted is defaulted to empty by the API server)
    subject = _selector(spec.get("podSelector", {}) if spec.get("podSelector") is not None else {}, "podSelector", problems)
    types = _as_list(spec.get("policyTypes"), "policyTypes", problems)
    if types:
        kinds = {str(t).capitalize() for t in types}
        for t in kinds - {"Ingress", "Egress"}:
            problems.append(f"unknown policyType {t!r}")
    else:
        # "If this field is not specified, it will default based on the existence of ingress or egress rules;
        # policies that contain an egress section are assumed to affect egress, and all policies (whether or not they
        # contain an ingress section) are assumed to affect ingress." (NetworkPolicySpec.PolicyTypes); the defaulting
        # code tests len(spec.Egress) != 0, so `egress: []` alone does not add Egress.
        kinds = {"Ingress"} | ({"Egress"} if spec.get("egress") else set())
    ingress = _np_rules(spec.get("ingress"), "from", np.namespace, problems) if "Ingress" in kinds else None
    egress = _np_rules(spec.get("egress"), "to", np.namespace, problems) if "Egress" in kinds else None
    return CompiledPolicy(
        kind=KIND_NP,
        name=np.name,
        namespace=np.namespace,
        priority=0,
        subject_namespace=np.namespace,
        subject_namespace_selector=None,
        subject_pod_selector=subject,
        ingress=ingress,
        egress=egress,
        source=np.source,
        problems=tuple(problems),
    )


def _as_list(value: Any, where: str, problems: list[str]) -> list[Any]:
    """A list field; anything else (the API server would reject it) counts as empty, with a warning."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    problems.append(f"{where} must be a list (ignored)")
    return []


def _selector(obj: Any, where: str, problems: list[str]) -> LabelSelector | None:
    try:
        return parse_selector(obj)
    except SelectorError as exc:
        problems.append(f"{where}: {exc} (matches nothing)")
        return None


def _np_rules(raw: Any, key: str, namespace: str, problems: list[str]) -> tuple[CompiledRule, ...]:
    # "If this field is empty then this NetworkPolicy does not allow any traffic (and serves solely to ensure that
    # the pods it selects are isolated by default)" (NetworkPolicySpec.Ingress / Egress): [] or absent = no rules.
    if not raw:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{'ingress' if key == 'from' else 'egress'} must be a list (ignored: no rules)")
        return ()
    rules = []
    for i, rule in enumerate(raw):
        rule = rule if isinstance(rule, Mapping) else {}
        peers_raw = rule.get(key)
        # "If this field is empty or missing, this rule matches all sources (traffic not restricted by source)."
        all_peers = not peers_raw
        peers = (
            ()
            if all_peers
            else tuple(
                _np_peer(j, p, namespace, problems, f"rule {i} {key}[{j}]")
                for j, p in enumerate(_as_list(peers_raw, f"rule {i} {key}", problems))
            )
        )
        ports_raw = rule.get("ports")
        # "If this field is empty or missing, this rule matches all ports (traffic not restricted by port)."
        all_ports = not ports_raw
        ports: list[PortMatcher] = []
        for j, entry in enumerate(_as_list(ports_raw, f"rule {i} ports", problems)):
            try:
                ports.append(parse_np_port(entry))
            except PortError as exc:
                problems.append(f"rule {i} ports[{j}]: {exc} (matches nothing)")
        rules.append(CompiledRule(i, "Allow", peers, all_peers, tuple(ports), all_ports))
    return tuple(rules)


def _np_peer(index: int, raw: Any, namespace: str, problems: list[str], where: str) -> PeerMatcher:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: peer must be a mapping (matches nothing)")
        return PeerMatcher(index, "invalid", problem="not a mapping")
    ip_block = raw.get("ipBlock")
    pod_sel_raw = raw.get("podSelector")
    ns_sel_raw = raw.get("namespaceSelector")
    if ip_block is not None:
        # "IPBlock defines policy on a particular IPBlock. If this field is set then neither of the other fields
        # can be." (NetworkPolicyPeer.IPBlock)
        if pod_sel_raw is not None or ns_sel_raw is not None:
            problems.append(f"{where}: ipBlock together with a selector is invalid (matches nothing)")
            return PeerMatcher(index, "invalid", problem="ipBlock with selectors")
        try:
            cidr = _net(ip_block.get("cidr") if isinstance(ip_block, Mapping) else None)
            excepts = tuple(_net(e) for e in _as_list(ip_block.get("except"), f"{where} except", problems))
        except ValueError as exc:
            problems.append(f"{where}: {exc} (matches nothing)")
            return PeerMatcher(index, "invalid", problem=str(exc))
        for e in excepts:
            # "Except is a slice of CIDRs that should not be included within an IPBlock ... Except values will be
            # rejected if they are outside the cidr range" (IPBlock.Except)
            if e.version != cidr.version or not e.subnet_of(cidr):  # type: ignore[arg-type]
                problems.append(f"{where}: except {e} is outside cidr {cidr}")
        return PeerMatcher(index, "ipBlock", cidrs=(cidr,), excepts=excepts)
    if pod_sel_raw is None and ns_sel_raw is None:
        problems.append(f"{where}: empty peer (the API requires one of podSelector, namespaceSelector, ipBlock; matches nothing)")
        return PeerMatcher(index, "invalid", problem="empty peer")
    pod_sel = _selector(pod_sel_raw, f"{where} podSelector", problems) if pod_sel_raw is not None else EMPTY
    if ns_sel_raw is None:
        # "If namespaceSelector is also set ... Otherwise it selects the Pods matching podSelector in the policy's
        # own namespace." (NetworkPolicyPeer.PodSelector)
        return PeerMatcher(index, "pods", namespace=namespace, pod_selector=pod_sel)
    # "If podSelector is also set, then the NetworkPolicyPeer as a whole selects the pods matching podSelector in the
    # namespaces selected by namespaceSelector. Otherwise it selects all pods in the namespaces selected by
    # namespaceSelector." (NetworkPolicyPeer.NamespaceSelector)
    ns_sel = _selector(ns_sel_raw, f"{where} namespaceSelector", problems)
    return PeerMatcher(index, "pods", namespace_selector=ns_sel, pod_selector=pod_sel)


# --- AdminNetworkPolicy / BaselineAdminNetworkPolicy ----------------------------------------------------------------


def compile_admin_policy(anp: AnpRecord) -> CompiledPolicy:
    spec = anp.spec if isinstance(anp.spec, Mapping) else {}
    kind = KIND_BANP if anp.kind in (KIND_BANP, "BANP") else KIND_ANP
    problems: list[str] = []
    subject = spec.get("subject") or {}
    ns_sel: LabelSelector | None = None
    pod_sel: LabelSelector | None = None
    # "Subject defines the pods to which this AdminNetworkPolicy applies" -- exactly one of namespaces (all pods of
    # the selected namespaces) or pods {namespaceSelector, podSelector} (shared_types.go, AdminNetworkPolicySubject).
    if isinstance(subject, Mapping) and subject.get("namespaces") is not None:
        ns_sel = _selector(subject["namespaces"], "subject.namespaces", problems)
        pod_sel = EMPTY
    elif isinstance(subject, Mapping) and isinstance(subject.get("pods"), Mapping):
        ns_sel = _selector(subject["pods"].get("namespaceSelector") or {}, "subject.pods.namespaceSelector", problems)
        pod_sel = _selector(subject["pods"].get("podSelector") or {}, "subject.pods.podSelector", problems)
    else:
        problems.append("subject needs namespaces or pods (selects nothing)")
    if kind == KIND_ANP:
        raw_priority = spec.get("priority", 0)
        if isinstance(raw_priority, int) and not isinstance(raw_priority, bool) and 0 <= raw_priority <= 1000:
            priority = raw_priority
        else:
            # "priority ... must be between 0 and 1000" (adminnetworkpolicy_types.go); evaluated last here.
            problems.append(f"priority {raw_priority!r} must be an integer 0-1000 (evaluated after all others)")
            priority = 1001
        actions: tuple[str, ...] = ("Allow", "Deny", "Pass")
    else:
        priority = 1 << 30
        actions = ("Allow", "Deny")
    # "Ingress is the list of Ingress rules to be applied to the selected pods. ... If no ingress rules are set,
    # the policy has no effect on ingress" -- an ANP without rules in a direction does not touch that direction.
    ingress = _anp_rules(spec.get("ingress"), "from", actions, problems, egress=False)
    egress = _anp_rules(spec.get("egress"), "to", actions, problems, egress=True)
    return CompiledPolicy(
        kind=kind,
        name=anp.name,
        namespace=None,
        priority=priority,
        subject_namespace=None,
        subject_namespace_selector=ns_sel,
        subject_pod_selector=pod_sel,
        ingress=ingress or None,
        egress=egress or None,
        source=anp.source,
        problems=tuple(problems),
    )


def _anp_rules(raw: Any, key: str, actions: tuple[str, ...], problems: list[str], *, egress: bool) -> tuple[CompiledRule, ...]:
    if not raw or not isinstance(raw, list):
        return ()
    rules = []
    for i, rule in enumerate(raw):
        rule = rule if isinstance(rule, Mapping) else {}
        action = str(rule.get("action", ""))
        if action not in actions:
            problems.append(f"rule {i}: action {action!r} must be one of {', '.join(actions)} (rule ignored)")
            continue
        peers = tuple(
            _anp_peer(j, p, action, problems, f"rule {i} {key}[{j}]", egress=egress)
            for j, p in enumerate(_as_list(rule.get(key), f"rule {i} {key}", problems))
        )
        if not peers:
            # `from`/`to` are required with at least one peer; fail closed like an unknown peer.
            problems.append(f"rule {i}: no {key} peers")
            peers = (PeerMatcher(0, "invalid", problem=f"no {key} peers", matches_all=action != "Allow"),)
        ports: list[PortMatcher] = []
        for j, entry in enumerate(_as_list(rule.get("ports"), f"rule {i} ports", problems)):
            try:
                ports.append(parse_anp_port(entry))
            except PortError as exc:
                problems.append(f"rule {i} ports[{j}]: {exc} (matches nothing)")
        # "If Ports is not set then the rule does not filter traffic via port." (AdminNetworkPolicy*Rule.Ports)
        rules.append(
            CompiledRule(
                i, action, peers, False, tuple(ports), not rule.get("ports"), name=str(rule["name"]) if rule.get("name") else None
            )
        )
    return tuple(rules)


def _anp_peer(index: int, raw: Any, action: str, problems: list[str], where: str, *, egress: bool) -> PeerMatcher:
    # "Support: Core ... If a peer is unknown (e.g. added in a newer version), ... the implementation MUST fail
    # closed: an Allow rule matches nothing, Deny and Pass rules match all traffic" (AdminNetworkPolicyEgressPeer).
    fail = PeerMatcher(index, "invalid", problem="unsupported or empty peer", matches_all=action != "Allow")
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: peer must be a mapping")
        return fail
    if raw.get("namespaces") is not None:
        return PeerMatcher(
            index, "pods", namespace_selector=_selector(raw["namespaces"], f"{where} namespaces", problems), pod_selector=EMPTY
        )
    if isinstance(raw.get("pods"), Mapping):
        pods = raw["pods"]
        return PeerMatcher(
            index,
            "pods",
            namespace_selector=_selector(pods.get("namespaceSelector") or {}, f"{where} pods.namespaceSelector", problems),
            pod_selector=_selector(pods.get("podSelector") or {}, f"{where} pods.podSelector", problems),
        )
    if egress and raw.get("networks") is not None:
        try:
            cidrs = tuple(_net(c) for c in _as_list(raw["networks"], f"{where} networks", problems))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            return fail
        # "networks ... This field can be used to select pod IPs too: 0.0.0.0/0 will also match pod-to-pod traffic"
        return PeerMatcher(index, "networks", cidrs=cidrs)
    if egress and raw.get("nodes") is not None:
        # Node IPs are not in a snapshot: a nodes peer matches no pod and no known address here.
        return PeerMatcher(index, "nodes", problem="node peers are not evaluated (no node data)")
    problems.append(f"{where}: unsupported or empty peer {sorted(raw)} (fail closed)")
    return fail
