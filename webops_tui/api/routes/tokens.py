"""Tokens, for admins: the same as `webops token`, audited with the admin token's name."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from agent.core.tokens import IssuedToken, TokenView
from webops_tui.api.auth import Admin, KernelDep

router = APIRouter(prefix="/api", tags=["tokens"])


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: Literal["viewer", "operator", "admin"] = "viewer"


@router.get("/tokens")
async def tokens(_: Admin, kernel: KernelDep) -> list[TokenView]:
    return await kernel.tokens.list()


@router.post("/tokens", status_code=201)
async def create_token(body: NewToken, caller: Admin, kernel: KernelDep) -> IssuedToken:
    """The new token's secret is in this response and nowhere else."""
    return await kernel.create_token(body.name, body.role, by=caller.actor)


@router.delete("/tokens/{name}")
async def revoke_token(name: str, caller: Admin, kernel: KernelDep) -> TokenView:
    return await kernel.revoke_token(name, by=caller.actor)
