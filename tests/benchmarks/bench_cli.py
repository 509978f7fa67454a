"""Start-up of the read commands in fresh processes, on a database with a realistic history.

Each command is timed against bare `python -c pass` measured in the same run: the issue asks
for <= 0.3 s and <= 20x Python's own start-up, so each read command has both figures. The
database is a short headless demo (agents with records, skills, drift, runbooks) whose agents
then remember EPISODES episodes each through the kernel, as a long run would leave them.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.figures import Figure, median_time

WEBOPS = str(Path(sys.executable).with_name("webops"))
#: Episodes each demo agent holds when the reads are timed ("a few thousand").
EPISODES = 3_000
REPEAT = 7


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


async def _remember(db: Path) -> None:
    from agent.core.kernel import Kernel

    async with await Kernel.open(db) as kernel:
        for name in await kernel.agent_names():
            memory = (await kernel.load_agent(name)).memory
            for i in range(EPISODES):
                await memory.remember(
                    "check",
                    f"shop answered {200 + i % 3} in {i % 97} ms after the {i}th look",
                    importance=(i % 10) / 10,
                    details={"n": i},
                )


def _populated(folder: Path) -> Path:
    db = folder / "bench.db"
    _run(WEBOPS, "--db", str(db), "demo", "--headless", "--duration", "10", "--json")
    asyncio.run(_remember(db))
    return db


def _figures(name: str, seconds: float, python: float, reference: str) -> list[Figure]:
    ratio = seconds / python
    return [
        Figure(f"cli.{name}_s", seconds, "s", "<= 0.3", f"{reference} ({ratio:.1f}x)"),
        Figure(f"cli.{name}_vs_python", ratio, "x", "<= 20", f"{reference}, {seconds:.3f} s"),
    ]


def run() -> list[Figure]:
    _run(WEBOPS, "--help")  # warm the file cache
    python = median_time(lambda: _run(sys.executable, "-c", "pass"), repeat=REPEAT)
    reference = f"bare python start-up {python * 1000:.0f} ms"
    help_s = median_time(lambda: _run(WEBOPS, "--help"))
    figures = [Figure("cli.help_s", help_s, "s", "<= 0.3", f"{reference} ({help_s / python:.1f}x)")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        folder.chmod(0o700)
        db = str(_populated(folder))
        reads = {
            "status_json": ("status", "ben", "--json"),
            "agent_list_json": ("agent", "list", "--json"),
            "memory_json": ("memory", "ben", "--json"),
        }
        for name, args in reads.items():
            _run(WEBOPS, "--db", db, *args)  # warm
            seconds = median_time(lambda args=args: _run(WEBOPS, "--db", db, *args), REPEAT)
            figures += _figures(name, seconds, python, reference)
    return figures
