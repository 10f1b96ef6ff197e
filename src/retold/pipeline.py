"""Engine-agnostic composition of the stages: analyse → sign → candidates → align → verdict, batch by batch into a
`retold.store.base.Store`.

`index_documents` is the one path that finds pairs: each new document is compared with the documents stored
before it and with the earlier documents of its batch, under a candidate rule that depends only on the two
documents (plus the documented bucket and posting caps), so indexing a corpus in chunks gives the same pairs as
indexing it at once. `scan` indexes into a fresh in-memory store; `query` compares one document with a store
without adding it. Reading and writing files live in `api` and `io`.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from types import TracebackType
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from retold.align.aligner import align
from retold.candidates.buckets import match_buckets
from retold.candidates.merge import CandidatePair, merge
from retold.candidates.rewrite import Postings, TermVector, match_rare_terms, rare_terms, term_vector
from retold.config import RetoldConfig
from retold.model import Candidate, Document, PairResult, VerdictName
from retold.sketch.hashing import hash_tokens, ngram_hashes, text_fingerprint
from retold.sketch.lsh import band_keys
from retold.sketch.minhash import MinHashParams, is_empty, signatures
from retold.store.base import DocRecord, MemoryStore, PairRecord, Store, dumps
from retold.text.analyze import Analyzed, analyze
from retold.text.tokens import stem, zipf
from retold.verdict import judge

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances; `done` counts items finished so far."""

PairSink = Callable[[list[tuple[int, int, PairResult]]], None]
"""Receives each batch's aligned pairs as ``(seq a, seq b, result)``."""

BATCH_SIZE = 256

_Aligned = tuple[VerdictName, str, PairResult | None]
"""An aligned pair as the workers return it: verdict, pair JSON, and the result when the caller keeps it."""


def compare(a: Analyzed, b: Analyzed, cfg: RetoldConfig | None = None) -> PairResult:
    """Align one pair and give its verdict."""
    cfg = cfg or RetoldConfig()
    return judge(a, b, align(a, b, cfg.align), cfg.verdict)


@dataclass(slots=True)
class ScanStats:
    """Counts and timings of one indexing run (a scan is one run into a fresh store).

    `documents` counts the documents compared in this run (added or updated); `verdicts` counts the verdicts of
    every aligned pair, ``unrelated`` included; `updated` and `unchanged` list ids of documents whose stored
    text changed, or was already there (skipped); `reanalysed` counts stored documents analysed again (not in the
    in-memory cache) to align them; `interrupted` names earlier runs that never finished (run, batches they
    committed).
    """

    documents: int = 0
    candidates: dict[str, int] = field(default_factory=dict)
    aligned: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    batches: int = 0
    reanalysed: int = 0
    run: int = 0
    interrupted: tuple[tuple[int, int], ...] = ()

    @property
    def all_pairs(self) -> int:
        """How many pairs an all-pairs comparison would have aligned."""
        return self.documents * (self.documents - 1) // 2

    @property
    def added(self) -> int:
        """Documents new to the store in this run."""
        return self.documents - len(self.updated)


@dataclass(frozen=True, slots=True)
class Features:
    """What candidate search needs from one analysed document (computed in a worker process)."""

    analyzed: Analyzed
    shingles: NDArray[np.uint64]
    fingerprint: int | None
    terms: TermVector
    credited: bool


def featurize(doc: Document, cfg: RetoldConfig) -> Features:
    """Analyse a document and compute its shingles, exact fingerprint, rare terms and agency-credit flag."""
    an = analyze(doc)
    token_hashes = hash_tokens(an.content_tokens())
    shingles = ngram_hashes(token_hashes, cfg.sketch.shingle)
    fp = _signed(text_fingerprint(token_hashes)) if token_hashes.size else None
    credited = any(b.kind == "agency" for b in an.boilerplate)
    return Features(an, shingles, fp, term_vector(rare_terms(an)), credited)


