"""`GET /api/health`: an honest answer for load balancers and for the operator who asks.

Healthy means the parts that keep the kernel's promises work: the database can still be
written (an open SQLite descriptor keeps writing after `chmod 444`, so the file itself is
looked at: agent/storage `unwritable_now`), the event loop is prompt (`LoopProbe`), and the
newest write-behind flush succeeded (what agents learned otherwise only lives in memory).
Unhealthy is 503 with the failing parts named. A server run `--read-only` chose not to write:
that is said in the body and is no failure. The route needs no token, so it names what is
wrong and never a path, a token or an error's text.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from agent.core.kernel import Kernel
from storage.writable import unwritable_now
from webops_tui import __version__
from webops_tui.api.loop_probe import LAG_LIMIT_S, LoopProbe

router = APIRouter(tags=["health"])


class DatabaseHealth(BaseModel):
    ok: bool
    writable: bool
    #: Why it cannot be written ("the database file is read-only (mode 0444)"); "" when it can.
    detail: str = ""


class LoopHealth(BaseModel):
    ok: bool
    #: The worst lateness of the event loop lately, in milliseconds.
    lag_ms: float
    limit_ms: float


class FlushHealth(BaseModel):
    ok: bool
    #: Seconds since the last write-behind flush that succeeded (since the start before one).
    last_flush_age_s: float
    errors: int


class Health(BaseModel):
    #: "ok" (200) or "unhealthy" (503).
    status: str
    version: str
    #: Served with --read-only: nothing is written on purpose, so an unwritable file is fine.
    read_only: bool
    #: The parts that fail: "database", "loop", "write_behind".
    failing: list[str]
    database: DatabaseHealth
    loop: LoopHealth
    write_behind: FlushHealth


async def health_of(kernel: Kernel, probe: LoopProbe, read_only: bool) -> Health:
    path = kernel.database.path
    refusal = None if path is None else unwritable_now(path)
    refusal = refusal or await kernel.database.server_refusal()
    read_only = read_only or kernel.database.read_only
    database = DatabaseHealth(
        ok=refusal is None or read_only, writable=refusal is None, detail=refusal or ""
    )
    lag = await probe.lag_s()
    loop = LoopHealth(
        ok=lag < LAG_LIMIT_S, lag_ms=round(lag * 1000, 1), limit_ms=LAG_LIMIT_S * 1000
    )
    flusher = kernel.write_behind
    flush = FlushHealth(
        ok=not flusher.failing or read_only,
        last_flush_age_s=round(flusher.flush_age_s, 3),
        errors=flusher.errors,
    )
    parts = {"database": database.ok, "loop": loop.ok, "write_behind": flush.ok}
    failing = [name for name, ok in parts.items() if not ok]
    return Health(
        status="unhealthy" if failing else "ok",
        version=__version__,
        read_only=read_only,
        failing=failing,
        database=database,
        loop=loop,
        write_behind=flush,
    )


@router.get(
    "/api/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "Unhealthy: `failing` names the parts."}},
)
async def health(request: Request) -> Health | JSONResponse:
    """Health for load balancers and operators; the one route under /api with no token.

    200 when the database can be written, the event loop is prompt and the newest write-behind
    flush succeeded; 503 with the same body, `failing` naming the parts, when not."""
    state = request.app.state
    report = await health_of(state.kernel, state.loop_probe, state.read_only)
    if report.failing:
        return JSONResponse(report.model_dump(), status_code=503)
    return report
