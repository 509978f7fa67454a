"""Semantic memory: one row per (agent, subject, predicate), revised in place as evidence grows."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import col, select

from storage.database import Database
from storage.tables import AgentRow, EpisodeRow, FactRow


class FactRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def upsert(
        self,
        agent_id: int,
        subject: str,
        predicate: str,
        value: str,
        confidence: float,
        sources: Sequence[int],
        evidence: int,
        now: float,
    ) -> FactRow:
        """Store or revise the agent's fact about (subject, predicate); `created_at` is kept.

        An UPDATE first, then an INSERT if it found nothing: portable across dialects, and
        the write lock (BEGIN IMMEDIATE) keeps it race-free on SQLite.
        """
        key = (
            (col(FactRow.agent_id) == agent_id)
            & (col(FactRow.subject) == subject)
            & (col(FactRow.predicate) == predicate)
        )
        sources_json = json.dumps(list(sources))
        async with self._db.session(write=True) as session:
            result = await session.exec(
                update(FactRow)
                .where(key)
                .values(
                    value=value,
                    confidence=confidence,
                    sources=sources_json,
                    evidence=evidence,
                    updated_at=now,
                )
            )
            if result.rowcount:
                return (await session.exec(select(FactRow).where(key))).one()
            row = FactRow(
                agent_id=agent_id,
                subject=subject,
                predicate=predicate,
                value=value,
                confidence=confidence,
                sources=sources_json,
                evidence=evidence,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
        return row

    async def learned_from(
        self, situation: str, since: float, until: float | None, limit: int = 50
    ) -> list[tuple[str, FactRow]]:
        """Facts (with the agent that holds each) whose sources include an episode about
        `situation` lived between `since` and `until`: what an incident taught the team."""
        async with self._db.session() as session:
            query = select(EpisodeRow.id).where(
                col(EpisodeRow.situation) == situation, col(EpisodeRow.ts) >= since
            )
            if until is not None:
                query = query.where(col(EpisodeRow.ts) <= until)
            episodes = set(await session.exec(query))
            if not episodes:
                return []
            rows = await session.exec(
                select(AgentRow.name, FactRow)
                .join(AgentRow, col(AgentRow.id) == col(FactRow.agent_id))
                .order_by(col(FactRow.confidence).desc(), col(FactRow.id))
            )
            found = [
                (str(name), fact)
                for name, fact in rows
                if episodes.intersection(json.loads(fact.sources or "[]"))
            ]
        return found[:limit]

    async def get(self, fact_id: int) -> FactRow | None:
        async with self._db.session() as session:
            return await session.get(FactRow, fact_id)

    async def count(self, agent_id: int) -> int:
        async with self._db.session() as session:
            found = await session.exec(
                select(func.count()).select_from(FactRow).where(col(FactRow.agent_id) == agent_id)
            )
            return int(found.one())

    async def list(
        self, agent_id: int, subject: str | None = None, limit: int = 500
    ) -> list[FactRow]:
        """Most recently revised first."""
        query = select(FactRow).where(col(FactRow.agent_id) == agent_id)
        if subject is not None:
            query = query.where(col(FactRow.subject) == subject)
        query = query.order_by(col(FactRow.updated_at).desc(), col(FactRow.id).desc()).limit(limit)
        async with self._db.session() as session:
            return list(await session.exec(query))
