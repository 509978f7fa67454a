"""`WebOpsAgent`: one agent's think-decide-act loop as one supervised asyncio task.

Stimuli are queued (bounded, so a flood waits instead of eating memory) and handled one at a
time. An exception anywhere in handling a stimulus becomes a failed outcome carrying the
traceback; the loop carries on. The kernel is the agent's host: it supplies the event bus, the
action registry, the clock, the operator's risk threshold, approvals and persistence.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from agent.core.lifecycle import LifecycleState, check_transition
from agent.core.resources import ResourceExhausted, Resources
from agent.core.stimulus import Outcome, Stimulus, Thought
from agent.decision.reasoning import Decision, OptionKind, Situation, decide
from agent.decision.risk import Record, RiskLevel
from agent.errors import InvalidInput, OperationFailed
from agent.events import (
    ActionFinished,
    ActionStarted,
    AgentSaid,
    BehaviourTriggered,
    DecisionMade,
    EmotionsChanged,
    EventBus,
    KernelEvent,
    OutcomeLearned,
    Reflected,
    StateChanged,
)
from agent.memory.learning import Choice
from agent.memory.memory import AgentMemory
from agent.memory.procedures import Procedure, ProcedureRun, Step, execute_procedure
from agent.mind.behaviour import PatternAction, matching
from agent.mind.emotions import INDEX as EMOTION_INDEX
from agent.mind.emotions import Appraisal
from agent.mind.mind import Mind
from agent.mind.profile import AgentProfile
from agent.skills.actions import ActionRegistry, ActionRequest, ActionResult
from agent.skills.autonomy import earned_autonomy
from agent.skills.proficiency import SkillBook, SkillState

#: Re-checks one stimulus may take before the agent must choose something else.
MAX_RECHECKS = 3
#: Remedies one incident may try before the agent gives up and reports failure.
MAX_ATTEMPTS = 4
#: A procedure runs by itself once it worked this often with this smoothed success rate.
TRUSTED_RUNS = 2
TRUSTED_RATE = 0.6


class AgentHost(Protocol):
    bus: EventBus
    actions: ActionRegistry
    clock: Callable[[], float]

    @property
    def threshold(self) -> RiskLevel: ...

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

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def transition(self, new: LifecycleState) -> None:
        old = self.state
        check_transition(old, new)
        self.state = new
        await self._host.persist_state(self, new)
        self._emit(lambda: StateChanged(agent=self.name, old=old, new=new, ts=self._now()))

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
        decision = self.last_decision or self._fallback_decision(stimulus)
        result = ActionResult(
            action=stimulus.action.action if stimulus.action else "think",
            target=stimulus.target,
            status="failed",
            detail=f"{type(exc).__name__}: {exc}",
            error=traceback.format_exc(),
        )
        return Outcome(status="failed", summary=result.detail, decision=decision, result=result)

    def _fallback_decision(self, stimulus: Stimulus) -> Decision:
        situation = Situation(summary=stimulus.summary, target=stimulus.target)
        return decide(
            situation,
            self.mind.personality,
            self.mind.effects,
            self.mind.modifiers(),
            Record(),
            self._host.threshold,
        )

    # -- think, decide, act ----------------------------------------------------------------

    def _now(self) -> float:
        return self._host.clock()

    def _emit(self, make: Callable[[], KernelEvent]) -> None:
        """Publish the event `make` builds, building it only when someone listens."""
        if self._host.bus.active:
            self._host.bus.publish(make())

    def feel(self, event: Appraisal, intensity: float = 1.0, cause: str = "") -> None:
        self.mind.feel(event, intensity)
        self._host.mark_dirty(self)
        self._emit(
            lambda: EmotionsChanged(
                agent=self.name,
                emotions=self.mind.as_dict(),
                mood=self.mind.mood(),
                cause=cause or str(event),
                ts=self._now(),
            )
        )

    def record_for(self, action: str) -> RecordCounts:
        kind = self._host.actions.spec(action).target_kind
        return self.records.setdefault((action, kind), RecordCounts())

    def analyse(self, stimulus: Stimulus, rechecks: int = 0) -> Situation:
        spec = self._host.actions.spec(stimulus.action.action) if stimulus.action else None
        return Situation(
            summary=stimulus.summary,
            target=stimulus.target,
            criticality=stimulus.criticality,
            severity=stimulus.severity,
            evidence=stimulus.evidence,
            action=spec.name if spec else None,
            action_risk=spec.risk if spec else RiskLevel.NONE,
            expected_benefit=spec.expected_benefit if spec else 0.0,
            supports_dry_run=spec.supports_dry_run if spec else False,
            rechecks_done=rechecks,
            teammate=stimulus.teammate,
            teammate_proficiency=stimulus.teammate_proficiency,
            proficiency=self.skills.proficiency(spec.skill) if spec else 0.5,
            can_recheck=stimulus.recheck is not None and rechecks < MAX_RECHECKS,
            observation=spec is not None and not spec.mutates,
        )

    def choose(self, stimulus: Stimulus, exclude: set[str]) -> tuple[Stimulus, Choice | None]:
        """Pick the remedy among the candidates by what was learned (UCB1, see learning.py)."""
        options = [
            c
            for c in stimulus.candidates
            if c.action not in exclude and c.action not in stimulus.tried
        ]
        if stimulus.action is not None or not options:
            return stimulus, None
        situation = stimulus.situation or stimulus.summary
        choice = self.memory.learner.choose(situation, [c.action for c in options])
        chosen = next(c for c in options if c.action == choice.action)
        request = chosen.model_copy(update={"situation": situation})
        return stimulus.model_copy(update={"action": request}), choice

    async def think(
        self, stimulus: Stimulus, rechecks: int = 0, choice: Choice | None = None
    ) -> Thought:
        """Appraise the stimulus, analyse the situation and decide what to do."""
        if stimulus.appraisal is not None and rechecks == 0:
            self.feel(stimulus.appraisal, stimulus.intensity, cause=stimulus.summary)
        situation = self.analyse(stimulus, rechecks)
        if situation.action is not None and stimulus.situation:
            arm = self.memory.learner.stats(stimulus.situation, situation.action)
            if arm.weight > 0:
                situation = situation.model_copy(update={"learned": (arm.value, arm.weight)})
        record = self.record_for(situation.action).record() if situation.action else Record()
        decision = decide(
            situation,
            self.mind.personality,
            self.mind.effects,
            self.mind.modifiers(),
            record,
            self._host.threshold,
            learning=choice.as_dict() if choice else None,
        )
        decision = self._consider_autonomy(decision, record)
        self.last_decision = decision
        if rechecks == 0:
            await self.memory.remember(
                "stimulus",
                stimulus.summary,
                importance=self._importance(0.2),
                situation=stimulus.situation,
                details={
                    "target": stimulus.target,
                    "severity": stimulus.severity,
                    "kind": stimulus.kind,
                },
            )
        await self.memory.remember(
            "decision",
            decision.explanation.summary,
            importance=self._importance(0.1),
            situation=stimulus.situation,
            details={
                "option": decision.option,
                "action": decision.action,
                "target": decision.target,
                "confidence": decision.confidence,
                "patterns": decision.explanation.patterns,
            },
        )
        self._emit(
            lambda: DecisionMade(
                agent=self.name,
                option=decision.option,
                action=decision.action,
                target=decision.target,
                confidence=decision.confidence,
                requires_approval=decision.requires_approval,
                summary=decision.explanation.summary,
                ts=self._now(),
            )
        )
        if self._host.bus.active:
            for pattern, score in decision.explanation.patterns.items():
                self._host.bus.publish(
                    BehaviourTriggered(
                        agent=self.name, pattern=pattern, score=score, ts=self._now()
                    )
                )
        return Thought(
            situation=situation,
            decision=decision,
            emotions=self.mind.as_dict(),
            mood=self.mind.mood(),
        )

    def _consider_autonomy(self, decision: Decision, record: Record) -> Decision:
        """An action above the threshold runs without asking once autonomy is earned."""
        risk = decision.explanation.risk
        if decision.action is None or risk is None or not risk.needs_approval:
            return decision
        spec = self._host.actions.spec(decision.action)
        autonomy = earned_autonomy(
            risk.effective_level,
            record.approved_streak,
            self.skills.proficiency(spec.skill),
            spec.skill,
        )
        explanation = decision.explanation.model_copy(update={"autonomy": autonomy.model_dump()})
        update: dict[str, object] = {"explanation": explanation}
        if autonomy.granted and decision.option is OptionKind.ACT:
            update["requires_approval"] = False
        return decision.model_copy(update=update)

    def _importance(self, outcome_weight: float) -> float:
        """Importance from the outcome, the surprise felt and how stirred the agent is."""
        emotions = self.mind.emotions
        stirred = max(abs(e - r) for e, r in zip(emotions, self.mind.rest, strict=True))
        surprise = emotions[EMOTION_INDEX["surprise"]]
        return min(1.0, 0.05 + 0.45 * outcome_weight + 0.25 * surprise + 0.25 * stirred)

    async def act(
        self,
        request: ActionRequest,
        *,
        decision: Decision | None = None,
        approved: bool = False,
    ) -> ActionResult:
        """Run one action under the resource limits and its timeout.

        An action whose risk needs approval is refused unless `approved`; the kernel passes
        that only for an approval a human granted.
        """
        spec = self._host.actions.spec(request.action)
        if decision is not None and decision.action == spec.name:
            needs_approval = decision.requires_approval
        else:
            needs_approval = spec.risk > self._host.threshold
        if needs_approval and not approved:
            return ActionResult(
                action=spec.name,
                target=request.target,
                status="refused",
                detail="needs a human's approval",
            )
        started = time.perf_counter()
        self._emit(
            lambda: ActionStarted(
                agent=self.name, action=spec.name, target=request.target, ts=self._now()
            )
        )
        timeout = spec.timeout_s or self.resources.limits.action_timeout_s
        try:
            with self.resources.allocate():
                async with asyncio.timeout(timeout):
                    output = await self._host.actions.handler(spec.name)(request)
            result = ActionResult(
                action=spec.name,
                target=request.target,
                status="succeeded" if output.ok else "failed",
                detail=output.detail,
                data=output.data,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        except ResourceExhausted as exc:
            result = ActionResult(
                action=spec.name, target=request.target, status="refused", detail=exc.message
            )
        except TimeoutError:
            result = ActionResult(
                action=spec.name,
                target=request.target,
                status="timeout",
                detail=f"no answer within {timeout:g} s",
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        except Exception as exc:
            result = ActionResult(
                action=spec.name,
                target=request.target,
                status="failed",
                detail=f"{type(exc).__name__}: {exc}",
                error=traceback.format_exc(),
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        self._emit(
            lambda: ActionFinished(
                agent=self.name,
                action=spec.name,
                target=request.target,
                status=result.status,
                detail=result.detail,
                duration_ms=round(result.duration_ms, 3),
                ts=self._now(),
            )
        )
        await self._host.record_action(self, request, result, decision, approved)
        if result.status != "refused":
            autonomous = (
                decision is not None
                and decision.explanation.autonomy is not None
                and bool(decision.explanation.autonomy.get("granted"))
            )
            self.learn_outcome(spec.name, result, severity=1.0, approved=approved or autonomous)
            if spec.skill is not None:
                budget_ms = (spec.timeout_s or self.resources.limits.action_timeout_s) * 1000
                self.skills.practice_skill(
                    spec.skill, result.ok, result.duration_ms <= budget_ms / 2, self._now()
                )
                self._host.mark_dirty(self)
            where = f" on {request.target}" if request.target else ""
            await self.memory.remember(
                "action",
                f"{spec.name}{where}: {result.status} ({result.detail})",
                importance=self._importance(
                    1.0 if not result.ok else 0.4 if spec.mutates else 0.15
                ),
                situation=request.situation,
                details={
                    "action": spec.name,
                    "target": request.target,
                    "status": result.status,
                    "detail": result.detail,
                    "mutates": spec.mutates,
                    "duration_ms": round(result.duration_ms, 3),
                    **{
                        k: v
                        for k, v in result.data.items()
                        if k in ("healthy", "latency_ms", "status_code")
                    },
                },
            )
        return result

    async def execute_skill(self, skill: str, request: ActionRequest) -> ActionResult:
        """Use a skill: run an action that exercises it (approval rules apply as for any act)."""
        spec = self._host.actions.spec(request.action)
        if spec.skill != skill:
            raise InvalidInput(f"{request.action} does not use the skill {skill!r}")
        self.skills.learn_skill(skill, self._now())
        return await self.act(request)

    async def chain_skills(self, requests: list[ActionRequest]) -> list[ActionResult]:
        """Run several actions in order, stopping at the first that does not succeed."""
        results: list[ActionResult] = []
        for request in requests:
            results.append(await self.act(request))
            if not results[-1].ok:
                break
        return results

    async def master_skill(
        self, skill: str, request: ActionRequest, max_runs: int = 50
    ) -> SkillState:
        """Deliberate practice: repeat a harmless use of the skill (a check, never a remedy)
        until the agent is a master or `max_runs` is spent."""
        if self._host.actions.spec(request.action).mutates:
            raise InvalidInput(f"{request.action} changes things; practise with a check instead")
        state = self.skills.learn_skill(skill, self._now())
        for _ in range(max_runs):
            if state.level == "master":
                break
            await self.execute_skill(skill, request)
        return state

    def learn_outcome(
        self, action: str, result: ActionResult, severity: float, approved: bool = False
    ) -> None:
        counts = self.record_for(action)
        now = self._now()
        if result.ok:
            counts.successes += 1
            counts.approved_successes += int(approved)
            counts.approved_streak += int(approved)
            counts.last_success_at = now
            self.feel(Appraisal.SUCCESS, 0.5 + 0.5 * severity, cause=f"{action} worked")
            self._share_success(result)
        else:
            counts.failures += 1
            counts.approved_streak = 0  # a failure takes earned autonomy back
            counts.last_failure_at = now
            self.feel(Appraisal.FAILURE, 0.5 + 0.5 * severity, cause=f"{action} {result.status}")
            if result.status == "timeout":
                self.feel(Appraisal.UNEXPECTED, 0.5, cause=f"{action} timed out")
        counts.dirty = True

    def success_message(self, result: ActionResult) -> str:
        """What the agent tells the team: verbosity decides how much, politeness how warmly."""
        effects = self.mind.effects
        where = f" on {result.target}" if result.target else ""
        text = f"{result.action}{where} worked"
        if effects.verbosity >= 0.6:
            text += f" in {result.duration_ms:.0f} ms"
            if result.detail:
                text += f" ({result.detail})"
        if effects.politeness >= 0.75:
            text = f"Good news, everyone: {text}. Thanks for the patience!"
        return text

    def _share_success(self, result: ActionResult) -> None:
        if not self._host.actions.spec(result.action).mutates:
            return  # a healthy check is not news; a fix is
        context = {"success": 1.0, "extraversion": self.mind.personality.extraversion}
        bus = self._host.bus
        for pattern, score in matching(context, {PatternAction.SHARE_SUCCESS}):
            if bus.active:
                now = self._now()
                bus.publish(
                    BehaviourTriggered(
                        agent=self.name, pattern=pattern.name, score=round(score, 3), ts=now
                    )
                )
                bus.publish(
                    AgentSaid(
                        agent=self.name, channel="team", text=self.success_message(result), ts=now
                    )
                )

    async def handle(self, stimulus: Stimulus) -> Outcome:
        """Think, then act on the decision: re-check, run, ask for approval, wait or hand over.

        With a situation and candidate remedies, the agent works the incident: a trusted
        procedure first, then remedies chosen by what it learned, each verified by the
        re-check, until one fixes it or none is left. What worked is kept as a procedure.
        """
        outcome = await self._work(stimulus)
        if self.memory.reflection_due:
            facts = await self.memory.reflect()
            self._emit(lambda: Reflected(agent=self.name, facts=len(facts), ts=self._now()))
        return outcome

    async def _work(self, stimulus: Stimulus) -> Outcome:
        situation = stimulus.situation or stimulus.summary
        rechecks = 0
        steps = 0
        tried: list[tuple[str, bool]] = []
        taken: list[Step] = []
        procedure_id: int | None = None
        if stimulus.situation and stimulus.candidates and stimulus.action is None:
            ran = await self._run_procedure(stimulus)
            if ran is not None:
                procedure, run = ran
                procedure_id = procedure.id
                steps += run.steps_run
                tried.extend((r.action, r.fixed) for r in run.results)
                if run.ok:
                    decision = self.last_decision or self._fallback_decision(stimulus)
                    return Outcome(
                        status="succeeded",
                        summary=f"procedure for {situation} fixed it in {run.steps_run} step(s)",
                        decision=decision,
                        steps=steps,
                        tried=tuple(tried),
                        procedure_id=procedure_id,
                    )
        while True:
            current, choice = self.choose(stimulus, {a for a, _ in tried})
            thought = await self.think(current, rechecks, choice)
            decision = thought.decision
            if (
                decision.option is OptionKind.RECHECK
                and current.recheck is not None
                and rechecks < MAX_RECHECKS
            ):
                check = await self.act(current.recheck, decision=decision)
                rechecks += 1
                steps += 1
                if check.ok:
                    return Outcome(
                        status="resolved",
                        summary="a re-check found it healthy",
                        decision=decision,
                        result=check,
                        rechecks=rechecks,
                        steps=steps,
                        tried=tuple(tried),
                    )
                stimulus = stimulus.model_copy(update={"evidence": max(stimulus.evidence, 0.95)})
                continue
            summary = decision.explanation.summary
            if decision.requires_approval and current.action is not None:
                approval_id = await self._host.request_approval(self, current.action, decision)
                return Outcome(
                    status="awaiting_approval",
                    summary=summary,
                    decision=decision,
                    approval_id=approval_id,
                    rechecks=rechecks,
                    steps=steps,
                    tried=tuple(tried),
                )
            if decision.option is not OptionKind.ACT or current.action is None:
                status = {OptionKind.WAIT: "waiting", OptionKind.HANDOVER: "handed_over"}.get(
                    decision.option, "deferred"
                )
                if tried:
                    status = "failed"
                await self.memory.remember(
                    "outcome",
                    f"{situation}: {status} ({decision.option})",
                    importance=self._importance(0.3),
                    situation=stimulus.situation,
                )
                return Outcome(
                    status=status,
                    summary=summary,  # type: ignore[arg-type]
                    decision=decision,
                    rechecks=rechecks,
                    steps=steps,
                    tried=tuple(tried),
                )
            request = current.action
            self.last_situation = request.situation or stimulus.situation
            result = await self.act(request, decision=decision)
            steps += 1
            fixed = result.ok
            if result.ok and current.recheck is not None and self._mutates(request.action):
                fixed = (await self.act(current.recheck, decision=decision)).ok
                steps += 1
            tried.append((request.action, fixed))
            taken.append(Step(request.action, dict(request.params), runs=1, fixes=int(fixed)))
            if stimulus.situation:
                reward = 1.0 if fixed else 0.0
                self.memory.learner.update(situation, request.action, reward)
                if self._host.bus.active:
                    self._host.bus.publish(
                        OutcomeLearned(
                            agent=self.name,
                            situation=situation,
                            action=request.action,
                            reward=reward,
                            ts=self._now(),
                        )
                    )
            done = {a for a, _ in tried} | set(stimulus.tried)
            more = [c for c in stimulus.candidates if c.action not in done]
            if fixed or not more or stimulus.action is not None or len(tried) >= MAX_ATTEMPTS:
                if fixed and stimulus.situation and self._mutates(request.action):
                    await self.memory.store_procedure(situation, taken)
                return Outcome(
                    status="succeeded" if fixed else "failed",
                    summary=result.detail or summary,
                    decision=decision,
                    result=result,
                    rechecks=rechecks,
                    steps=steps,
                    tried=tuple(tried),
                    procedure_id=procedure_id,
                )

    def _mutates(self, action: str) -> bool:
        return self._host.actions.spec(action).mutates

    async def _run_procedure(self, stimulus: Stimulus) -> tuple[Procedure, ProcedureRun] | None:
        """Run the stored procedure for this situation when the record says it is trusted and
        no step would need a human's approval."""
        assert stimulus.situation is not None
        procedure = await self.memory.best_procedure(stimulus.situation)
        if procedure is None or procedure.successes < TRUSTED_RUNS:
            return None
        if procedure.success_rate < TRUSTED_RATE:
            return None
        if any(
            self._host.actions.spec(s.action).risk > self._host.threshold for s in procedure.steps
        ):
            return None
        situation = stimulus.situation

        async def run_step(step: Step) -> tuple[bool, str]:
            request = ActionRequest(
                action=step.action, target=stimulus.target, params=step.params, situation=situation
            )
            result = await self.act(request)
            return result.ok, result.detail

        async def verify() -> bool:
            if stimulus.recheck is None:
                return False
            return (await self.act(stimulus.recheck)).ok

        run = await execute_procedure(
            procedure, run_step, verify if stimulus.recheck is not None else None
        )
        for r in run.results:
            if self._mutates(r.action):
                self.memory.learner.update(situation, r.action, 1.0 if r.fixed else 0.0)
        await self.memory.save_procedure_stats(procedure)
        return procedure, run
