"""The ops document's `[[notify]]`, `[[maintenance]]` and `[[silence]]` tables through the real
CLI on a real SQLite file (`webops apply -f`, `export config`), and `run -f` holding a failing
target once a `[[silence]]` is added to the file it watches (a real service on 127.0.0.1)."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.service import ControlledService
from tests.test_apply import DOCUMENT, WEBOPS, _dump, _wait_for, _write

#: A token in the notify URL: it must never be printed.
TOKEN = "sekrit-hook-7f3a"

ALERTING = f"""
[[notify]]
name = "oncall"
url = "json://127.0.0.1:9/hook?token={TOKEN}"
events = ["incident_opened", "incident_resolved"]
min_criticality = "high"
remind_every = "30m"

[[maintenance]]
name = "nightly-backup"
targets = ["db-*"]
cron = "0 2 * * *"
duration = "1h"
reason = "nightly backup"

[[silence]]
name = "shop-migration"
targets = ["shop"]
starts_at = 2026-01-01T00:00:00Z
ends_at = 2099-01-01T00:00:00Z
reason = "moving the shop"
"""

ALL_SIX = DOCUMENT + ALERTING


def test_all_six_tables_apply_once_then_no_change(cli: CliRunner, tmp_path: Path) -> None:
    doc = _write(tmp_path / "ops.toml", ALL_SIX)
    first = cli("apply", "-f", str(doc), "--json")
    assert first.code == 0, first.err
    assert first.json()["counts"] == {"created": 7, "updated": 0, "removed": 0, "unchanged": 0}
    assert {(c["op"], c["table"]) for c in first.json()["changes"]} >= {
        ("+", "notify"),
        ("+", "maintenance"),
        ("+", "silence"),
    }
    second = cli("apply", "-f", str(doc), "--json")
    assert second.json()["changed"] is False, second.json()
    assert second.json()["counts"]["unchanged"] == 7
    assert TOKEN not in first.out + second.out
    routes = cli("notify", "list", "--json")
    assert "oncall" in routes.out and TOKEN not in routes.out
    listed = cli("silence", "list", "--json")
    assert "shop-migration" in listed.out and "nightly-backup" in listed.out


def test_dry_run_shows_a_new_url_only_as_changed_and_changes_nothing(
    cli: CliRunner, tmp_path: Path, db_path: Path
) -> None:
    doc = _write(tmp_path / "ops.toml", ALL_SIX)
    assert cli("apply", "-f", str(doc)).code == 0
    edited = (
        ALL_SIX.replace(TOKEN, "other-token-91")
        .replace('"30m"', '"1h"')
        .replace("2099-01-01", "2098-01-01")
        .replace('duration = "1h"', 'duration = "2h"')
    )
    _write(doc, edited)
    before = _dump(db_path)
    shown = cli("apply", "-f", str(doc), "--dry-run")
    assert shown.code == 0, shown.err
    assert "~ notify oncall: remind_every 30m -> 1h; url (changed)" in shown.out
    assert "~ maintenance nightly-backup: duration '1h' -> '2h'" in shown.out
    assert "~ silence shop-migration: ends_at" in shown.out and "2098-01-01" in shown.out
    assert TOKEN not in shown.out and "other-token-91" not in shown.out
    as_json = cli("apply", "-f", str(doc), "--dry-run", "--json")
    assert TOKEN not in as_json.out and "other-token-91" not in as_json.out
    assert _dump(db_path) == before
    assert cli("apply", "-f", str(doc), "--json").json()["counts"]["updated"] == 3
    assert cli("apply", "-f", str(doc), "--json").json()["changed"] is False


def test_export_never_writes_the_url_and_export_then_apply_is_no_change(
    cli: CliRunner, tmp_path: Path, db_path: Path
) -> None:
    assert cli("apply", "-f", str(_write(tmp_path / "ops.toml", ALL_SIX))).code == 0
    exported = cli("export", "config")
    assert exported.code == 0, exported.err
    assert TOKEN not in exported.out
    assert "url = {stored = true}" in exported.out
    assert 'remind_every = "30m"' in exported.out
    assert 'cron = "0 2 * * *"' in exported.out
    assert "ends_at = 2099-01-01T00:00:00Z" in exported.out
    before = _dump(db_path)
    again = cli("apply", "-f", str(_write(tmp_path / "out.toml", exported.out)), "--json")
    assert again.json()["changed"] is False, again.json()
    assert _dump(db_path) == before
    # A URL written in clear in the person's file is replaced by { stored = true }.
    kept = _write(tmp_path / "kept.toml", ALL_SIX)
    assert cli("export", "config", "-o", str(kept)).code == 0
    assert TOKEN not in kept.read_text() and "url = {stored = true}" in kept.read_text()


def test_the_url_may_come_from_the_environment(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_URL", f"json://127.0.0.1:9/hook?token={TOKEN}")
    from_env = ALL_SIX.replace(f'"json://127.0.0.1:9/hook?token={TOKEN}"', '{ env = "ONCALL_URL" }')
    assert cli("apply", "-f", str(_write(tmp_path / "env.toml", from_env))).code == 0
    # The same URL written in clear: nothing to change (compared by what the URL is).
    same = cli("apply", "-f", str(_write(tmp_path / "ops.toml", ALL_SIX)), "--json")
    assert same.json()["changed"] is False, same.json()


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ('[[notify]]\nname = "n"\nurl = "not a url"\n', "[[notify]] #2: url"),
        ('[[notify]]\nname = "n"\nurl = "nosuchscheme://h/x"\n', "apprise does not understand"),
        ('[[notify]]\nname = "n"\nurl = { stored = true }\n', "[[notify]] #2: url"),
        ('[[notify]]\nname = "n"\nurl = { env = "WEBOPS_NO_SUCH_VAR" }\n', "WEBOPS_NO_SUCH_VAR"),
        ('[[notify]]\nname = "n"\nurl = "json://h/x"\nremind_every = "soon"\n', "remind_every"),
        ('[[notify]]\nname = "n"\nurl = "json://h/x"\nevents = ["party"]\n', "events.0"),
        ('[[maintenance]]\nname = "m"\ntargets = ["a"]\ncron = "nope"\nduration = "1h"\n', "cron"),
        ('[[maintenance]]\nname = "m"\ntargets = ["a"]\ncron = "0 2 * * *"\n', "duration"),
        (
            '[[maintenance]]\nname = "m"\ntargets = []\ncron = "0 2 * * *"\nduration = "1h"\n',
            "targets",
        ),
        ('[[silence]]\ntargets = ["a"]\nends_at = 2099-01-01T00:00:00Z\n', "[[silence]] #2: name"),
        ('[[silence]]\nname = "s"\ntargets = ["a"]\nends_at = "tomorrow"\n', "#2: ends_at"),
        (
            '[[silence]]\nname = "s"\ntargets = ["a"]\nstarts_at = 2099-01-02T00:00:00Z\n'
            "ends_at = 2099-01-01T00:00:00Z\n",
            "must end after it starts",
        ),
        ('[[silence]]\nname = "s"\ntargets = ["a"]\nends_at = 2099-01-01\nfor = "2h"\n', "#2: "),
    ],
)
def test_a_bad_entry_in_each_new_table_is_one_line_and_nothing_is_applied(
    cli: CliRunner, tmp_path: Path, db_path: Path, entry: str, named: str
) -> None:
    cli("agent", "create", "kept")
    before = _dump(db_path)
    result = cli("apply", "-f", str(_write(tmp_path / "bad.toml", ALL_SIX + "\n" + entry)))
    assert result.code == 2, result.out
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    assert named in result.err, result.err
    assert TOKEN not in result.err
    assert _dump(db_path) == before


def test_an_ended_silence_is_not_stored_and_is_no_change_and_ending_one_ends_it(
    cli: CliRunner, tmp_path: Path
) -> None:
    ended = '[[silence]]\nname = "old"\ntargets = ["x"]\nends_at = "2020-01-01T00:00:00"\n'
    doc = _write(tmp_path / "ops.toml", ended)
    for _ in range(2):
        result = cli("apply", "-f", str(doc), "--json")
        assert result.code == 0, result.err
        assert result.json()["changed"] is False and result.json()["counts"]["unchanged"] == 1
    assert "old" not in cli("silence", "list", "--json").out
    # A stored silence the document now says ended: ended (once), then no change.
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    _write(doc, f'[[silence]]\nname = "now"\ntargets = ["x"]\nends_at = "{later}"\n')
    assert cli("apply", "-f", str(doc)).code == 0
    assert '"now"' in cli("silence", "list", "--json").out
    _write(doc, '[[silence]]\nname = "now"\ntargets = ["x"]\nends_at = 2020-01-01T00:00:00Z\n')
    ends = cli("apply", "-f", str(doc), "--json").json()
    assert [(c["op"], c["name"]) for c in ends["changes"]] == [("~", "now")]
    assert '"now"' not in cli("silence", "list", "--json").out
    assert cli("apply", "-f", str(doc), "--json").json()["changed"] is False


def test_a_silence_without_a_start_keeps_its_first_start_and_unnamed_ones_are_not_pruned(
    cli: CliRunner, tmp_path: Path
) -> None:
    cli("agent", "create", "anna")
    assert cli("silence", "shop", "--for", "2h", "--reason", "by hand").code == 0
    doc = _write(
        tmp_path / "ops.toml",
        '[[silence]]\nname = "s"\ntargets = ["a"]\nends_at = 2099-01-01T00:00:00+02:00\n',
    )
    assert cli("apply", "-f", str(doc), "--prune").code == 0
    again = cli("apply", "-f", str(doc), "--prune", "--json").json()
    assert again["changed"] is False, again
    listed = cli("silence", "list", "--json").json()
    assert {entry["reason"] for entry in listed} >= {"by hand"}
    assert "s" in {entry["id"] for entry in listed}
    assert "ends_at = 2098-12-31T22:00:00Z" in cli("export", "config").out


def _incidents(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM incident").fetchone()[0])
    finally:
        conn.close()


def test_run_holds_a_failing_target_once_a_silence_is_added_to_its_file(tmp_path: Path) -> None:
    db, log = tmp_path / "run.db", tmp_path / "run.err"
    with ControlledService() as service, log.open("w") as err:
        doc = tmp_path / "ops.toml"
        base = (
            '[[agent]]\nname = "anna"\n\n'
            f'[[target]]\nname = "shop"\nkind = "http"\naddress = "{service.url}/health"\n'
            'conditions = ["status == 200"]\ninterval_s = 0.2\n\n'
            f'[[runbook]]\nname = "fix-shop"\nkind = "http"\nmethod = "POST"\n'
            f'url = "{service.url}/fix"\nrisk = "low"\nverify_target = "shop"\n'
        )
        silence = '\n[[silence]]\nname = "deploy"\ntargets = ["shop"]\nends_at = "{0}"\n'
        doc.write_text(base)
        process = subprocess.Popen(
            [str(WEBOPS), "--db", str(db), "run", "-f", str(doc), "--duration", "120"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        try:
            assert _wait_for(lambda: service.hits > 0, process), log.read_text()
            later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
            doc.write_text(base + silence.format(later))
            applied = "changed and was applied: 1 created"
            assert _wait_for(lambda: applied in log.read_text(), process), log.read_text()
            service.healthy = False
            assert _wait_for(lambda: "checks go on" in log.read_text(), process), log.read_text()
            hits = service.hits
            assert _wait_for(lambda: service.hits > hits + 10, process)
            assert service.fixes == 0 and _incidents(db) == 0
            # Ending the silence in the file: the fault is handled as usual.
            doc.write_text(base + silence.format("2020-01-01T00:00:00Z"))
            assert _wait_for(lambda: service.fixes > 0, process), log.read_text()
        finally:
            process.terminate()
            process.wait(timeout=30)
    said = log.read_text()
    assert process.returncode == 0, said
    assert "Traceback" not in said
