"""The light path of the read commands: rows from `storage.reader`, rules from agent/.

A read command that needs no kernel (nothing runs, nothing is written) answers from a
read-only `sqlite3` reader and the same agent/ functions the kernel uses on its rows, so its
output is the kernel's, byte for byte, without importing SQLAlchemy, SQLModel or Textual.
`tests/test_cli_light.py` compares the two on a populated database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from webops_tui.cli.runtime import clock, refuse_missing, settings_of

if TYPE_CHECKING:
    import typer

    from agent.core.approval_view import ApprovalView
    from agent.core.views import AgentStatus
    from agent.memory.items import MemoryItem
    from agent.mind.mind import Mind
    from agent.mind.profile import AgentProfile
    from agent.skills.actions import ActionSpec
    from agent.skills.proficiency import SkillView
    from storage.reader import RowReader, StoredAgent, StoredRecord

#: A skill's autonomy and why.
Verdict = tuple[bool, str]


def reader_of(ctx: typer.Context) -> RowReader | None:
    """A reader on the session's database, or None when the full path must answer (a file
    whose schema the kernel migrates first). A missing file is refused as the kernel's path
    refuses it (`no webops database at PATH`, exit 2)."""
    from storage.reader import open_reader

    path = settings_of(ctx).db_path
    if not isinstance(path, Path):
        return None  # a server: the kernel's path reads it (the reader reads files)
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
    return [stored_profile(row, clock, adaptive=adaptive) for row in rows]


def _actions(reader: RowReader) -> dict[str, ActionSpec] | None:
    """The actions a fresh kernel knows: the built-in ones and each stored runbook at its
    risk, or None when a runbook's risk does not parse (the kernel skips it, with a warning:
    its path answers)."""
    from agent.decision.risk import RiskLevel
    from agent.errors import InvalidInput
    from agent.skills.actions import RUNBOOK_SKILL, ActionRegistry, ActionSpec

    actions = ActionRegistry().specs()
    for runbook, risk in reader.runbook_risks().items():
        try:
            level = RiskLevel.parse(risk)
        except InvalidInput:
            return None
        actions[runbook] = ActionSpec(name=runbook, risk=level, skill=RUNBOOK_SKILL)
    return actions


def _rows(reader: RowReader, name: str | None) -> list[StoredAgent]:
    """Every agent (`name` None) or the one named; `NotFound` as the kernel says it."""
    from agent.errors import NotFound

    if name is None:
        return reader.agents()
    one = reader.agent(name)
    if one is None:
        raise NotFound(f"no agent named {name!r}")
    return [one]


def _skills(
    ctx: typer.Context, reader: RowReader, row: StoredAgent, actions: dict[str, ActionSpec]
) -> tuple[Mind, list[SkillView], dict[tuple[str, str], StoredRecord]]:
    """The agent's mind, its skills each with whether it acts alone and why (the kernel's
    `ApprovalGate.autonomy` on the stored records), and the records they were judged by."""
    from agent.core.views import skills_of
    from agent.mind.profile import stored_mind
    from agent.skills.autonomy import skill_autonomy
    from agent.skills.proficiency import SkillBook, SkillRegistry

    config = settings_of(ctx).kernel_config()
    records = {(r.action, r.target_kind): r for r in reader.records(row.id)}
    mind = stored_mind(row, clock, adaptive=config.adapt_personality)
    book = SkillBook(SkillRegistry(), mind.personality.openness).restore(reader.skills(row.id))
    streaks = {key: r.approved_streak for key, r in records.items()}

    def autonomy(skill: str) -> Verdict:
        proficiency = book.proficiency(skill)
        return skill_autonomy(skill, streaks, proficiency, actions, config.approval_threshold)

    return mind, skills_of(book, autonomy), records


def skill_views(ctx: typer.Context, reader: RowReader, name: str) -> list[SkillView] | None:
    """`webops skills NAME` as a fresh kernel answers it, or None when the kernel must."""
    actions = _actions(reader)
    if actions is None:
        return None
    (row,) = _rows(reader, name)
    return _skills(ctx, reader, row, actions)[1]


def statuses(
    ctx: typer.Context, reader: RowReader, name: str | None, *, table: bool
) -> list[AgentStatus] | None:
    """`webops status [NAME]` as a fresh kernel would answer it (nothing running, no mailbox,
    no failures survived, the stored runbooks registered as actions at their risk), or None
    when the kernel must: for the `table`, deliveries, silences or maintenance windows to
    mention."""
    from agent.core.lifecycle import parse_state
    from agent.core.resources import Resources
    from agent.core.views import KernelHealth, status_of
    from storage.reader import NOTICED_TABLES

    if table and any(reader.any_rows(t) for t in NOTICED_TABLES):
        return None
    rows = _rows(reader, name)
    actions = _actions(reader)
    if actions is None:
        return None
    config = settings_of(ctx).kernel_config()
    found = []
    for row in rows:
        mind, skills, records = _skills(ctx, reader, row, actions)
        counts = reader.memory_counts(row.id)
        usage = Resources(config.limits, clock).monitor(counts["episodic"], 0)
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


def memories(reader: RowReader, name: str, kind: str | None, limit: int) -> list[MemoryItem]:
    """`webops memory NAME` without --search or --id: the newest of each kind, as a fresh
    kernel lists them (`agent.core.views.browse_memory`, nothing pending to write)."""
    from agent.errors import NotFound
    from agent.memory.listing import (
        episode_item,
        fact_item,
        listed_kinds,
        memory_query,
        procedure_items,
        shown_procedures,
        stored_procedure,
    )

    checked = memory_query(kind, limit)
    row = reader.agent(name)
    if row is None:
        raise NotFound(f"no agent named {name!r}")
    items: list[MemoryItem] = []
    for k in listed_kinds(checked):
        if k == "episodic":
            items += [episode_item(e, None) for e in reader.episodes(row.id, limit)]
        elif k == "semantic":
            items += [fact_item(f, None) for f in reader.facts(row.id)[:limit]]
        else:
            known = [stored_procedure(p) for p in reader.procedures(row.id)]
            items += procedure_items(shown_procedures(known, checked), known, clock())[:limit]
    return items[:limit] if checked is None else items


def pending_approvals(reader: RowReader) -> list[ApprovalView]:
    """`webops approvals`: what waits for a person, as the kernel's queue lists it."""
    from agent.core.approval_view import ApprovalView

    return [ApprovalView.from_row(row, agent) for row, agent in reader.approvals("pending")]
