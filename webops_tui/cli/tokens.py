"""`webops token ...`: bearer tokens for the REST API (`webops serve`)."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel
from widgets.literal_text import assemble

app = typer.Typer(help="Create, list and revoke REST API tokens.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def _who() -> str:
    return f"operator:{getpass.getuser()}"


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who or what will use it, e.g. ci or alice.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            "-r",
            help="viewer (reads), operator (also chats, runs tasks, approves and denies) or "
            "admin (also manages agents, targets, runbooks and tokens).",
        ),
    ] = "viewer",
    as_json: JsonFlag = False,
) -> None:
    """Create a token; it is shown this once and only its hash is stored.

    Example: TOKEN=$(webops token create ci --role operator --json | jq -r .token)
    """
    issued = with_kernel(ctx, lambda k: k.create_token(name, role, by=_who()), creates=True)
    if as_json:
        emit_json(issued)
        return
    out = console()
    out.print(
        assemble("token ", (issued.name, "bold"), f" ({issued.role}); it is shown only this once:")
    )
    sys.stdout.write(issued.token + "\n")
    out.print("send it as the header  Authorization: Bearer <token>", style="dim")


@app.command("list")
def list_tokens(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the tokens (names, roles, when last used; never the secrets)."""
    views = with_kernel(ctx, lambda k: k.tokens.list())
    if as_json:
        emit_json(views)
        return
    from rich.table import Table

    if not views:
        console().print("no tokens yet: webops token create NAME --role viewer")
        return
    table = Table()
    for column in ("name", "role", "prefix", "created", "last used", "revoked"):
        table.add_column(column)
    for v in views:
        table.add_row(
            v.name,
            v.role,
            f"webops_{v.prefix}…",
            _when(v.created_at),
            _when(v.last_used_at),
            _when(v.revoked_at),
        )
    console().print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Revoke a token; a running `webops serve` refuses it within a second."""
    view = with_kernel(ctx, lambda k: k.revoke_token(name, by=_who()))
    if as_json:
        emit_json(view)
    else:
        console().print(assemble("revoked token ", (view.name, "bold")))
