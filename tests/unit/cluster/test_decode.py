"""cluster/decode.py: the one strict decoder (kind table, builder, manifests vs live mode)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubectl_netsso.cluster.decode import DECODERS, SnapshotBuilder, snapshot_from_objects
from kubectl_netsso.cluster.snapshot import (
    AdminNetworkPolicy,
    Namespace,
    NetworkPolicy,
    Node,
    Role,
    RoleBinding,
    Service,
    ServiceAccount,
    Workload,
)

POD_SPEC = {"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "http"}]}]}
TEMPLATE = {"metadata": {"labels": {"app": "a"}}, "spec": POD_SPEC}
SPECS: dict[str, dict[str, Any]] = {
    "Namespace": {},
    "Node": {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}},
    "Pod": {"spec": POD_SPEC},
    "ReplicationController": {"spec": {"template": TEMPLATE}},
    "Service": {"spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}},
    "ServiceAccount": {},
    "Deployment": {"spec": {"template": TEMPLATE}},
    "StatefulSet": {"spec": {"template": TEMPLATE}},
    "DaemonSet": {"spec": {"template": TEMPLATE}},
    "ReplicaSet": {"spec": {"template": TEMPLATE}},
    "Job": {"spec": {"template": TEMPLATE}},
    "CronJob": {"spec": {"jobTemplate": {"spec": {"template": TEMPLATE}}}},
    "NetworkPolicy": {"spec": {}},
    "AdminNetworkPolicy": {"spec": {"priority": 5, "subject": {"namespaces": {}}}},
    "BaselineAdminNetworkPolicy": {"spec": {"subject": {"namespaces": {}}}},
    "Role": {"rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]},
    "ClusterRole": {"rules": []},
    "RoleBinding": {"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "sa"}]},
    "ClusterRoleBinding": {"roleRef": {"kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "Group", "name": "g"}]},
}
RECORD_TYPES = {
    "Namespace": Namespace,
    "Node": Node,
    "Service": Service,
    "ServiceAccount": ServiceAccount,
    "NetworkPolicy": NetworkPolicy,
    "AdminNetworkPolicy": AdminNetworkPolicy,
    "BaselineAdminNetworkPolicy": AdminNetworkPolicy,
    "Role": Role,
    "ClusterRole": Role,
    "RoleBinding": RoleBinding,
    "ClusterRoleBinding": RoleBinding,
}


# The versions a policy kind is read at (cluster/policykinds.py): another version of a policy kind is not evaluated
# (its fields may mean something else), never read as the known one (issue 12).
VERSIONS = {"extensions": "v1beta1", "policy.networking.k8s.io": "v1alpha1"}


def _obj(group: str, kind: str, **meta: Any) -> dict[str, Any]:
    version = f"{group}/{VERSIONS.get(group, 'v1')}" if group else "v1"
    return {"apiVersion": version, "kind": kind, "metadata": {"name": "x", "namespace": "ns", **meta}, **SPECS[kind]}


@pytest.mark.parametrize(("group", "kind"), list(DECODERS))
def test_every_row_of_the_table_decodes_its_kind(group: str, kind: str) -> None:
    snap = snapshot_from_objects([("f document 1", _obj(group, kind))])
    records = [*snap.workloads, *snap.services, *snap.network_policies, *snap.admin_network_policies, *snap.roles,
               *snap.bindings, *snap.nodes, *snap.service_accounts, *(n for n in snap.namespaces if n.defined)]  # fmt: skip
    assert len(records) == 1, snap.warnings
    assert isinstance(records[0], RECORD_TYPES.get(kind, Workload))
    row = DECODERS[(group, kind)]
    # a cluster-scoped kind ignores metadata.namespace; a namespaced one places it
    namespace = getattr(records[0], "namespace", None)
    assert (namespace == "ns") is row.namespaced
    assert snap.invalid == () and snap.warnings == ()


def test_a_kind_from_another_group_is_skipped_and_no_apiversion_takes_the_first_row() -> None:
    calico = {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": {"name": "c", "namespace": "ns"},
              "spec": {"selector": "all()"}}  # fmt: skip
    assert snapshot_from_objects([("f", calico)]).network_policies == ()
    bare = {"kind": "NetworkPolicy", "metadata": {"name": "np", "namespace": "ns"}, "spec": {}}
    (policy,) = snapshot_from_objects([("f", bare)]).network_policies
    assert policy.spec == {"podSelector": {}}
    wrong_version = {**bare, "apiVersion": "v1"}  # the core group has no NetworkPolicy
    assert snapshot_from_objects([("f", wrong_version)]).network_policies == ()


BAD_BINDING = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "crb"},
               "roleRef": {"kind": "Role", "name": "r"}}  # fmt: skip


def test_manifests_mode_lists_the_invalid_object_live_mode_only_warns() -> None:
    offline = SnapshotBuilder()
    offline.add_document("a.yaml document 3", copy.deepcopy(BAD_BINDING))
    snap = offline.build("s")
    assert [i.message for i in snap.invalid] == [
        "a.yaml document 3: ClusterRoleBinding crb: roleRef.kind must be ClusterRole, not 'Role'"
    ]
    assert snap.warnings == (snap.invalid[0].message + "; left out: the API server would reject this object",)
    live = SnapshotBuilder(live=True)
    live.add_document("live clusterrolebindings", copy.deepcopy(BAD_BINDING))
    snap = live.build("s")
    assert snap.invalid == () and snap.bindings == ()
    assert snap.warnings == (
        "skipped an object the loader could not read: live clusterrolebindings: ClusterRoleBinding crb: "
        "roleRef.kind must be ClusterRole, not 'Role'",
    )


def test_service_account_subject_takes_the_binding_namespace_and_a_cluster_binding_must_name_it() -> None:
    (binding,) = snapshot_from_objects([("f", _obj("rbac.authorization.k8s.io", "RoleBinding"))]).bindings
    assert binding.subjects[0].namespace == "ns" and binding.subjects[0].api_group == ""
    crb = _obj("rbac.authorization.k8s.io", "ClusterRoleBinding")
    crb["subjects"] = [{"kind": "ServiceAccount", "name": "sa"}]
    snap = snapshot_from_objects([("f", crb)])
    assert snap.bindings == ()
    assert snap.invalid[0].reason == "subjects[0].namespace is required for a ServiceAccount in a ClusterRoleBinding"


def test_duplicates_last_wins_in_the_place_of_the_first() -> None:
    first, other, second = _obj("", "Service"), _obj("", "Pod"), _obj("", "Service")
    second["spec"] = {"ports": [{"port": 443}]}
    snap = snapshot_from_objects([("a document 1", first), ("a document 2", other), ("b document 1", second)])
    assert [s.ports[0].port for s in snap.services] == [443]
    assert snap.services[0].source == "b document 1"
    assert snap.warnings == ("b document 1: Service ns/x also defined in a document 1; the last one wins",)
    # a Pod and a Deployment of one name are two objects
    assert len(snapshot_from_objects([("a", _obj("", "Pod")), ("b", _obj("apps", "Deployment"))]).workloads) == 2


def test_namespaces_defined_and_referenced() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "labels": {"team": "a"}}}
    pod_elsewhere = {**_obj("", "Pod"), "metadata": {"name": "p", "namespace": "other"}}
    no_namespace = {**_obj("", "Pod"), "metadata": {"name": "q"}}
    snap = snapshot_from_objects([("f document 1", pod_elsewhere), ("f document 2", ns), ("f document 3", no_namespace)])
    assert snap.namespaces == (
        Namespace("ns", {"team": "a", "kubernetes.io/metadata.name": "ns"}, defined=True),
        Namespace("other", {"kubernetes.io/metadata.name": "other"}, defined=False),
        Namespace("default", {"kubernetes.io/metadata.name": "default"}, defined=False),
    )
    assert snap.warnings == ("f: 1 object(s) without metadata.namespace placed in 'default': Pod q",)


def test_a_rejected_object_places_no_namespace() -> None:
    bad = _obj("", "Service")
    bad["metadata"]["namespace"] = "ghost"
    bad["spec"] = {"ports": [{"port": 0}]}
    snap = snapshot_from_objects([("f document 1", bad)])
    assert snap.namespaces == () and snap.services == ()
    assert snap.invalid[0].label == "Service ghost/x"
    assert snap.invalid[0].reason == "spec.ports[0].port must be between 1 and 65535, not 0"


def test_lists_are_flattened_and_api_lists_give_their_items_a_kind() -> None:
    items = [{"metadata": {"name": f"p{i}", "namespace": "ns"}, "spec": POD_SPEC} for i in range(2)]
    snap = snapshot_from_objects([("f document 1", {"apiVersion": "v1", "kind": "PodList", "items": items})])
    assert [(w.name, w.source) for w in snap.workloads] == [("p0", "f document 1 item 1"), ("p1", "f document 1 item 2")]
    nested: dict[str, Any] = {"apiVersion": "v1", "kind": "List", "items": []}
    for _ in range(6):
        nested = {"apiVersion": "v1", "kind": "List", "items": [nested]}
    assert snapshot_from_objects([("f", nested)]).invalid[0].reason == "Lists nested too deeply"
