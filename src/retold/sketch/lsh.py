"""Locality-sensitive hashing over MinHash signatures: band keys, banding parameters and bucket pairs.

A signature of ``bands * rows`` slots is cut into `bands` bands of `rows` slots; two documents become a
candidate pair when all slots of at least one band agree, which happens with probability
``1 - (1 - s**rows)**bands`` for Jaccard ``s`` (the LSH S-curve). Each band is reduced to one 64-bit key so
bucketing is a sort of ``uint64`` keys. `bucket_pairs` serves batch runs; `LSHIndex` is the incremental form
for a persistent index.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from retold.errors import ConfigError, IndexMismatchError
from retold.sketch.hashing import _GOLDEN, _ROT, _mix64_inplace, _rotl_inplace, mix64
from retold.sketch.minhash import is_empty

__all__ = ["band_keys", "collision_probability", "optimal_params", "bucket_pairs", "LSHIndex"]

U64 = np.uint64
# Salt base for band keys, so band keys never share a salt with n-gram shingles (salted by width 1..n).
_BAND_SALT = 0x6C73685F62616E64  # b"lsh_band"
_SIMPSON_INTERVALS = 256
# Band keys per block of `band_keys` (documents x bands), so the fold's working arrays stay in L2.
_BAND_BLOCK = 1 << 15
# Cap on the counting table of `_repeated` (2**21 int64 counts = 16 MiB, and 21-bit slices of the keys); past
# ~500k documents per call more keys survive a round, which costs time, not correctness.
_COUNT_BITS_MAX = 21


def _check_banding(bands: int, rows: int) -> None:
    if bands < 1 or rows < 1:
        raise ConfigError(f"bands and rows must be >= 1, got bands={bands}, rows={rows}")


def band_keys(sigs: NDArray[np.uint64], bands: int, rows: int) -> NDArray[np.uint64]:
    """One 64-bit key per band per document.

    Band ``j`` of a signature is hashed with `retold.sketch.hashing.combine_columns` over its `rows` values,
    salted with ``j`` so equal values in different bands give different keys.

    Args:
        sigs: Signatures, shape ``(n_docs, bands * rows)``.
        bands: Number of bands.
        rows: Slots per band.

    Returns:
        ``uint64`` keys of shape ``(n_docs, bands)``.

    Raises:
        IndexMismatchError: If ``bands * rows`` differs from the signature width.

    Example:
        >>> sigs = np.zeros((3, 8), dtype=np.uint64)
        >>> k = band_keys(sigs, 4, 2)
        >>> k.shape, len(set(k[0].tolist())), bool(np.all(k[0] == k[1]))
        ((3, 4), 4, True)
    """
    _check_banding(bands, rows)
    arr = np.asarray(sigs, dtype=U64)
    if arr.ndim != 2:
        raise ValueError(f"sigs must be 2-D (n_docs, num_perm), got shape {arr.shape}")
    if bands * rows != arr.shape[1]:
        raise IndexMismatchError(
            f"num_perm differs: bands x rows = {bands} x {rows} = {bands * rows}, signature width {arr.shape[1]}"
        )
    view = arr.reshape(arr.shape[0], bands, rows)
    # combine_columns([view[:, :, r] for r in range(rows)], salt=band + _BAND_SALT), folded in place over blocks
    # of documents; the salt's part of the first step, rotl(mix64(salt), 27), is one constant per band.
    salt = np.arange(bands, dtype=U64) + U64(_BAND_SALT)
    first = mix64(salt)
    _rotl_inplace(first, _ROT, np.empty_like(first))
    out = np.empty((arr.shape[0], bands), dtype=U64)
    step = max(1, _BAND_BLOCK // bands)
    for s in range(0, arr.shape[0], step):
        h = out[s : s + step]
        tmp = np.empty_like(h)
        np.bitwise_xor(view[s : s + step, :, 0], first[None, :], out=h)
        np.multiply(h, _GOLDEN, out=h)
        for r in range(1, rows):
            _rotl_inplace(h, _ROT, tmp)
            np.bitwise_xor(h, view[s : s + step, :, r], out=h)
            np.multiply(h, _GOLDEN, out=h)
        _mix64_inplace(h, tmp)
    return out


def collision_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that two documents with Jaccard `jaccard` share at least one band: ``1-(1-s^r)^b``.

    Example:
        >>> round(collision_probability(0.42, 32, 4), 2)
        0.64
    """
    _check_banding(bands, rows)
    return float(1.0 - (1.0 - float(jaccard) ** rows) ** bands)


