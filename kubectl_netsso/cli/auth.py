"""login, get-token, setup, logout: thin click commands over kubectl_netsso.auth."""

from __future__ import annotations

import os
import shlex
import sys
import sysconfig
import time
from typing import Any

import click

from .. import log
from ..auth import credentials
from ..auth.cache import open_cache
from ..auth.execcred import ExecInfoError, exec_credential, is_interactive, parse_exec_info
from ..auth.settings import ProviderSettings
from ..auth.tokens import TokenSet
from ..errors import EXIT_USAGE, NetssoError
from ..output import emit, render, style, to_yaml
from .options import output_option
from .provider_options import build_settings, provider_options

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
@output_option("table", "json", "yaml", aliases={"text": "table"}, help="Output format of the identity summary.")
def login(provider_values: dict[str, Any], output: str) -> None:
    """Log in to the OpenID Provider and cache the tokens; print who you are.

    \b
    kubectl netsso login --oidc-issuer-url https://sso.example.com --oidc-client-id kubernetes \\
        --oidc-extra-scope groups --oidc-extra-scope offline_access
    """
    settings = build_settings(provider_values)
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
    if not tokens.refresh_token:
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


def plugin_path() -> str:
    """Absolute path of the kubectl-netsso executable (the real script, not a version-manager shim)."""
    scripts = sysconfig.get_path("scripts")
    candidate = os.path.join(scripts, "kubectl-netsso") if scripts else ""
    if candidate and os.access(candidate, os.X_OK):
        return candidate
    import shutil

    found = shutil.which("kubectl-netsso")
    if found:
        return os.path.realpath(found)
    return os.path.abspath(sys.argv[0])


SECRET_ENV = "NETSSO_OIDC_CLIENT_SECRET"


def set_credentials_command(settings: ProviderSettings, user: str) -> list[str]:
    argv = ["kubectl", "config", "set-credentials", user, f"--exec-api-version={EXEC_API}",
            "--exec-interactive-mode=IfAvailable", f"--exec-command={plugin_path()}"]
    argv += [f"--exec-arg={a}" for a in settings.exec_args(include_secret=False)]
    if settings.client_secret:
        # the exec env: form, not an argument: get-token's argv is readable by every local user (/proc/PID/cmdline)
        argv.append(f"--exec-env={SECRET_ENV}={settings.client_secret}")
    return argv


SECRET_ARG = f"--exec-env={SECRET_ENV}="


def display_command(cmd: list[str]) -> str:
    """The set-credentials command as shell text to paste, without the client secret's value.

    The secret must reach the kubeconfig (kubectl passes it to get-token in its environment), but not a terminal's
    scrollback or a CI log: the printed command takes it from $NETSSO_OIDC_CLIENT_SECRET when the user runs it.
    """
    words = [f'"{SECRET_ARG}${{{SECRET_ENV}}}"' if a.startswith(SECRET_ARG) else shlex.quote(a) for a in cmd]
    return " ".join(words[:4]) + " \\\n    " + " \\\n    ".join(words[4:])


def apiserver_mapping(claims: dict[str, Any], username_claim: str | None, username_prefix: str,
                      groups_claim: str | None, groups_prefix: str) -> tuple[str, str | None]:
    """Choose the username and groups claims from the claims the token really has."""
    if username_claim is None:
        username_claim = "email" if claims.get("email") and claims.get("email_verified") is True else "sub"
    if username_claim not in claims:
        raise NetssoError(f"the ID token has no {username_claim!r} claim", hint="choose another --username-claim")
    if groups_claim is None:
        groups_claim = "groups" if isinstance(claims.get("groups"), list) else None
    elif groups_claim not in claims:
        log.warn(f"the ID token has no {groups_claim!r} claim")
    if groups_claim is None:
        log.warn("the ID token has no groups claim: RBAC can only bind users. Request it (e.g. --oidc-extra-scope groups) "
                 "or configure a groups mapper at the provider")
    return username_claim, groups_claim


def apiserver_flags(settings: ProviderSettings, username_claim: str, username_prefix: str,
                    groups_claim: str | None, groups_prefix: str) -> list[str]:
    flags = [f"--oidc-issuer-url={settings.issuer_url}", f"--oidc-client-id={settings.client_id}",
             f"--oidc-username-claim={username_claim}", f"--oidc-username-prefix={username_prefix}"]
    if groups_claim:
        flags += [f"--oidc-groups-claim={groups_claim}", f"--oidc-groups-prefix={groups_prefix}"]
    if settings.certificate_authorities:
        flags.append("--oidc-ca-file=<path of the provider's CA on the control plane>")
    return flags


