"""API object dict -> snapshot records: the one strict decoder, for manifests, the live API server and the packaged
default roles alike, so an object means the same whatever its source.

Every object is checked field by field (fields.py) before it reaches a record, so the engines never see garbage. An
object the API server would reject is left out with a warning naming where it came from, the document and the reason
(it can never exist in a cluster, so no answer may depend on it). Which kinds are read, and by which function, is the
table DECODERS: one row per (API group, kind), one self-contained decoder function per kind.

Long because: the DECODERS table and one decoder per kind are read together (the NetworkPolicy/ANP specs are apart in
netpol_decode.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import log
from . import policykinds
from .fields import (
    InvalidField,
    ObjectRef,
    as_bool,
    as_labels,
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
    one_line,
    type_name,
)
from .netpol_decode import decode_admin_network_policy, decode_network_policy
from .snapshot import (
    NAMESPACE_NAME_LABEL,
    AdminNetworkPolicy,
    CalicoHostEndpoint,
    CalicoNetworkSet,
    CalicoPolicy,
    CalicoTier,
    CiliumPolicy,
    ContainerPort,
    InvalidObject,
    Namespace,
    NetworkPolicy,
    Node,
    PolicyRule,
    Role,
    RoleBinding,
    Service,
    ServiceAccount,
    ServicePort,
    Snapshot,
    Subject,
    UnevaluatedPolicy,
    Workload,
)

__all__ = ["Record", "Decoder", "KindDecoder", "DECODERS", "SnapshotBuilder", "snapshot_from_objects"]

Record = (
    Namespace | Workload | Node | Service | NetworkPolicy | AdminNetworkPolicy | Role | RoleBinding | ServiceAccount
    | UnevaluatedPolicy | CalicoPolicy | CalicoTier | CalicoNetworkSet | CalicoHostEndpoint | CiliumPolicy
)
Decoder = Callable[[ObjectRef, dict[str, Any]], Record]


def snapshot_from_objects(docs: Iterable[tuple[str, Any]], source: str = "") -> Snapshot:
    """A Snapshot from (location, object) pairs: parsed manifests, the packaged default roles, plain dicts in tests."""
    builder = SnapshotBuilder()
    for where, doc in docs:
        builder.add_document(where, doc)
    return builder.build(source)


# ---------------------------------------------------------------------------------------------------------------
# One decoder per kind: (what every object has, the object) -> its record; InvalidField when a field is malformed


def decode_namespace(ref: ObjectRef, doc: dict[str, Any]) -> Namespace:
    # "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces.
    # The value of the label is the namespace name." (Namespaces docs, Automatic labelling)
    labels = ref.labels
    labels[NAMESPACE_NAME_LABEL] = ref.name
    return Namespace(name=ref.name, labels=labels, defined=True)


def decode_workload(ref: ObjectRef, doc: dict[str, Any]) -> Workload:
    """A Pod, or a workload standing for any pod of its template (Deployment, StatefulSet, CronJob, ...)."""
    assert ref.namespace is not None
    kind = ref.kind
    spec = as_mapping(doc.get("spec"), "spec", required=True)
    if kind == "Pod":
        pod_labels, pod_spec, base = ref.labels, spec, "spec"
    else:
        meta, pod_spec, base = _pod_template(kind, spec)
        pod_labels = as_labels(meta.get("labels"), base[: -len(".spec")] + ".metadata.labels")
    # serviceAccountName: "Defaults to 'default'" (the ServiceAccount admission controller sets it);
    # serviceAccount is its deprecated alias.
    sa = as_str(pod_spec.get("serviceAccountName"), base + ".serviceAccountName") or as_str(
        pod_spec.get("serviceAccount"), base + ".serviceAccount"
    )
    ips: tuple[str, ...] = ()
    node: str | None = None
    host_ips: tuple[str, ...] = ()
    if kind == "Pod":
        ips = _pod_ips(doc.get("status"))
        node = as_str(pod_spec.get("nodeName"), "spec.nodeName") or None
        host_ips = _pod_ips(doc.get("status"), "host")
    return Workload(
        namespace=ref.namespace,
        name=ref.name,
        kind=kind,
        labels=pod_labels,
        ports=_container_ports(pod_spec, base),
        ips=ips,
        host_network=as_bool(pod_spec.get("hostNetwork"), base + ".hostNetwork"),
        owner=None,
        service_account=sa or "default",
        source=ref.where,
        node=node,
        host_ips=host_ips,
    )


def decode_role(ref: ObjectRef, doc: dict[str, Any]) -> Role:
    """A Role, or a ClusterRole with its aggregationRule."""
    aggregation: tuple[Mapping[str, Any], ...] | None = None
    if ref.kind == "ClusterRole" and doc.get("aggregationRule") is not None:
        agg = as_mapping(doc["aggregationRule"], "aggregationRule")
        aggregation = tuple(
            as_selector(s, f"aggregationRule.clusterRoleSelectors[{i}]")
            for i, s in enumerate(as_list(agg.get("clusterRoleSelectors"), "aggregationRule.clusterRoleSelectors"))
        )
    return Role(
        name=ref.name,
        namespace=ref.namespace,
        rules=_policy_rules(doc.get("rules"), "rules"),
        labels=ref.labels,
        aggregation_selectors=aggregation,
        source=ref.where,
    )


def decode_binding(ref: ObjectRef, doc: dict[str, Any]) -> RoleBinding:
    """A RoleBinding (to a Role or ClusterRole) or a ClusterRoleBinding (to a ClusterRole only)."""
    ref_map = as_mapping(doc.get("roleRef"), "roleRef", required=True)
    role_kind = as_required_str(ref_map.get("kind"), "roleRef.kind")
    allowed = ("Role", "ClusterRole") if ref.kind == "RoleBinding" else ("ClusterRole",)
    if role_kind not in allowed:
        raise InvalidField(f"roleRef.kind must be {' or '.join(allowed)}, not {role_kind!r}")
    return RoleBinding(
        name=ref.name,
        namespace=ref.namespace,
        role_kind=role_kind,
        role_name=as_required_str(ref_map.get("name"), "roleRef.name"),
        subjects=_subjects(doc.get("subjects"), ref.namespace),
        source=ref.where,
    )


def decode_node(ref: ObjectRef, doc: dict[str, Any]) -> Node:
    """A Node's IP addresses: status.addresses of type InternalIP and ExternalIP (Hostname and InternalDNS are names)."""
    st = as_mapping(doc.get("status"), "status")
    addresses: list[str] = []
    for epath, entry in as_mappings(st.get("addresses"), "status.addresses"):
        if as_str(entry.get("type"), f"{epath}.type") not in ("InternalIP", "ExternalIP"):
            continue
        text = as_required_str(entry.get("address"), f"{epath}.address")
        try:
            addresses.append(str(ipaddress.ip_address(text)))
        except ValueError as exc:
            raise InvalidField(f"{epath}.address: {text!r} is not an IP address") from exc
    return Node(name=ref.name, addresses=tuple(dict.fromkeys(addresses)), labels=ref.labels, source=ref.where)


