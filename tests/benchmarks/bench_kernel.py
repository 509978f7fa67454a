"""Stimuli per second through think-decide-act for one agent with a no-op action."""

from __future__ import annotations

import asyncio
import collections
import tempfile
import time
from pathlib import Path

from agent.core.kernel import Kernel, KernelConfig
from agent.core.resources import ResourceLimits
from agent.core.stimulus import Outcome, Stimulus
from agent.skills.actions import ActionRequest
from tests.benchmarks.figures import Figure

STIMULI = 5_000
WINDOW = 256


async def _bare_queue(n: int) -> float:
    """The floor: the same queue-and-future round trip with nothing in between."""
    queue: asyncio.Queue[tuple[int, asyncio.Future[int]] | None] = asyncio.Queue(1024)

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            item[1].set_result(item[0])

    task = asyncio.create_task(worker())
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    futures = []
    for i in range(n):
        future: asyncio.Future[int] = loop.create_future()
        await queue.put((i, future))
        futures.append(future)
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await queue.put(None)
    await task
    return n / elapsed


async def _kernel(n: int) -> float:
    limits = ResourceLimits(actions_per_minute=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        kernel = await Kernel.open(Path(tmp) / "bench.db", config=KernelConfig(limits=limits))
        async with kernel:
            await kernel.create_agent("bench", "bold")
            agent = await kernel.start_agent("bench")
            stimulus = Stimulus(
                summary="tick", severity=0.6, evidence=0.9, action=ActionRequest(action="noop")
            )
            for _ in range(200):  # warm up
                await (await agent.submit(stimulus))
            # Like the autonomous loop: a bounded number in flight, outcomes checked and let go.
            in_flight: collections.deque[asyncio.Future[Outcome]] = collections.deque()
            started = time.perf_counter()
            for _ in range(n):
                in_flight.append(await agent.submit(stimulus))
                if len(in_flight) >= WINDOW:
                    assert (await in_flight.popleft()).status == "succeeded"
            for future in in_flight:
                assert (await future).status == "succeeded"
            elapsed = time.perf_counter() - started
    return n / elapsed


def run() -> list[Figure]:
    floor = asyncio.run(_bare_queue(STIMULI))
    rate = max(asyncio.run(_kernel(STIMULI)) for _ in range(3))
    return [
        Figure(
            "kernel.stimuli_per_s",
            rate,
            "/s",
            ">= 1000",
            f"bare asyncio queue {floor:,.0f}/s; the kernel does {rate / floor:.1%} of it",
        )
    ]
