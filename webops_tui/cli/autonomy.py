"""`webops run` (the autonomous loop on your targets) and `webops demo` (the demo world)."""

from __future__ import annotations

import math
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import refuse_read_only, run_workbench, settings_of
from widgets.literal_text import assemble, printable

if TYPE_CHECKING:
    import asyncio

    from agent.core.config import KernelConfig
    from agent.core.kernel import Kernel
    from agent.ops.incidents import ApprovalPolicy
    from storage.location import Location
    from webops_tui.demo.options import DemoOptions
    from webops_tui.demo.runner import DemoSummary


def _policy(value: str) -> ApprovalPolicy:
    from agent.errors import InvalidInput
    from agent.ops.incidents import APPROVAL_POLICIES

    for policy in APPROVAL_POLICIES:
        if policy == value:
            return policy
    choices = ", ".join(APPROVAL_POLICIES)
    raise InvalidInput(f"unknown --approve policy {value!r}; use one of {choices}")


def _check_notify(urls: list[str] | None) -> None:
    """Refuse a bad `--notify` URL before anything starts (one line, exit 2)."""
    from webops_tui.cli.notify import route_spec

    for url in urls or []:
        route_spec({"name": "run", "url": url})


def _check_worker(name: str | None, lease_s: float | None) -> float:
    """Refuse a bad `--worker` name or `--lease` before anything starts (one line, exit 2);
    the lease to keep."""
    from agent.core.leases import DEFAULT_LEASE_S, MIN_LEASE_S
    from agent.errors import InvalidInput

    if name is None:
        if lease_s is not None:
            raise InvalidInput("--lease needs --worker NAME: only workers hold leases")
        return DEFAULT_LEASE_S
    if not name.strip() or not name.isprintable() or len(name) > 64:
        raise InvalidInput(f"--worker needs a name of 1 to 64 printable characters, got {name!r}")
    if lease_s is None:
        return DEFAULT_LEASE_S
    if not MIN_LEASE_S <= lease_s <= 3600:
        raise InvalidInput(
            f"--lease must be between {MIN_LEASE_S:g} and 3600 seconds, got {lease_s:g}"
        )
    return lease_s


async def _team(kernel: Kernel, agents: str | None) -> list[str] | None:
    """The agents `--agents` names (each must exist), or None for every agent."""
    from agent.errors import InvalidInput, NotFound

    if agents is None:
        return None
    names = list(dict.fromkeys(n.strip() for n in agents.split(",") if n.strip()))
    if not names:
        raise InvalidInput("--agents needs at least one agent name (comma-separated)")
    known = {profile.name for profile in await kernel.list_agents()}
    missing = [name for name in names if name not in known]
    if missing:
        raise NotFound(f"--agents: no agent named {printable(missing[0])!r}")
    return names


def _stop_on_signals(stop: asyncio.Event) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def _progress(quiet: bool) -> Callable[[str], None]:
    started = time.monotonic()

    def say(line: str) -> None:
        if not quiet:
            sys.stderr.write(f"[{time.monotonic() - started:7.1f}s] {printable(line)}\n")
            sys.stderr.flush()

    return say


