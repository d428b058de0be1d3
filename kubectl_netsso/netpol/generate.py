"""Ready-to-apply NetworkPolicy objects: default deny (optionally with DNS egress) and minimal allows for one flow.

Used by ``kubectl netsso policy`` and by the explanation of a denied ``can-reach`` (its fix snippet).
Pure: builds plain dicts (the API object shape); ``to_yaml`` only formats them.

Public API
----------
``default_deny(namespace, allow_dns=False, *, ingress=True, egress=True) -> list[dict]``
    A policy selecting every pod of the namespace with ``policyTypes`` [Ingress, Egress] (or only the one direction
    asked for) and no rules, plus (with ``allow_dns``, egress only) the ``allow_dns_egress`` policy.
``allow_dns_egress(namespace, pod_labels=None) -> list[dict]``
    Only DNS: egress from those pods (every pod without labels) to the kube-dns pods in kube-system on 53/UDP+TCP.
``allow_flow(src_namespace, src_labels, dst_namespace, dst_labels, port, protocol, src_external_cidr=None,
sides=("ingress", "egress"), dst_external_cidr=None) -> list[dict]``
    The minimal policies that open one flow on top of a default deny: an Ingress policy in the destination
    namespace selecting the destination labels, and an Egress policy in the source namespace selecting the source
    labels. An external source (``src_external_cidr``) gets only the ingress side; an external destination
    (``dst_external_cidr``) only the egress side.
``allow_endpoints(snapshot, src, dst, port, protocol, sides) -> list[dict]``
    ``allow_flow`` for FROM/TO endpoints as can-reach resolves them: what ``policy allow`` prints and what can-reach
    (and audit --expect) suggest as the fix, so one flow always gets one policy, with one name.
``to_yaml(objs) -> str``
    Multi-document YAML (``---`` between documents), keys in API order, deterministic.

Names are deterministic (same arguments, same names) and valid DNS-1123 labels (<= 63 characters), so applying
the output twice is idempotent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..cluster.snapshot import NAMESPACE_NAME_LABEL, Snapshot
from ..errors import NetssoError
from .endpoints import Endpoint, policy_port, service_port

API_VERSION = "networking.k8s.io/v1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubectl-netsso"}
PROTOCOLS = ("TCP", "UDP", "SCTP")

# The cluster DNS pods: kubeadm, kind, k3s, GKE, EKS and AKS all label CoreDNS / kube-dns pods k8s-app=kube-dns
# in kube-system (kubernetes/kubernetes cluster/addons/dns/coredns: "k8s-app: kube-dns").
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
DNS_PORT = 53

_MAX_NAME = 63


class PolicyInputError(NetssoError, ValueError):
    """Bad input for a generated policy (namespace, port, protocol, CIDR); exit code 3 through the CLI."""

_NON_NAME = re.compile(r"[^a-z0-9-]+")


def default_deny(
    namespace: str, allow_dns: bool = False, *, ingress: bool = True, egress: bool = True
) -> list[dict[str, Any]]:
    """Deny all ingress and/or egress for every pod in ``namespace``; with ``allow_dns`` keep DNS lookups working.

    "You can create a 'default' policy for a namespace which prevents all ingress AND egress traffic by creating
    the following NetworkPolicy in that namespace" (podSelector: {}, policyTypes: [Ingress, Egress]) -- Kubernetes
    docs, Network Policies, "Default deny all ingress and all egress traffic"; one direction alone is the "Default
    deny all ingress traffic" / "... egress traffic" policy (policyTypes [Ingress] / [Egress]), which leaves the
    other direction as it is. Names: default-deny-all, default-deny-ingress, default-deny-egress.
    """
    _check_name(namespace, "namespace")
    if not (ingress or egress):
        raise PolicyInputError("a default deny needs a direction: ingress, egress or both")
    if allow_dns and not egress:
        raise PolicyInputError("DNS needs an egress allow only where egress is denied: --allow-dns goes with egress")
    types = [t for t, on in (("Ingress", ingress), ("Egress", egress)) if on]
    name = "default-deny-all" if len(types) == 2 else f"default-deny-{types[0].lower()}"
    what = " and ".join(t.lower() for t in types)
    objs: list[dict[str, Any]] = [
        _policy(name, namespace, {"podSelector": {}, "policyTypes": types}, f"deny all {what} for every pod in the namespace")
    ]
    if allow_dns:
        objs += allow_dns_egress(namespace)
    return objs


def allow_dns_egress(namespace: str, pod_labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Only DNS: egress from the pods with ``pod_labels`` (None/empty: every pod) in ``namespace`` to the kube-dns pods
    in kube-system on 53/UDP and 53/TCP.

    Mind what it selects: a policy with Egress in policyTypes isolates the pods it selects for egress, so pods that
    were open for egress until now would keep only DNS ("a pod is isolated for egress if there is any NetworkPolicy
    that both selects the pod and has Egress in its policyTypes", kubernetes.io, Network Policies). Give the labels of
    the pods that are already egress-isolated when others in the namespace are not.
    """
    _check_name(namespace, "namespace")
    labels = dict(pod_labels or {})
    key = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    name = _label_name(f"allow-dns-egress-{_labels_slug(labels)}", f"dns|{key}") if labels else "allow-dns-egress"
    # One peer with namespaceSelector AND podSelector: "the kube-dns pods in kube-system", not "any pod in
    # kube-system or any kube-dns pod anywhere" (docs, "Behavior of to and from selectors").
    who = f" from pods {_labels_text(labels)}" if labels else ""
    return [
        _policy(
            name,
            namespace,
            {
                "podSelector": _selector(labels),
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}},
                                "podSelector": {"matchLabels": dict(DNS_POD_LABELS)},
                            }
                        ],
                        "ports": [
                            {"protocol": "UDP", "port": DNS_PORT},
                            {"protocol": "TCP", "port": DNS_PORT},
                        ],
                    }
                ],
            },
            f"allow DNS lookups{who}: egress to {DNS_NAMESPACE} pods {_labels_text(DNS_POD_LABELS)} on 53/UDP and 53/TCP",
        )
    ]


