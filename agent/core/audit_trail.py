"""What goes into the audit chain, and when: who acted, on what, and why.

Anything that changes the world or who may change it (a remedy, an approval or denial, a token,
an agent, a target, a runbook, an import) is appended at once; a read-only action (a check,
many a second under load) waits in memory for
the next write-behind flush, which takes it with `take_dirty` and hands it back with `restore`
if the write fails, like every other dirty row.

Who acted is never what a caller claims: `actor` is the OS user running this process
(`os_actor`), or the API token the request authenticated with, which the API passes as `by`. A
name given on the command line (`--by`, `--as`) is kept as a `note` in the detail beside it.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from storage.repositories.audit import Anchor, AuditEntry, AuditRepository, AuditVerification

if TYPE_CHECKING:
    from agent.decision.reasoning import Decision
    from agent.skills.actions import ActionRequest, ActionResult, ActionSpec

#: An entry as `AuditRepository.append_many` takes it (keyword arguments of `append`).
Entry = dict[str, Any]


def os_actor() -> str:
    """The OS user running this process, as the audit names it: `operator:<login>`."""
    try:
        return f"operator:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return f"operator:uid{os.getuid()}" if hasattr(os, "getuid") else "operator:unknown"


def noted(detail: dict[str, Any], actor: str, note: str) -> dict[str, Any]:
    """`detail` with the name a caller gave (`--by`, `--as`) beside the actor, when it differs."""
    return {**detail, "note": note} if note and note != actor else detail


class AuditTrail:
    def __init__(self, repository: AuditRepository, clock: Callable[[], float]) -> None:
        self.repository = repository
        self._clock = clock
        self._pending: list[Entry] = []

    async def now(self, **entry: Any) -> None:
        """Append one entry at once, stamped with the kernel's clock."""
        await self.repository.append_many([{**entry, "ts": self._clock()}])

    async def change(
        self, by: str | None, event: str, detail: dict[str, Any], **about: str | None
    ) -> None:
        """A definition changed (an agent, target, runbook, token, import): by the token `by`
        when the API says so, else by the OS user."""
        await self.now(actor=by or os_actor(), event=event, detail=detail, **about)

    async def action(
        self,
        agent: str,
        request: ActionRequest,
        result: ActionResult,
        spec: ActionSpec,
        decision: Decision | None,
        approved: bool,
    ) -> None:
        """Every action goes into the chain: remedies at once, checks with the flush."""
        autonomy = decision.explanation.autonomy if decision else None
        entry = {
            "actor": agent,
            "event": "dry_run" if request.dry_run else "action",
            "agent": agent,
            "action": request.action,
            "target": request.target,
            "ts": self._clock(),
            "detail": {
                "status": result.status,
                "detail": result.detail,
                "risk": str(spec.risk),
                "approved": approved,
                "autonomy": autonomy,
                "memory": list(decision.explanation.memory) if decision else [],
                "duration_ms": round(result.duration_ms, 1),
            },
            "why": decision.explanation.summary
            if decision
            else ("approved by a human" if approved else ""),
        }
        if spec.mutates:
            await self.repository.append_many([entry])
        else:
            self._pending.append(entry)

    async def entries(self, limit: int, agent: str | None) -> list[AuditEntry]:
        return await self.repository.list(limit, agent)

    async def verify(self, anchor: Anchor | None = None) -> AuditVerification:
        return await self.repository.verify(anchor)

    async def head(self) -> Anchor:
        return await self.repository.head()

    # -- the write-behind side (`write_behind.DirtyRows`) ------------------------------------

    def take_dirty(self) -> list[Entry]:
        entries, self._pending = self._pending, []
        return entries

    def restore(self, rows: list[Entry]) -> None:
        self._pending = rows + self._pending

    async def write(self, rows: list[Entry]) -> None:
        await self.repository.append_many(rows)
