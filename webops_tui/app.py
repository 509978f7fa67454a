"""The Textual workbench, built by `make_app(settings)` so tests can start it on any file.

The app subscribes to the kernel's event bus: events arrive as Textual messages, bursts of
emotion updates coalesce into one repaint (`can_replace`), and the roster is refreshed at most
twice a second however many events arrive.
"""

from __future__ import annotations

import getpass

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane

from agent.errors import WebopsError
from agent.events import (
    ActionFinished,
    ApprovalDecided,
    ApprovalRequested,
    EmotionsChanged,
    KernelEvent,
    StateChanged,
)
from agent.kernel import Kernel
from agent.memory import MemoryKind
from themes import STYLESHEET, THEMES
from webops_tui import __version__
from webops_tui.config import Settings
from widgets.agent_roster import AgentRoster
from widgets.approvals_queue import ApprovalsQueue
from widgets.emotion_gauges import EmotionGauges
from widgets.memory_browser import MemoryBrowser
from widgets.skills_panel import SkillsPanel

ROSTER_REFRESH_S = 0.5


class EmotionsUpdated(Message):
    """An agent's emotions changed; only the newest of a burst needs painting."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EmotionsUpdated) and message.agent == self.agent


class WebopsApp(App[None]):
    TITLE = "webops"
    CSS_PATH = STYLESHEET
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("t", "show_tab('team')", "Team", id="app.team"),
        Binding("m", "show_tab('memory')", "Memory", id="app.memory"),
        Binding("s", "show_tab('skills')", "Skills", id="app.skills"),
        Binding("p", "show_tab('approvals')", "Approvals", id="app.approvals"),
        Binding("slash", "search_memory", "Search", id="app.search_memory"),
        Binding("r", "refresh", "Refresh", id="app.refresh", show=False),
    ]

    def __init__(self, settings: Settings, kernel: Kernel | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.kernel: Kernel | None = kernel
        self._owns_kernel = kernel is None
        self._roster_stale = False
        self._approvals_stale = True
        self._skills_stale = True
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = settings.theme
        self.sub_title = f"{settings.db_path.name} · v{__version__}"

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="team", id="main"):
            with TabPane("Team", id="team"):
                roster = AgentRoster(id="roster", classes="panel")
                roster.border_title = "Agents"
                yield roster
                gauges = EmotionGauges(id="gauges", classes="panel")
                gauges.border_title = "Feelings"
                yield gauges
            with TabPane("Memory", id="memory"):
                browser = MemoryBrowser(id="memory-browser", classes="panel")
                browser.border_title = "Memory"
                yield browser
            with TabPane("Skills", id="skills"):
                skills = SkillsPanel(id="skills-panel", classes="panel")
                skills.border_title = "Skills"
                yield skills
            with TabPane("Approvals", id="approvals"):
                queue = ApprovalsQueue(id="approvals-queue", classes="panel")
                queue.border_title = "Approvals"
                yield queue
        yield Footer()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "memory":
            self.query_one(MemoryBrowser).request()
        elif tab == "skills":
            self._refresh_skills()
        elif tab == "approvals":
            self._refresh_approvals()
            self.query_one("#approvals-table").focus()

    @work(exclusive=True, group="skills")
    async def _refresh_skills(self) -> None:
        name = self.selected_agent
        if self.kernel is not None and name is not None:
            self.query_one(SkillsPanel).show_skills(name, await self.kernel.skills(name))

    @work(exclusive=True, group="approvals")
    async def _refresh_approvals(self) -> None:
        if self.kernel is not None:
            self.query_one(ApprovalsQueue).show_pending(await self.kernel.approvals())

    @on(ApprovalsQueue.Decided)
    def _decided(self, message: ApprovalsQueue.Decided) -> None:
        self._decide(message.approval_id, message.approve)

    @work(group="decide")
    async def _decide(self, approval_id: int, approve: bool) -> None:
        """Approving runs the action, which may take a while: never on the UI's path."""
        if self.kernel is None:
            return
        who = f"operator:{getpass.getuser()}"
        try:
            if approve:
                view = await self.kernel.approve(approval_id, by=who)
                outcome = view.result["status"] if view.result else view.status
                self.notify(f"approval {approval_id}: {view.action} {outcome}")
            else:
                await self.kernel.deny(approval_id, by=who)
                self.notify(f"approval {approval_id} denied")
        except WebopsError as exc:
            self.notify(exc.message, severity="error")
        self._refresh_approvals()
        self._refresh_skills()

    def action_search_memory(self) -> None:
        self.query_one(TabbedContent).active = "memory"
        self.query_one("#memory-search", Input).focus()

    @property
    def selected_agent(self) -> str | None:
        profile = self.query_one(AgentRoster).selected
        return profile.name if profile else None

    @on(MemoryBrowser.SearchRequested)
    def _memory_search(self, message: MemoryBrowser.SearchRequested) -> None:
        self._load_memory(message.kind, message.text)

    @work(exclusive=True, group="memory")
    async def _load_memory(self, kind: MemoryKind, text: str) -> None:
        name = self.selected_agent
        if self.kernel is None or name is None:
            return
        items = await self.kernel.memory(name, kind, text or None, limit=50)
        self.query_one(MemoryBrowser).show_items(name, items)

    async def on_mount(self) -> None:
        if self.kernel is None:
            try:
                self.kernel = await Kernel.open(self.settings.db_path)
            except WebopsError as exc:
                self.exit(return_code=exc.exit_code, message=f"webops: error: {exc.message}")
                return
        self.kernel.bus.subscribe(self._on_kernel_event)
        await self.action_refresh()
        self.set_interval(ROSTER_REFRESH_S, self._refresh_roster_if_stale)
        self.query_one(AgentRoster).table.focus()

    async def on_unmount(self) -> None:
        if self.kernel is not None and self._owns_kernel:
            await self.kernel.close()
            self.kernel = None

    def _on_kernel_event(self, event: KernelEvent) -> None:
        """Runs on the kernel's (the app's) loop: hand the event to Textual and return."""
        if isinstance(event, EmotionsChanged) and event.agent:
            self.post_message(EmotionsUpdated(event.agent))
            self._roster_stale = True
        elif isinstance(event, StateChanged):
            self._roster_stale = True
        elif isinstance(event, ApprovalRequested | ApprovalDecided):
            self._approvals_stale = True
        elif isinstance(event, ActionFinished):
            self._skills_stale = True

    def on_emotions_updated(self, message: EmotionsUpdated) -> None:
        roster = self.query_one(AgentRoster)
        selected = roster.selected
        if selected is not None and selected.name == message.agent:
            self._show_feelings(message.agent)

    def on_agent_roster_selected(self, message: AgentRoster.Selected) -> None:
        self._show_feelings(message.profile.name)
        browser = self.query_one(MemoryBrowser)
        if browser.agent is not None and browser.agent != message.profile.name:
            browser.request()
        self._skills_stale = True

    def _show_feelings(self, name: str) -> None:
        agent = self.kernel.loaded(name) if self.kernel else None
        if agent is not None:
            self.query_one(EmotionGauges).show_mind(name, agent.mind)

    async def _refresh_roster_if_stale(self) -> None:
        if self._roster_stale and self.kernel is not None:
            self._roster_stale = False
            self.query_one(AgentRoster).show_agents(await self.kernel.list_agents())
        if self._approvals_stale:
            self._approvals_stale = False
            self._refresh_approvals()
        if self._skills_stale:
            self._skills_stale = False
            self._refresh_skills()

    async def action_refresh(self) -> None:
        """Start agents created elsewhere (say, by a CLI) and reload the roster."""
        if self.kernel is None:
            return
        await self.kernel.start_all()
        roster = self.query_one(AgentRoster)
        roster.show_agents(await self.kernel.list_agents())
        if roster.selected is not None:
            self._show_feelings(roster.selected.name)


def make_app(settings: Settings, kernel: Kernel | None = None) -> WebopsApp:
    """The workbench on `settings.db_path`, or on an already open `kernel` (the demo, tests)."""
    return WebopsApp(settings, kernel)
