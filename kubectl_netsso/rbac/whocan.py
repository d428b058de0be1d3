"""The reverse RBAC question: which subjects hold a permission, through which binding -> role -> rule, and who could
obtain it through an escalation path (bind, escalate, impersonate, create pods as a ServiceAccount).

Pure. It answers from the same compiled RbacModel, binding order and rule matching as the forward authorizer
(authorize.py: _applicable_bindings, _resolve, rules.rule_allows), so a subject is listed for a request exactly
when authorize() allows an identity carrying that subject (tests/unit/rbac/test_whocan.py checks it). The rule that
decides each binding is memoised per role: many bindings share a role, so a query costs one pass over the bindings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..cluster.snapshot import RoleBinding, Subject
from .authorize import (
    SUPERUSER_GROUP,
    EffectiveRule,
    Grant,
    Identity,
    RbacModel,
    _applicable_bindings,
    _resolve,
    binding_ref,
    subject_text,
    subject_username,
)
from .rules import NON_RESOURCE_ALL, Request, rule_allows

# How an escalation path is named (JSON "escalation"; text "via bind", ...).
BIND = "bind"
ESCALATE = "escalate"
IMPERSONATE = "impersonate"
POD_AS_SA = "create pods as"


def wildcards(rule: EffectiveRule) -> tuple[str, ...]:
    """Which fields of the granting rule are '*' (verbs, apiGroups, resources incl. '*/sub', nonResourceURLs *)."""
    r = rule.rule
    out = []
    if "*" in r.verbs:
        out.append("verbs")
    if "*" in r.api_groups:
        out.append("apiGroups")
    if any(x == "*" or x.startswith("*/") for x in r.resources):
        out.append("resources")
    if any(u == NON_RESOURCE_ALL or u.endswith("*") for u in r.non_resource_urls):
        out.append("nonResourceURLs")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Holder:
    """A subject that holds the permission (or, with ``escalation``, could obtain it).

    scope: where it holds it: "" cluster-wide (a ClusterRoleBinding; every namespace), else the RoleBinding's
    namespace. names: non-empty when the granting rules list resourceNames: it holds it on those objects only.
    superuser: the group system:masters, allowed by the API server before RBAC is asked (no grant).
    escalation: "" for a direct holder; else the path (bind, escalate, impersonate, create pods as the
    ServiceAccount) and ``via`` the direct holder or role it leads to.
    """

    subject: Subject
    grant: Grant | None
    scope: str = ""
    names: tuple[str, ...] = ()
    superuser: bool = False
    escalation: str = ""
    via: str = ""

    @property
    def direct(self) -> bool:
        return not self.escalation and not self.superuser

    @property
    def wildcards(self) -> tuple[str, ...]:
        return wildcards(self.grant.rule) if self.grant is not None else ()

    @property
    def username(self) -> str | None:
        return subject_username(self.subject)

    def covers(self, ident: Identity) -> bool:
        """Does this row stand for the identity (its user name, or one of its groups)?"""
        if self.subject.kind == "Group":
            return self.subject.name in ident.groups
        return self.username == ident.user

    def grant_text(self) -> str:
        if self.superuser:
            return "the API server's superuser group (outside RBAC)"
        return self.grant.describe() if self.grant is not None else ""

    def to_dict(self) -> dict[str, Any]:
        s = self.subject
        out: dict[str, Any] = {"kind": s.kind, "name": s.name}
        if s.kind == "ServiceAccount":
            out["namespace"] = s.namespace
        out["scope"] = self.scope or None
        out["direct"] = self.direct
        out["superuser"] = self.superuser
        out["grant"] = self.grant.to_dict() if self.grant is not None else None
        out["resourceNames"] = list(self.names)
        out["wildcards"] = list(self.wildcards)
        out["escalation"] = self.escalation or None
        if self.via:
            out["via"] = self.via
        return out


@dataclass(frozen=True, slots=True)
class WhoCan:
    """Every holder of one permission, the escalation paths to it, and what could not be resolved."""

    request: Request
    holders: tuple[Holder, ...]
    errors: tuple[str, ...] = ()

    @property
    def direct(self) -> tuple[Holder, ...]:
        return tuple(h for h in self.holders if h.direct)

    def allows(self, ident: Identity) -> bool:
        """What the rows say about one identity: some direct row covers it (or it is in system:masters)."""
        return any(h.covers(ident) for h in self.holders if h.direct or h.superuser)


@dataclass
class ReverseIndex:
    """A compiled RbacModel asked many reverse questions: the deciding rule of each role is memoised per request."""

    model: RbacModel
    _memo: dict[tuple[object, ...], tuple[EffectiveRule | None, tuple[str, ...]]] = field(default_factory=dict)
    _errors: dict[str, str] = field(default_factory=dict)

    def _decide(self, b: RoleBinding, request: Request, any_name: bool) -> tuple[EffectiveRule | None, tuple[str, ...]]:
        """The first rule of the binding's role that allows request; with any_name and no name asked, else the first
        rule that allows it on some listed names, with every name the role's rules grant it on."""
        role_key = (b.namespace or "") if b.role_kind == "Role" else ""
        # rule_allows ignores the namespace: one answer per role serves every namespace (-A)
        r = request
        key = (r.verb, r.resource, r.api_group, r.subresource, r.name, r.path, role_key, b.role_kind, b.role_name, any_name)
        if key in self._memo:
            return self._memo[key]
        rules, err = _resolve(self.model, b)
        found: tuple[EffectiveRule | None, tuple[str, ...]] = (None, ())
        if err:
            self._errors[binding_ref(b)] = err
        else:
            first_named: EffectiveRule | None = None
            names: list[str] = []
            for er in rules or ():
                if rule_allows(er.rule, request):
                    found = (er, ())
                    break
                if any_name and not request.name and er.rule.resource_names:
                    for n in er.rule.resource_names:
                        if n not in names and rule_allows(er.rule, replace(request, name=n)):
                            names.append(n)
                            first_named = first_named or er
            else:
                if first_named is not None:
                    found = (first_named, tuple(sorted(names)))
        self._memo[key] = found
        return found

    def holders(self, request: Request, *, any_name: bool = True, namespaces: Sequence[str] | None = None) -> WhoCan:
        """Who holds request: ClusterRoleBindings (scope "") then the RoleBindings of the request's namespace.

        namespaces (who-can -A on a namespaced resource): the RoleBindings of each of these namespaces too, each
        asked with the request in that namespace. system:masters is listed last (superuser, outside RBAC).
        """
        self._errors = {}
        out: list[Holder] = []
        seen: set[tuple[Subject, str, str]] = set()
        scopes: list[tuple[str, Request, Iterable[RoleBinding]]] = []
        base_ns = request.namespace if request.is_resource_request else ""
        scopes.append(("", request, _applicable_bindings(self.model, "")))
        if base_ns:
            scopes.append((base_ns, request, self.model.bindings_by_ns.get(base_ns, ())))
        for ns in namespaces or ():
            if ns and ns != base_ns and request.is_resource_request:
                scopes.append((ns, replace(request, namespace=ns), self.model.bindings_by_ns.get(ns, ())))
        for scope, req, bindings in scopes:
            for b in bindings:
                rule, names = self._decide(b, req, any_name)
                if rule is None:
                    continue
                grant = Grant(binding=b, rule=rule)
                for subj in bound_subjects(b):
                    key = (subj, scope, binding_ref(b))
                    if key not in seen:
                        seen.add(key)
                        out.append(Holder(subj, grant, scope, names))
        out.append(Holder(Subject("Group", SUPERUSER_GROUP), None, superuser=True))
        return WhoCan(request, tuple(out), tuple(dict.fromkeys(self._errors.values())))

    def granting_roles(self, request: Request) -> list[tuple[str, str]]:
        """(kind, "NS/name" or name) of every Role in the request's namespace and ClusterRole whose rules allow it."""
        out = []
        for (ns, name), rules in sorted(self.model.rules.items()):
            if ns and ns != request.namespace:
                continue
            if any(rule_allows(er.rule, request) for er in rules):
                out.append(("Role", f"{ns}/{name}") if ns else ("ClusterRole", name))
        return out