def text_hash(text: str) -> str:
    """Identity of a document's text: a stored document with the same id and hash is not indexed again."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class Workers:
    """Processes for analysis and alignment; with ``n <= 1`` everything runs in this process.

    Workers come from a fork server (started once per process, with `retold.pipeline` preloaded), never forked
    from this process: a child of a process that holds an open SQLite connection, or threads of a native library
    (an ONNX runtime, BLAS), can deadlock or corrupt the database. As with any non-fork start method, a script
    that uses several workers needs the usual ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, n: int = 1) -> None:
        self.n = max(1, n)
        self._pool: ProcessPoolExecutor | None = None
        if self.n > 1:
            ctx = get_context("forkserver")
            ctx.set_forkserver_preload(["retold.pipeline"])
            self._pool = ProcessPoolExecutor(self.n, mp_context=ctx, initializer=_warm_up)
            list(self._pool.map(_noop, range(self.n)))  # start the processes now

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int = 1) -> Iterator[R]:
        """``map(fn, items)`` in order, over the processes when there are several."""
        if self._pool is None:
            return map(fn, items)
        return self._pool.map(fn, items, chunksize=max(1, chunksize))

    def chunksize(self, items: int) -> int:
        """A chunk size that gives every process several small chunks of `items` (a batch ends when its last
        chunk does, so large chunks leave processes idle at the end of each batch)."""
        return max(1, min(16, items // (8 * self.n)))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def index_documents(
    store: Store,
    docs: Sequence[Document],
    cfg: RetoldConfig | None = None,
    *,
    workers: Workers | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    note: str = "",
    sink: PairSink | None = None,
    cache_size: int = 4096,
) -> ScanStats:
    """Add documents to a store, finding and aligning their pairs with every earlier document.

    Documents already stored with the same text are skipped (so a rerun after an interruption resumes where the
    last committed batch ended); a stored id whose text changed is replaced: its old pairs, bands and postings
    are deleted and it is added again as the newest document. Each batch (analyse, candidates among stored
    documents and earlier ones of the batch, align, write documents, sketches, pairs and a ledger line) is one
    transaction.

    Args:
        store: The index.
        docs: Documents in arrival order; ids must be unique.
        cfg: Configuration (the store must have been made with the same).
        workers: Processes for analysis and alignment (default: this process).
        batch_size: Documents per transaction.
        progress: Optional callback, stage ``"index"``, counting documents.
        note: Recorded with the run in the ledger (e.g. the inputs).
        sink: Optional callback receiving each batch's aligned pairs.
        cache_size: Analysed stored documents kept in memory between batches.

    Returns:
        The run's statistics.

    Raises:
        ValueError: Duplicate ids in `docs`.
        StoreError: The store failed.
    """
    cfg = cfg or RetoldConfig()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    own_workers = workers is None
    pool = workers or Workers(1)
    stats = ScanStats(
        candidates=dict.fromkeys(("exact", "minhash", "rewrite", "merged"), 0),
        seconds=dict.fromkeys(("analyse", "candidates", "align", "store"), 0.0),
    )
    t_start = time.perf_counter()
    try:
        todo = _plan(store, docs, stats)
        state = store.begin_run(note)
        stats.run, stats.interrupted = state.run, state.interrupted
        cache: OrderedDict[int, Analyzed] = OrderedDict()
        params = MinHashParams(num_perm=cfg.sketch.num_perm, seed=cfg.sketch.seed)
        if progress:
            progress("index", 0, len(todo))
        done = 0
        chunks = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]

        def submit(number: int) -> None:
            # With worker processes the jobs start at once. Two batches ahead: the workers analyse batch k + 2
            # while this process stores batch k and looks up candidates for batch k + 1.
            if number < len(chunks):
                docs = [d for d, _, _ in chunks[number]]
                pending.append(pool.map(partial(featurize, cfg=cfg), docs, pool.chunksize(len(docs))))

        pending: deque[Iterator[Features]] = deque()
        submit(0)
        submit(1)
        for number, chunk in enumerate(chunks):
            t0 = time.perf_counter()
            feats = list(pending.popleft())
            sigs = signatures([f.shingles for f in feats], params)
            keys = _band_keys(sigs, cfg)
            t1 = time.perf_counter()
            with store.transaction():
                old = [seq for _, _, seq in chunk if seq is not None]
                if old:
                    store.delete(old)
                    for seq in old:
                        cache.pop(seq, None)
                base = store.next_seq()
                seqs = list(range(base, base + len(chunk)))
                found = find_candidates(store, feats, sigs, seqs, cfg, keys=keys)
                t2 = time.perf_counter()
                new = dict(zip(seqs, feats, strict=True))
                aligned = _align(store, found, new, cache, pool, cfg, cache_size, stats, keep=sink is not None)
                t3 = time.perf_counter()
                submit(number + 2)
                records = [
                    _doc_record(seq, f, sig, band, h)
                    for seq, f, sig, band, (_, h, _) in zip(seqs, feats, sigs, keys, chunk, strict=True)
                ]
                pairs = [
                    PairRecord(p.a, p.b, verdict, p.channels, p.score, js)
                    for p, (verdict, js, _) in zip(found, aligned, strict=True)
                ]
                store.add(records, pairs)
                store.record_batch(state.run, number, len(chunk) - len(old), len(old), len(pairs), seqs[-1])
            t4 = time.perf_counter()
            for seq, f in zip(seqs, feats, strict=True):
                _remember(cache, seq, f.analyzed, cache_size)
            _count(stats, found, aligned)
            stats.documents += len(chunk)
            stats.batches += 1
            for key, value in (("analyse", t1 - t0), ("candidates", t2 - t1), ("align", t3 - t2), ("store", t4 - t3)):
                stats.seconds[key] += value
            if sink is not None:
                sink([(p.a, p.b, r) for p, (_, _, r) in zip(found, aligned, strict=True) if r is not None])
            done += len(chunk)
            if progress:
                progress("index", done, len(todo))
        store.finish_run(state.run)
    finally:
        if own_workers:
            pool.close()
    stats.seconds["total"] = time.perf_counter() - t_start
    return stats


