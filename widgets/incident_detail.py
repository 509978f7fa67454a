"""One incident's detail in a modal: was anything wrong, and did the remedy really fix it?

The Ops tab lists incidents; Enter on one opens this. It answers from the incident's record
(agent/ops/evidence.py): the failing checks that confirmed the fault (when, degraded or down,
what each said, how slow), for each remedy tried the credit it got and the one-line reason, and
the timeline (agent/ops/timeline.py: opened, checks, remedies, approvals, closed).
`incident_lines` draws that as plain `Text` (never markup: names, details and reasons come from
targets and agents), for this dialog and for `webops incident show` alike. Escape closes it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from agent.ops.evidence import Credit, IncidentDetail
from widgets.detail_dialog import DetailDialog
from widgets.literal_text import scrub

#: How each way an incident stands, or its fault showed, is drawn (ANSI names: every theme).
STYLES = {
    "down": "bold red",
    "degraded": "yellow",
    "open": "bold",
    "awaiting_approval": "yellow",
    "resolved": "green",
    "recovered": "cyan",
    "failed": "red",
}

#: How each kind of timeline step is drawn.
TIMELINE_STYLES = {
    "opened": "bold",
    "check": "yellow",
    "remedy": "cyan",
    "approval": "magenta",
    "closed": "green",
}


def when(ts: float | None) -> str:
    """A stored time as people read it (UTC, to the second)."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def credit_label(credit: Credit) -> str:
    """A remedy's credit in one word: 1 a real fix, 0 a real miss, neutral otherwise."""
    return "neutral" if credit.credit is None else f"{credit.credit:g}"


def incident_lines(detail: IncidentDetail) -> list[Text]:
    """The incident as lines of plain, styled text."""
    closed = ""
    if detail.closed_at is not None:
        closed = f", closed {when(detail.closed_at)} ({detail.closed_at - detail.opened_at:.1f} s)"
    lines = [
        Text.assemble(
            (f"incident {detail.id}", "bold"),
            ": ",
            detail.target,
            " ",
            detail.situation,
            " (",
            (detail.health, STYLES[detail.health]),
            "), ",
            (detail.status, STYLES[detail.status]),
        ),
        Text.assemble("owner ", detail.owner or "-", f", {detail.steps} steps"),
        Text(f"opened {when(detail.opened_at)}{closed}"),
        Text.assemble("summary: ", detail.summary),
        Text("confirmed by:", style="bold"),
    ]
    if not detail.evidence:
        lines.append(Text("  (no failing checks recorded)"))
    for check in detail.evidence:
        ms = f" ({check.latency_ms:.0f} ms)" if check.latency_ms is not None else ""
        lines.append(
            Text.assemble(
                f"  {when(check.ts)} ",
                (f"{check.health:<8}", STYLES[check.health]),
                " ",
                check.detail or "-",
                ms,
            )
        )
    lines.append(Text("remedies:", style="bold"))
    if not detail.credits:
        lines.append(Text("  (none tried)"))
    for credit in detail.credits:
        lines.append(
            Text.assemble(
                "  ",
                (credit.action, "bold"),
                ": ",
                ("fixed it", "green") if credit.fixed else "did not fix it",
                f", credit {credit_label(credit)} (",
                credit.why,
                ")",
            )
        )
    if detail.timeline:
        lines.append(Text("timeline:", style="bold"))
    for step in detail.timeline:
        lines.append(
            Text.assemble(
                f"  {when(step.ts)} ",
                (f"{step.kind:<8}", TIMELINE_STYLES[step.kind]),
                " ",
                (f"{step.actor}: " if step.actor else ""),
                step.text,
            )
        )
    return [scrub(line) for line in lines]


class IncidentDetailDialog(DetailDialog):
    """The detail of one incident; Escape (or Enter) closes it."""

    def __init__(self, detail: IncidentDetail) -> None:
        super().__init__(Text(f"Incident {detail.id}"), incident_lines(detail), kind="incident")
        self.detail = detail
