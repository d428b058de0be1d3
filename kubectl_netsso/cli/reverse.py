"""The reverse questions: who-can (RBAC) and who-can-reach (identity x network). Parse the options -> call the use
case (usecases/who_can.py, who_can_reach.py) -> render (output.<format>.render_who_can / render_who_can_reach)."""

from __future__ import annotations

from typing import Any

import click

from ..output import render
from . import completion
from .identity import identity_input, mapping_options, provider_options
from .options import KubeOptions, cni_option, kube_options, kube_options_for, manifests_option, output_option

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
      kubectl netsso who-can get secrets -A --manifests example:shop --with-default-roles -o wide
      kubectl netsso who-can get /healthz --manifests example:shop --with-default-roles -o json
    """
    from ..usecases import who_can as usecase
    from ..usecases.source import Source

    inp = usecase.WhoCanInput(args, subresource, identity_input(kw), escalations)
    result = usecase.run(inp, Source(kube, manifests, with_default_roles))
    render(result, output, kind="who_can")
    return result.exit_code




@click.command("who-can-reach")
@click.argument("destination", metavar="TO", shell_complete=completion.destination_endpoints)
@click.option("--port", "port_text", metavar="PORT", help="Port number or name (the Service port when TO is a Service).")
@click.option("--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), default="TCP", show_default=True)
@manifests_option
@click.option("--with-default-roles", is_flag=True, help=DEFAULT_ROLES_HELP)
@cni_option
@output_option("table", "wide", "json", "yaml", "csv")
@kube_options_for(all_namespaces=False, impersonation=False)
def who_can_reach(kube: KubeOptions, destination: str, port_text: str | None, protocol: str, manifests: tuple[str, ...],
                  with_default_roles: bool, cni: str, output: str) -> int:  # fmt: skip
    """Every subject that can get traffic to TO, from where, and which policy rules let it through.

    \b
    TO: NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME (TYPE: pod, deploy, sts, ds, job, cronjob, svc); -n is TO's namespace.
    Paths, most direct first: inside TO's pod (exec, attach, port-forward, pod proxy), the API server's proxy to its
    Service, a shell in a pod that reaches TO, a new pod (create pods or workloads) that would, rewriting the
    NetworkPolicies of TO's namespace. Footholds in every namespace count. Also "anyone in the cluster" (a pod with
    no labels in a namespace no policy names gets in) and "outside" (address ranges the ingress lets in).
    system:masters is listed last (allowed before RBAC, bound or not).
    Exit status: 0 someone other than system:masters can, 1 nobody, 3 nobody seen but some verdicts unknown or RBAC
    lists unreadable.

    \b
    Example:
      kubectl netsso who-can-reach db/svc/postgres --port 5432 --manifests example:shop --with-default-roles
    """
    from ..usecases import who_can_reach as usecase
    from ..usecases.source import Source

    result = usecase.run(usecase.WhoCanReachInput(destination, port_text, protocol), Source(kube, manifests,
                                                                                           with_default_roles, cni))
    render(result, output, kind="who_can_reach")
    return result.exit_code


__all__ = ["who_can", "who_can_reach"]
