"""Issue 18, lane "secrets": private files, secrets that never leak, and a key file whose loss
locks only the secrets. Every test reaches its finding the way a user or a careless admin did:
the real CLI on a real SQLite file, real child processes, `stat` on the files it leaves."""

from __future__ import annotations

import asyncio
import io
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.database import Database
from tests.conftest import CliRunner

SECRET = "s3cr3t-Tok-0f-The-W33k"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- files 0600 in a 0700 folder --------------------------------------------------------------


def test_database_wal_shm_and_key_are_0600_in_a_0700_folder(cli: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "data" / "webops.db"
    added = cli("runbook", "add", "say", "--command", "true", "--secret", "t=env:HOME", db=db)
    assert added.code == 0, added.err
    assert _mode(db.parent) == 0o700
    assert _mode(db) == 0o600
    assert _mode(Path(f"{db}.key")) == 0o600
    # -wal and -shm exist while the database is open: open it as every command does.
    asyncio.run(_write_and_look(db))


async def _write_and_look(db: Path) -> None:
    from sqlalchemy import text

    database = await Database.open(db)
    try:
        async with database.session(write=True) as session:
            connection = await session.connection()
            await connection.execute(text("UPDATE runbook SET description = 'x'"))
        assert _mode(Path(f"{db}-wal")) == 0o600
        assert _mode(Path(f"{db}-shm")) == 0o600
    finally:
        await database.close()


def test_a_looser_existing_folder_or_file_is_named_on_stderr_and_left_alone(
    cli: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    db = folder / "webops.db"
    assert cli("agent", "create", "ben", "-p", "bold", db=db).code == 0
    db.chmod(0o644)
    listed = cli("agent", "list", db=db)
    assert listed.code == 0
    warnings = [line for line in listed.err.splitlines() if "warning" in line]
    assert any(str(db) in line and "0644" in line for line in warnings), listed.err
    assert any(str(folder) in line and "0755" in line for line in warnings), listed.err
    assert _mode(db) == 0o644 and _mode(folder) == 0o755


def test_a_looser_key_file_is_named_on_stderr(
    cli: CliRunner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBOPS_TEST_SECRET", SECRET)
    assert cli("agent", "create", "ben", "-p", "bold").code == 0
    _say(cli, "say", "pass")
    key = Path(f"{db_path}.key")
    key.chmod(0o640)
    listed = cli("runbook", "list")
    assert listed.code == 0
    assert f"file {key} is open to other local users (mode 0640)" in listed.err
    assert _mode(key) == 0o640


def test_a_rotation_cut_short_leaves_every_secret_readable(tmp_path: Path) -> None:
    """Between its two key-file writes, rotate-key may be killed: the file then holds the new
    and the old key, and tokens of either still open with it."""
    from storage.secrets import SecretBox

    box = SecretBox.for_database(tmp_path / "webops.db")
    old = box.encrypt("old")
    box.begin_rotation()
    new = box.encrypt("new")
    reopened = SecretBox.for_database(tmp_path / "webops.db", create=False)
    assert reopened.decrypt(old) == "old" and reopened.decrypt(new) == "new"
    box.finish_rotation()
    after = SecretBox.for_database(tmp_path / "webops.db", create=False)
    assert after.decrypt(new) == "new"
    assert len((tmp_path / "webops.db.key").read_bytes().split()) == 1
    assert _mode(tmp_path / "webops.db.key") == 0o600


# --- secrets never leak -------------------------------------------------------------------------


def _say(cli: CliRunner, name: str, code: str) -> None:
    """A command runbook running Python `code`, the secret in its environment as TOKEN."""
    import os

    os.environ["WEBOPS_TEST_SECRET"] = os.environ.get("WEBOPS_TEST_SECRET", SECRET)
    added = cli(
        "runbook",
        "add",
        name,
        "--command",
        f'{sys.executable} -c "{code}"',
        "--env",
        "TOKEN={secret:token}",
        "--secret",
        "token=env:WEBOPS_TEST_SECRET",
        "--risk",
        "low",
    )
    assert added.code == 0, added.err


def _everything(cli: CliRunner, db_path: Path, *outs: str) -> str:
    wal = Path(f"{db_path}-wal")
    raw = db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    return "\n".join(
        [
            *outs,
            cli("audit", "--json").out,
            cli("memory", "ben", "--json").out,
            raw.decode("utf-8", "replace"),
        ]
    )


def test_a_secret_straddling_the_4000_or_200_character_cut_leaks_no_half(
    cli: CliRunner, db_path: Path, monkeypatch: object
) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    # stdout: the secret starts 12 characters before the last 4,000 begin (print adds a newline).
    _say(cli, "tail", "import os; print(os.environ['TOKEN'] + 'y' * 3989)")
    # the detail line: the secret starts 10 characters before the 200-character cut.
    _say(
        cli,
        "line",
        "import os, sys; sys.stderr.write('x' * 190 + os.environ['TOKEN']); sys.exit(3)",
    )
    ran = [cli("task", "ben", "run tail", "--json"), cli("task", "ben", "run line", "--json")]
    assert ran[0].json()["status"] == "succeeded", ran[0].out
    seen = _everything(cli, db_path, *(r.out for r in ran))
    assert SECRET[12:] not in seen
    assert SECRET[:10] not in seen


def test_a_multi_line_secret_leaks_no_line(
    cli: CliRunner, db_path: Path, monkeypatch: object
) -> None:
    import os

    two_lines = "first-line-of-the-key-AAAA\nsecond-line-of-the-key-BBBB"
    os.environ["WEBOPS_TEST_SECRET"] = two_lines
    try:
        cli("agent", "create", "ben", "-p", "bold")
        _say(cli, "key", "import os; print(os.environ['TOKEN']); raise SystemExit(1)")
        ran = cli("task", "ben", "run key", "--json")
    finally:
        del os.environ["WEBOPS_TEST_SECRET"]
    seen = _everything(cli, db_path, ran.out)
    assert "first-line-of-the-key" not in seen and "second-line-of-the-key" not in seen


def test_a_secret_in_an_http_runbooks_host_or_port_never_reaches_audit_or_episodes(
    cli: CliRunner, db_path: Path
) -> None:
    import os

    cli("agent", "create", "ben", "-p", "bold")
    os.environ["WEBOPS_TEST_PORT"] = "99" + SECRET
    os.environ["WEBOPS_TEST_HOST"] = "bad host " + SECRET
    try:
        for name, url, var in (
            ("port", "http://127.0.0.1:{secret:s}/fix", "WEBOPS_TEST_PORT"),
            ("host", "http://{secret:s}/fix", "WEBOPS_TEST_HOST"),
        ):
            added = cli(
                "runbook",
                "add",
                name,
                "--http",
                "POST",
                url,
                "--secret",
                f"s=env:{var}",
                "--risk",
                "low",
            )
            assert added.code == 0, added.err
    finally:
        del os.environ["WEBOPS_TEST_PORT"], os.environ["WEBOPS_TEST_HOST"]
    ran = [cli("task", "ben", "run port", "--json"), cli("task", "ben", "run host", "--json")]
    assert all(r.json()["status"] == "failed" for r in ran), [r.out for r in ran]
    assert SECRET not in _everything(cli, db_path, *(r.out for r in ran))


# --- a missing or wrong key locks only the secrets ------------------------------------------------

CHECK = "import os, sys; sys.exit(os.environ['TOKEN'] != os.environ['WEBOPS_TEST_SECRET'])"


def _two_runbooks(cli: CliRunner, db_path: Path) -> Path:
    """Agent ben, `say` holding a secret (which exits 0 only when it gets it), plain `hello`."""
    assert cli("agent", "create", "ben", "-p", "bold").code == 0
    _say(cli, "say", CHECK)
    hello = cli("runbook", "add", "hello", "--command", "true", "--risk", "low")
    assert hello.code == 0, hello.err
    assert cli("task", "ben", "run say", "--json").json()["status"] == "succeeded"
    return Path(f"{db_path}.key")


def test_a_missing_key_locks_only_that_runbooks_secrets_and_is_never_recreated(
    cli: CliRunner, db_path: Path
) -> None:
    key = _two_runbooks(cli, db_path)
    key.unlink()

    assert cli("agent", "list", "--json").code == 0
    assert cli("audit", "--verify", "--json").json()["ok"] is True
    assert cli("runbook", "add", "plain", "--command", "true").code == 0
    listed = {r["name"]: r for r in cli("runbook", "list", "--json").json()}
    assert "key" in listed["say"]["locked"] and "missing" in listed["say"]["locked"]
    assert listed["hello"]["locked"] is None
    assert cli("task", "ben", "run hello", "--json").json()["status"] == "succeeded"
    ran = cli("task", "ben", "run say", "--json")
    assert ran.json()["status"] == "failed"
    assert (
        "missing" in ran.json()["result"]["detail"] and str(key) in ran.json()["result"]["detail"]
    )
    refused = cli("runbook", "add", "more", "--command", "true", "--secret", "t=env:HOME")
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1
    assert str(key) in refused.err
    assert not key.exists()


def test_a_wrong_key_locks_only_that_runbooks_secrets(cli: CliRunner, db_path: Path) -> None:
    from cryptography.fernet import Fernet

    key = _two_runbooks(cli, db_path)
    key.write_bytes(Fernet.generate_key() + b"\n")

    assert cli("agent", "list").code == 0
    assert cli("audit", "--verify", "--json").json()["ok"] is True
    assert cli("task", "ben", "run hello", "--json").json()["status"] == "succeeded"
    ran = cli("task", "ben", "run say", "--json")
    assert ran.json()["status"] == "failed"
    assert "does not match" in ran.json()["result"]["detail"]


def test_rotate_key_re_encrypts_every_secret_with_a_new_key(cli: CliRunner, db_path: Path) -> None:
    import sqlite3

    key = _two_runbooks(cli, db_path)
    old_key = key.read_bytes()
    with sqlite3.connect(db_path) as c:
        (old_tokens,) = c.execute("SELECT secrets FROM runbook WHERE name = 'say'").fetchone()

    rotated = cli("secrets", "rotate-key", "--json")
    assert rotated.code == 0, rotated.err
    assert rotated.json()["runbooks"] == 1 and rotated.json()["secrets"] == 1
    assert key.read_bytes() != old_key and len(key.read_bytes().split()) == 1
    assert _mode(key) == 0o600
    with sqlite3.connect(db_path) as c:
        (new_tokens,) = c.execute("SELECT secrets FROM runbook WHERE name = 'say'").fetchone()
    assert new_tokens != old_tokens
    assert cli("task", "ben", "run say", "--json").json()["status"] == "succeeded"
    assert "secrets_key_rotated" in cli("audit").out  # a rotation is a change: audited


def test_rotate_key_refuses_secrets_it_cannot_read_unless_told_to_drop_them(
    cli: CliRunner, db_path: Path
) -> None:
    key = _two_runbooks(cli, db_path)
    key.unlink()
    refused = cli("secrets", "rotate-key")
    assert refused.code == 2 and "say" in refused.err and "--drop-unreadable" in refused.err
    assert not key.exists()

    dropped = cli("secrets", "rotate-key", "--drop-unreadable", "--json")
    assert dropped.code == 0, dropped.err
    assert dropped.json()["dropped"] == ["say"]
    assert _mode(key) == 0o600
    listed = {r["name"]: r for r in cli("runbook", "list", "--json").json()}
    assert "add it again" in listed["say"]["locked"]
    # New secrets are welcome again, under the new key.
    assert cli("runbook", "remove", "say").code == 0
    _say(cli, "say", CHECK)
    assert cli("task", "ben", "run say", "--json").json()["status"] == "succeeded"


# --- secrets never on a command line, credential env values sealed ----------------------------


def test_a_secret_value_on_the_webops_command_line_is_refused_env_or_stdin_instead(
    cli: CliRunner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("agent", "create", "ben", "-p", "bold")
    refused = cli("runbook", "add", "say", "--command", "true", "--secret", f"t={SECRET}")
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1
    assert "ps" in refused.err and "env:" in refused.err
    assert cli("runbook", "list", "--json").json() == []

    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    monkeypatch.setenv("WEBOPS_TEST_SECRET", SECRET)
    added = cli(
        "runbook", "add", "say", "--command", f'{sys.executable} -c "{CHECK}"',
        "--env", "TOKEN={secret:token}", "--secret", "token=-", "--risk", "low",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert cli("task", "ben", "run say", "--json").json()["status"] == "succeeded"


def test_a_secret_in_a_runbooks_own_argv_is_refused(cli: CliRunner, db_path: Path) -> None:
    """The child's argv is in `ps` for every local user while it runs: environment only."""
    refused = cli(
        "runbook", "add", "leak", "--command", "curl -u admin:{secret:pw} http://x",
        "--secret", "pw=env:HOME",
    )  # fmt: skip
    assert refused.code == 2 and "--env" in refused.err
    assert len(refused.err.strip().splitlines()) == 1


def test_credential_env_values_are_stored_encrypted_and_still_reach_the_command(
    cli: CliRunner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = "plain-env-Value-9137"
    monkeypatch.setenv("WEBOPS_TEST_SECRET", plain)
    cli("agent", "create", "ben", "-p", "bold")
    code = "import os, sys; sys.exit(os.environ['API_TOKEN'] != os.environ['WEBOPS_TEST_SECRET'])"
    added = cli(
        "runbook", "add", "say", "--command", f'{sys.executable} -c "{code}"',
        "--env", f"API_TOKEN={plain}", "--env", "MODE=gentle", "--risk", "low", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert plain not in added.out
    assert cli("task", "ben", "run say", "--json").json()["status"] == "succeeded"
    assert plain not in _everything(cli, db_path, cli("runbook", "list", "--json").out)
    assert "gentle" in cli("runbook", "list", "--json").out


# --- the bound: no cut leaves any part of a secret -----------------------------------------------

letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4)
padding = st.text(alphabet="0123456789 .\n", max_size=300)


@given(
    lines=st.lists(letters, min_size=1, max_size=3),
    before=padding,
    after=padding,
    limit=st.integers(min_value=1, max_value=400),
    printed_by_line=st.booleans(),
)
def test_whatever_the_cut_no_letter_of_a_secret_survives(
    lines: list[str], before: str, after: str, limit: int, printed_by_line: bool
) -> None:
    """Output is padding (no letters) around a secret (letters only, maybe several lines,
    maybe printed with other line endings): after scrub-then-cut, no letter is left."""
    from agent.ops.scrub import scrubbed_head, scrubbed_tail

    secret = "\n".join(lines)
    shown = "\r\n".join(lines) if printed_by_line else secret
    text = before + shown + after
    for cut in (
        scrubbed_tail(text, {"s": secret}, limit),
        scrubbed_head(text, {"s": secret}, limit),
    ):
        assert not any(c.isalpha() for c in cut)


def test_an_older_runbook_with_a_secret_in_its_argv_is_refused_when_run(
    cli: CliRunner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the refusal may hold one: it stays listed, but never runs."""
    import json
    import sqlite3

    monkeypatch.setenv("WEBOPS_TEST_SECRET", SECRET)
    cli("agent", "create", "ben", "-p", "bold")
    _say(cli, "say", "import sys; print(sys.argv)")
    with sqlite3.connect(db_path) as c:
        (spec,) = c.execute("SELECT spec FROM runbook WHERE name = 'say'").fetchone()
        doc = json.loads(spec)
        doc["argv"].append("--token={secret:token}")
        c.execute("UPDATE runbook SET spec = ? WHERE name = 'say'", (json.dumps(doc),))
    assert cli("runbook", "list", "--json").code == 0
    ran = cli("task", "ben", "run say", "--json")
    assert ran.json()["status"] == "failed" and "ps" in ran.json()["result"]["detail"]


def test_credential_header_values_are_stored_encrypted_and_still_reach_the_server(
    cli: CliRunner, db_path: Path
) -> None:
    """`--header "Authorization=Bearer abc"` written literally was stored in plain text (issue
    18): now sealed like a credential `env` value, masked where an approval shows the request,
    and sent as written to a real server on 127.0.0.1."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    plain = "Bearer plain-Header-Value-4711"
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(dict(self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cli("agent", "create", "ben", "-p", "bold")
        url = f"http://127.0.0.1:{server.server_address[1]}/fix"
        added = cli(
            "runbook", "add", "poke", "--http", "POST", url, "--header", f"Authorization={plain}",
            "--header", "X-Mode=gentle", "--risk", "high", "--json",
        )  # fmt: skip
        assert added.code == 0, added.err
        assert plain not in added.out
        asked = cli("task", "ben", "run poke", "--json")
        assert asked.json()["status"] == "awaiting_approval", asked.out
        shown = cli("approvals", "--json").out
        assert plain not in shown and "plain-Header" not in shown
        approval = asked.json()["approval_id"]
        ran = cli("approvals", "--approve", str(approval), "--json")
        assert ran.code == 0, ran.err
        assert received and received[-1]["Authorization"] == plain
        assert received[-1]["X-Mode"] == "gentle"
        listed = cli("runbook", "list", "--json").out
        assert "gentle" in listed
        assert plain not in _everything(cli, db_path, listed, ran.out)
        assert "plain-Header" not in _everything(cli, db_path, listed, ran.out)
    finally:
        server.shutdown()
        server.server_close()


header_names = st.sampled_from(
    ["Authorization", "X-Api-Key", "X_Api_Key", "x-api-key", "Cookie", "X-Mode", "Accept"]
)
header_values = st.text(alphabet="abcXYZ019 =/+.-", min_size=1, max_size=30).filter(str.strip)


@given(headers=st.dictionaries(header_names, header_values, max_size=6))
def test_sealed_headers_hold_no_credential_and_fill_back_to_what_was_written(
    headers: dict[str, str],
) -> None:
    """Whatever the names (two that differ only by '-' and '_' too), no credential-named header
    keeps its value in the definition, each fills back to exactly what was written, and sealing
    a sealed definition (as loading a stored one does) changes nothing."""
    from agent.ops.targets import CREDENTIAL_NAME, PLACEHOLDER, RunbookSpec

    spec = RunbookSpec(name="poke", kind="http", url="http://h/", headers=headers)
    for name, written in headers.items():
        stored = spec.headers[name]
        if CREDENTIAL_NAME.search(name):
            assert PLACEHOLDER.fullmatch(stored)
        else:
            assert stored == written
        filled = PLACEHOLDER.sub(lambda m: spec.secrets[m.group(1)[7:]], stored)
        assert filled == written
    again = RunbookSpec.model_validate(spec.model_dump())
    assert again == spec
