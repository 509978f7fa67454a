"""The Textual workbench, built by `make_app(settings)` so tests can start it on any file.

The app subscribes to the kernel's event bus: events arrive as Textual messages, bursts of
emotion updates coalesce into one repaint (`can_replace`), and the roster is refreshed at most
twice a second however many events arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import time
from dataclasses import dataclass

from textual import events, on, work
from textual.app import App, ComposeResult, InvalidThemeError
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Static, TabbedContent, TabPane

from agent.core.kernel import Kernel
from agent.errors import WebopsError
from agent.events import (
    ActionFinished,
    AgentSaid,
    ApprovalDecided,
    ApprovalRequested,
    EmotionsChanged,
    IncidentChanged,
    KernelEvent,
    StateChanged,
    TargetChecked,
)
from agent.memory.memory import MemoryKind
from themes import STYLESHEET, THEMES
from webops_tui import __version__
from webops_tui.commands import WorkbenchCommands
from webops_tui.config import DEFAULT_THEME, Settings
from widgets.activity_log import ActivityLog, describe
from widgets.agent_roster import AgentRoster
from widgets.approvals_queue import ApprovalsQueue
from widgets.chat_panel import ChatPanel
from widgets.emotion_gauges import EmotionGauges
from widgets.memory_browser import MemoryBrowser
from widgets.new_agent_dialog import NewAgentDialog, WelcomeDialog
from widgets.skills_panel import SkillsPanel
from widgets.targets_panel import TargetsPanel

ROSTER_REFRESH_S = 0.5
#: How often the targets panel and the activity log repaint, however many events arrived.
PANEL_REFRESH_S = 0.25
#: From this width on the Team tab shows roster and feelings side by side.
WIDE_COLUMNS = 150


@dataclass(frozen=True)
class DemoOptions:
    """Run the demo world inside the workbench (`webops demo`)."""

    seed: int = 7
    approve: str = "human"
    duration_s: float | None = None


class EmotionsUpdated(Message):
    """An agent's emotions changed; only the newest of a burst needs painting."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EmotionsUpdated) and message.agent == self.agent


#: The one-panel tabs after Team: tab label, tab id, widget, widget id, border title.
_TABS: tuple[tuple[str, str, type[Widget], str, str], ...] = (
    ("Chat", "chat", ChatPanel, "chat-panel", "Chat"),
    ("Memory", "memory", MemoryBrowser, "memory-browser", "Memory"),
    ("Skills", "skills", SkillsPanel, "skills-panel", "Skills"),
    ("Approvals", "approvals", ApprovalsQueue, "approvals-queue", "Approvals"),
    ("Ops", "ops", TargetsPanel, "targets-panel", "Targets"),
    ("Activity", "activity", ActivityLog, "activity-log", "Activity"),
)


def _panel(widget: Widget, title: str) -> Widget:
    widget.border_title = title
    return widget


