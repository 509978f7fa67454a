"""Live logs a person can read: Chat's conversation apart from the team channel, logs that
follow new lines only while scrolled to the bottom, Activity wrapped at the visible width.
Driven through the workbench's pilot on a real database and the real message bus."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from agent.core.kernel import Kernel
from webops_tui.app import make_app
from webops_tui.config import Settings
from widgets.activity_log import ActivityLog, clip
from widgets.chat_panel import ChatLog, ChatPanel
from widgets.follow import PAUSED

pytestmark = pytest.mark.both_backends


async def _team(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.create_agent("ben", "bold")


def _on_the_team(kernel: Kernel | None) -> Kernel:
    """The team channel as the autopilot sets it up: both agents in the group."""
    assert kernel is not None
    for name in ("anna", "ben"):
        kernel.messages.join("team", name)
    return kernel


async def test_team_announcements_do_not_scroll_the_conversation_away(db_path: Path) -> None:
    await _team(db_path)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        kernel = _on_the_team(app.kernel)
        await pilot.press("c", *"how are you feeling?", "enter")
        await app.workers.wait_for_complete()
        for i in range(30):
            await kernel.messages.broadcast("ben", "team", f"shop check {i} [/] failed")
        await pilot.pause(0.2)
        panel = app.query_one(ChatPanel)
        assert [who for who, _ in panel.transcript] == ["you", "anna"]
        assert panel.transcripts["team"][-1] == ("ben → team", "shop check 29 [/] failed")
        agent_log = panel.channel_log("agent")
        assert agent_log.display and len(agent_log.children) >= 2
        assert not panel.channel_log("team").display
        # The Team sub-tab shows the channel, literally.
        panel.query_one("#chat-tabs").focus()
        await pilot.press("right")
        await pilot.pause()
        team_log = panel.channel_log("team")
        assert team_log.display and not agent_log.display
        assert "shop check 29 [/] failed" in str(team_log.children[-1].render())


async def test_a_log_scrolled_up_stays_put_until_end(db_path: Path) -> None:
    await _team(db_path)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        kernel = _on_the_team(app.kernel)
        await pilot.press("l")
        for i in range(60):
            await kernel.messages.broadcast("ben", "team", f"line {i}")
        await pilot.pause(0.5)
        log = app.query_one(ActivityLog)
        assert log.following and log.max_scroll_y > 0
        assert log.scroll_y == log.max_scroll_y and log.border_subtitle == ""
        log.focus()
        await pilot.press("pageup")
        await pilot.pause()
        assert not log.following and log.border_subtitle == PAUSED
        held = log.scroll_y
        for i in range(20):
            await kernel.messages.broadcast("ben", "team", f"more {i}")
        await pilot.pause(0.5)
        assert log.scroll_y == held and log.scroll_y < log.max_scroll_y
        await pilot.press("end")
        await pilot.pause()
        assert log.following and log.border_subtitle == ""
        await kernel.messages.broadcast("ben", "team", "after end")
        await pilot.pause(0.5)
        assert log.scroll_y == log.max_scroll_y


async def test_the_chat_team_log_pauses_too(db_path: Path) -> None:
    await _team(db_path)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        kernel = _on_the_team(app.kernel)
        await pilot.press("c")
        panel = app.query_one(ChatPanel)
        panel.query_one("#chat-tabs").focus()
        await pilot.press("right")
        for i in range(40):
            await kernel.messages.broadcast("ben", "team", f"line {i}")
        await pilot.pause(0.3)
        log = panel.query_one("#chat-team-log", ChatLog)
        assert log.following and log.max_scroll_y > 0
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert panel.border_subtitle == PAUSED
        await kernel.messages.broadcast("ben", "team", "while paused")
        await pilot.pause(0.3)
        assert log.scroll_y == 0
        await pilot.press("end")
        await pilot.pause()
        assert log.following and panel.border_subtitle == ""


async def test_activity_wraps_at_the_visible_width(db_path: Path) -> None:
    await _team(db_path)
    app = make_app(Settings(db_path=db_path))
    long = " ".join(f"word{i}" for i in range(60)) + " the-last-word"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        kernel = _on_the_team(app.kernel)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("t")  # the line arrives while another tab is shown
        await kernel.messages.broadcast("ben", "team", long)
        await pilot.pause(0.5)
        await pilot.press("l")
        await pilot.pause()
        log = app.query_one(ActivityLog)
        width = log.scrollable_content_region.width
        assert 60 <= width < 80
        shown = [strip.text.rstrip() for strip in log.lines]
        assert all(len(line) <= width for line in shown)
        assert 2 < len(shown) < 12 and shown[-1].endswith("the-last-word")
        assert "word59" in " ".join(shown)  # nothing cut off
        await pilot.resize_terminal(140, 30)  # wider: the same line, rewrapped
        await pilot.pause(0.3)
        wider = [strip.text.rstrip() for strip in log.lines]
        assert len(wider) < len(shown) and max(map(len, wider)) > 80
        assert wider[-1].endswith("the-last-word")


def test_clip_cuts_at_a_word() -> None:
    assert clip("short", 80) == "short"
    cut = clip("restarted the shop service after checking its health endpoint", 30)
    assert cut == "restarted the shop service…" and len(cut) <= 30


async def test_the_demo_logs_each_resolution_once(db_path: Path) -> None:
    import re

    from webops_tui.demo.options import DemoOptions
    from widgets.targets_panel import TargetsPanel

    app = make_app(Settings(db_path=db_path), demo=DemoOptions(seed=3, approve="all"))
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(TargetsPanel)
        log = app.query_one(ActivityLog)

        def closed_ids() -> list[str]:
            lines = [text.plain[9:] for text in log.history]  # without the time stamp
            found = (re.match(r"incident (\d+) resolved", line) for line in lines)
            return [m.group(1) for m in found if m]

        # A busy test machine makes real time slow: wait on what the log shows, not a clock.
        for _ in range(400):
            await pilot.pause(0.1)
            if panel.resolved >= 2 and len(set(closed_ids())) >= 2:
                break
        await pilot.pause(0.5)
        lines = [text.plain[9:] for text in log.history]
        closed = closed_ids()
        assert len(closed) >= 2 and len(closed) == len(set(closed)), lines
        steps = [line for line in lines if re.match(r"incident \d+ open:", line)]
        assert steps == []  # a step counted is not a line; the narration says it opened
        await pilot.press("ctrl+q")


async def test_slash_in_activity_shows_only_the_matching_lines(db_path: Path) -> None:
    from agent.events import AgentSaid
    from widgets.filter_bar import FilterBar

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        for n, text in enumerate(("shop is down", "search is slow", "shop is back [/] up")):
            app.kernel.bus.publish(AgentSaid(agent="anna", channel="team", text=f"{n} {text}"))
        await pilot.press("l")
        await pilot.pause(0.5)
        log = app.query_one(ActivityLog)

        def shown() -> str:
            return " ".join(strip.text for strip in log.lines)

        assert "search is slow" in shown()
        await pilot.press("slash", *"shop")
        await pilot.pause(0.3)
        assert app.query_one("#log-filter", FilterBar).has_focus
        assert "0 shop is down" in shown() and "2 shop is back [/] up" in shown()
        assert "search" not in shown() and "filter: shop" in str(log.border_subtitle)
        app.kernel.bus.publish(AgentSaid(agent="anna", channel="team", text="3 api is fine"))
        app.kernel.bus.publish(AgentSaid(agent="anna", channel="team", text="4 shop again"))
        await pilot.pause(0.6)
        assert "4 shop again" in shown() and "api is fine" not in shown()
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert "search is slow" in shown() and "3 api is fine" in shown()
        assert log.has_focus and not log.border_subtitle
        await pilot.press("t")  # the tab keys work again
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "team"


async def test_slash_in_chat_shows_only_the_matching_lines(db_path: Path) -> None:
    from textual.widgets import Static

    from agent.events import AgentSaid
    from widgets.filter_bar import FilterBar

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        for said in ("note shop [/] first", "note api second"):
            await pilot.press(*said, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.kernel is not None
        app.kernel.bus.publish(AgentSaid(agent="ben", channel="team", text="shop is down"))
        app.kernel.bus.publish(AgentSaid(agent="ben", channel="team", text="api is fine"))
        await pilot.pause(0.3)
        chat = app.query_one(ChatPanel)

        def shown(channel: str) -> list[str]:
            lines = chat.channel_log(channel).children
            return [str(line.render()) for line in lines if line.display and type(line) is Static]

        assert any("note api second" in line for line in shown("agent"))
        await pilot.press("escape", "slash", *"shop")
        await pilot.pause(0.3)
        assert app.query_one("#chat-filter", FilterBar).has_focus
        assert shown("agent") == ["you: note shop [/] first"]
        assert shown("team") == ["ben → team: shop is down"]
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert any("note api second" in line for line in shown("agent"))
        assert app.query_one("#chat-input").has_focus
