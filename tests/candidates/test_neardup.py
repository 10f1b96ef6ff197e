"""Tests for retold.candidates.neardup on a planted corpus of random documents and their edited copies."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from retold.candidates.neardup import exact_candidates, minhash_candidates
from retold.config import SketchConfig
from retold.errors import IndexMismatchError
from retold.model import Candidate
from retold.sketch.hashing import hash_tokens, ngram_hashes, text_fingerprint
from retold.sketch.lsh import collision_probability
from retold.sketch.minhash import EMPTY, MinHashParams, signatures

N_ORIG = 300
DOC_LEN = 200
VOCAB = [f"w{i}" for i in range(5000)]


def _edit(doc: NDArray[np.int64], frac: float, rng: np.random.Generator, clustered: bool) -> NDArray[np.int64]:
    out = doc.copy()
    k = int(round(frac * doc.size))
    if clustered:
        # One contiguous run, as when a phrase or sentence is rewritten.
        start = int(rng.integers(0, doc.size - k + 1))
        pos = np.arange(start, start + k)
    else:
        pos = rng.choice(doc.size, size=k, replace=False)
    # Replacement tokens always differ from the originals.
    out[pos] = (out[pos] + rng.integers(1, len(VOCAB), size=k)) % len(VOCAB)
    return out


def _corpus(clustered: bool, seed: int = 42) -> list[NDArray[np.int64]]:
    """Originals 0..299, their 5%-edited copies 300..599, their 10%-edited copies 600..899."""
    rng = np.random.default_rng(seed)
    orig = [rng.integers(0, len(VOCAB), size=DOC_LEN) for _ in range(N_ORIG)]
    c5 = [_edit(d, 0.05, rng, clustered) for d in orig]
    c10 = [_edit(d, 0.10, rng, clustered) for d in orig]
    return orig + c5 + c10


def _shingles(docs: list[NDArray[np.int64]], cfg: SketchConfig) -> list[NDArray[np.uint64]]:
    return [ngram_hashes(hash_tokens([VOCAB[t] for t in d.tolist()]), cfg.shingle) for d in docs]


def _found(cands: list[Candidate]) -> set[tuple[int, int]]:
    return {(c.a, c.b) for c in cands}


def _recall(found: set[tuple[int, int]], first: int, second: int) -> float:
    """Share of families whose member at offset `first` is paired with the one at `second`."""
    return float(np.mean([(i + first, i + second) in found for i in range(N_ORIG)]))


def _check_only_planted(cands: list[Candidate]) -> None:
    for c in cands:
        assert c.a < c.b
        assert c.channel == "minhash"
        assert c.a % N_ORIG == c.b % N_ORIG, f"unrelated documents paired: {c}"


@pytest.fixture(scope="module")
def scattered() -> tuple[list[NDArray[np.uint64]], list[NDArray[np.int64]]]:
    docs = _corpus(clustered=False)
    return _shingles(docs, SketchConfig()), docs


def test_default_config_scattered_edits(scattered: tuple[list[NDArray[np.uint64]], list[NDArray[np.int64]]]) -> None:
    shingles, _ = scattered
    cfg = SketchConfig()
    sigs = signatures(shingles, MinHashParams(cfg.num_perm, cfg.seed))
    cands = minhash_candidates(sigs, cfg)
    _check_only_planted(cands)
    assert [(c.a, c.b) for c in cands] == sorted(_found(cands))
    found = _found(cands)
    assert _recall(found, 0, N_ORIG) >= 0.95  # original vs 5% copy (5-gram Jaccard ~0.63)


def test_default_config_recall_follows_s_curve(
    scattered: tuple[list[NDArray[np.uint64]], list[NDArray[np.int64]]],
) -> None:
    # 10% of tokens replaced at scattered positions leaves ~0.9**5 of 5-grams intact: Jaccard ~0.42, right at
    # the 32x4 S-curve's midpoint, so only about 2/3 of these pairs collide. Check recall against theory.
    shingles, _ = scattered
    cfg = SketchConfig()
    sigs = signatures(shingles, MinHashParams(cfg.num_perm, cfg.seed))
    found = _found(minhash_candidates(sigs, cfg))
    for first, second in ((0, 2 * N_ORIG), (N_ORIG, 2 * N_ORIG)):
        expected = np.mean(
            [
                collision_probability(_true_jaccard(shingles[i + first], shingles[i + second]), cfg.bands, cfg.rows)
                for i in range(N_ORIG)
            ]
        )
        sd = np.sqrt(expected * (1 - expected) / N_ORIG)
        assert abs(_recall(found, first, second) - expected) < 4 * sd + 0.02


def _true_jaccard(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> float:
    sa, sb = set(a.tolist()), set(b.tolist())
    return len(sa & sb) / len(sa | sb)


def test_two_row_bands_catch_scattered_edits(
    scattered: tuple[list[NDArray[np.uint64]], list[NDArray[np.int64]]],
) -> None:
    shingles, _ = scattered
    cfg = SketchConfig(bands=64, rows=2)
    sigs = signatures(shingles, MinHashParams(cfg.num_perm, cfg.seed))
    cands = minhash_candidates(sigs, cfg)
    _check_only_planted(cands)
    found = _found(cands)
    for first, second in ((0, N_ORIG), (0, 2 * N_ORIG), (N_ORIG, 2 * N_ORIG)):
        assert _recall(found, first, second) >= 0.95


def test_default_config_clustered_edits() -> None:
    cfg = SketchConfig()
    sigs = signatures(_shingles(_corpus(clustered=True), cfg), MinHashParams(cfg.num_perm, cfg.seed))
    cands = minhash_candidates(sigs, cfg)
    _check_only_planted(cands)
    found = _found(cands)
    for first, second in ((0, N_ORIG), (0, 2 * N_ORIG), (N_ORIG, 2 * N_ORIG)):
        assert _recall(found, first, second) >= 0.95


def test_scores_and_min_jaccard(scattered: tuple[list[NDArray[np.uint64]], list[NDArray[np.int64]]]) -> None:
    shingles, _ = scattered
    cfg = SketchConfig()
    sigs = signatures(shingles, MinHashParams(cfg.num_perm, cfg.seed))
    cands = minhash_candidates(sigs, cfg)
    for c in cands:
        assert c.score == pytest.approx(np.mean(sigs[c.a] == sigs[c.b]))
        assert 0.0 < c.score <= 1.0
    strict = minhash_candidates(sigs, cfg, min_jaccard=0.5)
    assert strict == [c for c in cands if c.score >= 0.5]
    assert 0 < len(strict) < len(cands)


def test_empty_documents_never_collide() -> None:
    cfg = SketchConfig(num_perm=8, bands=4, rows=2)
    sigs = np.full((5, 8), EMPTY, dtype=np.uint64)
    sigs[3] = np.arange(8, dtype=np.uint64)
    assert minhash_candidates(sigs, cfg) == []
    sigs[1] = sigs[3]
    assert minhash_candidates(sigs, cfg) == [Candidate(a=1, b=3, channel="minhash", score=1.0)]


def test_minhash_candidates_width_mismatch() -> None:
    with pytest.raises(IndexMismatchError, match="64"):
        minhash_candidates(np.zeros((3, 64), dtype=np.uint64), SketchConfig())


def test_exact_candidates_star() -> None:
    texts = [["a", "b"], ["c"], ["a", "b"], [], ["b", "a"], ["a", "b"], [], ["c"]]
    fps = [text_fingerprint(hash_tokens(t)) for t in texts]
    got = exact_candidates(fps)
    assert got == [
        Candidate(0, 2, "exact", 1.0),
        Candidate(0, 5, "exact", 1.0),
        Candidate(1, 7, "exact", 1.0),
        Candidate(3, 6, "exact", 1.0),
    ]
    assert exact_candidates([]) == []
    assert exact_candidates([1, 2, 3]) == []
