"""Identity x network commands: reach, audit, report, policy. Parse the options -> call the use case (usecases/reach.py,
audit.py, report.py, policy.py) -> render."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from .. import log
from ..errors import EXIT_OK, NetssoError
from ..output import emit, render, style, table
from ..output.json import to_json_listing
from ..usecases.audit import severity_counts
from ..usecases.context import scope_text
from . import completion
from .identity import identity_input
from .options import SCOPE_NAMESPACE_HELP, KubeOptions, cni_option, kube_options_for, manifests_option, output_option

if TYPE_CHECKING:
    from ..access.expect import ExpectResult
    from ..access.model import Finding
    from ..usecases.context import AccessContext


# --- shared helpers ----------------------------------------------------------------------------------------------



# --- policy ------------------------------------------------------------------------------------------------------


@click.group("policy")
def policy() -> None:
    """Print ready-to-apply NetworkPolicy YAML: deny everything first, then open only the flows you need.

    \b
    Examples:
      kubectl netsso policy default-deny -n shop --allow-dns | kubectl apply -f -
      kubectl netsso policy default-deny -n shop --ingress-only | kubectl apply -f -
      kubectl netsso policy allow-dns -n shop | kubectl apply -f -
      kubectl netsso policy allow frontend/deploy/web shop/svc/api --port 80 --manifests example:shop
    """


@policy.command("default-deny")
@click.option("-n", "--namespace", metavar="NS", help="Namespace of the policies (default: the context's, else 'default').")
@click.option("--ingress-only", is_flag=True, help="Deny only ingress (policyTypes [Ingress]); egress stays as it is.")
@click.option("--egress-only", is_flag=True, help="Deny only egress (policyTypes [Egress]); ingress stays as it is.")
@click.option(
    "--allow-dns", is_flag=True, help="Also allow egress to the cluster DNS (kube-system k8s-app=kube-dns, 53/UDP+TCP)."
)
@click.option("--context", metavar="NAME", hidden=True)
@click.option("--kubeconfig", metavar="PATH", type=click.Path(), hidden=True)
def default_deny_cmd(
    namespace: str | None,
    ingress_only: bool,
    egress_only: bool,
    allow_dns: bool,
    context: str | None,
    kubeconfig: str | None,
) -> None:
    """Deny all ingress and egress (or one of them) for every pod of a namespace.

    \b
    Examples:
      kubectl netsso policy default-deny -n payments --allow-dns | kubectl apply -f -
      kubectl netsso policy default-deny -n payments --ingress-only | kubectl apply -f -
    """
    from ..usecases import policy as usecase

    inp = usecase.DefaultDenyInput(ingress_only, egress_only, allow_dns)
    click.echo(usecase.default_deny(inp, _policy_kube(namespace, context, kubeconfig)).to_yaml(), nl=False)


@policy.command("allow-dns")
@click.option("-n", "--namespace", metavar="NS", help="Namespace of the policy (default: the context's, else 'default').")
@click.option(
    "--pod-selector",
    metavar="LABELS",
    help="Only pods with these labels (k=v,...), e.g. the egress-isolated ones; default: every pod of the namespace.",
)
@click.option("--context", metavar="NAME", hidden=True)
@click.option("--kubeconfig", metavar="PATH", type=click.Path(), hidden=True)
def allow_dns_cmd(namespace: str | None, pod_selector: str | None, context: str | None, kubeconfig: str | None) -> None:
    """Allow DNS lookups and nothing else: egress to kube-system k8s-app=kube-dns on 53/UDP and 53/TCP.

    The policy isolates the pods it selects for egress: pods that could connect anywhere until now keep only DNS.
    Select with --pod-selector the pods that are already egress-isolated when others in the namespace are not (the
    hint of audit's dns-egress-denied finding does).

    \b
    Example:
      kubectl netsso policy allow-dns -n payments --pod-selector app=payments | kubectl apply -f -
    """
    from ..usecases import policy as usecase

    result = usecase.allow_dns(usecase.AllowDnsInput(pod_selector), _policy_kube(namespace, context, kubeconfig))
    click.echo(result.to_yaml(), nl=False)


def _policy_kube(namespace: str | None, context: str | None, kubeconfig: str | None) -> KubeOptions:
    return KubeOptions(
        kubeconfig=kubeconfig, context=context, namespace=namespace, all_namespaces=False, as_user=None, as_groups=()
    )


@policy.command("allow")
@click.argument("source", metavar="FROM", shell_complete=completion.source_endpoints)
@click.argument("destination", metavar="TO", shell_complete=completion.destination_endpoints)
@click.option("--port", "port_text", metavar="PORT", help="Port number or name (the Service port when TO is a Service).")
@click.option("--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), default="TCP", show_default=True)
@click.option(
    "--side",
    type=click.Choice(["both", "ingress", "egress"]),
    default="both",
    show_default=True,
    help="Which policies to print: the destination's ingress, the source's egress, or both.",
)
@manifests_option
@kube_options_for(all_namespaces=False, impersonation=False)
def allow_cmd(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    source: str,
    destination: str,
    port_text: str | None,
    protocol: str,
    side: str,
) -> None:
    """Minimal NetworkPolicies that allow FROM -> TO on one port (endpoint syntax as in can-reach).

    FROM/TO: NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME (TYPE: pod, deploy, sts, ds, job, cronjob, svc), ip:ADDRESS or ip:CIDR.
    A Service as TO stands for its backing pods on the Service port's targetPort.

    \b
    Example:
      kubectl netsso policy allow frontend/deploy/web shop/svc/api --port 80 --side ingress --manifests example:shop
    """
    from ..usecases import policy as usecase
    from ..usecases.source import Source, print_warnings

    result = usecase.run(usecase.AllowInput(source, destination, port_text, protocol, side), Source(kube, manifests))
    print_warnings(result.warnings)
    click.echo(result.to_yaml(), nl=False)


# --- identity and context ----------------------------------------------------------------------------------------


def _identity_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """can-i's offline identity options: provider flags (which cached token) and the claim mapping."""
    from .identity import mapping_options, provider_options

    return provider_options(mapping_options(func))


# --- reach -------------------------------------------------------------------------------------------------------

_RISK_STYLE = {"critical": ("red", "bold"), "high": ("red",), "medium": ("yellow",), "low": ("dim",), "info": ("dim",)}


def _risk(text: str) -> str:
    return style(text, *_RISK_STYLE.get(text, ()))


@click.command("reach")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help="Offline: add the upstream default ClusterRoles (admin, edit, view...).")
@_identity_options
@cni_option
@output_option("table", "wide", "json", "yaml")
@kube_options_for(namespace_help=SCOPE_NAMESPACE_HELP)
def reach(
    kube: KubeOptions, manifests: tuple[str, ...], with_default_roles: bool, output: str, cni: str, **kw: Any
) -> int:
    """What an identity can reach inside the cluster network, and from where (its footholds).

    \b
    Footholds: pods it can exec/attach/port-forward into, Services it can proxy to, namespaces where it can create
    pods or workloads (= any pod labels there), namespaces where it can rewrite NetworkPolicies (critical).
    Reach: what the NetworkPolicies allow from each foothold; for create-pod footholds the union over every label
    set a policy trusts. Live: your SSO identity (or --as/--as-group impersonation). Offline --manifests: --as
    and/or --as-group (a group alone = any member), or your cached SSO identity mapped like the API server.
    Offline without -n, every namespace of the manifests is in scope.

    \b
    Example:
      kubectl netsso reach -A --manifests example:shop --with-default-roles --as-group oidc:contractors
    """
    from ..usecases import reach as usecase
    from ..usecases.source import Source

    result = usecase.run(identity_input(kw), Source(kube, manifests, with_default_roles, cni))
    ctx, reaches = result.context, result.reaches
    data = result.to_dict()
    if output == "json":
        emit(to_json_listing(data, "footholds"))
        return EXIT_OK
    if render(data, output):
        return EXIT_OK
    lines = [f"# {ctx.identity_text} in {scope_text(ctx)} ({ctx.source})"]
    if not reaches:
        lines.append("no footholds: this identity can neither exec into, create nor re-police anything in scope")
        emit(lines)
        return EXIT_OK
    headers = ["Foothold", "Access", "Obtained via", "Reaches", "Top destinations", "Risk"]
    if output == "wide":
        headers.append("Why")
    rows = []
    for r in reaches:
        fh = r.foothold
        count = "any" if r.any_destination else str(len(r.destinations))
        if r.unknown:
            count += f" (+{r.unknown} unknown)"
        row = [
            fh.display,
            fh.actions_text(2 if output != "wide" else 99),
            _short(fh.obtained, 1 if output != "wide" else 99),
            count,
            ", ".join(r.top(3 if output != "wide" else 99)),
            _risk(r.risk),
        ]
        if output == "wide":
            row.append(r.risk_reason)
        rows.append(row)
    lines.extend(table(headers, rows).splitlines())
    summary = data["summary"]["byRisk"]
    lines.append("")
    lines.append(f"{len(reaches)} foothold(s): " + ", ".join(f"{n} {k}" for k, n in summary.items()))
    top = reaches[0]
    if top.risk in ("critical", "high"):
        lines.append(f"riskiest: {top.foothold.display}: {top.risk_reason}")
    emit(lines)
    for n in ctx.notes:
        log.warn(n)
    return EXIT_OK


