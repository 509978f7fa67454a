"""The kernel: the one in-process runtime that the workbench, the CLI and the API all drive.

A thin façade: it owns the database for its lifetime (opened in `open`, closed in `close`) and
composes the services that do the work, one job each:

- `Roster` (roster.py): which agents exist; each loaded from its rows once and kept.
- `Supervisor` (supervisor.py): the running agents, their loops and mail readers.
- `ApprovalGate` (approvals.py): risky actions waiting for a human, decided once, audited.
- `AuditTrail` (audit_trail.py): what goes into the hash-chained audit log, and when.
- `WriteBehind` (write_behind.py, dirty_rows.py): what changes many times a second lives in
  memory and is flushed every `flush_interval_s` (and on close).
- views.py: the read models the shells render (`AgentStatus`, ...); approval_view.py:
  `ApprovalView`.

Its read methods (kernel_views.py), incident methods (kernel_incidents.py) and audit chain and
token methods (kernel_audit.py) are mixins, so callers keep one `kernel` to ask.

It is also the `AgentHost` that agents report to. Chat (conversation.py) and tasks (tasks.py)
drive the kernel; the kernel never imports them at module level.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from agent.core.agent import WebOpsAgent
from agent.core.approval_view import ApprovalStatus, ApprovalView
from agent.core.approvals import ApprovalGate
from agent.core.audit_trail import AuditTrail, os_actor
from agent.core.check_lateness import Lateness
from agent.core.config import KernelConfig
from agent.core.dirty_rows import CheckSamples, Emotions, RelationshipRows, agent_state
from agent.core.follow import Follower
from agent.core.incident_lifecycle import IncidentLifecycle
from agent.core.kernel_audit import KernelAudit
from agent.core.kernel_incidents import KernelIncidents
from agent.core.kernel_views import KernelViews
from agent.core.lifecycle import LifecycleState
from agent.core.observation import watch
from agent.core.roster import Roster
from agent.core.stimulus import Outcome, Stimulus
from agent.core.supervisor import Supervisor
from agent.core.tokens import Tokens
from agent.core.views import (
    AgentStatus,
    RecordView,
    TraitsReset,
)
from agent.core.write_behind import Rows, WriteBehind
from agent.decision.reasoning import Decision
from agent.decision.risk import RiskLevel
from agent.errors import InvalidInput
from agent.events import EventBus, RelationshipChanged
from agent.memory.memory import ConsolidationReport
from agent.mind.emotions import Appraisal
from agent.mind.profile import AgentProfile
from agent.ops.evidence import IncidentLog
from agent.ops.notify_store import NotifyRoutes
from agent.ops.service import Ops
from agent.ops.silences import Silences
from agent.skills.actions import ActionRegistry, ActionRequest, ActionResult
from agent.skills.proficiency import SkillRegistry
from agent.social.messaging import MessageBus
from agent.social.relationships import Relationship, Relationships
from storage.database import Database
from storage.location import ServerDatabase
from storage.repositories.audit import (
    AuditRepository,
)
from storage.repositories.check_samples import CheckSampleRepository
from storage.repositories.messages import MessageRepository
from storage.repositories.relationships import RelationshipRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.silences import MaintenanceWindowRepository, SilenceRepository
from storage.repositories.targets import TargetRepository
from storage.repositories.tokens import TokenRepository
from storage.secrets import SecretBox

if TYPE_CHECKING:
    from agent.core.language_model import LanguageModel
    from agent.core.tasks import TaskResult

__all__ = ["AgentStatus", "ApprovalView", "Kernel", "KernelConfig", "RecordView"]

logger = logging.getLogger("webops.kernel")


class Kernel(KernelViews, KernelIncidents, KernelAudit):
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
        self.skill_registry = SkillRegistry()
        self.messages = MessageBus(MessageRepository(database), clock, bus=self.bus)
        self.relationships = Relationships(on_change=self._relationship_changed)
        self._relationship_rows = RelationshipRepository(database)
        self.audit = AuditRepository(database)
        self.audit_trail = AuditTrail(self.audit, clock)
        self.tokens = Tokens(TokenRepository(database), clock)
        self._secret_box: SecretBox | None = None
        self.ops = Ops(
            self.actions,
            TargetRepository(database),
            RunbookRepository(database),
            CheckSampleRepository(database),
            self.secret_box,
            clock,
            on_change=self.audit_trail.change,
        )
        #: How late this process's scheduled checks started (agent/core/check_schedule.py).
        self.check_lateness = Lateness()
        #: Silences and maintenance windows: when targets are in maintenance (ops/silences.py).
        self.silences = Silences(
            SilenceRepository(database),
            MaintenanceWindowRepository(database),
            clock,
            self.audit_trail.change,
        )
        self.notifications = NotifyRoutes(database, self.secret_box, clock, self.audit_trail.change)
        self.ops.resealers.append(self.notifications.reseal)
        settings = self._settings
        self.roster = Roster(database, self, self.skill_registry, settings, clock)
        self.memory_backend = self.roster.memory
        self.gate = ApprovalGate(
            database, self.audit_trail, self, self.load_agent, recheck=self._check_request
        )
        self.incident_log = IncidentLog(database)
        self.lifecycle = IncidentLifecycle(self)
        self._emotions = Emotions(self.roster.agents, self.roster.rows)
        self.write_behind = WriteBehind(
            [
                Rows(self.audit_trail),
                Rows(CheckSamples(self.ops)),
                self.messages,
                Rows(RelationshipRows(self.relationships, self._relationship_rows)),
                *agent_state(self.roster.agents, self._emotions, database, self.memory_backend),
            ],
            lambda: self.config.flush_interval_s,
        )
        self.supervisor = Supervisor(self.roster, self.messages, settings, self.write_behind.start)
        #: What other processes store, told on the bus (the workbench starts it: follow.py).
        self.follower = Follower(self)
        self._closed = False
        self._language_model: LanguageModel | None = None

    @property
    def language_model(self) -> LanguageModel | None:
        """The `[llm]` endpoint's handle (agent/core/language_model.py); None when offline.
        Made on first use, so httpx is imported only when a model is configured."""
        settings = self.config.llm
        if settings is None:
            return None
        if self._language_model is None or self._language_model.settings != settings:
            from agent.core.language_model import LanguageModel

            self._language_model = LanguageModel(settings, clock=self.clock)
        return self._language_model

    def _settings(self) -> KernelConfig:
        """The config now: services read it anew, the workbench replaces it (a demo's seed)."""
        return self.config

    def _check_request(self, target: str) -> ActionRequest | None:
        """How to look at a target again; None for one that is not defined (any more)."""
        return self.ops.check_request(target) if target in self.ops.targets else None

    def secret_box(self, create: bool = True) -> SecretBox:
        """The key beside the database file; made on first use only when `create` (ops decides:
        never beside secrets sealed with a key that went missing)."""
        if self._secret_box is None:
            if self.database.keys_path is None:
                raise InvalidInput("secrets need a database file to keep their key beside")
            self._secret_box = SecretBox.for_database(self.database.keys_path, create=create)
        return self._secret_box

    @property
    def threshold(self) -> RiskLevel:
        return self.config.approval_threshold

    @property
    def recall_in_decisions(self) -> bool:
        return self.config.recall_in_decisions

    @classmethod
    async def open(
        cls,
        path: Path | str | ServerDatabase,
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
        logger.info("kernel opened on %s", kernel.database.shown)
        return kernel

    async def close(self) -> None:
        """Stop every agent gracefully, write what is in memory, close the database."""
        if self._closed:
            return
        self._closed = True
        await self.follower.stop()
        await self.supervisor.stop()
        await self.write_behind.stop()
        await self.tokens.settle()
        await self.ops.close()
        if not self.database.read_only:  # opened to look with: what changed is let go
            await self.flush()
        await self.database.close()
        health = self.health()
        logger.info(
            "kernel closed (%d flush errors, %d event errors survived)",
            health.flush_errors,
            health.event_errors,
        )

    async def __aenter__(self) -> Kernel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the roster (roster.py) --------------------------------------------------------------

    async def create_agent(
        self,
        name: str,
        preset: str | None = None,
        traits: Mapping[str, float | None] = {},
        *,
        by: str | None = None,
    ) -> AgentProfile:
        """Create an agent, audited (`by`: the API token; the OS user when None)."""
        profile = await self.roster.create(name, preset, traits)
        detail = {"preset": preset, "personality": profile.personality.model_dump()}
        await self.audit_trail.change(by, "agent_created", detail, agent=name)
        return profile

    async def list_agents(self) -> list[AgentProfile]:
        return await self.roster.profiles()

    async def get_agent(self, name: str) -> AgentProfile:
        return await self.roster.profile(name)

    async def delete_agent(self, name: str, *, by: str | None = None) -> AgentProfile:
        profile = await self.roster.delete(name)
        self._emotions.forget(name)
        await self.audit_trail.change(by, "agent_deleted", {}, agent=name)
        return profile

    async def reset_traits(self, name: str, by: str | None = None) -> TraitsReset:
        """Take an agent's traits back to their base (undo its personality drift), at once
        and audited."""
        agent = await self.load_agent(name)
        undone = agent.reset_traits()
        agent.mind.drift_dirty = False
        await self.roster.rows.save_drift([(name, agent.mind.drift.model_dump_json())])
        await self.audit_trail.now(
            actor=by or os_actor(),
            event="traits_reset",
            agent=name,
            detail={"undone": {t: v for t, v in undone.items() if v}},
            why="operator reset the personality drift",
        )
        mind = agent.mind
        return TraitsReset(
            name=name,
            personality=mind.personality,
            personality_base=mind.base,
            personality_drift=mind.drift,
            undone=undone,
        )

    async def agent_names(self) -> list[str]:
        return await self.roster.names()

    def loaded(self, name: str) -> WebOpsAgent | None:
        """The agent if it is in memory (started or asked about), without touching the file."""
        return self.roster.loaded(name)

    async def load_agent(self, name: str) -> WebOpsAgent:
        return await self.roster.load(name)

    # -- running agents ----------------------------------------------------------------------

    async def start_agent(self, name: str) -> WebOpsAgent:
        return await self.supervisor.start(name)

    async def start_all(self) -> list[WebOpsAgent]:
        return await self.supervisor.start_all()

    async def stimulate(self, name: str, stimulus: Stimulus) -> Outcome:
        """Hand a stimulus to an agent (starting it if needed) and wait for the outcome."""
        return await self.supervisor.stimulate(name, stimulus)

    async def consolidate(
        self, name: str, linger: Callable[[], Awaitable[object]] | None = None
    ) -> ConsolidationReport:
        """Rest and consolidate: reflect, compress old episodes, cap retention, tidy procedures,
        let relationships without contact fade; rest until `linger` returns (see
        agent/core/rest_schedule.py, which calls this on a schedule)."""

        def fade() -> int:
            return self.relationships.maintain_relationships(self.clock())

        return await self.supervisor.consolidate(name, self.flush, fade, linger)

    async def feel(
        self, name: str, event: Appraisal, intensity: float = 1.0, cause: str = ""
    ) -> None:
        """Let an agent appraise an event (praise from the operator, a threat it was told of)."""
        (await self.load_agent(name)).feel(event, intensity, cause)

    async def task(self, name: str, text: str) -> TaskResult:
        """`webops task`: understand a simple task text, let the agent handle it, report."""
        from agent.core.tasks import stimulus_for, task_result

        await self.get_agent(name)
        stimulus = await stimulus_for(text, self.ops)
        return task_result(await self.stimulate(name, stimulus))

    async def watch(self, observer: str, teammate: str, trust: float = 1.0) -> Callable[[], None]:
        """Let `observer` learn from `teammate`'s outcomes, discounted (observation learning).

        Returns the function that stops watching."""
        watcher = await self.load_agent(observer)
        await self.load_agent(teammate)
        return watch(
            self.bus, self.relationships, watcher, teammate, trust, self.clock, self.mark_dirty
        )

    def _relationship_changed(self, rel: Relationship, cause: str) -> None:
        if self.bus.active:
            self.bus.publish(
                RelationshipChanged(
                    agent=rel.subject,
                    other=rel.other,
                    trust=rel.trust,
                    affinity=rel.affinity,
                    interactions=rel.interactions,
                    cause=cause,
                    ts=self.clock(),
                )
            )

    # -- approvals (approvals.py) ------------------------------------------------------------

    async def approvals(self, status: ApprovalStatus | None = "pending") -> list[ApprovalView]:
        return await self.gate.queue(status)

    async def approval(self, approval_id: int) -> ApprovalView:
        return await self.gate.view(approval_id)

    async def pending_approval_ids(self) -> list[int]:
        return await self.gate.pending_ids()

    async def approve(
        self, approval_id: int, by: str | None = None, note: str = ""
    ) -> ApprovalView:
        """Grant a pending approval and run its action now; returns it with the result.

        `by` is who decides (the API token; the OS user when None); `note` a name the caller
        gave (`--by`, `--as`), audited beside it."""
        return await self.gate.approve(approval_id, by or os_actor(), note)

    async def withdraw(self, approval_id: int, why: str) -> bool:
        """Take back a pending approval nobody decided yet; False if someone did."""
        return await self.gate.withdraw(approval_id, why)

    async def deny(self, approval_id: int, by: str | None = None, note: str = "") -> ApprovalView:
        return await self.gate.deny(approval_id, by or os_actor(), note)

    # -- the AgentHost side: what agents ask of the kernel -----------------------------------

    async def persist_state(self, agent: WebOpsAgent, state: LifecycleState) -> None:
        await self.roster.rows.set_state(agent.name, state)

    async def request_approval(
        self, agent: WebOpsAgent, request: ActionRequest, decision: Decision
    ) -> int:
        return await self.gate.request(agent, request, decision)

    async def record_action(
        self,
        agent: WebOpsAgent,
        request: ActionRequest,
        result: ActionResult,
        decision: Decision | None,
        approved: bool,
    ) -> None:
        spec = self.actions.spec(request.action)
        await self.audit_trail.action(agent.name, request, result, spec, decision, approved)

    def mark_dirty(self, agent: WebOpsAgent) -> None:
        self._emotions.mark(agent.name)

    # -- write-behind (write_behind.py) ------------------------------------------------------

    async def flush(self) -> None:
        """Write what changed in memory: episodes, emotions, records, learned values, ..."""
        await self.write_behind.flush()
