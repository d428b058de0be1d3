"""diff OLD NEW: what a change opens or closes, and for whom -- connectivity, permissions, reach (the two joined) and
audit findings of two sources compared. A side is a manifests path (file, folder, '-', example:NAME), a Git
revision of the repository you stand in (git:REV or git:REV:PATH) or ``live`` (the cluster of the kube options)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from .source import Loaded, Source

if TYPE_CHECKING:
    from ..access.diff import FindingsDiff, ReachChange
    from ..access.model import Foothold, Reach
    from ..access.reach import ReachEngine
    from ..cluster.snapshot import Snapshot, Subject
    from ..cluster.target import KubeOptions
    from ..netpol.compile import CompiledSnapshot
    from ..netpol.diff import ConnectivityDiff
    from ..rbac.authorize import RbacModel
    from ..rbac.diff import PermissionChange

SECTIONS = ("connectivity", "permissions", "reach", "findings")
RBAC_RESOURCES = ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
SEVERITY_PREFIX = "finding-severity="
FAIL_ON = {
    "any": "any change in any section compared",
    "new-flows": "a flow added, or ports opened on a flow (pod to pod or to/from addresses outside)",
    "removed-flows": "a flow removed, or ports closed on a flow",
    "external-egress": "a new or widened flow from a pod to addresses outside the cluster",
    "external-ingress": "a new or widened flow from addresses outside the cluster into a pod",
    "permissions": "a permission gained by any subject",
    "risky-permissions": "a risky permission gained (secrets, pods/exec, escalate/bind/impersonate, RBAC or NetworkPolicy "
    "writes, ...)",
    "lost-permissions": "a permission lost by any subject",
    "new-reach": "an identity gains a foothold or reaches a destination it could not",
    "new-findings": "an audit finding that is new",
    SEVERITY_PREFIX + "LEVEL": "a new audit finding at LEVEL or above (info, low, medium, high, critical)",
}


def parse_fail_on(values: Iterable[str]) -> tuple[str, ...]:
    """--fail-on, repeatable or comma separated; an unknown category is a usage error."""
    from ..access.model import SEVERITIES

    out: list[str] = []
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            if item.startswith(SEVERITY_PREFIX):
                level = item[len(SEVERITY_PREFIX) :]
                if level not in SEVERITIES:
                    raise NetssoError(f"--fail-on {item}: unknown severity {level!r}",
                                      hint="severities: " + ", ".join(SEVERITIES), exit_code=EXIT_USAGE)  # fmt: skip
            elif item not in FAIL_ON:
                raise NetssoError(f"--fail-on: unknown category {item!r}",
                                  hint="categories: " + ", ".join(FAIL_ON), exit_code=EXIT_USAGE)  # fmt: skip
            if item not in out:
                out.append(item)
    return tuple(out)


def section_of(category: str) -> str | None:
    """The section a --fail-on category reads (None: any)."""
    if category in ("new-flows", "removed-flows", "external-egress", "external-ingress"):
        return "connectivity"
    if category.endswith("permissions"):
        return "permissions"
    if category == "new-reach":
        return "reach"
    if category == "new-findings" or category.startswith(SEVERITY_PREFIX):
        return "findings"
    return None


def parse_sections(values: Iterable[str]) -> tuple[str, ...]:
    out = [s.strip() for v in values for s in v.split(",") if s.strip()]
    for s in out:
        if s not in SECTIONS:
            raise NetssoError(f"--only: unknown section {s!r}", hint="sections: " + ", ".join(SECTIONS), exit_code=EXIT_USAGE)
    return tuple(s for s in SECTIONS if s in out) or SECTIONS


SIDE_HINT = "a side is a folder, a file, '-' (stdin), example:NAME, git:REV[:PATH] or live[:CONTEXT]"


def side_source(text: str, kube: KubeOptions, *, with_default_roles: bool = False, cni: str = "auto") -> Source:
    """One side: ``live`` (or ``live:CONTEXT``), ``git:REV[:PATH]``, or a manifests path (a folder named live: ./live)."""
    if not text:
        raise NetssoError("empty side", hint=SIDE_HINT, exit_code=EXIT_USAGE)
    if text == "live" or text.startswith("live:"):
        # live:CONTEXT: another kubeconfig context than --context's (diff live:staging live:prod)
        context = text[len("live:") :] if text.startswith("live:") else kube.context
        if text.startswith("live:") and not context:
            raise NetssoError("live: without a context", hint="give live or live:CONTEXT", exit_code=EXIT_USAGE)
        return Source(replace(kube, context=context), (), with_default_roles=False, cni=cni)
    if text.startswith("git:"):
        from ..cluster.gitrev import parse

        parse(text)  # a usage error before anything is read
        return Source(kube, (), with_default_roles, cni, revision=text)
    if text != "-" and not text.startswith("example:") and not os.path.lexists(text):
        raise NetssoError(f"{text}: no such file or directory", hint=SIDE_HINT)
    return Source(kube, (text,), with_default_roles, cni)


@dataclass(frozen=True, slots=True)
class DiffInput:
    old: str
    new: str
    sections: tuple[str, ...] = SECTIONS
    fail_on: tuple[str, ...] = ()
    with_default_roles: bool = False
    cni: str = "auto"
    explain: bool = True  # removed flows get NEW's explanation (one evaluation each)


@dataclass(frozen=True, slots=True)
class SideInfo:
    text: str
    source: str
    live: bool
    warnings: tuple[str, ...]
    counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.text, "source": self.source, "live": self.live, "counts": dict(self.counts),
                "warnings": list(self.warnings)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DiffResult:
    old: SideInfo
    new: SideInfo
    sections: tuple[str, ...]
    connectivity: ConnectivityDiff | None
    permissions: tuple[PermissionChange, ...] | None
    reach: tuple[ReachChange, ...] | None
    findings: FindingsDiff | None
    fail_on: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_NO if self.matched else EXIT_OK

    @property
    def warnings(self) -> list[str]:
        return [f"OLD ({self.old.text}): {w}" for w in self.old.warnings] + [
            f"NEW ({self.new.text}): {w}" for w in self.new.warnings
        ]

    def to_dict(self) -> dict[str, Any]:
        from ..rbac.diff import GAINED, LOST

        perms = None
        if self.permissions is not None:
            gained = [p for p in self.permissions if p.change == GAINED]
            perms = {
                "summary": {
                    "gained": len(gained),
                    "lost": sum(1 for p in self.permissions if p.change == LOST),
                    "riskyGained": sum(1 for p in gained if p.risky),
                    "subjects": len({(p.subject.kind, p.subject.namespace, p.subject.name) for p in self.permissions}),
                },
                "changes": [p.to_dict() for p in self.permissions],
            }
        return {
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "sections": list(self.sections),
            "connectivity": self.connectivity.to_dict() if self.connectivity is not None else None,
            "permissions": perms,
            "reach": None if self.reach is None else {"changes": [r.to_dict() for r in self.reach]},
            "findings": self.findings.to_dict() if self.findings is not None else None,
            "notes": list(self.notes),
            "failOn": list(self.fail_on),
            "matched": list(self.matched),
            "changed": self.changed,
        }

    @property
    def changed(self) -> bool:
        return bool(
            (self.connectivity is not None and self.connectivity.changes)
            or self.permissions
            or self.reach
            or (self.findings is not None and (self.findings.new or self.findings.fixed or self.findings.changed))
        )


@dataclass
class _Side:
    text: str
    source: Source
    loaded: Loaded
    compiled: CompiledSnapshot
    engine: ReachEngine | None
    model: RbacModel | None = None
    reach_cache: dict[tuple[str, str, tuple[str, ...]], Reach] = field(default_factory=dict)

    @property
    def snapshot(self) -> Snapshot:
        return self.loaded.snapshot


def _load(text: str, source: Source, sections: Sequence[str]) -> _Side:
    loaded = source.load({"network", "rbac"}, lambda _ns: None, cni=source.live)
    if "reach" in sections or "findings" in sections:
        from ..access.reach import ReachEngine
        from .source import resolve_cni

        engine = ReachEngine(loaded.snapshot, cni=resolve_cni(source.cni, loaded.snapshot, loaded.detected_cni))
        compiled = engine.compiled
        return _Side(text, source, loaded, compiled, engine)
    return _Side(text, source, loaded, source.compile(loaded), None)


def _info(side: _Side) -> SideInfo:
    snap = side.snapshot
    counts = {
        "workloads": len(snap.workloads),
        "networkPolicies": len(snap.network_policies) + len(snap.admin_network_policies) + len(snap.calico_policies)
        + len(snap.cilium_policies),
        "roles": len(snap.roles),
        "bindings": len(snap.bindings),
    }  # fmt: skip
    warnings = side.loaded.warnings(list(side.compiled.warnings) or None, cni=True)
    return SideInfo(side.text, side.loaded.source_text, side.source.live, tuple(warnings), counts)


def run(inp: DiffInput, sources: tuple[Source, Source]) -> DiffResult:
    """Load both sides (each once), compute each section per side with the existing engines, and compare."""
    if inp.old == "-" and inp.new == "-":
        raise NetssoError("only one side can be '-' (stdin)", exit_code=EXIT_USAGE)
    for category in inp.fail_on:
        needs = section_of(category)
        if needs is not None and needs not in inp.sections:
            raise NetssoError(f"--fail-on {category} needs the {needs} section", hint="add it to --only, or leave --only out",
                              exit_code=EXIT_USAGE)  # fmt: skip
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    old = _load(inp.old, sources[0], inp.sections)
    new = _load(inp.new, sources[1], inp.sections)
    timings["load_s"] = time.perf_counter() - t0
    kube = sources[1].kube
    notes: list[str] = []
    conn: ConnectivityDiff | None = None
    flows: ConnectivityDiff | None = None
    perms: tuple[PermissionChange, ...] | None = None
    reach: tuple[ReachChange, ...] | None = None
    findings: FindingsDiff | None = None
    if "connectivity" in inp.sections or "reach" in inp.sections:
        # reach needs to know which workloads' flows changed (their exec footholds reach differently)
        t = time.perf_counter()
        flows = _connectivity(old, new, inp.explain and "connectivity" in inp.sections, notes)
        conn = flows if "connectivity" in inp.sections else None
        timings["connectivity_s"] = time.perf_counter() - t
    if "permissions" in inp.sections or "reach" in inp.sections:
        t = time.perf_counter()
        from ..rbac.authorize import compile_rbac

        old.model, new.model = compile_rbac(old.snapshot), compile_rbac(new.snapshot)
        if "permissions" in inp.sections:
            perms = tuple(_permissions(old, new, kube))
        timings["permissions_s"] = time.perf_counter() - t
    if "reach" in inp.sections:
        t = time.perf_counter()
        assert flows is not None
        reach = tuple(_reach(old, new, kube, flows, flows.changed_policies))
        timings["reach_s"] = time.perf_counter() - t
    if "findings" in inp.sections:
        t = time.perf_counter()
        findings = _findings(old, new, kube)
        timings["findings_s"] = time.perf_counter() - t
    if old.source.live or new.source.live:
        notes.append("live: the SelfSubject reviews are not used; permissions are evaluated from the RBAC objects read")
    for side in (old, new):
        hidden = sorted({g.resource for g in side.snapshot.gaps if g.resource.split(".")[0] in RBAC_RESOURCES})
        if hidden and ("permissions" in inp.sections or "reach" in inp.sections):
            notes.append(f"{side.text} could not read {', '.join(hidden)}: permissions and reach compare partial RBAC "
                         "(what it could not see shows as gained or lost)")  # fmt: skip
    result = DiffResult(_info(old), _info(new), inp.sections, conn, perms, reach, findings, inp.fail_on,
                        notes=tuple(notes), timings=timings)  # fmt: skip
    matched = tuple(c for c in inp.fail_on if _matches(result, c))
    log.debug("diff: " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    return replace(result, matched=matched)


# --- sections --------------------------------------------------------------------------------------------------


def _policy_changes(old: _Side, new: _Side) -> dict[str, str]:
    from .diff_objects import changes, policy_objects

    return changes(policy_objects(old.snapshot), policy_objects(new.snapshot))


def _connectivity(old: _Side, new: _Side, explain: bool, notes: list[str]) -> ConnectivityDiff:
    from ..netpol.diff import diff_atoms, diff_connectivity, side_flows
    from .diff_objects import by_workload, workload_changes

    sides = []
    for side in (old, new):
        workloads = list(side.snapshot.workloads)
        if side.source.live:
            workloads, folded = by_workload(workloads)
            if folded:
                notes.append(f"{side.text}: {folded} pods compared as the workload that owns them (one pod for its "
                             "siblings: matched by namespace/kind/name with the other side)")  # fmt: skip
        sides.append(workloads)
    atoms = diff_atoms(old.compiled, new.compiled, sides[0], sides[1])
    a = side_flows(old.compiled, sides[0], atoms)
    b = side_flows(new.compiled, sides[1], atoms)
    policies = _policy_changes(old, new)
    snaps = [replace(s.snapshot, workloads=tuple(ws)) for s, ws in zip((old, new), sides, strict=True)]
    return diff_connectivity(a, b, atoms, policies, workload_changes(*snaps), explain=explain)


def _subjects(old: _Side, new: _Side, kube: KubeOptions) -> list[Subject]:
    from ..cluster.snapshot import Subject
    from ..rbac.authorize import Authorizer
    from ..rbac.diff import subject_sort_key

    if kube.as_user or kube.as_groups:
        focus = [Subject("User", kube.as_user)] if kube.as_user else []
        return focus + [Subject("Group", g) for g in kube.as_groups]
    assert old.model is not None and new.model is not None
    found = set(Authorizer(old.model).subjects()) | set(Authorizer(new.model).subjects())
    return sorted(found, key=subject_sort_key)


def _namespaces(old: _Side, new: _Side) -> list[str]:
    from ..access.footholds import namespaces_in

    assert old.model is not None and new.model is not None
    found = set(namespaces_in(old.snapshot)) | set(namespaces_in(new.snapshot))
    return sorted(found | set(old.model.namespaces) | set(new.model.namespaces))


def _permissions(old: _Side, new: _Side, kube: KubeOptions) -> list[PermissionChange]:
    from ..rbac.diff import diff_permissions

    assert old.model is not None and new.model is not None
    namespaces = [kube.namespace] if kube.namespace else _namespaces(old, new)
    return diff_permissions(old.model, new.model, _subjects(old, new, kube), namespaces)


def _reach(
    old: _Side,
    new: _Side,
    kube: KubeOptions,
    conn: ConnectivityDiff | None,
    changed_policies: Mapping[str, str],
) -> list[ReachChange]:
    """Per identity (--as/--as-group, else every user and group bound on either side): its footholds on each side,
    and the reach of those that may differ (access.diff.affected_footholds), compared."""
    from ..access.diff import affected_footholds, diff_reach
    from ..access.footholds import RbacPermissions, by_namespace, derive_footholds
    from ..rbac.authorize import Authorizer, bindings_of
    from .identity import GROUP_MEMBER

    assert old.model is not None and new.model is not None and old.engine is not None and new.engine is not None
    scope = [kube.namespace] if kube.namespace else _namespaces(old, new)
    if kube.as_user or kube.as_groups:
        who = [(kube.as_user or "", tuple(kube.as_groups))]
    else:
        who = [(s.name, ()) if s.kind == "User" else ("", (s.name,)) for s in _subjects(old, new, kube)
               if s.kind in ("User", "Group")]  # fmt: skip
    sources = {ref for c in (conn.changes if conn is not None else ()) for ref in c.sources if not ref.startswith("ip:")}
    # a new pod in N reaches differently when a flow from N changed or a policy changed (it may trust labels no
    # workload wears yet)
    create_ns = {ref.split("/", 1)[0] for ref in sources} | (set(scope) if changed_policies else set())
    az_old, az_new = Authorizer(old.model), Authorizer(new.model)
    index_old, index_new = by_namespace(old.snapshot), by_namespace(new.snapshot)
    todo: list[tuple[str, list[Foothold], list[Foothold]]] = []
    for user, groups in who:
        label = f"user {user}" if user else "group " + ", ".join(groups)
        if user and groups:
            label += " (groups " + ", ".join(groups) + ")"
        pa, pb = RbacPermissions(az_old, user or GROUP_MEMBER, groups), RbacPermissions(az_new, user or GROUP_MEMBER, groups)
        # footholds exist only where a binding applies: the namespaces of its RoleBindings, all with a ClusterRoleBinding
        bound = {b.namespace for b in (*bindings_of(old.model, pa.ident), *bindings_of(new.model, pb.ident))}
        mine = scope if None in bound else [ns for ns in scope if ns in bound]
        if not mine:
            continue
        fa = derive_footholds(old.snapshot, pa, mine, index_old)
        fb = derive_footholds(new.snapshot, pb, mine, index_new)
        fa, fb = affected_footholds(fa, fb, sources, create_ns)
        if fa or fb:
            todo.append((label, fa, fb))
    out: list[ReachChange] = []
    # the Reach results are shared among identities (reach_of): their ports read and compared once
    memo: dict[int, Any] = {}
    deltas: dict[tuple[int, int], Any] = {}
    for label, fa, fb in todo:
        out += diff_reach(label, [reach_of(old, f) for f in fa], [reach_of(new, f) for f in fb], memo, deltas)
    return out


def reach_of(side: _Side, foothold: Foothold) -> Reach:
    """What a foothold reaches depends on its kind, target and actions, not on whose it is: computed once a side."""
    assert side.engine is not None
    # a new pod's reach (CREATE) and a NetworkPolicy writer's do not depend on the verbs; exec vs port-forward does
    key = (foothold.kind, foothold.target, foothold.actions if foothold.kind == "pod" else ())
    hit = side.reach_cache.get(key)
    if hit is None:
        hit = side.reach_cache[key] = side.engine.reach(foothold)
    return hit if hit.foothold == foothold else replace(hit, foothold=foothold)


def _findings(old: _Side, new: _Side, kube: KubeOptions) -> FindingsDiff:
    from ..access.audit import audit
    from ..access.diff import diff_findings
    from ..access.footholds import namespaces_in
    from ..rbac.authorize import Authorizer

    def findings(side: _Side, scope: list[str]) -> list[Any]:
        snap = side.snapshot
        az = Authorizer(side.model if side.model is not None else snap) if (snap.roles or snap.bindings) else None
        assert side.engine is not None
        return audit(side.engine, authorizer=az, namespaces=scope, cni_warning=side.loaded.cni_warning)

    scope = [kube.namespace] if kube.namespace else sorted(set(namespaces_in(old.snapshot)) | set(namespaces_in(new.snapshot)))
    return diff_findings(findings(old, scope), findings(new, scope))


# --- --fail-on -------------------------------------------------------------------------------------------------


def _matches(result: DiffResult, category: str) -> bool:
    from ..netpol.diff import ADDED, CHANGED, REMOVED
    from ..rbac.diff import GAINED, LOST

    conn = result.connectivity.changes if result.connectivity is not None else ()
    perms = result.permissions or ()
    if category == "any":
        return result.changed
    if category == "new-flows":
        return any(c.kind == ADDED or (c.kind == CHANGED and c.gained) for c in conn)
    if category == "removed-flows":
        return any(c.kind == REMOVED or (c.kind == CHANGED and c.lost) for c in conn)
    if category in ("external-egress", "external-ingress"):
        direction = category.split("-")[1]
        return any(c.external == direction and c.gained for c in conn)
    if category == "permissions":
        return any(p.change == GAINED for p in perms)
    if category == "risky-permissions":
        return any(p.change == GAINED and p.risky for p in perms)
    if category == "lost-permissions":
        return any(p.change == LOST for p in perms)
    if category == "new-reach":
        return any(r.gained or r.change == "new-foothold" for r in result.reach or ())
    if category == "new-findings":
        return bool(result.findings and result.findings.new)
    if category.startswith(SEVERITY_PREFIX):
        return bool(result.findings and result.findings.at_least(category[len(SEVERITY_PREFIX) :]))
    return False


__all__ = [
    "FAIL_ON", "SECTIONS", "DiffInput", "DiffResult", "SideInfo", "parse_fail_on", "parse_sections",
    "run", "side_source",
]  # fmt: skip
