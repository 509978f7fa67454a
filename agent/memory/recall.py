"""Recall: which past episodes an agent brings to mind for the situation in front of it.

Memory score as in the Generative Agents memory stream (Park et al., 2023, "Generative Agents:
Interactive Simulacra of Human Behavior"): relevance (cosine of the query and the episode's
embedding), recency (exponential decay with the episode's age) and importance, each min-max
normalised to [0, 1] over the candidates, then a weighted sum. Normalising puts three quantities
with unrelated scales on one footing, and makes the weights mean what they say.

`EpisodeIndex` keeps one agent's embeddings in a float32 matrix that is appended to and never
re-read from storage, so a query over 100,000 episodes is one matrix-vector product plus
`np.argpartition` for the top k, with no Python work per episode. The same scoring written as
a plain loop, the reference that tests and benchmarks compare against, is
`agent.memory.recall_reference.score_loop`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.memory.embedding import DIM

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Bool = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.floating[Any]]

#: A component whose spread over the candidates is at most this is treated as flat and
#: contributes 0: differences that small are float32 rounding, and min-max normalising would
#: blow them up to the full [0, 1] range.
FLAT = 1e-6
#: `EpisodeIndex.remove` slides runs of kept rows down while there are at most this many,
#: and gathers the kept rows beyond that.
MAX_RUNS = 1024
#: Rows per block when `EpisodeIndex.extend` copies into the column-major matrix.
_BLOCK = 512


@dataclass(frozen=True)
class RecallWeights:
    """How much each normalised component counts; recency halves every `half_life_s` seconds."""

    relevance: float = 1.0
    recency: float = 1.0
    importance: float = 1.0
    half_life_s: float = 6 * 3600.0

    def __post_init__(self) -> None:
        for name in ("relevance", "recency", "importance"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"weight {name} must be finite and >= 0, got {value}")
        if not (math.isfinite(self.half_life_s) and self.half_life_s > 0.0):
            raise ValueError(f"half_life_s must be finite and > 0, got {self.half_life_s}")

    @property
    def total(self) -> float:
        """The highest score possible: every component at 1."""
        return self.relevance + self.recency + self.importance


DEFAULT_WEIGHTS = RecallWeights()


@dataclass(frozen=True)
class RecallHit:
    """One recalled episode: its score and the normalised components (each in [0, 1])."""

    id: int
    score: float
    relevance: float
    recency: float
    importance: float


def _normalise(values: Floats, out: F32) -> None:
    """Min-max `values` to [0, 1] into `out` (which may be `values`); zeros when flat."""
    if values.size == 0:
        return
    low = float(values.min())
    spread = float(values.max()) - low
    if not spread > FLAT:  # also catches NaN
        out.fill(0.0)
        return
    np.subtract(values, low, out=out, casting="same_kind")
    out /= np.float32(spread)  # division, not a reciprocal: the largest lands on 1.0


def recency_into(ages: F64, half_life_s: float, out: F32) -> None:
    """Normalised recency `2 ** (-age / half_life)` into `out`; `ages` is overwritten.

    Computed relative to the youngest candidate: min-max normalisation is scale-invariant, so
    that changes nothing except that month-old memories no longer underflow to zero. float32
    `np.exp` (SIMD, several times faster than `np.exp2`) when the recencies span at least 1%;
    float64 when the candidates are so close in age that normalising would magnify float32
    rounding into visible noise. Future timestamps (clock skew) count as age 0.
    """
    if not ages.size:
        return
    youngest = float(ages.min())
    if youngest < 0.0:
        np.maximum(ages, 0.0, out=ages)
        youngest = 0.0
    rate = -math.log(2.0) / half_life_s
    spread = -math.expm1(rate * (float(ages.max()) - youngest))  # 1 - the oldest's recency
    if not spread > FLAT:
        out.fill(0.0)
        return
    # The youngest's recency is exactly 1.0: subtracting the oldest's and dividing by the same
    # difference maps them to exactly 1.0 and 0.0.
    if spread >= 0.01:
        np.subtract(ages, youngest, out=out, casting="same_kind")
        out *= np.float32(rate)
        # Below e**-87 float32 goes subnormal, which is slow and, after normalising, zero anyway.
        np.maximum(out, np.float32(-87.0), out=out)
        np.exp(out, out=out)
        low = float(out.min())
        out -= np.float32(low)
    else:
        ages -= youngest
        ages *= rate
        np.exp(ages, out=ages)
        low = float(ages.min())
        np.subtract(ages, low, out=out, casting="same_kind")
    out /= np.float32(1.0 - low)


def score_into(
    components: F32, ages: F64, importance: Floats, weights: RecallWeights, total: F32
) -> None:
    """`score` without allocating, for `EpisodeIndex.search` and its 100,000-row scratch rows.

    `components` is (3, m): row 0 holds the raw relevance on entry, and the normalised
    relevance, recency and importance on return; `ages` is overwritten. The weighted sum is a
    single BLAS product over the three rows.
    """
    relevance, recency, importance_n = components
    _normalise(relevance, relevance)
    recency_into(ages, weights.half_life_s, recency)
    _normalise(importance, importance_n)
    w = np.array([weights.relevance, weights.recency, weights.importance], dtype=np.float32)
    np.matmul(w, components, out=total)


def score(
    relevance: Floats, ages_s: Floats, importance: Floats, weights: RecallWeights
) -> tuple[F32, F32, F32, F32]:
    """Total score and the three normalised components, one entry per candidate.

    Relevance is taken as given (cosine), recency is `2 ** (-age / half_life)`, importance is
    taken as given; each is min-max normalised over the candidates, a flat one (spread at most
    `FLAT`) to zeros, and the total is their weighted sum, so it lies in [0, weights.total].
    """
    rel = np.asarray(relevance)
    ages = np.array(ages_s, dtype=np.float64)
    m = len(rel)
    if rel.ndim != 1 or ages.shape != (m,) or np.shape(importance) != (m,):
        raise ValueError("relevance, ages_s and importance must be 1-d and equally long")
    components = np.empty((3, m), dtype=np.float32)
    components[0] = rel
    total = np.empty(m, dtype=np.float32)
    score_into(components, ages, np.asarray(importance), weights, total)
    return total, components[0], components[1], components[2]


class EpisodeIndex:
    """One agent's episode embeddings, ids, timestamps and importance, in growable arrays.

    Rows are appended in place and capacity doubles when full (amortised O(1) `add`), so the
    index is loaded from the database once and then kept in step with it, never re-read.
    Vectors must be L2-normalised (as `Embedder.embed` returns them): relevance is a plain dot.
    """

    #: Rows are float32 (see `agent.memory.recall_ivf.QuantizedIndex` for int8 ones).
    quantized = False

    def __init__(self, dim: int = DIM, capacity: int = 1024) -> None:
        if dim <= 0 or capacity <= 0:
            raise ValueError(f"dim and capacity must be positive, got {dim}, {capacity}")
        self.dim = dim
        self._n = 0
        # Column-major: numpy hands `matrix[:n] @ query` to BLAS sgemv's non-transposed kernel,
        # measured ~1.4x faster here for 100,000 x 256 than the row-major one. Appending a row
        # becomes a strided write of `dim` floats (~2 us), which is cheap next to a search.
        self._matrix: F32 = np.empty((capacity, dim), dtype=np.float32, order="F")
        self._ids: I64 = np.empty(capacity, dtype=np.int64)
        self._ts: F64 = np.empty(capacity, dtype=np.float64)
        self._importance: F32 = np.empty(capacity, dtype=np.float32)
        #: A small number per row saying what kind of episode it is (0: untagged), so a search
        #: can keep to one kind (`search(tag=...)`: an agent's remedies, before a decision).
        self._tags: I8 = np.zeros(capacity, dtype=np.int8)
        self._known: set[int] = set()
        # Scratch rows for `search` (relevance, recency, importance, total) and the ages,
        # reused across queries; they make a search on one index not thread-safe.
        self._scratch: F32 = np.empty((4, 0), dtype=np.float32)
        self._ages: F64 = np.empty(0, dtype=np.float64)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, id: object) -> bool:
        return id in self._known

    @property
    def ids(self) -> I64:
        """The live ids in row order (a read-only view; copy it to keep it across changes)."""
        view = self._ids[: self._n]
        view.flags.writeable = False
        return view

    @property
    def nbytes(self) -> int:
        """Bytes held by the live embedding rows."""
        return self._n * self.dim * self._matrix.itemsize

    @property
    def capacity_nbytes(self) -> int:
        """Bytes allocated for the embedding matrix, spare rows included."""
        return self._matrix.nbytes

    def columns(self) -> tuple[I64, F32, F64, F32, I8]:
        """Views of the live rows: ids, embeddings, ts, importance, tags (to copy elsewhere)."""
        n = self._n
        return self._ids[:n], self._matrix[:n], self._ts[:n], self._importance[:n], self._tags[:n]

    def _reserve(self, needed: int) -> None:
        capacity = len(self._matrix)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        n = self._n
        matrix = np.empty((capacity, self.dim), dtype=np.float32, order="F")
        matrix[:n] = self._matrix[:n]
        ids = np.empty(capacity, dtype=np.int64)
        ids[:n] = self._ids[:n]
        ts = np.empty(capacity, dtype=np.float64)
        ts[:n] = self._ts[:n]
        importance = np.empty(capacity, dtype=np.float32)
        importance[:n] = self._importance[:n]
        tags = np.zeros(capacity, dtype=np.int8)
        tags[:n] = self._tags[:n]
        self._matrix, self._ids, self._ts, self._importance = matrix, ids, ts, importance
        self._tags = tags

    def add(
        self, id: int, vector: npt.ArrayLike, ts: float, importance: float, tag: int = 0
    ) -> None:
        """Append one episode (the path taken after every action)."""
        if id in self._known:
            raise ValueError(f"episode {id} is already in the index")
        row = np.asarray(vector, dtype=np.float32)
        if row.shape != (self.dim,):
            raise ValueError(f"vector shape {row.shape} != ({self.dim},)")
        n = self._n
        if n == len(self._matrix):
            self._reserve(n + 1)
        self._matrix[n] = row
        self._ids[n] = id
        self._ts[n] = ts
        self._importance[n] = importance
        self._tags[n] = tag
        self._known.add(int(id))
        self._n = n + 1

    def extend(
        self,
        ids: npt.ArrayLike,
        vectors: npt.ArrayLike,
        ts: npt.ArrayLike,
        importance: npt.ArrayLike,
        tags: npt.ArrayLike | None = None,
    ) -> None:
        """Append many episodes at once (loading an agent's memory from the database)."""
        new_ids, rows, new_ts, new_importance = episode_columns(
            ids, vectors, ts, importance, self.dim
        )
        count = len(new_ids)
        id_list = new_ids.tolist()
        unique = set(id_list)
        if len(unique) != count or not unique.isdisjoint(self._known):
            raise ValueError("extend got ids that repeat or are already in the index")
        n = self._n
        self._reserve(n + count)
        for start in range(0, count, _BLOCK):
            # In blocks of rows: one 100,000-row row-major to column-major copy thrashes the
            # cache and takes ~3x as long.
            stop = min(start + _BLOCK, count)
            self._matrix[n + start : n + stop] = rows[start:stop]
        self._ids[n : n + count] = new_ids
        self._ts[n : n + count] = new_ts
        self._importance[n : n + count] = new_importance
        self._tags[n : n + count] = 0 if tags is None else np.asarray(tags, dtype=np.int8)
        self._known |= unique
        self._n = n + count

    def remove(self, ids: Iterable[int]) -> int:
        """Drop these episodes (unknown ids are ignored), compacting the rows; return how many."""
        doomed = self._known.intersection(int(i) for i in ids)
        if not doomed:
            return 0
        n = self._n
        keep = ~np.isin(self._ids[:n], np.fromiter(doomed, dtype=np.int64, count=len(doomed)))
        arrays = (self._matrix, self._ids, self._ts, self._importance, self._tags)
        # The kept rows come in runs between removed ones. Sliding each run down is a memmove
        # per column; gathering rows of a column-major matrix touches `dim` cache lines per row.
        edges = np.flatnonzero(np.diff(keep.view(np.int8), prepend=0, append=0))
        starts, stops = edges[0::2].tolist(), edges[1::2].tolist()
        if len(starts) <= MAX_RUNS:
            end = 0
            for start, stop in zip(starts, stops, strict=True):
                if start != end:
                    for array in arrays:
                        array[end : end + stop - start] = array[start:stop]
                end += stop - start
        else:
            rows = np.flatnonzero(keep)
            end = len(rows)
            self._matrix.T[:, :end] = self._matrix.T[:, rows]
            for array in arrays[1:]:
                array[:end] = array[rows]
        self._known -= doomed
        self._n = end
        return len(doomed)

    def search(
        self,
        query: npt.ArrayLike,
        now: float,
        limit: int = 10,
        weights: RecallWeights = DEFAULT_WEIGHTS,
        candidates: Bool | None = None,
        tag: int | None = None,
    ) -> list[RecallHit]:
        """The `limit` best episodes for `query` at time `now`, best first.

        `candidates`, a boolean mask over the rows, restricts the search (and the min-max
        normalisation) to those rows; `tag` keeps to the rows added with that tag (both: the
        rows in both). Equal scores rank the larger, i.e. newer, id first.
        """
        n = self._n
        if n == 0 or limit <= 0:
            return []
        if tag is not None:
            tagged = self._tags[:n] == tag
            candidates = tagged if candidates is None else tagged & np.asarray(candidates)
        q = np.asarray(query, dtype=np.float32)
        if q.shape != (self.dim,):
            raise ValueError(f"query shape {q.shape} != ({self.dim},)")
        if self._scratch.shape[1] < n:
            self._scratch = np.empty((4, len(self._matrix)), dtype=np.float32)
            self._ages = np.empty(len(self._matrix), dtype=np.float64)
        matrix = self._matrix[:n]
        components, total = self._scratch[:3], self._scratch[3]
        if candidates is None:
            m = n
            np.matmul(matrix, q, out=components[0, :n])
            ids, ts, importance = self._ids[:n], self._ts[:n], self._importance[:n]
        else:
            mask = np.asarray(candidates, dtype=np.bool_)
            if mask.shape != (n,):
                raise ValueError(f"candidates shape {mask.shape} != ({n},)")
            rows = np.flatnonzero(mask)
            m = len(rows)
            if m == 0:
                return []
            if 100 * m < n:  # gathering a row costs ~100x its share of the full product
                np.matmul(matrix[rows], q, out=components[0, :m])
            else:
                np.matmul(matrix, q, out=total[:n])
                np.take(total[:n], rows, out=components[0, :m])
            ids, ts, importance = self._ids[rows], self._ts[rows], self._importance[rows]
        components, total, ages = components[:, :m], total[:m], self._ages[:m]
        np.subtract(now, ts, out=ages)
        score_into(components, ages, importance, weights, total)
        chosen = top_positions(total, ids, limit).tolist()
        relevance, recency, importance_n = (components[:, chosen]).tolist()
        return [
            RecallHit(
                id=int(ids[i]),
                score=float(total[i]),
                relevance=relevance[j],
                recency=recency[j],
                importance=importance_n[j],
            )
            for j, i in enumerate(chosen)
        ]


def episode_columns(
    ids: npt.ArrayLike,
    vectors: npt.ArrayLike,
    ts: npt.ArrayLike,
    importance: npt.ArrayLike,
    dim: int,
) -> tuple[I64, F32, F64, F32]:
    """A batch of episodes as the index's column types, refused whole when the columns do not
    line up (both indexes extend through this)."""
    new_ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    rows = np.asarray(vectors, dtype=np.float32)
    new_ts = np.asarray(ts, dtype=np.float64).reshape(-1)
    new_importance = np.asarray(importance, dtype=np.float32).reshape(-1)
    count = len(new_ids)
    if rows.shape != (count, dim) or len(new_ts) != count or len(new_importance) != count:
        raise ValueError(
            f"extend needs {count} ids, ({count}, {dim}) vectors, {count} ts and "
            f"{count} importance; got vectors {rows.shape}, {len(new_ts)} ts, "
            f"{len(new_importance)} importance"
        )
    return new_ids, rows, new_ts, new_importance


def top_positions(total: F32, ids: I64, limit: int) -> I64:
    """Positions of the `limit` highest scores, best first; ties go to the larger id."""
    m = len(total)
    k = min(limit, m)
    if k == m:
        pool: I64 = np.arange(m)
    else:
        # The k-th best of an even sample is at most the k-th best of all, so every score at
        # or above it holds the whole top k: a few hundred rows for argpartition, not 100,000.
        stride = m // (256 * k)
        if stride >= 2:
            sample = np.partition(total[::stride], -k)
            pool = np.flatnonzero(total >= sample[-k])
        else:
            pool = np.arange(m)
        values = total[pool]
        best = np.argpartition(values, len(values) - k)[len(values) - k :]
        threshold = values[best].min()
        above = pool[values > threshold]
        tied = pool[values == threshold]  # all of them: the pool holds every score >= threshold
        need = k - len(above)
        if len(tied) > need:  # more equal scores than places: the newest ids take them
            tied = tied[np.argpartition(ids[tied], len(tied) - need)[len(tied) - need :]]
        pool = np.concatenate((above, tied))
    order = np.lexsort((-ids[pool], -total[pool]))
    return pool[order]