def run(
    ctx: typer.Context,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop by itself after this many seconds.")
    ] = None,
    approve: Annotated[
        str,
        typer.Option(
            "--approve",
            help="Who answers approvals: human (webops approvals / the workbench), all, none "
            "or wait (approve after a pause).",
        ),
    ] = "human",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    ops_file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Apply this ops document first, and again on change."),
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            metavar="URL",
            help="An apprise URL to notify of everything, for this run only; repeatable.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="When stopped, print the summary as JSON.")
    ] = False,
    worker: Annotated[
        str | None,
        typer.Option(
            "--worker",
            metavar="NAME",
            help="Share the targets with the other workers on this database: each target is "
            "checked by one worker at a time, through a lease it renews; a worker that stops "
            "or dies hands its targets over when its leases are released or expire.",
        ),
    ] = None,
    lease: Annotated[
        float | None,
        typer.Option(
            "--lease", metavar="SECONDS", help="How long a worker's lease lasts (default 10)."
        ),
    ] = None,
    agents: Annotated[
        str | None,
        typer.Option(
            "--agents",
            metavar="NAMES",
            help="The team of this run, comma-separated (default: every agent). Workers of a "
            "fleet each take their own agents, so that no agent lives on two nodes at once.",
        ),
    ] = None,
) -> None:
    """Watch the targets, open incidents, let the team handle them; Ctrl-C stops cleanly."""
    import asyncio

    from agent.core.autopilot import Autopilot
    from agent.core.kernel import Kernel
    from agent.errors import InvalidInput

    refuse_read_only(ctx, "the autonomous loop")
    policy = _policy(approve)
    _check_notify(notify)
    if duration is not None and not 0 < duration < math.inf:
        raise InvalidInput(f"--duration must be a positive number of seconds, got {duration:g}")
    lease_s = _check_worker(worker, lease)
    say = _progress(quiet)
    held: list[int] = []

    async def main() -> Autopilot:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        settings = settings_of(ctx)
        async with await Kernel.open(settings.db_path, config=settings.kernel_config()) as kernel:
            from webops_tui.cli.apply import plan_summary
            from webops_tui.ops_file import apply_file, keep_applied

            if ops_file is not None:
                say(f"{ops_file}: {plan_summary(await apply_file(kernel, ops_file))}")
            team = await _team(kernel, agents)
            if not kernel.ops.targets:
                raise InvalidInput("no targets to watch: add one with 'webops target add'")
            kernel.notifications.add_for_this_run(notify or [])
            keeper = None
            if worker is not None:
                from agent.core.leases import LeaseKeeper

                keeper = LeaseKeeper(kernel.database, worker, lease_s, say=say)
                await keeper.start(kernel.ops.targets)
            autopilot = Autopilot(
                kernel, team=team, approval_policy=policy, on_event=say, worker=keeper
            )
            share = f" ({len(keeper.held)} leased to {worker})" if keeper else ""
            say(f"watching {len(kernel.ops.targets)} target(s){share}; Ctrl-C to stop")
            from webops_tui.retention import keep_pruning

            pruning = asyncio.create_task(keep_pruning(kernel.database, settings.retention, stop))
            watching = ops_file and asyncio.create_task(keep_applied(kernel, ops_file, stop, say))
            leasing = keeper and asyncio.create_task(keeper.keep(lambda: kernel.ops.targets, stop))
            try:
                await autopilot.run(stop, duration)
            finally:
                stop.set()
                await pruning
                if watching:
                    await watching
                if keeper and leasing:
                    await leasing
                    held.append(len(keeper.held))
                    await keeper.stop()
            return autopilot

    autopilot = asyncio.run(main())
    resolved = sum(i.status == "resolved" for i in autopilot.closed)
    late = autopilot.schedule.lateness.summary()
    say(
        f"stopped: {autopilot.checks} checks, {len(autopilot.closed) + len(autopilot.open)} "
        f"incident(s), {resolved} resolved, {len(autopilot.open)} still open; "
        f"checks started late by {_seconds(late['p50_s'])} (p50), {_seconds(late['p95_s'])} "
        f"(p95), {_seconds(late['max_s'])} at most"
        + (f"; worker {worker} held {held[0]} target(s)" if worker is not None and held else "")
    )
    if as_json:
        emit_json(
            {
                "checks": autopilot.checks,
                "incidents": len(autopilot.closed) + len(autopilot.open),
                "resolved": resolved,
                "open": len(autopilot.open),
                "lateness": late,
                "team": autopilot.team,
                **({"worker": worker, "targets_held": held[0]} if worker and held else {}),
            }
        )


