"""Server-sent events as the API streams them, read from a response's lines (tests only)."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    """Each event's fields (`id`, `event`, `data`), in order; keep-alive comments skipped."""
    fields: dict[str, str] = {}
    async for line in lines:
        if line.startswith(":"):
            continue
        if line:
            key, _, value = line.partition(": ")
            fields[key] = value
        elif fields:
            yield fields
            fields = {}
