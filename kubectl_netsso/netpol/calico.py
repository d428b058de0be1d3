"""Calico policy semantics, pure: NetworkPolicy and GlobalNetworkPolicy in tiers, with Kubernetes NetworkPolicies,
AdminNetworkPolicies and the BaselineAdminNetworkPolicy where Calico puts them; one direction of one flow at a time.

Sources (Calico docs, tigera/docs calico/reference/resources/*.mdx and the rule/entity-rule/ports includes;
projectcalico/calico libcalico-go backend/k8s/conversion/conversion.go, syncersv1/updateprocessors/rules.go,
felix/calc/policy_sorter.go). Rules are quoted beside the code that implements them.

Long because: Calico's semantics (model, compile, entity matching, the tier walk, closest rules, port boundaries)
quote their sources beside each rule and share the three-valued helpers; the selector language is apart in
calico_selector.py. A split by those sections is the next step when it grows.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cluster.snapshot import NAMESPACE_NAME_LABEL, CalicoPolicy, ContainerPort, Snapshot
from . import calico_selector as cs
from .model import (
    KIND_ANP,
    KIND_BANP,
    KIND_NP,
    Difference,
    Direction,
    DirectionVerdict,
    ExternalPeer,
    NearMiss,
    Peer,
    PodPeer,
    RuleRef,
    Step,
)
from .ports import Request, resolve_named

if TYPE_CHECKING:
    from .compile import CompiledPolicy, CompiledSnapshot

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Tri = bool | None


def and3(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


KIND_CALICO_NP = "CalicoNetworkPolicy"
KIND_GNP = "GlobalNetworkPolicy"

# Automatic labels Calico gives endpoints and namespaces (conversion.go; Calico docs, selectors):
LABEL_NAMESPACE = "projectcalico.org/namespace"
LABEL_ORCHESTRATOR = "projectcalico.org/orchestrator"
LABEL_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
LABEL_NAME = "projectcalico.org/name"  # on namespaces and service accounts: "Match a specific namespace by name"

PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132, "ICMP": 1, "ICMPv6": 58, "UDPLite": 136}

# Fixed tiers (Calico docs, Get started with policy tiers): "The default tier ... has the order of 1,000,000"; "The
# Tier with name adminnetworkpolicy ... has the order of 1,000 and a default action of Pass"; "The Tier with name
# baselineadminnetworkpolicy ... has the order of 10,000,000 and a default action of Pass ... The
# BaselineAdminNetworkPolicy is treated as if it had an order of 1,000".
DEFAULT_TIER, ANP_TIER, BANP_TIER = "default", "adminnetworkpolicy", "baselineadminnetworkpolicy"
FIXED_TIERS = {DEFAULT_TIER: (1_000_000.0, "Deny"), ANP_TIER: (1000.0, "Pass"), BANP_TIER: (10_000_000.0, "Pass")}
# "We insert all the NetworkPolicy Policies at order 1000.0 after conversion." (conversion.go K8sNetworkPolicyToCalico)
K8S_NP_ORDER = 1000.0


# --- compiled model ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortRange:
    lo: int
    hi: int
    name: str | None = None  # a named port: "a named port, as defined in the ports list of one or more endpoints"

    def describe(self) -> str:
        if self.name is not None:
            return self.name
        return str(self.lo) if self.lo == self.hi else f"{self.lo}:{self.hi}"


@dataclass(frozen=True, slots=True)
class Entity:
    """A rule's source or destination (Calico EntityRule), compiled.

    ``scoped``: endpoints must be in ``own_namespace`` (a namespaced policy) or in a namespace ``ns_selector``
    matches -- "as soon as any of the selector fields are used, including NotSelector" (rules.go
    getEndpointSelector). ``selects``: the combined selector (namespace scope, service accounts, selector) is set, so
    the peer must be one of the endpoints or network sets it matches.
    """

    nets: tuple[IpNetwork, ...] | None = None
    not_nets: tuple[IpNetwork, ...] | None = None
    selector: cs.Node | None = None
    not_selector: cs.Node | None = None
    scoped: bool = False
    own_namespace: str | None = None
    ns_selector: cs.Node | None = None
    sa_names: frozenset[str] | None = None
    sa_selector: cs.Node | None = None
    ports: tuple[PortRange, ...] | None = None
    not_ports: tuple[PortRange, ...] | None = None
    service: tuple[str, str] | None = None  # (namespace, name)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def selects(self) -> bool:
        return self.scoped or self.selector is not None or self.sa_names is not None or self.sa_selector is not None

    @property
    def empty(self) -> bool:
        return not self.raw


@dataclass(frozen=True, slots=True)
class CalicoRule:
    index: int
    action: str
    protocol: int | None
    not_protocol: int | None
    icmp: bool
    ip_version: int | None
    source: Entity
    destination: Entity
    http: str | None  # a description of the HTTP match (application layer policy), None when absent


@dataclass(frozen=True, slots=True)
class CompiledCalico:
    """A Calico NetworkPolicy or GlobalNetworkPolicy."""

    kind: str  # KIND_CALICO_NP | KIND_GNP
    name: str
    namespace: str | None
    tier: str
    order: float | None
    selector: cs.Node
    ns_selector: cs.Node | None  # GNP only
    sa_selector: cs.Node | None
    types: frozenset[str]
    ingress: tuple[CalicoRule, ...]
    egress: tuple[CalicoRule, ...]
    hosts_only: bool  # doNotTrack / preDNAT: host endpoints only
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def label(self) -> str:
        return f"{'Calico NP' if self.kind == KIND_CALICO_NP else 'GNP'} {self.ref}"

    def rules(self, direction: Direction) -> tuple[CalicoRule, ...] | None:
        if direction.capitalize() not in self.types:
            return None
        return self.ingress if direction == "ingress" else self.egress


@dataclass(frozen=True, slots=True)
class TierEntry:
    """One policy in a tier: a Calico policy, or a Kubernetes NP / ANP / BANP where Calico puts it."""

    order: float  # +inf when unset ("Policies without order sort last", policy_sorter.go)
    sort_name: str
    calico: CompiledCalico | None = None
    k8s: CompiledPolicy | None = None

    @property
    def label(self) -> str:
        return self.calico.label if self.calico is not None else self.k8s.label  # type: ignore[union-attr]

    @property
    def ref(self) -> str:
        return self.calico.ref if self.calico is not None else self.k8s.ref  # type: ignore[union-attr]

    @property
    def kind(self) -> str:
        return self.calico.kind if self.calico is not None else self.k8s.kind  # type: ignore[union-attr]


@dataclass(frozen=True, slots=True)
class CompiledTier:
    name: str
    order: float | None
    default_action: str
    valid: bool  # a Tier object (or a fixed tier) exists; "invalid" tiers sort after the valid ones
    entries: tuple[TierEntry, ...]


@dataclass(frozen=True, slots=True)
class NetSet:
    """A NetworkSet (namespace set) or GlobalNetworkSet; or a HostEndpoint (kind "hep") by its expected IPs."""

    kind: str  # "netset" | "hep"
    name: str
    namespace: str | None
    labels: Mapping[str, str]
    nets: tuple[IpNetwork, ...]


@dataclass
class CalicoModel:
    """Everything Calico evaluation needs, compiled once (CompiledSnapshot.calico)."""

    tiers: tuple[CompiledTier, ...] = ()
    policies: tuple[CompiledCalico, ...] = ()
    sets: tuple[NetSet, ...] = ()
    service_accounts: dict[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    sa_gaps: dict[str | None, str] = field(default_factory=dict)
    services: dict[tuple[str, str], Any] = field(default_factory=dict)
    # Policies with a rule that cannot be decided offline (source ports, a Service without selector): their
    # subjects' verdicts are computed pair by pair (three-valued).
    undecidable: frozenset[str] = frozenset()
    uses_ip_version: bool = False
    sa_label_sensitive: bool = False
    label_sensitive: bool = False
    networks: tuple[IpNetwork, ...] = ()  # every range a rule or set names (pods are classed by those they fall in)
    views: dict[str, Any] = field(default_factory=dict)  # namespace -> tier_view (filled on use)


# --- compile ----------------------------------------------------------------------------------------------------------


def _num(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return PROTOCOL_NUMBERS.get(str(value))


def _ports(raw: Any) -> tuple[PortRange, ...] | None:
    if raw is None:
        return None
    out = []
    for p in raw:
        if isinstance(p, int):
            out.append(PortRange(p, p))
        elif ":" in p:
            lo, hi = p.split(":")
            out.append(PortRange(int(lo), int(hi)))
        else:
            out.append(PortRange(0, 0, p))
    return tuple(out)


def _nets(raw: Any) -> tuple[IpNetwork, ...] | None:
    return None if raw is None else tuple(ipaddress.ip_network(n, strict=False) for n in raw)


def _entity(raw: Mapping[str, Any], policy_namespace: str | None) -> Entity:
    sel = cs.parse(raw["selector"]) if raw.get("selector") is not None else None
    not_sel = cs.parse(raw["notSelector"]) if raw.get("notSelector") is not None else None
    ns_sel = cs.parse(raw["namespaceSelector"]) if raw.get("namespaceSelector") is not None else None
    sa = raw.get("serviceAccounts")
    sa_names = frozenset(sa["names"]) if sa and sa.get("names") else None
    sa_sel = cs.parse(sa["selector"]) if sa and sa.get("selector") is not None else None
    # rules.go: "We need to namespace the rule's selector ... when the selector (and/or SA Selector), NotSelector, or
    # NamespaceSelector is provided and either this is a namespaced NetworkPolicy object, or a NamespaceSelector was
    # defined." -- only nets (or ports) in a namespaced policy match any address.
    any_sel = sel is not None or not_sel is not None or ns_sel is not None or sa_names is not None or sa_sel is not None
    scoped = ns_sel is not None or (policy_namespace is not None and any_sel)
    svc = raw.get("services")
    service = None
    if svc:
        # ServiceMatch: "The service's namespace" -- defaulting to the policy's own in a namespaced policy.
        service = (svc.get("namespace") or policy_namespace or "default", svc["name"])
    return Entity(
        nets=_nets(raw.get("nets")),
        not_nets=_nets(raw.get("notNets")),
        selector=sel,
        not_selector=not_sel,
        scoped=scoped,
        own_namespace=policy_namespace if ns_sel is None else None,
        ns_selector=ns_sel,
        sa_names=sa_names,
        sa_selector=sa_sel,
        ports=_ports(raw.get("ports")),
        not_ports=_ports(raw.get("notPorts")),
        service=service,
        raw=raw,
    )


def _http_text(raw: Mapping[str, Any] | None) -> str | None:
    if raw is None:
        return None
    parts = []
    if raw.get("methods"):
        parts.append("methods " + ", ".join(raw["methods"]))
    if raw.get("paths"):
        parts.append("paths " + ", ".join(f"{k} {v}" for p in raw["paths"] for k, v in p.items()))
    return "; ".join(parts) or "any request"


def compile_calico_policy(p: CalicoPolicy) -> CompiledCalico:
    spec = p.spec
    ns = p.namespace if p.kind == "NetworkPolicy" else None
    ingress_raw = spec.get("ingress") or []
    egress_raw = spec.get("egress") or []
    if spec.get("types"):
        types = frozenset(spec["types"])
    else:
        # "If types has no value, Calico defaults as follows": no rules or ingress rules only -> Ingress; egress rules
        # only -> Egress; both -> Ingress, Egress (Calico docs, NetworkPolicy spec).
        types = frozenset(({"Ingress"} if ingress_raw or not egress_raw else set()) | ({"Egress"} if egress_raw else set()))

    def rules(raw: Sequence[Mapping[str, Any]]) -> tuple[CalicoRule, ...]:
        return tuple(
            CalicoRule(
                index=i,
                action=r["action"],
                protocol=_num(r.get("protocol")),
                not_protocol=_num(r.get("notProtocol")),
                icmp=bool(r.get("icmp")),
                ip_version=r.get("ipVersion"),
                source=_entity(r.get("source") or {}, ns),
                destination=_entity(r.get("destination") or {}, ns),
                http=_http_text(r.get("http")),
            )
            for i, r in enumerate(raw)
        )

    return CompiledCalico(
        kind=KIND_CALICO_NP if p.kind == "NetworkPolicy" else KIND_GNP,
        name=p.name,
        namespace=ns,
        tier=str(spec.get("tier") or DEFAULT_TIER),
        order=spec.get("order"),
        selector=cs.parse(spec.get("selector") or ""),  # "selector ... Default: all()"
        ns_selector=cs.parse(spec["namespaceSelector"]) if spec.get("namespaceSelector") is not None else None,
        sa_selector=cs.parse(spec["serviceAccountSelector"]) if spec.get("serviceAccountSelector") is not None else None,
        types=types,
        ingress=rules(ingress_raw),
        egress=rules(egress_raw),
        # "The doNotTrack and preDNAT and applyOnForward fields are meaningful only when applying policy to a host
        # endpoint" -- a doNotTrack or preDNAT policy is not applied to workloads (felix: untracked / pre-DNAT chains).
        hosts_only=bool(spec.get("doNotTrack") or spec.get("preDNAT")),
        source=p.source,
    )


def build_model(
    snapshot: Snapshot,
    network_policies: Iterable[CompiledPolicy],
    admin: Sequence[CompiledPolicy],
    baseline: CompiledPolicy | None,
    warnings: list[str],
) -> CalicoModel:
    """The tiers in evaluation order, each with its policies in order; network sets, host endpoints, service accounts."""
    policies = tuple(compile_calico_policy(p) for p in snapshot.calico_policies)
    tier_objs = {t.name: t for t in snapshot.calico_tiers}
    entries: dict[str, list[TierEntry]] = {}
    for cp in policies:
        order = math.inf if cp.order is None else cp.order
        entries.setdefault(cp.tier, []).append(TierEntry(order, cp.name, calico=cp))
    # conversion.go: K8s NetworkPolicy "knp.default.<name>" in the default tier at order 1000; ANPs by priority in
    # the adminnetworkpolicy tier; the BANP in its tier at order 1000.
    for np in network_policies:
        entries.setdefault(DEFAULT_TIER, []).append(TierEntry(K8S_NP_ORDER, f"knp.default.{np.name}", k8s=np))
    for a in admin:
        entries.setdefault(ANP_TIER, []).append(TierEntry(float(a.priority), f"kanp.adminnetworkpolicy.{a.name}", k8s=a))
    if baseline is not None:
        entries.setdefault(BANP_TIER, []).append(TierEntry(1000.0, "kbanp.baselineadminnetworkpolicy.default", k8s=baseline))
    tiers = []
    for name, ents in entries.items():
        # "PolKVLess: Order is equal, use name as tie-break" (policy_sorter.go)
        ents.sort(key=lambda e: (e.order, e.sort_name))
        obj = tier_objs.get(name)
        if name in FIXED_TIERS:
            order, action = FIXED_TIERS[name]
            if obj is not None and obj.order is not None and obj.order != order:
                warnings.append(f'Tier {name}: its order is fixed at {order:g} ("This value is fixed"); {obj.order:g} ignored')
            if obj is not None and name == DEFAULT_TIER:
                action = obj.default_action
            tiers.append(CompiledTier(name, order, action, True, tuple(ents)))
        elif obj is not None:
            tiers.append(CompiledTier(name, obj.order, obj.default_action, True, tuple(ents)))
        else:
            warnings.append(
                f"Calico policies name tier {name}, which is not in the input: evaluated after every known tier "
                "with default action Deny (add its Tier object)"
            )
            tiers.append(CompiledTier(name, None, "Deny", False, tuple(ents)))
    # TierLess (policy_sorter.go): valid tiers first, then by order (nil last), then by name.
    tiers.sort(key=lambda t: (not t.valid, t.order is None, t.order if t.order is not None else 0.0, t.name))
    sets: list[NetSet] = [
        NetSet("netset", s.name, s.namespace, dict(s.labels), tuple(ipaddress.ip_network(n, strict=False) for n in s.nets))
        for s in snapshot.calico_network_sets
    ]
    sets += [
        NetSet("hep", h.name, None, dict(h.labels), tuple(ipaddress.ip_network(ip) for ip in h.expected_ips))
        for h in snapshot.calico_host_endpoints
    ]
    model = CalicoModel(tiers=tuple(tiers), policies=policies, sets=tuple(sets))
    model.service_accounts = {(sa.namespace, sa.name): dict(sa.labels) for sa in snapshot.service_accounts}
    model.services = {(s.namespace, s.name): s for s in snapshot.services}
    for gap in snapshot.gaps:
        if gap.resource.split(".")[0] == "serviceaccounts":
            model.sa_gaps[gap.namespace] = (
                f"cannot see serviceaccounts{' in namespace ' + gap.namespace if gap.namespace else ''}: {gap.reason}"
            )
    undecidable = set()
    for cp in policies:
        for r in cp.ingress + cp.egress:
            if r.ip_version is not None:
                model.uses_ip_version = True
            if r.source.ports is not None or r.source.not_ports is not None:
                undecidable.add(cp.label)
            for e in (r.source, r.destination):
                if e.service is not None:
                    svc = model.services.get(e.service)
                    if svc is not None and svc.selector is None:
                        undecidable.add(cp.label)
                if e.sa_selector is not None and not cs.keys(e.sa_selector) <= {LABEL_NAME}:
                    model.sa_label_sensitive = True
                if e.ns_selector is not None and not cs.keys(e.ns_selector) <= {LABEL_NAME, NAMESPACE_NAME_LABEL}:
                    model.label_sensitive = True
        if cp.sa_selector is not None and not cs.keys(cp.sa_selector) <= {LABEL_NAME}:
            model.sa_label_sensitive = True
        if cp.ns_selector is not None and not cs.keys(cp.ns_selector) <= {LABEL_NAME, NAMESPACE_NAME_LABEL}:
            model.label_sensitive = True
    model.undecidable = frozenset(undecidable)
    nets: dict[IpNetwork, None] = {}
    for cp in policies:
        for r in cp.ingress + cp.egress:
            for e in (r.source, r.destination):
                nets.update(dict.fromkeys(e.nets or ()))
                nets.update(dict.fromkeys(e.not_nets or ()))
    for s in model.sets:
        nets.update(dict.fromkeys(s.nets))
    model.networks = tuple(nets)
    return model


def host_endpoint_effects(model: CalicoModel) -> list[Any]:
    """GlobalNetworkPolicies that select a HostEndpoint police the node's own traffic -- hostNetwork pods send and
    receive as the node -- which this tool does not evaluate (host endpoint policy has its own rules: failsafe
    ports, applyOnForward, preDNAT, doNotTrack, and the default deny of a host endpoint no policy selects): those
    directions of hostNetwork pods are UNKNOWN, never taken as unpoliced. "A global network policy applies to ... host
    endpoints" (Calico docs, GlobalNetworkPolicy); a namespaceSelector limits a policy to namespaced endpoints."""
    from .foreign import ForeignEffect

    heps = [s for s in model.sets if s.kind == "hep"]
    out = []
    for cp in model.policies:
        if cp.kind != KIND_GNP or cp.ns_selector is not None or cp.sa_selector is not None:
            continue
        hit = next((h for h in heps if cp.selector.matches(h.labels)), None)
        if hit is None:
            continue
        directions = frozenset(t.lower() for t in cp.types)
        out.append(
            ForeignEffect(
                label=cp.label,
                reason=f"{cp.label} selects host endpoint {hit.name}: host endpoint policy is not evaluated",
                namespace=None,
                directions=directions,
                pods=False,
                hosts=True,
            )
        )
    return out


