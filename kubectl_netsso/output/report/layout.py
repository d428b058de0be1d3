"""The report graph's layout, computed at build time: pure geometry, no SVG.

Layered, with namespaces as columns (given in order) and workloads as boxes stacked in them:
- order inside a column: barycenter sweeps (a node moves next to the mean position of its neighbours in the
  other columns), which removes most crossings of flows between two columns;
- edges are orthogonal polylines routed only through free space: out of a box's side into the gap beside its
  column, along a vertical track of its own in that gap, and, when the other end is not in the neighbouring column,
  along a horizontal track of its own in the corridor band above every box (below the column titles). Gaps hold no
  boxes and the corridor is above them all, so no segment can pass through a box;
- each end of a box side gets its own slot (ordered by the other end's height), so edges leave and enter apart;
- labels sit in label zones kept free at either side of each gap, next to the edge's last segment; a label is
  placed at the nearest height where it overlaps no box, title and other label and stays inside the drawing; one
  that finds no place is left to the legend (``RoutedEdge.label`` is None);
- text widths are estimated from DejaVu Sans (the widest of the common sans fonts), so text fits its box with
  whatever sans font the browser picks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["GraphLayout", "Rect", "RoutedEdge", "fit_text", "layout_graph", "text_width"]

# DejaVu Sans advance widths in em (from its hmtx table, rounded up), for ASCII; anything else counts as 1 em
_WIDTHS = {
    **dict.fromkeys("0123456789", 0.637),
    " ": 0.318, "!": 0.401, '"': 0.460, "#": 0.838, "$": 0.637, "%": 0.951, "&": 0.780, "'": 0.275, "(": 0.391,
    ")": 0.391, "*": 0.500, "+": 0.838, ",": 0.318, "-": 0.361, ".": 0.318, "/": 0.337, ":": 0.337, ";": 0.337,
    "<": 0.838, "=": 0.838, ">": 0.838, "?": 0.531, "@": 1.0, "[": 0.391, "\\": 0.337, "]": 0.391, "^": 0.838,
    "_": 0.500, "`": 0.500, "{": 0.637, "|": 0.337, "}": 0.637, "~": 0.838,
    "a": 0.613, "b": 0.635, "c": 0.550, "d": 0.635, "e": 0.616, "f": 0.352, "g": 0.635, "h": 0.634, "i": 0.278,
    "j": 0.278, "k": 0.580, "l": 0.278, "m": 0.975, "n": 0.634, "o": 0.612, "p": 0.635, "q": 0.635, "r": 0.412,
    "s": 0.522, "t": 0.392, "u": 0.634, "v": 0.592, "w": 0.818, "x": 0.592, "y": 0.592, "z": 0.525,
    "A": 0.685, "B": 0.686, "C": 0.698, "D": 0.771, "E": 0.632, "F": 0.575, "G": 0.775, "H": 0.752, "I": 0.295,
    "J": 0.295, "K": 0.656, "L": 0.557, "M": 0.863, "N": 0.748, "O": 0.787, "P": 0.603, "Q": 0.787, "R": 0.695,
    "S": 0.635, "T": 0.611, "U": 0.732, "V": 0.685, "W": 0.989, "X": 0.685, "Y": 0.611, "Z": 0.685,
}  # fmt: skip
BOLD = 1.12  # DejaVu Sans Bold is at most this much wider


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An upper bound of the rendered width of text at size px."""
    em = sum(_WIDTHS.get(ch, 1.0) for ch in text)
    return em * size * (BOLD if bold else 1.0) * 1.03 + 1


