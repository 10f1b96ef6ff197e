"""The vectorised / batched sketch paths (numba kernels and numpy) give exactly the values of the one-at-a-time
definitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xxhash
from numpy.typing import NDArray

import retold.sketch.hashing as hashing
from retold.sketch.hashing import combine_columns, hash_token_lists, hash_tokens, ngram_hashes, ngram_hashes_batch
from retold.sketch.lsh import band_keys, bucket_pairs
from retold.sketch.minhash import MinHashParams, signatures, signatures_flat


@pytest.fixture(autouse=True, params=["kernels", "numpy"])
def _path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on the numba kernels and on the numpy reference implementation."""
    if request.param == "numpy":
        monkeypatch.setattr(hashing, "_load_kernels", lambda: None)
    elif hashing._load_kernels() is None:
        pytest.skip("numba kernels disabled (RETOLD_NO_NUMBA) or numba missing")
    return str(request.param)


_ALPHABET = list("abcdefghijklmnopqrstuvwxyz0123456789.,'-") + ["ä", "ß", "é", "日", "本", "😀"]


def _xxh(tokens: list[str], seed: int = 0) -> NDArray[np.uint64]:
    return np.array([xxhash.xxh64_intdigest(t.encode("utf-8"), seed) for t in tokens], dtype=np.uint64)


def _random_tokens(rng: np.random.Generator, n: int) -> list[str]:
    # Lengths 0..70 characters, so every byte-length group (and the >= 32-byte fallback) is exercised.
    lengths = np.minimum(rng.geometric(0.15, size=n) - 1, 70)
    picks = rng.integers(len(_ALPHABET), size=int(lengths.sum()))
    out, k = [], 0
    for length in lengths.tolist():
        out.append("".join(_ALPHABET[i] for i in picks[k : k + length].tolist()))
        k += length
    return out


@pytest.mark.parametrize("seed", [0, 1, 7, 2**63 + 5, 2**64 - 1])
def test_vectorised_hash_tokens_matches_xxhash(seed: int) -> None:
    rng = np.random.default_rng(seed % 1000)
    tokens = _random_tokens(rng, 6000)
    assert len(tokens) >= hashing._VECTOR_MIN_TOKENS
    got = hash_tokens(tokens, seed)
    assert got.dtype == np.uint64 and got.shape == (len(tokens),)
    assert np.array_equal(got, _xxh(tokens, seed))


def test_vectorised_hash_tokens_all_short_lengths() -> None:
    # Every byte length 0..40 in one call, including repeats of the same token.
    tokens = ["x" * k for k in range(41)] * 120 + ["ä" * k for k in range(20)] * 10
    assert np.array_equal(hash_tokens(tokens), _xxh(tokens))


def test_vectorised_hash_tokens_fallbacks_and_errors() -> None:
    many = ["word"] * hashing._VECTOR_MIN_TOKENS
    with_nul = ["a\0b", *many, "\0"]
    assert np.array_equal(hash_tokens(with_nul), _xxh(with_nul))
    with pytest.raises(AttributeError):
        hash_tokens([*many, b"bytes"])  # type: ignore[list-item]
    with pytest.raises(UnicodeEncodeError):
        hash_tokens([*many, "\ud800"])


def test_hash_token_lists_matches_concatenation() -> None:
    rng = np.random.default_rng(3)
    sizes = [0, 3, 0, 2500, 1, 0, 4000, 17]
    docs = [_random_tokens(rng, k) for k in sizes]
    docs.append(["", "", "a"])  # empty tokens are tokens
    h, lengths = hash_token_lists(docs, seed=11)
    assert lengths.tolist() == [len(d) for d in docs]
    assert np.array_equal(h, np.concatenate([_xxh(d, 11) for d in docs]))
    small, small_len = hash_token_lists([["a", "b"], [], ["c"]])
    assert small_len.tolist() == [2, 0, 1] and np.array_equal(small, _xxh(["a", "b", "c"]))
    empty, empty_len = hash_token_lists([[], []])
    assert empty.shape == (0,) and empty.dtype == np.uint64 and empty_len.tolist() == [0, 0]
    nul_docs = [["x\0y"] * 3000, ["z"] * 3000]
    assert np.array_equal(hash_token_lists(nul_docs)[0], np.concatenate([_xxh(d) for d in nul_docs]))


def _reference_ngrams(t: NDArray[np.uint64], n: int) -> NDArray[np.uint64]:
    if t.size == 0:
        return np.empty(0, dtype=np.uint64)
    w = min(n, t.size)
    m = t.size - w + 1
    return combine_columns([t[k : k + m] for k in range(w)], salt=w)


