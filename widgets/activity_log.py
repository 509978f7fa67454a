"""The activity log: every decision, action, approval and incident as it happens.

Lines are buffered and written in batches: the first line of a burst arms one flush a quarter
of a second later, so a burst of events costs one repaint, not hundreds. Lines wrap at the
visible width, and the log follows new lines only while scrolled to the bottom (see
`widgets.follow`).
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.events import Resize
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
from widgets.literal_text import printable

MAX_LINES = 2_000
#: Lines written per repaint; a burst beyond that is summarised (nobody reads 200 lines a
#: second, and writing them would slow the keys down).
LINES_PER_FLUSH = 20
#: How long the first line of a burst waits for the rest before they are written together.
FLUSH_DELAY_S = 0.25
#: Incident statuses the autopilot's narration tells (with duration and outcome): once it
#: narrates, the incident events add only what lies between, each status once.
NARRATED_STATUSES = frozenset({"open", "resolved", "recovered", "failed"})
#: Narrower than this the log is hidden (another tab is shown): lines wait to be wrapped.
MIN_WRAP_COLUMNS = 10
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
        #: Every line kept, unwrapped: rewrapped when the width changes (or the tab shows).
        self.history: deque[Text] = deque(maxlen=MAX_LINES)
        self._wrapped_at = 0
        #: The last status logged per incident: a step counted is not a new line.
        self._incident_status: dict[int, str] = {}
        self._narrated = False
        #: Lines are kept but not yet written (the log was hidden when they came).
        self._held = False
        self.total = 0
        #: The `/` filter's words (lower case): only lines holding every one are shown.
        self.words: list[str] = []
        self._flush = OncePerBurst(self, FLUSH_DELAY_S, self.flush_pending)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = at_bottom(self, new_value)

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        self._rewrap()

    def on_show(self) -> None:
        self._rewrap()

    def _rewrap(self) -> None:
        """Write the kept lines again at the visible width (lines do not rewrap by themselves)."""
        width = self.scrollable_content_region.width
        if width < MIN_WRAP_COLUMNS or (width == self._wrapped_at and not self._held):
            return
        self._wrapped_at = width
        self._held = False
        self.clear()
        for text in self.history:
            if self._matches(text):
                self.write(text, width=width, scroll_end=False)
        if self.following:
            self.scroll_end(animate=False)

    def _show(self, text: Text) -> None:
        self.history.append(text)
        width = self.scrollable_content_region.width
        if not self._matches(text):
            return  # kept: shown again when the filter lets it through
        if width >= MIN_WRAP_COLUMNS and width == self._wrapped_at and not self._held:
            self.write(text, width=width, scroll_end=self.following)
        else:  # hidden, or the width changed: written with the rest when it shows
            self._held = True
            self._rewrap()

    def show_only(self, typed: str) -> None:
        """`/`: show only the kept lines holding every word typed ('' shows them all)."""
        self.words = typed.casefold().split()
        self._held = True  # every kept line is written again, through the filter
        self._rewrap()
        self._subtitle()

    def _matches(self, text: Text) -> bool:
        line = text.plain.casefold()
        return all(word in line for word in self.words)

    def watch_following(self, following: bool) -> None:
        self._subtitle()

    def _subtitle(self) -> None:
        shown = f"filter: {' '.join(self.words)}" if self.words else ""
        self.border_subtitle = " · ".join(
            part for part in (shown, "" if self.following else PAUSED) if part
        )

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, IncidentChanged) and not self._new_status(event):
            return
        line = describe(event)
        if line is not None:
            self.add(event.ts, line)

    def _new_status(self, event: IncidentChanged) -> bool:
        """Whether this change is worth a line: each status once per incident, and not the
        opening or closing when the narration already tells it (no resolution twice)."""
        if self._incident_status.get(event.incident_id) == event.status:
            return False
        self._incident_status[event.incident_id] = event.status
        return not (self._narrated and event.status in NARRATED_STATUSES)

    def say(self, line: str) -> None:
        """A line that is not a kernel event (the demo world's narration), stamped now."""
        self._narrated = True
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
            self._show(Text(f"{first} … {skipped} more events (see webops audit)", style="dim"))
            lines = lines[-LINES_PER_FLUSH:]
        for ts, line in lines:
            stamp = datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")
            text = Text(stamp + " ", style="dim")
            text.append(printable(line))
            self._show(text)