# --- endpoint views ---------------------------------------------------------------------------------------------------


def endpoint_labels(peer: PodPeer) -> dict[str, str]:
    """A pod's labels as Calico sees its workload endpoint: its own plus the automatic ones."""
    labels = dict(peer.labels)
    labels[LABEL_NAMESPACE] = peer.namespace
    labels[LABEL_ORCHESTRATOR] = "k8s"
    if peer.service_account:
        labels[LABEL_SERVICE_ACCOUNT] = peer.service_account
    return labels


def namespace_labels(compiled: CompiledSnapshot, namespace: str) -> dict[str, str]:
    labels = dict(compiled.labels_of(namespace))
    labels[LABEL_NAME] = namespace
    return labels


def sa_labels(compiled: CompiledSnapshot, peer: PodPeer) -> dict[str, str] | None:
    """The pod's service account's labels (+ projectcalico.org/name), None when they are not known (no
    ServiceAccount object in the input, or a 403 listing them)."""
    sa = peer.service_account or "default"
    labels = compiled.calico.service_accounts.get((peer.namespace, sa))
    if labels is None:
        return None
    out = dict(labels)
    out[LABEL_NAME] = sa
    return out


def _peer_ips(peer: Peer) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    texts = [peer.ip] if isinstance(peer, ExternalPeer) else list(peer.ips)
    out = []
    for t in texts:
        try:
            out.append(ipaddress.ip_address(t))
        except ValueError:
            continue
    return out


