"""Footholds: where an identity can act from inside the cluster network, derived from its RBAC permissions.

- pods it can exec into, attach to, port-forward to or proxy to (per pod, or per workload for its pods);
- Services it can proxy to through the API server;
- namespaces where it can create pods or workloads (or patch a workload's pod template): it chooses the labels, so
  the foothold is "any pod labels in that namespace";
- namespaces where it can create/update/patch/delete NetworkPolicies: it can rewrite the rules (critical).

Pure: permission answers come from a ``Permissions`` object (offline: the RBAC evaluator; live: the review APIs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..cluster.snapshot import Service, Snapshot, Workload
from ..rbac.rules import Request
from .model import CREATE, NETPOL, POD, SERVICE, Access, Foothold, Subject


@dataclass(frozen=True, slots=True)
class Action:
    """A permission that yields a foothold: a name for people and the authorizer request it needs."""

    name: str
    verb: str
    resource: str
    subresource: str = ""
    api_group: str = ""

    def request(self, namespace: str, name: str = "") -> Request:
        return Request(
            verb=self.verb,
            resource=self.resource,
            api_group=self.api_group,
            subresource=self.subresource,
            name=name,
            namespace=namespace,
        )


# "kubectl exec" / "attach" / "port-forward" POST to the pod's subresource: verb create (kubernetes.io, "Authorization",
# "Determine the request verb": POST -> create). Since the WebSocket transport (1.30+) the API server also requires
# create for the upgrade GET (KEP-4006, AuthorizePodWebsocketUpgradeCreatePermission).
POD_ACTIONS = (
    Action("exec", "create", "pods", "exec"),
    Action("attach", "create", "pods", "attach"),
    Action("port-forward", "create", "pods", "portforward"),
    Action("pod proxy", "get", "pods", "proxy"),
)
SERVICE_ACTIONS = (Action("service proxy", "get", "services", "proxy"),)
# Who may create a pod -- directly or through any workload controller -- picks its labels (and its ServiceAccount);
# patching a workload's pod template does the same for the pods it rolls out.
CREATE_ACTIONS = (
    Action("create pods", "create", "pods"),
    *(Action(f"create {r}", "create", r, api_group="apps") for r in ("deployments", "statefulsets", "daemonsets", "replicasets")),
    Action("create jobs", "create", "jobs", api_group="batch"),
    Action("create cronjobs", "create", "cronjobs", api_group="batch"),
    Action("create replicationcontrollers", "create", "replicationcontrollers"),
    *(
        Action(f"{v} {r}", v, r, api_group="apps")
        for r in ("deployments", "statefulsets", "daemonsets")
        for v in ("patch", "update")
    ),
    Action("patch cronjobs", "patch", "cronjobs", api_group="batch"),
)
NETPOL_ACTIONS = tuple(
    Action(f"{v} networkpolicies", v, "networkpolicies", api_group="networking.k8s.io")
    for v in ("create", "update", "patch", "delete")
)
ALL_ACTIONS = POD_ACTIONS + SERVICE_ACTIONS + CREATE_ACTIONS + NETPOL_ACTIONS


class Permissions(Protocol):
    """Answers permission questions for one identity."""

    def check(self, request: Request) -> tuple[bool, str]:
        """(allowed, how: the granting binding and role, or the authorizer's reason)."""
        ...

    def names_for(self, action: Action, namespace: str) -> Iterable[str]:
        """Object names that a name-restricted rule (resourceNames) grants this action on; may be empty."""
        ...


class RbacPermissions:
    """Permissions of one identity from the offline RBAC evaluator (kubectl_netsso.rbac.authorize.Authorizer)."""

    def __init__(self, authorizer: object, user: str, groups: Sequence[str], complete: bool = False) -> None:
        """complete=True: groups already hold what the API server adds (e.g. from identity(..., impersonated=True))."""
        from ..rbac.authorize import Authorizer, Identity, identity

        assert isinstance(authorizer, Authorizer)
        self.az = authorizer
        self.ident = Identity(user=user, groups=tuple(groups)) if complete else identity(user, groups)
        self._names: dict[tuple[str, str], set[str]] = {}

    def check(self, request: Request) -> tuple[bool, str]:
        d = self.az.decide(self.ident, request)
        if not d.allowed:
            return False, d.reason
        if d.grant is not None:
            return True, _grant_text(d.grant)
        return True, d.reason

    def names_for(self, action: Action, namespace: str) -> Iterable[str]:
        from ..rbac.rules import rule_allows

        key = (namespace, action.name)
        if key not in self._names:
            names: set[str] = set()
            grants, _ = self.az.rules_for(self.ident, namespace)
            for g in grants:
                rule = g.rule.rule
                for n in rule.resource_names:
                    if rule_allows(rule, action.request(namespace, n)):
                        names.add(n)
            self._names[key] = names
        return self._names[key]


def _grant_text(grant: object) -> str:
    """'RoleBinding shop/devs-edit -> ClusterRole edit' (the rule index is in the JSON; people want the binding)."""
    from ..rbac.authorize import binding_ref, role_ref

    binding = getattr(grant, "binding")  # noqa: B009 - Grant from rbac.authorize
    return f"{binding_ref(binding)} -> {role_ref(binding)}"


def namespaces_in(snapshot: Snapshot) -> list[str]:
    """Every namespace the snapshot knows: Namespace objects and the namespaces of its objects."""
    names = {n.name for n in snapshot.namespaces}
    names |= {w.namespace for w in snapshot.workloads}
    names |= {s.namespace for s in snapshot.services}
    names |= {p.namespace for p in snapshot.network_policies}
    return sorted(names)


def workload_groups(workloads: Iterable[Workload]) -> list[tuple[str, list[Workload]]]:
    """Pods grouped by their workload (live pods by owner, ReplicaSet api-7d9 -> deployment api); others alone."""
    groups: dict[str, list[Workload]] = {}
    for w in workloads:
        key = w.ref
        if w.kind == "Pod" and w.owner:
            okind, _, oname = w.owner.partition("/")
            if okind == "ReplicaSet" and "-" in oname:
                okind, oname = "Deployment", oname.rsplit("-", 1)[0]
            key = f"{w.namespace}/{okind.lower()}/{oname}"
        groups.setdefault(key, []).append(w)
    return sorted(groups.items())


@dataclass(frozen=True, slots=True)
class ByNamespace:
    """A snapshot's pods grouped by workload (workload_groups) and its Services, per namespace: built once for a
    snapshot whose footholds are derived for many identities."""

    groups: Mapping[str, list[tuple[str, list[Workload]]]]
    services: Mapping[str, list[Service]]


def by_namespace(snapshot: Snapshot) -> ByNamespace:
    workloads: dict[str, list[Workload]] = {}
    for w in snapshot.workloads:
        workloads.setdefault(w.namespace, []).append(w)
    services: dict[str, list[Service]] = {}
    for s in snapshot.services:
        services.setdefault(s.namespace, []).append(s)
    return ByNamespace({ns: workload_groups(ws) for ns, ws in workloads.items()}, services)


def derive_footholds(
    snapshot: Snapshot, perms: Permissions, namespaces: Sequence[str] | None = None, index: ByNamespace | None = None
) -> list[Foothold]:
    """All footholds of one identity in the given namespaces (None: every namespace of the snapshot). index: the
    snapshot's by_namespace, when the caller derives for many identities."""
    scope = list(namespaces) if namespaces is not None else namespaces_in(snapshot)
    if index is None:
        index = by_namespace(snapshot)
    out: list[Foothold] = []
    for ns in scope:
        out.extend(_pod_footholds(perms, ns, index.groups.get(ns, [])))
        out.extend(_service_footholds(perms, ns, index.services.get(ns, [])))
        create = _namespace_access(perms, ns, CREATE_ACTIONS)
        if create:
            out.append(Foothold(CREATE, ns, f"{ns}/*", create))
        netpol = _namespace_access(perms, ns, NETPOL_ACTIONS)
        if netpol:
            out.append(Foothold(NETPOL, ns, f"{ns}/networkpolicies", netpol))
    return out


def _namespace_access(perms: Permissions, ns: str, actions: Sequence[Action]) -> tuple[Access, ...]:
    got: list[Access] = []
    for a in actions:
        ok, how = perms.check(a.request(ns))
        if ok:
            got.append(Access(a.name, how))
    return tuple(got)


def _pod_footholds(perms: Permissions, ns: str, groups: list[tuple[str, list[Workload]]]) -> list[Foothold]:
    if not groups:
        return []
    # One question without a name answers for every pod (a rule without resourceNames); names from
    # resourceNames-restricted rules are then checked one by one ("a rule with names never matches a request
    # without a name", rbac evaluation_helpers ResourceNameMatches).
    any_pod: dict[str, Access] = {}
    named: dict[str, set[str]] = {}
    for a in POD_ACTIONS:
        ok, how = perms.check(a.request(ns))
        if ok:
            any_pod[a.name] = Access(a.name, how)
        else:
            named[a.name] = set(perms.names_for(a, ns))
    if not any_pod and not any(named.values()):
        return []
    out: list[Foothold] = []
    for key, pods in groups:
        access: list[Access] = []
        for a in POD_ACTIONS:
            if a.name in any_pod:
                access.append(any_pod[a.name])
                continue
            # A bare Pod manifest or a live pod has a real name; a workload's pods have generated names no
            # resourceNames list can know in advance.
            for p in pods:
                if p.kind == "Pod" and p.name in named.get(a.name, ()):
                    ok, how = perms.check(a.request(ns, p.name))
                    if ok:
                        access.append(Access(a.name, how))
                        break
        if access:
            target = key if len(pods) > 1 or pods[0].kind != "Pod" or key != pods[0].ref else pods[0].ref
            out.append(Foothold(POD, ns, target, tuple(access), tuple(pods)))
    return out


def _service_footholds(perms: Permissions, ns: str, services: list[Service]) -> list[Foothold]:
    out: list[Foothold] = []
    for a in SERVICE_ACTIONS:
        ok, how = perms.check(a.request(ns))
        names = set() if ok else set(perms.names_for(a, ns))
        for svc in sorted(services, key=lambda s: s.name):
            if ok:
                out.append(Foothold(SERVICE, ns, f"{ns}/svc/{svc.name}", (Access(a.name, how),)))
            elif svc.name in names:
                ok_named, how_named = perms.check(a.request(ns, svc.name))
                if ok_named:
                    out.append(Foothold(SERVICE, ns, f"{ns}/svc/{svc.name}", (Access(a.name, how_named),)))
    return out


# --- every subject at once (audit, report) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubjectAccess:
    """One RBAC subject holding one action in one namespace, and how."""

    subject: Subject
    namespace: str
    action: str
    grant: str
    cluster_wide: bool  # through a ClusterRoleBinding
    verbs: tuple[str, ...] = ()  # the granting rule's verbs (to flag "*")
    resources: tuple[str, ...] = ()  # the granting rule's resources


def subjects_with_actions(
    authorizer: object, namespaces: Sequence[str], actions: Sequence[Action] = ALL_ACTIONS
) -> list[SubjectAccess]:
    """Which subjects hold each action in each namespace (reverse RBAC query; no per-subject loop).

    Name-restricted rules are left out here: they grant on named objects only, not "any pod" or "create".
    """
    from ..rbac.authorize import Authorizer

    assert isinstance(authorizer, Authorizer)
    out: list[SubjectAccess] = []
    for ns in namespaces:
        for a in actions:
            found, _ = authorizer.subjects_with(a.request(ns))
            for sg in found:
                s = sg.subject
                out.append(
                    SubjectAccess(
                        subject=Subject(kind=s.kind, name=s.name, namespace=s.namespace),
                        namespace=ns,
                        action=a.name,
                        grant=_grant_text(sg.grant),
                        cluster_wide=sg.grant.binding.namespace is None,
                        verbs=tuple(sg.grant.rule.rule.verbs),
                        resources=tuple(sg.grant.rule.rule.resources),
                    )
                )
    return out


def group_by_subject(rows: Iterable[SubjectAccess]) -> Mapping[Subject, list[SubjectAccess]]:
    out: dict[Subject, list[SubjectAccess]] = {}
    for r in rows:
        out.setdefault(r.subject, []).append(r)
    return out
