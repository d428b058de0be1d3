"""whoami: the cached SSO token (local view) beside the cluster's SelfSubjectReview, and what differs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_ERROR, EXIT_OK, NetssoError
from .identity import IdentityInput, LocalToken, live_client, load_local_token

if TYPE_CHECKING:
    from ..cluster.target import KubeOptions
    from ..rbac.claims import MappedIdentity
    from ..rbac.diagnose import Finding


@dataclass(frozen=True, slots=True)
class WhoamiInput:
    identity: IdentityInput
    local: bool = False  # only the cached token; do not ask the cluster


@dataclass(frozen=True, slots=True)
class WhoamiResult:
    token: LocalToken | None
    mapped: MappedIdentity | None  # the token's claims mapped like the API server maps them
    cluster: dict[str, Any] | None  # the SelfSubjectReview status.userInfo
    cluster_error: str | None
    findings: tuple[Finding, ...]
    now: float

    @property
    def exit_code(self) -> int:
        return EXIT_ERROR if self.cluster_error else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "local": _local_dict(self.token, self.mapped, self.now) if self.token else None,
            "cluster": self.cluster,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.cluster_error:
            data["clusterError"] = self.cluster_error
        # whether the two views were compared (findings that need both, like groups-prefix, are possible only then)
        data["compared"] = self.token is not None and self.cluster is not None
        return data


def run(inp: WhoamiInput, kube: KubeOptions) -> WhoamiResult:
    from ..rbac.claims import map_claims
    from ..rbac.diagnose import diagnose

    mapping = inp.identity.mapping
    now = time.time()
    tok = load_local_token(kube, inp.identity.provider, required=inp.local)
    cluster: dict[str, Any] | None = None
    cluster_error: str | None = None
    if not inp.local:
        try:
            cluster = dict(live_client(kube).self_subject_review())
        except NetssoError as exc:
            if tok is None:
                raise
            cluster_error = exc.message + (f" ({exc.hint})" if exc.hint else "")
    mapped = map_claims(tok.claims, mapping, tok.issuer or None) if tok else None
    findings = diagnose(tok.claims if tok else None, cluster, now, mapping)
    return WhoamiResult(tok, mapped, cluster, cluster_error, tuple(findings), now)


def _local_dict(tok: LocalToken, mapped: MappedIdentity | None, now: float) -> dict[str, Any]:
    c = tok.claims
    groups = c.get("groups")
    out: dict[str, Any] = {
        "issuer": c.get("iss", tok.issuer),
        "subject": c.get("sub"),
        "email": c.get("email"),
        "name": c.get("name") or c.get("preferred_username"),
        "groups": groups if isinstance(groups, list) else ([groups] if isinstance(groups, str) else None),
        "audience": c.get("aud"),
        "issuedAt": c.get("iat"),
        "expiresAt": c.get("exp"),
        "expired": bool(tok.expires_at is not None and tok.expires_at <= now),
        "cacheEntry": tok.cache,
    }
    if mapped is not None:
        out["mappedIdentity"] = {"username": mapped.username, "groups": list(mapped.groups), "error": mapped.error}
    return out


__all__ = ["WhoamiInput", "WhoamiResult", "run"]