def test_ngram_hashes_matches_definition_across_chunks() -> None:
    rng = np.random.default_rng(5)
    t = rng.integers(0, 2**64, size=hashing._NGRAM_CHUNK * 2 + 77, dtype=np.uint64)
    for n in (1, 2, 5, 9):
        assert np.array_equal(ngram_hashes(t, n), _reference_ngrams(t, n))


def test_ngram_hashes_batch_matches_per_document() -> None:
    rng = np.random.default_rng(6)
    for trial in range(150):
        n = int(rng.integers(1, 7))
        k = int(rng.integers(0, 12))
        high = n + 1 if trial % 3 == 0 else 15  # some batches of short documents only
        lengths = rng.integers(0, high, size=k)
        t = rng.integers(0, 2**64, size=int(lengths.sum()), dtype=np.uint64)
        shingles, counts = ngram_hashes_batch(t, lengths, n)
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        per_doc = [ngram_hashes(t[offsets[i] : offsets[i + 1]], n) for i in range(k)]
        assert counts.dtype == np.int64 and counts.tolist() == [x.size for x in per_doc]
        expected = np.concatenate(per_doc) if per_doc else np.empty(0, dtype=np.uint64)
        assert shingles.dtype == np.uint64 and np.array_equal(shingles, expected)


def test_ngram_hashes_batch_validation() -> None:
    t = np.arange(5, dtype=np.uint64)
    with pytest.raises(ValueError):
        ngram_hashes_batch(t, [2, 2], 2)  # lengths do not cover the tokens
    with pytest.raises(ValueError):
        ngram_hashes_batch(t, [6, -1], 2)
    with pytest.raises(ValueError):
        ngram_hashes_batch(t, [5], 0)


def test_signatures_flat_matches_signatures() -> None:
    p = MinHashParams(32, 4)
    rng = np.random.default_rng(8)
    sizes = [0, 5, 0, 900, 1, 3000, 0]
    batch = [rng.integers(0, 2**64, size=k, dtype=np.uint64) for k in sizes]
    flat = np.concatenate(batch)
    assert np.array_equal(signatures_flat(flat, sizes, p), signatures(batch, p))
    assert signatures_flat(np.empty(0, dtype=np.uint64), [], p).shape == (0, 32)
    with pytest.raises(ValueError):
        signatures_flat(flat, [1, 2], p)


def test_band_keys_match_combine_columns() -> None:
    rng = np.random.default_rng(9)
    for bands, rows in ((64, 2), (8, 16), (3, 1), (1, 5)):
        sigs = rng.integers(0, 2**64, size=(70_000 if bands == 64 else 300, bands * rows), dtype=np.uint64)
        view = sigs.reshape(sigs.shape[0], bands, rows)
        salt = (np.arange(bands, dtype=np.uint64) + np.uint64(0x6C73685F62616E64))[None, :]
        expected = combine_columns([view[:, :, r] for r in range(rows)], salt=salt)
        assert np.array_equal(band_keys(sigs, bands, rows), expected)


def _reference_bucket_pairs(keys: NDArray[np.uint64], max_bucket: int) -> list[list[int]]:
    pairs: set[tuple[int, int]] = set()
    for band in range(keys.shape[1]):
        buckets: dict[int, list[int]] = {}
        for doc, key in enumerate(keys[:, band].tolist()):
            buckets.setdefault(key, []).append(doc)
        for members in buckets.values():
            if len(members) <= max_bucket:
                pairs.update(itertools.combinations(members, 2))
            else:
                pairs.update((members[0], m) for m in members[1:])
    return sorted([list(p) for p in pairs])


def test_bucket_pairs_matches_reference_with_stars() -> None:
    rng = np.random.default_rng(10)
    for trial in range(60):
        n = int(rng.integers(0, 200))
        bands = int(rng.integers(1, 5))
        alphabet = [2, 7, 60, 2**63][trial % 4]
        keys = rng.integers(0, alphabet, size=(n, bands), dtype=np.uint64)
        max_bucket = [1, 3, 10, 200][trial % 4]
        assert bucket_pairs(keys, max_bucket).tolist() == _reference_bucket_pairs(keys, max_bucket)


def test_bucket_pairs_large_hashed_keys_with_planted_repeats() -> None:
    # Hashed keys, enough documents for several counting rounds; repeats planted across bands.
    rng = np.random.default_rng(12)
    n, bands = 30_000, 4
    keys = rng.integers(0, 2**64, size=(n, bands), dtype=np.uint64)
    planted = {(3, 29_999): 0, (100, 200): 1, (100, 300): 1, (7, 8): 3}
    for (i, j), band in planted.items():
        keys[j, band] = keys[i, band]
    keys[5, 2] = keys[6, 1]  # equal keys in different bands never pair
    assert bucket_pairs(keys).tolist() == [[3, 29_999], [7, 8], [100, 200], [100, 300], [200, 300]]
