"""Issue 12 item 4: reach and audit with Calico's and Cilium's own policies (the examples folders): what a pod reaches
follows the CNI's semantics, outside ranges included, and a namespace policed only by a CNI's policies is not
reported as having no policy."""

from __future__ import annotations

import json
import os
import subprocess

from cli.test_cni_never_silent import EXE
from helpers import REPO

from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.cluster.manifests import load_snapshot

ROOT = REPO


def _engine(example: str) -> ReachEngine:
    return ReachEngine(load_snapshot([str(ROOT / "examples" / example)]))


def _reach(engine: ReachEngine, namespace: str, name: str) -> dict[str, tuple[str, ...]]:
    w = next(w for w in engine.snapshot.workloads if (w.namespace, w.name) == (namespace, name))
    found, _unknown = engine.reach_from_peer(engine.compiled.peer(w))
    return {d.ref: d.ports for d in found}


def test_reach_with_calico_policies() -> None:
    engine = _engine("calico-shop")
    assert engine.compiled.cni == "calico"
    api = _reach(engine, "orders", "api")
    assert api["orders/statefulset/postgres"] == ("postgres=5432/TCP",)
    assert "storefront/deployment/web" not in api  # deny-app-policy: no rule allows it
    assert api["ip:198.51.100.0/24"] == ("443/TCP",)  # the payment gateway, a GlobalNetworkSet selected by label
    assert "ip:198.51.100.0/24" not in _reach(engine, "storefront", "web")
    report = _reach(engine, "orders", "report")
    assert "orders/statefulset/postgres" not in report  # its ServiceAccount has no db-access label


def test_reach_with_cilium_policies_lists_the_cidr_and_world_allows() -> None:
    engine = _engine("cilium-starwars")
    assert engine.compiled.cni == "cilium"
    xwing = _reach(engine, "default", "xwing")
    assert "default/deployment/deathstar" not in xwing  # rule1 admits org=empire only
    tiefighter = _reach(engine, "default", "tiefighter")
    assert "default/deployment/deathstar" in tiefighter


def _audit(example: str) -> tuple[int, list[dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    env.update(NO_COLOR="1")
    p = subprocess.run([EXE, "audit", "--manifests", str(ROOT / "examples" / example), "-o", "json"], env=env,
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, json.loads(p.stdout)["findings"]


def test_audit_counts_calico_default_denies() -> None:
    rc, findings = _audit("calico-shop")
    assert rc == 0 and findings == [], findings  # deny-app-policy isolates both app namespaces both ways


def test_audit_never_calls_a_namespace_policed_by_cilium_unpoliced() -> None:
    _rc, findings = _audit("cilium-starwars")
    checks = {f["check"] for f in findings if f["object"] == "namespace/default"}
    assert "no-network-policy" not in checks, findings  # rule1 and xwing-egress select pods there
    assert "no-default-deny-ingress" in checks  # but nothing isolates a new pod
