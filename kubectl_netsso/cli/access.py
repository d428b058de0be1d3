"""Identity x network commands: reach, audit, report, policy. Parse -> call the access engine -> render; no logic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from .. import log
from ..errors import EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from ..output import emit, render, style, table
from ..output.json import to_json_listing
from . import completion
from .identity import GROUP_MEMBER
from .options import SCOPE_NAMESPACE_HELP, KubeOptions, cni_option, kube_options_for, manifests_option, output_option

if TYPE_CHECKING:
    from ..access.model import Finding, Reach
    from ..access.reach import ReachEngine
    from ..cluster.snapshot import Snapshot
    from ..rbac.rules import Request
    from .identity import OfflineIdentity


# --- shared helpers ----------------------------------------------------------------------------------------------



def load_snapshot(
    kube: KubeOptions, manifests: Sequence[str], parts: set[str] | None = None, with_default_roles: bool = False
) -> Snapshot:
    """The snapshot from --manifests (offline) or the live cluster (namespaces per -n/-A)."""
    parts = parts or {"network", "rbac"}
    if manifests:
        from ..cluster.manifests import load_snapshot as load_manifests

        snap = load_manifests(list(manifests))
        if with_default_roles:
            from ..cluster.defaults import default_roles_snapshot
            from ..cluster.snapshot import merge_rbac

            snap = merge_rbac(snap, default_roles_snapshot())
    else:
        from ..cluster import live

        namespaces: list[str] | None = None
        if not kube.all_namespaces:
            namespaces = [current_namespace(kube)]
        try:
            snap = live.load_snapshot(kube, namespaces, parts=parts)
        except NotImplementedError:
            raise NetssoError("live cluster access is not available in this build", hint="use --manifests PATH") from None
    for w in snap.warnings:
        log.warn(w)
    return snap


def current_namespace(kube: KubeOptions) -> str:
    """-n, else the kubeconfig context's namespace, else "default" (kubectl's rule); an unknown --context is a usage
    error."""
    from ..cluster.kubeconfig import offline_namespace

    return offline_namespace(kube)


def _usage(message: str, hint: str | None = None) -> NetssoError:
    return NetssoError(message, hint=hint, exit_code=EXIT_USAGE)


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
    from ..netpol import generate

    if ingress_only and egress_only:
        raise _usage("--ingress-only and --egress-only exclude each other", hint="give neither to deny both directions")
    if allow_dns and ingress_only:
        raise _usage("--allow-dns goes with an egress deny, not with --ingress-only", hint="leave out --allow-dns")
    ns = _policy_namespace(namespace, context, kubeconfig)
    objs = generate.default_deny(ns, allow_dns=allow_dns, ingress=not egress_only, egress=not ingress_only)
    click.echo(generate.to_yaml(objs), nl=False)


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
    from ..netpol import endpoints, generate

    labels = endpoints.parse_labels(pod_selector) if pod_selector is not None else None
    ns = _policy_namespace(namespace, context, kubeconfig)
    click.echo(generate.to_yaml(generate.allow_dns_egress(ns, labels)), nl=False)


def _policy_namespace(namespace: str | None, context: str | None, kubeconfig: str | None) -> str:
    from ..netpol.generate import PolicyInputError, _check_name

    kube = KubeOptions(
        kubeconfig=kubeconfig, context=context, namespace=namespace, all_namespaces=False, as_user=None, as_groups=()
    )
    ns = current_namespace(kube)
    try:
        _check_name(ns, "namespace")
    except PolicyInputError as err:
        raise _usage(err.message) from None
    return ns


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
    from ..netpol import endpoints, generate

    port = endpoints.parse_port(port_text)
    protocol = protocol.upper()
    ns = current_namespace(kube)
    if manifests:
        snap = load_snapshot(kube, manifests, parts={"network"})
    else:
        # read the namespaces of both ends (and the context's), nothing more
        wanted = {ns} | {endpoints.split_endpoint(t, ns)[0] for t in (source, destination) if not t.lower().startswith("ip:")}
        snap = _live_snapshot(kube, sorted(wanted))
    src = endpoints.resolve_endpoint(snap, source, ns, role="source")
    dst = endpoints.resolve_endpoint(snap, destination, ns, role="destination")
    if src.is_external and dst.is_external:
        raise _usage(
            "both FROM and TO are outside the cluster: no NetworkPolicy applies",
            hint="one end must be a pod, workload or Service",
        )
    sides = ("ingress", "egress") if side == "both" else (side,)
    objs = generate.allow_endpoints(snap, src, dst, port, protocol, sides)
    if not objs:
        raise _usage(f"no policy to print for --side {side} with {src.ref} -> {dst.ref}")
    click.echo(generate.to_yaml(objs), nl=False)


def _live_snapshot(kube: KubeOptions, namespaces: list[str]) -> Snapshot:
    from ..cluster import live

    snap = live.load_snapshot(kube, namespaces, parts={"network"})
    for w in snap.warnings:
        log.warn(w)
    return snap


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(all pods)"


# --- identity and context ----------------------------------------------------------------------------------------


def _identity_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """can-i's offline identity options: provider flags (which cached token) and the claim mapping."""
    from .identity import mapping_options, provider_options

    return provider_options(mapping_options(func))


