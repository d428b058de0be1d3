"""ID-token claims -> the username and groups kube-apiserver's OIDC authenticator would derive (legacy --oidc-* flags).

Source: kubernetes docs "Authenticating" (OpenID Connect Tokens) and k8s.io/apiserver
plugin/pkg/authenticator/token/oidc/oidc.go; pkg/kubeapiserver/options/authentication.go for the prefix default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """The API server's claim mapping (flag names without --oidc-)."""

    username_claim: str = "sub"
    username_prefix: str | None = None  # None: the flag is unset (the default applies); "-": no prefix
    groups_claim: str | None = "groups"  # the API server has no default; "groups" is the common setting
    groups_prefix: str = ""


@dataclass(frozen=True, slots=True)
class MappedIdentity:
    username: str | None  # None when the token cannot be mapped (see error)
    groups: tuple[str, ...] = ()
    error: str | None = None
    distributed_groups: bool = False  # the groups claim is a distributed claim (_claim_names/_claim_sources)
    notes: tuple[str, ...] = field(default_factory=tuple)


def effective_username_prefix(mapping: ClaimMapping, issuer: str) -> str:
    """The prefix the API server puts before the username claim.

    authentication.go: "If a usernamePrefix isn't provided, prefix all claims other than "email" with the
    issuerURL" (issuer + "#"); the special value "-" means no prefix.
    """
    if mapping.username_prefix == "-":
        return ""
    if mapping.username_prefix is None or mapping.username_prefix == "":
        return "" if mapping.username_claim == "email" else f"{issuer}#"
    return mapping.username_prefix


def has_distributed_claim(claims: Mapping[str, Any], name: str) -> bool:
    """OIDC Core 5.6.2 distributed claims: _claim_names maps the claim name to a source in _claim_sources."""
    names = claims.get("_claim_names")
    return isinstance(names, Mapping) and name in names


def map_claims(claims: Mapping[str, Any], mapping: ClaimMapping, issuer: str | None = None) -> MappedIdentity:
    """Username and groups from claims as kube-apiserver maps them.

    - username: the username claim must be a string ("oidc: parse username claims"); with the claim 'email',
      "email_verified" must be true when present ("oidc: email not verified");
    - groups: the groups claim may be a string or a list of strings; each gets the groups prefix; a missing claim
      means no groups (not an error). A distributed groups claim is resolved by the API server (not here).
    """
    iss = issuer or str(claims.get("iss", ""))
    value = claims.get(mapping.username_claim)
    if value is None:
        return MappedIdentity(username=None, error=f"claim {mapping.username_claim!r} not present in the ID token")
    if not isinstance(value, str):
        return MappedIdentity(username=None, error=f"claim {mapping.username_claim!r} is not a string")
    if mapping.username_claim == "email" and "email_verified" in claims and claims.get("email_verified") is not True:
        return MappedIdentity(username=None, error="email not verified (email_verified is not true)")
    username = effective_username_prefix(mapping, iss) + value
    groups: tuple[str, ...] = ()
    distributed = False
    notes: list[str] = []
    if mapping.groups_claim:
        raw = claims.get(mapping.groups_claim)
        if raw is None and has_distributed_claim(claims, mapping.groups_claim):
            distributed = True
            notes.append(f"groups claim {mapping.groups_claim!r} is distributed (_claim_names/_claim_sources)")
        elif isinstance(raw, str):
            groups = (mapping.groups_prefix + raw,)
        elif isinstance(raw, list):
            groups = tuple(mapping.groups_prefix + str(g) for g in raw if isinstance(g, str))
    return MappedIdentity(username=username, groups=groups, distributed_groups=distributed, notes=tuple(notes))
