"""Tests for retold.sketch.lsh: band keys, S-curve, parameter choice, bucketing, incremental index."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray

from retold.errors import ConfigError, IndexMismatchError
from retold.sketch.lsh import LSHIndex, band_keys, bucket_pairs, collision_probability, optimal_params
from retold.sketch.minhash import EMPTY, MinHashParams, signature


def _random_sigs(n: int, width: int, seed: int = 0) -> NDArray[np.uint64]:
    return np.random.default_rng(seed).integers(0, 2**64, size=(n, width), dtype=np.uint64)


def _brute_pairs(keys: NDArray[np.uint64]) -> set[tuple[int, int]]:
    return {(i, j) for i, j in itertools.combinations(range(keys.shape[0]), 2) if np.any(keys[i] == keys[j])}


def test_band_keys_shape_and_band_salting() -> None:
    sigs = _random_sigs(5, 12)
    keys = band_keys(sigs, 4, 3)
    assert keys.shape == (5, 4) and keys.dtype == np.uint64
    same = np.zeros((1, 12), dtype=np.uint64)  # every band holds the same values
    k = band_keys(same, 4, 3)
    assert np.unique(k).size == 4  # ... but each band gets its own key


def test_band_keys_depend_only_on_band_values() -> None:
    sigs = _random_sigs(2, 8, seed=1)
    sigs[1, :2] = sigs[0, :2]  # band 0 equal
    sigs[1, 6:] = sigs[0, 6:]  # band 3 equal
    k = band_keys(sigs, 4, 2)
    assert (k[0] == k[1]).tolist() == [True, False, False, True]


def test_band_keys_row_order_matters() -> None:
    sigs = np.array([[1, 2], [2, 1]], dtype=np.uint64)
    k = band_keys(sigs, 1, 2)
    assert k[0, 0] != k[1, 0]


def test_band_keys_mismatch() -> None:
    with pytest.raises(IndexMismatchError, match="128"):
        band_keys(_random_sigs(2, 128), 20, 5)
    with pytest.raises(ValueError):
        band_keys(np.zeros(8, dtype=np.uint64), 4, 2)


def test_collision_probability_monotone_and_endpoints() -> None:
    s = np.linspace(0, 1, 101)
    p = [collision_probability(float(x), 32, 4) for x in s]
    assert p[0] == 0.0 and p[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(p))
    assert collision_probability(0.5, 32, 4) == pytest.approx(1 - (1 - 0.5**4) ** 32)
    # More rows: stricter; more bands: looser.
    assert collision_probability(0.5, 32, 5) < collision_probability(0.5, 32, 4)
    assert collision_probability(0.5, 33, 4) > collision_probability(0.5, 32, 4)


def test_optimal_params_sensible() -> None:
    b, r = optimal_params(0.8, 128)
    assert b * r <= 128
    assert (b, r) == (9, 13)  # same choice as datasketch's _optimal_param
    # The S-curve's midpoint (1/b)^(1/r) sits near the threshold.
    assert abs((1 / b) ** (1 / r) - 0.8) < 0.1
    be, re_ = optimal_params(0.8, 128, exact=True)
    assert be * re_ == 128
    lo, hi = optimal_params(0.3, 128), optimal_params(0.9, 128)
    assert lo[1] < r < hi[1]  # higher threshold -> more rows per band


def test_optimal_params_weights_shift_choice() -> None:
    b_fp, r_fp = optimal_params(0.5, 128, fp_weight=0.9, fn_weight=0.1)
    b_fn, r_fn = optimal_params(0.5, 128, fp_weight=0.1, fn_weight=0.9)
    # Penalising false negatives lowers the collision threshold.
    assert (1 / b_fn) ** (1 / r_fn) < (1 / b_fp) ** (1 / r_fp)


def test_optimal_params_validation() -> None:
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError):
            optimal_params(bad, 128)
    with pytest.raises(ConfigError):
        optimal_params(0.5, 0)
    with pytest.raises(ConfigError):
        optimal_params(0.5, 128, fp_weight=0.0, fn_weight=0.0)
    assert optimal_params(0.5, 1) == (1, 1)


def test_bucket_pairs_finds_planted_duplicates() -> None:
    sigs = _random_sigs(1000, 128, seed=3)
    planted = {(5, 700), (10, 11), (42, 999), (300, 301)}
    for i, j in planted:
        sigs[j] = sigs[i]
    sigs[301, 4:] = _random_sigs(1, 124, seed=4)  # shares only band 0 with 300
    pairs = bucket_pairs(band_keys(sigs, 32, 4))
    assert pairs.dtype == np.int64 and pairs.shape[1] == 2
    assert {tuple(p) for p in pairs.tolist()} == planted


def test_bucket_pairs_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 6, size=(60, 3), dtype=np.uint64)  # many small buckets, overlapping across bands
    pairs = bucket_pairs(keys, max_bucket=1000)
    assert {tuple(p) for p in pairs.tolist()} == _brute_pairs(keys)
    # Output contract: i < j, unique, sorted.
    assert np.all(pairs[:, 0] < pairs[:, 1])
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)
    assert pairs.tolist() == sorted(pairs.tolist())


def test_bucket_pairs_large_bucket_is_a_star() -> None:
    n = 5000
    keys = np.zeros((n, 2), dtype=np.uint64)
    keys[:, 1] = np.arange(n, dtype=np.uint64) + 10  # band 1: all distinct
    keys[17, 1] = keys[3, 1]  # one ordinary pair in band 1
    pairs = bucket_pairs(keys, max_bucket=200)
    # Band 0 is one bucket of n: star around doc 0 -> n - 1 pairs, plus (3, 17).
    assert len(pairs) == n
    assert np.all(pairs[pairs[:, 0] != 3][:, 0] == 0)
    assert [3, 17] in pairs.tolist()


def test_bucket_pairs_bucket_at_limit_is_complete() -> None:
    keys = np.zeros((20, 1), dtype=np.uint64)
    assert len(bucket_pairs(keys, max_bucket=20)) == 20 * 19 // 2
    assert len(bucket_pairs(keys, max_bucket=19)) == 19


def test_bucket_pairs_edge_cases() -> None:
    assert bucket_pairs(np.empty((0, 4), dtype=np.uint64)).shape == (0, 2)
    assert bucket_pairs(np.zeros((1, 4), dtype=np.uint64)).shape == (0, 2)
    assert bucket_pairs(_random_sigs(100, 8)).shape == (0, 2)
    with pytest.raises(ValueError):
        bucket_pairs(np.zeros((3, 2), dtype=np.uint64), max_bucket=0)


def test_lsh_index_insert_query() -> None:
    p = MinHashParams(128)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**64, size=400, dtype=np.uint64)
    near = base.copy()
    near[:20] = rng.integers(0, 2**64, size=20, dtype=np.uint64)
    other = rng.integers(0, 2**64, size=400, dtype=np.uint64)
    idx = LSHIndex(bands=32, rows=4)
    assert len(idx) == 0 and idx.num_perm == 128
    idx.insert("base", signature(base, p))
    idx.insert("other", signature(other, p))
    idx.insert("near", signature(near, p))
    idx.insert("empty", signature(np.empty(0, dtype=np.uint64), p))
    assert len(idx) == 4 and "near" in idx and "nope" not in idx
    assert idx.query(signature(base, p)) == ["base", "near"]
    assert idx.query(signature(other, p)) == ["other"]
    assert idx.query(np.full(128, EMPTY, dtype=np.uint64)) == []
    assert idx.query(signature(rng.integers(0, 2**64, size=400, dtype=np.uint64), p)) == []


def test_lsh_index_agrees_with_bucket_pairs() -> None:
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 4, size=(40, 8), dtype=np.uint64)  # small alphabet: many collisions
    idx = LSHIndex(bands=4, rows=2)
    for i, s in enumerate(sigs):
        idx.insert(str(i), s)
    expected = {tuple(p) for p in bucket_pairs(band_keys(sigs, 4, 2), max_bucket=10**6).tolist()}
    got = {(i, int(k)) for i in range(40) for k in idx.query(sigs[i]) if int(k) > i}
    assert got == expected


def test_lsh_index_errors() -> None:
    with pytest.raises(ConfigError):
        LSHIndex(0, 4)
    idx = LSHIndex(4, 2)
    idx.insert("a", np.arange(8, dtype=np.uint64))
    with pytest.raises(ValueError, match="already"):
        idx.insert("a", np.arange(8, dtype=np.uint64))
    with pytest.raises(IndexMismatchError):
        idx.insert("b", np.arange(16, dtype=np.uint64))
    with pytest.raises(IndexMismatchError):
        idx.query(np.arange(6, dtype=np.uint64))
    assert len(idx) == 1
