"""The review and discovery APIs of the API server: who am I (SelfSubjectReview), may I (SelfSubjectAccessReview),
what may I (SelfSubjectRulesReview), what is served (/api, /apis).

``Reviews`` is a base of LiveClient, the one HTTP client: it holds these requests and their answers' shapes, and
leaves the connection (``request``, ``server``, ``api``) to it. Answers are read leniently (a missing list is empty):
the API server's own documented shapes, with nothing the engines decide on taken from a field of the wrong type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import log
from ..errors import NetssoError

if TYPE_CHECKING:  # the kubernetes client is imported only when a request is made
    from kubernetes.client import ApiClient

__all__ = ["APIStatusError", "AccessDecision", "RulesReview", "APIResource", "Reviews", "as_object"]


class APIStatusError(Exception):
    """An API response with a status other than 2xx (401 is a NetssoError at once): the caller decides, e.g. a 403
    list is a gap, a 404 review version means trying the older one."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AccessDecision(NamedTuple):
    """SelfSubjectAccessReview status (unpacks as (allowed, denied, reason, evaluation_error))."""

    allowed: bool
    denied: bool = False
    reason: str = ""
    evaluation_error: str = ""


class RulesReview(NamedTuple):
    """SelfSubjectRulesReview status (unpacks as (resource_rules, non_resource_rules, incomplete, evaluation_error)).

    Rules are the API's plain dicts: resource rules {"verbs", "apiGroups", "resources", "resourceNames"},
    non-resource rules {"verbs", "nonResourceURLs"}; missing lists are filled with [].
    """

    resource_rules: tuple[dict[str, Any], ...] = ()
    non_resource_rules: tuple[dict[str, Any], ...] = ()
    incomplete: bool = False
    evaluation_error: str = ""


@dataclass(frozen=True, slots=True)
class APIResource:
    """One discovered resource (like a row of ``kubectl api-resources``), with its subresources."""

    group: str  # "" for the core group
    version: str
    resource: str  # plural name, e.g. "pods"
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # e.g. ("exec", "log", "status")
    short_names: tuple[str, ...] = ()


