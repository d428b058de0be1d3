"""Identity x network commands: reach, audit, report, policy. Parse -> call the access engine -> render; no logic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from .. import log
from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from ..output import emit, render, style, table
from . import completion
from .options import KubeOptions, kube_options, manifests_option, output_option

if TYPE_CHECKING:
    from ..access.model import Finding, Reach
    from ..access.reach import ReachEngine
    from ..cluster.snapshot import Snapshot
    from ..netpol.endpoints import Endpoint
    from ..rbac.rules import Request


# --- shared helpers ----------------------------------------------------------------------------------------------

# Offline identity without a user name: a member of the --as-group groups (matches no User subject).
GROUP_MEMBER = "netsso:member-of-groups"


def load_snapshot(
    kube: KubeOptions, manifests: Sequence[str], parts: set[str] | None = None, with_default_roles: bool = False
) -> Snapshot:
    """The snapshot from --manifests (offline) or the live cluster (namespaces per -n/-A)."""
    parts = parts or {"network", "rbac"}
    if manifests:
        from ..cluster.manifests import load_snapshot as load_manifests

        snap = load_manifests(list(manifests))
        if with_default_roles:
            from ..rbac.defaults import default_roles_snapshot
            from ..rbac.objects import merge

            snap = merge(snap, default_roles_snapshot())
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
    """-n, else the kubeconfig context's namespace, else "default" (kubectl's rule)."""
    if kube.namespace:
        return kube.namespace
    from ..cluster.kubeconfig import effective_namespace, resolve_context

    try:
        return effective_namespace(None, resolve_context(kube.kubeconfig, kube.context))
    except (NetssoError, OSError):
        return "default"


def _usage(message: str, hint: str | None = None) -> NetssoError:
    return NetssoError(message, hint=hint, exit_code=EXIT_ERROR)


# --- policy ------------------------------------------------------------------------------------------------------


@click.group("policy")
def policy() -> None:
    """Print ready-to-apply NetworkPolicy YAML: deny everything first, then open only the flows you need.

    \b
    kubectl netsso policy default-deny -n shop --allow-dns | kubectl apply -f -
    kubectl netsso policy allow frontend/deploy/web shop/svc/api --port 80 --manifests example:shop
    """


@policy.command("default-deny")
@click.option("-n", "--namespace", metavar="NS", help="Namespace of the policies (default: the context's, else 'default').")
@click.option(
    "--allow-dns", is_flag=True, help="Also allow egress to the cluster DNS (kube-system k8s-app=kube-dns, 53/UDP+TCP)."
)
@click.option("--context", metavar="NAME", hidden=True)
@click.option("--kubeconfig", metavar="PATH", type=click.Path(), hidden=True)
def default_deny_cmd(namespace: str | None, allow_dns: bool, context: str | None, kubeconfig: str | None) -> None:
    """Deny all ingress and egress for every pod of a namespace.

    \b
    Example:
      kubectl netsso policy default-deny -n payments --allow-dns | kubectl apply -f -
    """
    from ..netpol import generate

    kube = KubeOptions(
        kubeconfig=kubeconfig, context=context, namespace=namespace, all_namespaces=False, as_user=None, as_groups=()
    )
    ns = current_namespace(kube)
    click.echo(generate.to_yaml(generate.default_deny(ns, allow_dns=allow_dns)), nl=False)


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
@kube_options
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

    FROM/TO: NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME (TYPE: pod, deploy, sts, ds, job, cronjob, svc) or ip:ADDRESS.
    A Service as TO stands for its backing pods on the Service port's targetPort.

    \b
    Example:
      kubectl netsso policy allow frontend/deploy/web shop/svc/api --port 80 --side ingress --manifests example:shop
    """
    from ..netpol import endpoints, generate

    port = endpoints.parse_port(port_text)
    protocol = protocol.upper()
    snap = load_snapshot(kube, manifests, parts={"network"})
    ns = current_namespace(kube)
    src = endpoints.resolve_endpoint(snap, source, ns, role="source")
    dst = endpoints.resolve_endpoint(snap, destination, ns, role="destination")
    if src.is_external and dst.is_external:
        raise _usage(
            "both FROM and TO are outside the cluster: no NetworkPolicy applies",
            hint="one end must be a pod, workload or Service",
        )
    dst_port: int | str | None = port
    if dst.service is not None:
        sp = endpoints.service_port(dst.service, port, protocol)
        # Policies see the pod port after the Service DNAT: the targetPort (a name is resolved on each pod by the API).
        dst_port = sp.target_port if not (isinstance(sp.target_port, str) and sp.target_port.isdigit()) else int(sp.target_port)
        protocol = sp.protocol.upper()
    sides = ("ingress", "egress") if side == "both" else (side,)
    objs = generate.allow_flow(
        src.namespace,
        selector_labels(snap, src),
        dst.namespace,
        selector_labels(snap, dst),
        dst_port,
        protocol,
        src_external_cidr=src.ip if src.is_external else None,
        sides=sides,
        dst_external_cidr=dst.ip if dst.is_external else None,
    )
    if not objs:
        raise _usage(f"no policy to print for --side {side} with {src.ref} -> {dst.ref}")
    click.echo(generate.to_yaml(objs), nl=False)


