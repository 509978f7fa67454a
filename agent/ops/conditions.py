"""A small condition language for check results, in the style of Gatus, parsed without `eval`.

A condition compares one field of a check result with a literal::

    condition := FIELD OP VALUE
               | FIELD "contains" STRING
               | FIELD "not" "contains" STRING
    OP        := "==" | "!=" | "<" | "<=" | ">" | ">="
    FIELD     := NAME | "json" ("." SEGMENT)*     NAME in KNOWN_FIELDS
    SEGMENT   := [A-Za-z0-9_-]+                   an integer segment indexes a list
    VALUE     := NUMBER | STRING | "true" | "false" | "null"
    NUMBER    := -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)?
    STRING    := '"' ... '"'                      with \\" and \\\\ as the only escapes

Whitespace between tokens is free. Examples::

    status == 200
    latency_ms < 300
    body contains "ok"
    body not contains "error"
    json.status == "UP"
    json.items.0.name != "broken"
    cert_days > 14
    connected == true
    addresses contains "127.0.0.1"

Semantics, chosen so a misconfigured condition fails visibly rather than raising:

- Numbers compare numerically (an int and a float are both numbers); booleans are not numbers.
- `==` / `!=` are typed: `200 == "200"` is false, because a number and a string are never equal.
- `< <= > >=` need two numbers or two strings; anything else (`"abc" < 3`) is not ok, with a
  `detail` saying why.
- `contains` looks for a substring in a string, in a list joined with commas, or for a key in a
  JSON object.
- A missing field (no JSON body, no such key, list index out of range) is not ok.

`parse` raises only `ConditionError` (a `ValueError`), whatever the input; errors carry the
0-based position of the problem so a shell can point at it (`ConditionError.caret`).
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KNOWN_FIELDS",
    "OPERATORS",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "format_value",
    "parse",
    "parse_all",
]

#: Top-level fields the built-in checks produce; only `json` takes a dotted path.
KNOWN_FIELDS: tuple[str, ...] = (
    "status",
    "latency_ms",
    "body",
    "json",
    "cert_days",
    "cert_subject",
    "cert_issuer",
    "connected",
    "resolved",
    "addresses",
)
COMPARISONS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=")
OPERATORS: tuple[str, ...] = (*COMPARISONS, "contains", "not contains")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INTEGER = re.compile(r"[0-9]+", re.ASCII)
_OP_CHARS = frozenset("=!<>")
_MISSING = object()
_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ConditionError(ValueError):
    """A condition that cannot be parsed; `position` is the 0-based index of the problem."""

    def __init__(self, message: str, position: int, text: str, *, index: int | None = None) -> None:
        self.message = message
        self.position = position
        self.text = text
        #: Which condition of a list (0-based), when raised by `parse_all`.
        self.index = index
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"position {self.position}: {self.message}"
        return where if self.index is None else f"condition {self.index + 1}: {where}"

    def caret(self) -> str:
        """The text and, under it, a `^` at the position (control characters shown as spaces)."""
        line = "".join(" " if c.isspace() else c for c in self.text)
        return f"{line}\n{' ' * self.position}^"


@dataclass(frozen=True)
class ConditionResult:
    """One condition against one set of fields: `actual` is None when the field is missing
    (and `missing` tells that apart from a present JSON null)."""

    condition: str
    ok: bool
    actual: object
    detail: str = ""
    missing: bool = False


@dataclass(frozen=True)
class Condition:
    source: str
    field: str
    op: str
    value: object

    def __str__(self) -> str:
        """The canonical spelling; `parse(str(c))` has the same field, op and value."""
        return f"{self.field} {self.op} {format_value(self.value)}"

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))

    def evaluate(self, fields: Mapping[str, object]) -> ConditionResult:
        """Compare; never raises for any field values, a mismatch is an unmet condition."""
        actual = _lookup(fields, self.field)
        if actual is _MISSING:
            reason = _missing_reason(fields, self)
            return ConditionResult(
                str(self), False, None, f"{self.field} is missing; {reason}", True
            )
        ok, why = _compare(actual, self.op, self.value)
        detail = f"{self.field} is {format_value(actual, limit=80)}"
        if why:
            detail = why
        elif not ok:
            detail += f", wanted {self.op} {format_value(self.value, limit=80)}"
        return ConditionResult(str(self), ok, actual, detail)


def parse(text: str) -> Condition:
    """Parse one condition; raises `ConditionError` (and nothing else) when it is malformed."""
    return _Parser(text).condition()


def parse_all(texts: Sequence[str]) -> list[Condition]:
    """Parse several; an error names the (0-based) index: `condition 2: position 7: ...`."""
    parsed: list[Condition] = []
    for index, text in enumerate(texts):
        try:
            parsed.append(parse(text))
        except ConditionError as exc:
            raise ConditionError(exc.message, exc.position, exc.text, index=index) from None
    return parsed


def format_value(value: object, *, limit: int | None = None) -> str:
    """A value as the condition language writes it (`"x"`, `3`, `true`, `null`)."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # beyond sys.get_int_max_str_digits
            text = "<an integer too long to show>"
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else str(value)
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, list | tuple | Mapping):
        try:
            text = json.dumps(value, ensure_ascii=False, default=repr)
        except (ValueError, RecursionError):
            text = f"<{_kind(value)}>"
    else:
        text = repr(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class _Parser:
    """A hand-written scanner over the text; `pos` only moves forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> ConditionError:
        return ConditionError(message, self.pos if position is None else position, self.text)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def word(self) -> str:
        """The run of non-space characters at `pos`, for error messages."""
        end = self.pos
        while end < len(self.text) and not self.text[end].isspace():
            end += 1
        return self.text[self.pos : end][:40]

    def condition(self) -> Condition:
        self.skip_space()
        if self.at_end():
            raise self.fail("empty condition; expected e.g. 'status == 200'")
        field = self.field()
        self.skip_space()
        op = self.operator()
        self.skip_space()
        value = self.value(op)
        self.skip_space()
        if not self.at_end():
            raise self.fail(f"unexpected {self.word()!r} after the value")
        return Condition(self.text, field, op, value)

    def field(self) -> str:
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.fail(f"expected a field name, got {self.word()!r}")
        name = match.group()
        if name not in KNOWN_FIELDS:
            raise self.fail(f"unknown field {name!r}; known fields: {', '.join(KNOWN_FIELDS)}")
        self.pos = match.end()
        segments = [name]
        while self.pos < len(self.text) and self.text[self.pos] == ".":
            if name != "json":
                raise self.fail(f"only json fields take a path, {name!r} does not")
            self.pos += 1
            segment = _SEGMENT.match(self.text, self.pos)
            if segment is None:
                raise self.fail("expected a key or list index after '.'")
            segments.append(segment.group())
            self.pos = segment.end()
        return ".".join(segments)

    def operator(self) -> str:
        start = self.pos
        if self.at_end():
            raise self.fail("expected an operator (== != < <= > >= contains, not contains)")
        if self.text[start] in _OP_CHARS:
            end = start
            while end < len(self.text) and self.text[end] in _OP_CHARS:
                end += 1
            op = self.text[start:end]
            if op not in COMPARISONS:
                raise self.fail(f"unknown operator {op!r}; expected one of {' '.join(COMPARISONS)}")
            self.pos = end
            return op
        match = _NAME.match(self.text, start)
        if match is not None and match.group() == "contains":
            self.pos = match.end()
            return "contains"
        if match is not None and match.group() == "not":
            self.pos = match.end()
            self.skip_space()
            follow = _NAME.match(self.text, self.pos)
            if self.pos == match.end() or follow is None or follow.group() != "contains":
                raise self.fail("expected 'contains' after 'not'")
            self.pos = follow.end()
            return "not contains"
        raise self.fail(
            f"expected an operator (== != < <= > >= contains, not contains), got {self.word()!r}"
        )

    def value(self, op: str) -> object:
        if self.at_end():
            raise self.fail(f"expected a value after {op!r}")
        if op in ("contains", "not contains"):
            if self.text[self.pos] != '"':
                raise self.fail(
                    f"expected a double-quoted string after {op!r}, got {self.word()!r}"
                )
            return self.string()
        char = self.text[self.pos]
        if char == '"':
            return self.string()
        if char == "-" or "0" <= char <= "9":
            return self.number()
        name = _NAME.match(self.text, self.pos)
        literals: dict[str, object] = {"true": True, "false": False, "null": None}
        if name is not None and name.group() in literals and self._ends_token(name.end()):
            self.pos = name.end()
            return literals[name.group()]
        raise self.fail(
            f'expected a value (a number, a "string", true, false or null), got {self.word()!r}'
        )

    def _ends_token(self, end: int) -> bool:
        return end >= len(self.text) or self.text[end].isspace()

    def number(self) -> int | float:
        start = self.pos
        match = _NUMBER.match(self.text, start)
        if match is None or not self._ends_token(match.end()):
            raise self.fail(f"{self.word()!r} is not a number")
        literal = match.group()
        try:
            if _INTEGER.fullmatch(literal.lstrip("-")):
                number: int | float = int(literal)
            else:
                number = float(literal)
        except ValueError:  # more digits than int() accepts (sys.get_int_max_str_digits)
            raise self.fail("number too long") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise self.fail(f"number {literal!r} is out of range")
        self.pos = match.end()
        return number

    def string(self) -> str:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in ('"', "\\"):
                    raise self.fail('unknown escape; only \\" and \\\\ are allowed')
                chars.append(escaped)
                self.pos += 2
                continue
            chars.append(char)
            self.pos += 1
        raise self.fail("unterminated string", start)


def _lookup(fields: Mapping[str, object], field: str) -> object:
    """The value at a field path, or `_MISSING`; an exact key wins over walking the path."""
    if field in fields:
        return fields[field]
    head, *rest = field.split(".")
    if head not in fields:
        return _MISSING
    value = fields[head]
    for segment in rest:
        if isinstance(value, Mapping):
            if segment not in value:
                return _MISSING
            value = value[segment]
        elif isinstance(value, list | tuple) and _INTEGER.fullmatch(segment):
            index = int(segment)
            if index >= len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def _missing_reason(fields: Mapping[str, object], condition: Condition) -> str:
    head = condition.path[0]
    if head not in fields:
        return "no JSON body" if head == "json" else "the check did not report it"
    return "no such key or index in the JSON body"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _compare(actual: object, op: str, expected: object) -> tuple[bool, str]:
    """(ok, why); `why` is empty when the plain "field is X" says enough."""
    if op in ("contains", "not contains"):
        return _contains(actual, op, expected)
    if op in ("==", "!="):
        same_kind = (_is_number(actual) and _is_number(expected)) or _kind(actual) == _kind(
            expected
        )
        equal = same_kind and actual == expected
        ok = equal if op == "==" else not equal
        if not same_kind:
            return ok, f"{_kind(actual)} {format_value(actual, limit=40)} vs {_kind(expected)}"
        return ok, ""
    comparable = (_is_number(actual) and _is_number(expected)) or (
        isinstance(actual, str) and isinstance(expected, str)
    )
    if not comparable:
        shown = format_value(actual, limit=40)
        return False, f"cannot order {_kind(actual)} {shown} against {_kind(expected)}"
    # int and float compare exactly in Python, with no overflow for huge JSON integers.
    return bool(_ORDER[op](actual, expected)), ""


def _contains(actual: object, op: str, needle: object) -> tuple[bool, str]:
    if isinstance(actual, str):
        found = str(needle) in actual
    elif isinstance(actual, list | tuple):
        found = str(needle) in ",".join(
            item if isinstance(item, str) else format_value(item) for item in actual
        )
    elif isinstance(actual, Mapping):
        found = needle in actual
    else:
        return False, f"{_kind(actual)} {format_value(actual, limit=40)} cannot contain text"
    return (found if op == "contains" else not found), ""
