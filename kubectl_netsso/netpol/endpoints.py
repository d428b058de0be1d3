"""Resolve the FROM/TO endpoints of `can-reach` / `paths` the way kubectl resolves names, against a Snapshot.

Forms (kubectl's resource/name conventions, "kubectl get TYPE/NAME"):

    NAME            a pod named NAME in the default namespace, else a workload of that name (any kind)
    TYPE/NAME       TYPE is a kind word (pod/po, deploy/deployment, sts/statefulset, ds/daemonset, rs/replicaset,
                    job, cronjob/cj, rc/replicationcontroller, svc/service; plurals and `deployment.apps` too)
    NS/NAME         when the first part is not a kind word
    NS/TYPE/NAME    always explicit
    ip:ADDRESS      an endpoint outside the cluster (IPv4 or IPv6)
    ip:CIDR         the addresses of a range outside the cluster (ip:203.0.113.0/24): allowed when every address in
                    it is allowed, denied when some is not (pairs.py evaluates one address per distinct sub-range)

A Service is a destination: it stands for its backing pods/workloads, and the requested (Service) port maps to the
Service port's targetPort on each backing pod (a named targetPort resolves per pod). A selector endpoint
(`--from-selector app=web --from-namespace frontend`) is a hypothetical pod with those labels.

Pure: no I/O; errors are NetssoError with one line that a person can act on.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..cluster.snapshot import NAMESPACE_NAME_LABEL, ContainerPort, Namespace, Service, ServicePort, Snapshot, Workload
from ..errors import EXIT_USAGE, NetssoError

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")

# kubectl kind words -> object kind. (kubectl api-resources: SHORTNAMES and NAME columns, plus singular forms.)
KIND_WORDS: dict[str, str] = {}
for _kind, _words in {
    "Pod": ("pod", "pods", "po"),
    "Deployment": ("deployment", "deployments", "deploy", "deployment.apps", "deployments.apps"),
    "StatefulSet": ("statefulset", "statefulsets", "sts", "statefulset.apps", "statefulsets.apps"),
    "DaemonSet": ("daemonset", "daemonsets", "ds", "daemonset.apps", "daemonsets.apps"),
    "ReplicaSet": ("replicaset", "replicasets", "rs", "replicaset.apps", "replicasets.apps"),
    "ReplicationController": ("replicationcontroller", "replicationcontrollers", "rc"),
    "Job": ("job", "jobs", "job.batch", "jobs.batch"),
    "CronJob": ("cronjob", "cronjobs", "cj", "cronjob.batch", "cronjobs.batch"),
    "Service": ("service", "services", "svc"),
}.items():
    for _w in _words:
        KIND_WORDS[_w] = _kind


@dataclass(frozen=True, slots=True)
class Target:
    """One concrete destination/source pod (or workload) of an endpoint, with the port to use on it.

    For a Service destination, ``port`` is the resolved targetPort on this pod (int), or None with ``problem``
    saying why the pod cannot serve the Service port (e.g. named targetPort not defined on it).
    For other endpoints ``port`` is the requested port unchanged (number, name, or None = any port).
    """

    workload: Workload
    port: int | str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved FROM or TO.

    kind: "workload" (pods or workloads of the snapshot), "service", "selector" (hypothetical pod), "ip".
    ref: how output names it: NS/NAME for pods, NS/kind/NAME for workloads, NS/svc/NAME, ip:ADDR, NS/{labels}.
    workloads: the pods/workloads it stands for (a selector endpoint holds one synthetic Workload).
    namespace_labels: labels of the endpoint's namespace (empty for ip endpoints).
    ip: the address, or for ip:CIDR the network in CIDR form (``is_range``).
    """

    kind: str
    ref: str
    namespace: str | None = None
    workloads: tuple[Workload, ...] = ()
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    service: Service | None = None
    ip: str | None = None

    @property
    def is_external(self) -> bool:
        return self.kind == "ip"

    @property
    def is_range(self) -> bool:
        """ip:CIDR with more than one address."""
        return self.ip is not None and "/" in self.ip


