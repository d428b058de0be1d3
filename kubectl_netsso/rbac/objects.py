"""RBAC API objects (plain dicts, already parsed) -> snapshot records. Pure: the caller reads the files.

Used for the packaged bootstrap ClusterRoles (--with-default-roles) and for tests; folders of manifests go through
kubectl_netsso.cluster.manifests.load_snapshot, which builds the same records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..cluster.snapshot import Role, RoleBinding, Snapshot, Subject
from ..errors import NetssoError
from .rules import rule_from_dict

RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def _flatten(objs: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for obj in objs:
        if not isinstance(obj, Mapping):
            continue
        if str(obj.get("kind", "")).endswith("List") and isinstance(obj.get("items"), list):
            yield from _flatten(obj["items"])
        else:
            yield obj


def role_from_object(obj: Mapping[str, Any], source: str = "") -> Role:
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        raise NetssoError(f"{source or 'manifest'}: {kind} without metadata.name")
    rules_raw = obj.get("rules") or []
    if not isinstance(rules_raw, list) or not all(isinstance(r, Mapping) for r in rules_raw):
        raise NetssoError(f"{source or 'manifest'}: {kind} {name}: rules must be a list of objects")
    selectors = None
    agg = obj.get("aggregationRule")
    if kind == "ClusterRole" and isinstance(agg, Mapping):
        selectors = tuple(s for s in (agg.get("clusterRoleSelectors") or []) if isinstance(s, Mapping))
    namespace = None if kind == "ClusterRole" else str(meta.get("namespace") or "default")
    return Role(
        name=str(name),
        namespace=namespace,
        rules=tuple(rule_from_dict(dict(r)) for r in rules_raw),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        aggregation_selectors=selectors,
        source=source,
    )


def binding_from_object(obj: Mapping[str, Any], source: str = "") -> RoleBinding:
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    where = source or "manifest"
    if not name:
        raise NetssoError(f"{where}: {kind} without metadata.name")
    ref = obj.get("roleRef")
    if not isinstance(ref, Mapping) or not ref.get("name") or not ref.get("kind"):
        raise NetssoError(f"{where}: {kind} {name}: roleRef needs kind and name")
    subjects = []
    for s in obj.get("subjects") or []:
        if not isinstance(s, Mapping) or not s.get("kind") or not s.get("name"):
            raise NetssoError(f"{where}: {kind} {name}: each subject needs kind and name")
        subjects.append(
            Subject(
                kind=str(s["kind"]),
                name=str(s["name"]),
                namespace=str(s["namespace"]) if s.get("namespace") else None,
                api_group=str(s.get("apiGroup") or ""),
            )
        )
    namespace = None if kind == "ClusterRoleBinding" else str(meta.get("namespace") or "default")
    return RoleBinding(
        name=str(name),
        namespace=namespace,
        role_kind=str(ref["kind"]),
        role_name=str(ref["name"]),
        subjects=tuple(subjects),
        source=source,
    )


def snapshot_from_objects(objs: Iterable[Any], source: str = "") -> Snapshot:
    """Roles and bindings from API objects (Lists flattened; other kinds ignored)."""
    roles: list[Role] = []
    bindings: list[RoleBinding] = []
    for obj in _flatten(objs):
        kind = obj.get("kind")
        if kind in ("Role", "ClusterRole"):
            roles.append(role_from_object(obj, source))
        elif kind in ("RoleBinding", "ClusterRoleBinding"):
            bindings.append(binding_from_object(obj, source))
    return Snapshot(roles=tuple(roles), bindings=tuple(bindings), source=source)


def merge(base: Snapshot, extra: Snapshot) -> Snapshot:
    """base plus extra's roles and bindings; objects in base win over same-named ones in extra (the user's folder
    overrides the packaged defaults)."""
    have_roles = {(r.namespace, r.name) for r in base.roles}
    have_bindings = {(b.namespace, b.name) for b in base.bindings}
    from dataclasses import replace

    return replace(
        base,
        roles=base.roles + tuple(r for r in extra.roles if (r.namespace, r.name) not in have_roles),
        bindings=base.bindings + tuple(b for b in extra.bindings if (b.namespace, b.name) not in have_bindings),
    )
