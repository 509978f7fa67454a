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

    from agent.core.views import AgentStatus
    from agent.mind.profile import AgentProfile
    from storage.reader import RowReader

#: An agent's approved streaks by (action, target kind), and a skill's autonomy and why.
Streaks = dict[tuple[str, str], int]
Verdict = tuple[bool, str]

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


def statuses(
    ctx: typer.Context, reader: RowReader, name: str | None, *, table: bool
) -> list[AgentStatus] | None:
    """`webops status [NAME]` as a fresh kernel would answer it (nothing running, no mailbox,
    no failures survived), or None when only the kernel can: an agent with a record of a
    runbook (its risk, and so the skill's autonomy, needs the runbook loaded) or, for the
    `table`, deliveries, silences or maintenance windows to mention."""
    from agent.core.lifecycle import parse_state
    from agent.core.resources import Resources
    from agent.core.views import KernelHealth, skills_of, status_of
    from agent.errors import NotFound
    from agent.mind.profile import stored_mind
    from agent.skills.actions import ActionRegistry
    from agent.skills.autonomy import skill_autonomy
    from agent.skills.proficiency import SkillBook, SkillRegistry
    from storage.reader import NOTICED_TABLES

    if table and any(reader.any_rows(t) for t in NOTICED_TABLES):
        return None
    if name is None:
        rows = reader.agents()
    else:
        one = reader.agent(name)
        if one is None:
            raise NotFound(f"no agent named {name!r}")
        rows = [one]
    config = settings_of(ctx).kernel_config()
    actions, runbooks = ActionRegistry(), reader.runbook_names()
    found = []
    for row in rows:
        records = {(r.action, r.target_kind): r for r in reader.records(row.id)}
        if any(action in runbooks for action, _kind in records):
            return None
        mind = stored_mind(row, CLOCK, adaptive=config.adapt_personality)
        book = SkillBook(SkillRegistry(), mind.personality.openness).restore(reader.skills(row.id))
        streaks = {key: r.approved_streak for key, r in records.items()}

        def autonomy(skill: str, book: SkillBook = book, streaks: Streaks = streaks) -> Verdict:
            proficiency = book.proficiency(skill)
            return skill_autonomy(skill, streaks, proficiency, actions, config.approval_threshold)

        skills = skills_of(book, autonomy)
        counts = reader.memory_counts(row.id)
        usage = Resources(config.limits, CLOCK).monitor(counts["episodic"], 0)
        found.append(
            status_of(
                row.name,
                row.preset,
                parse_state(row.state),
                mind,
                skills,
                counts,
                usage,
                records,
                KernelHealth(),
            )
        )
    return found
