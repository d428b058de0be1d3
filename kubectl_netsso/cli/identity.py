"""whoami, can-i and permissions (perms): parse -> call the rbac engine or the API server -> render."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from .. import log
from ..cluster.snapshot import PolicyRule, Snapshot
from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from ..output import emit, render, style, symbol, table
from ..rbac.authorize import Authorizer, Identity, binding_ref, bindings_of, identity, role_ref
from ..rbac.claims import ClaimMapping, MappedIdentity, map_claims
from ..rbac.matrix import MATRIX_VERBS, build_matrix
from ..rbac.resources import BUILTIN, COMMON, ResourceIndex, ResourceType
from ..rbac.rules import NON_RESOURCE_VERBS, RESOURCE_VERBS, Request, rule_allows, rule_from_dict, rule_to_dict
from . import completion
from .options import KubeOptions, kube_options, kube_options_for, manifests_option, output_option

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


@dataclass
class LocalToken:
    claims: dict[str, Any]
    expires_at: float | None
    cache: str  # which cache entry (path or keyring item)
    issuer: str
    client_id: str


def _settings(kube: KubeOptions, values: dict[str, object]) -> Any:
    """ProviderSettings from the flags, else from the current kubeconfig user's exec args; None when neither."""
    from ..auth.settings import ProviderSettings, SettingsError

    try:
        if values.get("issuer_url"):
            return ProviderSettings.from_values(values)
        from ..cluster.kubeconfig import resolve_context

        try:
            ctx = resolve_context(kube.kubeconfig, kube.context)
        except NetssoError as exc:
            if kube.context:  # a --context that names nothing is never silently ignored
                raise NetssoError(exc.message, hint=exc.hint, exit_code=EXIT_USAGE) from None
            return None
        if ctx.exec is None or not ctx.exec.is_netsso:
            return None
        settings = ProviderSettings.from_exec_args(ctx.exec.netsso_args, ctx.exec.process_env())
        overrides = {k: v for k, v in values.items() if v not in (None, [], ())}
        return settings.replace(**overrides) if overrides else settings
    except SettingsError as exc:
        raise NetssoError(f"provider settings: {exc}", hint="check --oidc-issuer-url and --oidc-client-id") from None


def load_local_token(kube: KubeOptions, values: dict[str, object], required: bool) -> LocalToken | None:
    """The cached ID token's claims (never the token). required: raise 'not logged in' when there is none."""
    settings = _settings(kube, values)
    if settings is None:
        if required:
            raise NetssoError(
                "no provider configured: the current kubeconfig user does not run kubectl netsso get-token",
                hint="pass --oidc-issuer-url and --oidc-client-id, or run: kubectl netsso setup",
            )
        return None
    from ..auth.cache import open_cache
    from ..auth.tokens import TokenError

    cache = open_cache(settings)
    tokens = cache.load()
    if tokens is None:
        if required:
            raise NetssoError(
                f"not logged in: run kubectl netsso login (no cached token for {settings.issuer_url})",
                hint=f"cache entry: {cache.describe()}",
            )
        return None
    try:
        claims = tokens.claims
    except TokenError as exc:
        raise NetssoError(f"the cached ID token cannot be decoded: {exc}", hint="run kubectl netsso login") from None
    return LocalToken(
        claims=claims,
        expires_at=_seconds(claims.get("exp")),
        cache=cache.describe(),
        issuer=settings.issuer_url,
        client_id=settings.client_id,
    )


# ------------------------------------------------------------------------------------------------ formatting helpers


