"""The connectivity diff (netpol/diff.py) against the truth: on a generated cluster under random policy edits (add,
remove, widen or narrow a selector, change a port), the diff of A and B says exactly what `paths -A` (the per-pair
verdicts on every declared port, computed separately on A and on B) says differs."""

from __future__ import annotations

import copy
import ipaddress
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compact import PortRange
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.diff import (
    ADDED,
    CHANGED,
    REMOVED,
    common_atoms,
    diff_atoms,
    diff_connectivity,
    port_in,
    side_flows,
    subtract_ports,
)
from kubectl_netsso.netpol.external import AddressAtom
from kubectl_netsso.usecases.paths import compute_block, external_flows, port_blocks

sys.path.insert(0, str(REPO / "benchmarks"))

from gencluster import ROLES, TEAMS, generate  # noqa: E402


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    folder = tmp_path_factory.mktemp("gen") / "c"
    generate(str(folder), namespaces=3, pods=14, policies=18, replicas=2, seed=11)
    return load_snapshot([str(folder)])


def diff_of(a: Snapshot, b: Snapshot, explain: bool = False) -> Any:
    ca, cb = compile_snapshot(a, cni="generic"), compile_snapshot(b, cni="generic")
    atoms = diff_atoms(ca, cb, a.workloads, b.workloads)
    changed = {f"NP {p.namespace}/{p.name}": "changed" for p in b.network_policies}
    return diff_connectivity(
        side_flows(ca, a.workloads, atoms), side_flows(cb, b.workloads, atoms), atoms, changed, {}, explain=explain
    )


def paths_truth(snap: Snapshot) -> dict[tuple[str, str, int, str], bool | None]:
    """What `paths -A` computes: per pod/workload pair, on each declared port of the destination, the verdict."""
    compiled = compile_snapshot(snap, cni="generic")
    pods = sorted(snap.workloads, key=lambda w: (w.namespace, w.name, w.kind))
    out: dict[tuple[str, str, int, str], bool | None] = {}
    for key, dst_idx in port_blocks(pods, None, None):
        dsts = [pods[i] for i in dst_idx]
        block = compute_block(compiled, pods, dsts, key.port, key.protocol)
        for i, s in enumerate(pods):
            for j, d in enumerate(dsts):
                assert isinstance(key.port, int)
                out[(s.ref, d.ref, key.port, key.protocol)] = block.allowed(i, j)
    return out


PROBES = ("8.8.8.8", "10.1.2.3", "172.16.5.5", "172.20.0.1", "198.51.100.9", "203.0.113.7", "2001:db8::1")


def in_blocks(text: str, address: str) -> bool:
    """Whether an address is in "ip: A, B except C, D except (E, F)" (IpBlockText.describe joined)."""
    ip = ipaddress.ip_address(address)
    body = text[len("ip: ") :] if text.startswith("ip: ") else text[len("ip:") :]
    for m in re.finditer(r"([0-9a-f.:]+/\d+)(?: except (?:\(([^)]*)\)|([0-9a-f.:]+/\d+)))?", body):
        net = ipaddress.ip_network(m.group(1))
        excepts = [ipaddress.ip_network(x.strip()) for x in (m.group(2) or m.group(3) or "").split(",") if x.strip()]
        if ip.version == net.version and ip in net and not any(ip.version == e.version and ip in e for e in excepts):
            return True
    return False


def external_truth(snap: Snapshot) -> dict[tuple[str, str, str, int, str], bool | None]:
    """What `paths -A` lists outside the cluster: (direction, workload, probe address, port, protocol) -> verdict."""
    compiled = compile_snapshot(snap, cni="generic")
    pods = sorted(snap.workloads, key=lambda w: (w.namespace, w.name, w.kind))
    blocks = []
    for key, dst_idx in port_blocks(pods, None, None):
        blocks.append((key, dst_idx, compute_block(compiled, pods, [pods[i] for i in dst_idx], key.port, key.protocol)))
    out: dict[tuple[str, str, str, int, str], bool | None] = {}
    for direction, w, flow in external_flows(compiled, pods, pods, blocks, scope_ns=None, egress=True, ingress=True):
        assert isinstance(flow.port, int)
        for probe in PROBES:
            if in_blocks(flow.ref, probe):
                out[(direction, w.ref, probe, flow.port, flow.protocol)] = flow.allowed
    return out


