# ruff: noqa: E501  (test tables: one object per line reads better)
"""cluster/manifests.py: every loader rule on small files, folders and stdin."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO

from kubectl_netsso.cluster.decode import snapshot_from_objects
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.snapshot import NAMESPACE_NAME_LABEL, ContainerPort, ServicePort, Subject, Workload
from kubectl_netsso.errors import NetssoError

POD_SPEC = {
    "serviceAccountName": "api-sa",
    "initContainers": [
        {"name": "migrate", "image": "x", "ports": [{"containerPort": 5000, "name": "init-port"}]},
        {"name": "proxy", "image": "x", "restartPolicy": "Always", "ports": [{"containerPort": 15001, "name": "proxy"}]},
    ],
    "containers": [
        {
            "name": "app",
            "image": "x",
            "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 53, "protocol": "UDP"}],
        },
        {"name": "metrics", "image": "x", "ports": [{"containerPort": 9090, "name": "metrics", "protocol": "TCP"}]},
    ],
}
TEMPLATE = {"metadata": {"labels": {"app": "api", "tier": "backend"}}, "spec": POD_SPEC}
EXPECTED_PORTS = (
    ContainerPort(8080, "TCP", "http"),
    ContainerPort(53, "UDP", None),
    ContainerPort(9090, "TCP", "metrics"),
    ContainerPort(15001, "TCP", "proxy"),  # sidecar (restartPolicy: Always); the plain init container's port is not used
)


def _meta(name: str, ns: str | None = "shop", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns is not None:
        meta["namespace"] = ns
    if labels:
        meta["labels"] = labels
    return meta


def _write(path: Path, *docs: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def _one(doc: dict[str, Any]) -> Any:
    return snapshot_from_objects([("t.yaml document 1", doc)])


def _rejected(tmp_path: Path, *docs: Any, name: str = "x.yaml") -> str:
    """The one invalid object among docs: left out of the snapshot with a one-line warning; returns its message."""
    path = _write(tmp_path / name, *docs)
    snap = load_snapshot([str(path)])
    (invalid,) = snap.invalid
    assert "\n" not in invalid.message
    warning = next(w for w in snap.warnings if w.startswith(invalid.message))
    assert "\n" not in warning and "left out: the API server would reject this object" in warning
    if invalid.name:
        records = (*snap.workloads, *snap.services, *snap.network_policies, *snap.admin_network_policies, *snap.roles,
                   *snap.bindings, *snap.namespaces)  # fmt: skip
        assert all(getattr(r, "source", None) != invalid.location for r in records)
    return invalid.message


# -- workloads ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("extensions/v1beta1", "Deployment"),
        ("v1", "ReplicationController"),
        ("batch/v1", "Job"),
    ],
)
def test_workload_from_pod_template(api_version: str, kind: str) -> None:
    snap = _one({"apiVersion": api_version, "kind": kind, "metadata": _meta("api", owner="me"), "spec": {"template": TEMPLATE}})
    (w,) = snap.workloads
    assert w == Workload(
        namespace="shop",
        name="api",
        kind=kind,
        labels={"app": "api", "tier": "backend"},  # the template's labels, not the object's
        ports=EXPECTED_PORTS,
        host_network=False,
        service_account="api-sa",
        source="t.yaml document 1",
    )
    assert w.ref == f"shop/{kind.lower()}/api"


def test_cronjob_uses_job_template() -> None:
    doc = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta("nightly"),
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": TEMPLATE}}},
    }
    (w,) = _one(doc).workloads
    assert (w.kind, dict(w.labels), w.ports) == ("CronJob", {"app": "api", "tier": "backend"}, EXPECTED_PORTS)


def test_bare_pod_uses_its_own_labels_ips_and_host_network() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("api-0", app="api"),
        "spec": {"hostNetwork": True, "serviceAccount": "legacy", "containers": [{"name": "c", "image": "x"}]},
        "status": {"podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]},
    }
    (w,) = _one(doc).workloads
    assert (w.kind, w.ref, dict(w.labels), w.ports, w.ips) == ("Pod", "shop/api-0", {"app": "api"}, (), ("10.0.0.5", "fd00::5"))
    assert w.host_network is True and w.service_account == "legacy"


def test_service_account_defaults_to_default() -> None:
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"containers": []}}
    assert _one(doc).workloads[0].service_account == "default"


# -- services --------------------------------------------------------------------------------------------------------


def test_service_ports_defaults() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("api"),
        "spec": {
            "selector": {"app": "api"},
            "clusterIP": "10.96.0.1",
            "ports": [
                {"port": 80},  # targetPort defaults to port, protocol to TCP
                {"name": "web", "port": 443, "targetPort": "https"},
                {"port": 53, "targetPort": 5353, "protocol": "UDP"},
            ],
        },
    }
    (svc,) = _one(doc).services
    assert dict(svc.selector or {}) == {"app": "api"} and svc.type == "ClusterIP" and svc.cluster_ips == ("10.96.0.1",)
    assert svc.ports == (
        ServicePort(80, 80, "TCP", None),
        ServicePort(443, "https", "TCP", "web"),
        ServicePort(53, 5353, "UDP", None),
    )


@pytest.mark.parametrize("selector", [None, {}])
def test_service_without_selector(selector: Any) -> None:
    spec: dict[str, Any] = {"ports": [{"port": 5432}], "clusterIP": "None"}
    if selector is not None:
        spec["selector"] = selector
    (svc,) = _one({"apiVersion": "v1", "kind": "Service", "metadata": _meta("db"), "spec": spec}).services
    assert svc.selector is None and svc.cluster_ips == ()


# -- policies ---------------------------------------------------------------------------------------------------------


def test_network_policy_spec_is_normalised() -> None:
    doc = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("np"),
        "spec": {
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {},  # allow all
                None,
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"team": "web"}}, "podSelector": {}},
                        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}, "namespaceSelector": None},
                        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                    ],
                    "ports": [
                        {"port": 80},
                        {"port": "http", "protocol": "TCP"},
                        {"port": 32000, "endPort": 32768},
                        {"protocol": "UDP"},
                    ],
                },
            ],
            "egress": [],
        },
    }
    (np,) = _one(doc).network_policies
    assert np.ref == "shop/np"
    assert np.spec == {
        "podSelector": {},  # absent podSelector: all pods (a non-pointer field in the Go type)
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {},
            {},
            {
                "from": [
                    {"podSelector": {}, "namespaceSelector": {"matchLabels": {"team": "web"}}},
                    {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": []}]}},
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                ],
                "ports": [
                    {"protocol": "TCP", "port": 80},
                    {"protocol": "TCP", "port": "http"},
                    {"protocol": "TCP", "port": 32000, "endPort": 32768},
                    {"protocol": "UDP"},
                ],
            },
        ],
        "egress": [],  # present-but-empty differs from absent
    }


def test_admin_network_policies() -> None:
    anp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "pci", "namespace": "ignored"},
        "spec": {
            "priority": 5,
            "subject": {"pods": {"namespaceSelector": {"matchLabels": {"pci": "true"}}, "podSelector": {}}},
            "ingress": [
                {"name": "deny-all", "action": "Deny", "from": [{"namespaces": {}}], "ports": [{"portNumber": {"port": 80}}]}
            ],
            "egress": [
                {
                    "action": "Pass",
                    "to": [{"networks": ["0.0.0.0/0"]}],
                    "ports": [{"namedPort": "dns"}, {"portRange": {"start": 1, "end": 9}}],
                }
            ],
        },
    }
    banp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {"subject": {"namespaces": {}}, "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]},
    }
    snap = snapshot_from_objects([("a", anp), ("b", banp)])
    a, b = snap.admin_network_policies
    assert (a.name, a.kind, a.priority) == ("pci", "AdminNetworkPolicy", 5)
    assert a.spec["egress"][0]["ports"] == [{"namedPort": "dns"}, {"portRange": {"protocol": "TCP", "start": 1, "end": 9}}]
    assert a.spec["ingress"][0]["ports"] == [{"portNumber": {"protocol": "TCP", "port": 80}}]
    assert (b.kind, b.spec["subject"]) == ("BaselineAdminNetworkPolicy", {"namespaces": {}})
    assert snap.namespaces == ()  # cluster-scoped: metadata.namespace ignored


def test_admin_network_policy_peer_of_a_newer_version_is_kept_for_the_engine_to_fail_closed() -> None:
    # "If a peer is unknown (e.g. added in a newer version) ... the implementation MUST fail closed": not a load error
    anp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "new"},
        "spec": {"priority": 1, "subject": {"namespaces": {}}, "egress": [{"action": "Deny", "to": [{"somethingNew": {}}]}]},
    }
    (a,) = snapshot_from_objects([("a", anp)]).admin_network_policies
    assert a.spec["egress"][0]["to"] == [{"somethingNew": {}}]
    from kubectl_netsso.netpol.compile import compile_snapshot

    (rule,) = compile_snapshot(snapshot_from_objects([("a", anp)])).admin_policies[0].egress or ()
    assert rule.peers[0].kind == "invalid" and rule.peers[0].matches_all  # a Deny with an unknown peer denies all


# -- RBAC ------------------------------------------------------------------------------------------------------------


def test_rbac_objects() -> None:
    docs = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("reader"),
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get"], "resourceNames": ["a"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "monitoring", "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]},
            "rules": [{"nonResourceURLs": ["/metrics", "/healthz/*"], "verbs": ["get"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta("devs"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [
                {"kind": "Group", "name": "oidc:devs", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "ServiceAccount", "name": "ci"},
                {"kind": "ServiceAccount", "name": "bot", "namespace": "tools"},
                {"kind": "User", "name": "alice"},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "sre"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        },
    ]
    snap = snapshot_from_objects([(f"r document {i}", d) for i, d in enumerate(docs, 1)])
    role, crole = snap.roles
    assert (role.kind, role.namespace, role.rules[0].resources, role.rules[0].resource_names) == (
        "Role",
        "shop",
        ("pods", "pods/log"),
        ("a",),
    )
    assert crole.kind == "ClusterRole" and crole.rules[0].non_resource_urls == ("/metrics", "/healthz/*")
    assert crole.aggregation_selectors == ({"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}},)
    assert dict(crole.labels) == {"rbac.example.com/aggregate-to-monitoring": "true"}
    assert role.aggregation_selectors is None
    rb, crb = snap.bindings
    assert (rb.kind, rb.role_kind, rb.role_name) == ("RoleBinding", "ClusterRole", "edit")
    assert rb.subjects == (
        Subject("Group", "oidc:devs", None, "rbac.authorization.k8s.io"),
        Subject("ServiceAccount", "ci", "shop", ""),  # namespace defaults to the binding's
        Subject("ServiceAccount", "bot", "tools", ""),
        Subject("User", "alice", None, "rbac.authorization.k8s.io"),
    )
    assert crb.kind == "ClusterRoleBinding" and crb.namespace is None and crb.subjects == ()


def test_cluster_role_binding_service_account_needs_namespace(tmp_path: Path) -> None:
    crb = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "x"},
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci"}],
    }
    assert _rejected(tmp_path, crb) == str(tmp_path / "x.yaml") + (
        " document 1: ClusterRoleBinding x: subjects[0].namespace is required for a ServiceAccount in a ClusterRoleBinding"
    )


# -- namespaces ------------------------------------------------------------------------------------------------------


def test_namespaces_from_manifests_and_references() -> None:
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "odd", "labels": {NAMESPACE_NAME_LABEL: "wrong"}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("s", "payments"), "spec": {}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("c", "configs-only")},  # skipped kind: no namespace
    ]
    snap = snapshot_from_objects([(f"f document {i}", d) for i, d in enumerate(docs, 1)])
    ns = {n.name: dict(n.labels) for n in snap.namespaces}
    assert ns == {
        "shop": {"team": "shop", NAMESPACE_NAME_LABEL: "shop"},  # added to a Namespace manifest
        "odd": {NAMESPACE_NAME_LABEL: "odd"},  # the API server always sets it to the name
        "payments": {NAMESPACE_NAME_LABEL: "payments"},  # only referenced: exists with the automatic label
    }
    assert snap.warnings == ()


def test_objects_without_namespace_go_to_default_with_one_warning(tmp_path: Path) -> None:
    docs = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}"}, "spec": {}} for i in range(5)]
    path = _write(tmp_path / "svc.yaml", *docs)
    snap = load_snapshot([str(path)])
    assert {s.namespace for s in snap.services} == {"default"}
    assert [n.name for n in snap.namespaces] == ["default"]
    (warning,) = snap.warnings
    assert (
        warning
        == f"{path}: 5 object(s) without metadata.namespace placed in 'default': Service s0, Service s1, Service s2 and 2 more"
    )


# -- files, folders, stdin, Lists -----------------------------------------------------------------------------------


def _pod(name: str, ns: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(name, ns), "spec": {"containers": []}}


def test_folder_is_recursive_skips_hidden_dirs_and_other_files(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", _pod("a"))
    _write(tmp_path / "sub" / "deeper" / "b.yml", _pod("b"))
    (tmp_path / "sub" / "c.json").write_text(json.dumps(_pod("c")))
    _write(tmp_path / ".git" / "d.yaml", _pod("d"))
    _write(tmp_path / "notes.txt", _pod("e"))
    (tmp_path / "README.md").write_text("# not yaml: {{")
    snap = load_snapshot([str(tmp_path)])
    assert sorted(w.name for w in snap.workloads) == ["a", "b", "c"]
    assert snap.source == f"manifests: {tmp_path}"
    # an explicitly named file is read whatever its extension
    assert [w.name for w in load_snapshot([str(tmp_path / "notes.txt")]).workloads] == ["e"]


def test_multi_document_yaml_with_empty_documents(tmp_path: Path) -> None:
    text = "---\n" + yaml.safe_dump(_pod("a")) + "---\n---\n# only a comment\n---\n" + yaml.safe_dump(_pod("b")) + "...\n"
    path = tmp_path / "m.yaml"
    path.write_text(text)
    snap = load_snapshot([str(path)])
    assert [(w.name, w.source) for w in snap.workloads] == [("a", f"{path} document 1"), ("b", f"{path} document 4")]


def test_lists(tmp_path: Path) -> None:
    lst = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [_pod("a"), {"apiVersion": "v1", "kind": "PodList", "items": [_pod("b")]}],
    }
    typed = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicyList", "metadata": {}, "items": [
        {"metadata": _meta("np"), "spec": {"podSelector": {}}, "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}
    ]}  # fmt: skip
    (tmp_path / "l.json").write_text(json.dumps(lst))
    _write(tmp_path / "n.yaml", typed)
    snap = load_snapshot([str(tmp_path)])
    assert [(w.name, w.source) for w in snap.workloads] == [
        ("a", f"{tmp_path / 'l.json'} document 1 item 1"),
        ("b", f"{tmp_path / 'l.json'} document 1 item 2 item 1"),
    ]
    assert [p.name for p in snap.network_policies] == ["np"]


def test_typed_list_items_without_kind_take_it_from_the_list(tmp_path: Path) -> None:
    # what the API server returns (`kubectl get --raw /api/v1/namespaces/a/pods`): items carry no kind/apiVersion
    pods = {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [
        {k: v for k, v in _pod("a").items() if k not in ("kind", "apiVersion")}]}
    nps = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicyList", "items": [
        {"metadata": _meta("np"), "spec": {"podSelector": {}}}]}  # fmt: skip
    (tmp_path / "raw.json").write_text(json.dumps(pods) + "\n")
    _write(tmp_path / "np.yaml", nps)
    snap = load_snapshot([str(tmp_path)])
    assert [(w.kind, w.name) for w in snap.workloads] == [("Pod", "a")]
    assert [p.name for p in snap.network_policies] == ["np"]
    # a plain List still needs kinds on its items
    _write(tmp_path / "np.yaml", {"apiVersion": "v1", "kind": "List", "items": [{"metadata": _meta("x")}]})
    snap = load_snapshot([str(tmp_path)])
    assert [i.reason for i in snap.invalid] == ["kind is required"] and not snap.network_policies


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    text = yaml.safe_dump_all([_pod("a"), _pod("b")])
    assert [w.name for w in load_snapshot(["-"], stdin=io.StringIO(text)).workloads] == ["a", "b"]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(_pod("c"))))
    snap = load_snapshot(["-"])
    assert [(w.name, w.source) for w in snap.workloads] == [("c", "<stdin> document 1")]


def test_several_paths_and_duplicates_last_wins(tmp_path: Path) -> None:
    first = _write(tmp_path / "1.yaml", {**_pod("a"), "metadata": _meta("a", app="old")})
    second = _write(tmp_path / "2.yaml", {**_pod("a"), "metadata": _meta("a", app="new")}, {**_pod("a"), "kind": "Pod"})
    snap = load_snapshot([str(first), str(second)])
    (w,) = snap.workloads
    assert dict(w.labels) == {}  # the last definition (2.yaml document 2) has no labels
    assert snap.warnings == (
        f"{second} document 1: Pod shop/a also defined in {first} document 1; the last one wins",
        f"{second} document 2: Pod shop/a also defined in {second} document 1; the last one wins",
    )


def test_same_name_different_kinds_are_not_duplicates() -> None:
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("api"), "spec": {"template": TEMPLATE}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": _meta("api"), "spec": {}}
    snap = snapshot_from_objects([("a", dep), ("b", svc), ("c", _pod("api"))])
    assert len(snap.workloads) == 2 and len(snap.services) == 1 and snap.warnings == ()


def test_unknown_kinds_are_skipped_and_another_groups_network_policy_is_never_read_as_kubernetes_one() -> None:
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("c"), "data": {"a": 1}},
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "NetworkPolicy",
            "metadata": _meta("calico"),
            "spec": {"selector": "all()"},
        },
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": "garbage is fine for kinds we skip"},
    ]
    snap = snapshot_from_objects([(str(i), d) for i, d in enumerate(docs)])
    assert snap.network_policies == () and snap.workloads == ()
    # issue 12: Calico's NetworkPolicy is not silently skipped either -- it is kept as what it is
    assert [(p.kind, p.api_version, p.namespace, p.name) for p in snap.calico_policies] == [
        ("NetworkPolicy", "projectcalico.org/v3", "shop", "calico")
    ]


# -- errors -----------------------------------------------------------------------------------------------------------


def _np(spec: Any, name: str = "np") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(name), "spec": spec}


def test_error_names_file_and_document(tmp_path: Path) -> None:
    msg = _rejected(tmp_path, _pod("a"), _pod("b"), _np({"podSelector": ["app=x"]}), name="examples/x.yaml")
    assert (
        msg
        == f"{tmp_path / 'examples' / 'x.yaml'} document 3: NetworkPolicy shop/np: spec.podSelector must be a mapping, not a list"
    )


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"apiVersion": "v1", "metadata": {"name": "x"}}, "document 1: kind is required"),
        ({"apiVersion": "v1", "kind": "List", "items": ["a"]}, "document 1 item 1: must be a mapping with apiVersion and kind, not a string"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}}, "document 1: Pod: metadata.name is required"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"v": 1}}, "spec": {}},
         "Pod default/p: metadata.labels.v must be a string, not a number"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"on": True}}, "spec": {}},
         "metadata.labels.on must be a string, not a boolean"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"containers": {"name": "c"}}},
         "Pod shop/p: spec.containers must be a list, not a mapping"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"containers": [{"ports": [{"containerPort": "80"}]}]}},
         "spec.containers[0].ports[0].containerPort must be a number, not a string"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"containers": [{"ports": [{"containerPort": 70000}]}]}},
         "spec.containers[0].ports[0].containerPort must be between 1 and 65535, not 70000"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"containers": [{"ports": [{"name": "x"}]}]}},
         "spec.containers[0].ports[0].containerPort is required"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p"), "spec": {"hostNetwork": "yes"}},
         "spec.hostNetwork must be true or false, not a string"),
        ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("d"), "spec": {}}, "Deployment shop/d: spec.template is required"),
        ({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("c"), "spec": {"jobTemplate": {"spec": {}}}},
         "spec.jobTemplate.spec.template is required"),
        ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("d"),
          "spec": {"template": {"metadata": {"labels": ["a"]}, "spec": {}}}}, "spec.template.metadata.labels must be a mapping"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": _meta("s"), "spec": {"ports": [{"port": 80, "protocol": "HTTP"}]}},
         "spec.ports[0].protocol must be one of TCP, UDP, SCTP, not 'HTTP'"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": _meta("s"), "spec": {"ports": [{"port": 80, "targetPort": "8080"}]}},
         "spec.ports[0].targetPort must be a port number or a port name, not '8080'"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": _meta("s"), "spec": {"ports": [{"targetPort": 80}]}},
         "spec.ports[0].port is required"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": _meta("s"), "spec": {"selector": "app=x"}},
         "spec.selector must be a mapping, not a string"),
        (_np(None), "NetworkPolicy shop/np: spec is required"),
        (_np({"policyTypes": ["ingress"]}), "spec.policyTypes[0] must be Ingress or Egress, not 'ingress'"),
        (_np({"ingress": {"from": []}}), "spec.ingress must be a list, not a mapping"),
        (_np({"ingress": [{"from": [{}]}]}), "spec.ingress[0].from[0] must set podSelector, namespaceSelector or ipBlock"),
        (_np({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.300/8"}}]}]}),
         "spec.egress[0].to[0].ipBlock.cidr must be a CIDR such as 10.0.0.0/8, not '10.0.0.300/8'"),
        (_np({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": "10.1.0.0/16"}}]}]}),
         "spec.egress[0].to[0].ipBlock.except must be a list, not a string"),
        (_np({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}),
         "ipBlock cannot be combined with podSelector or namespaceSelector"),
        (_np({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}), "spec.ingress[0].ports[0].endPort must be >= port (90), not 80"),
        (_np({"ingress": [{"ports": [{"port": "http", "endPort": 80}]}]}), "spec.ingress[0].ports[0].endPort needs a numeric port"),
        (_np({"ingress": [{"ports": [{"port": 0}]}]}), "spec.ingress[0].ports[0].port must be between 1 and 65535, not 0"),
        (_np({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}}),
         "spec.podSelector.matchExpressions[0].operator must be one of In, NotIn, Exists, DoesNotExist, not 'Equals'"),
        (_np({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}),
         "spec.podSelector.matchExpressions[0].values must be non-empty for operator In"),
        (_np({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}}),
         "values must be empty for operator Exists"),
        ({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": "a"},
          "spec": {"subject": {"namespaces": {}}}}, "AdminNetworkPolicy a: spec.priority must be a number, not null"),
        ({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
          "spec": {"subject": {"namespaces": {}}, "ingress": [{"action": "Pass", "from": [{"namespaces": {}}]}]}},
         "spec.ingress[0].action must be one of Allow, Deny, not 'Pass'"),
        ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta("r"), "rules": [{"verbs": "get"}]},
         "Role shop/r: rules[0].verbs must be a list, not a string"),
        ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta("b"), "roleRef": {"kind": "Role"}},
         "RoleBinding shop/b: roleRef.name is required"),
        ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
          "roleRef": {"kind": "Role", "name": "r"}}, "roleRef.kind must be ClusterRole, not 'Role'"),
        ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta("b"),
          "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "Robot", "name": "x"}]},
         "subjects[0].kind must be User, Group or ServiceAccount, not 'Robot'"),
        ({"apiVersion": "v1", "kind": "List", "items": [_pod("ok"), {"kind": "Pod", "metadata": {"name": 5}}]},
         "document 1 item 2: Pod: metadata.name must be a string, not a number"),
    ],
)  # fmt: skip
def test_malformed_objects(tmp_path: Path, doc: Any, expected: str) -> None:
    msg = _rejected(tmp_path, doc)
    assert msg.startswith(f"{tmp_path / 'x.yaml'} document 1")
    assert expected in msg


def test_label_error_hints_at_quoting(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels:\n    pci: yes\n")
    (invalid,) = load_snapshot([str(path)]).invalid
    assert invalid.message == f"{path} document 1: Namespace x: metadata.labels.pci must be a string, not a boolean"
    assert invalid.hint is not None and "quote" in invalid.hint


def test_invalid_yaml_names_document_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_pod("a")) + "---\n" + yaml.safe_dump(_pod("b")) + "---\nkind: Pod\nmetadata: {name: [\n")
    with pytest.raises(NetssoError) as err:
        load_snapshot([str(path)])
    assert err.value.message.startswith(f"{path} document 3 (line ")
    assert "invalid YAML" in err.value.message and "\n" not in err.value.message


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"kind": "Pod",\n "metadata": }')
    with pytest.raises(NetssoError, match=r"bad\.json document 1 line 2: invalid JSON"):
        load_snapshot([str(path)])


def test_missing_path_and_unreadable_text(tmp_path: Path) -> None:
    with pytest.raises(NetssoError) as err:
        load_snapshot([str(tmp_path / "nope.yaml")])
    assert err.value.message == f"{tmp_path / 'nope.yaml'}: no such file or directory"
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NetssoError, match="not UTF-8 text"):
        load_snapshot([str(binary)])
    with pytest.raises(NetssoError, match="no manifests given"):
        load_snapshot([])


def test_yaml_features_anchors_merge_keys_and_tags(tmp_path: Path) -> None:
    text = """
