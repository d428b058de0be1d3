"""Issue 12 item 3: Cilium policies through the installed kubectl-netsso, on the Cilium documentation's worked examples
with their stated outcomes (cilium/cilium Documentation/gettingstarted/demo.rst with examples/minikube/http-sw-app.yaml,
sw_l3_l4_policy.yaml, sw_l3_l4_l7_policy.yaml; Documentation/security/policy/deny.rst and
examples/policies/l3/entities/from_world_deny.yaml; language.rst), plus decoding, modes and the union with
Kubernetes NetworkPolicies."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli.test_cni_never_silent import ns, run

V2 = "cilium.io/v2"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    e.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "no-kubeconfig"), NO_COLOR="1")
    return e


def pod(namespace: str, name: str, labels: dict[str, str], ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "x"}
    if ports:
        container["ports"] = ports
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [container]}}  # fmt: skip


def write(tmp_path: Path, docs: list[dict[str, Any]], name: str = "in") -> str:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(folder)


def verdict(env: dict[str, str], folder: str, src: str, dst: str, port: str, *extra: str) -> str:
    p = run(env, "can-reach", src, dst, "--port", port, "--manifests", folder, *extra)
    assert p.returncode in (0, 1, 3), p.stderr
    assert "Traceback" not in p.stderr
    return p.stdout.split()[0]


# --- the Star Wars demo (examples/minikube/http-sw-app.yaml, without the container images) --------------------------

SW_APP = [
    ns("default"),
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "deathstar", "namespace": "default",
                                                          "labels": {"app.kubernetes.io/name": "deathstar"}},
     "spec": {"type": "ClusterIP", "ports": [{"port": 80}], "selector": {"org": "empire", "class": "deathstar"}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "deathstar", "namespace": "default"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"org": "empire", "class": "deathstar"}},
              "template": {"metadata": {"labels": {"org": "empire", "class": "deathstar",
                                                   "app.kubernetes.io/name": "deathstar"}},
                           "spec": {"containers": [{"name": "deathstar", "image": "starwars"}]}}}},
    pod("default", "tiefighter", {"org": "empire", "class": "tiefighter", "app.kubernetes.io/name": "tiefighter"}),
    pod("default", "xwing", {"org": "alliance", "class": "xwing", "app.kubernetes.io/name": "xwing"}),
]  # fmt: skip
RULE1_L4 = {
    "apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "rule1", "namespace": "default"},
    "description": "L3-L4 policy to restrict deathstar access to empire ships only",
    "spec": {"endpointSelector": {"matchLabels": {"org": "empire", "class": "deathstar"}},
             "ingress": [{"fromEndpoints": [{"matchLabels": {"org": "empire"}}],
                          "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}]},
}  # fmt: skip
RULE1_L7 = {
    **RULE1_L4,
    "description": "L7 policy to restrict access to specific HTTP call",
    "spec": {"endpointSelector": {"matchLabels": {"org": "empire", "class": "deathstar"}},
             "ingress": [{"fromEndpoints": [{"matchLabels": {"org": "empire"}}],
                          "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}],
                                       "rules": {"http": [{"method": "POST", "path": "/v1/request-landing"}]}}]}]},
}  # fmt: skip
DEATHSTAR = "default/svc/deathstar"


def test_star_wars_before_any_policy_every_ship_lands(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, SW_APP)
    assert verdict(env, folder, "default/tiefighter", DEATHSTAR, "80") == "ALLOWED"  # "Ship landed"
    assert verdict(env, folder, "default/xwing", DEATHSTAR, "80") == "ALLOWED"


def test_star_wars_l3_l4_policy_lets_only_empire_ships_land(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*SW_APP, RULE1_L4])
    assert verdict(env, folder, "default/tiefighter", DEATHSTAR, "80") == "ALLOWED"  # "Ship landed"
    # "the same request run from an xwing pod will fail ... This request will hang"
    p = run(env, "can-reach", "default/xwing", DEATHSTAR, "--port", "80", "--manifests", folder)
    assert p.returncode == 1 and p.stdout.startswith("DENIED"), p.stdout
    assert "CNP default/rule1" in p.stdout and "default deny" in p.stdout
    assert "allows endpoints {org=empire} in namespace default" in p.stdout  # the closest rule and what differs
    # "ingress policy enforcement enabled" for the deathstar only: egress is not enforced
    v = json.loads(run(env, "can-reach", "default/tiefighter", "default/deploy/deathstar", "--port", "8080",
                       "--manifests", folder, "-o", "json").stdout)  # fmt: skip
    flow = v["flows"][0]
    assert flow["egress"]["allowed"] is True and flow["ingress"]["allowed"] is False  # only port 80 is allowed
    assert v["cni"] == "cilium"


def test_star_wars_l7_policy_is_allowed_at_l4_and_says_http_filters_it(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*SW_APP, RULE1_L7])
    # "POST /v1/request-landing -> Ship landed", "PUT /v1/exhaust-port -> Access denied": same L4 flow, the HTTP
    # rule decides above it -- so the L4 verdict is ALLOWED and says which L7 rule filters it, never a silent allow
    p = run(env, "can-reach", "default/tiefighter", DEATHSTAR, "--port", "80", "--manifests", folder, "-o", "json")
    assert p.returncode == 0, p.stderr
    flow = json.loads(p.stdout)["flows"][0]
    assert flow["allowed"] is True
    assert any("L7 rules (HTTP: POST /v1/request-landing) filter the requests" in n for n in flow["ingress"]["notes"]), flow
    text = run(env, "can-reach", "default/tiefighter", DEATHSTAR, "--port", "80", "--manifests", folder).stdout
    assert "allows the port at L4 only" in text, text
    # "traffic from pods without the label org=empire will continue to be dropped"
    assert verdict(env, folder, "default/xwing", DEATHSTAR, "80") == "DENIED"
    rows = json.loads(run(env, "paths", "-A", "--port", "80", "--manifests", folder, "-o", "json").stdout)["paths"]
    got = {(r["from"], r["to"]): r["allowed"] for r in rows}
    assert got[("default/tiefighter", "default/deployment/deathstar")] is True
    assert got[("default/xwing", "default/deployment/deathstar")] is False


# --- deny.rst: the precedence table, and the external lockdown example ---------------------------------------------

SERVER = pod("demo", "server", {"app": "server"}, [{"containerPort": 80}, {"containerPort": 81}])
CLIENT = pod("demo", "client", {"app": "client"})


def _allow(kind: str) -> dict[str, Any]:
    client = [{"matchLabels": {"app": "client"}}]
    if kind == "l3":
        return {"fromEndpoints": client}
    return {"fromEndpoints": client, "toPorts": [{"ports": [{"port": kind[3:], "protocol": "TCP"}]}]}


def _deny(kind: str) -> dict[str, Any]:
    if kind == "l4-80":
        return {"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}
    return {"fromEndpoints": [{"matchLabels": {"app": "client"}}]}


@pytest.mark.parametrize(
    ("denies", "port80", "port81"),
    [
        ((), "ALLOWED", "ALLOWED"),  # column 1: allow policies only
        (("l4-80",), "DENIED", "ALLOWED"),  # column 2: "Curl to port 80 is denied because there is a deny policy"
        (("l3",), "DENIED", "DENIED"),  # column 3
        (("l4-80", "l3"), "DENIED", "DENIED"),  # column 4
    ],
)
def test_deny_policies_take_precedence_over_allow_policies(
    env: dict[str, str], tmp_path: Path, denies: tuple[str, ...], port80: str, port81: str
) -> None:
    spec: dict[str, Any] = {"endpointSelector": {"matchLabels": {"app": "server"}},
                            "ingress": [_allow("l3"), _allow("l4-80"), _allow("l4-81")]}  # fmt: skip
    if denies:
        spec["ingressDeny"] = [_deny(d) for d in denies]
    cnp = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "server", "namespace": "demo"}, "spec": spec}
    folder = write(tmp_path, [ns("demo"), SERVER, CLIENT, cnp])
    assert verdict(env, folder, "demo/client", "demo/server", "80") == port80
    assert verdict(env, folder, "demo/client", "demo/server", "81") == port81


def test_deny_policies_column_5_deny_alone_still_isolates(env: dict[str, str], tmp_path: Path) -> None:
    # "Pods will enter default-deny mode as soon as a single policy selects it" -- a deny-only policy too
    cnp = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "server", "namespace": "demo"},
           "spec": {"endpointSelector": {"matchLabels": {"app": "server"}}, "ingressDeny": [_deny("l4-80")]}}  # fmt: skip
    folder = write(tmp_path, [ns("demo"), SERVER, CLIENT, cnp])
    assert verdict(env, folder, "demo/client", "demo/server", "80") == "DENIED"
    assert verdict(env, folder, "demo/client", "demo/server", "81") == "DENIED"


def test_a_cilium_deny_overrides_a_kubernetes_networkpolicy_allow(env: dict[str, str], tmp_path: Path) -> None:
    # "regardless of whether they are a Cilium Network Policy ... or even a Kubernetes Network Policy"
    np_allow = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow", "namespace": "demo"},
                "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "ingress": [{}]}}  # fmt: skip
    deny = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "deny-80", "namespace": "demo"},
            "spec": {"endpointSelector": {"matchLabels": {"app": "server"}}, "ingressDeny": [_deny("l4-80")]}}  # fmt: skip
    folder = write(tmp_path, [ns("demo"), SERVER, CLIENT, np_allow, deny])
    p = run(env, "can-reach", "demo/client", "demo/server", "--port", "80", "--manifests", folder)
    assert p.stdout.startswith("DENIED") and "CNP demo/deny-80 ingress rule 1 (ingressDeny) denies it" in p.stdout, p.stdout
    assert "A minimal NetworkPolicy" not in p.stdout  # no allow can lift a deny rule
    args = ("can-reach", "demo/client", "demo/server", "--port", "80", "--manifests", folder, "-o", "json")
    j = json.loads(run(env, *args).stdout)
    assert j["flows"][0]["ingress"]["decidedBy"]["path"] == "spec.ingressDeny[0]"
    assert verdict(env, folder, "demo/client", "demo/server", "81") == "ALLOWED"  # the NetworkPolicy allows it


def test_allows_are_a_union_of_cilium_and_kubernetes_policies(env: dict[str, str], tmp_path: Path) -> None:
    np_443 = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "tls", "namespace": "demo"},
              "spec": {"podSelector": {"matchLabels": {"app": "server"}},
                       "ingress": [{"ports": [{"port": 81, "protocol": "TCP"}]}]}}  # fmt: skip
    cnp_80 = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "web", "namespace": "demo"},
              "spec": {"endpointSelector": {"matchLabels": {"app": "server"}}, "ingress": [_allow("l4-80")]}}  # fmt: skip
    folder = write(tmp_path, [ns("demo"), SERVER, CLIENT, np_443, cnp_80])
    assert verdict(env, folder, "demo/client", "demo/server", "80") == "ALLOWED"
    assert verdict(env, folder, "demo/client", "demo/server", "81") == "ALLOWED"
    assert verdict(env, folder, "demo/client", "demo/server", "82") == "DENIED"


def test_external_lockdown_denies_the_world_and_keeps_the_cluster(env: dict[str, str], tmp_path: Path) -> None:
    lockdown = {"apiVersion": V2, "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "external-lockdown"},
                "spec": {"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}],
                         "ingress": [{"fromEntities": ["all"]}]}}  # fmt: skip
    folder = write(tmp_path, [ns("demo"), ns("other"), SERVER, CLIENT, pod("other", "x", {"app": "x"}), lockdown])
    # "deny ingress from 'world' on all namespaces on all Pods managed by Cilium"
    assert verdict(env, folder, "ip:198.51.100.7", "demo/server", "80") == "DENIED"
    # "Existing inter-cluster policies will still be allowed as this policy is allowing traffic from everywhere except
    # from 'world'"
    assert verdict(env, folder, "other/x", "demo/server", "80") == "ALLOWED"
    assert verdict(env, folder, "demo/server", "ip:198.51.100.7", "443") == "ALLOWED"  # egress is not enforced


# --- selectors, entities, CIDRs, FQDNs -------------------------------------------------------------------------------


def test_peer_selectors_are_scoped_to_the_policy_namespace_unless_they_name_one(env: dict[str, str], tmp_path: Path) -> None:
    isolate = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "isolate-ns1", "namespace": "ns1"},
               "spec": {"endpointSelector": {"matchLabels": {}},
                        "ingress": [{"fromEndpoints": [{"matchLabels": {}}]}]}}  # fmt: skip
    cross = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "from-ns3", "namespace": "ns1"},
             "spec": {"endpointSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "ns3"}}]}]}}  # fmt: skip
    team = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns4", "labels": {"team": "blue"}}}
    blue = [{"matchLabels": {"io.cilium.k8s.namespace.labels.team": "blue"}}]
    by_label = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "from-blue", "namespace": "ns1"},
                "spec": {"endpointSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"fromEndpoints": blue}]}}  # fmt: skip
    docs = [ns("ns1"), ns("ns2"), ns("ns3"), team, isolate, cross, by_label, pod("ns1", "a", {"app": "a"}),
            pod("ns1", "db", {"app": "db"}), pod("ns2", "b", {"app": "a"}), pod("ns3", "c", {"app": "a"}),
            pod("ns4", "d", {"app": "a"})]  # fmt: skip
    folder = write(tmp_path, docs)
    # the namespace-isolation example (kubernetes.rst): "allowing communication from all pods within the same namespace"
    assert verdict(env, folder, "ns1/db", "ns1/a", "80") == "ALLOWED"
    assert verdict(env, folder, "ns2/b", "ns1/a", "80") == "DENIED"
    assert verdict(env, folder, "ns3/c", "ns1/db", "80") == "ALLOWED"  # names its namespace
    assert verdict(env, folder, "ns4/d", "ns1/db", "80") == "ALLOWED"  # selects by namespace label
    assert verdict(env, folder, "ns2/b", "ns1/db", "80") == "DENIED"


def test_a_clusterwide_empty_peer_selector_is_every_pod_never_the_world(env: dict[str, str], tmp_path: Path) -> None:
    ccnp = {"apiVersion": V2, "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "pods-only"},
            "spec": {"endpointSelector": {"matchLabels": {"app": "server"}}, "ingress": [{"fromEndpoints": [{}]}]}}  # fmt: skip
    folder = write(tmp_path, [ns("demo"), ns("other"), SERVER, pod("other", "x", {"app": "x"}), ccnp])
    assert verdict(env, folder, "other/x", "demo/server", "80") == "ALLOWED"
    assert verdict(env, folder, "ip:198.51.100.7", "demo/server", "80") == "DENIED"


def test_entities_cidrs_and_fqdns(env: dict[str, str], tmp_path: Path) -> None:
    egress = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "egress", "namespace": "demo"},
              "spec": {"endpointSelector": {"matchLabels": {"app": "client"}}, "egress": [
                  {"toCIDRSet": [{"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}],
                   "toPorts": [{"ports": [{"port": "443"}]}]},
                  {"toEntities": ["cluster"], "toPorts": [{"ports": [{"port": "8080"}]}]},
                  {"toFQDNs": [{"matchName": "api.example.com"}]},
                  {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
                   "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
              ]}}  # fmt: skip
    dns = pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, [{"containerPort": 53, "protocol": "UDP"}])
    folder = write(tmp_path, [ns("demo"), ns("kube-system"), SERVER, CLIENT, dns, egress])
    assert verdict(env, folder, "demo/client", "ip:203.0.113.9", "443") == "ALLOWED"  # inside the CIDR
    assert verdict(env, folder, "demo/client", "ip:203.0.113.200", "443") == "UNKNOWN"  # except: only the FQDN rule may
    assert verdict(env, folder, "demo/client", "demo/server", "8080") == "ALLOWED"  # toEntities cluster
    assert verdict(env, folder, "demo/client", "demo/server", "80") == "DENIED"
    p = run(env, "can-reach", "demo/client", "ip:198.51.100.7", "--port", "443", "--manifests", folder)
    assert p.stdout.startswith("UNKNOWN") and "toFQDNs api.example.com" in p.stdout, p.stdout
    p = run(env, "can-reach", "demo/client", "kube-system/coredns", "--port", "53", "--protocol", "UDP", "--manifests",
            folder, "-o", "json")  # fmt: skip
    flow = json.loads(p.stdout)["flows"][0]
    assert flow["allowed"] is True and any("DNS: *" in n for n in flow["egress"]["notes"]), flow


def test_enforcement_modes(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*SW_APP, RULE1_L4])
    # always: "every endpoint ... default deny", a pod no policy selects included
    assert verdict(env, folder, "default/xwing", "default/tiefighter", "80", "--policy-enforcement", "always") == "DENIED"
    assert verdict(env, folder, "default/xwing", "default/tiefighter", "80") == "ALLOWED"
    # never: no policy is enforced
    assert verdict(env, folder, "default/xwing", DEATHSTAR, "80", "--policy-enforcement", "never") == "ALLOWED"
    p = run(env, "can-reach", "default/xwing", DEATHSTAR, "--port", "80", "--manifests", folder, "--cni", "calico",
            "--policy-enforcement", "always")  # fmt: skip
    assert p.returncode == 2 and p.stderr.startswith("error: --policy-enforcement always is Cilium's"), p.stderr


def test_an_invalid_cilium_policy_is_left_out_and_audited(env: dict[str, str], tmp_path: Path) -> None:
    bad = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "mixed", "namespace": "default"},
           "spec": {"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}], "fromCIDR": ["10.0.0.0/8"]}]}}  # fmt: skip
    port_number = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "number", "namespace": "default"},
                   "spec": {"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": 80}]}]}]}}  # fmt: skip
    folder = write(tmp_path, [*SW_APP, bad, port_number])
    p = run(env, "can-reach", "default/xwing", DEATHSTAR, "--port", "80", "--manifests", folder)
    assert "combining fromEndpoints and fromCIDR is not supported" in p.stderr, p.stderr
    assert 'must be a string such as "80"' in p.stderr and "Traceback" not in p.stderr, p.stderr
    findings = json.loads(run(env, "audit", "-A", "--manifests", folder, "-o", "json").stdout)["findings"]
    invalid = {f["object"] for f in findings if f["check"] == "invalid-manifest"}
    assert any("mixed" in o for o in invalid) and any("number" in o for o in invalid), invalid


def test_a_host_policy_makes_host_network_pods_unknown(env: dict[str, str], tmp_path: Path) -> None:
    host_fw = {"apiVersion": V2, "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "host-fw"},
               "spec": {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}  # fmt: skip
    agent = pod("kube-system", "agent", {"app": "agent"})
    agent["spec"]["hostNetwork"] = True
    folder = write(tmp_path, [ns("kube-system"), *SW_APP, agent, host_fw])
    p = run(env, "can-reach", "ip:198.51.100.7", "kube-system/agent", "--port", "22", "--manifests", folder)
    assert p.stdout.startswith("UNKNOWN") and "host policy (nodeSelector)" in p.stdout, p.stdout
    assert verdict(env, folder, "default/xwing", DEATHSTAR, "80") == "ALLOWED"  # endpoints are evaluated as before