def fit_text(text: str, size: float, width: float, bold: bool = False) -> str:
    """text, cut with an ellipsis to fit width (the full text goes into the element's title)."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, o: Rect) -> bool:
        """The interiors meet (touching edges do not count)."""
        return self.x < o.right and o.x < self.right and self.y < o.bottom and o.y < self.bottom

    def inside(self, o: Rect) -> bool:
        return o.x <= self.x and o.y <= self.y and self.right <= o.right and self.bottom <= o.bottom

    def crosses(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """The segment a-b (horizontal or vertical) passes through the interior."""
        (x1, y1), (x2, y2) = a, b
        lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
        if lo_y == hi_y:
            return self.y < lo_y < self.bottom and lo_x < self.right and self.x < hi_x
        if lo_x == hi_x:
            return self.x < lo_x < self.right and lo_y < self.bottom and self.y < hi_y
        raise ValueError("only horizontal and vertical segments are routed")


@dataclass(frozen=True, slots=True)
class RoutedEdge:
    source: str
    target: str
    points: tuple[tuple[float, float], ...]
    label_text: str
    label: Rect | None  # where the label's text goes (baseline at bottom - DESCENT); None: in the legend


@dataclass(frozen=True, slots=True)
class GraphLayout:
    width: float
    height: float
    columns: tuple[Rect, ...]  # the column (namespace) boxes
    titles: tuple[Rect, ...]  # each column's title area (title and subtitle text)
    nodes: Mapping[str, Rect]
    order: tuple[tuple[str, ...], ...]  # node ids per column, top to bottom
    edges: tuple[RoutedEdge, ...]


NODE_H = 36
V_GAP = 14  # between boxes of a column
PAD = 10  # inside a column box, around its boxes
TITLE_H = 50  # a column's title area
TRACK = 8  # between parallel tracks
GAP_PAD = 8
LABEL_SIZE = 10  # px of edge labels
LABEL_H = 13.0
DESCENT = 3.0  # label box bottom to text baseline
MARGIN = 8  # around the drawing


@dataclass
class _Edge:
    index: int
    source: str
    target: str
    label: str
    cu: int
    cv: int
    out_side: str = "right"
    in_side: str = "left"
    ys: float = 0.0
    yt: float = 0.0
    tracks: tuple[int, ...] = ()  # gaps whose vertical tracks it uses, in path order
    xs: tuple[float, ...] = ()
    yc: float | None = None
    zone: tuple[int, str] = (0, "R")  # (gap, "L" | "R") where its label goes


def layout_graph(
    columns: Sequence[Sequence[str]],
    edges: Sequence[tuple[str, str, str]],
    node_widths: Mapping[str, float],
    column_widths: Sequence[float] = (),
) -> GraphLayout:
    """columns: node ids per column (left to right); edges: (source, target, label); node_widths: each box's width
    (the caller measured its text with text_width); column_widths: at least this wide (its title)."""
    col_of = {n: c for c, ids in enumerate(columns) for n in ids}
    known = [(i, s, t, lab) for i, (s, t, lab) in enumerate(edges) if s in col_of and t in col_of and s != t]
    es = [_Edge(i, s, t, lab, col_of[s], col_of[t]) for i, s, t, lab in known]
    order = _order(columns, es, col_of)
    ncol = len(order)
    node_w = [max([node_widths.get(n, 120.0) for n in ids] or [120.0]) for ids in order]
    # whole pixels: box sides and the routes' end points, rounded alike, then meet exactly
    node_w = [float(math.ceil(w)) for w in node_w]
    col_w = [
        float(math.ceil(max(w + 2 * PAD, column_widths[c] if c < len(column_widths) else 0.0))) for c, w in enumerate(node_w)
    ]
    # sides and tracks
    for e in es:
        if e.cu < e.cv:
            e.out_side, e.in_side = "right", "left"
            e.tracks = (e.cu,) if e.cv == e.cu + 1 else (e.cu, e.cv - 1)
            e.zone = (e.cv - 1, "R")
        elif e.cu == e.cv:
            e.out_side, e.in_side = "right", "right"
            e.tracks = (e.cu,)
            e.zone = (e.cu, "L")
        else:
            e.out_side, e.in_side = "left", "right"
            e.tracks = (e.cu - 1,) if e.cv == e.cu - 1 else (e.cu - 1, e.cv)
            e.zone = (e.cv, "L")
    corridor = [e for e in es if len(e.tracks) == 2]
    band = (len(corridor) * TRACK + TRACK) if corridor else 0
    top = MARGIN + TITLE_H + band + 6
    # node boxes (x filled in once the gaps are sized)
    ys: dict[str, float] = {}
    for ids in order:
        for k, n in enumerate(ids):
            ys[n] = top + k * (NODE_H + V_GAP)
    # slots on each side of each box, ordered by the other end's height
    ends: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for e in es:
        ends.setdefault((e.source, e.out_side), []).append((ys[e.target], e.index, "s"))
        ends.setdefault((e.target, e.in_side), []).append((ys[e.source], e.index, "t"))
    by_index = {e.index: e for e in es}
    for (n, _side), lst in ends.items():
        lst.sort()
        for k, (_y, idx, which) in enumerate(lst):
            y = ys[n] + NODE_H * (k + 1) / (len(lst) + 1)
            if which == "s":
                by_index[idx].ys = y
            else:
                by_index[idx].yt = y
    # gaps: [pad | L labels | tracks | R labels | pad]; gap g is right of column g
    tracks_in: list[list[_Edge]] = [[] for _ in range(ncol)]
    for e in es:
        for g in e.tracks:
            tracks_in[g].append(e)
    zone_w = {(g, z): 0.0 for g in range(ncol) for z in "LR"}
    for e in es:
        zone_w[e.zone] = max(zone_w[e.zone], float(math.ceil(_label_w(e.label))))
    gap_w = []
    for g in range(ncol):
        n_tracks = len(tracks_in[g])
        inner = zone_w[(g, "L")] + zone_w[(g, "R")] + max(0, n_tracks - 1) * TRACK
        gap_w.append(max(28.0, inner + 2 * GAP_PAD + (8 if zone_w[(g, "L")] else 0) + (8 if zone_w[(g, "R")] else 0)))
    col_x: list[float] = []
    x = float(MARGIN)
    for c in range(ncol):
        col_x.append(x)
        x += col_w[c] + gap_w[c]
    width = x + MARGIN  # the last gap holds the tracks of edges inside the last column
    nodes = {n: Rect(col_x[c] + PAD, ys[n], node_w[c], NODE_H) for c, ids in enumerate(order) for n in ids}
    # track x per edge per gap: sorted so that the tracks of edges ending low sit nearer their target column
    track_x: dict[tuple[int, int], float] = {}
    for g in range(ncol):
        gx0 = col_x[g] + col_w[g] + GAP_PAD + zone_w[(g, "L")] + (8 if zone_w[(g, "L")] else 0)
        in_gap = sorted(tracks_in[g], key=lambda e: (_track_key(e, g), e.index))
        for k, e in enumerate(in_gap):
            track_x[(e.index, g)] = gx0 + k * TRACK
    for e in es:
        e.xs = tuple(track_x[(e.index, g)] for g in e.tracks)  # in path order
    for k, e in enumerate(sorted(corridor, key=lambda e: (abs(e.cv - e.cu), e.index))):
        e.yc = MARGIN + TITLE_H + TRACK / 2 + k * TRACK
    # heights
    rows = max([len(ids) for ids in order] or [0])
    height = top + rows * (NODE_H + V_GAP) - V_GAP + PAD + MARGIN * 2
    view = Rect(0, 0, width, height)
    col_boxes = tuple(Rect(col_x[c], MARGIN, col_w[c], height - 2 * MARGIN) for c in range(ncol))
    title_boxes = tuple(Rect(col_x[c], MARGIN, col_w[c], TITLE_H) for c in range(ncol))
    routed: list[tuple[_Edge, tuple[tuple[float, float], ...]]] = []
    for e in es:
        routed.append((e, _route(e, nodes)))
    # labels
    placed: list[Rect] = []
    segments = [(p, q) for _e, pts in routed for p, q in zip(pts, pts[1:], strict=False)]
    obstacles = [*nodes.values(), *title_boxes]
    out: list[RoutedEdge] = []
    for e, pts in sorted(routed, key=lambda r: r[0].index):
        rect = _place_label(e, nodes, col_x, col_w, obstacles, placed, segments, view)
        if rect is not None:
            placed.append(rect)
        out.append(RoutedEdge(e.source, e.target, pts, e.label, rect))
    return GraphLayout(width, height, col_boxes, title_boxes, nodes, tuple(tuple(ids) for ids in order), tuple(out))


def _label_w(text: str) -> float:
    return text_width(text, LABEL_SIZE) + 4 if text else 0.0


def _track_key(e: _Edge, g: int) -> float:
    # edges entering the column right of the gap: the lower the target, the further right (fewer crossings)
    if e.in_side == "left" and e.tracks[-1] == g:
        return e.yt
    return -e.ys


def _route(e: _Edge, nodes: Mapping[str, Rect]) -> tuple[tuple[float, float], ...]:
    u, v = nodes[e.source], nodes[e.target]
    x_out = u.right if e.out_side == "right" else u.x
    x_in = v.x if e.in_side == "left" else v.right
    if len(e.xs) == 1:
        (xt,) = e.xs
        pts = [(x_out, e.ys), (xt, e.ys), (xt, e.yt), (x_in, e.yt)]
    else:
        x1, x2 = e.xs
        assert e.yc is not None
        pts = [(x_out, e.ys), (x1, e.ys), (x1, e.yc), (x2, e.yc), (x2, e.yt), (x_in, e.yt)]
    # drop zero-length steps (a track at the slot's own height)
    clean = [pts[0]]
    for p in pts[1:]:
        if p != clean[-1]:
            clean.append(p)
    return tuple((round(x, 1), round(y, 1)) for x, y in clean)


def _place_label(
    e: _Edge,
    nodes: Mapping[str, Rect],
    col_x: Sequence[float],
    col_w: Sequence[float],
    obstacles: Sequence[Rect],
    placed: Sequence[Rect],
    segments: Sequence[tuple[tuple[float, float], tuple[float, float]]],
    view: Rect,
) -> Rect | None:
    if not e.label:
        return None
    w = _label_w(e.label)
    g, zone = e.zone
    if zone == "R":
        x = nodes[e.target].x - 4 - w  # right-aligned against the target column's boxes
    else:
        x = col_x[g] + col_w[g] + 4
    x = max(x, view.x + 1)
    best: tuple[int, float, Rect] | None = None
    for step in range(0, 14):
        for sign in (-1, 1):
            dy = (step * (LABEL_H + 1)) * sign
            y = (e.yt - 2 - LABEL_H if sign < 0 else e.yt + 2) + dy
            r = Rect(round(x, 1), round(y, 1), round(w, 1), LABEL_H)
            if not r.inside(view) or any(r.overlaps(o) for o in obstacles) or any(r.overlaps(p) for p in placed):
                continue
            crossings = sum(1 for a, b in segments if r.crosses(a, b))
            score = (crossings, abs(y - e.yt))
            if best is None or score < best[:2]:
                best = (crossings, abs(y - e.yt), r)
        if best is not None and best[0] == 0:
            break
    return best[2] if best is not None else None


def _order(columns: Sequence[Sequence[str]], es: Sequence[_Edge], col_of: Mapping[str, int]) -> list[list[str]]:
    """Barycenter sweeps: left to right, then right to left, a few times; ties keep the given order."""
    order = [list(ids) for ids in columns]
    nbrs: dict[str, list[str]] = {n: [] for ids in columns for n in ids}
    for e in es:
        if e.cu != e.cv:
            nbrs[e.source].append(e.target)
            nbrs[e.target].append(e.source)
    pos = {n: k for ids in order for k, n in enumerate(ids)}
    for sweep in range(6):
        cols = range(len(order)) if sweep % 2 == 0 else range(len(order) - 1, -1, -1)
        for c in cols:
            keyed = []
            for k, n in enumerate(order[c]):
                others = [pos[m] for m in nbrs[n] if col_of[m] != c]
                keyed.append(((sum(others) / len(others)) if others else float(k), k, n))
            order[c] = [n for _b, _k, n in sorted(keyed)]
            for k, n in enumerate(order[c]):
                pos[n] = k
    return order
