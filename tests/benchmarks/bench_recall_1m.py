"""Recall over 1,000,000 episodes: the int8 inverted-file index against a float32 exact scan.

Rows and queries are the product's own embeddings (`HashingEmbedder`) of generated episode
summaries (target x symptom x action x outcome, with varied numbers), not random Gaussian
vectors: those have no structure at all, unlike an agent's memories, and are the worst case for
any index (reported too, as `memory.recall_1m_overlap_gaussian`). The embeddings are written
once to a temporary file; a child process builds the index from it a block at a time and
reports its latency, its answers and its peak resident memory, so the figure counts what a
process holding the index holds, not this one's float32 reference copy.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent.memory.embedding import DIM, HashingEmbedder
from agent.memory.recall import DEFAULT_WEIGHTS, score, top_positions
from tests.benchmarks.figures import Figure

ROWS = 1_000_000
QUERIES = 40
LIMIT = 10
NOW = 1_750_000_000.0
#: Rows embedded, written and read back at a time.
BLOCK = 32_768

F32 = npt.NDArray[np.float32]

_SERVICES = "shop cart auth search billing db cache queue mail cdn api web pay login report img"
_ROLES = "api svc web worker primary replica edge gw"
_SYMPTOMS = [
    "latency high {n} ms",
    "returned 503 errors",
    "timed out after {n} s",
    "disk full at {n}%",
    "memory leak rss {n} MB",
    "cpu saturated {n}%",
    "tls certificate expires in {n} days",
    "connection refused",
    "dns lookup failed",
    "error rate {n}%",
    "queue backlog {n} jobs",
    "slow queries p95 {n} ms",
    "health check flapping",
    "out of file descriptors",
    "replication lag {n} s",
]
_ACTIONS = [
    "restart",
    "failover-db",
    "scale-out to {n} replicas",
    "clear cache",
    "rotate logs",
    "renew certificate",
    "roll back deploy {n}",
    "drain node {n}",
    "raise pool size to {n}",
    "page on-call",
    "silence alert",
    "flush dns",
    "vacuum table",
    "kill long query {n}",
]
_OUTCOMES = [
    "fixed it",
    "did not help",
    "partly helped",
    "made it worse",
    "recovered in {n} s",
    "needs follow-up",
    "escalated to a human",
]
_TARGETS = [f"{s}-{r}" for s in _SERVICES.split() for r in _ROLES.split()]


def summaries(rng: np.random.Generator, count: int) -> list[str]:
    """Episode summaries like an agent's: what was wrong where, what it did, what came of it."""
    picks = rng.integers(0, 1 << 30, (count, 5)).tolist()
    return [
        f"{_TARGETS[t % len(_TARGETS)]} {_SYMPTOMS[s % len(_SYMPTOMS)].format(n=n % 900)}; "
        f"{_ACTIONS[a % len(_ACTIONS)].format(n=n % 17)} "
        f"{_OUTCOMES[o % len(_OUTCOMES)].format(n=n % 90)}"
        for t, s, a, o, n in picks
    ]