def decode_service(ref: ObjectRef, doc: dict[str, Any]) -> Service:
    assert ref.namespace is not None
    spec = as_mapping(doc.get("spec"), "spec")
    selector_raw = spec.get("selector")
    # An empty selector is dropped when the API server stores the object (omitempty map), so it means "no selector":
    # the Service gets no endpoints from pods.
    selector = as_labels(selector_raw, "spec.selector") if selector_raw else None
    ports = []
    for ppath, port in as_mappings(spec.get("ports"), "spec.ports"):
        if port.get("port") is None:
            raise InvalidField(f"{ppath}.port is required")
        number = as_port(port.get("port"), ppath + ".port")
        # ServicePort.targetPort: "If this is not specified, the value of the 'port' field is used."
        target = port.get("targetPort")
        target_port = number if target is None else as_port_or_name(target, ppath + ".targetPort")
        ports.append(
            ServicePort(
                port=number,
                target_port=target_port,
                protocol=as_protocol(port.get("protocol"), ppath + ".protocol"),
                name=as_str(port.get("name"), ppath + ".name") or None,
            )
        )
    cluster_ips = list(as_str_list(spec.get("clusterIPs"), "spec.clusterIPs"))
    cluster_ip = as_str(spec.get("clusterIP"), "spec.clusterIP")
    if not cluster_ips and cluster_ip:
        cluster_ips = [cluster_ip]
    return Service(
        namespace=ref.namespace,
        name=ref.name,
        selector=selector,
        ports=tuple(ports),
        type=as_str(spec.get("type"), "spec.type", default="ClusterIP") or "ClusterIP",
        cluster_ips=tuple(ip for ip in cluster_ips if ip and ip != "None"),
        source=ref.where,
        labels=ref.labels,  # Cilium's toServices.k8sServiceSelector selects Services by them
    )


