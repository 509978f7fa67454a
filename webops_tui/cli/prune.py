"""`webops prune`: apply the config's `[retention]` policy now (what `run` and `serve` do every
hour), or with `--dry-run` count what it would remove. The audit log is always kept."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import settings_of, with_kernel


def prune(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; change nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead.")
    ] = False,
) -> None:
    """Delete episodes, messages, check samples, closed incidents and sent or failed
    notifications older than the config's [retention] policy allows (days per kind; a kind not
    named is kept, but notifications 30 days). Audit and pending notifications are never pruned.

    Example: webops prune --dry-run --json | jq .counts
    """
    from agent.errors import InvalidInput
    from webops_tui.retention import apply

    settings = settings_of(ctx)
    if settings.read_only and not dry_run:
        raise InvalidInput("--read-only: prune changes the database; use --dry-run to count")
    policy = settings.retention
    now = time.time()
    counts = with_kernel(ctx, lambda k: apply(k.database, policy, now=now, dry_run=dry_run))
    if as_json:
        emit_json({"dry_run": dry_run, "policy_days": policy.days(), "counts": counts})
        return
    out = console()
    if not policy.model_fields_set:
        out.print(
            f"no [retention] policy in {settings.config_path}: everything is kept but "
            f"notifications, {policy.notifications:g} days"
        )
    verb = "would remove" if dry_run else "removed"
    for kind, days in policy.days().items():
        out.print(f"{kind}: {verb} {counts[kind]} older than {days:g} days")
    out.print("audit: kept (always)")