def _seconds(value: Any) -> float | None:
    """A numeric claim (exp, iat) as seconds; the provider may send any JSON number, 10**400 included, which
    float() cannot hold: it is then an infinity, still ordered against now (expired or not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


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


def _list_text(values: Sequence[str]) -> str:
    return "[" + " ".join(values) + "]"


def _live_client(kube: KubeOptions) -> Any:
    from ..cluster.live import LiveClient

    try:
        return LiveClient(kube)
    except NotImplementedError:
        raise NetssoError("live cluster access is not available in this build", hint="use --manifests PATH") from None


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
    from ..rbac.diagnose import diagnose

    mapping = _mapping(kw)
    values = _provider_values(kw)
    now = time.time()
    tok = load_local_token(kube, values, required=local)
    cluster: dict[str, Any] | None = None
    cluster_error: str | None = None
    if not local:
        try:
            cluster = dict(_live_client(kube).self_subject_review())
        except NetssoError as exc:
            if tok is None:
                raise
            cluster_error = exc.message + (f" ({exc.hint})" if exc.hint else "")
    mapped: MappedIdentity | None = map_claims(tok.claims, mapping, tok.issuer or None) if tok else None
    findings = diagnose(tok.claims if tok else None, cluster, now, mapping)
    data: dict[str, Any] = {
        "local": _local_dict(tok, mapped, now) if tok else None,
        "cluster": cluster,
        "findings": [f.to_dict() for f in findings],
    }
    if cluster_error:
        data["clusterError"] = cluster_error
    # whether the two views were compared (findings that need both, like groups-prefix, are possible only then)
    data["compared"] = tok is not None and cluster is not None
    if not render(data, output):
        emit(_whoami_text(tok, mapped, cluster, findings, cluster_error, now, local))
    return EXIT_ERROR if cluster_error else EXIT_OK


def _local_dict(tok: LocalToken, mapped: MappedIdentity | None, now: float) -> dict[str, Any]:
    c = tok.claims
    groups = c.get("groups")
    out: dict[str, Any] = {
        "issuer": c.get("iss", tok.issuer),
        "subject": c.get("sub"),
        "email": c.get("email"),
        "name": c.get("name") or c.get("preferred_username"),
        "groups": groups if isinstance(groups, list) else ([groups] if isinstance(groups, str) else None),
        "audience": c.get("aud"),
        "issuedAt": c.get("iat"),
        "expiresAt": c.get("exp"),
        "expired": bool(tok.expires_at is not None and tok.expires_at <= now),
        "cacheEntry": tok.cache,
    }
    if mapped is not None:
        out["mappedIdentity"] = {"username": mapped.username, "groups": list(mapped.groups), "error": mapped.error}
    return out


def _whoami_text(
    tok: LocalToken | None,
    mapped: MappedIdentity | None,
    cluster: dict[str, Any] | None,
    findings: Sequence[Any],
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
        rows.append(["Issued", _when(_seconds(iat), now)])
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


# ------------------------------------------------------------------------------------------------ offline sources


def _offline_snapshot(manifests: Sequence[str], with_default_roles: bool) -> Snapshot:
    return _offline_snapshots(manifests, with_default_roles)[1]


def _offline_snapshots(manifests: Sequence[str], with_default_roles: bool) -> tuple[Snapshot, Snapshot]:
    """(the manifests alone, the manifests plus the default roles when asked)."""
    from ..cluster.defaults import default_roles_snapshot
    from ..cluster.manifests import load_snapshot
    from ..cluster.snapshot import merge_rbac

    snap = load_snapshot(list(manifests))
    for w in snap.warnings:
        log.warn(w)
    return snap, (merge_rbac(snap, default_roles_snapshot()) if with_default_roles else snap)


# Offline identity without a user name: a member of the --as-group groups (a name no User subject can match).
GROUP_MEMBER = "netsso:member-of-groups"


@dataclass(frozen=True)
class OfflineIdentity:
    """Who an offline check is for, and where that came from (the token too, to explain near misses)."""

    identity: Identity
    how: str  # "--as" | "--as-group" | "cached token"
    token: LocalToken | None = None
    mapping: ClaimMapping | None = None

    @property
    def user(self) -> str | None:
        return None if self.identity.user == GROUP_MEMBER else self.identity.user

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "groups": list(self.identity.groups), "from": self.how}

    @property
    def text(self) -> str:
        who = self.user if self.user is not None else "a member of the groups"
        return f"{who} {_list_text(list(self.identity.groups))}"


def _offline_identity(kube: KubeOptions, values: dict[str, object], mapping: ClaimMapping) -> OfflineIdentity:
    """--as and/or --as-group (a group alone: any member of it), else the cached SSO token mapped like the API
    server."""
    if kube.as_user or kube.as_groups:
        how = "--as" if kube.as_user else "--as-group"
        return OfflineIdentity(identity(kube.as_user or GROUP_MEMBER, kube.as_groups, impersonated=True), how)
    tok = load_local_token(kube, values, required=False)
    if tok is None:
        raise NetssoError(
            "no identity for an offline check: not logged in",
            hint="pass --as USER and/or --as-group GROUP, or run kubectl netsso login first",
        )
    mapped = map_claims(tok.claims, mapping, tok.issuer or None)
    if mapped.username is None:
        raise NetssoError(f"the cached ID token cannot be mapped to a user: {mapped.error}", hint="see --username-claim")
    if tok.expires_at is not None and tok.expires_at <= time.time():
        log.warn("the cached ID token has expired; using its claims anyway for this offline check")
    if mapped.distributed_groups:
        log.warn("the token's groups are a distributed claim (overage): checked without groups")
    return OfflineIdentity(identity(mapped.username, mapped.groups), "cached token", tok, mapping)


def report_near_misses(who: OfflineIdentity, model: Any, namespaces: Sequence[str] | None) -> list[dict[str, Any]]:
    """Warn about bindings that name the cached token's user or groups with another prefix (the hint names the flag
    to pass); returns them for JSON. Nothing for --as/--as-group, where the user named the identity."""
    if who.token is None or who.mapping is None:
        return []
    from ..rbac.nearmiss import near_misses

    found = near_misses(model, who.token.claims, who.mapping, who.token.issuer or None, namespaces)
    shown = 3
    for miss in found[:shown]:
        log.warn(miss.message)
    if len(found) > shown:
        log.warn(f"... and {len(found) - shown} more binding subject(s) like these")
    for flag in dict.fromkeys(m.flag for m in found):
        log.info(f"hint: pass {flag} if the API server maps your token that way (kubectl netsso whoami shows how the "
                 "cluster sees you)")  # fmt: skip
    return [m.to_dict() for m in found]


def _namespace(kube: KubeOptions) -> str:
    from ..cluster.kubeconfig import offline_namespace

    return offline_namespace(kube)


def _index_for(snapshot: Snapshot | None) -> ResourceIndex:
    index = ResourceIndex(BUILTIN, offline=True)
    if snapshot is not None:
        pairs = []
        for role in snapshot.roles:
            for rule in role.rules:
                for g in rule.api_groups:
                    for r in rule.resources:
                        pairs.append((g, r))
        index = index.with_extra(pairs)
    return index


# ------------------------------------------------------------------------------------------------ can-i


@dataclass(frozen=True)
class _Parsed:
    request: Request
    resource: ResourceType | None
    warnings: tuple[str, ...]


def parse_can_i(
    args: Sequence[str], subresource: str | None, namespace: str, all_namespaces: bool, index: ResourceIndex, ns_given: bool
) -> _Parsed:
    """kubectl auth can-i argument rules (cani.go Complete/Validate)."""
    if len(args) < 2:
        raise NetssoError("you must specify two arguments: verb resource or verb resource/resourceName", exit_code=EXIT_USAGE)
    if len(args) > 2:
        raise NetssoError("too many arguments: VERB TYPE[.GROUP][/NAME] | NONRESOURCEURL", exit_code=EXIT_USAGE)
    verb, target = args[0], args[1]
    if not verb or any(ch.isspace() or ch == "/" for ch in verb):
        raise NetssoError(f"invalid verb {verb!r}", exit_code=EXIT_USAGE)
    warnings: list[str] = []
    if target.startswith("/"):
        # cani.go: "NonResourceURL ... --subresource can not be used with NonResourceURL"
        if subresource:
            raise NetssoError("--subresource can not be used with NonResourceURL", exit_code=EXIT_USAGE)
        if verb not in NON_RESOURCE_VERBS:
            warnings.append(f"verb '{verb}' is not a known verb for non-resource URLs")
        return _Parsed(Request(verb=verb, path=target), None, tuple(warnings))
    if verb not in RESOURCE_VERBS:
        warnings.append(f"verb '{verb}' is not a known verb")
    # "TYPE/NAME splits at the first /": pods/log is a pod NAMED log; subresources need --subresource.
    type_part, _, name = target.partition("/")
    if target.count("/") > 1:
        raise NetssoError(f"invalid resource {target!r}: use TYPE[.GROUP][/NAME] and --subresource SUB", exit_code=EXIT_USAGE)
    rt = index.resolve(type_part, warnings)
    ns = "" if all_namespaces else namespace
    if rt.resource == "namespaces" and name and not all_namespaces:
        # "requests on a namespace object carry namespace = its name" (RequestInfoFactory)
        ns = name
    elif rt.resource != "*" and not rt.namespaced and rt.kind:
        if ns_given:
            warnings.append(f"resource '{rt.resource}' is not namespace scoped: checked cluster-wide")
        ns = ""
    req = Request(verb=verb, resource=rt.resource, api_group=rt.group, subresource=subresource or "", name=name, namespace=ns)
    return _Parsed(req, rt, tuple(warnings))


def _request_dict(req: Request) -> dict[str, Any]:
    if not req.is_resource_request:
        return {"nonResourceAttributes": {"path": req.path, "verb": req.verb}}
    attrs: dict[str, Any] = {"verb": req.verb, "group": req.api_group, "resource": req.resource}
    if req.subresource:
        attrs["subresource"] = req.subresource
    if req.name:
        attrs["name"] = req.name
    if req.namespace:
        attrs["namespace"] = req.namespace
    return {"resourceAttributes": attrs}


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
    mapping = _mapping(kw)
    values = _provider_values(kw)
    if kube.as_groups and not kube.as_user and not manifests:
        # kubectl: "requesting uid, groups or user-extra for  without impersonating a user"; offline a group alone
        # is any member of it, as in reach, audit and report
        raise NetssoError("--as-group needs --as USER on a live cluster (the API server impersonates no group without "
                          "a user)", hint="offline (--manifests) a group alone means any member of it",
                          exit_code=EXIT_USAGE)  # fmt: skip
    if output == "wide" and not manifests:
        # wide adds the granting rule and the identity's bindings, which only the offline evaluator knows
        raise NetssoError("-o wide is for offline checks (--manifests): the API server does not say which binding or "
                          "rule decided", exit_code=EXIT_USAGE)  # fmt: skip
    if list_:
        # cani.go Validate: "--list" rejects arguments, -q, -A and --subresource
        if args or quiet or kube.all_namespaces or subresource:
            raise NetssoError("--list does not take arguments, -q, -A or --subresource", exit_code=EXIT_USAGE)
        return _can_i_list(kube, manifests, with_default_roles, values, mapping, output, no_headers)
    if no_headers:
        raise NetssoError("--no-headers is only valid with --list", exit_code=EXIT_USAGE)
    namespace = _namespace(kube)
    snapshot = _offline_snapshot(manifests, with_default_roles) if manifests else None
    if manifests:
        index = _index_for(snapshot)
    else:
        index = _live_index(kube)
    parsed = parse_can_i(args, subresource, namespace, kube.all_namespaces, index, bool(kube.namespace))
    for w in parsed.warnings:
        log.warn(w)
    req = parsed.request
    data: dict[str, Any] = {"request": _request_dict(req), "evaluated": req.describe()}
    if snapshot is not None:
        who = _offline_identity(kube, values, mapping)
        az = Authorizer(snapshot)
        for w in az.model.warnings:
            log.warn(w)
        decision = az.decide(who.identity, req)
        data.update(decision.to_dict())
        data["identity"] = who.to_dict()
        data["source"] = snapshot.source or "manifests"
        if who.token is not None:
            data["nearMisses"] = report_near_misses(who, az.model, [req.namespace] if req.namespace else [])
        allowed: bool = decision.allowed
        reason = decision.reason
    else:
        result = _live_client(kube).access_review(_request_dict(req))
        allowed = bool(result.allowed)
        reason = result.reason or ("allowed (the API server gave no reason)" if allowed else
                                   "no authorizer allowed it (the API server gave no reason)")
        if result.evaluation_error:
            reason += f" (evaluation error: {result.evaluation_error})"
        data.update({"allowed": allowed, "denied": bool(result.denied), "reason": reason,
                     "evaluationError": result.evaluation_error or None, "source": "live"})  # fmt: skip
    if quiet:
        return EXIT_OK if allowed else EXIT_NO
    if not render(data, output):
        answer = style("yes", "green") if allowed else style("no", "red")
        lines = [answer, f"  request: {req.describe()}"]
        if snapshot is not None:
            lines.append(f"  as:      {who.text}")
        lines.append(f"  reason:  {reason}")
        if output == "wide" and snapshot is not None:
            if decision.grant is not None:
                lines.append("  rule:    " + ", ".join(f"{k} {_list_text([repr('') if v == '' else v for v in vals])}"
                                                      for k, vals in rule_to_dict(decision.grant.rule.rule).items()))
            bound = bindings_of(az.model, who.identity, [req.namespace] if req.namespace else [])
            lines.append("  bound:   " + ("; ".join(f"{binding_ref(b)} -> {role_ref(b)}" for b in bound) or
                                          "(no binding applies to this identity here)"))  # fmt: skip
        emit(lines)
    return EXIT_OK if allowed else EXIT_NO


def _live_index(kube: KubeOptions) -> ResourceIndex:
    """Resource names from live discovery (plural, singular, kind, short names), the built-in table as fallback."""
    try:
        resources = _live_client(kube).api_resources()
    except NetssoError as exc:
        log.debug(f"discovery failed ({exc.message}); using the built-in resource table")
        return ResourceIndex(BUILTIN)
    types = [
        ResourceType(r.resource, r.group, r.kind, r.namespaced, tuple(r.short_names), r.kind.lower())
        for r in resources
        if "/" not in r.resource
    ]
    return ResourceIndex(tuple(types) + BUILTIN)


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


def _can_i_list(
    kube: KubeOptions,
    manifests: Sequence[str],
    with_default_roles: bool,
    values: dict[str, object],
    mapping: ClaimMapping,
    output: str,
    no_headers: bool,
) -> int:
    namespace = _namespace(kube)
    incomplete = False
    evaluation_error = ""
    pairs: list[tuple[PolicyRule, str]] = []
    data: dict[str, Any] = {"namespace": namespace}
    if manifests:
        snapshot = _offline_snapshot(manifests, with_default_roles)
        who = _offline_identity(kube, values, mapping)
        az = Authorizer(snapshot)
        grants, errors = az.rules_for(who.identity, namespace)
        for e in errors:
            log.warn(e)
        pairs = [(g.rule.rule, g.describe()) for g in grants]
        data["identity"] = who.to_dict()
        if who.token is not None:
            data["nearMisses"] = report_near_misses(who, az.model, [namespace])
        data["rules"] = [g.to_dict() for g in grants]
        data["errors"] = errors
        data["source"] = snapshot.source or "manifests"
    else:
        review = _live_client(kube).rules_review(namespace)
        incomplete, evaluation_error = bool(review.incomplete), review.evaluation_error
        pairs = [(rule_from_dict(r), "") for r in (*review.resource_rules, *review.non_resource_rules)]
        data["rules"] = [rule_to_dict(p[0]) for p in pairs]
        data["incomplete"] = incomplete
        data["evaluationError"] = evaluation_error or None
        data["source"] = "live"
    if incomplete:
        log.warn(f"the list may be incomplete: {evaluation_error or 'the API server says so (incomplete: true)'}")
    if render(data, output):
        return EXIT_OK
    rows = _breakdown(pairs)
    headers = ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    if output == "wide" and manifests:
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
    mapping = _mapping(kw)
    values = _provider_values(kw)
    namespace = _namespace(kube)
    if kube.all_namespaces:
        namespace = ""
    data: dict[str, Any] = {"namespace": namespace or None}
    decide: Callable[[Request], bool | None]
    if manifests:
        own, snapshot = _offline_snapshots(manifests, with_default_roles)
        who = _offline_identity(kube, values, mapping)
        az = Authorizer(snapshot)
        index = _index_for(own)

        granted: dict[tuple[str, str, str], list[str]] = {}

        def decide(req: Request) -> bool | None:
            decision = az.decide(who.identity, req)
            if decision.allowed:
                via = (f"{binding_ref(decision.grant.binding)} -> {role_ref(decision.grant.binding)}" if decision.grant
                       else "group system:masters (superuser)")  # fmt: skip
                found = granted.setdefault((req.resource, req.api_group, req.subresource), [])
                if via not in found:
                    found.append(via)
            return decision.allowed

        rows = _offline_rows(own, index)
        data["identity"] = who.to_dict()
        data["source"] = snapshot.source or "manifests"
        if who.token is not None:
            data["nearMisses"] = report_near_misses(who, az.model, [namespace] if namespace else None)
    else:
        client = _live_client(kube)
        ns_review = client.rules_review(namespace or "default") if namespace else client.rules_review("")
        cluster_review = client.rules_review("") if namespace else ns_review
        incomplete = bool(ns_review.incomplete or cluster_review.incomplete)
        ns_rules = [rule_from_dict(r) for r in (*ns_review.resource_rules, *ns_review.non_resource_rules)]
        cl_rules = [rule_from_dict(r) for r in (*cluster_review.resource_rules, *cluster_review.non_resource_rules)]

        def decide(req: Request) -> bool | None:
            rules = ns_rules if req.namespace else cl_rules
            if any(rule_allows(r, req) for r in rules):
                return True
            return None if incomplete else False

        index = _live_index(kube)
        rows = _live_rows(index)
        data["source"] = "live"
        data["incomplete"] = incomplete
        if incomplete:
            log.warn("the API server's rules review is incomplete: cells it could not confirm show '?'")
    if extra_resources:
        warnings: list[str] = []
        rows = [index.resolve_with_subresource(r, warnings) for r in extra_resources]
        for w in warnings:
            log.warn(w)
    matrix, risky = build_matrix(rows, namespace, decide)
    data["verbs"] = list(MATRIX_VERBS)
    data["rows"] = [r.to_dict() for r in matrix]
    data["risky"] = [r.to_dict() for r in risky if r.allowed]
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
    if manifests:
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


def _offline_rows(snapshot: Snapshot, index: ResourceIndex) -> list[ResourceType]:
    """The common resources plus every concrete resource the manifests' rules name, in a stable order."""
    rows: list[ResourceType] = []
    seen: set[tuple[str, str]] = set()

    def add(rt: ResourceType) -> None:
        if (rt.group, rt.resource) not in seen:
            seen.add((rt.group, rt.resource))
            rows.append(rt)

    for name in COMMON:
        add(index.resolve(name))
    named: set[tuple[str, str]] = set()
    for role in snapshot.roles:
        for rule in role.rules:
            for g in rule.api_groups:
                for r in rule.resources:
                    if "*" in g or "*" in r or "/" in r:
                        continue
                    named.add((g, r))
    for g, r in sorted(named):
        hits = index.lookup(r, g)
        add(hits[0] if hits else ResourceType(r, g, "", True))
    return rows


def _live_rows(index: ResourceIndex) -> list[ResourceType]:
    """Discovered resources: the common ones first (in COMMON's order), then the rest by group and name."""
    found: dict[tuple[str, str], ResourceType] = {}
    for rt in index.types:
        if rt.kind and (rt.group, rt.resource) not in found:
            found[(rt.group, rt.resource)] = rt
    rows: list[ResourceType] = []
    for name in COMMON:
        base, _, group = name.partition(".")
        if (group, base) in found:
            rows.append(found.pop((group, base)))
    rows.extend(found[k] for k in sorted(found))
    return rows


__all__ = ["can_i", "parse_can_i", "permissions", "whoami"]