def decode_service_account(ref: ObjectRef, doc: dict[str, Any]) -> ServiceAccount:
    """A ServiceAccount's labels: Calico's serviceAccountSelector / serviceAccounts.selector select pods by them."""
    assert ref.namespace is not None
    return ServiceAccount(namespace=ref.namespace, name=ref.name, labels=ref.labels, source=ref.where)


# (API group, kind) -> how to read it. A kind of the same name from another group (Calico's projectcalico.org
# NetworkPolicy) is another row, or skipped when it has none; a document without apiVersion takes its kind's first row.
@dataclass(frozen=True, slots=True)
class KindDecoder:
    decode: Decoder
    namespaced: bool = True  # False: cluster-scoped, metadata.namespace is ignored


DECODERS: dict[tuple[str, str], KindDecoder] = {
    ("", "Namespace"): KindDecoder(decode_namespace, namespaced=False),
    ("", "Node"): KindDecoder(decode_node, namespaced=False),
    ("", "Pod"): KindDecoder(decode_workload),
    ("", "ReplicationController"): KindDecoder(decode_workload),
    ("", "Service"): KindDecoder(decode_service),
    ("", "ServiceAccount"): KindDecoder(decode_service_account),
    ("apps", "Deployment"): KindDecoder(decode_workload),
    ("extensions", "Deployment"): KindDecoder(decode_workload),
    ("apps", "StatefulSet"): KindDecoder(decode_workload),
    ("apps", "DaemonSet"): KindDecoder(decode_workload),
    ("extensions", "DaemonSet"): KindDecoder(decode_workload),
    ("apps", "ReplicaSet"): KindDecoder(decode_workload),
    ("extensions", "ReplicaSet"): KindDecoder(decode_workload),
    ("batch", "Job"): KindDecoder(decode_workload),
    ("batch", "CronJob"): KindDecoder(decode_workload),
    ("networking.k8s.io", "NetworkPolicy"): KindDecoder(decode_network_policy),
    ("extensions", "NetworkPolicy"): KindDecoder(decode_network_policy),
    ("policy.networking.k8s.io", "AdminNetworkPolicy"): KindDecoder(decode_admin_network_policy, namespaced=False),
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"): KindDecoder(decode_admin_network_policy, namespaced=False),
    ("rbac.authorization.k8s.io", "Role"): KindDecoder(decode_role),
    ("rbac.authorization.k8s.io", "ClusterRole"): KindDecoder(decode_role, namespaced=False),
    ("rbac.authorization.k8s.io", "RoleBinding"): KindDecoder(decode_binding),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): KindDecoder(decode_binding, namespaced=False),
}


# Engines whose kinds this decoder reads into records (cluster/cni_decode.py); the others' objects become
# UnevaluatedPolicy records, never skipped.
_DECODED_ENGINES = ("k8s", "calico", "cilium")
_CONVERTED = ("knp.default.", "kanp.adminnetworkpolicy.", "kbanp.baselineadminnetworkpolicy.")


def _decoder(api_version: str, kind: str) -> KindDecoder | None:
    if not api_version:
        return next((d for (_, k), d in DECODERS.items() if k == kind), None)
    return DECODERS.get((api_version.split("/", 1)[0] if "/" in api_version else "", kind))


# ---------------------------------------------------------------------------------------------------------------
# The builder: documents in, one Snapshot out



def _metadata(doc: dict[str, Any], kind: str, namespaced: bool) -> tuple[dict[str, Any], str, str | None]:
    """(metadata, name, namespace) of an object; generateName stands for a missing name (kubectl create's rule)."""
    try:
        meta = as_mapping(doc.get("metadata"), "metadata", required=True)
        name = as_str(meta.get("name"), "metadata.name") or as_str(meta.get("generateName"), "metadata.generateName")
        if not name:
            raise InvalidField("metadata.name is required")
        namespace = (as_str(meta.get("namespace"), "metadata.namespace") or None) if namespaced else None
    except InvalidField as exc:
        exc.kind = kind
        raise
    return meta, name, namespace

