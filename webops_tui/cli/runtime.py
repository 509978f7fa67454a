"""Run one kernel call from a synchronous typer command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from webops_tui.config import Settings

if TYPE_CHECKING:
    from agent.kernel import Kernel

T = TypeVar("T")


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings), "the root callback sets Settings"
    return settings


def with_kernel(ctx: typer.Context, call: Callable[[Kernel], Awaitable[T]]) -> T:
    """Open the kernel on the session's database, run `call`, and always close it again."""
    from agent.kernel import Kernel

    async def run() -> T:
        async with await Kernel.open(settings_of(ctx).db_path) as kernel:
            return await call(kernel)

    return asyncio.run(run())
