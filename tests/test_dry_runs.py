"""Runbook dry runs: defined in TOML, on the CLI and over the API; run first for a risky remedy
(the risk mitigation "dry run"), shown in the approval a person reads (CLI, API, workbench),
and a failing one stops the real action. Real services on 127.0.0.1, real subprocesses, the
autopilot in virtual time, the real workbench."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.ops.runbook_dry_run import OUTPUT_LIMIT, shown_output
from tests.conftest import CliRunner
from tests.service import ControlledService

pytestmark = pytest.mark.both_backends

SECRET = "s3cret-dry-token"
#: What the argv runbook's dry run prints: a known line, and brackets that are not markup.
DRY_LINE = "would restart deploy/shop: 1 pod [dry-run=server]"


def _toml(tmp_path: Path, service: ControlledService, runbook: str) -> Path:
    document = tmp_path / "ops.toml"
    document.write_text(
        f"""
[[target]]
name = "shop"
kind = "http"
address = "{service.url}/health"
conditions = ["status == 200"]
criticality = "high"
interval_s = 1.0
timeout_s = 1.0
failure_threshold = 1

{runbook}
"""
    )
    return document


def _argv_runbook(service: ControlledService) -> str:
    fix = (
        "import urllib.request as u; "
        f"u.urlopen(u.Request('{service.url}/fix', method='POST'), timeout=5)"
    )
    dry = f"print({DRY_LINE!r})"
    return f"""
[[runbook]]
name = "restart-shop"
kind = "command"
argv = [{json.dumps(sys.executable)}, "-c", {json.dumps(fix)}]
risk = "high"
verify_target = "shop"
dry_run = {{ argv = [{json.dumps(sys.executable)}, "-c", {json.dumps(dry)}] }}
"""


def _http_runbook(service: ControlledService) -> str:
    return f"""
