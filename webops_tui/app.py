"""The Textual workbench, built by `make_app(settings)` so tests can start it on any file.

The App holds what lives as long as the process: the kernel (opened here unless one is handed
in, closed on the way out), the themes and the user's choice of one, the key bindings with
their ids (remapped from the config file's keymap) and the command palette. What the operator
sees and does is the `MainScreen`, the app's default screen, which the app starts on the kernel
once it is open; the bindings below act on that screen (`screen.…` actions), so the keymap
stays in one place.
"""

from __future__ import annotations

from textual.app import App, InvalidThemeError
from textual.binding import Binding
from textual.screen import Screen

from agent.core.kernel import Kernel
from agent.errors import WebopsError
from themes import STYLESHEET, THEMES
from webops_tui import __version__
from webops_tui.commands import WorkbenchCommands
from webops_tui.config import DEFAULT_THEME, Settings
from webops_tui.demo.options import DemoOptions
from webops_tui.screens.main import MainScreen
from widgets.keys_help import KeysHelp

__all__ = ["DemoOptions", "WebopsApp", "make_app"]


class WebopsApp(App[None]):
    TITLE = "webops"
    CSS_PATH = STYLESHEET
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("question_mark", "toggle_help", "Keys", id="app.keys"),
        Binding("y", "screen.copy", "Copy", id="app.copy", show=False),
        Binding("n", "screen.new_agent", "New agent", id="app.new_agent", show=False),
        Binding("t", "screen.show_tab('team')", "Team", id="app.team", show=False),
        Binding("c", "screen.show_tab('chat')", "Chat", id="app.chat"),
        Binding("m", "screen.show_tab('memory')", "Memory", id="app.memory", show=False),
        Binding("s", "screen.show_tab('skills')", "Skills", id="app.skills", show=False),
        Binding("p", "screen.show_tab('approvals')", "Approvals", id="app.approvals"),
        Binding("o", "screen.show_tab('ops')", "Ops", id="app.ops", show=False),
        Binding("l", "screen.show_tab('activity')", "Log", id="app.activity", show=False),
        # Priority: the filter opens before the keys typed right after `/` are handed on (fast
        # over SSH, or pasted), so they land in it; in an input, `/` is typed as text.
        Binding("slash", "screen.search_memory", "Search", id="app.search_memory", priority=True),
        Binding("r", "screen.refresh", "Refresh", id="app.refresh", show=False),
        Binding("escape", "screen.leave", "Leave input", id="app.leave", show=False),
        Binding("j", "screen.cursor(True)", "Down (like ↓)", id="app.down", show=False),
        Binding("k", "screen.cursor(False)", "Up (like ↑)", id="app.up", show=False),
    ]

    def __init__(
        self, settings: Settings, kernel: Kernel | None = None, demo: DemoOptions | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self._demo = demo
        self.kernel: Kernel | None = kernel
        self._owns_kernel = kernel is None
        self._main: MainScreen | None = None
        for theme in THEMES:
            self.register_theme(theme)
        self._bad_theme: str | None = None
        try:
            self.theme = settings.theme
        except InvalidThemeError:
            self.theme = DEFAULT_THEME
            self._bad_theme = settings.theme
        self.sub_title = f"{settings.db_path.name} · v{__version__}"
        if settings.read_only:
            self.sub_title += " · read-only"

    def get_default_screen(self) -> Screen[None]:
        self._main = MainScreen(
            db_name=self.settings.db_path.name,
            demo=self._demo,
            read_only=self.settings.read_only,
        )
        return self._main

    @property
    def main_screen(self) -> MainScreen:
        """The workbench's screen (there once the app runs)."""
        if self._main is None:
            raise RuntimeError("the workbench is not running")
        return self._main

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
                self.kernel = await Kernel.open(
                    self.settings.db_path, config=self.settings.kernel_config()
                )
            except WebopsError as exc:
                self.exit(return_code=exc.exit_code, message=f"webops: error: {exc.message}")
                return
        await self.main_screen.start(self.kernel)

    async def on_unmount(self) -> None:
        """The screens are gone (their work finished with them): close the kernel we opened."""
        if self.kernel is not None and self._owns_kernel:
            await self.kernel.close()
            self.kernel = None

    def _theme_changed(self, theme: object) -> None:
        try:
            self.settings.remember_theme(self.theme)
        except (OSError, WebopsError) as exc:
            self.notify(f"could not save the theme: {exc}", severity="warning")

    def action_toggle_help(self) -> None:
        """`?` opens every key over the app (the overlay's own `?` and Escape close it): the
        app's keys as remapped by the config, then each tab's."""
        if isinstance(self.screen, KeysHelp):
            self.screen.dismiss(None)
            return
        anywhere: dict[str, tuple[str, str]] = {}
        for active in self.main_screen.active_bindings.values():
            binding = active.binding
            if active.node is self and binding.description and binding.id not in anywhere:
                anywhere[binding.id or binding.action] = (
                    self.get_key_display(binding),
                    binding.description,
                )
        self.push_screen(KeysHelp(list(anywhere.values())))

    def action_set_theme(self, theme: str) -> None:
        self.theme = theme


def make_app(
    settings: Settings, kernel: Kernel | None = None, demo: DemoOptions | None = None
) -> WebopsApp:
    """The workbench on `settings.db_path`, or on an already open `kernel` (tests); with
    `demo`, the demo world runs inside it."""
    return WebopsApp(settings, kernel, demo)
