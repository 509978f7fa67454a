"""MCP over streamable HTTP at /api/mcp, behind the API's own tokens and roles.

`Authenticate` has settled the caller from the bearer token before a request gets here (401
without one), so the tools read it from the request (`scope["state"]["caller"]`) and act with
its role and as `token:NAME`. Stateless with JSON responses: every POST is complete in itself,
so there are no sessions to keep, and a token revoked between two calls is refused at once.
On a read-only server every caller is a viewer here (the `ReadOnly` middleware lets /api/mcp
through, because MCP reads are POSTs too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from agent.core.kernel import Kernel
from agent.core.tokens import Role
from webops_tui.api.auth import Caller
from webops_tui.mcp_server import McpCaller, build_server_for

PATH = "/api/mcp"


def mcp_route(kernel: Kernel, *, read_only: bool) -> tuple[Route, StreamableHTTPSessionManager]:
    """The route to add to the app, and the session manager that `serving` keeps running
    while the server serves (uvicorn runs without a lifespan that could)."""

    def caller_of(ctx: Context) -> McpCaller:
        request = ctx.request_context.request
        scope = getattr(request, "scope", None) or {}
        caller = scope.get("state", {}).get("caller")
        if not isinstance(caller, Caller):  # only if the app was built without `Authenticate`
            raise ToolError("not authenticated: send 'Authorization: Bearer <token>'")
        if read_only:
            who = f"token {caller.token!r} on a read-only server (webops serve --read-only)"
            return McpCaller(min(caller.role, Role.VIEWER), caller.actor, who)
        return McpCaller(caller.role, caller.actor, f"token {caller.token!r}")

    server = build_server_for(kernel, caller_of)
    manager = StreamableHTTPSessionManager(
        # The low-level server is what the session manager drives; `MCPServer` offers it only
        # through `streamable_http_app()`, which would build a second app around the route.
        app=server._lowlevel_server,
        json_response=True,
        stateless=True,
        # Host and Origin checks guard servers without credentials against DNS rebinding; a
        # browser cannot add the bearer token these requests need, and `webops serve --host`
        # may legitimately be reached by any name.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return Route(PATH, StreamableHTTPASGIApp(manager), methods=["GET", "POST", "DELETE"]), manager


@asynccontextmanager
async def serving(
    manager: StreamableHTTPSessionManager, stopping: asyncio.Event
) -> AsyncIterator[None]:
    """Keep `manager.run()` entered, in a task of its own, until `stopping` is set.

    Entered around the serving code itself, its task group would wrap whatever that code
    raises (a busy port's OSError) in an ExceptionGroup, and the one-line error would become
    a traceback."""
    started = asyncio.Event()

    async def hold() -> None:
        async with manager.run():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(hold())
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiting.cancel()
        task.result()  # it failed to start: say why
    try:
        yield
    finally:
        stopping.set()
        await task
