"""The activity log: every decision, action, approval and incident as it happens.

Lines are buffered and written in batches: the first line of a burst arms one flush a quarter
of a second later, so a burst of events costs one repaint, not hundreds. Lines wrap at the
visible width, and the log follows new lines only while scrolled to the bottom (see
`widgets.follow`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.reactive import var
from textual.widgets import RichLog

from agent.events import (
    ActionFinished,
    AgentSaid,
    ApprovalDecided,
    ApprovalRequested,
    DecisionMade,
    IncidentChanged,
    KernelEvent,
)
from widgets.bursts import OncePerBurst
from widgets.follow import PAUSED, at_bottom
from widgets.kernel_messages import KernelEventArrived

MAX_LINES = 2_000
#: Lines written per repaint; a burst beyond that is summarised (nobody reads 200 lines a
#: second, and writing them would slow the keys down).
LINES_PER_FLUSH = 20
#: How long the first line of a burst waits for the rest before they are written together.
FLUSH_DELAY_S = 0.25
#: An action's detail is clipped (at a word) to this many characters; the rest is in the audit.
DETAIL_CHARS = 80


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with … if it was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def describe(event: KernelEvent) -> str | None:
    """One line for the events a person wants to follow; None for the rest."""
    who = event.agent or "-"
    if isinstance(event, DecisionMade):
        return f"{who} decided: {event.summary}"
    if isinstance(event, ActionFinished):
        where = f" on {event.target}" if event.target else ""
        return (
            f"{who} ran {event.action}{where}: {event.status} ({clip(event.detail, DETAIL_CHARS)})"
        )
    if isinstance(event, ApprovalRequested):
        return f"{who} asks to run {event.action} ({event.risk}): approval {event.approval_id}"
    if isinstance(event, ApprovalDecided):
        return f"approval {event.approval_id} {event.status} by {event.by}"
    if isinstance(event, IncidentChanged):
        return (
            f"incident {event.incident_id} {event.status}: {event.target} "
            f"{event.situation}, owner {event.owner or '-'}, {event.steps} steps"
        )
    if isinstance(event, AgentSaid):
        return f"{who} to {event.channel}: {event.text}"
    return None


class ActivityLog(RichLog):
    """Follows the kernel's decisions, actions, approvals, incidents and team talk."""

    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (
        DecisionMade,
        ActionFinished,
        ApprovalRequested,
        ApprovalDecided,
        IncidentChanged,
        AgentSaid,
    )
    DEFAULT_CSS = """
    ActivityLog {
        height: 1fr;
        padding: 0 1;
    }
    """

    #: False while the reader has scrolled up: new lines arrive without moving the view.
    following: var[bool] = var(True)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # min_width=1: lines wrap at the visible width (the default renders 78 columns wide,
        # which an 80-column terminal cuts).
        super().__init__(
            id=id, classes=classes, max_lines=MAX_LINES, wrap=True, markup=False, min_width=1
        )
        self.pending: list[tuple[float, str]] = []
        self.total = 0
        self._flush = OncePerBurst(self, FLUSH_DELAY_S, self.flush_pending)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = at_bottom(self, new_value)

    def watch_following(self, following: bool) -> None:
        self.border_subtitle = "" if following else PAUSED

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        line = describe(message.event)
        if line is not None:
            self.add(message.event.ts, line)

    def say(self, line: str) -> None:
        """A line that is not a kernel event (the demo world's narration), stamped now."""
        self.add(time.time(), line)

    def add(self, ts: float, line: str) -> None:
        """Queue a line; it is written with the rest of its burst."""
        self.pending.append((ts, line))
        self.total += 1
        self._flush.poke()

    def flush_pending(self) -> None:
        lines, self.pending = self.pending, []
        if len(lines) > LINES_PER_FLUSH:
            skipped = len(lines) - LINES_PER_FLUSH
            first = datetime.fromtimestamp(lines[0][0], UTC).strftime("%H:%M:%S")
            self.write(
                Text(f"{first} … {skipped} more events (see webops audit)", style="dim"),
                scroll_end=self.following,
            )
            lines = lines[-LINES_PER_FLUSH:]
        for ts, line in lines:
            stamp = datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")
            text = Text(stamp + " ", style="dim")
            text.append(line)
            self.write(text, scroll_end=self.following)
