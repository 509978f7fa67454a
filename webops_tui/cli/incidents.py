"""`webops incident list` and `webops incident show ID`: what the team worked on, and why.

An operator who doubts an agent's fix asks the record: which failing checks confirmed the fault
(so something really was wrong) and, for each remedy tried, whether it earned credit and why
(so what the agents learned can be trusted). Everything shown came from targets and agents, so
it is printed as plain text (`rich.text.Text`, drawn by widgets/incident_detail.py for the
workbench's dialog too), never as markup.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.numbers import INTEGER_MAX
from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel

if TYPE_CHECKING:
    from agent.ops.evidence import IncidentDetail

app = typer.Typer(
    help="What incidents the team handled: the checks that confirmed each, each remedy's credit.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


TargetOption = Annotated[
    str | None,
    typer.Option("--target", "-t", help="Only this target's incidents.", show_default=False),
]
LimitOption = Annotated[
    int, typer.Option("--limit", "-n", help="At most this many.", max=INTEGER_MAX)
]


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
    target: TargetOption = None,
    limit: LimitOption = 50,
    as_json: JsonFlag = False,
) -> None:
    """Incidents, newest first, open and closed (`webops incidents` lists only open ones).

    Example: webops incident list --status open --json | jq '.[].id'
    """
    _print(ctx, status=status, target=target, limit=limit, open_only=False, as_json=as_json)


def incidents(
    ctx: typer.Context,
    include_closed: Annotated[
        bool, typer.Option("--all", "-a", help="Closed ones too (resolved, recovered, failed).")
    ] = False,
    target: TargetOption = None,
    limit: LimitOption = 50,
    as_json: JsonFlag = False,
) -> None:
    """Incidents being worked (open or awaiting approval), newest first; --all adds history.

    Example: webops incidents --all --target shop --json | jq '.[].status'
    """
    _print(
        ctx, status=None, target=target, limit=limit, open_only=not include_closed, as_json=as_json
    )


def _print(
    ctx: typer.Context,
    *,
    status: str | None,
    target: str | None,
    limit: int,
    open_only: bool,
    as_json: bool,
) -> None:
    found = with_kernel(
        ctx, lambda k: k.incidents(status, limit, open_only=open_only, target=target)
    )
    if as_json:
        emit_json(found)
        return
    from rich.text import Text

    if not found:
        which = f" with status {status}" if status else " open" if open_only else ""
        hint = " (--all shows closed ones)" if open_only else ""
        on = f" on {target}" if target else ""
        console().print(Text(f"no{which} incidents{on}{hint}"))
        return
    from rich.table import Table

    from widgets.incident_detail import STYLES, when
    from widgets.literal_text import literal

    table = Table()
    for column in ("id", "target", "symptom", "health", "status", "owner", "steps"):
        table.add_column(column, overflow="fold")
    table.add_column("opened", no_wrap=True)
    for i in found:
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
    """One incident: the checks that confirmed it, each remedy with its credit and why, and its
    timeline (opened, checks, remedies, approvals, closed).

    Example: webops incident show 3 --json | jq '.timeline[].text'
    """
    detail = with_kernel(ctx, lambda k: k.incident(incident_id))
    if as_json:
        emit_json(detail)
        return
    from widgets.incident_detail import incident_lines

    out = console()
    for line in incident_lines(detail):
        out.print(line, soft_wrap=True)


IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The incident's id.")]
NoteOption = Annotated[
    str | None, typer.Option("--note", help="Why, for the record.", show_default=False)
]


def _changed(detail: IncidentDetail, as_json: bool, said: str) -> None:
    if as_json:
        emit_json(detail)
        return
    from rich.text import Text

    from widgets.literal_text import printable

    console().print(Text(printable(said, newlines=False)))


@app.command("ack")
def ack(ctx: typer.Context, incident_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Acknowledge an incident: you are on it, so reminders about it stop.

    Example: webops incident ack 3
    """
    detail = with_kernel(ctx, lambda k: k.ack_incident(incident_id))
    _changed(detail, as_json, f"incident {incident_id} acknowledged by {detail.acknowledged_by}")


@app.command("resolve")
def resolve(
    ctx: typer.Context, incident_id: IdArgument, note: NoteOption = None, as_json: JsonFlag = False
) -> None:
    """Resolve an incident yourself: the agents stop working it, a remedy waiting for approval
    is withdrawn, and "resolved" notifications go out.

    Example: webops incident resolve 3 --note "rolled back by hand"
    """
    detail = with_kernel(ctx, lambda k: k.resolve_incident(incident_id, note=note))
    _changed(detail, as_json, f"incident {incident_id} resolved: {detail.summary}")


@app.command("reopen")
def reopen(
    ctx: typer.Context, incident_id: IdArgument, note: NoteOption = None, as_json: JsonFlag = False
) -> None:
    """Reopen a closed incident: the agents take it up again if the target still fails.

    Example: webops incident reopen 3 --note "errors are back"
    """
    detail = with_kernel(ctx, lambda k: k.reopen_incident(incident_id, note=note))
    _changed(detail, as_json, f"incident {incident_id} reopened: {detail.summary}")


@app.command("note")
def note(
    ctx: typer.Context,
    incident_id: IdArgument,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note.")],
    as_json: JsonFlag = False,
) -> None:
    """Add a note to an incident's timeline (open or closed: postmortems come later).

    Example: webops incident note 3 "customer reports came in at 14:02"
    """
    detail = with_kernel(ctx, lambda k: k.note_incident(incident_id, text))
    _changed(detail, as_json, f"note added to incident {incident_id}")


#: The report formats `--format` takes.
REPORT_FORMATS = ("md", "text", "json")


@app.command("report")
def report(
    ctx: typer.Context,
    incident_id: IdArgument,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md (Markdown), text or json.")] = "md",
    as_json: JsonFlag = False,
) -> None:
    """A postmortem: summary, impact window, timeline, what the agents tried and what fixed
    it, time to detect and to resolve, facts learned. Markdown unless asked otherwise.

    Example: webops incident report 3 > postmortem-3.md
    """
    if as_json:
        fmt = "json"
    if fmt not in REPORT_FORMATS:
        from agent.errors import InvalidInput

        raise InvalidInput(f"unknown --format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")
    found = with_kernel(ctx, lambda k: k.incident_report(incident_id))
    if fmt == "json":
        emit_json(found)
        return
    from webops_tui.cli import postmortem_format

    rendered = postmortem_format.markdown(found) if fmt == "md" else postmortem_format.text(found)
    sys.stdout.write(rendered)
