"""The snapshot: plain, immutable records of what a cluster (or a folder of manifests) holds.

Sources (manifests.py, live.py) build a Snapshot; the engines (netpol, rbac, access) read it and never do I/O.
Policy specs are kept as the plain dicts of the API object (``spec``) so the engines implement the API
semantics directly on the documented field names; treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Label added by the API server to every namespace (k8s >= 1.21, "Automatic labelling" in the Namespace docs).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController")


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace. defined False: only named by other objects' metadata.namespace (no Namespace object in the
    input), so only its automatic kubernetes.io/metadata.name label is known."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    defined: bool = True


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A containerPort of a pod (named ports are resolved against these, on the destination pod)."""

    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    """A pod, or a workload standing for 'any pod of it' (its pod template's labels and ports).

    kind is the object kind (Pod, Deployment, ...). For live pods, ``owner`` names the owning workload
    (e.g. "Deployment/api") so output can group pods by workload.
    """

    namespace: str
    name: str
    kind: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[str, ...] = ()
    host_network: bool = False
    owner: str | None = None
    service_account: str | None = None
    source: str = ""
    # Pods only: where it runs (spec.nodeName) and that node's addresses as the pod sees them (status.hostIPs).
    node: str | None = None
    host_ips: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """NS/NAME for pods, NS/kind/NAME otherwise (kind in lower case, as kubectl prints it)."""
        if self.kind == "Pod":
            return f"{self.namespace}/{self.name}"
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"


@dataclass(frozen=True, slots=True)
class Node:
    """A Node: its name and IP addresses (status.addresses of type InternalIP / ExternalIP).

    "Traffic to and from the node where a Pod is running is always allowed, regardless of the IP address of the Pod
    or the node" (kubernetes.io, Network Policies): the engines need to know which addresses are a pod's node.
    """

    name: str
    addresses: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str  # number, or the name of a container port on the backing pods
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    selector: Mapping[str, str] | None  # None: a Service without selector (endpoints managed elsewhere)
    ports: tuple[ServicePort, ...] = ()
    type: str = "ClusterIP"
    cluster_ips: tuple[str, ...] = ()
    source: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)  # Cilium's toServices.k8sServiceSelector selects on them


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """A ServiceAccount: Calico's serviceAccountSelector / serviceAccounts.selector select pods by its labels."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """networking.k8s.io/v1 NetworkPolicy; spec is the API object's spec as plain data."""

    namespace: str
    name: str
    spec: Mapping[str, Any]
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class AdminNetworkPolicy:
    """policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy (kind ANP) or BaselineAdminNetworkPolicy (kind BANP)."""

    name: str
    kind: str  # "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy"
    spec: Mapping[str, Any]
    source: str = ""

    @property
    def priority(self) -> int:
        return int(self.spec.get("priority", 0) or 0)


@dataclass(frozen=True, slots=True)
class CalicoPolicy:
    """A Calico NetworkPolicy (namespace set) or GlobalNetworkPolicy (namespace None), projectcalico.org/v3 or
    crd.projectcalico.org/v1; spec is the checked spec as plain data (selectors as strings, rules as dicts)."""

    kind: str  # "NetworkPolicy" | "GlobalNetworkPolicy"
    name: str
    namespace: str | None
    spec: Mapping[str, Any]
    api_version: str = "projectcalico.org/v3"
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True)
class CalicoTier:
    """A Calico Tier: order (None = after every ordered tier) and the action when its policies select an endpoint but
    none decides (Deny: the end-of-tier drop, or Pass)."""

    name: str
    order: float | None
    default_action: str = "Deny"
    source: str = ""