def ip_less(peer: Peer) -> bool:
    """A pod whose IP is not known (manifests carry none)."""
    return isinstance(peer, PodPeer) and not peer.host_network and not peer.ips


def _in_nets(peer: Peer, nets: Sequence[IpNetwork]) -> bool:
    if ip_less(peer):
        # Manifests carry no pod IPs: a pod is taken to be outside every range that does not cover all addresses,
        # as for ipBlock peers ("0.0.0.0/0 will also match pod-to-pod traffic" is the one sure case).
        return any(n.prefixlen == 0 for n in nets)
    return any(ip.version == n.version and ip in n for ip in _peer_ips(peer) for n in nets)


@dataclass(frozen=True, slots=True)
class _Object:
    """Something a Calico selector can match that stands for the peer: its workload endpoint, or a network set / host
    endpoint whose nets hold its IP."""

    labels: Mapping[str, str]
    namespace: str | None  # None: a global object
    workload: PodPeer | None = None


def objects_of(compiled: CompiledSnapshot, peer: Peer) -> list[_Object]:
    """ "Selectors can match workload endpoints, host endpoints and (namespaced or global) network sets" (Calico docs,
    EntityRule): a selector compiles to the IPs of what it matches, so a peer is matched through any of them."""
    out: list[_Object] = []
    if isinstance(peer, PodPeer) and not peer.host_network:
        # hostNetwork pods have no workload endpoint ("Pod is host networked", conversion.go IsValidCalicoWorkloadEndpoint)
        out.append(_Object(endpoint_labels(peer), peer.namespace, peer))
    sets = compiled.calico.sets
    if sets and not ip_less(peer):
        ips = _peer_ips(peer)
        for s in sets:
            if s.kind == "hep" and isinstance(peer, PodPeer) and not peer.host_network:
                continue  # a host endpoint's IPs are the node's, not a pod's
            if any(ip.version == n.version and ip in n for ip in ips for n in s.nets):
                labels = dict(s.labels)
                if s.namespace is not None:
                    labels[LABEL_NAMESPACE] = s.namespace
                out.append(_Object(labels, s.namespace))
    return out


