"""What differs between the objects of two snapshots, for diff's causes: policy objects by the label the engines
give them, workloads by namespace/kind/name (live pods as the workload that owns them), namespaces by labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..cluster.snapshot import CalicoPolicy, CiliumPolicy, Snapshot, Workload


def policy_objects(snap: Snapshot) -> dict[str, Any]:
    """Every policy object by the label the engines give it ("NP shop/api-in", "ANP x"), without its file."""
    out: dict[str, Any] = {}
    for p in snap.network_policies:
        out[f"NP {p.namespace}/{p.name}"] = p.spec
    for a in snap.admin_network_policies:
        out[f"{'ANP' if a.kind == 'AdminNetworkPolicy' else 'BANP'} {a.name}"] = a.spec
    others: list[CalicoPolicy | CiliumPolicy] = [*snap.calico_policies, *snap.cilium_policies]
    for c in others:
        where = f"{c.namespace}/{c.name}" if c.namespace else c.name
        out[f"{c.kind} {where}"] = replace(c, source="")
    return out


def changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in sorted(set(a) | set(b)):
        if key not in a:
            out[key] = "added"
        elif key not in b:
            out[key] = "removed"
        elif a[key] != b[key]:
            out[key] = "changed"
    return out


def workload_changes(old: Snapshot, new: Snapshot) -> dict[str, str]:
    a = {w.ref: replace(w, source="") for w in old.workloads}
    b = {w.ref: replace(w, source="") for w in new.workloads}
    out = {k: ("workload " + v if v != "changed" else "workload labels/ports changed") for k, v in changes(a, b).items()}
    na = {n.name: dict(n.labels) for n in old.namespaces}
    nb = {n.name: dict(n.labels) for n in new.namespaces}
    for k, v in changes(na, nb).items():
        out[f"namespace:{k}"] = f"namespace {k} {v if v != 'changed' else 'labels changed'}"
    return out


def by_workload(workloads: Sequence[Workload]) -> tuple[list[Workload], int]:
    """Live pods as the workloads that own them (NS/deployment/NAME, as manifests name them), one pod standing for
    its siblings (the first by name); returns them and how many pods were folded into a sibling."""
    out: dict[str, Workload] = {}
    folded = 0
    for w in sorted(workloads, key=lambda w: (w.namespace, w.name)):
        if w.kind == "Pod" and w.owner:
            kind, _, name = w.owner.partition("/")
            w = replace(w, kind=kind, name=name, owner=None)
        if w.ref in out:
            folded += 1
            continue
        out[w.ref] = w
    return list(out.values()), folded


__all__ = ["by_workload", "changes", "policy_objects", "workload_changes"]
