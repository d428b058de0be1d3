"""`kubectl netsso policy` through the installed executable, on examples/shop."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import REPO
from helpers.executable import netsso

SHOP = str(REPO / "examples" / "shop")


def test_default_deny_with_dns(tmp_path: Path) -> None:
    r = netsso("policy", "default-deny", "-n", "payments", "--allow-dns", home=tmp_path)
    assert r.returncode == 0, r.stderr
    docs = list(yaml.safe_load_all(r.stdout))
    assert [d["metadata"]["name"] for d in docs] == ["default-deny-all", "allow-dns-egress"]
    assert all(d["metadata"]["namespace"] == "payments" for d in docs)
    assert docs[0]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_default_deny_bad_namespace_is_one_line_usage_error(tmp_path: Path) -> None:
    r = netsso("policy", "default-deny", "-n", "Not_Valid", home=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_allow_service_destination_uses_target_port_and_service_selector(tmp_path: Path) -> None:
    r = netsso("policy", "allow", "frontend/deploy/web", "shop/svc/api", "--port", "80", "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 0, r.stderr
    ing, eg = yaml.safe_load_all(r.stdout)
    assert ing["metadata"]["namespace"] == "shop"
    assert ing["spec"]["podSelector"] == {"matchLabels": {"app": "api"}}
    (peer,) = ing["spec"]["ingress"][0]["from"]
    assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "frontend"}}
    assert peer["podSelector"] == {"matchLabels": {"app": "web"}}
    # Service port 80 -> targetPort "http": the policy names the pod port, not the Service port
    assert ing["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]
    assert eg["metadata"]["namespace"] == "frontend"
    assert eg["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]


def test_allow_one_side_and_external_source(tmp_path: Path) -> None:
    r = netsso(
        "policy",
        "allow",
        "ip:198.51.100.9",
        "frontend/deploy/web",
        "--port",
        "8080",
        "--side",
        "ingress",
        "--manifests",
        SHOP,
        home=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    (only,) = yaml.safe_load_all(r.stdout)
    assert only["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "198.51.100.9/32"}}]


def test_allow_unknown_endpoint_is_error_3(tmp_path: Path) -> None:
    r = netsso("policy", "allow", "frontend/nope", "shop/api", "--port", "80", "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 3
    assert "error: " in r.stderr and "nope" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("port", ["0", "99999", "Bad_Name"])
def test_allow_bad_port_is_usage_error(tmp_path: Path, port: str) -> None:
    r = netsso("policy", "allow", "frontend/web", "shop/api", "--port", port, "--manifests", SHOP, home=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
