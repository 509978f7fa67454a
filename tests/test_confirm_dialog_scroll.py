"""A long approval request scrolls inside the confirm dialog; its buttons stay reachable on a
small terminal. Driven through the pilot: the user clicks Yes."""

from __future__ import annotations

from textual.app import App
from textual.containers import VerticalScroll

from widgets.confirm_dialog import ConfirmDialog


class _Asking(App[None]):
    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(ConfirmDialog(self.question), self.answers.append)


async def test_a_long_request_scrolls_and_yes_stays_reachable_at_60x18() -> None:
    long = "approve rollback on shop?\n" + "\n".join(f"argument {i}: [b]x[/b]" for i in range(40))
    app = _Asking(long)
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.pause()
        yes = app.screen.query_one("#yes")
        assert yes.region.bottom <= 18
        body = app.screen.query_one("#confirm-body", VerticalScroll)
        assert body.max_scroll_y > 0
        await pilot.click("#yes")
        await pilot.pause()
    assert app.answers == [True]


async def test_a_short_request_takes_only_its_lines() -> None:
    app = _Asking("approve restart on shop?")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#confirm-body").region.height == 1
