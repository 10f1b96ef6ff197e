"""Engine-agnostic composition of the stages: analyse → sign → candidates → align → verdict.

Functions here take and return plain records; reading, writing and scheduling live in `api`, `io` and the CLI.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from retold.align.aligner import align
from retold.candidates.merge import CandidatePair, merge
from retold.candidates.neardup import exact_candidates, minhash_candidates
from retold.candidates.rewrite import rare_terms, rewrite_candidates
from retold.config import RetoldConfig
from retold.model import Document, PairResult
from retold.sketch.hashing import hash_tokens, ngram_hashes, text_fingerprint
from retold.sketch.minhash import MinHashParams, signatures
from retold.text.analyze import Analyzed, analyze
from retold.verdict import judge

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances; `done` counts items finished so far."""


def compare(a: Analyzed, b: Analyzed, cfg: RetoldConfig | None = None) -> PairResult:
    """Align one pair and give its verdict."""
    cfg = cfg or RetoldConfig()
    return judge(a, b, align(a, b, cfg.align), cfg.verdict)


@dataclass(slots=True)
class ScanStats:
    """Counts and timings of one scan."""

    documents: int = 0
    candidates: dict[str, int] = field(default_factory=dict)
    aligned: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def all_pairs(self) -> int:
        """How many pairs an all-pairs comparison would have aligned."""
        return self.documents * (self.documents - 1) // 2


def sign(analyzed: Sequence[Analyzed], cfg: RetoldConfig) -> tuple[NDArray[np.uint64], list[int]]:
    """MinHash signatures (one row per document) and exact-content fingerprints."""
    params = MinHashParams(num_perm=cfg.sketch.num_perm, seed=cfg.sketch.seed)
    token_hashes = [hash_tokens(a.content_tokens()) for a in analyzed]
    shingles = [ngram_hashes(h, cfg.sketch.shingle) for h in token_hashes]
    fingerprints = [text_fingerprint(h) if h.size else i for i, h in enumerate(token_hashes)]
    return signatures(shingles, params), fingerprints


def find_candidates(
    analyzed: Sequence[Analyzed], cfg: RetoldConfig, stats: ScanStats | None = None
) -> list[CandidatePair]:
    """All pairs proposed by the exact, MinHash/LSH and rare-term channels, merged."""
    sigs, fps = sign(analyzed, cfg)
    exact = exact_candidates(fps)
    near = minhash_candidates(sigs, cfg.sketch)
    rew = rewrite_candidates([rare_terms(a) for a in analyzed], cfg.rewrite)
    merged = merge(exact, near, rew)
    if stats is not None:
        stats.candidates = {"exact": len(exact), "minhash": len(near), "rewrite": len(rew), "merged": len(merged)}
    return merged


def scan(
    docs: Sequence[Document],
    cfg: RetoldConfig | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    keep_unrelated: bool = False,
) -> tuple[list[PairResult], ScanStats]:
    """Find and align every reused pair in a corpus.

    Args:
        docs: the documents (ids unique).
        cfg: configuration.
        workers: processes for analysis and alignment (1 = in this process).
        progress: optional callback.
        keep_unrelated: also return candidate pairs judged unrelated.

    Returns:
        Pair results (``a`` before ``b`` in corpus order) and the scan's statistics.
    """
    cfg = cfg or RetoldConfig()
    stats = ScanStats(documents=len(docs))
    tick = _ticker(progress)
    t0 = time.perf_counter()
    analyzed = list(tick("analyse", len(docs), _map(analyze, docs, workers)))
    t1 = time.perf_counter()
    pairs = find_candidates(analyzed, cfg, stats)
    t2 = time.perf_counter()
    results: list[PairResult] = []
    jobs = ((analyzed[p.a], analyzed[p.b], cfg) for p in pairs)
    for p, res in zip(pairs, tick("align", len(pairs), _map(_compare_job, jobs, workers)), strict=True):
        if keep_unrelated or res.verdict != "unrelated":
            results.append(PairResult(res.a, res.b, res.verdict, res.alignment, p.channels))
    t3 = time.perf_counter()
    stats.aligned = len(pairs)
    stats.verdicts = dict(Counter(r.verdict for r in results))
    stats.seconds = {"analyse": t1 - t0, "candidates": t2 - t1, "align": t3 - t2, "total": t3 - t0}
    return results, stats


def _compare_job(job: tuple[Analyzed, Analyzed, RetoldConfig]) -> PairResult:
    return compare(*job)


def _map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    if workers <= 1:
        yield from map(fn, items)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        yield from pool.map(fn, items, chunksize=64)


def _ticker(progress: Progress | None) -> Callable[[str, int, Iterable[T]], Iterator[T]]:
    def tick(stage: str, total: int, items: Iterable[T]) -> Iterator[T]:
        done = 0
        if progress:
            progress(stage, 0, total)
        for x in items:
            done += 1
            if progress and (done % 256 == 0 or done == total):
                progress(stage, done, total)
            yield x

    return tick