def allow_flow(
    src_namespace: str | None,
    src_labels: Mapping[str, str] | None,
    dst_namespace: str | None,
    dst_labels: Mapping[str, str] | None,
    port: int | str | None,
    protocol: str = "TCP",
    src_external_cidr: str | None = None,
    sides: Sequence[str] = ("ingress", "egress"),
    dst_external_cidr: str | None = None,
) -> list[dict[str, Any]]:
    """The minimal NetworkPolicies that allow one flow (src -> dst on port/protocol) on top of a default deny.

    - ingress side: a policy in ``dst_namespace`` whose podSelector is ``dst_labels`` with one ingress rule from
      the source (namespaceSelector AND podSelector in one peer; podSelector alone when both are in the same
      namespace, since "podSelector ... selects particular Pods in the same namespace as the NetworkPolicy"), or
      from ``ipBlock: {cidr: src_external_cidr}`` for an external source;
    - egress side: a policy in ``src_namespace`` whose podSelector is ``src_labels`` with one egress rule to the
      destination, or to ``ipBlock: {cidr: dst_external_cidr}`` for an external destination.

    ``port`` is a number, a named port (resolved on the destination pod, as the API does for both sides) or None
    for every port of ``protocol``. Labels None or empty select every pod of the namespace. A side that does not
    apply (ingress to an external destination, egress from an external source) is left out.
    """
    protocol = (protocol or "TCP").upper()
    if protocol not in PROTOCOLS:
        raise PolicyInputError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    port = _check_port(port)
    wanted = {s.lower() for s in sides}
    unknown = wanted - {"ingress", "egress"}
    if unknown:
        raise PolicyInputError(f"sides must be 'ingress' and/or 'egress', not {sorted(unknown)}")
    src_cidr = _check_cidr(src_external_cidr) if src_external_cidr else None
    dst_cidr = _check_cidr(dst_external_cidr) if dst_external_cidr else None
    if src_cidr is None:
        _check_name(src_namespace, "source namespace")
    if dst_cidr is None:
        _check_name(dst_namespace, "destination namespace")
    src_sel = dict(src_labels or {})
    dst_sel = dict(dst_labels or {})

    port_entry: dict[str, Any] = {"protocol": protocol}
    if port is not None:
        port_entry["port"] = port
    port_text = f"{port if port is not None else 'all ports'}/{protocol}"
    src_text = src_cidr if src_cidr else f"{src_namespace} pods {_labels_text(src_sel)}"
    dst_text = dst_cidr if dst_cidr else f"{dst_namespace} pods {_labels_text(dst_sel)}"
    flow_text = f"{src_text} -> {dst_text} on {port_text}"
    src_slug = f"cidr-{src_cidr}" if src_cidr else f"{src_namespace}-{_labels_slug(src_sel)}"
    dst_slug = f"cidr-{dst_cidr}" if dst_cidr else f"{dst_namespace}-{_labels_slug(dst_sel)}"
    key = f"{src_slug}|{dst_slug}|{port}|{protocol}"

    objs: list[dict[str, Any]] = []
    if "ingress" in wanted and dst_cidr is None:
        assert dst_namespace is not None
        peer: dict[str, Any]
        if src_cidr:
            peer = {"ipBlock": {"cidr": src_cidr}}
        elif src_namespace == dst_namespace:
            peer = {"podSelector": _selector(src_sel)}
        else:
            peer = {
                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: src_namespace}},
                "podSelector": _selector(src_sel),
            }
        objs.append(
            _policy(
                _name(f"allow-{_labels_slug(dst_sel)}-from", src_slug, port, protocol, key + "|ingress"),
                dst_namespace,
                {
                    "podSelector": _selector(dst_sel),
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [peer], "ports": [port_entry]}],
                },
                f"ingress side of {flow_text}",
            )
        )
    if "egress" in wanted and src_cidr is None:
        assert src_namespace is not None
        if dst_cidr:
            peer = {"ipBlock": {"cidr": dst_cidr}}
        elif src_namespace == dst_namespace:
            peer = {"podSelector": _selector(dst_sel)}
        else:
            peer = {
                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: dst_namespace}},
                "podSelector": _selector(dst_sel),
            }
        objs.append(
            _policy(
                _name(f"allow-{_labels_slug(src_sel)}-to", dst_slug, port, protocol, key + "|egress"),
                src_namespace,
                {
                    "podSelector": _selector(src_sel),
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [peer], "ports": [dict(port_entry)]}],
                },
                f"egress side of {flow_text}",
            )
        )
    return objs