def _write_rows(folder: Path, gaussian: bool) -> tuple[Path, F32]:
    """Embeddings, ts and importance of ROWS episodes in `folder`; and the query vectors."""
    rng = np.random.default_rng(2023)
    embedder = HashingEmbedder(cache_size=16)
    path = folder / ("gaussian.f32" if gaussian else "episodes.f32")
    with path.open("wb") as out:
        for start in range(0, ROWS, BLOCK):
            count = min(BLOCK, ROWS - start)
            if gaussian:
                rows = rng.standard_normal((count, DIM), dtype=np.float32)
                rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            else:
                rows = embedder.embed_many(summaries(rng, count))
            out.write(rows.tobytes())
    np.save(folder / "ts.npy", NOW - rng.uniform(0, 90 * 86_400, ROWS))
    np.save(folder / "importance.npy", rng.random(ROWS, dtype=np.float32))
    if gaussian:
        queries = rng.standard_normal((QUERIES, DIM), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    else:
        queries = embedder.embed_many(summaries(rng, QUERIES))
    return path, queries


def _exact(
    path: Path, queries: F32, ts: npt.NDArray[np.float64], importance: F32
) -> tuple[list[list[int]], float]:
    """Top ids by the full score over every row with float32 cosines, and the bare matvec's
    time for one query over ROWS rows (ten 100,000-row products, each timed in memory)."""
    relevance = np.empty((len(queries), ROWS), dtype=np.float32)
    matvec_s = 0.0
    with path.open("rb") as f:
        for start in range(0, ROWS, 100_000):
            count = min(100_000, ROWS - start)
            rows = np.fromfile(f, dtype=np.float32, count=count * DIM).reshape(count, DIM)
            relevance[:, start : start + count] = queries @ rows.T
            times = []
            for q in queries[:5]:
                began = time.perf_counter()
                np.matmul(rows, q)
                times.append(time.perf_counter() - began)
            matvec_s += statistics.median(times)
    ids = np.arange(ROWS, dtype=np.int64)
    tops = []
    for row in relevance:
        total = score(row, NOW - ts, importance, DEFAULT_WEIGHTS)[0]
        tops.append(ids[top_positions(total, ids, LIMIT)].tolist())
    return tops, matvec_s


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(folder: Path, name: str) -> None:
    """Build the index from the file a block at a time, answer the queries, report (stdout)."""
    from agent.memory.recall_ivf import QuantizedIndex

    ts = np.load(folder / "ts.npy")
    importance = np.load(folder / "importance.npy")
    queries = np.load(folder / "queries.npy")
    began = time.perf_counter()
    index = QuantizedIndex(DIM, capacity=ROWS)
    buffer = np.empty((BLOCK, DIM), dtype=np.float32)
    with (folder / name).open("rb") as f:
        for start in range(0, ROWS, BLOCK):
            count = min(BLOCK, ROWS - start)
            f.readinto(memoryview(buffer[:count]).cast("B"))
            stop = start + count
            index.extend(
                np.arange(start, stop), buffer[:count], ts[start:stop], importance[start:stop]
            )
    del buffer
    loaded_s = time.perf_counter() - began
    began = time.perf_counter()
    index.search(queries[0], NOW, LIMIT)  # the first recall builds the lists
    first_s = time.perf_counter() - began
    for q in queries[:3]:
        index.search(q, NOW, LIMIT)
    times, tops = [], []
    for q in queries:
        began = time.perf_counter()
        hits = index.search(q, NOW, LIMIT)
        times.append(time.perf_counter() - began)
        tops.append([h.id for h in hits])
    report = {
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": float(np.percentile(times, 95)) * 1000,
        "loaded_s": loaded_s,
        "first_s": first_s,
        "tops": tops,
        "hwm_mb": _status_mb("VmHWM"),
        "rss_mb": _status_mb("VmRSS"),
    }
    print(json.dumps(report))


@dataclass(frozen=True)
class _Child:
    """What the child process reported (see `child`)."""

    p50_ms: float
    p95_ms: float
    loaded_s: float
    first_s: float
    tops: list[list[int]]
    hwm_mb: float
    rss_mb: float


def _measure(folder: Path, gaussian: bool) -> tuple[_Child, list[list[int]], float]:
    path, queries = _write_rows(folder, gaussian)
    np.save(folder / "queries.npy", queries)
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_recall_1m", str(folder), path.name],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": os.getcwd()},
    )
    report = _Child(**json.loads(done.stdout.strip().splitlines()[-1]))
    ts = np.load(folder / "ts.npy")
    importance = np.load(folder / "importance.npy")
    exact, matvec_s = _exact(path, queries, ts, importance)
    path.unlink()
    return report, exact, matvec_s


def _overlap(got: list[list[int]], exact: list[list[int]]) -> float:
    return statistics.mean(len(set(g) & set(e)) / len(e) for g, e in zip(got, exact, strict=True))


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-recall-1m-") as tmp:
        began = time.perf_counter()
        report, exact, matvec_s = _measure(Path(tmp), gaussian=False)
        setup_s = time.perf_counter() - began
        gaussian, gaussian_exact, _ = _measure(Path(tmp), gaussian=True)
    p50 = report.p50_ms
    overlap = _overlap(report.tops, exact)
    gaussian_overlap = _overlap(gaussian.tops, gaussian_exact)
    matvec_ms = matvec_s * 1000
    where = f"{ROWS:,} HashingEmbedder episode summaries, {QUERIES} queries"
    return [
        Figure(
            "memory.recall_1m_p50_ms",
            p50,
            "ms",
            "<= 30",
            f"{where}; float32 bare matvec {matvec_ms:.0f} ms ({p50 / matvec_ms:.2f}x); "
            f"p95 {report.p95_ms:.1f} ms; loaded in {report.loaded_s:.1f} s, first recall "
            f"(lists built) {report.first_s:.1f} s",
        ),
        Figure(
            "memory.recall_1m_overlap",
            overlap,
            "",
            ">= 0.95",
            f"mean top-{LIMIT} overlap with a float32 exact scan of the same rows, full score; "
            f"Gaussian rows {gaussian_overlap:.2f} at {gaussian.p50_ms:.1f} ms p50",
        ),
        Figure(
            "memory.rss_1m_mb",
            report.hwm_mb,
            "MB",
            "<= 600",
            f"peak RSS (VmHWM) of a process that loads the 1M rows a block at a time and "
            f"recalls; {report.rss_mb:.0f} MB after; float32 rows alone would be "
            f"{ROWS * DIM * 4 / 2**20:.0f} MB; suite {setup_s:.0f} s",
        ),
    ]


if __name__ == "__main__":
    child(Path(sys.argv[1]), sys.argv[2])