def parse_labels(text: str) -> dict[str, str]:
    """`app=web,tier=front` -> dict; `key==value` accepted as in kubectl -l; anything else is an error."""
    labels: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "!=" in part or "=" not in part:
            raise NetssoError(
                f"invalid label selector {text!r}: expected key=value[,key=value...]",
                hint="a hypothetical pod needs exact labels, e.g. --from-selector app=web,tier=front",
                exit_code=EXIT_USAGE,
            )
        key, _, value = part.partition("==") if "==" in part else part.partition("=")
        key, value = key.strip(), value.strip()
        if not key:
            raise NetssoError(f"invalid label selector {text!r}: empty key", exit_code=EXIT_USAGE)
        labels[key] = value
    if not labels:
        raise NetssoError(f"invalid label selector {text!r}: no labels", exit_code=EXIT_USAGE)
    return labels


def namespace_labels(snapshot: Snapshot, namespace: str) -> dict[str, str]:
    """The namespace's labels; a namespace absent from the snapshot still has its automatic name label.

    "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces"
    (kubernetes.io, Network Policies, "Targeting a Namespace by its name").
    """
    ns = snapshot.namespace(namespace)
    labels = dict(ns.labels) if ns is not None else {}
    labels.setdefault(NAMESPACE_NAME_LABEL, namespace)
    return labels


def selector_endpoint(snapshot: Snapshot, labels: Mapping[str, str], namespace: str) -> Endpoint:
    """A hypothetical pod with these labels in namespace (it need not exist; the namespace need not either)."""
    if not _NAME.fullmatch(namespace):
        raise NetssoError(
            f"invalid namespace {namespace!r}",
            hint="namespace names are lower-case letters, digits and '-'",
            exit_code=EXIT_USAGE,
        )
    shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pod = Workload(namespace=namespace, name=f"{{{shown}}}", kind="Pod", labels=dict(labels), source="--selector")
    return Endpoint(
        kind="selector",
        ref=f"{namespace}/{{{shown}}}",
        namespace=namespace,
        workloads=(pod,),
        namespace_labels=namespace_labels(snapshot, namespace),
    )


def resolve_endpoint(snapshot: Snapshot, text: str, default_namespace: str, *, role: str = "endpoint") -> Endpoint:
    """Resolve FROM/TO text against the snapshot (see module docstring). role ("source"/"destination") is for errors.

    Raises NetssoError (exit 3) when nothing matches or the name is ambiguous.
    """
    text = text.strip()
    if not text:
        raise NetssoError(f"empty {role}", hint="give NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME or ip:ADDRESS", exit_code=EXIT_USAGE)
    if text.lower().startswith("ip:"):
        return ip_endpoint(text[3:])
    namespace, kind, name = split_endpoint(text, default_namespace, role=role)
    if kind == "Service":
        return _service_endpoint(snapshot, namespace, name, role)
    return _workload_endpoint(snapshot, namespace, kind, name, role, text)


def split_endpoint(text: str, default_namespace: str, *, role: str = "endpoint") -> tuple[str, str | None, str]:
    """Parse (no snapshot needed) NAME | TYPE/NAME | NS/NAME | NS/TYPE/NAME -> (namespace, Kind or None, name).

    Lets a live command know which namespaces to read before resolving. Not for ip: endpoints.
    """
    parts = text.strip().split("/")
    if any(not p for p in parts) or len(parts) > 3:
        raise NetssoError(
            f"cannot parse {role} {text!r}",
            hint="give NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME or ip:ADDRESS",
            exit_code=EXIT_USAGE,
        )
    for part in (*parts, default_namespace):
        # object names are DNS subdomains / labels ("[a-z0-9]([-a-z0-9.]*[a-z0-9])?", kubernetes.io "Object Names and IDs");
        # kind words may be mixed case (kubectl is case-insensitive there)
        if not _NAME.fullmatch(part):
            raise NetssoError(
                f"cannot parse {role} {text!r}: {part!r} is not a valid name",
                hint="names are lower-case letters, digits, '-' and '.'; give NAME, TYPE/NAME, NS/NAME or NS/TYPE/NAME",
                exit_code=EXIT_USAGE,
            )
    namespace = default_namespace
    kind: str | None = None
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        first, name = parts
        if first.lower() in KIND_WORDS:
            kind = KIND_WORDS[first.lower()]
        else:
            namespace = first
    else:
        namespace, kind_word, name = parts
        if kind_word.lower() not in KIND_WORDS:
            raise NetssoError(
                f"unknown resource type {kind_word!r} in {role} {text!r}",
                hint="types: pod, deploy, sts, ds, rs, rc, job, cronjob, svc (or their long names)",
                exit_code=EXIT_USAGE,
            )
        kind = KIND_WORDS[kind_word.lower()]
    return namespace, kind, name


