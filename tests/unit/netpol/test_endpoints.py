"""Endpoint resolution for can-reach/paths (netpol/endpoints.py) on plain snapshots: kubectl's name forms, live pods
through their owners, Services -> backing pods and per-pod targetPort, selectors, IPs; and that arbitrary text only
ever gives a NetssoError (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.snapshot import ContainerPort, Namespace, Service, ServicePort, Snapshot, Workload
from kubectl_netsso.errors import NetssoError
from kubectl_netsso.netpol import endpoints as ep


def pod(ns: str, name: str, labels: dict[str, str], ports: tuple[ContainerPort, ...] = (), owner: str | None = None) -> Workload:
    return Workload(namespace=ns, name=name, kind="Pod", labels=labels, ports=ports, owner=owner)


SNAP = Snapshot(
    namespaces=(Namespace("shop", {"team": "shop"}), Namespace("web")),
    workloads=(
        Workload("shop", "api", "Deployment", {"app": "api"}, (ContainerPort(8080, "TCP", "http"),)),
        Workload("shop", "report", "CronJob", {"app": "report"}),
        Workload("shop", "report", "Job", {"app": "report-once"}),
        Workload("web", "front", "StatefulSet", {"app": "front"}),
        # live pods: one named like a workload elsewhere, two owned through a ReplicaSet
        pod("web", "front", {"app": "debug"}),
        pod("web", "ui-5d8f7c9b4-x1", {"app": "ui"}, (ContainerPort(80, "TCP", "http"),), owner="ReplicaSet/ui-5d8f7c9b4"),
        pod("web", "ui-5d8f7c9b4-x2", {"app": "ui"}, (ContainerPort(8081, "TCP", "http"),), owner="ReplicaSet/ui-5d8f7c9b4"),
        pod("web", "cache-0", {"app": "cache"}, owner="StatefulSet/cache"),
    ),
    services=(
        Service("web", "ui", {"app": "ui"}, (ServicePort(80, "http", "TCP", "web"), ServicePort(53, 53, "UDP", "dns"))),
        Service("web", "external", None, (ServicePort(443, 443),)),
        Service("web", "nobody", {"app": "none"}, (ServicePort(80, 80),)),
    ),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web", ("dflt", None, "web")),
        ("deploy/web", ("dflt", "Deployment", "web")),
        ("deployments.apps/web", ("dflt", "Deployment", "web")),
        ("po/web", ("dflt", "Pod", "web")),
        ("cj/x", ("dflt", "CronJob", "x")),
        ("shop/web", ("shop", None, "web")),
        ("shop/sts/db", ("shop", "StatefulSet", "db")),
        ("shop/svc/api", ("shop", "Service", "api")),
        ("shop/DS/agent", ("shop", "DaemonSet", "agent")),
    ],
)
def test_split_endpoint_kubectl_forms(text: str, expected: tuple[str, str | None, str]) -> None:
    assert ep.split_endpoint(text, "dflt") == expected


def test_bare_name_prefers_the_pod_then_the_workload() -> None:
    e = ep.resolve_endpoint(SNAP, "front", "web")
    assert e.kind == "workload" and e.ref == "web/front" and [w.kind for w in e.workloads] == ["Pod"]
    e = ep.resolve_endpoint(SNAP, "sts/front", "web")
    assert e.ref == "web/statefulset/front" and [w.kind for w in e.workloads] == ["StatefulSet"]
    e = ep.resolve_endpoint(SNAP, "shop/api", "web")
    assert e.ref == "shop/deployment/api" and e.namespace_labels == {"team": "shop", "kubernetes.io/metadata.name": "shop"}


def test_live_pods_resolve_through_their_owner() -> None:
    e = ep.resolve_endpoint(SNAP, "web/deploy/ui", "x")  # ReplicaSet ui-<hash> is the Deployment ui's
    assert e.ref == "web/deployment/ui" and sorted(w.name for w in e.workloads) == ["ui-5d8f7c9b4-x1", "ui-5d8f7c9b4-x2"]
    e = ep.resolve_endpoint(SNAP, "ui", "web")  # a bare name finds the owner too
    assert e.ref == "web/deployment/ui" and len(e.workloads) == 2
    e = ep.resolve_endpoint(SNAP, "web/sts/cache", "x")
    assert [w.name for w in e.workloads] == ["cache-0"]


def test_ambiguous_and_not_found_errors() -> None:
    with pytest.raises(NetssoError, match=r"ambiguous in namespace shop: cronjob/report, job/report"):
        ep.resolve_endpoint(SNAP, "report", "shop")
    assert ep.resolve_endpoint(SNAP, "job/report", "shop").workloads[0].labels == {"app": "report-once"}
    with pytest.raises(NetssoError) as err:
        ep.resolve_endpoint(SNAP, "deploy/api", "web")
    assert err.value.hint == "deployment/api exists in namespace shop: use shop/deployment/api or -n shop"
    with pytest.raises(NetssoError) as err:
        ep.resolve_endpoint(SNAP, "ghost/x", "web")
    assert "namespace 'ghost' is not in the snapshot" in (err.value.hint or "")


def test_service_targets_resolve_named_target_port_per_pod() -> None:
    e = ep.resolve_endpoint(SNAP, "web/svc/ui", "x", role="destination")
    assert e.kind == "service" and e.ref == "web/svc/ui"
    tgts, sp = ep.targets(e, 80, "TCP")
    assert sp is not None and sp.name == "web"
    assert sorted((t.workload.name, t.port) for t in tgts) == [("ui-5d8f7c9b4-x1", 80), ("ui-5d8f7c9b4-x2", 8081)]
    tgts, sp = ep.targets(e, "dns", None)  # by Service port name
    assert sp is not None and sp.protocol == "UDP" and {t.port for t in tgts} == {53}
    with pytest.raises(NetssoError, match="has no port 8080"):
        ep.targets(e, 8080, "TCP")
    with pytest.raises(NetssoError, match="say which with --port"):
        ep.targets(e, None, None)
    tgts, _ = ep.targets(e, None, "UDP")  # the only UDP port
    assert {t.port for t in tgts} == {53}


def test_service_named_target_port_missing_on_a_pod_is_a_problem_not_a_guess() -> None:
    snap = Snapshot(
        workloads=(pod("a", "p", {"app": "p"}, (ContainerPort(80, "TCP", "web"),)),),
        services=(Service("a", "s", {"app": "p"}, (ServicePort(80, "http"),)),),
    )
    e = ep.resolve_endpoint(snap, "a/svc/s", "a", role="destination")
    (t,), _ = ep.targets(e, 80, "TCP")
    assert t.port is None and t.problem is not None and "named targetPort 'http'" in t.problem


def test_service_pods_without_the_named_target_port_are_not_endpoints() -> None:
    # The EndpointSlice controller skips a pod that lacks the named targetPort: traffic to the Service never lands
    # there, so it must not turn the Service's answer into DENIED while the pods that do serve it are allowed.
    snap = Snapshot(
        workloads=(
            pod("a", "p1", {"app": "p"}, (ContainerPort(8080, "TCP", "http"),)),
            pod("a", "p2", {"app": "p"}, (ContainerPort(8080, "TCP"),)),
        ),
        services=(Service("a", "s", {"app": "p"}, (ServicePort(80, "http"),)),),
    )
    e = ep.resolve_endpoint(snap, "a/svc/s", "a", role="destination")
    tgts, _ = ep.targets(e, 80, "TCP")
    assert [(t.workload.name, t.port, t.problem) for t in tgts] == [("p1", 8080, None)]


def test_service_errors() -> None:
    with pytest.raises(NetssoError, match="cannot be a source"):
        ep.resolve_endpoint(SNAP, "web/svc/ui", "x", role="source")
    with pytest.raises(NetssoError, match="has no selector"):
        ep.resolve_endpoint(SNAP, "web/svc/external", "x", role="destination")
    with pytest.raises(NetssoError, match="selects no pods"):
        ep.resolve_endpoint(SNAP, "web/svc/nobody", "x", role="destination")
    with pytest.raises(NetssoError, match="service/nope not found"):
        ep.resolve_endpoint(SNAP, "web/svc/nope", "x", role="destination")


def test_ip_and_selector_endpoints() -> None:
    assert ep.resolve_endpoint(SNAP, "ip:2001:DB8::1", "x").ref == "ip:2001:db8::1"
    cidr = ep.resolve_endpoint(SNAP, "ip:10.9.8.7/8", "x")  # a range: host bits dropped
    assert (cidr.ref, cidr.ip, cidr.is_range) == ("ip:10.0.0.0/8", "10.0.0.0/8", True)
    one = ep.resolve_endpoint(SNAP, "ip:10.1.2.3/32", "x")  # a /32 is one host
    assert (one.ref, one.is_range) == ("ip:10.1.2.3", False)
    for bad in ("ip:10.0.0.0/33", "ip:10.0.0", "ip:"):
        with pytest.raises(NetssoError, match="invalid IP address or CIDR") as err:
            ep.resolve_endpoint(SNAP, bad, "x")
        assert err.value.exit_code == 2
    e = ep.selector_endpoint(SNAP, ep.parse_labels("tier=b, app==a"), "newns")
    assert e.ref == "newns/{app=a,tier=b}" and e.workloads[0].labels == {"app": "a", "tier": "b"}
    assert e.namespace_labels == {"kubernetes.io/metadata.name": "newns"}


@pytest.mark.parametrize("bad", ["", "a!=b", "noequals", "=v", ","])
def test_parse_labels_rejects(bad: str) -> None:
    with pytest.raises(NetssoError):
        ep.parse_labels(bad)


@pytest.mark.parametrize(
    ("text", "value"), [("80", 80), ("65535", 65535), ("HTTP", "http"), ("dns-tcp", "dns-tcp"), (None, None)]
)
def test_parse_port(text: str | None, value: int | str | None) -> None:
    assert ep.parse_port(text) == value


@pytest.mark.parametrize("bad", ["0", "65536", "http_alt", "a-very-long-port-name", "8080-9090", "-", "", " "])
def test_parse_port_rejects(bad: str) -> None:
    with pytest.raises(NetssoError):
        ep.parse_port(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(alphabet="abc/-.:", max_size=12))
def test_arbitrary_text_gives_netsso_error_or_an_endpoint(text: str, ns: str) -> None:
    for func in (
        lambda: ep.resolve_endpoint(SNAP, text, ns or "web"),
        lambda: ep.resolve_endpoint(SNAP, text, ns or "web", role="destination"),
        lambda: ep.parse_port(text),
        lambda: ep.parse_labels(text),
    ):
        try:
            func()
        except NetssoError as err:
            assert err.message and "\n" not in err.message