def assert_external_diff_is_the_set_difference(a: Snapshot, b: Snapshot) -> int:
    """Every probe address, on every port `paths -A` lists for both sides: the diff says what changed, nothing else."""
    result = diff_of(a, b)
    truth_a, truth_b = external_truth(a), external_truth(b)
    checked = 0
    for key in sorted(set(truth_a) & set(truth_b)):
        direction, ref, probe, port, proto = key
        found = [c for c in result.changes if c.external == direction
                 and ref in (c.sources if direction == "egress" else c.destinations)
                 and in_blocks((c.destinations if direction == "egress" else c.sources)[-1], probe)]  # fmt: skip
        assert len(found) <= 1, found
        if not found:
            assert truth_a[key] == truth_b[key], key
        else:
            (c,) = found
            assert port_in(c.before, port, proto) == truth_a[key], (key, c)
            assert port_in(c.after, port, proto) == truth_b[key], (key, c)
        checked += 1
    return checked


def declared(w: Workload) -> set[tuple[int, str]]:
    return {(cp.port, cp.protocol.upper()) for cp in w.ports}


def assert_diff_is_the_set_difference(a: Snapshot, b: Snapshot) -> int:
    result = diff_of(a, b)
    truth_a, truth_b = paths_truth(a), paths_truth(b)
    changed: dict[tuple[str, str], tuple[Any, Any]] = {}
    for c in result.changes:
        for pair in c.pairs():
            assert pair not in changed, pair  # joint classes partition the pairs
            changed[pair] = (c.before, c.after)
    wa = {w.ref: w for w in a.workloads}
    wb = {w.ref: w for w in b.workloads}
    checked = 0
    for s in sorted(set(wa) | set(wb)):
        for d in sorted(set(wa) | set(wb)):
            if s == d and s.count("/") == 1:
                continue  # a Pod to itself: loopback
            # ports `paths -A` lists on both sides (a side without the workload has no flow)
            ports = (declared(wa[d]) if d in wa else set()) | (declared(wb[d]) if d in wb else set())
            for port, proto in sorted(ports):
                va = truth_a.get((s, d, port, proto)) if s in wa and d in wa and (port, proto) in declared(wa[d]) else False
                vb = truth_b.get((s, d, port, proto)) if s in wb and d in wb and (port, proto) in declared(wb[d]) else False
                if (s in wa and d in wa and (port, proto) not in declared(wa[d])) or (
                    s in wb and d in wb and (port, proto) not in declared(wb[d])
                ):
                    continue  # paths lists this port on one side only: no per-pair truth for the other
                assert va is not None and vb is not None  # generated clusters read completely
                before, after = changed.get((s, d), (None, None))
                if (s, d) not in changed:
                    assert va == vb, (s, d, port, proto, va, vb)
                else:
                    assert port_in(before, port, proto) == va, (s, d, port, proto, "before", before)
                    assert port_in(after, port, proto) == vb, (s, d, port, proto, "after", after)
                checked += 1
    return checked


def test_no_edit_no_change(base: Snapshot) -> None:
    result = diff_of(base, base)
    assert result.changes == () and result.grouped == ()


# --- random edits ----------------------------------------------------------------------------------------------

PORTS: list[int | str] = [80, 443, 8080, 5432, "http", 53]


