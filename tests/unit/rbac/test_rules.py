"""One PolicyRule vs one request: the cases of kubernetes' rbac_test.go TestRuleMatches and evaluation_helpers.go."""

from __future__ import annotations

import pytest

from kubectl_netsso.cluster.snapshot import PolicyRule
from kubectl_netsso.rbac.rules import Request, rule_allows, rule_from_dict, rule_to_dict


def rule(verbs=(), groups=(), resources=(), names=(), urls=()) -> PolicyRule:
    return PolicyRule(tuple(verbs), tuple(groups), tuple(resources), tuple(names), tuple(urls))


def res(verb, resource, group="", sub="", name="", ns="ns1") -> Request:
    return Request(verb=verb, resource=resource, api_group=group, subresource=sub, name=name, namespace=ns)


CASES = [
    # (id, rule, request, allowed)
    ("exact verb/group/resource", rule(["get"], [""], ["pods"]), res("get", "pods"), True),
    ("verb mismatch", rule(["get"], [""], ["pods"]), res("list", "pods"), False),
    ("verb star", rule(["*"], [""], ["pods"]), res("deletecollection", "pods"), True),
    ("verbs are case sensitive", rule(["GET"], [""], ["pods"]), res("get", "pods"), False),
    ("group mismatch", rule(["get"], ["apps"], ["pods"]), res("get", "pods"), False),
    ("group star", rule(["get"], ["*"], ["deployments"]), res("get", "deployments", "apps"), True),
    ("core group is empty string", rule(["get"], [""], ["deployments"]), res("get", "deployments", "apps"), False),
    ("resource mismatch", rule(["get"], [""], ["services"]), res("get", "pods"), False),
    ("resource star", rule(["get"], [""], ["*"]), res("get", "pods"), True),
    ("resource star covers subresources", rule(["create"], [""], ["*"]), res("create", "pods", sub="exec"), True),
    ("exact subresource", rule(["create"], [""], ["pods/exec"]), res("create", "pods", sub="exec"), True),
    ("resource does not cover its subresource", rule(["create"], [""], ["pods"]), res("create", "pods", sub="exec"), False),
    ("subresource rule does not cover the resource", rule(["get"], [""], ["pods/log"]), res("get", "pods"), False),
    ("other subresource", rule(["get"], [""], ["pods/log"]), res("get", "pods", sub="exec"), False),
    ("star-slash-sub", rule(["get"], ["apps"], ["*/scale"]), res("get", "deployments", "apps", sub="scale"), True),
    ("star-slash-sub other sub", rule(["get"], ["apps"], ["*/scale"]), res("get", "deployments", "apps", sub="status"), False),
    ("star-slash-sub needs a subresource", rule(["get"], ["apps"], ["*/scale"]), res("get", "deployments", "apps"), False),
    ("star-slash-sub is not a suffix match", rule(["get"], [""], ["*/xscale"]), res("get", "pods", sub="scale"), False),
    ("pods/* is literal: not exec", rule(["*"], [""], ["pods/*"]), res("create", "pods", sub="exec"), False),
    ("pods/* is literal: not pods", rule(["*"], [""], ["pods/*"]), res("get", "pods"), False),
    ("pods/* matches only a literal pods/*", rule(["*"], [""], ["pods/*"]), res("get", "pods", sub="*"), True),
    ("no names = any name", rule(["get"], [""], ["pods"]), res("get", "pods", name="web"), True),
    ("listed name", rule(["get"], [""], ["pods"], ["web", "api"]), res("get", "pods", name="api"), True),
    ("unlisted name", rule(["get"], [""], ["pods"], ["web"]), res("get", "pods", name="db"), False),
    ("names never match a request without a name (list)", rule(["list"], [""], ["pods"], ["web"]), res("list", "pods"), False),
    ("names never match create", rule(["create"], [""], ["pods"], ["web"]), res("create", "pods"), False),
    ("names with subresource", rule(["create"], [""], ["pods/exec"], ["web"]), res("create", "pods", "", "exec", "web"), True),
    ("resource rule does not answer URLs", rule(["get"], ["*"], ["*"]), Request(verb="get", path="/healthz"), False),
]

URL_CASES = [
    ("exact url", ["/healthz"], "get", "/healthz", True),
    ("url mismatch", ["/healthz"], "get", "/livez", False),
    ("url star", ["*"], "get", "/anything/at/all", True),
    ("trailing star is a plain prefix", ["/healthz*"], "get", "/healthzX", True),
    ("prefix with slash", ["/apis/*"], "get", "/apis/apps/v1", True),
    ("/apis/* does not match /apis", ["/apis/*"], "get", "/apis", False),
    ("star in the middle is literal", ["/api/*/v1"], "get", "/api/x/v1", False),
    ("url rule verb mismatch", ["/healthz"], "post", "/healthz", False),
    ("head is not get", ["/healthz"], "head", "/healthz", False),
]


@pytest.mark.parametrize("rule_, request_, allowed", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_resource_rule(rule_: PolicyRule, request_: Request, allowed: bool) -> None:
    assert rule_allows(rule_, request_) is allowed


@pytest.mark.parametrize("urls, verb, path, allowed", [c[1:] for c in URL_CASES], ids=[c[0] for c in URL_CASES])
def test_non_resource_rule(urls: list[str], verb: str, path: str, allowed: bool) -> None:
    r = rule(["get"] if verb != "post" else ["get"], urls=urls)
    assert rule_allows(r, Request(verb=verb, path=path)) is allowed


def test_url_rule_verb_star() -> None:
    assert rule_allows(rule(["*"], urls=["/metrics"]), Request(verb="post", path="/metrics"))


def test_url_rule_does_not_answer_resource_requests() -> None:
    assert not rule_allows(rule(["*"], urls=["*"]), res("get", "pods"))


def test_rule_dict_round_trip() -> None:
    d = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}
    assert rule_to_dict(rule_from_dict(d)) == d


def test_describe_names_the_tuple() -> None:
    assert res("create", "pods", sub="exec", ns="shop").describe() == "create pods/exec in namespace shop"
    assert res("get", "deployments", "apps", sub="scale", name="api", ns="").describe() == (
        "get deployments.apps/scale named 'api' cluster-wide"
    )
