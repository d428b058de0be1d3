"""Generated policies, evaluated by the NetworkPolicy engine, allow exactly the flow they were generated for."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, NetworkPolicy, Snapshot, Workload
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import evaluate_flow
from kubectl_netsso.netpol.generate import allow_flow, default_deny
from kubectl_netsso.netpol.model import ExternalPeer, Flow

PORTS = (ContainerPort(8080, "TCP", "http"), ContainerPort(9090, "TCP", "metrics"), ContainerPort(5353, "UDP", "dns-alt"))


def _nps(objs: list[dict]) -> tuple[NetworkPolicy, ...]:
    return tuple(NetworkPolicy(o["metadata"]["namespace"], o["metadata"]["name"], o["spec"]) for o in objs)


def _cluster(extra: list[dict], src_labels: dict, dst_labels: dict, src_ns: str = "front", dst_ns: str = "back") -> Snapshot:
    namespaces = sorted({src_ns, dst_ns, "kube-system"})
    workloads = (
        Workload(src_ns, "src", "Deployment", labels=src_labels, ports=PORTS),
        Workload(src_ns, "src-other", "Deployment", labels={"app": "intruder"}, ports=PORTS),
        Workload(dst_ns, "dst", "Deployment", labels=dst_labels, ports=PORTS),
        Workload(dst_ns, "dst-other", "Deployment", labels={"app": "bystander"}, ports=PORTS),
        Workload(
            "kube-system",
            "coredns",
            "Deployment",
            labels={"k8s-app": "kube-dns"},
            ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")),
        ),
        Workload("kube-system", "other", "Deployment", labels={"k8s-app": "metrics"}, ports=(ContainerPort(53, "UDP", "x"),)),
    )
    policies = []
    for ns in {src_ns, dst_ns}:
        policies += default_deny(ns, allow_dns=True)
    return Snapshot(
        namespaces=tuple(Namespace(n, {"kubernetes.io/metadata.name": n}) for n in namespaces),
        workloads=workloads,
        network_policies=_nps(policies + extra),
    )


def _allowed(snap: Snapshot, src: str, dst: str, port: int | str | None, proto: str = "TCP") -> bool | None:
    c = compile_snapshot(snap)
    by = {w.name: w for w in snap.workloads}
    return evaluate_flow(c, Flow(c.peer(by[src]), c.peer(by[dst]), port, proto), explain=False).allowed


def test_default_deny_denies_everything_but_dns_to_kube_dns() -> None:
    snap = _cluster([], {"app": "web"}, {"app": "api"})
    assert _allowed(snap, "src", "dst", 8080) is False
    assert _allowed(snap, "src", "coredns", 53, "UDP") is True
    assert _allowed(snap, "src", "coredns", 53, "TCP") is True
    # DNS egress is to the kube-dns pods only, not to any pod in kube-system on 53
    assert _allowed(snap, "src", "other", 53, "UDP") is False
    c = compile_snapshot(snap)
    src = c.peer(next(w for w in snap.workloads if w.name == "src"))
    assert evaluate_flow(c, Flow(src, ExternalPeer("198.51.100.1"), 443, "TCP"), explain=False).allowed is False


def test_default_deny_without_dns_blocks_dns() -> None:
    snap = _cluster([], {"app": "web"}, {"app": "api"})
    snap = Snapshot(namespaces=snap.namespaces, workloads=snap.workloads, network_policies=_nps(default_deny("front")))
    assert _allowed(snap, "src", "coredns", 53, "UDP") is False


def test_allow_flow_opens_exactly_that_flow_cross_namespace() -> None:
    objs = allow_flow("front", {"app": "web"}, "back", {"app": "api"}, 8080, "TCP")
    snap = _cluster(objs, {"app": "web"}, {"app": "api"})
    assert _allowed(snap, "src", "dst", 8080) is True
    assert _allowed(snap, "src", "dst", "http") is True  # the same port by name
    assert _allowed(snap, "src", "dst", 9090) is False  # another port
    assert _allowed(snap, "src", "dst", 8080, "UDP") is False  # another protocol
    assert _allowed(snap, "src-other", "dst", 8080) is False  # another source
    assert _allowed(snap, "src", "dst-other", 8080) is False  # another destination
    assert _allowed(snap, "dst", "src", 8080) is False  # the reverse direction


def test_one_side_is_not_enough_under_default_deny() -> None:
    ingress_only = allow_flow("front", {"app": "web"}, "back", {"app": "api"}, 8080, "TCP", sides=("ingress",))
    assert _allowed(_cluster(ingress_only, {"app": "web"}, {"app": "api"}), "src", "dst", 8080) is False
    egress_only = allow_flow("front", {"app": "web"}, "back", {"app": "api"}, 8080, "TCP", sides=("egress",))
    assert _allowed(_cluster(egress_only, {"app": "web"}, {"app": "api"}), "src", "dst", 8080) is False


def test_named_port_policy_allows_the_named_port_only() -> None:
    objs = allow_flow("front", {"app": "web"}, "back", {"app": "api"}, "metrics", "TCP")
    snap = _cluster(objs, {"app": "web"}, {"app": "api"})
    assert _allowed(snap, "src", "dst", 9090) is True
    assert _allowed(snap, "src", "dst", 8080) is False


def test_external_source_and_destination() -> None:
    objs = allow_flow(None, None, "back", {"app": "api"}, 8080, "TCP", src_external_cidr="203.0.113.7")
    objs += allow_flow("front", {"app": "web"}, None, None, 443, "TCP", dst_external_cidr="198.51.100.0/24")
    snap = _cluster(objs, {"app": "web"}, {"app": "api"})
    c = compile_snapshot(snap)
    dst = c.peer(next(w for w in snap.workloads if w.name == "dst"))
    src = c.peer(next(w for w in snap.workloads if w.name == "src"))
    assert evaluate_flow(c, Flow(ExternalPeer("203.0.113.7"), dst, 8080, "TCP"), explain=False).allowed is True
    assert evaluate_flow(c, Flow(ExternalPeer("203.0.113.8"), dst, 8080, "TCP"), explain=False).allowed is False
    assert evaluate_flow(c, Flow(src, ExternalPeer("198.51.100.20"), 443, "TCP"), explain=False).allowed is True
    assert evaluate_flow(c, Flow(src, ExternalPeer("198.51.101.20"), 443, "TCP"), explain=False).allowed is False


_value = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
_labels = st.dictionaries(st.sampled_from(["app", "tier", "team", "app.kubernetes.io/name"]), _value, min_size=1, max_size=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    src_labels=_labels,
    dst_labels=_labels,
    same_ns=st.booleans(),
    port=st.sampled_from([8080, 9090, "http", "metrics", 5353, None]),
    proto=st.sampled_from(["TCP", "UDP"]),
)
def test_property_generated_policy_allows_exactly_the_flow(
    src_labels: dict, dst_labels: dict, same_ns: bool, port: int | str | None, proto: str
) -> None:
    src_ns, dst_ns = ("front", "front") if same_ns else ("front", "back")
    if src_labels.get("app") == "intruder" or dst_labels.get("app") == "bystander":
        return
    objs = allow_flow(src_ns, src_labels, dst_ns, dst_labels, port, proto)
    snap = _cluster(objs, src_labels, dst_labels, src_ns, dst_ns)
    if same_ns and src_labels == dst_labels:
        return  # source and destination are the same selection: the reverse is the same flow
    # the flow itself is allowed; a named port only where the destination defines it for that protocol
    # (a numeric port is matched whether or not a container declares it)
    defined = not isinstance(port, str) or any(cp.name == port and cp.protocol == proto for cp in PORTS)
    assert _allowed(snap, "src", "dst", port, proto) is defined
    # nothing else is opened: other pods and the reverse direction stay denied
    assert _allowed(snap, "src-other", "dst", port, proto) is False
    assert _allowed(snap, "src", "dst-other", port, proto) is False
