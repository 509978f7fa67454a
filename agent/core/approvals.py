"""The approval gate: actions above the risk threshold wait here for a human.

An agent whose decision needs approval files a request (`request`): it is stored, audited and
announced, and the agent moves on. A human decides once (`approve` or `deny`; a second decision
is refused with `Conflict`, even from another process at the same moment), which is audited and
announced too. Approving runs the action at once and counts as praise; denying is criticism, a
lower value for the action in that situation, and a memory. Whether a skill's actions may skip
the gate, autonomy earned by approved successes, is answered here as well (`autonomy`).

An incident's remedy may wait minutes for a person, and the fault may go away meanwhile.
So approving an incident's mutating remedy re-checks its target first (`_recovered`), unless
a failing check confirmed the fault within `remedy.CONFIRMED_FRESH_S`: if the target is
healthy, nothing runs and the approval ends `withdrawn` ("recovered before it ran"); the
autopilot then closes the incident as recovered, with no credit to anyone. A person's own
order (a task, a chat request) runs as told.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Literal

from agent.core.agent import AgentHost, WebOpsAgent
from agent.core.approval_view import ApprovalStatus, ApprovalView
from agent.core.audit_trail import AuditTrail, noted
from agent.core.remedy import CONFIRMED_FRESH_S, healthy
from agent.decision.reasoning import Decision
from agent.errors import Conflict, NotFound
from agent.events import ApprovalDecided, ApprovalRequested
from agent.fresh import Fresh
from agent.memory.learning import Feedback
from agent.mind.drift import Experience
from agent.mind.emotions import Appraisal
from agent.ops.evidence import IncidentLog
from agent.skills.actions import ActionRequest
from agent.skills.autonomy import skill_autonomy
from storage.database import Database
from storage.repositories.approvals import ApprovalRepository
from storage.tables import ApprovalRow

#: How old the pending approval ids that chat reads may be.
HOT_READ_S = 1.0
#: Why an approved remedy did not run: a re-check just before found its target healthy.
RECOVERED_BEFORE = "recovered before it ran"


def _no_recheck(_target: str) -> ActionRequest | None:
    return None


def _never_failing(_target: str) -> float | None:
    return None


class ApprovalGate:
    def __init__(
        self,
        database: Database,
        audit: AuditTrail,
        host: AgentHost,
        load: Callable[[str], Awaitable[WebOpsAgent]],
        recheck: Callable[[str], ActionRequest | None] = _no_recheck,
    ) -> None:
        """`host` is the kernel: its bus, actions, clock, threshold and dirty marks;
        `recheck` gives the check of a target (None for one it does not know)."""
        self._repository = ApprovalRepository(database)
        self._incidents = IncidentLog(database)
        self._recheck = recheck
        #: When (host clock) a failing check last confirmed a target's fault, as far as this
        #: process knows: the autopilot watching the targets sets it (`Watch.failing_at`).
        #: Where nobody watches (a CLI), approving an incident's remedy always re-checks.
        self.failing_at: Callable[[str], float | None] = _never_failing
        self._audit = audit
        self._host = host
        self._bus = host.bus
        self._load = load
        #: What every chat turn needs to know, kept for a second (see `agent.fresh`).
        self._pending_ids = Fresh(self._read_pending_ids, HOT_READ_S, serve_stale_s=HOT_READ_S)

    def _clock(self) -> float:
        return self._host.clock()

    async def request(self, agent: WebOpsAgent, request: ActionRequest, decision: Decision) -> int:
        """File `request` for a human's decision; returns the approval's id."""
        risk = decision.explanation.risk
        row = await self._repository.add(
            ApprovalRow(
                agent_id=agent.id,
                action=request.action,
                target=request.target,
                risk=str(risk.effective_level) if risk else "unknown",
                status="pending",
                summary=decision.explanation.summary,
                request=request.model_dump_json(),
                explanation=decision.explanation.model_dump_json(),
                created_at=self._clock(),
            )
        )
        self._pending_ids.invalidate()
        assert row.id is not None
        await self._audit.now(
            actor=agent.name,
            event="approval_requested",
            agent=agent.name,
            action=request.action,
            target=request.target,
            detail={"approval_id": row.id, "risk": row.risk},
            why=row.summary,
        )
        self._bus.publish(
            ApprovalRequested(
                agent=agent.name,
                approval_id=row.id,
                action=request.action,
                target=request.target,
                risk=row.risk,
                summary=row.summary,
                ts=self._clock(),
            )
        )
        return row.id

    async def queue(self, status: ApprovalStatus | None = "pending") -> list[ApprovalView]:
        return [ApprovalView.from_row(r, a) for r, a in await self._repository.list(status)]

    async def view(self, approval_id: int) -> ApprovalView:
        found = await self._repository.get(approval_id)
        if found is None:
            raise NotFound(f"no approval with id {approval_id}")
        return ApprovalView.from_row(*found)

    async def pending_ids(self) -> list[int]:
        """Ids of pending approvals, another process's within `HOT_READ_S`."""
        return await self._pending_ids.get()

    async def _read_pending_ids(self) -> list[int]:
        return [a.id for a in await self.queue()]

    async def approve(self, approval_id: int, by: str, note: str = "") -> ApprovalView:
        """Grant a pending approval and run its action now; returns it with the result.

        An incident's remedy whose target a re-check finds healthy does not run: the approval
        comes back `withdrawn` ("recovered before it ran")."""
        current = await self.view(approval_id)
        if current.status == "pending":
            found = await self._recovered(current)
            if found is not None and await self._withdraw_recovered(current, by, found, note):
                return await self.view(approval_id)
        pending, agent, request = await self._decide(approval_id, "approved", by, note)
        agent.feel(Appraisal.PRAISE, 0.3, cause=f"{by} approved {pending.action}")
        if request.situation:
            agent.memory.learner.feedback(request.situation, request.action, Feedback.APPROVE)
        result = await agent.act(request, approved=True)
        self._host.mark_dirty(agent)
        await self._repository.transition(
            approval_id,
            "approved",
            "executed" if result.ok else "failed",
            at=self._clock(),
            result=result.model_dump_json(),
        )
        return await self.view(approval_id)

    async def _recovered(self, approval: ApprovalView) -> str | None:
        """Before an incident's mutating remedy runs: unless a failing check confirmed the
        fault within `CONFIRMED_FRESH_S`, re-check the target (as the approval's agent). What
        the check said when the target is healthy, else None (the remedy runs)."""
        target, actions = approval.target, self._host.actions
        if target is None or approval.action not in actions.names():
            return None
        recheck = self._recheck(target)
        if recheck is None or not actions.spec(approval.action).mutates:
            return None
        failing_at = self.failing_at(target)
        if failing_at is not None and self._clock() - failing_at <= CONFIRMED_FRESH_S:
            return None
        found = await self._repository.get(approval.id)
        assert found is not None
        situation = ActionRequest.model_validate_json(found[0].request).situation
        if not await self._incidents.awaiting_approval(target, situation):
            return None  # a person's own order: it runs as told
        check = await (await self._load(approval.agent)).act(recheck)
        return (check.detail or "healthy") if healthy(check) else None

    async def _withdraw_recovered(
        self, approval: ApprovalView, by: str, found: str, note: str = ""
    ) -> bool:
        """`by` approved a remedy whose target recovered: withdraw it (False if someone
        decided first), audit and announce that nothing ran."""
        found = found if found.startswith("healthy") else f"healthy ({found})"
        why = f"{RECOVERED_BEFORE}: a re-check of {approval.target} found it {found}"
        result = json.dumps({"status": "nothing ran", "detail": why})
        moved = await self._repository.transition(
            approval.id,
            "pending",
            "withdrawn",
            at=self._clock(),
            by=RECOVERED_BEFORE,
            result=result,
        )
        self._pending_ids.invalidate()
        if not moved:
            return False
        await self._audit.now(
            actor=by,
            event="withdrawn",
            agent=approval.agent,
            action=approval.action,
            target=approval.target,
            detail=noted({"approval_id": approval.id, "risk": approval.risk}, by, note),
            why=why,
        )
        self._bus.publish(
            ApprovalDecided(
                agent=approval.agent,
                approval_id=approval.id,
                status="withdrawn",
                by=by,
                ts=self._clock(),
            )
        )
        return True

    async def withdraw(self, approval_id: int, why: str) -> bool:
        """Take back a pending request (its fault went away by itself), so that nobody runs
        a remedy on a healthy target; False when someone decided it first. No feedback: a
        withdrawn request says nothing about the action."""
        moved = await self._repository.transition(
            approval_id, "pending", "withdrawn", at=self._clock(), by=why
        )
        if moved:
            self._pending_ids.invalidate()
            taken = await self.view(approval_id)
            await self._audit.now(
                actor=taken.agent,  # the agent's own loop takes back what it asked for
                event="withdrawn",
                agent=taken.agent,
                action=taken.action,
                target=taken.target,
                detail={"approval_id": approval_id, "risk": taken.risk},
                why=why,
            )
        return moved

    async def deny(self, approval_id: int, by: str, note: str = "") -> ApprovalView:
        """A denial is feedback: criticism felt, the action's value lowered, remembered."""
        pending, agent, request = await self._decide(approval_id, "denied", by, note)
        agent.feel(Appraisal.CRITICISM, 0.4, cause=f"{by} denied {pending.action}")
        agent.adapt(Experience.DENIED, f"{by} denied {pending.action}")
        if request.situation:
            agent.memory.learner.feedback(request.situation, request.action, Feedback.DENY)
        await agent.memory.remember(
            "feedback",
            f"{by} denied {pending.action} on {pending.target or '-'}",
            importance=0.7,
            situation=request.situation,
            details={"feedback": "deny", "action": pending.action, "by": by},
        )
        return await self.view(approval_id)

    async def _decide(
        self, approval_id: int, status: Literal["approved", "denied"], by: str, note: str = ""
    ) -> tuple[ApprovalView, WebOpsAgent, ActionRequest]:
        """Move a pending approval to `status` (once: a second decision is refused), audit it,
        announce it; return it with its agent and the request it stands for."""
        current = await self.view(approval_id)
        moved = current.status == "pending" and await self._repository.transition(
            approval_id, "pending", status, at=self._clock(), by=by
        )
        self._pending_ids.invalidate()
        if not moved:
            latest = await self.view(approval_id)
            raise Conflict(f"approval {approval_id} is already {latest.status}")
        await self._audit.now(
            actor=by,
            event=status,
            agent=current.agent,
            action=current.action,
            target=current.target,
            detail=noted({"approval_id": approval_id, "risk": current.risk}, by, note),
            why=current.summary,
        )
        self._bus.publish(
            ApprovalDecided(
                agent=current.agent, approval_id=approval_id, status=status, by=by, ts=self._clock()
            )
        )
        found = await self._repository.get(approval_id)
        assert found is not None
        request = ActionRequest.model_validate_json(found[0].request)
        return current, await self._load(current.agent), request

    def autonomy(self, agent: WebOpsAgent, skill: str) -> tuple[bool, str]:
        """Whether the skill's actions above the threshold may skip the gate (granted when
        any of them earned it), and why."""
        streaks = {key: counts.approved_streak for key, counts in agent.records.items()}
        proficiency = agent.skills.proficiency(skill)
        return skill_autonomy(
            skill, streaks, proficiency, self._host.actions.specs(), self._host.threshold
        )
