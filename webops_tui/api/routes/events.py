"""`GET /api/events`: the kernel's typed events as server-sent events, as they happen.

Each event is `id:` (a counter for this stream), `event:` (its kind) and `data:` (its JSON);
a `: heartbeat` comment goes out whenever the stream has been quiet for the heartbeat interval,
so proxies keep the connection open and a client that went away is noticed. Events pass
through a bounded queue: a reader too slow to keep up loses the oldest, never the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from agent.errors import InvalidInput
from agent.events import EVENT_KINDS, KernelEvent
from webops_tui.api.auth import KernelDep, Viewer

router = APIRouter(prefix="/api", tags=["events"])


def _frame(seq: int, event: KernelEvent) -> bytes:
    return f"id: {seq}\nevent: {event.kind}\ndata: {event.model_dump_json()}\n\n".encode()


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
)
async def events(
    request: Request,
    _: Viewer,
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
        async with kernel.bus.listen() as queue:
            yield b": connected\n\n"
            while limit is None or sent < limit:
                wait = heartbeat if deadline is None else min(heartbeat, deadline - loop.time())
                if wait <= 0:
                    return
                getter = asyncio.ensure_future(queue.get())
                stopper = asyncio.ensure_future(stopping.wait())
                done, _pending = await asyncio.wait(
                    (getter, stopper), timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                stopper.cancel()
                if getter not in done:
                    getter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await getter
                    if stopping.is_set():
                        return
                    yield b": heartbeat\n\n"
                    continue
                event = getter.result()
                if (agents and event.agent not in agents) or (kinds and event.kind not in kinds):
                    continue
                sent += 1
                yield _frame(sent, event)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
