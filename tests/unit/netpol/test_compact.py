"""`paths --compact` rules are exact: expanded back to pod pairs x protocol x port (and addresses outside the
cluster), they give the brute-force per-pair verdict on generated clusters -- ANP/BANP, ipBlocks with except, named
ports, endPort, gaps (unknown). The expansion reads only the JSON contract (`to_dict()`), not the engine.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit.netpol import test_properties as props  # the cluster strategies (module import: its tests are not collected twice)

from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compact import (
    PortRange,
    compact_paths,
    describe_ports,
    exact_selector,
    normalize_ports,
)
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import allowed_pair, is_loopback
from kubectl_netsso.netpol.external import address_atoms, blocks, describe
from kubectl_netsso.netpol.model import PROTOCOLS, ExternalPeer, PodPeer
from kubectl_netsso.netpol.selectors import parse_selector

FIXED_ADDRESSES = ("203.0.113.9", "10.0.0.2", "10.0.0.200", "8.8.8.8", "fd00::1", "2001:db8::1")


def side_matches(side: dict[str, Any], peer: Any) -> bool:
    if "ipBlocks" in side:
        if not isinstance(peer, ExternalPeer):
            return False
        ip = ipaddress.ip_address(peer.ip)
        for b in side["ipBlocks"]:
            net = ipaddress.ip_network(b["cidr"])
            if ip.version == net.version and ip in net:
                if not any(ip in ipaddress.ip_network(e) for e in b["except"] if ipaddress.ip_network(e).version == ip.version):
                    return True
        return False
    if isinstance(peer, ExternalPeer):
        return False
    if "workloads" in side:
        return peer.ref in side["workloads"]
    sel = parse_selector(side["podSelector"])
    assert sel is not None
    return peer.namespace in side["namespaces"] and sel.matches(peer.labels)


def ports_match(ports: list[dict[str, Any]], port: int | str, protocol: str) -> bool:
    for p in ports:
        if p["protocol"] != protocol:
            continue
        if isinstance(p["port"], str) or isinstance(port, str):
            if p["port"] == port:
                return True
            continue
        if p["port"] <= port <= p.get("endPort", p["port"]):
            return True
    return False


def expanded(rules: list[dict[str, Any]], src: Any, dst: Any, port: int | str, protocol: str) -> bool | None:
    hits = {
        r["allowed"]
        for r in rules
        if ports_match(r["ports"], port, protocol) and side_matches(r["from"], src) and side_matches(r["to"], dst)
    }
    assert len(hits) <= 1, f"{src.ref} -> {dst.ref} {port}/{protocol} covered by both allowed and unknown rules"
    return hits.pop() if hits else False


def sample_ports(compiled: Any, peers: list[Any]) -> list[int]:
    """Every number where an answer can change (policy ports, endPorts, container ports), its neighbours, the ends."""
    out = {1, 2, 65534, 65535}
    policies = [p for ps in compiled.network_policies.values() for p in ps] + list(compiled.admin_policies)
    policies += [compiled.baseline] if compiled.baseline else []
    for p in policies:
        for rules in (p.ingress or (), p.egress or ()):
            for rule in rules:
                for m in rule.ports:
                    if isinstance(m.port, int):
                        end = m.end_port or m.port
                        out.update({m.port - 1, m.port, m.port + 1, end - 1, end, end + 1})
    for peer in peers:
        for cp in getattr(peer, "ports", ()):
            out.update({cp.port - 1, cp.port, cp.port + 1})
    return sorted(p for p in out if 1 <= p <= 65535)


def addresses(compiled: Any) -> list[ExternalPeer]:
    out = {a.peer.ip for a in address_atoms(compiled)}
    for a in address_atoms(compiled):
        out.add(str(ipaddress.ip_address(a.end) if a.version == 4 else ipaddress.IPv6Address(a.end)))
    out.update(FIXED_ADDRESSES)
    out.update(props.NODE_IPS.values())  # a pod's own node is always allowed: its address is not like its neighbours
    return [ExternalPeer(ip) for ip in sorted(out)]


def check(
    compiled: Any,
    sources: list[Any],
    destinations: list[Any],
    population: list[Any],
    *,
    port: int | str | None = None,
    scope_ns: str | None = None,
    protocols: tuple[str, ...] = PROTOCOLS,
) -> list[dict[str, Any]]:
    result = compact_paths(compiled, sources, destinations, population, port=port, scope_ns=scope_ns, protocols=protocols)
    rules = result.to_dict()["rules"]
    ext = addresses(compiled)
    ports: list[int | str] = [port] if port is not None else list(sample_ports(compiled, destinations))
    for src in [*sources, *ext]:
        for dst in [*destinations, *ext]:
            if isinstance(src, ExternalPeer) and isinstance(dst, ExternalPeer):
                continue
            if is_loopback(src, dst):
                continue  # a pod to itself: always allowed, never listed
            in_scope = scope_ns is None or any(isinstance(p, PodPeer) and p.namespace == scope_ns for p in (src, dst))
            for protocol in protocols:
                for p in ports:
                    want = allowed_pair(compiled, src, dst, p, protocol) if in_scope else False
                    got = expanded(rules, src, dst, p, protocol)
                    assert got is want, f"{src.ref} -> {dst.ref} on {p}/{protocol}: rules say {got}, per pair {want}"
    return rules


def check_cni(compiled: Any, workloads: list[Any], protocols: tuple[str, ...] = ("TCP", "UDP")) -> None:
    """check() for a CNI's own policies: the sample ports also hold the CNI's port cuts (and the port below each), on
    every workload pair and outside address (the Calico and Cilium property tests)."""
    peers = [compiled.peer(w) for w in workloads]
    rules = compact_paths(compiled, peers, peers, peers, protocols=protocols).to_dict()["rules"]
    ports = set(sample_ports(compiled, peers))
    for protocol in protocols:
        for dp in [None, *(p.ports for p in peers)]:
            ports |= {q + d for q in compiled.cni_port_cuts(protocol, dp) for d in (-1, 0)}
    ext = addresses(compiled)
    for src in [*peers, *ext]:
        for dst in [*peers, *ext]:
            if isinstance(src, ExternalPeer) and isinstance(dst, ExternalPeer) or is_loopback(src, dst):
                continue
            for protocol in protocols:
                for p in sorted(q for q in ports if 1 <= q <= 65535):
                    want = allowed_pair(compiled, src, dst, p, protocol)
                    got = expanded(rules, src, dst, p, protocol)
                    assert got is want, f"{src.ref} -> {dst.ref} on {p}/{protocol}: rules say {got}, per pair {want}"


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(props.clusters(), st.sampled_from(["match", "ignore"]))
def test_rules_expand_to_the_per_pair_verdicts_on_all_ports(snapshot: Snapshot, ipblock_pods: str) -> None:
    compiled = compile_snapshot(snapshot, ipblock_pods=ipblock_pods)  # type: ignore[arg-type]
    peers = [compiled.peer(w) for w in snapshot.workloads]
    check(compiled, peers, peers, peers)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props.clusters(), st.data())
def test_rules_are_exact_with_a_port_a_scope_or_a_subset(snapshot: Snapshot, data: Any) -> None:
    compiled = compile_snapshot(snapshot)
    peers = [compiled.peer(w) for w in snapshot.workloads]
    mode = data.draw(st.sampled_from(["port", "named", "scope", "from", "to"]))
    if mode == "port":
        check(compiled, peers, peers, peers, port=data.draw(st.sampled_from([80, 443, 8080, 1])), protocols=("TCP",))
    elif mode == "named":
        check(compiled, peers, peers, peers, port=data.draw(st.sampled_from(props.PORT_NAMES)), protocols=("TCP", "UDP"))
    elif mode == "scope":
        check(compiled, peers, peers, peers, scope_ns=data.draw(st.sampled_from(props.NS_NAMES)))
    else:
        subset = [p for p in peers if data.draw(st.booleans())] or peers[:1]
        if mode == "from":
            check(compiled, subset, peers, peers)
        else:
            check(compiled, peers, subset, peers)


def test_unknown_pairs_get_their_own_rules() -> None:
    snap = Snapshot(
        namespaces=(Namespace("a"), Namespace("b")),
        workloads=(Workload("a", "x", "Pod", {"app": "x"}), Workload("b", "y", "Pod", {"app": "y"})),
        network_policies=(NetworkPolicy("a", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),),
        gaps=(props.Gap("networkpolicies", "b", "403"),),
    )
    compiled = compile_snapshot(snap)
    peers = [compiled.peer(w) for w in snap.workloads]
    rules = check(compiled, peers, peers, peers)
    unknown = [r for r in rules if r["allowed"] is None]
    assert unknown and all(r["to"].get("namespaces") == ["b"] or r["from"].get("namespaces") == ["b"] for r in unknown)
    assert not any(r["allowed"] for r in rules if r["to"].get("namespaces") == ["a"] and r["from"].get("namespaces") == ["b"])


def test_no_policies_is_one_rule_per_direction_on_all_ports() -> None:
    snap = Snapshot(
        namespaces=(Namespace("a"),),
        workloads=(Workload("a", "x", "Deployment", {"app": "x"}, (ContainerPort(80),)), Workload("a", "y", "Pod", {"app": "y"})),
    )
    compiled = compile_snapshot(snap)
    peers = [compiled.peer(w) for w in snap.workloads]
    rules = check(compiled, peers, peers, peers)
    texts = sorted(f"{r['from']['text']} -> {r['to']['text']} : {r['portsText']}" for r in rules)
    assert texts == ["a: * -> a: * : all", "a: * -> ip: 0.0.0.0/0, ::/0 : all", "ip: 0.0.0.0/0, ::/0 -> a: * : all"]


def test_exact_selector_prefers_short_label_terms_and_gives_up_when_labels_cannot_tell() -> None:
    pop = [PodPeer("a", {"app": n, "role": r}, name=n) for n, r in (("w1", "web"), ("w2", "web"), ("d", "db"))]
    sel = exact_selector(pop, 0b011)
    assert sel is not None and sel.describe() == "role=web"
    sel = exact_selector(pop, 0b100)
    assert sel is not None and sel.describe() in ("role=db", "app=d")
    twins = [PodPeer("a", {"app": "x"}, name="p"), PodPeer("a", {"app": "x"}, name="q")]
    assert exact_selector(twins, 0b01) is None
    assert exact_selector(twins, 0b11) is not None and exact_selector(twins, 0b11).is_empty  # type: ignore[union-attr]


def test_ports_text() -> None:
    every = normalize_ports(PortRange(p) for p in PROTOCOLS)
    assert describe_ports(every) == "all"
    assert describe_ports(normalize_ports([PortRange("TCP", 1, 5431), PortRange("TCP", 5433, 65535)])) == "TCP all but 5432"
    assert (
        describe_ports(normalize_ports([PortRange("TCP", 80, 80), PortRange("TCP", 81, 90), PortRange("UDP", 53, 53)]))
        == "TCP 80-90; UDP 53"
    )
    assert describe_ports(normalize_ports([PortRange("TCP", 1, 65535), PortRange("UDP", 53, 53)])) == "TCP all; UDP 53"


def test_address_blocks_are_the_shorter_of_list_and_except() -> None:
    snap = Snapshot(
        namespaces=(Namespace("a"),),
        workloads=(Workload("a", "x", "Pod", {"app": "x"}),),
        network_policies=(
            NetworkPolicy(
                "a",
                "np",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}]}],
                },
            ),
        ),
    )
    atoms = address_atoms(compile_snapshot(snap))
    v4 = [a for a in atoms if a.version == 4]
    assert describe(v4) == "0.0.0.0/0"
    outside = [a for a in v4 if a.peer.ip not in ("10.0.0.0", "192.168.0.0")]
    assert describe(outside) == "0.0.0.0/0 except (10.0.0.0/8, 192.168.0.0/16)"
    inside = [a for a in v4 if a.peer.ip == "10.0.0.0"]
    assert [b.cidr for b in blocks(inside)] == ["10.0.0.0/8"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props.clusters(), props.ports_strategy)
def test_external_rows_split_the_address_space_and_agree_with_the_per_pair_verdict(snapshot: Snapshot, port: Any) -> None:
    """Per pod and port the rows' blocks hold every address exactly once, with the verdict that address gets."""
    from kubectl_netsso.netpol.evaluate import evaluate_flow
    from kubectl_netsso.netpol.external import external_egress, external_ingress
    from kubectl_netsso.netpol.model import Flow

    compiled = compile_snapshot(snapshot)
    peers = [compiled.peer(w) for w in snapshot.workloads]
    probes = addresses(compiled)
    for flows, outward in ((external_egress(compiled, peers, [port]), True), (external_ingress(compiled, peers, [port]), False)):
        by_pod: dict[int, list[Any]] = {}
        for f in flows:
            by_pod.setdefault(f.index, []).append(f)
        assert sorted(by_pod) == list(range(len(peers)))
        for i, rows in by_pod.items():
            for probe in probes:
                holding = [f for f in rows if side_matches({"ipBlocks": [b.to_dict() for b in f.blocks]}, probe)]
                assert len(holding) == 1, (peers[i].ref, probe.ip, [f.ref for f in rows])
                src, dst = (peers[i], probe) if outward else (probe, peers[i])
                if port[0] is None:
                    want = evaluate_flow(compiled, Flow(src, dst, None, port[1]), explain=False).allowed
                else:
                    want = allowed_pair(compiled, src, dst, port[0], port[1])
                assert holding[0].allowed is want, (src.ref, dst.ref, port, holding[0].ref)
