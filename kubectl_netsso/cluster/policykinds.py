"""Which API kinds are network policies: the ones netsso evaluates (and at which versions) and the ones it knows it does
not, so that no policy-like object in the input or the cluster is ever ignored silently (issue 12).

One table for the manifests loader (classify a document), the live loader (which API groups to discover and which
resources to list) and the engine (a 403 listing one of them is a gap that makes verdicts UNKNOWN). Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass

# What evaluates a kind: "k8s" (NetworkPolicy, AdminNetworkPolicy), "calico", "cilium"; None: nothing here does.
Engine = str | None


@dataclass(frozen=True, slots=True)
class PolicyKind:
    """One policy-like kind of one API group.

    versions: the versions netsso decodes and evaluates (another version of the kind is "not evaluated": its fields may
    mean something else). directions: the traffic it can decide (an Istio AuthorizationPolicy is enforced by the
    server-side proxy: ingress only). restrict_only: it can only deny what the CNI allows (a mesh layer on top), so a
    denied flow stays denied. hosts: it can police host-network traffic (nodes and hostNetwork pods). staged: never
    enforced (Calico staged policies preview a change), it changes no verdict.
    """

    group: str
    kind: str
    plural: str
    namespaced: bool
    versions: tuple[str, ...] = ()
    engine: Engine = None
    directions: tuple[str, ...] = ("ingress", "egress")
    restrict_only: bool = False
    hosts: bool = False
    staged: bool = False
    data: bool = False  # not a policy but what policies of its engine match on (tiers, network sets, host endpoints)

    @property
    def resource(self) -> str:
        """plural.group, as Gap.resource names it ("ciliumnetworkpolicies.cilium.io")."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


CALICO_GROUPS = ("projectcalico.org", "crd.projectcalico.org")
CALICO_VERSION = {"projectcalico.org": "v3", "crd.projectcalico.org": "v1"}


def _calico(kind: str, plural: str, namespaced: bool, **kw: object) -> list[PolicyKind]:
    return [
        PolicyKind(group, kind, plural, namespaced, (CALICO_VERSION[group],), **kw)  # type: ignore[arg-type]
        for group in CALICO_GROUPS
    ]


KINDS: tuple[PolicyKind, ...] = (
    PolicyKind("networking.k8s.io", "NetworkPolicy", "networkpolicies", True, ("v1",), "k8s"),
    PolicyKind("extensions", "NetworkPolicy", "networkpolicies", True, ("v1beta1",), "k8s"),
    PolicyKind("policy.networking.k8s.io", "AdminNetworkPolicy", "adminnetworkpolicies", False, ("v1alpha1",), "k8s"),
    PolicyKind(
        "policy.networking.k8s.io", "BaselineAdminNetworkPolicy", "baselineadminnetworkpolicies", False, ("v1alpha1",), "k8s"
    ),
    # The successor of ANP/BANP (network-policy-api apis/v1alpha2): not evaluated here yet.
    PolicyKind("policy.networking.k8s.io", "ClusterNetworkPolicy", "clusternetworkpolicies", False),
    # Calico: "crd.projectcalico.org/v1 kind: NetworkPolicy is Calico's, not Kubernetes'" (how Calico stores v3 objects
    # when it runs without its API server).
    *_calico("NetworkPolicy", "networkpolicies", True, engine="calico"),
    *_calico("GlobalNetworkPolicy", "globalnetworkpolicies", False, engine="calico", hosts=True),
    # "Staged policies ... are not enforced" (Calico docs, staged network policies): a preview of a change.
    *_calico("StagedNetworkPolicy", "stagednetworkpolicies", True, staged=True),
    *_calico("StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies", False, staged=True),
    *_calico("StagedKubernetesNetworkPolicy", "stagedkubernetesnetworkpolicies", True, staged=True),
    # What Calico policies are ordered by and match on: decoded with them, no effect on their own.
    *_calico("Tier", "tiers", False, engine="calico", data=True),
    *_calico("NetworkSet", "networksets", True, engine="calico", data=True),
    *_calico("GlobalNetworkSet", "globalnetworksets", False, engine="calico", data=True),
    *_calico("HostEndpoint", "hostendpoints", False, engine="calico", data=True),
    # Cilium (cilium.io/v2): a CiliumClusterwideNetworkPolicy with a nodeSelector polices the hosts themselves.
    PolicyKind("cilium.io", "CiliumNetworkPolicy", "ciliumnetworkpolicies", True, ("v2",), "cilium"),
    PolicyKind(
        "cilium.io", "CiliumClusterwideNetworkPolicy", "ciliumclusterwidenetworkpolicies", False, ("v2",), "cilium", hosts=True
    ),
    # Antrea's tiered policies (crd.antrea.io): not evaluated here.
    PolicyKind("crd.antrea.io", "NetworkPolicy", "networkpolicies", True),
    PolicyKind("crd.antrea.io", "ClusterNetworkPolicy", "clusternetworkpolicies", False, hosts=True),
    # Istio: "the AuthorizationPolicy ... enables access control on workloads in the mesh", enforced by the workload's
    # sidecar or waypoint on inbound traffic -- on top of the CNI, never instead of it.
    PolicyKind(
        "security.istio.io", "AuthorizationPolicy", "authorizationpolicies", True, directions=("ingress",), restrict_only=True
    ),
    # OVN-Kubernetes EgressFirewall: egress of a namespace to outside the cluster, on top of NetworkPolicy.
    PolicyKind("k8s.ovn.org", "EgressFirewall", "egressfirewalls", True, directions=("egress",), restrict_only=True),
    # GKE FQDN network policies.
    PolicyKind("networking.gke.io", "FQDNNetworkPolicy", "fqdnnetworkpolicies", True, directions=("egress",)),
)

