"""`webops incident list` and `webops incident show ID`: what the team worked on, and why.

An operator who doubts an agent's fix asks the record: which failing checks confirmed the fault
(so something really was wrong) and, for each remedy tried, whether it earned credit and why
(so what the agents learned can be trusted). Everything shown came from targets and agents, so
it is printed as plain text (`rich.text.Text`, drawn by widgets/incident_detail.py for the
workbench's dialog too), never as markup.
"""

from __future__ import annotations

from typing import Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel

app = typer.Typer(
    help="What incidents the team handled: the checks that confirmed each, each remedy's credit.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


@app.command("list")
def list_incidents(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            help="Only these: open, awaiting_approval, resolved, recovered or failed.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Incidents, newest first.

    Example: webops incident list --status open --json | jq '.[].id'
    """
    incidents = with_kernel(ctx, lambda k: k.incidents(status, limit))
    if as_json:
        emit_json(incidents)
        return
    if not incidents:
        console().print("no incidents" + (f" with status {status}" if status else ""))
        return
    from rich.table import Table

    from widgets.incident_detail import STYLES, when
    from widgets.literal_text import literal

    table = Table()
    for column in ("id", "target", "symptom", "health", "status", "owner", "steps"):
        table.add_column(column, overflow="fold")
    table.add_column("opened", no_wrap=True)
    for i in incidents:
        table.add_row(
            str(i.id),
            literal(i.target),
            literal(i.situation),
            literal(i.health, style=STYLES[i.health]),
            literal(i.status, style=STYLES[i.status]),
            literal(i.owner or "-"),
            str(i.steps),
            when(i.opened_at)[5:],  # month-day and time: the year is rarely news
        )
    console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="ID", help="The incident's id.")],
    as_json: JsonFlag = False,
) -> None:
    """One incident: the checks that confirmed it, and each remedy with its credit and why."""
    detail = with_kernel(ctx, lambda k: k.incident(incident_id))
    if as_json:
        emit_json(detail)
        return
    from widgets.incident_detail import incident_lines

    out = console()
    for line in incident_lines(detail):
        out.print(line, soft_wrap=True)
