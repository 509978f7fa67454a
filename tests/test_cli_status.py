"""`webops status`: the JSON contract, and values that outlive the process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliRunner

pytestmark = pytest.mark.both_backends

EMOTIONS = {"joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"}


def test_status_json_has_the_contract_fields(cli: CliRunner) -> None:
    cli("agent", "create", "anna", "-p", "cautious")
    result = cli("status", "anna", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert {
        "name",
        "state",
        "personality",
        "emotions",
        "mood",
        "skills",
        "memory",
        "resources",
    } <= set(doc)
    assert set(doc["emotions"]) == EMOTIONS
    assert all(0 <= v <= 1 for v in doc["emotions"].values())
    assert set(doc["mood"]) == {"label", "pleasure", "arousal", "dominance"}
    assert set(doc["memory"]) == {"episodic", "semantic", "procedural"}
    assert doc["resources"]["limits"]["max_concurrent_actions"] >= 1
    assert doc["effects"]["risk_tolerance"] < 0.3  # cautious


def test_status_of_everyone_and_of_no_one(cli: CliRunner) -> None:
    cli("token", "create", "ci", "--role", "viewer")  # a database with no agents in it
    assert cli("status", "--json").json() == []
    cli("agent", "create", "anna")
    cli("agent", "create", "ben", "-p", "bold")
    assert [s["name"] for s in cli("status", "--json").json()] == ["anna", "ben"]
    human = cli("status", "ben").out
    assert "fear" in human and "risk tolerance" in human


def test_status_of_a_missing_agent_is_exit_2(cli: CliRunner) -> None:
    cli("agent", "create", "anna")
    result = cli("status", "zed")
    assert result.code == 2 and result.err == "webops: error: no agent named 'zed'\n"


def test_emotions_survive_between_processes(cli: CliRunner, db_path) -> None:
    import asyncio

    from agent.core.kernel import Kernel
    from agent.mind.emotions import Appraisal

    cli("agent", "create", "anna", "-p", "cautious")
    calm = cli("status", "anna", "--json").json()["emotions"]["fear"]

    async def frighten() -> None:
        async with await Kernel.open(db_path) as kernel:
            await kernel.feel("anna", Appraisal.THREAT)

    asyncio.run(frighten())
    scared = cli("status", "anna", "--json").json()
    assert scared["emotions"]["fear"] > calm + 0.2
    assert scared["mood"]["label"] == "anxious"


@pytest.mark.parametrize(
    "command",
    [
        ("status",),
        ("status", "--json"),
        ("memory", "anna"),
        ("team",),
        ("skills", "anna"),
        ("audit",),
        ("audit", "--verify"),
        ("approvals",),
        ("agent", "list"),
        ("target", "list"),
        ("runbook", "list"),
        ("incident", "list"),
        ("incidents", "--all", "--json"),
        ("incident", "show", "1"),
        ("token", "list"),
    ],
)
def test_a_command_that_only_reads_never_creates_a_database(
    tmp_path: Path, cli: CliRunner, command: tuple[str, ...]
) -> None:
    """A mistyped `--db` or `WEBOPS_DB` leaves no empty database or folders behind."""
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    result = cli(*command, db=missing)
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"webops: error: no webops database at {missing}; "
        "`webops agent create NAME` or `webops demo` makes one\n"
    )
    assert not (tmp_path / "no").exists()
