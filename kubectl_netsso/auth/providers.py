"""What the common providers need, told at setup: recognised from the issuer URL (Okta, Microsoft Entra ID, Google) and
from what the ID token really holds (a groups overage, no groups). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

OKTA_HOSTS = (".okta.com", ".oktapreview.com", ".okta-emea.com")
ENTRA_HOSTS = ("login.microsoftonline.com", "sts.windows.net", "login.microsoftonline.us", "login.partner.microsoftonline.cn")
GOOGLE_HOSTS = ("accounts.google.com",)


@dataclass(frozen=True, slots=True)
class Note:
    provider: str  # "okta" | "entra" | "google" | "any"
    topic: str  # short key, for tests and JSON
    text: str


def identify(issuer_url: str) -> str | None:
    """"okta", "entra", "google" or None, from the issuer's host name."""
    try:
        host = (urlsplit(issuer_url).hostname or "").lower()
    except ValueError:
        return None
    if host.endswith(OKTA_HOSTS):
        return "okta"
    if host in ENTRA_HOSTS:
        return "entra"
    if host in GOOGLE_HOSTS:
        return "google"
    return None


def _overage(claims: Mapping[str, Any]) -> bool:
    names = claims.get("_claim_names")
    return isinstance(names, dict) and "groups" in names and "groups" not in claims


KINDS = ("auto", "okta", "entra", "google", "generic")


def notes(issuer_url: str, claims: Mapping[str, Any], has_client_secret: bool, kind: str | None = None) -> list[Note]:
    """The notes that apply to this issuer and these ID token claims, most pressing first. ``kind`` overrides the
    recognition by host name (an Okta custom URL domain looks like any other host)."""
    kind = identify(issuer_url) if kind in (None, "auto") else (None if kind == "generic" else kind)
    path = urlsplit(issuer_url).path or ""
    out: list[Note] = []
    groups = claims.get("groups")
    if _overage(claims):
        out.append(Note("entra", "groups-overage",
                        "the ID token has a groups overage (_claim_names) instead of groups: the user is in more groups "
                        "than fit in a token (Entra ID: over 200) and the API server cannot follow the reference. "
                        "Emit only the groups assigned to the application (Entra ID: token configuration, groups "
                        "claim, 'Groups assigned to the application'), or bind users instead of groups"))
    if kind == "entra":
        out.append(Note("entra", "groups-object-ids",
                        "Entra ID puts groups in the token as object IDs (GUIDs) unless the groups claim is configured "
                        "to emit names (cloud-only groups: object IDs only): bind those IDs, e.g. "
                        "--bind-group 00000000-0000-0000-0000-000000000000; the v2.0 issuer "
                        "(https://login.microsoftonline.com/<tenant>/v2.0) must match the API server's exactly"))
    if kind == "google":
        if not has_client_secret:
            out.append(Note("google", "client-secret",
                            "Google's desktop-app OAuth clients come with a client secret that the token endpoint "
                            "requires even with PKCE: set NETSSO_OIDC_CLIENT_SECRET (it goes into the exec env:)"))
        out.append(Note("google", "no-groups",
                        "Google ID tokens carry no groups claim: bind each user by email (--username-claim email, "
                        "RBAC subjects kind User), or use Google Workspace groups through a provider that maps them "
                        "into a claim (e.g. a federation broker with a claims mapper)"))
    elif groups is None and not _overage(claims):
        if kind == "okta" and "/oauth2/" not in path + "/":
            out.append(Note("okta", "custom-authorization-server",
                            "Okta's org authorization server (issuer https://<org>.okta.com) returns thin ID tokens "
                            "without groups: use a custom authorization server (issuer "
                            "https://<org>.okta.com/oauth2/<id>, e.g. /oauth2/default) with a groups claim and request "
                            "--oidc-extra-scope groups"))
        elif kind == "okta":
            out.append(Note("okta", "groups-claim",
                            "this Okta custom authorization server puts no groups into the ID token: add a groups claim "
                            "to it (Security > API > Authorization Servers > Claims: include in the ID token, filter "
                            "the groups) and request --oidc-extra-scope groups"))
        else:
            out.append(Note("any", "no-groups",
                            "the ID token has no groups claim: RBAC can only bind users. Request it (e.g. "
                            "--oidc-extra-scope groups) or configure a groups claim/mapper at the provider"))
    if kind == "okta" and groups is not None and "/oauth2/" not in path + "/":
        out.append(Note("okta", "org-authorization-server",
                        "this is Okta's org authorization server; its access tokens are for Okta's own APIs: keep the "
                        "ID token (no --oidc-use-access-token)"))
    return out