def ip_endpoint(address: str) -> Endpoint:
    """`ip:ADDRESS` (a host outside the cluster) or `ip:CIDR` (every address of a range; a /32 or /128 is one host).

    Host bits of a CIDR are dropped (203.0.113.9/24 is 203.0.113.0/24): whoever writes it means the range.
    """
    text = address.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            if net.num_addresses > 1:
                return Endpoint(kind="ip", ref=f"ip:{net}", ip=str(net))
            ip = str(net.network_address)
        else:
            ip = str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise NetssoError(
            f"invalid IP address or CIDR {address!r}",
            hint="e.g. ip:203.0.113.7, ip:203.0.113.0/24 or ip:2001:db8::1",
            exit_code=EXIT_USAGE,
        ) from None
    return Endpoint(kind="ip", ref=f"ip:{ip}", ip=ip)


def _workload_endpoint(
    snapshot: Snapshot, namespace: str, kind: str | None, name: str, role: str, text: str
) -> Endpoint:
    in_ns = [w for w in snapshot.workloads if w.namespace == namespace]
    found: list[Workload] = []
    resolved_kind = kind
    if kind is None or kind == "Pod":
        found = [w for w in in_ns if w.kind == "Pod" and w.name == name]
        resolved_kind = "Pod"
        if not found and kind is None:
            # kubectl resolves a bare NAME as a pod; we also accept a workload of that name ("any pod of it").
            kinds = sorted({w.kind for w in in_ns if w.kind != "Pod" and w.name == name})
            kinds += sorted({o.split("/", 1)[0] for o in _owners(in_ns, name)} - set(kinds))
            if len(kinds) > 1:
                raise NetssoError(
                    f"{role} {text!r} is ambiguous in namespace {namespace}: "
                    + ", ".join(f"{k.lower()}/{name}" for k in kinds),
                    hint=f"name the type, e.g. {shlex.quote(kinds[0].lower() + '/' + name)}",
                    exit_code=EXIT_USAGE,
                )
            if kinds:
                resolved_kind = kinds[0]
                found = _members(in_ns, kinds[0], name)
    else:
        found = _members(in_ns, kind, name)
    if not found:
        what = f"{kind.lower()}/{name}" if kind else name
        known = {n.name for n in snapshot.namespaces} | {w.namespace for w in snapshot.workloads}
        elsewhere = sorted({w.namespace for w in snapshot.workloads if w.name == name and (kind in (None, w.kind))})
        if elsewhere:
            hint = (
                f"{what} exists in namespace {elsewhere[0]}: use {shlex.quote(elsewhere[0] + '/' + what)}"
                f" or -n {shlex.quote(elsewhere[0])}"
            )
        elif namespace not in known:
            hint = f"namespace {namespace!r} is not in the snapshot; give NS/NAME or -n NS"
        else:
            similar = sorted({w.name for w in in_ns if name in w.name or w.name in name})[:5]
            paths_cmd = f"see: kubectl netsso paths -n {shlex.quote(namespace)}"
            hint = ("similar names here: " + ", ".join(similar)) if similar else paths_cmd
        raise NetssoError(f"{role} {what} not found in namespace {namespace}", hint=hint)
    ref = f"{namespace}/{name}" if resolved_kind == "Pod" else f"{namespace}/{(resolved_kind or 'pod').lower()}/{name}"
    return Endpoint(
        kind="workload",
        ref=ref,
        namespace=namespace,
        workloads=tuple(found),
        namespace_labels=namespace_labels(snapshot, namespace),
    )


