"""`webops memory NAME`: what an agent remembers, knows and knows how to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.numbers import INTEGER_MAX
from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel

if TYPE_CHECKING:
    from agent.memory.memory import MemoryItem


def memory(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent.")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", "-k", help="episodic, semantic or procedural (default: all)."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search", "-s", help="Rank by similarity to this text (recall_similar) instead."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="At most this many.", max=INTEGER_MAX)
    ] = 20,
    item_id: Annotated[
        int | None,
        typer.Option(
            "--id",
            max=INTEGER_MAX,
            help="Show this one memory whole, with its details and sources (--kind, default "
            "episodic: a fact's sources are episode ids).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show an agent's memories: recent first, or the most relevant to --search.

    Example: webops memory anna --search "shop slow" --limit 5 --json
    """
    if item_id is not None:
        item = with_kernel(ctx, lambda k: k.memory_item(name, kind or "episodic", item_id))
        if as_json:
            emit_json(item.model_dump(mode="json"))
        else:
            _render_one(item)
        return
    items = _listed(ctx, name, kind, limit) if search is None else None
    if items is None:
        items = with_kernel(ctx, lambda k: k.memory(name, kind, search, limit))
    if as_json:
        emit_json([item.model_dump(mode="json", exclude={"details"}) for item in items])
        return
    _render(items, searching=search is not None)


def _listed(ctx: typer.Context, name: str, kind: str | None, limit: int) -> list[MemoryItem] | None:
    """The newest memories from the light path (no ORM import), or None when the kernel must
    answer (a file it migrates first)."""
    from webops_tui.cli import light

    reader = light.reader_of(ctx)
    if reader is None:
        return None
    try:
        return light.memories(reader, name, kind, limit)
    finally:
        reader.close()


def _render_one(item: MemoryItem) -> None:
    import json

    from widgets.literal_text import literal

    out = console()
    out.print(literal(f"{item.kind} {item.id}, {item.ts:%Y-%m-%d %H:%M:%S}: {item.summary}"))
    for key, value in (item.details or {}).items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        out.print(literal(f"  {key}: {shown}"))
    if item.sources:
        out.print(literal(f"  sources: {', '.join(map(str, item.sources))}"))


def _render(items: list[MemoryItem], searching: bool) -> None:
    from rich.table import Table

    if not items:
        console().print("nothing remembered yet")
        return
    table = Table()
    for column in ("kind", "id", "summary", "score" if searching else "when"):
        table.add_column(column, overflow="fold")
    for item in items:
        last = (
            f"{item.score:.3f}"
            if searching and item.score is not None
            else ""
            if searching
            else item.ts.strftime("%Y-%m-%d %H:%M:%S")
        )
        table.add_row(item.kind, str(item.id), item.summary, last)
    console().print(table)
