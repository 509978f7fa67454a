"""`GET /api/events`: the kernel's typed events as server-sent events, as they happen.

Each event is `id:` (a counter for this stream), `event:` (its kind) and `data:` (its JSON);
a `: heartbeat` comment goes out whenever the stream has been quiet for the heartbeat interval,
so proxies keep the connection open and a client that went away is noticed. A stream whose
token is revoked ends within `RECHECK_S`. Events pass through a bounded queue: a reader too
slow to keep up loses the oldest, never the server's memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from agent.errors import InvalidInput
from agent.events import EVENT_KINDS, KernelEvent
from webops_tui.api.auth import KernelDep, Viewer

router = APIRouter(prefix="/api", tags=["events"])

#: How often an open stream checks that its token is still valid.
RECHECK_S = 1.0


async def _next_event(
    queue: asyncio.Queue[KernelEvent], stopping: asyncio.Event, within_s: float
) -> KernelEvent | None:
    """The next event, or None on timeout or stop; leaves no waiter behind, even if cancelled
    (a client that hangs up cancels the stream right here)."""
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait(
            (getter, stopper), timeout=within_s, return_when=asyncio.FIRST_COMPLETED
        )
        return getter.result() if getter in done else None
    finally:
        getter.cancel()
        stopper.cancel()


def _frame(seq: int, event: KernelEvent) -> bytes:
    return f"id: {seq}\nevent: {event.kind}\ndata: {event.model_dump_json()}\n\n".encode()


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
)
async def events(
    request: Request,
    caller: Viewer,
    kernel: KernelDep,
    agent: Annotated[list[str] | None, Query(description="Only about these agents.")] = None,
    kind: Annotated[list[str] | None, Query(description="Only these kinds.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="End after this many events.")] = None,
    seconds: Annotated[
        float | None, Query(alias="timeout", gt=0, description="End after this many seconds.")
    ] = None,
) -> StreamingResponse:
    """Stream events, optionally only some agents' and kinds'.

    `limit` and `timeout` end the stream, for scripts that wait for something:
    `?kind=approval_requested&limit=1&timeout=300`."""
    unknown = sorted(set(kind or ()) - set(EVENT_KINDS))
    if unknown:
        raise InvalidInput(
            f"unknown event kind {unknown[0]!r}; kinds are: {', '.join(EVENT_KINDS)}"
        )
    for name in agent or ():
        await kernel.get_agent(name)  # 404 for an agent that does not exist
    agents = set(agent or ())
    kinds = set(kind or ())
    heartbeat: float = request.app.state.heartbeat_s
    stopping: asyncio.Event = request.app.state.stopping

    async def stream() -> AsyncIterator[bytes]:
        sent = 0
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        last_beat = last_check = loop.time()
        async with kernel.bus.listen() as queue:
            yield b": connected\n\n"
            while limit is None or sent < limit:
                now = loop.time()
                if stopping.is_set() or (deadline is not None and now >= deadline):
                    return
                if now - last_check >= RECHECK_S:  # a revoked token loses its stream too
                    last_check = now
                    if await kernel.tokens.authenticate(caller.credential) is None:
                        yield b": the token is no longer valid\n\n"
                        return
                if now - last_beat >= heartbeat:
                    last_beat = now
                    yield b": heartbeat\n\n"
                wait = min(RECHECK_S - (now - last_check), heartbeat - (now - last_beat))
                if deadline is not None:
                    wait = min(wait, deadline - now)
                event = await _next_event(queue, stopping, max(wait, 0.0))
                if event is None:
                    continue
                if (agents and event.agent not in agents) or (kinds and event.kind not in kinds):
                    continue
                sent += 1
                last_beat = loop.time()  # an event keeps the connection alive as well
                yield _frame(sent, event)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
