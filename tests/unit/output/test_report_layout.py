"""output/report/layout.py as geometry: over random small graphs, boxes are disjoint, every edge segment stays out
of every box, labels overlap no box, title or other label, and everything lies inside the drawing."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_netsso.output.report.layout import GraphLayout, Rect, fit_text, layout_graph, text_width

LABELS = st.sampled_from(["", "80/TCP", "https=8443/TCP", "53/UDP, 53/TCP", "http=8080/TCP, metrics=9090/TCP, 5432/TCP …", "x"])


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[list[str]], list[tuple[str, str, str]], dict[str, float]]:
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=5))
    columns = [[f"c{c}n{k}" for k in range(n)] for c, n in enumerate(sizes)]
    ids = [n for col in columns for n in col]
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda p: p[0] != p[1])
    chosen = draw(st.lists(pairs, max_size=14, unique=True))
    edges = [(a, b, draw(LABELS)) for a, b in chosen]
    widths = {n: float(draw(st.integers(60, 240))) for n in ids}
    return columns, edges, widths


def check_geometry(lay: GraphLayout) -> None:
    view = Rect(0, 0, lay.width, lay.height)
    boxes = list(lay.nodes.values())
    for a, b in combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    for c, col in enumerate(lay.order):
        assert lay.columns[c].inside(view) and lay.titles[c].inside(lay.columns[c])
        for n in col:
            assert lay.nodes[n].inside(lay.columns[c]) and not lay.nodes[n].overlaps(lay.titles[c])
    labels = [e.label for e in lay.edges if e.label is not None]
    for e in lay.edges:
        src, dst = lay.nodes[e.source], lay.nodes[e.target]
        first, last = e.points[0], e.points[-1]
        assert first[0] in (round(src.x, 1), round(src.right, 1)) and src.y < first[1] < src.bottom
        assert last[0] in (round(dst.x, 1), round(dst.right, 1)) and dst.y < last[1] < dst.bottom
        for p, q in zip(e.points, e.points[1:], strict=False):
            assert p[0] == q[0] or p[1] == q[1], "segments are horizontal or vertical"
            for r in (*boxes, *lay.titles):  # not even through its own ends' boxes
                assert not r.crosses(p, q), (e.source, e.target, p, q, r)
        for x, y in e.points:
            assert 0 <= x <= lay.width and 0 <= y <= lay.height
    for lab in labels:
        assert lab.inside(view)
        assert not any(lab.overlaps(r) for r in (*boxes, *lay.titles)), lab
    for a, b in combinations(labels, 2):
        assert not a.overlaps(b), (a, b)


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_random_graphs_have_no_overlaps_and_nothing_outside(
    g: tuple[list[list[str]], list[tuple[str, str, str]], dict[str, float]],
) -> None:
    columns, edges, widths = g
    lay = layout_graph(columns, edges, widths)
    assert set(lay.nodes) == {n for col in columns for n in col}
    assert sorted(map(sorted, lay.order)) == sorted(map(sorted, columns))  # reordered within columns only
    assert len(lay.edges) == len(edges)
    check_geometry(lay)


def test_edges_between_far_columns_go_over_the_boxes_in_between() -> None:
    """The picture of the bug: payments -> 203.0.113.0/24 was drawn through the boxes of the columns between."""
    columns = [["web"], ["api", "sales-report"], ["payments"], ["postgres"], ["ip:203.0.113.0/24"]]
    edges = [
        ("api", "payments", "https=8443/TCP"),
        ("payments", "ip:203.0.113.0/24", "443/TCP"),
        ("payments", "postgres", "postgres=5432/TCP"),
    ]
    lay = layout_graph(
        columns, edges, dict.fromkeys(["web", "api", "sales-report", "payments", "postgres", "ip:203.0.113.0/24"], 160.0)
    )
    check_geometry(lay)
    far = next(e for e in lay.edges if e.target.startswith("ip:"))
    top = min(r.y for r in lay.nodes.values())
    assert min(y for _x, y in far.points) < top  # over every box, in the corridor
    assert all(e.label is not None for e in lay.edges)  # every label found a place


def test_barycenter_order_removes_a_crossing() -> None:
    lay = layout_graph([["a", "b"], ["x", "y"]], [("a", "y", ""), ("b", "x", "")], dict.fromkeys("abxy", 100.0))
    left, right = lay.order
    assert left.index("a") == right.index("y") and left.index("b") == right.index("x")  # partners level: no crossing


@pytest.mark.parametrize("text", ["shop", "payments-ingress-and-more", "W" * 40, "é\\u202e"])
def test_fit_text_fits_and_keeps_what_fits(text: str) -> None:
    cut = fit_text(text, 12, 100)
    assert text_width(cut, 12) <= 100 or cut == "…"
    assert cut == text or (cut.endswith("…") and text.startswith(cut[:-1]))


def test_labels_without_room_are_left_to_the_legend_not_overlapped() -> None:
    """Thirty flows into one box: their labels cannot all sit near it; those that find no free place get none."""
    sources = [f"s{i}" for i in range(30)]
    edges = [(s, "t", f"port-{i}=80{i:02d}/TCP, metrics=9090/TCP") for i, s in enumerate(sources)]
    lay = layout_graph([sources, ["t"]], edges, {**dict.fromkeys(sources, 120.0), "t": 120.0})
    check_geometry(lay)
    placed = [e for e in lay.edges if e.label is not None]
    assert placed and len(placed) < len(edges)
