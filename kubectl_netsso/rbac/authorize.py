"""RBAC authorization on a Snapshot: identity -> bindings -> roles (with aggregation) -> decision and the grant.

Public API (pure, no I/O):
    identity(user, groups) -> Identity                 the user plus the groups the API server adds
    compile_rbac(snapshot) -> RbacModel                roles indexed, ClusterRole aggregation computed once
    authorize(model, ident, request) -> Decision       allowed?, the granting binding/role/rule, resolution errors
    rules_for(model, ident, namespace) -> [Grant]      every rule the identity holds in a namespace (can-i --list)
    subjects_for(model, request) -> [SubjectGrant]     which subjects hold a permission (reverse query, "who can")

Semantics: kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go, pkg/registry/rbac/validation/rule.go,
pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go.

Long because: the queries of the public API share the compiled RbacModel and its resolution helpers
(_applicable_bindings, _resolve, _grants); one module keeps them answering from the same bindings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..cluster.snapshot import PolicyRule, Role, RoleBinding, Snapshot, Subject
from .rules import Request, rule_allows

# k8s.io/apiserver pkg/authentication/user: user.AllAuthenticated, AllUnauthenticated, Anonymous, SystemPrivilegedGroup.
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SUPERUSER_GROUP = "system:masters"
SA_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"


# ---------------------------------------------------------------------------------------------------------- identity


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated user as the authorizer sees it (user.Info: name and groups)."""

    user: str
    groups: tuple[str, ...] = ()

    @property
    def service_account(self) -> tuple[str, str] | None:
        """(namespace, name) when the user is a service account."""
        return parse_service_account(self.user)


def parse_service_account(user: str) -> tuple[str, str] | None:
    # serviceaccount.SplitUsername: "system:serviceaccount:<namespace>:<name>", both parts non-empty, no more colons.
    if not user.startswith(SA_PREFIX):
        return None
    parts = user[len(SA_PREFIX) :].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def identity(user: str, groups: Iterable[str] = (), *, impersonated: bool = False) -> Identity:
    """The identity with the groups the API server adds.

    - service accounts: "system:serviceaccounts" and "system:serviceaccounts:<ns>" (serviceaccount.MakeGroupNames;
      a service account token always carries them, and impersonating an SA without groups adds them too); with
      impersonated=True (--as/--as-group) only when no group was given, as impersonation.go does: "if groups aren't
      specified for a service account, we know the groups because its a fixed mapping. Add them";
    - any user except system:anonymous: "system:authenticated", unless system:(un)authenticated is already there
      (AuthenticatedGroupAdder; impersonation.go "include the 'system:authenticated' group ... If
      'system:unauthenticated' group has been specified we should not include the 'system:authenticated' group");
    - system:anonymous: "system:unauthenticated".
    """
    out: list[str] = []
    for g in groups:
        if g not in out:
            out.append(g)
    sa = parse_service_account(user)
    if sa is not None and not (impersonated and out):
        for g in (SA_GROUP, f"{SA_GROUP}:{sa[0]}"):
            if g not in out:
                out.append(g)
    if user == ANONYMOUS:
        if ALL_UNAUTHENTICATED not in out:
            out.append(ALL_UNAUTHENTICATED)
    elif ALL_AUTHENTICATED not in out and ALL_UNAUTHENTICATED not in out:
        out.append(ALL_AUTHENTICATED)
    return Identity(user=user, groups=tuple(out))


# ----------------------------------------------------------------------------------------------------- label selectors


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelectorAsSelector semantics: None matches nothing, {} matches everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or ():
        key = expr.get("key", "")
        op = expr.get("operator", "")
        values = [str(v) for v in expr.get("values") or ()]
        if op == "In":
            if key not in labels or labels[key] not in values:
                return False
        elif op == "NotIn":
            if key in labels and labels[key] in values:
                return False
        elif op == "Exists":
            if key not in labels:
                return False
        elif op == "DoesNotExist":
            if key in labels:
                return False
        else:
            return False  # an invalid operator selects nothing (LabelSelectorAsSelector returns an error)
    return True


