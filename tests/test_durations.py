"""Spans of time as silences, maintenance windows and reminders read them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import InvalidInput
from agent.ops.durations import MAX_SECONDS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("45", 45)],
)
def test_written_spans_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@given(st.integers(min_value=0, max_value=int(MAX_SECONDS)))
def test_what_is_printed_reads_back_the_same(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.text(max_size=12))
def test_anything_else_is_one_named_error_or_a_bounded_span(text: str) -> None:
    try:
        seconds = parse_duration(text, "--for")
    except InvalidInput as exc:
        assert "--for" in str(exc) and "\n" not in str(exc)
    else:
        assert 0 <= seconds <= MAX_SECONDS
