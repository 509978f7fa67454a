"""The workbench driven through Textual's pilot, on a real temporary database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from webops_tui.app import make_app
from webops_tui.config import Settings
from widgets.agent_roster import AgentRoster


async def _create(db_path: Path, *specs: tuple[str, str]) -> None:
    async with await Kernel.open(db_path) as kernel:
        for name, preset in specs:
            await kernel.create_agent(name, preset)


async def test_roster_shows_every_agent(db_path: Path) -> None:
    await _create(db_path, ("anna", "cautious"), ("ben", "bold"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        roster = app.query_one(AgentRoster)
        table = roster.query_one(DataTable)
        assert [p.name for p in roster.profiles] == ["anna", "ben"]
        assert table.row_count == 2
        assert table.get_row("anna")[:2] == ["anna", "cautious"]
        assert table.get_row("ben")[1] == "bold"
        await pilot.press("down")
        assert roster.selected is not None and roster.selected.name == "ben"


async def test_empty_roster_says_how_to_create_an_agent(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        roster = app.query_one(AgentRoster)
        hint = roster.query_one("#roster-empty", Static)
        assert hint.display and not roster.query_one(DataTable).display
        assert "webops agent create" in str(hint.render())


async def test_refresh_picks_up_an_agent_created_elsewhere(db_path: Path) -> None:
    await _create(db_path, ("anna", "cautious"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _create(db_path, ("cleo", "friendly"))  # as a CLI in another shell would
        await pilot.press("r")
        await pilot.pause()
        assert [p.name for p in app.query_one(AgentRoster).profiles] == ["anna", "cleo"]


async def test_ctrl_q_quits(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_kernel_events_reach_the_panels_that_follow_them(db_path: Path) -> None:
    from agent.events import AgentSaid, TargetChecked
    from widgets.activity_log import ActivityLog
    from widgets.chat_panel import ChatPanel
    from widgets.targets_panel import TargetsPanel

    await _create(db_path, ("anna", "cautious"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        logged = app.query_one(ActivityLog).total
        app.kernel.bus.publish(
            TargetChecked(target="shop", healthy=False, latency_ms=12.0, detail="got 503")
        )
        app.kernel.bus.publish(AgentSaid(agent="anna", channel="team", text="shop is down"))
        await pilot.pause()
        panel = app.query_one(TargetsPanel)
        assert panel.targets["shop"].healthy is False
        assert app.query_one(ChatPanel).transcripts["team"][-1] == ("anna → team", "shop is down")
        assert app.query_one(ActivityLog).total == logged + 1  # the team line, not the check


async def test_wide_terminals_put_roster_and_feelings_side_by_side(db_path: Path) -> None:
    await _create(db_path, ("anna", "cautious"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        team = app.query_one("#team")
        assert app.screen.has_class("-wide") and team.styles.layout is not None
        assert team.styles.layout.name == "horizontal"
        assert not app.query_one("#quick-chat").display
        await pilot.resize_terminal(149, 40)
        await pilot.pause()
        assert not app.screen.has_class("-wide")
        assert app.query_one("#quick-chat").display


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("theme", ["webops-dark", "webops-high-contrast", "webops-16"])
def test_snapshot_main_screen(
    snap_compare, cli: CliRunner, db_path: Path, size: tuple[int, int], theme: str
) -> None:
    cli("agent", "create", "anna", "-p", "cautious")
    cli("agent", "create", "ben", "-p", "bold")
    cli("agent", "create", "cleo", "-p", "friendly")
    app = make_app(Settings(db_path=db_path, theme=theme))

    async def steady(pilot: Pilot[None]) -> None:
        for field in pilot.app.query(Input):  # a blinking cursor is no change of the screen
            field.cursor_blink = False
        # The panels read the kernel in workers (trust and affinity from 30 rows on): a busy
        # machine must not take the picture before they answered.
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=steady)


async def test_a_fright_visibly_raises_the_selected_agents_fear_gauge(db_path: Path) -> None:
    from agent.mind.emotions import Appraisal
    from widgets.emotion_gauges import EmotionGauges

    await _create(db_path, ("anna", "cautious"), ("ben", "bold"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        gauges = app.query_one(EmotionGauges)
        assert gauges.agent == "anna"
        fear_line = next(line for line in str(gauges.render()).splitlines() if "fear" in line)
        calm = gauges.values["fear"]
        assert app.kernel is not None
        await app.kernel.feel("anna", Appraisal.THREAT, cause="shop is down")
        await pilot.pause()
        assert gauges.values["fear"] > calm + 0.2
        scared_line = next(line for line in str(gauges.render()).splitlines() if "fear" in line)
        assert scared_line.count("█") > fear_line.count("█") + 3
        # A fright for another agent leaves the gauges of the selected one alone.
        await app.kernel.feel("ben", Appraisal.THREAT)
        await pilot.pause()
        assert gauges.agent == "anna"
        # Selecting ben switches the gauges to him.
        await pilot.press("down")
        await pilot.pause()
        assert gauges.agent == "ben" and gauges.values["fear"] > 0.3


async def test_memory_search_shows_the_relevant_episode_first(db_path: Path) -> None:
    from textual.widgets import DataTable as Table
    from textual.widgets import Input

    from widgets.memory_browser import MemoryBrowser

    await _create(db_path, ("anna", "cautious"))
    async with await Kernel.open(db_path) as kernel:
        memory = (await kernel.load_agent("anna")).memory
        for text in (
            "mail queue is backing up",
            "shop checkout latency spiked to 900 ms",
            "certificate for api expires in 3 days",
            "dns for mail failed",
        ):
            await memory.remember("stimulus", text, importance=0.5)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        search = app.query_one("#memory-search", Input)
        assert search.has_focus
        await pilot.press(*"slow shop checkout", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        browser = app.query_one(MemoryBrowser)
        assert browser.items and "shop checkout latency" in browser.items[0].summary
        table = browser.query_one("#memory-results", Table)
        assert "shop checkout latency" in str(table.get_row_at(0)[1])
        assert browser.items[0].score is not None and float(table.get_row_at(0)[0]) > 0


async def test_approving_from_the_approvals_panel_runs_the_action(db_path: Path) -> None:
    from agent.ops.targets import runbook_spec, target_spec
    from tests.service import ControlledService
    from widgets.approvals_queue import ApprovalsQueue
    from widgets.confirm_dialog import ConfirmDialog

    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path) as kernel:
            await kernel.create_agent("ben", "bold")
            await kernel.ops.add_target(
                target_spec(
                    name="shop",
                    kind="http",
                    address=f"{service.url}/health",
                    criticality="high",
                )
            )
            await kernel.ops.add_runbook(
                runbook_spec(
                    name="fix-shop",
                    kind="http",
                    method="POST",
                    url=f"{service.url}/fix",
                    risk="high",
                    verify_target="shop",
                )
            )
            asked = await kernel.task("ben", "run fix-shop on shop")
            assert asked.status == "awaiting_approval" and service.fixes == 0
        app = make_app(Settings(db_path=db_path))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("p")
            await app.workers.wait_for_complete()
            await pilot.pause()
            queue = app.query_one(ApprovalsQueue)
            assert [p.action for p in queue.pending] == ["fix-shop"]
            await pilot.press("a")  # high risk: a confirmation first
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog) and service.fixes == 0
            await pilot.press("y")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert service.fixes == 1 and service.healthy
            assert queue.pending == []
            assert app.kernel is not None
            (done,) = await app.kernel.approvals(status="executed")
            assert done.decided_by is not None and done.decided_by.startswith("operator:")


async def test_the_demo_runs_inside_the_workbench(db_path: Path) -> None:
    from webops_tui.demo.options import DemoOptions
    from widgets.activity_log import ActivityLog
    from widgets.targets_panel import TargetsPanel

    app = make_app(Settings(db_path=db_path), demo=DemoOptions(seed=3, approve="all"))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(TargetsPanel)
        for _ in range(100):
            await pilot.pause(0.1)
            if len(panel.targets) == 5 and panel.resolved:
                break
        assert sorted(panel.targets) == ["api", "auth", "cdn", "search", "shop"]
        assert panel.resolved >= 1
        assert app.query_one(ActivityLog).total > 0
        assert [p.name for p in app.query_one(AgentRoster).profiles] == ["anna", "ben", "cleo"]
        await pilot.press("ctrl+q")


async def test_asking_how_the_agent_feels_in_the_chat_panel(db_path: Path) -> None:
    from agent.mind.emotions import Appraisal
    from widgets.chat_panel import ChatPanel
    from widgets.emotion_gauges import EmotionGauges

    await _create(db_path, ("anna", "cautious"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        await app.kernel.feel("anna", Appraisal.THREAT, cause="shop is down")
        await pilot.pause()
        gauges = app.query_one(EmotionGauges)
        strongest = max(gauges.values, key=lambda e: gauges.values[e] - gauges.rest[e])
        await pilot.press("c")
        await pilot.press(*"how are you feeling?", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        panel = app.query_one(ChatPanel)
        who, reply = panel.transcript[-1]
        assert who == "anna"
        assert strongest == "fear" and "fear" in reply
        # The gauge shows what the reply said (the feeling may fade a hair in between).
        said = re.search(r"fear\D*?(\d\.\d\d)", reply)
        assert said is not None, reply
        assert abs(float(said.group(1)) - gauges.values["fear"]) <= 0.02 and gauges.mood is not None
        assert gauges.mood.label in reply
        await pilot.press("up")  # the input remembers what was sent
        assert app.query_one("#chat-input").value == "how are you feeling?"  # type: ignore[attr-defined]


async def test_theme_choice_persists_and_keys_remap_from_config(tmp_path: Path) -> None:
    from textual.widgets import TabbedContent

    from webops_tui.config import ConfigFile, load_config, save_config

    db_path = tmp_path / "webops.db"
    config = tmp_path / "config.toml"
    save_config(config, ConfigFile(keys={"app.memory": "f5", "app.team": "f6"}))
    await _create(db_path, ("anna", "cautious"))
    settings = Settings.resolve(db_path, config_path=config)
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        tabs = app.query_one(TabbedContent)
        await pilot.press("m")  # remapped away: m does nothing now
        assert tabs.active == "team"
        await pilot.press("f5")
        assert tabs.active == "memory"
        await pilot.press("f6")
        assert tabs.active == "team"
        app.action_set_theme("webops-16")
        await pilot.pause()
    assert load_config(config).theme == "webops-16"
    assert load_config(config).keys["app.memory"] == "f5"  # the user's keys are kept
    again = make_app(Settings.resolve(db_path, config_path=config))
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.theme == "webops-16"


async def test_first_run_offers_to_create_an_agent(db_path: Path) -> None:
    from textual.widgets import Input

    from widgets.new_agent_dialog import NewAgentDialog, WelcomeDialog

    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeDialog)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewAgentDialog)
        app.screen.query_one("#new-agent-name", Input).value = "dora"
        await pilot.press("enter")
        roster = app.query_one(AgentRoster)
        for _ in range(40):  # created, then the roster reloads
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if roster.profiles:
                break
        assert [p.name for p in roster.profiles] == ["dora"]


async def test_the_palette_has_the_apps_own_commands(db_path: Path) -> None:
    from webops_tui.commands import WorkbenchCommands

    await _create(db_path, ("anna", "cautious"), ("ben", "bold"))
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        names = [name for name, _, _ in WorkbenchCommands(app.screen)._commands()]
        for wanted in (
            "New agent",
            "Search memory",
            "Approve selected action",
            "Deny selected action",
            "Switch to agent ben",
            "Theme: webops-16",
            "Start or stop the demo world",
        ):
            assert wanted in names
        main = app.main_screen
        main.action_select_agent("ben")
        await pilot.pause()
        assert main.selected_agent == "ben"
        main.last_reply = "ben: shop looks healthy"
        main.action_copy()  # OSC 52 through Textual: no error, and it is what was asked
        assert app.clipboard == "ben: shop looks healthy"