# --------------------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """A rule of a role as the authorizer uses it.

    index: position in the role's effective rules (for an aggregated ClusterRole, the computed list);
    origin_role/origin_index: for an aggregated rule, the ClusterRole and position it was copied from.
    """

    rule: PolicyRule
    index: int
    origin_role: str | None = None
    origin_index: int | None = None


@dataclass(frozen=True, slots=True)
class RbacModel:
    """Roles and bindings, indexed once. Build with compile_rbac()."""

    cluster_roles: Mapping[str, Role]
    roles: Mapping[tuple[str, str], Role]  # (namespace, name)
    rules: Mapping[tuple[str, str], tuple[EffectiveRule, ...]]  # (namespace or "", name) -> effective rules
    cluster_bindings: tuple[RoleBinding, ...]
    bindings_by_ns: Mapping[str, tuple[RoleBinding, ...]]
    aggregated: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()

    @property
    def namespaces(self) -> tuple[str, ...]:
        names = set(self.bindings_by_ns) | {ns for ns, _ in self.roles}
        return tuple(sorted(names))


def _binding_sort_key(b: RoleBinding) -> tuple[str, str, str]:
    return (b.namespace or "", b.name, b.source)


def _aggregate(cluster_roles: Mapping[str, Role]) -> tuple[dict[str, tuple[EffectiveRule, ...]], list[str]]:
    """ClusterRole aggregation as the clusterrole-aggregation controller computes it, run to a fixed point.

    Controller: for a ClusterRole with aggregationRule, "clusterRoles ... sort.Sort(byName(clusterRoles))", skip
    itself, append each rule not already present (semantic equality), and replace the role's rules with the result
    (own rules are not kept). It reacts to every change, so chains (view -> edit -> admin) carry through; here each
    pass recomputes every aggregating role from the previous pass until nothing changes.
    """
    names = sorted(cluster_roles)
    current: dict[str, tuple[EffectiveRule, ...]] = {}
    for name in names:
        role = cluster_roles[name]
        current[name] = tuple(EffectiveRule(rule=r, index=i) for i, r in enumerate(role.rules))
    aggregators = [n for n in names if cluster_roles[n].aggregation_selectors is not None]
    warnings: list[str] = []
    if not aggregators:
        return current, warnings
    members: dict[str, list[str]] = {}
    for agg in aggregators:
        selectors = cluster_roles[agg].aggregation_selectors or ()
        members[agg] = [
            n for n in names if n != agg and any(selector_matches(s, cluster_roles[n].labels) for s in selectors)
        ]
    for _ in range(len(aggregators) + 2):
        nxt = dict(current)
        for agg in aggregators:
            seen: set[PolicyRule] = set()
            out: list[EffectiveRule] = []
            for member in members[agg]:
                for er in current[member]:
                    if er.rule in seen:
                        continue
                    seen.add(er.rule)
                    origin = er.origin_role or member
                    origin_index = er.origin_index if er.origin_role else er.index
                    out.append(EffectiveRule(rule=er.rule, index=len(out), origin_role=origin, origin_index=origin_index))
            nxt[agg] = tuple(out)
        if nxt == current:
            break
        current = nxt
    else:
        warnings.append("ClusterRole aggregation did not settle (a cycle of aggregationRules?); using the last pass")
    return current, warnings


def compile_rbac(snapshot: Snapshot) -> RbacModel:
    """Index roles and bindings and compute ClusterRole aggregation once.

    Duplicate objects (same kind, namespace and name) keep the one sorting last by source, so the result does not
    depend on the order of files or documents.
    """
    cluster_roles: dict[str, Role] = {}
    roles: dict[tuple[str, str], Role] = {}
    for role in sorted(snapshot.roles, key=lambda r: (r.namespace or "", r.name, r.source)):
        if role.namespace is None:
            cluster_roles[role.name] = role
        else:
            roles[(role.namespace, role.name)] = role
    rules, warnings = _aggregate(cluster_roles)
    all_rules: dict[tuple[str, str], tuple[EffectiveRule, ...]] = {("", n): rs for n, rs in rules.items()}
    for (ns, name), role in roles.items():
        all_rules[(ns, name)] = tuple(EffectiveRule(rule=r, index=i) for i, r in enumerate(role.rules))
    unique: dict[tuple[str, str], RoleBinding] = {}
    for b in sorted(snapshot.bindings, key=_binding_sort_key):
        unique[(b.namespace if b.namespace is not None else "\0", b.name)] = b
    cluster_bindings = tuple(sorted((b for b in unique.values() if b.namespace is None), key=_binding_sort_key))
    by_ns: dict[str, list[RoleBinding]] = {}
    for b in sorted((b for b in unique.values() if b.namespace is not None), key=_binding_sort_key):
        by_ns.setdefault(b.namespace or "", []).append(b)
    return RbacModel(
        cluster_roles=cluster_roles,
        roles=roles,
        rules=all_rules,
        cluster_bindings=cluster_bindings,
        bindings_by_ns={ns: tuple(bs) for ns, bs in by_ns.items()},
        aggregated=frozenset(n for n, r in cluster_roles.items() if r.aggregation_selectors is not None),
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------------------------------------------------ grants


def binding_ref(b: RoleBinding) -> str:
    return f"RoleBinding {b.namespace}/{b.name}" if b.namespace is not None else f"ClusterRoleBinding {b.name}"


def role_ref(b: RoleBinding) -> str:
    if b.role_kind == "Role":
        return f"Role {b.namespace}/{b.role_name}" if b.namespace is not None else f"Role {b.role_name}"
    return f"{b.role_kind} {b.role_name}"


@dataclass(frozen=True, slots=True)
class Grant:
    """One rule reaching an identity through one binding."""

    binding: RoleBinding
    rule: EffectiveRule

    def describe(self) -> str:
        """'RoleBinding shop/devs-edit -> ClusterRole edit, rule 3': rules counted from 1 in text, as the NetworkPolicy
        explanations count theirs (JSON keeps the 0-based ruleIndex into the role's rules)."""
        text = f"{binding_ref(self.binding)} -> {role_ref(self.binding)}, rule {self.rule.index + 1}"
        if self.rule.origin_role is not None:
            origin = self.rule.origin_index
            text += f" (aggregated from ClusterRole {self.rule.origin_role}, rule {'?' if origin is None else origin + 1})"
        return text

    def to_dict(self) -> dict[str, Any]:
        from .rules import rule_to_dict

        out: dict[str, Any] = {
            "binding": {"kind": self.binding.kind, "namespace": self.binding.namespace, "name": self.binding.name},
            "role": {
                "kind": self.binding.role_kind,
                "namespace": self.binding.namespace if self.binding.role_kind == "Role" else None,
                "name": self.binding.role_name,
            },
            "ruleIndex": self.rule.index,
            "rule": rule_to_dict(self.rule.rule),
        }
        if self.rule.origin_role is not None:
            out["aggregatedFrom"] = {"clusterRole": self.rule.origin_role, "ruleIndex": self.rule.origin_index}
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request. RBAC never denies explicitly: 'not allowed' is the authorizer's NoOpinion."""

    allowed: bool
    reason: str
    request: Request
    identity: Identity
    grant: Grant | None = None
    superuser: bool = False
    errors: tuple[str, ...] = ()

    @property
    def binding(self) -> RoleBinding | None:
        return self.grant.binding if self.grant else None

    @property
    def rule_index(self) -> int | None:
        return self.grant.rule.index if self.grant else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "grant": self.grant.to_dict() if self.grant else None,
            "errors": list(self.errors),
        }


