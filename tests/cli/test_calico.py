"""Issue 12 item 2: Calico policies through the installed kubectl-netsso, on the Calico documentation's worked examples
with their stated outcomes (tigera/docs calico/network-policy/get-started/calico-policy/calico-policy-tutorial.mdx,
kubernetes-default-deny.mdx; the tiers guide), plus what the explanation names and how the objects are decoded."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli.test_cni_never_silent import ns, run

V3 = "projectcalico.org/v3"
GOOGLE = "ip:142.250.72.14"  # "google.com": an address outside the cluster


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    e.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "no-kubeconfig"), NO_COLOR="1")
    return e


def pod(
    namespace: str, name: str, labels: dict[str, str], ports: list[dict[str, Any]] | None = None, sa: str = ""
) -> dict[str, Any]:
    container = {"name": "c", "image": "x", "ports": ports or [{"containerPort": 80, "name": "http"}]}
    spec: dict[str, Any] = {"containers": [container]}
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


DNS_PORTS = [{"containerPort": 53, "protocol": "UDP", "name": "dns"}, {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"}]
DNS = pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, DNS_PORTS)


def write(tmp_path: Path, docs: list[dict[str, Any]], name: str = "in") -> str:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(folder)


def verdict(env: dict[str, str], folder: str, src: str, dst: str, port: str, *extra: str) -> str:
    p = run(env, "can-reach", src, dst, "--port", port, "--manifests", folder, *extra)
    assert p.returncode in (0, 1, 3), p.stderr
    return p.stdout.split()[0]


# --- the Calico policy tutorial, step by step ---------------------------------------------------------------------

TUTORIAL = [
    ns("advanced-policy-demo"),
    ns("kube-system"),
    # "kubectl create deployment --namespace=advanced-policy-demo nginx --image=nginx"
    pod("advanced-policy-demo", "nginx", {"app": "nginx"}),
    # "kubectl run --namespace=advanced-policy-demo access ... --image busybox"
    pod("advanced-policy-demo", "access", {"run": "access"}),
    DNS,
]
DEFAULT_DENY = {
    "apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": "default-deny"},
    "spec": {"selector": "projectcalico.org/namespace not in  {'kube-system', 'calico-system', 'calico-apiserver'}",
             "types": ["Ingress", "Egress"]},
}  # fmt: skip
BUSYBOX_EGRESS = {
    "apiVersion": V3, "kind": "NetworkPolicy", "metadata": {"name": "allow-busybox-egress", "namespace": "advanced-policy-demo"},
    "spec": {"selector": "run == 'access'", "types": ["Egress"], "egress": [{"action": "Allow"}]},
}  # fmt: skip
NGINX_INGRESS = {
    "apiVersion": V3, "kind": "NetworkPolicy", "metadata": {"name": "allow-nginx-ingress", "namespace": "advanced-policy-demo"},
    "spec": {"selector": "app == 'nginx'", "types": ["Ingress"],
             "ingress": [{"action": "Allow", "source": {"selector": "run == 'access'"}}]},
}  # fmt: skip
NGINX, ACCESS, COREDNS = "advanced-policy-demo/nginx", "advanced-policy-demo/access", "kube-system/coredns"


def test_tutorial_step_1_everything_is_open(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, TUTORIAL)
    assert verdict(env, folder, ACCESS, NGINX, "80") == "ALLOWED"  # "It returns the HTML of the nginx welcome page."
    assert verdict(env, folder, ACCESS, GOOGLE, "80") == "ALLOWED"  # "It returns the HTML of the google.com home page."


def test_tutorial_step_2_the_global_default_deny_locks_down_all_traffic(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*TUTORIAL, DEFAULT_DENY])
    # "wget: bad address 'nginx'" -- DNS is denied too, and so is everything else
    assert verdict(env, folder, ACCESS, COREDNS, "53", "--protocol", "UDP") == "DENIED"
    assert verdict(env, folder, ACCESS, NGINX, "80") == "DENIED"
    assert verdict(env, folder, ACCESS, GOOGLE, "80") == "DENIED"
    # "we exclude pods in the kube-system ... namespace": coredns itself is not isolated
    assert verdict(env, folder, COREDNS, GOOGLE, "443") == "ALLOWED"
    p = run(env, "can-reach", ACCESS, NGINX, "--port", "80", "--manifests", folder)
    assert "GNP default-deny" in p.stdout and "end-of-tier deny" in p.stdout, p.stdout


def test_tutorial_step_3_egress_from_busybox_reaches_google_not_nginx(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*TUTORIAL, DEFAULT_DENY, BUSYBOX_EGRESS])
    assert verdict(env, folder, ACCESS, GOOGLE, "80") == "ALLOWED"  # "It will return the HTML of the google home page."
    # "egress from the access pod will be allowed, but ... our default deny policy is blocking ingress traffic to the
    # nginx pod" -- and the explanation says exactly that, direction by direction
    p = run(env, "can-reach", ACCESS, NGINX, "--port", "80", "--manifests", folder, "-o", "json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["cni"] == "calico"
    eg, ing = data["flows"][0]["egress"], data["flows"][0]["ingress"]
    assert eg["allowed"] is True and eg["decidedBy"]["kind"] == "CalicoNetworkPolicy"
    assert eg["decidedBy"]["policy"] == "advanced-policy-demo/allow-busybox-egress" and eg["decidedBy"]["rule"] == 1
    assert ing["allowed"] is False and ing["policies"] == ["GNP default-deny"]


def test_tutorial_step_4_ingress_to_nginx_from_access(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*TUTORIAL, DEFAULT_DENY, BUSYBOX_EGRESS, NGINX_INGRESS])
    assert verdict(env, folder, ACCESS, NGINX, "80") == "ALLOWED"  # "the HTML of the nginx welcome page"
    assert verdict(env, folder, ACCESS, GOOGLE, "80") == "ALLOWED"
    assert verdict(env, folder, NGINX, ACCESS, "80") == "DENIED"  # nothing allows the way back as a new connection
    p = run(env, "paths", "-n", "advanced-policy-demo", "--port", "80", "--manifests", folder, "-o", "json")
    assert p.returncode == 0, p.stderr
    rows = {(r["from"], r["to"]): r["allowed"] for r in json.loads(p.stdout)["paths"]}
    assert rows[(ACCESS, NGINX)] is True and rows[(NGINX, ACCESS)] is False


# --- "Enable default deny for Kubernetes pods": deny-app-policy with the DNS exception ----------------------------

DENY_APP = {
    "apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": "deny-app-policy"},
    "spec": {
        "namespaceSelector": 'has(projectcalico.org/name) && projectcalico.org/name not in {"kube-system", "calico-system", '
                             '"calico-apiserver"}',
        "types": ["Ingress", "Egress"],
        "egress": [
            {"action": "Allow", "protocol": "UDP", "destination": {"selector": 'k8s-app == "kube-dns"', "ports": [53]}},
            {"action": "Allow", "protocol": "TCP", "destination": {"selector": 'k8s-app == "kube-dns"', "ports": [53]}},
        ],
    },
}  # fmt: skip


def test_global_default_deny_for_app_namespaces_keeps_dns_and_the_control_plane(env: dict[str, str], tmp_path: Path) -> None:
    docs = [ns("engineering"), ns("kube-system"), DNS, DENY_APP,
            pod("engineering", "web", {"app": "web"}), pod("engineering", "db", {"app": "db"}),
            pod("kube-system", "metrics", {"k8s-app": "metrics"})]  # fmt: skip
    folder = write(tmp_path, docs)
    # "The policy also allows access kube-dns"
    assert verdict(env, folder, "engineering/web", COREDNS, "53", "--protocol", "UDP") == "ALLOWED"
    assert verdict(env, folder, "engineering/web", COREDNS, "53") == "ALLOWED"
    # "applies a default-deny behaviour to all non-system pods"
    assert verdict(env, folder, "engineering/web", "engineering/db", "80") == "DENIED"
    assert verdict(env, folder, "engineering/web", GOOGLE, "443") == "DENIED"
    # "deliberately excludes the kube-system ... namespaces ... to avoid impacting any control plane components"
    assert verdict(env, folder, "kube-system/metrics", COREDNS, "53") == "ALLOWED"
    # ... and a kube-system pod reaching into an app namespace still meets that namespace's ingress default deny
    assert verdict(env, folder, "kube-system/metrics", "engineering/web", "80") == "DENIED"
    # a Kubernetes NetworkPolicy (default tier, order 1000) comes before the GNP without order: it can allow
    allow_db = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db", "namespace": "engineering"},
        "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [{"podSelector": {}}]}]},
    }  # fmt: skip
    egress = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web", "namespace": "engineering"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"], "egress": [{}]},
    }  # fmt: skip
    folder2 = write(tmp_path, [*docs, allow_db, egress], "in2")
    assert verdict(env, folder2, "engineering/web", "engineering/db", "80") == "ALLOWED"
    p = run(env, "can-reach", "engineering/web", "engineering/db", "--port", "80", "--manifests", folder2)
    assert "NP engineering/db ingress rule 1" in p.stdout and "NP engineering/web egress rule 1" in p.stdout, p.stdout


def test_namespaced_calico_default_deny(env: dict[str, str], tmp_path: Path) -> None:
    deny = {"apiVersion": V3, "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "engineering"},
            "spec": {"selector": "all()", "types": ["Ingress", "Egress"]}}  # fmt: skip
    docs = [ns("engineering"), ns("other"), deny, pod("engineering", "web", {"app": "web"}), pod("other", "x", {"app": "x"})]
    folder = write(tmp_path, docs)
    assert verdict(env, folder, "other/x", "engineering/web", "80") == "DENIED"
    assert verdict(env, folder, "engineering/web", "other/x", "80") == "DENIED"
    assert verdict(env, folder, "other/x", "other/x", "80") == "ALLOWED"


# --- tiers, order, Pass, Log, Deny -----------------------------------------------------------------------------------


def test_tiers_a_pass_hands_over_to_the_default_tier_a_deny_is_final(env: dict[str, str], tmp_path: Path) -> None:
    tier = {"apiVersion": V3, "kind": "Tier", "metadata": {"name": "security"}, "spec": {"order": 100}}
    # security tier: log everything, deny egress to the cloud metadata address, pass the rest to the next tier
    security = {
        "apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": "security.guard"},
        "spec": {"tier": "security", "order": 10, "selector": "all()", "types": ["Egress"],
                 "egress": [{"action": "Log"},
                            {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}},
                            {"action": "Pass"}]},
    }  # fmt: skip
    docs = [ns("a"), tier, security, pod("a", "x", {"app": "x"}), pod("a", "y", {"app": "y"})]
    folder = write(tmp_path, docs)
    assert verdict(env, folder, "a/x", "ip:169.254.169.254", "80") == "DENIED"
    # passed: no policy of the default tier selects a/x, so the namespace profile allows
    assert verdict(env, folder, "a/x", "a/y", "80") == "ALLOWED"
    p = run(env, "can-reach", "a/x", "ip:169.254.169.254", "--port", "80", "--manifests", folder)
    assert "GNP security.guard egress rule 2" in p.stdout and "tier security" in p.stdout, p.stdout
    assert "A minimal NetworkPolicy" not in p.stdout  # a Kubernetes NetworkPolicy cannot lift a Deny of an earlier tier
    # without the Pass rule, the security tier drops what it did not decide ("end-of-tier drop")
    security["spec"]["egress"] = security["spec"]["egress"][:2]
    folder2 = write(tmp_path, [*docs[:2], security, *docs[3:]], "in2")
    assert verdict(env, folder2, "a/x", "a/y", "80") == "DENIED"
    # ... unless the tier's defaultAction is Pass
    tier2 = {**tier, "spec": {"order": 100, "defaultAction": "Pass"}}
    folder3 = write(tmp_path, [docs[0], tier2, security, *docs[3:]], "in3")
    assert verdict(env, folder3, "a/x", "a/y", "80") == "ALLOWED"


def test_order_lower_first_and_a_missing_tier_object_is_said(env: dict[str, str], tmp_path: Path) -> None:
    def gnp(name: str, order: float | None, action: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"selector": "app == 'y'", "ingress": [{"action": action, "protocol": "TCP",
                                                                       "destination": {"ports": ["70:90"]}}]}  # fmt: skip
        if order is not None:
            spec["order"] = order
        return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}

    base = [ns("a"), pod("a", "x", {"app": "x"}), pod("a", "y", {"app": "y"})]
    folder = write(tmp_path, [*base, gnp("allow", 10, "Allow"), gnp("deny", 20, "Deny")])
    assert verdict(env, folder, "a/x", "a/y", "80") == "ALLOWED"
    folder = write(tmp_path, [*base, gnp("allow", 30, "Allow"), gnp("deny", 20, "Deny")], "in2")
    assert verdict(env, folder, "a/x", "a/y", "80") == "DENIED"
    # no order sorts last ("nil = +infinity"); then ties by name
    folder = write(tmp_path, [*base, gnp("allow", None, "Allow"), gnp("deny", 5000, "Deny")], "in3")
    assert verdict(env, folder, "a/x", "a/y", "80") == "DENIED"
    # port 91 is outside the range: the end-of-tier deny (the policies select a/y for ingress)
    assert verdict(env, folder, "a/x", "a/y", "91") == "DENIED"
    missing = gnp("t", 1, "Allow")
    missing["spec"]["tier"] = "platform"
    p = run(env, "can-reach", "a/x", "a/y", "--port", "80", "--manifests", write(tmp_path, [*base, missing], "in4"))
    assert "tier platform, which is not in the input" in p.stderr, p.stderr


# --- selectors: service accounts, namespaces, network sets -----------------------------------------------------------


def test_service_account_and_namespace_selectors(env: dict[str, str], tmp_path: Path) -> None:
    team = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b", "labels": {"team": "blue"}}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount",
          "metadata": {"name": "robot", "namespace": "b", "labels": {"trust": "high"}}}  # fmt: skip
    default_sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "b"}}
    policy = {
        "apiVersion": V3, "kind": "NetworkPolicy", "metadata": {"name": "db-in", "namespace": "a"},
        "spec": {"selector": "app == 'db'", "ingress": [
            {"action": "Allow", "protocol": "TCP",
             "source": {"namespaceSelector": "team == 'blue'", "serviceAccounts": {"selector": "trust == 'high'"}},
             "destination": {"ports": [5432]}},
        ]},
    }  # fmt: skip
    docs = [ns("a"), team, sa, default_sa, policy, pod("a", "db", {"app": "db"}, [{"containerPort": 5432}]),
            pod("b", "robot", {"app": "r"}, sa="robot"), pod("b", "human", {"app": "r"}),
            pod("a", "local", {"app": "r"}, sa="robot")]  # fmt: skip
    folder = write(tmp_path, docs)
    assert verdict(env, folder, "b/robot", "a/db", "5432") == "ALLOWED"
    assert verdict(env, folder, "b/human", "a/db", "5432") == "DENIED"  # same labels, service account default
    assert verdict(env, folder, "a/local", "a/db", "5432") == "DENIED"  # namespace a is not team=blue
    # paths tells the two b pods apart although their labels are equal (the class key has the service account)
    p = run(env, "paths", "-A", "--port", "5432", "--manifests", folder, "-o", "json")
    rows = {(r["from"], r["to"]): r["allowed"] for r in json.loads(p.stdout)["paths"]}
    assert rows[("b/robot", "a/db")] is True and rows[("b/human", "a/db")] is False
    # without the ServiceAccount object its labels are unknown: UNKNOWN, never a guess
    folder2 = write(tmp_path, [d for d in docs if d is not sa], "in2")
    assert verdict(env, folder2, "b/robot", "a/db", "5432") == "UNKNOWN"
    p = run(env, "can-reach", "b/robot", "a/db", "--port", "5432", "--manifests", folder2)
    assert "service account b/robot are not known" in p.stdout, p.stdout


def test_network_sets_name_outside_addresses(env: dict[str, str], tmp_path: Path) -> None:
    gns = {"apiVersion": V3, "kind": "GlobalNetworkSet", "metadata": {"name": "partners", "labels": {"zone": "partner"}},
           "spec": {"nets": ["198.51.100.0/24"]}}  # fmt: skip
    policy = {
        "apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": "egress"},
        "spec": {"selector": "app == 'x'", "egress": [{"action": "Allow", "destination": {"selector": "zone == 'partner'"}}]},
    }  # fmt: skip
    folder = write(tmp_path, [ns("a"), gns, policy, pod("a", "x", {"app": "x"}), pod("a", "y", {"app": "y"})])
    assert verdict(env, folder, "a/x", "ip:198.51.100.7", "443") == "ALLOWED"
    assert verdict(env, folder, "a/x", "ip:198.51.101.7", "443") == "DENIED"
    # a selector matches what carries its labels: not a/y
    assert verdict(env, folder, "a/x", "a/y", "80") == "DENIED"


# --- decoding: both API groups, invalid objects, --cni ----------------------------------------------------------------


def test_crd_projectcalico_org_v1_is_read_as_v3(env: dict[str, str], tmp_path: Path) -> None:
    v1 = {**DEFAULT_DENY, "apiVersion": "crd.projectcalico.org/v1"}
    folder = write(tmp_path, [*TUTORIAL, v1])
    assert verdict(env, folder, ACCESS, NGINX, "80") == "DENIED"


def test_an_invalid_calico_policy_is_left_out_and_audited(env: dict[str, str], tmp_path: Path) -> None:
    bad = {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": "broken"},
           "spec": {"selector": "app == 'x", "types": ["Ingress"]}}  # fmt: skip
    folder = write(tmp_path, [*TUTORIAL, bad])
    p = run(env, "can-reach", ACCESS, NGINX, "--port", "80", "--manifests", folder)
    assert "GlobalNetworkPolicy broken" in p.stderr and "invalid selector" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    a = run(env, "audit", "-A", "--manifests", folder, "-o", "json")
    findings = json.loads(a.stdout)["findings"]
    assert any(f["check"] == "invalid-manifest" and "broken" in json.dumps(f) for f in findings), findings


def test_cni_generic_leaves_calico_objects_unknown(env: dict[str, str], tmp_path: Path) -> None:
    folder = write(tmp_path, [*TUTORIAL, DEFAULT_DENY])
    p = run(env, "can-reach", ACCESS, NGINX, "--port", "80", "--manifests", folder, "--cni", "generic")
    assert p.stdout.startswith("UNKNOWN"), p.stdout
    assert "GlobalNetworkPolicy default-deny is not evaluated" in p.stdout + p.stderr
    assert verdict(env, folder, ACCESS, NGINX, "80", "--cni", "calico") == "DENIED"


def test_audit_does_not_ask_for_a_default_deny_a_calico_policy_already_gives(env: dict[str, str], tmp_path: Path) -> None:
    deny = {"apiVersion": V3, "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "engineering"},
            "spec": {"selector": "all()", "types": ["Ingress", "Egress"]}}  # fmt: skip
    docs = [ns("engineering"), ns("open"), deny, pod("engineering", "web", {"app": "web"}), pod("open", "x", {"app": "x"})]
    a = run(env, "audit", "-A", "--manifests", write(tmp_path, docs), "-o", "json")
    missing = [f for f in json.loads(a.stdout)["findings"] if f["check"].startswith("no-")]
    assert any("open" in json.dumps(f) for f in missing), missing
    assert not any("engineering" in json.dumps(f) for f in missing), missing


def test_a_policy_on_host_endpoints_makes_host_network_traffic_unknown(env: dict[str, str], tmp_path: Path) -> None:
    hostnet = pod("kube-system", "agent", {"app": "agent"})
    hostnet["spec"].update(hostNetwork=True, nodeName="n1")
    hep = {"apiVersion": V3, "kind": "HostEndpoint", "metadata": {"name": "n1-eth0", "labels": {"host": "n1"}},
           "spec": {"node": "n1", "interfaceName": "eth0", "expectedIPs": ["10.9.0.1"]}}  # fmt: skip
    gnp = {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": "default-deny"},
           "spec": {"selector": "all()", "types": ["Ingress", "Egress"]}}  # fmt: skip
    docs = [ns("a"), ns("kube-system"), gnp, hostnet, pod("a", "x", {"app": "x"})]
    # no HostEndpoint object: Calico polices no host interface, the hostNetwork pod is not policed
    assert verdict(env, write(tmp_path, docs), "kube-system/agent", "ip:8.8.8.8", "53") == "ALLOWED"
    folder = write(tmp_path, [*docs, hep], "in2")
    p = run(env, "can-reach", "kube-system/agent", "ip:8.8.8.8", "--port", "53", "--manifests", folder)
    assert p.stdout.startswith("UNKNOWN"), p.stdout
    assert "selects host endpoint n1-eth0: host endpoint policy is not evaluated" in p.stdout, p.stdout
    assert verdict(env, folder, "a/x", "ip:8.8.8.8", "53") == "DENIED"  # workloads are evaluated as before
