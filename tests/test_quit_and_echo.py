"""Quitting the demo leaves nothing running, and the operator's own team message shows once.
Driven through the workbench's pilot on a real database, the real demo world and bus."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from webops_tui.app import make_app
from webops_tui.config import Settings
from webops_tui.demo.options import DemoOptions
from widgets.chat_panel import ChatPanel
from widgets.targets_panel import TargetsPanel


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_ctrl_q_in_the_demo_closes_every_service_port(db_path: Path) -> None:
    app = make_app(Settings(db_path=db_path), demo=DemoOptions(seed=3, approve="all"))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(TargetsPanel)

        def ports() -> list[int]:
            assert app.kernel is not None
            addresses = [t.address for t in app.kernel.ops.targets.values()]
            addresses += [r.url for r in app.kernel.ops.runbooks.values()][:1]  # control plane
            return [int(re.findall(r":(\d+)", address)[-1]) for address in addresses]

        for _ in range(300):  # a busy machine starts the world slowly: wait on it, not a clock
            await pilot.pause(0.1)
            if len(panel.targets) == 5 and len(ports()) == 6 and all(map(_listening, ports())):
                break
        served = ports()
        assert len(served) == 6 and all(_listening(port) for port in served)
        await pilot.press("ctrl+q")
    assert not app.is_running
    still = [port for port in served if _listening(port)]
    assert not still, (still, served)


async def test_the_operators_team_message_shows_once(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.create_agent("ben", "bold")
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.kernel is not None
        for name in ("anna", "ben"):
            app.kernel.messages.join("team", name)
        await pilot.press("c")
        panel = app.query_one(ChatPanel)
        panel.query_one("#chat-tabs").focus()
        await pilot.press("right")
        await pilot.click("#chat-input")
        await pilot.press(*"shop is down, I am on it", "enter")
        await app.workers.wait_for_complete()
        await app.kernel.messages.broadcast("anna", "team", "thanks")
        await pilot.pause(0.3)
        assert panel.transcripts["team"] == [
            ("you", "shop is down, I am on it"),
            ("anna → team", "thanks"),
        ]


class _Hanging(BaseHTTPRequestHandler):
    """Answers nothing for a minute: a check of it is in flight when the workbench quits.
    It notes when a request came, and when the client went away without its answer."""

    arrived = threading.Event()
    abandoned = threading.Event()

    def do_GET(self) -> None:
        _Hanging.arrived.set()
        self.connection.settimeout(0.1)
        deadline = time.monotonic() + HANG_S
        while time.monotonic() < deadline:
            try:
                if self.connection.recv(1) == b"":
                    _Hanging.abandoned.set()
                    return
            except TimeoutError:
                continue
            except OSError:
                _Hanging.abandoned.set()
                return

    def log_message(self, format: str, *args: object) -> None:
        pass


#: How long the hanging target keeps a check waiting (the check allows all of it).
HANG_S = 60.0
#: Tables whose rows a quit must never take away (append-only while a short demo runs).
KEPT = ("audit", "incident", "incident_event", "message", "approval")


def _stored_ids(db_path: Path) -> dict[str, set[int]]:
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return {t: {r[0] for r in conn.execute(f"SELECT id FROM {t}")} for t in KEPT}


async def test_quitting_in_the_middle_of_demo_work_is_prompt_and_keeps_every_row(
    db_path: Path, cli: CliRunner
) -> None:
    """ctrl+q while the demo's checks and incidents are under way, one check waiting on a
    target that answers after a minute: the workbench exits, that check is cancelled at
    once (its connection closes long before the minute), and every row stored before the key
    is still there, with an intact audit chain."""
    _Hanging.arrived.clear()
    _Hanging.abandoned.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hanging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{server.server_address[1]}/"
        add = ("target", "add", "hanging", "-a", address, "--timeout", str(HANG_S))
        added = await asyncio.to_thread(cli, *add)  # the CLI runs its own event loop
        assert added.code == 0, added.err
        app = make_app(Settings(db_path=db_path), demo=DemoOptions(seed=3, approve="all"))
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(400):  # wait on the work, not on a clock: a busy machine is slow
                await pilot.pause(0.1)
                stored = _stored_ids(db_path)
                if _Hanging.arrived.is_set() and stored["incident"] and stored["message"]:
                    break
            assert _Hanging.arrived.is_set() and stored["incident"], stored
            assert not _Hanging.abandoned.is_set()
            await pilot.press("ctrl+q")
        assert not app.is_running
        # Prompt: the hanging check was cancelled, not left to wait out its minute.
        assert await asyncio.to_thread(_Hanging.abandoned.wait, 30)
    finally:
        server.shutdown()
        server.server_close()
    after = _stored_ids(db_path)
    for table, ids in stored.items():
        assert ids <= after[table], (table, sorted(ids - after[table])[:10])
    verified = await asyncio.to_thread(cli, "audit", "--verify", "--json")
    assert verified.code == 0 and json.loads(verified.out)["ok"], verified.out