[[runbook]]
name = "fix-shop"
kind = "http"
method = "POST"
url = "{service.url}/fix"
headers = {{ Authorization = "Bearer {SECRET}" }}
risk = "high"
verify_target = "shop"
dry_run = {{ url = "{service.url}/fix/dry-run" }}
"""


async def _autopilot(db_path: Path, seconds: float) -> None:
    """The autonomous loop for `seconds` of virtual time; a person decides approvals."""
    clock = VirtualClock()
    async with await Kernel.open(db_path, clock=clock.time) as kernel:
        autopilot = Autopilot(kernel, approval_policy="human", clock=clock)
        await autopilot.run(asyncio.Event(), duration_s=seconds)


def _define(cli: CliRunner, document: Path) -> None:
    assert cli("agent", "create", "anna", "--preset", "cautious").code == 0
    imported = cli("runbook", "import", str(document))
    assert imported.code == 0, imported.err


def test_an_argv_dry_run_is_shown_in_the_approval_and_the_real_run_waits_for_it(
    tmp_path: Path, db_path: Path, cli: CliRunner
) -> None:
    with ControlledService(healthy=False) as service:
        _define(cli, _toml(tmp_path, service, _argv_runbook(service)))
        listed = json.loads(cli("runbook", "list", "--json").out)
        assert listed[0]["dry_run"]["argv"][-1] == f"print({DRY_LINE!r})"
        assert "print(" in cli("runbook", "list").out  # the table's "dry run" column
        asyncio.run(_autopilot(db_path, 5.0))
        assert service.fixes == 0  # nothing ran yet: it waits for a person
        (pending,) = json.loads(cli("approvals", "--json").out)
        assert pending["action"] == "restart-shop"
        assert pending["dry_run"]["ok"] is True and pending["dry_run"]["output"] == DRY_LINE
        assert pending["explanation"]["dry_run"]["output"] == DRY_LINE
        table = cli("approvals")
        assert "passed" in table.out and "[dry-run=server]" in table.out
        shown = cli("approvals", "show", str(pending["id"]))
        assert shown.code == 0 and DRY_LINE in shown.out and "dry run: exit 0" in shown.out
        approved = cli("approvals", "--approve", str(pending["id"]), "--json")
        assert approved.code == 0, approved.err
        assert json.loads(approved.out)["status"] == "executed"
        assert service.fixes == 1
    audit = json.loads(cli("audit", "--json", "--limit", "100").out)
    events = [(e["event"], e["action"]) for e in audit]
    assert ("dry_run", "restart-shop") in events
    # the dry run came before the request and the real run
    assert events.index(("dry_run", "restart-shop")) > events.index(("approved", "restart-shop"))


def test_a_failing_http_dry_run_stops_the_real_call_and_teaches_nothing(
    tmp_path: Path, db_path: Path, cli: CliRunner
) -> None:
    with ControlledService(healthy=False) as service:
        service.dry_run_works = False
        _define(cli, _toml(tmp_path, service, _http_runbook(service)))
        asyncio.run(_autopilot(db_path, 5.0))
        assert service.dry_runs >= 1
        assert service.fixes == 0  # the control plane never received the real call
        assert json.loads(cli("approvals", "--json").out) == []  # nobody is asked to run it
    audit = json.loads(cli("audit", "--json", "--limit", "200").out)
    dry = [json.loads(e["detail"]) for e in audit if e["event"] == "dry_run"]
    assert dry and all(d["status"] == "failed" and d["detail"] == "HTTP 409" for d in dry)
    assert not [e for e in audit if e["event"] == "action" and e["action"] == "fix-shop"]
    skills = json.loads(cli("skills", "anna", "--json").out)
    assert all(s["name"] != "run_runbook" for s in skills)  # no practice, no record


async def test_a_passing_http_dry_run_shows_its_body_scrubbed_over_the_api(
    db_path: Path,
) -> None:
    """The runbook is defined over the API too (admin), with its dry run; the approval the
    agent files shows what the dry run's answer said, the credential it sent masked."""
    import httpx

    from webops_tui.api.app import create_app

    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path) as kernel:
            token = (await kernel.create_token("ops", "admin", by="test")).token
            await kernel.create_agent("anna", "cautious")
            app = create_app(kernel, max_body=4096, heartbeat_s=0.05)
            transport = httpx.ASGITransport(app=app)
            auth = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
                target = {
                    "name": "shop", "kind": "http", "address": f"{service.url}/health",
                    "criticality": "high", "interval_s": 1.0, "timeout_s": 1.0,
                    "failure_threshold": 1,
                }  # fmt: skip
                assert (await api.post("/api/targets", json=target, headers=auth)).is_success
                runbook = {
                    "name": "fix-shop", "kind": "http", "method": "POST",
                    "url": f"{service.url}/fix", "risk": "high", "verify_target": "shop",
                    "headers": {"Authorization": f"Bearer {SECRET}"},
                    "dry_run": {"url": f"{service.url}/fix/dry-run"},
                }  # fmt: skip
                added = await api.post("/api/runbooks", json=runbook, headers=auth)
                assert added.status_code == 201 and SECRET not in added.text
                bad = {**runbook, "name": "bad", "dry_run": {"argv": ["true"]}}
                refused = await api.post("/api/runbooks", json=bad, headers=auth)
                assert refused.status_code == 422
        await _autopilot(db_path, 5.0)
        assert service.dry_runs >= 1 and service.fixes == 0
        async with await Kernel.open(db_path) as kernel:
            app = create_app(kernel, max_body=4096, heartbeat_s=0.05)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
                (pending,) = (await api.get("/api/approvals", headers=auth)).json()
                one = (await api.get(f"/api/approvals/{pending['id']}", headers=auth)).json()
                assert one["dry_run"]["output"] == "would restart 1 replica (auth ******)"
                assert SECRET not in json.dumps(one)
                listed = (await api.get("/api/runbooks/fix-shop", headers=auth)).json()
                assert listed["dry_run"]["url"] == f"{service.url}/fix/dry-run"
                approved = await api.post(f"/api/approvals/{pending['id']}/approve", headers=auth)
                assert approved.json()["status"] == "executed"
        assert service.fixes == 1


