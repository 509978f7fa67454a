"""Shared fixtures: every test gets its own real SQLite file and runs the real CLI entry point."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.service import ControlledService
from webops_tui.cli import main

# Property tests judge bounds, not speed (speed is `make bench`'s): no per-example deadline,
# which a loaded CI machine would turn into failures that say nothing about the code.
settings.register_profile("webops", deadline=None)
settings.load_profile("webops")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


CliRunner = Callable[..., CliResult]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "webops.db"


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `webops --db <db_path> ARGS...` in-process through `main`, as the console script does."""

    def run(*args: str, db: Path | None = None) -> CliResult:
        capsys.readouterr()
        code = main(["--db", str(db or db_path), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


class FakeClock:
    """A clock that moves only when told, for decay and rate limits without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service() -> Iterator[ControlledService]:
    """A service on 127.0.0.1 whose health a runbook can fix (see `define_shop`)."""
    with ControlledService() as running:
        yield running


# TEMP pg_url: replaced by the pgtest lane
@pytest.fixture
def pg_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database on the dev server running here (the pgtest lane starts its own)."""
    import subprocess
    import uuid

    name = f"follow_{uuid.uuid4().hex[:12]}"
    psql = ["psql", "-h", "127.0.0.1", "-p", "55432", "-U", "postgres", "-qc"]
    subprocess.run([*psql, f"create database {name}"], check=True, capture_output=True)
    monkeypatch.setenv("WEBOPS_KEYS", str(tmp_path / "keys"))
    yield f"postgresql://postgres@127.0.0.1:55432/{name}"
    subprocess.run([*psql, f"drop database {name} with (force)"], capture_output=True)
