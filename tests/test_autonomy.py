"""The autonomous loop and the demo world: real services, real faults, a team that learns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel, KernelConfig
from agent.ops.incidents import ApprovalPolicy
from agent.ops.targets import runbook_spec, target_spec
from tests.conftest import CliRunner
from tests.service import ControlledService
from webops_tui.demo.runner import run_demo
from webops_tui.demo.world import REMEDY, TEST_SLOWNESS, DemoWorld

WEBOPS = Path(sys.executable).with_name("webops")


async def _demo(
    db_path: Path,
    seconds: float,
    approve: ApprovalPolicy,
    seed: int = 7,
    *,
    opaque_names: bool = False,
):
    """The demo world (default noise) for `seconds` of virtual time (the services answer in
    real time)."""
    clock = VirtualClock()
    world = DemoWorld(seed, clock=clock, opaque_names=opaque_names, slowness=TEST_SLOWNESS)
    try:
        config = KernelConfig(seed=seed)
        async with await Kernel.open(db_path, config=config, clock=clock.time) as kernel:
            return await run_demo(
                kernel, world, seed=seed, duration_s=seconds, approve=approve, stop=asyncio.Event()
            )
    finally:
        world.stop()


async def test_the_team_resolves_incidents_and_gets_faster(db_path: Path) -> None:
    summary = await _demo(db_path, 25.0, "all")
    assert summary.incidents["opened"] >= 20
    assert summary.resolution_rate >= 0.9
    assert summary.unapproved_high_risk_actions == 0
    assert summary.steps_ratio_last_vs_first is not None
    assert summary.steps_ratio_last_vs_first <= 0.6, (
        summary.steps_first_third,
        summary.steps_last_third,
    )
    # The faults were real: what fixed each one was its one correct remedy (an incident that
    # opened on a passing blip, with no fault behind it, is left out).
    labelled = [
        (i.kind, [a for a, fixed in i.actions if fixed])
        for i in summary.incident_log
        if i.kind is not None and any(fixed for _, fixed in i.actions)
    ]
    right = sum(fixes == [REMEDY[kind]] for kind, fixes in labelled)
    assert labelled and right >= 0.9 * len(labelled), labelled
    # Risky remedies were asked for at first, then run on earned autonomy.
    assert summary.approvals["asked"] >= 1 and summary.approvals["given"] >= 1
    assert summary.faults_injected and len(summary.faults_injected) >= 5


async def test_with_no_approvals_no_high_risk_action_ever_runs(db_path: Path) -> None:
    summary = await _demo(db_path, 8.0, "none", seed=11)
    assert summary.unapproved_high_risk_actions == 0
    assert summary.approvals["given"] == 0
    assert summary.actions_by_risk.get("high", 0) == 0
    assert summary.approvals["denied"] == summary.approvals["asked"]


async def test_run_opens_and_resolves_incidents_on_configured_targets(db_path: Path) -> None:
    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path) as kernel:
            await kernel.create_agent("ben", "bold")
            await kernel.ops.add_target(
                target_spec(
                    name="shop",
                    kind="http",
                    address=f"{service.url}/health",
                    interval_s=0.2,
                    timeout_s=1,
                )
            )
            await kernel.ops.add_runbook(
                runbook_spec(
                    name="fix-shop",
                    kind="http",
                    method="POST",
                    url=f"{service.url}/fix",
                    risk="low",
                    verify_target="shop",
                )
            )
            lines: list[str] = []
            autopilot = Autopilot(kernel, on_event=lines.append)
            stop = asyncio.Event()
            runner = asyncio.create_task(autopilot.run(stop))
            for _ in range(100):
                await asyncio.sleep(0.05)
                if autopilot.closed:
                    break
            stop.set()
            await runner
        assert service.healthy and service.fixes == 1
        (incident,) = autopilot.closed
        assert incident.status == "resolved" and incident.owner == "ben"
        assert incident.actions == [("fix-shop", True)]
        assert any("takes it" in line for line in lines)


async def test_an_incident_left_waiting_for_approval_is_taken_up_after_a_restart(
    db_path: Path,
) -> None:
    """The loop stops while a risky remedy waits for a person; the next run (whose stand-in
    operator approves) carries on with that same approval, fixes the service and closes the
    incident, instead of leaving it open for good (virtual time, a real HTTP service)."""
    with ControlledService(healthy=False) as service:
        for policy in ("human", "all"):
            clock = VirtualClock()
            async with await Kernel.open(db_path, clock=clock.time) as kernel:
                if policy == "human":
                    await kernel.create_agent("anna", "cautious")
                    await kernel.ops.add_target(
                        target_spec(
                            name="shop", kind="http", address=f"{service.url}/health",
                            interval_s=1.0, timeout_s=1.0,
                        )
                    )  # fmt: skip
                    await kernel.ops.add_runbook(
                        runbook_spec(
                            name="failover", kind="http", method="POST",
                            url=f"{service.url}/fix", risk="critical", verify_target="shop",
                        )
                    )  # fmt: skip
                autopilot = Autopilot(kernel, approval_policy=policy, clock=clock)
                await autopilot.run(asyncio.Event(), duration_s=5.0)
                if policy == "human":
                    (waiting,) = autopilot.open.values()
                    assert waiting.row.status == "awaiting_approval" and not service.fixes
                    first_approval = waiting.approval_id
    assert service.fixes == 1 and service.healthy
    (incident,) = autopilot.closed
    assert incident.status == "resolved" and incident.actions[-1] == ("failover", True)
    assert first_approval is not None
    async with await Kernel.open(db_path) as kernel:
        approval = await kernel.approval(first_approval)
    assert approval.status == "executed" and approval.decided_by == "stand-in operator"


def _closed_ids(db: Path) -> set[int]:
    conn = sqlite3.connect(db)
    try:
        ids = {
            r[0]
            for r in conn.execute("SELECT id FROM incident WHERE status IN ('resolved', 'failed')")
        }
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    return ids


def _closed_more_than(db: Path, closed: set[int], process: subprocess.Popen[str]) -> None:
    """Wait (in real time) until the running demo has closed an incident of its own."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        with contextlib.suppress(sqlite3.OperationalError):  # no schema yet, or busy
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                rows = conn.execute(
                    "SELECT id FROM incident WHERE status IN ('resolved', 'failed')"
                ).fetchall()
            finally:
                conn.close()
            if {r[0] for r in rows} - closed:
                return


