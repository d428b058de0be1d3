"""What the renderers read: the shape of a `paths` run (per pair, and the compact rules) with its rows, and of a
`can-reach` answer.

The results are built above this package (the command or its use case); renderers see them through these
protocols and records, so output/ imports nothing from the layers that call it. Names are exactly as the table
and can-reach write them (NS/NAME for a pod, NS/kind/NAME for a workload): a name from any output can be given back
as an endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.compact import CompactResult
    from ..netpol.endpoints import Endpoint
    from ..netpol.external import ExternalFlow
    from ..netpol.model import Direction, DirectionVerdict, Verdict
    from ..netpol.pairs import PairResult
    from ..netpol.paths import PathsResult

__all__ = [
    "CanReachView",
    "DocumentView",
    "CompactView",
    "PairBlock",
    "PathsView",
    "PortKeyLike",
    "all_rows",
    "decider",
    "diff_titles",
    "external_row",
    "findings_rows",
    "group",
    "iter_rows",
    "path_row",
    "reach_rows",
    "ref",
    "subject_text",
    "workloads_map",
]


class PortKeyLike(Protocol):
    @property
    def port(self) -> int | str | None: ...
    @property
    def protocol(self) -> str: ...
    @property
    def text(self) -> str: ...


class PairBlock(Protocol):
    """One port/protocol of a run: the engine's class bitsets and pair lookups (i: source, j: destination in block)."""

    @property
    def result(self) -> PathsResult: ...
    @property
    def sources(self) -> Sequence[Workload]: ...
    @property
    def destinations(self) -> Sequence[Workload]: ...
    def allowed(self, i: int, j: int) -> bool | None: ...
    def directions(self, i: int, j: int) -> tuple[bool | None, bool | None]: ...
    def evidence(self, i: int, j: int) -> Verdict: ...
    def resolved_port(self, j: int, port: int | str | None, protocol: str) -> int | None: ...
    def index_of(self, dest_index: int, dst_idx: Sequence[int]) -> int | None: ...
    def selecting(self, direction: Direction, index: int) -> tuple[str, ...]: ...


class PathsView(Protocol):
    """A per-pair run: the pods/workloads in scope and a verdict per (source, destination, port)."""

    @property
    def sources(self) -> Sequence[Workload]: ...
    @property
    def destinations(self) -> Sequence[Workload]: ...
    @property
    def blocks(self) -> Sequence[tuple[PortKeyLike, Sequence[int], PairBlock]]: ...
    @property
    def scope_ns(self) -> str | None: ...  # -n NS: only flows into or out of NS
    @property
    def warnings(self) -> Sequence[str]: ...
    @property
    def external(self) -> Sequence[tuple[str, Workload, ExternalFlow]]: ...  # (direction, workload, flow)
    def in_scope(self, a: Workload, b: Workload) -> bool: ...  # whether a flow a -> b is in the run's scope


@dataclass(frozen=True, slots=True)
class CompactView:
    """`paths --compact`: the grouped rules and the warnings that go with them."""

    result: CompactResult
    warnings: Sequence[str]


@dataclass(frozen=True, slots=True)
class CanReachView:
    """`can-reach`: its JSON document, the pod pairs behind it and the two ends as resolved."""

    data: Mapping[str, Any]
    pairs: Sequence[PairResult]
    source: Endpoint
    destination: Endpoint
    port: int | str | None  # as asked (None: any port)

    def to_dict(self) -> Mapping[str, Any]:
        return self.data


def ref(w: Workload) -> str:
    return w.ref


def group(w: Workload) -> str:
    """The workload a pod belongs to (live pods carry their owner), else the object itself, as NS/kind/NAME."""
    if w.kind == "Pod" and w.owner:
        kind, _, name = w.owner.partition("/")
        return f"{w.namespace}/{kind.lower()}/{name}"
    return w.ref


def iter_rows(run: PathsView) -> Iterator[tuple[int, int, PortKeyLike, PairBlock]]:
    """(source index, destination index in block, port, block) for every pair in scope: by source, destination, port."""
    for s_i, s in enumerate(run.sources):
        rows = []
        for b, (key, dst_idx, block) in enumerate(run.blocks):
            for j, d_i in enumerate(dst_idx):
                if run.in_scope(s, run.destinations[d_i]):
                    rows.append((d_i, b, j, key, block))
        rows.sort(key=lambda r: (r[0], r[1]))
        for _d_i, _b, j, key, block in rows:
            yield s_i, j, key, block


def path_row(s: Workload, d: Workload, key: PortKeyLike, block: PairBlock, s_i: int, j: int) -> dict[str, Any]:
    """One per-pair row of the JSON contract."""
    eg, ing = block.directions(s_i, j)
    item: dict[str, Any] = {
        "from": ref(s),
        "to": ref(d),
        "port": key.port,
        "protocol": key.protocol,
        "allowed": block.allowed(s_i, j),
        "egress": {"allowed": eg},
        "ingress": {"allowed": ing},
    }
    rp = block.resolved_port(j, key.port, key.protocol)
    if rp is not None:
        item["resolvedPort"] = rp
    return item


def _resolved(w: Workload, port: int | str | None, protocol: str) -> int | None:
    if not isinstance(port, str):
        return None
    for cp in w.ports:
        if cp.name == port and cp.protocol.upper() == protocol:
            return int(cp.port)
    return None