def authentication_configuration(settings: ProviderSettings, username_claim: str, username_prefix: str,
                                 groups_claim: str | None, groups_prefix: str) -> dict[str, Any]:
    """Structured authentication config (apiserver.config.k8s.io/v1, KEP-3331), passed with --authentication-config."""
    issuer: dict[str, Any] = {"url": settings.issuer_url, "audiences": [settings.client_id]}
    if settings.certificate_authorities:
        pems = []
        for path in settings.certificate_authorities:
            with open(path, encoding="utf-8") as fh:
                pems.append(fh.read().strip())
        issuer["certificateAuthority"] = "\n".join(pems) + "\n"
    mappings: dict[str, Any] = {"username": {"claim": username_claim, "prefix": username_prefix}}
    if groups_claim:
        mappings["groups"] = {"claim": groups_claim, "prefix": groups_prefix}
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [{"issuer": issuer, "claimMappings": mappings}],
    }


def binding(group: str, role: str, role_kind: str, namespace: str | None) -> dict[str, Any]:
    """A RoleBinding (with -n) or ClusterRoleBinding mapping the (prefixed) SSO group to a role."""
    safe = "".join(c if c.isalnum() or c in "-." else "-" for c in group.lower()).strip("-.") or "group"
    name = f"netsso-{safe}-{role}"[:253]
    subject = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group}
    role_ref = {"kind": role_kind, "apiGroup": "rbac.authorization.k8s.io", "name": role}
    if namespace:
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": namespace}, "subjects": [subject], "roleRef": role_ref}
    if role_kind == "Role":
        raise NetssoError("a Role is namespaced: give -n NAMESPACE, or use --role-kind ClusterRole", exit_code=EXIT_USAGE)
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name}, "subjects": [subject], "roleRef": role_ref}


def _yaml(data: Any) -> str:
    """YAML with multi-line strings (PEM) as literal blocks, keys in insertion order."""
    return to_yaml(data, literal_blocks=True).rstrip()


def write_kubeconfig_user(path: str, user: str, settings: ProviderSettings) -> None:
    """Add or replace users[user] in the kubeconfig with the exec stanza (other content kept; file 0600, atomic).

    A symlinked kubeconfig (dotfiles repos) is written through: the link stays a link and its target gets the new
    content. The file is rewritten from its YAML data, so its comments are lost: say so when it had any."""
    import yaml

    from ..auth.cache import atomic_write

    target = os.path.realpath(path)
    data: Any = {}
    had_comments = False
    if os.path.exists(target):
        try:
            with open(target, encoding="utf-8") as fh:
                text = fh.read()
            data = yaml.safe_load(text) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise NetssoError(f"cannot read kubeconfig {path}: {exc}") from None
        had_comments = any(line.lstrip().startswith("#") for line in text.splitlines())
    if not isinstance(data, dict):
        raise NetssoError(f"kubeconfig {path} is not a mapping")
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    for key in ("clusters", "contexts"):
        data.setdefault(key, [])
    users = [u for u in (data.get("users") or []) if not (isinstance(u, dict) and u.get("name") == user)]
    stanza: dict[str, Any] = {
        "apiVersion": EXEC_API, "command": plugin_path(), "args": settings.exec_args(include_secret=False),
        "interactiveMode": "IfAvailable", "provideClusterInfo": False,
        "installHint": "install kubectl-netsso (pipx install kubectl-netsso) and run: kubectl netsso setup --help",
    }
    if settings.client_secret:
        stanza["env"] = [{"name": SECRET_ENV, "value": settings.client_secret}]  # not in get-token's argv
    users.append({"name": user, "user": {"exec": stanza}})
    data["users"] = users
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        from ..auth.safefs import make_private_dirs

        try:
            make_private_dirs(directory)  # ~/.kube: 0700 whatever the umask
        except OSError as exc:
            raise NetssoError(f"cannot create {directory}: {exc.strerror or exc}") from None
    atomic_write(target, yaml.safe_dump(data, sort_keys=False).encode("utf-8"))
    if had_comments:
        log.warn(f"the comments in {path} were not kept (the file is rewritten from its YAML content)")


def _kubeconfig_path(explicit: str | None) -> str:
    if explicit:
        return explicit
    env = os.environ.get("KUBECONFIG")
    if env:
        return env.split(os.pathsep)[0]
    return os.path.join(os.path.expanduser("~"), ".kube", "config")


