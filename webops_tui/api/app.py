"""Build the FastAPI application around an open kernel (the composition root passes it in)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.routing import Route

from agent.core.kernel import Kernel
from webops_tui import __version__
from webops_tui.api import metrics
from webops_tui.api.auth import Authenticate, RoleFirst
from webops_tui.api.errors import ApiError, BodyLimit, install_error_handlers
from webops_tui.api.health import router as health_router
from webops_tui.api.loop_probe import LoopProbe
from webops_tui.api.mcp_mount import PATH as MCP_PATH
from webops_tui.api.mcp_mount import McpEndpoint
from webops_tui.api.read_only import ReadOnly
from webops_tui.api.routes import (
    agents,
    approvals,
    events,
    incidents,
    ops,
    silences,
    team,
    tokens,
)

#: Request bodies are small JSON documents; anything bigger is refused with 413.
MAX_BODY_BYTES = 64 * 1024
HEARTBEAT_S = 15.0


def create_app(
    kernel: Kernel,
    *,
    max_body: int = MAX_BODY_BYTES,
    heartbeat_s: float = HEARTBEAT_S,
    read_only: bool = False,
) -> FastAPI:
    """The API over `kernel`, which the caller opened and will close.

    The interactive docs pages are off: they load their scripts from a CDN, and nothing here
    downloads at run time. `/openapi.json` describes every route.
    """
    app = FastAPI(
        title="webops-tui",
        version=__version__,
        summary="The REST face of the webops-tui agent kernel: the CLI's JSON over HTTP.",
        docs_url=None,
        redoc_url=None,
        responses={
            401: {"model": ApiError, "description": "No token, or not a valid one."},
            403: {"model": ApiError, "description": "The token's role is too low."},
            404: {"model": ApiError, "description": "No such agent, approval, incident, target..."},
            409: {"model": ApiError, "description": "The name is taken, or already decided."},
            413: {"model": ApiError, "description": "The request body is too large."},
            422: {"model": ApiError, "description": "The request is malformed."},
            503: {"model": ApiError, "description": "The database is busy; retry (Retry-After)."},
        },
    )
    app.state.kernel = kernel
    app.state.heartbeat_s = heartbeat_s
    #: Set when the server is stopping, so open event streams end instead of holding it up.
    app.state.stopping = asyncio.Event()
    app.state.read_only = read_only
    app.state.loop_probe = LoopProbe(app.state.stopping)
    app.state.metrics = metrics.Metrics(kernel)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=max_body)
    routers = [
        m.router
        for m in (agents, approvals, incidents, ops, silences, team, tokens, events, metrics)
    ]
    app.add_middleware(RoleFirst, routers=routers)  # a role too low: 403 before any body read
    if read_only:
        app.add_middleware(ReadOnly)  # after the token check: 401 still comes first
    app.add_middleware(Authenticate, kernel=kernel)  # outermost: no token, no body read

    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    # MCP for models (webops_tui/mcp_server.py), with the same tokens and roles; not a FastAPI
    # route, so /openapi.json leaves it out. `webops serve` closes it (`app.state.mcp.aclose`).
    app.state.mcp = McpEndpoint(kernel, read_only=read_only)
    app.router.routes.append(Route(MCP_PATH, app.state.mcp, methods=["GET", "POST", "DELETE"]))
    return app