class SnapshotBuilder:
    """Collects records from documents. live=True: the objects come from the API server, which stored them, so one
    this decoder rejects is only "could not be read" (a warning), not a manifest that will fail to apply."""

    def __init__(self, live: bool = False) -> None:
        self.live = live
        self.referenced: dict[str, None] = {}  # namespaces seen in metadata.namespace, in order
        # (record type, kind, namespace, name) -> (where, record); the last one wins, in the place of the first
        self.objects: dict[tuple[str, str, str | None, str], tuple[str, Record]] = {}
        self.warnings: list[str] = []
        self.defaulted: dict[str, list[str]] = {}  # file -> objects placed in "default"
        self.invalid: list[InvalidObject] = []

    def add_document(self, where: str, doc: Any, depth: int = 0) -> None:
        """Decode one parsed document (an object or a List of them) at location ``where``."""
        if doc is None:
            return
        if depth == 0 and (not isinstance(doc, dict) or ("kind" not in doc and "apiVersion" not in doc)):
            # Folders in GitOps repositories also hold values.yaml, Chart.yaml, CI and tool configs: documents that
            # are not Kubernetes objects at all are skipped with a warning (kubectl apply would refuse them).
            self.warnings.append(f"{where}: not a Kubernetes object (no apiVersion and kind); skipped")
            return
        kind: str | None = ""
        try:
            if not isinstance(doc, dict):
                raise InvalidField(f"must be a mapping with apiVersion and kind, not {type_name(doc)}")
            kind = as_str(doc.get("kind"), "kind")
            if not kind:
                raise InvalidField("kind is required")
            api_version = as_str(doc.get("apiVersion"), "apiVersion") or ""
            if "items" in doc and (kind == "List" or kind.endswith("List")):
                if depth > 4:
                    raise InvalidField("Lists nested too deeply")
                items = as_list(doc.get("items"), "items")
                for i, item in enumerate(items):
                    if kind != "List" and isinstance(item, dict) and "kind" not in item:
                        # API list responses (`kubectl get --raw`, PodList, NetworkPolicyList...) leave kind and
                        # apiVersion out of their items: they are the list's
                        item = {**item, "kind": kind[: -len("List")], "apiVersion": item.get("apiVersion") or api_version}
                    self.add_document(f"{where} item {i + 1}", item, depth + 1)
                return
            group = api_version.split("/", 1)[0] if "/" in api_version else ""
            if api_version and self._policy_kind(where, kind, api_version, group, doc):
                return
            decoder = _decoder(api_version, kind)
            if decoder is None:
                log.debug(f"{where}: skipping {api_version or '?'} {kind} (not used by netsso)")
                return
            self._add_object(where, kind, decoder, doc)
        except InvalidField as exc:
            self._reject(where, exc.kind or kind or "", exc.namespace, exc.name, str(exc), exc.hint)
        except RecursionError:
            self._reject(where, kind if isinstance(kind, str) else "", None, None, "object nested too deeply", None)

    def _policy_kind(self, where: str, kind: str, api_version: str, group: str, doc: dict[str, Any]) -> bool:
        """Policy kinds other than NetworkPolicy/ANP/BANP: a CNI's object netsso evaluates becomes its record; one no
        engine here evaluates (another CNI's, an unknown version of a known kind) an UnevaluatedPolicy -- never ignored
        silently (issue 12). True when the document was taken here."""
        pk = policykinds.lookup(group, kind)
        if pk is None:
            return False
        version = api_version.split("/", 1)[1] if "/" in api_version else api_version
        if pk.engine == "k8s" and version in pk.versions:
            return False  # decoded by its row of DECODERS
        if pk.engine in _DECODED_ENGINES and version in pk.versions:
            self._add_cni_object(where, pk, api_version, doc)
            return True
        if pk.data:
            log.debug(f"{where}: skipping {api_version} {kind} (a version this tool does not read)")
            return True
        try:
            meta = as_mapping(doc.get("metadata"), "metadata", required=True)
            name = as_str(meta.get("name"), "metadata.name") or as_str(meta.get("generateName"), "metadata.generateName")
            if not name:
                raise InvalidField("metadata.name is required")
            namespace = as_str(meta.get("namespace"), "metadata.namespace") or None
        except InvalidField as exc:
            exc.kind = kind
            raise
        known = (pk.group, pk.kind) in policykinds.KNOWN
        if known and pk.namespaced and namespace is None:
            namespace = "default"  # placed like any namespaced object without one (kubectl apply's namespace)
            self.defaulted.setdefault(where.split(" document ")[0], []).append(f"{kind} {name}")
        if known and not pk.namespaced:
            namespace = None
        if pk.staged:
            why = "a staged policy is not enforced: it changes no verdict"
        elif pk.versions and version not in pk.versions:
            why = f"apiVersion {api_version}: version {version} is not known to this tool (it reads {', '.join(pk.versions)})"
        elif not known:
            why = "named like a network policy, but not a kind this tool knows"
        else:
            why = ""  # a kind this tool knows it does not evaluate: the label says enough
        if namespace is not None:
            self.referenced.setdefault(namespace, None)
        record = UnevaluatedPolicy(
            kind=kind,
            api_version=api_version,
            namespace=namespace,
            name=name,
            why=why,
            directions=pk.directions,
            restrict_only=pk.restrict_only,
            hosts=pk.hosts or namespace is None,
            staged=pk.staged,
            source=where,
        )
        self._keep(where, ("UnevaluatedPolicy", api_version + "/" + kind, namespace, name), record, record.label)
        return True

    def _add_cni_object(self, where: str, pk: policykinds.PolicyKind, api_version: str, doc: dict[str, Any]) -> None:
        """A Calico or Cilium object: checked by its decoder (cluster/cni_decode.py) into a record."""
        from . import cni_decode

        kind = pk.kind
        meta, name, namespace = _metadata(doc, kind, pk.namespaced)
        if kind in ("NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy") and name.startswith(_CONVERTED):
            # Calico's view of a Kubernetes NetworkPolicy / ANP / BANP ("knp.default.<name>", conversion.go): the
            # object itself is read as what it is; this copy would count it twice.
            log.debug(f"{where}: skipping {kind} {name}: Calico's conversion of a Kubernetes policy")
            return
        defaulted = pk.namespaced and namespace is None
        if defaulted:
            namespace = "default"
        record: Any
        try:
            labels = as_labels(meta.get("labels"), "metadata.labels")
            if pk.engine == "cilium":
                record = cni_decode.cilium_policy(kind, name, namespace, api_version, doc, where)
            elif kind in ("NetworkPolicy", "GlobalNetworkPolicy"):
                record = cni_decode.calico_policy(kind, name, namespace, api_version, doc, where)
            elif kind == "Tier":
                record = cni_decode.calico_tier(name, doc, where)
            elif kind in ("NetworkSet", "GlobalNetworkSet"):
                record = cni_decode.calico_network_set(name, namespace, labels, doc, where)
            else:
                record = cni_decode.calico_host_endpoint(name, labels, doc, where)
        except InvalidField as exc:
            exc.kind, exc.namespace, exc.name = kind, namespace, name
            raise
        self._place(where, kind, name, namespace, defaulted)
        label = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        self._keep(where, (type(record).__name__, f"{pk.engine}/{kind}", namespace, name), record, label)

    def _place(self, where: str, kind: str, name: str, namespace: str | None, defaulted: bool) -> None:
        """Only an object that is kept places its namespace (a rejected one never reaches the cluster)."""
        if defaulted:
            self.defaulted.setdefault(where.split(" document ")[0], []).append(f"{kind} {name}")
        if namespace is not None:
            self.referenced.setdefault(namespace, None)

    def _keep(self, where: str, key: tuple[str, str, str | None, str], record: Any, label: str) -> None:
        if key in self.objects:
            self.warnings.append(f"{where}: {label} also defined in {self.objects[key][0]}; the last one wins")
        self.objects[key] = (where, record)

    def _reject(self, where: str, kind: str, namespace: str | None, name: str | None, reason: str, hint: str | None) -> None:
        """Leave the object out: the API server refuses to store it ("the answer comes from the rest")."""
        invalid = InvalidObject(
            location=one_line(where, 300),
            kind=one_line(kind, 100),
            namespace=None if namespace is None else one_line(namespace, 100),
            name=None if name is None else one_line(name, 100),
            reason=one_line(reason),
            hint=hint,
        )
        if self.live:
            self.warnings.append(f"skipped an object the loader could not read: {invalid.message}")
            return
        self.invalid.append(invalid)
        self.warnings.append(f"{invalid.message}; left out: the API server would reject this object"
                             + (f" (hint: {hint})" if hint else ""))  # fmt: skip

    def _add_object(self, where: str, kind: str, decoder: KindDecoder, doc: dict[str, Any]) -> None:
        meta, name, namespace = _metadata(doc, kind, decoder.namespaced)
        defaulted = decoder.namespaced and namespace is None
        if defaulted:
            namespace = "default"
        try:
            ref = ObjectRef(kind, name, namespace, as_labels(meta.get("labels"), "metadata.labels"), where)
            record = decoder.decode(ref, doc)
        except InvalidField as exc:
            exc.kind, exc.namespace, exc.name = kind, namespace, name
            raise
        self._place(where, kind, name, namespace, defaulted)
        label = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        self._keep(where, (type(record).__name__, kind, namespace, name), record, label)

    def build(self, source: str) -> Snapshot:
        """The Snapshot of every document added; namespaces only referenced exist with their automatic label."""
        warnings = list(self.warnings)
        for file, objects in self.defaulted.items():
            shown = ", ".join(objects[:3]) + (f" and {len(objects) - 3} more" if len(objects) > 3 else "")
            warnings.append(f"{file}: {len(objects)} object(s) without metadata.namespace placed in 'default': {shown}")
        records = [record for _, record in self.objects.values()]
        namespaces = [r for r in records if isinstance(r, Namespace)]
        defined = {ns.name for ns in namespaces}
        namespaces += [
            Namespace(name=n, labels={NAMESPACE_NAME_LABEL: n}, defined=False) for n in self.referenced if n not in defined
        ]
        return Snapshot(
            namespaces=tuple(namespaces),
            workloads=tuple(r for r in records if isinstance(r, Workload)),
            services=tuple(r for r in records if isinstance(r, Service)),
            network_policies=tuple(r for r in records if isinstance(r, NetworkPolicy)),
            admin_network_policies=tuple(r for r in records if isinstance(r, AdminNetworkPolicy)),
            roles=tuple(r for r in records if isinstance(r, Role)),
            bindings=tuple(r for r in records if isinstance(r, RoleBinding)),
            warnings=tuple(warnings),
            invalid=tuple(self.invalid),
            unevaluated=tuple(r for r in records if isinstance(r, UnevaluatedPolicy)),
            service_accounts=tuple(r for r in records if isinstance(r, ServiceAccount)),
            calico_policies=tuple(r for r in records if isinstance(r, CalicoPolicy)),
            calico_tiers=tuple(r for r in records if isinstance(r, CalicoTier)),
            calico_network_sets=tuple(r for r in records if isinstance(r, CalicoNetworkSet)),
            calico_host_endpoints=tuple(r for r in records if isinstance(r, CalicoHostEndpoint)),
            cilium_policies=tuple(r for r in records if isinstance(r, CiliumPolicy)),
            source=source,
            nodes=tuple(r for r in records if isinstance(r, Node)),
        )


