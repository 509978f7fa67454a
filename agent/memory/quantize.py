"""int8 embeddings: one signed byte per component and one float32 scale per row.

A million 256-dimension embeddings are 1 GB as float32 and 512 MB as float16, more than the
600 MB a process may hold with them; int8 is 260 MB. Symmetric per-row scaling (the row's
largest magnitude maps to 127) suits unit vectors from the hashing embedder, whose components
are signed and spread over the whole row: a component comes back within half a step
(`scale / 2`) of where it was, and a cosine within `sqrt(dim) * scale / 2` of the float32 one.
float16 would be closer but numpy has no BLAS for it (a float16 product measured 19x slower
than float32), while int8 rows are converted to float32 a block at a time and handed to BLAS.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I8 = npt.NDArray[np.int8]

#: The largest code: symmetric, so -x quantises to the negation of x.
LEVELS = 127


def quantize(rows: npt.ArrayLike) -> tuple[I8, F32]:
    """int8 codes and per-row scales for float rows (n, dim); a zero row gets scale 0.

    Non-finite components are taken as 0, so a broken vector cannot spread NaN into scores.
    """
    x = np.asarray(rows, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"quantize needs 2-d rows, got shape {x.shape}")
    x = np.where(np.isfinite(x), x, np.float32(0.0))
    peak = np.abs(x).max(axis=1) if x.shape[1] else np.zeros(len(x), dtype=np.float32)
    scales = (peak / np.float32(LEVELS)).astype(np.float32)
    safe = np.where(scales > 0, scales, np.float32(1.0))
    codes = np.rint(x / safe[:, None])
    np.clip(codes, -LEVELS, LEVELS, out=codes)
    return codes.astype(np.int8), scales


def dequantize(codes: I8, scales: F32, out: F32 | None = None) -> F32:
    """float32 rows back from codes and scales (within `scale / 2` of the originals)."""
    rows = np.multiply(codes, scales[:, None], out=out, dtype=np.float32)
    return rows


def dot(codes: I8, scales: F32, query: F32, rows: npt.NDArray[np.int64] | None = None) -> F32:
    """`dequantize(codes, scales) @ query`, over only `rows` when given, a block at a time.

    `np.einsum` widens int8 to float32 in its own buffered loop: measured 2-3x faster here
    than widening a block and calling BLAS, whose threads spend more time waking on a busy
    2-core machine than multiplying a few thousand rows.
    """
    n = len(codes) if rows is None else len(rows)
    result = np.empty(n, dtype=np.float32)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        block = codes[start:stop] if rows is None else codes[rows[start:stop]]
        np.einsum("ij,j->i", block, query, out=result[start:stop])
    result *= scales if rows is None else scales[rows]
    return result


#: Rows gathered at a time: 4,096 x 256 int8 is 1 MB, within a 2-core machine's cache.
_BLOCK = 4096
