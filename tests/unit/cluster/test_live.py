"""cluster/live.py against the loopback kube API server double (tests/e2e/harness/apiserver.py), anonymous access.

The double serves list endpoints from plain objects with configurable 403s, discovery and the review APIs; with
allow_anonymous it needs no OpenID Provider, so these tests run everywhere (token auth: tests/e2e/test_live_auth.py).
"""

from __future__ import annotations

import socket
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness.apiserver import Decision, FakeAPIServer, RulesResult, UserInfo  # noqa: E402
from harness.ca import TestPKI as PKI  # noqa: E402
from harness.ca import make_pki  # noqa: E402

from kubectl_netsso.cli.options import KubeOptions  # noqa: E402
from kubectl_netsso.cluster import live  # noqa: E402
from kubectl_netsso.cluster.snapshot import NAMESPACE_NAME_LABEL, Gap  # noqa: E402
from kubectl_netsso.errors import NetssoError  # noqa: E402


def _ns(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {NAMESPACE_NAME_LABEL: name, **labels}}}


def _pod(
    ns: str, name: str, labels: dict[str, str], ip: str, owner: tuple[str, str] | None = None, phase: str = "Running"
) -> dict:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": "u", "controller": True}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "serviceAccountName": "api-sa",
            "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 8080, "name": "http"}]}],
        },
        "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}]},
    }


OBJECTS: list[dict[str, Any]] = [
    _ns("shop", team="shop"),
    _ns("payments", team="payments", pci="true"),
    _pod("shop", "api-7d9-abcde", {"app": "api"}, "10.0.1.5", ("ReplicaSet", "api-7d9")),
    _pod("shop", "worker-0", {"app": "worker"}, "10.0.1.6", ("StatefulSet", "worker")),
    _pod("shop", "migrate-xyz", {"app": "migrate"}, "10.0.1.7", ("Job", "migrate"), phase="Succeeded"),
    _pod("shop", "nightly-28912345-abcde", {"app": "nightly"}, "10.0.1.8", ("Job", "nightly-28912345")),
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "nightly-28912345",
            "namespace": "shop",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": "c", "controller": True}],
        },
        "spec": {"template": {"metadata": {"labels": {"app": "nightly"}}, "spec": {"containers": []}}},
    },
    _pod("payments", "pay-1", {"app": "pay"}, "10.0.2.5"),
    {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "api-7d9",
            "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "d", "controller": True}],
        },
        "spec": {
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": []}},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}], "clusterIP": "10.96.0.10"},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "pay-deny", "namespace": "payments"},
        "spec": {"podSelector": {}},
    },
    {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "pci"},
        "spec": {
            "priority": 10,
            "subject": {"namespaces": {"matchLabels": {"pci": "true"}}},
            "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
        },
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader", "namespace": "shop"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "reader", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "ci"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
        ],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "agg", "labels": {"x": "y"}},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"}}]},
        "rules": [],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "agg"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "agg"},
        "subjects": [{"kind": "User", "name": "alice"}],
    },
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(pki: PKI) -> Any:
    api = FakeAPIServer(
        "https://127.0.0.1:9/unused", pki.ca_cert, tls=(pki.leaf_cert, pki.leaf_key), allow_anonymous=True, objects=OBJECTS
    )
    api.start()
    yield api
    api.stop()


@pytest.fixture
def apiserver(server: FakeAPIServer) -> Any:
    server.set_objects(OBJECTS)
    server.forbidden.clear()
    server.anp = True
    server.authorizer = _Recorder()
    server.clear_log()
    return server


