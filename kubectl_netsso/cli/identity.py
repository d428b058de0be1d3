"""whoami, can-i and permissions (perms): parse the options -> call the use case (usecases/whoami.py, can_i.py,
permissions.py) -> render."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..cluster.snapshot import PolicyRule
from ..errors import EXIT_OK, EXIT_USAGE, NetssoError
from ..output import emit, render, style, symbol, table
from ..rbac.authorize import binding_ref, role_ref
from ..rbac.claims import ClaimMapping, MappedIdentity
from ..rbac.matrix import MATRIX_VERBS
from ..rbac.rules import rule_to_dict
from ..usecases.identity import IdentityInput, LocalToken, claim_seconds
from ..usecases.identity import list_text as _list_text
from . import completion
from .options import KubeOptions, kube_options, kube_options_for, manifests_option, output_option

if TYPE_CHECKING:
    from ..rbac.diagnose import Finding
    from ..usecases.can_i import CanIListResult

# ------------------------------------------------------------------------------------------------ shared options

# Provider flags that pick the cached token (the cache key) and where it is stored; names as get-token's.
_PROVIDER_DESTS = (
    "issuer_url", "client_id", "client_secret", "extra_scopes", "extra_params", "certificate_authorities",
    "insecure_skip_tls_verify", "token_cache_dir", "token_cache_storage",
)  # fmt: skip


def provider_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The get-token provider flags that select the cached token (default: the current kubeconfig user's exec args)."""
    from ..auth.settings import OPTIONS

    for flag, dest, kind, env, help_text in reversed(OPTIONS):
        if dest not in _PROVIDER_DESTS:
            continue
        help_text = f"{help_text} [env {env}]"
        if kind == "bool":
            func = click.option(flag, "prov_" + dest, is_flag=True, default=None, help=help_text)(func)
        elif kind == "multi":
            func = click.option(flag, "prov_" + dest, multiple=True, help=help_text)(func)
        else:
            func = click.option(flag, "prov_" + dest, default=None, metavar="VALUE", help=help_text)(func)
    return func


