"""The Ops tab can be worked in while checks stream in: rows change in place, the cursor stays
on the row the operator is on, and the "now" text is shown whole."""

from __future__ import annotations

from pathlib import Path

from agent.core.kernel import Kernel
from agent.events import IncidentChanged, TargetChecked


async def test_rows_update_in_place_and_the_cursor_stays(db_path: Path) -> None:
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.targets_panel import TargetsPanel

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
    app = make_app(Settings(db_path=db_path))
    long_detail = "status == 200 (got 503) and " + "a rather long explanation " * 8 + "END"
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        bus = app.kernel.bus

        def check(target: str, latency_ms: float, detail: str = "") -> None:
            bus.publish(
                TargetChecked(
                    target=target,
                    healthy=not detail,
                    latency_ms=latency_ms,
                    detail=detail,
                    health="down" if detail else "up",
                )
            )

        def incident(number: int, target: str, status: str) -> None:
            bus.publish(
                IncidentChanged(
                    incident_id=number,
                    target=target,
                    situation="status=503",
                    status=status,
                    owner="ben",
                    steps=1,
                    summary="",
                    health="down",
                )
            )

        for name in ("api", "cdn", "shop"):
            check(name, 10.0)
        for number, target in ((1, "api"), (2, "cdn"), (3, "shop")):
            incident(number, target, "open")
        await pilot.press("o")
        await pilot.pause(0.4)
        panel = app.query_one(TargetsPanel)
        targets = panel.query_one("#targets-table", DataTable)
        incidents = panel.query_one("#incidents-table", DataTable)
        targets.focus()
        await pilot.press("down", "down")  # on shop
        assert targets.cursor_row == 2
        for round_ in range(3):  # checks keep coming: the rows change, the cursor does not
            check("api", 20.0 + round_)
            check("shop", 30.0 + round_, long_detail)
            await pilot.pause(0.4)
            assert targets.cursor_row == 2
        assert str(targets.get_row("shop")[1]) == "DOWN"
        assert str(targets.get_row("shop")[4]) == long_detail  # whole, not cut at 40
        assert str(targets.get_row("api")[2]) == "22"
        # A new target is a new row; the cursor stays on shop, wherever shop now is.
        check("auth", 5.0)
        await pilot.pause(0.4)
        assert [r.key.value for r in targets.ordered_rows] == ["api", "auth", "cdn", "shop"]
        assert targets.cursor_row == 3
        # Incidents: the cursor stays on the one chosen while others open and close.
        incidents.focus()
        await pilot.press("down")
        chosen = incidents.coordinate_to_cell_key(incidents.cursor_coordinate).row_key.value
        incident(1, "api", "resolved")
        incident(4, "auth", "open")
        await pilot.pause(0.4)
        now = incidents.coordinate_to_cell_key(incidents.cursor_coordinate).row_key.value
        assert now == chosen == "2"


async def test_the_new_agent_dialog_keeps_what_was_typed_on_error(db_path: Path) -> None:
    from textual.widgets import Input, Static

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.agent_roster import AgentRoster
    from widgets.new_agent_dialog import NewAgentDialog, WelcomeDialog

    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeDialog)
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NewAgentDialog)
        dialog.query_one("#new-agent-name", Input).value = "bad name!"
        await pilot.press("enter")
        for _ in range(40):  # the dialog asks the kernel, then shows why it refused
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if str(dialog.query_one("#new-agent-error", Static).render()):
                break
        assert app.screen is dialog  # still open, with the typed name and why it was refused
        assert dialog.query_one("#new-agent-name", Input).value == "bad name!"
        error = str(dialog.query_one("#new-agent-error", Static).render())
        assert error and "name" in error
        dialog.query_one("#new-agent-name", Input).value = "dora"
        await pilot.press("enter")
        for _ in range(40):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if not isinstance(app.screen, NewAgentDialog):
                break
        assert not isinstance(app.screen, NewAgentDialog)
        roster = app.query_one(AgentRoster)
        for _ in range(40):  # the roster reloads after the dialog closes
            if roster.profiles:
                break
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
        assert [p.name for p in roster.profiles] == ["dora"]
