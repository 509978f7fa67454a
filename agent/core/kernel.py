"""The kernel: the one in-process runtime that the workbench, the CLI and the API all drive.

It owns the database for its lifetime (opened in `open`, closed in `close`), the agents and
their supervised tasks, the event bus and the approvals queue. Emotions and action records
change many times a second under load, so they live in memory and a write-behind task flushes
them every `flush_interval_s` (and on close); lifecycle changes and approvals are written at
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agent.core.agent import RecordCounts, WebOpsAgent
from agent.core.lifecycle import LifecycleState, parse_state
from agent.core.resources import ResourceLimits, Resources, ResourceUsage
from agent.core.stimulus import Outcome, Stimulus
from agent.core.tokens import IssuedToken, Tokens, TokenView
from agent.decision.reasoning import Decision
from agent.decision.risk import RiskLevel
from agent.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from agent.events import ApprovalDecided, ApprovalRequested, EventBus, KernelEvent, OutcomeLearned
from agent.fresh import Fresh
from agent.memory.learning import Feedback
from agent.memory.memory import (
    KINDS,
    AgentMemory,
    ConsolidationReport,
    IdAllocator,
    MemoryBackend,
    MemoryItem,
    MemoryKind,
)
from agent.mind.emotions import Appraisal
from agent.mind.mind import Mind
from agent.mind.mood import Mood
from agent.mind.personality import Personality, TraitEffects, build_personality
from agent.mind.profile import AgentProfile, check_agent_name, personality_of
from agent.ops.service import Ops
from agent.skills.actions import ActionRegistry, ActionRequest, ActionResult
from agent.skills.autonomy import earned_autonomy
from agent.skills.proficiency import SkillBook, SkillRegistry, SkillState, SkillView
from agent.social.messaging import Message, MessageBus, conversation_id
from agent.social.relationships import Relationships
from storage.database import Database

if TYPE_CHECKING:
    from agent.core.tasks import TaskResult
    from agent.memory.recall import RecallWeights
from storage.errors import DuplicateKey
from storage.repositories.action_values import ActionValueRepository
from storage.repositories.agents import AgentRepository
from storage.repositories.approvals import ApprovalRepository
from storage.repositories.audit import AuditRepository, AuditVerification
from storage.repositories.check_samples import CheckSampleRepository
from storage.repositories.episodes import EpisodeRepository
from storage.repositories.facts import FactRepository
from storage.repositories.messages import MessageRepository
from storage.repositories.procedures import ProcedureRepository
from storage.repositories.records import ActionRecordRepository
from storage.repositories.relationships import RelationshipRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.skills import SkillRepository
from storage.repositories.targets import TargetRepository
from storage.repositories.tokens import TokenRepository
from storage.secrets import SecretBox
from storage.tables import ActionRecordRow, AgentRow, ApprovalRow, AuditRow, SkillRow

#: Episodes written per INSERT batch by the write-behind flush.
FLUSH_BATCH = 5_000
#: How old the agent names and pending approval ids that chat reads may be.
HOT_READ_S = 1.0


class KernelConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Actions whose effective risk is above this level wait for a human's approval.
    approval_threshold: RiskLevel = RiskLevel.MEDIUM
    limits: ResourceLimits = ResourceLimits()
    flush_interval_s: float = 0.5
    stop_timeout_s: float = 5.0
    #: Seeds each agent's tie-breaking (with its name), so a run is repeatable.
    seed: int = 0
    #: Weights of relevance, recency and importance in recall (and the recency half-life).
    recall_relevance: float = Field(1.0, ge=0)
    recall_recency: float = Field(1.0, ge=0)
    recall_importance: float = Field(1.0, ge=0)
    recall_half_life_s: float = Field(6 * 3600.0, gt=0)


class RecordView(BaseModel):
    action: str
    target_kind: str
    successes: int
    failures: int
    approved_successes: int


class AgentStatus(BaseModel):
    """`webops status --json`: everything about one agent's mind right now."""

    name: str
    preset: str
    state: str
    personality: Personality
    effects: TraitEffects
    emotions: dict[str, float]
    baseline: dict[str, float]
    mood: Mood
    skills: list[dict[str, Any]]
    memory: dict[str, int]
    resources: ResourceUsage
    records: list[RecordView]


