"""Network commands: `can-reach` (one flow, explained) and `paths` (every flow in scope): parse the options, call the
use case (usecases/can_reach.py, usecases/paths.py), render its result with output/ (one module per format).
"""

from __future__ import annotations

import click

from .. import log
from ..cluster.target import KubeOptions
from ..errors import EXIT_OK, EXIT_USAGE, NetssoError
from . import completion
from .options import cni_option, kube_options, kube_options_for, manifests_option, output_option

PROTOCOL = click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False)
IPBLOCK_PODS = click.Choice(["match", "ignore"])
IPBLOCK_HELP = (
    "Whether ipBlock peers match pod IPs: 'match' (upstream conformance tests; the default) or 'ignore' (CNIs such "
    "as Cilium that apply ipBlock only to traffic from outside the cluster; the default with --cni cilium)."
)


# --- can-reach ---------------------------------------------------------------------------------------------------


@click.command("can-reach")
@click.argument("source", metavar="FROM", required=False, shell_complete=completion.source_endpoints)
@click.argument("destination", metavar="TO", required=False, shell_complete=completion.destination_endpoints)
@click.option("--port", "port_text", metavar="PORT", help="Port number or name (the Service port when TO is a Service).")
@click.option("--protocol", type=PROTOCOL, default="TCP", show_default=True)
@click.option("--from-selector", metavar="LABELS", help="Source is a (hypothetical) pod with these labels, e.g. app=web.")
@click.option("--from-namespace", metavar="NS", help="Namespace of --from-selector (default: -n).")
@click.option("--to-selector", metavar="LABELS", help="Destination is a (hypothetical) pod with these labels.")
@click.option("--to-namespace", metavar="NS", help="Namespace of --to-selector (default: -n).")
@click.option("--ipblock-pods", type=IPBLOCK_PODS, default=None, help=IPBLOCK_HELP)
@cni_option
@output_option("table", "json", "yaml")
@click.option(
    "--detail",
    is_flag=True,
    help="Every pod pair (not one per outcome), every closest rule, and the ANP -> NP -> BANP walkthrough.",
)
@manifests_option
@kube_options_for(all_namespaces=False)
def can_reach(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    output: str,
    detail: bool,
    source: str | None,
    destination: str | None,
    port_text: str | None,
    protocol: str,
    from_selector: str | None,
    from_namespace: str | None,
    to_selector: str | None,
    to_namespace: str | None,
    ipblock_pods: str | None,
    cni: str,
) -> int:
    """Can FROM reach TO? ALLOWED / DENIED / UNKNOWN, and why (per direction), with a policy that would allow it.

    \b
    FROM / TO (resolved like kubectl resolves names):
      NAME           a pod in the -n namespace, else a workload of that name
      TYPE/NAME      TYPE: pod|po, deploy, sts, ds, rs, job, cronjob|cj, svc (TO only)
      NS/NAME        NS/TYPE/NAME
      ip:ADDRESS     a host outside the cluster
      ip:CIDR        every address of a range: ALLOWED only when all of them are
    --from-selector/--to-selector (with --from-namespace/--to-namespace) stand for a pod with those labels,
    even one that does not exist yet. A Service as TO means its backing pods on the Service port's targetPort.

    \b
    Exit status: 0 allowed, 1 denied, 2 usage error, 3 unknown or error.
    Example:
      kubectl netsso can-reach frontend/deploy/web shop/svc/api --port 80 --manifests example:shop
    """
    from ..output import render
    from ..usecases import can_reach as usecase
    from ..usecases.source import Source, print_warnings

    inp = usecase.CanReachInput(
        source, destination, port_text, protocol, from_selector, from_namespace, to_selector, to_namespace, ipblock_pods
    )
    result = usecase.run(inp, Source(kube, manifests, cni=cni))
    print_warnings(result.warnings)
    data = result.to_dict()
    if not render(data, output):
        from ..output.results import CanReachView

        view = CanReachView(data, list(result.pairs), result.source, result.destination, result.port)
        render(view, "wide" if detail else "table", kind="can_reach")
    return result.exit_code


