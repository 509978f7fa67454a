"""The activity log: every decision, action, approval and incident as it happens.

Lines are buffered and written in batches (the app flushes a few times a second), so a burst
of events costs one repaint, not hundreds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
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

MAX_LINES = 2_000
#: Lines written per repaint; a burst beyond that is summarised (nobody reads 200 lines a
#: second, and writing them would slow the keys down).
LINES_PER_FLUSH = 20


def describe(event: KernelEvent) -> str | None:
    """One line for the events a person wants to follow; None for the rest."""
    who = event.agent or "-"
    if isinstance(event, DecisionMade):
        return f"{who} decided: {event.summary[:160]}"
    if isinstance(event, ActionFinished):
        where = f" on {event.target}" if event.target else ""
        return f"{who} ran {event.action}{where}: {event.status} ({event.detail[:80]})"
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
    DEFAULT_CSS = """
    ActivityLog {
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, max_lines=MAX_LINES, wrap=True, markup=False)
        self.pending: list[tuple[float, str]] = []
        self.total = 0

    def add(self, ts: float, line: str) -> None:
        self.pending.append((ts, line))
        self.total += 1

    def flush_pending(self) -> None:
        lines, self.pending = self.pending, []
        if len(lines) > LINES_PER_FLUSH:
            skipped = len(lines) - LINES_PER_FLUSH
            first = datetime.fromtimestamp(lines[0][0], UTC).strftime("%H:%M:%S")
            self.write(Text(f"{first} … {skipped} more events (see webops audit)", style="dim"))
            lines = lines[-LINES_PER_FLUSH:]
        for ts, line in lines:
            stamp = datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")
            text = Text(stamp + " ", style="dim")
            text.append(line)
            self.write(text)
