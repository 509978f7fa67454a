"""The virtual clock: it jumps over idle waits and stands still while its tasks work."""

from __future__ import annotations

import asyncio
import time

from agent.clock import SYSTEM, VirtualClock


async def test_sleeps_jump_in_order_and_untracked_sleepers_jump_alone() -> None:
    clock = VirtualClock(start=1_000.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    await asyncio.gather(sleeper("b", 30.0), sleeper("a", 10.0), sleeper("c", 3600.0))
    assert woke == [("a", 10.0), ("b", 30.0), ("c", 3600.0)]
    assert clock.time() == 1_000.0 + 3600.0


async def test_time_stands_still_while_a_driving_task_works() -> None:
    clock = VirtualClock()
    seen: list[float] = []

    async def worker() -> None:
        before = clock.monotonic()
        await asyncio.to_thread(time.sleep, 0.05)  # real work, off the loop
        seen.append(clock.monotonic() - before)

    async def ticker() -> None:
        for _ in range(5):
            await clock.sleep(1.0)

    tick = clock.track(asyncio.create_task(ticker()))
    work = clock.track(asyncio.create_task(worker()))
    await asyncio.gather(tick, work)
    assert seen == [0.0]  # no tick passed while the worker waited on its thread
    assert clock.monotonic() == 5.0


async def test_wait_returns_when_the_event_is_set_or_the_time_is_up() -> None:
    clock = VirtualClock()
    event = asyncio.Event()

    async def waiter() -> tuple[bool, float]:
        with clock.taking_part():
            set_ = await clock.wait(event, 60.0)
            return set_, clock.monotonic()

    async def setter() -> None:
        with clock.taking_part():
            await clock.sleep(5.0)
            event.set()

    assert await asyncio.gather(waiter(), setter()) == [(True, 5.0), None]
    assert await clock.wait(asyncio.Event(), 2.5) is False
    assert clock.monotonic() == 7.5


async def test_wait_tasks_gives_done_and_pending_in_clock_time() -> None:
    clock = VirtualClock()
    short = clock.track(asyncio.create_task(clock.sleep(1.0)))
    long = clock.track(asyncio.create_task(clock.sleep(100.0)))
    with clock.taking_part():
        done, pending = await clock.wait_tasks([short, long], 5.0)
    assert done == {short} and pending == {long}
    assert clock.monotonic() == 5.0
    long.cancel()


async def test_the_system_clock_waits_in_real_time() -> None:
    event = asyncio.Event()
    assert await SYSTEM.wait(event, 0.001) is False
    event.set()
    assert await SYSTEM.wait(event, 10.0) is True
    assert abs(SYSTEM.time() - time.time()) < 1.0
