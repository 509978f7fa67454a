"""`webops notify ...`: where notifications go (apprise URLs) and which events go there.

The autonomous loop (`run`, `demo`, `serve --watch`, the workbench's demo) sends them; these
commands only define routes, list them (URLs shown as scheme://host/… only) and test one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from webops_tui.cli.output import console, emit_json, error_line
from webops_tui.cli.runtime import with_kernel
from widgets.literal_text import assemble

if TYPE_CHECKING:
    from agent.core.kernel import Kernel
    from agent.ops.notify_routes import NotifyRouteSpec

app = typer.Typer(
    help="Send incidents, approvals and stuck agents to people (apprise URLs).",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def route_spec(fields: dict[str, Any]) -> NotifyRouteSpec:
    """A route from the command line's (or a document's) fields; bad ones are one line."""
    from agent.errors import InvalidInput
    from agent.ops.apprise_send import understood
    from agent.ops.notify_routes import NotifyRouteSpec, masked_url
    from agent.ops.stored_specs import first_line

    try:
        spec = NotifyRouteSpec.model_validate(fields)
    except ValueError as exc:
        raise InvalidInput(f"notify route: {first_line(exc)}") from None
    if not understood(spec.url):
        raise InvalidInput(
            f"apprise does not understand the URL {masked_url(spec.url)} (a known scheme such as "
            "json://, ntfy://, mailto://, with its required parts)"
        )
    return spec


@app.command("add")
def add(
    ctx: typer.Context,
    name: str,
    url: Annotated[str, typer.Argument(help="An apprise URL, e.g. json://127.0.0.1:9000/hook.")],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            "-e",
            metavar="EVENT",
            help="incident_opened, incident_escalated, incident_resolved, approval_requested, "
            "approval_decided or agent_stuck; repeatable (default: all).",
        ),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target", "-t", metavar="TARGET", help="A target name or glob (shop*); repeatable."
        ),
    ] = None,
    min_criticality: Annotated[
        str,
        typer.Option("--min-criticality", help="Only targets this critical: low ... critical."),
    ] = "low",
    remind_every: Annotated[
        str,
        typer.Option("--remind-every", help="Remind while an incident is open and unacked: 30m."),
    ] = "0",
    no_send_resolved: Annotated[
        bool, typer.Option("--no-send-resolved", help="Say nothing when an incident resolves.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a route, or replace the one with this NAME.

    Example: webops notify add oncall 'ntfy://ntfy.sh/my-topic' --min-criticality high
    """
    spec = route_spec(
        {
            "name": name,
            "url": url,
            "events": event or [],
            "targets": target or [],
            "min_criticality": min_criticality,
            "remind_every": remind_every,
            "send_resolved": not no_send_resolved,
        }
    )

    async def put(kernel: Kernel) -> bool:
        return await kernel.notifications.put(spec)

    replaced = with_kernel(ctx, put, creates=True)
    shown = {**spec.shown(), "replaced": replaced}
    if as_json:
        emit_json(shown)
        return
    verb = "replaced" if replaced else "added"
    console().print(assemble(f"route {verb}: ", (name, "bold"), f" -> {shown['url']}"))


@app.command("list")
def list_routes(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the routes (URLs only as scheme://host/…) and what was delivered."""
    from storage.repositories.notifications import OutboxCounts

    async def collect(kernel: Kernel) -> tuple[list[NotifyRouteSpec], dict[str, str], OutboxCounts]:
        routes = await kernel.notifications.list()
        return routes, dict(kernel.notifications.locked), await kernel.notifications.counts()

    routes, locked, counts = with_kernel(ctx, collect)
    rows = [spec.shown() for spec in routes]
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    out = console()
    if not rows and not locked:
        out.print("no notification routes: webops notify add NAME URL")
    if rows:
        table = Table()
        for column in rows[0]:
            table.add_column(column.replace("_", " "), overflow="fold")
        for row in rows:
            table.add_row(*(_cell(v) for v in row.values()))
        out.print(table)
    for why in locked.values():
        error_line(f"locked: {why}")
    out.print(delivery_line(counts), markup=False)


def _cell(value: object) -> Any:
    from rich.text import Text

    from widgets.literal_text import printable

    shown = ", ".join(value) if isinstance(value, list) else str(value)
    return Text(printable(shown))


def delivery_line(counts: Any) -> str:
    """`notifications: 3 sent, 1 failed, 0 pending; last failure: ...` (status and list)."""
    line = (
        f"notifications: {counts.sent} sent, {counts.failed} failed, {counts.pending} pending, "
        f"{counts.failed_attempts} failed attempts"
    )
    if counts.last_failure:
        from widgets.literal_text import printable

        line += f"; last failure: {printable(counts.last_failure)}"
    return line


@app.command("remove")
def remove(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Forget a route (deliveries still pending for it are marked failed when next tried)."""

    async def drop(kernel: Kernel) -> None:
        await kernel.notifications.remove(name)

    with_kernel(ctx, drop)
    if as_json:
        emit_json({"name": name, "removed": True})
        return
    console().print(assemble("route removed: ", (name, "bold")))


@app.command("test")
def test(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Send one message to the route now and say whether it arrived (exit 1 when not)."""

    async def send(kernel: Kernel) -> str | None:
        return await kernel.notifications.test(name)

    error = with_kernel(ctx, send)
    if as_json:
        emit_json({"name": name, "sent": error is None, "error": error})
    elif error is None:
        console().print(assemble("sent a test notification to ", (name, "bold")))
    else:
        error_line(f"could not notify {name}: {error}")
    if error is not None:
        raise typer.Exit(1)