def optimal_params(
    threshold: float,
    num_perm: int,
    fp_weight: float = 0.5,
    fn_weight: float = 0.5,
    *,
    exact: bool = False,
) -> tuple[int, int]:
    """Choose ``(bands, rows)`` minimising weighted false-positive and false-negative areas (as datasketch).

    The false-positive area is the integral of the S-curve over ``[0, threshold]``, the false-negative area the
    integral of ``1 - S`` over ``[threshold, 1]``; both are computed for every candidate pair at once with
    composite Simpson's rule (256 intervals). Like datasketch, candidates are all ``b * r <= num_perm``, so the
    result may use fewer slots than the signature has (pass ``sigs[:, :b * r]`` to `band_keys`); with
    ``exact=True`` only ``b * r == num_perm`` is considered, as `retold.config.SketchConfig` requires. Ties go
    to the smallest ``b``, then ``r``.

    Args:
        threshold: Jaccard similarity that should separate pairs (0 < threshold < 1).
        num_perm: Signature width.
        fp_weight: Weight of the false-positive area.
        fn_weight: Weight of the false-negative area.
        exact: Only consider banding that uses every slot.

    Returns:
        ``(bands, rows)``.

    Example:
        >>> optimal_params(0.8, 128), optimal_params(0.8, 128, exact=True)
        ((9, 13), (8, 16))
    """
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be in (0, 1), got {threshold}")
    if num_perm < 1:
        raise ConfigError(f"num_perm must be >= 1, got {num_perm}")
    if fp_weight < 0 or fn_weight < 0 or fp_weight + fn_weight <= 0:
        raise ConfigError(f"weights must be >= 0 and not both 0, got {fp_weight}, {fn_weight}")
    b_list: list[int] = []
    r_list: list[int] = []
    # (b, r) enumeration order fixes tie-breaking; about num_perm * ln(num_perm) pairs, cheap to list.
    for b in range(1, num_perm + 1):
        rs = [num_perm // b] if exact and num_perm % b == 0 else ([] if exact else range(1, num_perm // b + 1))
        b_list.extend([b] * len(rs))
        r_list.extend(rs)
    bs = np.asarray(b_list, dtype=np.float64)[:, None]
    rs_arr = np.asarray(r_list, dtype=np.float64)[:, None]

    m = _SIMPSON_INTERVALS
    weights = np.ones(m + 1)
    weights[1:-1:2] = 4.0
    weights[2:-1:2] = 2.0

    def area(lo: float, hi: float, false_negative: bool) -> NDArray[np.float64]:
        s = np.linspace(lo, hi, m + 1)[None, :]
        p = 1.0 - (1.0 - s**rs_arr) ** bs
        vals = 1.0 - p if false_negative else p
        result: NDArray[np.float64] = (vals @ weights) * ((hi - lo) / (3.0 * m))
        return result

    err = fp_weight * area(0.0, threshold, False) + fn_weight * area(threshold, 1.0, True)
    best = int(np.argmin(err))
    return b_list[best], r_list[best]


def bucket_pairs(keys: NDArray[np.uint64], max_bucket: int = 200) -> NDArray[np.int64]:
    """All unordered document pairs sharing a key in at least one band.

    Keys that occur only once in their band are dropped first (a linear counting pass on their low bits), the rest of
    each band is sorted (a stable argsort), and pairs are generated for all buckets at once with index arithmetic,
    without a Python loop over documents or buckets; buckets never mix bands.
    A bucket of at most `max_bucket` documents yields all its pairs. A larger bucket (boilerplate, or a
    degenerate signature) would yield quadratically many, so each of its members is paired only with the
    bucket's smallest document index (a star): output stays linear in the bucket size while the documents
    stay connected through that hub.

    Args:
        keys: Band keys from `band_keys`, shape ``(n_docs, bands)``.
        max_bucket: Largest bucket that is expanded to all pairs (>= 1).

    Returns:
        ``int64`` array of shape ``(k, 2)``: pairs ``(i, j)`` with ``i < j``, unique, sorted lexicographically.

    Example:
        >>> keys = np.array([[1, 5], [2, 5], [1, 6]], dtype=np.uint64)
        >>> bucket_pairs(keys).tolist()
        [[0, 1], [0, 2]]
    """
    if max_bucket < 1:
        raise ValueError(f"max_bucket must be >= 1, got {max_bucket}")
    arr = np.asarray(keys, dtype=U64)
    if arr.ndim != 2:
        raise ValueError(f"keys must be 2-D (n_docs, bands), got shape {arr.shape}")
    n_docs, n_bands = arr.shape
    if n_docs < 2 or n_bands == 0:
        return np.empty((0, 2), dtype=np.int64)
    # Only keys that repeat within their band can make pairs, and with hashed keys almost none do. Counting
    # passes over slices of the key bits (`_repeated`, linear) keep the documents whose key may repeat; only
    # those are sorted. Each band's survivors are in ascending document order and sorted
    # stably, so a bucket's first member is its smallest; the bands are then laid end to end (band-major).
    # (bands, n_docs): each band's keys contiguous. Transposed in blocks of rows, ~3x faster than one strided copy.
    by_band = np.empty((n_bands, n_docs), dtype=U64)
    for s in range(0, n_docs, 1024):
        by_band[:, s : s + 1024] = arr[s : s + 1024].T
    key_parts: list[NDArray[np.uint64]] = []
    doc_parts: list[NDArray[np.int64]] = []
    for col in by_band:
        cand = _repeated(col)
        if cand.size < 2:
            continue
        ck = col[cand]
        o = np.argsort(ck, kind="stable")
        key_parts.append(ck[o])
        doc_parts.append(cand[o])
    if not key_parts:
        return np.empty((0, 2), dtype=np.int64)
    sorted_keys = np.concatenate(key_parts)
    sorted_docs = np.concatenate(doc_parts).astype(np.int64, copy=False)
    size = sorted_keys.shape[0]
    # A bucket starts where the key changes or a new band begins (equal keys in different bands never mix).
    new = np.empty(size, dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    band_starts = np.cumsum([0] + [p.shape[0] for p in key_parts[:-1]])
    new[band_starts] = True
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, size))
    group = np.cumsum(new) - 1
    rank = np.arange(size, dtype=np.int64) - starts[group]
    size_of = sizes[group]

    # Small buckets: the element at rank k pairs with the size - k - 1 elements after it.
    count = np.where(size_of <= max_bucket, size_of - rank - 1, 0)
    total = int(count.sum())
    left_pos = np.repeat(np.arange(size, dtype=np.int64), count)
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    left = sorted_docs[left_pos]
    right = sorted_docs[left_pos + 1 + offset]

    # Large buckets: star around the first (smallest) member.
    star = (size_of > max_bucket) & (rank > 0)
    hub = sorted_docs[starts[group[star]]]
    spoke = sorted_docs[star]

    i = np.concatenate([left, hub])
    j = np.concatenate([right, spoke])
    lo = np.minimum(i, j)
    hi = np.maximum(i, j)
    codes = np.unique(lo * np.int64(n_docs) + hi)
    return np.stack([codes // n_docs, codes % n_docs], axis=1).astype(np.int64, copy=False)


def _repeated(col: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Ascending indices of `col` that include every key occurring at least twice (and few others).

    Up to three counting rounds, each on a different 21-bit slice of the keys: an index survives a round when its
    slice value is shared with another survivor (``bincount`` over ~4 slots per survivor). Equal keys share every
    slice, so they always survive; a unique hashed key is dropped with probability ~0.8 per round.
    """
    idx: NDArray[np.int64] | None = None
    for shift in (0, 21, 42):
        sub = col if idx is None else col[idx]
        m = sub.shape[0]
        if m < 2:
            break
        bits = min(max((m - 1).bit_length() + 2, 4), _COUNT_BITS_MAX)
        low = ((sub >> U64(shift)) & U64((1 << bits) - 1)).astype(np.intp)
        keep = np.bincount(low, minlength=1 << bits)[low] > 1
        before = m
        idx = np.flatnonzero(keep) if idx is None else idx[keep]
        if idx.shape[0] > 0.5 * before:  # mostly true repeats (or tiny input): sorting them is as cheap
            break
    if idx is None:
        return np.arange(col.shape[0], dtype=np.int64)
    return idx.astype(np.int64, copy=False)


class LSHIndex:
    """An incremental LSH index: string keys in, keys sharing at least one band out.

    One dict per band maps a band key to the document keys in that bucket. Empty-document signatures (all
    slots ``2**64 - 1``) are counted but never bucketed, so they never match anything.

    Example:
        >>> from retold.sketch.minhash import MinHashParams, signature
        >>> p = MinHashParams(num_perm=16)
        >>> idx = LSHIndex(bands=8, rows=2)
        >>> idx.insert("a", signature(np.arange(50, dtype=np.uint64), p))
        >>> idx.query(signature(np.arange(50, dtype=np.uint64), p)), len(idx)
        (['a'], 1)
    """

    def __init__(self, bands: int, rows: int) -> None:
        _check_banding(bands, rows)
        self.bands = bands
        self.rows = rows
        self._tables: list[dict[int, list[str]]] = [{} for _ in range(bands)]
        self._order: dict[str, int] = {}

    @property
    def num_perm(self) -> int:
        """Signature width this index accepts (``bands * rows``)."""
        return self.bands * self.rows

    def _band_keys(self, sig: NDArray[np.uint64]) -> list[int] | None:
        arr = np.asarray(sig, dtype=U64)
        if arr.ndim != 1:
            raise ValueError(f"signature must be 1-D, got shape {arr.shape}")
        if arr.shape[0] != self.num_perm:
            raise IndexMismatchError(
                f"num_perm differs: index expects {self.num_perm} ({self.bands} x {self.rows}), got {arr.shape[0]}"
            )
        if bool(is_empty(arr)):
            return None
        keys: list[int] = band_keys(arr[None, :], self.bands, self.rows)[0].tolist()
        return keys

    def insert(self, key: str, sig: NDArray[np.uint64]) -> None:
        """Add a document's signature under `key`.

        Raises:
            ValueError: If `key` is already in the index.
            IndexMismatchError: If the signature width is not ``bands * rows``.
        """
        if key in self._order:
            raise ValueError(f"key already in index: {key!r}")
        keys = self._band_keys(sig)
        if keys is not None:
            for table, band_key in zip(self._tables, keys, strict=True):
                table.setdefault(band_key, []).append(key)
        self._order[key] = len(self._order)

    def query(self, sig: NDArray[np.uint64]) -> list[str]:
        """Keys of indexed documents sharing at least one band with `sig`, in insertion order."""
        keys = self._band_keys(sig)
        if keys is None:
            return []
        found: set[str] = set()
        for table, band_key in zip(self._tables, keys, strict=True):
            bucket = table.get(band_key)
            if bucket:
                found.update(bucket)
        return sorted(found, key=self._order.__getitem__)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._order