base: &labels {app: api}
---
apiVersion: v1
kind: Pod
metadata:
  name: a
  namespace: shop
  labels:
    <<: {app: api, tier: web}
    extra: !!str 1
spec:
  containers:
  - name: c
    ports: [{containerPort: 0x50}]
"""
    path = tmp_path / "y.yaml"
    path.write_text(text)
    snap = load_snapshot([str(path)])
    assert snap.warnings == (f"{path} document 1: not a Kubernetes object (no apiVersion and kind); skipped",)
    path.write_text(text.split("---", 1)[1])
    (w,) = load_snapshot([str(path)]).workloads
    assert dict(w.labels) == {"app": "api", "tier": "web", "extra": "1"} and w.ports[0].port == 80


def test_recursive_alias_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("&a [*a]\n")
    with pytest.raises(NetssoError):
        load_snapshot([str(path)])


def test_examples_folder_loads() -> None:
    root = REPO / "examples"
    if not root.is_dir():
        pytest.skip("no examples/ folder")
    snap = load_snapshot([str(root)])
    assert snap.workloads and snap.network_policies and snap.namespaces


def test_errors_stay_on_one_line() -> None:
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a\nb", "labels": {"x\ny": 1}}}
    (invalid,) = snapshot_from_objects([("f document 1", doc)]).invalid
    assert invalid.message == "f document 1: Pod default/a\\nb: metadata.labels.x\\ny must be a string, not a number"


def test_documents_that_are_not_kubernetes_objects_are_skipped_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path / "chart" / "Chart.yaml", {"name": "shop", "version": "1.0.0"})
    (tmp_path / "chart" / "notes.yaml").write_text("- just\n- a list\n---\nplain text\n")
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}')
    _write(tmp_path / "app.yaml", _pod("a"))
    snap = load_snapshot([str(tmp_path)])
    assert [w.name for w in snap.workloads] == ["a"]
    assert snap.warnings == (  # a folder's own files first, then its subfolders, each sorted by name
        f"{tmp_path / 'package.json'} document 1: not a Kubernetes object (no apiVersion and kind); skipped",
        f"{tmp_path / 'chart' / 'Chart.yaml'} document 1: not a Kubernetes object (no apiVersion and kind); skipped",
        f"{tmp_path / 'chart' / 'notes.yaml'} document 1: not a Kubernetes object (no apiVersion and kind); skipped",
        f"{tmp_path / 'chart' / 'notes.yaml'} document 2: not a Kubernetes object (no apiVersion and kind); skipped",
    )


def test_duplicate_namespace_last_wins() -> None:
    a = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "a"}}}
    b = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "b"}}}
    snap = snapshot_from_objects([("f document 1", a), ("f document 2", b)])
    assert [dict(n.labels) for n in snap.namespaces] == [{"team": "b", NAMESPACE_NAME_LABEL: "shop"}]
    assert snap.warnings == ("f document 2: Namespace shop also defined in f document 1; the last one wins",)