@click.command("setup")
@provider_options
@click.option("--user", "user_name", default="netsso", show_default=True, help="kubeconfig user name to create.")
@click.option("--username-claim", default=None, help="Claim for the Kubernetes user name (default: email if verified, else sub).")
@click.option("--username-prefix", default="oidc:", show_default=True, help="Prefix of user names ('-' for none).")
@click.option("--groups-claim", default=None, help="Claim with the groups (default: groups, when the token has it).")
@click.option("--groups-prefix", default="oidc:", show_default=True, help="Prefix of group names.")
@click.option("--bind-group", default=None, metavar="GROUP", help="Print a binding of this SSO group (unprefixed) to --role.")
@click.option("--role", default=None, metavar="ROLE", help="Role or ClusterRole name for --bind-group.")
@click.option("--role-kind", type=click.Choice(["ClusterRole", "Role"]), default="ClusterRole", show_default=True)
@click.option("-n", "--namespace", default=None, help="Namespace of the RoleBinding (without: a ClusterRoleBinding).")
@click.option("--write-kubeconfig", is_flag=True,
              help="Also write the user into the kubeconfig (through a symlink; the file is rewritten: comments are "
                   "not preserved).")
@click.option("--kubeconfig", default=None, metavar="PATH", type=click.Path(),
              help="kubeconfig to write (default: $KUBECONFIG, ~/.kube/config).")
def setup(provider_values: dict[str, Any], user_name: str, username_claim: str | None, username_prefix: str,
          groups_claim: str | None, groups_prefix: str, bind_group: str | None, role: str | None, role_kind: str,
          namespace: str | None, write_kubeconfig: bool, kubeconfig: str | None) -> None:
    """Check the provider, log in, and print what to configure: the kubeconfig user, the kube-apiserver flags, the
    AuthenticationConfiguration, and (with --bind-group/--role) an RBAC binding for an SSO group.

    \b
      kubectl netsso setup --oidc-issuer-url https://sso.example.com --oidc-client-id kubernetes \\
          --oidc-extra-scope groups --bind-group platform --role view -n team-a --write-kubeconfig
    """
    from ..auth.discovery import discover
    from ..auth.verify import allowed_algorithms

    if bool(bind_group) != bool(role):
        raise NetssoError("--bind-group and --role go together", exit_code=EXIT_USAGE)
    settings = build_settings(provider_values)
    provider = discover(settings, use_cache=False)
    keys = provider.jwks(refresh=True).get("keys", [])
    log.info(f"issuer OK: {provider.issuer} (discovery and JWKS with {len(keys)} key(s), algorithms "
             f"{', '.join(allowed_algorithms(provider))})")
    tokens = credentials.login(settings)
    claims = tokens.claims
    emit(style("## ID token claims", "bold"))
    emit(_yaml(claims))
    u_claim, g_claim = apiserver_mapping(claims, username_claim, username_prefix, groups_claim, groups_prefix)
    cmd = set_credentials_command(settings, user_name)
    emit("")
    emit(style("## 1. kubeconfig user (run this)", "bold"))
    if any(a.startswith(SECRET_ARG) for a in cmd):
        emit("# the client secret is not printed: export NETSSO_OIDC_CLIENT_SECRET=... first (or use --write-kubeconfig);")
        emit("# it goes into the exec env: of the kubeconfig user, not into get-token's arguments")
    emit(display_command(cmd))
    emit("")
    emit(style("## 2. kube-apiserver flags", "bold"))
    emit("\n".join(apiserver_flags(settings, u_claim, username_prefix, g_claim, groups_prefix)))
    emit("")
    emit(style("## 3. or the structured AuthenticationConfiguration (--authentication-config=FILE)", "bold"))
    emit(_yaml(authentication_configuration(settings, u_claim, username_prefix, g_claim, groups_prefix)))
    user_value = claims.get(u_claim)
    emit([f"# you will be: {'' if username_prefix == '-' else username_prefix}{user_value}"])  # a claim: one line
    if bind_group and role:
        emit("")
        emit(style(f"## 4. RBAC: group {bind_group} -> {role_kind} {role}", "bold"))
        prefixed = ("" if groups_prefix == "-" else groups_prefix) + bind_group
        emit(_yaml(binding(prefixed, role, role_kind, namespace)))
    if write_kubeconfig:
        path = _kubeconfig_path(kubeconfig)
        write_kubeconfig_user(path, user_name, settings)
        log.info(f"wrote user {user_name!r} to {path}; use it with: kubectl config set-context --current "
                 f"--user={shlex.quote(user_name)}")  # fmt: skip


@click.command("logout")
@provider_options
@click.option("--all", "all_entries", is_flag=True, help="Remove every cached token (all providers) from file and keyring.")
@click.option("--no-revoke", is_flag=True, help="Only delete locally; do not revoke the refresh token at the provider.")
def logout(provider_values: dict[str, Any], all_entries: bool, no_revoke: bool) -> None:
    """Remove cached tokens (file and keyring) and revoke the refresh token at the provider (RFC 7009).

    \b
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
    settings = build_settings(provider_values)
    found: list[TokenSet] = []
    removed = 0
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
