"""`webops mcp`: the MCP server on stdio, for an MCP client that starts it as a subprocess."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.runtime import clock, refuse_missing, settings_of, warn_unusable

if TYPE_CHECKING:
    from agent.core.config import KernelConfig
    from agent.core.kernel import Kernel
    from storage.location import Location


def mcp(
    ctx: typer.Context,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Viewer role: the reading tools only; check_target, request_runbook, approve "
            "and deny are refused (also: webops --read-only mcp).",
        ),
    ] = False,
) -> None:
    """Serve MCP on stdio: let an MCP client (a model) read and ask the agents.

    Tools: list_agents, agent_status, list_incidents, list_approvals, recall; and, with the
    operator role: check_target, request_runbook (a risky runbook only queues an approval),
    approve, deny. Resources: webops://agents/{agent}/facts, webops://incidents/{id}/report.
    The caller is you, the local user, with the operator role; approvals are audited as
    `webops approvals --approve` audits them.

    In the client's configuration (Claude Desktop, VS Code and others):

    \b
      {"mcpServers": {"webops": {"command": "webops",
                                 "args": ["--db", "/path/to/webops.db", "mcp"]}}}

    stdout carries only MCP messages; errors go to stderr. Over HTTP instead: webops serve,
    at /api/mcp with a bearer token.
    """
    import asyncio

    settings = settings_of(ctx)
    refuse_missing(settings.db_path)  # never creates a database a typo in --db named
    read_only = read_only or settings.read_only
    asyncio.run(_serve_stdio(settings.db_path, settings.kernel_config(), read_only))


async def _serve_stdio(db_path: Location, config: KernelConfig, read_only: bool) -> None:
    import asyncio
    import signal

    from agent.core.audit_trail import os_actor
    from agent.core.kernel import Kernel
    from agent.core.tokens import Role
    from webops_tui.mcp_server import build_server

    async with await Kernel.open(db_path, config=config, clock=clock) as kernel:
        kernel.database.read_only = read_only
        role = Role.VIEWER if read_only else Role.OPERATOR
        who = (
            "this read-only MCP session (webops mcp --read-only)"
            if read_only
            else f"the local user {os_actor()!r}"
        )
        server = build_server(kernel, role, os_actor(), who=who)
        warn_unusable(kernel)
        # A client ends its server with SIGTERM when closing stdin was not enough. The SDK's
        # stdin reader is a thread that cannot be cancelled, so rather than wait for a stdin that
        # may never close: write what the kernel holds in memory (episodes, emotions, learned
        # values), then die of the signal. (A full `close` here raced the SDK's running task
        # group: stopping the agents was cancelled half-way and nothing was written.)
        loop, flushing = asyncio.get_running_loop(), set()
        loop.add_signal_handler(
            signal.SIGTERM, lambda: flushing.add(loop.create_task(_flush_then_die(kernel)))
        )
        await server.run_stdio_async()


async def _flush_then_die(kernel: Kernel) -> None:
    import os
    import signal

    try:
        if not kernel.database.read_only:  # opened to look with: what changed is let go
            await kernel.flush()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