class WebopsApp(App[None]):
    TITLE = "webops"
    CSS_PATH = STYLESHEET
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("question_mark", "show_help_panel", "Keys", id="app.keys"),
        Binding("y", "copy", "Copy", id="app.copy", show=False),
        Binding("n", "new_agent", "New agent", id="app.new_agent", show=False),
        Binding("t", "show_tab('team')", "Team", id="app.team", show=False),
        Binding("c", "show_tab('chat')", "Chat", id="app.chat"),
        Binding("m", "show_tab('memory')", "Memory", id="app.memory", show=False),
        Binding("s", "show_tab('skills')", "Skills", id="app.skills", show=False),
        Binding("p", "show_tab('approvals')", "Approvals", id="app.approvals"),
        Binding("o", "show_tab('ops')", "Ops", id="app.ops", show=False),
        Binding("l", "show_tab('activity')", "Log", id="app.activity", show=False),
        Binding("slash", "search_memory", "Search", id="app.search_memory"),
        Binding("r", "refresh", "Refresh", id="app.refresh", show=False),
    ]

    def __init__(
        self, settings: Settings, kernel: Kernel | None = None, demo: DemoOptions | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.demo = demo
        self._demo_stop = asyncio.Event()
        self.kernel: Kernel | None = kernel
        self._owns_kernel = kernel is None
        self._roster_stale = False
        self._approvals_stale = True
        self._skills_stale = True
        for theme in THEMES:
            self.register_theme(theme)
        self._bad_theme: str | None = None
        try:
            self.theme = settings.theme
        except InvalidThemeError:
            self.theme = DEFAULT_THEME
            self._bad_theme = settings.theme
        self.last_reply = ""
        self.sub_title = f"{settings.db_path.name} · v{__version__}"

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="team", id="main"):
            with TabPane("Team", id="team"):
                yield _panel(AgentRoster(id="roster", classes="panel"), "Agents")
                yield _panel(EmotionGauges(id="gauges", classes="panel"), "Feelings")
                with Horizontal(id="quick-chat"):
                    yield Input(
                        placeholder="say something to the agent (Enter)…", id="quick-chat-input"
                    )
                    yield Static("", id="quick-reply")
            for tab, tab_id, widget_type, widget_id, title in _TABS:
                with TabPane(tab, id=tab_id):
                    yield _panel(widget_type(id=widget_id, classes="panel"), title)
        yield Footer()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "memory":
            self.query_one(MemoryBrowser).request()
        elif tab == "skills":
            self._refresh_skills()
        elif tab == "chat":
            self.query_one("#chat-input").focus()
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

    @on(ChatPanel.Sent)
    def _chat_sent(self, message: ChatPanel.Sent) -> None:
        self._talk(message.text, message.channel)

    @on(Input.Submitted, "#quick-chat-input")
    def _quick_chat(self, event: Input.Submitted) -> None:
        """The Team tab's one-line chat: the same conversation as the Chat tab."""
        text = event.value.strip()
        event.input.value = ""
        if text:
            self.query_one(ChatPanel).add_line("you", text, "chat-operator")
            self._talk(text, "agent")

    @work(group="chat")
    async def _talk(self, text: str, channel: str) -> None:
        """Chat runs the agent (a check, a runbook): a worker, never the UI's path."""
        panel = self.query_one(ChatPanel)
        name = self.selected_agent
        if self.kernel is None or name is None:
            return
        who = f"operator:{getpass.getuser()}"
        try:
            if channel == "team":
                await self.kernel.messages.broadcast(who, "team", text)
                return
            from agent.core.conversation import chat

            reply = await chat(self.kernel, name, text, operator=who)
        except WebopsError as exc:
            panel.add_line("webops", exc.message, "chat-team")
            return
        panel.show_reply(name, reply.reply, reply.intent, reply.explanation)
        self.query_one("#quick-reply", Static).update(f"[b]{name}[/b]: {reply.reply}")
        why = (reply.explanation or {}).get("summary", "")
        self.last_reply = f"{name}: {reply.reply}" + (f"\nwhy: {why}" if why else "")

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

    @property
    def agent_names(self) -> list[str]:
        return [p.name for p in self.query_one(AgentRoster).profiles]

    @property
    def theme_names(self) -> list[str]:
        return sorted(self.available_themes)

    async def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        if self._bad_theme:
            self.notify(
                f"unknown theme {self._bad_theme!r} in the config; using {self.theme}",
                severity="warning",
            )
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.kernel is None:
            try:
                self.kernel = await Kernel.open(self.settings.db_path)
            except WebopsError as exc:
                self.exit(return_code=exc.exit_code, message=f"webops: error: {exc.message}")
                return
        self.kernel.bus.subscribe(self._on_kernel_event)
        if self.demo is not None:
            await self._start_demo(self.demo)
        await self.action_refresh()
        self.set_interval(ROSTER_REFRESH_S, self._refresh_roster_if_stale)
        self.set_interval(PANEL_REFRESH_S, self._repaint_live_panels)
        if self.demo is not None:
            self.query_one(TabbedContent).active = "ops"
        else:
            self.query_one(AgentRoster).table.focus()
            if not self.agent_names:
                self.push_screen(WelcomeDialog(), self._welcomed)

    def on_resize(self, event: events.Resize) -> None:
        """Wide terminals put the team's panels side by side instead of stacking them."""
        self.screen.set_class(event.size.width >= WIDE_COLUMNS, "-wide")

    def _welcomed(self, choice: str | None) -> None:
        if choice == "new":
            self.action_new_agent()
        elif choice == "demo":
            self.action_toggle_world()

    def _theme_changed(self, theme: object) -> None:
        try:
            self.settings.remember_theme(self.theme)
        except (OSError, WebopsError) as exc:
            self.notify(f"could not save the theme: {exc}", severity="warning")

    def action_set_theme(self, theme: str) -> None:
        self.theme = theme

    def action_select_agent(self, name: str) -> None:
        roster = self.query_one(AgentRoster)
        names = self.agent_names
        if name in names:
            roster.table.move_cursor(row=names.index(name))

    def action_new_agent(self) -> None:
        def created(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._create_agent(*answer)

        self.push_screen(NewAgentDialog(), created)

    @work(group="agents")
    async def _create_agent(self, name: str, preset: str) -> None:
        if self.kernel is None:
            return
        try:
            await self.kernel.create_agent(name, preset)
        except WebopsError as exc:
            self.notify(exc.message, severity="error")
            return
        await self.action_refresh()
        self.action_select_agent(name)
        self.notify(f"created {name} ({preset})")

    def action_decide_selected(self, approve: bool) -> None:
        self.action_show_tab("approvals")
        self.query_one(ApprovalsQueue).action_decide(approve)

    def action_copy(self) -> None:
        """Copy the last reply (with its explanation) to the clipboard: OSC 52 over SSH."""
        if not self.last_reply:
            self.notify("nothing to copy yet: chat with an agent first", severity="warning")
            return
        self.copy_to_clipboard(self.last_reply)
        self.notify("copied the last reply")

    def action_toggle_world(self) -> None:
        if self.demo is None:
            self.demo = DemoOptions()
            self.run_worker(self._begin_demo(), group="demo-start")
        else:
            self._demo_stop.set()
            self.notify("stopping the demo world")

    async def _begin_demo(self) -> None:
        assert self.demo is not None
        self._demo_stop = asyncio.Event()
        await self._start_demo(self.demo)
        await self.action_refresh()
        self.query_one(TabbedContent).active = "ops"

    async def _start_demo(self, options: DemoOptions) -> None:
        from webops_tui.demo.runner import run_demo
        from webops_tui.demo.world import DemoWorld

        assert self.kernel is not None
        self.kernel.config = self.kernel.config.model_copy(update={"seed": options.seed})
        world = DemoWorld(options.seed)
        self.sub_title = f"demo world · {self.settings.db_path.name}"
        log = self.query_one(ActivityLog)

        async def run() -> None:
            assert self.kernel is not None
            try:
                summary = await run_demo(
                    self.kernel,
                    world,
                    seed=options.seed,
                    duration_s=options.duration_s,
                    approve=options.approve,  # type: ignore[arg-type]
                    stop=self._demo_stop,
                    say=lambda line: log.add(time.time(), line),
                )
                self.notify(
                    f"demo finished: {summary.incidents['resolved']} of "
                    f"{summary.incidents['opened']} incidents resolved"
                )
            finally:
                world.stop()

        self.run_worker(run(), group="demo", exit_on_error=False)

    def _repaint_live_panels(self) -> None:
        with contextlib.suppress(NoMatches):  # a tick may land while the app closes
            self.query_one(TargetsPanel).repaint()
            self.query_one(ActivityLog).flush_pending()

    async def on_unmount(self) -> None:
        self._demo_stop.set()
        await self.workers.wait_for_complete()
        if self.kernel is not None and self._owns_kernel:
            await self.kernel.close()
            self.kernel = None

    def _on_kernel_event(self, event: KernelEvent) -> None:
        """Runs on the kernel's (the app's) loop: hand the event to Textual and return."""
        with contextlib.suppress(NoMatches):  # events may still come while the app closes
            self._route(event)

    def _route(self, event: KernelEvent) -> None:
        if isinstance(event, EmotionsChanged) and event.agent:
            self.post_message(EmotionsUpdated(event.agent))
            self._roster_stale = True
        elif isinstance(event, StateChanged):
            self._roster_stale = True
        elif isinstance(event, ApprovalRequested | ApprovalDecided):
            self._approvals_stale = True
        elif isinstance(event, ActionFinished):
            self._skills_stale = True
        if isinstance(event, AgentSaid) and event.channel == "team" and event.agent:
            self.query_one(ChatPanel).show_team(event.agent, event.text)
        if isinstance(event, TargetChecked):
            self.query_one(TargetsPanel).record_check(event)
        elif isinstance(event, IncidentChanged):
            self.query_one(TargetsPanel).record_incident(event)
        line = describe(event)
        if line is not None:
            self.query_one(ActivityLog).add(event.ts, line)

    def on_emotions_updated(self, message: EmotionsUpdated) -> None:
        roster = self.query_one(AgentRoster)
        selected = roster.selected
        if selected is not None and selected.name == message.agent:
            self._show_feelings(message.agent)

    def on_agent_roster_selected(self, message: AgentRoster.Selected) -> None:
        self._show_feelings(message.profile.name)
        self.query_one(ChatPanel).set_agent(message.profile.name)
        browser = self.query_one(MemoryBrowser)
        if browser.agent is not None and browser.agent != message.profile.name:
            browser.request()
        self._skills_stale = True

    def _show_feelings(self, name: str) -> None:
        agent = self.kernel.loaded(name) if self.kernel else None
        if agent is not None:
            self.query_one(EmotionGauges).show_mind(name, agent.mind)

    async def _refresh_roster_if_stale(self) -> None:
        with contextlib.suppress(NoMatches):  # a tick may land while the app closes
            await self._refresh_stale()

    async def _refresh_stale(self) -> None:
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


def make_app(
    settings: Settings, kernel: Kernel | None = None, demo: DemoOptions | None = None
) -> WebopsApp:
    """The workbench on `settings.db_path`, or on an already open `kernel` (tests); with
    `demo`, the demo world runs inside it."""
    return WebopsApp(settings, kernel, demo)
