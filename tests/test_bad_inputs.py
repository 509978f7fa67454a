"""Issue 18's crashes and weak validation, each reached the way the careless user reached it:
through the CLI on a real database file. Every refusal is one line, exit 2, and leaves the
stored rows as they were (the dump before equals the dump after)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import CliRunner

HUGE = str(2**63)
#: Past 64 bits the other way: the bound on the options was only an upper one (found by the fuzzer).
NEGATIVE_HUGE = str(-(2**63) - 1)


def dump(db_path: Path) -> list[str]:
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as conn:
        return list(conn.iterdump())


def refused(cli: CliRunner, db_path: Path, *args: str) -> str:
    """Run a command that must be refused; return its one-line error."""
    before = dump(db_path)
    result = cli(*args)
    assert result.code == 2, (args, result)
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert dump(db_path) == before
    return result.err


@pytest.fixture
def stocked(cli: CliRunner) -> CliRunner:
    assert cli("agent", "create", "anna").code == 0
    assert cli("target", "add", "shop", "--address", "http://127.0.0.1:9/").code == 0
    return cli


@pytest.mark.parametrize(
    "args",
    [
        ("approvals", "--approve", HUGE),
        ("approvals", "--deny", HUGE),
        ("memory", "anna", "--limit", HUGE),
        ("audit", "--limit", HUGE),
        ("incidents", "--limit", HUGE),
        ("incident", "show", HUGE),  # already "no incident with id", kept
        ("approvals", "--approve", NEGATIVE_HUGE),
        ("approvals", "--deny", NEGATIVE_HUGE),
        ("memory", "anna", "--limit", NEGATIVE_HUGE),
        ("audit", "--limit", NEGATIVE_HUGE),
        ("incidents", "--limit", NEGATIVE_HUGE),
        ("incident", "show", NEGATIVE_HUGE),
    ],
)
def test_numbers_past_64_bits_are_refused(
    stocked: CliRunner, db_path: Path, args: tuple[str, ...]
) -> None:
    refused(stocked, db_path, *args)


@pytest.mark.parametrize("value", ["inf", "1e308", "1e-320", "nan", "-1", "0"])
@pytest.mark.parametrize("option", ["--interval", "--retry-interval", "--timeout"])
def test_check_intervals_are_finite_and_sane(
    stocked: CliRunner, db_path: Path, option: str, value: str
) -> None:
    err = refused(stocked, db_path, "target", "add", "web", "--address", "http://h/", option, value)
    assert option.removeprefix("--").replace("-", "_")[:5] in err.replace("-", "_")


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("http", "http://"),
        ("http", "http://a b"),
        ("http", "http://h:99999/"),
        ("http", "http://h\r\nX: y/"),
        ("tcp", "h:0"),
        ("tcp", "h:99999"),
        ("tls", "h:65536"),
        ("dns", "a b"),
    ],
)
def test_addresses_are_validated(
    stocked: CliRunner, db_path: Path, kind: str, address: str
) -> None:
    refused(stocked, db_path, "target", "add", "web", "--kind", kind, "--address", address)


@pytest.mark.parametrize(
    "extra",
    [
        ("--http", "G ET", "http://h/"),
        ("--http", "GET\r\nX: y", "http://h/"),
        ("--http", "POST", "http://"),
        ("--http", "POST", "http://h/", "--header", "X-A=1\r\nX-B: 2"),
        ("--http", "POST", "http://h/", "--header", "X A=1"),
    ],
)
def test_http_runbooks_are_validated(
    stocked: CliRunner, db_path: Path, extra: tuple[str, ...]
) -> None:
    refused(stocked, db_path, "runbook", "add", "poke", *extra)


def test_demo_approve_empty_is_refused(cli: CliRunner, db_path: Path) -> None:
    err = refused(cli, db_path, "demo", "--headless", "--duration", "0.1", "--approve", "")
    assert "--approve" in err


def test_removing_a_target_a_runbook_verifies_with_is_refused(
    stocked: CliRunner, db_path: Path
) -> None:
    assert stocked("runbook", "add", "fix", "--command", "true", "--verify", "shop").code == 0
    err = refused(stocked, db_path, "target", "remove", "shop")
    assert "fix" in err
    assert stocked("runbook", "remove", "fix").code == 0
    assert stocked("target", "remove", "shop").code == 0


@pytest.mark.parametrize(
    "text",
    [
        "target = 3\n",
        'target = ["a"]\n',
        "[target]\nname = 'x'\n",
        "runbook = 3\n",
        "[[target]]\nname = 'x'\nkind = 'dns'\naddress = \"a\\u0000b\"\n",
        "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
    ],
    ids=["int", "strings", "table", "runbook-int", "nul", "deep-arrays", "deep-tables"],
)
def test_imports_that_crashed_are_refused(
    stocked: CliRunner, db_path: Path, tmp_path: Path, text: str
) -> None:
    file = tmp_path / "defs.toml"
    file.write_text(text, encoding="utf-8")
    refused(stocked, db_path, "target", "import", str(file))


@pytest.mark.parametrize(
    "content",
    [
        b'theme = "\xff\xfe"\n',
        ("x = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
        b'theme = "a\\u0000"\n',
    ],
    ids=["latin-1", "deep", "nul"],
)
def test_bad_config_files_are_one_line_errors(
    stocked: CliRunner, db_path: Path, tmp_path: Path, content: bytes
) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(content)
    refused(stocked, db_path, "--config", str(config), "agent", "list")


def test_a_damaged_page_is_a_one_line_error(stocked: CliRunner, db_path: Path) -> None:
    """A page in the middle overwritten: sqlite says "malformed" (a DatabaseError, not an
    OperationalError); every command says so in one line, and the file is left as it was."""
    for i in range(20):
        assert stocked("agent", "create", f"a{i}").code == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'agent'").fetchone()
    raw = bytearray(db_path.read_bytes())
    start = (root - 1) * page_size + 8  # keep the page's type byte: a "valid" page of garbage
    raw[start : root * page_size] = b"\xa5" * (page_size - 8)
    db_path.write_bytes(bytes(raw))
    before = db_path.read_bytes()
    for args in (("agent", "list"), ("status", "a1"), ("agent", "create", "zz")):
        result = stocked(*args)
        assert result.code in (1, 2), (args, result)
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert db_path.read_bytes() == before


def test_a_refused_file_with_our_id_is_not_switched_to_wal(cli: CliRunner, tmp_path: Path) -> None:
    """Our application id and schema 3, but no tables: refused, and still in its own journal
    mode (it used to be switched to WAL by the first connection, before being refused)."""
    from storage.migrations import APPLICATION_ID

    path = tmp_path / "half.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 3;")
    before = path.read_bytes()
    result = cli("agent", "list", db=path)
    errors = [line for line in result.err.splitlines() if "error:" in line]
    assert result.code == 2 and len(errors) == 1  # (a warning that the file is public may come)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert path.read_bytes() == before


def test_a_stored_target_a_newer_rule_refuses_is_set_aside_not_a_lock_out(
    cli: CliRunner, db_path: Path
) -> None:
    """A target stored before intervals had to be finite: every command still works, says
    which definition is set aside and why, and removing it is the way out."""
    assert cli("agent", "create", "anna").code == 0
    assert cli("target", "add", "shop", "-a", "http://127.0.0.1:9/").code == 0
    assert cli("target", "add", "api", "-a", "http://127.0.0.1:9/api").code == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE target SET interval_s = ? WHERE name = 'shop'", (float("inf"),))
    listed = cli("target", "list")
    assert listed.code == 0 and "api" in listed.out and "shop" not in listed.out
    assert "stored target shop is not loaded (interval_s" in listed.err
    assert "Traceback" not in listed.err
    assert cli("agent", "list").code == 0
    removed = cli("target", "remove", "shop")
    assert removed.code == 0, removed.err
    after = cli("target", "list")
    assert after.code == 0 and "not loaded" not in after.err
    assert "target_removed" in cli("audit").out
