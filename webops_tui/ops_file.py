"""`webops run -f ops.toml` and `webops serve -f ops.toml`: apply the ops document at start, then
re-apply it whenever it changes.

The file is polled (its modification time and size, every `POLL_S`): no new dependency, and it
works on every filesystem, editors that replace the file included. A bad edit is said in one
line and nothing of it is applied, so the last good state stays; the autopilot reads the
kernel's targets on every tick, so a new or changed target is checked from the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.core.kernel import Kernel
    from agent.core.ops_document import Plan

#: Seconds between looks at the file.
POLL_S = 2.0


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


async def apply_file(kernel: Kernel, path: Path) -> Plan:
    """Apply the document once (`InvalidInput` when it is bad or unreadable)."""
    from agent.core.ops_document import apply_document
    from webops_tui.cli.apply import read_document

    return await apply_document(kernel, read_document(path), str(path))


async def keep_applied(
    kernel: Kernel, path: Path, stop: asyncio.Event, say: Callable[[str], None]
) -> None:
    """Re-apply `path` each time it changes, until `stop`; every outcome is one line."""
    from agent.errors import WebopsError
    from webops_tui.cli.apply import plan_summary

    seen = _stamp(path)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_S)
        stamp = _stamp(path)
        if stop.is_set() or stamp == seen:
            continue
        seen = stamp
        try:
            planned = await apply_file(kernel, path)
        except WebopsError as exc:
            say(f"{path} changed but was not applied (the last good state stays): {exc.message}")
            continue
        say(f"{path} changed and was applied: {plan_summary(planned)}")
        for change in planned.changes:
            say(change.line())
