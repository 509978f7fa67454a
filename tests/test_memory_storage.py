"""Memory repositories on a real SQLite file: round trips, the bulk path, ids, retention."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.database import Database
from storage.errors import DuplicateKey, StorageError
from storage.repositories.action_values import ActionValueRepository
from storage.repositories.agents import AgentRepository
from storage.repositories.episodes import EpisodeRepository, EpisodeTuple
from storage.repositories.facts import FactRepository
from storage.repositories.procedures import ProcedureRepository
from storage.tables import ActionValueRow, AgentRow, EpisodeRow, ProcedureRow
from tests.raw_sql import raw

# Each test on a `db_path` runs on SQLite and on PostgreSQL (tests/pg_fixtures.py).
pytestmark = pytest.mark.both_backends

T0 = 1_800_000_000.0


def _agent(name: str) -> AgentRow:
    return AgentRow(
        name=name,
        openness=0.1,
        conscientiousness=0.2,
        extraversion=0.3,
        agreeableness=0.4,
        neuroticism=0.5,
        created_at=T0,
        updated_at=T0,
    )


async def _add_agent(db: Database, name: str) -> int:
    row = await AgentRepository(db).add(_agent(name))
    assert row.id is not None
    return row.id


def _embedding(i: int, dims: int = 64) -> bytes:
    return random.Random(i).randbytes(4 * dims)


def _episode(
    episode_id: int,
    agent_id: int,
    *,
    ts: float | None = None,
    importance: float = 0.5,
    kind: str = "stimulus",
) -> EpisodeRow:
    return EpisodeRow(
        id=episode_id,
        agent_id=agent_id,
        kind=kind,
        situation="http.5xx",
        summary=f"episode {episode_id}: checkout returned 503",
        details=json.dumps({"n": episode_id, "status": 503}),
        importance=importance,
        embedding=_embedding(episode_id),
        ts=T0 + episode_id if ts is None else ts,
    )


def _tuple(episode_id: int, agent_id: int) -> EpisodeTuple:
    return (
        episode_id,
        agent_id,
        "stimulus",
        None,
        f"episode {episode_id}",
        "{}",
        (episode_id % 10) / 10,
        _embedding(episode_id),
        T0 + episode_id,
        0,
    )


def _count(location: Path | str, table: str) -> int:
    return int(raw(location, f"SELECT count(*) FROM {table}")[0][0])


# --- episodes -------------------------------------------------------------------------------


async def test_episodes_survive_close_and_reopen(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    ben = await _add_agent(db, "ben")
    await EpisodeRepository(db).add_many(
        [_episode(i, anna, kind="decision" if i % 2 else "stimulus") for i in range(1, 11)]
        + [_episode(100, ben)]
    )
    await db.close()

    db = await Database.open(db_path)
    repo = EpisodeRepository(db)
    got = await repo.get([7, 999, 3, 100])
    recent = await repo.recent(anna, limit=3)
    decisions = await repo.recent(anna, kind="decision")
    counts = (await repo.count(anna), await repo.count(ben))
    await db.close()

    assert [e.id for e in got] == [7, 3, 100]
    assert got[0] == _episode(7, anna, kind="decision")
    assert [e.id for e in recent] == [10, 9, 8]
    assert [e.id for e in decisions] == [9, 7, 5, 3, 1]
    assert counts == (10, 1)


async def test_bulk_add_of_10000_comes_back_in_id_order_with_identical_bytes(
    db_path: Path,
) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    ben = await _add_agent(db, "ben")
    ids = list(range(1, 10_001))
    random.Random(7).shuffle(ids)
    # Time runs against the ids, so the (agent_id, ts) index yields them backwards.
    rows = [_episode(i, anna, importance=i / 10_000, ts=T0 - i) for i in ids]
    repo = EpisodeRepository(db)
    await repo.add_many(rows)
    await repo.add_many([_episode(20_000, ben)])
    await db.close()

    db = await Database.open(db_path)
    columns = await EpisodeRepository(db).load_columns(anna)
    await db.close()
    assert columns.ids == list(range(1, 10_001))
    assert columns.embeddings == [_embedding(i) for i in range(1, 10_001)]
    assert columns.ts == [T0 - i for i in range(1, 10_001)]
    assert columns.importance == [i / 10_000 for i in range(1, 10_001)]
    assert all(type(e) is bytes for e in columns.embeddings[:10])


async def test_add_tuples_accepts_any_sequence(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = EpisodeRepository(db)
    await repo.add_tuples(tuple(_tuple(i, anna) for i in range(1, 4)))
    await repo.add_tuples([])
    assert (await repo.load_columns(anna)).ids == [1, 2, 3]
    await db.close()


async def test_portable_branch_stores_the_same_rows(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Core insert used off SQLite, exercised here by hiding the dialect's name."""
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = EpisodeRepository(db)
    monkeypatch.setattr(db.engine.dialect, "name", "portable")
    await repo.add_many([_episode(i, anna) for i in (3, 1, 2)])
    with pytest.raises(DuplicateKey):
        await repo.add_many([_episode(4, anna), _episode(1, anna)])
    monkeypatch.undo()
    got = await repo.get([1, 2, 3, 4])
    await db.close()
    assert got == [_episode(i, anna) for i in (1, 2, 3)]


