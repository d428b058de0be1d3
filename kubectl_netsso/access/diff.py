"""Reach and audit findings of two snapshots compared: per identity, the footholds (exec, attach, port-forward,
create pods, ...) it gains or loses and what each can reach now that it could not (and what it lost); the audit
findings that are new and those fixed. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Destination, Finding, Reach, severity_rank

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


def diff_reach(identity: str, old: Sequence[Reach], new: Sequence[Reach]) -> list[ReachChange]:
    """Footholds matched by (kind, target); a foothold only on one side gains or loses all it reaches."""
    before = {(r.foothold.kind, r.foothold.target): r for r in old}
    after = {(r.foothold.kind, r.foothold.target): r for r in new}
    out: list[ReachChange] = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        da = _dest_ports(a.destinations) if a else {}
        db = _dest_ports(b.destinations) if b else {}
        gained, lost = _delta(da, db), _delta(db, da)
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


@dataclass(frozen=True, slots=True)
class FindingsDiff:
    new: tuple[Finding, ...]
    fixed: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"new": [f.to_dict() for f in self.new], "fixed": [f.to_dict() for f in self.fixed]}

    def at_least(self, severity: str) -> list[Finding]:
        return [f for f in self.new if severity_rank(f.severity) >= severity_rank(severity)]


def _finding_key(f: Finding) -> tuple[str, str, str, str]:
    return (f.severity, f.check, f.object, f.reason)


def diff_findings(old: Sequence[Finding], new: Sequence[Finding]) -> FindingsDiff:
    """A finding is the same on both sides when severity, check, object and reason are."""
    a = {_finding_key(f) for f in old}
    b = {_finding_key(f) for f in new}
    return FindingsDiff(tuple(f for f in new if _finding_key(f) not in a), tuple(f for f in old if _finding_key(f) not in b))


__all__ = ["CHANGED_FOOTHOLD", "LOST_FOOTHOLD", "NEW_FOOTHOLD", "FindingsDiff", "ReachChange", "diff_findings", "diff_reach"]