# ---------------------------------------------------------------------------------------------------------------
# Checks shared by the decoders above


def _pod_ips(status: Any, which: str = "pod") -> tuple[str, ...]:
    """status.podIPs / podIP (or hostIPs / hostIP) of a Pod manifest (e.g. saved with kubectl get -o yaml), in
    canonical form; invalid ones are errors."""
    st = as_mapping(status, "status")
    many, one = f"{which}IPs", f"{which}IP"
    ips: list[str] = []
    for epath, entry in as_mappings(st.get(many), f"status.{many}"):
        ip = as_required_str(entry.get("ip"), f"{epath}.ip")
        ips.append(ip)
    if not ips and st.get(one) is not None:
        ips.append(as_required_str(st.get(one), f"status.{one}"))
    out = []
    for ip in ips:
        try:
            out.append(str(ipaddress.ip_address(ip)))
        except ValueError as exc:
            raise InvalidField(f"status.{many}: {ip!r} is not an IP address") from exc
    return tuple(dict.fromkeys(out))


def _container_ports(pod_spec: dict[str, Any], path: str) -> tuple[ContainerPort, ...]:
    """Ports of the pod's containers and of its sidecars.

    Plain init containers run to completion before the app containers start, so they never receive traffic
    and their ports are not used. Sidecars (initContainers with restartPolicy: Always, k8s >= 1.29) keep
    running and are used: kubernetes pkg/api/v1/pod/util.go FindPort: "also support sidecar container
    (initContainer with restartPolicy=Always)".
    """
    ports: list[ContainerPort] = []
    groups = [
        (f"{path}.containers", as_list(pod_spec.get("containers"), path + ".containers")),
        (f"{path}.initContainers", as_list(pod_spec.get("initContainers"), path + ".initContainers")),
    ]
    for base, items in groups:
        for i, container in enumerate(items):
            cpath = f"{base}[{i}]"
            container = as_mapping(container, cpath, required=True)
            if base.endswith("initContainers") and container.get("restartPolicy") != "Always":
                continue
            for ppath, port in as_mappings(container.get("ports"), cpath + ".ports"):
                number = port.get("containerPort")
                if number is None:
                    raise InvalidField(f"{ppath}.containerPort is required")
                ports.append(
                    ContainerPort(
                        port=as_port(number, ppath + ".containerPort"),
                        protocol=as_protocol(port.get("protocol"), ppath + ".protocol"),
                        name=as_str(port.get("name"), ppath + ".name") or None,
                    )
                )
    return tuple(ports)