def _ns_scope(compiled: CompiledSnapshot, ent: Entity, obj: _Object) -> Tri:
    if not ent.scoped:
        return True
    if ent.ns_selector is None:
        return obj.namespace is not None and obj.namespace == ent.own_namespace
    if obj.namespace is None:
        return cs.ns_matches(ent.ns_selector, {}, namespaced=False)
    result = cs.ns_matches(ent.ns_selector, namespace_labels(compiled, obj.namespace), namespaced=True)
    if compiled.label_gap(obj.namespace) and not cs.keys(ent.ns_selector) <= {LABEL_NAME, NAMESPACE_NAME_LABEL}:
        return None  # the namespace's labels beyond its name are not known
    return result


def _sa_match(compiled: CompiledSnapshot, ent: Entity, obj: _Object) -> Tri:
    if ent.sa_names is None and ent.sa_selector is None:
        return True
    pod = obj.workload
    if pod is None:
        return False  # network sets and host endpoints run under no service account
    sa = pod.service_account or "default"
    if ent.sa_names is not None and sa not in ent.sa_names:
        return False
    if ent.sa_selector is not None:
        return sa_selected(compiled, ent.sa_selector, pod)
    return True


def sa_selected(compiled: CompiledSnapshot, selector: cs.Node, pod: PodPeer) -> Tri:
    labels = sa_labels(compiled, pod)
    if labels is None:
        if cs.keys(selector) <= {LABEL_NAME}:
            return selector.matches({LABEL_NAME: pod.service_account or "default"})
        return None  # the ServiceAccount object (its labels) is not in the input
    return selector.matches(labels)


