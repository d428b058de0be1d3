"""Decoders for the CNI policy objects netsso evaluates: Calico (projectcalico.org/v3, crd.projectcalico.org/v1) and
Cilium (cilium.io/v2).

Each is a self-contained function (object dict -> record) with the field checks of the project's own validator, so
the engines never see garbage; a bad field raises fields.InvalidField (the object is then a warning and left out,
an ``invalid-manifest`` finding, as for every other kind).

Long because: one decoder per Calico and Cilium kind with the field checks their CRDs define; split by CNI when a
third arrives.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..netpol import calico_selector
from .fields import InvalidField as _Bad
from .fields import as_bool as _bool
from .fields import as_labels as _labels
from .fields import as_list as _list
from .fields import as_mapping as _mapping
from .fields import as_str as _str
from .fields import as_str_list as _str_list
from .snapshot import CalicoHostEndpoint, CalicoNetworkSet, CalicoPolicy, CalicoTier, CiliumPolicy

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


# --- Cilium (cilium.io/v2) ----------------------------------------------------------------------------------------------

# Entities a rule may name (pkg/policy/api/entity.go EntitySelectorMapping; "unsupported entity" otherwise).
CILIUM_ENTITIES = (
    "all", "world", "world-ipv4", "world-ipv6", "cluster", "host", "init", "remote-node", "health", "unmanaged", "none",
    "kube-apiserver", "ingress",
)  # fmt: skip
# ParseL4Proto (pkg/policy/api/l4.go): "ANY" when omitted.
CILIUM_PROTOCOLS = ("TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "VRRP", "IGMP", "ANY")
_INGRESS_L3 = ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups")
_EGRESS_L3 = ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs", "toGroups", "toNodes")


def _cilium_selector(value: Any, path: str) -> dict[str, Any]:
    from .fields import as_selector

    return as_selector(value, path)


def _svc_name(text: str) -> bool:
    """An IANA service name (iana.IsSvcName): 1-15 of [a-z0-9-], a letter somewhere, no leading, trailing or double -."""
    t = text.lower()
    return (
        0 < len(t) <= 15
        and all(c.isascii() and (c.isalnum() or c == "-") for c in t)
        and any(c.isalpha() for c in t)
        and not t.startswith("-")
        and not t.endswith("-")
        and "--" not in t
    )


def _cilium_ports(value: Any, path: str, *, ingress: bool, deny: bool) -> list[dict[str, Any]]:
    out = []
    for i, raw in enumerate(_list(value, path)):
        rpath = f"{path}[{i}]"
        pr = _mapping(raw, rpath, required=True)
        ports = []
        for j, pp in enumerate(_list(pr.get("ports"), rpath + ".ports")):
            ppath = f"{rpath}.ports[{j}]"
            pp = _mapping(pp, ppath, required=True)
            port = pp.get("port")
            if not isinstance(port, str) or not port:
                # the CRD types port as a string ("80"); the API server refuses a YAML number
                raise _Bad(f"{ppath}.port must be a string such as \"80\" or a port name", hint="quote the port number")
            entry: dict[str, Any] = {}
            if _svc_name(port):
                entry["name"] = port.lower()  # "Normalize for case insensitive comparison" (rule_validation.go)
            elif port.isdigit() and int(port) <= 65535:
                entry["port"] = int(port)
            else:
                raise _Bad(f"{ppath}.port: {port!r} is not a port number (0-65535) or a port name")
            if pp.get("endPort") is not None:
                end = pp["endPort"]
                if isinstance(end, bool) or not isinstance(end, int) or not 0 <= end <= 65535:
                    raise _Bad(f"{ppath}.endPort must be a number 0-65535")
                if "port" in entry and end > entry["port"]:
                    entry["endPort"] = end
            proto = _str(pp.get("protocol"), ppath + ".protocol") or "ANY"
            if proto.upper() not in CILIUM_PROTOCOLS:
                raise _Bad(f"{ppath}.protocol must be one of {', '.join(CILIUM_PROTOCOLS)}, not {proto!r}")
            entry["protocol"] = proto.upper()
            ports.append(entry)
        rule: dict[str, Any] = {"ports": ports}
        rules = _mapping(pr.get("rules"), rpath + ".rules")
        if rules and not deny:
            kinds = [k for k in ("http", "kafka", "dns") if rules.get(k) is not None]
            if rules.get("l7proto") is not None:
                kinds.append("l7proto")
            elif rules.get("l7") is not None:
                raise _Bad(f"{rpath}.rules: 'l7' may only be specified when a 'l7proto' is also specified")
            if len(kinds) > 1:
                raise _Bad(f"{rpath}.rules: multiple L7 protocol rule types specified in single rule")
            if kinds:
                kind = kinds[0]
                if ingress and kind == "dns":
                    raise _Bad(f"{rpath}.rules: DNS rules are not allowed on ingress")
                if any(p.get("port") == 0 for p in ports):
                    raise _Bad(f"{rpath}.rules: L7 rules can not be used when a port is 0")
                if kind == "dns" and not ports:
                    raise _Bad(f"{rpath}.rules: Port 53 must be specified for DNS rules")
                if kind != "dns" and any(p["protocol"] != "TCP" for p in ports):
                    raise _Bad(f"{rpath}.rules: L7 rules can only apply to TCP except for DNS rules")
                rule["l7"] = _l7_text(kind, rules, rpath + ".rules")
        out.append(rule)
    return out


def _l7_text(kind: str, rules: dict[str, Any], path: str) -> str:
    """A short description of the L7 rules (what further filters the flow above L4)."""
    if kind == "l7proto":
        return f"l7proto {_str(rules.get('l7proto'), path + '.l7proto')}"
    items = _list(rules.get(kind), f"{path}.{kind}")
    shown = []
    for i, item in enumerate(items[:4]):
        item = _mapping(item, f"{path}.{kind}[{i}]")
        if kind == "http":
            words = [str(item.get(k)) for k in ("method", "path", "host") if item.get(k)]
            shown.append(" ".join(words) or "any request")
        elif kind == "dns":
            shown.append(str(item.get("matchName") or item.get("matchPattern") or "?"))
        else:
            words = [f"{k} {item[k]}" for k in ("role", "apiKey", "topic", "clientID") if item.get(k)]
            shown.append(", ".join(words) or "any request")
    more = f" and {len(items) - 4} more" if len(items) > 4 else ""
    label = {"http": "HTTP", "dns": "DNS", "kafka": "Kafka"}[kind]
    return f"{label}: " + "; ".join(shown) + more if shown else f"{label}: none (every request denied)"


def _cilium_cidrs(value: Any, path: str, *, sets: bool) -> list[dict[str, Any]]:
    out = []
    for i, raw in enumerate(_list(value, path)):
        cpath = f"{path}[{i}]"
        if not sets:
            out.append({"cidr": _net(raw, cpath), "except": []})
            continue
        c = _mapping(raw, cpath, required=True)
        if c.get("cidrGroupRef") is not None or c.get("cidrGroupSelector") is not None:
            out.append({"group": str(c.get("cidrGroupRef") or "selector")})
            continue
        if not isinstance(c.get("cidr"), str) or "/" not in c["cidr"]:
            raise _Bad(f"{cpath}.cidr must be a CIDR such as 10.0.0.0/8")
        cidr = _net(c["cidr"], cpath + ".cidr")
        excepts = [_net(e, f"{cpath}.except[{j}]") for j, e in enumerate(_list(c.get("except"), cpath + ".except"))]
        net = ipaddress.ip_network(cidr)
        for e in excepts:
            en = ipaddress.ip_network(e)
            if en.version != net.version or not en.subnet_of(net):  # type: ignore[arg-type]
                raise _Bad(f"{cpath}: allow CIDR prefix {cidr} does not contain exclude CIDR prefix {e}")
        out.append({"cidr": cidr, "except": excepts})
    return out


def _cilium_section(value: Any, path: str, *, ingress: bool, deny: bool) -> list[dict[str, Any]]:
    rules = []
    for i, raw in enumerate(_list(value, path)):
        rpath = f"{path}[{i}]"
        r = _mapping(raw, rpath, required=True)
        out: dict[str, Any] = {}
        side = "from" if ingress else "to"
        for key in (f"{side}Endpoints", f"{side}Requires", f"{side}Nodes"):
            if r.get(key) is not None:
                out[key] = [_cilium_selector(s, f"{rpath}.{key}[{j}]") for j, s in enumerate(_list(r[key], f"{rpath}.{key}"))]
        if r.get(f"{side}Entities") is not None:
            ents = list(_str_list(r[f"{side}Entities"], f"{rpath}.{side}Entities"))
            for e in ents:
                if e not in CILIUM_ENTITIES:
                    raise _Bad(f"{rpath}.{side}Entities: unsupported entity: {e}")
            out[f"{side}Entities"] = ents
        if r.get(f"{side}CIDR") is not None:
            out[f"{side}CIDR"] = _cilium_cidrs(r[f"{side}CIDR"], f"{rpath}.{side}CIDR", sets=False)
        if r.get(f"{side}CIDRSet") is not None:
            out[f"{side}CIDRSet"] = _cilium_cidrs(r[f"{side}CIDRSet"], f"{rpath}.{side}CIDRSet", sets=True)
        if r.get(f"{side}Groups") is not None:
            out[f"{side}Groups"] = len(_list(r[f"{side}Groups"], f"{rpath}.{side}Groups"))
        if not ingress and r.get("toServices") is not None:
            services: list[dict[str, Any]] = []
            for j, svc in enumerate(_list(r["toServices"], f"{rpath}.toServices")):
                spath = f"{rpath}.toServices[{j}]"
                svc = _mapping(svc, spath, required=True)
                if svc.get("k8sService") is not None:
                    ref = _mapping(svc["k8sService"], spath + ".k8sService", required=True)
                    name = _str(ref.get("serviceName"), spath + ".k8sService.serviceName")
                    if not name:
                        raise _Bad(f"{spath}.k8sService.serviceName is required")
                    services.append({"name": name, "namespace": _str(ref.get("namespace"), spath + ".k8sService.namespace")})
                elif svc.get("k8sServiceSelector") is not None:
                    ref = _mapping(svc["k8sServiceSelector"], spath + ".k8sServiceSelector", required=True)
                    sel = _cilium_selector(ref.get("selector"), spath + ".k8sServiceSelector.selector")
                    ns = _str(ref.get("namespace"), spath + ".k8sServiceSelector.namespace")
                    services.append({"selector": sel, "namespace": ns})
                else:
                    raise _Bad(f"{spath} needs k8sService or k8sServiceSelector")
            out["toServices"] = services
        if not ingress and not deny and r.get("toFQDNs") is not None:
            names = []
            for j, f in enumerate(_list(r["toFQDNs"], f"{rpath}.toFQDNs")):
                f = _mapping(f, f"{rpath}.toFQDNs[{j}]", required=True)
                text = _str(f.get("matchName"), f"{rpath}.toFQDNs[{j}].matchName") or _str(
                    f.get("matchPattern"), f"{rpath}.toFQDNs[{j}].matchPattern"
                )
                if not text:
                    raise _Bad(f"{rpath}.toFQDNs[{j}] needs matchName or matchPattern")
                names.append(text)
            out["toFQDNs"] = names
        if not deny:
            # "Combining %s and %s is not supported yet" (rule_validation.go IngressRule/EgressRule sanitize)
            members = [k for k in (_INGRESS_L3 if ingress else _EGRESS_L3) if out.get(k)]
            if len(members) > 1:
                raise _Bad(f"{rpath}: combining {members[0]} and {members[1]} is not supported (one peer kind per rule)")
        if r.get("toPorts") is not None:
            out["toPorts"] = _cilium_ports(r["toPorts"], f"{rpath}.toPorts", ingress=ingress, deny=deny)
            if not ingress and out.get("toServices") and out["toPorts"] and not deny:
                raise _Bad(f"{rpath}: combining toServices and toPorts is not supported")
        if r.get("icmps") is not None:
            out["icmps"] = len(_list(r["icmps"], f"{rpath}.icmps"))
            if out["icmps"] and out.get("toPorts"):
                raise _Bad(f"{rpath}: the icmps block may only be present without toPorts")
        if not deny and r.get("authentication") is not None:
            auth = _mapping(r["authentication"], rpath + ".authentication")
            mode = _str(auth.get("mode"), rpath + ".authentication.mode")
            if mode not in ("disabled", "required", "test-always-fail", None):
                raise _Bad(f"{rpath}.authentication.mode must be disabled or required")
            if mode and mode != "disabled":
                out["authentication"] = mode
        rules.append(out)
    return rules


def _cilium_rule(value: Any, path: str) -> dict[str, Any]:
    r = _mapping(value, path, required=True)
    out: dict[str, Any] = {}
    has_ep, has_node = r.get("endpointSelector") is not None, r.get("nodeSelector") is not None
    if has_ep == has_node:
        # "rule must have one of EndpointSelector or NodeSelector" / "rule cannot have both" (rule_validation.go)
        raise _Bad(f"{path} must have exactly one of endpointSelector and nodeSelector")
    if has_ep:
        out["endpointSelector"] = _cilium_selector(r["endpointSelector"], path + ".endpointSelector")
    else:
        out["nodeSelector"] = _cilium_selector(r["nodeSelector"], path + ".nodeSelector")
    for key, ingress, deny in (("ingress", True, False), ("ingressDeny", True, True), ("egress", False, False),
                               ("egressDeny", False, True)):  # fmt: skip
        if r.get(key) is not None:
            out[key] = _cilium_section(r[key], f"{path}.{key}", ingress=ingress, deny=deny)
    if r.get("enableDefaultDeny") is not None:
        edd = _mapping(r["enableDefaultDeny"], path + ".enableDefaultDeny")
        out["enableDefaultDeny"] = {
            k: _bool(edd[k], f"{path}.enableDefaultDeny.{k}") for k in ("ingress", "egress") if edd.get(k) is not None
        }
    return out


def cilium_policy(kind: str, name: str, namespace: str | None, api_version: str, doc: dict[str, Any], where: str) -> CiliumPolicy:
    """A CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy: ``spec`` and / or ``specs`` (a list of rules), each
    checked as Cilium's own validation does (pkg/policy/api/rule_validation.go)."""
    rules = []
    if doc.get("spec") is not None:
        rules.append(_cilium_rule(doc["spec"], "spec"))
    if doc.get("specs") is not None:
        rules += [_cilium_rule(r, f"specs[{i}]") for i, r in enumerate(_list(doc["specs"], "specs"))]
    if not rules:
        raise _Bad("spec or specs is required")
    return CiliumPolicy(kind=kind, name=name, namespace=namespace, rules=tuple(rules), api_version=api_version, source=where)
