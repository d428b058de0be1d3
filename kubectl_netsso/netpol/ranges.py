"""Closed integer ranges, as ports (1..65535) and addresses (0..2**32-1 or 2**128-1) are written in rules."""

from __future__ import annotations

from collections.abc import Iterable


def complement(ranges: Iterable[tuple[int, int]], low: int, high: int) -> list[tuple[int, int]]:
    """The ranges of [low, high] that none of the given sorted, disjoint ranges covers, in order."""
    out: list[tuple[int, int]] = []
    pos = low
    for a, b in ranges:
        if a > pos:
            out.append((pos, a - 1))
        pos = max(pos, b + 1)
    if pos <= high:
        out.append((pos, high))
    return out


__all__ = ["complement"]
