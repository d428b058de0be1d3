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


@pytest.mark.parametrize(("seed", "pod_ips"), [(7, False), (8, True), (9, False)])
def test_sources_of_one_signature_reach_alike_so_create_reach_skips_repeats(tmp_path: Path, seed: int, pod_ips: bool) -> None:
    """Create-pod reach tries each bitset signature (egress policies selecting the pod, ingress rules admitting it)
    once: every label set of a signature reaches the same (the per-pair engine says so), and the skipping union
    equals the per-pair engine's union over every label set, destination by destination (labels and ports too)."""
    from kubectl_netsso.access.model import CREATE, Foothold

    generate(str(tmp_path), namespaces=5, pods=80, policies=70, replicas=2, seed=seed, ipblock_pod_ips=pod_ips)
    snap = load_snapshot([str(tmp_path)])
    fast, slow = ReachEngine(snap), ReachEngine(snap)
    slow.use_fast = False
    index = fast._fast_index()
    assert index is not None
    repeats = 0
    for ns in sorted({w.namespace for w in snap.workloads}):
        by_sig: dict[object, set[tuple[str, tuple[str, ...]]]] = {}
        for labels in fast.candidate_label_sets(ns):
            peer = slow.compiled.selector_peer(ns, labels)
            found, _ = slow.reach_from_peer(peer)
            got = {(d.ref, d.ports) for d in found}
            sig = index.signature(fast.compiled.selector_peer(ns, labels))
            if sig in by_sig:
                repeats += 1
                assert by_sig[sig] == got, (ns, labels)
            by_sig[sig] = got
        fh = Foothold(CREATE, ns, f"{ns}/*", ())
        a, b = fast.reach(fh), slow.reach(fh)
        assert a.destinations == b.destinations and (a.risk, a.risk_reason, a.unknown) == (b.risk, b.risk_reason, b.unknown), ns
    assert repeats > 0  # the skip was exercised