def _pod_template(kind: str, spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(template metadata, pod spec, field path of the pod spec) for a workload kind."""
    if kind == "CronJob":
        job_template = as_mapping(spec.get("jobTemplate"), "spec.jobTemplate", required=True)
        job_spec = as_mapping(job_template.get("spec"), "spec.jobTemplate.spec", required=True)
        template = as_mapping(job_spec.get("template"), "spec.jobTemplate.spec.template", required=True)
        base = "spec.jobTemplate.spec.template"
    else:
        template = as_mapping(spec.get("template"), "spec.template", required=True)
        base = "spec.template"
    meta = as_mapping(template.get("metadata"), base + ".metadata")
    pod_spec = as_mapping(template.get("spec"), base + ".spec", required=True)
    return meta, pod_spec, base + ".spec"


def _policy_rules(value: Any, path: str) -> tuple[PolicyRule, ...]:
    rules = []
    for rpath, rule in as_mappings(value, path):
        rules.append(
            PolicyRule(
                verbs=as_str_list(rule.get("verbs"), rpath + ".verbs"),
                api_groups=as_str_list(rule.get("apiGroups"), rpath + ".apiGroups"),
                resources=as_str_list(rule.get("resources"), rpath + ".resources"),
                resource_names=as_str_list(rule.get("resourceNames"), rpath + ".resourceNames"),
                non_resource_urls=as_str_list(rule.get("nonResourceURLs"), rpath + ".nonResourceURLs"),
            )
        )
    return tuple(rules)


def _subjects(value: Any, binding_namespace: str | None) -> tuple[Subject, ...]:
    subjects = []
    for spath, subject in as_mappings(value, "subjects"):
        kind = as_required_str(subject.get("kind"), spath + ".kind")
        if kind not in ("User", "Group", "ServiceAccount"):
            raise InvalidField(f"{spath}.kind must be User, Group or ServiceAccount, not {kind!r}")
        name = as_required_str(subject.get("name"), spath + ".name")
        namespace = as_str(subject.get("namespace"), spath + ".namespace") or None
        if kind == "ServiceAccount":
            # A ServiceAccount subject's namespace defaults to the RoleBinding's; a ClusterRoleBinding must name it
            # (rbac validation: ValidateRoleBindingSubject, "namespace" Required when not namespaced).
            if namespace is None:
                if binding_namespace is None:
                    raise InvalidField(f"{spath}.namespace is required for a ServiceAccount in a ClusterRoleBinding")
                namespace = binding_namespace
            api_group = as_str(subject.get("apiGroup"), spath + ".apiGroup", default="") or ""
        else:
            namespace = None
            api_group = as_str(subject.get("apiGroup"), spath + ".apiGroup", default="rbac.authorization.k8s.io") or ""
        subjects.append(Subject(kind=kind, name=name, namespace=namespace, api_group=api_group))
    return tuple(subjects)
