"""Text embeddings for recall: a local hashing embedder behind a small Protocol.

`HashingEmbedder` uses feature hashing (Weinberger et al. 2009, "Feature Hashing for Large Scale
Multitask Learning"): every feature of a text is hashed straight to one of `dim` buckets with a
hash-chosen sign, so there is no vocabulary, no training and no download, and the same text
always maps to the same vector. That is enough for an agent to find "shop latency, restart fixed
it" when it meets "shop is slow" again. A model-based embedder (sentence-transformers, an
embedding API) can implement the same `Embedder` Protocol later without touching recall.

Embeddings are stored in SQLite, so they must be identical in every process: the hash is
`zlib.crc32`, never Python's `hash()`, which is salted per process (PYTHONHASHSEED).
"""

from __future__ import annotations

import re
import zlib
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import numpy as np
import numpy.typing as npt

DIM = 256

F32 = npt.NDArray[np.float32]

#: Lowercased alphanumeric runs; "-", "_", "." and everything else split words, so
#: "shop-api.service" gives "shop", "api", "service".
_TOKEN = re.compile(r"[a-z0-9]+")

# Feature weights. Whole words carry the meaning; a shared word pair ("disk full") is strong
# evidence but rarer, so it adds to the words rather than replacing them; character trigrams
# make "restrat" and "servce" land near "restart" and "service", but a word has many of them,
# so each counts little or they would drown the words.
WORD_WEIGHT = 1.0
BIGRAM_WEIGHT = 0.7
TRIGRAM_WEIGHT = 0.35

# Distinct crc32 start values keep the word "abc", the trigram "abc" and a bigram apart.
_WORD_SEED = 0
_BIGRAM_SEED = 0x9E3779B9
_TRIGRAM_SEED = 0x85EBCA6B
_SIGN = 0x80000000


class Embedder(Protocol):
    """Maps text to a unit vector; equal texts give equal vectors in every process."""

    dim: int

    def embed(self, text: str) -> F32:
        """A float32 (dim,) unit vector, all zeros if the text has no tokens.

        It may be shared with a cache and read-only: copy it before writing to it.
        """
        ...

    def embed_many(self, texts: Sequence[str]) -> F32:
        """float32 (len(texts), dim), one `embed` per row."""
        ...


class HashingEmbedder:
    """Signed feature hashing of words, word bigrams and character trigrams.

    Two caches: one per word (its own and its trigrams' buckets and signed weights, since
    summaries reuse a small vocabulary) and one per text (agents embed the same summaries again
    and again). Returned vectors are read-only because the text cache shares them.
    """

    def __init__(self, dim: int = DIM, cache_size: int = 4096) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = dim
        self._word = lru_cache(maxsize=16384)(self._word_features)
        self._text = lru_cache(maxsize=cache_size)(self._compute)

    def embed(self, text: str) -> F32:
        return self._text(text)

    def embed_many(self, texts: Sequence[str]) -> F32:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._text(text)
        return out

    def _word_features(self, word: str) -> tuple[array[int], array[float]]:
        """Buckets and signed weights of a word and of its character trigrams."""
        # Low bits pick the bucket, the top bit the sign: random signs make collisions cancel
        # on average instead of piling up. array.array, not lists: `_compute` extends its
        # buffers with them at memcpy speed and numpy reads them without copying.
        dim = self.dim
        data = word.encode()
        h = zlib.crc32(data, _WORD_SEED)
        indices = array("q", [h % dim])
        values = array("d", [-WORD_WEIGHT if h & _SIGN else WORD_WEIGHT])
        marked = b"#" + data + b"#"
        for i in range(len(marked) - 2):
            h = zlib.crc32(marked[i : i + 3], _TRIGRAM_SEED)
            indices.append(h % dim)
            values.append(-TRIGRAM_WEIGHT if h & _SIGN else TRIGRAM_WEIGHT)
        return indices, values

    def _compute(self, text: str) -> F32:
        dim = self.dim
        words = _TOKEN.findall(text.lower())
        indices: array[int] = array("q")
        values: array[float] = array("d")
        for word in words:
            word_indices, word_values = self._word(word)
            indices.extend(word_indices)
            values.extend(word_values)
        for first, second in pairwise(words):
            h = zlib.crc32(f"{first} {second}".encode(), _BIGRAM_SEED)
            indices.append(h % dim)
            values.append(-BIGRAM_WEIGHT if h & _SIGN else BIGRAM_WEIGHT)
        counts = np.bincount(
            np.frombuffer(indices, dtype=np.int64),
            weights=np.frombuffer(values, dtype=np.float64),
            minlength=dim,
        )
        vector = counts.astype(np.float32)
        norm = float(np.sqrt(vector @ vector))
        if norm > 0.0:
            vector /= norm
        vector.flags.writeable = False
        return vector
