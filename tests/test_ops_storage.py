"""Ops storage on a real SQLite file: targets, runbooks, secrets, skills, samples, audit chain."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.database import Database
from storage.errors import DuplicateKey, StorageError
from storage.repositories import audit as audit_module
from storage.repositories import audit_chain
from storage.repositories.agents import AgentRepository
from storage.repositories.audit import GENESIS, AuditRepository, entry_hash
from storage.repositories.check_samples import CheckSampleRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.skills import SkillRepository
from storage.repositories.targets import TargetRepository
from storage.secrets import SecretBox
from storage.tables import AgentRow, CheckSampleRow, RunbookRow, SkillRow, TargetRow
from tests.raw_sql import raw as _raw

# Each test on a `db_path` runs on SQLite and on PostgreSQL (tests/pg_fixtures.py).
pytestmark = pytest.mark.both_backends

T0 = 1_800_000_000.0


def _target(
    name: str, *, at: float = T0, address: str = "https://shop.example/health"
) -> TargetRow:
    return TargetRow(
        name=name,
        kind="http",
        address=address,
        interval_s=30.0,
        timeout_s=5.0,
        criticality="high",
        conditions=json.dumps(["status == 200", "latency_ms < 300"]),
        created_at=at,
        updated_at=at,
    )


def _runbook(name: str, *, at: float = T0, address: str = "systemctl") -> RunbookRow:
    return RunbookRow(
        name=name,
        kind="command",
        spec=json.dumps({"argv": [address, "restart", name], "env": {}}),
        risk="medium",
        timeout_s=60.0,
        verify_target="shop",
        description=f"restart {name}",
        created_at=at,
        updated_at=at,
    )


NAMED = pytest.mark.parametrize(
    ("thing", "repository", "make"),
    [("target", TargetRepository, _target), ("runbook", RunbookRepository, _runbook)],
)
Make = Callable[..., Any]


# --- targets and runbooks -------------------------------------------------------------------


@NAMED
async def test_named_rows_survive_close_and_reopen(
    db_path: Path, thing: str, repository: Any, make: Make
) -> None:
    db = await Database.open(db_path)
    repo = repository(db)
    added = await repo.add(make("shop"))
    await repo.add(make("api", at=T0 + 1))
    await repo.add(make("blog"))
    await db.close()

    db = await Database.open(db_path)
    repo = repository(db)
    names = [r.name for r in await repo.list()]
    shop = await repo.get("shop")
    missing = await repo.get("nope")
    removed = (await repo.remove("blog"), await repo.remove("blog"))
    await db.close()

    db = await Database.open(db_path)
    after = [r.name for r in await repository(db).list()]
    await db.close()
    assert added.id is not None
    assert names == ["api", "blog", "shop"]
    assert shop is not None
    assert shop.model_dump() == make("shop").model_dump() | {"id": added.id}
    assert missing is None
    assert removed == (True, False)
    assert after == ["api", "shop"]


@NAMED
async def test_duplicate_name_is_refused_and_nothing_changes(
    db_path: Path, thing: str, repository: Any, make: Make
) -> None:
    db = await Database.open(db_path)
    repo = repository(db)
    await repo.add(make("shop"))
    with pytest.raises(DuplicateKey, match=f"^a {thing} named 'shop' already exists$"):
        await repo.add(make("shop", at=T0 + 5, address="changed"))
    rows = await repo.list()
    await db.close()
    assert [r.model_dump(exclude={"id"}) for r in rows] == [make("shop").model_dump(exclude={"id"})]


@NAMED
async def test_replace_inserts_then_updates_keeping_created_at(
    db_path: Path, thing: str, repository: Any, make: Make
) -> None:
    db = await Database.open(db_path)
    repo = repository(db)
    first = await repo.replace(make("shop"))
    incoming = make("shop", at=T0 + 100, address="changed")
    second = await repo.replace(incoming)
    await db.close()

    db = await Database.open(db_path)
    rows = await repository(db).list()
    await db.close()
    assert incoming.id is None and incoming.created_at == T0 + 100  # the argument is untouched
    assert len(rows) == 1
    (stored,) = rows
    assert stored.id == first.id == second.id
    assert (stored.created_at, stored.updated_at) == (T0, T0 + 100)
    assert stored.model_dump(exclude={"id", "created_at"}) == incoming.model_dump(
        exclude={"id", "created_at"}
    )
    assert second.model_dump() == stored.model_dump()


# --- secrets --------------------------------------------------------------------------------


@pytest.mark.sqlite_only  # the key file lives beside the database file
def test_secret_box_round_trip_and_key_file(db_path: Path) -> None:
    box = SecretBox.for_database(db_path)
    key_file = db_path.parent / "webops.db.key"
    token = box.encrypt("hunter2 ✓")
    key = key_file.read_bytes()
    again = SecretBox.for_database(db_path)

    assert box.key_path == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "hunter2" not in token
    assert box.decrypt(token) == "hunter2 ✓"
    assert again.decrypt(token) == "hunter2 ✓"
    assert key_file.read_bytes() == key
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["webops.db.key"]
    assert SecretBox.mask("hunter2") == SecretBox.mask("") == "******"


def test_a_different_key_or_a_damaged_token_cannot_decrypt(tmp_path: Path) -> None:
    token = SecretBox.for_database(tmp_path / "a.db").encrypt("hunter2")
    other = SecretBox.for_database(tmp_path / "b.db")
    with pytest.raises(StorageError, match="key file does not match this database"):
        other.decrypt(token)
    with pytest.raises(StorageError, match="cannot decrypt runbook secrets"):
        SecretBox.for_database(tmp_path / "a.db").decrypt(token[:-4] + "AAAA")
    (tmp_path / "c.db.key").write_text("not a key")
    with pytest.raises(StorageError, match="damaged"):
        SecretBox.for_database(tmp_path / "c.db")


def test_racing_processes_agree_on_one_key(tmp_path: Path) -> None:
    """Key creation never replaces a key another caller already made (and may have used)."""
    path = tmp_path / "fresh" / "webops.db"
    with ThreadPoolExecutor(8) as pool:
        boxes = list(pool.map(lambda _: SecretBox.for_database(path), range(16)))
    token = boxes[0].encrypt("s3cret")
    assert {box.decrypt(token) for box in boxes} == {"s3cret"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["webops.db.key"]


def test_key_file_permissions_are_exact_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        SecretBox.for_database(tmp_path / "webops.db")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "webops.db.key").stat().st_mode) == 0o600


async def test_stored_runbook_secrets_are_not_plaintext(db_path: Path) -> None:
    db = await Database.open(db_path)
    assert db.keys_path is not None
    box = SecretBox.for_database(db.keys_path)
    row = _runbook("restart-shop")
    row.secrets = json.dumps({"token": box.encrypt("tok-PLAINTEXT-42")})
    await RunbookRepository(db).add(row)
    await db.close()

    ((raw,),) = _raw(db_path, "SELECT secrets FROM runbook")
    assert "tok-PLAINTEXT-42" not in raw
    if isinstance(db_path, Path):  # a server's rows are read above; a file is read whole too
        assert b"tok-PLAINTEXT-42" not in db_path.read_bytes()
    db = await Database.open(db_path)
    stored = await RunbookRepository(db).get("restart-shop")
    await db.close()
    assert stored is not None
    secrets = json.loads(stored.secrets)
    assert box.decrypt(secrets["token"]) == "tok-PLAINTEXT-42"


# --- skills and check samples ---------------------------------------------------------------


async def _agent(db: Database, name: str) -> int:
    row = await AgentRepository(db).add(
        AgentRow(
            name=name,
            openness=0.5,
            conscientiousness=0.5,
            extraversion=0.5,
            agreeableness=0.5,
            neuroticism=0.5,
            created_at=T0,
            updated_at=T0,
        )
    )
    assert row.id is not None
    return row.id


def _skill(agent_id: int, name: str, proficiency: float, practice: int = 0) -> SkillRow:
    return SkillRow(
        agent_id=agent_id,
        name=name,
        proficiency=proficiency,
        practice_count=practice,
        successes=practice,
        learned_at=T0,
        last_practiced_at=T0 + practice if practice else None,
    )


async def test_skills_upsert_by_agent_and_name_across_reopen(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna, ben = await _agent(db, "anna"), await _agent(db, "ben")
    repo = SkillRepository(db)
    await repo.save([_skill(anna, "restart", 0.2), _skill(anna, "diagnose", 0.1)])
    await repo.save([_skill(ben, "restart", 0.9, 7)])
    await repo.save([])
    await db.close()

    db = await Database.open(db_path)
    repo = SkillRepository(db)
    await repo.save([_skill(anna, "restart", 0.35, 3), _skill(anna, "rollback", 0.05)])
    await db.close()

    db = await Database.open(db_path)
    repo = SkillRepository(db)
    anna_skills, ben_skills = await repo.for_agent(anna), await repo.for_agent(ben)
    await db.close()
    assert [s.model_dump(exclude={"id"}) for s in anna_skills] == [
        _skill(anna, "diagnose", 0.1).model_dump(exclude={"id"}),
        _skill(anna, "restart", 0.35, 3).model_dump(exclude={"id"}),
        _skill(anna, "rollback", 0.05).model_dump(exclude={"id"}),
    ]
    assert [(s.name, s.proficiency) for s in ben_skills] == [("restart", 0.9)]
    assert len({s.id for s in anna_skills}) == 3


def _sample(target: str, i: int) -> CheckSampleRow:
    return CheckSampleRow(
        target=target, ts=T0 + i, healthy=int(i % 3 != 0), latency_ms=None if i == 4 else i * 1.5
    )


async def test_check_samples_history_and_trim(db_path: Path) -> None:
    db = await Database.open(db_path)
    repo = CheckSampleRepository(db)
    await repo.add_many([_sample("shop", i) for i in range(10)])
    await repo.add_many([_sample("api", i) for i in range(3)])
    await repo.add_many([])
    await db.close()

    db = await Database.open(db_path)
    repo = CheckSampleRepository(db)
    last_four = await repo.history("shop", limit=4)
    everything = await repo.history("shop")
    trimmed = (await repo.trim("shop", keep=6), await repo.trim("shop", keep=6))
    await db.close()

    db = await Database.open(db_path)
    repo = CheckSampleRepository(db)
    kept = await repo.history("shop")
    api = await repo.history("api")
    with pytest.raises(ValueError):
        await repo.trim("shop", keep=-1)
    gone = await repo.trim("shop", keep=0)
    await db.close()

    def strip(rows: list[CheckSampleRow]) -> list[dict[str, Any]]:
        return [r.model_dump(exclude={"id"}) for r in rows]

    assert strip(last_four) == strip([_sample("shop", i) for i in range(6, 10)])
    assert strip(everything) == strip([_sample("shop", i) for i in range(10)])
    assert trimmed == (4, 0)
    assert strip(kept) == strip([_sample("shop", i) for i in range(4, 10)])
    assert strip(api) == strip([_sample("api", i) for i in range(3)])
    assert gone == 6


# --- the audit chain ------------------------------------------------------------------------


def _entry(i: int) -> dict[str, Any]:
    return {
        "actor": "agent" if i % 2 else "operator",
        "event": "action",
        "agent": "anna" if i % 3 else None,
        "action": "restart",
        "target": "shop",
        "detail": {"n": i, "argv": ["systemctl", "restart", "shop"], "ok": True},
        "why": f"entry {i}: checkout returned 503",
        "ts": T0 + i,
    }


async def _chain(db_path: Path, n: int) -> None:
    db = await Database.open(db_path)
    repo = AuditRepository(db)
    await repo.append(**_entry(1))
    await repo.append_many([_entry(i) for i in range(2, n)])
    await repo.append(**_entry(n))
    await db.close()


async def _verify(db_path: Path) -> audit_module.AuditVerification:
    db = await Database.open(db_path)
    result = await AuditRepository(db).verify()
    await db.close()
    return result


async def test_a_chain_verifies_and_lists_newest_first(db_path: Path) -> None:
    db = await Database.open(db_path)
    repo = AuditRepository(db)
    empty = (await repo.verify(), await repo.count())
    first = await repo.append(**_entry(1))
    await repo.append_many([_entry(i) for i in range(2, 6)])
    await repo.append_many([])
    await db.close()

    db = await Database.open(db_path)
    repo = AuditRepository(db)
    result = await repo.verify()
    newest = await repo.list(limit=3)
    annas = await repo.list(agent="anna")
    total = await repo.count()
    await db.close()

    assert empty == (audit_module.AuditVerification(True, 0, None, ""), 0)
    assert (first.id, first.prev_hash) == (1, GENESIS)
    assert first.detail == '{"argv":["systemctl","restart","shop"],"n":1,"ok":true}'
    assert result == audit_module.AuditVerification(ok=True, entries=5, first_bad=None, reason="")
    assert [r.id for r in newest] == [5, 4, 3]
    assert [r.id for r in annas] == [5, 4, 2, 1]
    assert total == 5
    assert newest[0].prev_hash == newest[1].hash


async def test_bad_entries_are_refused_before_anything_is_written(db_path: Path) -> None:
    db = await Database.open(db_path)
    repo = AuditRepository(db)
    with pytest.raises(ValueError, match="finite"):
        await repo.append(actor="x", event="y", ts=float("nan"))
    with pytest.raises(TypeError):
        await repo.append_many([_entry(1), {**_entry(2), "colour": "red"}])
    count = await repo.count()
    await db.close()
    assert count == 0


@pytest.mark.parametrize(
    ("column", "value"), [("detail", '{"n":3,"ok":false}'), ("why", "nothing to see")]
)
async def test_editing_an_entry_names_it(db_path: Path, column: str, value: str) -> None:
    await _chain(db_path, 6)
    _raw(db_path, f"UPDATE audit SET {column} = ? WHERE id = 3", value)
    result = await _verify(db_path)
    assert (result.ok, result.entries, result.first_bad) == (False, 6, 3)
    assert "entry 3 was altered" in result.reason


async def test_deleting_an_entry_is_caught_after_the_gap(db_path: Path) -> None:
    await _chain(db_path, 6)
    _raw(db_path, "DELETE FROM audit WHERE id = 3")
    result = await _verify(db_path)
    assert (result.ok, result.entries, result.first_bad) == (False, 5, 4)
    # SQLite numbers rows densely, so a gap is a deletion; a server's sequence may skip
    # numbers, so there the broken link names it.
    assert "entry 3 is missing" in result.reason or (
        not isinstance(db_path, Path) and "entry 4 does not link" in result.reason
    )


async def test_rehashing_an_entry_by_the_published_rule_is_caught_at_that_entry(
    db_path: Path,
) -> None:
    """The chain is keyed: a sha256 recomputed by anyone with the file no longer passes."""
    await _chain(db_path, 6)
    ((prev, ts, actor, event, agent, action, target, why),) = _raw(
        db_path,
        "SELECT prev_hash, ts, actor, event, agent, action, target, why FROM audit WHERE id = 3",
    )
    detail = '{"n":3,"ok":false}'
    forged = entry_hash(prev, ts, actor, event, agent, action, target, detail, why)
    _raw(db_path, "UPDATE audit SET detail = ?, hash = ? WHERE id = 3", detail, forged)
    result = await _verify(db_path)
    assert (result.ok, result.first_bad) == (False, 3)
    assert "entry 3 was altered" in result.reason


async def test_verify_walks_across_chunks(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_chain, "_VERIFY_CHUNK", 3)
    await _chain(db_path, 20)
    assert await _verify(db_path) == audit_module.AuditVerification(True, 20, None, "")
    _raw(db_path, "DELETE FROM audit WHERE id IN (7, 8)")
    _raw(db_path, "UPDATE audit SET why = 'x' WHERE id = 16")
    result = await _verify(db_path)
    assert (result.ok, result.entries, result.first_bad) == (False, 18, 9)
    assert "entries 7-8 are missing" in result.reason or (
        not isinstance(db_path, Path) and "entry 9 does not link" in result.reason
    )


async def test_two_databases_appending_at_once_form_one_chain(db_path: Path) -> None:
    first, second = await Database.open(db_path), await Database.open(db_path)
    repos = [AuditRepository(first), AuditRepository(second)]
    await asyncio.gather(*(repos[i % 2].append(**_entry(i)) for i in range(100)))
    await first.close()
    await second.close()
    assert await _verify(db_path) == audit_module.AuditVerification(True, 100, None, "")
    details = _raw(db_path, "SELECT detail FROM audit")
    assert sorted(json.loads(detail)["n"] for (detail,) in details) == list(range(100))


_texts = st.text(max_size=12)
_entries = st.fixed_dictionaries(
    {
        "actor": _texts,
        "event": _texts,
        "agent": st.none() | _texts,
        "action": st.none() | _texts,
        "target": st.none() | _texts,
        "detail": st.none()
        | st.dictionaries(
            _texts,
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | _texts,
            max_size=4,
        ),
        "why": _texts,
        "ts": st.floats(allow_nan=False, allow_infinity=False),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_entries, min_size=1, max_size=4), max_size=6))
def test_any_appended_entries_verify_and_round_trip(batches: list[list[dict[str, Any]]]) -> None:
    async def scenario(path: Path) -> tuple[audit_module.AuditVerification, list[Any]]:
        db = await Database.open(path)
        repo = AuditRepository(db)
        for batch in batches:
            if len(batch) == 1:
                await repo.append(**batch[0])
            else:
                await repo.append_many(batch)
        await db.close()
        db = await Database.open(path)
        repo = AuditRepository(db)
        result, rows = await repo.verify(), await repo.list(limit=1_000)
        await db.close()
        return result, rows

    with tempfile.TemporaryDirectory() as tmp:
        result, rows = asyncio.run(scenario(Path(tmp) / "webops.db"))
    sent = [entry for batch in batches for entry in batch]
    assert result == audit_module.AuditVerification(True, len(sent), None, "")
    got = [
        {
            "actor": r.actor,
            "event": r.event,
            "agent": r.agent,
            "action": r.action,
            "target": r.target,
            "detail": json.loads(r.detail) or None,
            "why": r.why,
            "ts": r.ts,
        }
        for r in reversed(rows)
    ]
    assert got == [e | {"detail": e["detail"] or None} for e in sent]
