"""The light path of the read commands: rows from `storage.reader`, rules from agent/.

A read command that needs no kernel (nothing runs, nothing is written) answers from a
read-only `sqlite3` reader and the same agent/ functions the kernel uses on its rows, so its
output is the kernel's, byte for byte, without importing SQLAlchemy, SQLModel or Textual.
`tests/test_cli_light.py` compares the two on a populated database.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from webops_tui.cli.runtime import refuse_missing, settings_of

if TYPE_CHECKING:
    import typer

    from agent.mind.profile import AgentProfile
    from storage.reader import RowReader

#: The kernel's clock in a command's process (`Kernel.open` uses `time.time` too).
CLOCK = time.time


def reader_of(ctx: typer.Context) -> RowReader | None:
    """A reader on the session's database, or None when the full path must answer (a file
    whose schema the kernel migrates first). A missing file is refused as the kernel's path
    refuses it (`no webops database at PATH`, exit 2)."""
    from storage.reader import open_reader

    path = settings_of(ctx).db_path
    refuse_missing(path)
    return open_reader(path)


def profiles(ctx: typer.Context, reader: RowReader, name: str | None = None) -> list[AgentProfile]:
    """`agent list` (every agent) or `agent show NAME` (one; `NotFound` as the kernel says it)."""
    from agent.errors import NotFound
    from agent.mind.profile import stored_profile

    adaptive = settings_of(ctx).adapt_personality
    if name is None:
        rows = reader.agents()
    else:
        one = reader.agent(name)
        if one is None:
            raise NotFound(f"no agent named {name!r}")
        rows = [one]
    return [stored_profile(row, CLOCK, adaptive=adaptive) for row in rows]
