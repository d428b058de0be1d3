# ruff: noqa: E501  (recorded API objects: one field per line would triple the file)
"""cluster/live.py mapping on recorded API objects (shapes as `kubectl get -o json` returns them), and pagination."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubectl_netsso.cli.options import KubeOptions
from kubectl_netsso.cluster import live
from kubectl_netsso.cluster.reviews import APIStatusError
from kubectl_netsso.cluster.snapshot import Gap

# A pod as the API returns it (trimmed, but with the fields real servers send that the loader must tolerate).
RECORDED_POD: dict[str, Any] = {
    "metadata": {
        "name": "api-7c9d8b6f5-x2x9k",
        "generateName": "api-7c9d8b6f5-",
        "namespace": "shop",
        "uid": "0b8c1e6a-2a59-4f0c-9b0e-3c5d8f3d7a11",
        "resourceVersion": "123456",
        "creationTimestamp": "2026-11-28T10:00:00Z",
        "labels": {"app": "api", "pod-template-hash": "7c9d8b6f5"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-28T09:59:00Z"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "api-7c9d8b6f5",
                "uid": "u-rs",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        "managedFields": [
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2026-11-28T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
            }
        ],
    },
    "spec": {
        "volumes": [
            {
                "name": "kube-api-access-abcde",
                "projected": {
                    "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}],
                    "defaultMode": 420,
                },
            }
        ],
        "containers": [
            {
                "name": "api",
                "image": "registry.example/api:1.2.3",
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9090, "protocol": "TCP", "hostPort": 19090},
                ],
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10},
                "imagePullPolicy": "IfNotPresent",
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "api",
        "serviceAccount": "api",
        "nodeName": "worker-1",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ],
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    },
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": "2026-11-28T10:00:05Z"}],
        "hostIP": "172.18.0.3",
        "hostIPs": [{"ip": "172.18.0.3"}],
        "podIP": "10.244.1.7",
        "podIPs": [{"ip": "10.244.1.7"}, {"ip": "fd00:10:244:1::7"}],
        "startTime": "2026-11-28T10:00:00Z",
        "containerStatuses": [
            {
                "name": "api",
                "ready": True,
                "restartCount": 0,
                "image": "registry.example/api:1.2.3",
                "imageID": "sha",
                "started": True,
                "state": {"running": {"startedAt": "2026-11-28T10:00:03Z"}},
                "lastState": {},
            }
        ],
        "qosClass": "Burstable",
    },
}
RECORDED_SERVICE: dict[str, Any] = {
    "metadata": {
        "name": "api",
        "namespace": "shop",
        "uid": "u",
        "resourceVersion": "1",
        "creationTimestamp": "2026-11-28T10:00:00Z",
    },
    "spec": {
        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": 31080}],
        "selector": {"app": "api"},
        "clusterIP": "10.96.12.34",
        "clusterIPs": ["10.96.12.34", "fd00:10:96::1234"],
        "type": "NodePort",
        "sessionAffinity": "None",
        "externalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4", "IPv6"],
        "ipFamilyPolicy": "PreferDualStack",
        "internalTrafficPolicy": "Cluster",
    },
    "status": {"loadBalancer": {}},
}
RECORDED_NETPOL: dict[str, Any] = {
    "metadata": {
        "name": "api",
        "namespace": "shop",
        "generation": 1,
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
    },
    "spec": {
        "podSelector": {"matchLabels": {"app": "api"}},
        "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}], "ports": [{"protocol": "TCP", "port": 8080}]}
        ],
        "policyTypes": ["Ingress"],
    },
}
RECORDED_CLUSTERROLE: dict[str, Any] = {
    "metadata": {
        "name": "view",
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", "rbac.authorization.k8s.io/aggregate-to-edit": "true"},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    },
    "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]},
    "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}],
}


def _typed(obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, **copy.deepcopy(obj)}


def test_recorded_objects_map_to_records() -> None:
    objects = [
        ("live pods", _typed(RECORDED_POD, "v1", "Pod")),
        ("live services", _typed(RECORDED_SERVICE, "v1", "Service")),
        ("live networkpolicies", _typed(RECORDED_NETPOL, "networking.k8s.io/v1", "NetworkPolicy")),
        ("live clusterroles", _typed(RECORDED_CLUSTERROLE, "rbac.authorization.k8s.io/v1", "ClusterRole")),
    ]
    gap = Gap("roles", "shop", "forbidden: x")
    snap = live._snapshot_from_live(
        objects, {("ReplicaSet", "shop", "api-7c9d8b6f5"): "Deployment/api"}, [gap], source="live: context t"
    )
    (pod,) = snap.workloads
    assert (pod.ref, pod.owner, pod.source, pod.service_account) == ("shop/api-7c9d8b6f5-x2x9k", "Deployment/api", "live", "api")
    assert pod.ips == ("10.244.1.7", "fd00:10:244:1::7")
    assert [(p.name, p.port) for p in pod.ports] == [("http", 8080), ("metrics", 9090)]
    (svc,) = snap.services
    assert (svc.type, svc.cluster_ips, svc.ports[0].target_port) == ("NodePort", ("10.96.12.34", "fd00:10:96::1234"), "http")
    (np,) = snap.network_policies
    assert np.spec["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    (role,) = snap.roles
    assert role.kind == "ClusterRole" and role.aggregation_selectors and role.rules[0].resources == ("pods", "pods/log")
    assert snap.gaps == (gap,) and snap.source == "live: context t" and snap.warnings == ()
    assert [n.name for n in snap.namespaces] == ["shop"]  # referenced only: the automatic label


@pytest.mark.parametrize(
    ("refs", "owners", "expected"),
    [
        ([{"kind": "ReplicaSet", "name": "rs-1", "controller": True}], {}, "ReplicaSet/rs-1"),  # RS not listable
        (
            [{"kind": "ReplicaSet", "name": "rs-1", "controller": True}],
            {("ReplicaSet", "shop", "rs-1"): "Deployment/d"},
            "Deployment/d",
        ),
        (
            [{"kind": "Job", "name": "nightly-1", "controller": True}],
            {("Job", "shop", "nightly-1"): "CronJob/nightly"},
            "CronJob/nightly",
        ),
        (
            [{"kind": "StatefulSet", "name": "rs-1", "controller": True}],
            {("ReplicaSet", "shop", "rs-1"): "Deployment/d"},
            "StatefulSet/rs-1",
        ),
        ([{"kind": "Node", "name": "n1"}, {"kind": "StatefulSet", "name": "db", "controller": True}], {}, "StatefulSet/db"),
        ([{"kind": "Job", "name": "migrate"}], {}, "Job/migrate"),  # no controller flag: the first reference
        ([], {}, None),
    ],
)
def test_pod_owner(refs: list[dict[str, Any]], owners: dict[tuple[str, str, str], str], expected: str | None) -> None:
    pod = _typed(RECORDED_POD, "v1", "Pod")
    pod["metadata"]["ownerReferences"] = refs
    snap = live._snapshot_from_live([("live pods", pod)], owners, [], source="s")
    assert snap.workloads[0].owner == expected


class _Pager(live.LiveClient):
    """LiveClient with request() answered from memory (no kubeconfig, no HTTP)."""

    def __init__(self, pages: dict[str | None, dict[str, Any]]) -> None:
        self.pages = pages
        self.calls: list[tuple[str, list[tuple[str, Any]]]] = []

    def request(self, method: str, path: str, query: Any = (), body: Any = None) -> Any:
        query = list(query)
        self.calls.append((path, query))
        token = dict(query).get("continue")
        return self.pages[token]


def test_list_follows_continue_tokens_and_types_items() -> None:
    pages = {
        None: {"metadata": {"continue": "p2"}, "items": [{"metadata": {"name": "a", "namespace": "x"}}]},
        "p2": {"metadata": {"continue": "p3"}, "items": [{"metadata": {"name": "b", "namespace": "x"}}, "garbage"]},
        "p3": {"metadata": {}, "items": [{"metadata": {"name": "c", "namespace": "y"}}]},
    }
    client = _Pager(pages)
    items = client._list("networkpolicies", None)
    assert [i["metadata"]["name"] for i in items] == ["a", "b", "c"]
    assert all(i["kind"] == "NetworkPolicy" and i["apiVersion"] == "networking.k8s.io/v1" for i in items)
    assert [c[0] for c in client.calls] == ["/apis/networking.k8s.io/v1/networkpolicies"] * 3
    assert client.calls[0][1] == [("limit", 500)] and client.calls[2][1] == [("limit", 500), ("continue", "p3")]
    client.calls.clear()
    client._list("pods", "shop")
    assert client.calls[0][0] == "/api/v1/namespaces/shop/pods"


def test_parts_are_checked() -> None:
    client = _Pager({})
    with pytest.raises(ValueError, match="unknown snapshot parts"):
        client.snapshot(None, {"network", "storage"})


def test_load_snapshot_accepts_a_client() -> None:
    class Fake:
        def snapshot(self, namespaces: Any, parts: Any) -> str:
            return f"{namespaces}-{sorted(parts)}"

    kube = KubeOptions(None, None, None, False, None, ())
    assert live.load_snapshot(kube, ["a"], {"rbac"}, client=Fake()) == "['a']-['rbac']"  # type: ignore[arg-type, comparison-overlap]


class _Discovery(live.LiveClient):
    """LiveClient answering discovery paths from memory, with a failing aggregated API."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self._api = object()  # no client needed
        self._groups = None

    def request(self, method: str, path: str, query: Any = (), body: Any = None) -> Any:
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_api_resources_groups_subresources_and_skips_failing_groups() -> None:
    answers = {
        "/apis": {
            "groups": [
                {"name": "apps", "versions": [{"version": "v1"}, {"version": "v1beta1"}], "preferredVersion": {"version": "v1"}},
                {"name": "metrics.k8s.io", "versions": [{"version": "v1beta1"}]},  # no preferredVersion: first one
            ]
        },
        "/api/v1": {
            "resources": [
                {"name": "pods", "kind": "Pod", "namespaced": True, "verbs": ["get", "list"], "shortNames": ["po"]},
                {"name": "pods/exec", "kind": "PodExecOptions", "namespaced": True, "verbs": ["create", "get"]},
                {"name": "pods/log", "kind": "Pod", "namespaced": True, "verbs": ["get"]},
                {"name": "nodes", "kind": "Node", "namespaced": False, "verbs": ["get"]},
            ]
        },
        "/apis/apps/v1": {"resources": [{"name": "deployments", "kind": "Deployment", "namespaced": True, "verbs": ["get"]},
                                        {"name": "deployments/scale", "kind": "Scale", "namespaced": True, "verbs": ["get", "patch"]}]},
        "/apis/metrics.k8s.io/v1beta1": APIStatusError(503, "service unavailable"),
    }  # fmt: skip
    got = {(r.group, r.resource): r for r in _Discovery(answers).api_resources()}
    assert set(got) == {("", "pods"), ("", "nodes"), ("apps", "deployments")}
    pods = got[("", "pods")]
    assert (pods.version, pods.kind, pods.namespaced, pods.subresources, pods.short_names) == (
        "v1",
        "Pod",
        True,
        ("exec", "log"),
        ("po",),
    )
    assert got[("apps", "deployments")].subresources == ("scale",)
    assert not got[("", "nodes")].namespaced


