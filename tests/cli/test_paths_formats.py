"""`paths -o csv | markdown | dot`, per pair and --compact, through the installed executable.

Each format must say what the JSON contract says (same rows, same verdicts), read back with a real parser (the csv
module, markdown-it's CommonMark + GFM tables, Graphviz's own `dot`), and names built to attack each format (a
spreadsheet formula, Markdown pipes and backticks, DOT quotes and backslashes) must come back as themselves.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from kubectl_netsso.output.csv import csv_cell
from kubectl_netsso.output.dot import dot_id, dot_node
from kubectl_netsso.output.markdown import md_cell
from kubectl_netsso.output.text import escape, needs_escape

REPO = Path(__file__).resolve().parents[2]
SHOP = str(REPO / "examples" / "shop")
VERDICT = {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}
DOT = shutil.which("dot")
# CI installs graphviz (scripts/test.sh): there a missing `dot` is a broken set-up, not a skip
STRICT = os.environ.get("NETSSO_TEST_REQUIRE_E2E") == "1"

# Names that attack a format: run as a formula in a spreadsheet, end a Markdown cell or start code, end a DOT string
ATTACKS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3+4", "@SUM(A1)", "'quoted", "a|b`c`*d*_e_", 'q"uote\\', "x\\"]


def netsso(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kubectl-netsso")
    argv = [exe] if exe else [sys.executable, "-m", "kubectl_netsso"]
    env = dict(os.environ, NO_COLOR="1", KUBECONFIG=str(REPO / "tests" / "no-such-kubeconfig"))
    return subprocess.run([*argv, *args], capture_output=True, text=True, env=env, timeout=120)


def ok(*args: str) -> str:
    p = netsso(*args)
    assert p.returncode == 0 and "Traceback" not in p.stderr, (p.returncode, p.stderr)
    return p.stdout


def hostile_folder(tmp: Path) -> str:
    """Namespaces and workloads named by ATTACKS (offline manifests carry any name), each open to the others."""
    docs: list[dict[str, Any]] = []
    for i, name in enumerate(ATTACKS):
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        labels = {"app": f"a{i}"}
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": ATTACKS[-1 - i], "namespace": name},
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80 + i}]}]},
                    },
                },
            }
        )
    # one policy, so that --compact has a rule naming a hostile namespace
    docs.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "only-from-first", "namespace": ATTACKS[1]},
            "spec": {
                "podSelector": {},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ATTACKS[0]}}}]}],
            },
        }
    )
    path = tmp / "hostile.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(path)


def unguard(cell: str) -> str:
    """What the csv guard documents: one leading ' dropped."""
    return cell[1:] if cell.startswith("'") else cell


def json_rows(*args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok("paths", *args, "-o", "json"))["paths"]
    return rows


def expected_pair_row(r: dict[str, Any]) -> list[str]:
    port = "any" if r["port"] is None else str(r["port"])
    resolved = "" if r.get("resolvedPort") is None else str(r["resolvedPort"])
    verdicts = [VERDICT[r["allowed"]], VERDICT[r["egress"]["allowed"]], VERDICT[r["ingress"]["allowed"]]]
    return [r["from"], r["to"], port, r["protocol"], *verdicts, resolved]


# --- csv ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", [["-A"], ["-n", "shop"], ["-A", "--port", "8080"]])
def test_csv_per_pair_is_the_json_rows(scope: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(ok("paths", *scope, "--manifests", SHOP, "-o", "csv"))))
    assert rows[0] == ["from", "to", "port", "protocol", "verdict", "egress", "ingress", "resolvedPort"]
    # the same rows (csv lists them by source, destination, port; JSON by port first)
    got = sorted([unguard(c) for c in r] for r in rows[1:])
    assert got == sorted(expected_pair_row(r) for r in json_rows(*scope, "--manifests", SHOP))


