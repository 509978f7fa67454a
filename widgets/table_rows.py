"""Writing rows into a `DataTable` that holds thousands of them, without stalling the keys.

Textual's `DataTable` measures every cell it is given: `update_cell(..., update_width=True)`
with a cell narrower than its column re-measures the whole column (5,000 cells, tens of
milliseconds, for a latency going from "10" to "9"), and rows added are measured on the next
idle, all at once. So a cell is written with `put`, which lets a column grow for a wider cell
but never re-measures it to shrink; and a table is refilled with `refill`, a chunk of rows per
turn of the event loop, so a key pressed during a refill of 5,000 rows waits for one chunk,
not for the whole table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey

Cell = str | Text
#: Rows added per turn of the event loop during a refill (each is measured on the next idle).
CHUNK = 200


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def put(table: DataTable[Cell], row: str, column: str, cell: Cell) -> None:
    """Write `cell` if it changed; its column widens for it, and never narrows meanwhile."""
    try:
        if table.get_cell(row, column) == cell:
            return
    except CellDoesNotExist:
        return  # the row went meanwhile (a refill): the refill draws it from the state
    wider = _width(cell) > table.columns[ColumnKey(column)].content_width
    table.update_cell(row, column, cell, update_width=wider)


def chosen_row(table: DataTable[Cell]) -> str | None:
    """The key of the row under the cursor (None: an empty table)."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


def fill(table: DataTable[Cell], rows: Mapping[str, Sequence[Cell]]) -> None:
    """Show `rows` (by key, in order) in `table`, changing only the cells that changed, so the
    cursor and the scroll position stay where the operator left them. A row added, removed or
    moved redraws the table, and the cursor stays on the row it was on (by key). For tables of
    a few hundred rows at most (the incidents); the targets use `refill`."""
    keys = [key.value for key in table.rows]
    if keys == list(rows):
        columns = [column.value for column in table.columns]
        for key, cells in rows.items():
            for column, cell in zip(columns, cells, strict=True):
                assert column is not None  # every column here was added with a key
                put(table, key, column, cell)
        return
    chosen = chosen_row(table)
    table.clear()
    for key, cells in rows.items():
        table.add_row(*cells, key=key)
    if chosen is not None and chosen in rows:
        table.move_cursor(row=list(rows).index(chosen), animate=False)


async def refill(
    table: DataTable[Cell], keys: Sequence[str], cells_of: Callable[[str], Sequence[Cell]]
) -> None:
    """Show the rows `keys` (in order), drawing each with `cells_of` as it is added, `CHUNK`
    rows per turn of the loop. The cursor stays on the row it was on (by key) once that row is
    back. Cancelled (a newer refill), the table holds the rows added so far."""
    chosen = chosen_row(table)
    table.clear()
    for start in range(0, len(keys), CHUNK):
        if start:
            await asyncio.sleep(0)  # let keys and the table's own idle measuring through
        for key in keys[start : start + CHUNK]:
            table.add_row(*cells_of(key), key=key)
            if key == chosen:
                table.move_cursor(row=table.row_count - 1, animate=False)


def insert(
    table: DataTable[Cell],
    keys: Sequence[str],
    new: Sequence[str],
    cells_of: Callable[[str], Sequence[Cell]],
) -> None:
    """Add the rows `new` so that the table holds `keys`, in their order (the first column shows
    each row's key: a target's name, which is validated printable text), measuring only the
    new rows: targets appearing one by one while
    thousands are shown cost their own rows and one sort, not a refill. The cursor stays on
    the row it was on."""
    chosen = chosen_row(table)
    for key in new:
        table.add_row(*cells_of(key), key=key)
    rank = {key: i for i, key in enumerate(keys)}
    first = table.ordered_columns[0].key
    table.sort(first, key=lambda cell: rank.get(str(cell), -1))
    if chosen is not None:
        table.move_cursor(row=table.get_row_index(chosen), animate=False)
