"""The bitset reach engine agrees with the per-pair NetworkPolicy engine (the reference) on generated clusters."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import REPO

from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.cluster.manifests import load_snapshot

sys.path.insert(0, str(REPO / "benchmarks"))

from gencluster import generate  # noqa: E402


def _compare(snap: object) -> int:
    fast = ReachEngine(snap)  # type: ignore[arg-type]
    slow = ReachEngine(snap)  # type: ignore[arg-type]
    slow.use_fast = False
    rows = 0
    for w in fast.snapshot.workloads:
        f, fu = fast.reach_from_peer(fast.compiled.peer(w))
        s, su = slow.reach_from_peer(slow.compiled.peer(w))
        assert {(d.ref, d.ports) for d in f} == {(d.ref, d.ports) for d in s}, w.ref
        assert fu == su == 0
        rows += len(s)
    # hypothetical pods (create-pod footholds) too
    for ns in sorted({w.namespace for w in fast.snapshot.workloads})[:3]:
        for labels in fast.candidate_label_sets(ns)[:8]:
            f, _ = fast.reach_from_peer(fast.compiled.selector_peer(ns, labels))
            s, _ = slow.reach_from_peer(slow.compiled.selector_peer(ns, labels))
            assert {(d.ref, d.ports) for d in f} == {(d.ref, d.ports) for d in s}, (ns, labels)
    assert fast._fast is not None
    return rows


@pytest.mark.parametrize(
    ("seed", "namespaces", "pods", "policies", "pod_ips"),
    [(1, 5, 60, 30, False), (2, 8, 150, 90, False), (3, 4, 80, 60, True), (4, 6, 100, 120, True)],
)
def test_fast_engine_equals_pairwise_engine(
    tmp_path: Path, seed: int, namespaces: int, pods: int, policies: int, pod_ips: bool
) -> None:
    generate(str(tmp_path), namespaces=namespaces, pods=pods, policies=policies, replicas=2, seed=seed, ipblock_pod_ips=pod_ips)
    assert _compare(load_snapshot([str(tmp_path)])) > 0


def test_fast_engine_on_the_shop() -> None:
    # the shop mixes pods with and without declared ports (the CronJob): both paths at once
    assert _compare(load_snapshot([str(REPO / "examples" / "shop")])) > 0


@pytest.mark.parametrize("seed", [5, 6])
def test_create_pod_reach_covers_every_existing_pod_of_the_namespace(tmp_path: Path, seed: int) -> None:
    """Whoever may create pods may copy any existing pod's labels: the create-pod union is a superset."""
    from kubectl_netsso.access.model import CREATE, Foothold

    generate(str(tmp_path), namespaces=4, pods=60, policies=50, replicas=2, seed=seed)
    engine = ReachEngine(load_snapshot([str(tmp_path)]))
    for ns in sorted({w.namespace for w in engine.snapshot.workloads}):
        union = engine.reach(Foothold(CREATE, ns, f"{ns}/*", ()))
        reached = {(d.ref, p) for d in union.destinations for p in d.ports}
        for w in engine.snapshot.workloads:
            if w.namespace != ns:
                continue
            own, _ = engine.reach_from_peer(engine.compiled.peer(w), exclude=(w.ref,))
            assert {(d.ref, p) for d in own for p in d.ports} <= reached, (ns, w.ref)
