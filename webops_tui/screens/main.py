"""The workbench's main screen: the tabs, and what moves between the panels and the kernel.

Data down, messages up. The selected agent is a reactive attribute of this screen, bound
(`data_bind`) to every panel that shows one agent. Panels post messages when the operator does
something (`ChatPanel.Sent`, `ApprovalsQueue.Decided`, `MemoryBrowser.SearchRequested`) or when
what they show is out of date (`Stale`); the screen asks the kernel in a worker, never on the
UI's path, and hands the answer to the panel's public method. Kernel events reach the panels
as Textual messages through one `KernelFeed`; nothing here polls.
"""

from __future__ import annotations

import asyncio
import getpass
from typing import TypeVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.reactive import var
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, TabbedContent, TabPane

from agent.core.kernel import Kernel
from agent.errors import WebopsError
from agent.memory.memory import MemoryKind
from agent.mind.mind import Mind
from agent.ops.evidence import IncidentDetail
from webops_tui.demo.in_app import InAppDemo
from webops_tui.demo.options import DemoOptions
from webops_tui.screens.kernel_feed import KernelFeed
from webops_tui.screens.tab_focus import after_input, main_widget
from widgets.activity_log import ActivityLog
from widgets.agent_roster import AgentRoster
from widgets.approvals_queue import ApprovalsQueue, describe_approval
from widgets.chat_panel import ChatPanel
from widgets.confirm_dialog import ConfirmDialog
from widgets.emotion_gauges import EmotionGauges
from widgets.filter_bar import FilterBar
from widgets.incident_detail import IncidentDetailDialog
from widgets.memory_browser import MemoryBrowser
from widgets.new_agent_dialog import NewAgentDialog, WelcomeDialog
from widgets.quick_chat import QuickChat
from widgets.skills_panel import SkillsPanel
from widgets.target_detail import TargetDetailDialog, TargetFacts
from widgets.targets_panel import HISTORY, RECENT_CLOSED, TargetsPanel
from widgets.team_relations import TeamRelations

PanelT = TypeVar("PanelT", bound=Widget)

#: From this width on the Team tab shows roster and feelings side by side (class `-wide`).
WIDE_COLUMNS = 150
#: From this height on the Team tab has room for trust and affinity under the roster.
TALL_ROWS = 30

#: The one-panel tabs after Team: tab label, tab id, widget, widget id, border title.
_TABS: tuple[tuple[str, str, type[Widget], str, str], ...] = (
    ("Chat", "chat", ChatPanel, "chat-panel", "Chat"),
    ("Memory", "memory", MemoryBrowser, "memory-browser", "Memory"),
    ("Skills", "skills", SkillsPanel, "skills-panel", "Skills"),
    ("Approvals", "approvals", ApprovalsQueue, "approvals-queue", "Approvals"),
    ("Ops", "ops", TargetsPanel, "targets-panel", "Targets"),
    ("Activity", "activity", ActivityLog, "activity-log", "Activity"),
)
#: Worker groups that only read the kernel for a panel: dropped when the screen closes.
_READS = ("roster", "team", "approvals", "skills", "memory", "incident", "history", "target")
#: The panels that show the selected agent: its name is bound to their `agent`.
_PER_AGENT: tuple[type[Widget], ...] = (ChatPanel, MemoryBrowser, SkillsPanel)


def _panel(widget: Widget, title: str) -> Widget:
    widget.border_title = title
    return widget


def _operator() -> str:
    return f"operator:{getpass.getuser()}"


