"""cluster/reviews.py: review and discovery requests and how their answers are read (recorded API shapes)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_netsso.cluster.reviews import AccessDecision, APIStatusError, Reviews, RulesReview
from kubectl_netsso.errors import NetssoError


class Recorded(Reviews):
    """Reviews over recorded answers: path -> JSON, or an APIStatusError to raise; the requests are kept."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str, Any]] = []

    @property
    def server(self) -> str:
        return "https://k8s.example:6443"

    @property
    def api(self) -> Any:
        return object()

    def request(self, method: str, path: str, query: Any = (), body: Any = None) -> Any:
        self.sent.append((method, path, body))
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SSRR = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
SSR_V1 = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
SSR_BETA = "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews"


def test_reviews_needs_a_connection() -> None:
    with pytest.raises(TypeError):
        Reviews()  # type: ignore[abstract]


@pytest.mark.parametrize(
    ("call", "spec"),
    [
        ({"attrs": {"verb": "get", "resource": "pods", "namespace": "shop", "group": ""}},
         {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "shop"}}),
        ({"attrs": {"path": "/healthz", "verb": "get"}}, {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}),
        ({"attrs": {"resourceAttributes": {"verb": "list", "name": None}}}, {"resourceAttributes": {"verb": "list"}}),
        ({"non_resource_attributes": {"path": "/metrics", "verb": "get"}},
         {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}),
        ({"resource_attributes": {"verb": "create", "resource": "pods", "subresource": "exec"}},
         {"resourceAttributes": {"verb": "create", "resource": "pods", "subresource": "exec"}}),
    ],
)  # fmt: skip
def test_access_review_request_forms(call: dict[str, Any], spec: dict[str, Any]) -> None:
    client = Recorded({SSAR: {"status": {"allowed": True}}})
    assert client.access_review(**call) == AccessDecision(allowed=True)
    ((method, path, body),) = client.sent
    assert (method, path) == ("POST", SSAR)
    assert body == {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}


def test_access_review_reads_the_status_and_an_error_status_is_one_message() -> None:
    status = {"allowed": False, "denied": True, "reason": "no RBAC policy matched", "evaluationError": ""}
    allowed, denied, reason, error = Recorded({SSAR: {"status": status}}).access_review({"verb": "get"})
    assert (allowed, denied, reason, error) == (False, True, "no RBAC policy matched", "")
    assert Recorded({SSAR: {"status": "garbage"}}).access_review({"verb": "get"}) == AccessDecision(allowed=False)
    refused = Recorded({SSAR: APIStatusError(500, "etcd down")})
    with pytest.raises(NetssoError, match=r"^https://k8s.example:6443: SelfSubjectAccessReview failed: 500 etcd down$"):
        refused.access_review({"verb": "get"})
    with pytest.raises(ValueError):
        refused.access_review()


def test_self_subject_review_falls_back_to_v1beta1_and_names_the_version_it_needs() -> None:
    info = {"username": "alice", "groups": ["dev", 7], "extra": {"scopes": ["a"]}}
    old = Recorded({SSR_V1: APIStatusError(404, "not found"), SSR_BETA: {"status": {"userInfo": info}}})
    assert old.self_subject_review() == {"username": "alice", "uid": "", "groups": ["dev", "7"], "extra": {"scopes": ["a"]}}
    assert [path for _, path, _ in old.sent] == [SSR_V1, SSR_BETA]
    none = Recorded({SSR_V1: APIStatusError(404, "not found"), SSR_BETA: APIStatusError(404, "gone")})
    with pytest.raises(NetssoError) as err:
        none.self_subject_review()
    assert err.value.message == "https://k8s.example:6443: the API server does not serve SelfSubjectReview (gone)"
    assert err.value.hint == "SelfSubjectReview needs Kubernetes >= 1.28 (beta in 1.27)"
    forbidden = Recorded({SSR_V1: APIStatusError(403, "forbidden")})
    with pytest.raises(NetssoError, match="SelfSubjectReview failed: 403 forbidden"):
        forbidden.self_subject_review()


def test_rules_review_fills_missing_lists() -> None:
    status = {"resourceRules": [{"verbs": ["get"], "resources": ["pods"]}], "nonResourceRules": [{"verbs": ["get"]}],
              "incomplete": True, "evaluationError": "webhook: timeout"}  # fmt: skip
    review = Recorded({SSRR: {"status": status}}).rules_review("shop")
    assert review == RulesReview(
        resource_rules=({"verbs": ["get"], "apiGroups": [], "resources": ["pods"], "resourceNames": []},),
        non_resource_rules=({"verbs": ["get"], "nonResourceURLs": []},),
        incomplete=True,
        evaluation_error="webhook: timeout",
    )


def test_discovery_is_read_once_and_a_refused_apis_is_an_error() -> None:
    client = Recorded({"/apis": {"groups": [{"name": "apps", "versions": [{"version": "v1"}]}, {"versions": []}]}})
    assert list(client.api_groups()) == ["apps"]
    assert not client.has_admin_network_policies()
    assert len(client.sent) == 1
    with pytest.raises(NetssoError, match=r"API discovery \(/apis\) failed: 403 forbidden"):
        Recorded({"/apis": APIStatusError(403, "forbidden")}).api_groups()
