"""The autonomous loop: check targets on schedule, open incidents, let the team handle them.

An incident is opened when a target's conditions fail or its latency baseline says it is
slow. The agent best placed to handle it (proficiency, load, personality) owns it; it
chooses remedies by what the team learned, re-checks to verify, and asks a human for risky
ones. An incident closes when a check finds the target healthy again. Every change is
written at once, so a killed loop loses no closed incident; on restart it carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from agent.core.kernel import Kernel
from agent.core.stimulus import Stimulus, StimulusKind
from agent.decision.risk import Criticality
from agent.errors import WebopsError
from agent.events import IncidentChanged, TargetChecked
from agent.memory.learning import Choice
from agent.memory.procedures import Step
from agent.skills.actions import ActionOutput, ActionRequest
from agent.social.relationships import Proposal, Resolution, resolve_conflict
from storage.repositories.incidents import IncidentRepository
from storage.tables import IncidentRow

ApprovalPolicy = Literal["human", "all", "none", "wait"]
#: Handling attempts before an incident is marked failed (escalated to people).
MAX_ATTEMPTS = 4


def symptom(output: ActionOutput) -> str:
    """What a failed check looks like, as a kind of situation agents can learn about.

    Deliberately target-agnostic ("status=503", "refused", "slow"), so what one service
    taught applies to the next one showing the same symptom.
    """
    data = output.data
    if data.get("healthy") and data.get("slow"):
        return "slow"
    detail = output.detail.lower()
    for words, name in (
        ("refused", "refused"),
        ("timed out", "timeout"),
        ("not resolved", "unresolved"),
        ("tls", "tls"),
    ):
        if words in detail:
            return name
    for condition in data.get("conditions", []):
        if not condition.get("ok"):
            field_name = str(condition["condition"]).split()[0]
            if field_name == "status":
                return f"status={condition.get('actual')}"
            return field_name
    return "unhealthy"


@dataclass
class _Open:
    row: IncidentRow
    attempts: int = 0
    approval_id: int | None = None
    tried: list[tuple[str, bool]] = field(default_factory=list)
    busy: bool = False


@dataclass(frozen=True)
class Bid:
    agent: str
    score: float
    volunteer: bool
    why: str
    tiebreak: float


class IncidentView(BaseModel):
    id: int
    target: str
    kind: str | None
    situation: str
    status: str
    owner: str | None
    steps: int
    seconds: float | None
    actions: list[tuple[str, bool]]


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
    ) -> None:
        self.kernel = kernel
        self.team = team
        self.policy = approval_policy
        self.approve_delay_s = approve_delay_s
        self.rng = rng or random.Random(0)
        self.describe = describe
        self.say = on_event or (lambda _line: None)
        self.incidents = IncidentRepository(kernel.database)
        self.open: dict[str, _Open] = {}
        self.closed: list[IncidentView] = []
        self.kinds: dict[int, str | None] = {}
        self.checks = 0
        self.assignments: list[tuple[str, str, list[str]]] = []
        self.conflicts: list[Resolution] = []
        self._last_check: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, duration_s: float | None = None) -> None:
        """Run until `stop` is set (a signal) or `duration_s` has passed; then wind down."""
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
        await self._resume()
        deadline = None if duration_s is None else time.monotonic() + duration_s
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            self._schedule_checks()
            await self._follow_approvals()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
        await self.shutdown()

    async def shutdown(self) -> None:
        """Let running checks and handling finish (briefly), then save everything."""
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.kernel.flush()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resume(self) -> None:
        """Incidents a previous run left open are taken up again."""
        for status in ("open", "awaiting_approval"):
            for row in await self.incidents.list(status):
                self.open[row.target] = _Open(
                    row=row,
                    tried=[
                        tuple(a)
                        for a in json.loads(row.actions)  # type: ignore[misc]
                    ],
                )

    def _schedule_checks(self) -> None:
        now = time.monotonic()
        for name, target in self.kernel.ops.targets.items():
            if now - self._last_check.get(name, -1e9) >= target.interval_s:
                self._last_check[name] = now
                self._spawn(self._check(name))

    async def _check(self, target: str) -> None:
        request = self.kernel.ops.check_request(target)
        handler = self.kernel.actions.handler(request.action)
        output = await handler(request)
        self.checks += 1
        if self.kernel.bus.active:
            self.kernel.bus.publish(
                TargetChecked(
                    target=target,
                    healthy=output.ok,
                    latency_ms=output.data.get("latency_ms"),
                    detail=output.detail,
                    ts=self.kernel.clock(),
                )
            )
        incident = self.open.get(target)
        trouble = not output.ok or bool(output.data.get("slow"))
        if incident is None and trouble:
            await self._open(target, symptom(output), output.detail)
        elif incident is not None and not trouble and not incident.busy:
            if incident.row.status == "awaiting_approval":
                return  # let the approval play out; it will verify
            await self._close(incident, "resolved", "a check found it healthy again")
        elif (
            incident is not None and trouble and not incident.busy and incident.row.status == "open"
        ):
            self._spawn(self._handle(incident))

    # -- incidents -------------------------------------------------------------------------

    async def _open(self, target: str, situation: str, detail: str) -> None:
        # Claimed before the first await, so nothing sees the target as quiet meanwhile.
        kind = self.describe(target) if self.describe else None
        row = IncidentRow(
            target=target,
            situation=situation,
            status="open",
            summary=detail,
            opened_at=self.kernel.clock(),
        )
        incident = _Open(row=row, busy=True)
        self.open[target] = incident
        incident.row = row = await self.incidents.add(row)
        assert row.id is not None
        self.kinds[row.id] = kind
        incident.busy = False
        self.say(f"incident {row.id} opened: {target} {situation} ({detail})")
        await self._changed(incident)
        self._spawn(self._handle(incident))

    async def bids(self, situation: str) -> list[Bid]:
        """Every teammate's bid for an incident: proficiency with runbooks, what it knows of
        this symptom, its will to volunteer (extraversion times confidence), minus load."""
        assert self.team is not None
        load = {name: 0 for name in self.team}
        for incident in self.open.values():
            if incident.row.owner in load:
                load[incident.row.owner] += 1
        bids = []
        for name in self.team:
            agent = await self.kernel.load_agent(name)
            proficiency = agent.skills.proficiency("run_runbook")
            known = max(
                (
                    arm.value
                    for (s, _a), arm in agent.memory.learner.arms.items()
                    if s == situation and arm.weight > 0
                ),
                default=0.0,
            )
            confidence = 0.5 + agent.mind.modifiers().confidence
            volunteer = agent.mind.personality.extraversion * max(0.0, min(1.0, confidence))
            score = proficiency + 0.5 * known + 0.3 * volunteer - 0.5 * load[name]
            bids.append(
                Bid(
                    agent=name,
                    score=round(score, 4),
                    volunteer=volunteer >= 0.35,
                    why=f"proficiency {proficiency:.2f}, knows this {known:.2f}, "
                    f"volunteers {volunteer:.2f}, load {load[name]}",
                    tiebreak=self.rng.random(),
                )
            )
        bids.sort(key=lambda b: (b.score, b.tiebreak), reverse=True)
        return bids

    async def assign(self, situation: str) -> tuple[str, str]:
        best = (await self.bids(situation))[0]
        return best.agent, best.why

    async def _handle(self, incident: _Open) -> None:
        if incident.busy or incident.row.status != "open":
            return
        incident.busy = True
        try:
            await self._handle_once(incident)
        except WebopsError as exc:
            self.say(f"incident {incident.row.id}: {exc.message}")
        finally:
            incident.busy = False

    def _stimulus(self, incident: _Open) -> Stimulus:
        row = incident.row
        ops = self.kernel.ops
        target = ops.targets.get(row.target)
        candidates = tuple(
            ActionRequest(action=name, target=row.target, situation=row.situation)
            for name, runbook in sorted(ops.runbooks.items())
            if runbook.verify_target in (None, row.target)
        )
        return Stimulus(
            kind=StimulusKind.ALERT,
            summary=f"{row.target}: {row.situation} ({row.summary})",
            target=row.target,
            situation=row.situation,
            criticality=target.level if target else Criticality.MEDIUM,
            severity=0.8,
            evidence=0.9,
            candidates=candidates,
            recheck=ops.check_request(row.target),
            tried=tuple(a for a, _ in incident.tried),
        )

    async def _handle_once(self, incident: _Open) -> None:
        row = incident.row
        runner_up: str | None = None
        if row.owner is None:
            bids = await self.bids(row.situation)
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
        row.steps += outcome.steps
        incident.tried.extend(outcome.tried)
        row.actions = json.dumps(incident.tried)
        if outcome.status in ("succeeded", "resolved"):
            await self._close(incident, "resolved", outcome.summary)
        elif outcome.status == "awaiting_approval" and outcome.approval_id is not None:
            incident.approval_id = outcome.approval_id
            row.status = "awaiting_approval"
            action = outcome.decision.action
            self.say(
                f"incident {row.id}: {row.owner} asks to run {action} "
                f"(approval {outcome.approval_id})"
            )
            await self._changed(incident)
            if self.policy != "human":
                self._spawn(self._stand_in_operator(outcome.approval_id))
        else:
            if incident.attempts >= MAX_ATTEMPTS:
                await self._close(
                    incident,
                    "failed",
                    f"gave up after {incident.attempts} attempts; escalate to a person",
                )
            else:
                await self._changed(incident)

    async def _settle_conflict(self, row: IncidentRow, stimulus: Stimulus, other: str) -> Stimulus:
        """The runner-up may propose another remedy; if so, the better-founded one is used
        (risk, record, trust), the reasons are told to the team, and the loser's regard for
        the winner changes."""
        assert row.owner is not None
        owner = await self.kernel.load_agent(row.owner)
        rival = await self.kernel.load_agent(other)
        _, mine = owner.choose(stimulus, set())
        _, theirs = rival.choose(stimulus, set())
        if mine is None or theirs is None or mine.action == theirs.action:
            return stimulus

        def proposal(agent_name: str, choice: Choice) -> Proposal:
            stats = choice.candidates[choice.action]
            return Proposal(
                agent=agent_name,
                action=choice.action,
                target=row.target,
                risk=int(self.kernel.actions.spec(choice.action).risk),
                success_rate=max(0.0, min(1.0, stats["value"])),
                confidence=min(1.0, stats["experience"] / 5),
            )

        resolution = resolve_conflict(
            proposal(row.owner, mine), proposal(other, theirs), self.kernel.relationships
        )
        self.kernel.relationships.record_conflict(
            resolution.loser.agent, resolution.winner.agent, self.kernel.clock()
        )
        self.conflicts.append(resolution)
        self.say(f"incident {row.id}: {resolution.explanation}")
        await self.kernel.messages.broadcast(
            resolution.winner.agent, "team", resolution.explanation
        )
        request = ActionRequest(
            action=resolution.winner.action, target=row.target, situation=row.situation
        )
        return stimulus.model_copy(update={"action": request})

    async def _stand_in_operator(self, approval_id: int) -> None:
        """The headless demo's operator, answering by a stated policy."""
        if self.policy == "wait":
            await asyncio.sleep(self.approve_delay_s)
        with contextlib.suppress(WebopsError):  # someone may have decided already
            if self.policy == "none":
                await self.kernel.deny(approval_id, by="stand-in operator")
            else:
                await self.kernel.approve(approval_id, by="stand-in operator")

    async def _follow_approvals(self) -> None:
        """Carry on with incidents whose approval a person (or the stand-in) decided."""
        for incident in list(self.open.values()):
            if incident.row.status != "awaiting_approval" or incident.approval_id is None:
                continue
            approval = await self.kernel.approval(incident.approval_id)
            if approval.status in ("pending", "approved"):
                continue  # "approved": the action is still running
            row = incident.row
            incident.approval_id = None
            row.status = "open"
            assert row.owner is not None
            agent = await self.kernel.load_agent(row.owner)
            if approval.status == "denied":
                incident.tried.append((approval.action, False))
                row.actions = json.dumps(incident.tried)
                self.say(f"incident {row.id}: {approval.action} denied; looking for another way")
                self._spawn(self._handle(incident))
                continue
            row.steps += 2  # the approved action, then the check that verifies it
            check = await agent.act(self.kernel.ops.check_request(row.target))
            fixed = approval.status == "executed" and check.ok
            incident.tried.append((approval.action, fixed))
            row.actions = json.dumps(incident.tried)
            agent.memory.learner.update(row.situation, approval.action, 1.0 if fixed else 0.0)
            self.kernel.mark_dirty(agent)
            if fixed:
                steps = (
                    [
                        Step(a, runs=1, fixes=int(ok))
                        for a, ok in incident.tried
                        if self.kernel.actions.spec(a).mutates
                    ]
                    if all(a in self.kernel.actions.names() for a, _ in incident.tried)
                    else []
                )
                if steps:
                    await agent.memory.store_procedure(row.situation, steps)
                await self._close(incident, "resolved", f"{approval.action} fixed it")
            else:
                self._spawn(self._handle(incident))

    async def _close(self, incident: _Open, status: str, summary: str) -> None:
        row = incident.row
        row.status = status
        row.summary = summary
        row.closed_at = self.kernel.clock()
        self.open.pop(row.target, None)
        await self._changed(incident)
        assert row.id is not None
        seconds = row.closed_at - row.opened_at
        self.closed.append(
            IncidentView(
                id=row.id,
                target=row.target,
                kind=self.kinds.get(row.id),
                situation=row.situation,
                status=status,
                owner=row.owner,
                steps=row.steps,
                seconds=round(seconds, 3),
                actions=incident.tried,
            )
        )
        self.say(f"incident {row.id} {status} after {row.steps} steps, {seconds:.1f} s: {summary}")

    async def _changed(self, incident: _Open) -> None:
        row = incident.row
        await self.incidents.save(row)
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
                    ts=self.kernel.clock(),
                )
            )
