"""Candidate channels for copies: exact fingerprint matches and MinHash/LSH near-duplicates.

Both channels take sketches already computed by `retold.sketch` and return `Candidate` pairs by corpus
position (``a < b``), sorted by ``(a, b)``; alignment later verifies every pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from retold.config import SketchConfig
from retold.errors import IndexMismatchError
from retold.model import Candidate
from retold.sketch.lsh import band_keys, bucket_pairs
from retold.sketch.minhash import is_empty

__all__ = ["minhash_candidates", "exact_candidates"]

# Pairs whose slots are compared per step when scoring (bounds the (pairs x num_perm) boolean block).
_SCORE_CHUNK = 1 << 16


def minhash_candidates(
    sigs: NDArray[np.uint64],
    cfg: SketchConfig,
    min_jaccard: float = 0.0,
    max_bucket: int = 200,
) -> list[Candidate]:
    """Pairs whose MinHash signatures collide in at least one LSH band, scored by estimated Jaccard.

    Signatures of empty documents (every slot ``2**64 - 1``) are left out of bucketing: they would all share
    every band, and an empty document is no one's copy (the exact channel still groups them).

    Args:
        sigs: Signatures, shape ``(n_docs, cfg.num_perm)``, row ``i`` for corpus position ``i``.
        cfg: Banding (`bands` x `rows`) to use.
        min_jaccard: Drop pairs whose estimated Jaccard is below this.
        max_bucket: Buckets larger than this are paired as a star (see `retold.sketch.lsh.bucket_pairs`).

    Returns:
        ``Candidate(a, b, "minhash", score)`` with ``a < b``, sorted by ``(a, b)``.

    Raises:
        IndexMismatchError: If the signature width is not ``cfg.num_perm``.

    Example:
        >>> sigs = np.array([[1, 2, 3, 4], [1, 2, 3, 9], [7, 7, 7, 7]], dtype=np.uint64)
        >>> minhash_candidates(sigs, SketchConfig(num_perm=4, bands=2, rows=2))
        [Candidate(a=0, b=1, channel='minhash', score=0.75)]
    """
    arr = np.asarray(sigs, dtype=np.uint64)
    if arr.ndim != 2:
        raise ValueError(f"sigs must be 2-D (n_docs, num_perm), got shape {arr.shape}")
    if arr.shape[1] != cfg.num_perm:
        raise IndexMismatchError(f"num_perm differs: config has {cfg.num_perm}, signatures have {arr.shape[1]}")
    live = np.flatnonzero(~is_empty(arr))
    if live.size < 2:
        return []
    pairs = live[bucket_pairs(band_keys(arr[live], cfg.bands, cfg.rows), max_bucket=max_bucket)]
    # `live` is increasing, so mapping back keeps i < j and the lexicographic order.
    scores = np.empty(pairs.shape[0], dtype=np.float64)
    for start in range(0, pairs.shape[0], _SCORE_CHUNK):
        block = pairs[start : start + _SCORE_CHUNK]
        scores[start : start + block.shape[0]] = np.mean(arr[block[:, 0]] == arr[block[:, 1]], axis=1)
    keep = scores >= min_jaccard
    return [
        Candidate(a=i, b=j, channel="minhash", score=s)
        for (i, j), s in zip(pairs[keep].tolist(), scores[keep].tolist(), strict=True)
    ]


def exact_candidates(fingerprints: Sequence[int]) -> list[Candidate]:
    """Pairs of documents with equal whole-text fingerprints.

    Within a group of equal fingerprints every later member is paired with the first (a star), so a group
    of ``k`` copies gives ``k - 1`` pairs rather than ``k * (k - 1) / 2``.

    Args:
        fingerprints: One fingerprint per document (e.g. `retold.sketch.hashing.text_fingerprint`).

    Returns:
        ``Candidate(first, i, "exact", 1.0)`` for each later member ``i``, sorted by ``(a, b)``.

    Example:
        >>> exact_candidates([7, 3, 7, 7])
        [Candidate(a=0, b=2, channel='exact', score=1.0), Candidate(a=0, b=3, channel='exact', score=1.0)]
    """
    first: dict[int, int] = {}
    out: list[Candidate] = []
    for i, fp in enumerate(fingerprints):
        head = first.setdefault(fp, i)
        if head != i:
            out.append(Candidate(a=head, b=i, channel="exact", score=1.0))
    out.sort(key=lambda c: (c.a, c.b))
    return out
