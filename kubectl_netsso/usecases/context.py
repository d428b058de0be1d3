"""What reach, audit and report share: the source read once, the reach engine, the RBAC evaluator, the identity
(live: SelfSubjectReview and access reviews; offline: --as/--as-group or the cached token) and the namespaces in scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import log
from .identity import GROUP_MEMBER, IdentityInput, live_client, optional_identity, report_near_misses

if TYPE_CHECKING:
    from ..access.footholds import Action, Permissions
    from ..access.model import Reach
    from ..access.reach import ReachEngine
    from ..cluster.live import LiveClient
    from ..cluster.reviews import RulesReview
    from ..cluster.snapshot import Snapshot
    from ..rbac.authorize import Authorizer
    from ..rbac.rules import Request
    from .source import Source


def scope_text(ctx: AccessContext) -> str:
    return f"namespace {ctx.scope[0]}" if len(ctx.scope) == 1 else f"{len(ctx.scope)} namespaces"


@dataclass
class AccessContext:
    """Everything reach, audit and report need: the snapshot, the engines, the identity and its permissions, the
    scope. Filled in step by step by build_context (hence not frozen); the commands only read it."""

    snapshot: Snapshot
    engine: ReachEngine
    scope: list[str]
    source: str
    live: bool
    authorizer: Authorizer | None = None
    user: str | None = None
    groups: tuple[str, ...] = ()
    identity_from: str = ""
    perms: Permissions | None = None
    cni_warning: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def identity_text(self) -> str:
        if self.user is None:
            return "(no identity)"
        who = "a member of the groups" if self.user == GROUP_MEMBER else self.user
        groups = [g for g in self.groups if g != "system:authenticated"]
        return who + (f" (groups: {', '.join(groups)})" if groups else "")

    def identity_dict(self) -> dict[str, Any] | None:
        if self.user is None:
            return None
        return {"user": None if self.user == GROUP_MEMBER else self.user, "groups": list(self.groups), "from": self.identity_from}


class LivePermissions:
    """Permissions of the current (or impersonated) identity from SelfSubjectAccessReview / SelfSubjectRulesReview."""

    def __init__(self, client: LiveClient) -> None:
        self.client = client
        self._reviews: dict[str, RulesReview] = {}

    def check(self, request: Request) -> tuple[bool, str]:
        attrs = {
            "namespace": request.namespace, "verb": request.verb, "group": request.api_group,
            "resource": request.resource, "subresource": request.subresource, "name": request.name,
        }  # fmt: skip
        d = self.client.access_review({"resourceAttributes": {k: v for k, v in attrs.items() if v}})
        return bool(d.allowed), (d.reason or ("allowed by the API server" if d.allowed else "denied"))

    def names_for(self, action: Action, namespace: str) -> Iterable[str]:
        from ..rbac.rules import rule_allows, rule_from_dict

        if namespace not in self._reviews:
            self._reviews[namespace] = self.client.rules_review(namespace)
        names: set[str] = set()
        for raw in self._reviews[namespace].resource_rules:
            rule = rule_from_dict(raw)
            for n in rule.resource_names:
                if rule_allows(rule, action.request(namespace, n)):
                    names.add(n)
        return names


def build_context(
    source: Source,
    identity_input: IdentityInput,
    *,
    identity: str,  # "required" | "optional" | "none"
) -> AccessContext:
    from ..access.footholds import namespaces_in
    from ..access.reach import ReachEngine
    from .source import print_warnings

    kube = source.kube
    live = source.live
    from .source import resolve_cni

    loaded = source.load({"network", "rbac"}, cni=live)
    snap = loaded.snapshot
    engine = ReachEngine(snap, cni=resolve_cni(source.cni, snap, loaded.detected_cni))
    # the snapshot's warnings, what compiling the policies found (e.g. namespaces whose labels verdicts depend on are
    # unknown) and what the source could not see
    print_warnings(loaded.warnings(engine.compiled.warnings, cni=False))
    scope = loaded.scope()
    if not live and loaded.namespace_given and not kube.all_namespaces and scope[0] not in namespaces_in(snap):
        # a typo (-n shpo) would otherwise audit an empty namespace and look clean (or report RBAC alone)
        log.warn(f"namespace {scope[0]} is not in the manifests: only what RBAC grants there is known")
    ctx = AccessContext(snapshot=snap, engine=engine, scope=scope, source=loaded.source_text, live=live)
    if snap.roles or snap.bindings:
        from ..rbac.authorize import Authorizer

        ctx.authorizer = Authorizer(snap)
    if any(g.resource.split(".")[0] in ("roles", "rolebindings", "clusterroles", "clusterrolebindings") for g in snap.gaps):
        ctx.notes.append("some RBAC objects could not be read: identity checks are partial")
    if live and any(g.resource == "namespaces" and g.namespace is None for g in snap.gaps):
        ctx.notes.append("cannot list namespaces: only " + ", ".join(scope) + " in scope (give -n NS for others)")
    if live:
        client = live_client(kube)
        ctx.cni_warning = loaded.cni_warning
        if identity != "none":
            review = client.self_subject_review()
            ctx.user = str(review.get("username") or "")
            ctx.groups = tuple(review.get("groups") or ())
            ctx.identity_from = "SelfSubjectReview" + (" (impersonated)" if kube.as_user else "")
            ctx.perms = LivePermissions(client)
        return ctx
    if identity == "none":
        return ctx
    who = optional_identity(kube, identity_input, required=identity == "required")
    if who is not None:
        from ..access.footholds import RbacPermissions
        from ..rbac.authorize import Authorizer

        if ctx.authorizer is None:
            ctx.authorizer = Authorizer(snap)
        user, groups = who.identity.user, who.identity.groups
        ctx.user, ctx.groups, ctx.identity_from = user, groups, who.how
        ctx.perms = RbacPermissions(ctx.authorizer, user, groups, complete=True)
        report_near_misses(who, ctx.authorizer.model, None if kube.all_namespaces or not kube.namespace else scope)
    return ctx


def reaches(ctx: AccessContext, perms: Permissions | None = None) -> list[Reach]:
    from ..access.footholds import derive_footholds
    from ..access.reach import reach_all

    perms = perms or ctx.perms
    assert perms is not None
    return reach_all(ctx.engine, derive_footholds(ctx.snapshot, perms, ctx.scope))


def identity_reach_fn(ctx: AccessContext) -> Callable[[str, Sequence[str]], list[Reach]] | None:
    if ctx.authorizer is None:
        return None
    from ..access.footholds import RbacPermissions

    def fn(user: str, groups: Sequence[str]) -> list[Reach]:
        return reaches(ctx, RbacPermissions(ctx.authorizer, user or GROUP_MEMBER, groups))

    return fn


__all__ = ["AccessContext", "LivePermissions", "build_context", "identity_reach_fn", "reaches", "scope_text"]
