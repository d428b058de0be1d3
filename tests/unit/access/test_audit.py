"""Each audit check on plain data: it fires on the bad case and stays quiet on the good one."""

from __future__ import annotations

from collections.abc import Sequence

from kubectl_netsso.access.audit import CHECKS, audit
from kubectl_netsso.access.model import Finding
from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.cluster.snapshot import (
    AdminNetworkPolicy,
    ContainerPort,
    Namespace,
    NetworkPolicy,
    PolicyRule,
    Role,
    RoleBinding,
    Snapshot,
    Subject,
    Workload,
)
from kubectl_netsso.netpol.generate import default_deny
from kubectl_netsso.rbac.authorize import Authorizer

NSL = "kubernetes.io/metadata.name"
DNS = Workload(
    "kube-system",
    "coredns",
    "Deployment",
    {"k8s-app": "kube-dns"},
    (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")),
)


def _ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, {NSL: name, **labels})


def _np(ns: str, name: str, spec: dict) -> NetworkPolicy:
    return NetworkPolicy(ns, name, spec)


def _deny(ns: str, dns: bool = True) -> tuple[NetworkPolicy, ...]:
    return tuple(_np(o["metadata"]["namespace"], o["metadata"]["name"], o["spec"]) for o in default_deny(ns, allow_dns=dns))


def _snap(policies: Sequence[NetworkPolicy] = (), workloads: Sequence[Workload] = (), **kw: object) -> Snapshot:
    base = (
        Workload("app", "web", "Deployment", {"app": "web"}, (ContainerPort(8080, "TCP", "http"),)),
        Workload("app", "api", "Deployment", {"app": "api"}, (ContainerPort(9000, "TCP", "grpc"),)),
        DNS,
    )
    return Snapshot(
        namespaces=(_ns("app", team="app"), _ns("other", team="other"), _ns("kube-system")),
        workloads=base + tuple(workloads),
        network_policies=tuple(policies),
        **kw,  # type: ignore[arg-type]
    )


def run(snap: Snapshot, **kw: object) -> list[Finding]:
    return audit(ReachEngine(snap), **kw)  # type: ignore[arg-type]


def checks(findings: Sequence[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def test_check_ids_are_documented() -> None:
    import kubectl_netsso.access.audit as mod

    for c in CHECKS:
        assert c in (mod.__doc__ or ""), c


def test_namespace_without_any_policy_is_high() -> None:
    f = checks(run(_snap()), "no-network-policy")
    assert [(x.object, x.severity) for x in f] == [("namespace/app", "high")]
    # kube-system is a system namespace; "other" has no workloads
    assert "policy default-deny -n app" in f[0].hint


def test_default_deny_present_is_clean() -> None:
    found = run(_snap(_deny("app")))
    assert not checks(found, "no-network-policy")
    assert not checks(found, "no-default-deny-ingress")
    assert not checks(found, "no-default-deny-egress")


def test_ingress_only_default_deny_reports_missing_egress() -> None:
    pol = _np("app", "deny-in", {"podSelector": {}, "policyTypes": ["Ingress"]})
    found = run(_snap([pol]))
    assert [f.object for f in checks(found, "no-default-deny-egress")] == ["namespace/app"]
    assert not checks(found, "no-default-deny-ingress")


def test_a_policy_with_rules_is_not_default_deny() -> None:
    pol = _np("app", "allow-some", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})
    found = run(_snap([pol]))
    assert [f.severity for f in checks(found, "no-default-deny-ingress")] == ["medium"]
    # ...but it does isolate every pod: the finding must not claim new pods are open
    (f,) = checks(found, "no-default-deny-ingress")
    assert "new pods are open" not in f.reason and "still isolated by NP app/allow-some" in f.reason
    (f,) = checks(run(_snap([_np("app", "x", {"podSelector": {"matchLabels": {"app": "web"}}})])), "no-default-deny-ingress")
    assert f.reason.endswith("new pods are open for ingress")


def test_baseline_admin_policy_deny_counts_as_default_deny() -> None:
    banp = AdminNetworkPolicy(
        "default",
        "BaselineAdminNetworkPolicy",
        {
            "subject": {"namespaces": {}},
            "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
            "egress": [{"action": "Deny", "to": [{"namespaces": {}}]}],
        },
    )
    found = run(_snap(admin_network_policies=(banp,)))
    assert not checks(found, "no-network-policy")


def test_egress_isolated_without_dns() -> None:
    found = run(_snap(_deny("app", dns=False)))
    assert sorted(f.object for f in checks(found, "dns-egress-denied")) == ["app/deployment/api", "app/deployment/web"]
    assert not checks(run(_snap(_deny("app", dns=True))), "dns-egress-denied")


def test_policy_selecting_no_pods() -> None:
    pol = _np("app", "typo", {"podSelector": {"matchLabels": {"app": "wbe"}}, "ingress": [{}]})
    found = checks(run(_snap([*_deny("app"), pol])), "policy-selects-nothing")
    assert [f.object for f in found] == ["networkpolicy/app/typo"]
    assert not checks(run(_snap([*_deny("app")])), "policy-selects-nothing")


def test_peer_matching_no_namespace_or_no_pod() -> None:
    bad_ns = _np(
        "app",
        "from-frontend",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "frontend"}}}]}],
        },
    )
    bad_pod = _np(
        "app",
        "from-ghost",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}, {"podSelector": {"matchLabels": {"app": "ghost"}}}]}
            ],
        },
    )
    found = checks(run(_snap([*_deny("app"), bad_ns, bad_pod])), "peer-matches-nothing")
    objs = {f.object: f for f in found}
    assert set(objs) == {
        "networkpolicy/app/from-frontend ingress rule 1 from entry 1",
        "networkpolicy/app/from-ghost ingress rule 1 from entry 2",
    }
    assert "matches no namespace" in objs["networkpolicy/app/from-frontend ingress rule 1 from entry 1"].reason
    assert "team=app" in objs["networkpolicy/app/from-frontend ingress rule 1 from entry 1"].reason  # shows what exists