def test_csv_compact_is_the_json_rules() -> None:
    rows = list(csv.reader(io.StringIO(ok("paths", "-A", "--compact", "--manifests", SHOP, "-o", "csv"))))
    rules = json.loads(ok("paths", "-A", "--compact", "--manifests", SHOP, "-o", "json"))["rules"]
    assert rows[0] == ["from", "to", "ports", "verdict"]
    assert rows[1:] == [[r["from"]["text"], r["to"]["text"], r["portsText"], VERDICT[r["allowed"]]] for r in rules]


def test_csv_cells_cannot_run_as_formulas_and_give_the_names_back(tmp_path: Path) -> None:
    folder = hostile_folder(tmp_path)
    for args in (["-A"], ["-A", "--compact"]):
        rows = list(csv.reader(io.StringIO(ok("paths", *args, "--manifests", folder, "-o", "csv"))))
        cells = [c for r in rows[1:] for c in r]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
        assert any(c.startswith("'=HYPERLINK") for c in cells) and any(c.startswith("''quoted") for c in cells)
    rows = list(csv.reader(io.StringIO(ok("paths", "-A", "--manifests", folder, "-o", "csv"))))
    names = {unguard(c) for r in rows[1:] for c in r[:2]}
    assert {r["from"] for r in json_rows("-A", "--manifests", folder)} <= names


safe_text = st.text(st.characters(codec="utf-8")).filter(lambda s: not needs_escape(s, newlines=True))