@click.command("paths")
@click.option(
    "--from", "from_text", metavar="FROM", help="Only flows from this endpoint (NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME)."
)
@click.option("--to", "to_text", metavar="TO", help="Only flows to this endpoint (a Service means its backing pods).")
@click.option(
    "--port", "port_text", metavar="PORT", help="Only this port (number or name); default: each declared container port."
)
@click.option("--protocol", type=PROTOCOL, help="Only this protocol (default TCP with --port, else every declared one).")
@click.option("--ipblock-pods", type=IPBLOCK_PODS, default=None, help=IPBLOCK_HELP)
@cni_option
@click.option(
    "--compact",
    is_flag=True,
    help="All ports, as grouped rules (namespaces and label selectors -> ... : port ranges) instead of pairs.",
)
@click.option(
    "--external/--no-external",
    default=True,
    show_default=True,
    help="Include flows to and from addresses outside the cluster (as ipBlock ranges).",
)
@output_option("table", "wide", "matrix", "json", "yaml", "csv", "markdown", "dot")
@click.option(
    "--dot-nodes",
    type=click.Choice(["workload", "namespace"]),
    default="workload",
    show_default=True,
    help="With -o dot: one node per workload (boxed by namespace) or per namespace.",
)
@manifests_option
@kube_options
def paths(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    output: str,
    from_text: str | None,
    to_text: str | None,
    port_text: str | None,
    protocol: str | None,
    ipblock_pods: str | None,
    cni: str,
    compact: bool,
    external: bool,
    dot_nodes: str,
) -> int:
    """Every pod-to-pod flow in scope and whether NetworkPolicy allows it.

    \b
    Scope: -n NS (flows into and out of NS; default: the context's namespace) or -A (all).
    Output: table grouped by source workload (default), -o wide (adds the deciding policies), -o matrix (a truth
    table per port/protocol: rows from, columns to; '.' allowed, 'X' denied, '?' unknown), -o json|yaml:
      {"paths": [{"from": "NS/kind/NAME", "to": "NS/NAME", "port": 80, "protocol": "TCP", "allowed": true|false|null,
                  "egress": {"allowed": ...}, "ingress": {"allowed": ...}}, ...],
       "workloads": {"NS/kind/NAME": {"kind": ..., "egress": [policies], "ingress": [policies]}}, "warnings": [...]}
    Names as in the table: NS/NAME for a pod, NS/kind/NAME for a workload. With --port and --protocol every pair
    in scope appears exactly once. Rows with "ip:0.0.0.0/0 except ..." as from/to are addresses outside the
    cluster (--no-external leaves them out).
    --compact: all ports and protocols as grouped rules, {"rules": [{"from", "to", "ports", "allowed"}, ...]}.
    -o csv|markdown: the same rows (per pair or --compact) for a spreadsheet or a review; -o dot: the allowed
    flows as a Graphviz graph (--dot-nodes workload|namespace).
    Why a flow is denied: can-reach.

    \b
    Examples:
      kubectl netsso paths -n shop --manifests example:shop
      kubectl netsso paths -A --port 8080 -o matrix --manifests example:shop
      kubectl netsso paths -A --compact --manifests example:shop
    """
    from ..output import formats, render
    from ..usecases import paths as usecase
    from ..usecases.source import Source, print_warnings

    if compact and output not in formats("compact"):
        raise NetssoError(f"--compact prints rules: use -o {', '.join(formats('compact'))}", exit_code=EXIT_USAGE)
    inp = usecase.PathsInput(from_text, to_text, port_text, protocol, ipblock_pods, compact, external and output != "matrix")
    result = usecase.run(inp, Source(kube, manifests, cni=cni))
    print_warnings(result.warnings)
    if isinstance(result, usecase.CompactPaths):
        from ..output.results import CompactView

        render(CompactView(result.result, result.warnings), output, kind="compact")
        return EXIT_OK
    if result.size_warning:
        log.warn(result.size_warning)
    render(result, output, kind="paths", nodes=dot_nodes)
    return EXIT_OK


__all__ = ["can_reach", "paths"]
