"""Cached reads under concurrency: one read at a time however many callers, and agents that
start once however many first requests race."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.core.conversation import chat
from agent.core.kernel import Kernel
from agent.fresh import Fresh

pytestmark = pytest.mark.both_backends


async def test_many_callers_of_a_stale_value_share_one_read() -> None:
    reads = 0

    async def load() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)
        return reads

    fresh = Fresh(load, max_age_s=60)
    assert await asyncio.gather(*(fresh.get() for _ in range(50))) == [1] * 50
    assert reads == 1
    fresh.adjust(lambda v: v + 10)
    assert await fresh.get() == 11 and reads == 1
    fresh.invalidate()
    assert await fresh.get() == 2


async def test_a_value_a_little_stale_is_served_while_one_read_runs_beside_the_callers() -> None:
    """Past its age (within `serve_stale_s`) nobody waits: the kept value comes back at once
    and one read runs; its value is the next one served. Older than that, callers wait."""
    from agent.clock import VirtualClock

    clock = VirtualClock()
    reads = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal reads
        reads += 1
        if reads > 1:
            await release.wait()
        return reads

    fresh = Fresh(load, max_age_s=1.0, clock=clock, serve_stale_s=1.0)
    assert await fresh.get() == 1
    await clock.sleep(1.5)  # stale, but within the window
    assert await asyncio.gather(*(fresh.get() for _ in range(20))) == [1] * 20
    assert reads == 2  # one read for all of them, under way
    release.set()
    for _ in range(100):
        if await fresh.get() == 2:
            break
        await asyncio.sleep(0)
    assert await fresh.get() == 2 and reads == 2
    await clock.sleep(5.0)  # past the window: the caller waits for the read
    assert await fresh.get() == 3
    fresh.invalidate()  # a change this process made is never served stale
    assert await fresh.get() == 4


async def test_a_failed_read_reaches_every_waiter_and_the_next_call_reads_again() -> None:
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise OSError("disk gone")
        return "ok"

    fresh = Fresh(load, max_age_s=60)
    results = await asyncio.gather(*(fresh.get() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results) and calls == 1
    assert await fresh.get() == "ok" and calls == 2


async def test_reload_does_not_settle_for_a_read_that_started_before_it() -> None:
    value = 0

    async def load() -> int:
        seen = value
        await asyncio.sleep(0.02)
        return seen

    fresh = Fresh(load, max_age_s=60)
    early = asyncio.create_task(fresh.get())
    await asyncio.sleep(0.005)
    value = 1  # changed while the first read is under way
    assert await fresh.reload() == 1
    assert await early == 0
    assert await fresh.get() == 1  # the early read's result was not kept

    # The same after a plain invalidate: the next get does not join the older read.
    value = 2
    fresh.invalidate()
    stale_read = asyncio.create_task(fresh.get())
    await asyncio.sleep(0.005)
    value = 3
    fresh.invalidate()
    assert await fresh.get() == 3
    assert await stale_read == 2
    assert await fresh.get() == 3


async def test_a_caller_that_gives_up_does_not_cancel_the_others_read() -> None:
    async def load() -> str:
        await asyncio.sleep(0.05)
        return "done"

    fresh = Fresh(load, max_age_s=60)
    impatient = asyncio.create_task(fresh.get())
    patient = asyncio.create_task(fresh.get())
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == "done"
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_racing_first_chats_start_one_agent_loop_and_all_get_replies(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "friendly")
        replies = await asyncio.gather(
            *(chat(kernel, "anna", "how are you?", operator=f"op{i}") for i in range(20))
        )
        assert len(replies) == 20 and all(r.reply for r in replies)
        loops = [t for t in asyncio.all_tasks() if t.get_name() == "agent:anna" and not t.done()]
        assert len(loops) == 1


async def test_racing_episodes_share_reserved_id_blocks(db_path: Path) -> None:
    from agent.memory.memory import IdAllocator
    from storage.repositories.episodes import EpisodeRepository

    class Counted(EpisodeRepository):
        reservations = 0

        async def reserve_ids(self, count: int) -> range:
            Counted.reservations += 1
            return await super().reserve_ids(count)

    async with await Kernel.open(db_path) as kernel:
        ids = IdAllocator(Counted(kernel.database), block=10)
        taken = await asyncio.gather(*(ids.next() for _ in range(25)))
        assert len(set(taken)) == 25
        assert Counted.reservations == 3  # 25 ids from blocks of 10, not one block per caller
