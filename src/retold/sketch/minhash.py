"""MinHash signatures of shingle-hash sets, computed in vectorised, memory-bounded chunks.

Permutation ``i`` is the multiply-add hash ``h_i(x) = (a_i * mix64(x) + b_i) mod 2**64`` with odd ``a_i``: a
bijection on 64-bit values whose ordering is decided by the high bits, i.e. the multiply-shift universal
family. ``mix64`` (the fmix64 finaliser) is applied once per shingle, not per permutation, so it costs almost
nothing; it protects against structured inputs (e.g. consecutive integers), on which a bare linear family
gives visibly biased estimates. The per-slot work is then two array ops. The tests check the estimate's bias
and spread against the binomial bound. A signature slot is the minimum of ``h_i`` over the document's
shingles.

With numba available the signatures come from the compiled kernel `retold.sketch._kernels.minhash_flat` (one pass
per document, the 128 slots in vector registers); the chunked numpy code below is the reference and the fallback,
and both give the same values.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from retold.errors import ConfigError, IndexMismatchError
from retold.sketch import hashing as _hashing
from retold.sketch.hashing import mix64

__all__ = ["EMPTY", "MinHashParams", "signature", "signatures", "signatures_flat", "estimate_jaccard", "is_empty"]

U64 = np.uint64
EMPTY: int = 2**64 - 1
"""Value of every slot of an empty document's signature (the identity of ``min`` on ``uint64``)."""

# Elements of the (perms x shingles) scratch block: 2**20 uint64 = 8 MiB bounds memory for any batch size.
# Measured fastest among 2**16..2**22 (large enough to amortise per-call overhead and get huge-page backing,
# small enough to stay near cache); results do not depend on it.
_CHUNK_ELEMS = 1 << 20
_SCRATCH = threading.local()


@dataclass(frozen=True, slots=True)
class MinHashParams:
    """The permutation family: `num_perm` multiply-add hashes drawn once from ``default_rng(seed)``.

    The coefficient arrays `a` (odd) and `b` are derived, read-only, and excluded from ``==``/``hash``/``repr``
    (two params with the same `num_perm` and `seed` have identical coefficients).

    Example:
        >>> p = MinHashParams(num_perm=64, seed=7)
        >>> p.a.shape, bool(np.all(p.a & np.uint64(1)))
        ((64,), True)
    """

    num_perm: int = 128
    seed: int = 1
    a: NDArray[np.uint64] = field(init=False, repr=False, compare=False, hash=False)
    b: NDArray[np.uint64] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.num_perm < 1:
            raise ConfigError(f"num_perm must be >= 1, got {self.num_perm}")
        rng = np.random.default_rng(self.seed)
        # Draw order (a then b) is part of the on-disk format: stored signatures depend on it.
        a = rng.integers(0, 2**64, size=self.num_perm, dtype=U64) | U64(1)
        b = rng.integers(0, 2**64, size=self.num_perm, dtype=U64)
        a.setflags(write=False)
        b.setflags(write=False)
        # Frozen dataclass: derived fields are set once here, bypassing the frozen __setattr__.
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)


def _as_shingles(s: NDArray[np.uint64]) -> NDArray[np.uint64]:
    arr = np.asarray(s, dtype=U64)
    if arr.ndim != 1:
        raise ValueError(f"shingle arrays must be 1-D, got shape {arr.shape}")
    return arr


def signatures(batch: Sequence[NDArray[np.uint64]], params: MinHashParams) -> NDArray[np.uint64]:
    """MinHash signatures of many documents at once.

    All shingles are concatenated and permuted in fixed-size chunks (bounded memory); each chunk is reduced
    per document with ``np.minimum.reduceat`` and folded into the result, so a document may span chunks.
    Empty documents keep the `EMPTY` value (``2**64 - 1``) in every slot.

    Args:
        batch: One ``uint64`` shingle-hash array per document (duplicates allowed; they do not matter).
        params: The permutation family.

    Returns:
        ``uint64`` array of shape ``(len(batch), params.num_perm)``.

    Example:
        >>> p = MinHashParams(num_perm=16)
        >>> sigs = signatures([np.array([1, 2], dtype=np.uint64), np.array([], dtype=np.uint64)], p)
        >>> sigs.shape, bool(np.all(sigs[1] == EMPTY))
        ((2, 16), True)
    """
    arrays = [_as_shingles(s) for s in batch]
    n_docs = len(arrays)
    if n_docs == 0:
        return np.full((0, params.num_perm), EMPTY, dtype=U64)
    lengths = np.fromiter((x.shape[0] for x in arrays), dtype=np.int64, count=n_docs)
    return _signatures_flat(np.concatenate(arrays), lengths, params)


def signatures_flat(
    shingles: NDArray[np.uint64], lengths: NDArray[np.integer] | Sequence[int], params: MinHashParams
) -> NDArray[np.uint64]:
    """`signatures` of documents given as one concatenated shingle array and per-document lengths.

    Same values as ``signatures(np.split(shingles, np.cumsum(lengths)[:-1]), params)`` without building one
    array per document (pairs with `retold.sketch.hashing.ngram_hashes_batch`).

    Args:
        shingles: ``uint64`` shingle hashes of all documents, laid end to end.
        lengths: Shingles per document (>= 0, summing to ``shingles.size``).
        params: The permutation family.

    Returns:
        ``uint64`` array of shape ``(len(lengths), params.num_perm)``.

    Example:
        >>> p = MinHashParams(num_perm=16)
        >>> x = np.arange(7, dtype=np.uint64)
        >>> bool(np.array_equal(signatures_flat(x, [3, 0, 4], p), signatures([x[:3], x[:0], x[3:]], p)))
        True
    """
    flat = _as_shingles(shingles)
    lens = np.asarray(lengths, dtype=np.int64)
    if lens.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {lens.shape}")
    if lens.size and int(lens.min()) < 0:
        raise ValueError("lengths must be >= 0")
    if int(lens.sum()) != flat.shape[0]:
        raise ValueError(f"lengths sum to {int(lens.sum())}, but there are {flat.shape[0]} shingles")
    return _signatures_flat(flat, lens, params)


