"""The audit chain as an attacker and a careless operator meet it: complete (every change of
agents, targets, runbooks, tokens, imports and approvals), keyed (HMAC with a key beside the
database, never in it), anchored (a head kept elsewhere catches a cut or rewritten tail), robust
(malformed rows are reported, never a crash) and honest about who acted (`--by`/`--as` are notes,
never the actor). Every test goes through the CLI or the API on a real SQLite file."""

from __future__ import annotations

import asyncio
import getpass
import json
import sqlite3
import stat
import sys
from pathlib import Path

import httpx

from agent.core.kernel import Kernel
from storage.database import Database
from storage.repositories.audit import GENESIS, entry_hash
from tests.conftest import CliRunner
from webops_tui.api.app import create_app

ME = f"operator:{getpass.getuser()}"


def _rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def _define(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("agent", "create", "anna", "-p", "cautious").code == 0
    assert cli("target", "add", "shop", "-a", "http://127.0.0.1:9/health").code == 0
    added = cli("runbook", "add", "hello", "--command", f"{sys.executable} -c pass")
    assert added.code == 0, added.err


def test_every_change_of_agents_targets_runbooks_and_imports_is_audited(
    cli: CliRunner, tmp_path: Path
) -> None:
    _define(cli, tmp_path)
    toml = tmp_path / "ops.toml"
    toml.write_text('[[target]]\nname = "api"\nkind = "tcp"\naddress = "127.0.0.1:9"\n')
    assert cli("target", "import", str(toml)).code == 0
    assert cli("runbook", "remove", "hello").code == 0
    assert cli("target", "remove", "api").code == 0
    assert cli("agent", "delete", "anna", "--yes").code == 0
    trail = list(reversed(cli("audit", "--json").json()))
    events = [(e["event"], e["target"] or e["agent"] or e["action"], e["actor"]) for e in trail]
    assert events == [
        ("agent_created", "anna", ME),
        ("target_added", "shop", ME),
        ("runbook_added", "hello", ME),
        ("imported", None, ME),
        ("runbook_removed", "hello", ME),
        ("target_removed", "api", ME),
        ("agent_deleted", "anna", ME),
    ]
    imported = json.loads(trail[3]["detail"])
    assert imported["targets"] == ["api"] and imported["source"] == str(toml)
    assert cli("audit", "--verify", "--json").json()["ok"] is True


async def test_an_admin_adding_a_command_runbook_over_the_api_leaves_a_trace(
    db_path: Path,
) -> None:
    async with await Kernel.open(db_path) as kernel:
        admin = (await kernel.create_token("root", "admin", by="setup")).token
        app = create_app(kernel, max_body=4096, heartbeat_s=0.05)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {admin}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            body = {"name": "wipe", "kind": "command", "argv": ["true"], "risk": "low"}
            assert (await client.post("/api/runbooks", json=body, headers=headers)).is_success
            made = await client.post("/api/agents", json={"name": "zed"}, headers=headers)
            assert made.status_code == 201
            trail = (await client.get("/api/audit", headers=headers)).json()
    events = [(e["event"], e["actor"]) for e in trail]
    assert ("runbook_added", "token:root") in events
    assert ("agent_created", "token:root") in events


def test_by_is_a_note_beside_the_os_user_never_the_actor(cli: CliRunner, db_path: Path) -> None:
    _define(cli, db_path.parent)
    assert cli("runbook", "remove", "hello").code == 0
    risky = cli(
        "runbook", "add", "risky", "--command", f"{sys.executable} -c pass", "--risk", "high"
    )
    assert risky.code == 0, risky.err
    asked = cli("task", "anna", "run risky on shop", "--json").json()
    assert asked["status"] == "awaiting_approval"
    denied = cli("approvals", "--deny", str(asked["approval_id"]), "--by", "token:admin")
    assert denied.code == 0, denied.err
    trail = cli("audit", "--json").json()
    assert not any(e["actor"] == "token:admin" for e in trail)
    (decision,) = [e for e in trail if e["event"] == "denied"]
    assert decision["actor"] == ME and json.loads(decision["detail"])["note"] == "token:admin"


def test_chat_as_is_a_note_too(cli: CliRunner, db_path: Path) -> None:
    _define(cli, db_path.parent)
    cli("runbook", "add", "risky", "--command", f"{sys.executable} -c pass", "--risk", "high")
    asked = cli("task", "anna", "run risky on shop", "--json").json()
    said = cli("chat", "anna", f"deny {asked['approval_id']}", "--as", "token:admin")
    assert said.code == 0, said.err
    trail = cli("audit", "--json").json()
    assert not any(e["actor"] == "token:admin" for e in trail)
    (decision,) = [e for e in trail if e["event"] == "denied"]
    assert decision["actor"] == ME and json.loads(decision["detail"])["note"] == "token:admin"


def _forge_append(db_path: Path) -> None:
    """What anyone with write access to the file can do: append a row whose sha256 chain hash
    is recomputed by the published rule."""
    ((last_id, last_hash),) = _rows(db_path, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
    fields = (1_900_000_000.0, "token:admin", "approved", None, None, None, "{}", "all fine")
    digest = entry_hash(str(last_hash), *fields)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO audit (id, ts, actor, event, agent, action, target, detail, why, "
            "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (int(str(last_id)) + 1, *fields, last_hash, digest),
        )


def test_the_chain_is_keyed_so_a_forged_row_with_its_own_hash_is_caught(
    cli: CliRunner, db_path: Path
) -> None:
    _define(cli, db_path.parent)
    key = db_path.with_name(db_path.name + ".audit-key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() not in db_path.read_bytes()
    _forge_append(db_path)
    verdict = cli("audit", "--verify", "--json")
    assert verdict.code == 1
    assert verdict.json()["first_bad"] == 4 and "altered" in verdict.json()["reason"]


def test_the_anchor_catches_a_deleted_or_rewritten_tail(cli: CliRunner, db_path: Path) -> None:
    _define(cli, db_path.parent)
    anchor = cli("audit", "--anchor")
    assert anchor.code == 0, anchor.err
    head = anchor.out.strip()
    ((last_id, last_hash),) = _rows(db_path, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
    assert head == f"{last_id}:{last_hash}"
    assert cli("audit", "--anchor", "--json").json() == {"id": last_id, "mac": last_hash}
    assert cli("audit", "--verify", "--anchor", head).code == 0
    assert cli("agent", "create", "ben").code == 0  # the log grows past the anchor: fine
    assert cli("audit", "--verify", "--anchor", head).code == 0

    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM audit WHERE id >= ?", (last_id,))
    cut = cli("audit", "--verify", "--anchor", head, "--json")
    assert cut.code == 1 and "anchor" in cut.json()["reason"]
    assert cli("audit", "--verify").code == 0  # without the anchor a cut tail is invisible

    _forge_append(db_path)  # "rewrite" the tail: a new row where the anchored one was
    rewritten = cli("audit", "--verify", "--anchor", head, "--json")
    assert rewritten.code == 1 and rewritten.json()["ok"] is False

    for bad in ("", "x", "3", "3:zz", "-1:" + "0" * 64, f"{2**64}:" + "0" * 64):
        refused = cli("audit", "--verify", "--anchor", bad)
        assert refused.code == 2 and refused.err.count("\n") == 1, (bad, refused.err)
        assert "Traceback" not in refused.err


def test_malformed_rows_are_reported_as_altered_and_listed_never_a_crash(
    cli: CliRunner, db_path: Path
) -> None:
    _define(cli, db_path.parent)
    for sql in (
        "UPDATE audit SET id = 0 WHERE id = 1",
        "UPDATE audit SET id = -5 WHERE id = 1",
        "UPDATE audit SET ts = 'yesterday' WHERE id = 2",
        "UPDATE audit SET detail = x'00ff' WHERE id = 2",
        "UPDATE audit SET actor = x'00ff' WHERE id = 3",
    ):
        copy = db_path.with_name("copy.db")
        copy.write_bytes(db_path.read_bytes())
        key = db_path.with_name(db_path.name + ".audit-key")
        copy.with_name(copy.name + ".audit-key").write_bytes(key.read_bytes())
        with sqlite3.connect(copy) as conn:
            conn.execute(sql)
        verdict = cli("audit", "--verify", "--json", db=copy)
        listed = cli("audit", "--json", db=copy)
        assert verdict.code == 1 and "Traceback" not in verdict.err, (sql, verdict.err)
        assert verdict.json()["ok"] is False and "altered" in verdict.json()["reason"], sql
        assert listed.code == 0, (sql, listed.err)
        # `audit` and `--verify` agree on which rows exist
        assert len(listed.json()) == verdict.json()["entries"] == 3, sql
        assert cli("audit", db=copy).code == 0
        copy.unlink()


def test_an_old_unkeyed_log_is_verified_by_the_old_rule_up_to_a_marker(
    cli: CliRunner, db_path: Path
) -> None:
    async def empty() -> None:  # a database as an older version left it, with no key file
        await (await Database.open(db_path)).close()

    asyncio.run(empty())
    prev = GENESIS
    with sqlite3.connect(db_path) as conn:
        for i in range(3):
            fields = (1_800_000_000.0 + i, "operator", "approved", None, None, None, "{}", "")
            digest = entry_hash(prev, *fields)
            conn.execute(
                "INSERT INTO audit (ts, actor, event, agent, action, target, detail, why, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*fields, prev, digest),
            )
            prev = digest
    assert cli("audit", "--verify").code == 0
    assert cli("agent", "create", "anna").code == 0
    trail = list(reversed(cli("audit", "--json").json()))
    assert [e["event"] for e in trail][3:] == ["audit_keyed", "agent_created"]
    assert json.loads(trail[3]["detail"])["unkeyed_entries"] == 3
    assert cli("audit", "--verify", "--json").json() == {
        "ok": True,
        "entries": 5,
        "first_bad": None,
        "reason": "",
    }
    # an unkeyed row after the marker is a forgery
    _forge_append(db_path)
    assert cli("audit", "--verify", "--json").json()["first_bad"] == 6


async def test_a_request_the_loop_withdraws_is_audited(db_path: Path) -> None:
    """The target recovers while its remedy waits for a person: the autonomous loop withdraws
    the request, and that decision about an approval is in the chain too."""
    from agent.clock import VirtualClock
    from agent.core.autopilot import Autopilot
    from agent.events import IncidentChanged, KernelEvent
    from tests.service import ControlledService, define_shop

    clock = VirtualClock()
    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            await define_shop(kernel, service, risk="high", failure_threshold=2)
            await kernel.create_agent("ben", "bold")

            def follow(event: KernelEvent) -> None:
                if isinstance(event, IncidentChanged) and event.status == "awaiting_approval":
                    service.healthy = True

            kernel.bus.subscribe(follow)
            autopilot = Autopilot(kernel, approval_policy="human", clock=clock)
            await autopilot.run(asyncio.Event(), duration_s=200.0)
            trail = await kernel.audit_entries()
            verdict = await kernel.verify_audit()
    assert [a.status for a in [*autopilot.closed]] == ["recovered"]
    (withdrawn,) = [e for e in trail if e.event == "withdrawn"]
    assert withdrawn.actor == "ben" and withdrawn.action == "fix-shop"
    assert json.loads(withdrawn.detail)["approval_id"] == 1
    assert verdict.ok


def test_a_missing_key_is_named_by_verify_and_locks_nothing_else(
    cli: CliRunner, db_path: Path
) -> None:
    _define(cli, db_path.parent)
    key = db_path.with_name(db_path.name + ".audit-key")
    key.rename(db_path.with_name("kept-elsewhere"))
    verdict = cli("audit", "--verify")
    assert verdict.code == 1 and "audit key" in verdict.out and "missing" in verdict.out
    assert cli("agent", "list").code == 0 and len(cli("audit", "--json").json()) == 3
    # appending goes on under a new key, after a marker; the old entries then fail to verify
    # under it, and the message says the key may be the cause
    assert cli("agent", "create", "ben").code == 0
    again = cli("audit", "--verify", "--json").json()
    assert again["first_bad"] == 1 and "not the one it was made with" in again["reason"]
    key.unlink()
    db_path.with_name("kept-elsewhere").rename(key)  # the right key back: only the new tail
    back = cli("audit", "--verify", "--json").json()
    assert back["first_bad"] == 4 and back["ok"] is False
