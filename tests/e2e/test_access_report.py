"""The HTML report of `kubectl netsso report` opened in real headless Chromium: no console errors, the graph has the
expected nodes and edges (and reacts to hover), the page fetches nothing, and a screenshot is written."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.require import unavailable

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"
if str(REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO / "benchmarks"))  # gencluster, as in the unit tests
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


HOSTILE_NAMESPACES = ("ns</script><script>window.pwned=3</script>", "ns\u202eevil<img src=x onerror=window.pwned=4>")


def test_report_script_survives_names_that_break_out_of_script(run_netsso: Any, chromium: Any, tmp_path: Path) -> None:
    import yaml
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from kubectl_netsso.output.text import escape

    def deploy(name: str, app: str) -> dict[str, Any]:
        pod = {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}
        template = {"metadata": {"labels": {"app": app}}, "spec": pod}
        meta = {"name": name, "namespace": "shop"}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {"template": template}}

    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]
    docs += [deploy(name, key) for key, name in BREAKERS.items()]
    # and namespaces named to break out (the matrix's headers, cell labels and rules panel)
    for ns in HOSTILE_NAMESPACES:
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        docs.append({**deploy("x", "x"), "metadata": {"name": "x", "namespace": ns}})
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
    # the matrix: hostile namespace names shown escaped in headers and in the rules panel, nothing injected
    heads = chromium.execute_script("return Array.from(document.querySelectorAll('#ns-matrix th.row')).map(t => t.title)")
    assert set(heads) == {"shop", *(escape(ns) for ns in HOSTILE_NAMESPACES), "outside the cluster"}
    (btn,) = _buttons(chromium, f"{escape(HOSTILE_NAMESPACES[1])} → {HOSTILE_NAMESPACES[0]}")
    btn.click()
    rows = chromium.execute_script("return Array.from(document.querySelectorAll('#cell-rules tbody td')).map(t => t.textContent)")
    assert rows[:2] == [f"{escape(HOSTILE_NAMESPACES[1])}: *", f"{HOSTILE_NAMESPACES[0]}: *"]
    assert chromium.find_elements(By.TAG_NAME, "img") == [] and chromium.execute_script("return window.pwned === undefined")
    assert not [t for t in heads + rows if "\u202e" in t]
    # and its handlers work: hovering web lights its edge to api
    web = chromium.find_element(By.CSS_SELECTOR, '#graph g.node[data-id="shop/deployment/web<!--<script>"]')
    ActionChains(chromium).move_to_element(web).perform()
    lit = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#graph path.edge.hl')).map(e => e.getAttribute('data-to'))"
    )
    assert lit == [f"shop/deployment/{BREAKERS['close']}"]


# --- the cluster view at scale: namespace matrix, graph threshold, layout geometry (issue 13 item 4) ---------------

GRAPH_GEOMETRY = r"""
const svg = document.getElementById('graph');
if (!svg) { return null; }
const bb = el => { const b = el.getBBox(); return [b.x, b.y, b.width, b.height]; };
const texts = g => Array.from(g.querySelectorAll('text')).map(t => ({box: bb(t), text: t.textContent}));
const vb = svg.viewBox.baseVal;
return {
  view: [vb.x, vb.y, vb.width, vb.height],
  nodes: Array.from(svg.querySelectorAll('g.node')).map(g => ({
    id: g.getAttribute('data-id'), rect: bb(g.querySelector('rect')), texts: texts(g)})),
  namespaces: Array.from(svg.querySelectorAll('g.namespace')).map(g => ({rect: bb(g.querySelector('rect')), texts: texts(g)})),
  edges: Array.from(svg.querySelectorAll('path.edge')).map(p => ({
    from: p.getAttribute('data-from'), to: p.getAttribute('data-to'), d: p.getAttribute('d'),
    ports: p.getAttribute('data-ports')})),
  labels: Array.from(svg.querySelectorAll('text.edge-label')).map(t => ({box: bb(t), text: t.textContent})),
  legend: document.querySelectorAll('#graph-legend li').length,
};
"""

MATRIX_GEOMETRY = r"""
const q = s => Array.from(document.querySelectorAll(s));
const r = el => { const b = el.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
return {
  cols: q('#ns-matrix thead th.col').map(th => { const s = th.querySelector('span');
    return {title: th.title, text: s.textContent, box: r(th),
            clipped: s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1}; }),
  rows: q('#ns-matrix tbody th.row').map(th => ({title: th.title, text: th.querySelector('span').textContent, box: r(th),
    clipped: th.scrollWidth > th.clientWidth + 1})),
  buttons: q('#ns-matrix button.cell').map(b => ({
    label: b.getAttribute('aria-label'), text: b.textContent, box: r(b), tab: b.tabIndex})),
  cells: q('#ns-matrix tbody td').length,
};
"""

Box = tuple[float, float, float, float]
EPS = 0.5  # sub-pixel rounding of text boxes


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] - EPS and b[0] < a[0] + a[2] - EPS and a[1] < b[1] + b[3] - EPS and b[1] < a[1] + a[3] - EPS


def _inside(a: Box, b: Box) -> bool:
    return b[0] - EPS <= a[0] and b[1] - EPS <= a[1] and a[0] + a[2] <= b[0] + b[2] + EPS and a[1] + a[3] <= b[1] + b[3] + EPS


def _crosses(r: Box, p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Segment p-q (horizontal or vertical) through the interior of r."""
    x0, y0, x1, y1 = r[0] + EPS, r[1] + EPS, r[0] + r[2] - EPS, r[1] + r[3] - EPS
    lo_x, hi_x, lo_y, hi_y = min(p[0], q[0]), max(p[0], q[0]), min(p[1], q[1]), max(p[1], q[1])
    return lo_x < x1 and x0 < hi_x and lo_y < y1 and y0 < hi_y if lo_x != hi_x or lo_y != hi_y else False


def _points(d: str) -> list[tuple[float, float]]:
    import re

    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(nums[::2], nums[1::2], strict=True))


