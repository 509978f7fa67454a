"""The kernel's read methods: the team, an agent's skills, status, memory and chat, and what
the kernel itself failed at and survived (the read models are in agent/core/views.py).

Chosen: a mixin of `Kernel` (agent/core/kernel.py), so the shells keep calling
`kernel.status(name)` while the façade stays small.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.core import views
from agent.core.approvals import ApprovalGate
from agent.core.config import KernelConfig
from agent.core.roster import Roster
from agent.core.views import AgentStatus, KernelHealth
from agent.core.write_behind import WriteBehind
from agent.events import EventBus
from agent.memory.listing import memory_query
from agent.memory.memory import MemoryItem
from agent.skills.proficiency import SkillView
from agent.social.messaging import Message, MessageBus, as_operator, conversation_id
from agent.social.relationships import Relationships
from agent.social.team import PairView, team_pairs


class KernelViews:
    clock: Callable[[], float]
    config: KernelConfig
    bus: EventBus
    roster: Roster
    gate: ApprovalGate
    messages: MessageBus
    relationships: Relationships
    write_behind: WriteBehind

    def health(self) -> KernelHealth:
        """What this kernel failed at and survived (each failure is also logged)."""
        flush, bus = self.write_behind, self.bus
        newest = flush.last_error if flush.last_error_at >= bus.last_error_at else bus.last_error
        return KernelHealth(
            flush_errors=flush.errors, event_errors=bus.subscriber_errors, last_error=newest
        )

    async def team(self) -> list[PairView]:
        """`webops team`: how each agent regards each teammate (and its operators), as of now
        (idle relationships fade first; see agent/social/team.py)."""
        self.relationships.maintain_relationships(self.clock())
        return team_pairs(self.relationships, await self.roster.names())

    async def skills(self, name: str) -> list[SkillView]:
        return views.skill_views(await self.roster.load(name), self.gate.autonomy)

    async def status(self, name: str) -> AgentStatus:
        agent = await self.roster.load(name)
        return await views.agent_status(
            agent,
            views.skill_views(agent, self.gate.autonomy),
            self.health(),
            self.messages.mailbox_depth(name),
        )

    async def memory(
        self, name: str, kind: str | None = None, search: str | None = None, limit: int = 20
    ) -> list[MemoryItem]:
        """`webops memory`: recall by similarity when searching, newest first otherwise."""
        checked = memory_query(kind, limit)
        memory = (await self.roster.load(name)).memory
        return await views.browse_memory(
            memory, checked, search, limit, views.recall_weights(self.config)
        )

    async def memory_item(self, name: str, kind: str, item_id: int) -> MemoryItem:
        """`webops memory --id`: one memory whole (a fact's source episodes, say)."""
        checked = memory_query(kind, 1)
        assert checked is not None
        return await views.find_memory((await self.roster.load(name)).memory, checked, item_id)

    async def conversation(self, name: str, operator: str, limit: int = 50) -> list[Message]:
        """The chat between the agent and this operator, oldest first (see conversation.py)."""
        await self.messages.flush()
        return await self.messages.history(
            conversation_id(name, as_operator(operator), "chat"), limit
        )
