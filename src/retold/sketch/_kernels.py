"""numba kernels for the sketch hot path, bit-identical to the numpy reference implementations.

`retold.sketch.hashing` and `retold.sketch.minhash` import this module on first use (numba's import costs
~0.5 s) and fall back to their numpy code where numba is missing or ``RETOLD_NO_NUMBA`` is set. The kernels
are compiled on the first call (~3 s CPU for all of them, see ``bench/README.md``) and cached on disk
(``cache=True``: ``__pycache__`` next to this file, or numba's user-wide cache directory where that is read-only), so
later processes skip the compile and pay ~0.5 s on the first call (numba's initialisation and the cache load).
``nogil=True`` lets threads sign batches in parallel.

All arithmetic is on ``uint64`` scalars and wraps mod 2**64; constants are ``np.uint64`` globals because numba
promotes ``uint64`` mixed with a Python ``int`` to ``float64``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["xxh64_joined", "ngram_batch", "minhash_flat"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F) -> _F:
    """``@njit(cache=True, nogil=True)`` that keeps the Python signature for mypy."""
    return cast(_F, njit(cache=True, nogil=True)(fn))


U64 = np.uint64
_GOLDEN = U64(0x9E3779B97F4A7C15)
_FMIX_1 = U64(0xFF51AFD7ED558CCD)
_FMIX_2 = U64(0xC4CEB9FE1A85EC53)
_EMPTY = U64(0xFFFFFFFFFFFFFFFF)
_P1 = U64(0x9E3779B185EBCA87)
_P2 = U64(0xC2B2AE3D27D4EB4F)
_P3 = U64(0x165667B19E3779F9)
_P4 = U64(0x85EBCA77C2B2AE63)
_P5 = U64(0x27D4EB2F165667C5)
_S8 = U64(8)
_S16 = U64(16)
_S24 = U64(24)
_S29 = U64(29)
_S32 = U64(32)
_S33 = U64(33)
_S40 = U64(40)
_S48 = U64(48)
_S56 = U64(56)


@_jit
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return (x << U64(r)) | (x >> U64(64 - r))


@_jit
def _mix64(x: np.uint64) -> np.uint64:
    x ^= x >> _S33
    x *= _FMIX_1
    x ^= x >> _S33
    x *= _FMIX_2
    return x ^ (x >> _S33)


@_jit
def _read64(buf: NDArray[np.uint8], p: int) -> np.uint64:
    # Little-endian load from any offset; LLVM merges the byte loads into one unaligned load.
    return (
        U64(buf[p])
        | (U64(buf[p + 1]) << _S8)
        | (U64(buf[p + 2]) << _S16)
        | (U64(buf[p + 3]) << _S24)
        | (U64(buf[p + 4]) << _S32)
        | (U64(buf[p + 5]) << _S40)
        | (U64(buf[p + 6]) << _S48)
        | (U64(buf[p + 7]) << _S56)
    )


@_jit
def _read32(buf: NDArray[np.uint8], p: int) -> np.uint64:
    return U64(buf[p]) | (U64(buf[p + 1]) << _S8) | (U64(buf[p + 2]) << _S16) | (U64(buf[p + 3]) << _S24)


@_jit
def _xxh_round(acc: np.uint64, lane: np.uint64) -> np.uint64:
    acc += lane * _P2
    return _rotl(acc, 31) * _P1


@_jit
def _xxh_merge(acc: np.uint64, v: np.uint64) -> np.uint64:
    acc ^= _xxh_round(U64(0), v)
    return acc * _P1 + _P4


@_jit
def _xxh64(buf: NDArray[np.uint8], start: int, length: int, seed: np.uint64) -> np.uint64:
    """xxh64 of ``buf[start:start + length]`` (the xxHash specification, as ``xxhash.xxh64_intdigest``)."""
    p = start
    end = start + length
    if length >= 32:
        v1 = seed + _P1 + _P2
        v2 = seed + _P2
        v3 = seed
        v4 = seed - _P1
        while p + 32 <= end:
            v1 = _xxh_round(v1, _read64(buf, p))
            v2 = _xxh_round(v2, _read64(buf, p + 8))
            v3 = _xxh_round(v3, _read64(buf, p + 16))
            v4 = _xxh_round(v4, _read64(buf, p + 24))
            p += 32
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _xxh_merge(h, v1)
        h = _xxh_merge(h, v2)
        h = _xxh_merge(h, v3)
        h = _xxh_merge(h, v4)
    else:
        h = seed + _P5
    h += U64(length)
    while p + 8 <= end:
        h ^= _xxh_round(U64(0), _read64(buf, p))
        h = _rotl(h, 27) * _P1 + _P4
        p += 8
    if p + 4 <= end:
        h ^= _read32(buf, p) * _P1
        h = _rotl(h, 23) * _P2 + _P3
        p += 4
    while p < end:
        h ^= U64(buf[p]) * _P5
        h = _rotl(h, 11) * _P1
        p += 1
    h ^= h >> _S33
    h *= _P2
    h ^= h >> _S29
    h *= _P3
    return h ^ (h >> _S32)


@_jit
def xxh64_joined(buf: NDArray[np.uint8], seed: np.uint64, out: NDArray[np.uint64]) -> bool:
    """xxh64 of each NUL-separated token of `buf` into `out`; False (and `out` partly written) unless `buf`
    holds exactly ``out.size`` tokens (a token containing NUL itself: the caller falls back)."""
    n = out.shape[0]
    k = 0
    s = 0
    for i in range(buf.shape[0]):
        if buf[i] == 0:
            if k >= n - 1:
                return False
            out[k] = _xxh64(buf, s, i - s, seed)
            k += 1
            s = i + 1
    if k != n - 1:
        return False
    out[k] = _xxh64(buf, s, buf.shape[0] - s, seed)
    return True


@_jit
def ngram_batch(t: NDArray[np.uint64], lengths: NDArray[np.int64], n: int, out: NDArray[np.uint64]) -> None:
    """`retold.sketch.hashing.ngram_hashes` of every document (laid end to end in `t`) into `out`.

    Per document, the fold runs one pass per column over the document's shingles (each pass vectorises over
    positions), as `retold.sketch.hashing._ngram_into` does over the whole array.
    """
    pos = 0
    o = 0
    for d in range(lengths.shape[0]):
        size = lengths[d]
        if size == 0:
            continue
        w = min(n, size)
        m = size - w + 1
        h = out[o : o + m]
        first = _rotl(_mix64(U64(w)), 27)
        for i in range(m):
            h[i] = (t[pos + i] ^ first) * _GOLDEN
        for k in range(1, w):
            for i in range(m):
                h[i] = (_rotl(h[i], 27) ^ t[pos + k + i]) * _GOLDEN
        for i in range(m):
            h[i] = _mix64(h[i])
        pos += size
        o += m


@_jit
def minhash_flat(
    flat: NDArray[np.uint64],
    lengths: NDArray[np.int64],
    a: NDArray[np.uint64],
    b: NDArray[np.uint64],
    out: NDArray[np.uint64],
) -> None:
    """`retold.sketch.minhash.signatures_flat` into `out` (``(len(lengths), len(a))``, C order).

    Slot ``p`` of a document is ``min(a[p] * mix64(x) + b[p])`` over its shingles ``x``. The loop over slots is
    innermost, so it vectorises (8 lanes with AVX-512's 64-bit multiply and unsigned min), and it takes four
    shingles per pass: each slot, ``a[p]`` and ``b[p]`` is loaded and stored once per four shingles instead of
    once per shingle (2.5x faster than one shingle per pass).
    """
    perms = a.shape[0]
    pos = 0
    for d in range(lengths.shape[0]):
        row = out[d]
        for p in range(perms):
            row[p] = _EMPTY
        end = pos + lengths[d]
        j = pos
        while j + 4 <= end:
            x0 = _mix64(flat[j])
            x1 = _mix64(flat[j + 1])
            x2 = _mix64(flat[j + 2])
            x3 = _mix64(flat[j + 3])
            for p in range(perms):
                ap = a[p]
                bp = b[p]
                row[p] = min(min(row[p], ap * x0 + bp), min(ap * x1 + bp, ap * x2 + bp), ap * x3 + bp)
            j += 4
        while j < end:
            x = _mix64(flat[j])
            for p in range(perms):
                row[p] = min(row[p], a[p] * x + b[p])
            j += 1
        pos = end
