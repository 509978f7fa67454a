"""Personality drift: experience moves the Big Five slowly and within bounds, the moved traits
change decisions, status shows base, drift and why, reset-traits undoes it, the config turns
it off, and a database from before the drift keeps its agents with none."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agent.core.kernel import Kernel
from agent.mind.drift import BOUND, MAX_REASONS, MAX_STEP, Drift, Experience, apply, current
from agent.mind.personality import TRAITS, Personality
from agent.ops.targets import runbook_spec
from storage import migrations
from tests.conftest import CliRunner, FakeClock
from tests.service import ControlledService, define_shop

unit = st.floats(min_value=0.0, max_value=1.0)
personalities = st.builds(
    Personality,
    openness=unit,
    conscientiousness=unit,
    extraversion=unit,
    agreeableness=unit,
    neuroticism=unit,
)
events = st.lists(
    st.tuples(st.sampled_from(list(Experience)), st.floats(min_value=-1.0, max_value=2.0)),
    max_size=300,
)


@given(personalities, events)
def test_any_run_of_experiences_stays_within_the_bounds(
    base: Personality, run: list[tuple[Experience, float]]
) -> None:
    drift = Drift()
    for i, (experience, scale) in enumerate(run):
        before = drift.as_dict()
        drift = apply(base, drift, experience, float(i), scale=scale)
        now = current(base, drift)
        for trait in TRAITS:
            moved = drift.as_dict()[trait]
            assert -BOUND - 1e-9 <= moved <= BOUND + 1e-9
            assert 0.0 <= getattr(now, trait) <= 1.0
            assert abs(moved - before[trait]) <= MAX_STEP + 1e-9  # a small step per event
        assert len(drift.reasons) <= MAX_REASONS
    assert [r.ts for r in drift.reasons] == sorted((r.ts for r in drift.reasons), reverse=True)


def test_steps_shrink_toward_the_bound_and_a_step_back_is_whole() -> None:
    base = Personality(
        openness=0.5, conscientiousness=0.5, extraversion=0.5, agreeableness=0.5, neuroticism=0.5
    )
    drift, steps = Drift(), []
    for i in range(200):
        moved = apply(base, drift, Experience.RISKY_SUCCESS_APPROVED, float(i))
        steps.append(drift.neuroticism - moved.neuroticism)
        drift = moved
    assert steps[0] == MAX_STEP / 2 and steps[1] < steps[0]  # ever smaller steps
    assert -BOUND <= drift.neuroticism < -0.14
    back = apply(base, drift, Experience.TIMED_OUT, 200.0)
    assert round(back.neuroticism - drift.neuroticism, 6) == 0.005
    assert back.reasons[0].experience is Experience.TIMED_OUT


async def _approve_fixes(kernel: Kernel, service: ControlledService, clock: FakeClock) -> None:
    """Fifteen incidents on the shop, each fixed by the high-risk fix-shop: approved by a
    person until autonomy is earned, then on its own. Hours pass between them (feelings
    settle)."""
    for _ in range(15):
        clock.advance(6 * 3600)
        service.healthy = False
        done = await kernel.task("dora", "run fix-shop on shop")
        if done.status == "awaiting_approval":
            assert done.approval_id is not None
            await kernel.approve(done.approval_id, by="alice")
        assert service.healthy


async def _decide_failover(kernel: Kernel, service: ControlledService, clock: FakeClock) -> str:
    """What the agent decides about a high-risk remedy it never ran (the request is withdrawn,
    nothing runs, so the situation stays the same for the next time)."""
    clock.advance(6 * 3600)
    service.healthy = False
    asked = await kernel.task("dora", "run failover-shop on shop")
    assert asked.status == "awaiting_approval" and asked.approval_id is not None
    assert await kernel.withdraw(asked.approval_id, "test: only the decision counts")
    return str(asked.explanation["options"][0]["option"])


async def test_approved_risky_successes_calm_the_agent_and_change_what_it_decides(
    db_path: Path, service: ControlledService
) -> None:
    clock = FakeClock()
    async with await Kernel.open(db_path, clock=clock) as kernel:
        await define_shop(kernel, service, risk="high")
        await kernel.ops.add_runbook(
            runbook_spec(
                name="failover-shop",
                kind="http",
                method="POST",
                url=f"{service.url}/fix",
                risk="high",
                timeout_s=5,
                verify_target="shop",
            )
        )
        await kernel.create_agent("dora", "cautious", {"neuroticism": 0.3})
        assert await _decide_failover(kernel, service, clock) == "ask_human"
        await _approve_fixes(kernel, service, clock)

        status = await kernel.status("dora")
        drift = status.personality_drift
        assert -BOUND <= drift.neuroticism < -0.05
        assert status.personality.neuroticism == round(0.3 + drift.neuroticism, 6)
        assert status.personality_base.neuroticism == 0.3
        assert drift.reasons[0].experience == Experience.RISKY_SUCCESS_APPROVED
        assert "approved successes in a row" in drift.reasons[0].detail
        # Calmer, it would now run the remedy it used to ask a person about.
        assert await _decide_failover(kernel, service, clock) == "act"

        reset = await kernel.reset_traits("dora", by="alice")
        assert reset.undone["neuroticism"] == drift.neuroticism
        assert reset.personality_drift.zero and reset.personality.neuroticism == 0.3
        assert await _decide_failover(kernel, service, clock) == "ask_human"
        audit = await kernel.audit_entries(agent="dora")
        assert any(e.event == "traits_reset" and e.actor == "alice" for e in audit)
    async with await Kernel.open(db_path, clock=clock) as kernel:  # the reset was stored
        assert (await kernel.status("dora")).personality_drift.zero


async def _ask_for_fix(db_path: Path, service: ControlledService) -> int:
    """The shop broken, and `dora` asking to run the high-risk fix-shop: the approval's id."""
    async with await Kernel.open(db_path) as kernel:
        await define_shop(kernel, service, risk="high")
        await kernel.create_agent("dora", "balanced")
        service.healthy = False
        asked = await kernel.task("dora", "run fix-shop on shop")
        assert asked.approval_id is not None
        return asked.approval_id


