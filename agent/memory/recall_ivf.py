"""Recall over hundreds of thousands to millions of episodes: int8 rows in an inverted file.

`EpisodeIndex` (float32, every row scored) holds 1 GB per million episodes and spends ~60 ms on
the bare matrix-vector product alone. `QuantizedIndex` keeps the same score and the same
interface with a quarter of the memory and a fraction of the work:

- rows are stored as int8 with a scale per row (`agent.memory.quantize`);
- rows are grouped by their nearest coarse centroid (`agent.memory.coarse`); a query scores the
  rows of the lists nearest to it (about `PROBE_ROWS` rows), plus the rows added since the
  lists were last built;
- recency and importance are cheap, so they are normalised over *every* candidate row exactly
  as `EpisodeIndex` does, and the rows best on them alone (`PRIOR_POOL`) are scored too: an old
  but important episode is found even when its list was not probed;
- relevance is min-max normalised with the largest cosine among the scored rows and the
  smallest among the scored rows and the lists nearest to the negated query, where the
  smallest cosines of all live.

So the top 10 agree with an exact float32 scan except where a row of middling relevance, in
a list not probed, beats the probed ones on the full score (measured: overlap >= 0.95 on
1,000,000 embedded episode summaries, tests/benchmarks/bench_recall_1m.py). Below `IVF_FROM`
candidate rows every row is scored, still from int8.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.memory import coarse, quantize
from agent.memory.embedding import DIM
from agent.memory.recall import (
    DEFAULT_WEIGHTS,
    F32,
    F64,
    FLAT,
    I8,
    I64,
    Bool,
    RecallHit,
    RecallWeights,
    episode_columns,
    recency_into,
    score_into,
    top_positions,
)

I32 = npt.NDArray[np.int32]

#: Below this many candidate rows a search scores them all (no lists are built).
IVF_FROM = 50_000
#: A query scores the nearest lists until it has at least this many rows.
PROBE_ROWS = 24_576
#: The lists nearest to the negated query probed for the smallest cosine.
LOW_PROBE_ROWS = 4096
#: Rows best on recency and importance alone that are always scored.
PRIOR_POOL = 2048
#: Rows added since the lists were built are scored on every query until there are this many
#: (or an eighth of the index); then they are put into the lists.
TAIL_MAX = 16_384
#: Lists are trained again when the index has grown this many times since they were trained.
RETRAIN_GROWTH = 4


@dataclass
class _Prior:
    """Normalised recency and importance of every candidate row and their weighted sum, kept
    until the rows, the weights or the tag change (they do not depend on the query)."""

    key: tuple[object, ...]
    recency: F32
    importance: F32
    total: F32
    best: I64


class QuantizedIndex:
    """One agent's episodes as int8 rows in an inverted file; same interface as EpisodeIndex.

    Vectors must be L2-normalised (as `Embedder.embed` returns them).
    """

    #: Rows are int8 with a scale each.
    quantized = True

    def __init__(self, dim: int = DIM, capacity: int = 1024) -> None:
        if dim <= 0 or capacity <= 0:
            raise ValueError(f"dim and capacity must be positive, got {dim}, {capacity}")
        self.dim = dim
        self._n = 0
        self._codes: I8 = np.empty((capacity, dim), dtype=np.int8)
        self._scales: F32 = np.empty(capacity, dtype=np.float32)
        self._ids: I64 = np.empty(capacity, dtype=np.int64)
        self._ts: F64 = np.empty(capacity, dtype=np.float64)
        self._importance: F32 = np.empty(capacity, dtype=np.float32)
        self._tags: I8 = np.zeros(capacity, dtype=np.int8)
        #: Each row's list; rows [0, _listed) are in lists, the rest are the tail.
        self._lists: I32 = np.zeros(capacity, dtype=np.int32)
        self._listed = 0
        self._centroids: F32 | None = None
        self._trained_rows = 0
        #: Row positions ordered by list, and where each list starts in it (None: rebuild).
        self._order: I64 | None = None
        self._offsets: I64 = np.zeros(1, dtype=np.int64)
        self._max_id = -(2**63)
        #: Bumped on every change of the rows; keys the cached prior.
        self._version = 0
        self._prior: _Prior | None = None
        #: (version, the largest ts then): whether a row lies in the future of a query.
        self._newest = (-1, 0.0)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, id: object) -> bool:
        if not isinstance(id, int | np.integer) or self._n == 0 or id > self._max_id:
            return False
        return bool((self._ids[: self._n] == id).any())

    @property
    def ids(self) -> I64:
        """The live ids in row order (a read-only view; copy it to keep it across changes)."""
        view = self._ids[: self._n]
        view.flags.writeable = False
        return view

    @property
    def nbytes(self) -> int:
        """Bytes held by the live embedding rows (codes and scales)."""
        return self._n * (self.dim + 4)

    @property
    def capacity_nbytes(self) -> int:
        """Bytes allocated for embeddings, spare rows included."""
        return self._codes.nbytes + self._scales.nbytes

    # -- growing and shrinking -------------------------------------------------------------

    def _reserve(self, needed: int) -> None:
        capacity = len(self._codes)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        n = self._n
        names = ("_codes", "_scales", "_ids", "_ts", "_importance", "_tags", "_lists")
        for name in names:
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[:n] = old[:n]
            setattr(self, name, new)

    def add(
        self, id: int, vector: npt.ArrayLike, ts: float, importance: float, tag: int = 0
    ) -> None:
        """Append one episode (the path taken after every action)."""
        row = np.asarray(vector, dtype=np.float32)
        if row.shape != (self.dim,):
            raise ValueError(f"vector shape {row.shape} != ({self.dim},)")
        self.extend([id], row[None, :], [ts], [importance], [tag])

    def extend(
        self,
        ids: npt.ArrayLike,
        vectors: npt.ArrayLike,
        ts: npt.ArrayLike,
        importance: npt.ArrayLike,
        tags: npt.ArrayLike | None = None,
    ) -> None:
        """Append many episodes at once (loading an agent's memory, a block at a time)."""
        new_ids, rows, new_ts, new_importance = episode_columns(
            ids, vectors, ts, importance, self.dim
        )
        count = len(new_ids)
        if count == 0:
            return
        n = self._n
        repeated = len(np.unique(new_ids)) != count
        # Ids are handed out in increasing blocks: only an id at or below the largest seen
        # can be in the index already, and only then is it looked for.
        if repeated or (
            int(new_ids.min()) <= self._max_id and np.isin(new_ids, self._ids[:n]).any()
        ):
            raise ValueError("extend got ids that repeat or are already in the index")
        self._reserve(n + count)
        for start in range(0, count, 4096):  # a block at a time: quantize's temporaries are
            stop = min(start + 4096, count)  # four times the rows' size
            codes, scales = quantize.quantize(rows[start:stop])
            self._codes[n + start : n + stop] = codes
            self._scales[n + start : n + stop] = scales
        self._ids[n : n + count] = new_ids
        self._ts[n : n + count] = new_ts
        self._importance[n : n + count] = new_importance
        self._tags[n : n + count] = 0 if tags is None else np.asarray(tags, dtype=np.int8)
        self._max_id = max(self._max_id, int(new_ids.max()))
        self._n = n + count
        self._version += 1

    def remove(self, ids: Iterable[int]) -> int:
        """Drop these episodes (unknown ids are ignored), compacting the rows; return how many."""
        wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
        n = self._n
        doomed = np.isin(self._ids[:n], wanted)
        removed = int(doomed.sum())
        if not removed:
            return 0
        keep = np.flatnonzero(~doomed)
        arrays = (
            self._codes,
            self._scales,
            self._ids,
            self._ts,
            self._importance,
            self._tags,
            self._lists,
        )
        # In place, a block at a time: a kept row only moves down, so a block's sources lie at
        # or after its destination and after every earlier block's (no second 256 MB copy).
        for start in range(0, len(keep), 65_536):
            rows = keep[start : start + 65_536]
            for array in arrays:
                array[start : start + len(rows)] = array[rows]
        self._listed = int(np.count_nonzero(~doomed[: self._listed]))
        self._n = len(keep)
        self._order = None
        self._version += 1
        return removed

    # -- the lists -------------------------------------------------------------------------

    def _rows(self, start: int, stop: int) -> F32:
        return quantize.dequantize(self._codes[start:stop], self._scales[start:stop])

    def _ensure_lists(self) -> None:
        """Train the centroids when there are none or the index outgrew them; list the tail
        when it is long; rebuild the list order after a removal."""
        n = self._n
        if self._centroids is None or n > RETRAIN_GROWTH * self._trained_rows:
            lists = coarse.list_count(n)
            rng = np.random.default_rng(n)
            picked = np.sort(rng.choice(n, min(n, lists * coarse.SAMPLE_PER_LIST), replace=False))
            sample = quantize.dequantize(self._codes[picked], self._scales[picked])
            self._centroids = coarse.train(sample, lists)
            self._trained_rows = n
            self._listed = 0
        tail = n - self._listed
        if tail > max(TAIL_MAX, n // 8) or (self._listed == 0 and n):
            start = self._listed
            coarse.assign(
                self._centroids,
                tail,
                lambda a, b: self._rows(start + a, start + b),
                out=self._lists[start:n],
            )
            self._listed = n
            self._order = None
        if self._order is None:
            listed = self._lists[: self._listed]
            self._order = np.argsort(listed, kind="stable")
            counts = np.bincount(listed, minlength=len(self._centroids))
            self._offsets = np.concatenate(([0], np.cumsum(counts)))

    def _probe(self, centroid_scores: F32, rows: int) -> I64:
        """Positions of the rows in the lists with the highest `centroid_scores`, until there
        are at least `rows` of them."""
        assert self._order is not None
        sizes = np.diff(self._offsets)
        average = max(1.0, self._listed / len(sizes))
        take = min(len(sizes), int(4 * rows / average) + 1)
        nearest = np.argpartition(-centroid_scores, take - 1)[:take]
        nearest = nearest[np.argsort(-centroid_scores[nearest])]
        enough = int(np.searchsorted(np.cumsum(sizes[nearest]), rows)) + 1
        chosen = nearest[:enough]
        starts, stops = self._offsets[chosen], self._offsets[chosen + 1]
        return np.concatenate([self._order[a:b] for a, b in zip(starts, stops, strict=True)])

    # -- search ----------------------------------------------------------------------------

    def search(
        self,
        query: npt.ArrayLike,
        now: float,
        limit: int = 10,
        weights: RecallWeights = DEFAULT_WEIGHTS,
        candidates: Bool | None = None,
        tag: int | None = None,
    ) -> list[RecallHit]:
        """The `limit` best episodes for `query` at time `now`, best first (as EpisodeIndex)."""
        n = self._n
        if n == 0 or limit <= 0:
            return []
        q = np.asarray(query, dtype=np.float32)
        if q.shape != (self.dim,):
            raise ValueError(f"query shape {q.shape} != ({self.dim},)")
        mask: Bool | None = None
        if tag is not None:
            mask = self._tags[:n] == tag
        if candidates is not None:
            given = np.asarray(candidates, dtype=np.bool_)
            if given.shape != (n,):
                raise ValueError(f"candidates shape {given.shape} != ({n},)")
            mask = given if mask is None else mask & given
        rows = np.arange(n) if mask is None else np.flatnonzero(mask)
        if len(rows) == 0:
            return []
        if len(rows) < IVF_FROM:
            return self._search_all(q, now, limit, weights, rows)
        return self._search_lists(q, now, limit, weights, rows, mask, tag, candidates is None)

    def _search_all(
        self, q: F32, now: float, limit: int, weights: RecallWeights, rows: I64
    ) -> list[RecallHit]:
        m = len(rows)
        components = np.empty((3, m), dtype=np.float32)
        contiguous = m == self._n
        codes, scales = self._codes[: self._n], self._scales[: self._n]
        components[0] = quantize.dot(codes, scales, q, None if contiguous else rows)
        total = np.empty(m, dtype=np.float32)
        ids = self._ids[rows]
        score_into(components, now - self._ts[rows], self._importance[rows], weights, total)
        return _hits(top_positions(total, ids, limit), ids, total, components)

    def _prior_of(
        self, now: float, weights: RecallWeights, rows: I64, key: tuple[object, ...] | None
    ) -> _Prior:
        """Normalised recency and importance over `rows`, scattered to full-length arrays."""
        if key is not None and self._prior is not None and self._prior.key == key:
            return self._prior
        n = self._n
        m = len(rows)
        recency = np.zeros(n, dtype=np.float32)
        importance = np.zeros(n, dtype=np.float32)
        part = np.empty(m, dtype=np.float32)
        recency_into(now - self._ts[rows], weights.half_life_s, part)
        recency[rows] = part
        values = self._importance[rows]
        low = float(values.min())
        spread = float(values.max()) - low
        if spread > FLAT:
            importance[rows] = (values - np.float32(low)) / np.float32(spread)
        total = np.full(n, -np.inf, dtype=np.float32)
        total[rows] = weights.recency * recency[rows] + weights.importance * importance[rows]
        pool = min(PRIOR_POOL, m)
        best = np.argpartition(total, n - pool)[n - pool :].astype(np.int64)
        prior = _Prior(key or (), recency, importance, total, best)
        if key is not None:
            self._prior = prior
        return prior

    def _search_lists(
        self,
        q: F32,
        now: float,
        limit: int,
        weights: RecallWeights,
        rows: I64,
        mask: Bool | None,
        tag: int | None,
        cacheable: bool,
    ) -> list[RecallHit]:
        self._ensure_lists()
        assert self._centroids is not None
        n = self._n
        # Recency relative to the youngest does not depend on `now` unless some row is in the
        # future (clock skew), when ages are clamped at 0: then the prior is not kept.
        if self._newest[0] != self._version:
            self._newest = (self._version, float(self._ts[:n].max()))
        future = self._newest[1] > now
        key = None if (not cacheable or future) else (self._version, weights, tag)
        prior = self._prior_of(now, weights, rows, key)
        centroid_scores = self._centroids @ q
        tail = np.arange(self._listed, n)
        near = np.concatenate((self._probe(centroid_scores, PROBE_ROWS), tail))
        far = self._probe(-centroid_scores, LOW_PROBE_ROWS)
        if mask is not None:
            near, far = near[mask[near]], far[mask[far]]
        # Sorted, without repeats, and without a sort: mark the rows, then read the marks.
        marks = np.zeros(n, dtype=np.bool_)
        marks[near] = True
        marks[prior.best] = True
        chosen = np.flatnonzero(marks)
        relevance = quantize.dot(self._codes, self._scales, q, chosen)
        low_rel = quantize.dot(self._codes, self._scales, q, far)
        low = min(float(relevance.min()), float(low_rel.min()) if len(low_rel) else np.inf)
        spread = float(relevance.max()) - low
        m = len(chosen)
        components = np.empty((3, m), dtype=np.float32)
        if spread > FLAT:
            np.subtract(relevance, np.float32(low), out=components[0])
            components[0] /= np.float32(spread)
        else:
            components[0] = 0.0
        components[1] = prior.recency[chosen]
        components[2] = prior.importance[chosen]
        total = weights.relevance * components[0] + prior.total[chosen]
        ids = self._ids[chosen]
        return _hits(top_positions(total, ids, limit), ids, total, components)


def _hits(chosen: I64, ids: I64, total: F32, components: F32) -> list[RecallHit]:
    picked = chosen.tolist()
    relevance, recency, importance = components[:, picked].tolist()
    return [
        RecallHit(
            id=int(ids[i]),
            score=float(total[i]),
            relevance=relevance[j],
            recency=recency[j],
            importance=importance[j],
        )
        for j, i in enumerate(picked)
    ]
