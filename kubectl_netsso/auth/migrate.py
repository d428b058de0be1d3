"""Rewrite kubeconfig users that run int128/kubelogin's get-token to run this plugin with the same settings.

Only settings are carried over, never tokens: kubelogin's cache is not read (a token nobody here verified is not
reused); the first kubectl call logs in again. The file is backed up first and replaced atomically with its mode kept.
"""

from __future__ import annotations

import difflib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import NetssoError
from .kubelogin import runs_kubelogin, translate
from .settings import ProviderSettings, SettingsError, parse_args

SECRET_ENV = "NETSSO_OIDC_CLIENT_SECRET"
INSTALL_HINT = "install kubectl-netsso (pipx install kubectl-netsso) and run: kubectl netsso setup --help"


@dataclass(frozen=True, slots=True)
class UserPlan:
    """What happens to one kubeconfig user: its new exec entry, or why it stays as it is."""

    name: str
    new_exec: dict[str, Any] | None
    notes: tuple[str, ...]  # kubelogin flags left out, with why
    refused: tuple[str, ...]  # why it is not migrated (empty when it is)
    secret: str | None = None  # the client secret, to keep out of the printed diff


@dataclass(frozen=True, slots=True)
class FilePlan:
    path: str
    users: tuple[UserPlan, ...]
    new_text: str | None  # None: nothing to change in this file
    diff: str
    had_comments: bool


def _is_kubelogin(exec_: Mapping[str, Any]) -> bool:
    command, args = exec_.get("command"), exec_.get("args") or []
    if not isinstance(command, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return False
    return runs_kubelogin(command, args)


def plan_user(name: str, exec_: Mapping[str, Any], command: str, env: Mapping[str, str]) -> UserPlan:
    """The exec entry that runs ``command get-token`` with the kubelogin entry's settings (secret in ``env:``)."""
    args = list(exec_.get("args") or [])
    after = args[args.index("get-token") + 1:]
    tr = translate(after)
    if tr.refused:
        return UserPlan(name, None, tr.dropped, tr.refused)
    values, _rest = parse_args(list(tr.args))
    try:
        # env: only HOME/KUBECACHEDIR matter here; NETSSO_* of this shell must not end up in the kubeconfig
        settings = ProviderSettings.from_values(values, {k: v for k, v in env.items() if not k.startswith("NETSSO_")})
    except SettingsError as exc:
        return UserPlan(name, None, tr.dropped, (str(exc),))
    new: dict[str, Any] = {
        "apiVersion": exec_.get("apiVersion") or "client.authentication.k8s.io/v1",
        "command": command,
        "args": settings.exec_args(include_secret=False),
    }
    old_env = [e for e in (exec_.get("env") or []) if isinstance(e, dict) and e.get("name") != SECRET_ENV]
    if settings.client_secret:
        # out of the arguments every local user can read in /proc/PID/cmdline; the exec env is the user's own
        old_env.append({"name": SECRET_ENV, "value": settings.client_secret})
    if old_env:
        new["env"] = old_env
    new["interactiveMode"] = exec_.get("interactiveMode") or "IfAvailable"
    if "provideClusterInfo" in exec_:
        new["provideClusterInfo"] = bool(exec_.get("provideClusterInfo"))
    new["installHint"] = INSTALL_HINT
    return UserPlan(name, new, tr.dropped, (), settings.client_secret)


def plan_file(path: str, command: str, only: set[str] | None = None, env: Mapping[str, str] | None = None) -> FilePlan:
    """Read one kubeconfig file and plan the rewrite of its kubelogin users (all, or those named in ``only``)."""
    import yaml

    environ = os.environ if env is None else env
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
        data = yaml.safe_load(text) or {}
    except FileNotFoundError:
        raise NetssoError(f"kubeconfig {path}: no such file", hint="pass --kubeconfig PATH") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise NetssoError(f"cannot read kubeconfig {path}: {exc}") from None
    if not isinstance(data, dict):
        raise NetssoError(f"kubeconfig {path} is not a mapping")
    plans: list[UserPlan] = []
    for entry in data.get("users") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        user = entry.get("user")
        exec_ = user.get("exec") if isinstance(user, dict) else None
        if not isinstance(exec_, dict) or not _is_kubelogin(exec_) or (only and entry["name"] not in only):
            continue
        plan = plan_user(entry["name"], exec_, command, environ)
        plans.append(plan)
        if plan.new_exec is not None and isinstance(user, dict):
            user["exec"] = plan.new_exec
    changed = any(p.new_exec is not None for p in plans)
    new_text = yaml.safe_dump(data, sort_keys=False) if changed else None
    diff = ""
    if new_text is not None:
        old_view = yaml.safe_dump(yaml.safe_load(text), sort_keys=False)  # the same layout, so the diff shows meaning
        diff = "".join(difflib.unified_diff(old_view.splitlines(True), new_text.splitlines(True), path, path + " (new)"))
        for secret in {p.secret for p in plans if p.secret}:
            diff = diff.replace(secret, "[redacted]")
        diff = redact_kubeconfig_text(diff)
    had_comments = any(line.lstrip().startswith("#") for line in text.splitlines())
    return FilePlan(path, tuple(plans), new_text, diff, had_comments)


# Values a diff's context lines may show from neighbouring entries: static tokens, keys, passwords, secrets in args.
_SECRET_KEYS = re.compile(r"(?im)^([+\- ]\s*-?\s*(?:token|client-key-data|password|id-token|refresh-token|"
                          r"client-secret|access-token)\s*:\s*).+$")
_SECRET_ARGS = re.compile(r"(--(?:oidc-client-secret|password|client-secret)(?:[= ]|\n[+\- ]\s*-\s+))\S+")


def redact_kubeconfig_text(text: str) -> str:
    """kubeconfig YAML (or a diff of it) with every credential value replaced by [redacted]."""
    from .. import log

    text = _SECRET_KEYS.sub(r"\1[redacted]", text)
    text = _SECRET_ARGS.sub(r"\1[redacted]", text)
    return log.redact(text)


def write_with_backup(path: str, new_text: str, now: float | None = None) -> str:
    """Back the file up (same directory, same mode), then replace it atomically keeping its mode; return the backup.

    A symlinked kubeconfig is written through (its target changes, the link stays)."""
    target = os.path.realpath(path)
    st = os.stat(target)
    mode = st.st_mode & 0o777
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    backup = f"{target}.netsso-backup-{stamp}"
    with open(target, "rb") as fh:
        original = fh.read()
    _write_new(backup, original, mode)
    tmp = f"{target}.netsso-tmp-{os.getpid()}"
    try:
        _write_new(tmp, new_text.encode("utf-8"), mode)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise NetssoError(f"cannot write kubeconfig {path}: {exc.strerror or exc}", hint=f"the backup is {backup}") from None
    return backup


def _write_new(path: str, data: bytes, mode: int) -> None:
    # O_EXCL: never write through a file or symlink someone put there; the mode is set before any byte is written
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise NetssoError(f"cannot create {path}: {exc.strerror or exc}") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
