"""The Ops tab with hundreds of targets: every one listed, a check changes its own row in place,
`/` narrows the list and Escape brings it all back, and the row the operator is on stays the
one selected through updates, new targets and filters."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.core.kernel import Kernel
from agent.events import TargetChecked

pytestmark = pytest.mark.both_backends

MANY = 300


def _name(i: int) -> str:
    return f"web-{i:03d}"


async def _until(check: Callable[[], bool], what: str) -> None:
    """Wait (up to 30 s, the machine may be loaded) until `check` holds."""
    for _ in range(600):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still not true after 30 s: {what}")


def _published(bus_publish: Callable[[TargetChecked], None]) -> Callable[..., None]:
    def check(name: str, latency_ms: float, down: bool = False) -> None:
        bus_publish(
            TargetChecked(
                target=name,
                healthy=not down,
                latency_ms=latency_ms,
                detail="status == 200 (got 503)" if down else "status == 200",
                health="down" if down else "up",
            )
        )

    return check


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
async def test_hundreds_of_targets_update_in_place_filter_and_keep_the_selection(
    db_path: Path,
) -> None:
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.targets_panel import TargetsPanel

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        check = _published(app.kernel.bus.publish)
        for i in range(MANY):
            check(_name(i), 10.0)
        await pilot.press("o")
        table = app.query_one(TargetsPanel).query_one("#targets-table", DataTable)
        await _until(lambda: table.row_count == MANY, f"{MANY} rows")
        assert [row.key.value for row in table.ordered_rows] == [_name(i) for i in range(MANY)]

        # The operator goes down to row 120; checks keep coming for every target.
        table.focus()
        for _ in range(120):
            await pilot.press("down")
        assert table.cursor_row == 120
        rows_before = dict(table.rows)
        check(_name(7), 999.0, down=True)
        await _until(lambda: str(table.get_row(_name(7))[1]) == "DOWN", "web-007 shows DOWN")
        assert str(table.get_row(_name(7))[2]) == "999"
        assert str(table.get_row(_name(8))[1]) == "up"  # its neighbour is as it was
        assert dict(table.rows) == rows_before  # the same rows, changed in place: no refill
        assert all(table.rows[key] is row for key, row in rows_before.items())
        assert table.cursor_row == 120

        # A new target is a new row (the table is redrawn); the cursor stays on web-120.
        check("aaa-new", 5.0)
        await _until(lambda: table.row_count == MANY + 1, "the new target's row")
        await _until(lambda: table.cursor_row == 121, "the cursor back on web-120")
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == _name(120)

        # `/` narrows as the operator types; the selected row is kept when it still shows.
        await pilot.press("slash", *"web-12")
        wanted = [_name(i) for i in range(MANY) if _name(i).startswith("web-12")]
        await _until(lambda: [r.key.value for r in table.ordered_rows] == wanted, "only web-12x")
        await _until(lambda: table.cursor_row == wanted.index(_name(120)), "still on web-120")
        # A check of a hidden target changes nothing shown; one of a shown target does.
        check(_name(5), 1.0)
        check(_name(121), 42.0)
        await _until(lambda: str(table.get_row(_name(121))[2]) == "42", "web-121 updated")
        assert [r.key.value for r in table.ordered_rows] == wanted
        # Escape clears the filter: everything is back, the cursor on the same target.
        await pilot.press("escape")
        await _until(lambda: table.row_count == MANY + 1, "every row back")
        await _until(
            lambda: (
                table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == _name(120)
            ),
            "the cursor on web-120 after the filter",
        )
        assert str(table.get_row(_name(5))[2]) == "1"  # checked while hidden: shown as it is


async def test_rows_match_the_checks_whatever_their_order(db_path: Path) -> None:
    """Random checks, new targets and filters: what the table shows is, row for row, what a
    full redraw of the latest checks would show (the in-place path loses nothing)."""
    from textual.widgets import DataTable

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.targets_panel import TargetsPanel

    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
    app = make_app(Settings(db_path=db_path))
    rng = random.Random(20)
    latest: dict[str, tuple[float, bool]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        check = _published(app.kernel.bus.publish)
        await pilot.press("o")
        panel = app.query_one(TargetsPanel)
        table = panel.query_one("#targets-table", DataTable)
        for round_ in range(6):
            for _ in range(150):
                name = _name(rng.randrange(200))
                latest[name] = (float(rng.randrange(1, 500)), rng.random() < 0.2)
                check(name, *latest[name])
            if round_ == 3:
                await pilot.press("slash", *"DOWN")
            await asyncio.sleep(rng.choice((0.0, 0.1, 0.3)))

        def expected() -> dict[str, tuple[str, str]]:
            return {
                name: ("DOWN" if down else "up", f"{ms:.0f}")
                for name, (ms, down) in sorted(latest.items())
                if down
            }

        def shown() -> dict[str, tuple[str, str]]:
            return {
                str(key.value): (str(table.get_row(key)[1]), str(table.get_row(key)[2]))
                for key in table.rows
            }

        await _until(lambda: shown() == expected(), "the table shows the latest checks")
