"""Config as code: `webops apply -f ops.toml`, `webops export config`, and `run -f` reloading.

Everything through the real CLI on a real SQLite file; `run -f` in a subprocess watching a real
service on 127.0.0.1."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CliRunner
from tests.service import ControlledService
from webops_tui.cli import main

WEBOPS = Path(sys.executable).with_name("webops")

DOCUMENT = """\
# the team
[[agent]]
name = "anna"
preset = "cautious"

[[target]]
name = "shop"
kind = "http"
address = "http://127.0.0.1:9/health"
conditions = ["status == 200"]
interval_s = 30

[[target]]
name = "api"
kind = "tcp"
address = "127.0.0.1:9"

[[runbook]]
name = "restart-shop"
kind = "command"
argv = ["true"]
env = { API_TOKEN = "tok-123" }
risk = "high"
verify_target = "shop"
"""


def _dump(db: Path) -> list[str]:
    """Every row of the definitions and the audit, as text."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_apply_twice_reports_no_change_the_second_time(cli: CliRunner, tmp_path: Path) -> None:
    doc = _write(tmp_path / "ops.toml", DOCUMENT)
    first = cli("apply", "-f", str(doc), "--json")
    assert first.code == 0, first.err
    assert first.json()["counts"] == {"created": 4, "updated": 0, "removed": 0, "unchanged": 0}
    second = cli("apply", "-f", str(doc), "--json")
    assert second.code == 0, second.err
    assert second.json()["changed"] is False
    assert second.json()["counts"]["unchanged"] == 4
    human = cli("apply", "-f", str(doc))
    assert "no change" in human.out
    listed = cli("runbook", "list", "--json").json()
    assert listed[0]["env"] == {"API_TOKEN": "{secret:env_API_TOKEN}"}
    assert "tok-123" not in cli("runbook", "list", "--json").out
    assert cli("agent", "show", "anna", "--json").json()["preset"] == "cautious"


def test_dry_run_prints_the_diff_and_changes_nothing(
    cli: CliRunner, tmp_path: Path, db_path: Path
) -> None:
    doc = _write(tmp_path / "ops.toml", DOCUMENT)
    assert cli("apply", "-f", str(doc)).code == 0
    cli("target", "add", "old", "--address", "http://127.0.0.1:9/")
    edited = DOCUMENT.replace("interval_s = 30", "interval_s = 15").replace("tok-123", "tok-456")
    edited += '\n[[target]]\nname = "new"\nkind = "dns"\naddress = "localhost"\n'
    _write(doc, edited)
    before = _dump(db_path)
    shown = cli("apply", "-f", str(doc), "--dry-run", "--prune")
    assert shown.code == 0, shown.err
    assert "~ target shop: interval_s 30s -> 15s" in shown.out
    assert "+ target new" in shown.out
    assert "- target old" in shown.out
    assert "secrets.env_API_TOKEN (changed)" in shown.out
    assert "tok-456" not in shown.out and "tok-123" not in shown.out
    assert _dump(db_path) == before
    applied = cli("apply", "-f", str(doc), "--prune", "--json").json()
    assert applied["counts"] == {"created": 1, "updated": 2, "removed": 1, "unchanged": 2}
    assert {t["name"] for t in cli("target", "list", "--json").json()} == {"shop", "api", "new"}


def test_without_prune_unnamed_entries_stay(cli: CliRunner, tmp_path: Path) -> None:
    cli("target", "add", "kept", "--address", "http://127.0.0.1:9/")
    doc = _write(tmp_path / "ops.toml", DOCUMENT)
    assert cli("apply", "-f", str(doc)).code == 0
    names = {t["name"] for t in cli("target", "list", "--json").json()}
    assert names == {"kept", "shop", "api"}


