"""Run every benchmark, print the table, write bench-results.json; exit 1 if a target is missed."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.benchmarks import (
    bench_api,
    bench_cli,
    bench_demo,
    bench_fleet,
    bench_kernel,
    bench_metrics,
    bench_recall,
    bench_recall_1m,
    bench_scale,
    bench_storage,
    bench_ui,
    bench_ui_scale,
)
from tests.benchmarks.figures import Figure, report

SUITES = {
    "kernel": bench_kernel.run,
    "cli": bench_cli.run,
    "storage": bench_storage.run,
    "recall": bench_recall.run,
    "recall_1m": bench_recall_1m.run,
    "demo": bench_demo.run,
    "ui": bench_ui.run,
    "ui_scale": bench_ui_scale.run,
    "api": bench_api.run,
    "metrics": bench_metrics.run,
    "scale": bench_scale.run,
    "fleet": bench_fleet.run,
}


def main() -> int:
    chosen = sys.argv[1:] or list(SUITES)
    figures: list[Figure] = []
    for name in chosen:
        print(f"running {name} ...", flush=True)
        figures.extend(SUITES[name]())
    return 0 if report(figures, Path("bench-results.json")) else 1


if __name__ == "__main__":
    raise SystemExit(main())
