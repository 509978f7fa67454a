"""Recollection: what an agent brings to mind before it chooses a remedy, and says it did.

Before an incident's remedy is chosen (agent/core/remedy.py `work`, and the owner's and the
runner-up's proposals in agent/core/conflicts.py), the agent recalls its remedies in the most
similar situations and its `fixed_by` facts (`AgentMemory.precedents`). They become a prior
for the learner where it knows little, and the decision's explanation cites them by id
("episode 812: rollback fixed status=503 & json.version on shop"; "fact 12: ... confidence
0.93"), so an operator can open each with `webops memory NAME --id ID`. The kernel's
`recall_in_decisions` switches it off (for an ablation: `make bench`'s first-seen figure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.stimulus import Stimulus
from agent.decision.reasoning import Decision
from agent.memory.precedents import Precedents

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent

#: Memories cited in one decision's explanation (those about its remedy first).
MAX_CITED = 4


async def recollect(agent: WebOpsAgent, stimulus: Stimulus) -> Precedents | None:
    """What memory says of each candidate remedy for the stimulus's situation; None when
    recall in decisions is off or there is nothing to choose among."""
    if not agent.host.recall_in_decisions:
        return None
    if not stimulus.situation or not stimulus.candidates:
        return None
    actions = [c.action for c in stimulus.candidates]
    return await agent.memory.precedents(stimulus.situation, actions)


def cited(decision: Decision, recalled: Precedents | None) -> Decision:
    """The decision with the memories that moved its options in the explanation: those about
    its remedy, then the strongest of the rest (why others were passed over)."""
    if recalled is None or decision.action is None:
        return decision
    lines = recalled.citations(decision.action)
    lines += [c for c in recalled.citations() if c not in lines]
    lines = lines[:MAX_CITED]
    if not lines:
        return decision
    explanation = decision.explanation
    explanation = explanation.model_copy(
        update={
            "memory": tuple(lines),
            "summary": f"{explanation.summary}; recalled: {'; '.join(lines)}",
        }
    )
    return decision.model_copy(update={"explanation": explanation})
