"""permissions: the resource x verb matrix for an identity in a namespace, with the risky permissions flagged
(offline: RBAC on the manifests, with the bindings that grant each row; live: SelfSubjectRulesReview)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import log
from ..rbac.authorize import Authorizer, binding_ref, role_ref
from ..rbac.matrix import MATRIX_VERBS, MatrixRow, RiskyResult, build_matrix
from ..rbac.resources import COMMON, ResourceIndex, ResourceType
from ..rbac.rules import Request, rule_allows, rule_from_dict
from .can_i import index_for, live_index, offline_snapshots
from .identity import IdentityInput, OfflineIdentity, live_client, offline_identity, report_near_misses
from .source import current_namespace

if TYPE_CHECKING:
    from ..cluster.snapshot import Snapshot
    from .source import Source


@dataclass(frozen=True, slots=True)
class PermissionsInput:
    resources: tuple[str, ...] = ()  # --resource: only these rows
    identity: IdentityInput = field(default_factory=IdentityInput)


@dataclass(frozen=True, slots=True)
class PermissionsResult:
    namespace: str  # "" with -A
    matrix: list[MatrixRow]
    risky: list[RiskyResult]
    data: dict[str, Any]  # the documented JSON
    who: OfflineIdentity | None  # offline
    granted: dict[tuple[str, str, str], list[str]]  # offline: (resource, group, subresource) -> granting bindings

    def to_dict(self) -> dict[str, Any]:
        return self.data


def run(inp: PermissionsInput, source: Source) -> PermissionsResult:
    kube = source.kube
    namespace = current_namespace(kube)
    if kube.all_namespaces:
        namespace = ""
    data: dict[str, Any] = {"namespace": namespace or None}
    decide: Callable[[Request], bool | None]
    who: OfflineIdentity | None = None
    granted: dict[tuple[str, str, str], list[str]] = {}
    if not source.live:
        own, snapshot = offline_snapshots(source)
        who = offline_identity(kube, inp.identity)
        offline_who = who
        az = Authorizer(snapshot)
        index = index_for(own)

        def decide(req: Request) -> bool | None:
            decision = az.decide(offline_who.identity, req)
            if decision.allowed:
                via = (f"{binding_ref(decision.grant.binding)} -> {role_ref(decision.grant.binding)}" if decision.grant
                       else "group system:masters (superuser)")  # fmt: skip
                found = granted.setdefault((req.resource, req.api_group, req.subresource), [])
                if via not in found:
                    found.append(via)
            return decision.allowed

        rows = offline_rows(own, index)
        data["identity"] = who.to_dict()
        data["source"] = snapshot.source or "manifests"
        if who.token is not None:
            data["nearMisses"] = report_near_misses(who, az.model, [namespace] if namespace else None)
    else:
        client = live_client(kube)
        ns_review = client.rules_review(namespace or "default") if namespace else client.rules_review("")
        cluster_review = client.rules_review("") if namespace else ns_review
        incomplete = bool(ns_review.incomplete or cluster_review.incomplete)
        ns_rules = [rule_from_dict(r) for r in (*ns_review.resource_rules, *ns_review.non_resource_rules)]
        cl_rules = [rule_from_dict(r) for r in (*cluster_review.resource_rules, *cluster_review.non_resource_rules)]

        def decide(req: Request) -> bool | None:
            rules = ns_rules if req.namespace else cl_rules
            if any(rule_allows(r, req) for r in rules):
                return True
            return None if incomplete else False

        index = live_index(kube)
        rows = live_rows(index)
        data["source"] = "live"
        data["incomplete"] = incomplete
        if incomplete:
            log.warn("the API server's rules review is incomplete: cells it could not confirm show '?'")
    if inp.resources:
        warnings: list[str] = []
        rows = [index.resolve_with_subresource(r, warnings) for r in inp.resources]
        for w in warnings:
            log.warn(w)
    matrix, risky = build_matrix(rows, namespace, decide)
    data["verbs"] = list(MATRIX_VERBS)
    data["rows"] = [r.to_dict() for r in matrix]
    data["risky"] = [r.to_dict() for r in risky if r.allowed]
    matrix, risky = build_matrix(rows, namespace, decide)
    data["verbs"] = list(MATRIX_VERBS)
    data["rows"] = [r.to_dict() for r in matrix]
    data["risky"] = [r.to_dict() for r in risky if r.allowed]
    return PermissionsResult(namespace, matrix, risky, data, who, granted)


def offline_rows(snapshot: Snapshot, index: ResourceIndex) -> list[ResourceType]:
    """The common resources plus every concrete resource the manifests' rules name, in a stable order."""
    rows: list[ResourceType] = []
    seen: set[tuple[str, str]] = set()

    def add(rt: ResourceType) -> None:
        if (rt.group, rt.resource) not in seen:
            seen.add((rt.group, rt.resource))
            rows.append(rt)

    for name in COMMON:
        add(index.resolve(name))
    named: set[tuple[str, str]] = set()
    for role in snapshot.roles:
        for rule in role.rules:
            for g in rule.api_groups:
                for r in rule.resources:
                    if "*" in g or "*" in r or "/" in r:
                        continue
                    named.add((g, r))
    for g, r in sorted(named):
        hits = index.lookup(r, g)
        add(hits[0] if hits else ResourceType(r, g, "", True))
    return rows


def live_rows(index: ResourceIndex) -> list[ResourceType]:
    """Discovered resources: the common ones first (in COMMON's order), then the rest by group and name."""
    found: dict[tuple[str, str], ResourceType] = {}
    for rt in index.types:
        if rt.kind and (rt.group, rt.resource) not in found:
            found[(rt.group, rt.resource)] = rt
    rows: list[ResourceType] = []
    for name in COMMON:
        base, _, group = name.partition(".")
        if (group, base) in found:
            rows.append(found.pop((group, base)))
    rows.extend(found[k] for k in sorted(found))
    return rows


__all__ = ["PermissionsInput", "PermissionsResult", "run"]