class MainScreen(Screen[None]):
    """Team, chat, memory, skills, approvals, ops and activity, over one open kernel."""

    HORIZONTAL_BREAKPOINTS = [(WIDE_COLUMNS, "-wide")]
    VERTICAL_BREAKPOINTS = [(TALL_ROWS, "-tall")]

    #: The agent every per-agent panel shows (the roster's highlighted row).
    selected_agent: var[str | None] = var(None)

    def __init__(
        self, *, db_name: str, demo: DemoOptions | None = None, read_only: bool = False
    ) -> None:
        super().__init__()
        #: `webops --read-only`: nothing is run, approved, created or started from here.
        self.read_only = read_only
        self._kernel: Kernel | None = None
        self._feed: KernelFeed | None = None
        self._start_demo = demo
        self.demo = InAppDemo(self, db_name, say=self._narrate)
        #: The last reply with its explanation, for the clipboard (`y`).
        self.last_reply = ""

    @property
    def kernel(self) -> Kernel:
        """The kernel the app opened for this screen (see `start`)."""
        if self._kernel is None:
            raise RuntimeError("the workbench's kernel is not open yet")
        return self._kernel

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="team", id="main"):
            with TabPane("Team", id="team"):
                yield _panel(AgentRoster(id="roster", classes="panel"), "Agents")
                yield _panel(TeamRelations(id="relations", classes="panel"), "Trust & affinity")
                gauges = EmotionGauges(minds=self._mind_of, id="gauges", classes="panel")
                yield _panel(gauges.data_bind(agent=MainScreen.selected_agent), "Feelings")
                yield QuickChat(id="quick-chat")
            for tab, tab_id, widget_type, widget_id, title in _TABS:
                with TabPane(tab, id=tab_id):
                    if widget_type is ActivityLog:  # a log has no room for its own bar
                        yield FilterBar(placeholder="filter the log…", hides=True, id="log-filter")
                    widget = widget_type(id=widget_id, classes="panel")
                    if isinstance(widget, _PER_AGENT):
                        widget.data_bind(agent=MainScreen.selected_agent)
                    yield _panel(widget, title)
        yield Footer()

    async def start(self, kernel: Kernel) -> None:
        """The app opened `kernel`: follow its events, fill the panels, start the demo if asked."""
        self._kernel = kernel
        self._feed = feed = KernelFeed(kernel.bus)
        feed.follow(self.query_one(AgentRoster))
        feed.follow(self.query_one(TeamRelations))
        feed.follow(self.query_one(EmotionGauges))
        feed.follow(self.query_one(ChatPanel))
        feed.follow(self.query_one(SkillsPanel))
        feed.follow(self.query_one(ApprovalsQueue))
        feed.follow(self.query_one(TargetsPanel))
        feed.follow(self.query_one(ActivityLog))
        feed.start()
        self.query_one(ApprovalsQueue).read_only = self.read_only
        if self.read_only:
            self._start_demo = None
        if self._start_demo is not None:
            self.demo.start(kernel, self._start_demo)
        await self.action_refresh()
        self._refresh_approvals()
        self._load_incident_history()
        if self._start_demo is not None:
            self.action_show_tab("ops")
        else:
            roster = self.query_one(AgentRoster)
            roster.focus_table()
            if not roster.names:
                self.app.push_screen(WelcomeDialog(), self._welcomed)

    async def on_unmount(self) -> None:
        """Stop the feed and the demo; drop pending reads, but let work that changes
        something (an approved action, a chat turn, a new agent) finish in the kernel."""
        if self._feed is not None:
            self._feed.stop()
        for group in _READS:
            self.workers.cancel_group(self, group)
        await self.demo.close()
        mine = [worker for worker in self.workers if worker.node is self]
        await asyncio.gather(*(worker.wait() for worker in mine), return_exceptions=True)

    # -- the selected agent: data down -------------------------------------------------------

    @property
    def agent_names(self) -> list[str]:
        return self.query_one(AgentRoster).names

    def on_agent_roster_selected(self, message: AgentRoster.Selected) -> None:
        self.selected_agent = message.profile.name

    def action_select_agent(self, name: str) -> None:
        roster = self.query_one(AgentRoster)
        if name in roster.names:
            roster.select(name)
            self.selected_agent = name

    def _mind_of(self, name: str) -> Mind | None:
        agent = self._kernel.loaded(name) if self._kernel is not None else None
        return agent.mind if agent is not None else None

    # -- panels that are out of date: read the kernel in a worker, hand the answer down -----

    def _shown(self, panel: type[PanelT]) -> PanelT | None:
        """The panel to hand an answer to; None once the app is closing (the panels go before
        the work that was reading for them, leaves first, while the screen is still attached)."""
        if not self.is_attached:
            return None
        found = next(iter(self.query(panel)), None)
        return found if found is not None and found.is_attached else None

    async def action_refresh(self) -> None:
        """Start agents created elsewhere (say, by a CLI) and reload the roster."""
        await self.kernel.start_all()
        profiles = await self.kernel.list_agents()
        if roster := self._shown(AgentRoster):
            roster.show_agents(profiles)
            if roster.selected is not None:
                self.selected_agent = roster.selected.name
        self._refresh_team()

    def on_agent_roster_stale(self) -> None:
        self._reload_roster()

    @work(exclusive=True, group="roster")
    async def _reload_roster(self) -> None:
        profiles = await self.kernel.list_agents()
        if roster := self._shown(AgentRoster):
            before = roster.names
            roster.show_agents(profiles)
            if roster.names != before:  # a new teammate: new pairs (events move the rest)
                self._refresh_team()

    @work(exclusive=True, group="team")
    async def _refresh_team(self) -> None:
        """Every pair's trust and affinity; from then on events move the rows."""
        pairs = await self.kernel.team()
        if relations := self._shown(TeamRelations):
            relations.show_pairs(pairs)

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

    @on(MemoryBrowser.SearchRequested)
    def _memory_search(self, message: MemoryBrowser.SearchRequested) -> None:
        self._load_memory(message.kind, message.text)

    @work(exclusive=True, group="memory")
    async def _load_memory(self, kind: MemoryKind, text: str) -> None:
        name = self.selected_agent
        if name is None:
            return
        items = await self.kernel.memory(name, kind, text or None, limit=50)
        if browser := self._shown(MemoryBrowser):
            browser.show_items(name, items)

    # -- what the operator does: messages up -------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        """Switch from any focus: drop focus first (a focused widget in the pane being hidden
        would pull its tab back), then focus the tab's main widget once it is shown."""
        self.set_focus(None)
        self.query_one(TabbedContent).active = tab
        if tab == "memory":
            self.query_one(MemoryBrowser).request()
        elif tab == "skills":
            self._refresh_skills()
        elif tab == "approvals":
            self._refresh_approvals()
        self.call_after_refresh(self._focus_tab, tab)

    def _focus_tab(self, tab: str) -> None:
        tabs = self._shown(TabbedContent)  # None once the app is closing
        if tabs is not None and tabs.active == tab and (widget := main_widget(self, tab)):
            widget.focus()

    def action_leave(self) -> None:
        """Escape: give up a focused input (so tab keys work again)."""
        focused = self.focused
        if isinstance(focused, Input):
            self.set_focus(after_input(self, self.query_one(TabbedContent).active))

    def action_cursor(self, down: bool) -> None:
        """j/k: move the cursor of the focused list or table (or scroll a log) like arrows."""
        focused = self.focused
        if isinstance(focused, DataTable):
            focused.action_cursor_down() if down else focused.action_cursor_up()
        elif isinstance(focused, ScrollView | ScrollableContainer):
            focused.scroll_down() if down else focused.scroll_up()

    @work(exclusive=True, group="history")
    async def _load_incident_history(self) -> None:
        """The stored targets and incidents, earlier runs' too (what `webops target list` and
        `webops incidents --all` list)."""
        latencies = {
            name: await self.kernel.ops.recent_latencies(name, HISTORY)
            for name in sorted(self.kernel.ops.targets)
        }
        found = await self.kernel.incidents(limit=RECENT_CLOSED)
        held = {n: c.says() for n in latencies if (c := await self.kernel.silences.covering(n))}
        if panel := self._shown(TargetsPanel):
            panel.show_targets(latencies)
            panel.show_maintenance(held)
            panel.show_history(found)

    @on(TargetsPanel.IncidentSelected)
    def _incident_selected(self, message: TargetsPanel.IncidentSelected) -> None:
        self._show_incident(message.incident_id)

    @work(exclusive=True, group="incident")
    async def _show_incident(self, incident_id: int) -> None:
        """The incident's detail (what confirmed it, each remedy's credit) in a dialog."""
        try:
            detail = await self.kernel.incident(incident_id)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if self._shown(TabbedContent):
            self.app.push_screen(IncidentDetailDialog(detail, act=self._incident_act))

    async def _incident_act(self, verb: str, incident_id: int, note: str | None) -> IncidentDetail:
        """A person's ack / resolve / reopen / note from the incident's dialog."""
        if verb == "ack":
            return await self.kernel.ack_incident(incident_id)
        if verb == "resolve":
            return await self.kernel.resolve_incident(incident_id, note=note)
        if verb == "reopen":
            return await self.kernel.reopen_incident(incident_id, note=note)
        return await self.kernel.note_incident(incident_id, note or "")

    @on(TargetsPanel.TargetSelected)
    def _target_selected(self, message: TargetsPanel.TargetSelected) -> None:
        self._show_target(message.target)

    @work(exclusive=True, group="target")
    async def _show_target(self, name: str) -> None:
        """The target's definition, latest check, recent latencies and incidents in a dialog."""
        try:
            spec = await self.kernel.ops.target(name)
            stored = await self.kernel.ops.recent_latencies(name)
            incidents = await self.kernel.incidents(limit=10, target=name)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if panel := self._shown(TargetsPanel):
            last = panel.last_check(name)
            seen = last.latencies if last is not None else ()
            facts = TargetFacts(spec, last, stored or seen, incidents)
            self.app.push_screen(TargetDetailDialog(facts))

    def action_search_memory(self) -> None:
        """`/`: the filter of the tab on show (Ops filters its tables, Memory searches); a
        tab without one opens Memory's search."""
        if isinstance(self.focused, Input):  # a `/` in text (a URL, a path): the input's
            raise SkipAction()
        tabs = self.query_one(TabbedContent)
        bars = self.query_one(f"TabPane#{tabs.active}").query(FilterBar)
        if bars:  # at once, so keys typed right after `/` land in it
            bars.first().open()
            return
        self.action_show_tab("memory")
        self.call_after_refresh(self.query_one("TabPane#memory").query_one(FilterBar).open)

    @on(Input.Changed, "#log-filter")
    def _log_filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one(ActivityLog).show_only(event.value)

    @on(FilterBar.Cleared, "#log-filter")
    def _log_filter_cleared(self, event: FilterBar.Cleared) -> None:
        event.stop()
        log = self.query_one(ActivityLog)
        log.show_only("")
        log.focus()

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
                view = await self.kernel.approve(approval_id, by=_operator())
                outcome = view.result["status"] if view.result else view.status
                said = f"approval {approval_id}: {view.action} {outcome}"
            else:
                view = await self.kernel.deny(approval_id, by=_operator())
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

    def action_decide_selected(self, approve: bool) -> None:
        self.action_show_tab("approvals")
        self.query_one(ApprovalsQueue).action_decide(approve)

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
                await self.kernel.messages.broadcast(_operator(), "team", text)
                return
            from agent.core.conversation import chat, decision_asked

            if asked := await decision_asked(self.kernel, text):
                await self._confirm_in_chat(*asked)
                return
            reply = await chat(self.kernel, name, text, operator=_operator())
        except WebopsError as exc:
            panel.add_line("webops", exc.message, "chat-team")
            return
        quick = self._shown(QuickChat)
        if quick is None:  # the app closed meanwhile: the turn is stored, not shown
            return
        panel.show_reply(name, reply.reply, reply.intent, reply.explanation)
        quick.show_reply(name, reply.reply)
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

    def action_new_agent(self) -> None:
        if self._refused_read_only("no agents are created"):
            return

        def created(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._agent_created(*answer)

        self.app.push_screen(NewAgentDialog(create=self.kernel.create_agent), created)

    @work(group="agents")
    async def _agent_created(self, name: str, preset: str) -> None:
        """The dialog created it: show it (a bad name kept the dialog open, with its error)."""
        await self.action_refresh()
        if self._shown(AgentRoster):
            self.action_select_agent(name)
        self.notify(f"created {name} ({preset})")

    def _welcomed(self, choice: str | None) -> None:
        if choice == "new":
            self.action_new_agent()
        elif choice == "demo":
            self.action_toggle_world()

    # -- the demo world ----------------------------------------------------------------------

    def action_toggle_world(self) -> None:
        if self.demo.options is None:
            if self._refused_read_only("the demo world does not start"):
                return
            self.demo.start(self.kernel, DemoOptions())
            self.run_worker(self._show_demo(), group="demo-start")
        else:
            self.demo.stop()
            self.notify("stopping the demo world")

    async def _show_demo(self) -> None:
        await self.action_refresh()
        if self._shown(TabbedContent):
            self.action_show_tab("ops")

    def _refused_read_only(self, what: str) -> bool:
        """In a read-only workbench, say what did not happen and return True."""
        if self.read_only:
            self.notify(f"read-only: {what} (started with --read-only)", severity="warning")
        return self.read_only

    def _narrate(self, line: str) -> None:
        if log := self._shown(ActivityLog):  # the demo may still talk while the app closes
            log.say(line)
