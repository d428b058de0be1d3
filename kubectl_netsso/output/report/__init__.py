# ruff: noqa: E501  (HTML/SVG templates read better unwrapped)
"""The HTML report page: one self-contained page (inline CSS, JS and SVG; nothing fetched) from access/report.py's
ReportData. Every piece is built with html.py's escaping builder; the CSS and JS are package files beside this one.

The cluster view: the namespace x namespace matrix of allowed flows (flows.py), then the workload graph where it
stays readable (graph.py, laid out by layout.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from ... import __version__
from ...access.model import severity_rank
from .flows import flows_section
from .graph import graph_section, readable
from .html import Markup, html, join, script_json

if TYPE_CHECKING:
    from ...access.report import ReportData

__all__ = ["render_html"]


@cache
def _asset(name: str) -> str:
    """report.css / report.js, read once from the package (a zip or a folder alike)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _sev(s: str) -> Markup:
    return html('<span class="sev {}">{}</span>', s, s)


def render_html(data: ReportData) -> str:
    title = "kubectl netsso report"
    head = html(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        "<title>{}</title><style>\n{}</style></head><body>",
        title,
        Markup(_asset("report.css")),  # a package file: trusted
    )
    header = html(
        '<header><h1>{}: identity × network</h1><div class="meta">'
        "generated {} by kubectl-netsso {} from <b>{}</b> · "
        "{} namespace(s): {}{}"
        "</div></header><main>",
        title,
        data.generated,
        __version__,
        data.source,
        len(data.scope),
        ", ".join(data.scope[:12]),
        " …" if len(data.scope) > 12 else "",
    )
    payload = script_json(
        {
            "generated": data.generated,
            "source": data.source,
            "scope": data.scope,
            "identity": data.identity,
            "graph": data.graph_dict(),
            "findings": [f.to_dict() for f in data.findings],
        }
    )
    tail = html(
        '<script type="application/json" id="netsso-data">{}</script><script>\n{}</script></main></body></html>',
        payload,
        Markup(_asset("report.js")),  # a package file: trusted
    )
    page = [head, header, _summary(data), _identity_section(data), _matrix_section(data), flows_section(data.ns_matrix), graph_section(data)]
    return str(join([*page, _findings_section(data), tail]))


def _summary(data: ReportData) -> Markup:
    counts: dict[str, int] = {}
    for f in data.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    workloads, isolated = data.workload_count, data.isolated_count
    cards = [
        ("namespaces", str(len(data.scope))),
        ("workloads", str(workloads)),
        ("ingress-isolated", f"{isolated}/{workloads}"),
        ("allowed flows drawn" if readable(data) else "allowed flows into isolated workloads", str(data.flow_count)),
        ("findings", str(len(data.findings))),
    ]
    for sev in ("critical", "high"):
        if counts.get(sev):
            cards.append((sev, str(counts[sev])))
    html_cards = join(html('<div class="card"><b>{}</b><span class="muted">{}</span></div>', v, k) for k, v in cards)
    warn = html('<div class="warn">warning: {}</div>', data.cni_warning) if data.cni_warning else Markup("")
    notes = join(html('<div class="warn">{}</div>', n) for n in data.notes)
    return html('<section id="summary"><h2>Summary</h2><div class="cards">{}</div>{}{}</section>', html_cards, warn, notes)


