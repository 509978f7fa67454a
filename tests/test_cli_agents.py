"""`webops agent ...` through the real entry point: JSON contract, tables, and bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agent.mind.personality import PRESETS, TRAITS
from tests.conftest import CliRunner

MOODS = {
    "exuberant",
    "dependent",
    "relaxed",
    "docile",
    "hostile",
    "anxious",
    "disdainful",
    "bored",
    "neutral",
}


def test_create_then_list_in_json(cli: CliRunner) -> None:
    created = cli("agent", "create", "anna", "--preset", "cautious", "--json")
    assert created.code == 0, created.err
    doc = created.json()
    assert doc["name"] == "anna"
    assert doc["personality"] == PRESETS["cautious"].as_dict()
    assert doc["preset"] == "cautious"

    listed = cli("agent", "list", "--json")
    assert listed.code == 0
    (anna,) = listed.json()
    assert set(anna) >= {"name", "state", "personality", "mood"}
    assert set(anna["personality"]) == set(TRAITS)
    assert set(anna["mood"]) == {"label", "pleasure", "arousal", "dominance"}
    assert anna["mood"]["label"] in MOODS
    assert listed.err == ""


def test_trait_overrides_the_preset_and_marks_it_custom(cli: CliRunner) -> None:
    doc = cli("agent", "create", "ben", "-p", "bold", "--neuroticism", "0.9", "--json").json()
    assert doc["personality"]["neuroticism"] == 0.9
    assert doc["personality"]["openness"] == PRESETS["bold"].openness
    assert doc["preset"] == "custom"


def test_personality_changes_the_resting_mood(cli: CliRunner) -> None:
    cautious = cli("agent", "create", "anna", "-p", "cautious", "--json").json()["mood"]
    bold = cli("agent", "create", "ben", "-p", "bold", "--json").json()["mood"]
    assert bold["dominance"] > cautious["dominance"]
    assert cautious["label"] == "anxious"


def test_show_and_delete(cli: CliRunner) -> None:
    cli("agent", "create", "anna")
    shown = cli("agent", "show", "anna", "--json")
    assert shown.json()["name"] == "anna"
    deleted = cli("agent", "delete", "anna", "--yes", "--json")
    assert deleted.code == 0 and deleted.json()["name"] == "anna"
    assert cli("agent", "list", "--json").json() == []


def test_human_output_is_a_table(cli: CliRunner) -> None:
    cli("agent", "create", "anna", "-p", "cautious")
    table = cli("agent", "list").out
    assert "anna" in table and "cautious" in table and "0.85" in table


def _state(cli: CliRunner) -> list[dict[str, object]]:
    result: list[dict[str, object]] = cli("agent", "list", "--json").json()
    return result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agent", "create", "x", "--openness", "1.5"], "--openness must be between 0 and 1"),
        (["agent", "create", "x", "--neuroticism", "-0.1"], "--neuroticism must be between 0"),
        (["agent", "create", "x", "--agreeableness", "lots"], "'--agreeableness'"),
        (["agent", "create", "x", "--preset", "reckless"], "unknown preset 'reckless'"),
        (["agent", "create", "anna"], "already exists"),
        (["agent", "create", "no spaces"], "invalid agent name"),
        (["agent", "show", "zed"], "no agent named 'zed'"),
        (["agent", "delete", "zed", "--yes"], "no agent named 'zed'"),
        (["agent", "delete", "anna"], "without --yes"),
        (["agent", "frobnicate"], "No such command"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    cli: CliRunner, args: list[str], message: str
) -> None:
    cli("agent", "create", "anna", "-p", "cautious")
    before = _state(cli)
    result = cli(*args)
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert "Traceback" not in result.err
    assert _state(cli) == before


@pytest.mark.parametrize("content", [b"remember the milk\n", b"SQLite format 3\x00" + bytes(50)])
def test_a_file_that_is_not_ours_is_exit_2_and_untouched(
    cli: CliRunner, tmp_path: Path, content: bytes
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(content)
    for args in (["agent", "list"], ["agent", "create", "anna"], ["tui"]):
        result = cli(*args, db=notes)
        assert result.code == 2, args
        assert result.err.startswith("webops: error: ") and result.err.count("\n") == 1
    assert hashlib.sha256(notes.read_bytes()).digest() == hashlib.sha256(content).digest()


def test_json_output_is_exactly_one_document(cli: CliRunner) -> None:
    cli("agent", "create", "anna")
    cli("agent", "create", "ben")
    out = cli("agent", "list", "--json").out
    decoder = json.JSONDecoder()
    doc, end = decoder.raw_decode(out)
    assert out[end:].strip() == "" and len(doc) == 2


def test_version(cli: CliRunner) -> None:
    from webops_tui import __version__

    result = cli("--version")
    assert result.code == 0 and result.out.strip() == f"webops-tui {__version__}"


def test_db_from_environment(
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from webops_tui.cli import main

    env_db = tmp_path / "from-env.db"
    monkeypatch.setenv("WEBOPS_DB", str(env_db))
    assert main(["agent", "create", "anna"]) == 0
    assert env_db.is_file()
    capsys.readouterr()
    assert main(["agent", "list", "--json"]) == 0
    assert [a["name"] for a in json.loads(capsys.readouterr().out)] == ["anna"]
