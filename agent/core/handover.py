"""Handing an incident to a teammate who is clearly better at it.

Dispatch (agent/ops/dispatch.py) gives an incident to the best bid, but a bid also counts the
load and the will to volunteer, so a novice can end up owning an incident an expert is idle
enough to take. The owner is then offered a hand-over: the stimulus names the most proficient
teammate with the remedies' skill when that teammate is at least `CLEARLY_BETTER` ahead, and
the owner's reasoning weighs handing over against acting itself (the HANDOVER option in
agent/decision/reasoning.py: 0.8 x the proficiency gap, politeness, the cost of a hand-over).
If it hands over, the incident really moves: the teammate owns it and works it, the two
talk (a direct message, a word to the team), and the giver's relationship with the taker
records it (`Relationships.record_handover`). Nobody gets an incident back that they handed
over, so an incident moves at most once per teammate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.core.kernel import Kernel
from agent.skills.actions import ActionRequest

#: How much more proficient (0-1) a teammate must be before a hand-over is offered.
CLEARLY_BETTER = 0.3
#: The skill incident remedies exercise when they name none.
REMEDY_SKILL = "run_runbook"


def remedy_skill(kernel: Kernel, candidates: Sequence[ActionRequest]) -> str:
    """The skill the incident's remedies exercise (runbooks: `run_runbook`)."""
    for request in candidates:
        skill = kernel.actions.spec(request.action).skill
        if skill is not None:
            return skill
    return REMEDY_SKILL


def teammate_for(
    kernel: Kernel, team: Iterable[str], owner: str, skill: str, exclude: Iterable[str] = ()
) -> tuple[str, float] | None:
    """The most proficient teammate with `skill` and their proficiency, when clearly more
    proficient than `owner`; None otherwise (or when the agents are not running here)."""
    mine = kernel.loaded(owner)
    if mine is None:
        return None
    barred = {owner, *exclude}
    best: tuple[str, float] | None = None
    for name in team:
        agent = kernel.loaded(name)
        if name in barred or agent is None:
            continue
        proficiency = agent.skills.proficiency(skill)
        if best is None or proficiency > best[1]:
            best = (name, proficiency)
    if best is None or best[1] - mine.skills.proficiency(skill) < CLEARLY_BETTER:
        return None
    return best


async def hand_over(kernel: Kernel, incident_id: int, summary: str, giver: str, taker: str) -> str:
    """Record that `giver` handed the incident to `taker` and tell them; returns the line said."""
    kernel.relationships.record_handover(giver, taker, kernel.clock())
    line = f"incident {incident_id}: {giver} hands it over to {taker}, who is better at this"
    await kernel.messages.send_message(
        giver, taker, f"incident {incident_id} ({summary}) is yours: you are better at this"
    )
    await kernel.messages.broadcast(giver, "team", line)
    return line
