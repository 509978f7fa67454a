"""`webops tui` (and `webops` with no command): open the Textual workbench."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from webops_tui.cli.runtime import run_workbench, settings_of

if TYPE_CHECKING:
    from webops_tui.config import Settings


def tui(ctx: typer.Context) -> None:
    """Open the workbench (the same as running webops with no command)."""
    open_workbench(settings_of(ctx))


def open_workbench(settings: Settings) -> None:
    """Refuse a bad database file before the screen is taken over, then run the workbench."""
    from storage.inspection import inspect_location

    inspect_location(settings.db_path)
    from webops_tui.app import make_app

    run_workbench(make_app(settings))
