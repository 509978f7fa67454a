"""Run one kernel call from a synchronous typer command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from agent.core.kernel import Kernel
    from webops_tui.config import Settings

T = TypeVar("T")


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


def with_kernel(ctx: typer.Context, call: Callable[[Kernel], Awaitable[T]]) -> T:
    """Open the kernel on the session's database, run `call`, and always close it again."""
    import asyncio

    from agent.core.kernel import Kernel

    async def run() -> T:
        async with await Kernel.open(settings_of(ctx).db_path) as kernel:
            return await call(kernel)

    return asyncio.run(run())