def applies_to(subject: Subject, ident: Identity, binding_namespace: str) -> bool:
    """rule.go appliesToUser: User by name, Group by membership, ServiceAccount by its username.

    "default the namespace to namespace we're working in if its available" - a ServiceAccount subject without a
    namespace takes the RoleBinding's; in a ClusterRoleBinding it then matches nobody. A User named '*' is not a
    wildcard (rule_test.go TestAppliesTo). Unknown kinds match nobody.
    """
    if subject.kind == "User":
        return ident.user == subject.name
    if subject.kind == "Group":
        return subject.name in ident.groups
    if subject.kind == "ServiceAccount":
        sa_ns = subject.namespace or binding_namespace
        if not sa_ns:
            return False
        return ident.user == f"{SA_PREFIX}{sa_ns}:{subject.name}"
    return False


def _resolve(model: RbacModel, b: RoleBinding) -> tuple[tuple[EffectiveRule, ...] | None, str | None]:
    """rule.go GetRoleReferenceRules: Role in the binding's namespace, ClusterRole by name."""
    if b.role_kind == "Role":
        if b.namespace is None:
            return None, f'{binding_ref(b)}: roleRef kind Role is not allowed in a ClusterRoleBinding (role "{b.role_name}")'
        rules = model.rules.get((b.namespace, b.role_name))
        if rules is None:
            return None, f'{binding_ref(b)}: role.rbac.authorization.k8s.io "{b.role_name}" not found'
        return rules, None
    if b.role_kind == "ClusterRole":
        rules = model.rules.get(("", b.role_name))
        if rules is None:
            return None, f'{binding_ref(b)}: clusterrole.rbac.authorization.k8s.io "{b.role_name}" not found'
        return rules, None
    return None, f"{binding_ref(b)}: unsupported roleRef kind {b.role_kind!r}"


