"""What memories of similar situations say of each remedy (agent/memory/precedents.py), and how
the learner weighs it against its own experience (agent/memory/learning.py `blend`)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from agent.memory.learning import ActionValues, blend
from agent.memory.precedents import FixFact, RemedyMemory, precedents, transfer

LOOK_ALIKES = {("status=503 & json.load", "status=503 & json.checks.db"): 0.7}


def _between(first: str, second: str) -> float:
    if first == second:
        return 1.0
    return LOOK_ALIKES.get((first, second)) or LOOK_ALIKES.get((second, first)) or 0.0


def _memory(i: int, situation: str, action: str, fixed: bool, similarity: float) -> RemedyMemory:
    return RemedyMemory(i, situation, action, fixed, similarity, target="shop")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["s1", "s2", "s3"]),
            st.booleans(),
            st.floats(0, 1),
        ),
        max_size=30,
    ),
    st.lists(st.tuples(st.sampled_from(["a", "b"]), st.floats(0, 1), st.floats(0, 1)), max_size=4),
    st.floats(0, 1),
)
def test_priors_are_values_with_a_weight_and_cite_what_they_came_from(
    remembered: list[tuple[str, str, bool, float]],
    facts: list[tuple[str, float, float]],
    near: float,
) -> None:
    memories = [_memory(i, s, a, ok, sim) for i, (a, s, ok, sim) in enumerate(remembered)]
    fix_facts = [FixFact(100 + i, "s2", a, c, sim) for i, (a, c, sim) in enumerate(facts)]
    found = precedents("s1", ["a", "b", "c"], memories, fix_facts, lambda _x, _y: near)
    assert -1.0 <= found.carry <= 1.0
    for action, prior in found.priors.items():
        assert action in {"a", "b", "c"}
        assert 0.0 <= prior.value <= 1.0 and prior.weight > 0 and prior.cites
        assert all(c.startswith(("episode ", "fact ")) for c in prior.cites)


@given(st.floats(0, 1), st.floats(0, 50), st.floats(0, 1), st.floats(0, 20))
@example(0.75, 5e-324, 0.0, 0.0)  # a weighted mean over a denormal rounded 0.75 up to 1.0
def test_memory_moves_a_value_only_between_it_and_the_prior_and_less_with_experience(
    value: float, experience: float, prior: float, weight: float
) -> None:
    blended = blend(value, experience, prior, weight)
    if experience == 0 and weight > 0:
        assert blended == prior  # knows nothing itself: memory decides
    assert min(value, prior) - 1e-9 <= blended <= max(value, prior) + 1e-9
    more = blend(value, experience + 1, prior, weight)
    assert abs(more - value) <= abs(blended - value) + 1e-9  # own evidence grows dominant
    if experience >= 1:
        assert (
            abs(blended - value)
            <= weight / (1 + experience) / experience * abs(prior - value) + 1e-9
        )


def test_look_alikes_that_needed_different_fixes_make_their_fixes_unlikely_here() -> None:
    """Two 503s told apart by their health report needed different remedies: the agent's own
    experience says fixes do not carry over between look-alikes, so for a third look-alike the
    known fixes count against, and an untried remedy comes first."""
    load, db, new = "status=503 & json.load", "status=503 & json.checks.db", "status=503 & x"
    memories = [
        _memory(1, load, "flush-dns", False, 0.6),
        _memory(2, load, "scale-up", True, 0.6),
        _memory(3, db, "failover-db", True, 0.5),
    ]
    found = precedents(
        new, ["flush-dns", "scale-up", "failover-db", "rollback"], memories, (), _between
    )
    assert found.carry < 0
    assert found.priors["scale-up"].value < 0.5 and found.priors["failover-db"].value < 0.5
    assert "flush-dns" not in found.priors  # a look-alike's failure says nothing then
    assert "rollback" not in found.priors
    assert found.priors["scale-up"].cites == (
        "episode 2: scale-up fixed status=503 & json.load on shop",
    )
    learner = ActionValues(0.3)
    chosen = learner.choose(new, ["scale-up", "failover-db", "rollback"], found.as_pairs())
    assert chosen.action == "rollback"
    assert chosen.candidates["scale-up"]["memory_weight"] > 0


def test_where_look_alikes_shared_a_fix_it_carries_over_and_so_do_failures() -> None:
    load, db, new = "status=503 & json.load", "status=503 & json.checks.db", "status=503 & x"
    memories = [
        _memory(1, load, "flush-dns", False, 0.6),
        _memory(2, load, "scale-up", True, 0.6),
        _memory(3, db, "scale-up", True, 0.5),
    ]
    assert transfer({load: {"scale-up"}, db: {"scale-up"}}, _between)[0] > 0
    found = precedents(new, ["flush-dns", "scale-up", "rollback"], memories, (), _between)
    assert found.carry > 0
    assert found.priors["scale-up"].value > 0.5 > found.priors["flush-dns"].value


def test_the_same_situation_and_a_fact_about_it_count_as_they_are() -> None:
    fact = FixFact(12, "cert_days", "renew-cert", 0.93, 1.0)
    found = precedents("cert_days", ["renew-cert", "restart"], [], [fact])
    assert found.priors["renew-cert"].value > 0.7 and "restart" not in found.priors
    assert found.citations("renew-cert") == [
        "fact 12: cert_days fixed_by renew-cert, confidence 0.93"
    ]
    nothing = precedents("refused", ["restart"], [_memory(1, "cert_days", "restart", False, 0.0)])
    assert nothing.priors == {}  # unrelated situations say nothing
