"""MCP over streamable HTTP at /api/mcp, behind the API's own tokens and roles.

`Authenticate` has settled the caller from the bearer token before a request gets here (401
without one), so the tools read it from the request (`scope["state"]["caller"]`) and act with
its role and as `token:NAME`. Stateless with JSON responses: every POST is complete in itself,
so there are no sessions to keep, and a token revoked between two calls is refused at once.
On a read-only server every caller is a viewer here (the `ReadOnly` middleware lets /api/mcp
through, because MCP reads are POSTs too).

The SDK takes ~0.7 s to import, nearly doubling `webops serve`'s start for every user, most of
whom never call MCP: it is imported (in a thread, so the event loop keeps answering) and the
server built on the first request to /api/mcp.
"""

from __future__ import annotations

import asyncio
from importlib import import_module
from typing import TYPE_CHECKING

from starlette.types import Receive, Scope, Send

from agent.core.kernel import Kernel
from agent.core.tokens import Role
from webops_tui.api.auth import Caller

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from webops_tui.mcp_server import McpCaller

PATH = "/api/mcp"


class McpEndpoint:
    """The ASGI app at /api/mcp: the SDK's session manager, started on first use and kept
    running (its task group holds each request's server task) until `aclose`."""

    def __init__(self, kernel: Kernel, *, read_only: bool) -> None:
        self.kernel = kernel
        self.read_only = read_only
        self._manager: StreamableHTTPSessionManager | None = None
        self._starting = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager or await self._start()
        await manager.handle_request(scope, receive, send)

    async def aclose(self) -> None:
        """Stop the session manager (cancelling requests in flight); a no-op if never used."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _start(self) -> StreamableHTTPSessionManager:
        async with self._starting:
            if self._manager is not None:
                return self._manager
            for module in ("webops_tui.mcp_server", "mcp.server.streamable_http_manager"):
                await asyncio.to_thread(import_module, module)
            manager = self._build()
            started = asyncio.Event()

            async def hold() -> None:
                # A task of its own: entered around serving, the manager's task group would
                # wrap whatever the server raised (a busy port's OSError) in an ExceptionGroup.
                async with manager.run():
                    started.set()
                    await self._stop.wait()

            self._task = asyncio.create_task(hold())
            waiting = asyncio.create_task(started.wait())
            await asyncio.wait({self._task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if not started.is_set():
                waiting.cancel()
                self._task.result()  # it failed to start: say why
            self._manager = manager
            return manager

    def _build(self) -> StreamableHTTPSessionManager:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        from webops_tui.mcp_server import build_server_for

        server = build_server_for(self.kernel, self._caller_of)
        return StreamableHTTPSessionManager(
            # The low-level server is what the session manager drives; `MCPServer` offers it
            # only through `streamable_http_app()`, which would build a second app around it.
            app=server._lowlevel_server,
            json_response=True,
            stateless=True,
            # Host and Origin checks guard servers without credentials against DNS rebinding;
            # a browser cannot add the bearer token these requests need, and a server started
            # with `--host` may rightly be reached by any name.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def _caller_of(self, ctx: Context) -> McpCaller:
        from mcp.server.mcpserver.exceptions import ToolError

        from webops_tui.mcp_server import McpCaller

        request = ctx.request_context.request
        scope = getattr(request, "scope", None) or {}
        caller = scope.get("state", {}).get("caller")
        if not isinstance(caller, Caller):  # only if the app was built without `Authenticate`
            raise ToolError("not authenticated: send 'Authorization: Bearer <token>'")
        if self.read_only:
            who = f"token {caller.token!r} on a read-only server (webops serve --read-only)"
            return McpCaller(min(caller.role, Role.VIEWER), caller.actor, who)
        return McpCaller(caller.role, caller.actor, f"token {caller.token!r}")
