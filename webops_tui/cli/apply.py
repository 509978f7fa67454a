"""`webops apply -f ops.toml` and `webops export config`: the ops document, config as code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel
from widgets.literal_text import assemble

if TYPE_CHECKING:
    from agent.core.kernel import Kernel
    from agent.core.ops_document import Plan


def read_document(path: Path) -> str:
    """The file's text, or one line saying why it cannot be read."""
    from agent.errors import InvalidInput

    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None


def plan_json(planned: Plan, dry_run: bool) -> dict[str, object]:
    return {
        "source": planned.source,
        "dry_run": dry_run,
        "changed": bool(planned.changes),
        "counts": planned.counts(),
        "changes": [c.as_json() for c in planned.changes],
    }


def plan_summary(planned: Plan) -> str:
    counts = planned.counts()
    if not planned.changes:
        return f"no change ({counts['unchanged']} entries as written)"
    return (
        f"{counts['created']} created, {counts['updated']} updated, "
        f"{counts['removed']} removed, {counts['unchanged']} unchanged"
    )


def apply(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("--file", "-f", help="The ops document (TOML).", show_default=False)
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; change nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Also remove what the file does not name, in each table the file has.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead.")
    ] = False,
) -> None:
    """Make agents, targets, runbooks, notification routes, maintenance windows and named
    silences match an ops document ([[agent]], [[target]], [[runbook]], [[notify]],
    [[maintenance]], [[silence]] tables); applying it again changes nothing. All or nothing:
    a bad entry is one line naming its table, index and field, and nothing is stored.
    Silences made by `webops silence` have no name and are never touched (nor pruned).

    Example: webops apply -f ops.toml --dry-run
    """
    from agent.core.ops_document import apply_document

    text = read_document(file)

    async def run(kernel: Kernel) -> Plan:
        return await apply_document(kernel, text, str(file), prune=prune, dry_run=dry_run)

    planned = with_kernel(ctx, run, creates=not dry_run)
    if as_json:
        emit_json(plan_json(planned, dry_run))
        return
    out = console()
    for change in planned.changes:
        style = {"+": "green", "~": "yellow", "-": "red"}[change.op]
        out.print(assemble((change.line(), style)))
    verb = "would apply" if dry_run and planned.changes else "applied"
    out.print(f"{verb}: {plan_summary(planned)}" if planned.changes else plan_summary(planned))


def export_config(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file; an existing one is updated in place, keeping its "
            "comments and the entries that did not change.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Agents, targets, runbooks, notification routes, maintenance windows and named silences
    as an ops document (for webops apply -f). Secrets (runbook secrets, notify URLs) are never
    written: each is { stored = true }, which apply reads as "keep the stored value".

    Example: webops export config -o ops.toml
    """
    from agent.core.ops_export import export_document
    from agent.errors import InvalidInput

    existing = read_document(output) if output is not None and output.exists() else None
    text = with_kernel(ctx, lambda k: export_document(k, existing))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from None
    console().print(assemble("wrote ", (str(output), "bold")))
