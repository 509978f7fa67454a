"""`webops team`: how the agents regard each other: trust, affinity, contacts, last contact.

Trust decides how much an agent learns from a teammate's outcomes and whose plan wins a
conflict; it moves with every outcome an agent sees a teammate have, with feedback, conflicts
and hand-overs, and fades back toward neutral without contact (agent/social/relationships.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel


def team(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead.")
    ] = False,
) -> None:
    """Each agent's trust in and liking for each teammate (and the operators it heard from).

    Example: webops team --json | jq '.[] | select(.kind == "agent") | [.subject, .other, .trust]'
    """
    pairs = with_kernel(ctx, lambda k: k.team())
    if as_json:
        emit_json(pairs)
        return
    if not pairs:
        console().print("no teammates yet: relationships need two agents")
        return
    from rich.table import Table

    from widgets.incident_detail import when
    from widgets.team_relations import COLUMNS, pair_cells

    table = Table()
    for label, key in COLUMNS:
        table.add_column(label, overflow="fold", no_wrap=key in ("trust", "affinity"))
    table.add_column("last contact", no_wrap=True)
    for p in pairs:
        # month-day and time: the year is rarely news
        last = when(p.last_contact)[5:] if p.last_contact is not None else "never"
        table.add_row(*pair_cells(p.subject, p.other, p.trust, p.affinity, p.interactions), last)
    console().print(table)
