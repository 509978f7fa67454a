"""The kernel's incident methods: what confirmed each incident and each remedy's credit
(agent/ops/evidence.py), its postmortem, and a person's ack / resolve / reopen / note
(agent/core/incident_lifecycle.py).

Chosen: a mixin of `Kernel` (agent/core/kernel.py), so the shells keep calling
`kernel.resolve_incident(...)` while the façade stays small; `by` is who acts (the API token;
the OS user when None).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.incident_lifecycle import IncidentLifecycle
from agent.core.write_behind import WriteBehind
from agent.ops.evidence import IncidentDetail, IncidentLog
from agent.ops.postmortem import Postmortem
from agent.ops.service import Ops

if TYPE_CHECKING:
    from agent.core.language_model import LanguageModel


class KernelIncidents:
    incident_log: IncidentLog
    lifecycle: IncidentLifecycle
    write_behind: WriteBehind
    ops: Ops

    if TYPE_CHECKING:  # the Kernel's own

        @property
        def language_model(self) -> LanguageModel | None: ...

        async def agent_names(self) -> list[str]: ...

    async def incidents(
        self,
        status: str | None = None,
        limit: int = 50,
        *,
        open_only: bool = False,
        target: str | None = None,
    ) -> list[IncidentDetail]:
        """Newest first; `InvalidInput` for a status or limit that makes no sense."""
        return await self.incident_log.list(status, limit, open_only=open_only, target=target)

    async def incident(self, incident_id: int) -> IncidentDetail:
        await self.write_behind.flush()  # the agents' messages about it wait in the write-behind
        return await self.incident_log.get(incident_id)

    async def incident_report(self, incident_id: int) -> Postmortem:
        """The postmortem of one incident (agent/ops/postmortem.py); with `[llm]`, its
        narrative written by the language model from the report's facts."""
        await self.write_behind.flush()
        report = await self.incident_log.postmortem(incident_id)
        model = self.language_model
        if model is None:
            return report
        from agent.core.language_model import narrated, redactor_for

        redactor = redactor_for(self.ops, await self.agent_names())
        return await narrated(model, report, redactor)

    async def ack_incident(self, incident_id: int, by: str | None = None) -> IncidentDetail:
        return await self.lifecycle.acknowledge(incident_id, by)

    async def resolve_incident(
        self, incident_id: int, by: str | None = None, note: str | None = None
    ) -> IncidentDetail:
        return await self.lifecycle.resolve(incident_id, by, note)

    async def reopen_incident(
        self, incident_id: int, by: str | None = None, note: str | None = None
    ) -> IncidentDetail:
        return await self.lifecycle.reopen(incident_id, by, note)

    async def note_incident(
        self, incident_id: int, text: str, by: str | None = None
    ) -> IncidentDetail:
        return await self.lifecycle.note(incident_id, by, text)