@example("'already quoted")
@example("=1+1")
@example("-")
@example("@x")
@example("\t")
@given(safe_text)
def test_csv_cell_round_trips_through_the_csv_module(name: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([csv_cell(name), "x"])
    (cell, other), *_ = csv.reader(io.StringIO(buf.getvalue()))
    assert other == "x" and unguard(cell) == name
    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")


# --- markdown -----------------------------------------------------------------------------------------------------

MD = MarkdownIt("commonmark").enable("table")


def md_table(text: str) -> list[list[str]]:
    """The cells of the one table in text, as their rendered text (what a reader sees)."""
    tokens = MD.parse(text)
    rows: list[list[str]] = []
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            rows.append([])
        elif t.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            kids = t.children or []
            assert all(k.type in ("text", "text_special") for k in kids), kids  # no code, emphasis, link or HTML
            rows[-1].append("".join(k.content for k in kids))
    return rows


def test_markdown_per_pair_is_the_json_rows() -> None:
    table = md_table(ok("paths", "-n", "shop", "--manifests", SHOP, "-o", "markdown"))
    assert table[0] == ["From", "To", "Port", "Verdict", "Egress", "Ingress"]
    expected = []
    for r in json_rows("-n", "shop", "--manifests", SHOP):
        port = f"{r['port']}({r['resolvedPort']})" if r.get("resolvedPort") is not None else str(r["port"])
        expected.append([r["from"], r["to"], f"{port}/{r['protocol']}", *expected_pair_row(r)[4:7]])
    assert sorted(table[1:]) == sorted(expected)


def test_markdown_compact_is_the_json_rules() -> None:
    table = md_table(ok("paths", "-A", "--compact", "--manifests", SHOP, "-o", "markdown"))
    rules = json.loads(ok("paths", "-A", "--compact", "--manifests", SHOP, "-o", "json"))["rules"]
    assert table[0] == ["From", "To", "Ports", "Verdict"]
    assert table[1:] == [[r["from"]["text"], r["to"]["text"], r["portsText"], VERDICT[r["allowed"]]] for r in rules]


def test_markdown_shows_hostile_names_as_themselves(tmp_path: Path) -> None:
    folder = hostile_folder(tmp_path)
    table = md_table(ok("paths", "-A", "--manifests", folder, "-o", "markdown"))
    assert all(len(row) == 6 for row in table)  # no pipe split a cell
    assert {r["from"] for r in json_rows("-A", "--manifests", folder)} <= {row[0] for row in table[1:]}


md_text = st.text(st.characters(codec="utf-8", exclude_categories=("Zs",)), min_size=1).filter(
    lambda s: s.strip() == s
)


@settings(max_examples=300)
@given(md_text)
def test_md_cell_reads_back_as_the_text_it_escapes(name: str) -> None:
    assert md_table(f"| a | b |\n|---|---|\n| {md_cell(name)} | x |\n")[1] == [escape(name), "x"]


# --- dot ----------------------------------------------------------------------------------------------------------


def dot_json(text: str) -> dict[str, Any]:
    if DOT is None:
        if STRICT:
            pytest.fail("dot (graphviz) is not installed: scripts/test.sh installs it", pytrace=False)
        pytest.skip("dot (graphviz) is not installed")
    p = subprocess.run([DOT, "-Tjson0"], input=text, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and not p.stderr, p.stderr
    data: dict[str, Any] = json.loads(p.stdout)
    return data


def graph_edges(graph: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    names = {o["_gvid"]: o["name"] for o in graph.get("objects", []) if "nodes" not in o}
    out: dict[tuple[str, str], set[str]] = {}
    for e in graph.get("edges", []):
        if e.get("style") != "dashed":
            out.setdefault((names[e["tail"]], names[e["head"]]), set()).update(e["label"].split(", "))
    return out


def expected_edges(rows: list[dict[str, Any]], node: Any) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        if r["allowed"] is True and r["from"] != r["to"]:
            port = "any" if r["port"] is None else r["port"]
            out.setdefault((node(r["from"]), node(r["to"])), set()).add(f"{port}/{r['protocol']}")
    return out


def test_dot_draws_the_allowed_flows_between_workloads_and_namespaces() -> None:
    rows = json_rows("-A", "--manifests", SHOP)
    graph = dot_json(ok("paths", "-A", "--manifests", SHOP, "-o", "dot"))
    assert graph_edges(graph) == expected_edges(rows, lambda ref: ref)
    clusters = {o["name"] for o in graph["objects"] if "nodes" in o}
    assert {"cluster_shop", "cluster_db", "cluster_kube-system"} <= clusters
    by_ns = dot_json(ok("paths", "-A", "--manifests", SHOP, "-o", "dot", "--dot-nodes", "namespace"))
    expected = expected_edges(rows, lambda ref: ref if ref.startswith("ip:") else ref.split("/")[0])
    assert graph_edges(by_ns) == expected


def test_dot_keeps_hostile_names_inside_their_strings(tmp_path: Path) -> None:
    folder = hostile_folder(tmp_path)
    graph = dot_json(ok("paths", "-A", "--manifests", folder, "-o", "dot"))
    # Graphviz keeps a doubled backslash in a label: read the names back as the DOT string they were written as
    names = {o["label"].replace("\\\\", "\\") for o in graph["objects"] if "nodes" not in o}
    assert {r["from"] for r in json_rows("-A", "--manifests", folder) if not r["from"].startswith("ip:")} <= names


@settings(max_examples=50, deadline=None)
@example("%")  # Graphviz's own anonymous names start with %: the label must still be the name
@given(st.text(st.characters(codec="utf-8"), min_size=1))
def test_dot_node_is_one_node_labelled_as_the_text(name: str) -> None:
    text = f"digraph g {{ {dot_node(name)}; {dot_node(name + '2')}; {dot_id(name)} -> {dot_id(name + '2')}; }}\n"
    graph = dot_json(text)
    got = [o["label"].replace("\\\\", "\\") for o in graph["objects"]]
    assert got == [escape(name), escape(name + "2")] and len(graph["edges"]) == 1


# --- the options --------------------------------------------------------------------------------------------------


def test_completion_lists_the_new_formats() -> None:
    exe = shutil.which("kubectl_complete-netsso")
    assert exe
    p = subprocess.run([exe, "paths", "-o", ""], capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"), timeout=60)
    assert {"csv", "markdown", "dot"} <= set(p.stdout.splitlines())


def test_compact_refuses_the_formats_that_cannot_show_rules() -> None:
    for fmt in ("matrix", "dot"):
        p = netsso("paths", "-A", "--compact", "-o", fmt, "--manifests", SHOP)
        assert p.returncode == 2 and "Traceback" not in p.stderr
        assert p.stderr.startswith("error: --compact prints rules: use -o ") and "csv, markdown" in p.stderr
