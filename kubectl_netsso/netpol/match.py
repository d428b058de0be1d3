"""Three-valued matching primitives shared by evaluate, explain and paths: subject selection, peers, rules.

True / False / None (unknown: the answer depends on something the source could not see, e.g. namespace labels).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from ..cluster.snapshot import NAMESPACE_NAME_LABEL, ContainerPort
from .compile import CompiledPolicy, CompiledRule, CompiledSnapshot, PeerMatcher
from .model import KIND_NP, ExternalPeer, Peer, PodPeer
from .ports import Request, any_protocol
from .selectors import LabelSelector

Tri = bool | None


def namespace_selected(compiled: CompiledSnapshot, selector: LabelSelector | None, peer: PodPeer) -> Tri:
    """A namespaceSelector against the peer's namespace labels; unknown when those labels could not be read."""
    if selector is None:
        return False  # "A null label selector matches no objects."
    result = selector.matches(peer.namespace_labels)
    if selector.keys() <= {NAMESPACE_NAME_LABEL} or not compiled.label_gap(peer.namespace):
        return result
    # Only the name label is sure (the control plane sets it): a requirement on it that fails decides; any other
    # requirement depends on labels nobody could read.
    name_only = {NAMESPACE_NAME_LABEL: peer.namespace}
    if not all(r.matches(name_only) for r in selector.requirements if r.key == NAMESPACE_NAME_LABEL):
        return False
    return None


def selects(compiled: CompiledSnapshot, policy: CompiledPolicy, subject: Peer) -> Tri:
    """Does the policy apply to this pod?"""
    if not isinstance(subject, PodPeer):
        return False
    if subject.host_network:
        # hostNetwork pods: "NetworkPolicy behaviour for hostNetwork pods is undefined ... most network plugins
        # ... ignore them" (kubernetes.io, Network Policies); ANP: "host-networked pods are not selected".
        return False
    if policy.kind == KIND_NP:
        # "podSelector selects the pods to which this NetworkPolicy object applies" -- in the policy's namespace.
        return subject.namespace == policy.subject_namespace and (
            policy.subject_pod_selector is not None and policy.subject_pod_selector.matches(subject.labels)
        )
    pod_ok = policy.subject_pod_selector is not None and policy.subject_pod_selector.matches(subject.labels)
    if not pod_ok:
        return False
    return namespace_selected(compiled, policy.subject_namespace_selector, subject)


@lru_cache(maxsize=65536)
def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _ip_in(
    ip_text: str,
    cidrs: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
    excepts: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    ip = _parse_ip(ip_text)
    if ip is None:
        return False
    inside = any(ip.version == c.version and ip in c for c in cidrs)
    return inside and not any(ip.version == e.version and ip in e for e in excepts)


def peer_matches(compiled: CompiledSnapshot, pm: PeerMatcher, other: Peer) -> Tri:
    """Does one from/to entry match the other end of the flow?"""
    if pm.kind == "invalid":
        return pm.matches_all
    if pm.kind == "nodes":
        return False
    if pm.kind in ("ipBlock", "networks"):
        if isinstance(other, ExternalPeer):
            return _ip_in(other.ip, pm.cidrs, pm.excepts)
        if pm.kind == "ipBlock" and compiled.ipblock_pods == "ignore" and not other.host_network:
            # Option for CNIs that apply ipBlock only to cluster-external traffic (cilium/cilium#9209).
            return False
        if not other.ips:
            # ANP: "0.0.0.0/0 will also match pod-to-pod traffic" -- an all-addresses network matches any pod even
            # when its IP is unknown; anything narrower cannot be decided without the pod IP: no match.
            return pm.kind == "networks" and any(c.prefixlen == 0 for c in pm.cidrs)
        # ipBlock "... matching pod IPs" as the upstream conformance test "should allow egress access to server in
        # CIDR block" expects; a dual-stack pod matches when one of its IPs does.
        return any(_ip_in(ip, pm.cidrs, pm.excepts) for ip in other.ips)
    # pods
    if not isinstance(other, PodPeer) or other.host_network:
        return False
    if pm.pod_selector is None or not pm.pod_selector.matches(other.labels):
        return False
    if pm.namespace is not None:
        return other.namespace == pm.namespace
    return namespace_selected(compiled, pm.namespace_selector, other)


def ports_match(rule: CompiledRule, request: Request, dest_ports: Sequence[ContainerPort] | None) -> bool:
    if rule.all_ports:
        return True
    # "Each item in this list is combined using a logical OR." (NetworkPolicyIngressRule.Ports)
    return any(any_protocol(m, request.protocol).matches(request, dest_ports) for m in rule.ports)


def rule_matches(
    compiled: CompiledSnapshot, rule: CompiledRule, other: Peer, request: Request, dest_ports: Sequence[ContainerPort] | None
) -> tuple[Tri, int | None]:
    """(match, index of the matching peer). A rule matches when a port entry AND a peer entry match."""
    if not ports_match(rule, request, dest_ports):
        return False, None
    if rule.all_peers:
        return True, None
    result: Tri = False
    for pm in rule.peers:
        # "If this field is present and contains at least one item, this rule allows traffic only if the traffic
        # matches at least one item in the from list." (NetworkPolicyIngressRule.From)
        m = peer_matches(compiled, pm, other)
        if m is True:
            return True, pm.index
        if m is None:
            result = None
    return result, None


def dest_ports_of(peer: Peer) -> tuple[ContainerPort, ...] | None:
    """Container ports of a destination pod; None for an external address (named ports never match it)."""
    return peer.ports if isinstance(peer, PodPeer) else None
