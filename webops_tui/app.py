"""The Textual workbench, built by `make_app(settings)` so tests can start it on any file."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header

from agent.errors import WebopsError
from agent.kernel import Kernel
from themes import STYLESHEET, THEMES
from webops_tui import __version__
from webops_tui.config import Settings
from widgets.agent_roster import AgentRoster


class WebopsApp(App[None]):
    TITLE = "webops"
    CSS_PATH = STYLESHEET
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.kernel: Kernel | None = None
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = settings.theme
        self.sub_title = f"{settings.db_path.name} · v{__version__}"

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="main"):
            roster = AgentRoster(id="roster", classes="panel")
            roster.border_title = "Agents"
            yield roster
        yield Footer()

    async def on_mount(self) -> None:
        try:
            self.kernel = await Kernel.open(self.settings.db_path)
        except WebopsError as exc:
            self.exit(return_code=exc.exit_code, message=f"webops: error: {exc.message}")
            return
        await self.action_refresh()
        self.query_one(AgentRoster).table.focus()

    async def on_unmount(self) -> None:
        if self.kernel is not None:
            await self.kernel.close()
            self.kernel = None

    async def action_refresh(self) -> None:
        """Reload the roster from the kernel."""
        if self.kernel is None:
            return
        self.query_one(AgentRoster).show_agents(await self.kernel.list_agents())


def make_app(settings: Settings) -> WebopsApp:
    return WebopsApp(settings)
