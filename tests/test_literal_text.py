"""Text is text: what people, agents, targets and runbooks wrote is shown literally everywhere.

Brackets used to be read as markup (`[/]` crashed the workbench a second after every start and
made `webops memory`, `target list` and `runbook list` print tracebacks; `see [docs]` lost
`[docs]`), and escape sequences reached the operator's terminal raw. These tests store such
text the way a user does (the CLI, the Chat tab) and then open every listing and panel.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable, Static

from tests.conftest import CliRunner
from webops_tui.app import make_app
from webops_tui.config import Settings
from widgets.chat_panel import ChatPanel
from widgets.literal_text import printable

TABS = ["t", "c", "m", "s", "p", "o", "l"]
NASTY = [
    "[/]",
    "[/b]",
    "[link=x]",
    "[bold red]",
    "[docs]",
    "\\[",
    "\x1b]52;c;SGVsbG8=\x07",  # OSC 52: write the clipboard
    "\x1b]0;owned\x1b\\",  # OSC 0: the window title
    "\x1b[2J",  # CSI: clear the screen
    "\x9b31m",  # 8-bit CSI
    "\x07\x00\r",
    "\u202e\u200f",  # RTL override and mark
    "x" * 300,  # a very long word
]
nasty_text = st.lists(
    st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=8)), min_size=1, max_size=5
).map(" ".join)
ESCAPES = ("\x1b", "\x9b", "\x9d")


def _clean(out: str) -> bool:
    return not any(e in out for e in ESCAPES)


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so a table does not fold the text a test looks for."""
    monkeypatch.setenv("COLUMNS", "400")


def _store(cli: CliRunner, name: str, text: str) -> None:
    """The text as a chat message, a target address and a runbook argv and description."""
    assert cli("chat", "anna", text).code == 0
    added = cli("target", "add", name, "--address", f"http://127.0.0.1:9/{text}")
    assert added.code == 0 and _clean(added.out), added.err
    runbook = cli(
        "runbook", "add", f"rb-{name}", "--command", f"echo {shlex.quote(text)}",
        "--description", text, "--risk", "high",
    )  # fmt: skip
    assert runbook.code == 0 and _clean(runbook.out), runbook.err


def test_bracketed_text_is_listed_literally(cli: CliRunner, wide: None) -> None:
    assert cli("agent", "create", "anna", "--preset", "cautious").code == 0
    _store(cli, "x", "hello [/b] there [/]")
    for args, shown in (
        (("memory", "anna"), "hello [/b] there [/]"),
        (("target", "list"), "http://127.0.0.1:9/hello [/b] there [/]"),
        (("runbook", "list"), "echo hello [/b] there [/]"),
    ):
        result = cli(*args)
        assert result.code == 0, result.err
        assert shown in result.out


def test_escape_sequences_never_reach_the_terminal(cli: CliRunner, wide: None) -> None:
    assert cli("agent", "create", "anna").code == 0
    _store(cli, "x", "a\x1b]52;c;SGVsbG8=\x07b \x1b[2Jc")
    for args in (("memory", "anna"), ("target", "list"), ("runbook", "list")):
        result = cli(*args)
        assert result.code == 0 and _clean(result.out), result.err
    assert "http://127.0.0.1:9/ab c" in cli("target", "list").out


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=nasty_text.filter(lambda t: not t.startswith("-")))  # "-x" is an option
def test_any_text_goes_through_every_cli_listing(
    cli: CliRunner, wide: None, names: Iterator[int], text: str
) -> None:
    cli("agent", "create", "anna")  # the first example creates her; later ones are refused
    _store(cli, f"t{next(names)}", text)
    for args in (("memory", "anna"), ("target", "list"), ("runbook", "list"), ("approvals",)):
        result = cli(*args)
        assert result.code == 0, result.err
        assert _clean(result.out) and _clean(result.err)
    listed = cli("target", "list").out
    for word in printable(text, newlines=False).split():
        if "[" in word and len(word) < 40:
            assert word in listed


@pytest.fixture
def names() -> Iterator[int]:
    return count()


def _shown(app: object) -> str:
    """Every character the workbench's statics and tables hold, for looking text up."""
    from textual.app import App

    assert isinstance(app, App)
    parts = [str(s.render()) for s in app.screen.query(Static)]
    for table in app.screen.query(DataTable):
        for row in range(table.row_count):
            parts.extend(str(cell) for cell in table.get_row_at(row))
    return "\n".join(parts)


def test_the_workbench_stays_up_and_shows_stored_text_literally(
    cli: CliRunner, db_path: Path
) -> None:
    assert cli("agent", "create", "anna", "--preset", "cautious").code == 0
    _store(cli, "x", "hello [/b] there [/]")
    _store(cli, "y", "[link=x]\x1b]0;owned\x07 \u202e [bold red]" + "w" * 200)
    asyncio.run(_every_tab(db_path))


async def _every_tab(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        for key in TABS:
            app.screen.set_focus(None)
            await pilot.press(key)
            await pilot.pause(0.2)
            assert app.is_running
        await app.workers.wait_for_complete()
        await pilot.pause(1.2)  # the crash used to come a second after start
        assert app.is_running
        shown = _shown(app)
        assert "http://127.0.0.1:9/hello [/b] there [/]" in shown or "hello [/b]" in shown
        assert "\x1b" not in shown


def test_chat_says_brackets_and_keeps_them(db_path: Path, cli: CliRunner) -> None:
    assert cli("agent", "create", "anna").code == 0
    asyncio.run(_say_brackets(db_path))


async def _say_brackets(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        chat = app.query_one(ChatPanel)
        assert app.focused is not None and app.focused.id == "chat-input"  # c lands in it
        for said in ("say [/] hi", "see [docs]"):
            await pilot.press(*said, "enter")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.is_running
        lines = [str(s.render()) for s in chat.query("#chat-agent-log > Static").results(Static)]
        assert "you: say [/] hi" in lines and "you: see [docs]" in lines
        assert ("you", "see [docs]") in chat.transcript
