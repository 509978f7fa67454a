"""`webops serve`: the REST API, in this process, on the same database as everything else."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.runtime import settings_of

if TYPE_CHECKING:
    from agent.core.config import KernelConfig
    from storage.location import Location
    from webops_tui.retention import RetentionPolicy


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; loopback unless you need more.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port; 0 picks a free one.")] = 8765,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Also run the autonomous loop (webops run) in this process; approvals then "
            "wait for a human: the API, the workbench or webops approvals.",
        ),
    ] = False,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Answer reads only: every request that would change, run or approve "
            "something gets 403 (also: webops --read-only serve).",
        ),
    ] = False,
    ops_file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Apply this ops document first, and again on change."),
    ] = None,
) -> None:
    """Serve the REST API: the CLI's JSON over HTTP, bearer tokens with roles, live events.

    Make a token, then call it:

    \b
      TOKEN=$(webops token create ci --role operator --json | jq -r .token)
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8765/api/agents

    Every route is described at /openapi.json. Ctrl-C or SIGTERM stops it cleanly.

    GET /metrics is for Prometheus (its text format) and needs a token like the rest; a
    viewer's is enough (authorization: credentials: TOKEN in the scrape config).
    GET /api/health needs none: 503 naming the failing parts (the database file not writable,
    a stalled event loop, a failed write-behind flush), 200 otherwise.
    """
    import asyncio

    from agent.errors import InvalidInput

    if not 0 <= port <= 65535:
        raise InvalidInput(f"--port must be between 0 and 65535, got {port}")
    from storage.inspection import inspect_location

    read_only = read_only or settings_of(ctx).read_only
    if read_only and watch:
        raise InvalidInput("--read-only and --watch exclude each other: watching runs remedies")
    db_path = settings_of(ctx).db_path
    inspect_location(db_path)
    from webops_tui.api.server import exposure_warning

    warning = exposure_warning(host)
    if warning:
        sys.stderr.write(warning + "\n")
    config = settings_of(ctx).kernel_config()
    retention = None if read_only else settings_of(ctx).retention
    if read_only and ops_file is not None:
        raise InvalidInput("--read-only and --file exclude each other: applying it changes things")
    asyncio.run(_serve(db_path, host, port, watch, config, read_only, retention, ops_file))


async def _serve(
    db_path: Location,
    host: str,
    port: int,
    watch: bool,
    config: KernelConfig,
    read_only: bool,
    retention: RetentionPolicy | None,
    ops_file: Path | None = None,
) -> None:
    import asyncio

    from agent.core.kernel import Kernel
    from agent.errors import InvalidInput
    from webops_tui.api.app import create_app
    from webops_tui.api.server import serve

    async with await Kernel.open(db_path, config=config) as kernel:
        app = create_app(kernel, read_only=read_only)
        if ops_file is not None:
            from webops_tui.ops_file import apply_file, keep_applied

            await apply_file(kernel, ops_file)
            say = _stderr_line
        tokens = await kernel.tokens.list()
        if not any(t.revoked_at is None for t in tokens):
            sys.stderr.write(
                "note: no tokens yet, so every request will get 401; make one with: "
                "webops token create NAME --role viewer|operator|admin\n"
            )

        def ready(bound_host: str, bound_port: int) -> None:
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            sys.stderr.write(
                f"webops API on http://{shown}:{bound_port}/api (OpenAPI at /openapi.json); "
                + ("read-only; " if read_only else "")
                + "Ctrl-C stops\n"
            )
            sys.stderr.flush()

        background = []
        if retention is not None:
            from webops_tui.retention import keep_pruning

            stopping = app.state.stopping
            background.append(
                asyncio.create_task(keep_pruning(kernel.database, retention, stopping))
            )
        if ops_file is not None:
            stop = app.state.stopping
            background.append(asyncio.create_task(keep_applied(kernel, ops_file, stop, say)))
        # What other processes and nodes store (a `webops run --worker` elsewhere) reaches the
        # event stream too; `--watch`'s autopilot pauses it while it tells its own.
        kernel.follower.start()
        autopilot_task = None
        if watch:
            from agent.core.autopilot import Autopilot

            if not kernel.ops.targets:
                raise InvalidInput("--watch: no targets to watch; add one with webops target add")
            autopilot = Autopilot(kernel, approval_policy="human")
            autopilot_task = asyncio.create_task(autopilot.run(app.state.stopping, None))
        try:
            await serve(app, host, port, on_ready=ready)
        except OSError as exc:
            raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        finally:
            app.state.stopping.set()
            await app.state.mcp.aclose()
            if autopilot_task is not None:
                await autopilot_task
            for task in background:
                await task


def _stderr_line(line: str) -> None:
    from widgets.literal_text import printable

    sys.stderr.write(printable(line) + "\n")
    sys.stderr.flush()