def _applicable_bindings(model: RbacModel, namespace: str) -> Iterator[RoleBinding]:
    # rule.go VisitRulesFor: "ClusterRoleBindings first", then "if len(namespace) > 0" the RoleBindings of that namespace.
    yield from model.cluster_bindings
    if namespace:
        yield from model.bindings_by_ns.get(namespace, ())


def _grants(model: RbacModel, ident: Identity, namespace: str, errors: list[str]) -> Iterator[Grant]:
    for b in _applicable_bindings(model, namespace):
        if not any(applies_to(s, ident, b.namespace or "") for s in b.subjects):
            continue
        rules, err = _resolve(model, b)
        if err:
            errors.append(err)
            continue
        for er in rules or ():
            yield Grant(binding=b, rule=er)


# (identity, namespace) -> (grants, errors, grants by verb). Grants keep their order (ClusterRoleBindings first) within
# each verb list, so the first allowing grant - the one the decision names - is the same as in the unindexed scan.
GrantCache = dict[tuple[Identity, str], tuple[tuple[Grant, ...], tuple[str, ...], dict[str, tuple[Grant, ...]]]]


def _by_verb(grants: tuple[Grant, ...]) -> dict[str, tuple[Grant, ...]]:
    verbs = {v for g in grants for v in g.rule.rule.verbs if v != "*"}
    return {v: tuple(g for g in grants if v in g.rule.rule.verbs or "*" in g.rule.rule.verbs) for v in verbs | {"*"}}


def authorize(model: RbacModel, ident: Identity, request: Request, cache: GrantCache | None = None) -> Decision:
    """Allowed when ANY rule of ANY binding that applies to the identity allows the request (rbac.go Authorize).

    Members of system:masters are allowed by the API server's superuser authorizer before RBAC is asked.
    Non-resource requests carry no namespace, so only ClusterRoleBindings can grant them.
    """
    if SUPERUSER_GROUP in ident.groups:
        return Decision(
            allowed=True,
            reason=f"allowed: group {SUPERUSER_GROUP} is the API server's superuser group (outside RBAC)",
            request=request,
            identity=ident,
            superuser=True,
        )
    namespace = request.namespace if request.is_resource_request else ""
    errors: list[str] = []
    grants: Iterable[Grant] = _grants(model, ident, namespace, errors) if cache is None else ()
    if cache is not None:
        key = (ident, namespace)
        if key not in cache:
            cached_errors: list[str] = []
            all_grants = tuple(_grants(model, ident, namespace, cached_errors))
            cache[key] = (all_grants, tuple(cached_errors), _by_verb(all_grants))
        _all, errs, by_verb = cache[key]
        grants = by_verb.get(request.verb, by_verb["*"])
        errors.extend(errs)
    for grant in grants:
        if rule_allows(grant.rule.rule, request):
            return Decision(
                allowed=True, reason="allowed by " + grant.describe(), request=request, identity=ident, grant=grant,
                errors=tuple(errors),
            )  # fmt: skip
    reason = "no RBAC rule allows it"
    if errors:
        reason += " (" + "; ".join(errors) + ")"
    return Decision(allowed=False, reason=reason, request=request, identity=ident, errors=tuple(errors))


def rules_for(model: RbacModel, ident: Identity, namespace: str) -> tuple[list[Grant], list[str]]:
    """Every rule the identity holds in a namespace ("" = cluster-wide only), like SelfSubjectRulesReview.

    Returns (grants, resolution errors). Rules with nonResourceURLs reached through a RoleBinding are left out: a
    non-resource request has no namespace, so they never grant anything.
    """
    errors: list[str] = []
    out: list[Grant] = []
    for g in _grants(model, ident, namespace, errors):
        if g.binding.namespace is not None and g.rule.rule.non_resource_urls and not g.rule.rule.resources:
            continue
        out.append(g)
    return out, errors


# ------------------------------------------------------------------------------------------------------ reverse query


@dataclass(frozen=True, slots=True)
class SubjectGrant:
    """A subject holding a permission, with the grant. ServiceAccount namespace is already defaulted."""

    subject: Subject
    grant: Grant
    named_only: bool = False  # the rule lists resourceNames (holds it only on those names)

    @property
    def username(self) -> str | None:
        """The user name this subject stands for (ServiceAccounts as system:serviceaccount:NS:NAME), None for groups."""
        return subject_username(self.subject)

    def describe(self) -> str:
        return f"{subject_text(self.subject)} via {self.grant.describe()}"