def query(
    store: Store,
    doc: Document,
    cfg: RetoldConfig | None = None,
    *,
    keep_unrelated: bool = False,
) -> list[PairResult]:
    """The stored documents that `doc` reuses, with verdicts and passages; the store is not changed.

    `doc` takes the place of the next document to arrive: it is compared with every stored document under the
    same candidate rule as `index_documents`, so adding it would store exactly these pairs. A stored document
    with the same id (an earlier version of it) is left out.

    Returns:
        Pair results with the stored document as ``a`` and `doc` as ``b``, in arrival order of ``a``.
    """
    cfg = cfg or RetoldConfig()
    f = featurize(doc, cfg)
    params = MinHashParams(num_perm=cfg.sketch.num_perm, seed=cfg.sketch.seed)
    sigs = signatures([f.shingles], params)
    own = store.lookup([doc.id]).get(doc.id)
    found = find_candidates(store, [f], sigs, [store.next_seq()], cfg, exclude={own.seq} if own else set())
    stored = store.documents({p.a for p in found})
    analyzed = {seq: analyze(d) for seq, d in stored.items()}
    out = []
    for p in found:
        res = compare(analyzed[p.a], f.analyzed, cfg)
        if keep_unrelated or res.verdict != "unrelated":
            out.append(PairResult(res.a, res.b, res.verdict, res.alignment, p.channels))
    return out