def _check_graph(g: dict[str, Any]) -> None:
    """No box overlaps another, no edge goes through a box, no label overlaps a box, a title or another label, and
    every text lies inside its box and the drawing."""
    view: Box = tuple(g["view"])  # type: ignore[assignment]
    rects = [tuple(n["rect"]) for n in g["nodes"]]
    for i, a in enumerate(rects):
        assert _inside(a, view)
        for b in rects[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    for n in g["nodes"]:
        for t in n["texts"]:
            assert _inside(tuple(t["box"]), tuple(n["rect"])), (n["id"], t)  # no text clipped or running out of its box
    titles = []
    for ns in g["namespaces"]:
        assert _inside(tuple(ns["rect"]), view)
        for t in ns["texts"]:
            assert _inside(tuple(t["box"]), tuple(ns["rect"])), t
            assert not any(_overlap(tuple(t["box"]), r) for r in rects), t
            titles.append(tuple(t["box"]))
    for e in g["edges"]:
        pts = _points(e["d"])
        for p, q in zip(pts, pts[1:], strict=False):
            assert p[0] == q[0] or p[1] == q[1]
            for n in g["nodes"]:
                assert not _crosses(tuple(n["rect"]), p, q), (e["from"], e["to"], p, q, n["id"])
            for t in titles:
                assert not _crosses(t, p, q), (e["from"], e["to"], t)
        assert all(_inside((x, y, 0, 0), view) for x, y in pts)
    labels = [tuple(lab["box"]) for lab in g["labels"]]
    for i, a in enumerate(labels):
        assert _inside(a, view), a
        assert not any(_overlap(a, r) for r in [*rects, *titles]), a
        for b in labels[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    assert len(labels) + g["legend"] == sum(1 for e in g["edges"] if e["ports"])  # every label drawn or in the legend


def _check_matrix(m: dict[str, Any]) -> None:
    assert m["cols"] and m["rows"] and m["buttons"]
    for h in m["cols"] + m["rows"]:
        assert not h["clipped"], h
        assert h["text"] == h["title"] or h["text"].endswith("…") or h["title"] == "outside the cluster", h
    cols = [tuple(h["box"]) for h in m["cols"]]
    for i, a in enumerate(cols):
        for b in cols[i + 1 :]:
            assert not _overlap(a, b)
    boxes = [tuple(b["box"]) for b in m["buttons"]]
    for b in m["buttons"]:
        assert b["tab"] == 0 and b["box"][2] >= 24 and b["box"][3] >= 20, b  # focusable, big enough to hit
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b)


def _cut(side: dict[str, Any], ns: str | None) -> str | None:
    """A side of a `paths -A --compact -o json` rule restricted to one namespace (None: outside the cluster)."""
    if "ipBlocks" in side:
        return side["text"] if ns is None else None
    if ns is None or ns not in side["namespaces"]:
        return None
    if "workloads" in side:
        return side["text"]
    return f"{ns}: {side['text'].split(': ', 1)[1]}"


def _expected_rules(compact: dict[str, Any], a: str | None, b: str | None) -> list[list[str]]:
    out = []
    for r in compact["rules"]:
        src, dst = _cut(r["from"], a), _cut(r["to"], b)
        if src is not None and dst is not None:
            out.append([src, dst, r["portsText"] + (" (unknown)" if r["allowed"] is None else "")])
    return out


def _panel(driver: Any) -> tuple[str, list[list[str]]]:
    title = driver.find_element("id", "cell-title").text
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#cell-rules tbody tr'))"
        ".map(tr => Array.from(tr.cells).map(td => td.textContent))"
    )
    return title, rows