def test_a_bad_entry_is_one_line_and_nothing_is_applied(
    cli: CliRunner, tmp_path: Path, db_path: Path
) -> None:
    cli("target", "add", "kept", "--address", "http://127.0.0.1:9/")
    before = _dump(db_path)
    bad = DOCUMENT + '\n[[target]]\nname = "late"\nkind = "http"\naddress = "x"\ninterval_s = -1\n'
    result = cli("apply", "-f", str(_write(tmp_path / "ops.toml", bad)))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "[[target]] #3: interval_s" in result.err
    assert _dump(db_path) == before
    for text, named in [
        ('[[agent]]\nname = "x"\nmood = "sunny"\n', "[[agent]] #1: mood"),
        ('[[agent]]\nname = "x"\nopenness = 2\n', "[[agent]] #1: openness"),
        ('[[agent]]\nname = "x"\npreset = "wild"\n', "[[agent]] #1: preset"),
        (
            '[[runbook]]\nname = "r"\nkind = "command"\nargv = ["x"]\nverify_target = "no"\n',
            "verifies with target 'no'",
        ),
        (
            '[[runbook]]\nname = "r"\nkind = "command"\nargv = ["x"]\n'
            "secrets = {K = {stored = true}}\n",
            "secrets.K",
        ),
        ('[[runbook]]\nname = "r"\nkind = "command"\n', "[[runbook]] #1"),
        ("[[alert]]\nname = 'x'\n", "unknown table 'alert'"),
        ('[[target]]\nname = "a"\nkind = "dns"\naddress = "h"\n' * 2, "defined twice"),
        ("[[target]\n", "not valid TOML"),
    ]:
        result = cli("apply", "-f", str(_write(tmp_path / "bad.toml", text)))
        assert result.code == 2, text
        assert named in result.err, result.err
        assert _dump(db_path) == before