def _combined(compiled: CompiledSnapshot, ent: Entity, objects: Sequence[_Object]) -> Tri:
    """namespace scope && service accounts && selector, over any object standing for the peer (three-valued OR)."""
    result: Tri = False
    for obj in objects:
        m = and3(_ns_scope(compiled, ent, obj), _sa_match(compiled, ent, obj))
        if m is not False and ent.selector is not None:
            m = and3(m, ent.selector.matches(obj.labels))
        if m is True:
            return True
        if m is None:
            result = None
    return result


def _service_backs(compiled: CompiledSnapshot, service: tuple[str, str], peer: Peer) -> tuple[Tri, Any]:
    svc = compiled.calico.services.get(service)
    if svc is None:
        return False, None  # no such Service: nothing to match
    if svc.selector is None:
        return None, svc  # its endpoints are managed elsewhere: not known here
    if not isinstance(peer, PodPeer) or peer.host_network or peer.namespace != svc.namespace:
        return False, svc
    return all(peer.labels.get(k) == v for k, v in svc.selector.items()), svc


def entity_matches(compiled: CompiledSnapshot, ent: Entity, peer: Peer) -> Tri:
    """Does the flow's source (or destination) match a rule's source (destination) criteria, ports aside?
    "If the rule contains multiple match criteria (for example, an IP and a port) then all match criteria must match
    for the rule as a whole to match a packet." (Calico docs, EntityRule)"""
    result: Tri = True
    if ent.nets is not None:
        result = and3(result, _in_nets(peer, ent.nets))
    if ent.not_nets is not None and result is not False:
        result = and3(result, not _in_nets(peer, ent.not_nets))
    if result is False:
        return False
    objects: list[_Object] | None = None
    if ent.selects:
        objects = objects_of(compiled, peer)
        result = and3(result, _combined(compiled, ent, objects))
    if ent.not_selector is not None and result is not False:
        # "notSelector: has(foo) matches packets from/to anywhere (including outside the cluster), except traffic
        # from/to endpoints and network sets that have the label foo" -- not limited to a namespace.
        objects = objects if objects is not None else objects_of(compiled, peer)
        result = and3(result, not any(ent.not_selector.matches(o.labels) for o in objects))
    if ent.service is not None and result is not False:
        result = and3(result, _service_backs(compiled, ent.service, peer)[0])
    return result


def _port_hit(p: PortRange, number: int, protocol: str, dest_ports: Sequence[ContainerPort] | None) -> bool:
    if p.name is not None:
        n = resolve_named(p.name, protocol, dest_ports)
        return n is not None and n == number
    return p.lo <= number <= p.hi


def dest_ports_match(ent: Entity, request: Request, dest_ports: Sequence[ContainerPort] | None) -> bool:
    """ports / notPorts of the destination entity against the destination port (named ports on the destination)."""
    if ent.ports is None and ent.not_ports is None:
        return True
    if request.number is None:
        return False
    if ent.ports is not None and not any(_port_hit(p, request.number, request.protocol, dest_ports) for p in ent.ports):
        return False
    if ent.not_ports is not None and any(_port_hit(p, request.number, request.protocol, dest_ports) for p in ent.not_ports):
        return False
    return True


def _service_port_ok(svc: Any, peer: Peer, request: Request) -> bool:
    """A destination Service match is for its ports: the backing pod's target ports of the Service."""
    if request.number is None or not isinstance(peer, PodPeer):
        return False
    for sp in svc.ports:
        if sp.protocol.upper() != request.protocol:
            continue
        target = sp.target_port
        if isinstance(target, int) and target == request.number:
            return True
        if isinstance(target, str) and resolve_named(target, request.protocol, peer.ports) == request.number:
            return True
    return False


def _ip_version_ok(rule: CalicoRule, src: Peer, dst: Peer) -> Tri:
    if rule.ip_version is None:
        return True
    result: Tri = True
    for end in (src, dst):
        if ip_less(end):
            result = None
        elif not any(ip.version == rule.ip_version for ip in _peer_ips(end)):
            return False
    return result


def rule_match(compiled: CompiledSnapshot, rule: CalicoRule, src: Peer, dst: Peer, request: Request) -> Tri:
    """Does one Calico rule match the flow src -> dst on request (resolved on dst)? Three-valued."""
    proto = PROTOCOL_NUMBERS[request.protocol]
    if rule.protocol is not None and rule.protocol != proto:
        return False
    if rule.not_protocol is not None and rule.not_protocol == proto:
        return False
    if rule.icmp:
        return False  # an icmp match needs protocol ICMP/ICMPv6 (validator.go): never a TCP/UDP/SCTP flow
    dest_ports = dst.ports if isinstance(dst, PodPeer) else None
    if not dest_ports_match(rule.destination, request, dest_ports):
        return False
    result = _ip_version_ok(rule, src, dst)
    if result is False:
        return False
    result = and3(result, entity_matches(compiled, rule.source, src))
    if result is False:
        return False
    result = and3(result, entity_matches(compiled, rule.destination, dst))
    if result is False:
        return False
    if rule.destination.service is not None:
        svc = compiled.calico.services.get(rule.destination.service)
        if svc is not None and svc.selector is not None and not _service_port_ok(svc, dst, request):
            return False
    if rule.source.ports is not None or rule.source.not_ports is not None:
        # A flow here has no source port (clients pick ephemeral ones): such a rule may or may not match.
        return None
    return result


# --- selection and the tier walk --------------------------------------------------------------------------------------