def _identity_section(data: ReportData) -> Markup:
    if data.identity_text is None:
        return html(
            '<section id="identity"><h2>Identity</h2><p class="muted">No identity given (log in, or pass --as / '
            "--as-group): footholds are not shown; the permissions matrix covers every RBAC subject.</p></section>"
        )
    ident = data.identity or {}
    groups = ", ".join(ident.get("groups") or []) or "(none)"
    rows = []
    for r in data.reaches:
        fh = r.foothold
        reach = "any" if r.any_destination else str(len(r.destinations))
        rows.append(
            html(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                fh.display,
                fh.actions_text(),
                "; ".join(fh.obtained),
                reach,
                ", ".join(r.top(6)),
                _sev(r.risk),
                r.risk_reason,
            )
        )
    head = html(
        "<thead><tr><th>Foothold</th><th>Access</th><th>Obtained via</th><th>Reaches</th>"
        "<th>Top destinations</th><th>Risk</th><th>Why</th></tr></thead>"
    )
    shown = 25  # the riskiest first; the rest folded
    if rows:
        table_html = html('<table id="footholds">{}<tbody>{}</tbody></table>', head, join(rows[:shown]))
    else:
        table_html = html("<p>No footholds: this identity can neither exec into, create nor re-police anything in scope.</p>")
    if len(rows) > shown:
        table_html += html(
            "<details><summary>{} more footholds</summary><table>{}<tbody>{}</tbody></table></details>",
            len(rows) - shown,
            head,
            join(rows[shown:]),
        )
    return html(
        '<section id="identity"><h2>Identity and footholds</h2><p><b>{}</b> '
        '<span class="muted">(from {}; groups: {})</span></p>{}</section>',
        data.identity_text,
        str(ident.get("from") or ""),
        groups,
        table_html,
    )


def _matrix_section(data: ReportData) -> Markup:
    if not data.matrix:
        return html('<section id="matrix"><h2>Permissions matrix</h2><p class="muted">No RBAC objects in the source.</p></section>')
    head = join(html("<th>{}</th>", c) for c in data.matrix_columns)
    rows = []
    for row in data.matrix:
        cells = []
        for c in row["cells"]:
            if not c["namespaces"]:
                cells.append(html('<td class="muted">–</td>'))
                continue
            text = "all namespaces" if c["all"] else ", ".join(c["namespaces"])
            cells.append(html('<td class="cell-{}" title="{}">{}</td>', c["risk"], "; ".join(c["grants"]), text))
        rows.append(html("<tr><td><code>{}</code></td>{}</tr>", row["subject"], join(cells)))
    return html(
        '<section id="matrix"><h2>Permissions matrix</h2><p class="muted">Which RBAC subject may do what, where '
        "(hover a cell for the granting binding). Shaded cells are footholds into the network.</p>"
        '<table id="perm-matrix"><thead><tr><th>Subject</th>{}</tr></thead><tbody>{}</tbody></table></section>',
        head,
        join(rows),
    )


def _findings_section(data: ReportData) -> Markup:
    rows = []
    for f in sorted(data.findings, key=lambda f: -severity_rank(f.severity)):
        expl = f.details.get("explanation") if isinstance(f.details, Mapping) else None
        extra = html("<details><summary>explanation</summary><pre>{}</pre></details>", "\n".join(map(str, expl))) if expl else Markup("")
        rows.append(
            html(
                '<tr data-severity="{}"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}{}</td><td class="muted">{}</td></tr>',
                f.severity, _sev(f.severity), f.check, f.object, f.reason, extra, f.hint,
            )  # fmt: skip
        )
    if rows:
        body = html(
            '<input type="search" id="finding-filter" placeholder="filter findings…" aria-label="filter findings">'
            '<table id="findings"><thead><tr><th>Severity</th><th>Check</th><th>Object</th><th>Reason</th><th>Fix hint</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            join(rows),
        )
    else:
        body = html("<p>No findings.</p>")
    exp = Markup("")
    if data.expectations:
        erows = join(
            html("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", r.status, r.expectation.name or "", r.expectation.describe(), r.summary)
            for r in data.expectations
        )
        exp = html(
            '<h2 style="margin-top:16px">Expectations</h2><table id="expectations"><thead><tr><th>Status</th><th>Name</th>'
            "<th>Assertion</th><th>Result</th></tr></thead><tbody>{}</tbody></table>",
            erows,
        )
    return html('<section id="audit"><h2>Audit findings</h2>{}{}</section>', body, exp)
