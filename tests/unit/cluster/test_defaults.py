"""cluster/defaults.py (the packaged default roles) and snapshot.merge_rbac (the user's objects over them)."""

from __future__ import annotations

from kubectl_netsso.cluster.decode import snapshot_from_objects
from kubectl_netsso.cluster.defaults import default_roles_snapshot
from kubectl_netsso.cluster.snapshot import Subject, merge_rbac
from kubectl_netsso.rbac.authorize import Authorizer
from kubectl_netsso.rbac.rules import Request

RBAC = "rbac.authorization.k8s.io/v1"


def test_default_roles_decode_cleanly_once_per_process() -> None:
    snap = default_roles_snapshot()
    assert snap is default_roles_snapshot()
    assert snap.invalid == () and snap.warnings == ()
    names = {r.name for r in snap.roles}
    assert {"cluster-admin", "admin", "edit", "view"} <= names
    assert all(r.namespace is None for r in snap.roles)  # ClusterRoles only
    admin = next(r for r in snap.roles if r.name == "admin")
    assert admin.aggregation_selectors  # admin aggregates the aggregate-to-admin roles
    discovery = next(b for b in snap.bindings if b.name == "system:discovery")
    assert Subject(kind="Group", name="system:authenticated", api_group="rbac.authorization.k8s.io") in discovery.subjects


def test_the_users_objects_win_and_the_rest_of_the_defaults_is_added() -> None:
    user = snapshot_from_objects([
        ("f document 1", {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "view"},
                          "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}]}),
        ("f document 2", {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "ci", "namespace": "shop"},
                          "roleRef": {"kind": "ClusterRole", "name": "view"},
                          "subjects": [{"kind": "ServiceAccount", "name": "ci"}]}),
    ], source="manifests: f")  # fmt: skip
    merged = merge_rbac(user, default_roles_snapshot())
    assert merged.source == "manifests: f"
    views = [r for r in merged.roles if r.name == "view"]
    assert views == [user.roles[0]]  # the user's view, not the packaged one
    assert {r.name for r in merged.roles} >= {"cluster-admin", "edit", "admin"}
    assert len(merged.roles) == len(default_roles_snapshot().roles)  # view replaced, not doubled
    # the ServiceAccount subject took the binding's namespace in the one strict decoder, whatever it is merged with
    ci = next(b for b in merged.bindings if b.name == "ci")
    assert ci.subjects == (Subject(kind="ServiceAccount", name="ci", namespace="shop"),)
    az = Authorizer(merged)
    sa = "system:serviceaccount:shop:ci"
    assert az.authorize(sa, (), Request(verb="get", resource="configmaps", namespace="shop")).allowed
    assert not az.authorize(sa, (), Request(verb="get", resource="pods", namespace="shop")).allowed