_BY_KEY = {(k.group, k.kind): k for k in KINDS}
KNOWN = frozenset(_BY_KEY)
# Discovery looks at these groups (and at any other whose resources are named like network policies).
POLICY_GROUPS = tuple(dict.fromkeys(k.group for k in KINDS if k.group not in ("networking.k8s.io", "extensions")))

# Kinds named like a network policy are treated as one wherever they come from (a CNI this table does not know yet):
# fail closed. Not: PodSecurityPolicy, ValidatingAdmissionPolicy, Kyverno ClusterPolicy -- they do not filter traffic.
_SUFFIXES = ("NetworkPolicy", "AuthorizationPolicy", "FirewallPolicy")


# A Gap with this resource: API discovery failed, so which policy CRDs exist is unknown (every verdict is UNKNOWN).
DISCOVERY = "policy API groups (discovery)"

# Built-in groups that hold no network policy besides networking.k8s.io's own (read separately).
_BUILTIN = ("networking.k8s.io", "policy", "extensions")
_HINTS = ("network", "policy", "policies", "firewall", "security", "cilium", "calico", "antrea", "istio", "ovn")


def may_hold_policies(group: str) -> bool:
    """Whether live discovery should look for policy kinds in an API group: the groups of the table and any other
    whose name suggests network policy (a CNI this table does not know yet)."""
    if group in _BUILTIN:
        return False
    return group in POLICY_GROUPS or any(h in group for h in _HINTS)


def lookup(group: str, kind: str) -> PolicyKind | None:
    """The table entry of a kind, else a generic one for a kind named like a network policy, else None."""
    known = _BY_KEY.get((group, kind))
    if known is not None:
        return known
    if kind.endswith(_SUFFIXES) or kind == "EgressFirewall":
        # Scope unknown: the caller decides from the object (metadata.namespace) or discovery.
        return PolicyKind(group, kind, kind.lower() + "s", True)
    return None


def by_resource(resource: str) -> PolicyKind | None:
    """The kind a Gap's resource (plural.group) names, for the policy kinds other than NetworkPolicy/ANP/BANP (whose
    gaps the engine already indexes); a generic cluster-wide one for a failed discovery or an unknown policy CRD."""
    if resource == DISCOVERY or "/" in resource:  # discovery of a policy group (GROUP/VERSION) failed
        return PolicyKind("", "policies", resource, False, hosts=True)
    plural, _, group = resource.partition(".")
    for k in KINDS:
        if k.plural == plural and k.group == group and k.engine != "k8s":
            return k
    if group and may_hold_policies(group) and plural.endswith(("policies", "firewalls")):
        return PolicyKind(group, plural, plural, True, hosts=True)
    return None


def is_policy_like(kind: str) -> bool:
    return kind.endswith(_SUFFIXES) or kind == "EgressFirewall" or any(k.kind == kind and not k.data for k in KINDS)
