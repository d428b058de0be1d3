"""login, get-token, setup, logout: thin click commands over kubectl_netsso.auth."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from .. import log
from ..auth import credentials
from ..auth.cache import open_cache
from ..auth.execcred import ExecInfoError, exec_credential, is_interactive, parse_exec_info
from ..auth.settings import ProviderSettings
from ..auth.tokens import TokenSet
from ..errors import NetssoError
from ..output import emit, render, style
from ..usecases.provider import resolve_settings
from .options import output_option
from .provider_options import build_settings, kubeconfig_source_options, provider_options

EXEC_API = "client.authentication.k8s.io/v1"


def _relative(ts: float | None) -> str:
    if ts is None or ts != ts:  # absent or NaN
        return "unknown"
    from ..auth.execcred import MAX_TIMESTAMP

    ts = min(max(ts, 0.0), float(MAX_TIMESTAMP))  # a provider's exp of 1e20 must not overflow localtime()
    left = int(ts - time.time())
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(ts))
    if left <= 0:
        return f"{when} (expired)"
    return f"{when} (in {left // 3600}h{(left % 3600) // 60:02d}m{left % 60:02d}s)" if left >= 3600 else \
        f"{when} (in {left // 60}m{left % 60:02d}s)"


def _identity(tokens: TokenSet) -> dict[str, Any]:
    claims = tokens.claims
    groups = claims.get("groups")
    return {
        "issuer": claims.get("iss"),
        "subject": claims.get("sub"),
        "email": claims.get("email"),
        "groups": groups if isinstance(groups, list) else [],
        "expires": _relative(tokens.expires_at),
    }


@click.command("login")
@provider_options
@kubeconfig_source_options
@output_option("table", "json", "yaml", aliases={"text": "table"}, help="Output format of the identity summary.")
def login(provider_values: dict[str, Any], kubeconfig: str | None, kube_context: str | None, output: str) -> None:
    """Log in to the OpenID Provider and cache the tokens; print who you are.

    Settings: flags, then NETSSO_* variables, then the exec entry of the current (or --context) context's kubeconfig
    user when it runs kubectl netsso or kubelogin get-token; -v says where each came from.

    \b
    kubectl netsso login            # the current context's provider
    kubectl netsso login --oidc-issuer-url https://sso.example.com --oidc-client-id kubernetes \\
        --oidc-extra-scope groups --oidc-extra-scope offline_access
    """
    settings = _required(resolve_settings(provider_values, kubeconfig, kube_context))
    tokens = credentials.login(settings)
    ident = _identity(tokens)
    if render(ident, output):
        return
    # one list of lines: emit escapes each as one line, so a claim with a line feed cannot start a line of its own
    lines = [style("Logged in", "green", "bold") + f" to {ident['issuer']}", f"  subject: {ident['subject']}"]
    if ident["email"]:
        lines.append(f"  email:   {ident['email']}")
    lines.append(f"  groups:  {', '.join(map(str, ident['groups'])) or '(none in the ID token)'}")
    lines.append(f"  expires: {ident['expires']}")
    lines.append(f"  cache:   {open_cache(settings).describe()}")
    emit(lines)
    if not tokens.refresh_token and settings.grant_type != "client-credentials":  # that grant never has one
        log.warn("the provider issued no refresh token: you will log in again when the ID token expires "
                 "(request --oidc-extra-scope offline_access)")


@click.command("get-token")
@provider_options
def get_token(provider_values: dict[str, Any]) -> None:
    """Credential plugin for kubectl: print an ExecCredential with a valid ID token.

    Uses the cached token, refreshes it (under a lock), or logs in. Reads KUBERNETES_EXEC_INFO; stdout carries only
    the JSON. Non-interactive callers (spec.interactive false) only get a browser login, never more than one at a time
    and none within 5 minutes of an abandoned one; otherwise: exit 3 with "login required".

    \b
    Named in a kubeconfig user (kubectl netsso setup prints the command):
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: kubectl-netsso
        args: [get-token, --oidc-issuer-url=https://sso.example.com, --oidc-client-id=kubernetes]
        interactiveMode: IfAvailable
    """
    try:
        info = parse_exec_info(os.environ.get("KUBERNETES_EXEC_INFO"))
    except ExecInfoError as exc:
        raise NetssoError(str(exc), hint="kubectl sets this variable; unset it to run get-token by hand") from None
    settings = build_settings(provider_values)
    tokens = credentials.get_token(settings, interactive=is_interactive(info))
    margin = tokens.effective_margin(settings.expiry_margin)
    sys.stdout.write(exec_credential(tokens.id_token, tokens.expires_at, info.api_version, margin) + "\n")
    sys.stdout.flush()


@click.command("logout")
@provider_options
@kubeconfig_source_options
@click.option("--all", "all_entries", is_flag=True, help="Remove every cached token (all providers) from file and keyring.")
@click.option("--no-revoke", is_flag=True, help="Only delete locally; do not revoke the refresh token at the provider.")
def logout(provider_values: dict[str, Any], kubeconfig: str | None, kube_context: str | None, all_entries: bool,
           no_revoke: bool) -> None:
    """Remove cached tokens (file and keyring) and revoke the refresh token at the provider (RFC 7009).

    Without flags: the provider of the current (or --context) context's kubeconfig user. Every cached login for that
    issuer and client goes, whatever scopes or CA it was made with.

    \b
      kubectl netsso logout                # the current context's provider
      kubectl netsso logout --oidc-issuer-url https://sso.example.com --oidc-client-id kubernetes
      kubectl netsso logout --all          # every cached provider
    """
    from ..auth import cache as cache_mod
    from ..auth.settings import default_cache_dir

    if all_entries:
        directory = os.path.abspath(os.path.expanduser(provider_values.get("token_cache_dir")
                                                       or os.environ.get("NETSSO_TOKEN_CACHE_DIR") or default_cache_dir()))
        # Entries name the issuer their refresh token is revoked at: only read them from a dir nobody else can write.
        cache_mod.check_existing_dir(directory)
        revoked = 0
        if not no_revoke:
            for key in cache_mod.list_entries(directory):
                entry = cache_mod.read_file_entry(directory, key)
                if entry and entry.refresh_token and entry.issuer and entry.client_id:
                    values = dict(provider_values, issuer_url=entry.issuer, client_id=entry.client_id, token_cache_dir=directory)
                    revoked += _revoke(build_settings(values), entry.refresh_token)
        count = cache_mod.remove_all(directory)
        emit(f"Logged out: removed {count} cache entr{'y' if count == 1 else 'ies'} from {directory}"
             + (f"; revoked {revoked} refresh token(s)" if revoked else ""))
        return
    settings = _required(resolve_settings(provider_values, kubeconfig, kube_context))
    found: list[TokenSet] = []
    removed = 0
    # The same issuer and client cached under other keys (other scopes, CA, extra params): logging out means all.
    if cache_mod.check_existing_dir(settings.token_cache_dir):
        for key in cache_mod.list_entries(settings.token_cache_dir):
            entry = cache_mod.read_file_entry(settings.token_cache_dir, key)
            if key == settings.cache_key() or entry is None or \
                    (entry.issuer, entry.client_id) != (settings.issuer_url, settings.client_id):
                continue
            found.append(entry)
            removed += int(cache_mod.remove_key(settings.token_cache_dir, key))
    for storage in ("file", "keyring"):
        if storage == "keyring" and settings.token_cache_storage != "keyring" and \
                settings.cache_key() not in _keyring_index(settings.token_cache_dir):
            continue  # do not touch the OS keyring (slow, may prompt) when nothing of ours is there
        entry_cache = cache_mod.TokenCache(settings.replace(token_cache_storage=storage))
        try:
            tokens = entry_cache.load()
        except NetssoError as err:
            log.warn(err.message)
            continue
        if tokens is not None:
            found.append(tokens)
        removed += int(entry_cache.delete())
    revoked = 0
    if not no_revoke:
        for rt in {t.refresh_token for t in found if t.refresh_token}:
            revoked += _revoke(settings, rt)
    base = cache_mod.TokenCache(settings)
    for path in (base.lock_path, base.state_path):
        try:
            os.unlink(path)
        except OSError:
            pass
    if not removed:
        emit(f"No cached tokens for {settings.issuer_url} (client {settings.client_id}).")
        return
    emit(f"Logged out of {settings.issuer_url}: removed the cached tokens"
         + ("; revoked the refresh token at the provider" if revoked else ""))


def _required(settings: ProviderSettings | None) -> ProviderSettings:
    assert settings is not None  # resolve_settings(required=True) raises instead
    return settings


def _keyring_index(directory: str) -> list[str]:
    import json

    try:
        with open(os.path.join(directory, "keyring-index.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        return [k for k in data if isinstance(k, str)] if isinstance(data, list) else []
    except (OSError, ValueError):
        return []


def _revoke(settings: ProviderSettings, refresh_token: str) -> int:
    from ..auth.discovery import discover
    from ..auth.flows import revoke

    try:
        provider = discover(settings)
        if not provider.endpoint("revocation_endpoint"):
            log.info("the provider has no revocation_endpoint; the refresh token stays valid until it expires")
            return 0
        return int(revoke(settings, provider, refresh_token))
    except NetssoError as err:
        log.warn(f"could not revoke the refresh token: {err.message}")
        return 0
