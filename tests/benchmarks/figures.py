"""A benchmark figure, its target, and how the table and bench-results.json show it."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    #: "<= 0.3" or ">= 1000": the floor or ceiling the design asks for.
    target: str
    reference: str = ""

    @property
    def ok(self) -> bool:
        op, bound = self.target.split()
        return self.value <= float(bound) if op == "<=" else self.value >= float(bound)


def median_time(run: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report(figures: list[Figure], path: Path) -> bool:
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'value':>12}  {'target':>10}  ok   reference")
    for f in figures:
        print(
            f"{f.name:<{width}}  {f.value:>12.4g} {f.unit:<4} {f.target:>10}  "
            f"{'yes' if f.ok else 'NO ':<4} {f.reference}"
        )
    document = {
        "figures": [asdict(f) | {"ok": f.ok} for f in figures],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path}")
    return all(f.ok for f in figures)
