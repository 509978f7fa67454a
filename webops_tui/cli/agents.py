"""`webops agent ...`: create, list, show and delete agents, and reset their traits."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from webops_tui.cli.output import console, emit_json
from webops_tui.cli.runtime import with_kernel

if TYPE_CHECKING:
    from agent.mind.profile import AgentProfile

app = typer.Typer(
    help="Create, list, show and delete agents; reset their traits.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def _trait(name: str, meaning: str) -> Any:
    return typer.Option(
        f"--{name}", help=f"{meaning}, in [0, 1]; overrides the preset.", show_default=False
    )


def _render_table(profiles: list[AgentProfile]) -> None:
    from rich.table import Table

    table = Table(title=None if profiles else "no agents yet: webops agent create NAME")
    for column in ("name", "preset", "state", "mood", "O", "C", "E", "A", "N"):
        table.add_column(column, justify="right" if len(column) == 1 else "left")
    for p in profiles:
        traits = [f"{v:.2f}" for v in p.personality.as_dict().values()]
        table.add_row(p.name, p.preset, p.state, p.mood.label, *traits)
    console().print(table)


def _render_one(profile: AgentProfile) -> None:
    from rich.table import Table

    table = Table(show_header=False, title=f"agent {profile.name}")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("preset", profile.preset)
    table.add_row("state", profile.state)
    for trait, value in profile.personality.as_dict().items():
        table.add_row(trait, f"{value:.2f}")
    m = profile.mood
    table.add_row(
        "mood", f"{m.label} (P {m.pleasure:+.2f}, A {m.arousal:+.2f}, D {m.dominance:+.2f})"
    )
    table.add_row("created", profile.created_at.isoformat(timespec="seconds"))
    console().print(table)


def _read(ctx: typer.Context, name: str | None) -> list[AgentProfile] | None:
    """The profiles from the light path (no ORM import), or None when the kernel must answer."""
    from webops_tui.cli import light

    reader = light.reader_of(ctx)
    if reader is None:
        return None
    try:
        return light.profiles(ctx, reader, name)
    finally:
        reader.close()


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A letter, then letters, digits, - or _.")],
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", "-p", help="cautious, bold, balanced or friendly.", show_default="balanced"
        ),
    ] = None,
    openness: Annotated[float | None, _trait("openness", "Curiosity, exploration")] = None,
    conscientiousness: Annotated[
        float | None, _trait("conscientiousness", "Thoroughness, re-checking")
    ] = None,
    extraversion: Annotated[
        float | None, _trait("extraversion", "Talkativeness, volunteering")
    ] = None,
    agreeableness: Annotated[
        float | None, _trait("agreeableness", "Politeness, cooperation")
    ] = None,
    neuroticism: Annotated[
        float | None, _trait("neuroticism", "Worry; amplifies negative emotions")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an agent from a preset, optionally overriding single traits.

    Example: webops agent create anna --preset cautious --openness 0.6
    """
    traits = {
        "openness": openness,
        "conscientiousness": conscientiousness,
        "extraversion": extraversion,
        "agreeableness": agreeableness,
        "neuroticism": neuroticism,
    }
    profile = with_kernel(ctx, lambda k: k.create_agent(name, preset, traits), creates=True)
    if as_json:
        emit_json(profile)
    else:
        _render_one(profile)


@app.command("list")
def list_agents(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every agent with its preset, state, mood and traits."""
    light = _read(ctx, None)
    profiles = light if light is not None else with_kernel(ctx, lambda k: k.list_agents())
    if as_json:
        emit_json(profiles)
    else:
        _render_table(profiles)


@app.command("show")
def show(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Show one agent."""
    light = _read(ctx, name)
    profile = light[0] if light else with_kernel(ctx, lambda k: k.get_agent(name))
    if as_json:
        emit_json(profile)
    else:
        _render_one(profile)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete an agent (asks first unless --yes)."""
    from agent.errors import InvalidInput

    profile = with_kernel(ctx, lambda k: k.get_agent(name))
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput(f"refusing to delete {name!r} without --yes (stdin is not a tty)")
        if not typer.confirm(f"Delete agent {name!r} and everything it remembers?"):
            raise typer.Exit(1)
    profile = with_kernel(ctx, lambda k: k.delete_agent(name))
    if as_json:
        emit_json(profile)
    else:
        from widgets.literal_text import assemble

        console().print(assemble("deleted agent ", (profile.name, "bold")))


@app.command("reset-traits")
def reset_traits(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Undo an agent's personality drift: its traits go back to the ones it was created with.

    Example: webops agent reset-traits anna --json | jq .undone
    """
    reset = with_kernel(ctx, lambda k: k.reset_traits(name))
    if as_json:
        emit_json(reset)
        return
    moved = {t: v for t, v in reset.undone.items() if v}
    if not moved:
        console().print(f"{name}'s traits had not drifted; nothing to undo", markup=False)
        return
    undone = ", ".join(f"{t} {-v:+.3f}" for t, v in moved.items())
    console().print(f"{name}'s traits are back at their base: {undone}", markup=False)
