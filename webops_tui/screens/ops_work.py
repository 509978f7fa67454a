"""The Ops tab's part of the main screen: stored history, and the incident and target dialogs.

Each read runs in a worker (never on the UI's path) and hands its answer to the panel or opens
a dialog; a person's ack / resolve / reopen / note on an incident goes back to the kernel from
the incident's dialog through `_incident_act`.
"""

from __future__ import annotations

from textual import on, work
from textual.widgets import TabbedContent

from agent.errors import WebopsError
from agent.ops.evidence import IncidentDetail
from webops_tui.screens.kernel_screen import KernelScreen
from widgets.incident_detail import IncidentDetailDialog
from widgets.target_detail import TargetDetailDialog, TargetFacts
from widgets.targets_panel import HISTORY, RECENT_CLOSED, TargetsPanel


class OpsWork(KernelScreen):
    """Reads for the Ops tab and the acts of its dialogs."""

    @work(exclusive=True, group="history")
    async def _load_incident_history(self) -> None:
        """The stored targets and incidents, earlier runs' too (what `webops target list` and
        `webops incidents --all` list)."""
        latencies = {
            name: await self.kernel.ops.recent_latencies(name, HISTORY)
            for name in sorted(self.kernel.ops.targets)
        }
        found = await self.kernel.incidents(limit=RECENT_CLOSED)
        held = {n: c.says() for n in latencies if (c := await self.kernel.silences.covering(n))}
        if panel := self._shown(TargetsPanel):
            panel.show_targets(latencies)
            panel.show_maintenance(held)
            panel.show_history(found)

    @on(TargetsPanel.IncidentSelected)
    def _incident_selected(self, message: TargetsPanel.IncidentSelected) -> None:
        self._show_incident(message.incident_id)

    @work(exclusive=True, group="incident")
    async def _show_incident(self, incident_id: int) -> None:
        """The incident's detail (what confirmed it, each remedy's credit) in a dialog."""
        try:
            detail = await self.kernel.incident(incident_id)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if self._shown(TabbedContent):
            self.app.push_screen(IncidentDetailDialog(detail, act=self._incident_act))

    async def _incident_act(self, verb: str, incident_id: int, note: str | None) -> IncidentDetail:
        """A person's ack / resolve / reopen / note from the incident's dialog."""
        if verb == "ack":
            return await self.kernel.ack_incident(incident_id)
        if verb == "resolve":
            return await self.kernel.resolve_incident(incident_id, note=note)
        if verb == "reopen":
            return await self.kernel.reopen_incident(incident_id, note=note)
        return await self.kernel.note_incident(incident_id, note or "")

    @on(TargetsPanel.TargetSelected)
    def _target_selected(self, message: TargetsPanel.TargetSelected) -> None:
        self._show_target(message.target)

    @work(exclusive=True, group="target")
    async def _show_target(self, name: str) -> None:
        """The target's definition, latest check, recent latencies and incidents in a dialog."""
        try:
            spec = await self.kernel.ops.target(name)
            stored = await self.kernel.ops.recent_latencies(name)
            incidents = await self.kernel.incidents(limit=10, target=name)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if panel := self._shown(TargetsPanel):
            last = panel.last_check(name)
            seen = last.latencies if last is not None else ()
            facts = TargetFacts(spec, last, stored or seen, incidents)
            self.app.push_screen(TargetDetailDialog(facts))