def test_shadowed_rule() -> None:
    pol = _np(
        "app",
        "api-in",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "ingress": [
                {"from": [{"podSelector": {}}], "ports": [{"port": 9000}]},
                {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 9000}]},
                {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 9001}]},
            ],
        },
    )
    found = checks(run(_snap([*_deny("app"), pol])), "rule-shadowed")
    assert [f.object for f in found] == ["networkpolicy/app/api-in ingress rule 2"]
    assert "rule 1" in found[0].reason


def test_port_range_and_cidr_shadowing() -> None:
    pol = _np(
        "app",
        "out",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 1000, "endPort": 2000}]},
                {"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}], "ports": [{"port": 1500}]},
                {"to": [{"ipBlock": {"cidr": "192.168.0.0/16"}}], "ports": [{"port": 1500}]},
            ],
        },
    )
    found = checks(run(_snap([*_deny("app"), pol])), "rule-shadowed")
    assert [f.object for f in found] == ["networkpolicy/app/out egress rule 2"]


def test_identical_rules_report_only_the_later_one() -> None:
    rule = {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}
    pol = _np("app", "dup", {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [rule, dict(rule)]})
    found = checks(run(_snap([*_deny("app"), pol])), "rule-shadowed")
    assert [f.object for f in found] == ["networkpolicy/app/dup ingress rule 2"]


def test_named_port_not_defined() -> None:
    ingress = _np(
        "app",
        "api-in",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}],
        },
    )
    egress = _np(
        "app",
        "web-out",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": {"app": "api"}}}],
                    "ports": [{"port": "grpc"}, {"port": "grpc", "protocol": "UDP"}],
                }
            ],
        },
    )
    found = checks(run(_snap([*_deny("app"), ingress, egress])), "named-port-undefined")
    reasons = sorted((f.object, f.reason.split(" is ")[0]) for f in found)
    # api defines grpc/TCP (not http); the egress rule's grpc/TCP is fine but grpc/UDP is not
    assert reasons == [
        ("networkpolicy/app/api-in ingress rule 1", "named port http/TCP"),
        ("networkpolicy/app/web-out egress rule 1", "named port grpc/UDP"),
    ]



def test_named_port_on_an_ipblock_egress_rule_that_no_pod_defines() -> None:
    # outside the cluster a named port never matches; inside, no pod defines it: the entry is dead
    spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "nosuch"}]},
            {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": "grpc"}]},  # api defines grpc: fine
        ],
    }
    found = checks(run(_snap([*_deny("app"), _np("app", "out", spec)])), "named-port-undefined")
    assert [(f.object, f.reason.split(" is ")[0]) for f in found] == [
        ("networkpolicy/app/out egress rule 1", "named port nosuch/TCP")
    ]


# --- identities --------------------------------------------------------------------------------------------------

TRUST = _np(
    "other",
    "db-in",
    {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"team": "app"}}, "podSelector": {"matchLabels": {"app": "web"}}}]}
        ],
    },
)
DB = Workload("other", "db", "StatefulSet", {"app": "db"}, (ContainerPort(5432),))
WEB_OUT = _np(
    "app",
    "web-out",
    {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "other"}}}]}],
    },
)


GROUP = Subject("Group", "g")


