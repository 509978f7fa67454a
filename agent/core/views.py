"""Read models the shells render: built from the domain objects, never from storage rows.

`webops status`, `webops skills`, `webops memory`, the approvals queue and their API twins all
print these, so their JSON and their tables come from one place and cannot drift. Building a
view changes nothing: the kernel hands the agent in, the view reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from agent.core.resources import ResourceUsage
from agent.errors import NotFound
from agent.memory.items import MemoryItem, MemoryKind
from agent.memory.listing import listed_kinds, shown_procedures
from agent.mind.drift import Drift
from agent.mind.mind import Mind
from agent.mind.mood import Mood
from agent.mind.personality import Personality, TraitEffects
from agent.skills.proficiency import SkillBook, SkillView

if TYPE_CHECKING:  # not at run time: the read commands' light path builds these views too,
    # without the ORM those modules import (webops_tui/cli/light.py)
    from agent.core.agent import WebOpsAgent
    from agent.core.config import KernelConfig
    from agent.memory.memory import AgentMemory
    from agent.memory.recall import RecallWeights

#: Whether a skill's actions may run without asking, and why (see `ApprovalGate`).
Autonomy = Callable[["WebOpsAgent", str], tuple[bool, str]]


class RecordView(BaseModel):
    action: str
    target_kind: str
    successes: int
    failures: int
    approved_successes: int


class KernelHealth(BaseModel):
    """Failures the kernel survived and logged: a flush that could not write (its rows stay
    in memory for the next one), an event subscriber that raised (the event went on)."""

    flush_errors: int = 0
    event_errors: int = 0
    last_error: str = ""

    @property
    def troubled(self) -> bool:
        return bool(self.flush_errors or self.event_errors)


class AgentStatus(BaseModel):
    """`webops status --json`: everything about one agent's mind right now."""

    name: str
    preset: str
    state: str
    #: The current traits, what behaviour reads: `personality_base` + `personality_drift`.
    personality: Personality
    personality_base: Personality
    #: How far experience moved each trait (within +-0.15), with the reasons, newest first.
    personality_drift: Drift
    #: Whether experience moves the traits (`[agents] adapt_personality` in the config).
    adapt_personality: bool
    effects: TraitEffects
    emotions: dict[str, float]
    baseline: dict[str, float]
    mood: Mood
    skills: list[dict[str, Any]]
    memory: dict[str, int]
    resources: ResourceUsage
    records: list[RecordView]
    #: The kernel this process runs (not the agent's own): what it failed at and survived.
    kernel: KernelHealth = KernelHealth()


class TraitsReset(BaseModel):
    """`webops agent reset-traits --json`: the traits back at their base, and what was undone."""

    name: str
    personality: Personality
    personality_base: Personality
    personality_drift: Drift
    #: The drift of each trait before the reset.
    undone: dict[str, float]


def skill_views(agent: WebOpsAgent, autonomy: Autonomy) -> list[SkillView]:
    """The agent's skills by name, each with whether it acts on its own and why."""
    return skills_of(agent.skills, lambda skill: autonomy(agent, skill))


def skills_of(book: SkillBook, autonomy: Callable[[str], tuple[bool, str]]) -> list[SkillView]:
    """`skill_views` of a skill book (the light path has no `WebOpsAgent`)."""
    views = []
    for state in sorted(book.skills.values(), key=lambda s: s.name):
        autonomous, why = autonomy(state.name)
        views.append(
            SkillView(
                name=state.name,
                proficiency=state.proficiency,
                level=state.level,
                practice_count=state.practice_count,
                successes=state.successes,
                failures=state.failures,
                autonomous=autonomous,
                why=why,
            )
        )
    return views


class RecordFields(Protocol):
    """An agent's record of one action: the kernel's `RecordCounts`, or a stored row."""

    @property
    def successes(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def approved_successes(self) -> int: ...


async def agent_status(
    agent: WebOpsAgent, skills: list[SkillView], health: KernelHealth, mailbox: int
) -> AgentStatus:
    episodes = await agent.memory.count_episodes()
    counts = {
        "episodic": episodes,
        "semantic": await agent.memory.count_facts(),
        "procedural": await agent.memory.count_procedures(),
    }
    return status_of(
        agent.name,
        agent.profile.preset,
        agent.state,
        agent.mind,
        skills,
        counts,
        agent.resources.monitor(episodes, mailbox),
        agent.records,
        health,
    )


def status_of(
    name: str,
    preset: str,
    state: str,
    mind: Mind,
    skills: list[SkillView],
    memory: dict[str, int],
    resources: ResourceUsage,
    records: Mapping[tuple[str, str], RecordFields],
    health: KernelHealth,
) -> AgentStatus:
    """`webops status` of one agent, from its parts (loaded by the kernel, or read by the
    light path from the rows)."""
    return AgentStatus(
        name=name,
        preset=preset,
        state=state,
        personality=mind.personality,
        personality_base=mind.base,
        personality_drift=mind.drift,
        adapt_personality=mind.adaptive,
        effects=mind.effects,
        emotions=mind.as_dict(),
        baseline={k: round(v, 4) for k, v in zip(mind.as_dict(), mind.rest, strict=True)},
        mood=mind.mood(),
        skills=[v.model_dump() for v in skills],
        memory=memory,
        resources=resources,
        records=[
            RecordView(
                action=action,
                target_kind=kind,
                successes=c.successes,
                failures=c.failures,
                approved_successes=c.approved_successes,
            )
            for (action, kind), c in sorted(records.items())
        ],
        kernel=health,
    )


def recall_weights(config: KernelConfig) -> RecallWeights:
    from agent.memory.recall import RecallWeights

    c = config
    return RecallWeights(
        c.recall_relevance, c.recall_recency, c.recall_importance, c.recall_half_life_s
    )


async def browse_memory(
    memory: AgentMemory,
    kind: MemoryKind | None,
    search: str | None,
    limit: int,
    weights: RecallWeights,
) -> list[MemoryItem]:
    """`webops memory`: recall by similarity when searching, newest first otherwise."""
    items: list[MemoryItem] = []
    for k in listed_kinds(kind):
        if k == "episodic":
            items += (
                await memory.recall_similar(search, limit, weights)
                if search
                else await memory.recent_episodes(limit)
            )
        elif k == "semantic":
            items += await memory.query_facts(text=search, limit=limit)
        else:
            procedures = shown_procedures(await memory.procedures(), kind)
            chosen = memory.procedure_items(procedures)
            if search:
                words = set(search.lower().split())
                chosen = [i for i in chosen if words & set(i.summary.lower().split())]
            items += chosen[:limit]
    if search and kind is None:
        items.sort(key=lambda i: i.score if i.score is not None else -1.0, reverse=True)
    return items[:limit] if kind is None else items


async def find_memory(memory: AgentMemory, kind: MemoryKind, item_id: int) -> MemoryItem:
    if kind == "episodic":
        return await memory.episode(item_id)
    if kind == "semantic":
        found = [i for i in await memory.query_facts(limit=10_000) if i.id == item_id]
    else:
        found = [i for i in memory.procedure_items(await memory.procedures()) if i.id == item_id]
    if not found:
        raise NotFound(f"no {kind} memory with id {item_id}")
    return found[0]
