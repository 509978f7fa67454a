"""Recall in decisions, reached as the demo reaches it: the autopilot on the demo world in
virtual time. An agent that has worked look-alike faults meets a new one: with recall it
passes over the look-alikes' fixes (their checks told them apart, and its own experience says
their fixes did not carry over) and cites the episodes it recalled; the same agent with recall
off picks among all the remedies alike. An operator opens each cited memory by its id."""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
from pathlib import Path

import pytest

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel, KernelConfig
from agent.ops.incidents import IncidentView
from tests.conftest import CliRunner
from webops_tui.demo.world import REMEDY, TEST_SLOWNESS, DemoWorld

pytestmark = pytest.mark.both_backends

SEED = 7
#: Look-alikes the agent works first: two 503s and a 500, each needing its own remedy.
TAUGHT = ("overload", "dependency_down", "bad_deploy") * 2
#: The new fault: a 500 like the bad deploy, needing another remedy again.
NEW = "disk_full"


async def _work(db_path: Path, kinds: tuple[str, ...], *, recall: bool) -> list[IncidentView]:
    """The autopilot, with a team of one, on faults injected into `shop` one at a time."""
    clock = VirtualClock()
    world = DemoWorld(SEED, noise=0, clock=clock, slowness=TEST_SLOWNESS)
    config = KernelConfig(seed=SEED, recall_in_decisions=recall)
    try:
        async with await Kernel.open(db_path, config=config, clock=clock.time) as kernel:
            if not await kernel.list_agents():
                await kernel.create_agent("anna", "bold")
            for target in world.targets():
                await kernel.ops.add_target(target, replace=True)
            for runbook in world.runbooks():
                await kernel.ops.add_runbook(runbook, replace=True)
            autopilot = Autopilot(
                kernel,
                team=["anna"],
                approval_policy="all",
                approve_delay_s=0.1,
                rng=random.Random(SEED),
                describe=world.fault_of,
                clock=clock,
            )
            stop = asyncio.Event()
            running = asyncio.create_task(autopilot.run(stop, None))
            with clock.taking_part():
                for kind in kinds:
                    while world.fault_of("shop") is not None or autopilot.open:
                        await clock.wait(stop, 0.2)
                    await clock.wait(stop, 0.5)
                    world.inject("shop", kind)
                while world.fault_of("shop") is not None or autopilot.open:
                    await clock.wait(stop, 0.2)
            stop.set()
            await running
            return sorted(autopilot.closed, key=lambda i: i.id)
    finally:
        world.stop()


@pytest.mark.sqlite_only  # copies the file to compare an agent with its recall switched off
async def test_recall_passes_over_look_alikes_fixes_on_a_new_fault_and_cites_them(
    db_path: Path, tmp_path: Path, cli: CliRunner
) -> None:
    # (On a loaded machine a slow answer may open an incident with no fault: left out.)
    taught = [i for i in await _work(db_path, TAUGHT, recall=True) if i.kind is not None]
    assert [i.kind for i in taught] == list(TAUGHT)
    assert all(i.status == "resolved" for i in taught)
    ablated = tmp_path / "without-recall.db"
    shutil.copy(db_path, ablated)  # the same agent, the same memories

    with_recall = next(i for i in await _work(db_path, (NEW,), recall=True) if i.kind == NEW)
    without = next(i for i in await _work(ablated, (NEW,), recall=False) if i.kind == NEW)

    look_alike_fixes = {REMEDY[k] for k in TAUGHT}
    for incident in (with_recall, without):
        assert incident.kind == NEW and incident.status == "resolved"
        assert incident.actions[-1] == (REMEDY[NEW], True)
    tried_first = [a for a, _ in with_recall.actions[:-1]]
    assert not look_alike_fixes & set(tried_first), with_recall.actions
    assert [a for a, _ in without.actions] != [a for a, _ in with_recall.actions]
    assert with_recall.steps < without.steps, (with_recall.actions, without.actions)

    # The decisions cite what was recalled, by id; each id opens in `webops memory`.
    shown = await asyncio.to_thread(cli, "audit", "--agent", "anna", "--json", "--limit", "50")
    assert shown.code == 0, shown.err
    remedies = [
        (e, json.loads(e["detail"]))
        for e in shown.json()
        if e["event"] == "action" and json.loads(e["detail"]).get("memory")
    ]
    assert remedies, "no remedy decision cited a memory"
    look_alike = re.compile(
        r"episode \d+: \S+ fixed status=50[03] & json\.(load|checks\.db|version)"
    )
    citing = [(e, d) for e, d in remedies if any(look_alike.match(c) for c in d["memory"])]
    assert citing, [d["memory"] for _, d in remedies]
    entry, detail = citing[0]
    cited = detail["memory"]
    assert "recalled: " in entry["why"] and cited[0] in entry["why"]
    for line in cited:
        found = re.match(r"(episode|fact) (\d+):", line)
        assert found is not None, line
        kind, number = found.groups()
        args = ["memory", "anna", "--id", number, "--json"]
        if kind == "fact":
            args[3:3] = ["--kind", "semantic"]
        opened = await asyncio.to_thread(cli, *args)
        assert opened.code == 0, opened.err
        assert opened.json()["id"] == int(number)
        if kind == "episode":
            assert opened.json()["summary"].startswith("[remedy] ")
