"""Who a question is about: the cached SSO token (claims only), --as/--as-group, or the token mapped like the API
server maps it -- shared by whoami, can-i, permissions, reach, audit and report."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_USAGE, NetssoError
from ..rbac.authorize import Identity, identity
from ..rbac.claims import ClaimMapping, map_claims

if TYPE_CHECKING:
    from ..auth.settings import ProviderSettings
    from ..cluster.live import LiveClient
    from ..cluster.target import KubeOptions
    from ..rbac.authorize import RbacModel



def claim_seconds(value: Any) -> float | None:
    """A numeric claim (exp, iat) as seconds; the provider may send any JSON number, 10**400 included, which
    float() cannot hold: it is then an infinity, still ordered against now (expired or not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


@dataclass(frozen=True, slots=True)
class IdentityInput:
    """The provider flags that pick the cached token (get-token's names) and the API server's claim mapping."""

    provider: Mapping[str, object] = field(default_factory=dict)
    mapping: ClaimMapping = field(default_factory=ClaimMapping)


def list_text(values: Sequence[str]) -> str:
    return "[" + " ".join(values) + "]"


@dataclass(frozen=True, slots=True)
class LocalToken:
    """The cached ID token's claims (never the token itself) and which cache entry holds it."""


    claims: dict[str, Any]
    expires_at: float | None
    cache: str  # which cache entry (path or keyring item)
    issuer: str
    client_id: str


def provider_settings(kube: KubeOptions, values: Mapping[str, object]) -> ProviderSettings | None:
    """ProviderSettings from the flags, else from the current kubeconfig user's exec args; None when neither."""
    from ..auth.settings import ProviderSettings, SettingsError

    try:
        if values.get("issuer_url"):
            return ProviderSettings.from_values(dict(values))
        from ..cluster.kubeconfig import resolve_context

        try:
            ctx = resolve_context(kube.kubeconfig, kube.context)
        except NetssoError as exc:
            if kube.context:  # a --context that names nothing is never silently ignored
                raise NetssoError(exc.message, hint=exc.hint, exit_code=EXIT_USAGE) from exc
            return None
        if ctx.exec is None or not ctx.exec.is_netsso:
            return None
        settings = ProviderSettings.from_exec_args(ctx.exec.netsso_args, ctx.exec.process_env())
        overrides = {k: v for k, v in values.items() if v not in (None, [], ())}
        return settings.replace(**overrides) if overrides else settings
    except SettingsError as exc:
        raise NetssoError(f"provider settings: {exc}", hint="check --oidc-issuer-url and --oidc-client-id") from exc


def load_local_token(kube: KubeOptions, values: Mapping[str, object], required: bool) -> LocalToken | None:
    """The cached ID token's claims (never the token). required: raise 'not logged in' when there is none."""
    settings = provider_settings(kube, values)
    if settings is None:
        if required:
            raise NetssoError(
                "no provider configured: the current kubeconfig user does not run kubectl netsso get-token",
                hint="pass --oidc-issuer-url and --oidc-client-id, or run: kubectl netsso setup",
            )
        return None
    from ..auth.cache import open_cache
    from ..auth.tokens import TokenError

    cache = open_cache(settings)
    tokens = cache.load()
    if tokens is None:
        if required:
            raise NetssoError(
                f"not logged in: run kubectl netsso login (no cached token for {settings.issuer_url})",
                hint=f"cache entry: {cache.describe()}",
            )
        return None
    try:
        claims = tokens.claims
    except TokenError as exc:
        raise NetssoError(f"the cached ID token cannot be decoded: {exc}", hint="run kubectl netsso login") from exc
    exp = claims.get("exp")
    return LocalToken(
        claims=claims,
        expires_at=claim_seconds(exp),
        cache=cache.describe(),
        issuer=settings.issuer_url,
        client_id=settings.client_id,
    )


def live_client(kube: KubeOptions) -> LiveClient:
    from ..cluster.live import LiveClient

    return LiveClient(kube)


# Offline identity without a user name: a member of the --as-group groups (a name no User subject can match).
GROUP_MEMBER = "netsso:member-of-groups"


@dataclass(frozen=True, slots=True)
class OfflineIdentity:
    """Who an offline check is for, and where that came from (the token too, to explain near misses)."""

    identity: Identity
    how: str  # "--as" | "--as-group" | "cached token"
    token: LocalToken | None = None
    mapping: ClaimMapping | None = None

    @property
    def user(self) -> str | None:
        return None if self.identity.user == GROUP_MEMBER else self.identity.user

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "groups": list(self.identity.groups), "from": self.how}

    @property
    def text(self) -> str:
        who = self.user if self.user is not None else "a member of the groups"
        return f"{who} {list_text(list(self.identity.groups))}"


