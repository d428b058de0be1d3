"""Property tests: the offline evaluator's answers do not depend on the order of objects or YAML documents, and agree
with a naive restatement of the RBAC rules."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.decode import snapshot_from_objects as load_docs
from kubectl_netsso.cluster.snapshot import Snapshot
from kubectl_netsso.rbac.authorize import Authorizer, identity
from kubectl_netsso.rbac.rules import Request, rule_allows


def snapshot_from_objects(objs: list[dict[str, Any]]) -> Snapshot:
    return load_docs([(f"o document {i}", o) for i, o in enumerate(objs, 1)])

NAMESPACES = ["a", "b"]
VERBS = ["get", "list", "create", "*"]
GROUPS = ["", "apps", "*"]
RESOURCES = ["pods", "pods/exec", "deployments", "*", "*/scale", "pods/*", "deployments/scale"]
LABELS = [{}, {"agg": "x"}, {"agg": "y"}]

rule_st = st.builds(
    lambda v, g, r, n: {"verbs": v, "apiGroups": g, "resources": r, **({"resourceNames": n} if n else {})},
    st.lists(st.sampled_from(VERBS), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True),
    st.sampled_from([[], ["web"]]),
)
url_rule_st = st.builds(
    lambda v, u: {"verbs": v, "nonResourceURLs": u},
    st.lists(st.sampled_from(["get", "*"]), min_size=1, max_size=1),
    st.lists(st.sampled_from(["/healthz", "/api*", "*"]), min_size=1, max_size=1),
)
subject_st = st.one_of(
    st.builds(lambda n: {"kind": "User", "name": n, "apiGroup": "rbac.authorization.k8s.io"}, st.sampled_from(["alice", "bob"])),
    st.builds(lambda n: {"kind": "Group", "name": n, "apiGroup": "rbac.authorization.k8s.io"},
              st.sampled_from(["devs", "system:authenticated", "system:serviceaccounts:a"])),
    st.builds(lambda n, ns: {"kind": "ServiceAccount", "name": n, "namespace": ns}, st.sampled_from(["ci"]),
              st.sampled_from(NAMESPACES)),
)  # fmt: skip


@st.composite
def cluster(draw: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    cr_names = [f"cr{i}" for i in range(draw(st.integers(1, 4)))]
    for i, name in enumerate(cr_names):
        obj: dict[str, Any] = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": draw(st.sampled_from(LABELS))},
            "rules": draw(st.lists(st.one_of(rule_st, url_rule_st), max_size=3)),
        }
        if i == 0 and draw(st.booleans()):
            obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"agg": draw(st.sampled_from(["x", "y"]))}}]}
        objs.append(obj)
    role_names = []
    for i in range(draw(st.integers(0, 3))):
        ns = draw(st.sampled_from(NAMESPACES))
        role_names.append((ns, f"r{i}"))
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                     "metadata": {"name": f"r{i}", "namespace": ns}, "rules": draw(st.lists(rule_st, max_size=3))})
    for i in range(draw(st.integers(1, 5))):
        cluster_wide = draw(st.booleans())
        subjects = draw(st.lists(subject_st, min_size=1, max_size=3))
        if cluster_wide or not role_names or draw(st.booleans()):
            ref = {"kind": "ClusterRole", "name": draw(st.sampled_from(cr_names + ["missing"]))}
        else:
            ns, rname = draw(st.sampled_from(role_names))
            ref = {"kind": "Role", "name": rname}
        meta: dict[str, Any] = {"name": f"b{i}"}
        if not cluster_wide:
            meta["namespace"] = ns if ref["kind"] == "Role" else draw(st.sampled_from(NAMESPACES))
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1",
                     "kind": "ClusterRoleBinding" if cluster_wide else "RoleBinding",
                     "metadata": meta, "roleRef": {**ref, "apiGroup": "rbac.authorization.k8s.io"}, "subjects": subjects})
    return objs  # fmt: skip


REQUESTS = [
    Request("get", "pods", namespace="a"),
    Request("get", "pods", name="web", namespace="b"),
    Request("create", "pods", subresource="exec", namespace="a"),
    Request("create", "deployments", "apps", namespace="b"),
    Request("get", "deployments", "apps", "scale", namespace="a"),
    Request("list", "pods", namespace=""),
    Request("get", path="/healthz"),
    Request("get", path="/apis"),
]
IDENTITIES = [identity("alice"), identity("bob", ["devs"]), identity("system:serviceaccount:a:ci")]


def answers(az: Authorizer) -> list[tuple[bool, str]]:
    return [(d.allowed, d.reason) for i in IDENTITIES for r in REQUESTS for d in [az.decide(i, r)]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster(), perm=st.randoms(use_true_random=False))
def test_order_of_objects_does_not_matter(objs: list[dict[str, Any]], perm: Any) -> None:
    shuffled = list(objs)
    perm.shuffle(shuffled)
    assert answers(Authorizer(snapshot_from_objects(objs))) == answers(Authorizer(snapshot_from_objects(shuffled)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster(), perm=st.randoms(use_true_random=False))
def test_order_of_documents_does_not_matter(objs: list[dict[str, Any]], perm: Any) -> None:
    """Through the project's manifest loader: one multi-document YAML text vs the same documents shuffled."""
    shuffled = list(objs)
    perm.shuffle(shuffled)
    docs1 = [(f"f.yaml document {i}", d) for i, d in enumerate(yaml.safe_load_all(yaml.safe_dump_all(objs)))]
    docs2 = [(f"f.yaml document {i}", d) for i, d in enumerate(yaml.safe_load_all(yaml.safe_dump_all(shuffled)))]
    assert answers(Authorizer(load_docs(docs1))) == answers(Authorizer(load_docs(docs2)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster())
def test_allowed_iff_some_bound_rule_allows(objs: list[dict[str, Any]]) -> None:
    """A naive restatement (no aggregation in the drawn roles' bindings when aggregation is absent)."""
    if any("aggregationRule" in o for o in objs):
        return
    az = Authorizer(snapshot_from_objects(objs))
    roles = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o.get("rules") or []
             for o in objs if o["kind"] in ("Role", "ClusterRole")}  # fmt: skip
    from kubectl_netsso.rbac.rules import rule_from_dict

    for ident in IDENTITIES:
        for r in REQUESTS:
            ns = r.namespace if r.path is None else ""
            expected = False
            for b in objs:
                if b["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
                    continue
                bns = b["metadata"].get("namespace", "")
                if b["kind"] == "RoleBinding" and (not ns or bns != ns):
                    continue
                hit = False
                for s in b["subjects"]:
                    if s["kind"] == "User":
                        hit |= s["name"] == ident.user
                    elif s["kind"] == "Group":
                        hit |= s["name"] in ident.groups
                    else:
                        hit |= ident.user == f"system:serviceaccount:{s.get('namespace') or bns}:{s['name']}"
                if not hit:
                    continue
                key = ("", b["roleRef"]["name"]) if b["roleRef"]["kind"] == "ClusterRole" else (bns, b["roleRef"]["name"])
                expected |= any(rule_allows(rule_from_dict(x), r) for x in roles.get(key, []))
            assert az.decide(ident, r).allowed is expected, (ident, r)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=cluster(), verb=st.sampled_from(["get", "list", "create", "*", "patch"]))
def test_cached_verb_index_agrees_with_the_plain_scan(objs: list[dict[str, Any]], verb: str) -> None:
    from dataclasses import replace

    from kubectl_netsso.rbac.authorize import authorize

    az = Authorizer(snapshot_from_objects(objs))
    for ident in IDENTITIES:
        for r in REQUESTS:
            r = replace(r, verb=verb)
            cached, plain = az.decide(ident, r), authorize(az.model, ident, r)
            assert (cached.allowed, cached.reason) == (plain.allowed, plain.reason)
