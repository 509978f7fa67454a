"""Silences, like `webops silence`: anyone may look, an operator may silence or end one."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.errors import InvalidInput
from agent.ops.durations import parse_duration
from agent.ops.maintenance import MAX_REASON, Covering
from webops_tui.api.auth import KernelDep, Operator, Viewer

router = APIRouter(prefix="/api", tags=["silences"])


class NewSilence(BaseModel):
    """`webops silence TARGET --for 2h --reason TEXT` as a body."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    target: str = Field(min_length=1, max_length=200, description="A name, a glob, or *.")
    for_: str = Field("1h", alias="for", description="How long: 90s, 30m, 2h, 1d, 1h30m.")
    reason: str = Field("", max_length=MAX_REASON)

    @field_validator("for_")
    @classmethod
    def _span(cls, value: str) -> str:
        try:
            parse_duration(value, "for")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return value


@router.get("/silences")
async def silences(_: Viewer, kernel: KernelDep) -> list[Covering]:
    """Silences on now or still to come, and each maintenance window (on now, or its next)."""
    return await kernel.silences.current()


@router.post("/silences", status_code=201)
async def add_silence(body: NewSilence, caller: Operator, kernel: KernelDep) -> Covering:
    seconds = parse_duration(body.for_, "for")
    return await kernel.silences.silence(body.target, seconds, body.reason, by=caller.actor)


@router.delete("/silences/{silence_id}")
async def remove_silence(silence_id: str, caller: Operator, kernel: KernelDep) -> Covering:
    return await kernel.silences.remove_silence(silence_id, by=caller.actor)
