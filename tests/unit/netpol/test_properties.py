"""Hypothesis properties of the engine on random clusters.

- the equivalence-class paths engine equals brute-force per-pair evaluation (and the naive class engine);
- adding an allow rule never removes an allowed flow;
- a pod selected by no policy is open in that direction;
- random selectors and random policy specs never crash compilation or evaluation.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.snapshot import (
    AdminNetworkPolicy,
    ContainerPort,
    Gap,
    Namespace,
    NetworkPolicy,
    Node,
    Snapshot,
    UnevaluatedPolicy,
    Workload,
)
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import allowed_pair, evaluate_flow, own_node
from kubectl_netsso.netpol.match import selects
from kubectl_netsso.netpol.model import ExternalPeer, Flow
from kubectl_netsso.netpol.paths import compute_paths
from kubectl_netsso.netpol.selectors import SelectorError, parse_selector

KEYS = ("app", "tier", "env")
VALUES = ("a", "b", "c")
NS_NAMES = ("ns1", "ns2", "ns3")
PORT_NAMES = ("http", "web", "dns")

labels = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)


@st.composite
def selector(draw: Any, keys: tuple[str, ...] = KEYS) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    if draw(st.booleans()):
        sel["matchLabels"] = draw(st.dictionaries(st.sampled_from(keys), st.sampled_from(VALUES), max_size=1))
    if draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        expr: dict[str, Any] = {"key": draw(st.sampled_from(keys)), "operator": op}
        if op in ("In", "NotIn"):
            expr["values"] = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2))
        sel["matchExpressions"] = [expr]
    return sel


ns_keys = ("team", "kubernetes.io/metadata.name")


@st.composite
def ns_selector(draw: Any) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"matchLabels": {"kubernetes.io/metadata.name": draw(st.sampled_from(NS_NAMES))}}
    if draw(st.booleans()):
        return {}
    return {"matchLabels": {"team": draw(st.sampled_from(VALUES))}}


def ip_for(i: int) -> str:
    return f"10.0.0.{i + 1}"


@st.composite
def np_peer(draw: Any) -> dict[str, Any]:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return {"podSelector": draw(selector())}
    if kind == 1:
        return {"namespaceSelector": draw(ns_selector())}
    if kind == 2:
        return {"namespaceSelector": draw(ns_selector()), "podSelector": draw(selector())}
    if kind == 3:
        block: dict[str, Any] = {"cidr": draw(st.sampled_from(["10.0.0.0/29", "10.0.0.0/24", "0.0.0.0/0", "203.0.113.0/24"]))}
        if draw(st.booleans()) and block["cidr"] != "203.0.113.0/24":
            block["except"] = [f"10.0.0.{draw(st.integers(1, 6))}/32"]
        return {"ipBlock": block}
    return {"ipBlock": {"cidr": "fd00::/64"}}


@st.composite
def np_port(draw: Any) -> dict[str, Any]:
    kind = draw(st.integers(0, 3))
    proto = draw(st.sampled_from(["TCP", "TCP", "UDP"]))
    if kind == 0:
        return {"port": draw(st.sampled_from([80, 443, 8080])), "protocol": proto}
    if kind == 1:
        return {"port": draw(st.sampled_from(PORT_NAMES)), "protocol": proto}
    if kind == 2:
        start = draw(st.sampled_from([79, 440, 8000]))
        return {"port": start, "endPort": start + draw(st.integers(0, 100)), "protocol": proto}
    return {"protocol": proto}


@st.composite
def np_rule(draw: Any, key: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if draw(st.integers(0, 3)):
        rule[key] = draw(st.lists(np_peer(), min_size=1, max_size=2))
    if draw(st.booleans()):
        rule["ports"] = draw(st.lists(np_port(), min_size=1, max_size=2))
    return rule


@st.composite
def np_spec(draw: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(selector())}
    if draw(st.booleans()):
        spec["ingress"] = draw(st.lists(np_rule("from"), max_size=2))
    if draw(st.booleans()):
        spec["egress"] = draw(st.lists(np_rule("to"), max_size=2))
    types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    if types is not None:
        spec["policyTypes"] = types
    return spec


@st.composite
def anp_spec(draw: Any, baseline: bool) -> dict[str, Any]:
    actions = ["Allow", "Deny"] + ([] if baseline else ["Pass"])

    def peers(egress: bool) -> Any:
        opts = [
            st.builds(lambda s: {"namespaces": s}, ns_selector()),
            st.builds(lambda a, b: {"pods": {"namespaceSelector": a, "podSelector": b}}, ns_selector(), selector()),
        ]
        if egress:
            opts.append(st.sampled_from([{"networks": ["10.0.0.0/30"]}, {"networks": ["0.0.0.0/0"]}]))
        return st.lists(st.one_of(*opts), min_size=1, max_size=2)

    def ports() -> Any:
        return st.lists(
            st.one_of(
                st.builds(lambda p: {"portNumber": {"protocol": "TCP", "port": p}}, st.sampled_from([80, 443, 8080])),
                st.builds(lambda n: {"namedPort": n}, st.sampled_from(PORT_NAMES)),
                st.just({"portRange": {"protocol": "TCP", "start": 79, "end": 500}}),
            ),
            min_size=1,
            max_size=2,
        )

    def rules(key: str, egress: bool) -> Any:
        return st.lists(
            st.fixed_dictionaries({"action": st.sampled_from(actions), key: peers(egress)}, optional={"ports": ports()}),
            max_size=2,
        )

    subject = draw(
        st.one_of(
            st.builds(lambda s: {"namespaces": s}, ns_selector()),
            st.builds(lambda a, b: {"pods": {"namespaceSelector": a, "podSelector": b}}, ns_selector(), selector()),
        )
    )
    spec: dict[str, Any] = {"subject": subject, "ingress": draw(rules("from", False)), "egress": draw(rules("to", True))}
    if not baseline:
        spec["priority"] = draw(st.integers(0, 3))
    return spec


@st.composite
def clusters(draw: Any, with_anp: bool = True, with_gaps: bool = True, foreign: bool | None = None) -> Snapshot:
    namespaces = tuple(Namespace(n, {"team": draw(st.sampled_from(VALUES))}) for n in NS_NAMES[: draw(st.integers(1, 3))])
    n_pods = draw(st.integers(1, 7))
    workloads = []
    for i in range(n_pods):
        ns = draw(st.sampled_from([n.name for n in namespaces]))
        ports = tuple(
            ContainerPort(p, proto, name)
            for p, proto, name in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([80, 443, 8080]), st.sampled_from(["TCP", "UDP"]), st.sampled_from(PORT_NAMES + (None,))
                    ),
                    max_size=2,
                    unique_by=lambda t: t[2] or str(t[0]),
                )
            )
        )
        ips = (ip_for(i),) if draw(st.booleans()) else ()
        kind = draw(st.sampled_from(["Pod", "Pod", "Deployment"]))
        host_network = draw(st.integers(0, 9)) == 0
        # pods run on one of two nodes (known by name, by status.hostIP, or both); a hostNetwork pod has its node's IP
        node = draw(st.sampled_from([None, "n1", "n2"])) if kind == "Pod" else None
        host_ips = (NODE_IPS[node],) if node and draw(st.booleans()) else ()
        if host_network and node:
            ips = (NODE_IPS[node],)
        workloads.append(
            Workload(ns, f"w{i}", kind, draw(labels), ports, ips, host_network=host_network, node=node, host_ips=host_ips)
        )
    nodes = tuple(Node(n, (ip,)) for n, ip in NODE_IPS.items() if draw(st.booleans()))
    nps = tuple(
        NetworkPolicy(draw(st.sampled_from([n.name for n in namespaces])), f"np{i}", draw(np_spec()))
        for i in range(draw(st.integers(0, 4)))
    )
    anps: list[AdminNetworkPolicy] = []
    if with_anp:
        for i in range(draw(st.integers(0, 2))):
            anps.append(AdminNetworkPolicy(f"anp{i}", "AdminNetworkPolicy", draw(anp_spec(False))))
        if draw(st.booleans()):
            anps.append(AdminNetworkPolicy("default", "BaselineAdminNetworkPolicy", draw(anp_spec(True))))
    gaps: tuple[Gap, ...] = ()
    if with_gaps and draw(st.integers(0, 4)) == 0:
        gaps = (Gap(draw(st.sampled_from(["networkpolicies", "namespaces"])), draw(st.sampled_from([None, *NS_NAMES])), "403"),)
    unevaluated: tuple[UnevaluatedPolicy, ...] = ()
    if foreign or (foreign is None and with_gaps and draw(st.integers(0, 3)) == 0):
        # a policy no engine here evaluates (issue 12): namespaced or not, one direction or both, a mesh layer or not
        scope = draw(st.sampled_from([None, *NS_NAMES]))
        unevaluated = (
            UnevaluatedPolicy(
                "FooNetworkPolicy", "example.com/v1", scope, "foreign",
                directions=draw(st.sampled_from([("ingress",), ("egress",), ("ingress", "egress")])),
                restrict_only=draw(st.booleans()), hosts=scope is None and draw(st.booleans()),
            ),
        )  # fmt: skip
    if with_gaps and draw(st.integers(0, 6)) == 0:
        gaps += (Gap("ciliumnetworkpolicies.cilium.io", draw(st.sampled_from([None, *NS_NAMES])), "403"),)
    return Snapshot(
        namespaces=namespaces,
        workloads=tuple(workloads),
        network_policies=nps,
        admin_network_policies=tuple(anps),
        gaps=gaps,
        nodes=nodes,
        unevaluated=unevaluated,
    )


NODE_IPS = {"n1": "10.9.0.1", "n2": "10.9.0.2"}


ports_strategy = st.sampled_from([(80, "TCP"), (443, "TCP"), (8080, "UDP"), ("http", "TCP"), ("dns", "UDP"), (None, "TCP")])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(clusters(), ports_strategy, st.sampled_from(["match", "ignore"]), st.booleans())
def test_class_engine_equals_brute_force(snapshot: Snapshot, port: tuple[Any, str], ipblock_pods: str, externals: bool):
    compiled = compile_snapshot(snapshot, ipblock_pods=ipblock_pods)  # type: ignore[arg-type]
    peers: list[Any] = [compiled.peer(w) for w in snapshot.workloads]
    if externals:
        peers += [ExternalPeer("203.0.113.9"), ExternalPeer("10.0.0.2"), ExternalPeer(NODE_IPS["n1"])]
    result = compute_paths(compiled, peers, peers, [port])
    naive = compute_paths(compiled, peers, peers, [port], engine="naive")
    for i, src in enumerate(peers):
        for j, dst in enumerate(peers):
            if port[0] is None:
                brute = evaluate_flow(compiled, Flow(src, dst, None, port[1]), explain=False).allowed
            else:
                brute = allowed_pair(compiled, src, dst, port[0], port[1])
            got = result.allowed(0, i, j)
            assert got is brute, f"{src.ref} -> {dst.ref} on {port}: classes {got}, brute force {brute}"
            assert naive.allowed(0, i, j) is brute
            if src is not dst:
                eg, ing = result.direction(0, i, j)
                assert (eg, ing) == naive.direction(0, i, j)
                if port[0] is not None:
                    v = evaluate_flow(compiled, Flow(src, dst, port[0], port[1]), explain=False)
                    assert (eg, ing) == (v.egress.allowed, v.ingress.allowed)


@SETTINGS
@given(clusters(foreign=True), ports_strategy, st.booleans())
def test_class_engine_equals_brute_force_with_policies_it_does_not_evaluate(
    snapshot: Snapshot, port: tuple[Any, str], externals: bool
):
    """Issue 12: an unevaluated policy makes exactly what it could change UNKNOWN, the same in both engines."""
    compiled = compile_snapshot(snapshot)
    peers: list[Any] = [compiled.peer(w) for w in snapshot.workloads]
    if externals:
        peers += [ExternalPeer("203.0.113.9"), ExternalPeer(NODE_IPS["n2"])]
    result = compute_paths(compiled, peers, peers, [port])
    for i, src in enumerate(peers):
        for j, dst in enumerate(peers):
            if port[0] is None:
                brute = evaluate_flow(compiled, Flow(src, dst, None, port[1]), explain=False).allowed
            else:
                brute = allowed_pair(compiled, src, dst, port[0], port[1])
                if src is not dst:
                    v = evaluate_flow(compiled, Flow(src, dst, port[0], port[1]), explain=False)
                    assert result.direction(0, i, j) == (v.egress.allowed, v.ingress.allowed), (src.ref, dst.ref)
            assert result.allowed(0, i, j) is brute, f"{src.ref} -> {dst.ref} on {port}"


@SETTINGS
@given(clusters(with_gaps=False), ports_strategy, st.data())
def test_adding_an_allow_rule_never_removes_an_allowed_flow(snapshot: Snapshot, port: tuple[Any, str], data: Any):
    if not snapshot.network_policies:
        return
    idx = data.draw(st.integers(0, len(snapshot.network_policies) - 1))
    target = snapshot.network_policies[idx]
    direction = data.draw(st.sampled_from(["ingress", "egress"]))
    rule = data.draw(np_rule("from" if direction == "ingress" else "to"))
    spec = dict(target.spec)
    spec[direction] = list(spec.get(direction) or []) + [rule]
    if "policyTypes" not in target.spec:
        # keep the policy's types as they were: adding an egress section would add Egress to the defaults
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if target.spec.get("egress") else [])
    bigger = Snapshot(
        namespaces=snapshot.namespaces,
        workloads=snapshot.workloads,
        network_policies=tuple(
            NetworkPolicy(p.namespace, p.name, spec if i == idx else p.spec) for i, p in enumerate(snapshot.network_policies)
        ),
        admin_network_policies=snapshot.admin_network_policies,
    )
    before, after = compile_snapshot(snapshot), compile_snapshot(bigger)
    pb = [before.peer(w) for w in snapshot.workloads]
    pa = [after.peer(w) for w in bigger.workloads]
    rb = compute_paths(before, pb, pb, [port])
    ra = compute_paths(after, pa, pa, [port])
    for i in range(len(pb)):
        for j in range(len(pb)):
            if rb.allowed(0, i, j):
                assert ra.allowed(0, i, j), f"{pb[i].ref} -> {pb[j].ref} lost by adding {direction} rule {rule} to {target.ref}"


@SETTINGS
@given(clusters(with_anp=False, with_gaps=False), st.sampled_from([80, 443, "http"]))
def test_pod_selected_by_no_policy_is_open(snapshot: Snapshot, port: int | str):
    compiled = compile_snapshot(snapshot)
    peers = [compiled.peer(w) for w in snapshot.workloads]
    for dst in peers:
        policies = compiled.policies_in(dst.namespace)
        if any(p.ingress is not None and selects(compiled, p, dst) for p in policies):
            continue
        for src in peers + [ExternalPeer("198.51.100.1")]:
            v = evaluate_flow(compiled, Flow(src, dst, port, "TCP"), explain=False)
            assert v.ingress.allowed is True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=12,
)
selector_keys = st.sampled_from(["matchLabels", "matchExpressions", "key", "operator", "values", "In", "x"])
spec_keys = st.sampled_from(
    [
        "podSelector",
        "ingress",
        "egress",
        "policyTypes",
        "from",
        "to",
        "ports",
        "port",
        "endPort",
        "protocol",
        "ipBlock",
        "cidr",
        "except",
        "namespaceSelector",
        "subject",
        "priority",
        "action",
        "namespaces",
        "pods",
        "networks",
        "portNumber",
        "namedPort",
        "portRange",
    ]
)
fuzz = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 70000)
    | st.sampled_from(["TCP", "http", "10.0.0.0/8", "In", "Ingress", "Allow", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(spec_keys | selector_keys, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values | st.dictionaries(selector_keys, json_values, max_size=3))
def test_random_selectors_never_crash(obj: Any):
    try:
        sel = parse_selector(obj)
    except SelectorError:
        return
    if sel is not None:
        sel.matches({"app": "a"})
        sel.describe()


@settings(max_examples=300, deadline=None)
@given(fuzz, fuzz, st.sampled_from([80, "http", None]))
def test_random_policy_specs_never_crash(np_raw: Any, anp_raw: Any, port: Any):
    s = Snapshot(
        namespaces=(Namespace("a", {"team": "a"}),),
        workloads=(Workload("a", "p", "Pod", {"app": "a"}, (ContainerPort(80, "TCP", "http"),), ("10.0.0.1",)),),
        network_policies=(NetworkPolicy("a", "np", np_raw if isinstance(np_raw, dict) else {"ingress": np_raw}),),
        admin_network_policies=(
            AdminNetworkPolicy("x", "AdminNetworkPolicy", anp_raw if isinstance(anp_raw, dict) else {"egress": anp_raw}),
        ),
    )
    compiled = compile_snapshot(s)
    peer = compiled.peer(s.workloads[0])
    for other in (peer, ExternalPeer("10.0.0.9")):
        v = evaluate_flow(compiled, Flow(other, peer, port, "TCP"))
        v.to_dict()
        evaluate_flow(compiled, Flow(peer, other, port, "TCP")).to_dict()
    compute_paths(compiled, [peer], [peer], [(port, "TCP")])


# foreign=False: a cluster-wide policy this tool does not evaluate may police the node itself (a host firewall), so
# the node's side of the pair is UNKNOWN there (tested in test_class_engine_equals_brute_force_with_policies_...).
@SETTINGS
@given(clusters(foreign=False), ports_strategy)
def test_a_pod_and_its_own_node_always_talk_other_nodes_stay_policed(snapshot: Snapshot, port: tuple[Any, str]):
    """"Traffic to and from the node where a Pod is running is always allowed" -- its node's address, or a hostNetwork
    pod on that node -- and that is all the node rule changes: every other pair (another node's address included)
    gets the verdict it has when nothing is known about nodes."""
    from dataclasses import replace

    compiled = compile_snapshot(snapshot)
    blind = compile_snapshot(
        replace(snapshot, nodes=(), workloads=tuple(replace(w, node=None, host_ips=()) for w in snapshot.workloads))
    )
    externals = [ExternalPeer(ip) for ip in NODE_IPS.values()]
    peers: list[Any] = [compiled.peer(w) for w in snapshot.workloads] + externals
    blind_peers: list[Any] = [blind.peer(w) for w in snapshot.workloads] + externals
    result = compute_paths(compiled, peers, peers, [port])
    reference = compute_paths(blind, blind_peers, blind_peers, [port])
    for i, src in enumerate(peers):
        for j, dst in enumerate(peers):
            if own_node(src, dst) or own_node(dst, src):
                assert result.allowed(0, i, j) is True, (src.ref, dst.ref)
            else:
                assert result.allowed(0, i, j) is reference.allowed(0, i, j), (src.ref, dst.ref)


@SETTINGS
@given(clusters(with_gaps=False), ports_strategy)
def test_namespaces_missing_from_the_input_make_verdicts_unknown_never_flipped(snapshot: Snapshot, port: tuple[Any, str]):
    """A partial folder (issue 10 item 6): without the Namespace objects, a verdict either stays what it was or becomes
    unknown -- never allowed for denied or the reverse -- and it stays decided when no policy looks at a namespace
    label other than kubernetes.io/metadata.name (which the API server sets on every namespace)."""
    from dataclasses import replace

    full = compile_snapshot(snapshot)
    partial = compile_snapshot(replace(snapshot, namespaces=tuple(replace(n, defined=False) for n in snapshot.namespaces)))
    peers = [full.peer(w) for w in snapshot.workloads]
    partial_peers = [partial.peer(w) for w in snapshot.workloads]
    result = compute_paths(partial, partial_peers, partial_peers, [port])
    for i, src in enumerate(peers):
        for j, dst in enumerate(peers):
            before = compute_paths(full, [src], [dst], [port]).allowed(0, 0, 0)
            after = result.allowed(0, i, j)
            assert after is before or after is None, (src.ref, dst.ref, before, after)
            if not partial.label_sensitive:
                assert after is before