def _edit(snap: Snapshot, op: str, index: int, role: str, port: int | str, team: str) -> Snapshot:
    policies = list(snap.network_policies)
    namespaces = sorted({w.namespace for w in snap.workloads})
    p = policies[index % len(policies)] if policies else None
    spec: dict[str, Any] = copy.deepcopy(dict(p.spec)) if p is not None else {}
    if op == "remove" and p is not None:
        policies.remove(p)
    elif op == "widen" and p is not None:
        spec["podSelector"] = {}
        for rule in spec.get("ingress") or []:
            for peer in rule.get("from") or []:
                peer.pop("podSelector", None) if "namespaceSelector" in peer else None
        policies[policies.index(p)] = replace(p, spec=spec)
    elif op == "narrow" and p is not None:
        sel = dict(spec.get("podSelector") or {})
        sel["matchLabels"] = {**(sel.get("matchLabels") or {}), "role": role}
        spec["podSelector"] = sel
        policies[policies.index(p)] = replace(p, spec=spec)
    elif op == "port" and p is not None:
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                rule["ports"] = [{"port": port}]
        policies[policies.index(p)] = replace(p, spec=spec)
    elif op in ("add-ingress", "add-egress", "add-external"):
        ns = namespaces[index % len(namespaces)]
        if op == "add-ingress":
            new: dict[str, Any] = {
                "podSelector": {"matchLabels": {"role": role}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": team}}}], "ports": [{"port": port}]}],
            }
        elif op == "add-egress":
            new = {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"role": role}}}], "ports": [{"port": port}]}],
            }
        else:
            new = {"podSelector": {"matchLabels": {"role": role}}, "policyTypes": ["Egress"],
                   "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}]}  # fmt: skip
        policies.append(NetworkPolicy(ns, f"edit-{op}-{index}", new))
    return replace(snap, network_policies=tuple(policies))


EDIT = st.tuples(
    st.sampled_from(["remove", "widen", "narrow", "port", "add-ingress", "add-egress", "add-external"]),
    st.integers(0, 200),
    st.sampled_from(ROLES),
    st.sampled_from(PORTS),
    st.sampled_from(TEAMS),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(EDIT, min_size=1, max_size=3))
def test_diff_equals_the_set_difference_of_paths(base: Snapshot, edits: list[tuple[str, int, str, int | str, str]]) -> None:
    new = base
    for edit in edits:
        new = _edit(new, *edit)
    assert assert_diff_is_the_set_difference(base, new) > 100
    assert assert_external_diff_is_the_set_difference(base, new) > 50
    # and the other way round: OLD and NEW swapped
    assert_diff_is_the_set_difference(new, base)
    assert_external_diff_is_the_set_difference(new, base)


def test_workloads_match_by_name_a_rename_is_a_removal_and_an_addition(base: Snapshot) -> None:
    w = next(w for w in base.workloads if w.kind == "Deployment")
    renamed = replace(base, workloads=tuple(replace(x, name=x.name + "-v2") if x is w else x for x in base.workloads))
    result = diff_of(base, renamed)
    kinds = {c.kind for c in result.changes}
    assert REMOVED in kinds and ADDED in kinds
    assert all(w.ref not in c.sources + c.destinations or c.kind == REMOVED for c in result.changes)
    assert assert_diff_is_the_set_difference(base, renamed) > 100


def test_removed_flows_carry_the_explanation_of_new(base: Snapshot) -> None:
    # a default deny of every ingress in one namespace removes flows into it; NEW explains on the first lost port
    explained = 0
    for ns in sorted({w.namespace for w in base.workloads}):
        deny = NetworkPolicy(ns, "deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})
        new = replace(base, network_policies=(*base.network_policies, deny))
        result = diff_of(base, new, explain=True)
        lost = [c for c in result.changes if c.lost]
        assert all(c.explanation.startswith("on ") and "ingress: " in c.explanation for c in lost)
        assert all(all(d.startswith(ns + "/") for d in c.destinations) for c in lost)
        assert not any(c.gained for c in result.changes)
        assert {g.group for g in result.grouped} <= {"removed", "closed"}
        assert all("NP " + ns + "/deny-all (changed)" in c.causes for c in lost)
        explained += len(lost)
    assert explained


def test_external_egress_is_a_change_to_an_address_range(base: Snapshot) -> None:
    ns = sorted({w.namespace for w in base.workloads})[0]
    # every pod of ns isolated for egress and allowed only to 203.0.113.0/24: egress to the rest of the world goes
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}]}
    new = replace(base, network_policies=(*base.network_policies, NetworkPolicy(ns, "only-partner", spec)))
    result = diff_of(base, new)
    egress = [c for c in result.changes if c.external == "egress"]
    assert egress and all(c.destinations[-1].startswith("ip: ") for c in egress)
    # the partner range stays reachable (if it was), everything else outside is lost
    assert any("0.0.0.0/0 except" in c.destinations[-1] or "0.0.0.0/1" in c.destinations[-1] for c in egress if c.lost)
    assert not any("203.0.113.0/24" == c.destinations[-1][4:] for c in egress if c.lost)


