"""cluster/fields.py: the field checks every decoder shares (property-based where the rule is a range or a shape)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.cluster.fields import (
    InvalidField,
    as_cidr,
    as_labels,
    as_mapping,
    as_port,
    as_port_or_name,
    as_protocol,
    as_selector,
    as_str,
    one_line,
)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5))


@given(st.one_of(st.integers(-70000, 70000), st.booleans(), st.text(max_size=3), st.floats(allow_nan=False)))
def test_a_port_is_exactly_an_int_from_1_to_65535(value: Any) -> None:
    valid = type(value) is int and 1 <= value <= 65535
    if valid:
        assert as_port(value, "p") == value
    else:
        with pytest.raises(InvalidField) as err:
            as_port(value, "spec.ports[0].port")
        assert str(err.value).startswith("spec.ports[0].port must be ")


@given(st.text(max_size=8))
def test_a_port_name_has_a_letter(name: str) -> None:
    if name and any(c.isalpha() for c in name):
        assert as_port_or_name(name, "p") == name
    else:
        with pytest.raises(InvalidField, match="must be a port number or a port name"):
            as_port_or_name(name, "p")


@given(scalars)
def test_protocol_defaults_to_tcp_and_allows_only_the_three(value: Any) -> None:
    if value is None:
        assert as_protocol(value, "p") == "TCP"
    elif value in ("TCP", "UDP", "SCTP") and isinstance(value, str):
        assert as_protocol(value, "p") == value
    else:
        with pytest.raises(InvalidField):
            as_protocol(value, "p")


@given(st.dictionaries(st.text(max_size=4), scalars, max_size=4))
def test_label_values_must_be_strings_with_the_quoting_hint(labels: dict[str, Any]) -> None:
    if all(isinstance(v, str) for v in labels.values()):
        result = as_labels(labels, "metadata.labels")
        assert result == labels and result is not labels  # a copy: the record owns it
    else:
        with pytest.raises(InvalidField) as err:
            as_labels(labels, "metadata.labels")
        assert err.value.hint is not None and "quote values" in err.value.hint


def test_mapping_keys_must_be_strings_and_required_means_present() -> None:
    assert as_mapping(None, "spec") == {}
    with pytest.raises(InvalidField, match="spec is required"):
        as_mapping(None, "spec", required=True)
    with pytest.raises(InvalidField, match="spec has a non-string key 1"):
        as_mapping({1: "a"}, "spec")
    with pytest.raises(InvalidField, match="spec must be a mapping, not a list"):
        as_mapping([], "spec")
    with pytest.raises(InvalidField, match="name must not be empty"):
        as_str("", "name", required=True)


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ({"key": "a", "operator": "In", "values": []}, "values must be non-empty for operator In"),
        ({"key": "a", "operator": "Exists", "values": ["x"]}, "values must be empty for operator Exists"),
        ({"key": "a", "operator": "Equals", "values": ["x"]}, "operator must be one of In, NotIn, Exists, DoesNotExist"),
        ({"operator": "Exists"}, "matchExpressions[0].key is required"),
    ],
)
def test_selector_expressions(expression: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidField) as err:
        as_selector({"matchExpressions": [expression]}, "spec.podSelector")
    assert str(err.value).startswith("spec.podSelector.matchExpressions[0].") and error in str(err.value)


def test_selector_keeps_only_its_two_fields_and_null_values_list() -> None:
    got = as_selector({"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "k", "operator": "Exists"}], "x": 1}, "s")
    assert got == {"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "k", "operator": "Exists", "values": []}]}
    assert as_selector(None, "s") == {}


@pytest.mark.parametrize("text", ["10.0.0.0/8", "10.1.2.3/8", "fd00::/8"])
def test_cidr_accepted(text: str) -> None:
    assert as_cidr(text, "c") == text


@pytest.mark.parametrize("text", ["10.0.0.1", "10.0.0.0/33", "example.com/8", ""])
def test_cidr_refused(text: str) -> None:
    with pytest.raises(InvalidField):
        as_cidr(text, "c")


@given(st.text(max_size=600))
def test_one_line_is_one_line_and_bounded(text: str) -> None:
    out = one_line(text)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert len(out) <= 400
