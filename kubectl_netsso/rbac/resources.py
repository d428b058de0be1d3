"""Resource names offline: TYPE[.GROUP] -> (group, plural resource), like kubectl's RESTMapper for common resources.

kubectl auth can-i lower-cases TYPE and resolves it through discovery (plural, singular, kind, short names);
`schema.ParseGroupResource` splits "deployments.apps" at the first dot. Offline we use this table (built-in kinds of
Kubernetes 1.32, `kubectl api-resources`) plus resources named in the manifests' RBAC rules. A name found nowhere is
not an error: RBAC rules may name any string, so kubectl only warns "the server doesn't have a resource type" and
asks anyway; so do we.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import EXIT_USAGE, NetssoError

UNKNOWN_TYPE = "the server doesn't have a resource type {name!r}"  # kubectl auth can-i's warning, word for word


@dataclass(frozen=True, slots=True)
class ResourceType:
    resource: str  # plural, lower case (what RBAC rules name)
    group: str  # "" = core
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    singular: str = ""
    subresource: str = ""  # a row for one subresource (pods/exec); "" for the resource itself

    @property
    def ref(self) -> str:
        """'deployments.apps', 'pods', 'pods/exec' (kubectl's resource.group[/subresource] spelling)."""
        base = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{base}/{self.subresource}" if self.subresource else base


def _t(resource: str, group: str, kind: str, namespaced: bool = True, short: tuple[str, ...] = ()) -> ResourceType:
    return ResourceType(resource, group, kind, namespaced, short, kind.lower())


# Order matters for ambiguous names: the first wins (core events before events.k8s.io, like kubectl's priority).
BUILTIN: tuple[ResourceType, ...] = (
    _t("pods", "", "Pod", short=("po",)),
    _t("services", "", "Service", short=("svc",)),
    _t("configmaps", "", "ConfigMap", short=("cm",)),
    _t("secrets", "", "Secret"),
    _t("serviceaccounts", "", "ServiceAccount", short=("sa",)),
    _t("endpoints", "", "Endpoints", short=("ep",)),
    _t("events", "", "Event", short=("ev",)),
    _t("persistentvolumeclaims", "", "PersistentVolumeClaim", short=("pvc",)),
    _t("replicationcontrollers", "", "ReplicationController", short=("rc",)),
    _t("resourcequotas", "", "ResourceQuota", short=("quota",)),
    _t("limitranges", "", "LimitRange", short=("limits",)),
    _t("podtemplates", "", "PodTemplate"),
    _t("bindings", "", "Binding"),
    _t("namespaces", "", "Namespace", False, ("ns",)),
    _t("nodes", "", "Node", False, ("no",)),
    _t("persistentvolumes", "", "PersistentVolume", False, ("pv",)),
    _t("componentstatuses", "", "ComponentStatus", False, ("cs",)),
    _t("deployments", "apps", "Deployment", short=("deploy",)),
    _t("statefulsets", "apps", "StatefulSet", short=("sts",)),
    _t("daemonsets", "apps", "DaemonSet", short=("ds",)),
    _t("replicasets", "apps", "ReplicaSet", short=("rs",)),
    _t("controllerrevisions", "apps", "ControllerRevision"),
    _t("jobs", "batch", "Job"),
    _t("cronjobs", "batch", "CronJob", short=("cj",)),
    _t("horizontalpodautoscalers", "autoscaling", "HorizontalPodAutoscaler", short=("hpa",)),
    _t("networkpolicies", "networking.k8s.io", "NetworkPolicy", short=("netpol",)),
    _t("ingresses", "networking.k8s.io", "Ingress", short=("ing",)),
    _t("ingressclasses", "networking.k8s.io", "IngressClass", False),
    _t("poddisruptionbudgets", "policy", "PodDisruptionBudget", short=("pdb",)),
    _t("roles", "rbac.authorization.k8s.io", "Role"),
    _t("rolebindings", "rbac.authorization.k8s.io", "RoleBinding"),
    _t("clusterroles", "rbac.authorization.k8s.io", "ClusterRole", False),
    _t("clusterrolebindings", "rbac.authorization.k8s.io", "ClusterRoleBinding", False),
    _t("leases", "coordination.k8s.io", "Lease"),
    _t("endpointslices", "discovery.k8s.io", "EndpointSlice"),
    _t("events", "events.k8s.io", "Event", short=("ev",)),
    _t("storageclasses", "storage.k8s.io", "StorageClass", False, ("sc",)),
    _t("csidrivers", "storage.k8s.io", "CSIDriver", False),
    _t("volumeattachments", "storage.k8s.io", "VolumeAttachment", False),
    _t("customresourcedefinitions", "apiextensions.k8s.io", "CustomResourceDefinition", False, ("crd", "crds")),
    _t("validatingwebhookconfigurations", "admissionregistration.k8s.io", "ValidatingWebhookConfiguration", False),
    _t("mutatingwebhookconfigurations", "admissionregistration.k8s.io", "MutatingWebhookConfiguration", False),
    _t("certificatesigningrequests", "certificates.k8s.io", "CertificateSigningRequest", False, ("csr",)),
    _t("priorityclasses", "scheduling.k8s.io", "PriorityClass", False, ("pc",)),
    _t("runtimeclasses", "node.k8s.io", "RuntimeClass", False),
    _t("selfsubjectaccessreviews", "authorization.k8s.io", "SelfSubjectAccessReview", False),
    _t("selfsubjectrulesreviews", "authorization.k8s.io", "SelfSubjectRulesReview", False),
    _t("subjectaccessreviews", "authorization.k8s.io", "SubjectAccessReview", False),
    _t("localsubjectaccessreviews", "authorization.k8s.io", "LocalSubjectAccessReview"),
    _t("selfsubjectreviews", "authentication.k8s.io", "SelfSubjectReview", False),
    _t("tokenreviews", "authentication.k8s.io", "TokenReview", False),
    _t("adminnetworkpolicies", "policy.networking.k8s.io", "AdminNetworkPolicy", False, ("anp",)),
    _t("baselineadminnetworkpolicies", "policy.networking.k8s.io", "BaselineAdminNetworkPolicy", False, ("banp",)),
)

# Impersonation targets are not API resources; kubectl keeps these literal (cani.go: "users", "groups").
SPECIAL = {"users": "", "groups": "", "uids": "authentication.k8s.io", "userextras": "authentication.k8s.io"}

# Subresources of the built-in types that people ask about (the API reference's ".../{name}/SUB" paths): "pods/exec"
# on a command line names a pod called "exec" (kubectl's TYPE/NAME rule), which is almost never what was meant.
SUBRESOURCES: dict[tuple[str, str], frozenset[str]] = {
    ("pods", ""): frozenset({"exec", "attach", "portforward", "proxy", "log", "status", "eviction", "binding",
                             "ephemeralcontainers", "resize"}),
    ("services", ""): frozenset({"proxy", "status"}),
    ("nodes", ""): frozenset({"proxy", "status"}),
    ("namespaces", ""): frozenset({"finalize", "status"}),
    ("serviceaccounts", ""): frozenset({"token"}),
    ("replicationcontrollers", ""): frozenset({"scale", "status"}),
    ("persistentvolumeclaims", ""): frozenset({"status"}),
    ("deployments", "apps"): frozenset({"scale", "status"}),
    ("statefulsets", "apps"): frozenset({"scale", "status"}),
    ("replicasets", "apps"): frozenset({"scale", "status"}),
    ("daemonsets", "apps"): frozenset({"status"}),
    ("jobs", "batch"): frozenset({"status"}),
    ("cronjobs", "batch"): frozenset({"status"}),
    ("certificatesigningrequests", "certificates.k8s.io"): frozenset({"approval", "status"}),
}  # fmt: skip

# The rows of the permissions view when nothing else names resources.
COMMON = (
    "pods", "services", "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims", "events",
    "deployments.apps", "statefulsets.apps", "daemonsets.apps", "replicasets.apps", "jobs.batch", "cronjobs.batch",
    "networkpolicies.networking.k8s.io", "ingresses.networking.k8s.io", "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
)  # fmt: skip


class ResourceIndex:
    """Name lookups over a set of resource types (the built-in table, discovery, or names from manifests)."""

    def __init__(self, types: Iterable[ResourceType] = BUILTIN, offline: bool = False) -> None:
        self.types = tuple(types)
        self.offline = offline  # only the built-in table and the manifests' rules, no discovery: said in warnings

    def with_extra(self, pairs: Iterable[tuple[str, str]]) -> ResourceIndex:
        """Add (group, resource) pairs seen in RBAC rules, e.g. CRDs (kind unknown, assumed namespaced)."""
        known = {(t.group, t.resource) for t in self.types}
        extra = []
        for group, resource in sorted(set(pairs)):
            if "*" in group or "*" in resource or "/" in resource or (group, resource) in known:
                continue
            extra.append(ResourceType(resource, group, "", True, (), ""))
            known.add((group, resource))
        return ResourceIndex(self.types + tuple(extra), offline=self.offline)

    def lookup(self, name: str, group: str | None = None) -> list[ResourceType]:
        name = name.lower()
        hits = []
        for t in self.types:
            if group is not None and t.group != group:
                continue
            if name in (t.resource, t.singular, t.kind.lower()) or name in t.short_names:
                hits.append(t)
        return hits

    def resolve(self, type_arg: str, warnings: list[str] | None = None) -> ResourceType:
        """TYPE[.GROUP] -> ResourceType; '*' stays literal.

        A singular or kind form (pod, Deployment) is mapped to its plural, with a warning when ``warnings`` is given
        (RBAC rules name plurals, so the mapping is worth seeing); an unknown name is taken literally (lower case, the
        given group or core, namespaced) with kubectl's "the server doesn't have a resource type" warning.
        """
        text = type_arg.strip()
        if not text:
            raise NetssoError("empty resource type", exit_code=EXIT_USAGE)
        if text == "*":
            return ResourceType("*", "", "", True)
        if text.lower() in SPECIAL:
            return ResourceType(text.lower(), SPECIAL[text.lower()], "", False)
        name, dot, group = text.partition(".")
        hits = self.lookup(name, group if dot else None)
        if hits:
            found = hits[0]
            lowered = name.lower()
            if warnings is not None and lowered != found.resource and lowered in (found.singular, found.kind.lower()):
                warnings.append(f"resource type {type_arg!r} checked as {found.ref!r} (RBAC rules name the plural)")
            return found
        if warnings is not None:
            note = " (offline: not a built-in type, and no RBAC rule in the manifests names it)" if self.offline else ""
            warnings.append(UNKNOWN_TYPE.format(name=text.lower()) + note + "; checked as written")
        return ResourceType(name.lower(), group, "", True)

    def resolve_with_subresource(self, type_arg: str, warnings: list[str] | None = None) -> ResourceType:
        """TYPE[.GROUP][/SUBRESOURCE] (pods/exec, deployments.apps/scale) -> a ResourceType row for it."""
        base, slash, sub = type_arg.strip().partition("/")
        if slash and (not sub or "/" in sub):
            raise NetssoError(f"invalid resource {type_arg!r}: use TYPE[.GROUP][/SUBRESOURCE]", exit_code=EXIT_USAGE)
        rt = self.resolve(base, warnings)
        if not sub:
            return rt
        return ResourceType(rt.resource, rt.group, rt.kind, rt.namespaced, rt.short_names, rt.singular, sub.lower())

    def namespaced(self, resource: str, group: str) -> bool | None:
        for t in self.types:
            if t.resource == resource and t.group == group:
                return t.namespaced
        return None