def _owners(workloads: Sequence[Workload], name: str) -> set[str]:
    """Owner references of live pods ("Deployment/api") matching name (ReplicaSet api-<hash> counts as api)."""
    out: set[str] = set()
    for w in workloads:
        if w.kind == "Pod" and w.owner:
            okind, _, oname = w.owner.partition("/")
            if oname == name:
                out.add(f"{okind}/{oname}")
            elif okind == "ReplicaSet" and oname.rsplit("-", 1)[0] == name:
                out.add(f"Deployment/{name}")
    return out


def _members(workloads: Sequence[Workload], kind: str, name: str) -> list[Workload]:
    """A workload object of that kind and name, else the live pods it owns."""
    direct = [w for w in workloads if w.kind == kind and w.name == name]
    if direct:
        return direct
    pods = []
    for w in workloads:
        if w.kind != "Pod" or not w.owner:
            continue
        okind, _, oname = w.owner.partition("/")
        if (okind == kind and oname == name) or (
            kind == "Deployment" and okind == "ReplicaSet" and oname.rsplit("-", 1)[0] == name
        ):
            pods.append(w)
    return pods


def _service_endpoint(snapshot: Snapshot, namespace: str, name: str, role: str) -> Endpoint:
    svc = next((s for s in snapshot.services if s.namespace == namespace and s.name == name), None)
    if svc is None:
        raise NetssoError(
            f"{role} service/{name} not found in namespace {namespace}",
            hint="services here: " + (", ".join(sorted(s.name for s in snapshot.services if s.namespace == namespace)) or "none"),
        )
    if role == "source":
        raise NetssoError(
            f"service/{name} cannot be a source: traffic comes from pods",
            hint=f"use the workload behind it, e.g. {namespace}/deploy/NAME",
            exit_code=EXIT_USAGE,
        )
    if svc.selector is None:
        raise NetssoError(
            f"service/{name} in namespace {namespace} has no selector: its endpoints are managed outside the cluster objects",
            hint="name the backing pods or ip:ADDRESS directly",
        )
    backing = tuple(w for w in backing_workloads(snapshot, svc) if not _shadowed(w, snapshot))
    if not backing:
        raise NetssoError(
            f"service/{name} in namespace {namespace} selects no pods (selector "
            + ",".join(f"{k}={v}" for k, v in sorted(svc.selector.items()))
            + ")",
            hint="check the Service selector against the pod template labels",
        )
    return Endpoint(
        kind="service",
        ref=f"{namespace}/svc/{name}",
        namespace=namespace,
        workloads=backing,
        namespace_labels=namespace_labels(snapshot, namespace),
        service=svc,
    )


def _shadowed(w: Workload, snapshot: Snapshot) -> bool:
    """Never hide anything: kept as a hook (all selected pods/workloads back the Service)."""
    return False


def backing_workloads(snapshot: Snapshot, svc: Service) -> list[Workload]:
    """Pods/workloads in the Service's namespace whose labels include every selector pair.

    "The set of Pods targeted by a Service is usually determined by a selector" (kubernetes.io, Service);
    a Service selector is an equality-based map (all pairs must match).
    """
    if not svc.selector:
        return []  # an empty selector map selects nothing for a Service (endpoints controller skips it)
    sel = svc.selector.items()
    return [
        w for w in snapshot.workloads if w.namespace == svc.namespace and all(w.labels.get(k) == v for k, v in sel)
    ]


def service_port(svc: Service, port: int | str | None, protocol: str | None) -> ServicePort:
    """The Service port addressed by --port (a Service port number or port name) and --protocol.

    Without --port, a Service with exactly one port (for the protocol) uses it.
    """
    candidates = [sp for sp in svc.ports if protocol is None or sp.protocol.upper() == protocol.upper()]
    if port is None:
        if len(candidates) == 1:
            return candidates[0]
        listing = ", ".join(_sp_text(sp) for sp in svc.ports) or "none"
        raise NetssoError(
            f"service/{svc.name} has {len(candidates) or 'no'} port(s) for this protocol; say which with --port",
            hint=f"service ports: {listing}",
            exit_code=EXIT_USAGE,
        )
    for sp in candidates:
        if (isinstance(port, int) and sp.port == port) or (isinstance(port, str) and sp.name == port):
            return sp
    listing = ", ".join(_sp_text(sp) for sp in svc.ports) or "none"
    raise NetssoError(
        f"service/{svc.name} in namespace {svc.namespace} has no port {port}"
        + (f"/{protocol.upper()}" if protocol else ""),
        hint=f"--port is the Service port with a Service; its ports: {listing}",
        exit_code=EXIT_USAGE,
    )


