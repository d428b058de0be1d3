"""Calico's selector language against the truth table of Calico's own parser tests (libcalico-go
lib/selector/parser/parser_test.go: selectorTests, badSelectors), plus hypothesis: index (bitset) evaluation equals
evaluation on each label map, and printing then re-parsing keeps the meaning."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_netsso.netpol.calico_selector import CalicoSelectorError, LabelIndex, bits, ns_matches, parse

# (selector, labels that match, labels that do not) -- the upstream table, case by case
TABLE: list[tuple[str, list[dict[str, str]], list[dict[str, str]]]] = [
    ('a == "b"', [{"a": "b"}, {"a": "b", "c": "d"}], [{}, {"a": "c"}, {"c": "d"}]),
    ('a == "b" && c == "d"', [{"a": "b", "c": "d"}], [{}, {"a": "b", "c": "e"}, {"a": "c", "c": "d"}, {"c": "d"}, {"a": "b"}]),
    ('a == "b" || c == "d"', [{"a": "b", "c": "d"}, {"a": "b"}, {"c": "d"}], [{}, {"a": "e", "c": "e"}, {"c": "e"}, {"a": "e"}]),
    ("""a in {"'", '"', "c"}""", [{"a": "c"}, {"a": '"'}, {"a": "'"}], [{}, {"a": "e"}]),
    ("""a not in {"'", '"', "c"}""", [{}, {"a": "e"}], [{"a": "c"}, {"a": '"'}, {"a": "'"}]),
    ("a == 'a'", [{"a": "a"}], [{"a": "b"}, {}]),
    ('a != "b"', [{"a": "a"}], []),
    ('a != "a"', [{}], [{"a": "a"}]),
    ('a contains "a"', [{"a": "a"}, {"a": "bab"}, {"a": "aaa", "b": "c"}], [{}, {"a": "b"}, {"b": "aaa"}]),
    ('a starts with "a"', [{"a": "a"}, {"a": "abb"}, {"a": "aaa", "b": "c"}], [{}, {"a": "b"}, {"a": "baa"}, {"b": "aaa"}]),
    ('a ends with "a"', [{"a": "a"}, {"a": "bba"}, {"a": "aaa", "b": "c"}], [{}, {"a": "b"}, {"a": "aab"}, {"b": "aaa"}]),
    ('a startswith "a"', [{"a": "abb"}], [{"a": "baa"}]),
    ('a in {"a"}', [{"a": "a"}], [{"a": "b"}]),
    ('!a in {"a"}', [{"a": "b"}], []),
    ('a in {"a", "b"}', [{"a": "a"}, {"a": "b"}], [{"a": "c"}]),
    ('a not in {"d", "e"}', [{"a": "a"}], []),
    ('a not in {"a"}', [], [{"a": "a"}]),
    ("has(a)", [{"a": "b"}], []),
    ("!has(a)", [{"b": "b"}], [{"a": "b"}]),
    ("has(b)", [], [{"a": "b"}]),
    ("!!has(b)", [], [{"a": "b"}]),
    ("! has(a)", [], [{"a": "b"}]),
    ("!!! has(a)", [], [{"a": "b"}]),
    ("!! ! has(a)", [], [{"a": "b"}]),
    ("! !!has(a)", [], [{"a": "b"}]),
    ("", [{}, {"a": "b"}], []),
    (" ", [{}], []),
    ("all()", [{}], []),
    (" all()", [{}, {"a": "b"}], []),
    ("global()", [{}], []),
    (" global()", [{}, {"a": "b"}], []),
    ("a == 'a1' && b == 'b1'", [{"a": "a1", "b": "b1"}], []),
    ("a == 'a1' && b != 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("a != 'a1' && b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("a != 'a1' && !b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("!a == 'a1' && b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("has(a) && !has(b)", [{"a": "a"}], []),
    ("!(!has(a) || has(b))", [{"a": "a"}], []),
    ("!(has(b) || !has(a))", [{"a": "a"}], []),
    ("a == 'a1' || b != 'b1'", [{"a": "a1", "b": "b1"}], []),
    ("a != 'a1' || b != 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("! a == 'a1' || ! b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("projectcalico.org/namespace == 'shop' && app.kubernetes.io/name in {'api'}", [
        {"projectcalico.org/namespace": "shop", "app.kubernetes.io/name": "api"}], [{"app.kubernetes.io/name": "api"}]),
]  # fmt: skip

BAD = [
    "b == b", "b contains b", "b starts with b", "b ends with b", "'b1' == b", "b", "a b", "!", 'foo == "bar" &',
    'foo == "bar" |', "foo != ||", 'foo in {"", ||', 'foo in ""', '"FOO', "\"FOO'", "'FOO", "(", '(a == "foo"', ")", "()",
    "%", 'a == "b" && %', 'a == "b" || %', "a ", "has(foo) &&",
]  # fmt: skip


@pytest.mark.parametrize("selector,good,bad", TABLE)
def test_calico_truth_table(selector: str, good: list[dict[str, str]], bad: list[dict[str, str]]) -> None:
    node = parse(selector)
    for labels in good:
        assert node.matches(labels), (selector, labels)
    for labels in bad:
        assert not node.matches(labels), (selector, labels)
    again = parse(node.text())  # canonical text means the same
    for labels in good + bad:
        assert again.matches(labels) == node.matches(labels), (selector, node.text(), labels)


@pytest.mark.parametrize("selector", BAD)
def test_calico_rejects_what_its_parser_rejects(selector: str) -> None:
    with pytest.raises(CalicoSelectorError):
        parse(selector)


def test_hostile_selectors_are_bounded() -> None:
    with pytest.raises(CalicoSelectorError, match="nested too deeply"):
        parse("(" * 100 + "all()" + ")" * 100)
    with pytest.raises(CalicoSelectorError, match="longer than"):
        parse("a == 'x' || " * 1000 + "all()")
    with pytest.raises(CalicoSelectorError):
        parse(123)  # type: ignore[arg-type]


def test_namespace_selector_scopes_all_and_global() -> None:
    # "global() ... selects only host endpoints or GlobalNetworksets" / all() "select all namespaces"
    assert ns_matches(parse("all()"), {"team": "a"}, namespaced=True)
    assert not ns_matches(parse("all()"), {}, namespaced=False)
    assert ns_matches(parse("global()"), {}, namespaced=False)
    assert not ns_matches(parse("global()"), {"team": "a"}, namespaced=True)
    # a global object has no namespace labels: a != test matches it, an == test does not
    assert ns_matches(parse("team != 'a'"), {}, namespaced=False)
    assert not ns_matches(parse("team == 'a'"), {}, namespaced=False)
    assert ns_matches(parse("global() || team == 'a'"), {"team": "a"}, namespaced=True)


KEYS = ("a", "b", "c")
VALS = ("x", "y", "xy", "")
label_maps = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALS), max_size=3)


def selectors() -> Any:
    key = st.sampled_from(KEYS)
    val = st.sampled_from(VALS).map(lambda v: repr(v) if "'" not in v else f'"{v}"')
    leaf = st.one_of(
        st.just("all()"),
        key.map(lambda k: f"has({k})"),
        st.builds(
            lambda k, op, v: f"{k} {op} {v}", key, st.sampled_from(["==", "!=", "contains", "starts with", "ends with"]), val
        ),
        st.builds(lambda k, neg, vs: f"{k} {'not in' if neg else 'in'} {{{', '.join(vs)}}}", key, st.booleans(),
                  st.lists(val, min_size=1, max_size=3)),
    )  # fmt: skip
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            inner.map(lambda s: f"!({s})"),
            st.builds(lambda a, b: f"({a}) && ({b})", inner, inner),
            st.builds(lambda a, b: f"{a} || {b}", inner, inner),
        ),
        max_leaves=6,
    )


@settings(max_examples=300, deadline=None)
@given(selectors(), st.lists(label_maps, min_size=1, max_size=6))
def test_index_evaluation_equals_evaluation_per_object(selector: str, objects: list[dict[str, str]]) -> None:
    node = parse(selector)
    by_key: dict[str, dict[str, int]] = {}
    for i, labels in enumerate(objects):
        for k, v in labels.items():
            by_key.setdefault(k, {}).setdefault(v, 0)
            by_key[k][v] |= 1 << i
    got = bits(node, LabelIndex((1 << len(objects)) - 1, by_key))
    want = sum(1 << i for i, labels in enumerate(objects) if node.matches(labels))
    assert got == want, selector
    assert parse(node.text()) == node or all(parse(node.text()).matches(o) == node.matches(o) for o in objects)
