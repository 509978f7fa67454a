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

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, TabbedContent, TabPane

from agent.core.kernel import Kernel
from agent.memory.memory import MemoryKind
from agent.mind.mind import Mind
from webops_tui.demo.in_app import InAppDemo
from webops_tui.demo.options import DemoOptions
from webops_tui.screens.kernel_feed import KernelFeed
from webops_tui.screens.ops_work import OpsWork
from webops_tui.screens.tab_focus import after_input, main_widget
from webops_tui.screens.talk_work import TalkWork
from widgets.activity_log import ActivityLog
from widgets.agent_roster import AgentRoster
from widgets.approvals_queue import ApprovalsQueue
from widgets.chat_panel import ChatPanel
from widgets.emotion_gauges import EmotionGauges
from widgets.filter_bar import FilterBar
from widgets.memory_browser import MemoryBrowser
from widgets.new_agent_dialog import NewAgentDialog, WelcomeDialog
from widgets.quick_chat import QuickChat
from widgets.skills_panel import SkillsPanel
from widgets.targets_panel import TargetsPanel
from widgets.team_relations import TeamRelations

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


class MainScreen(OpsWork, TalkWork):
    """Team, chat, memory, skills, approvals, ops and activity, over one open kernel."""

    HORIZONTAL_BREAKPOINTS = [(WIDE_COLUMNS, "-wide")]
    VERTICAL_BREAKPOINTS = [(TALL_ROWS, "-tall")]

    def __init__(
        self, *, db_name: str, demo: DemoOptions | None = None, read_only: bool = False
    ) -> None:
        super().__init__(read_only=read_only)
        self._feed: KernelFeed | None = None
        self._start_demo = demo
        self.demo = InAppDemo(self, db_name, say=self._narrate)

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
        kernel.follower.start()  # a `webops run` beside it: its checks reach the panels too
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
        if self._kernel is not None:
            await self._kernel.follower.stop()
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

    def action_decide_selected(self, approve: bool) -> None:
        self.action_show_tab("approvals")
        self.query_one(ApprovalsQueue).action_decide(approve)

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

    def _narrate(self, line: str) -> None:
        if log := self._shown(ActivityLog):  # the demo may still talk while the app closes
            log.say(line)