# Labels that identify an app, in the order kubectl/helm conventions use them; hashes are per-revision noise.
_PREFERRED_KEYS = ("app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/instance", "component")
_NOISE_KEYS = (
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
)


def selector_labels(snapshot: Snapshot, endpoint: Endpoint) -> dict[str, str] | None:
    """The smallest label set that selects exactly the endpoint's pods in its namespace (for a generated policy).

    Services use their selector; hypothetical pods their labels; workloads the labels all their pods share,
    reduced to one identifying label when one is unique in the namespace.
    """
    if endpoint.is_external:
        return None
    if endpoint.service is not None and endpoint.service.selector:
        return dict(endpoint.service.selector)
    pods = endpoint.workloads
    if not pods:
        return {}
    common: dict[str, str] = {k: v for k, v in pods[0].labels.items() if k not in _NOISE_KEYS}
    for w in pods[1:]:
        common = {k: v for k, v in common.items() if w.labels.get(k) == v}
    if endpoint.kind == "selector" or not common:
        return common
    mine = {id(w) for w in pods}
    others = [w for w in snapshot.workloads if w.namespace == endpoint.namespace and id(w) not in mine]
    keys = [k for k in _PREFERRED_KEYS if k in common] + sorted(k for k in common if k not in _PREFERRED_KEYS)
    for key in keys:
        if not any(o.labels.get(key) == common[key] for o in others):
            return {key: common[key]}
    return common


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
) -> AccessContext:
    from ..access.footholds import namespaces_in
    from ..access.reach import ReachEngine

    live = not manifests
    snap = load_snapshot(kube, manifests, {"network", "rbac"}, with_default_roles)
    engine = ReachEngine(snap)
    if kube.all_namespaces or (not live and not kube.namespace):
        scope = namespaces_in(snap)
        if live:
            # what the identity could not list still belongs in scope; the context's namespace at least
            known = set(scope) | {g.namespace for g in snap.gaps if g.namespace} | {current_namespace(kube)}
            scope = sorted(known)
    else:
        scope = [current_namespace(kube)]
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
        from .identity import _live_client

        client = _live_client(kube)
        try:
            ctx.cni_warning = client.cni_warning()
        except NetssoError as err:
            log.warn(f"cannot tell whether the CNI enforces NetworkPolicy: {err.message}")
        if identity != "none":
            review = client.self_subject_review()
            ctx.user = str(review.get("username") or "")
            ctx.groups = tuple(review.get("groups") or ())
            ctx.identity_from = "SelfSubjectReview" + (" (impersonated)" if kube.as_user else "")
            ctx.perms = LivePermissions(client)
        return ctx
    if identity == "none":
        return ctx
    user, groups, how = _offline_identity(kube, kw, required=identity == "required")
    if user is not None:
        from ..access.footholds import RbacPermissions
        from ..rbac.authorize import Authorizer

        if ctx.authorizer is None:
            ctx.authorizer = Authorizer(snap)
        ctx.user, ctx.groups, ctx.identity_from = user, groups, how
        ctx.perms = RbacPermissions(ctx.authorizer, user, groups, complete=True)
    return ctx


