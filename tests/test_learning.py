"""Learning from experience and by observation, through the real agent loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.kernel import Kernel, KernelConfig
from agent.core.resources import ResourceLimits
from agent.core.stimulus import Stimulus
from agent.memory.learning import ActionValues, Feedback
from agent.skills.actions import ActionRequest
from tests.world import bandit_registry

# Each test on a `db_path` runs on SQLite and on PostgreSQL (tests/pg_fixtures.py).
pytestmark = pytest.mark.both_backends

RATES = {"flush-dns": 0.2, "scale-up": 0.5, "rollback": 0.85}
BEST = "rollback"
CONFIG = KernelConfig(limits=ResourceLimits(actions_per_minute=1_000_000))


def _incident() -> Stimulus:
    return Stimulus(
        summary="api returns errors",
        target="api",
        situation="api:errors",
        severity=0.8,
        evidence=0.9,
        candidates=tuple(ActionRequest(action=a, target="api") for a in RATES),
    )


async def _trials(kernel: Kernel, name: str, n: int) -> list[str | None]:
    """The first remedy the agent reached for in each of `n` incidents."""
    firsts: list[str | None] = []
    for _ in range(n):
        outcome = await kernel.stimulate(name, _incident())
        firsts.append(outcome.tried[0][0] if outcome.tried else None)
    return firsts


def _trials_to_reach(firsts: list[str | None], window: int = 10, level: float = 0.9) -> int:
    for end in range(window, len(firsts) + 1):
        if sum(f == BEST for f in firsts[end - window : end]) >= level * window:
            return end
    return len(firsts) + 1


async def test_the_agent_learns_the_best_remedy_and_an_observer_learns_faster(
    db_path: Path,
) -> None:
    async with await Kernel.open(
        db_path, config=CONFIG, actions=bandit_registry(RATES, seed=7)
    ) as kernel:
        await kernel.create_agent("ada", "bold")
        await kernel.create_agent("obi", "bold")
        stop_watching = await kernel.watch("obi", "ada")
        ada = await _trials(kernel, "ada", 500)
        stop_watching()
        obi = await _trials(kernel, "obi", 200)
        ada_status = await kernel.status("ada")
    last_100 = ada[-100:]
    assert sum(f == BEST for f in last_100) >= 90, last_100.count(BEST)
    # Watching ada, obi starts from her experience: it reaches the 90% level sooner and
    # reaches for a worse remedy less often on the way.
    assert _trials_to_reach(obi) < _trials_to_reach(ada), (
        _trials_to_reach(obi),
        _trials_to_reach(ada),
    )
    assert sum(f != BEST for f in obi[:50]) < sum(f != BEST for f in ada[:50])
    # Every incident is remembered (a trusted procedure's replay, a habit, deliberates less).
    assert ada_status.memory["episodic"] > 500


async def test_learned_values_survive_a_restart(db_path: Path) -> None:
    actions = bandit_registry(RATES, seed=3)
    async with await Kernel.open(db_path, config=CONFIG, actions=actions) as kernel:
        await kernel.create_agent("ada", "bold")
        await _trials(kernel, "ada", 150)
        before = dict((await kernel.load_agent("ada")).memory.learner.arms)
    async with await Kernel.open(db_path, config=CONFIG, actions=actions) as kernel:
        after = (await kernel.load_agent("ada")).memory.learner.arms
        assert {k: (round(v.value, 6), v.own) for k, v in after.items()} == {
            k: (round(v.value, 6), v.own) for k, v in before.items()
        }
        firsts = await _trials(kernel, "ada", 30)
    assert firsts.count(BEST) >= 25  # it goes on from where it was, no new exploration phase


def test_openness_explores_more() -> None:
    curious, settled = ActionValues(exploration=0.45), ActionValues(exploration=0.05)
    for learner in (curious, settled):
        for _ in range(30):
            learner.update("s", "good", 0.8)
        for _ in range(3):
            learner.update("s", "meh", 0.5)
    assert (
        curious.choose("s", ["good", "meh"]).candidates["meh"]["bonus"]
        > (settled.choose("s", ["good", "meh"]).candidates["meh"]["bonus"])
    )


def test_feedback_moves_values_and_observation_counts_less_than_experience() -> None:
    learner = ActionValues(exploration=0.2)
    learner.update("s", "restart", 1.0)
    learner.feedback("s", "restart", Feedback.DENY)
    assert learner.stats("s", "restart").value < 1.0
    own, watched = ActionValues(0.2), ActionValues(0.2)
    own.update("s", "a", 1.0)
    watched.observe("s", "a", 1.0, trust=1.0)
    assert watched.stats("s", "a").weight < own.stats("s", "a").weight
