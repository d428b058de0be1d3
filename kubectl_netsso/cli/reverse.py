"""The reverse questions: who-can (RBAC) and who-can-reach (identity x network). Parse the options -> call the use
case (usecases/who_can.py, who_can_reach.py) -> render (output.<format>.render_who_can / render_who_can_reach)."""

from __future__ import annotations

from typing import Any

import click

from ..output import render
from . import completion
from .identity import identity_input, mapping_options, provider_options
from .options import KubeOptions, kube_options, manifests_option, output_option

DEFAULT_ROLES_HELP = "Offline: add the upstream default ClusterRoles (admin, edit, view...) and their bindings."


@click.command("who-can")
@click.argument("args", nargs=-1, shell_complete=completion.can_i_args)
@click.option("--subresource", metavar="SUB", help="The subresource, e.g. exec, log, scale, status.")
@click.option("--escalations/--no-escalations", default=True, show_default=True,
              help="Also list who can obtain it: bind, escalate, impersonate, create pods as a ServiceAccount.")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help=DEFAULT_ROLES_HELP)
@provider_options
@mapping_options
@output_option("table", "wide", "json", "yaml", "csv")
@kube_options
def who_can(kube: KubeOptions, args: tuple[str, ...], subresource: str | None, escalations: bool,
            manifests: tuple[str, ...], with_default_roles: bool, output: str, **kw: Any) -> int:  # fmt: skip
    """Every subject that may do VERB TYPE[.GROUP][/NAME] | NONRESOURCEURL (the reverse of can-i).

    \b
    Users, groups (system:authenticated, system:serviceaccounts[:NS] included) and ServiceAccounts, each with the
    binding -> role -> rule that grants it (rules numbered as can-i numbers them; aggregated ClusterRoles
    resolved); a rule limited to resourceNames shows "only NAME..."; "* verbs" / "* resources" flag wildcard grants.
    system:masters is listed: the API server allows it before RBAC. Then who can obtain it: bind, escalate,
    impersonate, create pods as a ServiceAccount that holds it. -A: cluster-wide grants and every namespace's.
    --groups-prefix oidc: shows the token group a Group subject stands for.
    Live: lists the RBAC objects (a list you may not read is reported: the answer is then incomplete).
    Exit status: 0 some subject can, 1 nobody, 3 nobody seen but RBAC objects could not be read, 2 usage.

    \b
    Examples:
      kubectl netsso who-can create pods --subresource exec -n payments --manifests example:shop --with-default-roles
      kubectl netsso who-can get secrets -A
      kubectl netsso who-can get /healthz -o json
    """
    from ..usecases import who_can as usecase
    from ..usecases.source import Source

    inp = usecase.WhoCanInput(args, subresource, identity_input(kw), escalations)
    result = usecase.run(inp, Source(kube, manifests, with_default_roles))
    render(result, output, kind="who_can")
    return result.exit_code


__all__ = ["who_can"]
