"""Decoders of the network policy kinds: NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy.

A policy's spec is kept as the API's plain dict (the engines implement the API semantics on its field names), so the
decoder returns a clean copy holding only the fields the engines read, each checked; anything malformed is an
InvalidField and the object is left out.
"""

from __future__ import annotations

from typing import Any

from .fields import (
    InvalidField,
    ObjectRef,
    as_cidr,
    as_int,
    as_list,
    as_mapping,
    as_mappings,
    as_port,
    as_port_or_name,
    as_protocol,
    as_required_str,
    as_selector,
    as_str,
    as_str_list,
)
from .snapshot import AdminNetworkPolicy, NetworkPolicy

__all__ = ["decode_network_policy", "decode_admin_network_policy"]


def decode_network_policy(ref: ObjectRef, doc: dict[str, Any]) -> NetworkPolicy:
    """networking.k8s.io/v1 NetworkPolicy."""
    assert ref.namespace is not None
    return NetworkPolicy(namespace=ref.namespace, name=ref.name, spec=_np_spec(doc.get("spec")), source=ref.where)


def decode_admin_network_policy(ref: ObjectRef, doc: dict[str, Any]) -> AdminNetworkPolicy:
    """policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy (cluster-scoped)."""
    return AdminNetworkPolicy(name=ref.name, kind=ref.kind, spec=_anp_spec(ref.kind, doc.get("spec")), source=ref.where)