@dataclass(frozen=True, slots=True)
class CalicoNetworkSet:
    """A Calico NetworkSet (namespace set) or GlobalNetworkSet (namespace None): labelled IP ranges that Calico
    selectors match ("selectors can match ... network sets", Calico docs, entity rules)."""

    name: str
    namespace: str | None
    labels: Mapping[str, str]
    nets: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class CalicoHostEndpoint:
    """A Calico HostEndpoint: a node interface with labels; selectors match it by its expectedIPs."""

    name: str
    node: str
    labels: Mapping[str, str]
    expected_ips: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class CiliumPolicy:
    """A CiliumNetworkPolicy (namespace set) or CiliumClusterwideNetworkPolicy (namespace None), cilium.io/v2; rules
    are the checked ``spec`` and ``specs`` entries as plain data (one Cilium rule each)."""

    kind: str  # "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy"
    name: str
    namespace: str | None
    rules: tuple[Mapping[str, Any], ...]
    api_version: str = "cilium.io/v2"
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """rbac.authorization.k8s.io/v1 PolicyRule."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Role:
    """A Role (namespace set) or ClusterRole (namespace None)."""

    name: str
    namespace: str | None
    rules: tuple[PolicyRule, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    # ClusterRole aggregationRule.clusterRoleSelectors, as plain label-selector dicts; None when absent.
    aggregation_selectors: tuple[Mapping[str, Any], ...] | None = None
    source: str = ""

    @property
    def kind(self) -> str:
        return "Role" if self.namespace is not None else "ClusterRole"


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # User | Group | ServiceAccount
    name: str
    namespace: str | None = None  # ServiceAccount only
    api_group: str = ""


@dataclass(frozen=True, slots=True)
class RoleBinding:
    """A RoleBinding (namespace set) or ClusterRoleBinding (namespace None)."""

    name: str
    namespace: str | None
    role_kind: str  # Role | ClusterRole
    role_name: str
    subjects: tuple[Subject, ...] = ()
    source: str = ""

    @property
    def kind(self) -> str:
        return "RoleBinding" if self.namespace is not None else "ClusterRoleBinding"


@dataclass(frozen=True, slots=True)
class Gap:
    """Something the source could not see (e.g. 403 listing networkpolicies in a namespace).

    Verdicts that depend on it are 'unknown' with this reason, never silently 'allowed'.
    namespace None means cluster-wide.
    """

    resource: str  # e.g. "networkpolicies", "pods", "adminnetworkpolicies"
    namespace: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class UnevaluatedPolicy:
    """A policy-like object netsso does not evaluate (another CNI's CRD, an Istio AuthorizationPolicy, an unknown version
    of a known kind): verdicts it could change are UNKNOWN with ``label`` in the reason, never silently decided.

    namespace None: cluster-scoped (it can change any verdict). why: what is not evaluated about it ("version v3 is not
    known", "Antrea policies are not evaluated"). staged: a Calico staged policy, never enforced (changes nothing).
    directions / restrict_only / hosts: see cluster.policykinds.PolicyKind.
    """

    kind: str
    api_version: str
    namespace: str | None
    name: str
    why: str = ""
    directions: tuple[str, ...] = ("ingress", "egress")
    restrict_only: bool = False
    hosts: bool = False
    staged: bool = False
    source: str = ""

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def label(self) -> str:
        """'CiliumNetworkPolicy a/deny-all'; the apiVersion is added when the kind name alone does not say which API
        it is ('NetworkPolicy (crd.antrea.io/v1beta1) a/deny-all')."""
        from .policykinds import KINDS

        def family(group: str) -> str:  # Calico's two groups hold the same kinds
            return group.removeprefix("crd.") if group.endswith("projectcalico.org") else group

        groups = {family(k.group) for k in KINDS if k.kind == self.kind}
        kind = self.kind if groups == {family(self.group)} else f"{self.kind} ({self.api_version})"
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"


@dataclass(frozen=True, slots=True)
class InvalidObject:
    """An object the API server would reject, left out of the snapshot: such an object never exists in a cluster,
    so no verdict may depend on it (offline, ``kubectl apply`` of its file fails).

    location is "FILE document N" (or "... item M" inside a List); kind/namespace/name are what could be read.
    """

    location: str
    kind: str
    namespace: str | None
    name: str | None
    reason: str  # what is wrong, naming the field: "roleRef.kind must be ClusterRole, not 'Role'"
    hint: str | None = None

    @property
    def label(self) -> str:
        """'ClusterRoleBinding crb', 'NetworkPolicy shop/np', or '' when not even the kind could be read."""
        if not self.kind:
            return ""
        if not self.name:
            return self.kind
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def message(self) -> str:
        """One line: where, what and why (``x.yaml document 3: ClusterRoleBinding crb: roleRef.kind must be ...``)."""
        return f"{self.location}: {self.label}: {self.reason}" if self.label else f"{self.location}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    namespaces: tuple[Namespace, ...] = ()
    workloads: tuple[Workload, ...] = ()
    services: tuple[Service, ...] = ()
    network_policies: tuple[NetworkPolicy, ...] = ()
    admin_network_policies: tuple[AdminNetworkPolicy, ...] = ()  # ANPs and BANPs
    roles: tuple[Role, ...] = ()
    bindings: tuple[RoleBinding, ...] = ()
    gaps: tuple[Gap, ...] = ()
    warnings: tuple[str, ...] = ()
    invalid: tuple[InvalidObject, ...] = ()  # objects left out because the API server would reject them
    unevaluated: tuple[UnevaluatedPolicy, ...] = ()  # policy-like objects no engine here evaluates (never ignored)
    service_accounts: tuple[ServiceAccount, ...] = ()
    calico_policies: tuple[CalicoPolicy, ...] = ()
    calico_tiers: tuple[CalicoTier, ...] = ()
    calico_network_sets: tuple[CalicoNetworkSet, ...] = ()
    calico_host_endpoints: tuple[CalicoHostEndpoint, ...] = ()
    cilium_policies: tuple[CiliumPolicy, ...] = ()
    source: str = ""  # "manifests: examples/shop" or "live: context kind-dev"
    nodes: tuple[Node, ...] = ()

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None


def merge_rbac(base: Snapshot, extra: Snapshot) -> Snapshot:
    """base plus extra's roles and bindings; objects in base win over same-named ones in extra (the user's folder
    overrides the packaged default roles). Both were decoded by the one strict decoder, so a binding means the same
    whatever its source."""
    have_roles = {(r.namespace, r.name) for r in base.roles}
    have_bindings = {(b.namespace, b.name) for b in base.bindings}
    return replace(
        base,
        roles=base.roles + tuple(r for r in extra.roles if (r.namespace, r.name) not in have_roles),
        bindings=base.bindings + tuple(b for b in extra.bindings if (b.namespace, b.name) not in have_bindings),
    )
