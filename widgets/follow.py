"""Logs that follow new lines only while the reader is at the bottom.

A log that jumps to the newest line on every event cannot be read while the team talks: the
line being read scrolls away. So a log follows only while scrolled to the bottom; scrolling
up pauses it (the border says so, and how to resume), and End, which scrolls to the bottom,
resumes following.
"""

from __future__ import annotations

from textual.widget import Widget

#: What a paused log says under its border.
PAUSED = "paused — End to follow"


def at_bottom(widget: Widget, scroll_y: float | None = None) -> bool:
    """Whether `widget` shows its last line (at `scroll_y`, or where it is scrolled now)."""
    y = widget.scroll_y if scroll_y is None else scroll_y
    return round(y) >= widget.max_scroll_y