def policy_selects(compiled: CompiledSnapshot, cp: CompiledCalico, subject: PodPeer) -> Tri:
    """ "The top-level selector in a NetworkPolicy selects over the workloads in the same namespace as the
    NetworkPolicy. The top-level selector in a GlobalNetworkPolicy doesn't have the same restriction" (Calico docs,
    selector scopes); serviceAccountSelector and (GNP) namespaceSelector narrow it."""
    if subject.host_network or cp.hosts_only:
        return False
    if cp.namespace is not None and subject.namespace != cp.namespace:
        return False
    if not cp.selector.matches(endpoint_labels(subject)):
        return False
    result: Tri = True
    if cp.ns_selector is not None:
        m: Tri = cs.ns_matches(cp.ns_selector, namespace_labels(compiled, subject.namespace), namespaced=True)
        if compiled.label_gap(subject.namespace) and not cs.keys(cp.ns_selector) <= {LABEL_NAME, NAMESPACE_NAME_LABEL}:
            m = None
        result = and3(result, m)
    if cp.sa_selector is not None and result is not False:
        result = and3(result, sa_selected(compiled, cp.sa_selector, subject))
    return result


def entry_selects(compiled: CompiledSnapshot, entry: TierEntry, direction: Direction, subject: PodPeer) -> Tri:
    if entry.calico is not None:
        if entry.calico.rules(direction) is None:
            return False
        return policy_selects(compiled, entry.calico, subject)
    from .match import selects

    k = entry.k8s
    assert k is not None
    rules = k.rules(direction)
    if rules is None or (k.kind != KIND_NP and not rules):
        return False  # an ANP/BANP without rules in a direction does not touch it
    return selects(compiled, k, subject)


def _entry_rule_matches(
    compiled: CompiledSnapshot,
    entry: TierEntry,
    rule: Any,
    direction: Direction,
    subject: PodPeer,
    other: Peer,
    request: Request,
) -> tuple[str, Tri, int | None]:
    """(action, match, peer index) of one rule of a tier entry."""
    from .match import rule_matches

    if entry.calico is not None:
        src, dst = (subject, other) if direction == "egress" else (other, subject)
        return rule.action, rule_match(compiled, rule, src, dst, request), None
    dest = other if direction == "egress" else subject
    m, peer_idx = rule_matches(compiled, rule, other, request, dest.ports if isinstance(dest, PodPeer) else None)
    return rule.action, m, peer_idx


def entry_rules(entry: TierEntry, direction: Direction) -> Sequence[Any]:
    if entry.calico is not None:
        return entry.calico.rules(direction) or ()
    return entry.k8s.rules(direction) or ()  # type: ignore[union-attr]


def selecting(compiled: CompiledSnapshot, direction: Direction, subject: Peer) -> tuple[str, ...]:
    """Every policy of every tier that selects the pod for this direction, in evaluation order."""
    if not isinstance(subject, PodPeer) or subject.host_network:
        return ()
    return tuple(
        e.label
        for _t, entries in tier_view(compiled, subject.namespace)
        for e in entries
        if entry_selects(compiled, e, direction, subject) is True
    )


def tier_view(compiled: CompiledSnapshot, namespace: str) -> tuple[tuple[CompiledTier, tuple[TierEntry, ...]], ...]:
    """The tiers with only the entries that can select a pod of this namespace (its own namespaced policies and every
    cluster-wide one), in order: the same walk, without testing every namespace's policies on every pod."""
    cache = compiled.calico.views
    hit = cache.get(namespace)
    if hit is None:
        hit = cache[namespace] = tuple(
            (t, tuple(e for e in t.entries if _entry_namespace(e) in (None, namespace))) for t in compiled.calico.tiers
        )
    return hit


def _entry_namespace(e: TierEntry) -> str | None:
    if e.calico is not None:
        return e.calico.namespace
    assert e.k8s is not None
    return e.k8s.namespace


def evaluate_direction(
    compiled: CompiledSnapshot,
    direction: Direction,
    subject: PodPeer,
    other: Peer,
    request: Request,
    *,
    explain: bool = True,
    label_reason: Any = None,
) -> DirectionVerdict:
    """Calico's verdict for one direction of a pod (the subject): tiers in order, policies in order, rules in order.

    "Each tier that contains a policy that applies to the endpoint processes the packet. ... If a NetworkPolicy or
    GlobalNetworkPolicy in the Tier Allows or Denys the packet, then evaluation is done ... If [one] Passes the packet,
    the next Tier containing a Policy that applies to the endpoint processes the packet. If the Tier applies to the
    endpoint, but takes no action on the packet the packet is dropped [unless the tier's defaultAction is Pass]. If
    the last Tier applying to the endpoint Passes the packet, that endpoint's Profiles are evaluated." (Calico docs,
    Tier); the namespace profile allows everything (conversion.go NamespaceToProfile: Ingress/Egress Allow).
    """
    steps: list[Step] = []
    chosen: list[str] = []
    notes: list[str] = []
    l7: list[str] = []
    any_tier = False
    for tier, candidates in tier_view(compiled, subject.namespace):
        entries: list[TierEntry] = []
        for e in candidates:
            sel = entry_selects(compiled, e, direction, subject)
            if sel is None:
                why = f"cannot tell whether {e.label} selects {subject.ref}: " + _why_unknown(compiled, subject, label_reason)
                return _unknown(direction, why, chosen, steps, notes)
            if sel:
                entries.append(e)
        if not entries:
            # "if no policies within a tier apply to endpoints, the tier is skipped, and the tier's implicit deny
            # behavior is not executed" (Calico docs, policy endpoint matching across tiers)
            continue
        any_tier = True
        chosen.extend(e.label for e in entries)
        passed = False
        for e in entries:
            for rule in entry_rules(e, direction):
                action, m, peer_idx = _entry_rule_matches(compiled, e, rule, direction, subject, other, request)
                if action == "Log":
                    continue  # "After a Log action, processing continues with the next rule"
                if m is None:
                    why = f"{e.label} {direction} rule {rule.index + 1} may match: " + _why_unknown(
                        compiled, other, label_reason, rule if e.calico is not None else None
                    )
                    return _unknown(direction, why, chosen, steps, notes)
                if not m:
                    continue
                ref = RuleRef(e.kind, e.ref, direction, rule.index, peer_idx, action, getattr(rule, "name", None))
                if action == "Pass":
                    steps.append(Step(f"tier {tier.name}", "Pass", ref, f"{ref.describe()} passes to the next tier"))
                    passed = True
                    break
                allowed = action == "Allow"
                if allowed and e.calico is not None and rule.http:
                    l7.append(f"{ref.describe()} allows it at L4; its HTTP match ({rule.http}) filters requests above it "
                              "(application layer policy)")  # fmt: skip
                text = f"{ref.describe()} {'allows' if allowed else 'denies'} it (tier {tier.name})"
                steps.append(Step(f"tier {tier.name}", action, ref, text))
                chosen.extend(_later(compiled, tier, direction, subject, chosen))
                return DirectionVerdict(direction, allowed, text, tuple(chosen), ref, (), tuple(steps), None, tuple(notes + l7))
            if passed:
                break
        if passed:
            continue
        if tier.default_action == "Pass":
            steps.append(Step(f"tier {tier.name}", "Pass", None, f"tier {tier.name}: no rule decides; its defaultAction is Pass"))
            continue
        who = "source" if direction == "egress" else "destination"
        text = (
            f"{who} {subject.ref} is selected for {direction} in tier {tier.name} by {', '.join(e.ref for e in entries)} "
            f"and no rule there allows it (end-of-tier deny)"
        )
        steps.append(Step(f"tier {tier.name}", "Deny", None, text))
        chosen.extend(_later(compiled, tier, direction, subject, chosen))
        closest: tuple[NearMiss, ...] = ()
        if explain:
            closest = closest_rules(compiled, direction, entries, subject, other, request)
        return DirectionVerdict(direction, False, text, tuple(chosen), None, closest, tuple(steps), None, tuple(notes))
    if not any_tier:
        text = f"no policy selects {subject.ref} for {direction}: allowed by default (the namespace profile allows all)"
    else:
        text = f"every tier selecting {subject.ref} passed it: the namespace profile allows it"
    steps.append(Step("profile", "Allow", None, text))
    return DirectionVerdict(direction, True, text, tuple(chosen), None, (), tuple(steps), None, tuple(notes))


