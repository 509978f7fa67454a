"""The main screen's decisions and chat: approvals decided, and the conversation with agents.

Approving runs the action and a chat turn may run a check or a runbook, so both run in
workers, never on the UI's path; `approve N` typed in chat asks the same confirmation as the
Approvals tab before anything runs.
"""

from __future__ import annotations

from textual import on, work
from textual.widgets import TabbedContent

from agent.errors import WebopsError
from webops_tui.screens.kernel_screen import KernelScreen, operator
from widgets.approvals_queue import ApprovalsQueue, describe_approval
from widgets.chat_panel import ChatPanel
from widgets.confirm_dialog import ConfirmDialog
from widgets.quick_chat import QuickChat
from widgets.skills_panel import SkillsPanel


class TalkWork(KernelScreen):
    """The approvals queue's reads and decisions, and chat turns."""

    #: The last reply with its explanation, for the clipboard (`y`).
    last_reply = ""

    def on_approvals_queue_stale(self) -> None:
        self._refresh_approvals()

    @work(exclusive=True, group="approvals")
    async def _refresh_approvals(self) -> None:
        pending = await self.kernel.approvals()
        if queue := self._shown(ApprovalsQueue):
            queue.show_pending(pending, self.kernel.ops.runbooks)
            waiting = f" ({len(pending)})" if pending else ""
            if tabs := self._shown(TabbedContent):
                tabs.get_tab("approvals").label = f"Approvals{waiting}"

    def on_skills_panel_stale(self) -> None:
        self._refresh_skills()

    @work(exclusive=True, group="skills")
    async def _refresh_skills(self) -> None:
        name = self.selected_agent
        if name is None:
            return
        views = await self.kernel.skills(name)
        if panel := self._shown(SkillsPanel):
            panel.show_skills(name, views)

    @on(ApprovalsQueue.Decided)
    def _decided(self, message: ApprovalsQueue.Decided) -> None:
        self._decide(message.approval_id, message.approve)

    @work(group="decide")
    async def _decide(self, approval_id: int, approve: bool, in_chat: bool = False) -> None:
        """Approving runs the action, which may take a while: never on the UI's path."""
        if self._refused_read_only("approvals are not decided"):
            return
        try:
            if approve:
                view = await self.kernel.approve(approval_id, by=operator())
                outcome = view.result["status"] if view.result else view.status
                said = f"approval {approval_id}: {view.action} {outcome}"
            else:
                view = await self.kernel.deny(approval_id, by=operator())
                said = f"approval {approval_id} ({view.action}) denied"
            self.notify(said, markup=False)
        except WebopsError as exc:
            said = exc.message
            self.notify(said, severity="error", markup=False)
        if in_chat and (panel := self._shown(ChatPanel)):
            panel.add_line("webops", said, "chat-team")
        if self._shown(TabbedContent):  # not while the app closes
            self._refresh_approvals()
            self._refresh_skills()

    @on(ChatPanel.Sent)
    def _chat_sent(self, message: ChatPanel.Sent) -> None:
        self._talk(message.text, message.channel)

    def on_quick_chat_sent(self, message: QuickChat.Sent) -> None:
        """The Team tab's one-line chat: the same conversation as the Chat tab."""
        self.query_one(ChatPanel).add_line("you", message.text, "chat-operator")
        self._talk(message.text, "agent")

    @work(group="chat")
    async def _talk(self, text: str, channel: str) -> None:
        """Chat runs the agent (a check, a runbook): a worker, never the UI's path."""
        if self._refused_read_only("chat is off (a chat can run checks and runbooks)"):
            return
        panel = self.query_one(ChatPanel)
        name = self.selected_agent
        if name is None:
            return
        try:
            if channel == "team":
                await self.kernel.messages.broadcast(operator(), "team", text)
                return
            from agent.core.conversation import chat, decision_asked

            if asked := await decision_asked(self.kernel, text):
                await self._confirm_in_chat(*asked)
                return
            reply = await chat(self.kernel, name, text, operator=operator())
        except WebopsError as exc:
            panel.add_line("webops", exc.message, "chat-team")
            return
        quick = self._shown(QuickChat)
        if quick is None:  # the app closed meanwhile: the turn is stored, not shown
            return
        # A model's words are marked as such, with the memories they were written from.
        speaker = name if reply.source == "rules" else f"{name} (llm)"
        text = reply.reply + (f"  [from {', '.join(reply.cites)}]" if reply.cites else "")
        panel.show_reply(speaker, text, reply.intent, reply.explanation)
        quick.show_reply(speaker, text)
        why = (reply.explanation or {}).get("summary", "")
        self.last_reply = f"{name}: {reply.reply}" + (f"\nwhy: {why}" if why else "")

    async def _confirm_in_chat(self, approval_id: int, approve: bool) -> None:
        """`approve N` typed in chat: the same confirmation as the Approvals tab, naming the
        approval, its request and who asked, before anything runs."""
        pending = {view.id: view for view in await self.kernel.approvals()}
        view = pending.get(approval_id)
        if view is None or not self.is_attached:
            return
        verb = "Approve and run" if approve else "Deny"
        question = describe_approval(view, self.kernel.ops.runbooks, verb)

        def answered(yes: bool | None) -> None:
            if yes:
                self._decide(approval_id, approve, in_chat=True)
            elif panel := self._shown(ChatPanel):
                panel.add_line("webops", f"approval {approval_id} left waiting", "chat-team")

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_copy(self) -> None:
        """Copy the last reply (with its explanation) to the clipboard: OSC 52 over SSH."""
        if not self.last_reply:
            self.notify("nothing to copy yet: chat with an agent first", severity="warning")
            return
        self.app.copy_to_clipboard(self.last_reply)
        self.notify("copied the last reply")