def _rbac(rules: tuple[PolicyRule, ...], ns: str | None = "app", subject: Subject = GROUP) -> dict:
    role = Role("r", ns, rules)
    kind = "Role" if ns else "ClusterRole"
    return {"roles": (role,), "bindings": (RoleBinding("b", ns, kind, "r", (subject,)),)}


def _identity_findings(
    rules: tuple[PolicyRule, ...], ns: str | None = "app", policies: Sequence[NetworkPolicy] = ()
) -> list[Finding]:
    snap = _snap([*_deny("app"), *_deny("other"), TRUST, WEB_OUT, *policies], [DB], **_rbac(rules, ns))
    return run(snap, authorizer=Authorizer(snap))


def test_create_pods_where_labels_are_trusted_across_namespaces() -> None:
    found = checks(_identity_findings((PolicyRule(("create",), ("",), ("pods",)),)), "create-pods-cross-namespace")
    assert [(f.object, f.severity) for f in found] == [("group g", "high")]
    assert "as app=web a new pod reaches other/statefulset/db" in found[0].reason
    assert "RoleBinding app/b -> Role app/r" in found[0].reason
    assert "NP other/db-in" in found[0].reason


def test_create_pods_where_nothing_trusts_the_namespace_is_quiet() -> None:
    # egress would allow it, but no ingress policy in "other" trusts pods of "app"
    snap = _snap([*_deny("app"), *_deny("other"), WEB_OUT], [DB], **_rbac((PolicyRule(("create",), ("",), ("pods",)),)))
    assert not checks(run(snap, authorizer=Authorizer(snap)), "create-pods-cross-namespace")


def test_create_pods_trusted_but_egress_denied_is_quiet() -> None:
    # "other" trusts app=web from "app", but app's default deny blocks the egress: no way across
    snap = _snap([*_deny("app"), *_deny("other"), TRUST], [DB], **_rbac((PolicyRule(("create",), ("",), ("pods",)),)))
    assert not checks(run(snap, authorizer=Authorizer(snap)), "create-pods-cross-namespace")


def test_patch_deployments_counts_as_choosing_labels() -> None:
    found = checks(_identity_findings((PolicyRule(("patch",), ("apps",), ("deployments",)),)), "create-pods-cross-namespace")
    assert len(found) == 1 and "patch deployments" in found[0].reason


def test_edit_networkpolicies_namespaced_is_high_cluster_wide_is_critical() -> None:
    rule = (PolicyRule(("update",), ("networking.k8s.io",), ("networkpolicies",)),)
    ns = checks(_identity_findings(rule, "app"), "edit-networkpolicies")
    assert [(f.severity, "in app" in f.reason) for f in ns] == [("high", True)]
    cw = checks(_identity_findings(rule, None), "edit-networkpolicies")
    assert [(f.severity, "every namespace" in f.reason) for f in cw] == [("critical", True)]
    assert not checks(
        _identity_findings((PolicyRule(("get", "list"), ("networking.k8s.io",), ("networkpolicies",)),)), "edit-networkpolicies"
    )


def test_wildcard_verbs_on_pods_exec() -> None:
    found = checks(_identity_findings((PolicyRule(("*",), ("",), ("pods/exec",)),)), "wildcard-exec")
    assert [f.object for f in found] == ["group g"]
    assert not checks(_identity_findings((PolicyRule(("create",), ("",), ("pods/exec",)),)), "wildcard-exec")


def test_cluster_admin_is_one_finding() -> None:
    found = _identity_findings((PolicyRule(("*",), ("*",), ("*",)),), None)
    mine = [f for f in found if f.object == "group g"]
    assert [f.check for f in mine] == ["cluster-admin"]


def test_service_account_subjects() -> None:
    sa = Subject("ServiceAccount", "deployer", "app")
    rules = (PolicyRule(("create",), ("apps",), ("deployments",)),)
    snap = _snap([*_deny("app"), *_deny("other"), TRUST, WEB_OUT], [DB], **_rbac(rules, subject=sa))
    found = checks(run(snap, authorizer=Authorizer(snap)), "create-pods-cross-namespace")
    assert [f.object for f in found] == ["serviceaccount app/deployer"]


def test_cni_warning_and_sorting() -> None:
    found = run(_snap(), cni_warning="flannel without a policy agent: NetworkPolicy is not enforced")
    assert found[0].check in ("cni-not-enforcing", "no-network-policy")
    assert any(f.check == "cni-not-enforcing" and f.severity == "high" for f in found)
    ranks = [("info", "low", "medium", "high", "critical").index(f.severity) for f in found]
    assert ranks == sorted(ranks, reverse=True)


def test_scope_limits_namespace_checks() -> None:
    found = run(_snap(), namespaces=["other"])
    assert not checks(found, "no-network-policy")
