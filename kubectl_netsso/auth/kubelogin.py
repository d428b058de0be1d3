"""int128/kubelogin's get-token flags translated into this plugin's provider flags (pure: no I/O).

Used to read a kubeconfig user that runs kubelogin (login, logout, whoami, setup take its settings) and by the
migration that rewrites such users. Only what means the same here is carried over; nothing kubelogin cached is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

KUBELOGIN_COMMANDS = ("kubelogin", "kubectl-oidc_login", "kubectl-oidc-login")

# kubelogin flag -> (our flag or None, kind). kind: "str" | "multi" | "list" (pflag stringSlice / stringToString:
# comma separated and repeatable) | "bool" | "int".
_SAME: dict[str, tuple[str, str]] = {
    "--oidc-issuer-url": ("--oidc-issuer-url", "str"),
    "--oidc-client-id": ("--oidc-client-id", "str"),
    "--oidc-client-secret": ("--oidc-client-secret", "str"),
    "--oidc-extra-scope": ("--oidc-extra-scope", "list"),
    "--oidc-auth-request-extra-params": ("--oidc-auth-request-extra-params", "list"),
    "--certificate-authority": ("--certificate-authority", "multi"),
    "--insecure-skip-tls-verify": ("--insecure-skip-tls-verify", "bool"),
    "--token-cache-storage": ("--token-cache-storage", "str"),
    "--grant-type": ("--grant-type", "str"),
    "--listen-address": ("--listen-address", "list"),
    "--skip-open-browser": ("--skip-open-browser", "bool"),
    "--browser-command": ("--browser-command", "str"),
    "--authentication-timeout-sec": ("--authentication-timeout", "int"),
    "--force-refresh": ("--force-refresh", "bool"),
    "--oidc-use-access-token": ("--oidc-use-access-token", "bool"),
    "--oidc-pkce-method": ("--oidc-pkce-method", "str"),
    "--open-url-after-authentication": ("--open-url-after-authentication", "str"),
    "--oidc-redirect-url": ("--oidc-redirect-url", "str"),
    "--listen-port": ("--listen-address", "int"),  # deprecated in kubelogin: a port on localhost
    "--oidc-use-pkce": ("--oidc-pkce-method", "bool"),  # deprecated in kubelogin: force S256
}
# Left out, with the reason (the login still works without them).
_DROPPED: dict[str, tuple[str, str]] = {
    "--token-cache-dir": ("str", "kubelogin's token cache is not reused (tokens are fetched again)"),
    "--tls-renegotiation-once": ("bool", "TLS renegotiation is not supported (TLS 1.3 has none)"),
    "--tls-renegotiation-freely": ("bool", "TLS renegotiation is not supported (TLS 1.3 has none)"),
    "--oidc-redirect-url-hostname": ("str", "deprecated in kubelogin; the redirect host is 127.0.0.1"),
    "-v": ("str", "kubelogin's log level (use kubectl netsso -v)"),
    "--v": ("str", "kubelogin's log level (use kubectl netsso -v)"),
    "--logtostderr": ("bool", "kubelogin's log option"),
    "--alsologtostderr": ("bool", "kubelogin's log option"),
}
# Settings this plugin cannot honour: carrying on without them would log in differently or not at all.
_REFUSED: dict[str, tuple[str, str]] = {
    "--certificate-authority-data": ("multi", "write the CA to a file and use --certificate-authority"),
    "--local-server-cert": ("str", "the redirect listener here is plain http on loopback (RFC 8252)"),
    "--local-server-key": ("str", "the redirect listener here is plain http on loopback (RFC 8252)"),
    "--oidc-request-header": ("list", "extra HTTP headers to the provider are not supported"),
    "--username": ("str", "the password grant is not supported (deprecated by OAuth 2.1)"),
    "--password": ("str", "the password grant is not supported (deprecated by OAuth 2.1)"),
}
_GRANTS = {"auto": "auto", "authcode": "authcode", "authcode-keyboard": "authcode-keyboard",
           "device-code": "device-code", "client-credentials": "client-credentials"}
_TRUE = {"", "1", "t", "true", "yes", "on"}


def runs_kubelogin(command: str, args: list[str] | tuple[str, ...]) -> bool:
    """True for an exec entry running int128/kubelogin's get-token, in the forms its README documents:
    ``kubectl oidc-login get-token ...`` (krew), ``kubelogin get-token ...``, ``kubectl-oidc_login get-token ...`` (any
    directory). Azure's kubelogin is also called ``kubelogin get-token`` but takes --server-id/--login, never
    --oidc-issuer-url: only an entry naming an issuer counts as int128's."""
    base = os.path.basename(command.replace("\\", "/")).lower()
    if base.endswith(".exe"):
        base = base[:-4]
    items = list(args)
    if base == "kubectl":
        runs = items[:2] == ["oidc-login", "get-token"]
    else:
        runs = base in KUBELOGIN_COMMANDS and items[:1] == ["get-token"]
    return runs and any(a == "--oidc-issuer-url" or a.startswith("--oidc-issuer-url=") for a in items)


@dataclass(frozen=True, slots=True)
class Translation:
    """kubelogin get-token arguments as this plugin's arguments, with what was left out and what cannot be honoured."""

    args: tuple[str, ...]
    dropped: tuple[str, ...]  # "FLAG: why", informational
    refused: tuple[str, ...]  # "FLAG: why"; non-empty = this entry cannot be used as it stands


def translate(args: list[str] | tuple[str, ...]) -> Translation:
    """Translate the arguments after ``get-token`` of a kubelogin exec entry (pflag syntax: ``--f=v``, ``--f v``)."""
    out: list[str] = []
    dropped: list[str] = []
    refused: list[str] = []
    i = 0
    items = list(args)
    while i < len(items):
        arg = items[i]
        i += 1
        if not arg.startswith("-"):
            refused.append(f"{arg}: unexpected argument")
            continue
        name, eq, inline = arg.partition("=")
        if name in _SAME:
            ours, kind = _SAME[name]
        elif name in _DROPPED:
            kind, why = _DROPPED[name]
            if kind != "bool" and not eq and i < len(items):
                i += 1
            dropped.append(f"{name}: {why}")
            continue
        elif name in _REFUSED:
            refused.append(f"{name}: {_REFUSED[name][1]}")
            kind = _REFUSED[name][0]
            if kind != "bool" and not eq and i < len(items):
                i += 1
            continue
        else:
            refused.append(f"{name}: not a kubelogin get-token flag this plugin knows")
            continue
        if kind == "bool":
            if eq and inline.lower() not in _TRUE:
                continue  # --flag=false: the default
            out.append("--oidc-pkce-method=S256" if name == "--oidc-use-pkce" else ours)
            continue
        if eq:
            value = inline
        elif i < len(items):
            value = items[i]
            i += 1
        else:
            refused.append(f"{name}: needs a value")
            continue
        if name == "--listen-port":
            values = [f"127.0.0.1:{v.strip()}" for v in value.split(",") if v.strip()]
        elif kind == "list":
            values = [v.strip() for v in value.split(",") if v.strip()]
        else:
            values = [value]
        for v in values:
            if name == "--token-cache-storage":
                v = "file" if v == "disk" else v
            elif name == "--grant-type":
                if v == "password":
                    refused.append("--grant-type=password: the password grant is not supported (deprecated by OAuth 2.1)")
                    break
                v = _GRANTS.get(v, v)
            out.append(f"{ours}={v}")
    return Translation(tuple(out), tuple(dropped), tuple(refused))
