"""A database that cannot be written is named as such, never called damaged (issue 18, "Weak
validation": a read-only folder was reported as "a damaged or unreadable SQLite file").

Root ignores file permissions, so the tests make the folder or the file read-only with a real
read-only bind mount, and run one command in a forked child that became `nobody` for a folder
only root may write (root, as in CI's container); elsewhere they are skipped with that reason.
The file is checked byte for byte afterwards: the refusal changed nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from webops_tui.cli import main


def _read_only_bind(source: Path, mount_point: Path) -> None:
    for args in (
        ["mount", "--bind", str(source), str(mount_point)],
        ["mount", "-o", "remount,ro,bind", str(mount_point)],
    ):
        done = subprocess.run(args, capture_output=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(mount_point)], capture_output=True)
            pytest.skip("cannot make a read-only bind mount here (needs root)")


@pytest.fixture
def stored(tmp_path: Path, cli: CliRunner) -> Path:
    """A real database with an agent in it, closed cleanly (no -wal/-shm beside it)."""
    db = tmp_path / "data" / "webops.db"
    assert cli("agent", "create", "anna", db=db).code == 0
    return db


@pytest.fixture
def read_only_folder(stored: Path, tmp_path: Path) -> Iterator[Path]:
    """The folder holding `stored`, seen through a read-only mount; yields the database there."""
    view = tmp_path / "view"
    view.mkdir()
    _read_only_bind(stored.parent, view)
    try:
        yield view / stored.name
    finally:
        subprocess.run(["umount", str(view)], check=False)


@pytest.fixture
def read_only_file(stored: Path) -> Iterator[Path]:
    """`stored` itself made read-only by a mount over it; its folder stays writable."""
    _read_only_bind(stored, stored)
    try:
        yield stored
    finally:
        subprocess.run(["umount", str(stored)], check=False)


def _refusal(result_err: str) -> str:
    lines = result_err.strip().splitlines()
    errors = [line for line in lines if line.startswith("webops: error: ")]
    assert len(errors) == 1 and "Traceback" not in result_err, result_err
    return errors[0]


@pytest.mark.parametrize("args", [["agent", "list"], ["agent", "create", "bob"], ["status"]])
def test_a_read_only_folder_is_named_not_called_damaged(
    read_only_folder: Path, stored: Path, cli: CliRunner, args: list[str]
) -> None:
    before = stored.read_bytes()
    result = cli(*args, db=read_only_folder)
    error = _refusal(result.err)
    assert result.code == 2, result.err
    assert f"cannot write {read_only_folder.parent}: read-only file system" in error, error
    assert "damaged" not in error
    assert stored.read_bytes() == before


def test_a_read_only_file_is_named_when_a_write_is_refused(
    read_only_file: Path, cli: CliRunner
) -> None:
    before = read_only_file.read_bytes()
    assert cli("agent", "list", db=read_only_file).code == 0  # reading needs no write
    result = cli("agent", "create", "bob", db=read_only_file)
    error = _refusal(result.err)
    assert result.code == 2, result.err
    assert f"cannot write {read_only_file}: read-only file system" in error, error
    assert "damaged" not in error
    assert read_only_file.read_bytes() == before


def _as_nobody(args: list[str], home: Path) -> tuple[int, str]:
    """Run `main(args)` in a forked child that gave up root for the unprivileged `nobody`."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no return, no pytest machinery after this point
        err = io.StringIO()
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.environ.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(args)
        except BaseException as exc:  # reported to the parent, which fails the test
            code, err = 99, io.StringIO(f"{type(exc).__name__}: {exc}")
        os.write(write_end, json.dumps([code, err.getvalue()]).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        data = reader.read()
    os.waitpid(pid, 0)
    code, err_text = json.loads(data)
    return int(code), str(err_text)


def test_a_folder_the_user_may_not_write_is_named(cli: CliRunner) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a folder to root and the run to nobody")
    folder = Path(tempfile.mkdtemp(prefix="webops-perm-", dir="/tmp"))
    try:
        folder.chmod(0o755)  # root's folder, readable by all, writable by root only
        db = folder / "webops.db"
        assert cli("agent", "create", "anna", db=db).code == 0
        db.chmod(0o644)
        assert cli("agent", "list", db=db).code == 0  # every import the child needs is loaded
        before = db.read_bytes()
        code, err = _as_nobody(["--db", str(db), "agent", "list"], home=folder)
        assert code == 2, err
        error = _refusal(err)
        assert f"cannot write {folder}: permission denied" in error, error
        assert "damaged" not in error
        assert db.read_bytes() == before
    finally:
        shutil.rmtree(folder)
