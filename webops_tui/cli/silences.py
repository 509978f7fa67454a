"""`webops silence ...` and `webops maintenance ...`: keep targets out of incidents for a while.

`webops silence TARGET --for 2h --reason TEXT` is the everyday form the issue writes, with
`list` and `remove` beside it: the group reads a first word that is not one of its commands as
the target (`add` spelled out works too), and `--` before it silences a target literally named
`list` or `remove` (`webops silence -- list --for 1h`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from webops_tui.cli.output import console, emit_json, print_rows
from webops_tui.cli.runtime import with_kernel
from widgets.literal_text import assemble

if TYPE_CHECKING:
    from agent.core.kernel import Kernel
    from agent.ops.maintenance import Covering

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]

#: Words the silence group owns; any other first word is a target.
_COMMANDS = ("add", "list", "remove")


class TargetFirst(TyperGroup):
    """A group whose unknown first word is the target of `add` (see the module docstring)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] == "--":
            args = ["add", *args[1:]]
        elif args and args[0] not in _COMMANDS and args[0] not in ("-h", "--help"):
            args = ["add", *args]
        result: list[str] = super().parse_args(ctx, args)
        return result


silence_app = typer.Typer(
    cls=TargetFirst,
    no_args_is_help=True,
    help="Silence targets for a while: checks go on and are recorded, but no incident opens "
    "and no remedy runs.\n\n"
    "  webops silence TARGET --for 2h --reason TEXT   (TARGET: a name, a glob like db-*, or *)\n\n"
    "  webops silence list [--json]                   (on now and upcoming, windows included)\n\n"
    "  webops silence remove ID\n\n"
    "A target named list, add or remove: webops silence -- list --for 1h.",
)
maintenance_app = typer.Typer(
    no_args_is_help=True,
    help="Recurring maintenance windows: targets are silenced from each time a cron expression "
    "fires (UTC), for a duration.",
)


def _row(entry: Covering) -> dict[str, Any]:
    from datetime import UTC, datetime

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")

    return {
        "id": entry.id,
        "kind": entry.kind,
        "targets": " ".join(entry.targets),
        "from": when(entry.starts_at),
        "until": when(entry.ends_at),
        "reason": entry.reason,
    }


def _json(entry: Covering, now: float) -> dict[str, Any]:
    return entry.model_dump() | {"on": entry.starts_at <= now < entry.ends_at}


@silence_app.command("add", help="Silence TARGET (the same as webops silence TARGET ...).")
def silence_add(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A target's name, a glob (db-*), or * for all.")],
    for_: Annotated[
        str, typer.Option("--for", help="How long: 90s, 30m, 2h, 1d, 1h30m.", show_default=False)
    ] = "1h",
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why, as others will read it.")
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    from agent.ops.durations import format_duration, parse_duration

    seconds = parse_duration(for_, "--for")
    entry = with_kernel(ctx, lambda k: k.silences.silence(target, seconds, reason))
    if as_json:
        emit_json(entry.model_dump())
        return
    console().print(
        assemble(
            "silenced ",
            (target, "bold"),
            f" for {format_duration(seconds)} (id {entry.id}): ",
            entry.says(),
        )
    )


@silence_app.command("list")
def silence_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Silences on now or still to come, and maintenance windows (on now, or their next time)."""

    async def load(kernel: Kernel) -> tuple[float, list[Covering]]:
        return kernel.clock(), await kernel.silences.current()

    now, entries = with_kernel(ctx, load)
    if as_json:
        emit_json([_json(e, now) for e in entries])
        return
    rows = [_row(e) | {"now": "on" if e.starts_at <= now < e.ends_at else ""} for e in entries]
    print_rows(rows, ["id", "kind", "targets", "now", "from", "until", "reason"], "no silences")


@silence_app.command("remove")
def silence_remove(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(metavar="ID", help="As webops silence list shows.")],
    as_json: JsonFlag = False,
) -> None:
    """End a silence now (a maintenance window: webops maintenance remove NAME)."""
    entry = with_kernel(ctx, lambda k: k.silences.remove_silence(silence_id))
    if as_json:
        emit_json(entry.model_dump())
    else:
        console().print(assemble("removed silence ", (entry.id, "bold")))


@maintenance_app.command("add")
def maintenance_add(
    ctx: typer.Context,
    name: str,
    cron: Annotated[str, typer.Option("--cron", help='When it starts, in UTC: "0 2 * * *".')],
    duration: Annotated[str, typer.Option("--duration", help="How long: 30m, 1h, 2h30m.")],
    target: Annotated[
        list[str],
        typer.Option("--target", "-t", metavar="TARGET", help="A name or glob; repeatable."),
    ],
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why, as others will read it.")
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add (or replace) a window. Example: webops maintenance add nightly --cron "0 2 * * *"
    --duration 1h --target db --reason "backups"."""
    from pydantic import ValidationError

    from agent.errors import InvalidInput
    from agent.ops.maintenance import MaintenanceWindowSpec, check_cron
    from agent.ops.stored_specs import first_line

    check_cron(cron)
    try:
        spec = MaintenanceWindowSpec(
            name=name, targets=target, cron=cron, duration=duration, reason=reason
        )
    except ValidationError as exc:
        raise InvalidInput(first_line(exc).replace("Value error, ", "")) from None
    with_kernel(ctx, lambda k: k.silences.put_window(spec), creates=True)
    if as_json:
        emit_json(spec)
    else:
        console().print(assemble("maintenance window ", (spec.name, "bold"), f": {spec.cron}"))


@maintenance_app.command("list")
def maintenance_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The windows, each with its next (or current) time."""

    async def load(kernel: Kernel) -> list[dict[str, Any]]:
        from agent.ops.maintenance import window_entries

        now = kernel.clock()
        found = []
        for spec in await kernel.silences.windows():
            (entry,) = window_entries([spec], now, upcoming=True)
            found.append(spec.model_dump() | _json(entry, now) | {"id": spec.name})
        return found

    found = with_kernel(ctx, load)
    if as_json:
        emit_json(found)
        return
    rows = [
        f | _row_times(f) | {"targets": " ".join(f["targets"]), "now": "on" if f["on"] else ""}
        for f in found
    ]
    print_rows(
        rows,
        ["name", "cron", "duration", "targets", "now", "from", "until", "reason"],
        'no maintenance windows: webops maintenance add NAME --cron "0 2 * * *" --duration 1h '
        "--target TARGET",
    )


def _row_times(found: dict[str, Any]) -> dict[str, str]:
    from datetime import UTC, datetime

    return {
        key: datetime.fromtimestamp(found[field], UTC).strftime("%Y-%m-%d %H:%M:%S")
        for key, field in (("from", "starts_at"), ("until", "ends_at"))
    }


@maintenance_app.command("remove")
def maintenance_remove(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Remove a window."""
    spec = with_kernel(ctx, lambda k: k.silences.remove_window(name))
    if as_json:
        emit_json(spec)
    else:
        console().print(assemble("removed maintenance window ", (spec.name, "bold")))


async def silenced(kernel: Kernel, target: str) -> dict[str, Any]:
    """What `target list --json` adds: until when (ISO, UTC) and why it is in maintenance."""
    from datetime import UTC, datetime

    found = await kernel.silences.covering(target)
    if found is None:
        return {"silenced_until": None, "silence_reason": None, "silenced_by": None}
    until = datetime.fromtimestamp(found.ends_at, UTC).isoformat()
    return {"silenced_until": until, "silence_reason": found.reason, "silenced_by": found.id}