def external_row(direction: str, w: Workload, f: ExternalFlow) -> dict[str, Any]:
    """One per-pair row to or from addresses outside the cluster: the external end is ``ip:BLOCKS``, and the same
    addresses as data in ipBlocks."""
    row: dict[str, Any] = {
        "from": ref(w) if direction == "egress" else f.ref,
        "to": f.ref if direction == "egress" else ref(w),
        "port": f.port,
        "protocol": f.protocol,
        "allowed": f.allowed,
        "egress": {"allowed": f.egress},
        "ingress": {"allowed": f.ingress},
    }
    rp = _resolved(w, f.port, f.protocol) if direction == "ingress" else None
    if rp is not None:
        row["resolvedPort"] = rp
    row["ipBlocks"] = [b.to_dict() for b in f.blocks]
    return row


def all_rows(run: PathsView) -> Iterator[dict[str, Any]]:
    """Every row of the per-pair contract, pods first, then the external ones (what csv, markdown and yaml list)."""
    for s_i, j, key, block in iter_rows(run):
        yield path_row(run.sources[s_i], block.destinations[j], key, block, s_i, j)
    for direction, w, flow in run.external:
        yield external_row(direction, w, flow)


def workloads_map(run: PathsView) -> dict[str, dict[str, Any]]:
    """The "workloads" map: kind and the policies selecting each pod/workload per direction (None: not computed)."""
    out: dict[str, dict[str, Any]] = {}
    for idx, w in enumerate(run.sources):
        entry = out.setdefault(ref(w), {"kind": w.kind, "egress": None, "ingress": None})
        if run.blocks:
            entry["egress"] = list(run.blocks[0][2].selecting("egress", idx))
    for d_i, w in enumerate(run.destinations):
        entry = out.setdefault(ref(w), {"kind": w.kind, "egress": None, "ingress": None})
        for _key, dst_idx, block in run.blocks:
            j = block.index_of(d_i, dst_idx)
            if j is not None:
                entry["ingress"] = list(block.selecting("ingress", j))
                break
    return out


def decider(d: DirectionVerdict) -> str:
    """Short text for -o wide: the deciding rule, or why there is none."""
    if d.unknown_reason:
        return "unknown: " + d.unknown_reason
    if d.decided_by is not None:
        return d.decided_by.describe()
    if d.allowed and "always allowed" in (d.reason or ""):
        return d.reason  # a pod to itself, a pod and its own node: no policy decides
    if not d.selecting:
        return "not isolated (no policy)" if d.allowed else d.reason
    if d.allowed is False:
        return "no rule allows (" + ", ".join(p.split(" ", 1)[-1] for p in d.selecting) + ")"
    return d.reason


class DocumentView(Protocol):
    """A result its renderers read through its documented JSON (who-can, who-can-reach)."""

    def to_dict(self) -> Mapping[str, Any]: ...
# --- diff (its documented JSON) -------------------------------------------------------------------------------


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def diff_titles(data: Mapping[str, Any]) -> dict[str, str]:
    """The one-line summary of each section present in a diff document (table and markdown headings)."""
    titles: dict[str, str] = {}
    if (conn := data.get("connectivity")) is not None:
        sm = conn["summary"]
        titles["connectivity"] = (
            f"{_n(sm['addedPairs'], 'new flow')}, {sm['removedPairs']} removed, {sm['changedPairs']} with changed ports"
            " (pod pairs)" + (f", {sm['unknownPairs']} whose unknown ports changed" if sm["unknownPairs"] else "")
        )
    if (perms := data.get("permissions")) is not None:
        sm = perms["summary"]
        titles["permissions"] = f"{sm['gained']} gained ({sm['riskyGained']} risky), {sm['lost']} lost"
    if (reach := data.get("reach")) is not None:
        who = len({r["identity"] for r in reach["changes"]})
        verb = "reaches" if len(reach["changes"]) == 1 else "reach"
        titles["reach"] = f"{_n(len(reach['changes']), 'foothold')} of {_n(who, 'identity', 'identities')} {verb} differently"
    if (findings := data.get("findings")) is not None:
        titles["findings"] = f"{len(findings['new'])} new, {len(findings['fixed'])} fixed, {len(findings['changed'])} changed"
    return titles


def findings_rows(findings: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """("new", finding), ("fixed", finding), ("changed", the finding as it is now), in that order."""
    rows = [("new", f) for f in findings["new"]] + [("fixed", f) for f in findings["fixed"]]
    return rows + [("changed", c["after"]) for c in findings["changed"]]


def subject_text(subject: Mapping[str, Any]) -> str:
    """An RBAC subject of the diff JSON as text: "group oidc:devs", "serviceaccount shop/ci"."""
    if subject["kind"] == "ServiceAccount":
        return f"serviceaccount {subject['namespace']}/{subject['name']}"
    return f"{subject['kind'].lower()} {subject['name']}"


def reach_rows(changes: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """Reach changes grouped by what changed (foothold, destinations gained and lost): (identities, change,
    foothold, now reachable, no longer reachable) -- many groups often share one foothold's new reach."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for r in changes:
        gained = ", ".join(f"{g['to']} {g['ports']}" for g in r["gained"])
        lost = ", ".join(f"{g['to']} {g['ports']}" for g in r["lost"])
        who = groups.setdefault((r["change"], r["foothold"]["display"], gained, lost), [])
        if r["identity"] not in who:
            who.append(r["identity"])
    return [(", ".join(who), change, foothold, gained, lost) for (change, foothold, gained, lost), who in groups.items()]