def _per_pair(run_netsso: Any, folder: str) -> dict[tuple[str, str], int]:
    """Distinct (from, to) workload pairs allowed on a declared port, per namespace pair, from `paths -A -o json`."""
    import json

    r = run_netsso("paths", "-A", "--no-external", "-o", "json", "--manifests", folder)
    assert r.returncode == 0, r.stderr
    pairs = {(p["from"], p["to"]) for p in json.loads(r.stdout)["paths"] if p["allowed"] is True and p["from"] != p["to"]}
    out: dict[tuple[str, str], int] = {}
    for a, b in pairs:
        key = (a.split("/")[0], b.split("/")[0])
        out[key] = out.get(key, 0) + 1
    return out


def _buttons(driver: Any, prefix: str) -> list[Any]:
    cells = driver.find_elements("css selector", "#ns-matrix button.cell")
    return [x for x in cells if x.get_attribute("aria-label").startswith(prefix)]


def _click_and_compare(driver: Any, run_netsso: Any, folder: str, a: str, b: str, via: str = "click") -> int:
    import json

    from selenium.webdriver.common.keys import Keys

    label = f"{a} → {b}:"
    (btn,) = _buttons(driver, label)
    if via == "click":
        btn.click()
    else:
        btn.send_keys(Keys.ENTER if via == "enter" else Keys.SPACE)  # a real button: the keyboard works too
    assert driver.find_element("id", "cell-panel").is_displayed()
    title, rows = _panel(driver)
    assert title == f"{a} → {b}"
    r = run_netsso("paths", "-A", "--compact", "-o", "json", "--manifests", folder)
    assert r.returncode == 0, r.stderr
    outside = "outside the cluster"
    expected = _expected_rules(json.loads(r.stdout), None if a == outside else a, None if b == outside else b)
    assert expected and rows == expected
    return int(btn.text)


