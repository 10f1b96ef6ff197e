"""Stable 64-bit hashing of tokens, token n-grams (shingles) and whole token sequences.

This is the numeric bottom of the sketch stage: tokens are hashed once with xxhash64 (stable across runs,
processes and platforms), and everything above works on ``uint64`` arrays with vectorised numpy arithmetic.
Overflow in ``uint64`` arithmetic is intended (everything is mod 2**64) and numpy wraps silently on arrays;
the helpers still run under ``np.errstate(over="ignore")`` so a scalar path can never raise under
``-W error``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash
from numpy.typing import NDArray

__all__ = ["hash_tokens", "ngram_hashes", "text_fingerprint", "mix64", "combine_columns"]

U64 = np.uint64
# Odd 64-bit multiplier (2**64 / golden ratio): multiplication by an odd constant is a bijection mod 2**64.
_GOLDEN = U64(0x9E3779B97F4A7C15)
# MurmurHash3 fmix64 constants: a well-studied 64-bit finaliser with full avalanche.
_FMIX_1 = U64(0xFF51AFD7ED558CCD)
_FMIX_2 = U64(0xC4CEB9FE1A85EC53)
_ROT = 27


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Apply the MurmurHash3 ``fmix64`` finaliser elementwise (a bijection on 64-bit values).

    Args:
        x: Any ``uint64`` array; it is not modified.

    Returns:
        A new ``uint64`` array of the same shape.
    """
    with np.errstate(over="ignore"):
        h = np.array(x, dtype=U64, copy=True)
        h ^= h >> U64(33)
        h *= _FMIX_1
        h ^= h >> U64(33)
        h *= _FMIX_2
        h ^= h >> U64(33)
    return h


def _rotl(x: NDArray[np.uint64], r: int) -> NDArray[np.uint64]:
    return (x << U64(r)) | (x >> U64(64 - r))


def combine_columns(cols: Sequence[NDArray[np.uint64]], salt: NDArray[np.uint64] | int) -> NDArray[np.uint64]:
    """Hash aligned ``uint64`` columns into one order-sensitive ``uint64`` per position.

    The construction (shared by n-gram shingles here and LSH band keys in `retold.sketch.lsh`) is::

        h = mix64(salt)
        for c in cols:                      # loop over the (few) columns, vectorised over positions
            h = (rotl(h, 27) ^ c) * GOLDEN  # mod 2**64; GOLDEN is odd
        return mix64(h)

    Rotation and multiplication between the xors make the result depend on column order, and the final
    ``fmix64`` spreads every input bit over all output bits.

    Args:
        cols: Equal-shape ``uint64`` arrays (e.g. shifted slices of a token-hash sequence).
        salt: Scalar or array broadcastable to the columns; separates different uses (n-gram width, band).

    Returns:
        The combined hashes, shape of the columns.
    """
    with np.errstate(over="ignore"):
        h = mix64(np.asarray(salt, dtype=U64))
        for c in cols:
            h = _rotl(h, _ROT) ^ c
            h *= _GOLDEN
        return mix64(h)


def hash_tokens(tokens: Sequence[str], seed: int = 0) -> NDArray[np.uint64]:
    """Hash each (already normalised) token with xxhash64 of its UTF-8 bytes.

    Args:
        tokens: Token strings.
        seed: xxhash seed (0 <= seed < 2**64).

    Returns:
        ``uint64`` array, one hash per token.

    Example:
        >>> hex(int(hash_tokens([""])[0]))
        '0xef46db3751d8e999'
    """
    intdigest = xxhash.xxh64_intdigest
    # One C call per token; strings must be hashed one by one, everything after this is vectorised.
    return np.fromiter((intdigest(t.encode("utf-8"), seed) for t in tokens), dtype=U64, count=len(tokens))


def ngram_hashes(token_hashes: NDArray[np.uint64], n: int) -> NDArray[np.uint64]:
    """Hash every contiguous n-gram of a token-hash sequence (the document's shingles).

    Shingle ``i`` is ``combine_columns([t[i], t[i+1], ..., t[i+n-1]], salt=n)``: the n shifted slices of the
    sequence are folded in order (see `combine_columns`), so ``(a, b)`` and ``(b, a)`` hash differently. The loop
    runs over the n columns, never over shingles.

    A sequence shorter than ``n`` (but not empty) yields one shingle: the hash of the whole sequence as a
    ``len``-gram, so very short documents still get a sketch. An empty sequence yields an empty array.

    Args:
        token_hashes: ``uint64`` token hashes from `hash_tokens`.
        n: Shingle width in tokens (>= 1).

    Returns:
        ``uint64`` array of ``max(len - n + 1, 1)`` shingle hashes (0 for an empty input).

    Example:
        >>> t = hash_tokens(["a", "b", "c"])
        >>> ngram_hashes(t, 2).shape, ngram_hashes(t, 5).shape
        ((2,), (1,))
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    t = np.asarray(token_hashes, dtype=U64)
    if t.ndim != 1:
        raise ValueError(f"token_hashes must be 1-D, got shape {t.shape}")
    size = t.shape[0]
    if size == 0:
        return np.empty(0, dtype=U64)
    width = min(n, size)
    m = size - width + 1
    return combine_columns([t[k : k + m] for k in range(width)], salt=width)


def text_fingerprint(token_hashes: NDArray[np.uint64]) -> int:
    """One 64-bit hash of a whole token-hash sequence, for the exact-duplicate channel.

    It is xxhash64 of the little-endian bytes of the sequence, so it is stable across platforms and
    order-sensitive; two documents with the same normalised tokens get the same fingerprint.

    Args:
        token_hashes: ``uint64`` token hashes from `hash_tokens`.

    Returns:
        An int in ``[0, 2**64)``.
    """
    t = np.ascontiguousarray(token_hashes, dtype="<u8")
    return xxhash.xxh64_intdigest(t.tobytes(), 0)
