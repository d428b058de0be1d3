"""Cilium policy semantics at L3/L4, pure: CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy together with
Kubernetes NetworkPolicies, one direction of one flow at a time (the class engine is netpol/paths_cni.py).

Sources (cilium/cilium): Documentation/security/policy/{intro,language,layer3,layer4,layer7,deny,kubernetes}.rst,
pkg/k8s/apis/cilium.io/utils/utils.go (namespace scoping), pkg/policy/api/{rule_validation,entity,l4}.go,
pkg/policy/repository.go (requirements, deny precedence). Rules are quoted beside the code that implements them.

Per direction of a pod: "If any rule selects the endpoint ... the endpoint is in default-deny for that direction";
allows are a union over every selecting rule, Cilium's and Kubernetes' ("the policies are additive"); a matching
deny rule wins over every allow ("Deny policies take precedence over allow policies regardless of whether they are a
Cilium Network Policy, a Clusterwide Cilium Network Policy or even a Kubernetes Network Policy", deny.rst). L7 rules
allow their port at L4 and filter requests above it: the verdict says so (never a silent full allow).

Long because: Cilium's L3/L4 semantics (selection, entities, CIDR, ports, deny precedence, explanations) quote their
sources beside each rule; the class engine is apart (paths_cni.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cluster.snapshot import CiliumPolicy, ContainerPort, Snapshot
from .model import Difference, Direction, DirectionVerdict, ExternalPeer, NearMiss, Peer, PodPeer, RuleRef, Step
from .ports import Request, resolve_named
from .selectors import LabelSelector, Requirement

if TYPE_CHECKING:
    from .compile import CompiledPolicy, CompiledSnapshot

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Tri = bool | None

KIND_CNP = "CiliumNetworkPolicy"
KIND_CCNP = "CiliumClusterwideNetworkPolicy"
SHORT = {KIND_CNP: "CNP", KIND_CCNP: "CCNP"}

# The labels Cilium gives a pod's endpoint besides its own (Documentation/gettingstarted/demo.rst, `cilium-dbg
# endpoint list`: k8s:io.cilium.k8s.policy.cluster=default, k8s:io.cilium.k8s.policy.serviceaccount=...,
# k8s:io.kubernetes.pod.namespace=...), and the namespace's labels under io.cilium.k8s.namespace.labels.
NS_KEY = "io.kubernetes.pod.namespace"
SA_KEY = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_KEY = "io.cilium.k8s.policy.cluster"
NS_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
ANY_PROTOCOL = ("TCP", "UDP", "SCTP")  # "protocol: ANY (or omitted) means TCP and UDP (and SCTP where enabled)"

ENFORCEMENT_MODES = ("default", "always", "never")
DIRECTIONS: tuple[Direction, ...] = ("ingress", "egress")


def and3(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def or3(a: Tri, b: Tri) -> Tri:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


# --- selectors ----------------------------------------------------------------------------------------------------------


def _key(raw: str) -> str:
    """A selector key without its label source: "k8s:app" and "any:app" match the pod label app; "reserved:host" and
    other sources stay as they are (a pod has no such label). Kubernetes label keys never contain ':'."""
    source, sep, rest = raw.partition(":")
    if sep and source in ("k8s", "any"):
        return rest
    return raw


@dataclass(frozen=True, slots=True)
class CSel:
    """A Cilium endpoint selector, keys without source prefix, with the namespace scoping Cilium adds already in."""

    selector: LabelSelector
    text: str

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.selector.requirements)

    def matches(self, labels: Mapping[str, str]) -> Tri:
        if CLUSTER_KEY in self.keys and NS_KEY in labels:
            # a pod carries its cluster's name, which is configuration ("default" unless set): decided only when the
            # answer is the same for any name
            named = self.selector.matches({**labels, CLUSTER_KEY: "default"})
            other = self.selector.matches({**labels, CLUSTER_KEY: "\x00another cluster"})
            return named if named == other else None
        return self.selector.matches(labels)


def _requirements(raw: Mapping[str, Any]) -> list[Requirement]:
    reqs = [Requirement(_key(str(k)), "In", (str(v),)) for k, v in (raw.get("matchLabels") or {}).items()]
    for e in raw.get("matchExpressions") or ():
        reqs.append(Requirement(_key(str(e["key"])), str(e["operator"]), tuple(str(v) for v in e.get("values") or ())))
    return reqs


def _text(reqs: Sequence[Requirement]) -> str:
    return "{" + ", ".join(r.describe() for r in reqs) + "}" if reqs else "{}"


def subject_selector(raw: Mapping[str, Any], namespace: str | None) -> CSel:
    """endpointSelector: "The PodSelector should only reflect to the same namespace the policy is being stored"
    (utils.go ParseToCiliumRule adds the policy's namespace to a CiliumNetworkPolicy's selector; a
    CiliumClusterwideNetworkPolicy's selects in every namespace)."""
    reqs = [r for r in _requirements(raw) if not (namespace is not None and r.key == NS_KEY)]
    shown = _text(reqs)
    if namespace is not None:
        reqs.append(Requirement(NS_KEY, "In", (namespace,)))
    return CSel(LabelSelector(tuple(reqs)), shown)


def peer_selector(raw: Mapping[str, Any], namespace: str | None) -> CSel:
    """fromEndpoints / toEndpoints / from-toRequires (utils.go getEndpointSelector): "If omitted, we limit the scope to
    the namespace the policy lives in" -- unless the selector names the namespace key or namespace labels; "For a
    clusterwide policy if a namespace is not specified in the labels we add a selector to only match endpoints that
    contains a namespace label" (so {} there is every pod, never world); reserved: selectors are left alone."""
    raw_keys = [str(k) for k in (raw.get("matchLabels") or {})] + [str(e["key"]) for e in raw.get("matchExpressions") or ()]
    reqs = _requirements(raw)
    shown = _text(reqs)
    if any(k.startswith("reserved:") for k in raw_keys):
        return CSel(LabelSelector(tuple(reqs)), shown)
    keys = {r.key for r in reqs}
    if NS_KEY not in keys:
        if namespace is None:
            reqs.append(Requirement(NS_KEY, "Exists"))
        elif not any(k.startswith(NS_LABELS_PREFIX) for k in keys):
            reqs.append(Requirement(NS_KEY, "In", (namespace,)))
            shown += f" in namespace {namespace}"
    return CSel(LabelSelector(tuple(reqs)), shown)


# --- compiled model -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One toPorts port: a number or range (port 0 = every port), or a port name; the protocols it covers."""

    lo: int
    hi: int
    name: str | None
    protocols: frozenset[str]

    def describe(self) -> str:
        what = self.name or ("any port" if (self.lo, self.hi) == (1, 65535) else str(self.lo) if self.lo == self.hi
                             else f"{self.lo}-{self.hi}")  # fmt: skip
        protos = "ANY" if self.protocols >= set(ANY_PROTOCOL) else "/".join(sorted(self.protocols))
        return f"{what}/{protos}"


@dataclass(frozen=True, slots=True)
class PortRule:
    ports: tuple[PortSpec, ...]  # empty: every port
    l7: str | None = None


@dataclass(frozen=True, slots=True)
class CiliumRule:
    """One ingress / ingressDeny / egress / egressDeny entry, compiled."""

    index: int
    section: str  # "ingress" | "ingressDeny" | "egress" | "egressDeny"
    endpoints: tuple[CSel, ...] = ()
    entities: frozenset[str] = frozenset()
    cidrs: tuple[tuple[IpNetwork, tuple[IpNetwork, ...]], ...] = ()
    cidr_groups: int = 0
    fqdns: tuple[str, ...] = ()
    services: tuple[Mapping[str, Any], ...] = ()
    nodes: int = 0
    groups: int = 0
    requires: tuple[CSel, ...] = ()
    port_rules: tuple[PortRule, ...] | None = None  # None: no toPorts
    icmp: bool = False
    auth: str | None = None

    @property
    def deny(self) -> bool:
        return self.section.endswith("Deny")

    @property
    def has_l3(self) -> bool:
        return bool(
            self.endpoints or self.entities or self.cidrs or self.cidr_groups or self.fqdns or self.services or self.nodes
            or self.groups
        )  # fmt: skip

    @property
    def endpoints_only(self) -> bool:
        """Endpoint selectors and no other peer kind: the requirements narrow them (the documented case)."""
        return bool(self.endpoints) and not (
            self.entities or self.cidrs or self.cidr_groups or self.fqdns or self.services or self.nodes or self.groups
        )

    def describe_peers(self) -> str:
        parts = []
        if self.endpoints:
            parts.append("endpoints " + ", ".join(s.text for s in self.endpoints))
        if self.entities:
            parts.append("entities " + ", ".join(sorted(self.entities)))
        if self.cidrs:
            parts.append("CIDR " + ", ".join(str(c) + (f" except {', '.join(map(str, e))}" if e else "") for c, e in self.cidrs))
        if self.fqdns:
            parts.append("FQDNs " + ", ".join(self.fqdns))
        if self.services:
            parts.append("services")
        if self.nodes:
            parts.append("nodes")
        if self.groups or self.cidr_groups:
            parts.append("groups")
        return "; ".join(parts) or ("any peer" if self.port_rules is not None else "no peer")


@dataclass(frozen=True, slots=True)
class CompiledCilium:
    """One rule (spec or specs[i]) of a CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy."""

    kind: str
    name: str
    namespace: str | None
    spec_index: int | None  # None: `spec`; i: specs[i]
    subject: CSel | None  # None: a nodeSelector rule (host policy, not evaluated here)
    ingress: tuple[CiliumRule, ...] | None
    ingress_deny: tuple[CiliumRule, ...] | None
    egress: tuple[CiliumRule, ...] | None
    egress_deny: tuple[CiliumRule, ...] | None
    default_deny: Mapping[str, bool]
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def label(self) -> str:
        where = "" if self.spec_index is None else f" specs[{self.spec_index}]"
        return f"{SHORT[self.kind]} {self.ref}{where}"

    def allows(self, direction: Direction) -> tuple[CiliumRule, ...]:
        return (self.ingress if direction == "ingress" else self.egress) or ()

    def denies(self, direction: Direction) -> tuple[CiliumRule, ...]:
        return (self.ingress_deny if direction == "ingress" else self.egress_deny) or ()

    def applies(self, direction: Direction) -> bool:
        """The rule has a section for the direction ("a rule section that selects an endpoint enforces that
        direction"), an empty list included (`ingress: []` counts for selection, enableDefaultDeny decides)."""
        if direction == "ingress":
            return self.ingress is not None or self.ingress_deny is not None
        return self.egress is not None or self.egress_deny is not None

    def requirements(self, direction: Direction) -> tuple[CSel, ...]:
        return tuple(s for r in (*self.allows(direction), *self.denies(direction)) for s in r.requires)


@dataclass
class CiliumModel:
    policies: tuple[CompiledCilium, ...] = ()
    mode: str = "default"
    services: dict[tuple[str, str], Any] = field(default_factory=dict)
    service_list: tuple[Any, ...] = ()
    label_sensitive: bool = False
    uses_nodes: bool = False  # host / remote-node entities: the node of both ends matters
    uses_cluster: bool = False  # a selector on the cluster name (configuration, not in the input)
    networks: tuple[IpNetwork, ...] = ()
    views: dict[str, tuple[CompiledCilium, ...]] = field(default_factory=dict)  # namespace -> policies_for (on use)


def _ports(raw: Sequence[Mapping[str, Any]] | None) -> tuple[PortRule, ...] | None:
    if raw is None:
        return None
    out = []
    for pr in raw:
        specs = []
        for p in pr.get("ports") or ():
            protos = frozenset(ANY_PROTOCOL) if p["protocol"] == "ANY" else frozenset({p["protocol"]})
            if "name" in p:
                specs.append(PortSpec(0, 0, p["name"], protos))
            elif p["port"] == 0:
                specs.append(PortSpec(1, 65535, None, protos))  # "port 0 ... all ports"
            else:
                specs.append(PortSpec(p["port"], p.get("endPort", p["port"]), None, protos))
        out.append(PortRule(tuple(specs), pr.get("l7")))
    return tuple(out)


def _rule(i: int, section: str, raw: Mapping[str, Any], namespace: str | None) -> CiliumRule:
    side = "from" if section.startswith("ingress") else "to"
    cidrs: list[tuple[IpNetwork, tuple[IpNetwork, ...]]] = []
    groups = 0
    for c in [*(raw.get(f"{side}CIDR") or ()), *(raw.get(f"{side}CIDRSet") or ())]:
        if "group" in c:
            groups += 1
            continue
        cidrs.append((ipaddress.ip_network(c["cidr"]), tuple(ipaddress.ip_network(e) for e in c["except"])))
    return CiliumRule(
        index=i,
        section=section,
        endpoints=tuple(peer_selector(s, namespace) for s in raw.get(f"{side}Endpoints") or ()),
        entities=frozenset(raw.get(f"{side}Entities") or ()),
        cidrs=tuple(cidrs),
        cidr_groups=groups,
        fqdns=tuple(raw.get("toFQDNs") or ()),
        services=tuple(raw.get("toServices") or ()),
        nodes=len(raw.get(f"{side}Nodes") or ()),
        groups=int(raw.get(f"{side}Groups") or 0),
        requires=tuple(peer_selector(s, namespace) for s in raw.get(f"{side}Requires") or ()),
        port_rules=_ports(raw.get("toPorts")),
        icmp=bool(raw.get("icmps")),
        auth=raw.get("authentication"),
    )


def compile_cilium_policy(p: CiliumPolicy) -> list[CompiledCilium]:
    ns = p.namespace if p.kind == KIND_CNP else None
    out = []
    for i, raw in enumerate(p.rules):
        spec_index = None if len(p.rules) == 1 else i

        def section(key: str, raw: Mapping[str, Any] = raw) -> tuple[CiliumRule, ...] | None:
            if raw.get(key) is None:
                return None
            return tuple(_rule(j, key, r, ns) for j, r in enumerate(raw[key]))

        ingress, ingress_deny, egress, egress_deny = (section(k) for k in ("ingress", "ingressDeny", "egress", "egressDeny"))
        edd = dict(raw.get("enableDefaultDeny") or {})
        # "Default posture is per-direction (ingress or egress), if there is a peer selector for that direction, the
        # default is deny, else allow": EnableDefaultDeny.Ingress defaults to len(Ingress) > 0 || len(IngressDeny) > 0
        # (rule_validation.go Sanitize).
        default_deny = {
            "ingress": edd.get("ingress", bool(ingress) or bool(ingress_deny)),
            "egress": edd.get("egress", bool(egress) or bool(egress_deny)),
        }
        subject = subject_selector(raw["endpointSelector"], ns) if "endpointSelector" in raw else None
        out.append(
            CompiledCilium(p.kind, p.name, ns, spec_index, subject, ingress, ingress_deny, egress, egress_deny, default_deny,
                           p.source)  # fmt: skip
        )
    return out


def build_model(snapshot: Snapshot, mode: str) -> CiliumModel:
    policies = tuple(c for p in snapshot.cilium_policies for c in compile_cilium_policy(p))
    model = CiliumModel(policies=policies, mode=mode)
    model.services = {(s.namespace, s.name): s for s in snapshot.services}
    model.service_list = tuple(snapshot.services)
    nets: dict[IpNetwork, None] = {}
    for cp in policies:
        sels = [cp.subject] if cp.subject is not None else []
        for d in DIRECTIONS:
            for r in (*cp.allows(d), *cp.denies(d)):
                sels += [*r.endpoints, *r.requires]
                if r.entities & {"host", "remote-node"}:
                    model.uses_nodes = True
                for c, e in r.cidrs:
                    nets[c] = None
                    nets.update(dict.fromkeys(e))
        for s in sels:
            if s.keys & {"reserved:host", "reserved:remote-node"}:
                model.uses_nodes = True
            if CLUSTER_KEY in s.keys:
                model.uses_cluster = True
            if any(k.startswith(NS_LABELS_PREFIX) and k != NS_LABELS_PREFIX + "kubernetes.io/metadata.name" for k in s.keys):
                model.label_sensitive = True
    model.networks = tuple(nets)
    return model


# --- what a peer looks like to Cilium -----------------------------------------------------------------------------------


def pod_labels(compiled: CompiledSnapshot, peer: PodPeer) -> dict[str, str]:
    """A pod's endpoint labels as Cilium's selectors see them (source prefixes dropped)."""
    labels = dict(peer.labels)
    labels[NS_KEY] = peer.namespace
    labels[SA_KEY] = peer.service_account or "default"
    for k, v in compiled.labels_of(peer.namespace).items():
        labels[NS_LABELS_PREFIX + k] = v
    return labels


def node_of_ip(compiled: CompiledSnapshot, ip: str) -> str | None:
    for node, ips in compiled.node_ips.items():
        if ip in ips:
            return node
    return None


def peer_kind(compiled: CompiledSnapshot, peer: Peer) -> str:
    """ "pod" (a Cilium endpoint), "node" (a node's address, or a hostNetwork pod: it sends as its node) or "world"."""
    if isinstance(peer, PodPeer):
        return "node" if peer.host_network else "pod"
    return "node" if node_of_ip(compiled, peer.ip) is not None else "world"


def _host_labels(compiled: CompiledSnapshot, subject: PodPeer | None, peer: Peer) -> list[dict[str, str]]:
    """The reserved identity of a node peer seen from the subject: host (its own node) or remote-node; both when either
    node is not known (the answer is then unknown unless both agree)."""
    peer_node = peer.node if isinstance(peer, PodPeer) else node_of_ip(compiled, peer.ip)
    if subject is not None and subject.node and peer_node:
        return [{"reserved:host": ""} if peer_node == subject.node else {"reserved:remote-node": ""}]
    return [{"reserved:host": ""}, {"reserved:remote-node": ""}]


def _labels_of(compiled: CompiledSnapshot, subject: PodPeer | None, peer: Peer) -> list[dict[str, str]]:
    kind = peer_kind(compiled, peer)
    if kind == "pod":
        assert isinstance(peer, PodPeer)
        return [pod_labels(compiled, peer)]
    if kind == "node":
        return _host_labels(compiled, subject, peer)
    return [{"reserved:world": ""}]


def _sel_match(compiled: CompiledSnapshot, sel: CSel, subject: PodPeer | None, peer: Peer) -> Tri:
    results = {sel.matches(lab) for lab in _labels_of(compiled, subject, peer)}
    result: Tri = results.pop() if len(results) == 1 else None
    if result is not False and isinstance(peer, PodPeer) and not peer.host_network:
        # namespace labels beyond the name are unknown when the namespace is not in the input
        if compiled.label_gap(peer.namespace) and any(
            k.startswith(NS_LABELS_PREFIX) and k != NS_LABELS_PREFIX + "kubernetes.io/metadata.name" for k in sel.keys
        ):
            return None
    return result


def _entity(compiled: CompiledSnapshot, entity: str, subject: PodPeer | None, peer: Peer) -> Tri:
    """fromEntities / toEntities (layer3.rst Entities based): world = outside the cluster, cluster = every endpoint,
    node and health endpoint of the cluster, host = the local node, remote-node = the others, all = everything."""
    kind = peer_kind(compiled, peer)
    if entity == "all":
        return True
    if entity in ("world", "world-ipv4", "world-ipv6"):
        if kind != "world":
            return False
        assert isinstance(peer, ExternalPeer)
        want = {"world": None, "world-ipv4": 4, "world-ipv6": 6}[entity]
        return want is None or ipaddress.ip_address(peer.ip).version == want
    if entity == "cluster":
        return kind != "world"
    if entity in ("host", "remote-node"):
        if kind != "node":
            return False
        seen = {("reserved:" + entity) in lab for lab in _host_labels(compiled, subject, peer)}
        return seen.pop() if len(seen) == 1 else None
    if entity == "kube-apiserver":
        # the API server's addresses (in or outside the cluster) are not in the input
        return None if kind != "pod" else False
    return False  # init, health, unmanaged, none, ingress: no such peer here


def _in_cidrs(peer: Peer, cidrs: Sequence[tuple[IpNetwork, tuple[IpNetwork, ...]]]) -> bool:
    assert isinstance(peer, ExternalPeer)
    ip = ipaddress.ip_address(peer.ip)
    return any(
        ip.version == c.version and ip in c and not any(ip.version == e.version and ip in e for e in ex) for c, ex in cidrs
    )


def _service_match(compiled: CompiledSnapshot, svc: Mapping[str, Any], policy_ns: str | None, peer: Peer) -> Tri:
    """toServices: the endpoints of a Kubernetes Service. Services without a selector (their endpoints kept by hand) are
    what toServices is documented for; with a selector, whether the backends are matched depends on the Cilium
    version. Neither is decided here: the Service's backends (or any address, without a selector) are UNKNOWN."""
    ns = svc.get("namespace") or policy_ns
    targets = []
    for s in compiled.cilium.service_list:
        if ns is not None and s.namespace != ns:
            continue
        if "name" in svc:
            if s.name == svc["name"]:
                targets.append(s)
        elif LabelSelector(tuple(_requirements(svc["selector"]))).matches(getattr(s, "labels", {}) or {}):
            targets.append(s)
    result: Tri = False
    for s in targets:
        if s.selector is None:
            if not isinstance(peer, PodPeer) or peer.host_network:
                return None
            continue
        if isinstance(peer, PodPeer) and not peer.host_network and peer.namespace == s.namespace:
            if all(peer.labels.get(k) == v for k, v in s.selector.items()):
                result = None
    return result


def l3_match(compiled: CompiledSnapshot, rule: CiliumRule, policy_ns: str | None, subject: PodPeer | None, peer: Peer) -> Tri:
    """The peer against the rule's L3 part, requirements aside (the fields are alternatives: an OR)."""
    if not rule.has_l3:
        # "An L4-only rule (toPorts without fromEndpoints/...) has no L3 restriction: anyone, world included"; a rule
        # with neither (`ingress: [{}]`) allows nothing ("put an endpoint into default deny mode")
        return rule.port_rules is not None or rule.icmp
    kind = peer_kind(compiled, peer)
    result: Tri = False
    for sel in rule.endpoints:
        result = or3(result, _sel_match(compiled, sel, subject, peer))
        if result is True:
            return True
    for e in rule.entities:
        result = or3(result, _entity(compiled, e, subject, peer))
        if result is True:
            return True
    if kind == "world":
        # "CIDR rules do not apply to traffic where both sides of the connection are either managed by Cilium or use
        # an IP belonging to a node in the cluster" (layer3.rst IP/CIDR based)
        if rule.cidrs and _in_cidrs(peer, rule.cidrs):
            return True
        if rule.fqdns or rule.cidr_groups or rule.groups:
            result = or3(result, None)  # names resolved at run time, CIDR groups and cloud groups: not known here
    if kind == "node" and rule.nodes:
        result = or3(result, None)  # node selectors need the nodes' labels as Cilium gives them
    for svc in rule.services:
        result = or3(result, _service_match(compiled, svc, policy_ns, peer))
    return result


def requirements_match(compiled: CompiledSnapshot, reqs: Sequence[CSel], subject: PodPeer | None, peer: Peer) -> Tri:
    out: Tri = True
    for r in reqs:
        out = and3(out, _sel_match(compiled, r, subject, peer))
        if out is False:
            return False
    return out


def peer_match(
    compiled: CompiledSnapshot, rule: CiliumRule, policy_ns: str | None, subject: PodPeer | None, peer: Peer,
    reqs: Sequence[CSel],
) -> Tri:  # fmt: skip
    """L3 with the requirements of every rule selecting the subject in this direction: "While it is sufficient to have a
    single fromEndpoints rule match, none of the fromRequires may be violated at the same time" (api/rules.go); the
    repository adds them to every endpoint selector of those rules. Whether they also narrow entity, CIDR and L4-only
    peers is not documented: there the answer is unknown when the two readings differ."""
    if not reqs:
        return l3_match(compiled, rule, policy_ns, subject, peer)
    if rule.endpoints_only:
        ep = l3_match(compiled, rule, policy_ns, subject, peer)
        return and3(ep, requirements_match(compiled, reqs, subject, peer)) if ep is not False else False
    base = l3_match(compiled, rule, policy_ns, subject, peer)
    if base is False:
        return False
    req = requirements_match(compiled, reqs, subject, peer)
    return base if req is True else None


def ports_match(rule: CiliumRule, request: Request, dest_ports: Sequence[ContainerPort] | None) -> tuple[bool, str | None]:
    """(the port is allowed by toPorts, the L7 rules above it or None); no toPorts: every port, no L7."""
    if rule.icmp:
        return False, None  # "The ICMPs block may only be present without ToPorts": an ICMP-only rule
    if rule.port_rules is None:
        return True, None
    if request.number is None:
        return False, None
    l7: str | None = None
    hit = False
    for pr in rule.port_rules:
        if not pr.ports or any(_port_hit(p, request, dest_ports) for p in pr.ports):
            if pr.l7 is None:
                return True, None
            hit, l7 = True, l7 or pr.l7
    return hit, l7


def _port_hit(p: PortSpec, request: Request, dest_ports: Sequence[ContainerPort] | None) -> bool:
    if request.protocol not in p.protocols:
        return False
    if p.name is not None:
        return resolve_named(p.name, request.protocol, dest_ports) == request.number
    assert request.number is not None
    return p.lo <= request.number <= p.hi


def rule_match(
    compiled: CompiledSnapshot, cp: CompiledCilium, rule: CiliumRule, direction: Direction, subject: PodPeer, other: Peer,
    request: Request, reqs: Sequence[CSel],
) -> tuple[Tri, str | None]:  # fmt: skip
    dest = other if direction == "egress" else subject
    ok, l7 = ports_match(rule, request, dest.ports if isinstance(dest, PodPeer) else None)
    if not ok:
        return False, None
    return peer_match(compiled, rule, cp.namespace, subject, other, reqs), l7


# --- selection and the verdict ------------------------------------------------------------------------------------------


def policy_selects(compiled: CompiledSnapshot, cp: CompiledCilium, subject: PodPeer) -> Tri:
    if cp.subject is None or subject.host_network:
        return False  # nodeSelector rules police nodes (host firewall), hostNetwork pods are no endpoints
    if cp.namespace is not None and subject.namespace != cp.namespace:
        return False
    return _sel_match(compiled, cp.subject, None, subject)


def policies_for(compiled: CompiledSnapshot, namespace: str) -> tuple[CompiledCilium, ...]:
    """The rules that can select a pod of this namespace: its CiliumNetworkPolicies and every clusterwide one."""
    cache = compiled.cilium.views
    hit = cache.get(namespace)
    if hit is None:
        hit = cache[namespace] = tuple(cp for cp in compiled.cilium.policies if cp.namespace in (None, namespace))
    return hit


def _k8s_selecting(compiled: CompiledSnapshot, direction: Direction, subject: PodPeer) -> list[tuple[CompiledPolicy, Tri]]:
    from .match import selects

    out: list[tuple[CompiledPolicy, Tri]] = []
    for p in compiled.policies_in(subject.namespace):
        if p.rules(direction) is None:
            continue
        s = selects(compiled, p, subject)
        if s is not False:
            out.append((p, s))
    return out


def selecting(compiled: CompiledSnapshot, direction: Direction, subject: Peer) -> tuple[str, ...]:
    if not isinstance(subject, PodPeer) or subject.host_network:
        return ()
    out = [cp.label for cp in policies_for(compiled, subject.namespace) if cp.applies(direction)
           and policy_selects(compiled, cp, subject)]  # fmt: skip
    out += [p.label for p, s in _k8s_selecting(compiled, direction, subject) if s is True]
    return tuple(out)


def _ref(cp: CompiledCilium, rule: CiliumRule, direction: Direction) -> RuleRef:
    name = rule.section if rule.deny or cp.spec_index is not None else None
    if cp.spec_index is not None:
        name = f"specs[{cp.spec_index}].{rule.section}"
    return RuleRef(cp.kind, cp.ref, direction, rule.index, None, "Deny" if rule.deny else "Allow", name)


def evaluate_direction(
    compiled: CompiledSnapshot, direction: Direction, subject: PodPeer, other: Peer, request: Request, *, explain: bool = True,
) -> DirectionVerdict:  # fmt: skip
    """Cilium's verdict for one direction of a pod: deny rules first, then default deny and the union of allows."""
    from .match import rule_matches

    model = compiled.cilium
    notes: list[str] = []
    if model.mode == "never":
        text = "policy enforcement mode never: Cilium enforces no policy"
        return DirectionVerdict(direction, True, text, (), None, (), (Step("cilium", "Allow", None, text),), None, ())
    chosen: list[CompiledCilium] = []
    for cp in policies_for(compiled, subject.namespace):
        if not cp.applies(direction):
            continue
        s = policy_selects(compiled, cp, subject)
        if s is None:
            return _unknown(direction, f"cannot tell whether {cp.label} selects {subject.ref}: "
                            + _label_reason(compiled, subject), [], notes)  # fmt: skip
        if s:
            chosen.append(cp)
    k8s = _k8s_selecting(compiled, direction, subject)
    for p, s in k8s:
        if s is None:
            return _unknown(direction, f"cannot tell whether {p.label} selects {subject.ref}: "
                            + _label_reason(compiled, subject), [], notes)  # fmt: skip
    labels = [cp.label for cp in chosen] + [p.label for p, _ in k8s]
    reqs = tuple(r for cp in chosen for r in cp.requirements(direction))
    # -- deny rules win over every allow (deny.rst)
    deny_unknown: str | None = None
    for cp in chosen:
        for rule in cp.denies(direction):
            m, _l7 = rule_match(compiled, cp, rule, direction, subject, other, request, reqs)
            ref = _ref(cp, rule, direction)
            if m is True:
                text = f"{ref.describe()} denies it (deny rules take precedence over every allow)"
                return DirectionVerdict(direction, False, text, tuple(labels), ref, (),
                                        (Step("cilium", "Deny", ref, text),), None, tuple(notes))  # fmt: skip
            if m is None and deny_unknown is None:
                deny_unknown = f"{ref.describe()} may deny it: " + _why(compiled, rule, other)
    enforced = model.mode == "always" or bool(k8s) or any(cp.default_deny[direction] for cp in chosen)
    if not enforced:
        if deny_unknown:
            return _unknown(direction, deny_unknown, labels, notes)
        if chosen:
            text = f"{', '.join(labels)} select {subject.ref} for {direction} without default deny (enableDefaultDeny " \
                   f"{direction}: false): what no deny rule matches is allowed"  # fmt: skip
        else:
            text = f"no policy selects {subject.ref} for {direction}: allowed by default (policy enforcement mode default)"
        return DirectionVerdict(direction, True, text, tuple(labels), None, (), (Step("cilium", "Allow", None, text),),
                                None, tuple(notes))  # fmt: skip
    allow_unknown: str | None = None
    best: tuple[RuleRef, str | None] | None = None
    dest = other if direction == "egress" else subject
    dest_ports = dest.ports if isinstance(dest, PodPeer) else None
    for p, _s in k8s:
        for r in p.rules(direction) or ():
            m, peer_idx = rule_matches(compiled, r, other, request, dest_ports)
            if m is True:
                best = (RuleRef(p.kind, p.ref, direction, r.index, peer_idx, "Allow"), None)
                break
            if m is None and allow_unknown is None:
                allow_unknown = f"{p.label} {direction} rule {r.index + 1} may match: " + _label_reason(compiled, other)
        if best is not None:
            break
    if best is None or best[1] is not None:
        for cp in chosen:
            for rule in cp.allows(direction):
                m, l7 = rule_match(compiled, cp, rule, direction, subject, other, request, reqs)
                if m is True:
                    if best is None or l7 is None:
                        best = (_ref(cp, rule, direction), l7)
                    if l7 is None:
                        break
                elif m is None and allow_unknown is None:
                    allow_unknown = f"{_ref(cp, rule, direction).describe()} may allow it: " + _why(compiled, rule, other)
            if best is not None and best[1] is None:
                break
    if best is not None:
        if deny_unknown:
            return _unknown(direction, deny_unknown, labels, notes)
        ref, l7 = best
        text = f"{ref.describe()} allows it"
        if l7 is not None:
            text += " at L4"
            notes.append(f"{ref.describe()} allows the port at L4 only: its L7 rules ({l7}) filter the requests above it")
        auth = _auth(compiled, ref)
        if auth:
            notes.append(f"{ref.describe()} requires mutual authentication ({auth}): the peers must authenticate first")
        return DirectionVerdict(direction, True, text, tuple(labels), ref, (), (Step("cilium", "Allow", ref, text),), None,
                                tuple(notes))  # fmt: skip
    if allow_unknown:
        return _unknown(direction, allow_unknown, labels, notes)
    who = "source" if direction == "egress" else "destination"
    why = "policy enforcement mode always" if not labels else f"selected for {direction} by {', '.join(labels)}"
    text = f"{who} {subject.ref} is {why} and no rule allows it (default deny)"
    closest: tuple[NearMiss, ...] = ()
    if explain:
        closest = closest_rules(compiled, direction, chosen, [p for p, _ in k8s], subject, other, request, reqs)
    return DirectionVerdict(direction, False, text, tuple(labels), None, closest, (Step("cilium", "Deny", None, text),),
                            None, tuple(notes))  # fmt: skip


def _auth(compiled: CompiledSnapshot, ref: RuleRef) -> str | None:
    for cp in compiled.cilium.policies:
        if cp.ref == ref.policy and cp.kind == ref.kind:
            for r in cp.allows(ref.direction):
                if r.index == ref.rule_index and r.auth:
                    return r.auth
    return None


def _label_reason(compiled: CompiledSnapshot, peer: Peer) -> str:
    if isinstance(peer, PodPeer):
        gap = compiled.label_gap(peer.namespace)
        if gap:
            return gap
    return "depends on data the source could not read"


def _why(compiled: CompiledSnapshot, rule: CiliumRule, other: Peer) -> str:
    if rule.fqdns and peer_kind(compiled, other) == "world":
        return f"toFQDNs {', '.join(rule.fqdns)} allow the addresses those names resolve to at run time, not known offline"
    if "kube-apiserver" in rule.entities:
        return "the kube-apiserver entity is the API server's addresses, which the input does not hold"
    if rule.services:
        return "toServices match a Service's endpoints, which the input does not hold"
    if rule.entities & {"host", "remote-node"}:
        return "which node each end runs on is not known (host or remote-node)"
    if rule.nodes:
        return "node selectors match the nodes' labels as Cilium sees them, not evaluated here"
    if rule.groups or rule.cidr_groups:
        return "CIDR groups and cloud groups are not in the input"
    if isinstance(other, PodPeer):
        gap = compiled.label_gap(other.namespace)
        if gap:
            return gap
    return (
        "the selecting rules' fromRequires/toRequires: whether they narrow entity, CIDR and port-only peers is not "
        "documented, and the two readings differ here"
    )


def _unknown(direction: Direction, reason: str, labels: Sequence[str], notes: list[str]) -> DirectionVerdict:
    return DirectionVerdict(direction, None, f"unknown: {reason}", tuple(labels), None, (),
                            (Step("?", "Unknown", None, reason),), reason, tuple(notes))  # fmt: skip


# --- explanations -------------------------------------------------------------------------------------------------------


def closest_rules(
    compiled: CompiledSnapshot, direction: Direction, chosen: Sequence[CompiledCilium], k8s: Sequence[CompiledPolicy],
    subject: PodPeer, other: Peer, request: Request, reqs: Sequence[CSel],
) -> tuple[NearMiss, ...]:  # fmt: skip
    """The allow rules closest to allowing the flow, fewest differences first (as for NetworkPolicy)."""
    from .explain import MAX_CLOSEST
    from .explain import closest_rules as np_closest

    misses: list[tuple[int, int, NearMiss]] = []
    if k8s:
        dest = other if direction == "egress" else subject
        for i, nm in enumerate(np_closest(compiled, direction, list(k8s), other, request, dest)):
            misses.append((len(nm.differences), i, nm))
    order = 100
    dest = other if direction == "egress" else subject
    dest_ports = dest.ports if isinstance(dest, PodPeer) else None
    for cp in chosen:
        for rule in cp.allows(direction):
            diffs: list[Difference] = []
            ok, _l7 = ports_match(rule, request, dest_ports)
            if not ok:
                want = ", ".join(p.describe() for pr in rule.port_rules or () for p in pr.ports) or "ICMP only"
                text = f"allows ports {want}; request is {request.describe()}"
                diffs.append(Difference("port", want, request.describe(), text))
            if peer_match(compiled, rule, cp.namespace, subject, other, reqs) is False:
                who = "source" if direction == "ingress" else "destination"
                want = rule.describe_peers()
                diffs.append(Difference("pod" if isinstance(other, PodPeer) else "ipBlock", want, other.ref,
                                        f"allows {want}; {who} is {other.ref}" + _labels_text(other)))  # fmt: skip
            if not diffs:
                continue
            ref = _ref(cp, rule, direction)
            text = f"{ref.describe()} " + "; ".join(d.text for d in diffs)
            misses.append((len(diffs), order, NearMiss(ref, tuple(diffs), text)))
            order += 1
    misses.sort(key=lambda m: (m[0], m[1]))
    return tuple(m[2] for m in misses[:MAX_CLOSEST])


def _labels_text(peer: Peer) -> str:
    if isinstance(peer, PodPeer):
        shown = ",".join(f"{k}={v}" for k, v in sorted(peer.labels.items())) or "no labels"
        return f" ({shown}, namespace {peer.namespace})"
    return ""


# --- port cut points ----------------------------------------------------------------------------------------------------


def _port_specs(compiled: CompiledSnapshot, protocol: str) -> list[PortSpec]:
    out = []
    for cp in compiled.cilium.policies:
        for d in DIRECTIONS:
            for r in (*cp.allows(d), *cp.denies(d)):
                for pr in r.port_rules or ():
                    out += [p for p in pr.ports if protocol in p.protocols]
    return out


def port_boundaries(compiled: CompiledSnapshot, protocol: str, dest_ports: Sequence[ContainerPort] | None) -> set[int]:
    out: set[int] = set()
    for p in _port_specs(compiled, protocol):
        if p.name is not None:
            n = resolve_named(p.name, protocol, dest_ports)
            if n is not None:
                out.update((n, n + 1))
        else:
            out.update((p.lo, p.hi + 1))
    return {p for p in out if 1 <= p <= 65535}


def port_signature(
    compiled: CompiledSnapshot, protocol: str, number: int, groups: Sequence[Sequence[ContainerPort] | None]
) -> tuple[frozenset[int], ...]:
    request = Request(number, None, protocol)
    specs = dict.fromkeys(_port_specs(compiled, protocol))
    return tuple(frozenset(i for i, dp in enumerate(groups) if _port_hit(p, request, dp)) for p in specs)


# --- effects of what is not evaluated -----------------------------------------------------------------------------------


def unevaluated_effects(compiled: CompiledSnapshot) -> list[Any]:
    """Host policies (a nodeSelector rule polices the nodes and hostNetwork pods: Cilium's host firewall, not evaluated
    here) make those directions UNKNOWN; AdminNetworkPolicies under Cilium's semantics are not evaluated either."""
    from .foreign import ForeignEffect

    out = []
    for cp in compiled.cilium.policies:
        if cp.subject is not None:
            continue
        directions = frozenset(d for d in DIRECTIONS if cp.applies(d))
        if directions:
            out.append(ForeignEffect(cp.label, f"{cp.label} is a host policy (nodeSelector): the host firewall is not "
                                     "evaluated", None, directions, pods=False, hosts=True))  # fmt: skip
    for p in (*compiled.admin_policies, *([compiled.baseline] if compiled.baseline else [])):
        out.append(ForeignEffect(p.label, f"{p.kind} {p.name} is not evaluated with Cilium's semantics (--cni cilium)",
                                 None, frozenset({"ingress", "egress"}), hosts=True))  # fmt: skip
    return out
