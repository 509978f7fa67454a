"""`WebOpsAgent`: one agent's think-decide-act loop as one supervised asyncio task.

Stimuli are queued (bounded, so a flood waits instead of eating memory) and handled one at a
time. An exception anywhere in handling a stimulus becomes a failed outcome carrying the
traceback; the loop carries on. The kernel is the agent's host: it supplies the event bus, the
action registry, the clock, the operator's risk threshold, approvals and persistence.

This module keeps the agent's state, lifecycle and queue; what it does with a stimulus lives
next to it, one verb a module: `thinking` (appraise, analyse, decide), `acting` (run an action
under limits, learn from the result) and `remedy` (work an incident until it is fixed).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from agent.core import acting, adapting, remedy, thinking
from agent.core.lifecycle import LifecycleState, check_transition
from agent.core.resources import Resources
from agent.core.stimulus import Outcome, Stimulus, Thought
from agent.decision.reasoning import Decision, Situation
from agent.decision.risk import Record, RiskLevel
from agent.errors import InvalidInput, OperationFailed
from agent.events import (
    EmotionsChanged,
    EventBus,
    KernelEvent,
    PersonalityDrifted,
    Reflected,
    StateChanged,
)
from agent.memory.learning import Choice, exploration_constant
from agent.memory.memory import AgentMemory
from agent.memory.precedents import Precedents
from agent.mind.drift import Experience
from agent.mind.emotions import Appraisal
from agent.mind.mind import Mind
from agent.mind.personality import Personality
from agent.mind.profile import AgentProfile
from agent.skills.actions import ActionRegistry, ActionRequest, ActionResult
from agent.skills.proficiency import SkillBook, SkillState


class AgentHost(Protocol):
    bus: EventBus
    actions: ActionRegistry
    clock: Callable[[], float]

    @property
    def threshold(self) -> RiskLevel: ...

    @property
    def recall_in_decisions(self) -> bool: ...

    async def persist_state(self, agent: WebOpsAgent, state: LifecycleState) -> None: ...

    async def request_approval(
        self, agent: WebOpsAgent, request: ActionRequest, decision: Decision
    ) -> int: ...

    def mark_dirty(self, agent: WebOpsAgent) -> None: ...

    async def record_action(
        self,
        agent: WebOpsAgent,
        request: ActionRequest,
        result: ActionResult,
        decision: Decision | None,
        approved: bool,
    ) -> None: ...


@dataclass
class RecordCounts:
    """Mutable counts behind a `Record`, kept in memory and flushed by the kernel."""

    successes: int = 0
    failures: int = 0
    approved_successes: int = 0
    last_success_at: float | None = None
    last_failure_at: float | None = None
    approved_streak: int = 0
    dirty: bool = field(default=False, compare=False)

    def record(self) -> Record:
        recent = self.last_failure_at is not None and (
            self.last_success_at is None or self.last_failure_at > self.last_success_at
        )
        return Record(
            successes=self.successes,
            failures=self.failures,
            approved_successes=self.approved_successes,
            recent_failure=recent,
            approved_streak=self.approved_streak,
        )


class WebOpsAgent:
    def __init__(
        self,
        profile: AgentProfile,
        agent_id: int,
        mind: Mind,
        resources: Resources,
        host: AgentHost,
        state: LifecycleState = LifecycleState.INITIALIZING,
        records: dict[tuple[str, str], RecordCounts] | None = None,
        queue_size: int = 1024,
        *,
        memory: AgentMemory,
        skills: SkillBook,
    ) -> None:
        self.profile = profile
        self.name = profile.name
        self.id = agent_id
        self.mind = mind
        self.resources = resources
        self.records = records or {}
        self.state = state
        self._host = host
        self._queue: asyncio.Queue[tuple[Stimulus, asyncio.Future[Outcome]] | None] = asyncio.Queue(
            queue_size
        )
        self._task: asyncio.Task[None] | None = None
        #: Concurrent first requests (chats over the API) must start one loop, not several.
        self._starting = asyncio.Lock()
        self.memory = memory
        self.skills = skills
        self.last_decision: Decision | None = None
        #: What the last conversation was about, and the situation last acted in (so "good
        #: job" and "what do you remember about it" know what "it" is).
        self.last_topic: str | None = None
        self.last_situation: str | None = None
        self.handled = 0
        #: Outcomes in a row in which no remedy fixed it (`adapting.after_outcome`).
        self.failed_in_a_row = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def transition(self, new: LifecycleState) -> None:
        old = self.state
        check_transition(old, new)
        self.state = new
        await self._host.persist_state(self, new)
        self.emit(lambda: StateChanged(agent=self.name, old=old, new=new, ts=self.now()))

    async def start(self) -> None:
        if self.running:
            return
        async with self._starting:
            if not self.running:
                await self._start()

    async def _start(self) -> None:
        if self.state is not LifecycleState.INITIALIZING:
            if self.state is not LifecycleState.SHUTDOWN:
                # A state left behind by a process that died: it is not running now.
                self.state = LifecycleState.SHUTDOWN
            await self.transition(LifecycleState.INITIALIZING)
        await self.transition(LifecycleState.ACTIVE)
        self._task = asyncio.create_task(self._run(), name=f"agent:{self.name}")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Finish what is queued within `grace_s`, then cancel what is left; save the state."""
        if self._task is not None and not self._task.done():
            await self._queue.put(None)
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace_s)
            except TimeoutError:
                self._task.cancel()  # cancels the action it is awaiting, too
                await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        if self.state is not LifecycleState.SHUTDOWN:
            await self.transition(LifecycleState.SHUTDOWN)

    async def submit(self, stimulus: Stimulus) -> asyncio.Future[Outcome]:
        """Queue a stimulus; waits while the queue is full (back-pressure)."""
        if not self.running:
            raise OperationFailed(f"agent {self.name!r} is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        await self._queue.put((stimulus, future))
        return future

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            stimulus, future = item
            try:
                outcome = await self.handle(stimulus)
            except asyncio.CancelledError:
                future.cancel()
                raise
            except Exception as exc:  # the agent survives anything a stimulus does
                outcome = self._crashed(stimulus, exc)
            self.handled += 1
            if not future.done():
                future.set_result(outcome)

    def _crashed(self, stimulus: Stimulus, exc: Exception) -> Outcome:
        decision = self.last_decision or self.fallback_decision(stimulus)
        result = ActionResult(
            action=stimulus.action.action if stimulus.action else "think",
            target=stimulus.target,
            status="failed",
            detail=f"{type(exc).__name__}: {exc}",
            error=traceback.format_exc(),
        )
        return Outcome(status="failed", summary=result.detail, decision=decision, result=result)

    # -- think, decide, act ----------------------------------------------------------------

    @property
    def host(self) -> AgentHost:
        return self._host

    def now(self) -> float:
        return self._host.clock()

    def emit(self, make: Callable[[], KernelEvent]) -> None:
        """Publish the event `make` builds, building it only when someone listens."""
        if self._host.bus.active:
            self._host.bus.publish(make())

    def mark_dirty(self) -> None:
        """Something the kernel persists (feelings, skills, learned values) changed."""
        self._host.mark_dirty(self)

    def mutates(self, action: str) -> bool:
        return self._host.actions.spec(action).mutates

    def importance(self, outcome_weight: float) -> float:
        return thinking.importance(self, outcome_weight)

    def fallback_decision(self, stimulus: Stimulus) -> Decision:
        return thinking.fallback_decision(self, stimulus)

    def feel(self, event: Appraisal, intensity: float = 1.0, cause: str = "") -> None:
        self.mind.feel(event, intensity)
        self._host.mark_dirty(self)
        self.emit(
            lambda: EmotionsChanged(
                agent=self.name,
                emotions=self.mind.as_dict(),
                mood=self.mind.mood(),
                cause=cause or str(event),
                ts=self.now(),
            )
        )

    def adapt(self, experience: Experience, detail: str = "") -> None:
        """Let an experience move the traits a little (agent/mind/drift.py); what reads them
        (exploration, the learning curve, every decision) reads the new ones from now on."""
        reason = self.mind.adapt(experience, detail)
        if reason is None:
            return
        personality = self._take_on_traits()
        self.emit(
            lambda: PersonalityDrifted(
                agent=self.name,
                experience=reason.experience,
                why=reason.why,
                changes=reason.changes,
                personality=personality.as_dict(),
                ts=self.now(),
            )
        )

    def reset_traits(self) -> dict[str, float]:
        """Undo all drift (`webops agent reset-traits`); returns the drift that was undone."""
        undone = self.mind.drift.as_dict()
        self.mind.reset_drift()
        self._take_on_traits()
        return undone

    def _take_on_traits(self) -> Personality:
        """After the traits changed: what was derived from them once follows them."""
        personality = self.mind.personality
        self.memory.learner.c = exploration_constant(self.mind.effects.exploration)
        self.skills.openness = personality.openness
        self._host.mark_dirty(self)
        return personality

    def record_for(self, action: str) -> RecordCounts:
        kind = self._host.actions.spec(action).target_kind
        return self.records.setdefault((action, kind), RecordCounts())

    def analyse(self, stimulus: Stimulus, rechecks: int = 0) -> Situation:
        return thinking.analyse(self, stimulus, rechecks)

    def choose(
        self, stimulus: Stimulus, exclude: set[str], recalled: Precedents | None = None
    ) -> tuple[Stimulus, Choice | None]:
        """Pick the remedy among the candidates by what was learned (UCB1, see learning.py),
        moved by what was `recalled` of similar situations (agent/core/recollection.py)."""
        options = [
            c
            for c in stimulus.candidates
            if c.action not in exclude and c.action not in stimulus.tried
        ]
        if stimulus.action is not None or not options:
            return stimulus, None
        situation = stimulus.situation or stimulus.summary
        priors = recalled.as_pairs() if recalled is not None else None
        choice = self.memory.learner.choose(situation, [c.action for c in options], priors)
        chosen = next(c for c in options if c.action == choice.action)
        request = chosen.model_copy(update={"situation": situation})
        return stimulus.model_copy(update={"action": request}), choice

    async def think(
        self,
        stimulus: Stimulus,
        rechecks: int = 0,
        choice: Choice | None = None,
        recalled: Precedents | None = None,
    ) -> Thought:
        """Appraise the stimulus, analyse the situation and decide (see thinking.py)."""
        return await thinking.think(self, stimulus, rechecks, choice, recalled)

    async def act(
        self,
        request: ActionRequest,
        *,
        decision: Decision | None = None,
        approved: bool = False,
    ) -> ActionResult:
        """Run one action under its limits; refused above the threshold unless `approved`
        (see `acting.act`)."""
        return await acting.act(self, request, decision=decision, approved=approved)

    async def execute_skill(self, skill: str, request: ActionRequest) -> ActionResult:
        """Use a skill: run an action that exercises it (approval rules apply as for any act)."""
        spec = self._host.actions.spec(request.action)
        if spec.skill != skill:
            raise InvalidInput(f"{request.action} does not use the skill {skill!r}")
        self.skills.learn_skill(skill, self.now())
        return await self.act(request)

    async def master_skill(
        self, skill: str, request: ActionRequest, max_runs: int = 50
    ) -> SkillState:
        """Deliberate practice: repeat a harmless use of the skill (a check, never a remedy)
        until the agent is a master or `max_runs` is spent."""
        if self._host.actions.spec(request.action).mutates:
            raise InvalidInput(f"{request.action} changes things; practise with a check instead")
        state = self.skills.learn_skill(skill, self.now())
        for _ in range(max_runs):
            if state.level == "master":
                break
            await self.execute_skill(skill, request)
        return state

    def learn_outcome(
        self, action: str, result: ActionResult, severity: float, approved: bool = False
    ) -> None:
        acting.learn_outcome(self, action, result, severity, approved)

    def success_message(self, result: ActionResult) -> str:
        """What the agent tells the team: verbosity decides how much, politeness how warmly."""
        return acting.success_message(self, result)

    async def handle(self, stimulus: Stimulus) -> Outcome:
        """Think, then act on the decision: re-check, run, ask for approval, wait or hand over.

        With a situation and candidate remedies, the agent works the incident (remedy.py): a
        trusted procedure first, then remedies chosen by what it learned, each verified by the
        re-check, until one fixes it or none is left. What worked is kept as a procedure.
        """
        outcome = await remedy.work(self, stimulus)
        adapting.after_outcome(self, stimulus.situation, outcome)
        if self.memory.reflection_due:
            facts = await self.memory.reflect()
            self.emit(lambda: Reflected(agent=self.name, facts=len(facts), ts=self.now()))
        return outcome
