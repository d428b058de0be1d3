"""Reach and audit findings of two snapshots compared: per identity, the footholds (exec, attach, port-forward,
create pods, ...) it gains or loses and what each can reach now that it could not (and what it lost); the audit
findings that are new and those fixed. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import CREATE, POD, Destination, Finding, Foothold, Reach, severity_rank

NEW_FOOTHOLD, LOST_FOOTHOLD, CHANGED_FOOTHOLD = "new-foothold", "lost-foothold", "changed"


@dataclass(frozen=True, slots=True)
class ReachChange:
    """One foothold of one identity whose reach differs: destinations gained / lost with their ports."""

    identity: str  # "group oidc:contractors", "user alice"
    change: str  # new-foothold | lost-foothold | changed
    foothold: str  # its display: "pod shop/deployment/api", "new pods in shop"
    kind: str
    namespace: str
    actions: tuple[str, ...]
    via: tuple[str, ...]  # the grants on the side that has the foothold (NEW unless lost)
    gained: tuple[tuple[str, str], ...]  # (destination, ports text) reachable now, not before
    lost: tuple[tuple[str, str], ...]
    risk_before: str | None
    risk_after: str | None

    @property
    def sentence(self) -> str:
        """"group contractors: exec into pod shop/deployment/api (new), from which payments/... 5432/TCP becomes
        reachable"."""
        what = {NEW_FOOTHOLD: "now", LOST_FOOTHOLD: "no longer", CHANGED_FOOTHOLD: "still"}[self.change]
        text = f"{self.identity} can {what} {', '.join(self.actions) or 'act'} on {self.foothold}"
        if self.gained:
            shown = ", ".join(f"{d} {p}".strip() for d, p in self.gained[:3])
            more = f" (+{len(self.gained) - 3} more)" if len(self.gained) > 3 else ""
            text += f", from which {shown}{more} {'becomes' if len(self.gained) == 1 else 'become'} reachable"
        if self.lost:
            shown = ", ".join(f"{d} {p}".strip() for d, p in self.lost[:3])
            more = f" (+{len(self.lost) - 3} more)" if len(self.lost) > 3 else ""
            text += f"{';' if self.gained else ','} {shown}{more} no longer reachable from it"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "change": self.change,
            "foothold": {"kind": self.kind, "namespace": self.namespace, "display": self.foothold},
            "actions": list(self.actions),
            "via": list(self.via),
            "gained": [{"to": d, "ports": p} for d, p in self.gained],
            "lost": [{"to": d, "ports": p} for d, p in self.lost],
            "riskBefore": self.risk_before,
            "riskAfter": self.risk_after,
            "text": self.sentence,
        }


