"""output/report/html.py: the report's HTML builder escapes by default. A plain str can reach the page only
escaped, whichever way it is put in (a template value, a join, a concatenation); only Markup built from a trusted
template is kept as it is."""

from __future__ import annotations

import dataclasses
import html as stdlib_html
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.access.model import Finding
from kubectl_netsso.access.reach import ReachEngine
from kubectl_netsso.access.report import build_report
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.output.report import render_html
from kubectl_netsso.output.report.html import Markup, escape_html, html, join
from kubectl_netsso.output.text import escape

REPO = Path(__file__).resolve().parents[3]
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&\'\u202e\x1b[2J'
markup_chars = st.text(alphabet=st.sampled_from(["<", ">", "&", '"', "'", "/", "s", "=", "\u202e", "\x1b", "\n", "é"]))


@given(markup_chars)
def test_a_plain_str_value_is_escaped_in_text_and_attributes(text: str) -> None:
    page = html('<p title="{}">{}</p>', text, text)
    inner = page.removeprefix('<p title="').removesuffix("</p>")
    assert "<" not in inner and ">" not in inner.replace('">', "", 1) and '"' not in inner.replace('">', "", 1)
    # what a browser reads back is the text, with what could reorder or hide it shown escaped
    assert stdlib_html.unescape(page) == f'<p title="{escape(text, newlines=True)}">{escape(text, newlines=True)}</p>'


@given(markup_chars)
def test_join_and_concatenation_escape_a_plain_str(text: str) -> None:
    safe = html("<b>{}</b>", "x")
    expected = str(escape_html(text))
    assert join([safe, text]) == "<b>x</b>" + expected
    assert safe + text == "<b>x</b>" + expected
    assert text + safe == expected + "<b>x</b>"
    assert isinstance(safe + text, Markup) and isinstance(text + safe, Markup)


def test_markup_from_a_template_is_kept_and_nested() -> None:
    cell = html("<td>{}</td>", HOSTILE)
    row = html("<tr>{}</tr>", cell)
    assert row.startswith("<tr><td>&lt;script&gt;") and row.endswith("</td></tr>")
    assert row.count("<") == 4  # the template's tags only


@pytest.mark.parametrize("value", [None, b"<b>", ["<b>"], {"a": "<b>"}, object()])
def test_a_value_that_is_not_text_or_a_number_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        html("<p>{}</p>", value)


def test_numbers_keep_their_format_spec() -> None:
    assert html('<rect x="{:.1f}" width="{}"/>', 1.25, 160) == '<rect x="1.2" width="160"/>'


def test_the_page_holds_no_unescaped_text_from_any_field() -> None:
    """Every string a cluster or identity can put into the report, hostile at once: the page's only tags are its
    own (two scripts: the data and the package's report.js)."""
    snap = load_snapshot([str(REPO / "examples" / "shop")])
    engine = ReachEngine(snap)
    scope = sorted({w.namespace for w in snap.workloads})
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = build_report(engine, scope=scope, source="t", identity=None, identity_text=None, reaches=[], findings=[], now=now)
    cell = {"namespaces": [HOSTILE], "all": False, "risk": "high", "grants": [HOSTILE]}
    bad = dataclasses.replace(
        data,
        source=HOSTILE,
        scope=[s + HOSTILE for s in data.scope],
        nodes=[dataclasses.replace(n, id=n.id + HOSTILE, name=n.name + HOSTILE, ports=(HOSTILE,)) for n in data.nodes],
        edges=[
            dataclasses.replace(e, source=e.source + HOSTILE, target=e.target + HOSTILE, ports=(HOSTILE,)) for e in data.edges
        ],
        notes=[HOSTILE],
        cni_warning=HOSTILE,
        identity_text=HOSTILE,
        identity={"groups": [HOSTILE], "from": HOSTILE},
        matrix=[{"subject": HOSTILE, "kind": "User", "cells": [cell]}],
        findings=[Finding("high", HOSTILE, HOSTILE, HOSTILE, HOSTILE, details={"explanation": [HOSTILE]})],
    )
    page = render_html(bad)
    assert "<script>alert" not in page and "<img" not in page and "\u202e" not in page and "\x1b" not in page
    assert page.count("<script") == 2
    js = (REPO / "kubectl_netsso" / "output" / "report" / "report.js").read_text()
    css = (REPO / "kubectl_netsso" / "output" / "report" / "report.css").read_text()
    assert js in page and css in page  # loaded from the package files
