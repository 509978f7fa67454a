"""The `webops` command line: thin typer commands over the kernel.

Heavy modules (SQLAlchemy, Textual, numpy) are imported inside the commands that use them, so
`webops --help` stays fast; a test keeps it that way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from agent.errors import WebopsError
from webops_tui import __version__
from webops_tui.cli.lazy_group import LazyGroup
from webops_tui.cli.output import error_line
from webops_tui.cli.runtime import log_to
from webops_tui.paths import default_db_path

app = typer.Typer(
    name="webops",
    help="A terminal workbench for WebOps agents. With no command, opens the workbench.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=LazyGroup,  # each command's module is imported when it runs (command_table.py)
)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"webops-tui {__version__}\n")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="WEBOPS_DB",
            help=f"SQLite database file (default: {default_db_path()}), or a PostgreSQL "
            "database that several workers share: postgresql://USER@HOST[:PORT]/DATABASE "
            "(needs the postgres extra).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="WEBOPS_CONFIG",
            help="Config file with the theme and key remappings (TOML).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
    ] = False,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Workbench and serve only look: nothing can be run, approved, created or "
            "started (the API answers 403 to every change).",
        ),
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            envvar="WEBOPS_LOG",
            help="Append the kernel's log (failures it survived) to this file; "
            "WEBOPS_LOG_LEVEL sets the level (default INFO).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    from webops_tui.config import Settings

    if log_file is not None:
        log_to(log_file, os.environ.get("WEBOPS_LOG_LEVEL"))
    ctx.obj = Settings.resolve(db, debug=debug, config_path=config, read_only=read_only)
    if ctx.invoked_subcommand is None:
        from webops_tui.cli.workbench import open_workbench

        open_workbench(ctx.obj)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `webops` script: every failure becomes one line and an exit code."""
    from storage.file_modes import forget_warnings

    forget_warnings()  # each command names loose files once (a test runs many in one process)
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="webops", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors from typer/click
        error_line(exc.format_message())
        return int(getattr(exc, "exit_code", 2))
    except typer.Abort:
        error_line("aborted")
        return 1
    except WebopsError as exc:
        if "--debug" in args:
            raise
        error_line(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0