def offline_identity(kube: KubeOptions, inp: IdentityInput) -> OfflineIdentity:
    """--as and/or --as-group (a group alone: any member of it), else the cached SSO token mapped like the API
    server."""
    if kube.as_user or kube.as_groups:
        how = "--as" if kube.as_user else "--as-group"
        return OfflineIdentity(identity(kube.as_user or GROUP_MEMBER, kube.as_groups, impersonated=True), how)
    tok = load_local_token(kube, inp.provider, required=False)
    if tok is None:
        raise NetssoError(
            "no identity for an offline check: not logged in",
            hint="pass --as USER and/or --as-group GROUP, or run kubectl netsso login first",
        )
    mapped = map_claims(tok.claims, inp.mapping, tok.issuer or None)
    if mapped.username is None:
        raise NetssoError(f"the cached ID token cannot be mapped to a user: {mapped.error}", hint="see --username-claim")
    if tok.expires_at is not None and tok.expires_at <= time.time():
        log.warn("the cached ID token has expired; using its claims anyway for this offline check")
    if mapped.distributed_groups:
        log.warn("the token's groups are a distributed claim (overage): checked without groups")
    return OfflineIdentity(identity(mapped.username, mapped.groups), "cached token", tok, inp.mapping)


def report_near_misses(who: OfflineIdentity, model: RbacModel, namespaces: Sequence[str] | None) -> list[dict[str, Any]]:
    """Warn about bindings that name the cached token's user or groups with another prefix (the hint names the flag
    to pass); returns them for JSON. Nothing for --as/--as-group, where the user named the identity."""
    if who.token is None or who.mapping is None:
        return []
    from ..rbac.nearmiss import near_misses

    found = near_misses(model, who.token.claims, who.mapping, who.token.issuer or None, namespaces)
    shown = 3
    for miss in found[:shown]:
        log.warn(miss.message)
    if len(found) > shown:
        log.warn(f"... and {len(found) - shown} more binding subject(s) like these")
    for flag in dict.fromkeys(m.flag for m in found):
        log.info(f"hint: pass {flag} if the API server maps your token that way (kubectl netsso whoami shows how the "
                 "cluster sees you)")  # fmt: skip
    return [m.to_dict() for m in found]


def optional_identity(kube: KubeOptions, inp: IdentityInput, required: bool) -> OfflineIdentity | None:
    """reach, audit, report offline: --as/--as-group (a group alone = any member of it), else the cached SSO identity
    mapped like the API server; None when there is none and it is optional."""
    try:
        return offline_identity(kube, inp)
    except NetssoError as exc:
        if required:
            raise NetssoError(
                "no identity for an offline check: pass --as USER and/or --as-group GROUP, or log in first",
                hint="e.g. kubectl netsso reach -A --manifests example:shop --with-default-roles --as-group oidc:contractors",
            ) from exc
        return None


__all__ = [
    "GROUP_MEMBER", "IdentityInput", "LocalToken", "OfflineIdentity", "list_text", "live_client", "load_local_token",
    "offline_identity", "optional_identity", "provider_settings", "report_near_misses",
]  # fmt: skip
