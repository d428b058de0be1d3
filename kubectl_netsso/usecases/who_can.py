"""who-can: every subject that may do VERB on TYPE[/NAME] (or a non-resource URL), each with the binding -> role ->
rule that grants it, the wildcards it uses, and who could obtain it through an escalation path. Offline from
manifests, live from the listed RBAC objects (a list the user may not read is a gap in the answer, never a silent
omission). TYPE resolution and the request are can-i's (usecases/can_i.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK
from ..rbac.authorize import SUPERUSER_GROUP
from ..rbac.claims import ClaimMapping
from .identity import IdentityInput

if TYPE_CHECKING:
    from ..cluster.snapshot import Snapshot
    from ..rbac.rules import Request
    from ..rbac.whocan import Holder, WhoCan
    from .source import Loaded, Source

RBAC_RESOURCES = ("roles", "rolebindings", "clusterroles", "clusterrolebindings")


@dataclass(frozen=True, slots=True)
class WhoCanInput:
    args: tuple[str, ...]
    subresource: str | None = None
    identity: IdentityInput = IdentityInput()  # provider settings and the API server's claim mapping (token names)
    escalations: bool = True


@dataclass(frozen=True, slots=True)
class Prefixes:
    """The API server's claim prefixes known for this cluster: Group 'oidc:devs' is the token group 'devs'."""

    groups: str = ""
    username: str = ""
    issuer: str = ""

    def token_name(self, holder: Holder) -> str | None:
        from ..rbac.whocan import token_name

        return token_name(holder.subject, self.groups or None, self.username or None)


@dataclass(frozen=True, slots=True)
class WhoCanResult:
    request: Request
    found: WhoCan
    escalations: tuple[Holder, ...]
    scope: str  # "namespace shop", "all namespaces", "cluster-wide"
    gaps: tuple[str, ...]
    source: str
    prefixes: Prefixes = Prefixes()

    @property
    def holders(self) -> tuple[Holder, ...]:
        """Direct holders, ranked: wildcards first (the broadest grants), then cluster-wide before namespaced."""
        return tuple(sorted(self.found.direct, key=rank))

    @property
    def superuser(self) -> tuple[Holder, ...]:
        """system:masters, unless a binding already lists it (its row then says it is the superuser group)."""
        if any(h.subject.name == SUPERUSER_GROUP and h.subject.kind == "Group" for h in self.found.direct):
            return ()
        return tuple(h for h in self.found.holders if h.superuser)

    @property
    def allowed(self) -> bool:
        """Some subject other than system:masters (which always can) holds it."""
        return any(not (h.subject.kind == "Group" and h.subject.name == SUPERUSER_GROUP) for h in self.found.direct)

    @property
    def exit_code(self) -> int:
        """0 some RBAC subject can (system:masters always can: not counted), 1 nobody, 3 nobody seen but some RBAC
        objects could not be read (the answer is incomplete)."""
        if self.allowed:
            return EXIT_OK
        return EXIT_ERROR if self.gaps else EXIT_NO

    def row(self, h: Holder) -> dict[str, Any]:
        out = h.to_dict()
        out["grantedBy"] = h.grant_text()
        if h.subject.kind == "Group" and h.subject.name == SUPERUSER_GROUP:
            out["superuser"] = True
        name = self.prefixes.token_name(h)
        if name is not None:
            out["tokenName"] = name
        return out

    def to_dict(self) -> dict[str, Any]:
        from .can_i import request_dict

        return {
            "request": request_dict(self.request),
            "evaluated": self.request.describe(),
            "scope": self.scope,
            "allowed": self.allowed,
            "subjects": [self.row(h) for h in (*self.holders, *self.superuser)],
            "escalations": [self.row(h) for h in self.escalations],
            "errors": list(self.found.errors),
            "gaps": list(self.gaps),
            "complete": not self.gaps,
            "claimPrefixes": {"groups": self.prefixes.groups or None, "username": self.prefixes.username or None},
            "source": self.source,
        }


def rank(h: Holder) -> tuple[int, int, str, str, str, str]:
    kinds = {"User": 0, "Group": 1, "ServiceAccount": 2}
    s = h.subject
    masters = s.kind == "Group" and s.name == SUPERUSER_GROUP  # always can: last, after the grants that matter
    return (2 if masters else 0 if h.wildcards else 1, 0 if not h.scope else 1, h.scope, str(kinds.get(s.kind, 3)),
            s.namespace or "", s.name)  # fmt: skip


