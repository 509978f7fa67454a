"""The Ops tab's part of the main screen: stored history, and the incident and target dialogs.

Each read runs in a worker (never on the UI's path) and hands its answer to the panel or opens
a dialog; a person's ack / resolve / reopen / note on an incident goes back to the kernel from
the incident's dialog through `_incident_act`, and a silence set or ended from the target's
dialog (s / S) through `_silence_act`.
"""

from __future__ import annotations

from textual import on, work
from textual.widgets import TabbedContent

from agent.errors import InvalidInput, WebopsError
from agent.ops.evidence import IncidentDetail
from webops_tui.screens.kernel_screen import KernelScreen, operator
from widgets.incident_detail import IncidentDetailDialog
from widgets.target_detail import TargetDetailDialog, TargetFacts
from widgets.targets_panel import HISTORY, RECENT_CLOSED, TargetsPanel


class OpsWork(KernelScreen):
    """Reads for the Ops tab and the acts of its dialogs."""

    @work(exclusive=True, group="history")
    async def _load_incident_history(self) -> None:
        """The stored targets and incidents, earlier runs' too (what `webops target list` and
        `webops incidents --all` list)."""
        latencies = await self.kernel.ops.recent_latencies_of(
            sorted(self.kernel.ops.targets), HISTORY
        )
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
            held = await self.kernel.silences.covering(name)
        except WebopsError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if panel := self._shown(TargetsPanel):
            last = panel.last_check(name)
            seen = last.latencies if last is not None else ()
            says = held.says() if held is not None else None
            facts = TargetFacts(spec, last, stored or seen, incidents, maintenance=says)
            dialog = TargetDetailDialog(facts, self._silence_act, read_only=self.read_only)
            self.app.push_screen(dialog)

    async def _silence_act(self, name: str, seconds: float | None, reason: str) -> str | None:
        """s in a target's detail silences it for `seconds` (`webops silence NAME --for`);
        S (seconds None) ends the silences on it alone. A window, or a silence that also covers
        other targets, is left for the CLI to end: ending it here would surprise whoever set it
        for the others. Returns what holds the target afterwards, for the detail and the row."""
        if seconds is not None:
            await self.kernel.silences.silence(name, seconds, reason, by=operator())
        else:
            now = self.kernel.clock()
            on = [
                c
                for c in await self.kernel.silences.current(upcoming=False)
                if c.kind == "silence" and name in c.targets and c.starts_at <= now < c.ends_at
            ]
            mine = [c for c in on if c.targets == [name]]
            for entry in mine:
                await self.kernel.silences.remove_silence(entry.id, by=operator())
            if not mine:
                held = await self.kernel.silences.covering(name)
                if held is None:
                    raise InvalidInput(f"{name} is not silenced")
                how = (
                    "webops maintenance remove"
                    if held.kind == "maintenance"
                    else "webops silence remove"
                )
                raise InvalidInput(
                    f"{name} is held by {held.kind} {held.id} ({' '.join(held.targets)}): "
                    f"webops {how} remove {held.id} ends it for all it covers"
                )
        held = await self.kernel.silences.covering(name)
        says = held.says() if held is not None else None
        if panel := self._shown(TargetsPanel):
            panel.show_maintenance({name: says})
        return says
