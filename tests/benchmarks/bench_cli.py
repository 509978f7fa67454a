"""Start-up of the CLI: `webops --help` and `webops status --json` in fresh processes."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.figures import Figure, median_time

WEBOPS = str(Path(sys.executable).with_name("webops"))


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def run() -> list[Figure]:
    _run(WEBOPS, "--help")  # warm the file cache
    python = median_time(lambda: _run(sys.executable, "-c", "pass"))
    reference = f"bare python start-up {python * 1000:.0f} ms"
    help_s = median_time(lambda: _run(WEBOPS, "--help"))
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        _run(WEBOPS, "--db", db, "agent", "create", "anna", "--preset", "cautious")
        status_s = median_time(
            lambda: _run(WEBOPS, "--db", db, "status", "anna", "--json"), repeat=7
        )
    return [
        Figure("cli.help_s", help_s, "s", "<= 0.3", f"{reference} ({help_s / python:.1f}x)"),
        Figure(
            "cli.status_json_s",
            status_s,
            "s",
            "<= 0.8",
            f"{reference} ({status_s / python:.1f}x)",
        ),
    ]
