"""`webops chat NAME [MESSAGE]`: one turn, or a line-by-line conversation (Ctrl-D leaves)."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from webops_tui.cli.output import console, emit_json, error_line
from webops_tui.cli.runtime import refuse_read_only, settings_of
from webops_tui.paths import APP_NAME
from widgets.literal_text import assemble

if TYPE_CHECKING:
    from agent.core.conversation import ChatReply
    from agent.core.kernel import Kernel


def chat(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent to talk to.")],
    message: Annotated[
        str | None, typer.Argument(help="One message; leave out for a conversation.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Reply language: en, de or fr.")] = "en",
    operator: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Who is talking (default: your user name); approvals said in the chat are "
            "audited as your OS user, with this name as a note.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Talk to an agent: "how are you feeling?", "check shop", "run restart-api on api",
    "why did you do that?", "what do you remember about shop?", "approve 3", "help".
    """
    import asyncio

    from agent.core.kernel import Kernel
    from agent.social.language.catalog import translator

    refuse_read_only(ctx, "a chat")
    translator(lang)  # refuse an unknown language before opening anything
    who = operator or f"operator:{getpass.getuser()}"

    async def one(kernel: Kernel, text: str) -> ChatReply:
        from agent.core.conversation import chat as talk

        return await talk(kernel, name, text, operator=who, lang=lang)

    async def run() -> None:
        settings = settings_of(ctx)
        async with await Kernel.open(settings.db_path, config=settings.kernel_config()) as kernel:
            await kernel.get_agent(name)
            if message is not None:
                reply = await one(kernel, message)
                if as_json:
                    emit_json(reply)
                else:
                    _show(name, reply)
                return
            await _conversation(kernel, name, one)

    asyncio.run(run())


def _show(name: str, reply: ChatReply) -> None:
    console().print(
        assemble(
            (name, "bold"),
            " ",
            (
                f"({reply.mood.label}, {reply.intent}{', llm' if reply.source == 'llm' else ''})",
                "dim",
            ),
            ": ",
            reply.reply,
        ),
        highlight=False,
    )


async def _conversation(
    kernel: Kernel, name: str, one: Callable[[Kernel, str], Awaitable[ChatReply]]
) -> None:
    """A readline conversation; history is kept between sessions."""
    import asyncio

    from agent.errors import WebopsError

    history = _readline_history()
    out = console()
    out.print(
        assemble("Talking to ", (name, "bold"), ". Ctrl-D to leave; 'help' for what it can do.")
    )
    loop = asyncio.get_running_loop()
    while True:
        try:
            text = await loop.run_in_executor(None, input, "you> ")
        except EOFError:
            out.print()
            break
        except KeyboardInterrupt:
            out.print()
            break
        if not text.strip():
            continue
        try:
            _show(name, await one(kernel, text))
        except WebopsError as exc:
            error_line(exc.message)
    if history is not None:
        history()


def _readline_history() -> Callable[[], None] | None:
    try:
        import readline
    except ImportError:  # not on every platform
        return None
    from platformdirs import user_data_path

    path = user_data_path(APP_NAME) / "chat_history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(path)
    except OSError:
        return None

    def save() -> None:
        try:
            readline.set_history_length(1000)
            readline.write_history_file(path)
        except OSError:
            pass

    return save
