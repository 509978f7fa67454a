"""`webops task`, `webops approvals`, `webops audit`, `webops skills`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.numbers import INTEGER_MAX, INTEGER_MIN
from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel
from widgets.literal_text import assemble, literal

if TYPE_CHECKING:
    from rich.text import Text

    from agent.core.approval_view import ApprovalView
    from agent.core.dry_runs import DryRun
    from agent.skills.proficiency import SkillView

#: Lines of a dry run's output the approvals table shows (`approvals show ID`: all of it).
DRY_RUN_LINES = 5
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def task(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent.")],
    text: Annotated[
        str, typer.Argument(help="'check TARGET', 'check https://URL' or 'run RUNBOOK on TARGET'.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Give an agent a task; exit 1 if it failed (a failed check, say).

    Example: webops task anna "check shop" --json | jq .result.data.latency_ms
    """
    result = with_kernel(ctx, lambda k: k.task(name, text))
    if as_json:
        emit_json(result)
    else:
        style = {"succeeded": "green", "failed": "red"}.get(result.status, "yellow")
        console().print(assemble((result.status, style), ": ", result.summary))
        if result.approval_id is not None:
            console().print(f"approve with: webops approvals --approve {result.approval_id}")
    if result.status == "failed":
        raise typer.Exit(1)