def _signatures_flat(flat: NDArray[np.uint64], lengths: NDArray[np.int64], params: MinHashParams) -> NDArray[np.uint64]:
    kernels = _hashing._load_kernels()
    if kernels is None:
        return _signatures_flat_numpy(flat, lengths, params)
    out = np.empty((lengths.shape[0], params.num_perm), dtype=U64)
    kernels.minhash_flat(np.ascontiguousarray(flat), np.ascontiguousarray(lengths), params.a, params.b, out)
    return out


def _signatures_flat_numpy(
    flat: NDArray[np.uint64], lengths: NDArray[np.int64], params: MinHashParams
) -> NDArray[np.uint64]:
    """The reference: shingles permuted in (perms x shingles) blocks, reduced per document with ``reduceat``."""
    n_docs = lengths.shape[0]
    perms = params.num_perm
    out = np.full((n_docs, perms), EMPTY, dtype=U64)
    total = flat.shape[0]
    if n_docs == 0 or total == 0:
        return out
    flat = mix64(flat)
    # Document of each shingle; empty documents contribute no entries, so reduceat never sees empty segments.
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    # Permutations on rows, shingles on columns: reduceat along the contiguous axis is markedly faster.
    a = params.a[:, None]
    b = params.b[:, None]
    step = max(1, _CHUNK_ELEMS // perms)
    buf = _scratch(perms * min(step, total)).reshape(perms, min(step, total))
    with np.errstate(over="ignore"):
        for start in range(0, total, step):
            stop = min(start + step, total)
            block = buf[:, : stop - start]
            np.multiply(a, flat[None, start:stop], out=block)
            np.add(block, b, out=block)
            docs = doc_of[start:stop]
            seg = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
            mins = np.minimum.reduceat(block, seg, axis=1)
            seg_docs = docs[seg]  # distinct within a chunk, so the fancy-index update below is safe
            out[seg_docs] = np.minimum(out[seg_docs], mins.T)
    return out


def _scratch(size: int) -> NDArray[np.uint64]:
    """A per-thread scratch block of at least `size` elements, kept between calls.

    A fresh multi-MiB block per call costs page faults and zeroing on first touch (~8 % of a 512-document batch);
    one block per thread is reused instead. Contents are garbage; callers overwrite what they use.
    """
    buf: NDArray[np.uint64] | None = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.shape[0] < size:
        buf = np.empty(max(size, _CHUNK_ELEMS), dtype=U64)
        _SCRATCH.buf = buf
    return buf[:size]


def signature(shingles: NDArray[np.uint64], params: MinHashParams) -> NDArray[np.uint64]:
    """MinHash signature of one document's shingle hashes.

    Args:
        shingles: ``uint64`` shingle hashes (e.g. from `retold.sketch.hashing.ngram_hashes`).
        params: The permutation family.

    Returns:
        ``uint64`` array of shape ``(params.num_perm,)``; all `EMPTY` (``2**64 - 1``) for an empty input.

    Example:
        >>> p = MinHashParams(num_perm=8)
        >>> x = np.array([5, 9, 11], dtype=np.uint64)
        >>> bool(np.array_equal(signature(x, p), signature(x[::-1], p)))
        True
    """
    result: NDArray[np.uint64] = signatures([shingles], params)[0]
    return result


def is_empty(sigs: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which signatures belong to empty documents (every slot `EMPTY`).

    Args:
        sigs: One signature ``(P,)`` or a batch ``(n, P)``.

    Returns:
        Boolean array of shape ``sigs.shape[:-1]`` (0-d for one signature).
    """
    arr = np.asarray(sigs, dtype=U64)
    result: NDArray[np.bool_] = np.asarray(np.all(arr == U64(EMPTY), axis=-1))
    return result


def estimate_jaccard(sig_a: NDArray[np.uint64], sig_b: NDArray[np.uint64]) -> float:
    """Estimate the Jaccard similarity of two shingle sets as the fraction of equal signature slots.

    Two empty-document signatures are all `EMPTY` and would match everywhere; an empty set is treated as
    similar to nothing, so 0.0 is returned if either signature is empty.

    Args:
        sig_a: Signature of shape ``(P,)``.
        sig_b: Signature of the same shape, built with the same `MinHashParams`.

    Returns:
        Estimate in ``[0, 1]``.

    Raises:
        IndexMismatchError: If the signature lengths (``num_perm``) differ.

    Example:
        >>> p = MinHashParams(num_perm=32)
        >>> x = np.arange(10, dtype=np.uint64)
        >>> estimate_jaccard(signature(x, p), signature(x, p))
        1.0
    """
    a = np.asarray(sig_a, dtype=U64)
    b = np.asarray(sig_b, dtype=U64)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"signatures must be 1-D, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise IndexMismatchError(f"num_perm differs: signature lengths {a.shape[0]} vs {b.shape[0]}")
    if a.size == 0 or bool(is_empty(a)) or bool(is_empty(b)):
        return 0.0
    return float(np.count_nonzero(a == b)) / a.size
