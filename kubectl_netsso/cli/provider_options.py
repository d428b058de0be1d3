"""The provider option bundle (--oidc-issuer-url, --oidc-client-id, ...), generated from auth.settings.OPTIONS so the
click commands, the get-token fast path and kubeconfig exec stanzas all parse the same flags the same way."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..auth.settings import GRANT_TYPES, OPTIONS, STORAGES, ProviderSettings, SettingsError
from ..errors import EXIT_USAGE, NetssoError
from . import completion

F = TypeVar("F", bound=Callable[..., Any])

_HINT = "every provider flag is listed in --help (each also has a NETSSO_* environment variable)"
_CHOICES = {"grant_type": GRANT_TYPES, "token_cache_storage": STORAGES}
# path-valued flags: the shell completes file (or folder) names for them
_PATHS = {"certificate_authorities": completion.files, "token_cache_dir": completion.dirs}


def provider_options(func: F) -> F:
    """Add every provider flag; the command receives ``provider_values: dict`` (flag dest -> value or None).

    Each flag can also be set by its NETSSO_* environment variable (named in --help); flags win.
    """
    dests = [dest for _flag, dest, _kind, _env, _help in OPTIONS]

    @functools.wraps(func)  # also carries over options declared below this decorator (__click_params__)
    def wrapper(**kwargs: Any) -> Any:
        values = {d: kwargs.pop(d) for d in dests}
        return func(provider_values=values, **kwargs)

    result: Any = wrapper
    for flag, dest, kind, env, help_text in reversed(OPTIONS):
        text = f"{help_text} [env {env}]"
        if kind == "bool":
            opt = click.option(flag, dest, is_flag=True, default=None, help=text)
        elif dest in _PATHS:
            opt = click.option(flag, dest, multiple=kind == "multi", default=None, metavar="PATH", type=click.Path(),
                               shell_complete=_PATHS[dest], help=text)
        elif kind == "multi":
            opt = click.option(flag, dest, multiple=True, metavar="VALUE", help=text)
        elif kind == "int":
            opt = click.option(flag, dest, type=click.IntRange(min=0), default=None, metavar="SECONDS", help=text)
        elif dest in _CHOICES:
            opt = click.option(flag, dest, type=click.Choice(_CHOICES[dest]), default=None, help=text)
        else:
            opt = click.option(flag, dest, default=None, metavar="VALUE", help=text)
        result = opt(result)
    return result


def build_settings(values: dict[str, Any]) -> ProviderSettings:
    """ProviderSettings from the option values over the environment; a missing/bad value is a usage error."""
    clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}
    try:
        settings = ProviderSettings.from_values(clean)
    except SettingsError as exc:
        raise NetssoError(str(exc), hint=_HINT, exit_code=EXIT_USAGE) from None
    from .. import log

    log.register_secret(settings.client_secret, min_length=6)  # never printed, whatever echoes it
    return settings
