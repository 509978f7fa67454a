"""The pure incident pieces: symptoms, bids and the open-incident record."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from agent.ops import dispatch
from agent.ops.incidents import OpenIncident, symptom, tried_of
from agent.skills.actions import ActionOutput
from storage.tables import IncidentRow


def test_symptoms_name_the_kind_of_trouble_not_the_target() -> None:
    def failed(detail: str, **data: object) -> ActionOutput:
        return ActionOutput(ok=False, detail=detail, data=dict(data))

    assert symptom(ActionOutput(ok=True, detail="ok", data={"healthy": True, "slow": True})) == (
        "slow"
    )
    assert symptom(failed("connection refused")) == "refused"
    assert symptom(failed("timed out after 0.5 s")) == "timeout"
    status = {"condition": "status == 200", "ok": False, "actual": 503}
    assert symptom(failed("1 condition failed", conditions=[status])) == "status=503"
    version = {"condition": 'json.version == "1.4.2"', "ok": False, "actual": "1.5.0"}
    assert symptom(failed("1 condition failed", conditions=[version])) == "json.version"
    assert symptom(failed("something else")) == "unhealthy"


@given(
    proficiency=st.floats(0, 1),
    known=st.floats(0, 1),
    extraversion=st.floats(0, 1),
    confidence=st.floats(-1, 2),
    load=st.integers(0, 5),
)
def test_each_incident_owned_lowers_a_bid(
    proficiency: float, known: float, extraversion: float, confidence: float, load: int
) -> None:
    def bid(load: int) -> dispatch.Bid:
        return dispatch.bid(
            "anna",
            proficiency=proficiency,
            known=known,
            extraversion=extraversion,
            confidence=confidence,
            load=load,
            tiebreak=0.5,
        )

    assert bid(load + 1).score < bid(load).score
    assert bid(load).volunteer == (extraversion * max(0.0, min(1.0, confidence)) >= 0.35)


def test_the_best_bid_wins_and_a_draw_breaks_ties() -> None:
    bids = [
        dispatch.Bid("anna", 1.0, False, "", tiebreak=0.2),
        dispatch.Bid("ben", 1.2, True, "", tiebreak=0.1),
        dispatch.Bid("cleo", 1.0, True, "", tiebreak=0.9),
    ]
    assert [b.agent for b in dispatch.ranked(bids)] == ["ben", "cleo", "anna"]
    assert dispatch.loads(["anna", "ben"], ["ben", None, "ben", "zed"]) == {"anna": 0, "ben": 2}


def test_remedies_tried_round_trip_through_the_row() -> None:
    row = IncidentRow(target="shop", situation="refused", status="open", summary="", opened_at=1)
    incident = OpenIncident(row=row)
    incident.record([("flush-dns", False)])
    incident.record((("restart", True),))
    assert json.loads(row.actions) == [["flush-dns", False], ["restart", True]]
    assert tried_of(row.actions) == incident.tried == [("flush-dns", False), ("restart", True)]