def rbac_gaps(loaded: Loaded) -> list[str]:
    """The RBAC lists the source could not read (403, ...): the answer misses what they would grant."""
    from .source import gap_text

    return [gap_text(g) for g in loaded.snapshot.gaps if g.resource.split(".")[0] in RBAC_RESOURCES]


def prefixes_for(source: Source, identity: IdentityInput) -> Prefixes:
    """The claim prefixes: --groups-prefix / --username-prefix as given; the username prefix the API server defaults
    to ('<issuer>#') when the provider settings are known (flags, NETSSO_*, the context's exec entry)."""
    from ..rbac.claims import effective_username_prefix
    from .identity import provider_settings

    mapping: ClaimMapping = identity.mapping
    issuer = ""
    try:
        settings = provider_settings(source.kube, identity.provider)
    except Exception as exc:  # noqa: BLE001 - token names are an aside: never fail the answer for them
        log.debug(f"no provider settings for the token names: {exc}")
        settings = None
    if settings is not None:
        issuer = settings.issuer_url
    username = ""
    if mapping.username_prefix not in (None, "", "-"):
        username = mapping.username_prefix or ""
    elif issuer and mapping.username_prefix is None:
        username = effective_username_prefix(mapping, issuer)
    return Prefixes(groups=mapping.groups_prefix, username=username, issuer=issuer)


def load_rbac(source: Source, namespaces: Sequence[str] | None) -> tuple[Loaded, Snapshot]:
    """The RBAC objects (live: ClusterRoles, ClusterRoleBindings and the Roles/RoleBindings of the namespaces asked,
    None = all); the snapshot's warnings are printed, the gaps are kept for the answer."""
    from .source import print_warnings

    if source.live:
        loaded = source.load({"rbac"}, lambda _default: list(namespaces) if namespaces is not None else None)
    else:
        loaded = source.load({"rbac"})
    print_warnings(loaded.warnings(cni=False))
    return loaded, loaded.snapshot


def run(inp: WhoCanInput, source: Source) -> WhoCanResult:
    from ..access.footholds import CREATE_ACTIONS
    from ..rbac.authorize import compile_rbac
    from ..rbac.whocan import ReverseIndex, escalations
    from .can_i import index_for, live_index, parse_can_i
    from .source import current_namespace

    kube = source.kube
    namespace = current_namespace(kube)
    if source.live:
        # the request first (discovery names the resource), then only the RBAC objects that can grant it
        parsed = parse_can_i(inp.args, inp.subresource, namespace, kube.all_namespaces, live_index(kube), bool(kube.namespace))
        req = parsed.request
        ns = req.namespace if req.is_resource_request else ""
        # a cluster-wide question (a URL, a cluster-scoped resource): only ClusterRoleBindings can grant it
        loaded, snapshot = load_rbac(source, None if kube.all_namespaces else [ns] if ns else [])
    else:
        loaded, snapshot = load_rbac(source, None)
        parsed = parse_can_i(inp.args, inp.subresource, namespace, kube.all_namespaces, index_for(snapshot),
                             bool(kube.namespace))  # fmt: skip
        req = parsed.request
    for w in parsed.warnings:
        log.warn(w)
    model = compile_rbac(snapshot)
    for w in model.warnings:
        log.warn(w)
    namespaced = req.is_resource_request and (parsed.resource is None or parsed.resource.namespaced or not parsed.resource.kind)
    every_ns: list[str] | None = None
    if kube.all_namespaces and namespaced and not req.namespace:
        every_ns = sorted(set(model.namespaces) | {n.name for n in snapshot.namespaces})
    index = ReverseIndex(model)
    found = index.holders(req, any_name=True, namespaces=every_ns)
    for e in found.errors:
        log.warn(e)
    paths: tuple[Holder, ...] = ()
    if inp.escalations:
        creation = [a.request("") for a in CREATE_ACTIONS if a.verb == "create"]
        paths = tuple(escalations(index, found, creation, every_ns or ()))
    if every_ns is not None:
        scope = "all namespaces"
    elif req.is_resource_request and req.namespace:
        scope = f"namespace {req.namespace}"
    else:
        scope = "cluster-wide"
    gaps = tuple(rbac_gaps(loaded))
    return WhoCanResult(req, found, paths, scope, gaps, loaded.source_text, prefixes_for(source, inp.identity))


__all__ = ["Prefixes", "WhoCanInput", "WhoCanResult", "rank", "rbac_gaps", "run"]