def allow_endpoints(
    snapshot: Snapshot,
    src: Endpoint,
    dst: Endpoint,
    port: int | str | None,
    protocol: str = "TCP",
    sides: Sequence[str] = ("ingress", "egress"),
) -> list[dict[str, Any]]:
    """The policies that allow FROM -> TO as can-reach resolves them: ``policy allow`` prints these, and can-reach's
    fix is the same call (one generator, so one flow always gets one policy name).

    A Service destination becomes its selector and the Service port's targetPort as written (a name stays a name:
    policies see pod ports, and a named targetPort resolves per pod as the API does); a workload its identifying
    labels (``endpoint_labels``); ip:ADDRESS / ip:CIDR an ipBlock; a hostNetwork workload its IP as an ipBlock
    (selectors do not match hostNetwork pods). Raises PolicyInputError when a hostNetwork pod's IP is unknown.
    """
    protocol = (protocol or "TCP").upper()
    dst_port: int | str | None = port
    if dst.service is not None:
        sp = service_port(dst.service, port, protocol)
        dst_port = policy_port(sp)
        protocol = sp.protocol.upper()
    cidrs = [_endpoint_cidr(e) for e in (src, dst)]
    return allow_flow(
        src.namespace,
        None if cidrs[0] else endpoint_labels(snapshot, src),
        dst.namespace,
        None if cidrs[1] else endpoint_labels(snapshot, dst),
        dst_port,
        protocol,
        src_external_cidr=cidrs[0],
        sides=sides,
        dst_external_cidr=cidrs[1],
    )


def _endpoint_cidr(ep: Endpoint) -> str | None:
    if ep.is_external:
        return ep.ip
    hostnet = [w for w in ep.workloads if w.host_network]
    if not hostnet or len(hostnet) != len(ep.workloads):
        return None
    # "most plugins ignore them in podSelector/namespaceSelector and treat them as the node IP" (kubernetes.io,
    # NetworkPolicy and hostNetwork pods): only an ipBlock of their address matches them
    ips = [ip for w in hostnet for ip in w.ips]
    if not ips:
        raise PolicyInputError(
            f"{ep.ref} is a hostNetwork pod: pod and namespace selectors do not match it; allow its node's IP with an "
            "ipBlock instead (the IP is not known here)"
        )
    addr = ipaddress.ip_address(ips[0])
    return f"{addr}/{32 if addr.version == 4 else 128}"


