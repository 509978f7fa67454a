"""5,000 HTTP targets at a 30 s interval in one `webops run`: how late checks start, and the CPU.

The targets are a farm of healthy HTTP servers in a subprocess (tests/benchmarks/target_farm.py)
that records when each target is asked; `webops target import` stores them in a fresh database
and `webops run --duration D --json` watches them for more than two intervals. Lateness is
measured two ways: the product's own figure (due time to start, in `run --json`), and from the
farm's arrivals (per target, |gap between consecutive requests - interval|), which needs no
trust in the product. CPU is read from /proc for the steady part of the run (after start-up and
the first checks, before the wind-down). The reference, from the same run: the farm's CPU, the
checks made per second, and the incidents opened, which must be 0 on a healthy farm.

`WEBOPS_BENCH_TARGETS`, `WEBOPS_BENCH_INTERVAL` and `WEBOPS_BENCH_DURATION` shrink it for a try.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.figures import Figure
from tests.benchmarks.target_farm import TargetFarm

TARGETS = int(os.environ.get("WEBOPS_BENCH_TARGETS", "5000"))
INTERVAL_S = float(os.environ.get("WEBOPS_BENCH_INTERVAL", "30"))
#: Two intervals and a warm-up.
DURATION_S = float(os.environ.get("WEBOPS_BENCH_DURATION", str(2.5 * INTERVAL_S)))
#: Start-up and the first checks, left out of the CPU figure.
WARM_UP_S = min(10.0, DURATION_S / 5)
_TICK = os.sysconf("SC_CLK_TCK")


def _webops(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webops_tui", "--db", str(db), *args],
        check=True,
        capture_output=True,
        text=True,
    )


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _gaps(arrivals: dict[str, list[float]]) -> list[float]:
    """Per target, how far each gap between consecutive checks is from the interval."""
    late = []
    for times in arrivals.values():
        times = sorted(times)
        late.extend(abs(b - a - INTERVAL_S) for a, b in itertools.pairwise(times))
    return late


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="webops-scale-") as tmp, TargetFarm() as farm:
        db = Path(tmp) / "scale.db"
        urls = farm.start(TARGETS)
        document = Path(tmp) / "targets.toml"
        document.write_text(
            "".join(
                f'[[target]]\nname = "t{i:05d}"\nkind = "http"\naddress = "{url}"\n'
                f"interval_s = {INTERVAL_S:g}\n\n"
                for i, url in enumerate(urls)
            )
        )
        _webops(db, "agent", "create", "ops")
        started = time.perf_counter()
        _webops(db, "target", "import", str(document))
        import_s = time.perf_counter() - started

        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "webops_tui",
                "--db",
                str(db),
                "run",
                "--quiet",
                "--json",
                "--approve",
                "none",
                "--duration",
                f"{DURATION_S:g}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        began = time.monotonic()
        time.sleep(WARM_UP_S)
        cpu_0, wall_0 = _cpu_s(process.pid), time.monotonic()
        time.sleep(max(1.0, DURATION_S - WARM_UP_S - 2.0))
        cpu_1, wall_1 = _cpu_s(process.pid), time.monotonic()
        out, err = process.communicate(timeout=DURATION_S + 120)
        if process.returncode != 0:
            raise RuntimeError(f"webops run failed ({process.returncode}): {err[-2000:]}")
        summary = json.loads(out)
        run_s = time.monotonic() - began
        arrivals = farm.stop()

    cores = (cpu_1 - cpu_0) / (wall_1 - wall_0)
    product_p95 = float(summary["lateness"]["p95_s"] or float("nan"))
    gaps = _gaps(arrivals)
    farm_p95 = _p95(gaps)
    asked = sum(len(times) for times in arrivals.values())
    unasked = TARGETS - len(arrivals)
    checks_per_s = summary["checks"] / run_s
    reference = (
        f"farm: {asked:,} requests, {len(gaps):,} gaps, {unasked} targets never asked, farm CPU "
        f"{farm.cpu_s:.1f} s; {summary['checks']:,} checks ({checks_per_s:.0f}/s), "
        f"{summary['incidents']} incidents opened (0 on a healthy farm); "
        f"import of {TARGETS:,} targets {import_s:.1f} s"
    )
    return [
        Figure(
            f"scale.targets_{TARGETS}_jitter_p95_s",
            max(product_p95, farm_p95),
            "s",
            "<= 1.0",
            f"product's own lateness p95 {product_p95:.3f} s (median "
            f"{statistics.median([summary['lateness']['p50_s'] or 0.0]):.3f} s), from the farm's "
            f"arrivals |gap - {INTERVAL_S:g} s| p95 {farm_p95:.3f} s; {reference}",
        ),
        Figure(
            f"scale.targets_{TARGETS}_cpu_cores",
            cores,
            "core",
            "<= 1.0",
            f"webops run CPU {cpu_1 - cpu_0:.1f} s over {wall_1 - wall_0:.0f} s of the steady "
            f"part; farm CPU {farm.cpu_s:.1f} s over the whole run ({run_s:.0f} s)",
        ),
    ]
