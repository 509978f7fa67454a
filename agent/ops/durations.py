"""Spans of time as people write them: `90s`, `30m`, `2h`, `1d`, `1h30m`.

Silences (`--for 2h`), maintenance windows (`duration = "1h"`) and notification reminders
(`remind_every = "30m"`) all read the same way, and a bad one is one line naming it.
"""

from __future__ import annotations

import re

from agent.errors import InvalidInput

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
#: Longer than anyone means (ten years); also keeps `now + span` a finite float.
MAX_SECONDS = 10 * 365 * 86400.0


def parse_duration(text: str | float | int, what: str = "duration") -> float:
    """Seconds in `text` ("2h", "1h30m", or a plain number of seconds)."""
    if isinstance(text, bool):
        raise InvalidInput(f"{what} must be a span of time like 30m or 2h, got {text!r}")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        cleaned = text.strip().lower().replace(" ", "")
        try:
            seconds = float(cleaned)
        except ValueError:
            parts = _PART.findall(cleaned)
            if not parts or "".join(n + u for n, u in parts) != cleaned:
                raise InvalidInput(
                    f"{what} must be a span of time like 90s, 30m, 2h or 1d, got {text!r}"
                ) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not 0 <= seconds <= MAX_SECONDS or seconds != seconds:
        raise InvalidInput(f"{what} must be between 0 and 10 years, got {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact form people read back: 7200 -> "2h", 5400 -> "1h30m"."""
    remaining = round(seconds)
    if remaining <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = int(_UNITS[unit])
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