def test_anp_detection_from_discovery() -> None:
    with_anp = {"/apis": {"groups": [{"name": "policy.networking.k8s.io", "versions": [{"version": "v1alpha1"}]}]}}
    assert _Discovery(with_anp).has_admin_network_policies()
    assert not _Discovery({"/apis": {"groups": [{"name": "apps", "versions": [{"version": "v1"}]}]}}).has_admin_network_policies()


def test_live_and_manifest_mappings_agree() -> None:
    """The same API objects give the same records live and offline (only owner and source differ)."""
    from dataclasses import replace

    from kubectl_netsso.cluster.decode import snapshot_from_objects

    objects = [
        ("a", _typed(RECORDED_POD, "v1", "Pod")),
        ("b", _typed(RECORDED_SERVICE, "v1", "Service")),
        ("c", _typed(RECORDED_NETPOL, "networking.k8s.io/v1", "NetworkPolicy")),
        ("d", _typed(RECORDED_CLUSTERROLE, "rbac.authorization.k8s.io/v1", "ClusterRole")),
    ]
    offline = snapshot_from_objects(copy.deepcopy(objects))
    online = live._snapshot_from_live(copy.deepcopy(objects), {}, [], source="")
    assert [replace(w, owner=None, source="") for w in online.workloads] == [replace(w, source="") for w in offline.workloads]
    assert [replace(s, source="") for s in online.services] == [replace(s, source="") for s in offline.services]
    assert [p.spec for p in online.network_policies] == [p.spec for p in offline.network_policies]
    assert [replace(r, source="") for r in online.roles] == [replace(r, source="") for r in offline.roles]
    assert online.namespaces == offline.namespaces
