"""When the owner of an incident and the runner-up would use different remedies.

The better-founded proposal wins (risk, record, trust; agent/social/relationships.py), the
reasons are told to the team, and the loser's regard for the winner changes. Kept apart from
the autopilot so the loop reads as scheduling and the settling reads as one story.
"""

from __future__ import annotations

from agent.core.kernel import Kernel
from agent.core.recollection import recollect
from agent.core.stimulus import Stimulus
from agent.ops import dispatch
from agent.skills.actions import ActionRequest
from agent.social.relationships import Resolution, resolve_conflict
from storage.tables import IncidentRow


async def settle(
    kernel: Kernel, row: IncidentRow, stimulus: Stimulus, other: str
) -> tuple[Stimulus, Resolution | None]:
    """The stimulus with the winning remedy as its action, and the resolution; the stimulus
    unchanged (and None) when both would do the same or either has nothing to propose."""
    assert row.owner is not None
    owner = await kernel.load_agent(row.owner)
    rival = await kernel.load_agent(other)
    _, mine = owner.choose(stimulus, set(), await recollect(owner, stimulus))
    _, theirs = rival.choose(stimulus, set(), await recollect(rival, stimulus))
    if mine is None or theirs is None or mine.action == theirs.action:
        return stimulus, None
    spec = kernel.actions.spec
    resolution = resolve_conflict(
        dispatch.proposal(row.owner, mine, row.target, spec(mine.action).risk),
        dispatch.proposal(other, theirs, row.target, spec(theirs.action).risk),
        kernel.relationships,
    )
    kernel.relationships.record_conflict(
        resolution.loser.agent, resolution.winner.agent, kernel.clock()
    )
    await kernel.messages.broadcast(resolution.winner.agent, "team", resolution.explanation)
    request = ActionRequest(
        action=resolution.winner.action, target=row.target, situation=row.situation
    )
    return stimulus.model_copy(update={"action": request}), resolution