def _later(
    compiled: CompiledSnapshot, tier: CompiledTier, direction: Direction, subject: PodPeer, chosen: list[str]
) -> list[str]:
    """Policies of later tiers that also select the pod (evidence: they did not get to decide)."""
    out = []
    after = False
    for t, entries in tier_view(compiled, subject.namespace):
        if t is tier:
            after = True
            continue
        if after:
            out += [e.label for e in entries if e.label not in chosen and entry_selects(compiled, e, direction, subject) is True]
    return out


def _why_unknown(compiled: CompiledSnapshot, peer: Peer, label_reason: Any, rule: CalicoRule | None = None) -> str:
    if rule is not None:
        if rule.source.ports is not None or rule.source.not_ports is not None:
            return "it matches on source ports, which a flow here does not have (clients use ephemeral ports)"
        for e in (rule.source, rule.destination):
            if e.service is not None and compiled.calico.services.get(e.service) is not None:
                svc = compiled.calico.services[e.service]
                if svc.selector is None:
                    return f"Service {svc.namespace}/{svc.name} has no selector: its endpoints are not known here"
        if rule.ip_version is not None:
            return f"it matches IPv{rule.ip_version} only and the pods' IPs are not known (manifests carry none)"
    if isinstance(peer, PodPeer):
        sa_gap = compiled.calico.sa_gaps.get(peer.namespace) or compiled.calico.sa_gaps.get(None)
        if sa_gap:
            return sa_gap
        if sa_labels(compiled, peer) is None and compiled.calico.sa_label_sensitive:
            return (
                f"the labels of service account {peer.namespace}/{peer.service_account or 'default'} are not known "
                "(add its ServiceAccount object)"
            )
    if label_reason is not None:
        return str(label_reason(peer))
    return "depends on data the source could not read"


def _unknown(direction: Direction, reason: str, chosen: list[str], steps: list[Step], notes: list[str]) -> DirectionVerdict:
    steps.append(Step("?", "Unknown", None, reason))
    return DirectionVerdict(direction, None, f"unknown: {reason}", tuple(chosen), None, (), tuple(steps), reason, tuple(notes))


# --- explanations: the closest rules of a denied direction --------------------------------------------------------------


def closest_rules(
    compiled: CompiledSnapshot,
    direction: Direction,
    entries: Sequence[TierEntry],
    subject: PodPeer,
    other: Peer,
    request: Request,
) -> tuple[NearMiss, ...]:
    """The Allow rules of the tier that dropped the flow, fewest differences first (as for NetworkPolicy)."""
    from .explain import MAX_CLOSEST
    from .explain import closest_rules as np_closest

    misses: list[tuple[int, int, NearMiss]] = []
    k8s = [e.k8s for e in entries if e.k8s is not None and e.k8s.kind == KIND_NP]
    if k8s:
        dest = other if direction == "egress" else subject
        for i, nm in enumerate(np_closest(compiled, direction, k8s, other, request, dest)):
            misses.append((len(nm.differences), i, nm))
    order = 100
    for e in entries:
        if e.calico is None:
            continue
        for rule in e.calico.rules(direction) or ():
            if rule.action != "Allow":
                continue
            diffs = rule_differences(compiled, rule, direction, subject, other, request)
            if not diffs:
                continue
            ref = RuleRef(e.kind, e.ref, direction, rule.index, None, "Allow")
            text = f"{e.label} {direction} rule {rule.index + 1} " + "; ".join(d.text for d in diffs)
            misses.append((len(diffs), order, NearMiss(ref, tuple(diffs), text)))
            order += 1
    misses.sort(key=lambda m: (m[0], m[1]))
    return tuple(m[2] for m in misses[:MAX_CLOSEST])