def test_subtract_ports() -> None:
    tcp = (PortRange("TCP", 1, 65535),)
    assert subtract_ports(tcp, (PortRange("TCP", 80, 80),)) == (PortRange("TCP", 1, 79), PortRange("TCP", 81, 65535))
    assert subtract_ports((PortRange("TCP", 80, 90), PortRange("UDP", 53, 53)), tcp) == (PortRange("UDP", 53, 53),)
    assert subtract_ports((), tcp) == ()


def test_common_atoms_cut_wherever_a_side_cuts() -> None:
    a = [AddressAtom(4, 0, 99), AddressAtom(4, 100, 2**32 - 1)]
    b = [AddressAtom(4, 0, 49), AddressAtom(4, 50, 2**32 - 1)]
    assert [(x.start, x.end) for x in common_atoms(a, b)] == [(0, 49), (50, 99), (100, 2**32 - 1)]


def test_changed_kind() -> None:
    result = diff_of(*_port_change_pair())
    assert any(c.kind == CHANGED and c.gained and c.lost for c in result.changes)


def _port_change_pair() -> tuple[Snapshot, Snapshot]:
    from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace

    ns = (Namespace("a", {}),)
    pods = (
        Workload("a", "web", "Deployment", {"app": "web"}, (ContainerPort(80, "TCP"), ContainerPort(443, "TCP"))),
        Workload("a", "cli", "Deployment", {"app": "cli"}),
    )

    def allow(port: int) -> NetworkPolicy:
        return NetworkPolicy("a", "web-in", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                                             "ingress": [{"ports": [{"port": port}]}]})  # fmt: skip

    return Snapshot(ns, pods, network_policies=(allow(80),)), Snapshot(ns, pods, network_policies=(allow(443),))


def test_wide_cluster_diff_is_exact(tmp_path: Path) -> None:
    # a second generator seed with more policy kinds in play (ipBlocks, endPort ranges, named ports)
    folder = tmp_path / "g2"
    generate(str(folder), namespaces=3, pods=16, policies=40, replicas=2, seed=3)
    snap = load_snapshot([str(folder)])
    half = replace(snap, network_policies=snap.network_policies[::2])
    assert assert_diff_is_the_set_difference(snap, half) > 100


def test_a_side_that_cannot_read_policies_makes_flows_unknown_never_allowed(base: Snapshot) -> None:
    from kubectl_netsso.cluster.snapshot import Gap
    from kubectl_netsso.netpol.diff import UNKNOWN

    ns = sorted({w.namespace for w in base.workloads})[1]
    hidden = replace(base, gaps=(Gap("networkpolicies", ns, "forbidden"),))
    result = diff_of(base, hidden)
    assert result.changes and not any(c.gained for c in result.changes)  # nothing becomes allowed
    assert all(c.unknown_after and not c.unknown_before for c in result.changes)
    assert all(any(ref.startswith(ns + "/") for ref in (*c.sources, *c.destinations)) for c in result.changes)
    kinds = {c.kind for c in result.changes}
    assert UNKNOWN in kinds and kinds <= {UNKNOWN, "removed", "changed"}
    assert result.counts()[UNKNOWN] > 0


def test_a_namespace_label_change_is_the_cause_when_no_policy_changed(tmp_path: Path) -> None:
    import shutil

    from kubectl_netsso.cluster.target import KubeOptions
    from kubectl_netsso.usecases import diff as usecase

    kube = KubeOptions(kubeconfig=None, context=None, namespace=None, all_namespaces=False, as_user=None, as_groups=())
    shop = REPO / "examples" / "shop"
    new = tmp_path / "shop"
    shutil.copytree(shop, new)
    ns_file = new / "namespaces.yaml"
    ns_file.write_text(ns_file.read_text().replace("team: web", "team: frontend"))
    inp = usecase.DiffInput(str(shop), str(new), sections=("connectivity",))
    result = usecase.run(inp, (usecase.side_source(inp.old, kube), usecase.side_source(inp.new, kube)))
    assert result.connectivity is not None
    (change,) = [c for c in result.connectivity.changes if c.destinations == ("shop/deployment/api",)]
    assert change.sources == ("frontend/deployment/web",) and change.kind == ADDED
    assert change.causes == ("namespace frontend labels changed",)