def mapping_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """How the API server maps ID-token claims (its --oidc-username-claim etc.), for offline identity."""
    opts = [
        click.option("--username-claim", default="sub", show_default=True, help="The API server's --oidc-username-claim."),
        click.option(
            "--username-prefix",
            default=None,
            help="The API server's --oidc-username-prefix (default: '<issuer>#' unless the claim is email; '-' = none).",
        ),
        click.option("--groups-claim", default="groups", show_default=True, help="The API server's --oidc-groups-claim."),
        click.option("--groups-prefix", default="", help="The API server's --oidc-groups-prefix, e.g. 'oidc:'."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def _mapping(kw: dict[str, Any]) -> ClaimMapping:
    return ClaimMapping(
        username_claim=kw.pop("username_claim"),
        username_prefix=kw.pop("username_prefix"),
        groups_claim=kw.pop("groups_claim") or None,
        groups_prefix=kw.pop("groups_prefix") or "",
    )


def _provider_values(kw: dict[str, Any]) -> dict[str, object]:
    values: dict[str, object] = {}
    for dest in _PROVIDER_DESTS:
        value = kw.pop("prov_" + dest, None)
        if isinstance(value, tuple):
            value = list(value)
        values[dest] = value
    return values


# ------------------------------------------------------------------------------------------------ the local token


def identity_input(kw: dict[str, Any]) -> IdentityInput:
    """The provider and claim-mapping options of a command (popped from its keyword arguments)."""
    return IdentityInput(_provider_values(kw), _mapping(kw))


# ------------------------------------------------------------------------------------------------ formatting helpers


def _when(ts: float | None, now: float) -> str:
    if ts is None:
        return ""
    from ..auth.execcred import MAX_TIMESTAMP
    from ..rbac.diagnose import _fmt_duration

    if not 0 <= ts <= MAX_TIMESTAMP:  # NaN fails this too; gmtime() would overflow past year 9999
        return f"{ts:g} (not a valid time)"

    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    delta = ts - now
    return f"{stamp} (in {_fmt_duration(delta)})" if delta >= 0 else f"{stamp} ({_fmt_duration(delta)} ago)"


# ------------------------------------------------------------------------------------------------ whoami


@click.command("whoami")
@provider_options
@mapping_options
@click.option("--local", is_flag=True, help="Only the cached token; do not ask the cluster.")
@output_option("table", "json", "yaml")
@kube_options_for(namespace=False, all_namespaces=False, impersonation=False)  # whoami has no namespace; it shows you
def whoami(kube: KubeOptions, local: bool, output: str, **kw: Any) -> int:
    """Who am I: the cached SSO token (local view), the cluster's view (SelfSubjectReview), and what differs.

    \b
    Findings explain SSO mapping problems: the issuer# username prefix, a missing groups claim, an Entra ID
    groups overage marker, groups the cluster does not see, an expired token, system:anonymous.

    \b
    Examples:
      kubectl netsso whoami
      kubectl netsso whoami --local -o json
    """
    from ..usecases import whoami as usecase

    result = usecase.run(usecase.WhoamiInput(identity_input(kw), local), kube)
    if not render(result.to_dict(), output):
        emit(_whoami_text(result.token, result.mapped, result.cluster, result.findings, result.cluster_error, result.now,
                          local))  # fmt: skip
    return result.exit_code


def _whoami_text(
    tok: LocalToken | None,
    mapped: MappedIdentity | None,
    cluster: dict[str, Any] | None,
    findings: Sequence[Finding],
    cluster_error: str | None,
    now: float,
    local: bool,
) -> list[str]:
    parts: list[list[str]] = []  # sections of lines (emit escapes each line: a claim cannot start a line of its own)
    if tok is not None:
        c = tok.claims
        groups = c.get("groups")
        rows: list[list[str]] = [
            ["Issuer", str(c.get("iss", tok.issuer))],
            ["Subject", str(c.get("sub", ""))],
        ]
        if c.get("email"):
            rows.append(["Email", str(c["email"])])
        if c.get("name") or c.get("preferred_username"):
            rows.append(["Name", str(c.get("name") or c.get("preferred_username"))])
        if isinstance(groups, list):
            rows.append(["Groups", _list_text([str(g) for g in groups])])
        elif isinstance(groups, str):
            rows.append(["Groups", _list_text([groups])])
        else:
            rows.append(["Groups", "(no groups claim)"])
        iat = c.get("iat")
        rows.append(["Issued", _when(claim_seconds(iat), now)])
        expiry = _when(tok.expires_at, now)
        if tok.expires_at is not None and tok.expires_at <= now:
            expiry = style(expiry + " EXPIRED", "red")
        rows.append(["Expires", expiry])
        rows.append(["Cache", tok.cache])
        if mapped is not None and mapped.username:
            rows.append(["Maps to", f"{mapped.username} {_list_text(list(mapped.groups))} (API server claim mapping)"])
        parts.append([style("Local view (cached ID token)", "bold"), *table(["attribute", "value"], rows).splitlines()])
    elif not local:
        parts.append([style("Local view", "bold"), "(the kubeconfig user is not kubectl netsso: no cached SSO token)"])
    if cluster is not None:
        rows = [["Username", str(cluster.get("username", ""))]]
        if cluster.get("uid"):
            rows.append(["UID", str(cluster["uid"])])
        rows.append(["Groups", _list_text([str(g) for g in cluster.get("groups") or ()])])
        for key, value in sorted((cluster.get("extra") or {}).items()):
            rows.append([f"Extra: {key}", _list_text([str(v) for v in value]) if isinstance(value, list) else str(value)])
        parts.append([style("Cluster view (SelfSubjectReview)", "bold"), *table(["attribute", "value"], rows).splitlines()])
    elif cluster_error:
        parts.append([style("Cluster view", "bold"), style("error: " + cluster_error, "red")])
    lines = [style("Findings", "bold")]
    colour = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in findings:
        lines.append(f"{style(f.severity.upper(), colour.get(f.severity, 'bold'))} {f.code}: {f.message}")
        lines.append(f"  hint: {f.hint}")
    # "agree" only when both views were there to compare: never right under "Cluster view: error" or with --local.
    if tok is not None and cluster is None:
        why = "was not asked (--local)" if local else "is missing (see the error above)"
        note = (f"the cluster's view {why}, so how the API server maps you (username and groups prefixes, groups it "
                "does not see) was not checked")  # fmt: skip
        lines.append(f"(from the token alone: {note})" if findings else f"none in the token alone; {note}")
    elif tok is None and cluster is not None:
        note = "there is no cached SSO token to compare it with"
        lines.append(f"(from the cluster's view alone: {note})" if findings else f"none in the cluster's view; {note}")
    elif not findings and tok is not None and cluster is not None:
        lines.append("none: the token and the cluster's view agree")
    if len(lines) > 1:
        parts.append(lines)
    return [text for i, part in enumerate(parts) for text in ([""] if i else []) + part]


# ------------------------------------------------------------------------------------------------ can-i


@click.command("can-i", context_settings={"ignore_unknown_options": False})
@click.argument("args", nargs=-1, shell_complete=completion.can_i_args)
@click.option("--subresource", metavar="SUB", help="The subresource, e.g. exec, log, scale, status.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit status says yes (0) or no (1).")
@click.option("--list", "list_", is_flag=True, help="List all rules the identity has in the namespace.")
@click.option("--no-headers", is_flag=True, help="With --list: no header row.")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help="Offline: add the upstream default ClusterRoles (admin, edit, view...).")
@provider_options
@mapping_options
@output_option("table", "wide", "json", "yaml")
@kube_options
def can_i(
    kube: KubeOptions,
    args: tuple[str, ...],
    subresource: str | None,
    quiet: bool,
    list_: bool,
    no_headers: bool,
    manifests: tuple[str, ...],
    with_default_roles: bool,
    output: str,
    **kw: Any,
) -> int:
    """Check whether an action is allowed: VERB TYPE[.GROUP][/NAME] | NONRESOURCEURL (like kubectl auth can-i).

    \b
    Live: SelfSubjectAccessReview (--as/--as-group impersonate). Offline with --manifests PATH: the exact RBAC
    semantics on the manifests, for --as/--as-group or your cached SSO identity; the answer names the binding,
    role and rule that grant it. Exit status: 0 yes, 1 no, 3 error, 2 usage.

    \b
    Examples:
      kubectl netsso can-i create deployments.apps -n shop --as alice --as-group oidc:shop-devs \\
          --manifests example:shop --with-default-roles
      kubectl netsso can-i create pods --subresource exec -n payments
      kubectl netsso can-i get /healthz
      kubectl netsso can-i --list -n shop
    """
    from ..usecases import can_i as usecase
    from ..usecases.source import Source

    identity = identity_input(kw)
    source = Source(kube, manifests, with_default_roles)
    usecase.check_options(kube, bool(manifests), output == "wide")
    if list_:
        # cani.go Validate: "--list" rejects arguments, -q, -A and --subresource
        if args or quiet or kube.all_namespaces or subresource:
            raise NetssoError("--list does not take arguments, -q, -A or --subresource", exit_code=EXIT_USAGE)
        return _can_i_list(usecase.run_list(identity, source), output, no_headers, bool(manifests))
    if no_headers:
        raise NetssoError("--no-headers is only valid with --list", exit_code=EXIT_USAGE)
    result = usecase.run(usecase.CanIInput(args, subresource, identity, wide=output == "wide"), source)
    if quiet:
        return result.exit_code
    if not render(result.to_dict(), output):
        req, who, decision = result.request, result.who, result.decision
        answer = style("yes", "green") if result.allowed else style("no", "red")
        lines = [answer, f"  request: {req.describe()}"]
        if who is not None:
            lines.append(f"  as:      {who.text}")
        lines.append(f"  reason:  {result.reason}")
        if output == "wide" and decision is not None:
            if decision.grant is not None:
                lines.append("  rule:    " + ", ".join(f"{k} {_list_text([repr('') if v == '' else v for v in vals])}"
                                                      for k, vals in rule_to_dict(decision.grant.rule.rule).items()))
            lines.append("  bound:   " + ("; ".join(f"{binding_ref(b)} -> {role_ref(b)}" for b in result.bound) or
                                          "(no binding applies to this identity here)"))  # fmt: skip
        emit(lines)
    return result.exit_code


def _breakdown(rules: Sequence[tuple[PolicyRule, str]]) -> list[list[str]]:
    """kubectl --list rows: rules broken down per resource, compacted (same resource+names -> verbs merged), sorted."""
    merged: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for rule, source in rules:
        names = _list_text(list(rule.resource_names))
        keys: list[tuple[str, str, str]] = []
        if rule.resources:
            for g in rule.api_groups or ("",):
                for r in rule.resources:
                    base, slash, sub = r.partition("/")
                    keys.append(((f"{base}.{g}" if g else base) + slash + sub, "[]", names))
        if rule.non_resource_urls:
            for u in rule.non_resource_urls:
                keys.append(("", _list_text([u]), "[]"))
        for key in keys:
            verbs, sources = merged.setdefault(key, ([], []))
            for v in rule.verbs:
                if v not in verbs:
                    verbs.append(v)
            if source and source not in sources:
                sources.append(source)
    rows = []
    for (res, urls, names), (verbs, sources) in sorted(merged.items(), key=lambda kv: (kv[0][0] == "", kv[0])):
        rows.append([res, urls, names, _list_text(verbs), "; ".join(sources)])
    return rows


def _can_i_list(result: CanIListResult, output: str, no_headers: bool, offline: bool) -> int:
    if render(result.to_dict(), output):
        return EXIT_OK
    rows = _breakdown(result.rules)
    headers = ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    if output == "wide" and offline:
        headers.append("Granted by")
    else:
        rows = [r[:4] for r in rows]
    emit(table(headers, rows, no_headers=no_headers) if rows else "(no rules)")
    return EXIT_OK


# ------------------------------------------------------------------------------------------------ permissions


@click.command("permissions")
@manifests_option
@click.option("--with-default-roles", is_flag=True, help="Offline: add the upstream default ClusterRoles (admin, edit, view...).")
@click.option("--resource", "extra_resources", multiple=True, metavar="TYPE", help="Only these rows (repeatable).")
@provider_options
@mapping_options
@output_option("table", "wide", "json", "yaml")
@kube_options
def permissions(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    with_default_roles: bool,
    extra_resources: tuple[str, ...],
    output: str,
    **kw: Any,
) -> int:
    """Resource x verb matrix for you (or --as) in a namespace, with the risky permissions flagged.

    \b
    Rows: live discovery, or offline the resources the manifests' RBAC rules name plus the common core ones.
    RISKY lists what lets you run code, read credentials or change policy: exec, attach, portforward, create pods or
    workloads, read secrets, write networkpolicies, bind, escalate, impersonate.

    \b
    Example:
      kubectl netsso permissions -n frontend --manifests example:shop --with-default-roles --as carol --as-group oidc:contractors
    """
    from ..usecases import permissions as usecase
    from ..usecases.source import Source

    inp = usecase.PermissionsInput(extra_resources, identity_input(kw))
    result = usecase.run(inp, Source(kube, manifests, with_default_roles))
    data, matrix, risky, granted, namespace = result.data, result.matrix, result.risky, result.granted, result.namespace
    who = result.who
    if render(data, output):
        return EXIT_OK
    glyph = {True: style(symbol("✔", "yes"), "green"), False: style(symbol("✖", "no"), "red"), None: style("?", "yellow")}
    headers = ["Name", *MATRIX_VERBS, "Risky"]
    body = [[r.resource.ref, *(glyph[c] for c in r.cells), style(",".join(r.risky), "red") if r.risky else ""] for r in matrix]
    if output == "wide":
        # wide: where each row was asked (cluster-scoped resources are asked cluster-wide) and, offline, which
        # bindings grant its allowed cells
        headers.append("Scope")
        for r, row in zip(matrix, body, strict=True):
            row.append(namespace if namespace and r.resource.namespaced else "cluster-wide")
        if manifests:
            headers.append("Granted by")
            for r, row in zip(matrix, body, strict=True):
                row.append("; ".join(granted.get((r.resource.resource, r.resource.group, r.resource.subresource), [])))
    lines = []
    if who is not None:
        lines.append(f"# {who.text} in {'all namespaces' if not namespace else 'namespace ' + namespace} ({data['source']})")
    lines.extend(table(headers, body).splitlines())
    shown = {(r.check.resource, r.check.group) for r in risky if r.allowed and any(m.resource.resource == r.check.resource
             and m.resource.group == r.check.group for m in matrix)}  # fmt: skip
    others = [r for r in risky if r.allowed and (r.check.resource, r.check.group) not in shown]
    if others:
        lines.append("")
        lines.append("Also risky: " + ", ".join(f"{r.name} ({r.check.why})" for r in others))
    emit(lines)
    return EXIT_OK


__all__ = ["can_i", "permissions", "whoami"]
