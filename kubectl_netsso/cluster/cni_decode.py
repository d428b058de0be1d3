"""Decoders for the CNI policy objects netsso evaluates: Calico (projectcalico.org/v3, crd.projectcalico.org/v1).

Each is a self-contained function (object dict -> record) with the field checks of the project's own validator, so
the engines never see garbage; a bad field raises the loader's ``_Bad`` (the object is then a warning and left out,
an ``invalid-manifest`` finding, as for every other kind).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..netpol import calico_selector
from .manifests import _Bad, _bool, _labels, _list, _mapping, _str, _str_list
from .snapshot import CalicoHostEndpoint, CalicoNetworkSet, CalicoPolicy, CalicoTier

CALICO_ACTIONS = ("Allow", "Deny", "Log", "Pass")
# "protocol: TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, 1-255" (Calico docs, Rule)
CALICO_PROTOCOLS = ("TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite")
# "rule contains ports, but protocol is not TCP, UDP, SCTP or UDPLite" is rejected (libcalico-go validator.go)
_PORT_PROTOCOLS = ("TCP", "UDP", "SCTP", "UDPLite", 6, 17, 132, 136)


def _selector(value: Any, path: str) -> str | None:
    text = _str(value, path)
    if text is None:
        return None
    try:
        calico_selector.parse(text)
    except calico_selector.CalicoSelectorError as exc:
        raise _Bad(f"{path}: invalid selector {text[:80]!r}: {exc}") from None
    return text


def _number(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"{path} must be a number, not {type(value).__name__}")
    if value != value or value in (float("inf"), float("-inf")):
        raise _Bad(f"{path} must be a finite number")
    return float(value)


def _protocol(value: Any, path: str) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad(f"{path} must be a protocol name or number 1-255")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        n = int(value)
        if not 1 <= n <= 255:
            raise _Bad(f"{path} must be 1-255, not {n}")
        return n
    if isinstance(value, str):
        for p in CALICO_PROTOCOLS:
            if value.lower() == p.lower():
                return p
    raise _Bad(f"{path} must be one of {', '.join(CALICO_PROTOCOLS)} or 1-255, not {value!r}")


def _net(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{path} must be a CIDR string")
    try:
        # Calico accepts a bare address as its /32 (/128): cnet.ParseCIDROrIP
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise _Bad(f"{path} must be a CIDR such as 10.0.0.0/8, not {value!r}") from None


def _ports(value: Any, path: str) -> list[int | str]:
    """Calico ports: a number, "start:end", or a named port ("An individual numeric port may be specified as a
    YAML/JSON integer. A port range or named port must be represented as a string", Calico docs, Ports)."""
    out: list[int | str] = []
    for i, p in enumerate(_list(value, path)):
        ppath = f"{path}[{i}]"
        if isinstance(p, bool):
            raise _Bad(f"{ppath} must be a port number, range or name")
        if isinstance(p, int):
            if not 0 <= p <= 65535:
                raise _Bad(f"{ppath} must be 0-65535, not {p}")
            out.append(p)
            continue
        if not isinstance(p, str) or not p:
            raise _Bad(f"{ppath} must be a port number, range or name")
        if ":" in p:
            lo, _, hi = p.partition(":")
            if not (lo.isdigit() and hi.isdigit()) or not 0 <= int(lo) <= int(hi) <= 65535:
                raise _Bad(f"{ppath}: port range {p!r} must be START:END with 0 <= START <= END <= 65535")
            out.append(f"{int(lo)}:{int(hi)}")
        elif p.isdigit():
            if int(p) > 65535:
                raise _Bad(f"{ppath} must be 0-65535, not {p}")
            out.append(int(p))
        elif len(p) <= 63 and all(c.isalnum() or c == "-" for c in p):
            out.append(p)
        else:
            raise _Bad(f"{ppath}: {p!r} is not a port number, range or name")
    return out


def _entity(value: Any, path: str, *, source: bool) -> dict[str, Any]:
    e = _mapping(value, path)
    out: dict[str, Any] = {}
    for key in ("nets", "notNets"):
        if e.get(key) is not None:
            nets = [_net(n, f"{path}.{key}[{i}]") for i, n in enumerate(_list(e[key], f"{path}.{key}"))]
            if len({ipaddress.ip_network(n).version for n in nets}) > 1:
                raise _Bad(f"{path}.{key}: IPv4 and IPv6 CIDRs cannot be mixed in one rule")
            out[key] = nets
    for key in ("selector", "notSelector", "namespaceSelector"):
        sel = _selector(e.get(key), f"{path}.{key}")
        if sel is not None:
            out[key] = sel
    for key in ("ports", "notPorts"):
        if e.get(key) is not None:
            out[key] = _ports(e[key], f"{path}.{key}")
    if e.get("serviceAccounts") is not None:
        sa = _mapping(e["serviceAccounts"], f"{path}.serviceAccounts")
        entry: dict[str, Any] = {}
        if sa.get("names") is not None:
            entry["names"] = list(_str_list(sa["names"], f"{path}.serviceAccounts.names"))
        sel = _selector(sa.get("selector"), f"{path}.serviceAccounts.selector")
        if sel is not None:
            entry["selector"] = sel
        out["serviceAccounts"] = entry
    if e.get("services") is not None:
        svc = _mapping(e["services"], f"{path}.services")
        name = _str(svc.get("name"), f"{path}.services.name")
        if not name:
            raise _Bad(f"{path}.services.name is required")
        out["services"] = {"name": name, "namespace": _str(svc.get("namespace"), f"{path}.services.namespace")}
        # "If specified on egress rule destinations, no other selection criteria can be set. If specified on ingress
        # rule sources, only positive or negative matches on ports can be specified." (Calico docs, EntityRule)
        others = set(out) - {"services"} - ({"ports", "notPorts"} if source else set())
        if others:
            raise _Bad(f"{path}.services cannot be combined with {', '.join(sorted(others))}")
    return out


def _http(value: Any, path: str) -> dict[str, Any]:
    h = _mapping(value, path)
    out: dict[str, Any] = {}
    if h.get("methods") is not None:
        out["methods"] = list(_str_list(h["methods"], f"{path}.methods"))
    if h.get("paths") is not None:
        paths = []
        for i, p in enumerate(_list(h["paths"], f"{path}.paths")):
            p = _mapping(p, f"{path}.paths[{i}]", required=True)
            kinds = [k for k in ("exact", "prefix") if p.get(k) is not None]
            if len(kinds) != 1:
                raise _Bad(f"{path}.paths[{i}] must set exactly one of exact or prefix")
            paths.append({kinds[0]: _str(p[kinds[0]], f"{path}.paths[{i}].{kinds[0]}")})
        out["paths"] = paths
    return out


def _icmp(value: Any, path: str) -> dict[str, int]:
    m = _mapping(value, path)
    out = {}
    for key, hi in (("type", 254), ("code", 255)):
        if m.get(key) is not None:
            v = m[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
                raise _Bad(f"{path}.{key} must be 0-{hi}")
            out[key] = v
    return out


def _rules(value: Any, path: str) -> list[dict[str, Any]]:
    rules = []
    for i, raw in enumerate(_list(value, path)):
        rpath = f"{path}[{i}]"
        r = _mapping(raw, rpath, required=True)
        action = _str(r.get("action"), rpath + ".action")
        if action not in CALICO_ACTIONS:
            raise _Bad(f"{rpath}.action must be one of {', '.join(CALICO_ACTIONS)}, not {action!r}")
        rule: dict[str, Any] = {"action": action}
        for key in ("protocol", "notProtocol"):
            p = _protocol(r.get(key), f"{rpath}.{key}")
            if p is not None:
                rule[key] = p
        if r.get("ipVersion") is not None:
            if r["ipVersion"] not in (4, 6) or isinstance(r["ipVersion"], bool):
                raise _Bad(f"{rpath}.ipVersion must be 4 or 6")
            rule["ipVersion"] = r["ipVersion"]
        for key in ("icmp", "notICMP"):
            if r.get(key) is not None:
                rule[key] = _icmp(r[key], f"{rpath}.{key}")
        if rule.get("icmp") and rule.get("protocol") not in ("ICMP", "ICMPv6", 1, 58):
            raise _Bad(f"{rpath}.icmp needs protocol ICMP or ICMPv6")
        rule["source"] = _entity(r.get("source"), rpath + ".source", source=True)
        rule["destination"] = _entity(r.get("destination"), rpath + ".destination", source=False)
        if any(e.get(k) for e in (rule["source"], rule["destination"]) for k in ("ports", "notPorts")):
            if rule.get("protocol") not in _PORT_PROTOCOLS:
                raise _Bad(f"{rpath}: ports need protocol TCP, UDP, SCTP or UDPLite (Calico rejects them otherwise)")
        if r.get("http") is not None:
            rule["http"] = _http(r["http"], rpath + ".http")
        rules.append(rule)
    return rules


def calico_policy(kind: str, name: str, namespace: str | None, api_version: str, doc: dict[str, Any], where: str) -> CalicoPolicy:
    """A Calico NetworkPolicy / GlobalNetworkPolicy, checked (spec fields as in Calico's API reference)."""
    spec = _mapping(doc.get("spec"), "spec")
    out: dict[str, Any] = {}
    order = _number(spec.get("order"), "spec.order")
    if order is not None:
        out["order"] = order
    out["tier"] = _str(spec.get("tier"), "spec.tier") or "default"
    for key in ("selector", "serviceAccountSelector") + (("namespaceSelector",) if kind == "GlobalNetworkPolicy" else ()):
        sel = _selector(spec.get(key), f"spec.{key}")
        if sel is not None:
            out[key] = sel
    if spec.get("types") is not None:
        types = _str_list(spec["types"], "spec.types")
        for i, t in enumerate(types):
            if t not in ("Ingress", "Egress"):
                raise _Bad(f"spec.types[{i}] must be Ingress or Egress, not {t!r}")
        out["types"] = sorted(set(types))
    for direction in ("ingress", "egress"):
        if spec.get(direction) is not None:
            out[direction] = _rules(spec[direction], f"spec.{direction}")
    if kind == "GlobalNetworkPolicy":
        for key in ("doNotTrack", "preDNAT", "applyOnForward"):
            if spec.get(key) is not None:
                out[key] = _bool(spec[key], f"spec.{key}")
        if out.get("doNotTrack") and out.get("preDNAT"):
            raise _Bad("spec: only one of doNotTrack and preDNAT may be true")
    return CalicoPolicy(kind=kind, name=name, namespace=namespace, spec=out, api_version=api_version, source=where)


def calico_tier(name: str, doc: dict[str, Any], where: str) -> CalicoTier:
    spec = _mapping(doc.get("spec"), "spec")
    action = _str(spec.get("defaultAction"), "spec.defaultAction") or "Deny"
    if action not in ("Deny", "Pass"):
        raise _Bad(f"spec.defaultAction must be Deny or Pass, not {action!r}")
    return CalicoTier(name=name, order=_number(spec.get("order"), "spec.order"), default_action=action, source=where)


def calico_network_set(
    name: str, namespace: str | None, labels: dict[str, str], doc: dict[str, Any], where: str
) -> CalicoNetworkSet:
    spec = _mapping(doc.get("spec"), "spec")
    nets = tuple(_net(n, f"spec.nets[{i}]") for i, n in enumerate(_list(spec.get("nets"), "spec.nets")))
    return CalicoNetworkSet(name=name, namespace=namespace, labels=_labels(labels, "metadata.labels"), nets=nets, source=where)


def calico_host_endpoint(name: str, labels: dict[str, str], doc: dict[str, Any], where: str) -> CalicoHostEndpoint:
    spec = _mapping(doc.get("spec"), "spec", required=True)
    node = _str(spec.get("node"), "spec.node")
    if not node:
        raise _Bad("spec.node is required")
    ips = []
    for i, ip in enumerate(_list(spec.get("expectedIPs"), "spec.expectedIPs")):
        try:
            ips.append(str(ipaddress.ip_address(str(ip))))
        except ValueError:
            raise _Bad(f"spec.expectedIPs[{i}]: {ip!r} is not an IP address") from None
    return CalicoHostEndpoint(name=name, node=node, labels=labels, expected_ips=tuple(ips), source=where)