async def test_a_taken_episode_id_is_a_storage_error_and_already_exists(db_path: Path) -> None:
    """One error tree: what storage refuses is caught as storage's and as the kernel's error."""
    from agent import errors

    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = EpisodeRepository(db)
    await repo.add_many([_episode(1, anna)])
    with pytest.raises(errors.AlreadyExists) as refused:
        await repo.add_many([_episode(1, anna)])
    await db.close()
    assert isinstance(refused.value, StorageError) and isinstance(refused.value, DuplicateKey)
    assert refused.value.exit_code == 2
    assert errors.StorageError is StorageError and errors.DuplicateKey is DuplicateKey


async def test_duplicate_id_in_a_batch_stores_none_of_it(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = EpisodeRepository(db)
    await repo.add_many([_episode(i, anna) for i in range(1, 6)])
    with pytest.raises(DuplicateKey):
        await repo.add_many([_episode(i, anna) for i in (10, 11, 12, 11, 13)])
    with pytest.raises(DuplicateKey):
        await repo.add_many([_episode(i, anna) for i in (20, 21, 3, 22)])
    with pytest.raises(StorageError, match=r"(?i)foreign key"):
        await repo.add_tuples([_tuple(30, anna), _tuple(31, anna + 99)])
    await db.close()

    db = await Database.open(db_path)
    columns = await EpisodeRepository(db).load_columns(anna)
    await db.close()
    assert columns.ids == [1, 2, 3, 4, 5]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, 10**9), unique=True, max_size=300),
    st.lists(st.integers(1, 80), max_size=10),
)
def test_batches_come_back_exactly_once(ids: list[int], sizes: list[int]) -> None:
    """However the ids are cut into batches, each stored episode is read back once."""
    batches: list[list[int]] = []
    rest = ids
    for size in sizes:
        batches.append(rest[:size])
        rest = rest[size:]
    batches.append(rest)

    async def scenario(path: Path) -> tuple[list[int], int, list[int]]:
        db = await Database.open(path)
        anna = await _add_agent(db, "anna")
        repo = EpisodeRepository(db)
        for batch in batches:
            await repo.add_many([_episode(i, anna, ts=float(i % 1000)) for i in batch])
        await db.close()
        db = await Database.open(path)
        repo = EpisodeRepository(db)
        columns = await repo.load_columns(anna)
        total = await repo.count(anna)
        got = [e.id for e in await repo.get(ids)]
        await db.close()
        return columns.ids, total, got

    with tempfile.TemporaryDirectory() as tmp:
        stored, total, got = asyncio.run(scenario(Path(tmp) / "webops.db"))
    assert stored == sorted(ids)
    assert total == len(ids)
    assert got == ids


async def test_reserved_ids_never_overlap_across_databases(db_path: Path) -> None:
    first = await Database.open(db_path)
    second = await Database.open(db_path)
    counts = [1, 5, 17, 2, 100, 3, 8, 1, 40, 9] * 4
    repos = [EpisodeRepository(first), EpisodeRepository(second)]
    ranges = await asyncio.gather(*(repos[i % 2].reserve_ids(n) for i, n in enumerate(counts)))
    assert await repos[0].reserve_ids(0) == range(0)
    await first.close()
    await second.close()

    taken = [i for r in ranges for i in r]
    assert [len(r) for r in ranges] == counts
    assert sorted(taken) == list(range(1, sum(counts) + 1))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=20))
def test_reserved_ids_are_disjoint_for_any_counts(counts: list[int]) -> None:
    async def scenario(path: Path) -> list[range]:
        dbs = [await Database.open(path), await Database.open(path)]
        try:
            repos = [EpisodeRepository(db) for db in dbs]
            return list(
                await asyncio.gather(*(repos[i % 2].reserve_ids(n) for i, n in enumerate(counts)))
            )
        finally:
            for db in dbs:
                await db.close()

    with tempfile.TemporaryDirectory() as tmp:
        ranges = asyncio.run(scenario(Path(tmp) / "webops.db"))
    taken = [i for r in ranges for i in r]
    assert [len(r) for r in ranges] == counts
    assert sorted(taken) == list(range(1, sum(counts) + 1))


