"""Stable 64-bit hashing of tokens, token n-grams (shingles) and whole token sequences.

This is the numeric bottom of the sketch stage: tokens are hashed once with xxhash64 (stable across runs,
processes and platforms), and everything above works on ``uint64`` arrays with vectorised numpy arithmetic.
Overflow in ``uint64`` arithmetic is intended (everything is mod 2**64) and numpy wraps silently on arrays;
the helpers still run under ``np.errstate(over="ignore")`` so a scalar path can never raise under
``-W error`` (the hot kernels instead use only in-place array ufuncs, which never check integer overflow).

Batch paths: `hash_tokens` on a long token list hashes all tokens at once with a vectorised xxh64 (one join +
encode of the tokens, then numpy over the bytes), and `ngram_hashes_batch` builds the shingles of many documents
from one concatenated token-hash array; both give exactly the values of the one-at-a-time definitions.

Fast path: where numba is importable (a core dependency; ``RETOLD_NO_NUMBA=1`` turns it off) the public functions
run the compiled kernels of `retold.sketch._kernels` instead (xxh64 over the joined token bytes, the n-gram fold per
document), which give the same values; the numpy code here is the reference and the fallback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np
import xxhash
from numpy.typing import NDArray

__all__ = [
    "hash_tokens",
    "hash_token_lists",
    "ngram_hashes",
    "ngram_hashes_batch",
    "text_fingerprint",
    "mix64",
    "combine_columns",
]

U64 = np.uint64
# Odd 64-bit multiplier (2**64 / golden ratio): multiplication by an odd constant is a bijection mod 2**64.
_GOLDEN = U64(0x9E3779B97F4A7C15)
# MurmurHash3 fmix64 constants: a well-studied 64-bit finaliser with full avalanche.
_FMIX_1 = U64(0xFF51AFD7ED558CCD)
_FMIX_2 = U64(0xC4CEB9FE1A85EC53)
_ROT = 27
_MASK64 = (1 << 64) - 1

# xxh64 primes (xxHash specification), for the vectorised token hashing.
_XXP1 = 0x9E3779B185EBCA87
_XXP2 = 0xC2B2AE3D27D4EB4F
_XXP3 = 0x165667B19E3779F9
_XXP4 = 0x85EBCA77C2B2AE63
_XXP5 = 0x27D4EB2F165667C5
# Token lists at least this long take the vectorised xxh64 path; below it the per-token loop is cheaper than the
# path's fixed cost (about 33 length groups of a few numpy calls each).
_VECTOR_MIN_TOKENS = 4096
# Positions per step of the n-gram kernel: the working arrays (2 x 128 KiB) stay in L2.
_NGRAM_CHUNK = 1 << 14
# With the compiled kernels the joined path costs ~1.8 us + 17 ns per token (join, encode, one call) against the
# per-token loop's ~0.1 us per token: they break even at about 8 tokens.
_KERNEL_MIN_TOKENS = 8


@functools.cache
def _load_kernels() -> ModuleType | None:
    """`retold.sketch._kernels`, imported on first use (numba's import is slow); None means the numpy path:
    numba is missing or ``RETOLD_NO_NUMBA`` is set to a non-empty value other than ``0``."""
    if os.environ.get("RETOLD_NO_NUMBA", "0") not in ("", "0"):
        return None
    try:
        from retold.sketch import _kernels
    except ImportError:
        return None
    return _kernels


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Apply the MurmurHash3 ``fmix64`` finaliser elementwise (a bijection on 64-bit values).

    Args:
        x: Any ``uint64`` array; it is not modified.

    Returns:
        A new ``uint64`` array of the same shape.
    """
    with np.errstate(over="ignore"):
        h = np.array(x, dtype=U64, copy=True)
        _mix64_inplace(h, np.empty_like(h))
    return h


def _mix64_inplace(h: NDArray[np.uint64], tmp: NDArray[np.uint64]) -> None:
    """``h = fmix64(h)`` in place with array ufuncs only; `tmp` is scratch of the same shape."""
    for mult in (_FMIX_1, _FMIX_2):
        np.right_shift(h, U64(33), out=tmp)
        np.bitwise_xor(h, tmp, out=h)
        np.multiply(h, mult, out=h)
    np.right_shift(h, U64(33), out=tmp)
    np.bitwise_xor(h, tmp, out=h)


def _rotl_inplace(x: NDArray[np.uint64], r: int, tmp: NDArray[np.uint64]) -> None:
    """``x = rotl(x, r)`` in place; `tmp` is scratch of the same shape."""
    np.left_shift(x, U64(r), out=tmp)
    np.right_shift(x, U64(64 - r), out=x)
    np.bitwise_or(x, tmp, out=x)


def _mix64_int(x: int) -> int:
    """`mix64` of one Python int (mod 2**64), without numpy scalars."""
    x &= _MASK64
    x ^= x >> 33
    x = (x * int(_FMIX_1)) & _MASK64
    x ^= x >> 33
    x = (x * int(_FMIX_2)) & _MASK64
    return x ^ (x >> 33)


def _rotl_int(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK64


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

    A long list (``>= 8`` tokens with the numba kernels, ``>= 4096`` on the numpy path) is hashed in one pass: the
    tokens are joined with NUL separators and encoded once, and xxh64 runs over the buffer in a compiled kernel
    (numpy: for all tokens of the same byte length together, see `_xxh64_many`). The values are exactly those of
    ``xxhash.xxh64_intdigest(token.encode("utf-8"), seed)``; inputs the joined form cannot represent (a token
    containing NUL, a non-``str`` item, an unencodable string) take the per-token loop.

    Args:
        tokens: Token strings.
        seed: xxhash seed (0 <= seed < 2**64).

    Returns:
        ``uint64`` array, one hash per token.

    Example:
        >>> hex(int(hash_tokens([""])[0]))
        '0xef46db3751d8e999'
    """
    if len(tokens) >= (_VECTOR_MIN_TOKENS if _load_kernels() is None else _KERNEL_MIN_TOKENS):
        out = _hash_joined(lambda: "\0".join(tokens), len(tokens), seed)
        if out is not None:
            return out
    intdigest = xxhash.xxh64_intdigest
    # One C call per token; strings must be hashed one by one, everything after this is vectorised.
    return np.fromiter((intdigest(t.encode("utf-8"), seed) for t in tokens), dtype=U64, count=len(tokens))


def hash_token_lists(docs: Sequence[Sequence[str]], seed: int = 0) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """`hash_tokens` of many documents' token lists at once, concatenated.

    Equal to ``np.concatenate([hash_tokens(d, seed) for d in docs])``, computed in one vectorised pass (see
    `hash_tokens`) without building a flat list of all tokens; pairs with `ngram_hashes_batch`.

    Args:
        docs: One token list per document.
        seed: xxhash seed.

    Returns:
        ``(hashes, lengths)``: the concatenated ``uint64`` token hashes and the token count of each document.

    Example:
        >>> h, lengths = hash_token_lists([["a", "b"], [], ["c"]])
        >>> lengths.tolist(), bool(np.array_equal(h, hash_tokens(["a", "b", "c"])))
        ([2, 0, 1], True)
    """
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    total = int(lengths.sum())
    if total >= (_VECTOR_MIN_TOKENS if _load_kernels() is None else _KERNEL_MIN_TOKENS):
        # Join each document, then the documents: no list of all tokens (empty documents add no separator).
        out = _hash_joined(lambda: "\0".join(map("\0".join, filter(len, docs))), total, seed)
        if out is not None:
            return out, lengths
    if total == 0:
        return np.empty(0, dtype=U64), lengths
    return np.concatenate([hash_tokens(d, seed) for d in docs]), lengths


def _hash_joined(join: Callable[[], str], n: int, seed: int) -> NDArray[np.uint64] | None:
    """`hash_tokens` of `n` tokens given as one NUL-joined string (built by `join`), through one UTF-8 buffer.

    Returns None where the per-token loop must decide: `join` or the encoding fails (a non-``str`` token, a lone
    surrogate), or the separators do not split the buffer into `n` tokens (a token contains NUL itself).
    """
    xxhash.xxh64_intdigest(b"", seed)  # the seed check xxhash itself does (same exception for a bad seed)
    try:
        raw = join().encode("utf-8")
    except (TypeError, UnicodeError):
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    kernels = _load_kernels()
    if kernels is not None:
        out = np.empty(n, dtype=U64)
        return out if kernels.xxh64_joined(buf, U64(seed), out) else None
    seps = np.flatnonzero(buf == 0)
    if seps.size != n - 1 or buf.size < 8:
        return None
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    np.add(seps, 1, out=starts[1:])
    lengths = np.empty(n, dtype=np.int64)
    np.subtract(seps, starts[:-1], out=lengths[:-1])
    lengths[-1] = buf.size - starts[-1]
    return _xxh64_many(raw, buf, starts, lengths, seed)


def _xxh64_many(
    raw: bytes, buf: NDArray[np.uint8], starts: NDArray[np.int64], lengths: NDArray[np.int64], seed: int
) -> NDArray[np.uint64]:
    """xxh64 of ``raw[s:s+l]`` for every (start, length), vectorised; bit-identical to ``xxh64_intdigest``.

    Inputs shorter than 32 bytes (practically every word) skip xxh64's 4-lane stripe loop: the state starts at
    ``seed + PRIME5 + len`` and absorbs ``len // 8`` 8-byte lanes, then one 4-byte word if ``len % 8 >= 4``, then
    the remaining ``len % 4`` single bytes, and ends with the avalanche. That sequence depends only on the length,
    so tokens are grouped by length (a stable radix sort of the clipped lengths) and each group runs the sequence
    as whole-array operations; lanes and words are gathered through unaligned strided views of the buffer.
    Inputs of 32 bytes or more are hashed one by one with xxhash.
    """
    n = starts.size
    key = np.minimum(lengths, 32).astype(np.uint8)
    order = np.argsort(key, kind="stable")
    bounds = np.zeros(34, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=33), out=bounds[1:])
    s_sorted = starts[order]
    lanes = np.ndarray((buf.size - 7,), dtype="<u8", buffer=buf, strides=(1,))
    words = np.ndarray((buf.size - 3,), dtype="<u4", buffer=buf, strides=(1,))
    res = np.empty(n, dtype=U64)
    for length in range(33):
        g0, g1 = int(bounds[length]), int(bounds[length + 1])
        if g0 == g1:
            continue
        if length == 32:  # 32 bytes or longer: xxh64's stripe loop, rare for tokens
            pos = s_sorted[g0:g1].tolist()
            lens = lengths[order[g0:g1]].tolist()
            intdigest = xxhash.xxh64_intdigest
            res[g0:g1] = np.fromiter(
                (intdigest(raw[p : p + k], seed) for p, k in zip(pos, lens, strict=True)), dtype=U64, count=g1 - g0
            )
            continue
        pos = s_sorted[g0:g1]
        _xxh64_short(buf, lanes, words, pos, length, seed, res[g0:g1])
    out = np.empty(n, dtype=U64)
    out[order] = res
    return out


def _xxh64_short(
    buf: NDArray[np.uint8],
    lanes: NDArray[np.uint64],
    words: NDArray[np.uint32],
    pos: NDArray[np.int64],
    length: int,
    seed: int,
    out: NDArray[np.uint64],
) -> None:
    """xxh64 of the `length`-byte inputs starting at `pos` (``length < 32``), written to `out`."""
    m = pos.size
    acc = out
    acc.fill(U64((seed + _XXP5 + length) & _MASK64))
    tmp = np.empty(m, dtype=U64)
    p = 0
    for _ in range(length // 8):  # k1 = round(0, lane); acc = rotl(acc ^ k1, 27) * P1 + P4
        k = lanes[pos + p]
        np.multiply(k, U64(_XXP2), out=k)
        _rotl_inplace(k, 31, tmp)
        np.multiply(k, U64(_XXP1), out=k)
        np.bitwise_xor(acc, k, out=acc)
        _rotl_inplace(acc, 27, tmp)
        np.multiply(acc, U64(_XXP1), out=acc)
        np.add(acc, U64(_XXP4), out=acc)
        p += 8
    if length & 4:  # acc = rotl(acc ^ word * P1, 23) * P2 + P3
        w = words[pos + p].astype(U64)
        np.multiply(w, U64(_XXP1), out=w)
        np.bitwise_xor(acc, w, out=acc)
        _rotl_inplace(acc, 23, tmp)
        np.multiply(acc, U64(_XXP2), out=acc)
        np.add(acc, U64(_XXP3), out=acc)
        p += 4
    for _ in range(length & 3):
        _xxh64_byte_step(acc, buf[pos + p], tmp)
        p += 1
    _xxh64_avalanche(acc, tmp)


def _xxh64_byte_step(acc: NDArray[np.uint64], byte: NDArray[np.uint8], tmp: NDArray[np.uint64]) -> None:
    """One tail byte: ``acc = rotl(acc ^ byte * P5, 11) * P1``."""
    b = byte.astype(U64)
    np.multiply(b, U64(_XXP5), out=b)
    np.bitwise_xor(acc, b, out=acc)
    _rotl_inplace(acc, 11, tmp)
    np.multiply(acc, U64(_XXP1), out=acc)


def _xxh64_avalanche(acc: NDArray[np.uint64], tmp: NDArray[np.uint64]) -> None:
    for shift, mult in ((33, _XXP2), (29, _XXP3)):
        np.right_shift(acc, U64(shift), out=tmp)
        np.bitwise_xor(acc, tmp, out=acc)
        np.multiply(acc, U64(mult), out=acc)
    np.right_shift(acc, U64(32), out=tmp)
    np.bitwise_xor(acc, tmp, out=acc)


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
    out = np.empty(size - width + 1, dtype=U64)
    kernels = _load_kernels()
    if kernels is not None:
        kernels.ngram_batch(np.ascontiguousarray(t), np.array([size], dtype=np.int64), int(n), out)
    else:
        _ngram_into(t, width, out)
    return out


def _ngram_into(t: NDArray[np.uint64], n: int, out: NDArray[np.uint64]) -> None:
    """``out[i] = combine_columns([t[i], ..., t[i+n-1]], salt=n)`` for ``i < out.size`` (``<= t.size - n + 1``).

    The same fold as `combine_columns`, computed in place over L2-sized blocks of positions. The salt's part
    is a constant: the first step ``rotl(mix64(n), 27) ^ t[i]`` needs no rotation of an array.
    """
    m = out.shape[0]
    if m == 0:
        return
    first = U64(_rotl_int(_mix64_int(n), _ROT))
    rot = U64(_ROT)
    back = U64(64 - _ROT)
    tmp_all = np.empty(min(m, _NGRAM_CHUNK), dtype=U64)
    for s in range(0, m, _NGRAM_CHUNK):
        e = min(s + _NGRAM_CHUNK, m)
        h = out[s:e]
        tmp = tmp_all[: e - s]
        np.bitwise_xor(t[s:e], first, out=h)
        np.multiply(h, _GOLDEN, out=h)
        for k in range(1, n):
            np.left_shift(h, rot, out=tmp)
            np.right_shift(h, back, out=h)
            np.bitwise_or(h, tmp, out=h)
            np.bitwise_xor(h, t[s + k : e + k], out=h)
            np.multiply(h, _GOLDEN, out=h)
        _mix64_inplace(h, tmp)


def ngram_hashes_batch(
    token_hashes: NDArray[np.uint64], lengths: NDArray[np.integer] | Sequence[int], n: int
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """`ngram_hashes` of many documents at once, from their concatenated token hashes.

    Document ``d`` owns ``token_hashes[offsets[d]:offsets[d] + lengths[d]]`` (documents laid end to end). The
    n-gram fold runs once over the whole concatenation; windows that straddle two documents are then dropped,
    and a document shorter than ``n`` (but not empty) gets its single whole-sequence hash, as in `ngram_hashes`.

    Args:
        token_hashes: Concatenated ``uint64`` token hashes of all documents.
        lengths: Tokens per document (>= 0, summing to ``token_hashes.size``).
        n: Shingle width in tokens (>= 1).

    Returns:
        ``(shingles, counts)``: the concatenation of ``ngram_hashes(doc, n)`` over the documents, and the number
        of shingles of each document (``max(len - n + 1, 1)``, 0 for an empty one) as ``int64``.

    Example:
        >>> t = hash_tokens(["a", "b", "c", "d", "x"])
        >>> sh, counts = ngram_hashes_batch(t, [4, 0, 1], 2)
        >>> counts.tolist(), bool(np.array_equal(sh, np.concatenate([ngram_hashes(t[:4], 2), ngram_hashes(t[4:], 2)])))
        ([3, 0, 1], True)
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    t = np.asarray(token_hashes, dtype=U64)
    if t.ndim != 1:
        raise ValueError(f"token_hashes must be 1-D, got shape {t.shape}")
    lens = np.asarray(lengths, dtype=np.int64)
    if lens.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {lens.shape}")
    if lens.size and int(lens.min()) < 0:
        raise ValueError("lengths must be >= 0")
    if int(lens.sum()) != t.shape[0]:
        raise ValueError(f"lengths sum to {int(lens.sum())}, but there are {t.shape[0]} token hashes")
    counts = np.where(lens >= n, lens - (n - 1), np.minimum(lens, 1))
    out = np.empty(int(counts.sum()), dtype=U64)
    kernels = _load_kernels()
    if kernels is not None:
        kernels.ngram_batch(np.ascontiguousarray(t), np.ascontiguousarray(lens), int(n), out)
        return out, counts.astype(np.int64, copy=False)
    ends = np.cumsum(lens)
    starts = ends - lens
    total = t.shape[0]
    short = np.flatnonzero((lens > 0) & (lens < n))
    n_windows = total - n + 1
    if n_windows > 0 and bool(np.any(lens >= n)):
        windows = np.empty(n_windows, dtype=U64)
        _ngram_into(t, n, windows)
        # Window p is valid when it ends inside its own document: p <= end - n. Invalid starts are the last
        # min(len, n - 1) positions of each non-empty document.
        bad_from = np.maximum(starts, ends - (n - 1))
        bad_cnt = ends - bad_from
        m = int(bad_cnt.sum())
        valid = np.ones(n_windows, dtype=bool)
        if m:
            bad = np.repeat(bad_from - (np.cumsum(bad_cnt) - bad_cnt), bad_cnt) + np.arange(m, dtype=np.int64)
            valid[bad[bad < n_windows]] = False
        if short.size == 0:
            np.compress(valid, windows, out=out)
        else:
            out[np.repeat(lens >= n, counts)] = windows[valid]
    if short.size:
        slot = np.cumsum(counts) - counts
        for d in short.tolist():
            _ngram_into(t[starts[d] : ends[d]], int(lens[d]), out[slot[d] : slot[d] + 1])
    return out, counts.astype(np.int64, copy=False)


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
