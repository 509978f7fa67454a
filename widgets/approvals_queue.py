"""Pending approvals: what an agent wants to do, its risk and its reasons; approve or deny.

Approving or denying an action of high or critical risk asks for a confirmation first. The
detail and the confirmation show the exact request that will run (argv, or METHOD URL and
body, secrets masked), so nobody approves a name. A new approval raises a toast. The queue
follows approval events and says once per burst that it is out of date (`Stale`); the screen
reads the pending approvals and hands them back (`show_pending`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from agent.core.kernel import ApprovalView
from agent.events import ApprovalDecided, ApprovalRequested, KernelEvent
from agent.ops.runbooks import shown_request
from agent.ops.targets import RunbookSpec
from widgets.bursts import OncePerBurst
from widgets.confirm_dialog import ConfirmDialog
from widgets.kernel_messages import KernelEventArrived
from widgets.literal_text import literal, scrub

CONFIRM_RISKS = frozenset({"high", "critical"})
#: How long the queue gathers approval events before it asks once to be reloaded.
STALE_DELAY_S = 0.5
#: How long the toast for a new approval stays up.
TOAST_S = 8.0


def describe_approval(
    approval: ApprovalView, runbooks: Mapping[str, RunbookSpec], verb: str | None = None
) -> Text:
    """Approval N, who asks, what exactly will run, on what, at what risk, and why: literal
    text (names and arguments are never markup)."""
    head = f"{verb} approval {approval.id}" if verb else f"approval {approval.id}"
    text = Text.assemble(
        (head, "bold"),
        f": {approval.agent} asks to run {approval.action}",
        f" on {approval.target}" if approval.target else "",
        " · risk ",
        (approval.risk, "bold"),
    )
    spec = runbooks.get(approval.action)
    if spec is not None:
        for line in shown_request(spec, approval.target):
            text.append("\n  ")
            text.append(line, style="bold")
    else:
        text.append(f"\n  the built-in action {approval.action}")
    dry = approval.dry_run
    if dry is not None:
        verdict = "passed" if dry.ok else "failed"
        text.append(f"\ndry run {verdict}: ", style="bold")
        # The detail ends with the output's first line, which follows in full just below.
        first = next(iter(dry.output.splitlines()), "")
        text.append(dry.detail.removesuffix(f": {first}") if first else dry.detail)
        for line in dry.output.splitlines():
            text.append("\n  | ")
            text.append(line)
    text.append(f"\nwhy: {approval.summary}")
    autonomy = (approval.explanation.get("autonomy") or {}).get("why", "")
    if autonomy:
        text.append(f"\nnot auto-approved: {autonomy}")
    return scrub(text)


#: The empty queue says where requests show up and which keys decide them.
NOTHING_WAITING = (
    "No action is waiting for you. A request shows up here and as a toast (p opens this tab "
    "from anywhere); a approves and d denies the highlighted one."
)


class ApprovalsQueue(Vertical):
    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (ApprovalRequested, ApprovalDecided)
    DEFAULT_CSS = """
    ApprovalsQueue {
        height: 1fr;
    }
    ApprovalsQueue > DataTable {
        height: 1fr;
    }
    ApprovalsQueue > #approval-why {
        height: auto;
        max-height: 16;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("a", "decide(True)", "Approve", id="approvals.approve"),
        Binding("d", "decide(False)", "Deny", id="approvals.deny"),
    ]

    class Decided(Message):
        """The operator approved (or denied) an approval, confirmed where needed."""

        def __init__(self, approval_id: int, approve: bool) -> None:
            super().__init__()
            self.approval_id = approval_id
            self.approve = approve

    class Stale(Message):
        """The approvals shown are out of date: read the pending ones again."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.pending: list[ApprovalView] = []
        #: The runbooks as last read, for the request an approval will run.
        self.runbooks: Mapping[str, RunbookSpec] = {}
        #: A read-only workbench shows approvals but decides none.
        self.read_only = False
        self._stale = OncePerBurst(self, STALE_DELAY_S, lambda: self.post_message(self.Stale()))

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, ApprovalRequested):
            where = f" on {event.target}" if event.target else ""
            self.notify(
                f"{event.agent or '-'} asks to run {event.action}{where} ({event.risk})",
                title=f"approval {event.approval_id}: press p to review",
                severity="warning",
                timeout=TOAST_S,
                markup=False,
            )
        self._stale.poke()

    def focus_table(self) -> None:
        self.query_one(DataTable).focus()

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="approvals-table", cursor_type="row")
        for label in ("id", "agent", "action", "target", "risk"):
            table.add_column(label, key=label)
        yield table
        yield Static(NOTHING_WAITING, id="approval-why")

    def show_pending(
        self, pending: Sequence[ApprovalView], runbooks: Mapping[str, RunbookSpec] | None = None
    ) -> None:
        self.pending = list(pending)
        if runbooks is not None:
            self.runbooks = runbooks
        self.border_title = f"Approvals ({len(self.pending)} waiting)"
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for p in self.pending:
            table.add_row(
                str(p.id),
                literal(p.agent),
                literal(p.action),
                literal(p.target or ""),
                p.risk,
                key=str(p.id),
            )
        if self.pending:
            table.move_cursor(row=min(row, len(self.pending) - 1))
            self._explain(table.cursor_row)
        else:
            self.query_one("#approval-why", Static).update(NOTHING_WAITING)

    @property
    def selected(self) -> ApprovalView | None:
        row = self.query_one(DataTable).cursor_row
        return self.pending[row] if 0 <= row < len(self.pending) else None

    def _explain(self, row: int) -> None:
        if 0 <= row < len(self.pending):
            detail = describe_approval(self.pending[row], self.runbooks)
            self.query_one("#approval-why", Static).update(detail)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on an approval: it in full (its dry run's whole output) in a dialog."""
        event.stop()
        if 0 <= event.cursor_row < len(self.pending):
            from widgets.approval_detail import ApprovalDetailDialog

            self.app.push_screen(
                ApprovalDetailDialog(self.pending[event.cursor_row], self.runbooks)
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._explain(event.cursor_row)

    def action_decide(self, approve: bool) -> None:
        if self.read_only:
            self.notify(
                "read-only: approvals are not decided (started with --read-only)",
                severity="warning",
            )
            return
        chosen = self.selected
        if chosen is None:
            self.notify("Nothing to decide.", severity="warning")
            return
        if chosen.risk not in CONFIRM_RISKS:
            self.post_message(self.Decided(chosen.id, approve))
            return
        question = describe_approval(
            chosen, self.runbooks, "Approve and run" if approve else "Deny"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(self.Decided(chosen.id, approve))

        self.app.push_screen(ConfirmDialog(question), answered)
