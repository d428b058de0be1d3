"""One RBAC PolicyRule against one request, with the exact Kubernetes matching semantics.

Source of the semantics: kubernetes/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go (VerbMatches, APIGroupMatches,
ResourceMatches, ResourceNameMatches, NonResourceURLMatches) and plugin/pkg/auth/authorizer/rbac/rbac.go (RuleAllows).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cluster.snapshot import PolicyRule

VERB_ALL = "*"
API_GROUP_ALL = "*"
RESOURCE_ALL = "*"
NON_RESOURCE_ALL = "*"

# kubectl auth can-i's lists (kubernetes/kubectl pkg/cmd/auth/cani.go): unknown verbs only warn there.
RESOURCE_VERBS = (
    "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
    "use", "bind", "impersonate", "*", "approve", "sign", "escalate", "attest",
)  # fmt: skip
NON_RESOURCE_VERBS = ("get", "put", "post", "head", "options", "delete", "patch", "*")


@dataclass(frozen=True, slots=True)
class Request:
    """The authorizer attributes of one request (k8s.io/apiserver authorizer.Attributes).

    A resource request has ``path`` None; a non-resource request (e.g. GET /healthz) has ``path`` set and ignores the
    resource fields. ``namespace`` "" means cluster-wide (cluster-scoped resources, -A, non-resource URLs).
    """

    verb: str
    resource: str = ""
    api_group: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    path: str | None = None

    @property
    def is_resource_request(self) -> bool:
        return self.path is None

    @property
    def combined_resource(self) -> str:
        # rbac.go RuleAllows: "combinedResource := requestAttributes.GetResource() + "/" + GetSubresource()"
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def describe(self) -> str:
        """The evaluated tuple, spelled out (users misread TYPE/NAME vs subresource: kubernetes#70920)."""
        if not self.is_resource_request:
            return f"{self.verb} {self.path} (non-resource URL, cluster-wide)"
        res = self.combined_resource
        if self.api_group:
            res = f"{self.resource}.{self.api_group}" + (f"/{self.subresource}" if self.subresource else "")
        text = f"{self.verb} {res}"
        if self.name:
            text += f" named {self.name!r}"
        text += f" in namespace {self.namespace}" if self.namespace else " cluster-wide"
        return text


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    # evaluation_helpers.go VerbMatches: "if ruleVerb == rbacv1.VerbAll { return true }; if ruleVerb == requestedVerb".
    return any(v == VERB_ALL or v == verb for v in rule.verbs)


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    # APIGroupMatches: "*" or an exact match; the core group is "".
    return any(g == API_GROUP_ALL or g == group for g in rule.api_groups)


def resource_matches(rule: PolicyRule, combined_resource: str, subresource: str) -> bool:
    """ResourceMatches: '*' (covers subresources too), the exact 'res' / 'res/sub' string, or '*/sub'.

    There is no glob: 'pods/*' is a literal resource string that matches only a request whose combined resource is
    literally 'pods/*' (evaluation_helpers.go has no other case).
    """
    for rr in rule.resources:
        # "if everything is allowed, we match"
        if rr == RESOURCE_ALL:
            return True
        # "if we have an exact match, we match"
        if rr == combined_resource:
            return True
        # "We can also match a */subresource. if there isn't a subresource, then continue"
        if not subresource:
            continue
        # "if the rule isn't in the format */subresource, then we don't match, continue"
        if len(rr) == len(subresource) + 2 and rr.startswith("*/") and rr.endswith(subresource):
            return True
    return False


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    """ResourceNameMatches: no names in the rule = any name; otherwise the requested name must be listed.

    A request without a name (list, watch, create, deletecollection) never matches a rule that lists names.
    """
    if not rule.resource_names:
        return True
    return any(n == name for n in rule.resource_names)


def non_resource_url_matches(rule: PolicyRule, path: str) -> bool:
    """NonResourceURLMatches: '*', exact, or a rule ending in '*' as a plain prefix (strings.TrimRight(rule, "*")).

    So '/apis/*' does not match '/apis', and '/healthz*' matches '/healthzX'.
    """
    for ru in rule.non_resource_urls:
        if ru == NON_RESOURCE_ALL or ru == path:
            return True
        if ru.endswith("*") and path.startswith(ru.rstrip("*")):
            return True
    return False


def rule_allows(rule: PolicyRule, request: Request) -> bool:
    """rbac.go RuleAllows: resource requests need verb, group, resource and name; non-resource ones verb and URL."""
    if request.is_resource_request:
        return (
            verb_matches(rule, request.verb)
            and api_group_matches(rule, request.api_group)
            and resource_matches(rule, request.combined_resource, request.subresource)
            and resource_name_matches(rule, request.name)
        )
    return verb_matches(rule, request.verb) and non_resource_url_matches(rule, request.path or "")


def rule_from_dict(obj: dict[str, object]) -> PolicyRule:
    """A PolicyRule from its API JSON shape (also the SelfSubjectRulesReview resourceRules/nonResourceRules shapes)."""

    def strs(key: str) -> tuple[str, ...]:
        value = obj.get(key) or ()
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value)  # type: ignore[attr-defined]

    return PolicyRule(
        verbs=strs("verbs"),
        api_groups=strs("apiGroups"),
        resources=strs("resources"),
        resource_names=strs("resourceNames"),
        non_resource_urls=strs("nonResourceURLs"),
    )


def rule_to_dict(rule: PolicyRule) -> dict[str, list[str]]:
    """The API JSON shape of a rule (empty lists omitted, like the API server does)."""
    out: dict[str, list[str]] = {}
    if rule.verbs:
        out["verbs"] = list(rule.verbs)
    if rule.api_groups:
        out["apiGroups"] = list(rule.api_groups)
    if rule.resources:
        out["resources"] = list(rule.resources)
    if rule.resource_names:
        out["resourceNames"] = list(rule.resource_names)
    if rule.non_resource_urls:
        out["nonResourceURLs"] = list(rule.non_resource_urls)
    return out
