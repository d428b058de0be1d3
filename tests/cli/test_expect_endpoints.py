"""audit --expect gives can-reach's verdict for every endpoint form can-reach accepts (issue 10 item 1).

Regressions through the installed executable for each case of the issue (an ip: destination used to be an empty set
of pods, so mustNotReach passed while can-reach said ALLOWED), and a property test that draws endpoint forms, ports
and protocols on examples/shop and compares `audit --expect` with `can-reach` (both through the CLI entry point).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO
from helpers.executable import netsso
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cli.main import run
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.netpol.compile import compile_snapshot
from kubectl_netsso.netpol.evaluate import evaluate_flow
from kubectl_netsso.netpol.model import ExternalPeer, Flow
from kubectl_netsso.netpol.pairs import address_pieces

SHOP = str(REPO / "examples" / "shop")
OFFLINE = ("--manifests", SHOP, "--with-default-roles")


def audit_expect(tmp_path: Path, *entries: dict[str, Any]) -> list[dict[str, Any]]:
    path = tmp_path / "expect.yaml"
    path.write_text(yaml.safe_dump({"expect": list(entries)}, sort_keys=False))
    p = netsso("audit", *OFFLINE, "--expect", str(path), "--only", "expectation-failed", "-o", "json", home=tmp_path)
    assert p.returncode in (0, 1), p.stderr
    results: list[dict[str, Any]] = json.loads(p.stdout)["expectations"]
    return results


# --- the cases of the issue, through the installed executable ------------------------------------------------------


def test_ip_destination_must_not_reach_fails_when_can_reach_says_allowed(tmp_path: Path) -> None:
    cr = netsso("can-reach", "payments/deploy/payments", "ip:203.0.113.10", "--port", "443", "--manifests", SHOP, home=tmp_path)
    assert cr.returncode == 0 and cr.stdout.startswith("ALLOWED"), cr.stdout + cr.stderr
    results = audit_expect(
        tmp_path,
        {"name": "from", "from": "payments/deploy/payments", "mustNotReach": "ip:203.0.113.10", "port": 443},
        {"name": "labels", "namespace": "payments", "labels": {"app": "payments"}, "mustNotReach": "ip:203.0.113.10",
         "port": 443},
        {"name": "group", "group": "oidc:payments-oncall", "mustNotReach": "ip:203.0.113.10", "port": 443},
    )  # fmt: skip
    assert [(r["name"], r["status"]) for r in results] == [("from", "FAIL"), ("labels", "FAIL"), ("group", "FAIL")]
    assert "payments/deployment/payments -> ip:203.0.113.10 on 443/TCP" in results[0]["summary"]
    assert "pod foothold payments/deployment/payments" in results[2]["summary"]  # exec into payments (on-call)


def test_ip_destination_must_reach_passes_from_an_endpoint_and_a_group(tmp_path: Path) -> None:
    results = audit_expect(
        tmp_path,
        {"name": "from", "from": "payments/deploy/payments", "mustReach": "ip:203.0.113.10", "port": 443},
        {"name": "group", "group": "oidc:payments-oncall", "mustReach": "ip:203.0.113.10", "port": 443},
        {"name": "denied", "from": "shop/deploy/api", "mustReach": "ip:203.0.113.10", "port": 443},
    )
    assert [(r["name"], r["status"]) for r in results] == [("from", "PASS"), ("group", "PASS"), ("denied", "FAIL")]
    assert "NP payments/payments-egress egress rule 2 peer 1 allows it" in "\n".join(results[0]["explanation"])


def test_cidr_destination_every_address_for_must_reach_none_for_must_not_reach(tmp_path: Path) -> None:
    # the CI rule of the issue: "payments never reaches 0.0.0.0/0" must be able to fail
    results = audit_expect(
        tmp_path,
        {"name": "never-internet", "from": "payments/deploy/payments", "mustNotReach": "ip:0.0.0.0/0"},
        {"name": "processor", "from": "payments/deploy/payments", "mustReach": "ip:203.0.113.0/24", "port": 443},
        {"name": "internet", "from": "payments/deploy/payments", "mustReach": "ip:0.0.0.0/0", "port": 443},
        {"name": "elsewhere", "from": "payments/deploy/payments", "mustNotReach": "ip:198.51.100.0/24"},
    )
    by = {r["name"]: r for r in results}
    assert by["never-internet"]["status"] == "FAIL"
    assert by["never-internet"]["assertion"].endswith("must not reach any address in ip:0.0.0.0/0")
    assert by["never-internet"]["summary"].startswith("some address in ip:0.0.0.0/0 is allowed: ")
    assert "ip:203.0.113.0/24" in by["never-internet"]["summary"]
    assert by["processor"]["status"] == "PASS"
    assert "must reach every address in ip:203.0.113.0/24" in by["processor"]["assertion"]
    assert by["processor"]["summary"].startswith("every address in ip:203.0.113.0/24 is allowed")
    assert by["internet"]["status"] == "FAIL"
    assert by["internet"]["summary"].startswith("not every address in ip:0.0.0.0/0 is allowed")
    assert by["elsewhere"]["status"] == "PASS"
    assert by["elsewhere"]["summary"].startswith("no address in ip:198.51.100.0/24 is allowed")
    # can-reach answers the same CIDRs the same way and says what a range means
    cr = netsso("can-reach", "payments/deploy/payments", "ip:0.0.0.0/0", "--port", "443", "--manifests", SHOP, home=tmp_path)
    assert cr.returncode == 1
    assert cr.stdout.splitlines()[1].startswith("not every address in ip:0.0.0.0/0 is allowed")
    cr = netsso("can-reach", "payments/deploy/payments", "ip:203.0.113.0/24", "--port", "443", "--manifests", SHOP, home=tmp_path)
    assert cr.returncode == 0 and cr.stdout.splitlines()[1] == "every address in ip:203.0.113.0/24 is allowed"


def test_ip_source_is_accepted(tmp_path: Path) -> None:
    results = audit_expect(
        tmp_path,
        {"name": "internet-to-web", "from": "ip:8.8.8.8", "mustReach": "frontend/svc/web", "port": 80},
        {"name": "internal-range", "from": "ip:10.0.0.0/8", "mustNotReach": "frontend/deploy/web", "port": 8080},
    )
    assert [(r["name"], r["status"]) for r in results] == [("internet-to-web", "PASS"), ("internal-range", "PASS")]


def test_selector_destination(tmp_path: Path) -> None:
    # a pod-to-be with those labels, as can-reach --to-selector app=postgres --to-namespace db
    new_db = {"namespace": "db", "labels": {"app": "postgres"}}
    ok, no = audit_expect(
        tmp_path,
        {"from": "payments/deploy/payments", "mustReach": new_db, "port": 5432},
        {"from": "shop/deploy/api", "mustReach": new_db, "port": 5432},
    )
    assert (ok["status"], no["status"]) == ("PASS", "FAIL"), (ok, no)
    assert "db/{app=postgres}" in ok["assertion"]


# --- the property: same verdict as can-reach --------------------------------------------------------------------

WORKLOADS = [
    "shop/deploy/api", "shop/api", "frontend/deployment/web", "frontend/web", "payments/deploy/payments",
    "db/sts/postgres", "db/postgres", "shop/cj/sales-report", "kube-system/deploy/coredns",
]  # fmt: skip
SERVICES = ["shop/svc/api", "payments/svc/payments", "db/svc/postgres", "frontend/svc/web", "kube-system/svc/kube-dns"]
ADDRESSES = ["ip:8.8.8.8", "ip:10.0.0.5", "ip:203.0.113.9", "ip:198.51.100.7", "ip:2001:db8::1"]
CIDRS = ["ip:203.0.113.0/24", "ip:203.0.113.0/25", "ip:0.0.0.0/0", "ip:10.0.0.0/8", "ip:198.51.100.0/24", "ip:203.0.0.0/16"]
NAMESPACES = ["shop", "payments", "frontend", "db", "kube-system", "newns"]  # newns: labels unknown
LABELS = st.dictionaries(
    st.sampled_from(["app", "tier", "k8s-app"]),
    st.sampled_from(["api", "web", "payments", "postgres", "frontend", "backend", "kube-dns", "x"]),
    min_size=1,
    max_size=2,
)
SELECTOR = st.tuples(st.just("selector"), st.sampled_from(NAMESPACES), LABELS)
SOURCE = st.one_of(st.sampled_from(WORKLOADS + ADDRESSES + CIDRS).map(lambda t: ("text", t)), SELECTOR)
DESTINATION = st.one_of(st.sampled_from(WORKLOADS + SERVICES + ADDRESSES + CIDRS).map(lambda t: ("text", t)), SELECTOR)
PORT = st.sampled_from([None, 80, 443, 53, 5432, 8080, 8443, 9090, 9153, "http", "https", "dns", "metrics"])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("expect-property")


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(REPO / "tests" / "no-such-kubeconfig")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(args))
    finally:
        if old is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = old
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue()


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=SOURCE, dst=DESTINATION, port=PORT, protocol=st.sampled_from(["TCP", "UDP"]), must_reach=st.booleans())
# partly allowed (DENIED, yet one range is allowed): mustNotReach must fail, mustReach too
@example(src=("text", "payments/deploy/payments"), dst=("text", "ip:0.0.0.0/0"), port=443, protocol="TCP", must_reach=False)
@example(src=("text", "payments/deploy/payments"), dst=("text", "ip:0.0.0.0/0"), port=443, protocol="TCP", must_reach=True)
@example(src=("text", "ip:8.8.8.8"), dst=("text", "ip:203.0.113.0/24"), port=None, protocol="TCP", must_reach=True)
@example(src=("text", "shop/deploy/api"), dst=("text", "kube-system/svc/kube-dns"), port=None, protocol="TCP", must_reach=True)
# a new pod in a namespace the input does not define: api-ingress selects on its labels, so UNKNOWN
@example(src=("selector", "newns", {"app": "web"}), dst=("text", "shop/deploy/api"), port=8080, protocol="TCP", must_reach=True)
@example(src=("selector", "newns", {"app": "web"}), dst=("text", "shop/svc/api"), port=80, protocol="TCP", must_reach=False)
def test_expectation_verdict_is_can_reachs(workdir: Path, src: Any, dst: Any, port: Any, protocol: str, must_reach: bool) -> None:
    argv = ["can-reach", "--manifests", SHOP, "-o", "json", "--protocol", protocol]
    entry: dict[str, Any] = {"protocol": protocol}
    if src[0] == "text":
        argv.append(src[1])
        entry["from"] = src[1]
    else:
        argv += ["--from-selector", _labels(src[2]), "--from-namespace", src[1]]
        entry.update(namespace=src[1], labels=src[2])
    key = "mustReach" if must_reach else "mustNotReach"
    if dst[0] == "text":
        argv.append(dst[1])
        entry[key] = dst[1]
    else:
        argv += ["--to-selector", _labels(dst[2]), "--to-namespace", dst[1]]
        entry[key] = {"namespace": dst[1], "labels": dst[2]}
    if port is not None:
        argv += ["--port", str(port)]
        entry["port"] = port
    code, out = _cli(*argv)
    data = json.loads(out) if out.strip() else None  # no JSON: can-reach refused the question (exit 2/3)
    path = workdir / "e.yaml"
    path.write_text(yaml.safe_dump({"expect": [entry]}))
    acode, aout = _cli("audit", *OFFLINE, "--expect", str(path), "--only", "expectation-failed", "-o", "json")
    assert acode in (0, 1)
    (result,) = json.loads(aout)["expectations"]
    if data is None:
        assert code in (2, 3)
        assert result["status"] == "UNKNOWN" and result["summary"].startswith("cannot check"), (argv, result)
        return
    if must_reach:
        expected = {"ALLOWED": "PASS", "DENIED": "FAIL", "UNKNOWN": "UNKNOWN"}[data["status"]]
    else:
        flows = [f["allowed"] for f in data["flows"]]
        expected = "FAIL" if True in flows else ("PASS" if all(v is False for v in flows) else "UNKNOWN")
    assert result["status"] == expected, (argv, data["status"], result)
    assert code == {"ALLOWED": 0, "DENIED": 1, "UNKNOWN": 3}[data["status"]]


# --- CIDR pieces: one address decides for every address of its piece ---------------------------------------------


@pytest.fixture(scope="module")
def shop_compiled() -> Any:
    return compile_snapshot(load_snapshot([SHOP]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(["203.0.113.0", "10.0.0.0", "0.0.0.0", "198.51.100.0", "203.0.0.0"]),
    prefix=st.integers(0, 30),
    offsets=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6),
    port=st.sampled_from([443, 8443, 53, None]),
    source=st.sampled_from(["payments/payments", "frontend/web", "shop/api"]),
)
def test_every_address_of_a_piece_gets_the_pieces_verdict(
    shop_compiled: Any, base: str, prefix: int, offsets: list[int], port: Any, source: str
) -> None:
    net = ipaddress.ip_network(f"{base}/{prefix}", strict=False)
    ns, name = source.split("/")
    src = next(shop_compiled.peer(w) for w in shop_compiled.snapshot.workloads if (w.namespace, w.name) == (ns, name))
    pieces = address_pieces(shop_compiled, str(net))
    starts = [int(ipaddress.ip_address(a)) for a, _ in pieces]
    assert starts[0] == int(net.network_address) and starts == sorted(starts)

    def verdict(addr: str) -> Any:
        return evaluate_flow(shop_compiled, Flow(src, ExternalPeer(addr), port, "TCP"), explain=False).allowed

    for off in offsets:
        addr = ipaddress.ip_address(int(net.network_address) + off % net.num_addresses)
        k = max(i for i, s in enumerate(starts) if s <= int(addr))
        assert verdict(str(addr)) == verdict(pieces[k][0]), (str(addr), pieces[k])