class Reviews(ABC):
    """The review and discovery requests; LiveClient provides the connection."""

    _groups: dict[str, dict[str, Any]] | None = None  # /apis, read once per client

    @property
    @abstractmethod
    def server(self) -> str:
        """The API server's URL, for messages."""

    @property
    @abstractmethod
    def api(self) -> ApiClient:
        """The connected client (built, and the token got, on first use)."""

    @abstractmethod
    def request(self, method: str, path: str, query: Sequence[tuple[str, Any]] = (), body: Any = None) -> Any:
        """One API request; the parsed JSON. 401/TLS/unreachable: NetssoError; other statuses: APIStatusError."""

    def self_subject_review(self) -> dict[str, Any]:
        """SelfSubjectReview (authentication.k8s.io/v1; v1beta1 on older servers): the user as the cluster sees it.

        Returns {"username": str, "uid": str, "groups": [str], "extra": {str: [str]}}.
        """
        last: APIStatusError | None = None
        for version in ("v1", "v1beta1"):
            try:
                obj = self.request(
                    "POST",
                    f"/apis/authentication.k8s.io/{version}/selfsubjectreviews",
                    body={"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview", "metadata": {}},
                )
            except APIStatusError as exc:
                last = exc
                if exc.status == 404:
                    continue
                raise self._review_error("SelfSubjectReview", exc) from exc
            info = as_object(as_object(obj).get("status")).get("userInfo")
            info = as_object(info)
            return {
                "username": str(info.get("username") or ""),
                "uid": str(info.get("uid") or ""),
                "groups": [str(g) for g in info.get("groups") or []],
                "extra": {str(k): [str(x) for x in (v or [])] for k, v in as_object(info.get("extra")).items()},
            }
        raise NetssoError(
            f"{self.server}: the API server does not serve SelfSubjectReview ({last.message if last else 'not found'})",
            hint="SelfSubjectReview needs Kubernetes >= 1.28 (beta in 1.27)",
        )

    def access_review(
        self,
        attrs: Mapping[str, Any] | None = None,
        *,
        resource_attributes: Mapping[str, Any] | None = None,
        non_resource_attributes: Mapping[str, Any] | None = None,
    ) -> AccessDecision:
        """SelfSubjectAccessReview. ``attrs`` is a spec ({"resourceAttributes": {...}} or {"nonResourceAttributes":
        {...}}), or bare resource attributes ({"verb", "resource", "group", "namespace", ...}; with "path" =
        non-resource attributes). Empty values are left out of the request."""
        spec: dict[str, Any]
        if resource_attributes is not None:
            spec = {"resourceAttributes": _clean(resource_attributes)}
        elif non_resource_attributes is not None:
            spec = {"nonResourceAttributes": _clean(non_resource_attributes)}
        elif attrs is not None and ("resourceAttributes" in attrs or "nonResourceAttributes" in attrs):
            spec = {k: _clean(v) for k, v in attrs.items() if k in ("resourceAttributes", "nonResourceAttributes") and v}
        elif attrs is not None and "path" in attrs:
            spec = {"nonResourceAttributes": _clean(attrs)}
        elif attrs is not None:
            spec = {"resourceAttributes": _clean(attrs)}
        else:
            raise ValueError("access_review needs resource or non-resource attributes")
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}
        try:
            obj = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=body)
        except APIStatusError as exc:
            raise self._review_error("SelfSubjectAccessReview", exc) from exc
        status = as_object(as_object(obj).get("status"))
        return AccessDecision(
            allowed=bool(status.get("allowed")),
            denied=bool(status.get("denied")),
            reason=str(status.get("reason") or ""),
            evaluation_error=str(status.get("evaluationError") or ""),
        )

    def rules_review(self, namespace: str) -> RulesReview:
        """SelfSubjectRulesReview for a namespace (what ``kubectl auth can-i --list`` shows)."""
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": namespace}}
        try:
            obj = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body=body)
        except APIStatusError as exc:
            raise self._review_error("SelfSubjectRulesReview", exc) from exc
        status = as_object(as_object(obj).get("status"))
        resource_rules = tuple(
            {
                "verbs": _strs(r.get("verbs")),
                "apiGroups": _strs(r.get("apiGroups")),
                "resources": _strs(r.get("resources")),
                "resourceNames": _strs(r.get("resourceNames")),
            }
            for r in (as_object(x) for x in status.get("resourceRules") or [])
        )
        non_resource_rules = tuple(
            {"verbs": _strs(r.get("verbs")), "nonResourceURLs": _strs(r.get("nonResourceURLs"))}
            for r in (as_object(x) for x in status.get("nonResourceRules") or [])
        )
        return RulesReview(
            resource_rules=resource_rules,
            non_resource_rules=non_resource_rules,
            incomplete=bool(status.get("incomplete")),
            evaluation_error=str(status.get("evaluationError") or ""),
        )

    def _review_error(self, what: str, exc: APIStatusError) -> NetssoError:
        return NetssoError(f"{self.server}: {what} failed: {exc.status} {exc.message}")

    # -- discovery -----------------------------------------------------------------------------------------------
    def api_groups(self) -> dict[str, Any]:
        """/apis as {group name: APIGroup dict} (cached)."""
        try:
            return self._api_groups()
        except APIStatusError as exc:
            raise NetssoError(f"{self.server}: API discovery (/apis) failed: {exc.status} {exc.message}") from exc

    def _api_groups(self) -> dict[str, Any]:
        if self._groups is None:
            obj = self.request("GET", "/apis")
            self._groups = {
                str(g.get("name")): g for g in (as_object(x) for x in as_object(obj).get("groups") or []) if g.get("name")
            }
        return self._groups

    def api_resources(self) -> list[APIResource]:
        """Every resource of the preferred version of each API group (like ``kubectl api-resources``).

        Groups whose discovery fails (e.g. an unavailable aggregated API) are skipped with a debug message.
        """
        lists: list[tuple[str, str, str]] = [("", "v1", "/api/v1")]
        for name, group in self.api_groups().items():
            preferred = as_object(group.get("preferredVersion")).get("version")
            if not preferred:
                versions = group.get("versions") or []
                preferred = as_object(versions[0]).get("version") if versions else None
            if preferred:
                lists.append((name, str(preferred), f"/apis/{name}/{preferred}"))

        def fetch(item: tuple[str, str, str]) -> tuple[str, str, Any]:
            group, version, path = item
            try:
                return group, version, self.request("GET", path)
            except APIStatusError as exc:
                log.debug(f"discovery {path}: {exc.status} {exc.message}")
                return group, version, None

        _ = self.api  # build the client (and get the token) once, before the threads
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(fetch, lists))
        out: list[APIResource] = []
        for group, version, obj in results:
            if obj is None:
                continue
            entries = [as_object(r) for r in as_object(obj).get("resources") or []]
            subs: dict[str, list[str]] = {}
            for r in entries:
                name = str(r.get("name") or "")
                if "/" in name:
                    parent, sub = name.split("/", 1)
                    subs.setdefault(parent, []).append(sub)
            for r in entries:
                name = str(r.get("name") or "")
                if not name or "/" in name:
                    continue
                out.append(
                    APIResource(
                        group=group,
                        version=version,
                        resource=name,
                        kind=str(r.get("kind") or ""),
                        namespaced=bool(r.get("namespaced")),
                        verbs=tuple(_strs(r.get("verbs"))),
                        subresources=tuple(sorted(subs.get(name, []))),
                        short_names=tuple(_strs(r.get("shortNames"))),
                    )
                )
        return out

    def has_admin_network_policies(self) -> bool:
        """Whether policy.networking.k8s.io/v1alpha1 is served (the AdminNetworkPolicy CRDs are installed).

        Raises APIStatusError when /apis itself is refused."""
        group = self._api_groups().get("policy.networking.k8s.io")
        if not group:
            return False
        return any(as_object(v).get("version") == "v1alpha1" for v in group.get("versions") or [])


def as_object(value: Any) -> dict[str, Any]:
    """A JSON object of an API answer, or {} when the field is absent or of another type."""
    return value if isinstance(value, dict) else {}


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _clean(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v not in (None, "")}