def _dest_ports(dests: Sequence[Destination]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for d in dests:
        out.setdefault(d.ref, set()).update(d.ports or ("any",))
    return {k: frozenset(v) for k, v in out.items()}


def _delta(a: Mapping[str, frozenset[str]], b: Mapping[str, frozenset[str]]) -> tuple[tuple[str, str], ...]:
    """What b reaches that a does not: whole destinations, or the ports added to one."""
    out = []
    for ref in sorted(b):
        extra = b[ref] - a.get(ref, frozenset())
        if extra:
            out.append((ref, ",".join(sorted(extra))))
    return tuple(out)


Delta = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def diff_reach(
    identity: str,
    old: Sequence[Reach],
    new: Sequence[Reach],
    memo: dict[int, Mapping[str, frozenset[str]]] | None = None,
    deltas: dict[tuple[int, int], Delta] | None = None,
) -> list[ReachChange]:
    """Footholds matched by (kind, target); a foothold only on one side gains or loses all it reaches. memo: the
    destinations' ports by id of a destinations tuple, deltas: (gained, lost) by the ids of both sides' tuples, for
    callers that share Reach results among identities (and keep them alive while they call)."""
    before = {(r.foothold.kind, r.foothold.target): r for r in old}
    after = {(r.foothold.kind, r.foothold.target): r for r in new}
    seen: dict[int, Mapping[str, frozenset[str]]] = memo if memo is not None else {}
    known: dict[tuple[int, int], Delta] = deltas if deltas is not None else {}

    def ports(r: Reach | None) -> Mapping[str, frozenset[str]]:
        if r is None:
            return {}
        hit = seen.get(id(r.destinations))
        if hit is None:
            hit = seen[id(r.destinations)] = _dest_ports(r.destinations)
        return hit

    out: list[ReachChange] = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        pair = (id(a.destinations) if a else 0, id(b.destinations) if b else 0)
        hit = known.get(pair)
        if hit is None:
            da, db = ports(a), ports(b)
            hit = known[pair] = (_delta(da, db), _delta(db, da))
        gained, lost = hit
        if a is not None and b is not None:
            if not gained and not lost and a.any_destination == b.any_destination:
                continue
            change = CHANGED_FOOTHOLD
        else:
            change = NEW_FOOTHOLD if a is None else LOST_FOOTHOLD
        ref = b if b is not None else a
        assert ref is not None
        fh = ref.foothold
        out.append(ReachChange(
            identity, change, fh.display, fh.kind, fh.namespace, fh.actions, fh.obtained, gained, lost,
            a.risk if a else None, b.risk if b else None,
        ))  # fmt: skip
    return out


def affected_footholds(
    old: Sequence[Foothold], new: Sequence[Foothold], changed_sources: set[str], create_namespaces: set[str]
) -> tuple[list[Foothold], list[Foothold]]:
    """The footholds whose reach may differ, on each side: those on one side only or with other access, pod
    footholds whose pods are the source of a changed flow, create-pod footholds in ``create_namespaces`` (where a
    changed policy can change what a new pod reaches). The others reach the same on both sides and are not
    evaluated again."""

    def key(f: Foothold) -> tuple[str, str]:
        return (f.kind, f.target)

    a = {key(f): f for f in old}
    b = {key(f): f for f in new}

    def moved(f: Foothold) -> bool:
        k = key(f)
        if k not in a or k not in b or a[k].access != b[k].access:
            return True
        if f.kind == POD:
            return f.target in changed_sources or any(w.ref in changed_sources for w in f.workloads)
        return f.kind == CREATE and f.namespace in create_namespaces

    return [f for f in old if moved(f)], [f for f in new if moved(f)]


@dataclass(frozen=True, slots=True)
class FindingsDiff:
    """Findings matched by check, object and namespace: new, fixed, and changed (same finding, another severity or
    reason: e.g. it now reaches more)."""

    new: tuple[Finding, ...]
    fixed: tuple[Finding, ...]
    changed: tuple[tuple[Finding, Finding], ...] = ()  # (before, after)

    def to_dict(self) -> dict[str, Any]:
        return {
            "new": [f.to_dict() for f in self.new],
            "fixed": [f.to_dict() for f in self.fixed],
            "changed": [{"before": a.to_dict(), "after": b.to_dict()} for a, b in self.changed],
        }

    def at_least(self, severity: str) -> list[Finding]:
        """New findings at or above severity, and changed ones that rose to it."""
        rank = severity_rank(severity)
        out = [f for f in self.new if severity_rank(f.severity) >= rank]
        out += [b for a, b in self.changed if severity_rank(b.severity) >= rank > severity_rank(a.severity)]
        return out


def finding_key(f: Finding) -> tuple[str, str, str]:
    return (f.check, f.object, str(f.details.get("namespace", "")) if f.details else "")


def diff_findings(old: Sequence[Finding], new: Sequence[Finding]) -> FindingsDiff:
    a: dict[tuple[str, str, str], list[Finding]] = {}
    for f in old:
        a.setdefault(finding_key(f), []).append(f)
    b: dict[tuple[str, str, str], list[Finding]] = {}
    for f in new:
        b.setdefault(finding_key(f), []).append(f)
    added: list[Finding] = []
    fixed: list[Finding] = []
    changed: list[tuple[Finding, Finding]] = []
    for key in [*a, *(k for k in b if k not in a)]:
        before, after = a.get(key, []), b.get(key, [])
        same = [f for f in after if f in before]
        before = [f for f in before if f not in same]
        after = [f for f in after if f not in same]
        pairs = min(len(before), len(after))
        changed += list(zip(before[:pairs], after[:pairs], strict=True))
        fixed += before[pairs:]
        added += after[pairs:]
    return FindingsDiff(tuple(added), tuple(fixed), tuple(changed))


__all__ = [
    "CHANGED_FOOTHOLD", "LOST_FOOTHOLD", "NEW_FOOTHOLD", "FindingsDiff", "ReachChange", "affected_footholds",
    "diff_findings", "diff_reach", "finding_key",
]  # fmt: skip