def subject_text(s: Subject) -> str:
    """'User alice', 'Group oidc:shop-devs', 'ServiceAccount shop/ci' (as can-i's bindings name them)."""
    return f"{s.kind} {s.namespace}/{s.name}" if s.kind == "ServiceAccount" else f"{s.kind} {s.name}"


def subject_username(s: Subject) -> str | None:
    """The user name a User or ServiceAccount subject stands for (system:serviceaccount:NS:NAME); None for groups."""
    if s.kind == "User":
        return s.name
    if s.kind == "ServiceAccount":
        return f"{SA_PREFIX}{s.namespace}:{s.name}"
    return None


def subjects_for(model: RbacModel, request: Request, any_name: bool = False) -> tuple[list[SubjectGrant], list[str]]:
    """Which subjects hold the permission in request (its namespace; "" = cluster-wide), and resolution errors.

    any_name=True also reports rules restricted by resourceNames (marked named_only) when the request has no name,
    for "who can touch some object of this kind". The group system:masters always holds everything (not listed).
    The reverse index itself is whocan.py (who-can); this is its shape for the foothold queries.
    """
    from .whocan import who_can

    found = who_can(model, request, any_name=any_name)
    out = [SubjectGrant(h.subject, h.grant, named_only=bool(h.names)) for h in found.holders if h.direct and h.grant]
    return out, list(found.errors)


def bindings_of(model: RbacModel, ident: Identity, namespaces: Sequence[str] | None = None) -> list[RoleBinding]:
    """The bindings that apply to an identity (ClusterRoleBindings, then RoleBindings of the given or all namespaces)."""
    out = [b for b in model.cluster_bindings if any(applies_to(s, ident, "") for s in b.subjects)]
    for ns in sorted(model.bindings_by_ns):
        if namespaces is not None and ns not in namespaces:
            continue
        out.extend(b for b in model.bindings_by_ns[ns] if any(applies_to(s, ident, ns) for s in b.subjects))
    return out


class Authorizer:
    """A compiled snapshot for many questions: build once, then ask (grants per identity and namespace are cached).

    >>> az = Authorizer(snapshot)
    >>> az.authorize("alice", ["oidc:shop-devs"], Request("create", "pods", subresource="exec", namespace="shop"))
    """

    def __init__(self, snapshot: Snapshot | RbacModel) -> None:
        self.model = snapshot if isinstance(snapshot, RbacModel) else compile_rbac(snapshot)
        self._cache: GrantCache = {}

    def decide(self, ident: Identity, request: Request) -> Decision:
        return authorize(self.model, ident, request, self._cache)

    def authorize(self, user: str, groups: Iterable[str], request: Request) -> Decision:
        """user + groups as given; the groups the API server adds are added (see identity())."""
        return self.decide(identity(user, groups), request)

    def rules_for(self, ident: Identity, namespace: str) -> tuple[list[Grant], list[str]]:
        return rules_for(self.model, ident, namespace)

    def subjects_with(self, request: Request, any_name: bool = False) -> tuple[list[SubjectGrant], list[str]]:
        return subjects_for(self.model, request, any_name)

    def subjects(self) -> list[Subject]:
        """Every subject bound anywhere (ServiceAccount namespaces defaulted; unusable SA subjects left out), sorted."""
        found: set[Subject] = set()
        for b in (*self.model.cluster_bindings, *(b for bs in self.model.bindings_by_ns.values() for b in bs)):
            for s in b.subjects:
                if s.kind == "ServiceAccount":
                    ns = s.namespace or b.namespace
                    if ns:
                        found.add(Subject(kind=s.kind, name=s.name, namespace=ns))
                elif s.kind in ("User", "Group"):
                    found.add(Subject(kind=s.kind, name=s.name))
        return sorted(found, key=lambda s: (s.kind, s.namespace or "", s.name))


__all__ = [
    "Authorizer",
    "ALL_AUTHENTICATED",
    "ANONYMOUS",
    "Decision",
    "EffectiveRule",
    "Grant",
    "Identity",
    "RbacModel",
    "Request",
    "SUPERUSER_GROUP",
    "SubjectGrant",
    "applies_to",
    "authorize",
    "bindings_of",
    "compile_rbac",
    "identity",
    "rules_for",
    "selector_matches",
    "subject_text",
    "subject_username",
    "subjects_for",
]