def test_runbook_add_takes_a_dry_run_and_refuses_one_that_does_not_fit(cli: CliRunner) -> None:
    added = cli(
        "runbook", "add", "restart-api", "--command", "systemctl restart api",
        "--dry-run-command", "systemctl --dry-run restart api", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert json.loads(added.out)["dry_run"]["argv"] == ["systemctl", "--dry-run", "restart", "api"]
    http = cli(
        "runbook", "add", "deploy", "--http", "POST", "https://ci.example/deploy",
        "--dry-run-url", "https://ci.example/deploy?dry_run=1",
        "--dry-run-header", "X-Api-Key=k3y-value", "--json",
    )  # fmt: skip
    assert http.code == 0, http.err
    shown = json.loads(http.out)
    assert shown["dry_run"]["headers"] == {"X-Api-Key": "{secret:dry_run_header_X_Api_Key}"}
    assert "k3y-value" not in http.out and "k3y-value" not in cli("runbook", "list").out
    for bad in (
        ("--command", "true", "--dry-run-url", "https://ci.example/x"),
        ("--http", "POST", "https://ci.example/x", "--dry-run-command", "true"),
        ("--http", "POST", "https://ci.example/x", "--dry-run-url", "ftp://x"),
        ("--command", "true", "--dry-run-command", "'unclosed"),
        ("--http", "POST", "https://ci.example/x", "--dry-run-method", "GET"),
    ):
        refused = cli("runbook", "add", "bad", *bad)
        assert refused.code == 2 and refused.err.count("\n") == 1, (bad, refused.err)
        assert "Traceback" not in refused.err
    assert {r["name"] for r in json.loads(cli("runbook", "list", "--json").out)} == {
        "restart-api",
        "deploy",
    }


def test_a_toml_dry_run_with_an_unknown_key_is_one_line_and_stores_nothing(
    tmp_path: Path, cli: CliRunner
) -> None:
    document = tmp_path / "bad.toml"
    document.write_text(
        '[[runbook]]\nname = "r"\nkind = "command"\nargv = ["true"]\n'
        'dry_run = { argv = ["true"], shell = "yes" }\n'
    )
    refused = cli("runbook", "import", str(document))
    assert refused.code == 2 and "dry_run.shell" in refused.err and "Traceback" not in refused.err


@given(st.text(max_size=3 * OUTPUT_LIMIT), st.text(max_size=3 * OUTPUT_LIMIT))
def test_what_an_approval_keeps_of_a_dry_run_is_bounded_and_its_end(out: str, err: str) -> None:
    shown = shown_output({"stdout": out, "stderr": err})
    assert len(shown) <= OUTPUT_LIMIT
    if not err.strip():
        assert out.rstrip("\n").endswith(shown) or not out.strip()


def test_the_workbench_shows_the_dry_run_in_the_approval_and_its_detail_dialog(
    tmp_path: Path, db_path: Path, cli: CliRunner
) -> None:
    """A person's order for a risky runbook: its dry run runs first, and the Approvals tab and
    the approval's detail dialog (Enter) show what it printed, literally."""
    from textual.widgets import Static

    from webops_tui.app import make_app
    from webops_tui.config import Settings
    from widgets.approval_detail import ApprovalDetailDialog
    from widgets.approvals_queue import ApprovalsQueue

    async def review(service: ControlledService) -> None:
        app = make_app(Settings(db_path=db_path))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.kernel is not None
            asked = await app.kernel.task("anna", "run restart-shop on shop")
            assert asked.status == "awaiting_approval" and service.fixes == 0
            await pilot.press("p")
            queue = app.query_one(ApprovalsQueue)
            for _ in range(400):  # the queue reads the approvals in a worker
                await pilot.pause(0.1)
                if queue.pending:
                    break
            detail = str(queue.query_one("#approval-why", Static).render())
            assert "dry run passed: exit 0" in detail and DRY_LINE in detail
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ApprovalDetailDialog)
            assert DRY_LINE in app.screen.text and "run: " in app.screen.text
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, ApprovalDetailDialog)

    with ControlledService(healthy=False) as service:
        _define(cli, _toml(tmp_path, service, _argv_runbook(service)))
        asyncio.run(review(service))
        assert service.fixes == 0
