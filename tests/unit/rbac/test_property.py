"""Property tests: the offline evaluator's answers do not depend on the order of objects or YAML documents, and agree
with a naive restatement of the RBAC rules."""

from __future__ import annotations

from typing import Any

import yaml
from helpers import rbac_gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster.decode import snapshot_from_objects as load_docs
from kubectl_netsso.cluster.snapshot import Snapshot
from kubectl_netsso.rbac.authorize import Authorizer, identity
from kubectl_netsso.rbac.rules import Request, rule_allows


def snapshot_from_objects(objs: list[dict[str, Any]]) -> Snapshot:
    return load_docs([(f"o document {i}", o) for i, o in enumerate(objs, 1)])

def cluster() -> st.SearchStrategy[list[dict[str, Any]]]:
    """The generated RBAC (tests/helpers/rbac_gen.py) with this file's pools: its defaults."""
    return rbac_gen.cluster(rbac_gen.Pools())


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