def test_killing_the_loop_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "chaos.db"
    rng = random.Random(5)
    closed: set[int] = set()
    for round_, sig in enumerate((signal.SIGTERM, signal.SIGTERM, signal.SIGKILL)):
        process = subprocess.Popen(
            [
                str(WEBOPS),
                "--db",
                str(db),
                "demo",
                "--headless",
                "--duration",
                "30",
                "--seed",
                str(round_),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Killed at a random moment once the loop is at work (it has closed an incident).
        _closed_more_than(db, closed, process)
        time.sleep(rng.random() * 1.5)
        process.send_signal(sig)
        out, err = process.communicate(timeout=30)
        if sig == signal.SIGTERM:
            assert process.returncode == 0, err
            summary = json.loads(out)  # a clean stop still reports what happened
            assert summary["unapproved_high_risk_actions"] == 0
        now = _closed_ids(db)
        assert closed <= now  # every incident closed before is still there
        closed = now
    assert closed, "the runs closed some incidents"
    # A restart carries on: the same file, a short run, a clean exit; with runbooks called by
    # meaningless ids, those are the only ones the team has.
    result = subprocess.run(
        [str(WEBOPS), "--db", str(db), "demo", "--headless", "--duration", "1", "--json",
         "--opaque-runbooks"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert closed <= _closed_ids(db)
    listed = subprocess.run(
        [str(WEBOPS), "--db", str(db), "runbook", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    names = [r["name"] for r in json.loads(listed.stdout)]
    assert len(names) == 9 and all(n.startswith("rb-") for n in names), names


def test_run_stops_cleanly_on_sigint(tmp_path: Path, cli: CliRunner) -> None:
    db = tmp_path / "run.db"
    with ControlledService() as service:
        env = {**os.environ, "WEBOPS_DB": str(db)}
        for args in (
            ["agent", "create", "anna"],
            ["target", "add", "shop", "--address", f"{service.url}/health", "--interval", "0.2"],
        ):
            assert cli(*args, db=db).code == 0
        process = subprocess.Popen(
            [str(WEBOPS), "run"], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert process.stderr is not None
        seen = ""
        while "watching" not in seen:  # the loop is up: Ctrl-C is handled from here on
            line = process.stderr.readline()
            if not line:
                break
            seen += line
        time.sleep(0.5)  # and at work for a few checks
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
        err = seen + rest
    assert process.returncode == 0, err
    assert "watching 1 target(s)" in err and "stopped:" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args", [["run"], ["run", "--duration", "-1"], ["demo", "--headless", "--approve", "maybe"]]
)
def test_run_and_demo_refuse_bad_input(tmp_path: Path, args: list[str]) -> None:
    result = subprocess.run(
        [str(WEBOPS), "--db", str(tmp_path / "x.db"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stderr.startswith("webops: error: ")