def _short(items: Sequence[str], n: int) -> str:
    items = list(items)
    return ", ".join(items[:n]) + (f" (+{len(items) - n})" if len(items) > n else "")




# --- audit -------------------------------------------------------------------------------------------------------


@click.command("audit")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help="Offline: add the upstream default ClusterRoles (admin, edit, view...).")
@click.option(
    "--expect",
    "expect_paths",
    metavar="FILE",
    multiple=True,
    type=click.Path(),
    shell_complete=completion.expect_files,
    help="YAML reachability assertions to check too (repeatable; schema in README / access/expect.py).",
)
@click.option(
    "--only",
    "only",
    metavar="CHECK",
    multiple=True,
    shell_complete=completion.audit_checks,
    help="Report only these checks (repeatable), e.g. expectation-failed, edit-networkpolicies.",
)
@click.option("--skip", "skip", metavar="CHECK", multiple=True, shell_complete=completion.audit_checks,
              help="Leave out these checks (repeatable), e.g. accepted risks.")
@click.option(
    "--fail-on",
    type=click.Choice(["info", "low", "medium", "high", "critical", "never"]),
    default="high",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@cni_option
@output_option("table", "wide", "json", "yaml")
@kube_options_for(namespace_help=SCOPE_NAMESPACE_HELP)
def audit(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    with_default_roles: bool,
    expect_paths: tuple[str, ...],
    only: tuple[str, ...],
    skip: tuple[str, ...],
    fail_on: str,
    output: str,
    cni: str,
) -> int:
    """Check NetworkPolicies and RBAC together before you apply them (for people and CI).

    \b
    Findings (severity, object, reason, fix hint): namespaces without default-deny; egress-isolated pods without DNS;
    policies selecting no pods, peers matching nothing, shadowed rules, undefined named ports; subjects that can
    create pods where policies trust labels across namespaces, can rewrite NetworkPolicies, or hold "*" on
    pods/exec; a live CNI not known to enforce NetworkPolicy; failed --expect assertions.
    Exit status: 0 clean, 1 a finding at or above --fail-on (default high), 3 error.

    \b
    Example:
      kubectl netsso audit --manifests example:shop --with-default-roles --expect example:shop-expect.yaml
    """
    from ..usecases import audit as usecase
    from ..usecases.source import Source

    result = usecase.run(
        usecase.AuditInput(expect_paths, only, skip, fail_on), Source(kube, manifests, with_default_roles, cni)
    )
    ctx, findings, results, failing = result.context, result.findings, result.expectations, result.failing
    data = result.to_dict()
    if not render(data, output):
        emit(_audit_text(ctx, findings, results, fail_on, failing, wide=output == "wide"))
    for n in ctx.notes:
        log.warn(n)
    return result.exit_code


def _audit_text(ctx: AccessContext, findings: Sequence[Finding], results: Sequence[ExpectResult], fail_on: str,
                failing: Sequence[Finding], wide: bool) -> list[str]:  # fmt: skip
    lines = [f"# audit of {scope_text(ctx)} ({ctx.source})"]
    if wide:
        rows = [[_risk(f.severity.upper()), f.check, f.object, f.reason, f.hint] for f in findings]
        lines.extend(table(["Severity", "Check", "Object", "Reason", "Hint"], rows).splitlines())
    else:
        for f in findings:
            lines.append("")
            lines.append(f"{_risk(f.severity.upper()):<8}  {style(f.check, 'bold')}  {f.object}")
            lines.append(f"          {f.reason}")
            for ln in f.details.get("explanation", []) if f.check == "expectation-failed" else []:
                lines.append(f"          {ln}")
            lines.append(f"          {style('hint:', 'dim')} {f.hint}")
    if results:
        lines.append("")
        lines.append("Expectations:")
        for r in results:
            mark = {"PASS": style("PASS", "green"), "FAIL": style("FAIL", "red"), "UNKNOWN": style("UNKNOWN", "yellow")}[r.status]
            lines.append(f"  {mark}  {r.expectation.name or r.expectation.describe()}: {r.summary}")
    lines.append("")
    counts = severity_counts(findings)
    verdict = style("FAIL", "red", "bold") if failing else style("PASS", "green", "bold")
    total = f"{len(findings)} finding(s)" + (": " + ", ".join(f"{n} {s}" for s, n in counts.items()) if counts else "")
    lines.append(f"{total}; --fail-on {fail_on}: {verdict}")
    return lines


# --- report ------------------------------------------------------------------------------------------------------


@click.command("report")
@click.option("--html", "html_path", metavar="FILE", required=True, type=click.Path(),
              help="Write the report to FILE ('-' for stdout).")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help="Offline: add the upstream default ClusterRoles (admin, edit, view...).")