def _seconds(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def demo(
    ctx: typer.Context,
    headless: Annotated[
        bool, typer.Option("--headless", help="No workbench: run, then print a summary.")
    ] = False,
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Seconds to run (headless default 60; UI: until quit)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds faults and tie-breaks.")] = 7,
    approve: Annotated[
        str | None,
        typer.Option(
            "--approve", help="human (default with the UI), all (headless default), none or wait."
        ),
    ] = None,
    noise: Annotated[
        float,
        typer.Option(
            "--noise",
            help="Background noise: latency jitter and single failing answers from healthy "
            "services (1 = default, 0 = none, 2 = twice as often).",
        ),
    ] = 1.0,
    opaque: Annotated[
        bool,
        typer.Option(
            "--opaque-runbooks",
            help="Call the runbooks by meaningless ids (rb-3f): only experience can tell the "
            "team which one fixes what.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            metavar="URL",
            help="An apprise URL to notify of everything, for this run only; repeatable.",
        ),
    ] = None,
) -> None:
    """Start real services on 127.0.0.1 with injected faults and a team that learns to fix them.

    Example: webops demo --headless --duration 60 --seed 7 --json | jq .steps_vs_oracle_last_third
    """
    import asyncio

    from agent.errors import InvalidInput

    refuse_read_only(ctx, "the demo")
    _check_notify(notify)
    settings = settings_of(ctx).for_demo()
    # `--approve ''` is a typo to refuse, not the default (it quietly meant `all`).
    policy = _policy(approve if approve is not None else ("all" if headless else "human"))
    if duration is not None and not 0 < duration < math.inf:
        raise InvalidInput(f"--duration must be a positive number of seconds, got {duration:g}")
    if not 0 <= noise <= 10:
        raise InvalidInput(f"--noise must be between 0 and 10, got {noise:g}")
    from webops_tui.demo.options import DemoOptions

    options = DemoOptions(
        seed=seed,
        approve=policy,
        duration_s=duration if not headless else duration or 60.0,
        noise=noise,
        opaque=opaque,
        notify=tuple(notify or ()),
    )
    if not headless:
        from storage.inspection import inspect_location
        from webops_tui.app import make_app

        inspect_location(settings.db_path)
        run_workbench(make_app(settings, demo=options))
        return
    config = settings.kernel_config(seed=options.seed)
    summary = asyncio.run(_headless(settings.db_path, options, as_json, config))
    if as_json:
        emit_json(summary)
    else:
        _render(summary)
    if summary.unapproved_high_risk_actions:
        raise typer.Exit(1)


async def _headless(
    db_path: Location, options: DemoOptions, quiet: bool, config: KernelConfig
) -> DemoSummary:
    import asyncio

    from agent.core.kernel import Kernel
    from webops_tui.demo.runner import run_demo

    stop = asyncio.Event()
    _stop_on_signals(stop)
    world = options.world()
    try:
        async with await Kernel.open(db_path, config=config) as kernel:
            kernel.notifications.add_for_this_run(list(options.notify))
            return await run_demo(
                kernel,
                world,
                seed=options.seed,
                duration_s=options.duration_s,
                approve=options.approve,
                stop=stop,
                say=_progress(quiet),
            )
    finally:
        world.stop()


def _render(summary: DemoSummary) -> None:
    from rich.table import Table

    out = console()
    i = summary.incidents
    out.print(
        assemble(
            (str(i["opened"]), "bold"),
            " incidents, ",
            (str(i["resolved"]), "bold"),
            f" resolved ({summary.resolution_rate:.0%}), {i['open']} open, {i['failed']} escalated",
        )
    )
    if summary.steps_ratio_last_vs_first is not None:
        out.print(
            f"steps to resolve: first third {summary.steps_first_third:.2f}, last third "
            f"{summary.steps_last_third:.2f} (ratio {summary.steps_ratio_last_vs_first:.2f})"
        )
    a = summary.approvals
    out.print(
        f"approvals asked {a['asked']}, given {a['given']}, denied {a['denied']}; "
        f"high-risk actions run on earned autonomy {a['autonomous_high_risk']}; "
        f"unapproved high-risk actions {summary.unapproved_high_risk_actions}"
    )
    table = Table(title="incidents")
    for column in ("id", "target", "fault", "symptom", "owner", "steps", "seconds", "tried"):
        table.add_column(column, overflow="fold")
    for inc in summary.incident_log[-15:]:
        tried = " ".join(f"{a}{'✓' if ok else '✗'}" for a, ok in inc.actions)
        table.add_row(
            str(inc.id),
            inc.target,
            inc.kind or "-",
            inc.situation,
            inc.owner or "-",
            str(inc.steps),
            f"{inc.seconds or 0:.1f}",
            tried,
        )
    out.print(table)
