"""The app's own commands in the command palette (ctrl+p): everything a key does, and more."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from webops_tui.app import WebopsApp


class WorkbenchCommands(Provider):
    """Switch agent, new agent, approve/deny, search memory, tabs, theme, the demo world."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app: WebopsApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, object]] = [
            ("New agent", "create an agent from a preset", app.action_new_agent),
            (
                "Search memory",
                "recall by meaning in the selected agent's memory",
                app.action_search_memory,
            ),
            (
                "Approve selected action",
                "approve (and run) the highlighted approval",
                partial(app.action_decide_selected, True),
            ),
            (
                "Deny selected action",
                "deny the highlighted approval",
                partial(app.action_decide_selected, False),
            ),
            ("Copy last reply", "to the clipboard, over SSH too (OSC 52)", app.action_copy),
            (
                "Start or stop the demo world",
                "real services with injected faults",
                app.action_toggle_world,
            ),
        ]
        for tab in ("team", "chat", "memory", "skills", "approvals", "ops", "activity"):
            commands.append(
                (f"Show {tab}", f"switch to the {tab} tab", partial(app.action_show_tab, tab))
            )
        for name in app.agent_names:
            commands.append(
                (
                    f"Switch to agent {name}",
                    "every panel follows",
                    partial(app.action_select_agent, name),
                )
            )
        for theme in app.theme_names:
            commands.append(
                (f"Theme: {theme}", "kept in the config file", partial(app.action_set_theme, theme))
            )
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    callback,  # type: ignore[arg-type]
                    help=help_text,
                )
