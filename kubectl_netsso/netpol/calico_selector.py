"""Calico's selector language: parse once into a small AST, evaluate on label maps or as bitsets over a label index.

Grammar and semantics as Calico's own parser (libcalico-go lib/selector: tokenizer.go, parser.go, ast.go): ``all()``,
``global()``, ``has(k)``, ``k == 'v'``, ``k != 'v'`` (also true when k is absent), ``k in {'a', 'b'}``, ``k not in {...}``
(true when absent), ``k contains / starts with / ends with 's'`` (only when present), ``!`` (binds tightest: ``!a == 'x'``
is ``!(a == 'x')``), ``&&`` before ``||``, parentheses, strings in single or double quotes; the empty selector is
``all()``. Pure stdlib: the manifests decoder validates with it, the engines evaluate with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# "LabelKeyMatcher = `[a-zA-Z0-9_./-]{1,512}`" (tokenizer.go)
_IDENT = re.compile(r"[a-zA-Z0-9_./-]{1,512}")
_WS = " \t"
MAX_SELECTOR = 4096  # longer input is refused (hostile manifests): Calico selectors are short


class CalicoSelectorError(ValueError):
    """A selector Calico's parser rejects."""


# --- AST --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class All:
    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def text(self) -> str:
        return "all()"


@dataclass(frozen=True, slots=True)
class Global:
    """``global()``: "can be used (only) in a namespaceSelector to change the scope of the main selector to include
    non-namespaced resources" (Calico docs, selector scopes); elsewhere it matches like all() (ast.go GlobalNode)."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def text(self) -> str:
        return "global()"


@dataclass(frozen=True, slots=True)
class Has:
    key: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.key in labels

    def text(self) -> str:
        return f"has({self.key})"


@dataclass(frozen=True, slots=True)
class Compare:
    """key OP value: op is one of ==, !=, contains, starts with, ends with."""

    key: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.key)
        if self.op == "!=":
            return v is None or v != self.value  # LabelNeValueNode: absent matches
        if v is None:
            return False
        if self.op == "==":
            return v == self.value
        if self.op == "contains":
            return self.value in v
        if self.op == "starts with":
            return v.startswith(self.value)
        return v.endswith(self.value)

    def value_test(self) -> Callable[[str], bool]:
        """The test on a present value (for index evaluation)."""
        val = self.value
        if self.op in ("==", "!="):
            return lambda v: v == val
        if self.op == "contains":
            return lambda v: val in v
        if self.op == "starts with":
            return lambda v: v.startswith(val)
        return lambda v: v.endswith(val)

    def text(self) -> str:
        return f"{self.key} {self.op} {_quote(self.value)}"


@dataclass(frozen=True, slots=True)
class InSet:
    key: str
    values: frozenset[str]
    negated: bool = False  # "not in": true when the key is absent (LabelNotInSetNode)

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.key)
        if v is None:
            return self.negated
        return (v in self.values) != self.negated

    def text(self) -> str:
        inner = ", ".join(_quote(v) for v in sorted(self.values))
        return f"{self.key} {'not in' if self.negated else 'in'} {{{inner}}}"


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node

    def matches(self, labels: Mapping[str, str]) -> bool:
        return not self.operand.matches(labels)

    def text(self) -> str:
        inner = self.operand.text()
        return f"!{inner}" if isinstance(self.operand, (Has, All, Global, Not)) else f"!({inner})"


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(o.matches(labels) for o in self.operands)

    def text(self) -> str:
        return " && ".join(_paren(o, Or) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return any(o.matches(labels) for o in self.operands)

    def text(self) -> str:
        return " || ".join(o.text() for o in self.operands)


Node = All | Global | Has | Compare | InSet | Not | And | Or
ALL = All()


def _quote(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


def _paren(node: Node, kind: type) -> str:
    return f"({node.text()})" if isinstance(node, kind) else node.text()


def keys(node: Node) -> frozenset[str]:
    """Every label key the selector looks at."""
    if isinstance(node, (Has, Compare, InSet)):
        return frozenset({node.key})
    if isinstance(node, Not):
        return keys(node.operand)
    if isinstance(node, (And, Or)):
        out: frozenset[str] = frozenset()
        for o in node.operands:
            out |= keys(o)
        return out
    return frozenset()


def uses(node: Node, kind: type) -> bool:
    """Whether the selector contains a node of this type (e.g. Global)."""
    if isinstance(node, kind):
        return True
    if isinstance(node, Not):
        return uses(node.operand, kind)
    if isinstance(node, (And, Or)):
        return any(uses(o, kind) for o in node.operands)
    return False


# --- parser -----------------------------------------------------------------------------------------------------------


def _tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, value) tokens, as tokenizer.go: an operator word is only recognised right after a label."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            out.append(("eof", ""))
            return out
        c = text[i]
        last = out[-1][0] if out else ""
        if c in "(){},":
            out.append((c, c))
            i += 1
        elif c in "\"'":
            end = text.find(c, i + 1)
            if end == -1:
                raise CalicoSelectorError("unterminated string")
            out.append(("str", text[i + 1 : end]))
            i = end + 1
        elif c == "=":
            if text.startswith("==", i):
                out.append(("op", "=="))
                i += 2
            else:
                raise CalicoSelectorError("expected ==")
        elif c == "!":
            if text.startswith("!=", i):
                out.append(("op", "!="))
                i += 2
            else:
                out.append(("!", "!"))
                i += 1
        elif c == "&":
            if not text.startswith("&&", i):
                raise CalicoSelectorError("expected &&")
            out.append(("&&", "&&"))
            i += 2
        elif c == "|":
            if not text.startswith("||", i):
                raise CalicoSelectorError("expected ||")
            out.append(("||", "||"))
            i += 2
        elif last == "label":
            rest = text[i:]
            for word, kind in (("contains", "contains"), ("starts", "starts with"), ("ends", "ends with"), ("not", "not in")):
                if rest.startswith(word):
                    j = i + len(word)
                    if kind != word:  # a two-word operator: "starts with", "ends with", "not in"
                        while j < n and text[j] in _WS:
                            j += 1
                        second = kind.split(" ")[1]
                        if not text.startswith(second, j):
                            raise CalicoSelectorError(f"unexpected characters after label {out[-1][1]!r}, expected an operator")
                        j += len(second)
                    out.append(("op", kind))
                    i = j
                    break
            else:
                if rest.startswith("in"):
                    out.append(("op", "in"))
                    i += 2
                else:
                    raise CalicoSelectorError(f"unexpected characters after label {out[-1][1]!r}, expected an operator")
        elif text.startswith(("has(", "all(", "global("), i):
            word = text[i : text.index("(", i)]
            j = i + len(word) + 1
            while j < n and text[j] in _WS:
                j += 1
            key = ""
            if word == "has":
                m = _IDENT.match(text, j)
                if not m:
                    raise CalicoSelectorError("no label name in has( expression")
                key = m.group(0)
                j = m.end()
                while j < n and text[j] in _WS:
                    j += 1
            if j >= n or text[j] != ")":
                raise CalicoSelectorError(f"no closing ')' after {word}(")
            out.append((word, key))
            i = j + 1
        else:
            m = _IDENT.match(text, i)
            if not m:
                raise CalicoSelectorError("unexpected characters")
            out.append(("label", m.group(0)))
            i = m.end()


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.t = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> str:
        return self.t[self.i][0]

    def take(self) -> tuple[str, str]:
        tok = self.t[self.i]
        if tok[0] != "eof":
            self.i += 1
        return tok

    def or_expr(self) -> Node:
        nodes = [self.and_expr()]
        while self.peek() == "||":
            self.take()
            nodes.append(self.and_expr())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self) -> Node:
        nodes = [self.operation()]
        while self.peek() == "&&":
            self.take()
            nodes.append(self.operation())
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def operation(self) -> Node:
        # "collapse any leading "!" operators to a single boolean" (parser.go parseOperation)
        negated = False
        while self.peek() == "!":
            self.take()
            negated = not negated
        kind, value = self.take()
        node: Node
        if kind == "has":
            node = Has(value)
        elif kind == "all":
            node = ALL
        elif kind == "global":
            node = Global()
        elif kind == "label":
            op_kind, op = self.take()
            if op_kind != "op":
                raise CalicoSelectorError(f"expected an operator after label {value!r}")
            if op in ("in", "not in"):
                if self.take()[0] != "{":
                    raise CalicoSelectorError("expected set literal")
                values: list[str] = []
                while self.peek() == "str":
                    values.append(self.take()[1])
                    if self.peek() != ",":
                        break
                    self.take()
                if self.take()[0] != "}":
                    raise CalicoSelectorError("expected }")
                node = InSet(value, frozenset(values), negated=op == "not in")
            else:
                lit_kind, lit = self.take()
                if lit_kind != "str":
                    raise CalicoSelectorError("expected string")
                node = Compare(value, op, lit)
        elif kind == "(":
            self.depth += 1
            if self.depth > 64:
                raise CalicoSelectorError("selector nested too deeply")
            node = self.or_expr()
            self.depth -= 1
            if self.take()[0] != ")":
                raise CalicoSelectorError("expected )")
        elif kind == "eof":
            raise CalicoSelectorError("unexpected end of string looking for op")
        else:
            raise CalicoSelectorError(f"unexpected token {value!r}")
        return Not(node) if negated else node


def parse(text: str) -> Node:
    """Parse a Calico selector; "" (or blanks) is all(). Raises CalicoSelectorError as Calico's validator would."""
    if not isinstance(text, str):
        raise CalicoSelectorError("a selector must be a string")
    if len(text) > MAX_SELECTOR:
        raise CalicoSelectorError(f"selector longer than {MAX_SELECTOR} characters")
    tokens = _tokenize(text)
    if tokens[0][0] == "eof":
        return ALL
    p = _Parser(tokens)
    node = p.or_expr()
    if p.peek() != "eof":
        raise CalicoSelectorError(f"unexpected content at end of selector: {p.t[p.i][1]!r}")
    return node


