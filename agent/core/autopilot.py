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
the owner works it (and learns from an approved run) is `agent.core.remedy`. Schedules and
pauses follow an injected `Clock`
(agent/clock.py), so tests run the loop in virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from agent.clock import SYSTEM, Clock
from agent.core import conflicts, credit, dry_runs, handover, person_overrides, remedy
from agent.core.check_schedule import CheckSchedule
from agent.core.kernel import Kernel
from agent.core.notifier import Notifier
from agent.core.rest_schedule import RestSchedule
from agent.core.stimulus import Stimulus, StimulusKind
from agent.decision.risk import Criticality
from agent.errors import WebopsError
from agent.events import IncidentChanged
from agent.ops import dispatch
from agent.ops.confirmation import Fault
from agent.ops.dispatch import Bid
from agent.ops.evidence import add_credits, set_evidence
from agent.ops.incidents import (
    ApprovalPolicy,
    Closing,
    IncidentView,
    OpenIncident,
    fault_of,
    symptom,
    tried_of,
)
from agent.skills.actions import ActionRequest
from agent.social.relationships import Resolution
from storage.repositories.incidents import IncidentRepository
from storage.tables import IncidentRow

log = logging.getLogger(__name__)

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
    ) -> None:
        self.kernel = kernel
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
        self.schedule = CheckSchedule(kernel)
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
        """Run until `stop` is set (a signal) or `duration_s` has passed; then wind down."""
        with self.clock.taking_part():
            await self._run(stop, duration_s)

    async def _run(self, stop: asyncio.Event, duration_s: float | None) -> None:
        # An approval decided while this loop runs re-checks only faults it has not just seen.
        self.kernel.gate.failing_at = self.watch.failing_at
        await self.kernel.ops.reload()
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
        await self._resume()
        self.rest.begin(team)
        clock = self.clock
        deadline = None if duration_s is None else clock.monotonic() + duration_s
        while not stop.is_set() and (deadline is None or clock.monotonic() < deadline):
            self._schedule_checks()
            await self._follow_approvals()
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
            _done, pending = await self.clock.wait_tasks(self._tasks, WIND_DOWN_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.notifier.stop()
        await self.kernel.flush()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
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

    async def _resume(self) -> None:
        """Incidents a previous run left open are taken up again; one that waited for an
        approval waits for the same one (the newest asked for its target, by its owner, since
        it opened), or is handled afresh when there is none."""
        asked = await self.kernel.approvals(status=None)
        for status in ("open", "awaiting_approval"):
            for row in await self.incidents.list(status):
                incident = OpenIncident(row=row, tried=tried_of(row.actions))
                if row.status == "awaiting_approval":
                    incident.approval_id = next(
                        (
                            a.id
                            for a in sorted(asked, key=lambda a: -a.id)
                            if a.target == row.target
                            and a.agent == row.owner
                            and a.created_at >= row.opened_at
                        ),
                        None,
                    )
                    if incident.approval_id is None:
                        incident.set_status("open")
                    elif self.policy != "human":
                        self._spawn(self._stand_in_operator(incident.approval_id))
                self.open[row.target] = incident

    def _schedule_rest(self) -> None:
        """Agents free long enough, or after enough incidents, learn and rest."""
        owners = {i.row.owner for i in self.open.values() if i.row.owner is not None}
        for name in self.rest.due(owners):
            self._spawn(self.rest.rest(name))

    def _schedule_checks(self) -> None:
        targets = self.kernel.ops.targets.values()
        for name in self.schedule.due(self.clock.monotonic(), targets):
            self._spawn(self._check(name))

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
                    return self._spawn(self._handle(taken))
                await self._open(target, symptom(output), output.detail, confirmation.fault)
        elif not trouble and not incident.busy:
            if confirmation.verdict(incident_open=True) != "resolve":
                return
            if incident.row.status == "awaiting_approval":
                await self._withdraw(incident)  # else let the approval play out; it verifies
            else:
                await self._close(incident, "resolved", "a check found it healthy again")
        elif trouble and not incident.busy and incident.row.status == "open":
            self._spawn(self._handle(incident))

    # -- incidents -------------------------------------------------------------------------

    async def _open(self, target: str, situation: str, detail: str, fault: Fault) -> None:
        # Claimed before the first await, so nothing sees the target as quiet meanwhile.
        kind = self.describe(target) if self.describe else None
        row = IncidentRow(
            target=target,
            situation=situation,
            status="open",
            summary=detail,
            health=fault,
            opened_at=self.kernel.clock(),
        )
        set_evidence(row, self.watch.evidence(target))
        incident = OpenIncident(row=row, busy=True)
        self.open[target] = incident
        try:
            incident.row = row = await self.incidents.add(row)
        except BaseException:
            # Not stored (a full disk, say): release the claim so the next failing check
            # opens it again, instead of a target wedged behind an incident that never was.
            if self.open.get(target) is incident:
                del self.open[target]
            raise
        assert row.id is not None
        self.kinds[row.id] = kind
        incident.busy = False
        self.say(f"incident {row.id} opened: {target} {situation} ({detail})")
        await self._changed(incident)
        self._spawn(self._handle(incident))

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

    async def _handle(self, incident: OpenIncident) -> None:
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
        outcome = await self.kernel.stimulate(row.owner, stimulus)
        await person_overrides.decided(self, row, outcome)
        row.steps += outcome.steps
        incident.procedure_id = outcome.procedure_id
        incident.record(outcome.tried)
        add_credits(row, outcome.credits)
        if outcome.status == "resolved" and not any(fixed for _, fixed in incident.tried):
            # The owner's re-check found it healthy and no remedy fixed anything.
            await self._close(incident, "recovered", f"{remedy.RECOVERED}: {outcome.summary}")
        elif outcome.status in ("succeeded", "resolved"):
            await self._close(incident, "resolved", outcome.summary)
        elif outcome.status == "recovered":
            await self._close(incident, "recovered", outcome.summary)
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
            await self._changed(incident)
            if self.policy != "human":
                self._spawn(self._stand_in_operator(outcome.approval_id))
        elif incident.attempts >= MAX_ATTEMPTS:
            summary = dry_runs.gave_up(incident.attempts, outcome.decision)
            await self._close(incident, "failed", summary)
        else:
            await self._changed(incident)

    async def _hand_over(self, incident: OpenIncident, taker: str) -> None:
        """The owner handed the incident to a teammate better at it: the teammate owns and
        works it now (a hand-over is not an attempt at a fix)."""
        row = incident.row
        assert row.id is not None and row.owner is not None
        giver, row.owner = row.owner, taker
        self.handovers.append((row.id, giver, taker))
        incident.attempts -= 1
        self.say(await handover.hand_over(self.kernel, row.id, row.summary, giver, taker))
        await self._changed(incident)
        await self._handle_once(incident)

    async def _settle_conflict(self, row: IncidentRow, stimulus: Stimulus, other: str) -> Stimulus:
        """Owner and runner-up settle which remedy to use (agent/core/conflicts.py)."""
        settled, resolution = await conflicts.settle(self.kernel, row, stimulus, other)
        if resolution is not None:
            self.conflicts.append(resolution)
            self.say(f"incident {row.id}: {resolution.explanation}")
        return settled

    async def _stand_in_operator(self, approval_id: int) -> None:
        """The headless demo's operator, answering by a stated policy."""
        if self.policy == "wait":
            await self.clock.sleep(self.approve_delay_s)
        with contextlib.suppress(WebopsError):  # someone may have decided already
            if self.policy == "none":
                await self.kernel.deny(approval_id, by="stand-in operator")
            else:
                await self.kernel.approve(approval_id, by="stand-in operator")

    async def _withdraw(self, incident: OpenIncident) -> None:
        """The target recovered while its remedy waited for a person: withdraw the request
        (unless someone decided it already), run nothing, close the incident as recovered."""
        approval_id = incident.approval_id
        if approval_id is None or not await self.kernel.withdraw(approval_id, "recovered"):
            return
        incident.approval_id = None  # before the next await: this withdrawal closes it
        action = (await self.kernel.approval(approval_id)).action
        await self._close(
            incident,
            "recovered",
            f"{remedy.RECOVERED}: healthy again before {action} was approved; nothing ran",
        )

    async def _follow_approvals(self) -> None:
        """Carry on with incidents whose approval a person (or the stand-in) decided."""
        for incident in list(self.open.values()):
            if incident.row.status != "awaiting_approval" or incident.approval_id is None:
                continue
            approval_id = incident.approval_id
            approval = await self.kernel.approval(approval_id)
            if approval.status in ("pending", "approved") or incident.approval_id != approval_id:
                continue  # "approved": the action is still running
            row = incident.row
            incident.approval_id = None
            if approval.status == "withdrawn":  # a re-check as it was approved: healthy
                await self._close(
                    incident,
                    "recovered",
                    f"{remedy.RECOVERED}: healthy again when {approval.action} was approved; "
                    "nothing ran",
                )
                continue
            incident.set_status("open")
            assert row.owner is not None
            agent = await self.kernel.load_agent(row.owner)
            if approval.status == "denied":
                incident.record([(approval.action, False)])
                add_credits(row, [credit.denied(approval.action, approval.decided_by)])
                self.say(f"incident {row.id}: {approval.action} denied; looking for another way")
                self._spawn(self._handle(incident))
                continue
            row.steps += 2  # the approved action, then the check that verifies it
            confirmed, basis = self._confirmed_before(
                row.target, approval.decided_at, approval.decided_by or "a person"
            )
            judgement = await remedy.verify_approved(
                agent,
                row.situation,
                approval.action,
                approval.status == "executed",
                self.kernel.ops.check_request(row.target),
                confirmed=confirmed,
                basis=basis,
            )
            fixed = judgement.fixed
            incident.record([(approval.action, fixed)])
            add_credits(row, [judgement])
            if fixed:
                if confirmed:  # only a real fix becomes a procedure
                    await remedy.keep_what_fixed(agent, row.situation, incident.tried)
                await self._close(incident, "resolved", f"{approval.action} fixed it")
            else:
                self._spawn(self._handle(incident))

    def _confirmed_before(self, target: str, decided_at: float | None, by: str) -> tuple[bool, str]:
        """A failing check within one check interval (at least `remedy.CONFIRMED_FRESH_S`)
        before an approved remedy ran: only then may it earn credit (agent/core/remedy.py);
        and the reason, for the incident's record."""
        spec = self.kernel.ops.targets.get(target)
        window = max(remedy.CONFIRMED_FRESH_S, spec.interval_s if spec else 0.0)
        confirmed = self.watch.confirmed_before(target, decided_at, window)
        why = credit.approved_basis(confirmed, self.watch.failing_at(target), decided_at, by)
        return confirmed, why

    async def _close(self, incident: OpenIncident, status: Closing, summary: str) -> None:
        """Closed in memory only once the close is stored: if the write fails the incident
        stays open here as in the database, and is handled again. Closed once: a second
        close while the first is written is dropped."""
        if incident.closing:
            return
        incident.closing = True
        row = incident.row
        before = (row.status, row.summary, row.closed_at)
        incident.set_status(status)
        row.summary = summary
        row.closed_at = self.kernel.clock()
        try:
            if not await self.incidents.save(row):
                return person_overrides.let_go(self, incident)
        except BaseException:
            row.status, row.summary, row.closed_at = before
            incident.closing = False
            raise
        self.open.pop(row.target, None)
        if row.owner is not None:
            self.rest.closed(row.owner)
        # A new incident on this target needs a new run of failing checks.
        self.schedule.closed(row.target)
        await self._changed(incident)
        assert row.id is not None
        view = incident.closed(status, kind=self.kinds.get(row.id))
        self.closed.append(view)
        seconds = row.closed_at - row.opened_at
        self.say(f"incident {row.id} {status} after {row.steps} steps, {seconds:.1f} s: {summary}")

    async def _changed(self, incident: OpenIncident) -> None:
        row = incident.row
        if not await self.incidents.save(row):
            return person_overrides.let_go(self, incident)
        assert row.id is not None
        if self.kernel.bus.active:
            self.kernel.bus.publish(
                IncidentChanged(
                    agent=row.owner,
                    incident_id=row.id,
                    target=row.target,
                    situation=row.situation,
                    status=row.status,
                    owner=row.owner,
                    steps=row.steps,
                    summary=row.summary,
                    health=fault_of(row.health),
                    ts=self.kernel.clock(),
                )
            )
