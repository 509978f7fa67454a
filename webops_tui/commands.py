"""The app's own commands in the command palette (ctrl+p): everything a key does, and more.

The commands act on the workbench's `MainScreen` (found on the screen stack, so the palette
works over a dialog too) and on the app's themes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider

from webops_tui.screens.main import MainScreen

TABS = ("team", "chat", "memory", "skills", "approvals", "ops", "activity")


class Command(NamedTuple):
    name: str
    help: str
    run: Callable[[], object]


def _set_theme(app: App[object], theme: str) -> None:
    app.theme = theme  # the app keeps the choice in the config file


class WorkbenchCommands(Provider):
    """Switch agent, new agent, approve/deny, search memory, tabs, theme, the demo world."""

    def _main_screen(self) -> MainScreen | None:
        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _commands(self) -> list[Command]:
        commands: list[Command] = []
        main = self._main_screen()
        if main is not None:
            commands += [
                Command("New agent", "create an agent from a preset", main.action_new_agent),
                Command(
                    "Search memory",
                    "recall by meaning in the selected agent's memory",
                    main.action_search_memory,
                ),
                Command(
                    "Approve selected action",
                    "approve (and run) the highlighted approval",
                    partial(main.action_decide_selected, True),
                ),
                Command(
                    "Deny selected action",
                    "deny the highlighted approval",
                    partial(main.action_decide_selected, False),
                ),
                Command(
                    "Copy last reply", "to the clipboard, over SSH too (OSC 52)", main.action_copy
                ),
                Command(
                    "Start or stop the demo world",
                    "real services with injected faults",
                    main.action_toggle_world,
                ),
            ]
            for tab in TABS:
                commands.append(
                    Command(
                        f"Show {tab}",
                        f"switch to the {tab} tab",
                        partial(main.action_show_tab, tab),
                    )
                )
            for name in main.agent_names:
                commands.append(
                    Command(
                        f"Switch to agent {name}",
                        "every panel follows",
                        partial(main.action_select_agent, name),
                    )
                )
        for theme in sorted(self.app.available_themes):
            commands.append(
                Command(
                    f"Theme: {theme}",
                    "kept in the config file",
                    partial(_set_theme, self.app, theme),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)
