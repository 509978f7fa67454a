"""Supervision: the running agents, each with its own loop and a reader for its mailbox.

Starting an agent starts its loop (a failure inside becomes a failed outcome, never a dead
agent: see agent.py), a task that reads what is sent to it, and, with the first agent, the
periodic write-behind flush. Stopping is graceful: readers are cancelled, every loop gets
`stop_timeout_s` to finish what it is doing. Resting to consolidate memory is a lifecycle
change too, so it is done here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from agent.core.agent import WebOpsAgent
from agent.core.config import KernelConfig
from agent.core.lifecycle import LifecycleState
from agent.core.roster import Roster
from agent.core.stimulus import Outcome, Stimulus
from agent.memory.memory import ConsolidationReport
from agent.social.messaging import MessageBus


class Supervisor:
    def __init__(
        self,
        roster: Roster,
        messages: MessageBus,
        config: Callable[[], KernelConfig],
        on_first_start: Callable[[], None],
    ) -> None:
        self._roster = roster
        self._messages = messages
        self._config = config
        self._on_first_start = on_first_start
        self._readers: dict[str, asyncio.Task[None]] = {}

    async def start(self, name: str) -> WebOpsAgent:
        agent = await self._roster.load(name)
        await agent.start()
        if name not in self._readers:
            self._readers[name] = asyncio.create_task(self._read_mail(agent), name=f"mail:{name}")
        self._on_first_start()
        return agent

    async def start_all(self) -> list[WebOpsAgent]:
        return [await self.start(p.name) for p in await self._roster.profiles()]

    async def stimulate(self, name: str, stimulus: Stimulus) -> Outcome:
        """Hand a stimulus to an agent (starting it if needed) and wait for the outcome."""
        agent = await self.start(name)
        return await (await agent.submit(stimulus))

    async def consolidate(
        self,
        name: str,
        flush: Callable[[], Awaitable[None]],
        fade: Callable[[], int] = lambda: 0,
        linger: Callable[[], Awaitable[object]] | None = None,
    ) -> ConsolidationReport:
        """Rest and consolidate: reflect, compress old episodes, cap retention, tidy procedures
        (after `flush`, so that every episode is in the file), let relationships without
        contact `fade`; then stay resting until `linger` returns (the rest schedule's moment,
        so the state can be seen)."""
        agent = await self._roster.load(name)
        was_running = agent.state in (LifecycleState.ACTIVE, LifecycleState.LEARNING)
        if was_running:
            await agent.transition(LifecycleState.RESTING)
        try:
            await flush()
            report = await agent.memory.consolidate()
            report.faded = fade()
            if linger is not None:
                await linger()
            return report
        finally:
            if was_running:
                await agent.transition(LifecycleState.ACTIVE)

    async def stop(self) -> None:
        """Cancel the mail readers, then stop every running agent gracefully, all at once."""
        for reader in self._readers.values():
            reader.cancel()
        await asyncio.gather(*self._readers.values(), return_exceptions=True)
        timeout = self._config().stop_timeout_s
        running = [a for a in self._roster.agents.values() if a.running]
        await asyncio.gather(*(a.stop(timeout) for a in running))

    async def _read_mail(self, agent: WebOpsAgent) -> None:
        """An agent reads what is sent to it (its mailbox never fills): a direct message is
        remembered, team chatter only read."""
        while True:
            message = await self._messages.receive_message(agent.name)
            if message is not None and message.kind == "direct":
                await agent.memory.remember(
                    "conversation",
                    f"{message.sender} to {agent.name}: {message.text}",
                    importance=0.3,
                    details={"from": message.sender},
                )
