"""Approvals that say what will run: a toast and a count on the tab when one arrives, the
exact request (secrets masked) in the detail and the confirmation, and `approve N` in chat
asking for the same confirmation. The workbench's pilot, a real database, a real service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static, TabbedContent

from agent.core.kernel import Kernel
from agent.ops.runbooks import shown_request
from agent.ops.targets import runbook_spec, target_spec
from tests.service import ControlledService
from webops_tui.app import make_app
from webops_tui.config import Settings
from widgets.approvals_queue import ApprovalsQueue
from widgets.chat_panel import ChatPanel
from widgets.confirm_dialog import ConfirmDialog

pytestmark = pytest.mark.both_backends

SECRET = "hunter2-very-secret"


@pytest.fixture
def service() -> Iterator[ControlledService]:
    with ControlledService(healthy=False) as running:
        yield running


async def _world(db_path: Path, service: ControlledService) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
        await kernel.ops.add_target(
            target_spec(name="shop", kind="http", address=f"{service.url}/health")
        )
        await kernel.ops.add_runbook(
            runbook_spec(
                name="fix-shop",
                kind="http",
                method="POST",
                url=f"{service.url}/fix",
                headers={"Authorization": "Bearer {secret:TOKEN}", "X-Why": "[/] approval"},
                body='{"token": "{secret:TOKEN}", "site": "{target}", "mode": "[b]gentle"}',
                secrets={"TOKEN": SECRET},
                risk="high",
                verify_target="shop",
            )
        )


def _text(widget: Static) -> str:
    return str(widget.render())


def _tab_label(app: object) -> str:
    from textual.app import App

    assert isinstance(app, App)
    return str(app.query_one(TabbedContent).get_tab("approvals").label)


async def test_an_arriving_approval_is_announced_and_shows_its_request(
    db_path: Path, service: ControlledService
) -> None:
    await _world(db_path, service)
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert app.kernel is not None and _tab_label(app) == "Approvals"
        asked = await app.kernel.task("ben", "run fix-shop on shop")
        assert asked.status == "awaiting_approval"
        await pilot.pause(0.8)
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = [_text(toast) for toast in app.screen.query("Toast").results(Static)]
        assert any("ben asks to run fix-shop on shop (high)" in t for t in toasts), toasts
        assert _tab_label(app) == "Approvals (1)"
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        queue = app.query_one(ApprovalsQueue)
        (pending,) = queue.pending
        detail = _text(queue.query_one("#approval-why", Static))
        assert f"approval {pending.id}: ben asks to run fix-shop on shop" in detail
        assert f"POST {service.url}/fix" in detail
        assert "Authorization: ******" in detail and "X-Why: [/] approval" in detail
        assert 'body: {"token": "******", "site": "shop", "mode": "[b]gentle"}' in detail
        assert "risk high" in detail and "why: " in detail
        assert SECRET not in detail
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        question = _text(app.screen.query_one("#confirm-question", Static))
        assert question.startswith(f"Approve and run approval {pending.id}: ben")
        assert f"POST {service.url}/fix" in question and SECRET not in question
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.8)
        await app.workers.wait_for_complete()
        assert service.fixes == 1
        assert _tab_label(app) == "Approvals"


async def test_approve_in_chat_asks_first_and_names_the_approval(
    db_path: Path, service: ControlledService
) -> None:
    await _world(db_path, service)
    async with await Kernel.open(db_path) as kernel:
        asked = await kernel.task("ben", "run fix-shop on shop")
        assert asked.status == "awaiting_approval"
        (approval_id,) = await kernel.pending_approval_ids()
    app = make_app(Settings(db_path=db_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("c", *f"approve {approval_id}", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and service.fixes == 0
        question = _text(app.screen.query_one("#confirm-question", Static))
        assert f"approval {approval_id}: ben asks to run fix-shop on shop" in question
        assert f"POST {service.url}/fix" in question
        await pilot.press("n")  # not now: nothing runs, the approval waits
        await pilot.pause()
        panel = app.query_one(ChatPanel)
        assert panel.transcript[-1] == ("webops", f"approval {approval_id} left waiting")
        assert service.fixes == 0
        await pilot.press(*f"approve {approval_id}", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert service.fixes == 1
        who, said = panel.transcript[-1]
        assert who == "webops" and said.startswith(f"approval {approval_id}: fix-shop ")


def test_a_command_runbook_shows_its_argv_with_secrets_masked() -> None:
    spec = runbook_spec(
        name="restart",
        kind="command",
        argv=["systemctl", "restart", "{target}", "--token={secret:T}", "two words"],
        env={"API_KEY": "{secret:T}"},
        secrets={"T": SECRET},
    )
    assert shown_request(spec, "shop") == [
        "run: systemctl restart shop '--token=******' 'two words'",
        "env: API_KEY=******",
    ]
