"""Recall from int8 rows (`QuantizedIndex`): the same answers as the float32 `EpisodeIndex`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agent.core.kernel import Kernel
from agent.memory.embedding import HashingEmbedder
from agent.memory.episodic import QUANTIZE_FROM
from agent.memory.quantize import dequantize, quantize
from agent.memory.recall import EpisodeIndex
from agent.memory.recall_ivf import IVF_FROM, QuantizedIndex
from tests.benchmarks.bench_recall_1m import summaries
from tests.conftest import CliRunner

pytestmark = pytest.mark.both_backends

NOW = 1_750_000_000.0
embedder = HashingEmbedder()

finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(1, 40)), elements=finite))
def test_int8_round_trip_is_within_half_a_step(rows: np.ndarray) -> None:
    codes, scales = quantize(rows)
    back = dequantize(codes, scales)
    assert codes.dtype == np.int8 and np.abs(codes.astype(np.int16)).max() <= 127
    assert np.isfinite(back).all() and np.isfinite(scales).all()
    step = np.abs(rows).max(axis=1) / 127
    assert (np.abs(back - rows) <= step[:, None] * 0.5 * (1 + 1e-5) + 1e-30).all()
    zero = ~rows.any(axis=1)
    assert not back[zero].any() and not scales[zero].any()


def test_non_finite_components_quantise_to_zero_not_nan() -> None:
    codes, scales = quantize(np.array([[np.nan, 1.0, -np.inf], [0.0, 0.0, 0.0]], np.float32))
    back = dequantize(codes, scales)
    assert np.isfinite(back).all() and back[0, 0] == 0 and back[0, 1] == 1 and not back[1].any()


def _episodes(count: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = embedder.embed_many(summaries(rng, count))
    return vectors, NOW - rng.uniform(0, 30 * 86_400, count), rng.random(count, np.float32)


def _both(count: int) -> tuple[EpisodeIndex, QuantizedIndex]:
    vectors, ts, importance = _episodes(count)
    tags = (np.arange(count) % 3 == 0).astype(np.int8)
    exact, quantized = EpisodeIndex(), QuantizedIndex()
    for index in (exact, quantized):
        index.extend(np.arange(count), vectors, ts, importance, tags)
    return exact, quantized


def _overlap(a: list[int], b: list[int]) -> float:
    return len(set(a) & set(b)) / max(1, len(b))


def _queries(count: int) -> np.ndarray:
    return embedder.embed_many(summaries(np.random.default_rng(99), count))


def test_small_memories_rank_as_the_float32_index() -> None:
    exact, quantized = _both(5000)
    overlaps = []
    for q in _queries(20):
        want = exact.search(q, NOW, 10)
        got = quantized.search(q, NOW, 10)
        assert got[0].id == want[0].id
        assert abs(got[0].score - want[0].score) < 0.02
        overlaps.append(_overlap([h.id for h in got], [h.id for h in want]))
    assert np.mean(overlaps) >= 0.95


def test_large_memories_probe_lists_and_keep_the_top_ten() -> None:
    count = IVF_FROM + 10_000
    exact, quantized = _both(count)
    assert quantized.nbytes < exact.nbytes / 3
    queries = _queries(20)
    for tag in (None, 1):
        overlaps = [
            _overlap(
                [h.id for h in quantized.search(q, NOW, 10, tag=tag)],
                [h.id for h in exact.search(q, NOW, 10, tag=tag)],
            )
            for q in queries
        ]
        assert np.mean(overlaps) >= 0.95, tag
    # Rows removed are gone; rows added after the lists were built are found at once.
    best = quantized.search(queries[0], NOW, 10)
    assert quantized.remove([h.id for h in best]) == 10 and len(quantized) == count - 10
    assert not {h.id for h in best} & {h.id for h in quantized.search(queries[0], NOW, 10)}
    quantized.add(10**9, queries[0], NOW, 1.0)
    assert quantized.search(queries[0], NOW, 1)[0].id == 10**9 and 10**9 in quantized
    with pytest.raises(ValueError, match="already in the index"):
        quantized.add(10**9, queries[0], NOW, 1.0)


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
def test_memory_search_on_a_large_memory_finds_what_the_float32_index_finds(
    cli: CliRunner, db_path: Path
) -> None:
    """`webops memory NAME --search` over QUANTIZE_FROM episodes, kept as int8 by the CLI's
    kernel, returns the episodes an exact float32 scan ranks first."""
    cli("agent", "create", "anna")
    count = QUANTIZE_FROM + 1000
    rng = np.random.default_rng(5)
    texts = summaries(rng, count)
    vectors = embedder.embed_many(texts)
    now = time.time()
    ts = now - rng.uniform(60, 30 * 86_400, count)
    importance = rng.random(count).round(3)

    async def seed() -> list[int]:
        async with await Kernel.open(db_path) as kernel:
            agent = await kernel.load_agent("anna")
            episodes = kernel.memory_backend.episodes
            ids = list(await episodes.reserve_ids(count))
            rows = [
                (
                    i,
                    agent.memory.agent_id,
                    "stimulus",
                    None,
                    text,
                    None,
                    float(imp),
                    vec.tobytes(),
                    float(t),
                    0,
                )
                for i, text, imp, vec, t in zip(ids, texts, importance, vectors, ts, strict=True)
            ]
            for start in range(0, count, 20_000):
                await episodes.add_tuples(rows[start : start + 20_000])
            return ids

    ids = asyncio.run(seed())
    exact = EpisodeIndex(capacity=count)
    exact.extend(ids, vectors, ts, importance)
    query = "shop-api latency high 700 ms; restart fixed it"
    want = [h.id for h in exact.search(embedder.embed(query), time.time(), 10)]
    found = cli("memory", "anna", "--search", query, "--limit", "10", "--json").json()
    got = [item["id"] for item in found]
    assert got[0] == want[0] and _overlap(got, want) >= 0.9
    assert found[0]["summary"] == f"[stimulus] {texts[ids.index(want[0])]}"


@pytest.mark.sqlite_only  # long; its storage paths run on PostgreSQL in shorter tests
async def test_a_memory_that_grows_past_the_threshold_turns_int8_and_still_recalls(
    db_path: Path,
) -> None:
    count = QUANTIZE_FROM - 5
    rng = np.random.default_rng(11)
    texts = summaries(rng, count)
    vectors = embedder.embed_many(texts)
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("anna")
        memory = (await kernel.load_agent("anna")).memory
        episodes = kernel.memory_backend.episodes
        ids = list(await episodes.reserve_ids(count))
        now = time.time()
        rows = [
            (i, memory.agent_id, "stimulus", None, t, None, 0.5, v.tobytes(), now - 3600, 0)
            for i, t, v in zip(ids, texts, vectors, strict=True)
        ]
        for start in range(0, count, 20_000):
            await episodes.add_tuples(rows[start : start + 20_000])
        assert not (await memory.index()).quantized
        for i in range(10):
            await memory.remember("stimulus", f"zebra-gw odd outage {i}", importance=0.9)
        index = await memory.index()
        assert index.quantized and len(index) == count + 10
        found = await memory.recall_similar("zebra-gw odd outage 3", limit=3)
        assert "zebra-gw odd outage 3" in found[0].summary
