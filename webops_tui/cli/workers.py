"""`webops workers`: the `webops run --worker` processes sharing this database's targets."""

from __future__ import annotations

from typing import Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel


def workers(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead.")
    ] = False,
) -> None:
    """Workers sharing the targets (webops run --worker): live or not, last seen, targets leased.

    A worker is live while it renews its leases; one stopped or dead for longer than its lease
    holds no targets: the live ones share them.
    """
    from agent.core import leases

    now, found = with_kernel(ctx, lambda k: leases.workers(k.database))
    rows = [
        {
            "name": w.name,
            "live": leases.is_live(w, now),
            "seen_ago_s": round(max(0.0, now - w.seen_at), 3),
            "stopped": w.stopped_at is not None,
            "lease_s": w.lease_s,
            "targets": w.leased,
        }
        for w in found
    ]
    if as_json:
        emit_json({"workers": rows})
        return
    if not rows:
        console().print("no workers yet: webops run --worker NAME")
        return
    from rich.table import Table

    from widgets.literal_text import literal

    table = Table()
    for column in ("worker", "state", "seen", "lease", "targets"):
        table.add_column(column)
    for row in rows:
        state = "live" if row["live"] else ("stopped" if row["stopped"] else "gone")
        table.add_row(
            literal(str(row["name"])),
            state,
            f"{row['seen_ago_s']:.1f} s ago",
            f"{row['lease_s']:g} s",
            str(row["targets"]),
        )
    console().print(table)
