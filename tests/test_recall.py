"""Recall: the hashing embedder and the vectorised index, checked against the plain loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.memory import recall
from agent.memory.embedding import DIM, Embedder, HashingEmbedder
from agent.memory.recall import EpisodeIndex, RecallHit, RecallWeights, score
from agent.memory.recall_reference import score_loop

NOW = 1_750_000_000.0
HOUR = 3600.0
#: Agreement between the float32 index and the float64 loop, in score units.
TOL = 1e-3

#: vectors, query, ts, importance
Episodes = tuple[np.ndarray, np.ndarray, list[float], list[float]]

embedder: Embedder = HashingEmbedder()  # mypy checks that it meets the Protocol


def _cos(a: str, b: str) -> float:
    return float(embedder.embed(a) @ embedder.embed(b))


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms == 0, 1, norms)).astype(np.float32)


def _index(vectors: np.ndarray, ts: list[float], importance: list[float]) -> EpisodeIndex:
    index = EpisodeIndex(dim=vectors.shape[1], capacity=1)
    index.extend(np.arange(len(ts)), vectors, ts, importance)
    return index


# --- the embedder ---------------------------------------------------------------------------


def test_embeddings_are_unit_vectors_or_zero() -> None:
    for text in ["shop latency 900 ms, restart fixed it", "DNS", "a-b_c.d", "x" * 500]:
        vector = embedder.embed(text)
        assert vector.dtype == np.float32 and vector.shape == (DIM,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    for empty in ["", "   ", "!!! ---"]:
        assert not embedder.embed(empty).any()
    many = embedder.embed_many(["disk full", "", "disk full"])
    assert many.shape == (3, DIM) and many.dtype == np.float32
    assert np.array_equal(many[0], embedder.embed("disk full")) and not many[1].any()


def test_embedding_is_case_and_separator_insensitive_and_cached() -> None:
    assert np.array_equal(embedder.embed("Shop-API.service"), embedder.embed("shop api service"))
    first = embedder.embed("restart the shop service")
    assert embedder.embed("restart the shop service") is first
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared through the cache, so read-only


def test_embeddings_are_identical_across_processes() -> None:
    texts = ["shop latency 900 ms, restart fixed it", "dns lookup for mail failed"]
    code = (
        "import sys; from agent.memory.embedding import HashingEmbedder; e = HashingEmbedder(); "
        f"sys.stdout.write('|'.join(e.embed(t).tobytes().hex() for t in {texts!r}))"
    )
    out = []
    for seed in ("1", "12345"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=Path(__file__).parents[1],
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(result.stdout)
    here = "|".join(embedder.embed(t).tobytes().hex() for t in texts)
    assert out[0] == out[1] == here


def test_embedding_tolerates_typos() -> None:
    typo = _cos("restart the shop service", "restrat shop servce")
    unrelated = _cos("restart the shop service", "dns lookup for mail failed")
    assert typo > 0.25
    assert typo > unrelated + 0.25


# --- scoring ---------------------------------------------------------------------------------


def test_relevant_memory_outranks_unrelated_one() -> None:
    texts = ["shop latency 900 ms, restart fixed it", "dns lookup for mail failed"]
    index = _index(embedder.embed_many(texts), [NOW - HOUR] * 2, [0.5, 0.5])
    hits = index.search(embedder.embed("the shop is slow again, latency 1200 ms"), NOW)
    assert [h.id for h in hits] == [0, 1]
    hits = index.search(embedder.embed("mail dns lookup failing"), NOW)
    assert [h.id for h in hits] == [1, 0]


def test_recency_then_importance_break_equal_relevance() -> None:
    vector = embedder.embed("disk full on db node")
    vectors = np.stack([vector] * 3)
    # Equal relevance and importance: the newest wins.
    index = _index(vectors, [NOW - 5 * HOUR, NOW - HOUR, NOW - 3 * HOUR], [0.5] * 3)
    assert [h.id for h in index.search(vector, NOW)] == [1, 2, 0]
    # Equal relevance and age: the most important wins.
    index = _index(vectors, [NOW - HOUR] * 3, [0.2, 0.9, 0.5])
    hits = index.search(vector, NOW)
    assert [h.id for h in hits] == [1, 2, 0]
    assert [h.relevance for h in hits] == [0.0] * 3  # flat components contribute 0, not NaN
    assert [h.recency for h in hits] == [0.0] * 3
    # All equal: the newer (larger) id first.
    index = _index(vectors, [NOW - HOUR] * 3, [0.5] * 3)
    assert [h.id for h in index.search(vector, NOW)] == [2, 1, 0]


def test_weights_change_the_order() -> None:
    texts = [
        "shop latency 900 ms, restart fixed it",
        "shop checkout latency after deploy",
        "dns lookup for mail failed",
        "certificate for api expired",
    ]
    ts = [NOW - 1 * HOUR, NOW - 30 * HOUR, NOW - 2 * HOUR, NOW - 10 * HOUR]
    importance = [0.1, 0.4, 0.9, 0.6]
    vectors = embedder.embed_many(texts)
    index = _index(vectors, ts, importance)
    query = embedder.embed("shop latency is high")

    def order(weights: RecallWeights) -> list[int]:
        return [h.id for h in index.search(query, NOW, weights=weights)]

    assert order(RecallWeights(relevance=0, recency=0, importance=1)) == [2, 3, 1, 0]
    assert order(RecallWeights(relevance=0, recency=1, importance=0)) == [0, 2, 3, 1]
    by_cosine = [int(i) for i in np.argsort(-(vectors @ query), kind="stable")]
    assert order(RecallWeights(relevance=1, recency=0, importance=0)) == by_cosine
    assert by_cosine[:2] == [0, 1]
    hits = index.search(query, NOW, limit=2)
    assert len(hits) == 2 and hits[0].score >= hits[1].score


def test_score_components_and_empty_inputs() -> None:
    total, rel, rec, imp = score(
        np.array([0.1, 0.5, 0.9]), np.array([0.0, HOUR, 2 * HOUR]), np.ones(3), RecallWeights()
    )
    assert rel.tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert rec[0] == 1.0 and rec[2] == 0.0
    middle = (2 ** (-1 / 6) - 2 ** (-1 / 3)) / (1 - 2 ** (-1 / 3))  # exponential, not linear
    assert rec[1] == pytest.approx(middle, abs=1e-6) and rec[1] < 0.48
    assert imp.tolist() == [0.0, 0.0, 0.0]
    assert total.tolist() == pytest.approx((rel + rec).tolist())
    empty = np.array([])
    assert all(len(a) == 0 for a in score(empty, empty, empty, RecallWeights()))
    assert score_loop(np.zeros(4), [], [], [], NOW) == []
    assert EpisodeIndex(dim=4).search(np.zeros(4), NOW) == []
    with pytest.raises(ValueError):
        RecallWeights(relevance=-1)
    with pytest.raises(ValueError):
        RecallWeights(half_life_s=0)


def test_recency_is_precise_for_episodes_seconds_apart() -> None:
    ages = [0.0, 1.0, 2.0, 3.0]  # recencies within 1e-4 of each other at a 6 h half-life
    _, _, rec, _ = score(np.zeros(4), np.array(ages), np.zeros(4), RecallWeights())
    loop = score_loop(
        np.zeros(2), [np.zeros(2)] * 4, [NOW - a for a in ages], [0.0] * 4, NOW, RecallWeights()
    )
    assert rec.tolist() == pytest.approx(loop, abs=1e-6)
    assert rec.tolist() == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0], abs=1e-4)


def test_month_old_memories_still_rank_by_recency() -> None:
    vector = np.zeros(4, dtype=np.float32)
    ts = [NOW - 40 * 24 * HOUR, NOW - 41 * 24 * HOUR, NOW - 39 * 24 * HOUR]
    index = _index(np.stack([vector] * 3), ts, [0.5] * 3)
    assert [h.id for h in index.search(vector, NOW)] == [2, 0, 1]


# --- the vectorised index against the loop ---------------------------------------------------

weights_st = st.builds(
    RecallWeights,
    relevance=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    recency=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    importance=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    half_life_s=st.sampled_from([60.0, HOUR, 6 * HOUR]),
)


@st.composite
def episodes(draw: st.DrawFn, max_rows: int = 40) -> Episodes:
    dim = draw(st.integers(2, 8))
    n = draw(st.integers(1, max_rows))
    row = st.lists(st.integers(-3, 3), min_size=dim, max_size=dim)
    vectors = _unit(np.array(draw(st.lists(row, min_size=n, max_size=n)), dtype=float))
    query = _unit(np.array([draw(row)], dtype=float))[0]
    ts = draw(st.lists(st.integers(0, 3 * 86_400), min_size=n, max_size=n))
    importance = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
    return vectors, query, [NOW - t for t in ts], [i / 10 for i in importance]


def _assert_same_ranking(hits: list[RecallHit], loop: list[float], ids: list[int]) -> None:
    """The index's order is the loop's order, up to scores within TOL of each other."""
    expected = sorted(loop, reverse=True)
    by_id = dict(zip(ids, loop, strict=True))
    assert len({h.id for h in hits}) == len(hits)
    for rank, hit in enumerate(hits):
        assert abs(hit.score - by_id[hit.id]) <= TOL
        assert abs(by_id[hit.id] - expected[rank]) <= TOL


@settings(max_examples=300, deadline=None)
@given(episodes(), weights_st, st.integers(1, 12))
def test_search_ranks_like_the_loop(data: Episodes, weights: RecallWeights, limit: int) -> None:
    vectors, query, ts, importance = data
    index = _index(vectors, ts, importance)
    hits = index.search(query, NOW, limit=limit, weights=weights)
    assert len(hits) == min(limit, len(ts))
    loop = score_loop(query, list(vectors), ts, importance, NOW, weights)
    _assert_same_ranking(hits, loop, list(range(len(ts))))


@settings(max_examples=150, deadline=None)
@given(episodes(), weights_st, st.data())
def test_candidates_restrict_search_and_normalisation(
    data: Episodes, weights: RecallWeights, draw: st.DataObject
) -> None:
    vectors, query, ts, importance = data
    n = len(ts)
    mask = np.array(draw.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    index = _index(vectors, ts, importance)
    hits = index.search(query, NOW, limit=n, weights=weights, candidates=mask)
    rows = np.flatnonzero(mask).tolist()
    assert {h.id for h in hits} == set(rows)
    kept_ts, kept_importance = [ts[r] for r in rows], [importance[r] for r in rows]
    loop = score_loop(query, list(vectors[rows]), kept_ts, kept_importance, NOW, weights)
    _assert_same_ranking(hits, loop, rows)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1, 1), min_size=1, max_size=50).flatmap(
        lambda rel: st.tuples(
            st.just(rel),
            st.lists(st.floats(-1e9, 1e9), min_size=len(rel), max_size=len(rel)),
            st.lists(st.floats(-1e6, 1e6), min_size=len(rel), max_size=len(rel)),
        )
    ),
    weights_st,
)
def test_scores_are_finite_and_bounded(
    data: tuple[list[float], ...], weights: RecallWeights
) -> None:
    relevance, ages, importance = (np.array(x) for x in data)
    total, *components = score(relevance, ages, importance, weights)
    assert np.isfinite(total).all()
    assert (total >= 0).all() and (total <= weights.total * (1 + 1e-6)).all()
    for component in components:
        assert ((component >= 0) & (component <= 1 + 1e-6)).all()


@pytest.mark.parametrize("limit", [1, 10, 37])
def test_top_k_over_many_rows_with_ties(limit: int) -> None:
    """Large enough that the top k is picked from a sampled pool, with many equal scores."""
    rng = np.random.default_rng(limit)
    n = 30_000
    vectors = _unit(rng.standard_normal((n, 8)))
    ts = (NOW - rng.uniform(0, 86_400, n)).tolist()
    levels = rng.integers(0, 40, n)
    index = _index(vectors, ts, (levels / 10).tolist())
    by_importance = RecallWeights(relevance=0, recency=0, importance=1)
    hits = index.search(vectors[0], NOW, limit=limit, weights=by_importance)
    expected = np.lexsort((-np.arange(n), -levels))[:limit]  # ties: the larger id first
    assert [h.id for h in hits] == expected.tolist()
    loop = score_loop(vectors[0], list(vectors), ts, (levels / 10).tolist(), NOW)
    _assert_same_ranking(index.search(vectors[0], NOW, limit=limit), loop, list(range(n)))


# --- keeping the index in step -----------------------------------------------------------------


@pytest.mark.parametrize("max_runs", [recall.MAX_RUNS, 0])  # slide runs / gather rows
def test_removed_ids_are_never_returned(max_runs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recall, "MAX_RUNS", max_runs)
    rng = np.random.default_rng(7)
    n = 500
    vectors = _unit(rng.standard_normal((n, 32)))
    ts, importance = (NOW - rng.uniform(0, 86_400, n)).tolist(), rng.random(n).tolist()
    index = _index(vectors, ts, importance)
    removed = set(rng.choice(n, 200, replace=False).tolist())
    assert index.remove([*removed, 10_000]) == len(removed)
    assert index.remove(removed) == 0
    assert len(index) == n - len(removed)
    for row in range(0, n, 7):
        hits = index.search(vectors[row], NOW, limit=50)
        assert not removed & {h.id for h in hits}
        if row not in removed:
            relevance_only = RecallWeights(recency=0, importance=0)
            assert index.search(vectors[row], NOW, limit=1, weights=relevance_only)[0].id == row
    kept = sorted(set(range(n)) - removed)
    assert index.ids.tolist() == kept  # order kept too
    loop = score_loop(
        vectors[0], list(vectors[kept]), [ts[i] for i in kept], [importance[i] for i in kept], NOW
    )
    _assert_same_ranking(index.search(vectors[0], NOW, limit=n), loop, kept)


def test_bad_input_is_refused() -> None:
    index = EpisodeIndex(dim=4)
    index.add(1, np.ones(4) / 2, NOW, 0.5)
    with pytest.raises(ValueError):
        index.add(1, np.ones(4) / 2, NOW, 0.5)
    with pytest.raises(ValueError):
        index.add(2, np.ones(3), NOW, 0.5)
    with pytest.raises(ValueError):
        index.extend([2, 2], np.zeros((2, 4)), [NOW] * 2, [0.5] * 2)
    with pytest.raises(ValueError):
        index.search(np.ones(3), NOW)
    with pytest.raises(ValueError):
        index.search(np.ones(4), NOW, candidates=np.ones(2, dtype=bool))
    assert index.search(np.ones(4), NOW, limit=0) == []
    assert index.search(np.ones(4), NOW, candidates=np.zeros(1, dtype=bool)) == []
    assert len(index) == 1 and 1 in index and 2 not in index


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 60)),
        st.tuples(st.just("extend"), st.lists(st.integers(0, 60), max_size=8, unique=True)),
        st.tuples(st.just("remove"), st.lists(st.integers(0, 60), max_size=8)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops, st.integers(0, 2**32 - 1))
def test_growth_and_removal_keep_every_row(operations: list[tuple[str, Any]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    dim = 6
    index = EpisodeIndex(dim=dim, capacity=1)
    model: dict[int, tuple[np.ndarray, float, float]] = {}

    def row() -> tuple[np.ndarray, float, float]:
        vector = _unit(rng.integers(-3, 4, (1, dim)).astype(float))[0]
        return vector, NOW - float(rng.integers(0, 86_400)), float(rng.integers(0, 11)) / 10

    for op, arg in operations:
        if op == "add" and arg not in model:
            model[arg] = row()
            index.add(arg, *model[arg])
        elif op == "extend":
            new = [i for i in arg if i not in model]
            rows = [row() for _ in new]
            vectors, ts, importance = zip(*rows, strict=True) if rows else ((), (), ())
            index.extend(new, np.array(vectors).reshape(-1, dim), ts, importance)
            model.update(zip(new, rows, strict=True))
        elif op == "remove":
            expected = len(set(arg) & model.keys())
            assert index.remove(arg) == expected
            for i in arg:
                model.pop(i, None)
        assert len(index) == len(model)
        assert sorted(index.ids.tolist()) == sorted(model)
        assert index.nbytes == len(model) * dim * 4 <= index.capacity_nbytes
    if not model:
        return
    query = _unit(rng.standard_normal((1, dim)))[0]
    hits = index.search(query, NOW, limit=len(model))
    ids = list(model)
    vectors, ts, importance = zip(*(model[i] for i in ids), strict=True)
    loop = score_loop(query, vectors, ts, importance, NOW, RecallWeights())
    _assert_same_ranking(hits, loop, ids)