class ApprovalView(BaseModel):
    id: int
    agent: str
    action: str
    target: str | None
    risk: str
    status: str
    summary: str
    explanation: dict[str, Any]
    result: dict[str, Any] | None
    created_at: float
    decided_at: float | None
    decided_by: str | None

    @classmethod
    def from_row(cls, row: ApprovalRow, agent: str) -> ApprovalView:
        assert row.id is not None
        return cls(
            id=row.id,
            agent=agent,
            action=row.action,
            target=row.target,
            risk=row.risk,
            status=row.status,
            summary=row.summary,
            explanation=json.loads(row.explanation),
            result=json.loads(row.result) if row.result else None,
            created_at=row.created_at,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
        )


class Kernel:
    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], float] = time.time,
        config: KernelConfig | None = None,
        actions: ActionRegistry | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.config = config or KernelConfig()
        self.actions = actions or ActionRegistry()
        self.bus = EventBus()
        self._agent_rows = AgentRepository(database)
        self._records = ActionRecordRepository(database)
        self._approvals = ApprovalRepository(database)
        self._skills = SkillRepository(database)
        self.skill_registry = SkillRegistry()
        self.messages = MessageBus(MessageRepository(database), clock, bus=self.bus)
        self.relationships = Relationships()
        self._relationship_rows = RelationshipRepository(database)
        self.audit = AuditRepository(database)
        self.tokens = Tokens(TokenRepository(database), clock)
        self._pending_audit: list[dict[str, Any]] = []
        self._secret_box: SecretBox | None = None
        self.ops = Ops(
            self.actions,
            TargetRepository(database),
            RunbookRepository(database),
            CheckSampleRepository(database),
            self.secret_box,
            clock,
        )
        episodes = EpisodeRepository(database)
        self.memory_backend = MemoryBackend(
            episodes=episodes,
            facts=FactRepository(database),
            procedures=ProcedureRepository(database),
            values=ActionValueRepository(database),
            ids=IdAllocator(episodes),
            clock=clock,
        )
        self._agents: dict[str, WebOpsAgent] = {}
        self._loading = asyncio.Lock()
        #: What every chat turn needs to know, kept for a second (see `agent.fresh`).
        self._names = Fresh(self._read_names, HOT_READ_S)
        self._pending_ids = Fresh(self._read_pending_ids, HOT_READ_S)
        self._dirty: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False
        self._flush_lock = asyncio.Lock()
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self.flush_errors = 0
        self.last_flush_error = ""

    def secret_box(self) -> SecretBox:
        """The key beside the database file, made on first use."""
        if self._secret_box is None:
            if self.database.path is None:
                raise InvalidInput("secrets need a database file to keep their key beside")
            self._secret_box = SecretBox.for_database(self.database.path)
        return self._secret_box

    @property
    def threshold(self) -> RiskLevel:
        return self.config.approval_threshold

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        config: KernelConfig | None = None,
        actions: ActionRegistry | None = None,
    ) -> Kernel:
        kernel = cls(await Database.open(path), clock=clock, config=config, actions=actions)
        try:
            await kernel.ops.reload()
            kernel.relationships.load(await kernel._relationship_rows.all())
        except BaseException:
            await kernel.database.close()
            raise
        return kernel

    async def close(self) -> None:
        """Stop every agent gracefully, write what is in memory, close the database."""
        if self._closed:
            return
        self._closed = True
        for reader in self._readers.values():
            reader.cancel()
        await asyncio.gather(*self._readers.values(), return_exceptions=True)
        await asyncio.gather(
            *(a.stop(self.config.stop_timeout_s) for a in self._agents.values() if a.running)
        )
        if self._flusher is not None:
            self._stopping.set()  # let a flush under way finish; never cancel it mid-write
            await self._flusher
        await self.tokens.settle()
        await self.flush()
        await self.database.close()

    async def __aenter__(self) -> Kernel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the roster ------------------------------------------------------------------------

    async def create_agent(
        self, name: str, preset: str | None = None, traits: Mapping[str, float | None] = {}
    ) -> AgentProfile:
        """Create an agent from a preset plus trait overrides; nothing is stored on bad input."""
        check_agent_name(name)
        label, personality = build_personality(preset, traits)
        now = time.time()
        row = AgentRow(
            name=name,
            preset=label,
            openness=personality.openness,
            conscientiousness=personality.conscientiousness,
            extraversion=personality.extraversion,
            agreeableness=personality.agreeableness,
            neuroticism=personality.neuroticism,
            created_at=now,
            updated_at=now,
            emotions_at=self.clock(),
        )
        try:
            row = await self._agent_rows.add(row)
        except DuplicateKey as exc:
            raise AlreadyExists(exc.message) from None
        self._names.invalidate()
        return AgentProfile.from_row(row)

    def _profile(self, row: AgentRow) -> AgentProfile:
        loaded = self._agents.get(row.name)
        if loaded is not None:
            return AgentProfile.from_row(row, loaded.mind.mood()).model_copy(
                update={"state": loaded.state}
            )
        mind = Mind(personality_of(row), self.clock, json.loads(row.emotions), row.emotions_at)
        return AgentProfile.from_row(row, mind.mood())

    async def list_agents(self) -> list[AgentProfile]:
        return [self._profile(row) for row in await self._agent_rows.list()]

    async def _row(self, name: str) -> AgentRow:
        row = await self._agent_rows.get(name)
        if row is None:
            raise NotFound(f"no agent named {name!r}")
        return row

    async def get_agent(self, name: str) -> AgentProfile:
        return self._profile(await self._row(name))

    async def delete_agent(self, name: str) -> AgentProfile:
        profile = await self.get_agent(name)
        agent = self._agents.pop(name, None)
        self._dirty.discard(name)
        if agent is not None:
            await agent.stop(self.config.stop_timeout_s)
        deleted = await self._agent_rows.delete(name)
        self._names.invalidate()
        if not deleted:
            raise NotFound(f"no agent named {name!r}")
        return profile

    async def agent_names(self) -> list[str]:
        """Every agent's name, another process's new agents within `HOT_READ_S`."""
        return await self._names.get()

    async def _read_names(self) -> list[str]:
        return [p.name for p in await self.list_agents()]

    async def pending_approval_ids(self) -> list[int]:
        """Ids of pending approvals, another process's within `HOT_READ_S`."""
        return await self._pending_ids.get()

    async def _read_pending_ids(self) -> list[int]:
        return [a.id for a in await self.approvals()]

    # -- running agents --------------------------------------------------------------------

    def loaded(self, name: str) -> WebOpsAgent | None:
        """The agent if it is in memory (started or asked about), without touching the file."""
        return self._agents.get(name)

    async def load_agent(self, name: str) -> WebOpsAgent:
        """The agent with its mind and records, loaded once and kept."""
        if name in self._agents:
            return self._agents[name]
        async with self._loading:  # concurrent first uses of one agent load it once
            if name in self._agents:
                return self._agents[name]
            return await self._load_agent(name)

    async def _load_agent(self, name: str) -> WebOpsAgent:
        row = await self._row(name)
        assert row.id is not None
        records = {
            (r.action, r.target_kind): RecordCounts(
                successes=r.successes,
                failures=r.failures,
                approved_successes=r.approved_successes,
                last_success_at=r.last_success_at,
                last_failure_at=r.last_failure_at,
                approved_streak=r.approved_streak,
            )
            for r in await self._records.for_agent(row.id)
        }
        mind = Mind(personality_of(row), self.clock, json.loads(row.emotions), row.emotions_at)
        values = await self.memory_backend.values.for_agent(row.id)
        memory = AgentMemory(
            row.id,
            self.memory_backend,
            AgentMemory.learner_from(
                values,
                mind.effects.exploration,
                random.Random(self.config.seed * 1_000_003 + zlib.crc32(row.name.encode())),
            ),
            max_episodes=self.config.limits.max_episodes,
            importance_since_reflection=row.importance_since_reflection,
        )
        skills = SkillBook(self.skill_registry, mind.personality.openness)
        for r in await self._skills.for_agent(row.id):
            skills.skills[r.name] = SkillState(
                name=r.name,
                practice_count=r.practice_count,
                successes=r.successes,
                failures=r.failures,
                learned_at=r.learned_at,
                last_practiced_at=r.last_practiced_at,
                proficiency=r.proficiency,
                dirty=False,
            )
            skills.update_proficiency(r.name, r.proficiency, r.learned_at)
            skills.skills[r.name].dirty = False
        agent = WebOpsAgent(
            AgentProfile.from_row(row, mind.mood()),
            row.id,
            mind,
            Resources(self.config.limits, self.clock),
            self,
            parse_state(row.state),
            records,
            memory=memory,
            skills=skills,
        )
        self._agents[name] = agent
        return agent

    async def start_agent(self, name: str) -> WebOpsAgent:
        agent = await self.load_agent(name)
        await agent.start()
        if name not in self._readers:
            self._readers[name] = asyncio.create_task(self._read_mail(agent), name=f"mail:{name}")
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_forever(), name="kernel:flush")
        return agent

    async def start_all(self) -> list[WebOpsAgent]:
        return [await self.start_agent(p.name) for p in await self.list_agents()]

    async def _read_mail(self, agent: WebOpsAgent) -> None:
        """An agent reads what is sent to it (its mailbox never fills): a direct message is
        remembered, team chatter only read."""
        while True:
            message = await self.messages.receive_message(agent.name)
            if message is not None and message.kind == "direct":
                await agent.memory.remember(
                    "conversation",
                    f"{message.sender} to {agent.name}: {message.text}",
                    importance=0.3,
                    details={"from": message.sender},
                )

    async def stimulate(self, name: str, stimulus: Stimulus) -> Outcome:
        """Hand a stimulus to an agent (starting it if needed) and wait for the outcome."""
        agent = await self.start_agent(name)
        return await (await agent.submit(stimulus))

    async def feel(
        self, name: str, event: Appraisal, intensity: float = 1.0, cause: str = ""
    ) -> None:
        """Let an agent appraise an event (praise from the operator, a threat it was told of)."""
        agent = await self.load_agent(name)
        agent.feel(event, intensity, cause)

    def _skill_views(self, agent: WebOpsAgent) -> list[SkillView]:
        views = []
        for state in sorted(agent.skills.skills.values(), key=lambda s: s.name):
            autonomy = self._autonomy_for_skill(agent, state.name)
            views.append(
                SkillView(
                    name=state.name,
                    proficiency=state.proficiency,
                    level=state.level,
                    practice_count=state.practice_count,
                    successes=state.successes,
                    failures=state.failures,
                    autonomous=autonomy[0],
                    why=autonomy[1],
                )
            )
        return views

    def _autonomy_for_skill(self, agent: WebOpsAgent, skill: str) -> tuple[bool, str]:
        """Autonomy with the skill's actions above the threshold (granted for any of them)."""
        risky = [
            (name, kind, counts)
            for (name, kind), counts in agent.records.items()
            if name in self.actions.names()
            and self.actions.spec(name).skill == skill
            and self.actions.spec(name).risk > self.threshold
        ]
        if not risky:
            return True, f"its actions are at or below the {self.threshold} threshold"
        reasons = []
        for name, _kind, counts in risky:
            autonomy = earned_autonomy(
                self.actions.spec(name).risk,
                counts.approved_streak,
                agent.skills.proficiency(skill),
                skill,
            )
            if autonomy.granted:
                return True, f"{name}: {autonomy.why}"
            reasons.append(f"{name}: {autonomy.why}")
        return False, "; ".join(reasons)

    async def skills(self, name: str) -> list[SkillView]:
        return self._skill_views(await self.load_agent(name))

    async def status(self, name: str) -> AgentStatus:
        agent = await self.load_agent(name)
        mind = agent.mind
        return AgentStatus(
            name=agent.name,
            preset=agent.profile.preset,
            state=agent.state,
            personality=mind.personality,
            effects=mind.effects,
            emotions=mind.as_dict(),
            baseline={k: round(v, 4) for k, v in zip(mind.as_dict(), mind.rest, strict=True)},
            mood=mind.mood(),
            skills=[v.model_dump() for v in self._skill_views(agent)],
            memory={
                "episodic": await agent.memory.count_episodes(),
                "semantic": await agent.memory.count_facts(),
                "procedural": await agent.memory.count_procedures(),
            },
            resources=agent.resources.monitor(),
            records=[
                RecordView(
                    action=action,
                    target_kind=kind,
                    successes=c.successes,
                    failures=c.failures,
                    approved_successes=c.approved_successes,
                )
                for (action, kind), c in sorted(agent.records.items())
            ],
        )

    # -- tasks and the audit chain ---------------------------------------------------------

    async def task(self, name: str, text: str) -> TaskResult:
        """`webops task`: understand a simple task text, let the agent handle it, report."""
        from agent.core.tasks import stimulus_for, task_result

        await self.get_agent(name)
        stimulus = await stimulus_for(text, self.ops)
        return task_result(await self.stimulate(name, stimulus))

    async def audit_entries(self, limit: int = 100, agent: str | None = None) -> list[AuditRow]:
        await self.flush()
        return await self.audit.list(limit, agent)

    async def verify_audit(self) -> AuditVerification:
        await self.flush()
        return await self.audit.verify()

    # -- memory and learning ---------------------------------------------------------------

    async def memory(
        self,
        name: str,
        kind: MemoryKind | None = None,
        search: str | None = None,
        limit: int = 20,
    ) -> list[MemoryItem]:
        """`webops memory`: recall by similarity when searching, newest first otherwise."""
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"unknown memory kind {kind!r}; use one of {', '.join(KINDS)}")
        if limit < 1:
            raise InvalidInput(f"--limit must be at least 1, got {limit}")
        memory = (await self.load_agent(name)).memory
        items: list[MemoryItem] = []
        for k in [kind] if kind else list(KINDS):
            if k == "episodic":
                items += (
                    await memory.recall_similar(search, limit, self._recall_weights())
                    if search
                    else await memory.recent_episodes(limit)
                )
            elif k == "semantic":
                items += await memory.query_facts(text=search, limit=limit)
            else:
                procedures = [p for p in await memory.procedures() if p.active or kind]
                chosen = memory.procedure_items(procedures)
                if search:
                    words = set(search.lower().split())
                    chosen = [i for i in chosen if words & set(i.summary.lower().split())]
                items += chosen[:limit]
        if search and kind is None:
            items.sort(key=lambda i: i.score if i.score is not None else -1.0, reverse=True)
        return items[:limit] if kind is None else items

    def _recall_weights(self) -> RecallWeights:
        from agent.memory.recall import RecallWeights

        c = self.config
        return RecallWeights(
            c.recall_relevance, c.recall_recency, c.recall_importance, c.recall_half_life_s
        )

    async def memory_item(self, name: str, kind: MemoryKind, item_id: int) -> MemoryItem:
        memory = (await self.load_agent(name)).memory
        if kind == "episodic":
            return await memory.episode(item_id)
        if kind == "semantic":
            found = [i for i in await memory.query_facts(limit=10_000) if i.id == item_id]
        else:
            found = [
                i for i in memory.procedure_items(await memory.procedures()) if i.id == item_id
            ]
        if not found:
            raise NotFound(f"no {kind} memory with id {item_id}")
        return found[0]

    async def consolidate(self, name: str) -> ConsolidationReport:
        """Rest and consolidate: reflect, compress old episodes, cap retention, tidy procedures."""
        agent = await self.load_agent(name)
        was_running = agent.state in (LifecycleState.ACTIVE, LifecycleState.LEARNING)
        if was_running:
            await agent.transition(LifecycleState.RESTING)
        try:
            await self.flush()
            return await agent.memory.consolidate()
        finally:
            if was_running:
                await agent.transition(LifecycleState.ACTIVE)

    async def watch(self, observer: str, teammate: str, trust: float = 1.0) -> Callable[[], None]:
        """Let `observer` learn from `teammate`'s outcomes, discounted (observation learning).

        Returns the function that stops watching."""
        watcher = await self.load_agent(observer)
        await self.load_agent(teammate)

        def on_event(event: KernelEvent) -> None:
            if isinstance(event, OutcomeLearned) and event.agent == teammate:
                # Whose observation counts how much: the watcher's trust in the teammate
                # (scaled by `trust`), which the outcome then moves.
                weight = trust * self.relationships.weight(observer, teammate) * 2
                watcher.memory.learner.observe(
                    event.situation, event.action, event.reward, min(1.0, weight)
                )
                self.relationships.record_outcome(
                    observer, teammate, event.reward > 0.5, self.clock()
                )
                self._dirty.add(observer)

        return self.bus.subscribe(on_event)

    # -- approvals -------------------------------------------------------------------------

    async def approvals(self, status: str | None = "pending") -> list[ApprovalView]:
        return [ApprovalView.from_row(r, a) for r, a in await self._approvals.list(status)]

    async def approval(self, approval_id: int) -> ApprovalView:
        found = await self._approvals.get(approval_id)
        if found is None:
            raise NotFound(f"no approval with id {approval_id}")
        return ApprovalView.from_row(*found)

    async def approve(self, approval_id: int, by: str = "operator") -> ApprovalView:
        """Grant a pending approval and run its action now; returns it with the result."""
        pending, agent, request = await self._decide(approval_id, "approved", by)
        agent.feel(Appraisal.PRAISE, 0.3, cause=f"{by} approved {pending.action}")
        if request.situation:
            agent.memory.learner.feedback(request.situation, request.action, Feedback.APPROVE)
        result = await agent.act(request, approved=True)
        self._dirty.add(agent.name)
        await self._approvals.transition(
            approval_id,
            "approved",
            "executed" if result.ok else "failed",
            at=self.clock(),
            result=result.model_dump_json(),
        )
        return await self.approval(approval_id)

    async def deny(self, approval_id: int, by: str = "operator") -> ApprovalView:
        """A denial is feedback: criticism felt, the action's value lowered, remembered."""
        pending, agent, request = await self._decide(approval_id, "denied", by)
        agent.feel(Appraisal.CRITICISM, 0.4, cause=f"{by} denied {pending.action}")
        if request.situation:
            agent.memory.learner.feedback(request.situation, request.action, Feedback.DENY)
        await agent.memory.remember(
            "feedback",
            f"{by} denied {pending.action} on {pending.target or '-'}",
            importance=0.7,
            situation=request.situation,
            details={"feedback": "deny", "action": pending.action, "by": by},
        )
        return await self.approval(approval_id)

    async def _decide(
        self, approval_id: int, status: str, by: str
    ) -> tuple[ApprovalView, WebOpsAgent, ActionRequest]:
        """Move a pending approval to `status` (once: a second decision is refused), audit it,
        announce it; return it with its agent and the request it stands for."""
        current = await self.approval(approval_id)
        moved = current.status == "pending" and await self._approvals.transition(
            approval_id, "pending", status, at=self.clock(), by=by
        )
        self._pending_ids.invalidate()
        if not moved:
            latest = await self.approval(approval_id)
            raise Conflict(f"approval {approval_id} is already {latest.status}")
        await self._audit_now(
            actor=by,
            event=status,
            agent=current.agent,
            action=current.action,
            target=current.target,
            detail={"approval_id": approval_id, "risk": current.risk},
            why=current.summary,
        )
        self.bus.publish(
            ApprovalDecided(
                agent=current.agent, approval_id=approval_id, status=status, by=by, ts=self.clock()
            )
        )
        found = await self._approvals.get(approval_id)
        assert found is not None
        request = ActionRequest.model_validate_json(found[0].request)
        return current, await self.load_agent(current.agent), request

    # -- API tokens (every change is audited: who may act is part of what happened) --------

    async def create_token(self, name: str, role: str, by: str) -> IssuedToken:
        issued = await self.tokens.create(name, role)
        await self._audit_now(
            actor=by, event="token_created", detail={"token": name, "role": issued.role}
        )
        return issued

    async def revoke_token(self, name: str, by: str) -> TokenView:
        revoked = await self.tokens.revoke(name)
        await self._audit_now(actor=by, event="token_revoked", detail={"token": name})
        return revoked

    # -- the AgentHost side: what agents ask of the kernel ----------------------------------

    async def persist_state(self, agent: WebOpsAgent, state: LifecycleState) -> None:
        await self._agent_rows.set_state(agent.name, state)

    async def request_approval(
        self, agent: WebOpsAgent, request: ActionRequest, decision: Decision
    ) -> int:
        risk = decision.explanation.risk
        row = await self._approvals.add(
            ApprovalRow(
                agent_id=agent.id,
                action=request.action,
                target=request.target,
                risk=str(risk.effective_level) if risk else "unknown",
                status="pending",
                summary=decision.explanation.summary,
                request=request.model_dump_json(),
                explanation=decision.explanation.model_dump_json(),
                created_at=self.clock(),
            )
        )
        self._pending_ids.invalidate()
        assert row.id is not None
        await self._audit_now(
            actor=agent.name,
            event="approval_requested",
            agent=agent.name,
            action=request.action,
            target=request.target,
            detail={"approval_id": row.id, "risk": row.risk},
            why=row.summary,
        )
        self.bus.publish(
            ApprovalRequested(
                agent=agent.name,
                approval_id=row.id,
                action=request.action,
                target=request.target,
                risk=row.risk,
                summary=row.summary,
                ts=self.clock(),
            )
        )
        return row.id

    async def record_action(
        self,
        agent: WebOpsAgent,
        request: ActionRequest,
        result: ActionResult,
        decision: Decision | None,
        approved: bool,
    ) -> None:
        """Every action goes into the audit chain: remedies at once, checks with the flush."""
        spec = self.actions.spec(request.action)
        autonomy = decision.explanation.autonomy if decision else None
        entry = {
            "actor": agent.name,
            "event": "action",
            "agent": agent.name,
            "action": request.action,
            "target": request.target,
            "ts": self.clock(),
            "detail": {
                "status": result.status,
                "detail": result.detail,
                "risk": str(spec.risk),
                "approved": approved,
                "autonomy": autonomy,
                "duration_ms": round(result.duration_ms, 1),
            },
            "why": decision.explanation.summary
            if decision
            else ("approved by a human" if approved else ""),
        }
        if spec.mutates:
            await self.audit.append_many([entry])
        else:
            self._pending_audit.append(entry)

    async def record_chat(
        self, agent: WebOpsAgent, operator: str, text: str, reply: str, meaning: Any, lang: str
    ) -> None:
        """Both turns of a chat exchange, in the agent's conversation with this operator."""
        details = {"intent": str(meaning.intent), "entities": meaning.entities}
        await self.messages.send_message(
            operator, agent.name, text, kind="chat", meaning=details, lang=lang
        )
        await self.messages.receive_message(agent.name, timeout=0)
        await self.messages.send_message(agent.name, operator, reply, kind="chat", lang=lang)
        await self.messages.receive_message(operator, timeout=0)

    async def conversation(self, name: str, operator: str, limit: int = 50) -> list[Message]:
        from agent.core.conversation import as_operator

        operator = as_operator(operator)
        await self.messages.flush()
        return await self.messages.history(conversation_id(name, operator, "chat"), limit)

    async def _audit_now(self, **entry: Any) -> None:
        await self.audit.append_many([{**entry, "ts": self.clock()}])

    def mark_dirty(self, agent: WebOpsAgent) -> None:
        self._dirty.add(agent.name)

    # -- write-behind ----------------------------------------------------------------------

    async def flush(self) -> None:
        """Write what changed in memory: episodes, emotions, records, learned values."""
        async with self._flush_lock:
            await self._flush()

    async def _flush(self) -> None:
        names, self._dirty = self._dirty, set()
        agents = list(self._agents.values())
        audit, self._pending_audit = self._pending_audit, []
        samples, self.ops.pending_samples = self.ops.pending_samples, []
        try:
            await self.audit.append_many(audit)
            await self.ops.add_samples(samples)
            await self.messages.flush()
            await self._relationship_rows.save(self.relationships.dirty_rows())
        except BaseException:
            self._pending_audit = audit + self._pending_audit
            self.ops.pending_samples = samples + self.ops.pending_samples
            self._dirty |= names
            raise
        episodes = {a.name: a.memory.take_pending() for a in agents}
        try:
            rows = [row for batch in episodes.values() for row in batch]
            for start in range(0, len(rows), FLUSH_BATCH):
                await self.memory_backend.episodes.add_tuples(
                    rows[start : start + FLUSH_BATCH], retry_safe=True
                )
        except BaseException:  # cancelled mid-write too: nothing may be lost
            for agent in agents:
                agent.memory.restore_pending(episodes[agent.name])
            self._dirty |= names
            raise
        emotions = [
            (n, self._agents[n].mind.to_json(), self._agents[n].mind.updated_at)
            for n in names
            if n in self._agents
        ]
        records: list[ActionRecordRow] = []
        values = []
        pending_reflection = []
        skill_rows: list[SkillRow] = []
        for agent in agents:
            for state in agent.skills.skills.values():
                if state.dirty:
                    state.dirty = False
                    skill_rows.append(
                        SkillRow(
                            agent_id=agent.id,
                            name=state.name,
                            proficiency=state.proficiency,
                            practice_count=state.practice_count,
                            successes=state.successes,
                            failures=state.failures,
                            learned_at=state.learned_at,
                            last_practiced_at=state.last_practiced_at,
                        )
                    )
            values.extend(agent.memory.dirty_values())
            if agent.memory.reflection_dirty:
                agent.memory.reflection_dirty = False
                pending_reflection.append((agent.name, agent.memory.importance_since_reflection))
            for (action, kind), counts in agent.records.items():
                if counts.dirty:
                    counts.dirty = False
                    records.append(
                        ActionRecordRow(
                            agent_id=agent.id,
                            action=action,
                            target_kind=kind,
                            successes=counts.successes,
                            failures=counts.failures,
                            approved_successes=counts.approved_successes,
                            last_success_at=counts.last_success_at,
                            last_failure_at=counts.last_failure_at,
                            approved_streak=counts.approved_streak,
                        )
                    )
        try:
            await self._agent_rows.save_emotions(emotions)
            await self._agent_rows.save_reflection_pending(pending_reflection)
            await self._records.save(records)
            await self.memory_backend.values.save(values)
            await self._skills.save(skill_rows)
        except BaseException:  # cancelled mid-write too: nothing may be lost
            self._dirty |= names  # keep them for the next flush
            for row in records:
                self._agents_by_id[row.agent_id].records[(row.action, row.target_kind)].dirty = True
            for skill_row in skill_rows:
                self._agents_by_id[skill_row.agent_id].skills.skills[skill_row.name].dirty = True
            for value in values:
                self._agents_by_id[value.agent_id].memory.learner.stats(
                    value.situation, value.action
                ).dirty = True
            raise

    @property
    def _agents_by_id(self) -> dict[int, WebOpsAgent]:
        return {a.id: a for a in self._agents.values()}

    async def _flush_forever(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.config.flush_interval_s)
            try:
                await self.flush()
            except Exception as exc:  # a busy file: the data stays dirty and is retried
                self.flush_errors += 1
                self.last_flush_error = str(exc)
