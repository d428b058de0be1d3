"""The HTML report of `kubectl netsso report` opened in real headless Chromium: no console errors, the graph has the
expected nodes and edges (and reacts to hover), the page fetches nothing, and a screenshot is written."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.require import unavailable

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"
EXPECT_FAIL = REPO / "tests" / "data" / "access" / "expect-fail.yaml"
# Read at import: the `home` fixture strips NETSSO_* from the test process's environment.
ARTIFACTS = os.environ.get("NETSSO_ARTIFACTS")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-extensions",
    "--window-size=1500,1100",
)  # fmt: skip


@pytest.fixture
def chromium(home: Any) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, browser console logs captured; HOME is the test's tmp home."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        unavailable("chromium / chromium-driver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="netsso-report-chromium-", dir=str(home.path))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _report(run_netsso: Any, out: Path) -> None:
    r = run_netsso(
        "report", "--html", str(out), "--manifests", str(SHOP), "--with-default-roles",
        "--as-group", "oidc:contractors", "--expect", str(EXPECT_FAIL),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000


def test_report_in_chromium(run_netsso: Any, chromium: Any, tmp_path: Path) -> None:
    import json

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    out = tmp_path / "shop-report.html"
    _report(run_netsso, out)
    chromium.get(out.as_uri())
    assert chromium.title == "kubectl netsso report"

    # 1. no console errors (and nothing logged at all: the page has no console output)
    logs = chromium.get_log("browser")
    assert [e for e in logs if e.get("level") == "SEVERE"] == [], logs

    # 2. nothing was fetched from the network (chrome:// pages are the browser's own new-tab page)
    urls = set()
    for entry in chromium.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.add(msg["params"]["request"]["url"])
    assert out.as_uri() in urls
    assert {u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:", "ftp:"))} == set(), urls

    # 3. the graph: nodes and edges as rendered in the DOM, each visible
    nodes = {el.get_attribute("data-id"): el for el in chromium.find_elements(By.CSS_SELECTOR, "#graph g.node")}
    expected_nodes = {
        "frontend/deployment/web", "shop/deployment/api", "shop/cronjob/sales-report", "payments/deployment/payments",
        "db/statefulset/postgres", "kube-system/deployment/coredns", "internet", "ip:203.0.113.0/24",
    }  # fmt: skip
    assert set(nodes) == expected_nodes
    for el in nodes.values():
        assert el.size["width"] > 50 and el.size["height"] > 10
    edges = {
        (el.get_attribute("data-from"), el.get_attribute("data-to"))
        for el in chromium.find_elements(By.CSS_SELECTOR, "#graph path.edge")
    }
    assert edges == {
        ("internet", "frontend/deployment/web"),
        ("shop/deployment/api", "payments/deployment/payments"),
        ("payments/deployment/payments", "db/statefulset/postgres"),
        ("payments/deployment/payments", "ip:203.0.113.0/24"),
    }
    # denied-by-default (isolated) vs open nodes are drawn differently
    classes = {k: set((v.get_attribute("class") or "").split()) for k, v in nodes.items()}
    assert "isolated" in classes["shop/deployment/api"] and "open" in classes["kube-system/deployment/coredns"]
    stroke = chromium.execute_script(
        "return [getComputedStyle(document.querySelector(arguments[0])).strokeDasharray,"
        " getComputedStyle(document.querySelector(arguments[1])).strokeDasharray]",
        '#graph g.node[data-id="kube-system/deployment/coredns"] rect',
        '#graph g.node[data-id="shop/deployment/api"] rect',
    )
    assert stroke[0] not in ("none", "") and stroke[1] in ("none", "")
    # the embedded data agrees with the drawing
    data_edges = chromium.execute_script("return window.netssoReport.graph.edges.map(e => [e.from, e.to])")
    assert {tuple(e) for e in data_edges} == edges

    # 4. a screenshot of the whole page, before any interaction
    height = chromium.execute_script("return document.body.scrollHeight")
    chromium.set_window_size(1500, min(int(height) + 140, 6000))
    chromium.execute_script("window.scrollTo(0, 0)")
    shot = tmp_path / "access-report.png"
    assert chromium.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if ARTIFACTS:
        Path(ARTIFACTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(ARTIFACTS) / "access-report.png")
        shutil.copy(out, Path(ARTIFACTS) / "access-report.html")

    # 5. hover highlights the node's flows and dims the rest
    ActionChains(chromium).move_to_element(nodes["payments/deployment/payments"]).perform()
    lit = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#graph path.edge.hl')).map(e => e.getAttribute('data-to'))"
    )
    assert sorted(lit) == ["db/statefulset/postgres", "ip:203.0.113.0/24", "payments/deployment/payments"]

    # 6. findings and the filter box
    rows = chromium.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert len(rows) >= 5
    box = chromium.find_element(By.ID, "finding-filter")
    box.send_keys("wildcard")
    visible = [r for r in rows if r.is_displayed()]
    assert len(visible) == 1 and "wildcard-exec" in visible[0].text
    assert [e for e in chromium.get_log("browser") if e.get("level") == "SEVERE"] == []


# Names that break out of an embedded <script>: "<!--<script>" puts the tokenizer in the double-escaped state, in
# which the data block's own </script> no longer ends it, and the page's JavaScript becomes part of the JSON text.
BREAKERS = {
    "comment": "web<!--<script>",
    "close": "api</script><script>window.pwned=1</script>",
    "markup": "db<img src=x onerror=window.pwned=2>&amp;",
    "separator": "cache\u2028\u2029x",
    "bidi": "invoice\u202efdp.exe",
}


def test_report_script_survives_names_that_break_out_of_script(run_netsso: Any, chromium: Any, tmp_path: Path) -> None:
    import yaml
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    def deploy(name: str, app: str) -> dict[str, Any]:
        pod = {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}
        template = {"metadata": {"labels": {"app": app}}, "spec": pod}
        meta = {"name": name, "namespace": "shop"}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {"template": template}}

    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]
    docs += [deploy(name, key) for key, name in BREAKERS.items()]
    # web may reach api: one edge to hover
    docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "api-in", "namespace": "shop"},
                 "spec": {"podSelector": {"matchLabels": {"app": "close"}}, "policyTypes": ["Ingress"],
                          "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "comment"}}}]}]}})  # fmt: skip
    manifests = tmp_path / "hostile.yaml"
    manifests.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    out = tmp_path / "hostile-report.html"
    r = run_netsso("report", "--html", str(out), "--manifests", str(manifests))
    assert r.returncode == 0, r.stderr
    chromium.get(out.as_uri())
    assert [e for e in chromium.get_log("browser") if e.get("level") == "SEVERE"] == []

    # the page's JavaScript ran: the embedded data was parsed, with the exact names
    ids = chromium.execute_script("return window.netssoReport && window.netssoReport.graph.nodes.map(n => n.id)")
    assert ids is not None, "the report's script did not run"
    assert {f"shop/deployment/{name}" for name in BREAKERS.values()} <= set(ids)
    # nothing injected: the page's two scripts only, no element from a name, no handler that ran
    assert len(chromium.find_elements(By.TAG_NAME, "script")) == 2
    assert chromium.find_elements(By.TAG_NAME, "img") == []
    assert chromium.execute_script("return window.pwned === undefined")
    # what could reorder or hide a name is shown escaped on the page (the embedded data above keeps it exact)
    labels = [t.text for t in chromium.find_elements(By.CSS_SELECTOR, "#graph g.node text:not(.badge)")]
    assert "invoice\\u202efdp.exe" in labels and "cache\\u2028\\u2029x" in labels
    assert not [t for t in labels if set(t) & {"\u202e", "\u2028", "\u2029"}]
    # and its handlers work: hovering web lights its edge to api
    web = chromium.find_element(By.CSS_SELECTOR, '#graph g.node[data-id="shop/deployment/web<!--<script>"]')
    ActionChains(chromium).move_to_element(web).perform()
    lit = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#graph path.edge.hl')).map(e => e.getAttribute('data-to'))"
    )
    assert lit == [f"shop/deployment/{BREAKERS['close']}"]