def scan(
    docs: Sequence[Document],
    cfg: RetoldConfig | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    keep_unrelated: bool = False,
    batch_size: int = BATCH_SIZE,
) -> tuple[list[PairResult], ScanStats]:
    """Find and align every reused pair in a corpus (indexing it into a fresh in-memory store).

    Args:
        docs: the documents (ids unique).
        cfg: configuration.
        workers: processes for analysis and alignment (1 = in this process).
        progress: optional callback.
        keep_unrelated: also return candidate pairs judged unrelated.
        batch_size: documents per batch.

    Returns:
        Pair results (``a`` before ``b`` in corpus order, sorted by their positions) and the scan's statistics
        (`verdicts` counts the returned pairs).
    """
    found: list[tuple[int, int, PairResult]] = []

    def collect(batch: list[tuple[int, int, PairResult]]) -> None:
        found.extend(x for x in batch if keep_unrelated or x[2].verdict != "unrelated")

    with Workers(workers) as pool:
        stats = index_documents(
            MemoryStore(), docs, cfg, workers=pool, batch_size=batch_size, progress=progress, sink=collect
        )
    found.sort(key=lambda x: (x[0], x[1]))
    results = [r for _, _, r in found]
    stats.verdicts = dict(Counter(r.verdict for r in results))
    return results, stats


def find_candidates(
    store: Store,
    feats: Sequence[Features],
    sigs: NDArray[np.uint64],
    seqs: Sequence[int],
    cfg: RetoldConfig,
    *,
    keys: Sequence[NDArray[np.int64]] | None = None,
    exclude: Collection[int] = (),
) -> list[CandidatePair]:
    """Candidate pairs of new documents (sequence numbers `seqs`) among stored ones and each other.

    Channels: equal exact fingerprints and shared LSH band keys (`retold.candidates.buckets`), and shared rare
    terms (`retold.candidates.rewrite`); merged, sorted by ``(a, b)``, ``a`` always the earlier document.
    `keys` are the documents' band keys (`_band_keys`; computed when not given). Stored documents in `exclude`
    are left out.
    """
    limit = cfg.sketch.max_bucket
    first = seqs[0]
    fps = [[f.fingerprint] if f.fingerprint is not None else [] for f in feats]
    exact_pairs = match_buckets(fps, seqs, store.exact_members({k for ks in fps for k in ks}, limit), limit)
    exact = [Candidate(a, b, "exact", 1.0) for a, b in exact_pairs]

    lists = [k.tolist() for k in (keys if keys is not None else _band_keys(sigs, cfg))]
    near_pairs = match_buckets(lists, seqs, store.band_members({k for ks in lists for k in ks}, limit), limit)
    stored_sigs = store.signatures({a for a, _ in near_pairs if a < first})

    def sig(seq: int) -> NDArray[np.uint64]:
        return sigs[seq - first] if seq >= first else stored_sigs[seq]

    near = [Candidate(a, b, "minhash", float(np.mean(sig(a) == sig(b)))) for a, b in near_pairs]

    terms = [f.terms for f in feats]
    tp = store.postings({int(k) for v in terms for k in v.keys.tolist()}, cfg.rewrite.max_postings)
    earlier = Postings(tp.terms, tp.df, tp.term, tp.seq, tp.weight, tp.total)
    rew = match_rare_terms(terms, seqs, earlier, cfg.rewrite)
    if exclude:
        gone = set(exclude)
        exact, near, rew = ([c for c in chan if c.a not in gone] for chan in (exact, near, rew))
    return merge(exact, near, rew)


def _plan(store: Store, docs: Sequence[Document], stats: ScanStats) -> list[tuple[Document, str, int | None]]:
    """Which documents to index: ``(doc, text hash, stored seq to replace or None)``; unchanged ones skipped."""
    seen: set[str] = set()
    for d in docs:
        if d.id in seen:
            raise ValueError(f"duplicate document id {d.id!r}")
        seen.add(d.id)
    todo: list[tuple[Document, str, int | None]] = []
    step = 10_000
    for start in range(0, len(docs), step):
        part = docs[start : start + step]
        stored = store.lookup([d.id for d in part])
        for d in part:
            h = text_hash(d.text)
            old = stored.get(d.id)
            if old is None:
                todo.append((d, h, None))
            elif old.text_hash == h:
                stats.unchanged.append(d.id)
            else:
                todo.append((d, h, old.seq))
                stats.updated.append(d.id)
    return todo


