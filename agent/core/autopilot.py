"""The autonomous loop: check targets on schedule, open incidents, let the team handle them.

An incident is opened when a run of checks confirms a fault (agent/ops/confirmation.py): the
target's `failure_threshold` consecutive checks failed its conditions (down) or found a sustained
latency anomaly (degraded); one blip opens nothing. It is resolved after `success_threshold`
passing checks, or when the owner's remedy verifiably fixed it. The agent best placed to
handle it (proficiency, load, personality) owns it; it chooses remedies by what the team
learned, re-checks to verify, and asks a human for risky ones. Every change is
written at once, so a killed loop loses no closed incident; on restart it carries on. The
incident keeps the failing checks that confirmed it and, for each remedy tried, the credit it
got and why (agent/ops/evidence.py).

This is the shell: when targets are checked is `agent.core.check_schedule`; what an incident
is and who bids for it are pure pieces in `agent.ops.incidents` and `agent.ops.dispatch`; how
the owner works it (and learns from an approved run) is `agent.core.remedy`; writing incidents
is `agent.core.incident_books`, following approvals `agent.core.approval_follow_up`. Schedules and
pauses follow an injected `Clock`
(agent/clock.py), so tests run the loop in virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from agent.clock import SYSTEM, Clock
from agent.core import (
    approval_follow_up,
    conflicts,
    dry_runs,
    handover,
    incident_books,
    person_overrides,
    remedy,
)
from agent.core.check_schedule import CheckSchedule
from agent.core.kernel import Kernel
from agent.core.leases import LeaseKeeper
from agent.core.notifier import Notifier
from agent.core.rest_schedule import RestSchedule
from agent.core.stimulus import Stimulus, StimulusKind
from agent.decision.risk import Criticality
from agent.errors import WebopsError
from agent.ops import dispatch
from agent.ops.dispatch import Bid
from agent.ops.evidence import add_credits
from agent.ops.incidents import (
    ApprovalPolicy,
    IncidentView,
    OpenIncident,
    symptom,
)
from agent.skills.actions import ActionRequest
from agent.social.relationships import Resolution
from storage.repositories.incidents import IncidentRepository
from storage.tables import IncidentRow

log = logging.getLogger("webops.autopilot")

__all__ = ["MAX_ATTEMPTS", "ApprovalPolicy", "Autopilot", "Bid", "IncidentView", "symptom"]

#: Handling attempts before an incident is marked failed (escalated to people).
MAX_ATTEMPTS = 4
#: How often the loop looks at the schedule and at decided approvals.
TICK_S = 0.05
#: How long running checks and handling may take to finish when the loop stops.
WIND_DOWN_S = 5.0


class Autopilot:
    def __init__(
        self,
        kernel: Kernel,
        *,
        team: list[str] | None = None,
        approval_policy: ApprovalPolicy = "human",
        approve_delay_s: float = 1.0,
        rng: random.Random | None = None,
        describe: Callable[[str], str | None] | None = None,
        on_event: Callable[[str], None] | None = None,
        clock: Clock = SYSTEM,
        worker: LeaseKeeper | None = None,
    ) -> None:
        self.kernel = kernel
        #: `webops run --worker`: only leased targets are checked (agent/core/leases.py).
        self.worker = worker
        if worker is not None:
            kernel.ops.worker = worker.name
            worker.holding = lambda t: (i := self.open.get(t)) is not None and i.busy
        self.team = team
        self.policy = approval_policy
        self.approve_delay_s = approve_delay_s
        self.rng = rng or random.Random(0)
        self.describe = describe
        self.say = on_event or (lambda _line: None)
        #: What schedules checks and the stand-in operator's pause (the kernel keeps its own
        #: clock for timestamps; give both the same time when testing).
        self.clock = clock
        self.incidents = IncidentRepository(kernel.database)
        self.open: dict[str, OpenIncident] = {}
        self.closed: list[IncidentView] = []
        self.kinds: dict[int, str | None] = {}
        self.assignments: list[tuple[str, str, list[str]]] = []
        self.conflicts: list[Resolution] = []
        #: Hand-overs as (incident id, from, to), in order (agent/core/handover.py).
        self.handovers: list[tuple[int, str, str]] = []
        #: When each target is checked, and each one's run of failing/passing checks.
        self.schedule = CheckSchedule(kernel, clock, wall_slots=worker is not None)
        self.watch = self.schedule.watch
        #: When each agent learns and rests (agent/core/rest_schedule.py).
        self.rest = RestSchedule(kernel, clock, say=self.say)
        #: Tells people (apprise routes) what happens, beside the loop (agent/core/notifier.py).
        self.notifier = Notifier(kernel, clock)
        self._tasks: set[asyncio.Task[None]] = set()
        #: Targets whose incident a person resolved: no new one until healthy or reopened.
        self.held: set[str] = set()

    # -- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, duration_s: float | None = None) -> None:
        """Run until `stop` is set (a signal) or `duration_s` has passed; then wind down.

        Cancelled (the workbench quits: Textual cancels its workers), there is no wind-down:
        the checks and handling under way are cancelled at once rather than left running
        into the kernel's close, and what they stored stays (an open incident is resumed by
        the next run, see incident_books.resume); the kernel's close writes the rest."""
        with self.clock.taking_part(), self.kernel.follower.local():
            try:
                await self._run(stop, duration_s)
            except asyncio.CancelledError:
                if self.kernel.gate.failing_at == self.watch.failing_at:
                    self.kernel.gate.failing_at = lambda _target: None
                await self._cancel_tasks()
                await self.notifier.stop()
                raise

    async def _run(self, stop: asyncio.Event, duration_s: float | None) -> None:
        # An approval decided while this loop runs re-checks only faults it has not just seen.
        self.kernel.gate.failing_at = self.watch.failing_at
        await self.kernel.ops.reload()
        await self.kernel.ops.load_baselines(list(self.kernel.ops.targets))
        team = self.team or [p.name for p in await self.kernel.list_agents()]
        if not team:
            raise WebopsError("no agents to run: create one with 'webops agent create NAME'")
        self.team = team
        for name in team:
            await self.kernel.start_agent(name)
            self.kernel.messages.join("team", name)
        for watcher in team:  # the team learns from each other's outcomes
            for other in team:
                if other != watcher:
                    await self.kernel.watch(watcher, other, trust=0.8)
        await self.notifier.start()
        for approval_id in await incident_books.resume(self):
            self._stand_in(approval_id)
        self.rest.begin(team)
        clock = self.clock
        deadline = None if duration_s is None else clock.monotonic() + duration_s
        while not stop.is_set() and (deadline is None or clock.monotonic() < deadline):
            for approval_id in await incident_books.follow_leases(self):
                self._stand_in(approval_id)
            self._schedule_checks()
            await approval_follow_up.follow_approvals(self)
            self._schedule_rest()
            await clock.wait(stop, TICK_S)
        await self.shutdown()

    @property
    def checks(self) -> int:
        """Checks made so far."""
        return self.schedule.checks

    async def shutdown(self) -> None:
        """Let running checks and handling finish (briefly), then save everything."""
        if self.kernel.gate.failing_at == self.watch.failing_at:
            self.kernel.gate.failing_at = lambda _target: None
        self.rest.wake_all()
        if self._tasks:
            await self.clock.wait_tasks(self._tasks, WIND_DOWN_S)
            await self._cancel_tasks()
        await self.notifier.stop()
        await self.kernel.flush()

    async def _cancel_tasks(self) -> None:
        """Cancel the tasks still running (checks, incident handling) and wait until they
        have ended."""
        running = [task for task in self._tasks if not task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` beside the loop (its parts, approval_follow_up and incident_books, too)."""
        task = self.clock.track(asyncio.create_task(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._report)

    def _report(self, task: asyncio.Task[None]) -> None:
        """Every task's failure is retrieved and said (a full disk used to end as "Task
        exception was never retrieved"); the loop carries on and the next check tries again."""
        if task.cancelled() or (exc := task.exception()) is None:
            return
        if isinstance(exc, WebopsError):
            self.say(f"could not save, will try again: {exc.message}")
        else:
            log.error("autopilot task failed", exc_info=exc)
            self.say(f"an autopilot task failed: {type(exc).__name__}: {exc}")

    def _stand_in(self, approval_id: int) -> None:
        """Unless a person answers approvals, the stand-in operator answers this one."""
        if self.policy != "human":
            self.spawn(approval_follow_up.stand_in_operator(self, approval_id))

    def _schedule_rest(self) -> None:
        """Agents free long enough, or after enough incidents, learn and rest."""
        owners = {i.row.owner for i in self.open.values() if i.row.owner is not None}
        for name in self.rest.due(owners):
            self.spawn(self.rest.rest(name))

    def _schedule_checks(self) -> None:
        targets = self.kernel.ops.targets
        for name in self.schedule.due(self.clock.monotonic(), targets):
            if self.worker is None or self.worker.owns(name):  # else: another worker's slot
                self.spawn(self._check(name))

    async def _check(self, target: str) -> None:
        checked = await self.schedule.check(target, incident_open=target in self.open)
        if checked is None:
            return
        output, health, confirmation = checked.output, checked.health, checked.confirmation
        incident = self.open.get(target)
        trouble = health != "up"
        if incident is None:
            if await person_overrides.held(self, target, trouble):
                return
            if confirmation.verdict(incident_open=False) == "open" and not await self._held(
                target, "the incident"
            ):
                if taken := await person_overrides.adopt_reopened(self, target):
                    return self.spawn(self.handle(taken))
                if target in self.open:  # a later check opened it while this one awaited
                    return
                opened = await incident_books.open_incident(
                    self, target, symptom(output), output.detail, confirmation.fault
                )
                if opened.approval_id is None:  # one another worker opened may await a person
                    self.spawn(self.handle(opened))
        elif not trouble and not incident.busy:
            if confirmation.verdict(incident_open=True) != "resolve":
                return
            if incident.row.status == "awaiting_approval":
                # Else let the approval play out; it verifies.
                await approval_follow_up.withdraw(self, incident)
            else:
                await incident_books.close(
                    self, incident, "resolved", "a check found it healthy again"
                )
        elif trouble and not incident.busy and incident.row.status == "open":
            self.spawn(self.handle(incident))

    # -- incidents -------------------------------------------------------------------------

    async def _held(self, target: str, what: str) -> bool:
        """In maintenance: checks go on, incidents and remedies wait (agent/ops/silences.py)."""
        return await self.kernel.silences.holds(target, what, self.say)

    async def bids(self, situation: str) -> list[Bid]:
        """Every teammate's bid for an incident (see agent/ops/dispatch.py), best first."""
        assert self.team is not None
        load = dispatch.loads(self.team, (i.row.owner for i in self.open.values()))
        bids = []
        for name in self.team:
            agent = await self.kernel.load_agent(name)
            bids.append(
                dispatch.bid(
                    name,
                    proficiency=agent.skills.proficiency("run_runbook"),
                    known=dispatch.known(agent.memory.learner.arms, situation),
                    extraversion=agent.mind.personality.extraversion,
                    confidence=0.5 + agent.mind.modifiers().confidence,
                    load=load[name],
                    tiebreak=self.rng.random(),
                )
            )
        return dispatch.ranked(bids)

    async def assign(self, situation: str) -> tuple[str, str]:
        best = (await self.bids(situation))[0]
        return best.agent, best.why

    async def handle(self, incident: OpenIncident) -> None:
        """Work the incident one turn, unless it is busy, held by maintenance or taken back."""
        if incident.busy or incident.row.status != "open":
            return
        if await self._held(incident.row.target, "its remedy"):
            return
        incident.busy = True
        try:
            if not await person_overrides.taken_back(self, incident):
                await self._handle_once(incident)
        except WebopsError as exc:
            self.say(f"incident {incident.row.id}: {exc.message}")
        finally:
            incident.busy = False

    def _stimulus(self, incident: OpenIncident) -> Stimulus:
        row = incident.row
        ops = self.kernel.ops
        target = ops.targets.get(row.target)
        candidates = tuple(
            ActionRequest(action=name, target=row.target, situation=row.situation)
            for name, runbook in sorted(ops.runbooks.items())
            if runbook.verify_target in (None, row.target)
        )
        assert row.owner is not None and self.team is not None
        handed = {giver for i, giver, _ in self.handovers if i == row.id}
        skill = handover.remedy_skill(self.kernel, candidates)
        better = handover.teammate_for(self.kernel, self.team, row.owner, skill, handed)
        return Stimulus(
            kind=StimulusKind.ALERT,
            summary=f"{row.target}: {row.situation} ({row.summary})",
            teammate=better[0] if better else None,
            teammate_proficiency=better[1] if better else 0.0,
            target=row.target,
            situation=row.situation,
            criticality=target.level if target else Criticality.MEDIUM,
            severity=0.8,
            evidence=0.9,
            candidates=candidates,
            recheck=ops.check_request(row.target),
            confirmed_at=self.watch.failing_at(row.target),
            tried=tuple(a for a, _ in incident.tried),
        )

    async def _handle_once(self, incident: OpenIncident) -> None:
        """One turn of the owner's remedy loop (agent/core/remedy.py) on the incident."""
        row = incident.row
        runner_up: str | None = None
        if row.owner is None:
            bids = await self.bids(row.situation)
            await self.rest.wake(bids[0].agent)  # rested before it owns the incident
            row.owner = bids[0].agent
            runner_up = bids[1].agent if len(bids) > 1 else None
            await self.kernel.messages.broadcast(
                "dispatcher", "team", f"incident {row.id}: {row.target} shows {row.situation}"
            )
            self.assignments.append((row.situation, row.owner, [b.agent for b in bids]))
            self.say(f"incident {row.id}: {row.owner} takes it ({bids[0].why})")
        stimulus = self._stimulus(incident)
        if runner_up is not None and not incident.tried:
            stimulus = await self._settle_conflict(row, stimulus, runner_up)
        incident.attempts += 1
        began = self.kernel.clock()
        outcome = await self.kernel.stimulate(row.owner, stimulus)
        await person_overrides.decided(self, row, outcome, began)
        row.steps += outcome.steps
        incident.procedure_id = outcome.procedure_id
        incident.record(outcome.tried)
        add_credits(row, outcome.credits)
        if outcome.status == "resolved" and not any(fixed for _, fixed in incident.tried):
            # The owner's re-check found it healthy and no remedy fixed anything.
            await incident_books.close(
                self, incident, "recovered", f"{remedy.RECOVERED}: {outcome.summary}"
            )
        elif outcome.status in ("succeeded", "resolved"):
            await incident_books.close(self, incident, "resolved", outcome.summary)
        elif outcome.status == "recovered":
            await incident_books.close(self, incident, "recovered", outcome.summary)
        elif outcome.status == "handed_over" and stimulus.teammate is not None:
            await self._hand_over(incident, stimulus.teammate)
        elif outcome.status == "awaiting_approval" and outcome.approval_id is not None:
            incident.approval_id = outcome.approval_id
            incident.set_status("awaiting_approval")
            action = outcome.decision.action
            self.say(
                f"incident {row.id}: {row.owner} asks to run {action} "
                f"(approval {outcome.approval_id})"
            )
            await incident_books.changed(self, incident)
            self._stand_in(outcome.approval_id)
        elif incident.attempts >= MAX_ATTEMPTS:
            summary = dry_runs.gave_up(incident.attempts, outcome.decision)
            await incident_books.close(self, incident, "failed", summary)
        else:
            await incident_books.changed(self, incident)

    async def _hand_over(self, incident: OpenIncident, taker: str) -> None:
        """The owner handed the incident to a teammate better at it: the teammate owns and
        works it now (a hand-over is not an attempt at a fix)."""
        row = incident.row
        assert row.id is not None and row.owner is not None
        giver, row.owner = row.owner, taker
        self.handovers.append((row.id, giver, taker))
        incident.attempts -= 1
        self.say(await handover.hand_over(self.kernel, row.id, row.summary, giver, taker))
        await incident_books.changed(self, incident)
        await self._handle_once(incident)

    async def _settle_conflict(self, row: IncidentRow, stimulus: Stimulus, other: str) -> Stimulus:
        """Owner and runner-up settle which remedy to use (agent/core/conflicts.py)."""
        settled, resolution = await conflicts.settle(self.kernel, row, stimulus, other)
        if resolution is not None:
            self.conflicts.append(resolution)
            self.say(f"incident {row.id}: {resolution.explanation}")
        return settled