class _Recorder:
    """An authorizer that allows lists and answers reviews with fixed results (and remembers what it was asked)."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.deny: set[tuple[str, str]] = set()  # (verb, resource) refused, like RBAC would

    def authorize(self, user: UserInfo, attrs: dict[str, Any]) -> Decision:
        self.asked.append(dict(attrs))
        if (attrs.get("verb"), attrs.get("resource")) in self.deny:
            return Decision(False)
        if attrs.get("resource") == "secrets":
            return Decision(False, reason="RBAC: secrets are off limits", denied=True, evaluation_error="partial")
        if attrs.get("verb") in ("list", "get"):
            return Decision(True)
        return Decision(True, reason=f'RBAC: allowed by RoleBinding "x/shop" of Role "y" to User "{user.username}"')

    def rules(self, user: UserInfo, namespace: str) -> RulesResult:
        return RulesResult(
            resource_rules=[{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
            non_resource_rules=[{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
            incomplete=namespace == "partial",
            evaluation_error="webhook down" if namespace == "partial" else "",
        )


def _kubeconfig(tmp_path: Path, server: str, ca: Path | None, namespace: str | None = None, user: dict | None = None) -> str:
    cluster: dict[str, Any] = {"server": server}
    if ca is not None:
        cluster["certificate-authority"] = str(ca)
    context: dict[str, Any] = {"cluster": "test", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": "u", "user": user or {}}],
        "contexts": [{"name": "test", "context": context}],
        "current-context": "test",
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _kube(path: str, namespace: str | None = None, as_user: str | None = None, as_groups: tuple[str, ...] = ()) -> KubeOptions:
    return KubeOptions(
        kubeconfig=path, context=None, namespace=namespace, all_namespaces=False, as_user=as_user, as_groups=as_groups
    )


@pytest.fixture
def kube(apiserver: FakeAPIServer, pki: PKI, tmp_path: Path) -> KubeOptions:
    return _kube(_kubeconfig(tmp_path, apiserver.url, pki.ca_cert, namespace="shop"))


# -- snapshot ----------------------------------------------------------------------------------------------------


def test_snapshot_maps_every_kind(kube: KubeOptions) -> None:
    snap = live.load_snapshot(kube, None)
    assert snap.gaps == ()
    assert snap.source == "live: context test"
    ns = {n.name: dict(n.labels) for n in snap.namespaces}
    assert ns["payments"] == {NAMESPACE_NAME_LABEL: "payments", "team": "payments", "pci": "true"}
    pods = {w.name: w for w in snap.workloads}
    assert set(pods) == {"api-7d9-abcde", "worker-0", "pay-1", "nightly-28912345-abcde"}  # Succeeded pod: left out
    api = pods["api-7d9-abcde"]
    assert api.kind == "Pod" and api.namespace == "shop" and dict(api.labels) == {"app": "api"}
    assert api.ips == ("10.0.1.5",)
    assert [(p.port, p.protocol, p.name) for p in api.ports] == [(8080, "TCP", "http")]
    assert api.owner == "Deployment/api"  # pod -> ReplicaSet api-7d9 -> Deployment api
    assert api.service_account == "api-sa"
    assert pods["worker-0"].owner == "StatefulSet/worker"
    assert pods["nightly-28912345-abcde"].owner == "CronJob/nightly"  # pod -> Job -> CronJob
    assert pods["pay-1"].owner is None
    (svc,) = snap.services
    assert (svc.name, dict(svc.selector or {}), svc.ports[0].target_port, svc.cluster_ips) == (
        "api",
        {"app": "api"},
        "http",
        ("10.96.0.10",),
    )
    assert {p.ref for p in snap.network_policies} == {"shop/default-deny", "payments/pay-deny"}
    shop_deny = next(p for p in snap.network_policies if p.name == "default-deny")
    assert shop_deny.spec == {"podSelector": {}, "policyTypes": ["Ingress"]}
    (anp,) = snap.admin_network_policies
    assert anp.kind == "AdminNetworkPolicy" and anp.priority == 10
    roles = {r.name: r for r in snap.roles}
    assert roles["reader"].namespace == "shop" and roles["reader"].rules[0].verbs == ("get", "list")
    assert roles["agg"].namespace is None and roles["agg"].aggregation_selectors == ({"matchLabels": {"agg": "true"}},)
    rb = next(b for b in snap.bindings if b.kind == "RoleBinding")
    assert rb.subjects[0].namespace == "shop"  # ServiceAccount namespace defaults to the binding's
    assert {b.kind for b in snap.bindings} == {"RoleBinding", "ClusterRoleBinding"}


def test_parts_and_namespace_scope(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    snap = live.load_snapshot(kube, ["shop"], parts={"network"})
    assert {w.namespace for w in snap.workloads} == {"shop"}
    assert {p.namespace for p in snap.network_policies} == {"shop"}
    assert snap.roles == () and snap.bindings == ()
    assert {n.name for n in snap.namespaces} >= {"shop", "payments"}  # namespace labels are always wanted
    paths = {r.path for r in apiserver.requests}
    assert not any("rbac" in p for p in paths)
    rbac = live.load_snapshot(kube, ["shop"], parts={"rbac"})
    assert rbac.workloads == () and {r.name for r in rbac.roles} == {"reader", "agg"}


def test_forbidden_namespace_networkpolicies_become_a_gap(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.forbid("networkpolicies", None)  # no cluster-wide list ...
    apiserver.forbid("networkpolicies", "payments")  # ... and not in payments
    snap = live.load_snapshot(kube, None, parts={"network"})
    assert [p.ref for p in snap.network_policies] == ["shop/default-deny"]
    assert len(snap.gaps) == 1
    gap = snap.gaps[0]
    assert (gap.resource, gap.namespace) == ("networkpolicies", "payments")
    assert gap.reason.startswith("forbidden: ") and "cannot list" in gap.reason
    # the fallback asked each namespace after the cluster-wide 403
    paths = [r.path for r in apiserver.requests if r.path.endswith("networkpolicies")]
    assert paths[0] == "/apis/networking.k8s.io/v1/networkpolicies"
    assert "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies" in paths


def test_cluster_wide_forbidden_but_every_namespace_allowed_is_no_gap(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.forbid("pods", None)
    snap = live.load_snapshot(kube, None, parts={"network"})
    assert snap.gaps == ()
    assert {w.name for w in snap.workloads} == {"api-7d9-abcde", "worker-0", "pay-1", "nightly-28912345-abcde"}


def test_forbidden_namespace_list_and_cluster_scoped_lists(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.authorizer.deny.add(("list", "namespaces"))  # list refused, get allowed
    apiserver.forbid("clusterroles", None)
    apiserver.forbid("adminnetworkpolicies", None)
    snap = live.load_snapshot(kube, ["shop"])
    gaps = {(g.resource, g.namespace) for g in snap.gaps}
    assert gaps == {("namespaces", None), ("clusterroles", None), ("adminnetworkpolicies", None)}
    # the namespace itself was still read with a GET
    assert snap.namespace("shop") is not None and snap.namespace("shop").labels.get("team") == "shop"  # type: ignore[union-attr]
    assert snap.admin_network_policies == ()


def test_no_namespace_list_and_no_cluster_wide_list_is_a_cluster_wide_gap(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.authorizer.deny.add(("list", "namespaces"))
    apiserver.forbid("networkpolicies", None)
    snap = live.load_snapshot(kube, None, parts={"network"})
    # pods and services were listed cluster-wide; networkpolicies only in the context's namespace (shop)
    assert {w.namespace for w in snap.workloads} == {"shop", "payments"}
    assert [p.ref for p in snap.network_policies] == ["shop/default-deny"]
    gaps = {(g.resource, g.namespace): g.reason for g in snap.gaps}
    assert set(gaps) == {("namespaces", None), ("networkpolicies", None)}
    assert gaps[("networkpolicies", None)].endswith("only shop read")


def test_missing_namespace_is_not_a_gap(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.authorizer.deny.add(("list", "namespaces"))
    snap = live.load_snapshot(kube, ["nope"], parts={"network"})
    assert {(g.resource, g.namespace) for g in snap.gaps} == {("namespaces", None)}
    assert snap.workloads == ()


def test_forbidden_everything_in_a_namespace(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    for resource in ("pods", "services", "networkpolicies", "roles", "rolebindings"):
        apiserver.forbid(resource, None)
        apiserver.forbid(resource, "payments")
    snap = live.load_snapshot(kube, None)
    assert {(g.resource, g.namespace) for g in snap.gaps} == {
        (r, "payments") for r in ("pods", "services", "networkpolicies", "roles", "rolebindings")
    }
    assert all(isinstance(g, Gap) for g in snap.gaps)


def test_replicasets_and_jobs_not_listable_keep_their_owner(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.forbid("replicasets", None)
    apiserver.forbid("replicasets", "*")
    apiserver.forbid("jobs", None)
    apiserver.forbid("jobs", "*")
    snap = live.load_snapshot(kube, None, parts={"network"})
    owners = {w.name: w.owner for w in snap.workloads}
    assert owners["api-7d9-abcde"] == "ReplicaSet/api-7d9"
    assert owners["nightly-28912345-abcde"] == "Job/nightly-28912345"
    assert snap.gaps == ()  # only the grouping is lost


def test_no_anp_crds_no_requests_no_gap(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    apiserver.anp = False
    snap = live.load_snapshot(kube, None, parts={"network"})
    assert snap.admin_network_policies == () and snap.gaps == ()
    assert not any("adminnetworkpolicies" in r.path for r in apiserver.requests)


def test_malformed_live_object_is_skipped_with_a_warning(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    bad = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "bad", "namespace": "shop"},
           "spec": {"podSelector": []}}  # fmt: skip
    apiserver.add_objects([bad])
    snap = live.load_snapshot(kube, None, parts={"network"})
    assert "shop/bad" not in {p.ref for p in snap.network_policies}
    assert any("spec.podSelector must be a mapping" in w for w in snap.warnings)


# -- reviews and discovery ----------------------------------------------------------------------------------------


def test_self_subject_review(kube: KubeOptions) -> None:
    info = live.LiveClient(kube).self_subject_review()
    assert info == {"username": "system:anonymous", "uid": "", "groups": ["system:unauthenticated"], "extra": {}}


def test_access_review_forms(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    client = live.LiveClient(kube)
    ok = client.access_review({"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "shop", "group": ""}})
    assert ok.allowed and not ok.denied and ok.reason.startswith("RBAC: allowed by RoleBinding")
    allowed, denied, reason, error = client.access_review({"verb": "get", "resource": "secrets", "namespace": "shop"})
    assert (allowed, denied, reason, error) == (False, True, "RBAC: secrets are off limits", "partial")
    nr = client.access_review(non_resource_attributes={"path": "/healthz", "verb": "get"})
    assert nr.allowed
    asked = apiserver.authorizer.asked
    assert {"verb": "create", "resource": "pods", "namespace": "shop", "nonResource": False} == asked[-3]  # "" dropped
    assert asked[-1] == {"path": "/healthz", "verb": "get", "nonResource": True}


def test_rules_review(kube: KubeOptions) -> None:
    client = live.LiveClient(kube)
    review = client.rules_review("shop")
    assert review.resource_rules == ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": []},)
    assert review.non_resource_rules == ({"verbs": ["get"], "nonResourceURLs": ["/healthz"]},)
    assert (review.incomplete, review.evaluation_error) == (False, "")
    partial = client.rules_review("partial")
    assert partial.incomplete and partial.evaluation_error == "webhook down"


def test_api_resources(kube: KubeOptions) -> None:
    resources = {(r.group, r.resource): r for r in live.LiveClient(kube).api_resources()}
    pods = resources[("", "pods")]
    assert (
        pods.namespaced and pods.kind == "Pod" and pods.version == "v1" and "list" in pods.verbs and pods.short_names == ("po",)
    )
    netpol = resources[("networking.k8s.io", "networkpolicies")]
    assert netpol.namespaced and netpol.short_names == ("netpol",)
    assert not resources[("rbac.authorization.k8s.io", "clusterroles")].namespaced
    assert ("policy.networking.k8s.io", "adminnetworkpolicies") in resources


def _daemonset(ns: str, name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}},
    }


def test_cni_warning(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    client = live.LiveClient(kube)
    assert client.cni_warning() is None  # no DaemonSets: unknown, no warning
    apiserver.add_objects([_daemonset("kube-flannel", "kube-flannel-ds", "ghcr.io/flannel-io/flannel:v0.26.1")])
    warning = client.cni_warning()
    assert warning is not None and "kube-flannel/kube-flannel-ds" in warning and "NOT enforced" in warning
    apiserver.add_objects([_daemonset("kube-system", "calico-node", "docker.io/calico/node:v3.28.0")])
    assert client.cni_warning() is None


@pytest.mark.parametrize(
    ("daemonsets", "warns"),
    [
        ([("kube-system", "kube-flannel-ds", "flannel/flannel:v0.25")], True),
        ([("kube-system", "canal", "calico/node:v3.28"), ("kube-system", "canal", "flannel/flannel:v0.25")], False),
        (
            [
                ("kube-system", "kube-flannel-ds", "flannel/flannel"),
                ("kube-system", "kube-router", "cloudnativelabs/kube-router"),
            ],
            False,
        ),
        ([("kube-system", "cilium", "quay.io/cilium/cilium:v1.16")], False),
        ([("kube-system", "kindnet", "docker.io/kindest/kindnetd:v20240513")], False),
        ([], False),
    ],
)
def test_cni_table(daemonsets: list[tuple[str, str, str]], warns: bool) -> None:
    items = [_daemonset(*d) for d in daemonsets]
    assert (live.cni_warning_from_daemonsets(items) is not None) is warns


@pytest.mark.parametrize(
    ("daemonsets", "cni"),
    [
        ([("kube-system", "calico-node", "docker.io/calico/node:v3.28.0")], "calico"),
        ([("kube-system", "canal", "calico/node:v3.28"), ("kube-system", "canal", "flannel/flannel:v0.25")], "calico"),
        ([("kube-system", "cilium", "quay.io/cilium/cilium:v1.16")], "cilium"),
        ([("kube-system", "kube-flannel-ds", "flannel/flannel:v0.25")], None),
        # Cilium chained on Calico: which one enforces which policy is a choice for --cni, not a guess
        ([("kube-system", "calico-node", "calico/node"), ("kube-system", "cilium", "cilium/cilium")], None),
        ([], None),
    ],
)
def test_cni_detection_table(daemonsets: list[tuple[str, str, str]], cni: str | None) -> None:
    assert live.cni_from_daemonsets([_daemonset(*d) for d in daemonsets]) == cni


def test_cni_check_reads_the_daemonsets_each_time(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    client = live.LiveClient(kube)
    assert client.cni_check() == (None, None)
    apiserver.add_objects([_daemonset("kube-system", "cilium", "quay.io/cilium/cilium:v1.16")])
    assert client.cni_check() == (None, "cilium")


# -- errors ----------------------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kube_server(kube: KubeOptions) -> str:
    return str(yaml.safe_load(Path(str(kube.kubeconfig)).read_text())["clusters"][0]["cluster"]["server"])


def test_unreachable_server_is_one_line_error(pki: PKI, tmp_path: Path) -> None:
    kube = _kube(_kubeconfig(tmp_path, f"https://127.0.0.1:{_closed_port()}", pki.ca_cert))
    with pytest.raises(NetssoError) as err:
        live.load_snapshot(kube, None)
    assert err.value.message == f"{kube_server(kube)}: API server unreachable: connection refused"
    assert err.value.hint and "context" in err.value.hint


def test_tls_error_is_one_line_error(apiserver: FakeAPIServer, tmp_path: Path) -> None:
    kube = _kube(_kubeconfig(tmp_path, apiserver.url, None))  # the system CAs do not trust the test CA
    with pytest.raises(NetssoError) as err:
        live.LiveClient(kube).self_subject_review()
    assert "TLS error" in err.value.message and "\n" not in err.value.message
    assert "certificate-authority" in (err.value.hint or "")


def test_insecure_skip_tls_verify_works_without_warnings(apiserver: FakeAPIServer, tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, apiserver.url, None)
    cfg = yaml.safe_load(Path(path).read_text())
    cfg["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    Path(path).write_text(yaml.safe_dump(cfg))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an InsecureRequestWarning per request would fail here
        assert live.LiveClient(_kube(path)).self_subject_review()["username"] == "system:anonymous"


def test_401_is_one_line_error_with_hint(apiserver: FakeAPIServer, pki: PKI, tmp_path: Path) -> None:
    apiserver.allow_anonymous = False
    try:
        kube = _kube(_kubeconfig(tmp_path, apiserver.url, pki.ca_cert))  # no credentials, anonymous refused
        with pytest.raises(NetssoError) as err:
            live.load_snapshot(kube, None)
        assert "401 Unauthorized" in err.value.message and "\n" not in err.value.message
        assert err.value.hint == "check the credentials of your kubeconfig user"
    finally:
        apiserver.allow_anonymous = True


def test_as_group_without_as_is_a_usage_error(kube: KubeOptions) -> None:
    bad = KubeOptions(kube.kubeconfig, None, None, False, None, ("devs",))
    with pytest.raises(NetssoError) as err:
        live.LiveClient(bad)
    assert err.value.exit_code == 2


def test_unknown_context(kube: KubeOptions) -> None:
    bad = KubeOptions(kube.kubeconfig, "nope", None, False, None, ())
    with pytest.raises(NetssoError, match='context "nope" not found'):
        live.LiveClient(bad)


def test_namespace_defaults(kube: KubeOptions) -> None:
    assert live.LiveClient(kube).namespace == "shop"  # the context's
    assert live.LiveClient(KubeOptions(kube.kubeconfig, None, "other", False, None, ())).namespace == "other"


def _node(name: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]}}  # fmt: skip


def test_nodes_give_their_addresses_and_a_403_is_a_gap(kube: KubeOptions, apiserver: FakeAPIServer) -> None:
    """A pod and its own node always talk (issue 10 item 5): live, the node addresses come from the Node objects;
    a user who may not list nodes gets a gap (the pods' hostIPs still name their nodes), not an error."""
    apiserver.add_objects([_node("node-a", "10.1.0.1")])
    snap = live.load_snapshot(kube, ["shop"], parts={"network"})
    assert [(n.name, n.addresses) for n in snap.nodes] == [("node-a", ("10.1.0.1",))]
    assert not [g for g in snap.gaps if g.resource == "nodes"]
    apiserver.forbid("nodes", None)
    snap = live.load_snapshot(kube, ["shop"], parts={"network"})
    assert snap.nodes == ()
    (gap,) = [g for g in snap.gaps if g.resource == "nodes"]
    assert gap.namespace is None and "forbidden" in gap.reason
