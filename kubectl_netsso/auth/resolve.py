"""Provider settings from where they are: flags, then NETSSO_* environment, then the kubeconfig user's exec entry.

Not on the get-token fast path (kubectl runs get-token with every setting in its arguments already).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .kubelogin import translate
from .settings import OPTIONS, ProviderSettings, SettingsError, parse_args, values_from_env

FLAG = "flag"
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class ExecEntry:
    """The provider part of a kubeconfig user's exec entry: its get-token arguments and its env entries."""

    kind: str  # "netsso" | "kubelogin"
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    where: str = "the kubeconfig"  # 'kubeconfig user "oidc" (context "test")', for messages


@dataclass(frozen=True, slots=True)
class Resolved:
    settings: ProviderSettings
    origins: Mapping[str, str]  # option dest -> "flag" | "env NETSSO_..." | where of the exec entry | "default"
    used_entry: bool
    notes: tuple[str, ...] = ()  # things -v should say (an entry not used, kubelogin flags left out)


def entry_values(entry: ExecEntry) -> tuple[dict[str, object], dict[str, object], tuple[str, ...]]:
    """(values from the entry's args, values from its env entries, notes). SettingsError when it cannot be used."""
    args = list(entry.args)
    notes: tuple[str, ...] = ()
    if entry.kind == "kubelogin":
        tr = translate(args)
        if tr.refused:
            raise SettingsError(f"{entry.where} runs kubelogin with settings this plugin cannot honour: "
                                + "; ".join(tr.refused))
        args = list(tr.args)
        notes = tuple(f"{entry.where}: kubelogin's {d}" for d in tr.dropped)
    values, _rest = parse_args(args)
    return values, values_from_env(dict(entry.env)), notes


def _given(value: object) -> bool:
    return value is not None and value != () and value != [] and value != ""


def resolve(values: Mapping[str, object], env: Mapping[str, str], entry: ExecEntry | None) -> Resolved:
    """Merge, per setting: flags > process environment > the entry's arguments > the entry's env entries.

    The entry only fills in for the same provider: flags or environment naming another issuer (or client) leave it
    out entirely, so that one provider's CA, secret or scopes never leak into another's login.
    """
    flags = {k: v for k, v in values.items() if _given(v) and v is not False}
    from_env = values_from_env(dict(env))
    notes: list[str] = []
    layers: list[tuple[str, dict[str, object]]] = [(FLAG, flags), ("env", from_env)]
    used = False
    if entry is not None:
        e_args, e_env, e_notes = entry_values(entry)
        e_issuer = e_args.get("issuer_url") or e_env.get("issuer_url")
        e_client = e_args.get("client_id") or e_env.get("client_id")
        issuer = flags.get("issuer_url") or from_env.get("issuer_url")
        client = flags.get("client_id") or from_env.get("client_id")
        if (issuer and issuer != e_issuer) or (client and client != e_client):
            notes.append(f"{entry.where} is for another provider ({e_issuer}, client {e_client}): not used")
        else:
            used = True
            notes.extend(e_notes)
            layers += [(entry.where, e_args), (entry.where + " env", e_env)]
    merged: dict[str, object] = {}
    origins: dict[str, str] = {}
    for _flag, dest, _kind, var, _help in OPTIONS:
        for name, layer in layers:
            if dest in layer and _given(layer[dest]):
                merged[dest] = layer[dest]
                origins[dest] = f"env {var}" if name == "env" else name
                break
        else:
            origins[dest] = DEFAULT
    # The merged values are complete: from_values must not add NETSSO_* again (KUBECACHEDIR and HOME still count).
    rest_env = {k: v for k, v in env.items() if not k.startswith("NETSSO_")}
    settings = ProviderSettings.from_values(merged, rest_env)
    return Resolved(settings, origins, used, tuple(notes))


def describe(resolved: Resolved) -> list[str]:
    """One line per setting that is not a default, for -v: ``--flag=value  [origin]`` (the client secret's value
    never)."""
    lines = []
    settings_args = resolved.settings.exec_args()
    for flag, dest, _kind, _var, _help in OPTIONS:
        origin = resolved.origins.get(dest, DEFAULT)
        if origin == DEFAULT:
            continue
        shown = [a for a in settings_args if a == flag or a.startswith(flag + "=")]
        if dest == "client_secret":
            shown = [f"{flag}=[redacted]"]
        for arg in shown or [flag]:
            lines.append(f"{arg}  [{origin}]")
    return lines