# Labels that identify an app, in the order kubectl/helm conventions use them; hashes are per-revision noise.
_PREFERRED_KEYS = ("app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/instance", "component")
_NOISE_KEYS = (
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
    "pod-template-generation",
    "apps.kubernetes.io/pod-index",
)


def endpoint_labels(snapshot: Snapshot, endpoint: Endpoint) -> dict[str, str] | None:
    """The smallest label set that selects exactly the endpoint's pods in its namespace (for a generated policy).

    Services use their selector; hypothetical pods their labels; workloads the labels all their pods share,
    reduced to one identifying label when one is unique in the namespace.
    """
    if endpoint.is_external:
        return None
    if endpoint.service is not None and endpoint.service.selector:
        return dict(endpoint.service.selector)
    pods = endpoint.workloads
    if not pods:
        return {}
    common: dict[str, str] = {k: v for k, v in pods[0].labels.items() if k not in _NOISE_KEYS}
    for w in pods[1:]:
        common = {k: v for k, v in common.items() if w.labels.get(k) == v}
    if endpoint.kind == "selector" or not common:
        return common
    mine = {id(w) for w in pods}
    others = [w for w in snapshot.workloads if w.namespace == endpoint.namespace and id(w) not in mine]
    keys = [k for k in _PREFERRED_KEYS if k in common] + sorted(k for k in common if k not in _PREFERRED_KEYS)
    for key in keys:
        if not any(o.labels.get(key) == common[key] for o in others):
            return {key: common[key]}
    return common


def to_yaml(objs: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML: one document per object, ``---`` between them, keys in API order."""
    from ..output.yaml import to_yaml_documents

    return to_yaml_documents(_plain(o) for o in objs)


# --- helpers ---------------------------------------------------------------------------------------------------


def _policy(name: str, namespace: str, spec: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(MANAGED_BY),
            "annotations": {"netsso.io/description": description},
        },
        "spec": spec,
    }


def _selector(labels: Mapping[str, str]) -> dict[str, Any]:
    # An empty selector ({}) selects every pod (types.go: "An empty podSelector selects all pods").
    return {"matchLabels": dict(sorted(labels.items()))} if labels else {}


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "(all)"


def _labels_slug(labels: Mapping[str, str]) -> str:
    if not labels:
        return "all"
    # The values say most about a pod (app=api -> "api"); keys only when values alone would be empty.
    return "-".join(v or k.rsplit("/", 1)[-1] for k, v in sorted(labels.items()))


def _name(prefix: str, slug: str, port: int | str | None, protocol: str, key: str) -> str:
    """A DNS-1123 label: prefix-slug-port[-proto], shortened with a stable hash when too long."""
    suffix = str(port) if port is not None else "all"
    if protocol != "TCP":
        suffix += "-" + protocol.lower()
    return _label_name(f"{prefix}-{slug}-{suffix}", key)


def _label_name(text: str, key: str) -> str:
    """text as a DNS-1123 label; a stable hash of key keeps it unique when characters were dropped or it was cut."""
    raw = text.lower()
    name = _NON_NAME.sub("-", raw.replace(".", "-").replace("/", "-"))
    name = re.sub(r"-{2,}", "-", name).strip("-")
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    if len(name) > _MAX_NAME or name != raw:
        # Shorten, and disambiguate names that lost characters (e.g. "a.b" and "a-b" would collide).
        name = name[: _MAX_NAME - 9].rstrip("-") + "-" + digest
    return name


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _check_name(value: str | None, what: str) -> None:
    if not value or len(value) > _MAX_NAME or not _DNS_LABEL.match(value):
        raise PolicyInputError(f"{what} {value!r} is not a valid namespace name (DNS-1123 label)")


def _check_port(port: int | str | None) -> int | str | None:
    if port is None or port == "":
        return None
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        number = int(port)
        if not 1 <= number <= 65535:
            raise PolicyInputError(f"port {number} is out of range 1-65535")
        return number
    # A named port is an IANA_SVC_NAME: at most 15 characters, lower-case letters, digits and '-'.
    if not re.match(r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$", port) or not re.search(r"[a-z]", port):
        raise PolicyInputError(f"port {port!r} is neither a number nor a valid port name")
    return port


def _check_cidr(cidr: str) -> str:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise PolicyInputError(f"{cidr!r} is not an IP address or CIDR") from None
    return str(net)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
