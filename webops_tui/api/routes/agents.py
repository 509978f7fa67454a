"""Agents, and what one says, does, feels, remembers and can do: `webops agent/status/chat/task/
memory/skills` over HTTP, with the same JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from agent.core.conversation import ChatReply
from agent.core.conversation import chat as talk
from agent.core.tasks import TaskResult, undeclared_url
from agent.core.tokens import Role
from agent.core.views import AgentStatus
from agent.memory.memory import MemoryItem
from agent.mind.profile import AgentProfile
from agent.skills.proficiency import SkillView
from webops_tui.api.auth import Admin, KernelDep, Operator, Viewer

router = APIRouter(prefix="/api", tags=["agents"])

Trait = Annotated[float | None, Field(ge=0.0, le=1.0)]


class NewAgent(BaseModel):
    """`webops agent create`: a preset, optionally with single traits overridden."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    preset: str | None = Field(None, description="cautious, bold, balanced or friendly")
    openness: Trait = None
    conscientiousness: Trait = None
    extraversion: Trait = None
    agreeableness: Trait = None
    neuroticism: Trait = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=4000)
    lang: Literal["en", "de", "fr"] = "en"


class TaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=4000,
        description="'check TARGET', 'check https://URL' or 'run RUNBOOK on TARGET'",
    )


class MemoryEntry(BaseModel):
    """`webops memory --json` rows: a memory without its details."""

    kind: str
    id: int
    summary: str
    score: float | None
    ts: str
    sources: list[int]

    @classmethod
    def of(cls, item: MemoryItem) -> MemoryEntry:
        return cls.model_validate(item.model_dump(mode="json", exclude={"details"}))


@router.get("/agents")
async def list_agents(_: Viewer, kernel: KernelDep) -> list[AgentProfile]:
    return await kernel.list_agents()


@router.post("/agents", status_code=201)
async def create_agent(body: NewAgent, caller: Admin, kernel: KernelDep) -> AgentProfile:
    traits = body.model_dump(exclude={"name", "preset"})
    return await kernel.create_agent(body.name, body.preset, traits, by=caller.actor)


@router.get("/agents/{name}")
async def get_agent(name: str, _: Viewer, kernel: KernelDep) -> AgentProfile:
    return await kernel.get_agent(name)


@router.delete("/agents/{name}")
async def delete_agent(name: str, caller: Admin, kernel: KernelDep) -> AgentProfile:
    return await kernel.delete_agent(name, by=caller.actor)


@router.get("/status")
async def all_status(_: Viewer, kernel: KernelDep) -> list[AgentStatus]:
    return [await kernel.status(p.name) for p in await kernel.list_agents()]


@router.get("/agents/{name}/status")
async def status(name: str, _: Viewer, kernel: KernelDep) -> AgentStatus:
    return await kernel.status(name)


@router.post("/agents/{name}/chat")
async def chat(name: str, body: ChatRequest, caller: Operator, kernel: KernelDep) -> ChatReply:
    """Say something to an agent, as the token's name; "approve 3" in a chat is audited too."""
    return await talk(
        kernel, name, body.message, operator=caller.actor, lang=body.lang, actor=caller.actor
    )


@router.post("/agents/{name}/task")
async def task(name: str, body: TaskRequest, caller: Operator, kernel: KernelDep) -> TaskResult:
    """Give an agent a task; a risky one comes back `awaiting_approval` with its approval id.

    `check URL` is for declared targets' URLs unless the token is an admin's: otherwise an
    operator could probe any address and port the server reaches (a port scanner)."""
    if caller.role < Role.ADMIN and await undeclared_url(body.text, kernel.ops):
        raise HTTPException(
            403,
            f"token {caller.token!r} may check only a declared target's URL; "
            "an admin may check any URL",
        )
    return await kernel.task(name, body.text)


@router.get("/agents/{name}/memory")
async def memory(
    name: str,
    _: Viewer,
    kernel: KernelDep,
    search: Annotated[str | None, Query(max_length=1000)] = None,
    kind: Literal["episodic", "semantic", "procedural"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[MemoryEntry]:
    """Recent memories first, or the most relevant to `search` (recall by similarity)."""
    items = await kernel.memory(name, kind, search or None, limit)
    return [MemoryEntry.of(item) for item in items]


@router.get("/agents/{name}/skills")
async def skills(name: str, _: Viewer, kernel: KernelDep) -> list[SkillView]:
    return await kernel.skills(name)
