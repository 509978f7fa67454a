"""Relationships made visible (`webops team`, the API, the workbench) and used (a hand-over to a
teammate who is clearly better at it), through the paths a user takes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.events import KernelEvent, RelationshipChanged
from agent.ops.targets import runbook_spec, target_spec
from agent.social.team import PairView
from tests.conftest import CliRunner
from tests.service import ControlledService

pytestmark = pytest.mark.both_backends


async def _service_target(kernel: Kernel, name: str, service: ControlledService) -> None:
    """A target on `service` and its low-risk remedy (no approval needed)."""
    await kernel.ops.add_target(
        target_spec(
            name=name,
            kind="http",
            address=f"{service.url}/health",
            conditions=["status == 200"],
            timeout_s=2,
            failure_threshold=1,
        )
    )
    await kernel.ops.add_runbook(
        runbook_spec(
            name=f"fix-{name}",
            kind="http",
            method="POST",
            url=f"{service.url}/fix",
            risk="low",
            timeout_s=5,
            verify_target=name,
        )
    )


async def test_a_novice_owner_hands_the_incident_to_an_expert(db_path: Path) -> None:
    clock = VirtualClock()
    with ControlledService() as shop, ControlledService() as cart:
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            await _service_target(kernel, "shop", shop)
            await _service_target(kernel, "cart", cart)
            await kernel.create_agent("cleo", "cautious")
            await kernel.create_agent("dan", "friendly")
            # cleo gets good at runbooks the way an operator would make her: by running them.
            for _ in range(6):
                done = await kernel.task("cleo", "run fix-shop on shop")
                assert done.status == "succeeded", done
            cleo = await kernel.load_agent("cleo")
            dan = await kernel.load_agent("dan")
            gap = cleo.skills.proficiency("run_runbook") - dan.skills.proficiency("run_runbook")
            assert gap >= 0.3
            changes: list[RelationshipChanged] = []

            def follow(event: KernelEvent) -> None:
                if isinstance(event, RelationshipChanged):
                    changes.append(event)

            kernel.bus.subscribe(follow)
            shop.healthy = cart.healthy = False  # both break at once: cleo cannot take both
            autopilot = Autopilot(kernel, team=["cleo", "dan"], approval_policy="none", clock=clock)
            await autopilot.run(asyncio.Event(), duration_s=30.0)
            # dan owned one of them, handed it to cleo, and cleo fixed it.
            assert autopilot.handovers, (autopilot.assignments, autopilot.closed)
            incident_id, giver, taker = autopilot.handovers[0]
            assert (giver, taker) == ("dan", "cleo")
            (handed,) = [i for i in autopilot.closed if i.id == incident_id]
            assert handed.owner == "cleo" and handed.status == "resolved", handed
            assert shop.healthy and cart.healthy
            stored = await kernel.incident(incident_id)
            assert stored.owner == "cleo"
            # The relationship records it, and the workbench heard it happen.
            regard = kernel.relationships.get("dan", "cleo")
            assert regard.interactions >= 1 and regard.affinity > 0.5
            assert any((c.agent, c.other, c.cause) == ("dan", "cleo", "handover") for c in changes)
            team_talk = await kernel.messages.history("group:team", limit=100)
            assert any("hands it over to cleo" in m.text for m in team_talk)
        team = {(p.subject, p.other): p for p in await _team(db_path)}
        assert team["dan", "cleo"].interactions >= 1


async def _team(db_path: Path) -> list[PairView]:
    async with await Kernel.open(db_path) as kernel:
        return await kernel.team()


def test_team_lists_every_pair_with_trust_and_affinity(cli: CliRunner) -> None:
    cli("token", "create", "ci", "--role", "viewer")  # a database with no agents in it
    empty = cli("team", "--json")
    assert empty.code == 0 and empty.json() == []
    for name, preset in (("anna", "cautious"), ("ben", "bold"), ("cleo", "friendly")):
        cli("agent", "create", name, "-p", preset)
    assert cli("chat", "anna", "good job", "--json").code == 0  # feedback from the operator
    pairs = cli("team", "--json").json()
    agents = [(p["subject"], p["other"]) for p in pairs if p["kind"] == "agent"]
    assert agents == [
        ("anna", "ben"),
        ("anna", "cleo"),
        ("ben", "anna"),
        ("ben", "cleo"),
        ("cleo", "anna"),
        ("cleo", "ben"),
    ]
    neutral = pairs[0]
    assert (neutral["trust"], neutral["affinity"], neutral["interactions"]) == (0.5, 0.5, 0)
    assert neutral["last_contact"] is None
    (operator,) = [p for p in pairs if p["kind"] == "operator"]
    assert operator["subject"] == "anna" and operator["other"].startswith("operator:")
    assert operator["trust"] > 0.5 and operator["interactions"] == 1
    table = cli("team")
    assert table.code == 0 and "trust" in table.out and "never" in table.out
    bad = cli("team", "--frobnicate")
    assert bad.code == 2 and "Traceback" not in bad.err


def test_practise_runs_real_checks_and_reports_the_change(
    cli: CliRunner, service: ControlledService
) -> None:
    cli("agent", "create", "anna", "-p", "balanced")
    # Nothing defined yet: nothing safe to practise on, and no claim of practice.
    idle = cli("chat", "anna", "practise http_check", "--json").json()
    assert idle["intent"] == "learn_skill" and "nothing safe" in idle["reply"], idle
    assert "practised" not in idle["reply"] and service.hits == 0
    added = cli(
        "target", "add", "shop", "--address", f"{service.url}/health", "-c", "status == 200"
    )
    assert added.code == 0, added.err
    doc = cli("chat", "anna", "practise http_check", "--json").json()
    practice = doc["explanation"]["practice"]
    assert (practice["target"], practice["runs"], practice["ok"]) == ("shop", "10", "10")
    assert practice["before"] == "0.10" and float(practice["after"]) > 0.5
    assert f"{practice['before']} -> {practice['after']}" in doc["reply"]
    assert "10 checks" in doc["reply"] and service.hits == 10  # real requests, one per check
    (skill,) = [s for s in cli("skills", "anna", "--json").json() if s["name"] == "http_check"]
    assert skill["practice_count"] == 10 and f"{skill['proficiency']:.2f}" == practice["after"]
    # A remedy is never practised on: the skill has no harmless use, and nothing is fixed.
    fix = cli("runbook", "add", "fix-shop", "--http", "POST", f"{service.url}/fix", "--risk", "low")
    assert fix.code == 0, fix.err
    remedy = cli("chat", "anna", "practise run_runbook", "--json").json()
    assert "nothing safe" in remedy["reply"] and service.fixes == 0


async def test_the_team_tab_shows_trust_and_affinity_and_follows_changes(db_path: Path) -> None:
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.team_relations import TeamRelations

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.create_agent("ben", "bold")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        relations = app.query_one(TeamRelations)
        table = relations.query_one(DataTable)
        assert relations.pairs == {"anna→ben": (0.5, 0.5, 0), "ben→anna": (0.5, 0.5, 0)}
        assert [str(c) for c in table.get_row("anna→ben")[:2]] == ["anna", "ben"]
        # The operator asks anna (selected) to hand over to ben, then praises her.
        for text in ("hand over to ben", "good job"):
            await pilot.click("#quick-chat-input")
            await pilot.press(*text, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
        trust, affinity, contacts = relations.pairs["anna→ben"]
        assert contacts == 1 and affinity > 0.5 and trust == 0.5
        (operator,) = [k for k in relations.pairs if k.startswith("anna→operator:")]
        assert relations.pairs[operator][0] > 0.5  # praise builds trust
        assert "0.52" in str(table.get_row("anna→ben")[3])
