"""The numba kernels give exactly the values of the numpy reference paths (and of xxhash) on random inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TypeVar

import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

import retold.sketch.hashing as hashing
from retold.sketch.hashing import combine_columns, hash_token_lists, hash_tokens, ngram_hashes, ngram_hashes_batch
from retold.sketch.minhash import EMPTY, MinHashParams, signatures, signatures_flat

T = TypeVar("T")

# First calls compile (or load from the cache), so no per-example deadline.
_SETTINGS = settings(derandomize=True, max_examples=150, deadline=None)

_U64 = st.one_of(st.sampled_from([0, 1, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1]), st.integers(0, 2**64 - 1))
_LENGTHS = st.lists(st.one_of(st.integers(0, 6), st.integers(0, 80)), max_size=12)
# Any Unicode except lone surrogates (not UTF-8 encodable); NUL included, which sends the joined path back to the loop.
_TOKEN = st.text(st.characters(exclude_categories=["Cs"]), max_size=45)


def _kernels() -> ModuleType:
    k = hashing._load_kernels()
    if k is None:
        pytest.skip("numba kernels disabled (RETOLD_NO_NUMBA) or numba missing")
    return k


@contextmanager
def _numpy_path() -> Iterator[None]:
    """Run the public functions on the numpy reference implementation."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hashing, "_load_kernels", lambda: None)
        yield


def _both(fn: Callable[[], T]) -> tuple[T, T]:
    """`fn` on the kernels, then on the numpy reference."""
    _kernels()
    fast = fn()
    with _numpy_path():
        ref = fn()
    return fast, ref


def _xxh(tokens: list[str], seed: int) -> NDArray[np.uint64]:
    return np.array([xxhash.xxh64_intdigest(t.encode("utf-8"), seed) for t in tokens], dtype=np.uint64)


def _u64_array(size: int) -> st.SearchStrategy[NDArray[np.uint64]]:
    return hnp.arrays(np.uint64, size, elements=_U64)


@_SETTINGS
@given(tokens=st.lists(_TOKEN, max_size=60), seed=_U64)
def test_hash_tokens_kernel_matches_xxhash(tokens: list[str], seed: int) -> None:
    fast, ref = _both(lambda: hash_tokens(tokens, seed))
    expected = _xxh(tokens, seed)
    assert fast.dtype == np.uint64 and np.array_equal(fast, expected) and np.array_equal(ref, expected)


@_SETTINGS
@given(tokens=st.lists(st.text(st.characters(min_codepoint=1, max_codepoint=0x1F600), max_size=70), max_size=40))
def test_xxh64_joined_every_length(tokens: list[str]) -> None:
    # Straight to the kernel: all byte lengths 0..~280 (the 32-byte stripe loop included), no NUL inside tokens.
    raw = "\0".join(tokens).encode("utf-8")
    out = np.empty(len(tokens), dtype=np.uint64)
    ok = _kernels().xxh64_joined(np.frombuffer(raw, dtype=np.uint8), np.uint64(3), out)
    assert ok == bool(tokens) and (not tokens or np.array_equal(out, _xxh(tokens, 3)))


def test_xxh64_joined_rejects_wrong_token_count() -> None:
    k = _kernels()
    buf = np.frombuffer(b"a\0b\0c", dtype=np.uint8)
    for n in (1, 2, 4):
        assert not k.xxh64_joined(buf, np.uint64(0), np.empty(n, dtype=np.uint64))
    out = np.empty(3, dtype=np.uint64)
    assert k.xxh64_joined(buf, np.uint64(0), out) and np.array_equal(out, _xxh(["a", "b", "c"], 0))