# --- index evaluation -------------------------------------------------------------------------------------------------


@dataclass
class LabelIndex:
    """Labels of a set of objects as bitsets: (key, value) -> members, key -> {value: members}. ``universe`` is every
    member; ``flags`` names special members for all()/global() in a namespace selector (see bits())."""

    universe: int
    by_key: dict[str, dict[str, int]]

    def present(self, key: str) -> int:
        out = 0
        for m in self.by_key.get(key, {}).values():
            out |= m
        return out


def bits(node: Node, index: LabelIndex, *, all_bits: int | None = None, global_bits: int | None = None) -> int:
    """The members whose labels the selector matches. all()/global() match ``all_bits``/``global_bits`` when given
    (a namespace selector: "all() ... select all namespaces" -> namespaced objects, "global()" -> the non-namespaced
    ones, updateprocessors/rules.go), else every member."""
    u = index.universe
    if isinstance(node, All):
        return u if all_bits is None else all_bits
    if isinstance(node, Global):
        return u if global_bits is None else global_bits
    if isinstance(node, Has):
        return index.present(node.key)
    if isinstance(node, Compare):
        values = index.by_key.get(node.key, {})
        if node.op == "==":
            return values.get(node.value, 0)
        if node.op == "!=":
            return u & ~values.get(node.value, 0)
        test = node.value_test()
        out = 0
        for v, m in values.items():
            if test(v):
                out |= m
        return out
    if isinstance(node, InSet):
        values = index.by_key.get(node.key, {})
        hit = 0
        for v in node.values:
            hit |= values.get(v, 0)
        return u & ~hit if node.negated else hit
    if isinstance(node, Not):
        return u & ~bits(node.operand, index, all_bits=all_bits, global_bits=global_bits)
    if isinstance(node, And):
        out = u
        for o in node.operands:
            out &= bits(o, index, all_bits=all_bits, global_bits=global_bits)
            if not out:
                break
        return out
    out = 0
    for o in node.operands:
        out |= bits(o, index, all_bits=all_bits, global_bits=global_bits)
    return out


def ns_matches(node: Node, labels: Mapping[str, str], namespaced: bool) -> bool:
    """A rule's namespaceSelector against an object's namespace: all() means "in some namespace", global() "not in a
    namespace" (updateprocessors/rules.go replaces them with has(/!has(projectcalico.org/namespace)); a global object
    has no namespace labels."""
    if isinstance(node, All):
        return namespaced
    if isinstance(node, Global):
        return not namespaced
    if isinstance(node, Not):
        return not ns_matches(node.operand, labels, namespaced)
    if isinstance(node, And):
        return all(ns_matches(o, labels, namespaced) for o in node.operands)
    if isinstance(node, Or):
        return any(ns_matches(o, labels, namespaced) for o in node.operands)
    return node.matches(labels if namespaced else {})
