"""whoami diagnosis: why the cluster's view of you differs from your ID token, one finding + hint per problem.

Pure: takes the token's claims (local view), the SelfSubjectReview userInfo (cluster view) and the time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .authorize import ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS
from .claims import ClaimMapping, has_distributed_claim, map_claims

_ISSUER_PREFIX = re.compile(r"^(https://[^#\s]+)#(.+)$")


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # issuer-prefix | no-groups-claim | groups-overage | groups-not-in-cluster | groups-prefix |
    #            token-expired | anonymous | username-claim-missing | username-mismatch
    severity: str  # error | warning | info
    message: str
    hint: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "hint": self.hint}


# past this a duration says "years" only: a provider's exp of -1e20 is not a number of days anybody reads
_CENTURY = 100 * 365 * 86400


def _fmt_duration(seconds: float) -> str:
    if not abs(seconds) <= _CENTURY:  # also NaN and infinities, which int() refuses
        return "more than 100 years"
    seconds = int(abs(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d"


def diagnose(
    claims: Mapping[str, Any] | None,
    cluster: Mapping[str, Any] | None,
    now: float,
    mapping: ClaimMapping | None = None,
) -> list[Finding]:
    """Findings for the local view (claims of the cached ID token) and the cluster view (SelfSubjectReview userInfo).

    Either side may be None (no token cached / --local).
    """
    mapping = mapping or ClaimMapping()
    out: list[Finding] = []
    groups_claim = mapping.groups_claim or "groups"
    token_groups: Sequence[str] = ()

    if claims is not None:
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp <= now:
            exp = max(exp, -2.0 * _CENTURY)  # an integer of 400 digits cannot be subtracted from a float
            out.append(
                Finding(
                    "token-expired",
                    "error",
                    f"the cached ID token expired {_fmt_duration(now - exp)} ago",
                    "run any kubectl command (get-token refreshes it) or kubectl netsso login",
                )
            )
        raw = claims.get(groups_claim)
        if isinstance(raw, str):
            token_groups = (raw,)
        elif isinstance(raw, list):
            token_groups = [str(g) for g in raw]
        if has_distributed_claim(claims, groups_claim) or claims.get("hasgroups") is True:
            out.append(
                Finding(
                    "groups-overage",
                    "warning",
                    f"the ID token has no {groups_claim!r} list but an overage marker (_claim_names/_claim_sources): "
                    "the IdP left the groups out (Entra ID does this above 200 groups)",
                    "have the IdP emit only the groups assigned to this application (Entra: 'Groups assigned to the "
                    "application'), or map fewer groups; the API server resolves distributed claims only for "
                    "reachable, unauthenticated sources",
                )
            )
        elif raw is None:
            out.append(
                Finding(
                    "no-groups-claim",
                    "warning",
                    f"the ID token has no {groups_claim!r} claim: RBAC Group bindings cannot match you",
                    "request the groups scope (kubectl netsso setup --oidc-extra-scope=groups) or ask the IdP admin to "
                    "add a groups claim to the ID token",
                )
            )
        if mapping.username_claim not in claims:
            out.append(
                Finding(
                    "username-claim-missing",
                    "error",
                    f"the ID token has no {mapping.username_claim!r} claim (the API server's --oidc-username-claim)",
                    "use --username-claim to match the API server's setting",
                )
            )

    if cluster is not None:
        username = str(cluster.get("username", ""))
        cgroups = [str(g) for g in cluster.get("groups") or ()]
        if username == ANONYMOUS or (ALL_UNAUTHENTICATED in cgroups and ALL_AUTHENTICATED not in cgroups):
            out.append(
                Finding(
                    "anonymous",
                    "error",
                    "the API server did not authenticate you: it sees system:anonymous",
                    "the kubeconfig user sends no valid token; check the API server's --oidc-issuer-url/--oidc-client-id "
                    "match the token's iss and aud (kubectl netsso whoami --local shows them)",
                )
            )
        else:
            m = _ISSUER_PREFIX.match(username)
            if m:
                out.append(
                    Finding(
                        "issuer-prefix",
                        "info",
                        f"your username carries the issuer prefix: {username!r} (the API server's default "
                        "--oidc-username-prefix is '<issuer>#' when the username claim is not 'email')",
                        f"RBAC User subjects must use the full name {username!r}; or set --oidc-username-prefix=- "
                        "(claimMappings.username.prefix: \"\") on the API server",
                    )
                )
            if claims is not None:
                missing = [g for g in token_groups if g not in cgroups]
                if token_groups and missing:
                    prefixed = {}
                    for g in missing:
                        for cg in cgroups:
                            if cg != g and cg.endswith(g):
                                prefixed[g] = cg[: -len(g)]
                    if len(prefixed) == len(missing):
                        prefix = sorted(set(prefixed.values()))[0]
                        out.append(
                            Finding(
                                "groups-prefix",
                                "info",
                                f"the cluster sees your groups with the prefix {prefix!r} (e.g. {prefix + missing[0]!r})",
                                "RBAC Group subjects must use the prefixed names; use --groups-prefix for offline checks",
                            )
                        )
                    else:
                        out.append(
                            Finding(
                                "groups-not-in-cluster",
                                "warning",
                                "groups in your token are missing from the cluster's view: " + ", ".join(missing),
                                "the API server's --oidc-groups-claim is not set or names another claim "
                                f"(your token has {groups_claim!r}); ask the cluster admin",
                            )
                        )
                if claims.get(mapping.username_claim) is not None:
                    mapped = map_claims(claims, mapping)
                    raw_user = str(claims.get(mapping.username_claim))
                    if mapped.username and username != mapped.username and not username.endswith(raw_user):
                        out.append(
                            Finding(
                                "username-mismatch",
                                "info",
                                f"the cluster's username {username!r} is not derived from the token's "
                                f"{mapping.username_claim!r} claim ({raw_user!r})",
                                "the API server maps another claim (--oidc-username-claim, e.g. email) or the "
                                "kubeconfig uses other credentials than this token",
                            )
                        )
    return out
