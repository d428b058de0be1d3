"""A Snapshot from a live API server, and the review APIs (the only module importing ``kubernetes``, lazily).

Contract (implementation follows): see load_snapshot and LiveClient.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cli.options import KubeOptions
from .snapshot import Snapshot

PARTS = frozenset({"network", "rbac"})


@dataclass(frozen=True, slots=True)
class AccessDecision:
    allowed: bool
    denied: bool = False
    reason: str = ""
    evaluation_error: str = ""


@dataclass(frozen=True, slots=True)
class RulesReview:
    resource_rules: tuple[dict[str, Any], ...] = ()  # {"verbs", "apiGroups", "resources", "resourceNames"}
    non_resource_rules: tuple[dict[str, Any], ...] = ()  # {"verbs", "nonResourceURLs"}
    incomplete: bool = False
    evaluation_error: str = ""


@dataclass(frozen=True, slots=True)
class APIResource:
    group: str
    version: str
    resource: str  # plural name, e.g. "pods"
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    subresources: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("exec", "log")
    short_names: tuple[str, ...] = ()


class LiveClient:
    """One API server connection for the kubeconfig context in ``kube`` (impersonating --as/--as-group)."""

    def __init__(self, kube: KubeOptions, interactive: bool | None = None) -> None:
        raise NotImplementedError

    def self_subject_review(self) -> dict[str, Any]:
        """SelfSubjectReview status.userInfo: {"username", "uid", "groups", "extra"}."""
        raise NotImplementedError

    def access_review(self, attrs: dict[str, Any]) -> AccessDecision:
        """SelfSubjectAccessReview; attrs = {"resourceAttributes": {...}} or {"nonResourceAttributes": {...}}."""
        raise NotImplementedError

    def rules_review(self, namespace: str) -> RulesReview:
        raise NotImplementedError

    def api_resources(self) -> list[APIResource]:
        raise NotImplementedError

    def cni_warning(self) -> str | None:
        raise NotImplementedError


def load_snapshot(kube: KubeOptions, namespaces: Sequence[str] | None, parts: Collection[str] = PARTS) -> Snapshot:
    """Namespaces, pods, services, networkpolicies, ANP/BANP ("network") and roles/bindings ("rbac"); 403 -> Gap."""
    raise NotImplementedError