@_SETTINGS
@given(docs=st.lists(st.lists(_TOKEN, max_size=20), max_size=8), seed=_U64)
def test_hash_token_lists_kernel_matches_xxhash(docs: list[list[str]], seed: int) -> None:
    (fast, fast_len), (ref, ref_len) = _both(lambda: hash_token_lists(docs, seed))
    expected = np.concatenate([_xxh(d, seed) for d in docs]) if docs else np.empty(0, dtype=np.uint64)
    assert fast_len.tolist() == ref_len.tolist() == [len(d) for d in docs]
    assert np.array_equal(fast, expected) and np.array_equal(ref, expected)


def test_hash_tokens_kernel_errors_match_loop() -> None:
    _kernels()
    many = ["word"] * 30
    with pytest.raises(AttributeError):
        hash_tokens([*many, b"bytes"])  # type: ignore[list-item]
    with pytest.raises(UnicodeEncodeError):
        hash_tokens([*many, "\ud800"])
    with pytest.raises(OverflowError):
        hash_tokens(many, -1)
    with pytest.raises(OverflowError):
        hash_tokens(many, 2**64)


@_SETTINGS
@given(data=st.data(), n=st.integers(1, 9))
def test_ngram_hashes_kernel_matches_reference(data: st.DataObject, n: int) -> None:
    t = data.draw(_u64_array(data.draw(st.integers(0, 40))))
    fast, ref = _both(lambda: ngram_hashes(t, n))
    assert fast.dtype == np.uint64 and np.array_equal(fast, ref)
    if t.size:  # and the definition itself
        w = min(n, t.size)
        m = t.size - w + 1
        assert np.array_equal(fast, combine_columns([t[k : k + m] for k in range(w)], salt=w))


@_SETTINGS
@given(data=st.data(), lengths=_LENGTHS, n=st.integers(1, 7))
def test_ngram_hashes_batch_kernel_matches_reference(data: st.DataObject, lengths: list[int], n: int) -> None:
    t = data.draw(_u64_array(sum(lengths)))
    (fast, fast_counts), (ref, ref_counts) = _both(lambda: ngram_hashes_batch(t, lengths, n))
    assert fast_counts.dtype == np.int64 and fast_counts.tolist() == ref_counts.tolist()
    assert fast.dtype == np.uint64 and np.array_equal(fast, ref)


@_SETTINGS
@given(data=st.data(), lengths=_LENGTHS, num_perm=st.integers(1, 140), seed=st.integers(0, 2**32))
def test_signatures_kernel_matches_reference(data: st.DataObject, lengths: list[int], num_perm: int, seed: int) -> None:
    p = MinHashParams(num_perm, seed)
    flat = data.draw(_u64_array(sum(lengths)))
    fast, ref = _both(lambda: signatures_flat(flat, lengths, p))
    assert fast.shape == (len(lengths), num_perm) and fast.dtype == np.uint64
    assert np.array_equal(fast, ref)
    assert np.all(fast[np.asarray(lengths, dtype=np.int64) == 0] == np.uint64(EMPTY))
    parts = np.split(flat, np.cumsum(lengths)[:-1]) if lengths else []
    assert np.array_equal(signatures(parts, p), fast)


def test_kernels_accept_strided_and_readonly_inputs() -> None:
    _kernels()
    rng = np.random.default_rng(4)
    base = rng.integers(0, 2**64, size=400, dtype=np.uint64)
    strided = base[::2]
    readonly = base.copy()
    readonly.setflags(write=False)
    p = MinHashParams(64, 2)
    for t in (strided, readonly):

        def run(t: NDArray[np.uint64] = t) -> list[NDArray[np.uint64]]:
            return [
                ngram_hashes(t, 5),
                ngram_hashes_batch(t, [t.size - 50, 0, 50], 3)[0],
                signatures_flat(t, [t.size - 7, 7], p),
            ]

        for fast, ref in zip(*_both(run), strict=True):
            assert np.array_equal(fast, ref)


def test_no_numba_env_selects_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    load = hashing._load_kernels.__wrapped__
    monkeypatch.setenv("RETOLD_NO_NUMBA", "1")
    assert load() is None
    monkeypatch.setenv("RETOLD_NO_NUMBA", "0")
    assert load() is not None
