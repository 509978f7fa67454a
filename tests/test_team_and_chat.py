"""Team work on the demo world, conversations through the CLI and the kernel."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.conversation import chat, strongest_emotion
from agent.core.kernel import Kernel, KernelConfig
from agent.mind.emotions import Appraisal
from tests.conftest import CliRunner
from webops_tui.demo.runner import inject_faults, prepare
from webops_tui.demo.world import TEST_SLOWNESS, DemoWorld

pytestmark = pytest.mark.both_backends


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
async def test_bidding_conflicts_and_observation_on_the_demo_world(db_path: Path) -> None:
    clock = VirtualClock()  # 20 s of the world's time; the services answer in real time
    world = DemoWorld(5, clock=clock, slowness=TEST_SLOWNESS)
    try:
        config = KernelConfig(seed=5)
        async with await Kernel.open(db_path, config=config, clock=clock.time) as kernel:
            team = await prepare(kernel, world)
            autopilot = Autopilot(
                kernel,
                team=team,
                approval_policy="all",
                rng=random.Random(5),
                describe=world.fault_of,
                clock=clock,
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(autopilot.run(stop, 20.0))
            injector = asyncio.create_task(inject_faults(world, autopilot, stop))
            await runner
            stop.set()
            await injector
            agents = {n: await kernel.load_agent(n) for n in team}
            # Suitability: does the owner already know the right remedy for this symptom?
            known_by_owner = 0
            known_by_someone = 0
            for situation, owner, _bidders in autopilot.assignments[len(team) :]:
                knowers = {
                    n
                    for n, a in agents.items()
                    if any(
                        arm.value > 0.5 and arm.weight >= 1
                        for (s, _), arm in a.memory.learner.arms.items()
                        if s == situation
                    )
                }
                if knowers:
                    known_by_someone += 1
                    known_by_owner += owner in knowers
            # Chance would give the owner a third of the time at best.
            assert known_by_someone >= 10
            assert known_by_owner / known_by_someone > 0.5
            # Conflicts happened, were settled with reasons, and cost the loser some regard.
            assert autopilot.conflicts, "no conflicting proposals in 20 s"
            resolution = autopilot.conflicts[0]
            assert resolution.winner.agent in resolution.explanation
            assert "risk" in resolution.explanation and "record" in resolution.explanation
            loser_view = kernel.relationships.get(resolution.loser.agent, resolution.winner.agent)
            assert loser_view.interactions >= 1
            # Observation: somebody knows a remedy for a symptom it never handled itself.
            owners = {(s, o) for s, o, _ in autopilot.assignments}
            learned_by_watching = [
                (n, s)
                for n, a in agents.items()
                for (s, _), arm in a.memory.learner.arms.items()
                if arm.observed > 0 and arm.value > 0.5 and (s, n) not in owners
            ]
            assert learned_by_watching
            team_talk = await kernel.messages.history("group:team", limit=500)
            assert any("incident" in m.text for m in team_talk)
    finally:
        world.stop()


async def test_feeling_reply_matches_the_gauges_and_the_language(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.feel("anna", Appraisal.THREAT, cause="shop is down")
        reply = await chat(kernel, "anna", "how are you feelin?", operator="alice")
        agent = await kernel.load_agent("anna")
        emotion, value = strongest_emotion(agent)
        assert reply.intent == "feeling" and emotion == "fear"
        assert agent.mind.mood().label in reply.reply and f"{value:.2f}" in reply.reply
        german = await chat(kernel, "anna", "how are you feeling?", operator="alice", lang="de")
        assert german.reply != reply.reply and german.lang == "de"
        history = await kernel.conversation("anna", "alice")
        assert [m.sender for m in history] == ["operator:alice", "anna"] * 2
    async with await Kernel.open(db_path) as kernel:  # the conversation survives a restart
        assert len(await kernel.conversation("anna", "alice")) == 4


def test_chat_cli_one_turn_json_and_errors(cli: CliRunner) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    result = cli("chat", "ben", "how are you feeling?", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert {"reply", "intent", "entities", "emotions", "mood"} <= set(doc)
    assert doc["intent"] == "feeling" and doc["reply"]
    unclear = cli("chat", "ben", "frobnicate the wibble", "--json").json()
    assert unclear["intent"] == "unclear" and "understand" in unclear["reply"]
    risky = cli("chat", "ben", "run nothing-like-this on shop", "--json").json()
    assert (
        risky["intent"] in ("run_runbook", "unclear") and risky["entities"].get("runbook") is None
    )
    bad_lang = cli("chat", "ben", "hi", "--lang", "tlh")
    assert bad_lang.code == 2 and "unknown language" in bad_lang.err
    missing = cli("chat", "zed", "hi")
    assert missing.code == 2 and "no agent named 'zed'" in missing.err


def test_line_by_line_conversation_ends_on_ctrl_d(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    webops = str(Path(sys.executable).with_name("webops"))
    env = {**os.environ, "WEBOPS_DB": str(tmp_path / "c.db"), "HOME": str(tmp_path)}
    subprocess.run([webops, "agent", "create", "anna"], check=True, env=env, capture_output=True)
    result = subprocess.run(
        [webops, "chat", "anna"],
        input="how are you feeling?\nhelp\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("anna (") == 2 and "Ctrl-D" in result.stdout
