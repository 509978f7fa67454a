"""One approval in full over the app: who asks, the exact request, what its dry run printed.

The queue's pane below the table shows the same, cut to a few lines; a dry run's output can be
longer, so Enter on an approval opens this dialog, which scrolls. Every line is literal text.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.core.approval_view import ApprovalView
from agent.ops.targets import RunbookSpec
from widgets.approvals_queue import describe_approval
from widgets.detail_dialog import DetailDialog
from widgets.literal_text import literal


class ApprovalDetailDialog(DetailDialog):
    """`describe_approval`'s lines, one `Static` each; Escape (or Enter) closes it."""

    def __init__(self, approval: ApprovalView, runbooks: Mapping[str, RunbookSpec]) -> None:
        lines = describe_approval(approval, runbooks).split("\n")
        title = literal(f"Approval {approval.id} ({approval.status})", newlines=False)
        super().__init__(title, list(lines), kind="approval")
