"""Audit hints print exactly the policy that fixes their finding and nothing more (issue 10 item 8).

Each hint's command is run through the installed executable, its output applied to the manifests, and audit and
`paths -A` run again: the finding is gone, no finding is new, and the only flows that disappear are the ones the
finding was about (ingress into the namespace for a missing ingress deny, non-DNS egress out of it for a missing
egress deny, none at all for a DNS allow). The old hints cut traffic: `default-deny --allow-dns` for a DNS finding
printed a deny-all, and `default-deny` for a missing ingress deny denied egress too.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.executable import netsso

HINTED = ("no-network-policy", "no-default-deny-ingress", "no-default-deny-egress", "dns-egress-denied")


def _deploy(ns: str, name: str, labels: dict[str, str], ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "c", "image": "i", "ports": ports}]}}}}  # fmt: skip


def _np(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns},
            "spec": spec}  # fmt: skip


DNS_EGRESS = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                      "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
              "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}  # fmt: skip

DOCS: list[dict[str, Any]] = [
    *({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("kube-system", "app", "open", "ing")),
    _deploy("kube-system", "coredns", {"k8s-app": "kube-dns"},
            [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53}]),
    # app: ingress-only default deny; api is egress-isolated (to db only, no DNS); web is open for egress
    _deploy("app", "api", {"app": "api"}, [{"containerPort": 8080}]),
    _deploy("app", "web", {"app": "web"}, [{"containerPort": 80}]),
    _deploy("app", "db", {"app": "db"}, [{"containerPort": 5432}]),
    _np("app", "deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}),
    _np("app", "api-egress", {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                              "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]}]}),
    _np("app", "db-ingress", {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                              "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}],
                                           "ports": [{"port": 5432}]}]}),
    _np("app", "web-ingress", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                               "ingress": [{"ports": [{"port": 80}]}]}),
    # open: no policy at all
    _deploy("open", "x", {"app": "x"}, [{"containerPort": 8080}]),
    # ing: egress denied but DNS, ingress open
    _deploy("ing", "y", {"app": "y"}, [{"containerPort": 9000}]),
    _np("ing", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}),
    _np("ing", "dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [DNS_EGRESS]}),
]  # fmt: skip


def findings(folder: Path, home: Path) -> dict[tuple[str, str], dict[str, Any]]:
    p = netsso("audit", "--manifests", str(folder), "--fail-on", "never", "-o", "json", home=home)
    assert p.returncode == 0, p.stderr
    return {(f["check"], f["object"]): f for f in json.loads(p.stdout)["findings"]}


def allowed_flows(folder: Path, home: Path) -> set[tuple[str, str, int, str]]:
    p = netsso("paths", "-A", "--manifests", str(folder), "-o", "json", home=home)
    assert p.returncode == 0, p.stderr
    return {(r["from"], r["to"], r["port"], r["protocol"]) for r in json.loads(p.stdout)["paths"] if r["allowed"]}


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], dict[str, Any]], set[Any]]:
    folder = tmp_path_factory.mktemp("hints") / "cluster"
    folder.mkdir()
    (folder / "all.yaml").write_text(yaml.safe_dump_all(DOCS, sort_keys=False))
    home = folder.parent
    return folder, findings(folder, home), allowed_flows(folder, home)


def test_the_folder_has_one_finding_of_each_hinted_check(before: Any) -> None:
    _folder, found, _flows = before
    hinted = {k: f["details"]["command"] for k, f in found.items() if k[0] in HINTED}
    assert hinted == {
        ("no-network-policy", "namespace/open"): "kubectl netsso policy default-deny -n open --allow-dns",
        ("no-default-deny-ingress", "namespace/ing"): "kubectl netsso policy default-deny -n ing --ingress-only",
        # web is open for egress: a deny would take its DNS away unless the DNS allow comes with it
        ("no-default-deny-egress", "namespace/app"): "kubectl netsso policy default-deny -n app --egress-only --allow-dns",
        # only api is egress-isolated: a DNS allow for every pod would isolate web and cut its egress
        ("dns-egress-denied", "app/deployment/api"): "kubectl netsso policy allow-dns -n app --pod-selector app=api",
    }
    for key, command in hinted.items():
        assert found[key]["hint"].endswith(command)


def _is_dns(flow: tuple[str, str, int, str]) -> bool:
    return flow[1] == "kube-system/deployment/coredns" and flow[2] == 53


def _about(check: str, ns: str, flow: tuple[str, str, int, str]) -> bool:
    """Whether losing this flow is what fixing the finding means."""
    src_ns, dst_ns = flow[0].split("/")[0], flow[1].split("/")[0]
    if check == "no-default-deny-ingress":
        return dst_ns == ns
    if check == "no-default-deny-egress":
        return src_ns == ns and not _is_dns(flow)
    if check == "no-network-policy":
        return (dst_ns == ns) or (src_ns == ns and not _is_dns(flow))
    return False  # a DNS allow removes nothing


@pytest.mark.parametrize("check", HINTED)
def test_applying_a_hint_fixes_its_finding_and_cuts_nothing_else(before: Any, check: str, tmp_path: Path) -> None:
    folder, found, flows = before
    (key,) = [k for k in found if k[0] == check]
    argv = shlex.split(found[key]["details"]["command"])
    assert argv[:3] == ["kubectl", "netsso", "policy"]
    printed = netsso(*argv[2:], home=tmp_path)
    assert printed.returncode == 0, printed.stderr
    fixed = tmp_path / "cluster"
    shutil.copytree(folder, fixed)
    (fixed / "fix.yaml").write_text(printed.stdout)  # what `| kubectl apply -f -` would create
    after = findings(fixed, tmp_path)
    assert key not in after, after.get(key)
    assert set(after) <= set(found) - {key}, set(after) - set(found)  # nothing new
    now = allowed_flows(fixed, tmp_path)
    ns = key[1].split("/")[1] if key[1].startswith("namespace/") else key[1].split("/")[0]
    removed = flows - now
    assert all(_about(check, ns, f) for f in removed), sorted(f for f in removed if not _about(check, ns, f))
    if check == "dns-egress-denied":
        assert removed == set() and ("app/deployment/api", "kube-system/deployment/coredns", 53, "UDP") in now - flows
    else:
        assert removed, "the policy should deny something"


def test_policy_default_deny_one_direction_and_allow_dns_only(tmp_path: Path) -> None:
    for flag, kind in (("--ingress-only", "Ingress"), ("--egress-only", "Egress")):
        docs = list(yaml.safe_load_all(netsso("policy", "default-deny", "-n", "a", flag, home=tmp_path).stdout))
        expected = [(f"default-deny-{kind.lower()}", {"podSelector": {}, "policyTypes": [kind]})]
        assert [(d["metadata"]["name"], d["spec"]) for d in docs] == expected
    (dns,) = yaml.safe_load_all(netsso("policy", "allow-dns", "-n", "a", home=tmp_path).stdout)
    assert dns["metadata"]["name"] == "allow-dns-egress" and dns["spec"]["podSelector"] == {}
    assert dns["spec"]["policyTypes"] == ["Egress"] and len(dns["spec"]["egress"]) == 1
    (dns,) = yaml.safe_load_all(netsso("policy", "allow-dns", "-n", "a", "--pod-selector", "app=api", home=tmp_path).stdout)
    assert dns["spec"]["podSelector"] == {"matchLabels": {"app": "api"}}
    for bad in (["default-deny", "-n", "a", "--ingress-only", "--egress-only"],
                ["default-deny", "-n", "a", "--ingress-only", "--allow-dns"],
                ["allow-dns", "-n", "a", "--pod-selector", "app"]):  # fmt: skip
        p = netsso("policy", *bad, home=tmp_path)
        assert p.returncode == 2 and p.stderr.startswith("error: ") and "Traceback" not in p.stderr, (bad, p.stderr)