@dataclass
class AccessContext:
    """Everything a command needs: the snapshot, the engines, the identity and its permissions, the scope."""

    snapshot: Snapshot
    engine: ReachEngine
    scope: list[str]
    source: str
    live: bool
    authorizer: Any = None
    user: str | None = None
    groups: tuple[str, ...] = ()
    identity_from: str = ""
    perms: Any = None
    cni_warning: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def identity_text(self) -> str:
        if self.user is None:
            return "(no identity)"
        who = "a member of the groups" if self.user == GROUP_MEMBER else self.user
        groups = [g for g in self.groups if g != "system:authenticated"]
        return who + (f" (groups: {', '.join(groups)})" if groups else "")

    def identity_dict(self) -> dict[str, Any] | None:
        if self.user is None:
            return None
        return {"user": None if self.user == GROUP_MEMBER else self.user, "groups": list(self.groups), "from": self.identity_from}


class LivePermissions:
    """Permissions of the current (or impersonated) identity from SelfSubjectAccessReview / SelfSubjectRulesReview."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._reviews: dict[str, Any] = {}

    def check(self, request: Request) -> tuple[bool, str]:
        attrs = {
            "namespace": request.namespace, "verb": request.verb, "group": request.api_group,
            "resource": request.resource, "subresource": request.subresource, "name": request.name,
        }  # fmt: skip
        d = self.client.access_review({"resourceAttributes": {k: v for k, v in attrs.items() if v}})
        return bool(d.allowed), (d.reason or ("allowed by the API server" if d.allowed else "denied"))

    def names_for(self, action: Any, namespace: str) -> Iterable[str]:
        from ..rbac.rules import rule_allows, rule_from_dict

        if namespace not in self._reviews:
            self._reviews[namespace] = self.client.rules_review(namespace)
        names: set[str] = set()
        for raw in self._reviews[namespace].resource_rules:
            rule = rule_from_dict(raw)
            for n in rule.resource_names:
                if rule_allows(rule, action.request(namespace, n)):
                    names.add(n)
        return names


def build_context(
    kube: KubeOptions,
    manifests: Sequence[str],
    with_default_roles: bool,
    kw: dict[str, Any],
    *,
    identity: str,  # "required" | "optional" | "none"
    cni: str = "auto",
) -> AccessContext:
    from ..access.footholds import namespaces_in
    from ..access.reach import ReachEngine
    from .network import resolve_cni

    live = not manifests
    default_ns = current_namespace(kube)  # first: an unknown --context is a usage error, before any loading
    snap = load_snapshot(kube, manifests, {"network", "rbac"}, with_default_roles)
    detected: str | None = None
    cni_warning: str | None = None
    client: Any = None
    if live:
        from .identity import _live_client

        client = _live_client(kube)  # one client: its DaemonSet list serves --cni auto and the CNI warning
        try:
            cni_warning, detected = client.cni_check()
        except NetssoError as err:
            log.warn(f"cannot tell whether the CNI enforces NetworkPolicy: {err.message}")
    engine = ReachEngine(snap, cni=resolve_cni(cni, snap, detected))
    for w in engine.compiled.warnings[len(snap.warnings) :]:
        log.warn(w)  # what compiling the policies found (e.g. namespaces whose labels verdicts depend on are unknown)
    if kube.all_namespaces or (not live and not kube.namespace):
        scope = namespaces_in(snap)
        if live:
            # what the identity could not list still belongs in scope; the context's namespace at least
            known = set(scope) | {g.namespace for g in snap.gaps if g.namespace} | {default_ns}
            scope = sorted(known)
    else:
        scope = [default_ns]
        if not live and scope[0] not in namespaces_in(snap):
            # a typo (-n shpo) would otherwise audit an empty namespace and look clean (or report RBAC alone)
            log.warn(f"namespace {scope[0]} is not in the manifests: only what RBAC grants there is known")
    source = snap.source or ("manifests: " + ", ".join(manifests) if manifests else "live")
    ctx = AccessContext(snapshot=snap, engine=engine, scope=scope, source=source, live=live)
    if snap.roles or snap.bindings:
        from ..rbac.authorize import Authorizer

        ctx.authorizer = Authorizer(snap)
    if any(g.resource.split(".")[0] in ("roles", "rolebindings", "clusterroles", "clusterrolebindings") for g in snap.gaps):
        ctx.notes.append("some RBAC objects could not be read: identity checks are partial")
    if live and any(g.resource == "namespaces" and g.namespace is None for g in snap.gaps):
        ctx.notes.append("cannot list namespaces: only " + ", ".join(scope) + " in scope (give -n NS for others)")
    if live:
        ctx.cni_warning = cni_warning
        if identity != "none":
            review = client.self_subject_review()
            ctx.user = str(review.get("username") or "")
            ctx.groups = tuple(review.get("groups") or ())
            ctx.identity_from = "SelfSubjectReview" + (" (impersonated)" if kube.as_user else "")
            ctx.perms = LivePermissions(client)
        return ctx
    if identity == "none":
        return ctx
    who = _offline_identity(kube, kw, required=identity == "required")
    if who is not None:
        from ..access.footholds import RbacPermissions
        from ..rbac.authorize import Authorizer
        from .identity import report_near_misses

        if ctx.authorizer is None:
            ctx.authorizer = Authorizer(snap)
        user, groups = who.identity.user, who.identity.groups
        ctx.user, ctx.groups, ctx.identity_from = user, groups, who.how
        ctx.perms = RbacPermissions(ctx.authorizer, user, groups, complete=True)
        report_near_misses(who, ctx.authorizer.model, None if kube.all_namespaces or not kube.namespace else scope)
    return ctx


def _offline_identity(kube: KubeOptions, kw: dict[str, Any], required: bool) -> OfflineIdentity | None:
    """--as/--as-group (a group alone = any member of it), else the cached SSO identity mapped like the API server;
    None when there is none and it is optional."""
    from .identity import _mapping, _provider_values
    from .identity import _offline_identity as identity_offline

    mapping = _mapping(kw)
    values = _provider_values(kw)
    try:
        return identity_offline(kube, values, mapping)
    except NetssoError:
        if required:
            raise NetssoError(
                "no identity for an offline check: pass --as USER and/or --as-group GROUP, or log in first",
                hint="e.g. kubectl netsso reach -A --manifests example:shop --with-default-roles --as-group oidc:contractors",
            ) from None
        return None


def _reaches(ctx: AccessContext, perms: Any = None) -> list[Reach]:
    from ..access.footholds import derive_footholds
    from ..access.reach import reach_all

    perms = perms or ctx.perms
    return reach_all(ctx.engine, derive_footholds(ctx.snapshot, perms, ctx.scope))


def _identity_reach_fn(ctx: AccessContext) -> Callable[[str, Sequence[str]], list[Reach]] | None:
    if ctx.authorizer is None:
        return None
    from ..access.footholds import RbacPermissions

    def fn(user: str, groups: Sequence[str]) -> list[Reach]:
        return _reaches(ctx, RbacPermissions(ctx.authorizer, user or GROUP_MEMBER, groups))

    return fn


# --- reach -------------------------------------------------------------------------------------------------------

_RISK_STYLE = {"critical": ("red", "bold"), "high": ("red",), "medium": ("yellow",), "low": ("dim",), "info": ("dim",)}


def _risk(text: str) -> str:
    return style(text, *_RISK_STYLE.get(text, ()))


def reach_data(ctx: AccessContext, reaches: Sequence[Reach]) -> dict[str, Any]:
    from ..access.model import SEVERITIES

    counts = {s: sum(1 for r in reaches if r.risk == s) for s in reversed(SEVERITIES) if any(r.risk == s for r in reaches)}
    return {
        "identity": ctx.identity_dict(),
        "source": ctx.source,
        "namespaces": ctx.scope,
        "summary": {"footholds": len(reaches), "byRisk": counts},
        "footholds": [r.to_dict() for r in reaches],
    }


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
    started = time.perf_counter()
    ctx = build_context(kube, manifests, with_default_roles, kw, identity="required", cni=cni)
    reaches = _reaches(ctx)
    data = reach_data(ctx, reaches)
    log.debug(f"reach: {len(reaches)} footholds in {time.perf_counter() - started:.2f}s")
    if output == "json":
        emit(to_json_listing(data, "footholds"))
        return EXIT_OK
    if render(data, output):
        return EXIT_OK
    lines = [f"# {ctx.identity_text} in {_scope_text(ctx)} ({ctx.source})"]
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


def _scope_text(ctx: AccessContext) -> str:
    return f"namespace {ctx.scope[0]}" if len(ctx.scope) == 1 else f"{len(ctx.scope)} namespaces"


# --- audit -------------------------------------------------------------------------------------------------------


def _load_expect(paths: Sequence[str]) -> list[Any]:
    import yaml

    from ..access.expect import load_expectations
    from ..cluster.examples import resolve

    out: list[Any] = []
    for path in paths:
        try:
            with open(resolve(path), encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
        except OSError as exc:
            raise NetssoError(f"cannot read --expect file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise NetssoError(f"--expect file {path}: not UTF-8 text", hint="give a YAML file with an 'expect:' list") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise NetssoError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
        out.extend(load_expectations(data, path))
    return out


def run_audit(ctx: AccessContext, expect_paths: Sequence[str]) -> tuple[list[Finding], list[Any]]:
    from ..access.audit import audit as audit_engine
    from ..access.expect import ExpectationChecker
    from ..access.model import sort_findings

    expectations = _load_expect(expect_paths)
    findings = audit_engine(ctx.engine, authorizer=ctx.authorizer, namespaces=ctx.scope, cni_warning=ctx.cni_warning)
    results = []
    if expectations:
        default_ns = ctx.scope[0] if len(ctx.scope) == 1 else "default"
        checker = ExpectationChecker(ctx.engine, _identity_reach_fn(ctx), default_ns)
        results = [checker.check(e) for e in expectations]
        findings = sort_findings(findings + [f for f in (r.finding() for r in results) if f is not None])
    return findings, results


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
    from ..access.audit import CHECKS
    from ..access.model import severity_rank

    for name in (*only, *skip):
        if name not in CHECKS:
            raise NetssoError(f"unknown check {name!r}", hint="checks: " + ", ".join(CHECKS), exit_code=EXIT_USAGE)
    ctx = build_context(kube, manifests, with_default_roles, {}, identity="none", cni=cni)
    findings, results = run_audit(ctx, expect_paths)
    findings = [f for f in findings if (not only or f.check in only) and f.check not in skip]
    failing = [f for f in findings if fail_on != "never" and severity_rank(f.severity) >= severity_rank(fail_on)]
    data = {
        "source": ctx.source,
        "namespaces": ctx.scope,
        "failOn": fail_on,
        "only": list(only),
        "skip": list(skip),
        "passed": not failing,
        "summary": _severity_counts(findings),
        "findings": [f.to_dict() for f in findings],
        "expectations": [r.to_dict() for r in results],
    }
    if not render(data, output):
        emit(_audit_text(ctx, findings, results, fail_on, failing, wide=output == "wide"))
    for n in ctx.notes:
        log.warn(n)
    return EXIT_NO if failing else EXIT_OK


def _severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    from ..access.model import SEVERITIES

    return {s: n for s in reversed(SEVERITIES) if (n := sum(1 for f in findings if f.severity == s))}


def _audit_text(ctx: AccessContext, findings: Sequence[Finding], results: Sequence[Any], fail_on: str,
                failing: Sequence[Finding], wide: bool) -> list[str]:  # fmt: skip
    lines = [f"# audit of {_scope_text(ctx)} ({ctx.source})"]
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
    counts = _severity_counts(findings)
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
    matrix of every RBAC subject, a graph of namespaces and workloads with the allowed flows as edges, the audit
    findings (and --expect results), and when and from what source it was generated.

    \b
    Example:
      kubectl netsso report --html shop.html --manifests example:shop --with-default-roles --as-group oidc:contractors
    """
    from ..access.report import build_report
    from ..output.report import render_html

    ctx = build_context(kube, manifests, with_default_roles, kw, identity="optional", cni=cni)
    reaches = _reaches(ctx) if ctx.perms is not None else []
    findings, results = run_audit(ctx, expect_paths)
    data = build_report(
        ctx.engine,
        scope=ctx.scope,
        source=ctx.source,
        identity=ctx.identity_dict(),
        identity_text=ctx.identity_text if ctx.user is not None else None,
        reaches=reaches,
        findings=findings,
        expectations=results,
        authorizer=ctx.authorizer,
        cni_warning=ctx.cni_warning,
    )
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
        raise NetssoError(f"cannot write {html_path}: {exc.strerror or exc}") from None
    log.info(
        f"wrote {html_path}: {data.workload_count} workloads, {len(data.edges)} "
        + ("namespace-to-namespace edges, " if data.aggregated else "allowed flows drawn (as on the page), ")
        + f"{len(reaches)} footholds, "
        f"{len(findings)} findings"
    )
    return EXIT_OK


__all__ = ["audit", "policy", "reach", "report"]
