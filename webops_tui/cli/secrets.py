"""`webops secrets ...`: the key that seals runbook secrets, beside the database file."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel

app = typer.Typer(help="The key that encrypts runbook secrets.", no_args_is_help=True)


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    drop_unreadable: Annotated[
        bool,
        typer.Option(
            "--drop-unreadable",
            help="Drop secrets the current key cannot read (a lost or wrong key file); "
            "their runbooks stay locked until added again.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead.")
    ] = False,
) -> None:
    """Re-encrypt every runbook secret with a new key (the old key then opens nothing).

    Safe to interrupt: until the end the key file holds the new and the old key."""
    rotation = with_kernel(ctx, lambda k: k.ops.rotate_key(drop_unreadable=drop_unreadable))
    if as_json:
        emit_json(asdict(rotation))
        return
    line = (
        f"new key in {rotation.key}: re-encrypted {rotation.secrets} secrets "
        f"of {rotation.runbooks} runbooks"
    )
    if rotation.dropped:
        line += f"; dropped the unreadable secrets of {', '.join(rotation.dropped)}"
    console().print(line, markup=False, highlight=False)
