"""can-i: may an identity do VERB on TYPE[/NAME] (or a non-resource URL)? Offline the exact RBAC semantics with the
granting binding and rule; live the API server's SelfSubjectAccessReview. --list: every rule in a namespace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from ..rbac.resources import BUILTIN, SUBRESOURCES, ResourceIndex, ResourceType
from ..rbac.rules import NON_RESOURCE_VERBS, RESOURCE_VERBS, Request
from .identity import IdentityInput, OfflineIdentity, live_client, offline_identity, report_near_misses

if TYPE_CHECKING:
    from ..cluster.snapshot import PolicyRule, Snapshot
    from ..cluster.target import KubeOptions
    from ..rbac.authorize import Decision, RoleBinding
    from .source import Source


def offline_snapshots(source: Source) -> tuple[Snapshot, Snapshot]:
    """(the manifests alone, the manifests plus the default roles when asked); their warnings go to stderr."""
    from .source import print_warnings

    loaded = source.load({"rbac"})
    print_warnings(loaded.warnings(cni=False))
    return loaded.manifests_only, loaded.snapshot


def index_for(snapshot: Snapshot | None) -> ResourceIndex:
    index = ResourceIndex(BUILTIN, offline=True)
    if snapshot is not None:
        pairs = []
        for role in snapshot.roles:
            for rule in role.rules:
                for g in rule.api_groups:
                    for r in rule.resources:
                        pairs.append((g, r))
        index = index.with_extra(pairs)
    return index


def live_index(kube: KubeOptions) -> ResourceIndex:
    """Resource names from live discovery (plural, singular, kind, short names), the built-in table as fallback."""
    try:
        resources = live_client(kube).api_resources()
    except NetssoError as exc:
        log.debug(f"discovery failed ({exc.message}); using the built-in resource table")
        return ResourceIndex(BUILTIN)
    types = [
        ResourceType(r.resource, r.group, r.kind, r.namespaced, tuple(r.short_names), r.kind.lower())
        for r in resources
        if "/" not in r.resource
    ]
    return ResourceIndex(tuple(types) + BUILTIN)


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    request: Request
    resource: ResourceType | None
    warnings: tuple[str, ...]


def parse_can_i(
    args: Sequence[str], subresource: str | None, namespace: str, all_namespaces: bool, index: ResourceIndex, ns_given: bool
) -> ParsedRequest:
    """kubectl auth can-i argument rules (cani.go Complete/Validate)."""
    if len(args) < 2:
        raise NetssoError("you must specify two arguments: verb resource or verb resource/resourceName", exit_code=EXIT_USAGE)
    if len(args) > 2:
        raise NetssoError("too many arguments: VERB TYPE[.GROUP][/NAME] | NONRESOURCEURL", exit_code=EXIT_USAGE)
    verb, target = args[0], args[1]
    if not verb or any(ch.isspace() or ch == "/" for ch in verb):
        raise NetssoError(f"invalid verb {verb!r}", exit_code=EXIT_USAGE)
    warnings: list[str] = []
    if target.startswith("/"):
        # cani.go: "NonResourceURL ... --subresource can not be used with NonResourceURL"
        if subresource:
            raise NetssoError("--subresource can not be used with NonResourceURL", exit_code=EXIT_USAGE)
        if verb not in NON_RESOURCE_VERBS:
            warnings.append(f"verb '{verb}' is not a known verb for non-resource URLs")
        return ParsedRequest(Request(verb=verb, path=target), None, tuple(warnings))
    if verb not in RESOURCE_VERBS:
        warnings.append(f"verb '{verb}' is not a known verb")
    # "TYPE/NAME splits at the first /": pods/log is a pod NAMED log; subresources need --subresource.
    type_part, _, name = target.partition("/")
    if target.count("/") > 1:
        raise NetssoError(f"invalid resource {target!r}: use TYPE[.GROUP][/NAME] and --subresource SUB", exit_code=EXIT_USAGE)
    rt = index.resolve(type_part, warnings)
    if name and not subresource and name.lower() in SUBRESOURCES.get((rt.resource, rt.group), ()):
        warnings.append(f"{target!r} asks about a {rt.singular or rt.resource} named {name!r} (kubectl's TYPE/NAME rule); "
                        f"for the {name.lower()} subresource: {type_part} --subresource {name.lower()}")
    ns = "" if all_namespaces else namespace
    if rt.resource == "namespaces" and name and not all_namespaces:
        # "requests on a namespace object carry namespace = its name" (RequestInfoFactory)
        ns = name
    elif rt.resource != "*" and not rt.namespaced and rt.kind:
        if ns_given:
            warnings.append(f"resource '{rt.resource}' is not namespace scoped: checked cluster-wide")
        ns = ""
    req = Request(verb=verb, resource=rt.resource, api_group=rt.group, subresource=subresource or "", name=name, namespace=ns)
    return ParsedRequest(req, rt, tuple(warnings))


def request_dict(req: Request) -> dict[str, Any]:
    if not req.is_resource_request:
        return {"nonResourceAttributes": {"path": req.path, "verb": req.verb}}
    attrs: dict[str, Any] = {"verb": req.verb, "group": req.api_group, "resource": req.resource}
    if req.subresource:
        attrs["subresource"] = req.subresource
    if req.name:
        attrs["name"] = req.name
    if req.namespace:
        attrs["namespace"] = req.namespace
    return {"resourceAttributes": attrs}


@dataclass(frozen=True, slots=True)
class CanIInput:
    args: tuple[str, ...]
    subresource: str | None = None
    identity: IdentityInput = IdentityInput()
    wide: bool = False  # -o wide: the granting rule and the identity's bindings (offline only)


@dataclass(frozen=True, slots=True)
class CanIResult:
    request: Request
    allowed: bool
    reason: str
    data: dict[str, Any]  # the documented JSON
    who: OfflineIdentity | None = None  # offline
    decision: Decision | None = None  # offline
    bound: tuple[RoleBinding, ...] = ()  # offline: the bindings that apply to the identity here

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.allowed else EXIT_NO

    def to_dict(self) -> dict[str, Any]:
        return self.data


def check_options(kube: KubeOptions, offline: bool, wide: bool) -> None:
    if kube.as_groups and not kube.as_user and not offline:
        # kubectl: "requesting uid, groups or user-extra for  without impersonating a user"; offline a group alone
        # is any member of it, as in reach, audit and report
        raise NetssoError("--as-group needs --as USER on a live cluster (the API server impersonates no group without "
                          "a user)", hint="offline (--manifests) a group alone means any member of it",
                          exit_code=EXIT_USAGE)  # fmt: skip
    if wide and not offline:
        # wide adds the granting rule and the identity's bindings, which only the offline evaluator knows
        raise NetssoError("-o wide is for offline checks (--manifests): the API server does not say which binding or "
                          "rule decided", exit_code=EXIT_USAGE)  # fmt: skip


def run(inp: CanIInput, source: Source) -> CanIResult:
    from ..rbac.authorize import Authorizer, bindings_of
    from .source import current_namespace

    kube = source.kube
    check_options(kube, not source.live, inp.wide)
    namespace = current_namespace(kube)
    snapshot = offline_snapshots(source)[1] if not source.live else None
    index = index_for(snapshot) if snapshot is not None else live_index(kube)
    parsed = parse_can_i(inp.args, inp.subresource, namespace, kube.all_namespaces, index, bool(kube.namespace))
    for w in parsed.warnings:
        log.warn(w)
    req = parsed.request
    data: dict[str, Any] = {"request": request_dict(req), "evaluated": req.describe()}
    if snapshot is not None:
        who = offline_identity(kube, inp.identity)
        az = Authorizer(snapshot)
        for w in az.model.warnings:
            log.warn(w)
        decision = az.decide(who.identity, req)
        data.update(decision.to_dict())
        data["identity"] = who.to_dict()
        data["source"] = snapshot.source or "manifests"
        if who.token is not None:
            data["nearMisses"] = report_near_misses(who, az.model, [req.namespace] if req.namespace else [])
        bound = tuple(bindings_of(az.model, who.identity, [req.namespace] if req.namespace else [])) if inp.wide else ()
        return CanIResult(req, decision.allowed, decision.reason, data, who, decision, bound)
    result = live_client(kube).access_review(request_dict(req))
    allowed = bool(result.allowed)
    reason = result.reason or ("allowed (the API server gave no reason)" if allowed else
                               "no authorizer allowed it (the API server gave no reason)")  # fmt: skip
    if result.evaluation_error:
        reason += f" (evaluation error: {result.evaluation_error})"
    data.update({"allowed": allowed, "denied": bool(result.denied), "reason": reason,
                 "evaluationError": result.evaluation_error or None, "source": "live"})  # fmt: skip
    return CanIResult(req, allowed, reason, data)


@dataclass(frozen=True, slots=True)
class CanIListResult:
    rules: tuple[tuple[PolicyRule, str], ...]  # (rule, what grants it: offline only)
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data


def run_list(identity: IdentityInput, source: Source) -> CanIListResult:
    """can-i --list: every rule the identity has in the namespace."""
    from ..rbac.authorize import Authorizer
    from ..rbac.rules import rule_from_dict, rule_to_dict
    from .source import current_namespace

    kube = source.kube
    namespace = current_namespace(kube)
    incomplete = False
    evaluation_error = ""
    pairs: list[tuple[PolicyRule, str]] = []
    data: dict[str, Any] = {"namespace": namespace}
    if not source.live:
        snapshot = offline_snapshots(source)[1]
        who = offline_identity(kube, identity)
        az = Authorizer(snapshot)
        grants, errors = az.rules_for(who.identity, namespace)
        for e in errors:
            log.warn(e)
        pairs = [(g.rule.rule, g.describe()) for g in grants]
        data["identity"] = who.to_dict()
        if who.token is not None:
            data["nearMisses"] = report_near_misses(who, az.model, [namespace])
        data["rules"] = [g.to_dict() for g in grants]
        data["errors"] = errors
        data["source"] = snapshot.source or "manifests"
    else:
        review = live_client(kube).rules_review(namespace)
        incomplete, evaluation_error = bool(review.incomplete), review.evaluation_error
        pairs = [(rule_from_dict(r), "") for r in (*review.resource_rules, *review.non_resource_rules)]
        data["rules"] = [rule_to_dict(p[0]) for p in pairs]
        data["incomplete"] = incomplete
        data["evaluationError"] = evaluation_error or None
        data["source"] = "live"
    if incomplete:
        log.warn(f"the list may be incomplete: {evaluation_error or 'the API server says so (incomplete: true)'}")
    return CanIListResult(tuple(pairs), data)


__all__ = ["CanIInput", "CanIListResult", "CanIResult", "ParsedRequest", "parse_can_i", "request_dict", "run", "run_list"]
