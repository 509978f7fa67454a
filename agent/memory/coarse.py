"""Coarse centroids for an inverted-file index: spherical k-means over a sample of the rows.

A recall over a million episodes cannot score every row within its budget, so rows are grouped
by their nearest centroid (Jégou et al. 2011, "Product Quantization for Nearest Neighbor
Search", the IVF part) and a query scores only the groups whose centroids are nearest to it.
Embeddings are unit vectors compared by cosine, so centroids are kept unit length and "nearest"
is the largest dot product (spherical k-means, Dhillon & Modha 2001).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]

#: Training looks at this many rows per centroid at most: enough to place them, and the cost
#: of training stays a fraction of assigning every row once.
SAMPLE_PER_LIST = 32
ITERATIONS = 6
#: Rows assigned per block: the (block, lists) score matrix stays a few MB.
_BLOCK = 8192


def list_count(rows: int) -> int:
    """How many lists for this many rows: about sqrt(rows) / 2, at least 1.

    IVF usually takes sqrt(rows); half as many halves the time to assign every row (the cost
    of the first recall: a million rows against 500 centroids) and doubles a list's length,
    which a probe by rows rather than by lists (`recall_ivf.PROBE_ROWS`) absorbs.
    """
    return max(1, min(4096, round(float(np.sqrt(rows)) / 2)))


def _unit(rows: F32) -> F32:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows /= np.where(norms > 0, norms, np.float32(1.0))
    return rows


def train(sample: F32, lists: int, seed: int = 0) -> F32:
    """`lists` unit centroids (lists, dim) fitted to the float32 sample rows (n, dim)."""
    n = len(sample)
    if n == 0:
        raise ValueError("cannot train centroids on no rows")
    rng = np.random.default_rng(seed)
    lists = min(lists, n)
    centroids = _unit(sample[rng.choice(n, lists, replace=False)].astype(np.float32))
    for _ in range(ITERATIONS):
        nearest = assign(centroids, n, lambda a, b: sample[a:b]).astype(np.intp)
        order = np.argsort(nearest, kind="stable")
        counts = np.bincount(nearest, minlength=lists)
        sums = np.zeros_like(centroids)
        filled = np.flatnonzero(counts)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[filled]
        sums[filled] = np.add.reduceat(sample[order], starts, axis=0)
        empty = np.flatnonzero(counts == 0)
        if len(empty):  # re-seed a list nobody chose on a random row, so no list is wasted
            sums[empty] = sample[rng.choice(n, len(empty), replace=False)]
        centroids = _unit(sums)
    return centroids


def assign(
    centroids: F32, rows: int, block: Callable[[int, int], F32], out: I32 | None = None
) -> I32:
    """The nearest centroid of each of `rows` rows; `block(start, stop)` gives float32 rows."""
    nearest = np.empty(rows, dtype=np.int32) if out is None else out
    for start in range(0, rows, _BLOCK):
        stop = min(start + _BLOCK, rows)
        nearest[start:stop] = np.argmax(block(start, stop) @ centroids.T, axis=1)
    return nearest
