"""Run one kernel call from a synchronous typer command, and send its log where asked."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from webops_tui.cli.output import warning_line

if TYPE_CHECKING:
    from textual.app import App

    from agent.core.kernel import Kernel
    from storage.location import Location
    from webops_tui.config import Settings

T = TypeVar("T")


def clock() -> float:
    """What a command reads as now, on both paths (the kernel's and the light one): emotions
    decay to it."""
    return time.time()


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


def with_kernel(
    ctx: typer.Context, call: Callable[[Kernel], Awaitable[T]], *, creates: bool = False
) -> T:
    """Open the kernel on the session's database, run `call`, and always close it again.

    Only a command that `creates` something (an agent, a target, a runbook, a token) may
    create the database and its folders; any other finds nothing to read or change in a file
    that is not there, so it says so (`NotFound`, exit 2) and leaves the disk alone: a typo in
    `--db` or `WEBOPS_DB` must not leave empty databases and folders behind."""
    import asyncio

    from agent.core.kernel import Kernel

    settings = settings_of(ctx)
    if not creates:
        refuse_missing(settings.db_path)

    async def run() -> T:
        config = settings.kernel_config()
        async with await Kernel.open(settings.db_path, config=config, clock=clock) as kernel:
            kernel.database.read_only = settings.read_only
            warn_unusable(kernel)
            return await call(kernel)

    return asyncio.run(run())


def warn_unusable(kernel: Kernel) -> None:
    """A line on stderr for each stored target or runbook the kernel could not load."""
    for what, why in kernel.ops.unusable.items():
        warning_line(
            f"stored {what} is not loaded ({why}); remove it (webops "
            f"{what.split()[0]} remove {what.split()[1]}) and add it again"
        )


def refuse_missing(path: Location) -> None:
    """`NotFound` unless `path` holds a database (a bad file is refused as `inspect_database`
    refuses it). A server's database is there or the server says it is not."""
    from agent.errors import NotFound
    from storage.inspection import inspect_database

    if isinstance(path, Path) and inspect_database(path.expanduser()) is None:
        raise NotFound(
            f"no webops database at {path}; `webops agent create NAME` or `webops demo` makes one"
        )


#: The levels `WEBOPS_LOG_LEVEL` may name.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_to(path: Path, level: str | None) -> None:
    """Append the kernel's log (`webops.*`: failures it survived, with their tracebacks) to
    `path` at `level` (default INFO). Nothing is ever logged to the terminal: the workbench
    owns the screen, and a script reads stdout."""
    import logging

    from agent.errors import InvalidInput

    name = (level or "INFO").strip().upper()
    if name not in LOG_LEVELS:
        raise InvalidInput(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write the log file {path}: {exc.strerror}") from None
    handler.set_name("webops-log-file")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("webops")
    for old in [h for h in logger.handlers if h.get_name() == handler.get_name()]:
        logger.removeHandler(old)  # one file at a time, however often `main` runs in a process
        old.close()
    logger.addHandler(handler)
    logger.setLevel(name)


def run_workbench(app: App[None]) -> None:
    """Run the workbench until the operator quits, then leave without a last garbage sweep.

    By the time `run` returns the app has closed the kernel (every write is on disk) and the
    demo's services are down. What is left is the interpreter's own shutdown, whose collection
    of the whole heap (the demo's is large) took 2-2.5 s after ctrl+q on a loaded machine;
    `gc.freeze` moves every object out of the collector's reach, so the process ends in
    about 0.2 s while atexit handlers and buffered output still run as usual."""
    import gc

    app.run()
    gc.freeze()
    if app.return_code:
        raise typer.Exit(app.return_code)


def refuse_read_only(ctx: typer.Context, what: str) -> None:
    """`--read-only` is for looking: a command that may run runbooks is refused before it
    starts (a chat or a loop acts before it writes, so a refused write would come too late)."""
    from agent.errors import InvalidInput

    if settings_of(ctx).read_only:
        raise InvalidInput(f"--read-only: {what} can run runbooks; leave out --read-only to act")
