"""The field checks every decoder shares: a value read from an API object as the type the API declares, or InvalidField.

Each ``as_*`` takes the raw value and its dotted field path (``spec.ports[0].port``), which the error names; the object
is then left out, as the API server would refuse to store it. The checks return plain data, never a record.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..output.text import escape

__all__ = [
    "QUOTE_HINT",
    "InvalidField",
    "ObjectRef",
    "one_line",
    "type_name",
    "as_mapping",
    "as_list",
    "as_mappings",
    "as_str",
    "as_required_str",
    "as_str_list",
    "as_bool",
    "as_int",
    "as_port",
    "as_protocol",
    "as_port_or_name",
    "as_labels",
    "as_selector",
    "as_cidr",
]

QUOTE_HINT = "quote values such as 1, 1.0, true, yes, on or dates in YAML: the API wants strings there"
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class InvalidField(Exception):
    """A malformed field; the object is rejected (an InvalidObject) with the document's location and what could be read
    of its kind, namespace and name."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.kind = ""
        self.namespace: str | None = None
        self.name: str | None = None


def one_line(text: str, limit: int = 400) -> str:
    """Errors are one line: control characters from names or keys are escaped, very long values cut."""
    text = escape(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def as_mapping(value: Any, path: str, required: bool = False) -> dict[str, Any]:
    """A mapping with string keys; null/absent gives {} unless required."""
    if value is None:
        if required:
            raise InvalidField(f"{path} is required")
        return {}
    if not isinstance(value, dict):
        raise InvalidField(f"{path} must be a mapping, not {type_name(value)}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidField(f"{path} has a non-string key {key!r}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidField(f"{path} must be a list, not {type_name(value)}")
    return value


def as_mappings(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each entry of a list of objects (containers, ports, rules...) with its own field path ``path[i]``; null/absent is
    an empty list, an entry that is not a mapping an InvalidField."""
    for i, item in enumerate(as_list(value, path)):
        item_path = f"{path}[{i}]"
        yield item_path, as_mapping(item, item_path, required=True)


def as_str(value: Any, path: str, required: bool = False, default: str | None = None) -> str | None:
    if value is None:
        if required:
            raise InvalidField(f"{path} is required")
        return default
    if not isinstance(value, str):
        raise InvalidField(f"{path} must be a string, not {type_name(value)}")
    if required and not value:
        raise InvalidField(f"{path} must not be empty")
    return value


def as_required_str(value: Any, path: str) -> str:
    result = as_str(value, path, required=True)
    assert result is not None
    return result


def as_str_list(value: Any, path: str) -> tuple[str, ...]:
    items = as_list(value, path)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidField(f"{path}[{i}] must be a string, not {type_name(item)}")
    return tuple(items)


def as_bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidField(f"{path} must be true or false, not {type_name(value)}")
    return value


def as_int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(f"{path} must be a number, not {type_name(value)}")
    if not low <= value <= high:
        raise InvalidField(f"{path} must be between {low} and {high}, not {value}")
    return value


def as_port(value: Any, path: str) -> int:
    return as_int(value, path, 1, 65535)


def as_protocol(value: Any, path: str) -> str:
    proto = as_str(value, path, default="TCP")
    if proto not in _PROTOCOLS:
        raise InvalidField(f"{path} must be one of TCP, UDP, SCTP, not {proto!r}")
    return proto


def as_port_or_name(value: Any, path: str) -> int | str:
    """IntOrString port: a number 1-65535 or a port name (IANA_SVC_NAME: has a letter)."""
    if isinstance(value, str):
        if not value or not any(c.isalpha() for c in value):
            raise InvalidField(f"{path} must be a port number or a port name, not {value!r}")
        return value
    return as_port(value, path)


def as_labels(value: Any, path: str) -> dict[str, str]:
    labels = as_mapping(value, path)
    for key, val in labels.items():
        if not isinstance(val, str):
            raise InvalidField(f"{path}.{key} must be a string, not {type_name(val)}", hint=QUOTE_HINT)
    return dict(labels)


def as_selector(value: Any, path: str) -> dict[str, Any]:
    """A metav1.LabelSelector, returned with only matchLabels / matchExpressions (present keys kept)."""
    sel = as_mapping(value, path)
    out: dict[str, Any] = {}
    if sel.get("matchLabels") is not None:
        out["matchLabels"] = as_labels(sel["matchLabels"], path + ".matchLabels")
    if sel.get("matchExpressions") is not None:
        exprs = []
        for i, expr in enumerate(as_list(sel["matchExpressions"], path + ".matchExpressions")):
            epath = f"{path}.matchExpressions[{i}]"
            expr = as_mapping(expr, epath, required=True)
            key = as_required_str(expr.get("key"), epath + ".key")
            op = as_required_str(expr.get("operator"), epath + ".operator")
            if op not in _SELECTOR_OPERATORS:
                raise InvalidField(f"{epath}.operator must be one of In, NotIn, Exists, DoesNotExist, not {op!r}")
            values = as_str_list(expr.get("values"), epath + ".values")
            # LabelSelectorRequirement: "If the operator is In or NotIn, the values array must be non-empty.
            # If the operator is Exists or DoesNotExist, the values array must be empty." (metav1 API reference)
            if op in ("In", "NotIn") and not values:
                raise InvalidField(f"{epath}.values must be non-empty for operator {op}")
            if op in ("Exists", "DoesNotExist") and values:
                raise InvalidField(f"{epath}.values must be empty for operator {op}")
            exprs.append({"key": key, "operator": op, "values": list(values)})
        out["matchExpressions"] = exprs
    return out


def as_cidr(value: Any, path: str) -> str:
    text = as_required_str(value, path)
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidField(f"{path} must be a CIDR such as 10.0.0.0/8, not {text!r}") from exc
    if "/" not in text:
        raise InvalidField(f"{path} must be a CIDR with a prefix length such as 10.0.0.0/8, not {text!r}")
    return text


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """What every object has, read before its kind's decoder runs: the decoders build records from it and the spec."""

    kind: str
    name: str
    namespace: str | None  # None for cluster-scoped kinds
    labels: dict[str, str]  # metadata.labels, checked; a decoder may own it (the record keeps it)
    where: str  # "FILE document N" or "live pods": the record's source
