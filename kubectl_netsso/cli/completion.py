"""Value completers for the options and arguments (click ``shell_complete`` callbacks), used by kubectl_complete-netsso.

Completion runs on every TAB: everything here is offline and quick (built-in tables, or the --manifests already typed);
an unreadable or broken input completes nothing rather than printing into the user's shell.
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

# kubectl's own verbs for `auth can-i` (plus the RBAC-only ones that can-i understands).
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind",
         "escalate", "approve", "sign", "use", "proxy", "*")  # fmt: skip
# the short TYPE words can-reach accepts (netpol/endpoints.py KIND_WORDS), one per kind
KIND_WORD = {"Pod": "pod", "Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "ReplicaSet": "rs",
             "ReplicationController": "rc", "Job": "job", "CronJob": "cronjob"}  # fmt: skip


def _matching(values: Any, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(v) for v in dict.fromkeys(values) if v.startswith(incomplete)]


def files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Let the shell complete file names."""
    return [CompletionItem(incomplete, type="file")]


def dirs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Let the shell complete directory names only."""
    return [CompletionItem(incomplete, type="dir")]


def manifests(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """File names, or the shipped examples once the word starts with ``example:``."""
    from ..cluster.examples import PREFIX, names

    if incomplete.startswith(PREFIX):
        return _matching((PREFIX + n for n in names()), incomplete)
    return files(ctx, param, incomplete)


def expect_files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """File names, or the shipped expectation files after ``example:``."""
    from ..cluster.examples import PREFIX, ROOT, names

    if incomplete.startswith(PREFIX):
        return _matching((PREFIX + n for n in names() if (ROOT / n).is_file()), incomplete)
    return files(ctx, param, incomplete)


def audit_checks(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from ..access.audit import CHECKS

    return _matching(CHECKS, incomplete)


def can_i_args(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """VERB, then TYPE from the built-in resource table. Live discovery is left out: it would mean a kubeconfig, a
    token and an API round trip on every TAB."""
    typed = list(ctx.params.get("args") or ())
    if ctx.params.get("list_"):
        return []
    if not typed:
        return _matching(VERBS, incomplete)
    if len(typed) == 1 and not incomplete.startswith("/"):
        from ..rbac.resources import BUILTIN

        return _matching(sorted(t.ref for t in BUILTIN), incomplete)
    return []


def _endpoints(ctx: click.Context, incomplete: str, services: bool) -> list[CompletionItem]:
    paths = [p for p in ctx.params.get("manifests") or () if p != "-"]  # never read stdin on a TAB
    if not paths:
        return []
    try:
        from ..cluster.manifests import load_snapshot

        snap = load_snapshot(paths)
    except Exception:  # a broken folder completes nothing; the command itself will say what is wrong
        return []
    values = [f"{w.namespace}/{KIND_WORD.get(w.kind, w.kind.lower())}/{w.name}" for w in snap.workloads if not w.owner]
    if services:
        values += [f"{s.namespace}/svc/{s.name}" for s in snap.services]
    return _matching(sorted(values), incomplete)


def source_endpoints(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Workloads of the --manifests given before (NS/TYPE/NAME)."""
    return _endpoints(ctx, incomplete, services=False)


def destination_endpoints(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Workloads and Services of the --manifests given before."""
    return _endpoints(ctx, incomplete, services=True)
