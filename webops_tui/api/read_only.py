"""`webops serve --read-only`: an API to look with (k9s's habit), for a wall screen or a
colleague's token, from which nothing can be changed, run or approved whatever the role."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from webops_tui.api.errors import error_response
from webops_tui.api.mcp_mount import PATH as MCP_PATH

#: Methods that only read; every other one changes, runs or approves something.
READING = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSAL = (
    "the server runs read-only (webops serve --read-only): nothing can be changed, run or approved"
)


class ReadOnly:
    """403 for every request under /api that is not a read, before its body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in READING
            and scope.get("path", "").startswith("/api/")
            # MCP reads are POSTs too; its tools treat every caller as a viewer instead.
            and scope.get("path") != MCP_PATH
        ):
            await error_response(403, REFUSAL)(scope, receive, send)
            return
        await self.app(scope, receive, send)
