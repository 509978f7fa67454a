"""Quitting the demo leaves nothing running, and the operator's own team message shows once.
Driven through the workbench's pilot on a real database, the real demo world and bus."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from agent.core.kernel import Kernel
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
