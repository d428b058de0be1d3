"""Permissions of two RBAC models compared: per subject (user, group, ServiceAccount) and scope (a namespace
through its RoleBindings, or cluster-wide through ClusterRoleBindings), the verbs x resources gained and lost, the
risky ones flagged as ``permissions`` flags them, each with the binding and role that grants it. Pure: no I/O.

A rule is cut into atoms (one verb, API group, resource and resource name, or one verb and non-resource URL); an
atom of NEW is gained when no rule of OLD in the same scope allows it (rules.rule_allows), and lost the other way
round, so widening ``get`` to ``*`` gains ``*`` and loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..cluster.snapshot import PolicyRule, Subject
from .authorize import SA_PREFIX, Grant, Identity, RbacModel, rules_for
from .matrix import RISKY
from .rules import Request, rule_allows

GAINED, LOST = "gained", "lost"


@dataclass(frozen=True, slots=True)
class Atom:
    """One verb on one resource (``pods/exec``; name "" = any name), or one verb on one non-resource URL."""

    verb: str
    api_group: str = ""
    resource: str = ""
    name: str = ""
    url: str = ""

    def request(self, namespace: str) -> Request:
        if self.url:
            return Request(self.verb, path=self.url)
        res, _, sub = self.resource.partition("/")
        return Request(self.verb, res, self.api_group, sub, self.name, namespace)

    def rule(self) -> PolicyRule:
        if self.url:
            return PolicyRule(verbs=(self.verb,), non_resource_urls=(self.url,))
        return PolicyRule((self.verb,), (self.api_group,), (self.resource,), (self.name,) if self.name else ())

    @property
    def text(self) -> str:
        if self.url:
            return f"{self.verb} {self.url}"
        res = f"{self.resource.partition('/')[0]}.{self.api_group}" if self.api_group else self.resource.partition("/")[0]
        if "/" in self.resource:
            res += "/" + self.resource.partition("/")[2]
        return f"{self.verb} {res}" + (f" named {self.name}" if self.name else "")


def atoms_of(rule: PolicyRule) -> Iterable[Atom]:
    if rule.non_resource_urls and not rule.resources:
        for v in rule.verbs:
            for u in rule.non_resource_urls:
                yield Atom(v, url=u)
        return
    for v in rule.verbs:
        for g in rule.api_groups:
            for r in rule.resources:
                for n in rule.resource_names or ("",):
                    yield Atom(v, g, r, n)


def risky_labels(atom: Atom, namespace: str) -> tuple[str, ...]:
    """The risky checks of ``permissions`` this atom passes ("create pods/exec", "get secrets")."""
    if atom.url:
        return ()
    rule = atom.rule()
    out: list[str] = []
    for check in RISKY:
        if namespace and not check.namespaced:
            continue
        req = Request(check.verb, check.resource, check.group, check.subresource, "", namespace)
        if rule_allows(rule, req):
            res = f"{check.resource}.{check.group}" if check.group else check.resource
            out.append(f"{check.verb} {res}" + (f"/{check.subresource}" if check.subresource else ""))
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class PermissionChange:
    subject: Subject
    namespace: str  # "" = cluster-wide (ClusterRoleBindings)
    change: str  # gained | lost
    atom: Atom
    risky: tuple[str, ...]
    via: str  # the grant on the side that has it: "RoleBinding shop/x -> ClusterRole edit, rule 2"

    @property
    def subject_text(self) -> str:
        s = self.subject
        if s.kind == "ServiceAccount":
            return f"serviceaccount {s.namespace}/{s.name}"
        return f"{s.kind.lower()} {s.name}"

    def to_dict(self) -> dict[str, Any]:
        a = self.atom
        out: dict[str, Any] = {
            "subject": {"kind": self.subject.kind, "name": self.subject.name, "namespace": self.subject.namespace},
            "namespace": self.namespace or None,
            "change": self.change,
            "verb": a.verb,
        }
        if a.url:
            out["nonResourceURL"] = a.url
        else:
            out.update({"apiGroup": a.api_group, "resource": a.resource, "resourceName": a.name or None})
        out.update({"permission": a.text, "risky": list(self.risky), "via": self.via})
        return out


def identity_of(subject: Subject) -> Identity:
    """The identity that holds exactly what is bound to this subject (no implicit groups)."""
    if subject.kind == "User":
        return Identity(subject.name)
    if subject.kind == "Group":
        return Identity("", (subject.name,))
    return Identity(f"{SA_PREFIX}{subject.namespace}:{subject.name}")


def scoped_grants(model: RbacModel, ident: Identity, namespace: str) -> list[Grant]:
    """The grants of one scope only: cluster-wide ("") from ClusterRoleBindings, a namespace from its RoleBindings."""
    grants, _errors = rules_for(model, ident, namespace)
    if namespace:
        return [g for g in grants if g.binding.namespace == namespace]
    return grants


def _changes(have: Sequence[Grant], other: Sequence[Grant], change: str, subject: Subject, ns: str) -> list[PermissionChange]:
    other_rules = [g.rule.rule for g in other]
    out: list[PermissionChange] = []
    seen: set[Atom] = set()
    for g in have:
        for atom in atoms_of(g.rule.rule):
            if atom in seen:
                continue
            seen.add(atom)
            req = atom.request(ns)
            if any(rule_allows(r, req) for r in other_rules):
                continue
            out.append(PermissionChange(subject, ns, change, atom, risky_labels(atom, ns), g.describe()))
    return out


def diff_permissions(
    old: RbacModel, new: RbacModel, subjects: Iterable[Subject], namespaces: Iterable[str]
) -> list[PermissionChange]:
    """Every subject x scope ("" and each namespace): gained (in NEW, not allowed in OLD), then lost."""
    out: list[PermissionChange] = []
    scopes = ["", *sorted(set(namespaces) - {""})]
    for subject in subjects:
        ident = identity_of(subject)
        for ns in scopes:
            before = scoped_grants(old, ident, ns)
            after = scoped_grants(new, ident, ns)
            if [g.rule.rule for g in before] == [g.rule.rule for g in after]:
                continue
            # what the other side allows in this scope counts its ClusterRoleBindings too: a permission moved from a
            # RoleBinding to a ClusterRoleBinding is gained cluster-wide, not lost in the namespace
            out += _changes(after, rules_for(old, ident, ns)[0], GAINED, subject, ns)
            out += _changes(before, rules_for(new, ident, ns)[0], LOST, subject, ns)
    return out


def subject_sort_key(s: Subject) -> tuple[str, str, str]:
    return (s.kind, s.namespace or "", s.name)


__all__ = [
    "GAINED", "LOST", "Atom", "PermissionChange", "atoms_of", "diff_permissions", "identity_of", "risky_labels",
    "scoped_grants", "subject_sort_key",
]  # fmt: skip
