"""Keys that work from any focus, driven through the workbench's pilot on a real database.

The tab keys switch tabs wherever focus is (a focused input keeps typed letters until Escape
gives focus up), focus lands on the tab's main widget, `?` toggles the help, j/k move the
cursor, and `/` filters the current view.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, TabbedContent

from agent.core.kernel import Kernel
from webops_tui.app import WebopsApp, make_app
from webops_tui.config import Settings

pytestmark = pytest.mark.both_backends


async def _create(db_path: Path, *names: str) -> None:
    async with await Kernel.open(db_path) as kernel:
        for name in names:
            await kernel.create_agent(name, "cautious")


def _focused_id(app: WebopsApp) -> str | None:
    return app.focused.id if app.focused is not None else None


@pytest.mark.parametrize(
    ("key", "tab"), [("s", "skills"), ("l", "activity"), ("t", "team"), ("m", "memory")]
)
@pytest.mark.parametrize("table", ["targets-table", "incidents-table"])
async def test_tab_keys_work_from_inside_the_ops_tables(
    db_path: Path, table: str, key: str, tab: str
) -> None:
    await _create(db_path, "anna")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        app.query_one(f"#{table}", DataTable).focus()
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert app.query_one(TabbedContent).active == tab


@pytest.mark.parametrize(
    ("key", "tab", "widget"),
    [
        ("t", "team", None),
        ("c", "chat", "chat-input"),
        ("m", "memory", "memory-results"),
        ("s", "skills", "skills-table"),
        ("p", "approvals", "approvals-table"),
        ("o", "ops", "targets-table"),
        ("l", "activity", "activity-log"),
    ],
)
async def test_focus_lands_on_the_tabs_main_widget(
    db_path: Path, key: str, tab: str, widget: str | None
) -> None:
    await _create(db_path, "anna", "ben")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("m" if key != "m" else "o")  # start elsewhere, from inside a table
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert app.query_one(TabbedContent).active == tab
        focused = app.focused
        assert focused is not None and focused.is_on_screen
        if widget is not None:
            assert focused.id == widget
        else:  # Team: the roster, where the arrows move the selected agent at once
            assert isinstance(focused, DataTable)
            await pilot.press("down")
            assert app.main_screen.selected_agent == "ben"


async def test_a_focused_input_keeps_letters_until_escape(db_path: Path) -> None:
    await _create(db_path, "anna")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("m", "c")  # c from Memory: the visible chat input
        await pilot.pause()
        chat = app.query_one("#chat-input", Input)
        assert chat.has_focus and chat.is_on_screen
        await pilot.press(*"slot")
        assert chat.value == "slot" and app.query_one(TabbedContent).active == "chat"
        await pilot.press("escape")
        assert not chat.has_focus and app.focused is not None
        await pilot.press("o")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "ops"
        assert chat.value == "slot"  # what was typed is kept


async def test_j_and_k_move_like_the_arrows(db_path: Path) -> None:
    await _create(db_path, "anna", "ben", "cleo")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j")
        assert app.main_screen.selected_agent == "cleo"
        await pilot.press("k")
        assert app.main_screen.selected_agent == "ben"


async def test_question_mark_toggles_every_key_over_the_app_and_escape_closes_it(
    tmp_path: Path,
) -> None:
    from webops_tui.config import ConfigFile, save_config
    from widgets.keys_help import KeysHelp

    db_path, config = tmp_path / "webops.db", tmp_path / "config.toml"
    save_config(config, ConfigFile(keys={"app.memory": "f5"}))
    await _create(db_path, "anna")
    app = make_app(Settings.resolve(db_path, config_path=config))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysHelp)
        assert app.main_screen.query_one(TabbedContent).size.width == 80  # not squeezed
        shown = str(app.screen.query_one("#keys-help-text").render())
        for heading in ("Anywhere", "Team", "Chat", "Memory", "Skills", "Approvals", "Ops"):
            assert f"\n{heading}" in "\n" + shown
        assert "f5  Memory" in shown and "filter targets and incidents" in shown
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is app.main_screen
        await pilot.press("question_mark", "escape")
        await pilot.pause()
        assert app.screen is app.main_screen
        await pilot.press("s")  # the tab keys work again
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "skills"


async def test_slash_filters_the_ops_tables_and_escape_clears_it(db_path: Path) -> None:
    from agent.events import TargetChecked
    from widgets.targets_panel import TargetsPanel

    await _create(db_path, "anna")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        for target, healthy in (("shop", False), ("api", True), ("auth", True)):
            detail = "got 503" if not healthy else "healthy in 9 ms"
            app.kernel.bus.publish(
                TargetChecked(target=target, healthy=healthy, latency_ms=9.0, detail=detail)
            )
        await pilot.press("o")
        await pilot.pause(0.4)
        targets = app.query_one("#targets-table", DataTable)
        bar = app.query_one("#ops-filter", Input)
        assert targets.row_count == 3 and not bar.display
        await pilot.press("slash")
        await pilot.pause()
        assert bar.display and bar.has_focus
        assert bar.outer_size.width == targets.outer_size.width >= 76  # full width
        await pilot.press(*"503")
        await pilot.pause()
        assert [str(targets.get_row_at(i)[0]) for i in range(targets.row_count)] == ["shop"]
        await pilot.press("escape")
        await pilot.pause()
        assert not bar.display and bar.value == "" and targets.has_focus
        assert targets.row_count == 3
        await pilot.press("l")  # the tab keys work again
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "activity"
        panel = app.query_one(TargetsPanel)
        assert panel.filter_text == ""


async def test_slash_in_memory_is_its_full_width_search_and_escape_clears_it(
    db_path: Path,
) -> None:
    from widgets.memory_browser import MemoryBrowser

    await _create(db_path, "anna")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m", "slash")
        await pilot.pause()
        search = app.query_one("#memory-search", Input)
        assert search.has_focus and search.outer_size.width >= 76  # full width
        await pilot.press(*"disk", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert search.value == "" and app.focused is not None
        assert app.focused.id == "memory-results"
        assert app.query_one(MemoryBrowser).search_text == ""
        await pilot.press("t")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "team"


async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter(db_path: Path) -> None:
    """Over SSH (or pasted) `/shop` arrives in one read: the keys after `/` are queued before
    the filter opens, and used to be lost. A `/` inside an input stays text."""
    from textual import events

    await _create(db_path, "anna")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()

        def burst(text: str) -> None:  # as the terminal driver posts one read's keys
            for ch in text:
                app.post_message(events.Key("slash" if ch == "/" else ch, ch))

        burst("/shop")
        await pilot.pause(0.3)
        assert app.query_one("#ops-filter", Input).value == "shop"
        await pilot.press("escape", "c")
        await pilot.pause(0.3)
        burst("see http://a/b")
        await pilot.pause(0.3)
        assert app.query_one("#chat-input", Input).value == "see http://a/b"