def _np_ports(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for ppath, port in as_mappings(value, path):
        entry: dict[str, Any] = {"protocol": as_protocol(port.get("protocol"), ppath + ".protocol")}
        if port.get("port") is not None:
            entry["port"] = as_port_or_name(port["port"], ppath + ".port")
        if port.get("endPort") is not None:
            end = as_port(port["endPort"], ppath + ".endPort")
            # NetworkPolicyPort.endPort: "The endPort must be equal or greater than port" and only with a numeric port.
            if not isinstance(entry.get("port"), int):
                raise InvalidField(f"{ppath}.endPort needs a numeric port")
            if end < entry["port"]:
                raise InvalidField(f"{ppath}.endPort must be >= port ({entry['port']}), not {end}")
            entry["endPort"] = end
        out.append(entry)
    return out


def _np_peers(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for ppath, peer in as_mappings(value, path):
        entry: dict[str, Any] = {}
        # Absent and empty selectors differ ({} selects all); null counts as absent (a nil pointer in the Go type).
        for key in ("podSelector", "namespaceSelector"):
            if peer.get(key) is not None:
                entry[key] = as_selector(peer[key], f"{ppath}.{key}")
        if peer.get("ipBlock") is not None:
            if entry:
                raise InvalidField(f"{ppath}: ipBlock cannot be combined with podSelector or namespaceSelector")
            block = as_mapping(peer["ipBlock"], ppath + ".ipBlock", required=True)
            cidr = as_cidr(block.get("cidr"), ppath + ".ipBlock.cidr")
            excepts = [
                as_cidr(e, f"{ppath}.ipBlock.except[{j}]")
                for j, e in enumerate(as_list(block.get("except"), ppath + ".ipBlock.except"))
            ]
            entry["ipBlock"] = {"cidr": cidr, "except": excepts}
        if not entry:
            raise InvalidField(f"{ppath} must set podSelector, namespaceSelector or ipBlock")
        out.append(entry)
    return out


def _np_spec(value: Any) -> dict[str, Any]:
    spec = as_mapping(value, "spec", required=True)
    out: dict[str, Any] = {}
    # podSelector is a non-pointer LabelSelector in the Go type: absent decodes to {} (all pods in the namespace).
    out["podSelector"] = as_selector(spec.get("podSelector"), "spec.podSelector")
    if spec.get("policyTypes") is not None:
        types = as_str_list(spec["policyTypes"], "spec.policyTypes")
        for i, t in enumerate(types):
            if t not in ("Ingress", "Egress"):
                raise InvalidField(f"spec.policyTypes[{i}] must be Ingress or Egress, not {t!r}")
        out["policyTypes"] = list(types)
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        if spec.get(direction) is None:
            continue
        rules = []
        for i, rule in enumerate(as_list(spec[direction], f"spec.{direction}")):
            rpath = f"spec.{direction}[{i}]"
            rule = as_mapping(rule, rpath)  # `- {}` and `- ` (null) both mean "all"
            entry: dict[str, Any] = {}
            if rule.get(peer_key) is not None:
                entry[peer_key] = _np_peers(rule[peer_key], f"{rpath}.{peer_key}")
            if rule.get("ports") is not None:
                entry["ports"] = _np_ports(rule["ports"], f"{rpath}.ports")
            rules.append(entry)
        out[direction] = rules
    return out


def _anp_peer(peer: Any, path: str, egress: bool) -> dict[str, Any]:
    peer = as_mapping(peer, path, required=True)
    out: dict[str, Any] = {}
    if "namespaces" in peer:
        out["namespaces"] = as_selector(peer["namespaces"], path + ".namespaces")
    if "pods" in peer:
        out["pods"] = _anp_pods(peer["pods"], path + ".pods")
    if egress and "nodes" in peer:
        out["nodes"] = as_selector(peer["nodes"], path + ".nodes")
    if egress and "networks" in peer:
        out["networks"] = [
            as_cidr(c, f"{path}.networks[{j}]") for j, c in enumerate(as_list(peer["networks"], path + ".networks"))
        ]
    if egress and "domainNames" in peer:
        out["domainNames"] = list(as_str_list(peer["domainNames"], path + ".domainNames"))
    if not out and peer:
        # A peer type this tool does not know (a newer CRD): "the implementation MUST fail closed" (ANP EgressPeer /
        # IngressPeer docs) -- passed on so the engine treats it so (and says so), instead of refusing the folder.
        return {str(k): v for k, v in peer.items()}
    if len(out) != 1:
        kinds = "namespaces, pods, nodes, networks or domainNames" if egress else "namespaces or pods"
        raise InvalidField(f"{path} must set exactly one of {kinds}")
    return out


def _anp_pods(value: Any, path: str) -> dict[str, Any]:
    """NamespacedPod of an ANP subject or peer: both selectors, each defaulting to {} (all)."""
    pods = as_mapping(value, path, required=True)
    return {
        "namespaceSelector": as_selector(pods.get("namespaceSelector"), path + ".namespaceSelector"),
        "podSelector": as_selector(pods.get("podSelector"), path + ".podSelector"),
    }


def _anp_ports(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for ppath, port in as_mappings(value, path):
        entry: dict[str, Any] = {}
        if "portNumber" in port:
            pn = as_mapping(port["portNumber"], ppath + ".portNumber", required=True)
            entry["portNumber"] = {
                "protocol": as_protocol(pn.get("protocol"), ppath + ".portNumber.protocol"),
                "port": as_port(pn.get("port"), ppath + ".portNumber.port"),
            }
        if "namedPort" in port:
            entry["namedPort"] = as_required_str(port["namedPort"], ppath + ".namedPort")
        if "portRange" in port:
            pr = as_mapping(port["portRange"], ppath + ".portRange", required=True)
            start = as_port(pr.get("start"), ppath + ".portRange.start")
            end = as_port(pr.get("end"), ppath + ".portRange.end")
            if end < start:
                raise InvalidField(f"{ppath}.portRange.end must be >= start ({start}), not {end}")
            entry["portRange"] = {
                "protocol": as_protocol(pr.get("protocol"), ppath + ".portRange.protocol"),
                "start": start,
                "end": end,
            }
        if len(entry) != 1:
            raise InvalidField(f"{ppath} must set exactly one of portNumber, namedPort or portRange")
        out.append(entry)
    return out


def _anp_spec(kind: str, value: Any) -> dict[str, Any]:
    spec = as_mapping(value, "spec", required=True)
    out: dict[str, Any] = {}
    if kind == "AdminNetworkPolicy":
        # AdminNetworkPolicySpec.priority: required, "0 to 1000" (policy.networking.k8s.io/v1alpha1).
        out["priority"] = as_int(spec.get("priority"), "spec.priority", 0, 1000)
        actions: tuple[str, ...] = ("Allow", "Deny", "Pass")
    else:
        actions = ("Allow", "Deny")
    subject = as_mapping(spec.get("subject"), "spec.subject", required=True)
    sub: dict[str, Any] = {}
    if "namespaces" in subject:
        sub["namespaces"] = as_selector(subject["namespaces"], "spec.subject.namespaces")
    if "pods" in subject:
        sub["pods"] = _anp_pods(subject["pods"], "spec.subject.pods")
    if len(sub) != 1:
        raise InvalidField("spec.subject must set exactly one of namespaces or pods")
    out["subject"] = sub
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        if spec.get(direction) is None:
            continue
        rules = []
        for rpath, rule in as_mappings(spec[direction], f"spec.{direction}"):
            action = as_required_str(rule.get("action"), rpath + ".action")
            if action not in actions:
                raise InvalidField(f"{rpath}.action must be one of {', '.join(actions)}, not {action!r}")
            peers = [
                _anp_peer(p, f"{rpath}.{peer_key}[{j}]", direction == "egress")
                for j, p in enumerate(as_list(rule.get(peer_key), f"{rpath}.{peer_key}"))
            ]
            if not peers:
                raise InvalidField(f"{rpath}.{peer_key} must list at least one peer")
            entry: dict[str, Any] = {"action": action, peer_key: peers}
            name = as_str(rule.get("name"), rpath + ".name")
            if name is not None:
                entry["name"] = name
            if rule.get("ports") is not None:
                entry["ports"] = _anp_ports(rule["ports"], rpath + ".ports")
            rules.append(entry)
        out[direction] = rules
    return out
