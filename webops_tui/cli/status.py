"""`webops status [NAME]`: an agent's state, personality, emotions, mood and resources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel

if TYPE_CHECKING:
    from agent.core.kernel import Kernel
    from agent.core.views import AgentStatus
    from storage.repositories.notifications import OutboxCounts


def _bar(value: float, width: int = 20) -> str:
    filled = value * width
    full = int(filled)
    eighths = int((filled - full) * 8)
    part = " ▏▎▍▌▋▊▉"[eighths] if full < width and eighths else ""
    return ("█" * full + part).ljust(width, "·")


def _render(status: AgentStatus) -> None:
    from rich.table import Table

    from widgets.literal_text import assemble

    m = status.mood
    out = console()
    out.print(
        assemble(
            (status.name, "bold"),
            f" ({status.preset}) is ",
            (status.state, "bold"),
            ", feeling ",
            (m.label, "bold"),
            f" (P {m.pleasure:+.2f}  A {m.arousal:+.2f}  D {m.dominance:+.2f})",
        )
    )
    emotions = Table(title="emotions", title_justify="left", show_header=False)
    for name, value in status.emotions.items():
        rest = status.baseline[name]
        emotions.add_row(name, _bar(value), f"{value:.2f}", f"rest {rest:.2f}")
    out.print(emotions)
    adapting = "adapts to experience" if status.adapt_personality else "adaptation off"
    effects = Table(title=f"personality ({adapting})", title_justify="left")
    for column in ("trait", "now", "base", "drift"):
        effects.add_column(column, justify="left" if column == "trait" else "right")
    base, drift = status.personality_base.as_dict(), status.personality_drift.as_dict()
    for trait, value in status.personality.as_dict().items():
        effects.add_row(trait, f"{value:.2f}", f"{base[trait]:.2f}", f"{drift[trait]:+.3f}")
    for effect, value in status.effects.model_dump().items():
        effects.add_row(effect.replace("_", " "), f"{value:.2f}", style="dim")
    out.print(effects)
    for reason in status.personality_drift.reasons[:5]:
        changes = ", ".join(f"{t} {v:+.3f}" for t, v in reason.changes.items())
        detail = f" ({reason.detail})" if reason.detail else ""
        line = f"  drift: {changes}: {reason.why}{detail}"
        out.print(line, markup=False, style="dim")
    r = status.resources
    out.print(
        f"resources: {r.running_actions}/{r.limits.max_concurrent_actions} actions running, "
        f"{r.actions_last_minute}/{r.limits.actions_per_minute} in the last minute, "
        f"timeout {r.limits.action_timeout_s:g} s, {r.mailbox} messages waiting"
    )
    k = status.kernel
    if k.troubled:
        out.print(
            f"kernel: {k.flush_errors} failed flushes, {k.event_errors} failed event "
            f"subscribers (see --log-file); last: {k.last_error}",
            markup=False,
            style="yellow",
        )


async def maintenance_lines(kernel: Kernel) -> list[str]:
    """ "target db: maintenance until 2026-12-02 02:00 UTC: db upgrade", one per target covered."""
    found = [(n, await kernel.silences.covering(n)) for n in sorted(kernel.ops.targets)]
    return [f"target {n}: {c.says()}" for n, c in found if c is not None]


def _read(ctx: typer.Context, name: str | None, *, table: bool) -> list[AgentStatus] | None:
    """The statuses from the light path (no ORM import), or None when the kernel must answer."""
    from webops_tui.cli import light

    reader = light.reader_of(ctx)
    if reader is None:
        return None
    try:
        return light.statuses(ctx, reader, name, table=table)
    finally:
        reader.close()


def status(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="An agent; all agents when left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show an agent's state, personality, emotions, mood and resources.

    Example: webops status anna --json | jq .emotions.fear
    """

    async def collect(kernel: Kernel) -> tuple[list[AgentStatus], list[str], OutboxCounts]:
        names = [name] if name else [p.name for p in await kernel.list_agents()]
        statuses = [await kernel.status(n) for n in names]
        return statuses, await maintenance_lines(kernel), await kernel.notifications.counts()

    light = _read(ctx, name, table=not as_json)
    maintenance: list[str] = []
    deliveries: OutboxCounts | None = None
    if light is not None:
        statuses = light
    else:
        statuses, maintenance, deliveries = with_kernel(ctx, collect)
    if as_json:
        emit_json(statuses[0] if name else statuses)
        return
    if not statuses:
        console().print("no agents yet: webops agent create NAME")
    for one in statuses:
        _render(one)
    for line in maintenance:  # targets in a silence or a maintenance window, literally
        console().print(line, style="yellow")
    if deliveries and (deliveries.sent or deliveries.failed or deliveries.pending):
        style = "yellow" if deliveries.failed else None
        from webops_tui.cli.notify import delivery_line

        console().print(delivery_line(deliveries), markup=False, style=style)
