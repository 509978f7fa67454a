"""Agents as stored rows."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from storage.database import Database
from storage.errors import DuplicateKey
from storage.tables import AgentRow


class AgentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, row: AgentRow) -> AgentRow:
        """Store a new agent; a taken name raises `DuplicateKey` and stores nothing."""
        try:
            async with self._db.session(write=True) as session:
                session.add(row)
                await session.flush()
                await session.refresh(row)
        except IntegrityError as exc:
            raise DuplicateKey(f"an agent named {row.name!r} already exists") from exc
        return row

    async def feelings(self) -> list[tuple[str, str, float]]:
        """Every agent's (name, emotions JSON, as-of time): the three columns a follower
        compares, not the whole row."""
        async with self._db.session() as session:
            rows = await session.exec(
                select(col(AgentRow.name), col(AgentRow.emotions), col(AgentRow.emotions_at))
            )
            return [(name, emotions, at) for name, emotions, at in rows]

    async def list(self) -> list[AgentRow]:
        async with self._db.session() as session:
            rows = await session.exec(select(AgentRow).order_by(col(AgentRow.name)))
            return list(rows)

    async def get(self, name: str) -> AgentRow | None:
        async with self._db.session() as session:
            rows = await session.exec(select(AgentRow).where(AgentRow.name == name))
            return rows.first()

    async def set_state(self, name: str, state: str) -> None:
        async with self._db.session(write=True) as session:
            await session.exec(
                update(AgentRow)
                .where(col(AgentRow.name) == name)
                .values(state=state, updated_at=time.time())
            )

    async def save_emotions(self, updates: Sequence[tuple[str, str, float]]) -> None:
        """Write (name, emotions JSON, as-of time) for many agents in one transaction."""
        if not updates:
            return
        statement = (
            update(AgentRow)
            .where(col(AgentRow.name) == bindparam("b_name"))
            .values(emotions=bindparam("b_emotions"), emotions_at=bindparam("b_at"))
        )
        if self._db.batches is not None:
            rows = [(e, at, n) for n, e, at in updates]
            sql = "UPDATE agent SET emotions = ?, emotions_at = ? WHERE name = ?"
            await self._db.write_batch(lambda connection: connection.executemany(sql, rows))
            return
        params = [{"b_name": n, "b_emotions": e, "b_at": at} for n, e, at in updates]
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            await conn.execute(statement, params)

    async def delete(self, name: str) -> bool:
        """Remove an agent and (by cascade) everything it owns; False when there was none."""
        async with self._db.session(write=True) as session:
            result = await session.exec(delete(AgentRow).where(col(AgentRow.name) == name))
            return bool(result.rowcount)

    async def set_traits(self, name: str, preset: str, traits: dict[str, float]) -> None:
        """Replace an agent's base traits and preset label (`webops apply`: the ops document
        changed them); its drift, emotions and memories stay."""
        async with self._db.session(write=True) as session:
            await session.exec(
                update(AgentRow)
                .where(col(AgentRow.name) == name)
                .values(preset=preset, updated_at=time.time(), **traits)
            )

    async def save_reflection_pending(self, updates: Sequence[tuple[str, float]]) -> None:
        """Write (name, importance since the last reflection) for many agents in one transaction."""
        await self._save_column("importance_since_reflection", updates)

    async def save_drift(self, updates: Sequence[tuple[str, str]]) -> None:
        """Write (name, personality drift JSON) for many agents in one transaction."""
        await self._save_column("drift", updates)

    async def _save_column(self, column: str, updates: Sequence[tuple[str, object]]) -> None:
        """One column of many agents' rows, by name, in one transaction (one executemany)."""
        if not updates:
            return
        if self._db.batches is not None:  # `column` is one of ours, never a caller's text
            rows = [(v, n) for n, v in updates]
            sql = f"UPDATE agent SET {column} = ? WHERE name = ?"
            await self._db.write_batch(lambda connection: connection.executemany(sql, rows))
            return
        statement = (
            update(AgentRow)
            .where(col(AgentRow.name) == bindparam("b_name"))
            .values({column: bindparam("b_value")})
        )
        params = [{"b_name": n, "b_value": v} for n, v in updates]
        async with self._db.session(write=True) as session:
            conn = await session.connection()
            await conn.execute(statement, params)
