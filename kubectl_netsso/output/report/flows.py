# ruff: noqa: E501  (HTML templates read better unwrapped)
"""The report's namespace x namespace matrix (access/nsmatrix.py's data): a table of buttons, one per non-empty
cell, whose rules (a <template> per cell, escaped like the rest of the page) report.js shows in a panel. Header names are cut to fit, the full
name in their title; the headers stick while the table scrolls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...access.nsmatrix import key_text
from ..text import escape
from .html import Markup, html, join
from .layout import fit_text

if TYPE_CHECKING:
    from ...access.nsmatrix import Cell, NamespaceMatrix, NsKey

__all__ = ["flows_section"]

HEADER_SIZE = 12
COL_HEADER_W = 116  # px along the rotated column header (report.css: 134 px high, 6 px padding each end)
ROW_HEADER_W = 180  # report.css: at most 210 px with 8 px padding each side


def _level(n: int) -> int:
    return 0 if n == 0 else 1 if n < 3 else 2 if n < 10 else 3 if n < 30 else 4


def _what(c: Cell) -> str:
    what = f"{c.flows} allowed workload flow{'s' if c.flows != 1 else ''}"
    if c.open:
        what += f", {c.open} into workloads open to all ingress"
    if any(r.allowed is None for r in c.rules):
        what += "; some unknown"
    return what


def _cell(k: int, c: Cell) -> Markup:
    frm, to = key_text(c.source), key_text(c.destination)
    unknown = any(r.allowed is None for r in c.rules)
    cls = f"l{_level(c.flows)}" + (" open" if c.open else "") + (" unknown" if unknown else "")
    return html(
        '<td class="{}"><button type="button" class="cell" data-cell="{}" aria-controls="cell-panel" aria-label="{} → {}: {}" title="{} → {}: {}">{}</button></td>',
        cls, k, frm, to, _what(c), frm, to, _what(c), str(c.flows) if c.flows else "?",
    )  # fmt: skip


def _rules_template(k: int, c: Cell) -> Markup:
    """A cell's rules as table rows, escaped like the rest of the page; report.js copies them into the panel."""
    rows = join(
        html(
            '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td></tr>',
            Markup("unknown" if r.allowed is None else "allowed"),
            r.source,
            r.destination,
            r.ports + (" (unknown)" if r.allowed is None else ""),
        )  # fmt: skip
        for r in c.rules
    )
    n = len(c.rules)
    summary = f"{_what(c)}; {n} rule{'s' if n != 1 else ''} (paths -A --compact, cut to this pair)"
    title = f"{key_text(c.source)} → {key_text(c.destination)}"
    return html('<template id="cell-{}" data-title="{}" data-summary="{}">{}</template>', k, title, summary, rows)


def _header(key: NsKey, width: float, matrix: NamespaceMatrix, col: bool) -> Markup:
    full = key_text(key)
    short = full if key[0] == "ns" or not col else "outside"
    shown = fit_text(escape(short, newlines=True), HEADER_SIZE, width, bold=True)
    opened = matrix.open_workloads.get(key, 0) if col else 0
    mark = (
        html('<span class="open-mark" title="{} workload(s) of {} open to all ingress">●</span>', str(opened), full)
        if opened
        else Markup("")
    )
    scope = "col" if col else "row"
    cls = ("col" if col else "row") + (" outside" if key[0] != "ns" else "")
    return html('<th scope="{}" class="{}" title="{}"><span>{}</span>{}</th>', Markup(scope), Markup(cls), full, shown, mark)


def flows_section(matrix: NamespaceMatrix | None) -> Markup:
    if matrix is None or not matrix.rows:
        return html('<section id="flows"><h2>Flows between namespaces</h2><p class="muted">No workloads in scope.</p></section>')
    index = {(c.source, c.destination): k for k, c in enumerate(matrix.cells.values())}
    head = join(_header(k, COL_HEADER_W, matrix, True) for k in matrix.columns)
    rows = []
    for r in matrix.rows:
        cells = []
        for c in matrix.columns:
            cell = matrix.cell(r, c)
            cells.append(_cell(index[(r, c)], cell) if cell is not None else html("<td></td>"))
        rows.append(html("<tr>{}{}</tr>", _header(r, ROW_HEADER_W, matrix, False), join(cells)))
    return html(
        '<section id="flows"><h2>Flows between namespaces</h2>'
        '<p class="muted">Rows: from, columns: to. A cell counts the allowed workload flows: ordered pairs of workloads '
        "(the source in the row's namespace, the destination in the column's) allowed on at least one port; "
        '"outside the cluster" counts the workloads that some address outside may reach, or that may reach one. '
        '<span class="open-mark">●</span> marks destinations with workloads open to all ingress (on some port every pod '
        "and every address outside passes their ingress policies: no ingress policy selects them, or one allows "
        "everything), a red corner the cells with flows into them. Choose a cell for its rules "
        "(<code>paths -A --compact</code>, cut to the pair).</p>"
        '<div class="nsm-wrap"><table id="ns-matrix"><thead><tr><th class="corner" scope="col">from \\ to</th>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>"
        '<div id="cell-panel" role="region" aria-live="polite" aria-label="rules of the chosen pair" hidden>'
        '<h3 id="cell-title"></h3><p id="cell-summary" class="muted"></p>'
        '<table id="cell-rules"><thead><tr><th>From</th><th>To</th><th>Ports</th></tr></thead><tbody></tbody></table></div>'
        "{}</section>",
        head, join(rows), join(_rules_template(k, c) for k, c in enumerate(matrix.cells.values())),
    )  # fmt: skip