def _offline_identity(kube: KubeOptions, kw: dict[str, Any], required: bool) -> tuple[str | None, tuple[str, ...], str]:
    """--as/--as-group (a group alone = any member of it), else the cached SSO identity mapped like the API server."""
    from ..rbac.authorize import identity
    from .identity import _mapping, _provider_values
    from .identity import _offline_identity as identity_offline

    mapping = _mapping(kw)
    values = _provider_values(kw)
    if kube.as_user or kube.as_groups:
        ident = identity(kube.as_user or GROUP_MEMBER, kube.as_groups, impersonated=True)
        return ident.user, ident.groups, "--as" if kube.as_user else "--as-group"
    try:
        ident, how = identity_offline(kube, values, mapping)
    except NetssoError:
        if required:
            raise NetssoError(
                "no identity for an offline check: pass --as USER and/or --as-group GROUP, or log in first",
                hint="e.g. kubectl netsso reach -A --manifests example:shop --with-default-roles --as-group oidc:contractors",
            ) from None
        return None, (), ""
    return ident.user, ident.groups, how


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
@output_option("table", "wide", "json", "yaml")
@kube_options
def reach(kube: KubeOptions, manifests: tuple[str, ...], with_default_roles: bool, output: str, **kw: Any) -> int:
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
    ctx = build_context(kube, manifests, with_default_roles, kw, identity="required")
    reaches = _reaches(ctx)
    data = reach_data(ctx, reaches)
    log.debug(f"reach: {len(reaches)} footholds in {time.perf_counter() - started:.2f}s")
    if output == "json":
        _emit_json(data, "footholds")
        return EXIT_OK
    if render(data, output):
        return EXIT_OK
    lines = [f"# {ctx.identity_text} in {_scope_text(ctx)} ({ctx.source})"]
    if not reaches:
        lines.append("no footholds: this identity can neither exec into, create nor re-police anything in scope")
        emit("\n".join(lines))
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
    lines.append(table(headers, rows))
    summary = data["summary"]["byRisk"]
    lines.append("")
    lines.append(f"{len(reaches)} foothold(s): " + ", ".join(f"{n} {k}" for k, n in summary.items()))
    top = reaches[0]
    if top.risk in ("critical", "high"):
        lines.append(f"riskiest: {top.foothold.display}: {top.risk_reason}")
    emit("\n".join(lines))
    for n in ctx.notes:
        log.warn(n)
    return EXIT_OK


def _emit_json(data: Mapping[str, Any], list_key: str) -> None:
    """JSON with one element of data[list_key] per line (compact), the rest indented.

    Same document as json.dumps(indent=2) would give, but the C encoder does the bulk: `reach -A` on a large cluster
    lists tens of thousands of destinations, where the pure-Python indenting encoder took seconds.
    """
    import json

    parts = []
    for key, value in data.items():
        if key == list_key and isinstance(value, list):
            items = ",\n    ".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in value)
            parts.append(f"  {json.dumps(key)}: [\n    {items}\n  ]" if value else f"  {json.dumps(key)}: []")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts.append(f"  {json.dumps(key)}: {text}")
    emit("{\n" + ",\n".join(parts) + "\n}")


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
@output_option("table", "wide", "json", "yaml")
@kube_options
def audit(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    with_default_roles: bool,
    expect_paths: tuple[str, ...],
    only: tuple[str, ...],
    skip: tuple[str, ...],
    fail_on: str,
    output: str,
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
    ctx = build_context(kube, manifests, with_default_roles, {}, identity="none")
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
                failing: Sequence[Finding], wide: bool) -> str:  # fmt: skip
    lines = [f"# audit of {_scope_text(ctx)} ({ctx.source})"]
    if wide:
        rows = [[_risk(f.severity.upper()), f.check, f.object, f.reason, f.hint] for f in findings]
        lines.append(table(["Severity", "Check", "Object", "Reason", "Hint"], rows))
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
    return "\n".join(lines)


# --- report ------------------------------------------------------------------------------------------------------


@click.command("report")
@click.option("--html", "html_path", metavar="FILE", required=True, type=click.Path(),
              help="Write the report to FILE ('-' for stdout).")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help="Offline: add the upstream default ClusterRoles (admin, edit, view...).")
@click.option("--expect", "expect_paths", metavar="FILE", multiple=True, type=click.Path(),
              shell_complete=completion.expect_files, help="Also check these --expect assertions.")
@_identity_options
@kube_options
def report(
    kube: KubeOptions,
    html_path: str,
    manifests: tuple[str, ...],
    with_default_roles: bool,
    expect_paths: tuple[str, ...],
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
    from ..access.report import build_report, render_html

    ctx = build_context(kube, manifests, with_default_roles, kw, identity="optional")
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
        emit(html)
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