def _sp_text(sp: ServicePort) -> str:
    name = f" ({sp.name})" if sp.name else ""
    return f"{sp.port}/{sp.protocol}{name} -> {sp.target_port}"


def policy_port(sp: ServicePort) -> int | str:
    """The port a NetworkPolicy sees for a Service port: its targetPort as written ("8080" is a number; a name stays a
    name, resolved per pod as the API does)."""
    tp = sp.target_port
    return int(tp) if isinstance(tp, str) and tp.isdigit() else tp


def resolve_target_port(workload: Workload, sp: ServicePort) -> tuple[int | None, str | None]:
    """Service targetPort on one backing pod: (port, None) or (None, why it cannot be resolved).

    "targetPort: ... Number or name of the port to access on the pods targeted by the service. ... If this is a
    string, it will be looked up as a named port in the target Pod's container ports." (core/v1 ServicePort)
    """
    tp = policy_port(sp)
    if isinstance(tp, int):
        return tp, None
    for cp in workload.ports:
        if cp.name == tp and cp.protocol.upper() == sp.protocol.upper():
            return cp.port, None
    return None, f"named targetPort {tp!r} ({sp.protocol}) is not a container port of {workload.ref}"


def targets(endpoint: Endpoint, port: int | str | None, protocol: str | None) -> tuple[list[Target], ServicePort | None]:
    """The concrete pods/workloads of an endpoint with the port to evaluate on each.

    For a Service: port/protocol address the Service port; each backing pod gets its resolved targetPort.
    For anything else the port is passed through (named ports are resolved by the engine on the destination).
    """
    if endpoint.service is not None:
        sp = service_port(endpoint.service, port, protocol)
        out = []
        for w in endpoint.workloads:
            number, problem = resolve_target_port(w, sp)
            out.append(Target(workload=w, port=number, problem=problem))
        # A pod without the named targetPort is not an endpoint of that Service port: the EndpointSlice controller
        # skips it ("Failed to find port for service", k8s.io/endpointslice utils.go getEndpointPorts), so traffic
        # to the Service never lands there. Only when no backend defines it does the problem decide the answer.
        serving = [t for t in out if t.problem is None]
        return (serving or out), sp
    return [Target(workload=w, port=port) for w in endpoint.workloads], None


def parse_port(text: str | None) -> int | str | None:
    """--port: a number 1-65535 or an IANA_SVC_NAME (a named port)."""
    if text is None:
        return None
    text = text.strip()
    if not text:  # `--port "$PORT"` with PORT unset must not silently mean "every port"
        raise NetssoError("invalid port '': a number 1-65535 or a port name (IANA_SVC_NAME)", exit_code=EXIT_USAGE)
    if text.isascii() and text.isdigit():
        n = int(text)
        if not 1 <= n <= 65535:
            raise NetssoError(f"invalid port {text}: must be 1-65535", exit_code=EXIT_USAGE)
        return n
    # IANA_SVC_NAME: at most 15 chars, lower-case alphanumerics and '-', at least one letter (core/v1 ContainerPort.name)
    valid = text.isascii() and all(c.isalnum() or c == "-" for c in text) and any(c.isalpha() for c in text)
    if len(text) > 15 or not valid:
        raise NetssoError(f"invalid port {text!r}: a number 1-65535 or a port name (IANA_SVC_NAME)", exit_code=EXIT_USAGE)
    return text.lower()


PROTOCOLS = ("TCP", "UDP", "SCTP")

__all__ = [
    "KIND_WORDS",
    "PROTOCOLS",
    "ContainerPort",
    "Endpoint",
    "Namespace",
    "Target",
    "backing_workloads",
    "ip_endpoint",
    "namespace_labels",
    "parse_labels",
    "parse_port",
    "policy_port",
    "resolve_endpoint",
    "resolve_target_port",
    "selector_endpoint",
    "split_endpoint",
    "service_port",
    "targets",
]
