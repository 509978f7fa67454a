"""Relationships (trust, affinity, decay), conflict resolution, and their storage round trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.social.relationships import (
    GRACE_S,
    HALF_LIFE_S,
    Proposal,
    Relationships,
    resolve_conflict,
)
from storage.database import Database
from storage.repositories.relationships import RelationshipRepository
from tests.conftest import FakeClock

pytestmark = pytest.mark.both_backends

DAY = 86_400.0


def test_trust_rises_with_successes_and_falls_with_failures(clock: FakeClock) -> None:
    rels = Relationships()
    trust = []
    for _ in range(5):
        clock.advance(60)
        trust.append(rels.record_outcome("anna", "ben", True, clock.now).trust)
    assert trust[0] == pytest.approx(0.5 + 0.15 * 0.5)  # a step of the EMA toward 1
    assert trust == sorted(trust) and trust[-1] < 1.0

    for _ in range(5):
        rels.record_outcome("anna", "cara", False, clock.now)
    ben, cara = rels.get("anna", "ben"), rels.get("anna", "cara")
    assert cara.trust == pytest.approx(0.5 * 0.85**5)
    assert ben.affinity == pytest.approx(0.75) and cara.affinity == pytest.approx(0.35)
    assert (ben.interactions, ben.last_contact, ben.dirty) == (5, clock.now, True)
    assert rels.weight("anna", "ben") == ben.trust > rels.weight("anna", "cara")

    rels.record_outcome("anna", "ben", False, clock.now)  # one failure dents, does not flip
    assert 0.5 < rels.get("anna", "ben").trust < trust[-1]
    assert rels.weight("ben", "anna") == 0.5  # a stranger is neutral ...
    assert len(rels) == 2  # ... and asking does not create an entry
    assert [r.other for r in rels.of("anna")] == ["ben", "cara"]


def test_feedback_moves_the_relationship_with_the_operator(clock: FakeClock) -> None:
    rels = Relationships()
    praised = rels.record_feedback("anna", "operator:alice", True, clock.now)
    assert praised.trust == pytest.approx(0.55) and praised.affinity == pytest.approx(0.58)
    criticised = rels.record_feedback("ben", "operator:alice", False, clock.now)
    assert criticised.trust == pytest.approx(0.475) and criticised.affinity == pytest.approx(0.45)
    assert criticised.interactions == 1


def test_relationships_fade_toward_neutral_without_contact(clock: FakeClock) -> None:
    rels = Relationships()
    for _ in range(6):
        rels.record_outcome("anna", "ben", True, clock.now)
        rels.record_outcome("anna", "cara", False, clock.now)
    ben, cara = rels.get("anna", "ben"), rels.get("anna", "cara")
    ben_trust, cara_trust, ben_affinity = ben.trust, cara.trust, ben.affinity
    assert len(rels.dirty_rows()) == 2  # as if the kernel had written them

    clock.advance(GRACE_S / 2)
    assert rels.maintain_relationships(clock.now) == 0  # recent contact: nothing fades
    assert (ben.trust, cara.trust) == (ben_trust, cara_trust)

    clock.advance(14 * DAY)
    rels.record_outcome("anna", "dan", True, clock.now)
    dan_trust = rels.get("anna", "dan").trust
    clock.advance(600)
    assert rels.maintain_relationships(clock.now) == 2  # ben and cara; dan was just seen
    idle = GRACE_S / 2 + 14 * DAY + 600 - GRACE_S  # since the grace period ended
    factor = 0.5 ** (idle / HALF_LIFE_S)
    assert ben.trust == pytest.approx(0.5 + (ben_trust - 0.5) * factor)
    assert ben.affinity == pytest.approx(0.5 + (ben_affinity - 0.5) * factor)
    assert cara.trust == pytest.approx(0.5 - (0.5 - cara_trust) * factor)
    assert 0.5 < ben.trust < ben_trust and cara_trust < cara.trust < 0.5
    assert rels.get("anna", "dan").trust == dan_trust
    # Decay is not a change to store: rows keep the values as of the last contact.
    assert [(r.subject, r.other) for r in rels.dirty_rows()] == [("anna", "dan")]

    assert rels.maintain_relationships(clock.now) == 0  # no time passed: no double decay
    clock.advance(365 * DAY)
    rels.maintain_relationships(clock.now)
    assert ben.trust == pytest.approx(0.5, abs=1e-6) and cara.trust == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(ValueError, match="half_life_s"):
        rels.maintain_relationships(clock.now, half_life_s=0)


def test_decay_in_steps_equals_decay_at_once(clock: FakeClock) -> None:
    stepped, once = Relationships(), Relationships()
    for rels in (stepped, once):
        rels.record_outcome("anna", "ben", True, clock.now)
    start = clock.now
    for day in range(1, 11):
        stepped.maintain_relationships(start + day * DAY)
    once.maintain_relationships(start + 10 * DAY)
    assert math.isclose(stepped.get("anna", "ben").trust, once.get("anna", "ben").trust)


_events = st.lists(
    st.tuples(
        st.sampled_from(["outcome", "feedback", "conflict", "maintain"]),
        st.sampled_from(["anna", "ben", "operator:alice"]),
        st.booleans(),
        st.floats(min_value=0, max_value=30 * DAY, allow_nan=False),
    ),
    max_size=60,
)


@given(_events)
def test_trust_and_affinity_stay_in_bounds(events: list[tuple[str, str, bool, float]]) -> None:
    rels, now = Relationships(), 1_800_000_000.0
    for kind, other, flag, dt in events:
        now += dt
        if kind == "outcome":
            rels.record_outcome("cara", other, flag, now)
        elif kind == "feedback":
            rels.record_feedback("cara", other, flag, now)
        elif kind == "conflict":
            rels.record_conflict("cara", other, now)
        else:
            rels.maintain_relationships(now, half_life_s=DAY if flag else HALF_LIFE_S)
        for rel in rels.of("cara"):
            assert 0.0 <= rel.trust <= 1.0 and 0.0 <= rel.affinity <= 1.0
            assert 0.0 <= rels.weight("cara", rel.other) <= 1.0


def _proposal(agent: str, action: str, risk: int, record: float, confidence: float) -> Proposal:
    return Proposal(
        agent=agent,
        action=action,
        target="checkout",
        risk=risk,
        success_rate=record,
        confidence=confidence,
    )


def test_conflict_goes_to_the_safer_better_proven_plan(clock: FakeClock) -> None:
    rels = Relationships()
    rels.get("anna", "ben").trust = 0.7
    anna = _proposal("anna", "restart", risk=3, record=0.4, confidence=0.7)
    ben = _proposal("ben", "clear_cache", risk=2, record=0.8, confidence=0.6)

    resolution = resolve_conflict(anna, ben, rels)
    assert (resolution.winner, resolution.loser) == (ben, anna)
    assert resolution == resolve_conflict(ben, anna, rels)  # argument order does not matter
    expected_ben = 0.8 * 0.5 + 0.6 * 0.2 - 2 / 4 * 0.3 + (0.7 - 0.5) * 0.4
    expected_anna = 0.4 * 0.5 + 0.7 * 0.2 - 3 / 4 * 0.3 + 0.0
    assert resolution.scores == pytest.approx({"ben": expected_ben, "anna": expected_anna})
    text = resolution.explanation
    assert text.startswith("ben's clear_cache wins over anna's restart on checkout")
    for factor in (
        "record 0.80 vs 0.40 (+0.20)",
        "confidence 0.60 vs 0.70 (-0.02)",
        "risk medium vs high (+0.07)",
        "anna trusts ben 0.70 vs ben trusts anna 0.50 (+0.08)",
    ):
        assert factor in text

    before = rels.get("anna", "ben")
    trust, affinity = before.trust, before.affinity
    after = rels.record_conflict(resolution.loser.agent, resolution.winner.agent, clock.now)
    assert after.affinity < affinity and after.trust == trust


def test_conflict_ties_and_refusals() -> None:
    rels = Relationships()
    a = _proposal("anna", "restart", risk=2, record=0.5, confidence=0.5)
    b = _proposal("ben", "restart", risk=2, record=0.5, confidence=0.5)
    tied = resolve_conflict(b, a, rels)
    assert tied.winner.agent == "anna" and "tied" in tied.explanation
    with pytest.raises(ValueError, match="two agents"):
        resolve_conflict(a, a, rels)
    with pytest.raises(ValueError, match="no conflict"):
        resolve_conflict(a, b.model_copy(update={"target": "search"}), rels)
    with pytest.raises(ValueError):
        _proposal("anna", "restart", risk=5, record=0.5, confidence=0.5)


_proposals = st.builds(
    _proposal,
    agent=st.just("x"),
    action=st.sampled_from(["restart", "rollback", "scale"]),
    risk=st.integers(0, 4),
    record=st.floats(0, 1),
    confidence=st.floats(0, 1),
)


@given(_proposals, _proposals, st.floats(0, 1), st.floats(0, 1))
def test_the_verdict_does_not_depend_on_argument_order(
    a: Proposal, b: Proposal, trust_ab: float, trust_ba: float
) -> None:
    a, b = a.model_copy(update={"agent": "anna"}), b.model_copy(update={"agent": "ben"})
    rels = Relationships()
    rels.get("anna", "ben").trust = trust_ab
    rels.get("ben", "anna").trust = trust_ba
    first, second = resolve_conflict(a, b, rels), resolve_conflict(b, a, rels)
    assert first.winner == second.winner
    assert first.scores[first.winner.agent] >= first.scores[first.loser.agent] - 1e-9


async def test_relationships_round_trip_through_storage(db_path: Path, clock: FakeClock) -> None:
    rels = Relationships()
    for _ in range(3):
        rels.record_outcome("anna", "ben", True, clock.now)
    rels.record_feedback("anna", "operator:alice", False, clock.now)
    rels.record_conflict("ben", "anna", clock.now)

    db = await Database.open(db_path)
    try:
        repo = RelationshipRepository(db)
        await repo.save(rels.dirty_rows())
        assert rels.dirty_rows() == []  # written once; nothing changed since
        clock.advance(60)
        rels.record_outcome("anna", "ben", False, clock.now)  # an update, not a second row
        await repo.save(rels.dirty_rows())
        await repo.save([])
    finally:
        await db.close()

    reopened = await Database.open(db_path)
    try:
        rows = await RelationshipRepository(reopened).all()
    finally:
        await reopened.close()
    assert [(r.subject, r.other) for r in rows] == [
        ("anna", "ben"),
        ("anna", "operator:alice"),
        ("ben", "anna"),
    ]
    loaded = Relationships()
    loaded.load(rows)
    for subject, other in [("anna", "ben"), ("anna", "operator:alice"), ("ben", "anna")]:
        assert loaded.get(subject, other) == rels.get(subject, other)
    assert loaded.get("anna", "ben").interactions == 4
    assert loaded.dirty_rows() == []

    clock.advance(20 * DAY)  # decay after a restart matches the process that kept running
    assert loaded.maintain_relationships(clock.now) == rels.maintain_relationships(clock.now) == 3
    assert loaded.get("anna", "ben") == rels.get("anna", "ben")
