"""One incident's detail in a modal: was anything wrong, and did the remedy really fix it?

The Ops tab lists incidents; Enter on one opens this. It answers from the incident's record
(agent/ops/evidence.py): the failing checks that confirmed the fault (when, degraded or down,
what each said, how slow), for each remedy tried the credit it got and the one-line reason, and
the timeline (agent/ops/timeline.py: opened, checks, remedies, approvals, closed).
`incident_lines` draws that as plain `Text` (never markup: names, details and reasons come from
targets and agents), for this dialog and for `webops incident show` alike. Escape closes it.
A person acts on the incident from here: a acknowledges, r resolves, o reopens, n adds a note
(agent/core/incident_lifecycle.py); the detail is redrawn with the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from agent.errors import WebopsError
from agent.ops.evidence import Credit, IncidentDetail
from widgets.detail_dialog import DetailDialog
from widgets.literal_text import scrub
from widgets.note_dialog import NoteDialog

#: Does what a person asked to the incident: (verb, incident id, note) -> the incident after;
#: verbs "ack", "resolve", "reopen", "note". Raises `WebopsError` saying why it cannot.
IncidentAct = Callable[[str, int, str | None], Awaitable[IncidentDetail]]

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
    "dry_run": "cyan",
    "approval": "magenta",
    "closed": "green",
    "decision": "blue",
    "message": "",
    "acknowledged": "bold yellow",
    "resolved": "bold green",
    "reopened": "bold red",
    "note": "italic",
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
        Text.assemble(
            "owner ",
            detail.owner or "-",
            f", {detail.steps} steps",
            (
                f", acknowledged by {detail.acknowledged_by} {when(detail.acknowledged_at)}"
                if detail.acknowledged_by
                else ""
            ),
        ),
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
    """The detail of one incident; a / r / o / n act on it; Escape (or Enter) closes it."""

    BINDINGS = [
        Binding("a", "act('ack')", "Ack", id="incident.ack"),
        Binding("r", "act('resolve')", "Resolve", id="incident.resolve"),
        Binding("o", "act('reopen')", "Reopen", id="incident.reopen"),
        Binding("n", "note", "Note", id="incident.note"),
    ]

    def __init__(self, detail: IncidentDetail, act: IncidentAct | None = None) -> None:
        hint = "a ack, r resolve, o reopen, n note; Escape closes" if act else "Escape closes"
        super().__init__(
            Text(f"Incident {detail.id}"), incident_lines(detail), kind="incident", hint=hint
        )
        self.detail = detail
        self._act = act

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Footer()

    def action_act(self, verb: str) -> None:
        if self._act is not None:
            self.run_worker(self._do(verb, None), exclusive=True, group="incident-act")

    def action_note(self) -> None:
        if self._act is None:
            return

        def add(text: str | None) -> None:
            if text:
                self.run_worker(self._do("note", text), exclusive=True, group="incident-act")

        self.app.push_screen(NoteDialog(f"A note on incident {self.detail.id}"), add)

    async def _do(self, verb: str, note: str | None) -> None:
        assert self._act is not None
        try:
            self.detail = await self._act(verb, self.detail.id, note)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        await self.replace_lines(incident_lines(self.detail))
        self.notify(f"incident {self.detail.id}: {verb} done", markup=False)