def test_report_geometry_and_matrix_on_the_example(run_netsso: Any, chromium: Any, tmp_path: Path) -> None:
    out = tmp_path / "shop.html"
    _report(run_netsso, out)
    chromium.get(out.as_uri())
    g = chromium.execute_script(GRAPH_GEOMETRY)
    assert g is not None and len(g["nodes"]) == 8 and len(g["edges"]) == 4
    _check_graph(g)
    # the edge of the bug report: payments -> 203.0.113.0/24 runs over the boxes in between, not through web or sales-report
    (far,) = [e for e in g["edges"] if e["to"] == "ip:203.0.113.0/24"]
    assert len(_points(far["d"])) == 6
    # the old clipped label ("ttps=8443/TC"): now whole, inside the drawing
    assert "https=8443/TCP" in [lab["text"] for lab in g["labels"]]
    _check_matrix(chromium.execute_script(MATRIX_GEOMETRY))
    # a cell shows that pair's rules exactly as paths --compact gives them, by mouse and by keyboard
    assert _click_and_compare(chromium, run_netsso, str(SHOP), "shop", "payments") == 1
    pairs = _per_pair(run_netsso, str(SHOP))
    assert pairs[("shop", "payments")] == 1
    assert _click_and_compare(chromium, run_netsso, str(SHOP), "payments", "db", via="enter") == pairs[("payments", "db")]
    _click_and_compare(chromium, run_netsso, str(SHOP), "payments", "outside the cluster", via="space")
    # no cell for pairs with no allowed flow: nothing to click
    assert _buttons(chromium, "frontend → shop:") == []
    assert [e for e in chromium.get_log("browser") if e.get("level") == "SEVERE"] == []


@pytest.mark.timeout(300)
def test_report_on_a_generated_20_namespace_cluster(run_netsso: Any, chromium: Any, tmp_path: Path) -> None:
    from gencluster import generate

    folder = str(tmp_path / "c20")
    counts = generate(folder, namespaces=20, pods=400, policies=40)
    assert counts["workloads"] == 161
    out = tmp_path / "c20.html"
    r = run_netsso("report", "--html", str(out), "--manifests", folder)
    assert r.returncode == 0, r.stderr
    chromium.set_window_size(1500, 1100)
    chromium.get(out.as_uri())
    # too large for a readable graph: said so, with the numbers and where to look instead
    assert chromium.execute_script(GRAPH_GEOMETRY) is None
    off = chromium.find_element("id", "graph-off").text
    assert "Not drawn: 161 workloads" in off and "at most 40 boxes and 40 edges" in off and "paths -A -o dot" in off
    m = chromium.execute_script(MATRIX_GEOMETRY)
    assert len(m["rows"]) == 22 and len(m["cols"]) == 22 and m["cells"] == 22 * 22  # 21 namespaces + outside
    _check_matrix(m)
    pairs = _per_pair(run_netsso, folder)
    for a, b in (("ns-003", "ns-004"), ("ns-008", "ns-001"), ("kube-system", "ns-002")):
        n = _click_and_compare(chromium, run_netsso, folder, a, b)
        assert pairs.get((a, b), 0) <= n  # flows on a declared port are some of the flows on any port
    _click_and_compare(chromium, run_netsso, folder, "outside the cluster", "ns-005", via="enter")
    # the headers stay in view while the table scrolls (a small window: it scrolls both ways)
    chromium.set_window_size(900, 700)
    moved = chromium.execute_script(
        "const w = document.querySelector('.nsm-wrap'); w.scrollTop = 200; w.scrollLeft = 200;"
        "const top = w.getBoundingClientRect().top, left = w.getBoundingClientRect().left;"
        "return [document.querySelector('#ns-matrix thead th.col').getBoundingClientRect().top - top,"
        " document.querySelector('#ns-matrix tbody th.row').getBoundingClientRect().left - left, w.scrollTop, w.scrollLeft];"
    )
    assert abs(moved[0]) <= 2 and abs(moved[1]) <= 2 and moved[2] > 0 and moved[3] > 0, moved


@pytest.mark.timeout(300)
def test_report_graph_geometry_on_a_generated_cluster_under_the_threshold(run_netsso: Any, chromium: Any, tmp_path: Path) -> None:
    from gencluster import generate

    folder = str(tmp_path / "c14")
    generate(folder, namespaces=14, pods=28, policies=28, replicas=1)
    out = tmp_path / "c14.html"
    r = run_netsso("report", "--html", str(out), "--manifests", folder)
    assert r.returncode == 0, r.stderr
    chromium.get(out.as_uri())
    g = chromium.execute_script(GRAPH_GEOMETRY)
    assert g is not None and len(g["nodes"]) > 25 and len(g["edges"]) > 25  # 15 columns, flows across many of them
    _check_graph(g)
    _check_matrix(chromium.execute_script(MATRIX_GEOMETRY))
