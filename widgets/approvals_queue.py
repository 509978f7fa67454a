"""Pending approvals: what an agent wants to do, its risk and its reasons; approve or deny.

Approving or denying an action of high or critical risk asks for a confirmation first. The
queue follows approval events and says once per burst that it is out of date (`Stale`); the
screen reads the pending approvals and hands them back (`show_pending`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from agent.core.kernel import ApprovalView
from agent.events import ApprovalDecided, ApprovalRequested, KernelEvent
from widgets.bursts import OncePerBurst
from widgets.confirm_dialog import ConfirmDialog
from widgets.kernel_messages import KernelEventArrived
from widgets.literal_text import literal

CONFIRM_RISKS = frozenset({"high", "critical"})
#: How long the queue gathers approval events before it asks once to be reloaded.
STALE_DELAY_S = 0.5


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
        max-height: 8;
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
        self._stale = OncePerBurst(self, STALE_DELAY_S, lambda: self.post_message(self.Stale()))

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        self._stale.poke()

    def focus_table(self) -> None:
        self.query_one(DataTable).focus()

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="approvals-table", cursor_type="row")
        for label in ("id", "agent", "action", "target", "risk"):
            table.add_column(label, key=label)
        yield table
        yield Static("No action is waiting for you.", id="approval-why")

    def show_pending(self, pending: Sequence[ApprovalView]) -> None:
        self.pending = list(pending)
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
            self.query_one("#approval-why", Static).update("No action is waiting for you.")

    @property
    def selected(self) -> ApprovalView | None:
        row = self.query_one(DataTable).cursor_row
        return self.pending[row] if 0 <= row < len(self.pending) else None

    def _explain(self, row: int) -> None:
        if 0 <= row < len(self.pending):
            p = self.pending[row]
            autonomy = (p.explanation.get("autonomy") or {}).get("why", "")
            text = f"{p.agent} wants to run {p.action}: {p.summary}"
            if autonomy:
                text += f"\nNot auto-approved: {autonomy}"
            self.query_one("#approval-why", Static).update(literal(text))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._explain(event.cursor_row)

    def action_decide(self, approve: bool) -> None:
        chosen = self.selected
        if chosen is None:
            self.notify("Nothing to decide.", severity="warning")
            return
        if chosen.risk not in CONFIRM_RISKS:
            self.post_message(self.Decided(chosen.id, approve))
            return
        verb = "Approve and run" if approve else "Deny"
        question = (
            f"{verb} {chosen.action}"
            + (f" on {chosen.target}" if chosen.target else "")
            + f" for {chosen.agent}?\nRisk: {chosen.risk}. {chosen.summary}"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(self.Decided(chosen.id, approve))

        self.app.push_screen(ConfirmDialog(question), answered)
