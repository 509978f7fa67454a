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
