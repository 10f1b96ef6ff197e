"""Tests for retold.sketch.hashing: pinned hash values, n-gram construction, edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from retold.sketch.hashing import combine_columns, hash_tokens, mix64, ngram_hashes, text_fingerprint

TOKENS = ["the", "quick", "brown", "fox", "jumps", "über"]


def test_hash_tokens_matches_published_xxh64_vectors() -> None:
    # Reference values from the xxHash specification's test vectors (seed 0).
    got = hash_tokens(["", "a", "abc"])
    assert got.dtype == np.uint64
    assert [int(x) for x in got] == [0xEF46DB3751D8E999, 0xD24EC4F1A98C6E5B, 0x44BC2CF5AD770999]


def test_hash_tokens_golden_values() -> None:
    got = [int(x) for x in hash_tokens(TOKENS)]
    assert got == [
        0x4B1B03A21F8B5F26,
        0x5D33F7629A5184A6,
        0x70212F2E5296AD88,
        0xBCE6C02D5136F238,
        0x295B9101E3D6609B,
        0x07D7EB0E26B173DD,
    ]
    assert int(hash_tokens(["the"], seed=7)[0]) == 0xCBACA720452A001C


def test_hash_tokens_empty() -> None:
    out = hash_tokens([])
    assert out.shape == (0,) and out.dtype == np.uint64


def test_ngram_hashes_golden_values() -> None:
    got = [int(x) for x in ngram_hashes(hash_tokens(TOKENS), 3)]
    assert got == [0x0F36CD59B8679130, 0x21BC9EA9BBAD2E01, 0x94A6B99FE33B12DF, 0xFCC7F2C6F56FED83]


def test_ngram_hashes_shapes() -> None:
    t = hash_tokens(TOKENS)
    for n in range(1, 7):
        out = ngram_hashes(t, n)
        assert out.dtype == np.uint64
        assert out.shape == (len(TOKENS) - n + 1,)


def test_ngram_hashes_order_sensitive() -> None:
    a, b = hash_tokens(["alpha", "beta"])
    ab = ngram_hashes(np.array([a, b], dtype=np.uint64), 2)
    ba = ngram_hashes(np.array([b, a], dtype=np.uint64), 2)
    assert ab.shape == ba.shape == (1,)
    assert ab[0] != ba[0]
    # Repeated tokens in different positions must not cancel out (as a plain xor would).
    aab = ngram_hashes(np.array([a, a, b], dtype=np.uint64), 3)
    aba = ngram_hashes(np.array([a, b, a], dtype=np.uint64), 3)
    assert aab[0] != aba[0]


def test_ngram_hashes_shift_invariant_per_window() -> None:
    # The hash of a window depends only on its tokens, not on where it occurs.
    t = hash_tokens(TOKENS)
    assert np.array_equal(ngram_hashes(t, 3)[1:], ngram_hashes(t[1:], 3))


def test_ngram_hashes_width_is_salted() -> None:
    t = hash_tokens(TOKENS)
    one = ngram_hashes(t, 1)
    assert not np.any(one == t)  # 1-grams are re-mixed, not the raw token hashes
    assert ngram_hashes(t[:2], 2)[0] != ngram_hashes(t[:3], 3)[0]


def test_ngram_hashes_short_sequence_gives_one_hash() -> None:
    t = hash_tokens(TOKENS[:2])
    short = ngram_hashes(t, 5)
    assert short.shape == (1,)
    # Documented: the whole short sequence hashed as a len-gram.
    assert short[0] == ngram_hashes(t, 2)[0]
    assert ngram_hashes(hash_tokens(["x"]), 5).shape == (1,)


def test_ngram_hashes_empty_and_invalid() -> None:
    empty = ngram_hashes(np.empty(0, dtype=np.uint64), 5)
    assert empty.shape == (0,) and empty.dtype == np.uint64
    with pytest.raises(ValueError):
        ngram_hashes(hash_tokens(TOKENS), 0)
    with pytest.raises(ValueError):
        ngram_hashes(np.zeros((2, 2), dtype=np.uint64), 1)


def test_no_overflow_warnings_with_extreme_values() -> None:
    extreme = np.array([2**64 - 1, 2**63, 1, 0, 2**64 - 1, 2**62 + 12345], dtype=np.uint64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            out = ngram_hashes(extreme, 3)
            mix64(extreme)
            combine_columns([extreme], salt=2**64 - 1)
            text_fingerprint(extreme)
    assert out.shape == (4,)


def test_ngram_hashes_distinct_on_random_input() -> None:
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2**64, size=50_000, dtype=np.uint64)
    out = ngram_hashes(t, 5)
    assert np.unique(out).size == out.size


def test_mix64_is_bijective_on_sample() -> None:
    x = np.arange(100_000, dtype=np.uint64)
    assert np.unique(mix64(x)).size == x.size


def test_text_fingerprint() -> None:
    t = hash_tokens(TOKENS)
    assert text_fingerprint(t) == 0x968E24DBE42C2B5D
    assert text_fingerprint(np.empty(0, dtype=np.uint64)) == 0xEF46DB3751D8E999
    assert text_fingerprint(t) == text_fingerprint(t.copy())
    assert text_fingerprint(t) != text_fingerprint(t[::-1])
    assert text_fingerprint(t) != text_fingerprint(t[:-1])
    assert isinstance(text_fingerprint(t), int)