_RESERVER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from storage.database import Database
    from storage.repositories.episodes import EpisodeRepository

    async def main() -> None:
        location = sys.argv[1]
        db = await Database.open(location if "://" in location else Path(location))
        repo = EpisodeRepository(db)
        for _ in range(150):
            r = await repo.reserve_ids(3)
            print(r.start, r.stop)
        await db.close()

    asyncio.run(main())
    """
)


async def test_reserved_ids_never_overlap_across_processes(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.close()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _RESERVER,
            str(db_path),
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[1],
        )
        for _ in range(3)
    ]
    outputs = [await p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    taken = [
        i
        for out, _ in outputs
        for line in out.decode().splitlines()
        for i in range(*map(int, line.split()))
    ]
    assert sorted(taken) == list(range(1, 3 * 150 * 3 + 1))


async def test_compress_drops_details_and_keeps_the_rest(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    ben = await _add_agent(db, "ben")
    repo = EpisodeRepository(db)
    await repo.add_many([_episode(i, anna, ts=float(i)) for i in range(1, 11)])
    await repo.add_many([_episode(50, ben, ts=1.0)])
    assert await repo.compress(anna, before_ts=6.0) == 5
    assert await repo.compress(anna, before_ts=6.0) == 0
    await db.close()

    db = await Database.open(db_path)
    repo = EpisodeRepository(db)
    rows = await repo.get([*range(1, 11), 50])
    await db.close()
    for row in rows:
        original = _episode(row.id, row.agent_id, ts=row.ts)
        old = row.agent_id == anna and row.ts < 6.0
        assert (row.details is None, row.compressed) == ((True, 1) if old else (False, 0))
        assert (row.summary, row.embedding, row.importance) == (
            original.summary,
            original.embedding,
            original.importance,
        )


async def test_trim_forgets_least_important_then_oldest(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    ben = await _add_agent(db, "ben")
    repo = EpisodeRepository(db)
    # id: (importance, ts). Ties on importance are broken by age, not by id.
    spec = {
        1: (0.9, 10.0),
        2: (0.1, 30.0),
        3: (0.1, 20.0),
        4: (0.5, 5.0),
        5: (0.1, 40.0),
        6: (0.7, 1.0),
        7: (0.5, 6.0),
    }
    await repo.add_many([_episode(i, anna, importance=m, ts=t) for i, (m, t) in spec.items()])
    await repo.add_many([_episode(100 + i, ben, importance=0.0) for i in range(3)])

    assert await repo.trim(anna, keep=10) == []
    deleted = await repo.trim(anna, keep=3)
    assert deleted == [3, 2, 5, 4]
    assert await repo.trim(anna, keep=3) == []
    await db.close()

    db = await Database.open(db_path)
    repo = EpisodeRepository(db)
    kept = (await repo.load_columns(anna)).ids
    assert await repo.count(ben) == 3
    assert await repo.trim(anna, keep=0) == [7, 6, 1]
    assert await repo.count(anna) == 0
    await db.close()
    assert kept == [1, 6, 7]


# --- facts, procedures, action values -------------------------------------------------------


async def test_fact_upsert_revises_in_place(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = FactRepository(db)
    first = await repo.upsert(anna, "checkout", "fails_with", "503", 0.4, [1, 2], 2, now=T0)
    await repo.upsert(anna, "search", "latency", "slow", 0.6, [3], 1, now=T0 + 1)
    second = await repo.upsert(anna, "checkout", "fails_with", "502", 0.8, [1, 2, 9], 3, now=T0 + 2)
    await db.close()

    db = await Database.open(db_path)
    repo = FactRepository(db)
    facts = await repo.list(anna)
    checkout_only = await repo.list(anna, subject="checkout")
    stored = await repo.get(first.id or 0)
    total = await repo.count(anna)
    missing = await repo.get(12345)
    await db.close()

    assert second.id == first.id
    assert total == 2
    assert [(f.subject, f.value) for f in facts] == [("checkout", "502"), ("search", "slow")]
    assert [f.id for f in checkout_only] == [first.id]
    assert stored is not None
    assert (stored.value, stored.confidence, json.loads(stored.sources), stored.evidence) == (
        "502",
        0.8,
        [1, 2, 9],
        3,
    )
    assert (stored.created_at, stored.updated_at) == (T0, T0 + 2)
    assert missing is None


def _procedure(
    agent_id: int, situation: str, version: int = 1, parent: int | None = None
) -> ProcedureRow:
    return ProcedureRow(
        agent_id=agent_id,
        situation=situation,
        steps=json.dumps([{"action": "restart", "params": {}, "runs": 0, "fixes": 0}]),
        version=version,
        parent_id=parent,
        created_at=T0,
        updated_at=T0,
    )


async def test_procedures_version_stats_and_deactivation(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = ProcedureRepository(db)
    v1 = await repo.add(_procedure(anna, "http.5xx"))
    assert v1.id is not None
    v2 = await repo.add(_procedure(anna, "http.5xx", version=2, parent=v1.id))
    disk = await repo.add(_procedure(anna, "disk.full"))
    assert v2.id is not None and disk.id is not None
    await repo.save_stats(v2.id, '[{"action": "rollback"}]', successes=4, failures=1, now=T0 + 5)
    await repo.deactivate(v1.id, now=T0 + 6)
    await db.close()

    db = await Database.open(db_path)
    repo = ProcedureRepository(db)
    active = await repo.list(anna)
    everything = await repo.list(anna, include_inactive=True)
    http = await repo.list(anna, situation="http.5xx", include_inactive=True)
    counts = (await repo.count(anna), await repo.count(anna, include_inactive=True))
    stored = await repo.get(v2.id)
    retired = await repo.get(v1.id)
    await db.close()

    assert [p.id for p in active] == [disk.id, v2.id]
    assert [p.id for p in everything] == [disk.id, v2.id, v1.id]
    assert [(p.version, p.parent_id) for p in http] == [(2, v1.id), (1, None)]
    assert counts == (2, 3)
    assert stored is not None and retired is not None
    assert (stored.steps, stored.successes, stored.failures, stored.updated_at) == (
        '[{"action": "rollback"}]',
        4,
        1,
        T0 + 5,
    )
    assert (retired.active, retired.updated_at) == (0, T0 + 6)


async def test_action_values_upsert_by_situation_and_action(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    repo = ActionValueRepository(db)

    def value(situation: str, action: str, v: float, pulls: int) -> ActionValueRow:
        return ActionValueRow(
            agent_id=anna,
            situation=situation,
            action=action,
            value=v,
            own_pulls=pulls,
            observed_pulls=pulls / 2,
            updated_at=T0 + pulls,
        )

    await repo.save([value("http.5xx", "restart", 0.2, 1), value("disk.full", "prune", 0.5, 1)])
    await repo.save([value("http.5xx", "restart", 0.6, 2), value("http.5xx", "rollback", 0.1, 1)])
    await repo.save([])
    await db.close()

    db = await Database.open(db_path)
    rows = await ActionValueRepository(db).for_agent(anna)
    await db.close()
    assert [(r.situation, r.action, r.value, r.own_pulls, r.observed_pulls) for r in rows] == [
        ("disk.full", "prune", 0.5, 1, 0.5),
        ("http.5xx", "restart", 0.6, 2, 1.0),
        ("http.5xx", "rollback", 0.1, 1, 0.5),
    ]


async def test_reflection_pending_for_many_agents(db_path: Path) -> None:
    db = await Database.open(db_path)
    await _add_agent(db, "anna")
    await _add_agent(db, "ben")
    await _add_agent(db, "cleo")
    await AgentRepository(db).save_reflection_pending([("anna", 12.5), ("ben", 3.0), ("zed", 1.0)])
    await AgentRepository(db).save_reflection_pending([])
    await db.close()

    db = await Database.open(db_path)
    rows = await AgentRepository(db).list()
    await db.close()
    assert [(r.name, r.importance_since_reflection) for r in rows] == [
        ("anna", 12.5),
        ("ben", 3.0),
        ("cleo", 0.0),
    ]


async def test_deleting_an_agent_takes_its_memory_along(db_path: Path) -> None:
    db = await Database.open(db_path)
    anna = await _add_agent(db, "anna")
    ben = await _add_agent(db, "ben")
    for agent in (anna, ben):
        await EpisodeRepository(db).add_tuples([_tuple(agent * 1000 + i, agent) for i in range(5)])
        await FactRepository(db).upsert(agent, "s", "p", "v", 0.5, [], 1, now=T0)
        await ProcedureRepository(db).add(_procedure(agent, "x"))
        await ActionValueRepository(db).save(
            [ActionValueRow(agent_id=agent, situation="x", action="a", value=1.0, updated_at=T0)]
        )
    assert await AgentRepository(db).delete("anna")
    await db.close()

    for table, left in (("episode", 5), ("fact", 1), ("procedure", 1), ("action_value", 1)):
        assert _count(db_path, table) == left, table
    owners = {
        row[0]
        for table in ("episode", "fact", "procedure", "action_value")
        for row in raw(db_path, f"SELECT DISTINCT agent_id FROM {table}")
    }
    assert owners == {ben}


def test_storage_does_not_import_the_layers_above() -> None:
    code = (
        "import sys; import storage.repositories.episodes, storage.repositories.facts, "
        "storage.repositories.procedures, storage.repositories.action_values; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'agent', 'widgets', "
        "'webops_tui', 'numpy', 'textual'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"
