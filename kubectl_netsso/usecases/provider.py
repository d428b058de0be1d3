"""Provider settings for every command that needs the provider: flags, then NETSSO_* variables, then the exec entry
of the context's kubeconfig user (this plugin's or kubelogin's, auth/resolve.py); -v says where each came from. Used
by login and logout (cli/auth.py), setup (cli/setup.py) and the offline identity of whoami, can-i, ...
(usecases/identity.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..auth.settings import SettingsError
from ..errors import EXIT_USAGE, NetssoError

if TYPE_CHECKING:
    from ..auth.resolve import ExecEntry
    from ..auth.settings import ProviderSettings

HINT = "every provider flag is listed in --help (each also has a NETSSO_* environment variable)"


def exec_entry(kubeconfig: str | None, context: str | None) -> ExecEntry | None:
    """The provider exec entry (auth.resolve.ExecEntry) of the context's user, or None when it runs neither this plugin
    nor kubelogin. A --context that names nothing is a usage error; a missing or broken kubeconfig otherwise is not
    (flags may say everything)."""
    from .. import log
    from ..auth.resolve import ExecEntry
    from ..cluster.kubeconfig import resolve_context

    try:
        ctx = resolve_context(kubeconfig, context)
    except NetssoError as exc:
        if context:
            raise NetssoError(exc.message, hint=exc.hint, exit_code=EXIT_USAGE) from exc
        log.debug(f"no provider settings from the kubeconfig: {exc.message}")
        return None
    kind = ctx.exec.plugin_kind if ctx.exec is not None else None
    if ctx.exec is None or kind is None:
        log.debug(f'kubeconfig user "{ctx.user_name}" (context "{ctx.name}") does not run kubectl netsso or kubelogin '
                  "get-token: no provider settings from it")
        return None
    return ExecEntry(kind, ctx.exec.provider_args, dict(ctx.exec.env),
                     where=f'kubeconfig user "{ctx.user_name}" (context "{ctx.name}")')


def resolve_settings(values: dict[str, Any], kubeconfig: str | None = None, context: str | None = None,
                     required: bool = True) -> ProviderSettings | None:
    """Provider settings from flags, else NETSSO_* variables, else the context's exec entry; -v says where each came
    from. ``required=False``: None instead of the usage error when no issuer is given anywhere."""
    import os

    from .. import log
    from ..auth.resolve import describe, resolve

    clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}
    try:
        entry = exec_entry(kubeconfig, context)
        if not required and entry is None and not clean.get("issuer_url") and not os.environ.get("NETSSO_OIDC_ISSUER_URL"):
            return None
        resolved = resolve(clean, os.environ, entry)
    except SettingsError as exc:
        hint = HINT if "missing" not in str(exc) else \
            "pass the provider flags, or use a context whose kubeconfig user runs kubectl netsso get-token"
        raise NetssoError(str(exc), hint=hint, exit_code=EXIT_USAGE) from exc
    for note in resolved.notes:
        log.debug(note)
    log.debug("provider settings:")
    for line in describe(resolved):
        log.debug("  " + line)
    log.register_secret(resolved.settings.client_secret, min_length=6)
    return resolved.settings


__all__ = ["HINT", "exec_entry", "resolve_settings"]
