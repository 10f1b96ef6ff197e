"""Tests for retold.sketch.minhash: parameters, signatures, batch equivalence, Jaccard estimates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from retold.errors import ConfigError, IndexMismatchError
from retold.sketch.hashing import mix64
from retold.sketch.minhash import EMPTY, MinHashParams, estimate_jaccard, is_empty, signature, signatures


def _reference_signature(x: NDArray[np.uint64], p: MinHashParams) -> NDArray[np.uint64]:
    """Straightforward definition, independent of the chunked kernel."""
    if x.size == 0:
        return np.full(p.num_perm, EMPTY, dtype=np.uint64)
    with np.errstate(over="ignore"):
        ref: NDArray[np.uint64] = (mix64(x)[:, None] * p.a[None, :] + p.b[None, :]).min(axis=0)
    return ref


def _random_sets(seed: int, common: int, only_a: int, only_b: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    rng = np.random.default_rng(seed)
    total = common + only_a + only_b
    u = np.unique(rng.integers(0, 2**64, size=total + 16, dtype=np.uint64))[:total]
    rng.shuffle(u)
    a = np.concatenate([u[:common], u[common : common + only_a]])
    b = np.concatenate([u[:common], u[common + only_a :]])
    return a, b


def test_params_validation_and_coefficients() -> None:
    with pytest.raises(ConfigError):
        MinHashParams(num_perm=0)
    p = MinHashParams(num_perm=64, seed=3)
    assert p.a.shape == p.b.shape == (64,)
    assert p.a.dtype == p.b.dtype == np.uint64
    assert np.all(p.a & np.uint64(1) == 1)  # odd multipliers: each h_i is a bijection
    assert not p.a.flags.writeable and not p.b.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.num_perm = 3  # type: ignore[misc]


def test_params_eq_hash_repr_ignore_coefficients() -> None:
    p, q = MinHashParams(128, 1), MinHashParams(128, 1)
    assert p == q and hash(p) == hash(q)
    assert p != MinHashParams(128, 2)
    assert repr(p) == "MinHashParams(num_perm=128, seed=1)"


def test_params_coefficients_pinned() -> None:
    # Stored signatures depend on these; a change here (e.g. numpy's generator stream) invalidates indexes.
    p = MinHashParams()
    assert int(p.a[0]) == 0x8306BDF37922E4FF
    assert int(p.b[0]) == 0x48A78AC4685A5CCF
    assert int(p.a[-1]) == 0x3407A3490B3DBBBD


def test_same_seed_same_signature_other_seed_differs() -> None:
    x = np.random.default_rng(5).integers(0, 2**64, size=300, dtype=np.uint64)
    s1 = signature(x, MinHashParams(128, 1))
    s2 = signature(x, MinHashParams(128, 1))
    s3 = signature(x, MinHashParams(128, 2))
    assert np.array_equal(s1, s2)
    assert np.count_nonzero(s1 == s3) < 10


def test_signature_matches_reference_and_ignores_order_and_duplicates() -> None:
    p = MinHashParams(96, 4)
    x = np.random.default_rng(1).integers(0, 2**64, size=1000, dtype=np.uint64)
    sig = signature(x, p)
    assert sig.shape == (96,) and sig.dtype == np.uint64
    assert np.array_equal(sig, _reference_signature(x, p))
    assert np.array_equal(sig, signature(np.concatenate([x[::-1], x[:10]]), p))


def test_empty_signature_is_all_max() -> None:
    p = MinHashParams(32)
    sig = signature(np.empty(0, dtype=np.uint64), p)
    assert sig.shape == (32,)
    assert np.all(sig == np.uint64(2**64 - 1))
    assert bool(is_empty(sig))


@pytest.mark.parametrize("path", ["kernels", "numpy"])
def test_signatures_equal_per_doc_signature_including_empty(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    import retold.sketch.hashing as hashing
    import retold.sketch.minhash as minhash

    if path == "numpy":
        monkeypatch.setattr(hashing, "_load_kernels", lambda: None)
    # A tiny chunk forces documents to straddle the numpy path's chunk boundaries.
    monkeypatch.setattr(minhash, "_CHUNK_ELEMS", 7 * 16)
    p = MinHashParams(16, 9)
    rng = np.random.default_rng(2)
    sizes = [0, 3, 0, 0, 1, 50, 7, 0, 13, 2, 0]
    batch = [rng.integers(0, 2**64, size=k, dtype=np.uint64) for k in sizes]
    sigs = signatures(batch, p)
    assert sigs.shape == (len(batch), 16) and sigs.dtype == np.uint64
    for row, x in zip(sigs, batch, strict=True):
        assert np.array_equal(row, _reference_signature(x, p))
        assert np.array_equal(row, signature(x, p))
    assert is_empty(sigs).tolist() == [k == 0 for k in sizes]


def test_signatures_edge_batches() -> None:
    p = MinHashParams(8)
    assert signatures([], p).shape == (0, 8)
    allempty = signatures([np.empty(0, dtype=np.uint64)] * 3, p)
    assert allempty.shape == (3, 8) and np.all(allempty == np.uint64(EMPTY))
    with pytest.raises(ValueError):
        signatures([np.zeros((2, 2), dtype=np.uint64)], p)


def test_estimate_identical_and_disjoint() -> None:
    p = MinHashParams(256)
    a, b = _random_sets(0, common=0, only_a=500, only_b=500)
    assert estimate_jaccard(signature(a, p), signature(a[::-1], p)) == 1.0
    assert estimate_jaccard(signature(a, p), signature(b, p)) <= 0.02


def test_estimate_with_empty_is_zero() -> None:
    p = MinHashParams(16)
    e = signature(np.empty(0, dtype=np.uint64), p)
    x = signature(np.arange(5, dtype=np.uint64), p)
    assert estimate_jaccard(e, e) == 0.0
    assert estimate_jaccard(e, x) == 0.0


def test_estimate_mismatched_lengths() -> None:
    x = np.arange(10, dtype=np.uint64)
    with pytest.raises(IndexMismatchError, match="128 vs 64"):
        estimate_jaccard(signature(x, MinHashParams(128)), signature(x, MinHashParams(64)))


def test_estimator_unbiased_with_binomial_spread() -> None:
    # J = 1/3 over 200 independent pairs: the mean must sit on J and the spread on sqrt(J(1-J)/P).
    p = MinHashParams(128, 11)
    ests = []
    for seed in range(200):
        a, b = _random_sets(seed, common=200, only_a=200, only_b=200)
        ests.append(estimate_jaccard(signature(a, p), signature(b, p)))
    j = 1 / 3
    sd = np.sqrt(j * (1 - j) / 128)
    assert abs(np.mean(ests) - j) < 4 * sd / np.sqrt(200)
    assert 0.75 * sd < np.std(ests) < 1.3 * sd


def test_structured_inputs_are_not_biased() -> None:
    # Consecutive integers defeat a bare linear permutation family; the per-shingle mix64 prevents that.
    p = MinHashParams(1024, 3)
    a = np.arange(0, 1000, dtype=np.uint64)
    b = np.arange(500, 1500, dtype=np.uint64)
    assert abs(estimate_jaccard(signature(a, p), signature(b, p)) - 1 / 3) < 4 * np.sqrt(2 / 9 / 1024)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    common=st.integers(0, 400),
    only_a=st.integers(0, 400),
    only_b=st.integers(0, 400),
)
def test_estimate_within_bound(seed: int, common: int, only_a: int, only_b: int) -> None:
    if common + only_a + only_b == 0 or common + only_a == 0 or common + only_b == 0:
        return
    p = MinHashParams(256, 1)
    a, b = _random_sets(seed, common, only_a, only_b)
    true = common / (common + only_a + only_b)
    est = estimate_jaccard(signature(a, p), signature(b, p))
    assert abs(est - true) <= 4 * np.sqrt(true * (1 - true) / 256) + 0.05
