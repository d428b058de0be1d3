"""Reviewing a change: diff OLD NEW. Parse the options -> call the use case (usecases/diff.py) -> render."""

from __future__ import annotations

from typing import Any

import click

from ..output import render
from .options import KubeOptions, cni_option, kube_options_for, output_option


@click.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option(
    "--fail-on",
    "fail_on",
    metavar="CATEGORY",
    multiple=True,
    help="Exit 1 when a change of this category is found (repeatable, or a comma list): any, new-flows, removed-flows, "
    "external-egress, external-ingress, permissions, risky-permissions, lost-permissions, new-reach, new-findings, "
    "finding-severity=LEVEL.",
)
@click.option(
    "--only",
    "only",
    metavar="SECTION",
    multiple=True,
    help="Compare only these sections (repeatable, or a comma list): connectivity, permissions, reach, findings.",
)
@click.option(
    "--with-default-roles", is_flag=True, help="Offline sides: add the upstream default ClusterRoles (admin, edit, view...)."
)
@click.option("--no-explain", is_flag=True, help="Do not explain removed flows (saves one evaluation per removed flow).")
@cni_option
@output_option("table", "wide", "json", "yaml", "markdown")
@kube_options_for(
    all_namespaces=False,
    namespace_help="Only this namespace's permissions, reach and findings (flows into and out of it are all compared).",
)
def diff(
    kube: KubeOptions,
    old: str,
    new: str,
    fail_on: tuple[str, ...],
    only: tuple[str, ...],
    with_default_roles: bool,
    no_explain: bool,
    output: str,
    cni: str,
    **_kw: Any,
) -> int:
    """What a change opens or closes, and for whom: connectivity, permissions, reach and audit findings of OLD and NEW.

    \b
    OLD / NEW: a manifests path (file, folder, '-' for stdin, example:NAME), a Git revision of the repository you
    stand in (git:REV for the current directory at REV, git:REV:PATH for PATH relative to it; read with git, the work
    tree is not touched), or live (the cluster of --context/--kubeconfig; live:CONTEXT for another context; a folder
    named live: ./live).
    --as / --as-group: only that identity's permissions and reach.
    Exit codes: 0 no change matching --fail-on (or none given), 1 a matching change, 2 usage, 3 error.
    In CI, from the folder of the manifests:  diff git:origin/main . --fail-on risky-permissions -o markdown
    Before an apply:                          diff live ./cluster --as-group oidc:contractors

    \b
    Examples:
      kubectl netsso diff example:shop example:shop --fail-on any
      kubectl netsso diff example:shop example:calico-shop --only connectivity -o markdown
    """
    from ..usecases import diff as usecase
    from ..usecases.source import print_warnings

    inp = usecase.DiffInput(
        old, new, usecase.parse_sections(only), usecase.parse_fail_on(fail_on), with_default_roles, cni, not no_explain
    )
    sources = (
        usecase.side_source(old, kube, with_default_roles=with_default_roles, cni=cni),
        usecase.side_source(new, kube, with_default_roles=with_default_roles, cni=cni),
    )
    result = usecase.run(inp, sources)
    print_warnings(result.warnings)
    data = result.to_dict()
    if not render(data, output):
        render(data, output, kind="diff")
    return result.exit_code