@click.option("--expect", "expect_paths", metavar="FILE", multiple=True, type=click.Path(),
              shell_complete=completion.expect_files, help="Also check these --expect assertions.")
@_identity_options
@cni_option
@kube_options_for(namespace_help=SCOPE_NAMESPACE_HELP)
def report(
    kube: KubeOptions,
    html_path: str,
    manifests: tuple[str, ...],
    with_default_roles: bool,
    expect_paths: tuple[str, ...],
    cni: str,
    **kw: Any,
) -> int:
    """Write one self-contained HTML page for compliance reviews (no network fetches: inline CSS, JS and SVG).

    \b
    Sections: identity summary and its footholds (your SSO identity, --as/--as-group, or none), the permissions
    matrix of every RBAC subject, a namespace x namespace matrix of the allowed flows (choose a cell for its rules),
    a graph of the workloads with the allowed flows as edges where it stays readable (up to 40 boxes and 40 edges),
    the audit findings (and --expect results), and when and from what source it was generated.

    \b
    Example:
      kubectl netsso report --html shop.html --manifests example:shop --with-default-roles --as-group oidc:contractors
    """
    from ..usecases import report as usecase
    from ..usecases.source import Source

    result = usecase.run(
        usecase.ReportInput(identity_input(kw), expect_paths), Source(kube, manifests, with_default_roles, cni)
    )
    data = result.data
    from ..output.report import render_html
    from ..output.report.graph import readable

    html = render_html(data)
    if html_path == "-":
        import sys

        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stream (tests capturing output)
            emit(html)
        else:
            # the page declares charset=utf-8, so it is UTF-8 bytes whatever the console's encoding (often > FILE)
            sys.stdout.flush()
            buffer.write(html.encode("utf-8") + (b"" if html.endswith("\n") else b"\n"))
            buffer.flush()
        return EXIT_OK
    try:
        with open(html_path, "w", encoding="utf-8") as fh:
            fh.write(html)
    except OSError as exc:
        raise NetssoError(f"cannot write {html_path}: {exc.strerror or exc}") from exc
    log.info(
        f"wrote {html_path}: {data.workload_count} workloads, {data.flow_count} "
        + (
            "allowed flows drawn (as on the page), "
            if readable(data)
            else "allowed flows into isolated workloads (too many to draw: see the namespace matrix), "
        )
        + f"{result.footholds} footholds, "
        f"{result.findings} findings"
    )
    return EXIT_OK


__all__ = ["audit", "policy", "reach", "report"]