def _pending_fix(db_path: Path, service: ControlledService) -> int:
    return asyncio.run(_ask_for_fix(db_path, service))


def test_a_denial_makes_the_agent_more_careful_and_status_says_why(
    cli: CliRunner, db_path: Path, service: ControlledService
) -> None:
    approval = _pending_fix(db_path, service)
    assert cli("approvals", "--deny", str(approval)).code == 0
    doc = cli("status", "dora", "--json").json()
    assert doc["adapt_personality"] is True
    assert doc["personality_base"]["conscientiousness"] == 0.5
    drift = doc["personality_drift"]
    assert drift["conscientiousness"] == 0.01 and drift["neuroticism"] == 0.005
    assert drift["reasons"][0]["experience"] == "denied"
    assert "denied fix-shop" in drift["reasons"][0]["detail"]
    assert doc["personality"]["conscientiousness"] == 0.51
    assert cli("agent", "show", "dora", "--json").json()["drift"]["conscientiousness"] == 0.01
    text = cli("status", "dora").out
    assert "+0.010" in text and "more careful next time" in text

    reset = cli("agent", "reset-traits", "dora", "--json")
    assert reset.code == 0, reset.err
    assert reset.json()["undone"]["conscientiousness"] == 0.01
    after = cli("status", "dora", "--json").json()
    assert all(after["personality_drift"][t] == 0.0 for t in TRAITS)
    assert after["personality"] == after["personality_base"]
    assert "had not drifted" in cli("agent", "reset-traits", "dora").out
    missing = cli("agent", "reset-traits", "nobody")
    assert missing.code == 2 and "no agent named 'nobody'" in missing.err


def test_the_config_file_turns_adaptation_off(
    cli: CliRunner, db_path: Path, service: ControlledService, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[agents]\nadapt_personality = false\n", encoding="utf-8")
    approval = _pending_fix(db_path, service)
    assert cli("--config", str(config), "approvals", "--deny", str(approval)).code == 0
    doc = cli("--config", str(config), "status", "dora", "--json").json()
    assert doc["adapt_personality"] is False
    assert all(doc["personality_drift"][t] == 0.0 for t in TRAITS)
    assert "adaptation off" in cli("--config", str(config), "status", "dora").out
    config.write_text("[agents]\nadapt_personality = 3\n", encoding="utf-8")
    bad = cli("--config", str(config), "status", "dora")
    assert bad.code == 2 and "adapt_personality" in bad.err and "Traceback" not in bad.err


async def test_a_database_from_before_drift_keeps_its_agents_with_none(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    for migration in migrations.MIGRATIONS:
        if migration.version <= 11:
            for statement in migration.statements:
                conn.execute(statement)
    conn.execute(
        "INSERT INTO agent (name, preset, openness, conscientiousness, extraversion, "
        "agreeableness, neuroticism, created_at, updated_at) "
        "VALUES ('anna', 'cautious', 0.3, 0.85, 0.3, 0.6, 0.7, 1, 1)"
    )
    conn.execute("PRAGMA user_version = 11")
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.commit()
    conn.close()
    async with await Kernel.open(db_path) as kernel:
        status = await kernel.status("anna")
        assert status.personality_drift.zero and status.personality_drift.reasons == ()
        assert status.personality == status.personality_base
        assert status.personality.neuroticism == 0.7
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST_VERSION
        assert conn.execute("SELECT drift FROM agent").fetchall() == [("{}",)]


async def test_the_workbench_shows_the_drift_as_it_happens(
    db_path: Path, service: ControlledService
) -> None:
    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.agent_roster import AgentRoster
    from widgets.emotion_gauges import EmotionGauges

    approval = await _ask_for_fix(db_path, service)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        roster, gauges = app.query_one(AgentRoster), app.query_one(EmotionGauges)
        assert gauges.agent == "dora"
        assert "drift" not in str(gauges.render())
        assert "↑" not in str(roster.table.get_row("dora")[-1])
        assert app.kernel is not None
        await app.kernel.deny(approval, by="alice")
        await pilot.pause(0.8)  # the roster reloads at most twice a second
        await pilot.pause()
        lines = str(gauges.render()).splitlines()
        assert lines[-1].startswith("drift C +0.010  N +0.005")
        assert "more careful next time" in lines[-1]
        assert str(roster.table.get_row("dora")[-1]) == "O▄ C▄↑ E▄ A▄ N▄↑"
