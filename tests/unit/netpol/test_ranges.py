"""netpol/ranges.complement against a brute force over small spaces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.netpol.ranges import complement


@st.composite
def disjoint_ranges(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int]]]:
    low = draw(st.integers(0, 5))
    high = draw(st.integers(low, low + 40))
    cuts = sorted(set(draw(st.lists(st.integers(low, high), max_size=12))))
    ranges = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    # sorted and disjoint, as the callers give them; some touching (a, b), (b + 1, c) is fine too
    ranges = [(a, b) for k, (a, b) in enumerate(ranges) if k == 0 or a > ranges[k - 1][1]]
    return low, high, ranges


@given(disjoint_ranges())
def test_complement_is_every_value_no_range_covers(case: tuple[int, int, list[tuple[int, int]]]) -> None:
    low, high, ranges = case
    covered = {v for a, b in ranges for v in range(a, b + 1)}
    gaps = complement(ranges, low, high)
    assert {v for a, b in gaps for v in range(a, b + 1)} == {v for v in range(low, high + 1)} - covered
    assert all(a <= b for a, b in gaps) and all(gaps[i][1] + 1 < gaps[i + 1][0] for i in range(len(gaps) - 1))


def test_complement_of_nothing_and_of_everything() -> None:
    assert complement([], 1, 65535) == [(1, 65535)]
    assert complement([(1, 65535)], 1, 65535) == []
    assert complement([(80, 80), (443, 443)], 1, 65535) == [(1, 79), (81, 442), (444, 65535)]