def bound_subjects(b: RoleBinding) -> Iterable[Subject]:
    """The binding's usable subjects: User, Group, ServiceAccount with its namespace defaulted to the binding's (in a
    ClusterRoleBinding a ServiceAccount without namespace matches nobody: left out; see authorize.applies_to)."""
    for s in b.subjects:
        if s.kind == "ServiceAccount":
            ns = s.namespace or (b.namespace or "")
            if ns:
                yield Subject(kind=s.kind, name=s.name, namespace=ns)
        elif s.kind in ("User", "Group"):
            yield Subject(kind=s.kind, name=s.name)


def who_can(model: RbacModel, request: Request, *, any_name: bool = True, namespaces: Sequence[str] | None = None) -> WhoCan:
    return ReverseIndex(model).holders(request, any_name=any_name, namespaces=namespaces)


# --------------------------------------------------------------------------------------------------- escalation paths


def _rbac(verb: str, resource: str, namespace: str = "", name: str = "", group: str = "rbac.authorization.k8s.io") -> Request:
    return Request(verb=verb, resource=resource, api_group=group, name=name, namespace=namespace)


def escalations(
    index: ReverseIndex, found: WhoCan, pod_creation: Sequence[Request] = (), namespaces: Sequence[str] = ()
) -> list[Holder]:
    """Subjects that do not hold the permission but can obtain it (each path once per subject, direct holders left
    out):

    - bind: may bind a role that grants it (verb bind on that role, honouring resourceNames) and create the binding
      (create rolebindings in the namespace, or clusterrolebindings for a cluster-wide grant);
    - escalate: may put any rule into a role it can edit (escalate and update on roles/clusterroles);
    - impersonate: may impersonate a direct holder (users / groups / serviceaccounts by name; a group together with
      some user, as the API server requires);
    - create pods as (a ServiceAccount): may create pods (pod_creation: create pods, workloads...) in the
      namespace of a ServiceAccount that holds it: a pod may run as any ServiceAccount of its namespace.

    Rule checks only (the API server's ConfirmNoEscalation also lets a subject that already holds every rule bind
    it; such a subject is a direct holder anyway).
    """
    req = found.request
    direct = [h for h in found.holders if h.direct]
    have = {h.subject for h in direct} | {Subject("Group", SUPERUSER_GROUP)}
    out: list[Holder] = []
    seen: set[tuple[Subject, str]] = set()
    memo: dict[Request, tuple[Holder, ...]] = {}

    def holding(r: Request, name: str = "") -> list[Holder]:
        """Direct holders of r (asked once, without a name) that hold it on name (resourceNames honoured)."""
        if r not in memo:
            memo[r] = index.holders(r).direct
        return [h for h in memo[r] if not h.names or (name and name in h.names)]

    def add(rows: Iterable[Holder], path: str, via: str, scope_ns: str | None = None) -> None:
        for h in rows:
            if h.subject in have or (h.subject, path) in seen:
                continue  # one row per subject and path: the first way it is found
            if scope_ns is not None and h.scope not in ("", scope_ns):
                continue
            seen.add((h.subject, path))
            out.append(replace(h, escalation=path, via=via))

    ns = req.namespace if req.is_resource_request else ""
    scopes = [ns] if ns else [""]
    if not ns and req.is_resource_request:
        scopes += [n for n in namespaces if n]
    for scope in scopes:
        scoped = replace(req, namespace=scope) if req.is_resource_request else req
        creators = {h.subject for h in holding(_rbac("create", "rolebindings" if scope else "clusterrolebindings", scope))}
        for kind, ref in index.granting_roles(scoped):
            if kind == "Role" and not scope:
                continue
            name = ref.rsplit("/", 1)[-1]
            binders = holding(_rbac("bind", "roles" if kind == "Role" else "clusterroles", scope), name)
            add((h for h in binders if h.subject in creators), BIND, f"{kind} {ref}")
        for res in ("roles", "clusterroles") if scope else ("clusterroles",):
            upd = {h.subject for h in holding(_rbac("update", res, scope))}
            add((h for h in holding(_rbac("escalate", res, scope)) if h.subject in upd), ESCALATE, f"{res} it can update")
    for h in direct:
        s = h.subject
        if s.kind == "User":
            add(holding(_rbac(IMPERSONATE, "users", group=""), s.name), IMPERSONATE, subject_text(s))
        elif s.kind == "Group" and not s.name.startswith("system:"):
            # impersonating a group takes a user too (--as-group needs --as): impersonate on some user as well
            some_user = {h.subject for h in holding(_rbac(IMPERSONATE, "users", group=""))}
            some_user |= {h.subject for h in memo[_rbac(IMPERSONATE, "users", group="")] if h.names}
            both = (h for h in holding(_rbac(IMPERSONATE, "groups", group=""), s.name) if h.subject in some_user)
            add(both, IMPERSONATE, subject_text(s))
        elif s.kind == "ServiceAccount" and s.namespace:
            sa_ns = s.namespace
            add(holding(_rbac(IMPERSONATE, "serviceaccounts", sa_ns, group=""), s.name), IMPERSONATE, subject_text(s), sa_ns)
            for creation in pod_creation:
                add(holding(replace(creation, namespace=sa_ns)), POD_AS_SA, subject_text(s), sa_ns)
    return out


def token_name(subject: Subject, groups_prefix: str | None, username_prefix: str | None = None) -> str | None:
    """The name in the ID token a subject stands for under the API server's claim mapping: Group 'oidc:devs' with
    --oidc-groups-prefix 'oidc:' is the token group 'devs'; None when no prefix applies."""
    prefix = groups_prefix if subject.kind == "Group" else username_prefix if subject.kind == "User" else None
    if prefix and subject.name.startswith(prefix) and len(subject.name) > len(prefix):
        return subject.name[len(prefix) :]
    return None


__all__ = [
    "BIND", "ESCALATE", "IMPERSONATE", "POD_AS_SA", "Holder", "ReverseIndex", "WhoCan", "bound_subjects",
    "escalations", "subject_text", "subject_username", "token_name", "who_can", "wildcards",
]  # fmt: skip