def test_export_then_apply_is_no_change(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("apply", "-f", str(_write(tmp_path / "ops.toml", DOCUMENT))).code == 0
    cli("agent", "create", "bo", "--preset", "bold", "--openness", "0.95")
    exported = cli("export", "config")
    assert exported.code == 0, exported.err
    assert "tok-123" not in exported.out
    assert "stored = true" in exported.out
    again = cli("apply", "-f", str(_write(tmp_path / "out.toml", exported.out)), "--json")
    assert again.code == 0, again.err
    assert again.json()["changed"] is False, again.json()


def test_export_into_a_commented_file_keeps_the_comments(cli: CliRunner, tmp_path: Path) -> None:
    doc = _write(tmp_path / "ops.toml", DOCUMENT.replace('kind = "tcp"', 'kind = "tcp"  # db'))
    assert cli("apply", "-f", str(doc)).code == 0
    cli("target", "add", "extra", "--kind", "dns", "--address", "localhost")
    cli("target", "remove", "api")
    result = cli("export", "config", "-o", str(doc))
    assert result.code == 0, result.err
    text = doc.read_text()
    assert text.startswith("# the team\n")
    assert 'conditions = ["status == 200"]\ninterval_s = 30\n' in text  # untouched as written
    assert '"api"' not in text and 'name = "extra"' in text
    assert "tok-123" not in text
    assert cli("apply", "-f", str(doc), "--json").json()["changed"] is False


def _checked(db: Path, target: str) -> bool:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT count(*) FROM check_sample WHERE target = ?", (target,))
            return bool(row.fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return False


def _wait_for(check: object, process: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and process.poll() is None:
        if callable(check) and check():
            return True
        time.sleep(0.1)
    return False


def test_run_reloads_the_file_when_it_changes(tmp_path: Path) -> None:
    db, log = tmp_path / "run.db", tmp_path / "run.err"
    target = '[[target]]\nname = "{0}"\nkind = "http"\naddress = "{1}/health"\ninterval_s = 0.2\n'
    with ControlledService() as first, ControlledService() as second, log.open("w") as err:
        doc = tmp_path / "ops.toml"
        good = '[[agent]]\nname = "anna"\n\n' + target.format("one", first.url)
        doc.write_text(good)
        process = subprocess.Popen(
            [str(WEBOPS), "--db", str(db), "run", "-f", str(doc), "--duration", "120"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        try:
            assert _wait_for(lambda: first.hits > 0, process), "the first target is checked"
            # A bad edit: said in one line, and the last good state stays (still checked).
            doc.write_text(good + '\n[[target]]\nname = "bad"\nkind = "nope"\n')
            assert _wait_for(lambda: "was not applied" in log.read_text(), process)
            hits = first.hits
            assert _wait_for(lambda: first.hits > hits, process)
            doc.write_text(good + target.format("two", second.url))
            assert _wait_for(lambda: second.hits > 0, process), "the added target is checked"
        finally:
            process.terminate()
            process.wait(timeout=30)
    said = log.read_text()
    assert process.returncode == 0, said
    assert "[[target]] #2: kind" in said
    assert "changed and was applied: 1 created" in said
    assert "Traceback" not in said


@settings(max_examples=8, suppress_health_check=list(HealthCheck))
@given(
    targets=st.lists(
        st.tuples(
            st.sampled_from(["http", "tcp", "dns"]),
            st.floats(min_value=1, max_value=3600, allow_nan=False).map(lambda f: round(f, 2)),
            st.sampled_from(["low", "medium", "high", "critical"]),
            st.integers(1, 5),
        ),
        max_size=4,
    ),
    traits=st.lists(st.floats(0, 1).map(lambda f: round(f, 3)), min_size=5, max_size=5),
    secret=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1),
    token=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20),
    remind_s=st.integers(0, 3 * 86400),
    window_s=st.integers(1, 7 * 86400),
    silence_end=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
)
def test_apply_export_apply_is_no_change(
    targets: list[tuple[str, float, str, int]],
    traits: list[float],
    secret: str,
    token: str,
    remind_s: int,
    window_s: int,
    silence_end: datetime,
) -> None:
    addresses = {"http": "http://127.0.0.1:9/h", "tcp": "127.0.0.1:9", "dns": "localhost"}
    lines = ['[[agent]]\nname = "anna"']
    lines += [f"{t} = {v}" for t, v in zip(TRAIT_NAMES, traits, strict=True)]
    for i, (kind, interval, criticality, threshold) in enumerate(targets):
        lines += [
            f'[[target]]\nname = "t{i}"\nkind = "{kind}"\naddress = "{addresses[kind]}"',
            f'interval_s = {interval}\ncriticality = "{criticality}"',
            f"failure_threshold = {threshold}",
        ]
    secret = f"sekrit-{secret}"
    escaped = secret.replace("\\", "\\\\").replace('"', '\\"')
    lines.append(
        f'[[runbook]]\nname = "r"\nkind = "command"\nargv = ["true"]\nenv = {{X_KEY = "{escaped}"}}'
    )
    token = f"hook-{token}"
    lines += [
        f'[[notify]]\nname = "n"\nurl = "json://127.0.0.1:9/{token}"\nremind_every = {remind_s}',
        f'[[maintenance]]\nname = "m"\ntargets = ["t*"]\ncron = "0 2 * * *"\nduration = {window_s}',
        f'[[silence]]\nname = "s"\ntargets = ["t0"]\nends_at = "{silence_end.isoformat()}"',
    ]
    with tempfile.TemporaryDirectory() as folder:
        db, doc, out = (Path(folder) / name for name in ("w.db", "ops.toml", "out.toml"))
        doc.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert main(["--db", str(db), "apply", "-f", str(doc)]) == 0
        assert main(["--db", str(db), "export", "config", "-o", str(out)]) == 0
        assert secret not in out.read_text(encoding="utf-8")
        assert token not in out.read_text(encoding="utf-8")
        before = _dump(db)
        assert main(["--db", str(db), "apply", "-f", str(out), "--json"]) == 0
        assert _dump(db) == before  # nothing stored, not even an audit entry


TRAIT_NAMES = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]


def test_serve_applies_the_file_and_reloads_it(tmp_path: Path) -> None:
    from tests.serve_process import ServeProcess

    db, doc = tmp_path / "serve.db", tmp_path / "ops.toml"
    doc.write_text('[[target]]\nname = "one"\nkind = "dns"\naddress = "localhost"\n')
    server = ServeProcess(db, "-f", str(doc))
    try:
        conn = sqlite3.connect(db)
        names = {r[0] for r in conn.execute("SELECT name FROM target")}
        conn.close()
        assert names == {"one"}
        doc.write_text(doc.read_text() + '[[target]]\nname = "two"\nkind = "dns"\naddress = "h"\n')
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not any(
            "changed and was applied" in line for line in server.stderr
        ):
            time.sleep(0.1)
        conn = sqlite3.connect(db)
        names = {r[0] for r in conn.execute("SELECT name FROM target")}
        conn.close()
        assert names == {"one", "two"}
    finally:
        server.stop()


def test_read_only_refuses_apply_but_shows_the_diff(
    cli: CliRunner, tmp_path: Path, db_path: Path
) -> None:
    cli("agent", "create", "anna")
    doc = _write(tmp_path / "ops.toml", DOCUMENT)
    before = _dump(db_path)
    refused = cli("--read-only", "apply", "-f", str(doc))
    assert refused.code == 2 and "read-only" in refused.err
    shown = cli("--read-only", "apply", "-f", str(doc), "--dry-run", "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["counts"]["created"] == 3
    assert _dump(db_path) == before
