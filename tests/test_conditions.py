"""The condition language: grammar, error positions, round trips and evaluation."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.ops.conditions import (
    KNOWN_FIELDS,
    Condition,
    ConditionError,
    format_value,
    parse,
    parse_all,
)


@pytest.mark.parametrize(
    ("text", "field", "op", "value"),
    [
        ("status == 200", "status", "==", 200),
        ("latency_ms < 300", "latency_ms", "<", 300),
        ("latency_ms<=299.5", "latency_ms", "<=", 299.5),
        ('body contains "ok"', "body", "contains", "ok"),
        ('body not contains "error"', "body", "not contains", "error"),
        ('json.status == "UP"', "json.status", "==", "UP"),
        ("json.items.0.count >= 1", "json.items.0.count", ">=", 1),
        ("cert_days > 14", "cert_days", ">", 14),
        ("connected == true", "connected", "==", True),
        ("resolved != false", "resolved", "!=", False),
        ('addresses contains "127.0.0.1"', "addresses", "contains", "127.0.0.1"),
        ("json.error == null", "json.error", "==", None),
        ("cert_days > -1.5e1", "cert_days", ">", -15.0),
        ('  body   contains   "say \\"hi\\" \\\\ bye"  ', "body", "contains", 'say "hi" \\ bye'),
        ('json.a-b.c_d == ""', "json.a-b.c_d", "==", ""),
    ],
)
def test_documented_grammar_is_accepted(text: str, field: str, op: str, value: object) -> None:
    condition = parse(text)
    assert (condition.field, condition.op, condition.value) == (field, op, value)
    assert type(condition.value) is type(value)
    assert condition.source == text


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("status ==", 9, "expected a value after '=='"),
        ("== 200", 0, "expected a field name"),
        ("status === 200", 7, "unknown operator '==='"),
        ("body contains ok", 14, "double-quoted string"),
        ('"unterminated', 0, "expected a field name"),
        ('body contains "unterminated', 14, "unterminated string"),
        ("latency_ms < 3OO", 13, "'3OO' is not a number"),
        ("unknown_field == 1", 0, "unknown field 'unknown_field'; known fields: status"),
        ("", 0, "empty condition"),
        ("   ", 3, "empty condition"),
        ("status 200", 7, "expected an operator"),
        ("status == 200 and", 14, "unexpected 'and'"),
        ("status.code == 200", 6, "only json fields take a path"),
        ("json. == 1", 5, "expected a key or list index"),
        ("connected == yes", 13, "expected a value"),
        ('body not "x"', 9, "expected 'contains' after 'not'"),
        ('body contains "a\\n"', 16, "unknown escape"),
        ("latency_ms < 1e999", 13, "out of range"),
    ],
)
def test_malformed_conditions_point_at_the_problem(text: str, position: int, words: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text)
    error = info.value
    assert error.position == position
    assert error.text == text
    assert words in str(error)
    assert str(error).startswith(f"position {position}: ")
    line, caret = error.caret().split("\n")
    assert caret == " " * position + "^"
    assert len(line) == len(text)


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(ConditionError) as info:
        parse("unknown_field == 1")
    assert all(name in str(info.value) for name in KNOWN_FIELDS)


def test_parse_all_names_the_bad_condition() -> None:
    assert [c.field for c in parse_all(["status == 200", "latency_ms < 5"])] == [
        "status",
        "latency_ms",
    ]
    with pytest.raises(ConditionError) as info:
        parse_all(["status == 200", "body contains 1", "status <= 2x"])
    assert str(info.value).startswith("condition 2: position 14: ")
    assert info.value.index == 1


def test_a_very_long_number_is_a_condition_error() -> None:
    with pytest.raises(ConditionError, match="too long"):
        parse("status == " + "9" * 10_000)


@given(st.text())
def test_parse_raises_only_condition_error(text: str) -> None:
    try:
        condition = parse(text)
    except ConditionError as error:
        assert 0 <= error.position <= len(text)
        assert error.caret().count("\n") == 1
    else:
        assert condition.field.split(".")[0] in KNOWN_FIELDS


@given(st.text(alphabet=st.sampled_from(list('status=<>!"\\ json.0contains1-true'))))
def test_parse_raises_only_condition_error_on_near_misses(text: str) -> None:
    with contextlib.suppress(ConditionError):
        parse(text)


_segments = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)
_fields = st.one_of(
    st.sampled_from([f for f in KNOWN_FIELDS if f != "json"]),
    st.lists(_segments, max_size=4).map(lambda parts: ".".join(["json", *parts])),
)
_scalars = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.booleans(),
    st.none(),
)


@given(_fields, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _scalars)
def test_comparisons_round_trip(field: str, op: str, value: Any) -> None:
    original = Condition(source="", field=field, op=op, value=value)
    parsed = parse(str(original))
    assert (parsed.field, parsed.op) == (field, op)
    assert type(parsed.value) is type(value)
    assert parsed.value == value  # repr() of a float reads back exactly


@given(_fields, st.sampled_from(["contains", "not contains"]), st.text())
def test_contains_round_trips(field: str, op: str, value: str) -> None:
    parsed = parse(f"{field} {op} {format_value(value)}")
    assert (parsed.field, parsed.op, parsed.value) == (field, op, value)


FIELDS: dict[str, object] = {
    "status": 200,
    "latency_ms": 123.4,
    "body": 'all "ok" here',
    "connected": True,
    "addresses": ["127.0.0.1", "::1"],
    "json": {"status": "UP", "items": [{"name": "a", "n": 1}, {"name": "b", "n": 2.5}], "x": None},
}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("status == 200", True),
        ("status == 200.0", True),
        ("status != 200", False),
        ("status != 201", True),
        ("status < 400", True),
        ("status < 200", False),
        ("status <= 200", True),
        ("status > 199.5", True),
        ("status >= 201", False),
        ("latency_ms < 300", True),
        ("latency_ms > 123.5", False),
        ('body contains "\\"ok\\""', True),
        ('body contains "error"', False),
        ('body not contains "error"', True),
        ('body not contains "ok"', False),
        ("connected == true", True),
        ("connected == false", False),
        ('addresses contains "::1"', True),
        ('addresses contains "127.0.0.1,::1"', True),
        ('addresses not contains "10.0.0.1"', True),
        ('json.status == "UP"', True),
        ('json.status != "UP"', False),
        ('json.items.1.name == "b"', True),
        ("json.items.1.n > 2", True),
        ("json.items.0.n == 1", True),
        ("json.x == null", True),
        ('json contains "items"', True),
        ('json.items contains "zzz"', False),
    ],
)
def test_evaluation(text: str, ok: bool) -> None:
    result = parse(text).evaluate(FIELDS)
    assert result.ok is ok, result.detail
    assert result.condition == str(parse(text))
    assert result.detail


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("cert_days > 14", "cert_days is missing"),
        ("json.nope == 1", "no such key"),
        ("json.items.9.name == 1", "no such key or index"),
        ("json.status.deeper == 1", "json.status.deeper is missing"),
    ],
)
def test_missing_fields_fail_with_a_reason(text: str, detail: str) -> None:
    result = parse(text).evaluate(FIELDS)
    assert result.ok is False
    assert result.actual is None
    assert result.missing is True
    assert detail in result.detail


def test_json_fields_without_a_json_body_are_missing() -> None:
    result = parse('json.status == "UP"').evaluate({"status": 200, "body": "plain"})
    assert (result.ok, result.missing) == (False, True)
    assert "no JSON body" in result.detail


@pytest.mark.parametrize(
    ("text", "fields", "ok", "detail"),
    [
        ("json.v < 3", {"json": {"v": "abc"}}, False, "cannot order a string"),
        ("status > true", {"status": 200}, False, "cannot order a number"),
        ('status == "200"', {"status": 200}, False, "a number 200 vs a string"),
        ('status != "200"', {"status": 200}, True, "vs a string"),
        ("connected == 1", {"connected": True}, False, "a boolean true vs a number"),
        ('status contains "2"', {"status": 200}, False, "cannot contain text"),
        ("json.v >= 0", {"json": {"v": None}}, False, "cannot order null"),
    ],
)
def test_type_mismatches_are_unmet_not_errors(
    text: str, fields: dict[str, object], ok: bool, detail: str
) -> None:
    result = parse(text).evaluate(fields)
    assert result.ok is ok
    assert detail in result.detail
    assert result.missing is False


def test_failed_comparison_says_what_was_wanted() -> None:
    result = parse("status < 400").evaluate({"status": 503})
    assert (result.ok, result.actual) == (False, 503)
    assert result.detail == "status is 503, wanted < 400"


def test_huge_json_integers_compare_exactly() -> None:
    assert parse("json.n > 3").evaluate({"json": {"n": 10**400}}).ok


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.sampled_from(KNOWN_FIELDS),
        st.recursive(
            _scalars,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=6,
        ),
    ),
    _fields,
    st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "contains", "not contains"]),
    _scalars,
)
def test_evaluate_never_raises(
    fields: dict[str, object], field: str, op: str, value: object
) -> None:
    if op.endswith("contains"):
        value = str(value)
    result = Condition(source="", field=field, op=op, value=value).evaluate(fields)
    assert isinstance(result.ok, bool)
