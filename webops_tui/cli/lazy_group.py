"""The root `webops` group, which imports a command's module only when that command runs.

typer builds every command of an app up front; `LazyGroup` (passed as `typer.Typer(cls=...)`)
keeps the names, modules and help lines of `command_table.COMMANDS` instead, and builds one
command, with typer's own converters and the root's settings, when it is asked for: `webops
status` imports `cli/status.py` and nothing of `run`, `serve` or `apply`. `webops --help` prints
the table's lines cut as click cuts a command's help, so its output is what it was.
"""

from __future__ import annotations

from difflib import get_close_matches
from importlib import import_module

import typer
from typer import _click
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from webops_tui.cli.command_table import COMMANDS


class LazyGroup(TyperGroup):
    """A typer group whose subcommands are `COMMANDS`, each built on first use."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        entry = COMMANDS[cmd_name]
        found = getattr(import_module(entry.module), entry.attribute)
        command: _click.Command
        if isinstance(found, typer.Typer):  # as `app.add_typer(found, name=cmd_name)` built it
            command = get_group_from_info(
                TyperInfo(found, name=cmd_name),
                pretty_exceptions_short=True,
                suggest_commands=self.suggest_commands,
                rich_markup_mode=self.rich_markup_mode,
            )
        else:  # as `app.command(cmd_name)(found)` built it
            command = get_command_from_info(
                CommandInfo(name=cmd_name, callback=found),
                pretty_exceptions_short=True,
                rich_markup_mode=self.rich_markup_mode,
            )
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The commands section from the table, without importing a command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, make_default_short_help(COMMANDS[name].help, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        """typer's, with "Did you mean" drawn from every name, not only the commands built."""
        try:
            return self._click_resolve_command(ctx, args)
        except _click.exceptions.UsageError as exc:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise
