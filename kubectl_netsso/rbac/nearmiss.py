"""Near misses: binding subjects that name the token's user or group with another prefix than the offline mapping gives.

Offline, the cached ID token is mapped like the API server would (claims.py), but only with the prefixes the user
passed: bindings naming ``oidc:contractors`` silently miss a token group ``contractors`` when --groups-prefix was not
given, and a User ``alice`` misses ``https://issuer#alice`` (the API server's default username prefix). A subject
equal to the token's raw value with some other prefix (or none) is such a near miss; the hint names the flag that
makes the offline check see the identity as the cluster would. Pure.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..cluster.snapshot import RoleBinding
from .authorize import RbacModel, applies_to, binding_ref, identity
from .claims import ClaimMapping, effective_username_prefix, map_claims


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A binding subject that would match the token under another claim mapping."""

    binding: str  # "RoleBinding frontend/contractors"
    kind: str  # "User" | "Group"
    subject: str  # the subject's name in the binding: "oidc:contractors"
    claim: str  # the token's claim it differs from: "groups", "sub", "email"
    value: str  # the claim's value: "contractors"
    mapped: str  # what the offline mapping made of it (never equal to subject): "contractors"
    flag: str  # the offline flag(s) that make it match: "--groups-prefix oidc:"

    @property
    def message(self) -> str:
        return (f"{self.binding} names {self.kind} {self.subject!r}; your token's {self.claim!r} claim "
                f"{self.value!r} is checked as {self.mapped!r} here, so it does not match")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"binding": self.binding, "kind": self.kind, "subject": self.subject, "claim": self.claim,
                "value": self.value, "checkedAs": self.mapped, "flag": self.flag}  # fmt: skip


def _plausible_prefix(prefix: str) -> bool:
    # Prefixes people configure end in a separator ("oidc:", "okta-", "https://issuer#"); "system:" names are the
    # API server's own and cannot be a claim prefix. This keeps "dev" vs "webdev" from looking like a near miss.
    return prefix == "" or (prefix[-1] in ":#/-_.@" and not prefix.startswith("system:"))


def _bindings(model: RbacModel, namespaces: Sequence[str] | None) -> Iterable[RoleBinding]:
    yield from model.cluster_bindings
    for ns in sorted(model.bindings_by_ns):
        if namespaces is None or ns in namespaces:
            yield from model.bindings_by_ns[ns]


def _claim_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def near_misses(
    model: RbacModel,
    claims: Mapping[str, Any],
    mapping: ClaimMapping,
    issuer: str | None = None,
    namespaces: Sequence[str] | None = None,
) -> list[NearMiss]:
    """Subjects of the bindings in scope (ClusterRoleBindings and the RoleBindings of ``namespaces``; None = all)
    that name the token's username or a group with another prefix than ``mapping`` gives, or the token's email when
    the username claim is another one."""
    iss = issuer or str(claims.get("iss", ""))
    mapped = map_claims(claims, mapping, iss)
    if mapped.username is None:
        return []
    raw_user = claims.get(mapping.username_claim)
    user_prefix = effective_username_prefix(mapping, iss)
    raw_groups = _claim_strings(claims.get(mapping.groups_claim)) if mapping.groups_claim else []
    email = claims.get("email")
    ident = identity(mapped.username, mapped.groups)
    out: list[NearMiss] = []
    seen: set[tuple[str, str, str]] = set()
    for b in _bindings(model, namespaces):
        if any(applies_to(s, ident, b.namespace or "") for s in b.subjects):
            continue  # the binding already applies: another spelling in it misses nothing
        for s in b.subjects:
            miss: NearMiss | None = None
            if s.kind == "Group" and s.name not in mapped.groups:
                for g in raw_groups:
                    prefix = s.name[: -len(g)] if s.name.endswith(g) else None
                    if prefix is not None and prefix != mapping.groups_prefix and _plausible_prefix(prefix):
                        flag = f"--groups-prefix {shlex.quote(prefix)}"
                        miss = NearMiss(binding_ref(b), "Group", s.name, mapping.groups_claim or "groups", g,
                                        mapping.groups_prefix + g, flag)  # fmt: skip
                        break
            elif s.kind == "User" and s.name != mapped.username and isinstance(raw_user, str):
                prefix = s.name[: -len(raw_user)] if s.name.endswith(raw_user) else None
                if prefix is not None and prefix != user_prefix and _plausible_prefix(prefix):
                    # "-" is how the API server's --oidc-username-prefix says "no prefix"
                    flag = f"--username-prefix {shlex.quote(prefix) if prefix else '-'}"
                    miss = NearMiss(binding_ref(b), "User", s.name, mapping.username_claim, raw_user, mapped.username, flag)
                elif isinstance(email, str) and email and s.name == email and mapping.username_claim != "email":
                    # with the email claim the API server's default prefix is none
                    flag = "--username-claim email" + (" --username-prefix -" if mapping.username_prefix not in (None, "", "-")
                                                       else "")  # fmt: skip
                    miss = NearMiss(binding_ref(b), "User", s.name, "email", email, mapped.username, flag)
            if miss is not None and (miss.binding, miss.kind, miss.subject) not in seen:
                seen.add((miss.binding, miss.kind, miss.subject))
                out.append(miss)
    return out


__all__ = ["NearMiss", "near_misses"]
