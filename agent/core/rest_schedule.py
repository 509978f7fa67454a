"""When an agent learns and rests on its own, and what it does then.

Memory that is never consolidated only grows, and facts are drawn only when enough importance
has gathered; people stop to think things over and sleep on them. So the autonomous loop
(agent/core/autopilot.py, behind `webops run`, `webops demo`, `webops serve --watch` and the
workbench) lets each agent, when it is free, go through two states:

- `learning` (`LifecycleState.LEARNING`): it reflects: the episodes since its last reflection
  become facts (`AgentMemory.reflect`);
- `resting` (`LifecycleState.RESTING`): it consolidates (`Kernel.consolidate`): old episodes
  lose their details, the retention cap (`ResourceLimits.max_episodes`) is applied, its
  procedures are optimised (steps that never fixed anything dropped, with the reason kept),
  and relationships without contact fade (`Relationships.maintain_relationships`);

then it is `active` again. An agent is due after `IDLE_S` seconds without owning an incident,
or once it closed `INCIDENTS_PER_REST` incidents since its last rest (at its next free moment);
never while it owns an open incident. Each phase lasts a moment of the loop's clock
(`LEARNING_S`, `RESTING_S`) so a person watching the roster sees it. An incident for an agent
that is away wakes it (`wake`): the moment ends at once, the consolidation itself (a few
milliseconds) is finished first, so the agent never owns an incident while it rests and never
keeps a fault waiting for more than that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from agent.clock import Clock
from agent.core.kernel import Kernel
from agent.core.lifecycle import LifecycleState
from agent.errors import WebopsError
from agent.events import Consolidated, Reflected

#: Seconds without owning an incident after which an agent learns and rests.
IDLE_S = 8.0
#: Incidents closed since the last rest after which an agent rests at its next free moment.
INCIDENTS_PER_REST = 4
#: How long the learning and the resting state last (the loop's clock), unless woken.
LEARNING_S = 1.0
RESTING_S = 1.5


@dataclass
class _Rhythm:
    """One agent's pace: free since when, incidents closed since its last rest, and the
    wake-up call while it is away (None when it is not)."""

    free_since: float
    handled: int = 0
    wake: asyncio.Event | None = None
    task: asyncio.Task[None] | None = None


class RestSchedule:
    """Who is due to learn and rest, and the rest itself."""

    def __init__(
        self,
        kernel: Kernel,
        clock: Clock,
        *,
        idle_s: float = IDLE_S,
        incidents: int = INCIDENTS_PER_REST,
        learning_s: float = LEARNING_S,
        resting_s: float = RESTING_S,
        say: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.kernel = kernel
        self.clock = clock
        self.idle_s = idle_s
        self.incidents = incidents
        self.learning_s = learning_s
        self.resting_s = resting_s
        self.say = say
        self._rhythm: dict[str, _Rhythm] = {}
        #: The lifecycle states the team went through, in the order first seen.
        self.states_seen: list[str] = []

    def _saw(self, state: LifecycleState) -> None:
        if state not in self.states_seen:
            self.states_seen.append(str(state))

    def begin(self, team: list[str]) -> None:
        """The team is running (active) from now."""
        now = self.clock.monotonic()
        for name in team:
            self._rhythm.setdefault(name, _Rhythm(free_since=now))
            loaded = self.kernel.loaded(name)
            if loaded is not None:
                self._saw(loaded.state)

    def closed(self, owner: str) -> None:
        """`owner` closed an incident it owned."""
        rhythm = self._rhythm.get(owner)
        if rhythm is not None:
            rhythm.handled += 1
            rhythm.free_since = self.clock.monotonic()

    def due(self, owners: set[str]) -> list[str]:
        """The agents to send to rest now (they count as away from here on); `owners` are
        the agents that own an open incident: they are busy."""
        now = self.clock.monotonic()
        due = []
        for name, rhythm in self._rhythm.items():
            if name in owners:
                rhythm.free_since = now
            elif rhythm.wake is None and (
                rhythm.handled >= self.incidents or now - rhythm.free_since >= self.idle_s
            ):
                rhythm.wake = asyncio.Event()
                due.append(name)
        return due

    async def wake(self, name: str) -> None:
        """An incident needs `name`: cut its rest short and wait until it is active again."""
        rhythm = self._rhythm.get(name)
        if rhythm is None or rhythm.wake is None:
            return
        rhythm.wake.set()
        if rhythm.task is not None and rhythm.task is not asyncio.current_task():
            await asyncio.gather(rhythm.task, return_exceptions=True)

    def wake_all(self) -> None:
        """The loop is stopping: nobody stays away."""
        for rhythm in self._rhythm.values():
            if rhythm.wake is not None:
                rhythm.wake.set()

    async def rest(self, name: str) -> None:
        """Learn, then rest, then be active again; each phase ends early when woken."""
        rhythm = self._rhythm[name]
        wake = rhythm.wake
        assert wake is not None
        rhythm.task = asyncio.current_task()
        try:
            agent = await self.kernel.load_agent(name)
            if wake.is_set() or agent.state is not LifecycleState.ACTIVE:
                return
            await agent.transition(LifecycleState.LEARNING)
            self._saw(LifecycleState.LEARNING)
            facts = await agent.memory.reflect()
            agent.emit(lambda: Reflected(agent=name, facts=len(facts), ts=agent.now()))
            await self.clock.wait(wake, self.learning_s)
            # Woken or not, it consolidates (milliseconds) before it takes an incident: an
            # agent that is always needed soon would otherwise never do it.
            self._saw(LifecycleState.RESTING)
            report = await self.kernel.consolidate(
                name, linger=lambda: self.clock.wait(wake, self.resting_s)
            )
            agent.emit(lambda: Consolidated(agent=name, ts=agent.now(), **report.model_dump()))
            self.say(
                f"{name} rested: {len(facts)} fact(s) drawn, {report.compressed} episode(s) "
                f"compressed, {report.trimmed} forgotten ({report.episodes} kept), "
                f"{report.optimized} procedure(s) optimised"
            )
        except WebopsError as exc:  # a locked file, say: the agent carries on unrested
            self.say(f"{name} could not rest: {exc.message}")
            loaded = self.kernel.loaded(name)
            if loaded is not None and loaded.state is LifecycleState.LEARNING:
                await loaded.transition(LifecycleState.ACTIVE)
        finally:
            rhythm.wake = None
            rhythm.task = None
            rhythm.handled = 0
            rhythm.free_since = self.clock.monotonic()