def _entity_text(ent: Entity) -> str:
    """The rule's criteria as written: selector app == 'web', nets 10.0.0.0/8, serviceAccounts names api."""
    parts = []
    for key in ("selector", "notSelector", "namespaceSelector"):
        if ent.raw.get(key) is not None:
            parts.append(f"{key} {ent.raw[key]}")
    for key in ("nets", "notNets"):
        if ent.raw.get(key) is not None:
            parts.append(f"{key} {', '.join(map(str, ent.raw[key]))}")
    sa = ent.raw.get("serviceAccounts")
    if sa:
        if sa.get("names"):
            parts.append(f"serviceAccounts names {', '.join(sa['names'])}")
        if sa.get("selector") is not None:
            parts.append(f"serviceAccounts selector {sa['selector']}")
    svc = ent.raw.get("services")
    if svc:
        parts.append(f"services {(svc.get('namespace') + '/') if svc.get('namespace') else ''}{svc['name']}")
    return ", ".join(parts) or "anything"


def rule_differences(
    compiled: CompiledSnapshot, rule: CalicoRule, direction: Direction, subject: PodPeer, other: Peer, request: Request
) -> list[Difference]:
    """What keeps one Calico rule from matching: protocol, destination ports, the source and destination criteria."""
    src, dst = (subject, other) if direction == "egress" else (other, subject)
    diffs: list[Difference] = []
    proto = PROTOCOL_NUMBERS[request.protocol]
    names = {v: k for k, v in PROTOCOL_NUMBERS.items()}
    if rule.protocol is not None and rule.protocol != proto:
        want = names.get(rule.protocol, str(rule.protocol))
        diffs.append(Difference("protocol", want, request.protocol, f"allows protocol {want}; request is {request.protocol}"))
    if rule.not_protocol is not None and rule.not_protocol == proto:
        diffs.append(Difference("protocol", f"not {request.protocol}", request.protocol, f"excludes protocol {request.protocol}"))
    if rule.icmp:
        diffs.append(Difference("protocol", "ICMP", request.protocol, "matches ICMP only"))
    dest_ports = dst.ports if isinstance(dst, PodPeer) else None
    if not dest_ports_match(rule.destination, request, dest_ports):
        want = ", ".join(p.describe() for p in rule.destination.ports or ())
        if rule.destination.not_ports:
            want += (" " if want else "") + "except " + ", ".join(p.describe() for p in rule.destination.not_ports)
        diffs.append(
            Difference("port", want, request.describe(), f"allows destination ports {want}; request is {request.describe()}")
        )
    for role, ent, end in (("source", rule.source, src), ("destination", rule.destination, dst)):
        if entity_matches(compiled, ent, end) is False:
            field_name = "ipBlock" if (ent.nets or ent.not_nets) and not ent.selects else "pod"
            if isinstance(end, PodPeer) and ent.scoped and ent.own_namespace is not None and end.namespace != ent.own_namespace:
                field_name = "namespace"
            diffs.append(
                Difference(
                    field_name,
                    _entity_text(ent),
                    end.ref,
                    f"allows {role} {_entity_text(ent)}; {role} is {end.ref}" + _labels_text(end),
                )
            )
    return diffs


def _labels_text(peer: Peer) -> str:
    if isinstance(peer, PodPeer):
        shown = ",".join(f"{k}={v}" for k, v in sorted(peer.labels.items())) or "no labels"
        return f" ({shown}, namespace {peer.namespace})"
    return ""


# --- port boundaries for "any port" requests ---------------------------------------------------------------------------


def port_boundaries(compiled: CompiledSnapshot, protocol: str, dest_ports: Sequence[ContainerPort] | None) -> set[int]:
    """Port numbers where a Calico rule's answer can change for this protocol (numbers, ranges, named ports)."""
    out: set[int] = set()
    proto = PROTOCOL_NUMBERS[protocol]
    for cp in compiled.calico.policies:
        for rule in cp.ingress + cp.egress:
            if rule.protocol is not None and rule.protocol != proto:
                continue
            for ports in (rule.destination.ports, rule.destination.not_ports):
                for p in ports or ():
                    if p.name is not None:
                        n = resolve_named(p.name, protocol, dest_ports)
                        rng = None if n is None else (n, n)
                    else:
                        rng = (p.lo, p.hi)
                    if rng is not None:
                        out.add(rng[0])
                        out.add(rng[1] + 1)
            if rule.destination.service is not None:
                svc = compiled.calico.services.get(rule.destination.service)
                for sp in getattr(svc, "ports", ()):
                    t = sp.target_port
                    n = t if isinstance(t, int) else resolve_named(t, protocol, dest_ports)
                    if n is not None:
                        out.update((n, n + 1))
    return {p for p in out if 1 <= p <= 65535}


def port_signature(
    compiled: CompiledSnapshot, protocol: str, number: int, groups: Sequence[Sequence[ContainerPort] | None]
) -> tuple[frozenset[int], ...]:
    """How every Calico port match answers for this port number, per group of destination container ports: two
    numbers with the same signature are alike to every Calico rule (paths --compact groups them into one class)."""
    request = Request(number, None, protocol)
    proto = PROTOCOL_NUMBERS[protocol]
    out: list[frozenset[int]] = []
    seen: set[int] = set()
    for cp in compiled.calico.policies:
        for rule in cp.ingress + cp.egress:
            if rule.protocol is not None and rule.protocol != proto:
                continue
            ent = rule.destination
            if (ent.ports is not None or ent.not_ports is not None) and id(ent) not in seen:
                seen.add(id(ent))
                out.append(frozenset(i for i, dp in enumerate(groups) if dest_ports_match(ent, request, dp)))
            if ent.service is not None:
                svc = compiled.calico.services.get(ent.service)
                if svc is not None:
                    out.append(frozenset(i for i, dp in enumerate(groups) if _service_targets(svc, dp, request)))
    return tuple(out)


def _service_targets(svc: Any, dest_ports: Sequence[ContainerPort] | None, request: Request) -> bool:
    for sp in svc.ports:
        if sp.protocol.upper() != request.protocol:
            continue
        t = sp.target_port
        if (t if isinstance(t, int) else resolve_named(t, request.protocol, dest_ports)) == request.number:
            return True
    return False


__all__ = [
    "KIND_ANP",
    "KIND_BANP",
    "KIND_CALICO_NP",
    "KIND_GNP",
    "CalicoModel",
    "build_model",
    "evaluate_direction",
    "rule_match",
    "selecting",
]