def _align(
    store: Store,
    found: Sequence[CandidatePair],
    new: dict[int, Features],
    cache: OrderedDict[int, Analyzed],
    pool: Workers,
    cfg: RetoldConfig,
    cache_size: int,
    stats: ScanStats,
    *,
    keep: bool,
) -> list[_Aligned]:
    """Align every candidate pair; stored documents come from the cache or are re-analysed from their text.

    Workers return each pair's verdict and pair JSON (serialised there, off this process), and the `PairResult`
    itself only when `keep` is set.
    """
    analyzed: dict[int, Analyzed] = {seq: f.analyzed for seq, f in new.items()}
    missing = []
    for p in found:
        if p.a in analyzed:
            continue
        hit = cache.get(p.a)
        if hit is not None:
            cache.move_to_end(p.a)
            analyzed[p.a] = hit
        else:
            missing.append(p.a)
    if missing:
        stored = store.documents(set(missing))
        order = sorted(stored)
        stats.reanalysed += len(order)
        for seq, an in zip(
            order, pool.map(analyze, [stored[s] for s in order], pool.chunksize(len(order))), strict=True
        ):
            analyzed[seq] = an
            _remember(cache, seq, an, cache_size)
    jobs = [(analyzed[p.a], analyzed[p.b], cfg, keep) for p in found]
    results = list(pool.map(_compare_job, jobs, pool.chunksize(len(jobs))))
    return [
        (v, js, None if r is None else PairResult(r.a, r.b, r.verdict, r.alignment, p.channels))
        for p, (v, js, r) in zip(found, results, strict=True)
    ]


def _band_keys(sigs: NDArray[np.uint64], cfg: RetoldConfig) -> list[NDArray[np.int64]]:
    """Each document's LSH band keys as signed ints; none for an empty document (it matches nothing)."""
    keys = band_keys(sigs, cfg.sketch.bands, cfg.sketch.rows).view(np.int64)
    empty = is_empty(sigs)
    return [np.empty(0, dtype=np.int64) if bool(empty[i]) else keys[i] for i in range(sigs.shape[0])]


def _doc_record(seq: int, f: Features, sig: NDArray[np.uint64], bands: NDArray[np.int64], h: str) -> DocRecord:
    return DocRecord(
        seq=seq,
        doc=f.analyzed.doc,
        text_hash=h,
        credited=f.credited,
        fingerprint=f.fingerprint,
        signature=sig,
        band_keys=bands,
        term_keys=f.terms.keys,
        term_weights=f.terms.weights,
        rare_total=f.terms.total,
    )


def _count(stats: ScanStats, found: Sequence[CandidatePair], aligned: Sequence[_Aligned]) -> None:
    for p in found:
        for ch in p.channels:
            stats.candidates[ch] += 1
    stats.candidates["merged"] += len(found)
    stats.aligned += len(found)
    for verdict, _, _ in aligned:
        stats.verdicts[verdict] = stats.verdicts.get(verdict, 0) + 1


def _remember(cache: OrderedDict[int, Analyzed], seq: int, an: Analyzed, size: int) -> None:
    cache[seq] = an
    cache.move_to_end(seq)
    while len(cache) > size:
        cache.popitem(last=False)


def _signed(x: int) -> int:
    """An unsigned 64-bit hash as the signed integer SQLite stores."""
    return x - (1 << 64) if x >= 1 << 63 else x


def _compare_job(job: tuple[Analyzed, Analyzed, RetoldConfig, bool]) -> _Aligned:
    a, b, cfg, keep = job
    res = compare(a, b, cfg)
    return res.verdict, dumps(res.to_json()), res if keep else None


def _noop(_: int) -> None:
    return None


def _warm_up() -> None:
    zipf("the")
    stem("warming")
