"""Targets, runbooks, tasks, approvals with earned autonomy, secrets and the audit chain,
against real services on 127.0.0.1 and real subprocesses."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from agent.core.kernel import Kernel
from agent.ops.service import adapt_execution
from tests.conftest import CliRunner
from tests.servers import closed_port
from tests.service import SECRET, ControlledService, define_shop


async def test_high_risk_runbook_waits_then_earns_autonomy_and_loses_it(
    db_path: Path, service: ControlledService
) -> None:
    async with await Kernel.open(db_path) as kernel:
        await define_shop(kernel, service)
        await kernel.create_agent("ben", "bold")
        for round_ in range(3):
            service.healthy = False
            asked = await kernel.task("ben", "run fix-shop on shop")
            assert asked.status == "awaiting_approval", asked.summary
            assert service.fixes == round_  # nothing ran before the approval
            autonomy = asked.explanation["autonomy"]
            assert not autonomy["granted"] and f"{round_} of 3" in autonomy["why"]
            assert asked.approval_id is not None
            done = await kernel.approve(asked.approval_id, by="alice")
            assert done.status == "executed" and service.healthy
        # Three approved successes in a row: now it acts on its own, and says why.
        service.healthy = False
        alone = await kernel.task("ben", "run fix-shop on shop")
        assert alone.status == "succeeded" and service.healthy
        assert alone.explanation["autonomy"]["granted"]
        assert "3 approved successes in a row" in alone.explanation["autonomy"]["why"]
        skills = {s.name: s for s in await kernel.skills("ben")}
        assert skills["run_runbook"].autonomous
        # A failure takes autonomy back.
        service.healthy, service.fix_works = False, False
        failed = await kernel.task("ben", "run fix-shop on shop")
        assert failed.status == "failed"
        service.fix_works = True
        again = await kernel.task("ben", "run fix-shop on shop")
        assert again.status == "awaiting_approval"
        assert "0 of 3" in again.explanation["autonomy"]["why"]
        assert not {s.name: s for s in await kernel.skills("ben")}["run_runbook"].autonomous


def test_approve_from_the_cli_runs_it_and_deny_never_does(
    cli: CliRunner, db_path: Path, service: ControlledService
) -> None:
    import asyncio

    async def setup() -> None:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service)
            await kernel.create_agent("ben", "bold")

    asyncio.run(setup())
    service.healthy = False
    asked = cli("task", "ben", "run fix-shop on shop", "--json")
    assert asked.code == 0 and asked.json()["status"] == "awaiting_approval"
    pending = cli("approvals", "--json").json()
    assert [p["action"] for p in pending] == ["fix-shop"] and service.fixes == 0
    denied = cli("approvals", "--deny", str(pending[0]["id"]), "--json")
    assert denied.json()["status"] == "denied" and service.fixes == 0
    again = cli("task", "ben", "run fix-shop on shop", "--json").json()
    approved = cli("approvals", "--approve", str(again["approval_id"]), "--by", "alice", "--json")
    assert approved.code == 0 and approved.json()["status"] == "executed"
    assert service.fixes == 1 and service.healthy
    twice = cli("approvals", "--approve", str(again["approval_id"]))
    assert twice.code == 2 and "already executed" in twice.err
    trail = cli("audit", "--json").json()
    events = [(e["event"], e["actor"]) for e in reversed(trail)]
    me = "operator:" + __import__("getpass").getuser()
    assert ("denied", me) in events
    assert ("approved", me) in events  # --by is a note beside the OS user, never the actor
    (approval,) = [e for e in trail if e["event"] == "approved"]
    assert json.loads(approval["detail"])["note"] == "alice"
    assert cli("audit", "--verify", "--json").json()["ok"] is True


def test_secrets_never_appear_in_output_the_file_or_the_audit(
    cli: CliRunner, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBOPS_TEST_SECRET", SECRET)
    cli("agent", "create", "ben", "-p", "bold")
    added = cli(
        "runbook",
        "add",
        "say",
        "--command",
        f"{sys.executable} -c \"import os; print('token is', os.environ['TOKEN'])\"",
        "--env",
        "TOKEN={secret:token}",
        "--secret",
        "token=env:WEBOPS_TEST_SECRET",
        "--risk",
        "low",
        "--json",
    )
    assert added.code == 0, added.err
    assert SECRET not in added.out and added.json()["secrets"] == {"token": "******"}
    ran = cli("task", "ben", "run say", "--json")
    assert ran.code == 0, ran.err
    assert ran.json()["result"]["data"]["stdout"].strip() == "token is ******"
    outputs = [
        added.out,
        ran.out,
        cli("runbook", "list", "--json").out,
        cli("runbook", "list").out,
        cli("audit", "--json").out,
        cli("memory", "ben", "--json").out,
    ]
    assert not any(SECRET in out for out in outputs)
    wal = Path(f"{db_path}-wal")
    raw = db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert SECRET.encode() not in raw
    assert Path(f"{db_path}.key").stat().st_mode & 0o777 == 0o600


def test_a_runbook_past_its_timeout_is_killed_and_reported(cli: CliRunner) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    cli(
        "runbook",
        "add",
        "hang",
        "--command",
        f'{sys.executable} -c "import time; time.sleep(30)"',
        "--risk",
        "low",
        "--timeout",
        "0.5",
    )
    result = cli("task", "ben", "run hang", "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "failed" and "killed after 0.5 s" in doc["result"]["detail"]
    assert doc["result"]["data"]["timed_out"] is True


def test_tasks_check_targets_and_urls_and_fail_with_exit_1(
    cli: CliRunner, service: ControlledService
) -> None:
    cli("agent", "create", "anna", "-p", "cautious")
    cli(
        "target",
        "add",
        "shop",
        "--address",
        f"{service.url}/health",
        "-c",
        "status == 200",
        "-c",
        "latency_ms < 2000",
    )
    ok = cli("task", "anna", "check shop", "--json")
    assert ok.code == 0 and ok.json()["result"]["data"]["latency_ms"] > 0
    service.healthy = False
    bad = cli("task", "anna", "check shop", "--json")
    assert bad.code == 1 and bad.json()["status"] == "failed"
    assert "status == 200" in bad.json()["result"]["detail"]
    dead = cli("task", "anna", f"check http://127.0.0.1:{closed_port()}/", "--json")
    assert dead.code == 1
    unclear = cli("task", "anna", "please make it better")
    assert unclear.code == 2 and "check TARGET" in unclear.err
    missing = cli("task", "anna", "check nowhere")
    assert missing.code == 2 and "no target named 'nowhere'" in missing.err


def test_a_malformed_condition_is_refused_with_its_position(cli: CliRunner) -> None:
    result = cli(
        "target",
        "add",
        "shop",
        "--address",
        "http://127.0.0.1:1/",
        "-c",
        "status == 200",
        "-c",
        "latency_ms <",
    )
    assert result.code == 2 and "position" in result.err and result.err.count("\n") == 1
    listed = cli("target", "list", "--json")  # nothing was stored, not even a database
    assert listed.code == 2 and "no webops database at" in listed.err


def test_toml_import_is_all_or_nothing(cli: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "ops.toml"
    good.write_text(
        '[[target]]\nname = "shop"\nkind = "http"\naddress = "http://127.0.0.1:9/health"\n'
        'conditions = ["status == 200"]\ncriticality = "high"\n\n'
        '[[runbook]]\nname = "restart-shop"\nkind = "command"\nargv = ["true"]\n'
        'risk = "high"\nverify_target = "shop"\n'
    )
    assert cli("target", "import", str(good), "--json").json() == {"targets": 1, "runbooks": 1}
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[target]]\nname = "api"\nkind = "http"\naddress = "http://x/"\n'
        'conditions = ["status = 200"]\n'
    )
    result = cli("target", "import", str(bad))
    assert result.code == 2 and "bad.toml: target 1" in result.err
    assert [t["name"] for t in cli("target", "list", "--json").json()] == ["shop"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[[target]\n")
    assert cli("runbook", "import", str(broken)).code == 2


def test_editing_an_audit_row_is_detected_and_named(
    cli: CliRunner, db_path: Path, service: ControlledService
) -> None:
    cli("agent", "create", "anna")
    cli("target", "add", "shop", "--address", f"{service.url}/health")
    for _ in range(3):
        cli("task", "anna", "check shop")
    assert cli("audit", "--verify").code == 0
    conn = sqlite3.connect(db_path)
    (second,) = conn.execute("SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET 1").fetchone()
    conn.execute(
        "UPDATE audit SET detail = ? WHERE id = ?",
        (json.dumps({"status": "succeeded", "forged": True}), second),
    )
    conn.commit()
    conn.close()
    result = cli("audit", "--verify", "--json")
    assert result.code == 1
    assert result.json()["ok"] is False and result.json()["first_bad"] == second


def test_adapted_timeouts_follow_the_targets_history() -> None:
    assert adapt_execution(5.0, [30.0] * 5)[0] == 5.0  # too little history: configured
    fast, why = adapt_execution(5.0, [20.0 + i for i in range(40)])
    assert 0.5 <= fast < 1.0 and "p95" in why
    assert adapt_execution(5.0, [900.0 + i for i in range(40)])[0] == 5.0  # never above it


def test_skills_json_contract(cli: CliRunner, service: ControlledService) -> None:
    cli("agent", "create", "anna")
    cli("target", "add", "shop", "--address", f"{service.url}/health")
    cli("task", "anna", "check shop")
    (skill,) = cli("skills", "anna", "--json").json()
    assert {"name", "proficiency", "level", "practice_count", "autonomous"} <= set(skill)
    assert skill["name"] == "http_check" and skill["practice_count"] == 1
    assert skill["proficiency"] > 0.1 and skill["level"] in ("novice", "competent")


async def test_practice_moves_proficiency_along_the_curve(
    db_path: Path, service: ControlledService
) -> None:
    """ "practise http_check on shop" in chat runs real checks; openness sets the pace."""
    from agent.core.conversation import PRACTICE_RUNS, chat
    from agent.errors import InvalidInput
    from agent.skills.actions import ActionRequest

    async with await Kernel.open(db_path) as kernel:
        await define_shop(kernel, service, risk="low")
        await kernel.create_agent("cleo", "friendly")
        await kernel.create_agent("anna", "cautious")
        levels = []
        for name in ("cleo", "anna"):
            for _ in range(3):
                reply = await chat(kernel, name, "practise http_check on shop")
                assert reply.intent == "learn_skill" and "http_check" in reply.reply
            (skill,) = [s for s in await kernel.skills(name) if s.name == "http_check"]
            levels.append((skill.proficiency, skill.practice_count))
        # More open, faster learner: the same practice takes cleo further than anna.
        runs = 3 * PRACTICE_RUNS
        assert levels[0][1] == levels[1][1] == runs and levels[0][0] > levels[1][0] > 0.7
        assert service.hits >= 2 * runs
        agent = await kernel.load_agent("anna")
        with pytest.raises(InvalidInput, match="changes things"):
            await agent.master_skill("run_runbook", ActionRequest(action="fix-shop"))
        # A skill with no harmless use here is learned, not practised: no remedy runs.
        fixes = service.fixes
        await chat(kernel, "anna", "practise run_runbook")
        assert service.fixes == fixes