approvals_app = typer.Typer(
    help="List pending approvals, show one, or approve / deny one by id.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@approvals_app.callback()
def approvals(
    ctx: typer.Context,
    approve: Annotated[
        int | None,
        typer.Option("--approve", help="Approve and run it.", min=INTEGER_MIN, max=INTEGER_MAX),
    ] = None,
    deny: Annotated[
        int | None, typer.Option("--deny", help="Deny it.", min=INTEGER_MIN, max=INTEGER_MAX)
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            "--by", help="A name noted beside you in the audit log (the actor is your OS user)."
        ),
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """List pending approvals, or approve / deny one by id (`show ID`: one in full)."""
    from agent.errors import InvalidInput

    if ctx.invoked_subcommand is not None:
        return
    if approve is not None and deny is not None:
        raise InvalidInput("give --approve or --deny, not both")
    if approve is not None:
        view = with_kernel(ctx, lambda k: k.approve(approve, note=by))
    elif deny is not None:
        view = with_kernel(ctx, lambda k: k.deny(deny, note=by))
    else:
        pending = _light_pending(ctx)
        if pending is None:
            pending = with_kernel(ctx, lambda k: k.approvals())
        if as_json:
            emit_json(pending)
            return
        from rich.table import Table

        if not pending:
            console().print("no pending approvals")
            return
        table = Table()
        for column in ("id", "agent", "action", "target", "risk", "why", "dry run"):
            table.add_column(column, overflow="fold")
        for p in pending:
            table.add_row(
                str(p.id),
                literal(p.agent),
                literal(p.action),
                literal(p.target or ""),
                p.risk,
                literal(p.summary),
                dry_run_cell(p.dry_run),
            )
        console().print(table)
        return
    if as_json:
        emit_json(view)
    else:
        result = f": {view.result['status']} ({view.result['detail']})" if view.result else ""
        console().print(literal(f"approval {view.id} {view.status}{result}"), soft_wrap=True)
    if view.status == "failed":
        raise typer.Exit(1)


@approvals_app.command("show")
def approval_show(
    ctx: typer.Context,
    approval_id: Annotated[int, typer.Argument(min=INTEGER_MIN, max=INTEGER_MAX)],
    as_json: JsonFlag = False,
) -> None:
    """One approval in full: who asks for what and why, and what its dry run printed."""
    view = with_kernel(ctx, lambda k: k.approval(approval_id))
    if as_json:
        emit_json(view)
        return
    out = console()
    out.print(
        assemble(
            (f"approval {view.id}", "bold"),
            f" ({view.status}): {view.agent} asks to run {view.action}",
            f" on {view.target}" if view.target else "",
            f" · risk {view.risk}",
        ),
        soft_wrap=True,
    )
    out.print(assemble("why: ", view.summary), soft_wrap=True)
    if view.dry_run is not None:
        out.print(assemble(("dry run: ", "bold"), view.dry_run.detail), soft_wrap=True)
        if view.dry_run.output:
            out.print(literal(view.dry_run.output), soft_wrap=True)
    if view.result:
        out.print(assemble("result: ", str(view.result.get("detail", ""))), soft_wrap=True)


def dry_run_cell(dry: DryRun | None) -> Text:
    """An approval's dry run in a table cell: passed or failed, and the last lines printed."""
    if dry is None:
        return literal("-")
    lines = dry.output.strip().splitlines()[-DRY_RUN_LINES:]
    return literal("\n".join([f"{'passed' if dry.ok else 'failed'}: {dry.detail}", *lines]))


def audit(
    ctx: typer.Context,
    verify: Annotated[bool, typer.Option("--verify", help="Check the keyed chain.")] = False,
    anchor: Annotated[
        bool,
        typer.Option(
            "--anchor",
            help="Alone: print the head (ID:MAC) to keep elsewhere. With --verify HEAD: check "
            "that the log still holds that head unchanged (nothing cut off or rewritten).",
        ),
    ] = False,
    head: Annotated[
        str | None,
        typer.Argument(help="With --verify --anchor: the ID:MAC that --anchor printed earlier."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=INTEGER_MIN, max=INTEGER_MAX)] = 50,
    agent: Annotated[str | None, typer.Option("--agent")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit log (newest first), print its head, or verify that nobody altered it.

    Example: webops audit --anchor > head.txt, later
    webops audit --verify --anchor "$(cat head.txt)"
    """
    from agent.errors import InvalidInput
    from storage.repositories.audit import Anchor

    if head is not None and not (verify and anchor):
        raise InvalidInput(f"unexpected {head!r}: a head is given as --verify --anchor ID:MAC")
    if anchor and not verify:
        newest = with_kernel(ctx, lambda k: k.audit_head())
        if as_json:
            emit_json({"id": newest.id, "mac": newest.mac})
        else:
            print(newest)
        return
    if verify:
        if anchor and head is None:
            raise InvalidInput("--verify --anchor needs the ID:MAC that --anchor printed")
        try:
            expected = None if head is None else Anchor.parse(head)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        result = with_kernel(ctx, lambda k: k.verify_audit(expected))
        document = {
            "ok": result.ok,
            "entries": result.entries,
            "first_bad": result.first_bad,
            "reason": result.reason,
        }
        if as_json:
            emit_json(document)
        elif result.ok:
            console().print(f"audit chain intact: {result.entries} entries")
        else:
            console().print(
                assemble(
                    (f"audit chain broken at entry {result.first_bad}", "red"), ": ", result.reason
                )
            )
        if not result.ok:
            raise typer.Exit(1)
        return
    rows = with_kernel(ctx, lambda k: k.audit_entries(limit, agent))
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table()
    for column in ("id", "when", "actor", "event", "action", "target", "why"):
        table.add_column(column, overflow="fold")
    for r in rows:
        when = datetime.fromtimestamp(r.ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            str(r.id),
            when,
            r.actor,
            r.event,
            r.action or "",
            r.target or "",
            r.why[:60] + ("…" if len(r.why) > 60 else ""),
        )
    console().print(table)


def _light_pending(ctx: typer.Context) -> list[ApprovalView] | None:
    """The pending approvals from the light path, or None when the kernel must answer."""
    from webops_tui.cli import light

    reader = light.reader_of(ctx)
    if reader is None:
        return None
    try:
        return light.pending_approvals(reader)
    finally:
        reader.close()


def _light_skills(ctx: typer.Context, name: str) -> list[SkillView] | None:
    """The skills from the light path (no ORM import), or None when the kernel must answer."""
    from webops_tui.cli import light

    reader = light.reader_of(ctx)
    if reader is None:
        return None
    try:
        return light.skill_views(ctx, reader, name)
    finally:
        reader.close()


def skills(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """An agent's skills: proficiency, level, practice, and whether it acts on its own."""
    views = _light_skills(ctx, name)
    if views is None:
        views = with_kernel(ctx, lambda k: k.skills(name))
    if as_json:
        emit_json(views)
        return
    from rich.table import Table

    if not views:
        console().print(f"{name} has not used any skill yet")
        return
    table = Table()
    for column in ("skill", "proficiency", "level", "practice", "autonomous", "why"):
        table.add_column(column, overflow="fold")
    for v in views:
        table.add_row(
            v.name,
            f"{v.proficiency:.2f}",
            v.level,
            str(v.practice_count),
            "yes" if v.autonomous else "no",
            v.why,
        )
    console().print(table)
