"""Procedural memory: the steps that resolved a kind of situation, versioned, per agent.

What a procedure is and how it is chosen, run and improved is pure (`agent.memory.procedures`);
this module keeps an agent's procedures in step with the file: loaded once, stored when new,
their success counts saved after each run, and a better version stored beside the old one (kept,
inactive) when consolidation finds one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.memory.backend import MemoryBackend
from agent.memory.items import MemoryItem
from agent.memory.listing import procedure_items, stored_procedure
from agent.memory.procedures import (
    Procedure,
    Step,
    best_procedure,
    dropped,
    fixing_step,
    optimize,
    reinforce,
)
from storage.tables import ProcedureRow

#: Sources kept per procedure (the newest).
MAX_SOURCES = 50


class ProceduralMemory:
    """One agent's procedures: store, choose, keep score, optimise, list."""

    def __init__(self, agent_id: int, backend: MemoryBackend) -> None:
        self.agent_id = agent_id
        self._b = backend
        self._procedures: list[Procedure] | None = None

    async def all(self) -> list[Procedure]:
        """Every procedure, superseded versions included, loaded from the file once."""
        if self._procedures is None:
            rows = await self._b.procedures.list(self.agent_id, include_inactive=True)
            self._procedures = [stored_procedure(r) for r in rows]
        return self._procedures

    async def best(self, situation: str) -> Procedure | None:
        return best_procedure(await self.all(), situation)

    async def store(
        self, situation: str, steps: Sequence[Step], sources: Sequence[int] = ()
    ) -> Procedure:
        """Keep a sequence of steps that worked (the incident it came from is its first
        success). When an active procedure for the situation has the same fixing step, or the
        same steps, that one is reused, and reinforced by the fix (see
        `procedures.reinforce`)."""
        active = [p for p in await self.all() if p.active and p.situation == situation]
        signature = tuple(s.action for s in steps)
        fix = fixing_step(steps)
        same = [p for p in active if p.signature == signature]
        holding = [
            p
            for p in active
            if fix is not None and (own := fixing_step(p.steps)) and own.action == fix.action
        ]
        for procedure in sorted(same + holding, key=lambda p: -p.success_rate):
            if reinforce(procedure, steps):
                await self.save_stats(procedure)
            return procedure
        procedure = Procedure(
            situation=situation,
            steps=list(steps),
            sources=list(sources),
            successes=1 if fix is not None else 0,
        )
        return await self._insert(procedure)

    async def _insert(self, procedure: Procedure) -> Procedure:
        now = self._b.clock()
        row = await self._b.procedures.add(
            ProcedureRow(
                agent_id=self.agent_id,
                situation=procedure.situation,
                steps=json.dumps([s.as_dict() for s in procedure.steps]),
                version=procedure.version,
                parent_id=procedure.parent_id,
                successes=procedure.successes,
                failures=procedure.failures,
                sources=json.dumps(procedure.sources[-MAX_SOURCES:]),
                created_at=now,
                updated_at=now,
            )
        )
        procedure.id = row.id
        (await self.all()).append(procedure)
        return procedure

    async def save_stats(self, procedure: Procedure) -> None:
        assert procedure.id is not None
        await self._b.procedures.save_stats(
            procedure.id,
            json.dumps([s.as_dict() for s in procedure.steps]),
            procedure.successes,
            procedure.failures,
            self._b.clock(),
        )

    async def optimize(self, procedure: Procedure) -> Procedure | None:
        """Store a better version (old one kept, inactive); None when nothing improved."""
        better = optimize(procedure)
        if better is None:
            return None
        assert procedure.id is not None
        await self._b.procedures.deactivate(procedure.id, self._b.clock())
        procedure.active = False
        return await self._insert(better)

    async def optimize_all(self) -> list[str]:
        """Optimise every active procedure; for each that got a better version, what changed
        and why ("status=503: dropped restart: ran 2 time(s), never fixed it")."""
        changes = []
        for procedure in [p for p in await self.all() if p.active]:
            better = await self.optimize(procedure)
            if better is not None:
                why = "; ".join(dropped(procedure, better)) or "reordered by fixes"
                changes.append(f"{procedure.situation}: v{better.version}, dropped {why}")
        return changes

    async def count(self) -> int:
        return sum(1 for p in await self.all() if p.active)

    def items(self, procedures: Sequence[Procedure]) -> list[MemoryItem]:
        return procedure_items(procedures, self._procedures or (), self._b.clock())
