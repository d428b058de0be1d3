"""Label selectors (metav1.LabelSelector): null vs empty, matchLabels AND matchExpressions (In/NotIn/Exists/DoesNotExist).

"A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are
ANDed. An empty label selector matches all objects. A null label selector matches no objects."
-- k8s.io/apimachinery/pkg/apis/meta/v1 types.go, LabelSelector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """A selector the API server would reject (bad operator, values with Exists, ...)."""


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        # "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and
        # DoesNotExist." NotIn and DoesNotExist also match objects without the key (labels.Requirement.Matches).
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist

    def describe(self) -> str:
        if self.operator == "In":
            if len(self.values) == 1:
                return f"{self.key}={self.values[0]}"
            return f"{self.key} in ({','.join(self.values)})"
        if self.operator == "NotIn":
            if len(self.values) == 1:
                return f"{self.key}!={self.values[0]}"
            return f"{self.key} notin ({','.join(self.values)})"
        if self.operator == "Exists":
            return self.key
        return f"!{self.key}"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed, non-null selector; matchLabels are kept as In requirements with one value (same semantics)."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Empty selector: "matches all objects"."""
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def mismatches(self, labels: Mapping[str, str]) -> tuple[Requirement, ...]:
        """The requirements these labels fail (empty when the selector matches)."""
        return tuple(r for r in self.requirements if not r.matches(labels))

    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.requirements)

    def describe(self) -> str:
        """kubectl -l style text; the empty selector is "(all)"."""
        return ",".join(r.describe() for r in self.requirements) if self.requirements else "(all)"


EMPTY = LabelSelector()


def parse_selector(obj: Any) -> LabelSelector | None:
    """Parse a metav1.LabelSelector dict; None (absent/null) stays None, ``{}`` is the empty selector.

    Raises SelectorError for what the API server rejects, so compile can report it and fail closed.
    """
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise SelectorError(f"label selector must be a mapping, not {type(obj).__name__}")
    reqs: list[Requirement] = []
    match_labels = obj.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError("matchLabels must be a mapping of key: value")
    for key, value in match_labels.items():
        # "matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to
        # an element of matchExpressions, whose key field is "key", the operator is "In", and the values array
        # contains only "value"."
        reqs.append(Requirement(str(key), "In", (_label_value(value),)))
    exprs = obj.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise SelectorError("matchExpressions must be a list")
    for expr in exprs:
        if not isinstance(expr, Mapping):
            raise SelectorError("each matchExpressions entry must be a mapping")
        key = expr.get("key")
        op = expr.get("operator")
        values = expr.get("values") or []
        if not isinstance(key, str) or not key:
            raise SelectorError("matchExpressions entry without key")
        if op not in OPERATORS:
            raise SelectorError(f"matchExpressions operator {op!r} for key {key!r}: must be one of {', '.join(OPERATORS)}")
        if not isinstance(values, list):
            raise SelectorError(f"matchExpressions values for key {key!r} must be a list")
        # "If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or
        # DoesNotExist, the values array must be empty." (LabelSelectorRequirement.values)
        if op in ("In", "NotIn") and not values:
            raise SelectorError(f"matchExpressions {key} {op}: values must be non-empty")
        if op in ("Exists", "DoesNotExist") and values:
            raise SelectorError(f"matchExpressions {key} {op}: values must be empty")
        reqs.append(Requirement(key, str(op), tuple(sorted({_label_value(v) for v in values}))))
    return LabelSelector(tuple(reqs))


def _label_value(value: Any) -> str:
    # YAML turns `true`/`1` into bool/int; the API keeps label values as strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """Null matches nothing, empty matches everything."""
    return selector is not None and selector.matches(labels)


def describe_labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "(no labels)"
