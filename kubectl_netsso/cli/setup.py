"""setup (print or write the kubeconfig user, the API server flags and bindings for a provider; --from-kubelogin
migrates kubelogin users) and the provider notes it prints. Apart from cli/auth.py's login/get-token/logout: its own
job, and the commands' module stays short."""

from __future__ import annotations

import functools
import os
import shlex
import sys
import sysconfig
from typing import Any

import click

from .. import log
from ..auth import credentials
from ..auth.settings import ProviderSettings
from ..errors import EXIT_USAGE, NetssoError
from ..output import emit, style, to_yaml
from ..usecases.provider import resolve_settings
from .auth import EXEC_API, _required
from .provider_options import kubeconfig_source_options, provider_options


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
    atomic_write(target, yaml.safe_dump(data, sort_keys=False).encode("utf-8"), what="kubeconfig",
                 hint="check that the kubeconfig's folder is writable, or name another file with --kubeconfig")
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
@functools.partial(kubeconfig_source_options, kubeconfig=False)
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
              help="kubeconfig to read the provider settings from and to write (default: $KUBECONFIG, ~/.kube/config).")
@click.option("--from-kubelogin", is_flag=True,
              help="Rewrite the kubeconfig users that run kubelogin (kubectl oidc-login get-token) to run this plugin "
                   "with the same settings (all of them, or --context's): backup first, diff printed; no login.")
@click.option("--dry-run", is_flag=True, help="With --from-kubelogin: print the diff, change nothing.")
@click.option("--provider-kind", type=click.Choice(["auto", "okta", "entra", "google", "generic"]), default="auto",
              show_default=True, help="Whose notes to print (auto: from the issuer URL; name it for a custom domain).")
def setup(provider_values: dict[str, Any], kube_context: str | None, user_name: str, username_claim: str | None,
          username_prefix: str, groups_claim: str | None, groups_prefix: str, bind_group: str | None, role: str | None,
          role_kind: str, namespace: str | None, write_kubeconfig: bool, kubeconfig: str | None, from_kubelogin: bool,
          dry_run: bool, provider_kind: str) -> None:
    """Check the provider, log in, and print what to configure: the kubeconfig user, the kube-apiserver flags, the
    AuthenticationConfiguration, and (with --bind-group/--role) an RBAC binding for an SSO group.

    \b
      kubectl netsso setup --oidc-issuer-url https://sso.example.com --oidc-client-id kubernetes \\
          --oidc-extra-scope groups --bind-group platform --role view -n team-a --write-kubeconfig
    """
    from ..auth.discovery import discover
    from ..auth.verify import allowed_algorithms

    if from_kubelogin:
        return _migrate_from_kubelogin(kubeconfig, kube_context, dry_run)
    if dry_run:
        raise NetssoError("--dry-run goes with --from-kubelogin", exit_code=EXIT_USAGE)
    if bool(bind_group) != bool(role):
        raise NetssoError("--bind-group and --role go together", exit_code=EXIT_USAGE)
    settings = _required(resolve_settings(provider_values, kubeconfig, kube_context))
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
    _provider_notes(settings, claims, provider_kind)
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


_PROVIDER_NAMES = {"okta": "Okta", "entra": "Microsoft Entra ID", "google": "Google", "any": "this provider"}


def _provider_notes(settings: ProviderSettings, claims: dict[str, Any], provider_kind: str) -> None:
    """What the recognised provider (issuer URL or --provider-kind) or the token's claims say needs configuring."""
    from ..auth.providers import identify, notes

    found = [n for n in notes(settings.issuer_url, claims, bool(settings.client_secret), provider_kind)
             if (n.provider, n.topic) != ("any", "no-groups")]  # apiserver_mapping has warned about that one
    if not found:
        return
    kind = identify(settings.issuer_url) if provider_kind == "auto" else \
        (None if provider_kind == "generic" else provider_kind)
    emit("")
    emit(style(f"## notes for {_PROVIDER_NAMES[kind] if kind else 'this provider'}", "bold"))
    emit([f"# {n.text}" for n in found])


def _migrate_from_kubelogin(kubeconfig: str | None, context: str | None, dry_run: bool) -> None:
    """setup --from-kubelogin: plan every file kubectl reads, print the diffs, back up and write (unless dry run)."""
    from ..auth.migrate import plan_file, write_with_backup
    from ..cluster.kubeconfig import kubeconfig_paths, resolve_context
    from ..errors import EXIT_NO

    only: set[str] | None = None
    if context:
        try:
            only = {resolve_context(kubeconfig, context).user_name}
        except NetssoError as exc:
            raise NetssoError(exc.message, hint=exc.hint, exit_code=EXIT_USAGE) from None
    paths, must_exist = kubeconfig_paths(kubeconfig)
    plans = [plan_file(p, plugin_path(), only) for p in paths if must_exist or os.path.exists(p)]
    users = [u for plan in plans for u in plan.users]
    if not users:
        emit(f"Nothing to migrate: no kubeconfig user in {', '.join(paths)} runs kubelogin get-token"
             + (f" (context {context!r})" if context else ""))
        return
    for plan in plans:
        if plan.diff:
            emit(plan.diff.rstrip("\n").splitlines())
    refused = 0
    browser_grant = False
    for plan in plans:
        for user in plan.users:
            for note in user.notes:
                log.warn(f"user {user.name!r}: left out {note}")
            if user.new_exec is None:
                refused += 1
                log.warn(f"user {user.name!r} not migrated: " + "; ".join(user.refused))
                continue
            grant = next((a.split("=", 1)[1] for a in user.new_exec["args"] if a.startswith("--grant-type=")), "auto")
            browser_grant = browser_grant or grant in ("auto", "authcode")
        if plan.new_text is None:
            continue
        if dry_run:
            log.info(f"dry run: {plan.path} not changed")
            continue
        backup = write_with_backup(plan.path, plan.new_text)
        migrated = [u.name for u in plan.users if u.new_exec is not None]
        log.info(f"migrated {', '.join(map(repr, migrated))} in {plan.path} (backup: {backup}); kubelogin's token "
                 "cache is not reused: the next kubectl call logs in again (or run: kubectl netsso login)")
        if plan.had_comments:
            log.warn(f"the comments in {plan.path} were not kept (the file is rewritten from its YAML content)")
    if browser_grant:
        log.info("the browser login redirects to http://127.0.0.1:8000/callback (or :18000/callback); kubelogin used "
                 "http://localhost:8000: register the new redirect URIs at the provider if it checks them exactly")
    if refused:
        raise NetssoError(f"{refused} kubeconfig user(s) not migrated (see the reasons above)", exit_code=EXIT_NO)
