"""Silences and maintenance windows as definitions, and whether one covers a target at a time.

A *silence* is one-off: targets (names or globs such as `db-*` or `*`) are in maintenance from
`starts_at` to `ends_at`. A *maintenance window* recurs: from each time its `cron` expression
fires, for `duration`. Cron expressions are read in UTC, so a window means the same on every
host whatever its local zone (`0 2 * * *` is 02:00 UTC). Both are pure values here; the service
that stores them and answers "is this target silenced now?" is agent/ops/silences.py.

`[[silence]]` and `[[maintenance]]` in the ops document are these specs (`extra="forbid"`,
matched by `name`).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.errors import InvalidInput
from agent.ops.durations import parse_duration

#: A window's first fire is looked for from here when a cron is checked (any fixed instant).
_PROBE = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
#: Longest text kept for a reason (a sentence, not a document).
MAX_REASON = 500


def _targets(values: list[str]) -> list[str]:
    if not values:
        raise ValueError("name at least one target (a name, a glob such as db-*, or *)")
    for value in values:
        if not value.strip() or len(value) > 200 or any(ord(c) < 32 for c in value):
            raise ValueError(f"invalid target pattern {value!r}")
    return values


def check_cron(expression: str) -> str:
    """`expression` if croniter reads it and it fires at some time; else `InvalidInput` naming it.

    croniter raises many kinds of errors (and accepts "0 0 31 2 *", which never fires, until
    asked for a time), so a cron is only accepted once it has given a next fire time."""
    from croniter import croniter

    text = expression.strip()
    try:
        if len(text.split()) not in (5, 6) or not croniter.is_valid(text):
            raise ValueError
        croniter(text, _PROBE).get_next(float)
    except Exception:  # croniter's own errors, ValueError, KeyError, OverflowError, ...
        raise InvalidInput(
            f"cron {expression!r} is not a cron expression that fires "
            "(five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *')"
        ) from None
    return text


class MaintenanceWindowSpec(BaseModel):
    """A recurring window: `targets` are in maintenance from each `cron` fire for `duration`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    targets: list[str]
    cron: str
    #: As people write it ("1h", "90m"; agent/ops/durations.py).
    duration: str
    reason: str = Field("", max_length=MAX_REASON)

    _check_targets = field_validator("targets")(_targets)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            return check_cron(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> str:
        if not isinstance(value, str | int | float):
            raise ValueError("duration must be a span of time like 30m or 2h")
        try:
            seconds = parse_duration(value, "duration")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        if seconds <= 0:
            raise ValueError(f"duration must be longer than 0, got {value!r}")
        return value if isinstance(value, str) else f"{value:g}"

    @property
    def duration_s(self) -> float:
        return parse_duration(self.duration)

    def covers(self, target: str) -> bool:
        return covers(self.targets, target)

    def on_at(self, now: float) -> tuple[float, float] | None:
        """(start, end) of the occurrence under way at `now`, or None.

        The first fire strictly after `now - duration` is under way iff it is not after `now`:
        occurrences are [fire, fire + duration)."""
        from croniter import croniter

        duration = self.duration_s
        fire = float(croniter(self.cron, now - duration).get_next(float))
        return (fire, fire + duration) if fire <= now else None

    def next_at(self, now: float) -> tuple[float, float]:
        """(start, end) of the next occurrence that starts after `now`."""
        from croniter import croniter

        fire = float(croniter(self.cron, now).get_next(float))
        return fire, fire + self.duration_s


class SilenceSpec(BaseModel):
    """A one-off silence. `name` identifies it in the ops document; `webops silence` leaves it
    empty and the silence is known by its id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$"
    )
    targets: list[str]
    starts_at: datetime | None = None
    ends_at: datetime
    reason: str = Field("", max_length=MAX_REASON)

    _check_targets = field_validator("targets")(_targets)

    @model_validator(mode="after")
    def _ordered(self) -> SilenceSpec:
        if self.starts_at is not None and self.starts_at >= self.ends_at:
            raise ValueError("a silence must end after it starts")
        return self


class Covering(BaseModel):
    """Why a target is in maintenance now: which silence or window, until when, and the reason."""

    kind: Literal["silence", "maintenance"]
    #: The silence's id or name, or the window's name.
    id: str
    reason: str
    starts_at: float
    ends_at: float
    targets: list[str]

    @property
    def until(self) -> str:
        """The end as people read it, in UTC (like the cron that made it)."""
        return datetime.fromtimestamp(self.ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC")

    def says(self) -> str:
        """One line: "maintenance until 2026-12-02 02:00 UTC: db upgrade"."""
        return f"maintenance until {self.until}" + (f": {self.reason}" if self.reason else "")


def covers(patterns: list[str], target: str) -> bool:
    """Whether `target` matches a name or glob in `patterns` (case-sensitive, as names are)."""
    return _matcher(tuple(patterns))(target) is not None


@functools.lru_cache(maxsize=4096)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One compiled regex for a set of globs: every check asks of every silence, so it is
    compiled once, not matched glob by glob."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match


def covering(target: str, now: float, entries: list[Covering]) -> Covering | None:
    """The entry that keeps `target` in maintenance longest from `now`; None when none is on."""
    on = [e for e in entries if e.starts_at <= now < e.ends_at and covers(e.targets, target)]
    return max(on, key=lambda e: e.ends_at, default=None)


def window_entries(
    windows: list[MaintenanceWindowSpec], now: float, *, upcoming: bool = False
) -> list[Covering]:
    """Each window's occurrence under way at `now` (and, with `upcoming`, the next one of each
    window that is not on)."""
    entries = []
    for window in windows:
        span = window.on_at(now) or (window.next_at(now) if upcoming else None)
        if span is not None:
            entries.append(
                Covering(
                    kind="maintenance",
                    id=window.name,
                    reason=window.reason,
                    starts_at=span[0],
                    ends_at=span[1],
                    targets=list(window.targets),
                )
            )
    return entries
