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
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence, Sized
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from multiprocessing import get_context
from types import TracebackType
from typing import Literal, TypeVar
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from retold._pickling import by_fields
from retold.align.aligner import align
from retold.align.similarity import semantic_active
from retold.candidates.buckets import match_buckets
from retold.candidates.merge import CandidatePair, merge
from retold.candidates.rewrite import Postings, TermVector, rare_term_matches, rare_terms, term_vector
from retold.candidates.vectors import DIM, VectorIndex, shared_vectors, sharing_a_term
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
    committed). `seconds` is wall time of this process: ``read`` (reading and planning), ``analyse`` and ``align``
    (waiting for the workers' features and alignments), ``candidates``, ``store``, ``total`` (and ``export``
    when the caller exports).
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


@by_fields
@dataclass(frozen=True, slots=True)
class Features:
    """What candidate search needs from one analysed document (computed in a worker process)."""

    analyzed: Analyzed
    shingles: NDArray[np.uint64]
    fingerprint: int | None
    terms: TermVector
    credited: bool
    vector: NDArray[np.float32] | None = None


def vectors_on(cfg: RetoldConfig) -> bool:
    """Whether the vector candidate channel runs: with the semantic channel (`semantic_active`)."""
    return semantic_active(cfg.align)


def featurize(doc: Document, cfg: RetoldConfig) -> Features:
    """Analyse a document and compute its shingles, exact fingerprint, rare terms, agency-credit flag and, with
    the vector channel on, its article vector."""
    an = analyze(doc)
    token_hashes = hash_tokens(an.content_tokens())
    shingles = ngram_hashes(token_hashes, cfg.sketch.shingle)
    fp = _signed(text_fingerprint(token_hashes)) if token_hashes.size else None
    credited = any(b.kind == "agency" for b in an.boilerplate)
    vec = shared_vectors().document(an) if vectors_on(cfg) else None
    return Features(an, shingles, fp, term_vector(rare_terms(an)), credited, vec)


_QUERY_VECTORS: WeakKeyDictionary[Store, tuple[tuple[int, int], VectorIndex]] = WeakKeyDictionary()


def _stored_vectors(store: Store) -> VectorIndex:
    """The store's vectors for `query`, read once per state of the store (count and next sequence number change
    with every add or replacement), so a session of queries against an open index does not reread them."""
    key = (store.count(), store.next_seq())
    hit = _QUERY_VECTORS.get(store)
    if hit is not None and hit[0] == key:
        return hit[1]
    index = load_vectors(store)
    _QUERY_VECTORS[store] = (key, index)
    return index


def _article_vector(doc: Document) -> NDArray[np.float32]:
    return shared_vectors().document(analyze(doc))


def backfill_vectors(store: Store, pool: Workers, progress: Progress | None = None, chunk: int = 4096) -> None:
    """Give the documents stored without an article vector (indexed before the vector channel existed) theirs,
    `chunk` documents per transaction (`progress` stage ``"vectors"``)."""
    missing = store.without_vector()
    for c0 in range(0, len(missing), chunk):
        docs = store.documents(missing[c0 : c0 + chunk])
        order = sorted(docs)
        rows = list(pool.map(_article_vector, [docs[s] for s in order], pool.chunksize(len(order))))
        with store.transaction():
            store.put_vectors(order, np.asarray(rows, dtype=np.float32).reshape(len(order), -1))
        if progress:
            progress("vectors", min(len(missing), c0 + chunk), len(missing))


def load_vectors(store: Store) -> VectorIndex:
    """The store's article vectors as a `VectorIndex` (documents without one take no part)."""
    seqs, vecs = store.vectors()
    return VectorIndex(seqs.tolist(), vecs if len(seqs) else None)


def text_hash(text: str) -> str:
    """Identity of a document's text: a stored document with the same id and hash is not indexed again."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


Status = Literal["ok", "updated", "unchanged", "duplicate"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one document read: ``ok`` (added), ``updated`` (stored with another text; replaced),
    ``unchanged`` (stored with this text; skipped) or ``duplicate`` (its id came earlier in this run; skipped;
    `first` is the origin of that first record, when known)."""

    doc: Document
    status: Status
    first: str | None = None


OutcomeSink = Callable[[list[Outcome]], None]
"""Receives the outcomes of each batch's documents, in input order, once the batch is committed."""


@dataclass(slots=True)
class _Batch:
    """Documents read for one batch: every one's outcome (input order) and those to index, ``(doc, text hash,
    stored seq to replace or None)``, with the workers' features for them once submitted."""

    outcomes: list[Outcome]
    todo: list[tuple[Document, str, int | None]]
    feats: Iterator[Features] | None = None


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A batch ready to store and align: features, signatures, band keys, sequence numbers and candidates;
    `replaced` counts the stored documents it replaces (deleted when it was prepared)."""

    batch: _Batch
    feats: list[Features]
    sigs: NDArray[np.uint64]
    keys: list[NDArray[np.int64]]
    seqs: list[int]
    replaced: int
    found: list[CandidatePair]

    def records(self) -> Iterator[tuple[int, Features, NDArray[np.uint64], NDArray[np.int64], str]]:
        """Arguments of `_doc_record` for each document."""
        for seq, f, sig, band, (_, h, _) in zip(
            self.seqs, self.feats, self.sigs, self.keys, self.batch.todo, strict=True
        ):
            yield seq, f, sig, band, h


class _Planner:
    """Reads the document stream batch by batch and decides, against the store, what to index.

    Repeated ids are told without holding every id: an id the store holds from this run, or one in a batch read
    but not yet committed, is a duplicate. Only ids found unchanged are remembered (they were stored by an earlier
    run, so the store cannot tell a repeat of them).
    """

    def __init__(self, store: Store, docs: Iterable[Document], size: int, run: int, *, strict: bool) -> None:
        self._store = store
        self._docs = iter(docs)
        self._size = size
        self._run = run
        self._strict = strict
        self._in_flight: dict[str, str | None] = {}
        self._unchanged: set[str] = set()

    def next(self) -> _Batch | None:
        """The next batch: up to `size` documents to index (fewer at the end of the stream), or None when the
        stream is exhausted."""
        outcomes: list[Outcome] = []
        todo: list[tuple[Document, str, int | None]] = []
        while len(todo) < self._size:
            raw = list(islice(self._docs, self._size - len(todo)))
            if not raw:
                break
            stored = self._store.lookup({d.id for d in raw})
            for d in raw:
                old = stored.get(d.id)
                if d.id in self._in_flight or (old is not None and (old.run == self._run or d.id in self._unchanged)):
                    first = self._in_flight[d.id] if d.id in self._in_flight else old.origin if old else None
                    if self._strict:
                        raise ValueError(f"duplicate document id {d.id!r}")
                    outcomes.append(Outcome(d, "duplicate", first))
                    continue
                h = text_hash(d.text)
                if old is not None and old.text_hash == h:
                    self._unchanged.add(d.id)
                    outcomes.append(Outcome(d, "unchanged"))
                    continue
                self._in_flight[d.id] = d.origin
                todo.append((d, h, None if old is None else old.seq))
                outcomes.append(Outcome(d, "ok" if old is None else "updated"))
        return _Batch(outcomes, todo) if outcomes else None

    def settled(self, batch: _Batch) -> None:
        """`batch` is committed: the store now answers for its ids."""
        for d, _, _ in batch.todo:
            self._in_flight.pop(d.id, None)


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
    docs: Iterable[Document],
    cfg: RetoldConfig | None = None,
    *,
    workers: Workers | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    note: str = "",
    sink: PairSink | None = None,
    cache_size: int = 4096,
    outcomes: OutcomeSink | None = None,
    total: int | None = None,
) -> ScanStats:
    """Add documents to a store, finding and aligning their pairs with every earlier document.

    `docs` is consumed as a stream: a few batches are read ahead (planned against the store, analysed by the
    workers) while one is matched and stored, so memory is bounded by the batch size, `cache_size` and the
    store, not by the corpus. Documents already stored with the same text are skipped (so a rerun after an
    interruption resumes where the last committed batch ended); a stored id whose text changed is replaced: its
    old pairs, bands and postings are deleted and it is added again as the newest document. An id that came
    earlier in this run is a duplicate (the store and the batches in flight tell; the first record wins). Each
    batch (candidates among stored documents and earlier ones of the batch, align, write documents, sketches,
    pairs and a ledger line) is one transaction.

    Args:
        store: The index.
        docs: Documents in arrival order.
        cfg: Configuration (the store must have been made with the same).
        workers: Processes for analysis and alignment (default: this process).
        batch_size: Documents per transaction.
        progress: Optional callback, stage ``"index"``, counting documents read (indexed or skipped).
        note: Recorded with the run in the ledger (e.g. the inputs).
        sink: Optional callback receiving each batch's aligned pairs.
        cache_size: Analysed stored documents kept in memory between batches.
        outcomes: Optional callback receiving, once a batch is committed, what became of each document read for
            it, in input order (every document gets exactly one `Outcome`).
        total: The number of documents expected, for `progress` (default: ``len(docs)`` when it has one).

    Returns:
        The run's statistics.

    Raises:
        ValueError: A duplicate id and no `outcomes` callback to report it to (earlier batches stay committed).
        StoreError: The store failed.
    """
    cfg = cfg or RetoldConfig()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    own_workers = workers is None
    pool = workers or Workers(1)
    stats = ScanStats(
        candidates=dict.fromkeys(("exact", "minhash", "rewrite", "vector", "merged"), 0),
        seconds=dict.fromkeys(("read", "analyse", "candidates", "align", "store"), 0.0),
    )
    if total is None:
        total = len(docs) if isinstance(docs, Sized) else 0
    t_start = time.perf_counter()
    try:
        state = store.begin_run(note)
        stats.run, stats.interrupted = state.run, state.interrupted
        planner = _Planner(store, docs, batch_size, state.run, strict=outcomes is None)
        vindex = None
        if vectors_on(cfg):
            backfill_vectors(store, pool, progress)
            vindex = load_vectors(store)
        cache: OrderedDict[int, Analyzed] = OrderedDict()
        params = MinHashParams(num_perm=cfg.sketch.num_perm, seed=cfg.sketch.seed)
        if progress:
            progress("index", 0, total)
        done = 0
        number = 0
        pending: deque[_Batch] = deque()
        seconds = stats.seconds

        def submit() -> None:
            # With worker processes the jobs start at once: the workers analyse the batches read ahead while
            # this process matches, stores and aligns the current one.
            t = time.perf_counter()
            batch = planner.next()
            if batch is not None:
                if batch.todo:
                    texts = [d for d, _, _ in batch.todo]
                    batch.feats = pool.map(partial(featurize, cfg=cfg), texts, pool.chunksize(len(texts)))
                pending.append(batch)
            seconds["read"] += time.perf_counter() - t

        def prepare(batch: _Batch) -> _Prepared:
            """Features, signatures and candidates of a batch; call inside a transaction, after the batches
            before it are written (the candidates are read from the store)."""
            t0 = time.perf_counter()
            feats = list(batch.feats or ())
            sigs = signatures([f.shingles for f in feats], params)
            keys = _band_keys(sigs, cfg)
            t1 = time.perf_counter()
            old = [seq for _, _, seq in batch.todo if seq is not None]
            if old:
                store.delete(old)
                for seq in old:
                    cache.pop(seq, None)
                if vindex is not None:
                    vindex.remove(old)
            base = store.next_seq()
            seqs = list(range(base, base + len(feats)))
            found = find_candidates(store, feats, sigs, seqs, cfg, keys=keys, vectors=vindex)
            seconds["analyse"] += t1 - t0
            seconds["candidates"] += time.perf_counter() - t1
            return _Prepared(batch, feats, sigs, keys, seqs, len(old), found)

        def settle(batch: _Batch) -> None:
            nonlocal done
            planner.settled(batch)
            for o in batch.outcomes:
                if o.status == "updated":
                    stats.updated.append(o.doc.id)
                elif o.status == "unchanged":
                    stats.unchanged.append(o.doc.id)
            if outcomes is not None:
                outcomes(batch.outcomes)
            done += len(batch.outcomes)
            if progress:
                progress("index", done, max(total, done))

        submit()
        submit()
        ready: _Prepared | None = None
        while pending or ready is not None:
            if ready is None:
                batch = pending.popleft()
                if not batch.todo:
                    submit()
                    settle(batch)
                    continue
            with store.transaction():
                cur = ready if ready is not None else prepare(batch)
                ready = None
                new = dict(zip(cur.seqs, cur.feats, strict=True))
                jobs = _dispatch(store, cur.found, new, cache, pool, cfg, cache_size, stats, keep=sink is not None)
                # While the workers align this batch: write its documents, read ahead, and find the next batch's
                # candidates against the store as it will be committed (this batch's documents are written, its
                # pairs are not read by candidate search). A batch that replaces stored documents is prepared in
                # its own transaction, after their deletion.
                t0 = time.perf_counter()
                store.add([_doc_record(*x) for x in cur.records()], [])
                if vindex is not None:
                    vindex.add(cur.seqs, _vector_rows(cur.feats))
                t1 = time.perf_counter()
                for _ in range(2 - len(pending)):
                    submit()
                nxt = pending[0] if pending else None
                if nxt is not None and nxt.todo and all(seq is None for _, _, seq in nxt.todo):
                    ready = prepare(pending.popleft())
                t2 = time.perf_counter()
                aligned = list(jobs)
                t3 = time.perf_counter()
                pairs = [
                    PairRecord(p.a, p.b, verdict, p.channels, p.score, js)
                    for p, (verdict, js, _) in zip(cur.found, aligned, strict=True)
                ]
                store.add([], pairs)
                store.record_batch(
                    state.run, number, len(cur.seqs) - cur.replaced, cur.replaced, len(pairs), cur.seqs[-1]
                )
            t4 = time.perf_counter()
            seconds["align"] += t3 - t2
            seconds["store"] += (t1 - t0) + (t4 - t3)
            for seq, f in zip(cur.seqs, cur.feats, strict=True):
                _remember(cache, seq, f.analyzed, cache_size)
            _count(stats, cur.found, aligned)
            stats.documents += len(cur.seqs)
            stats.batches += 1
            number += 1
            if sink is not None:
                sink([(p.a, p.b, r) for p, (_, _, r) in zip(cur.found, aligned, strict=True) if r is not None])
            settle(cur.batch)
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
    vindex = _stored_vectors(store) if vectors_on(cfg) else None
    found = find_candidates(
        store, [f], sigs, [store.next_seq()], cfg, exclude={own.seq} if own else set(), vectors=vindex
    )
    stored = store.documents({p.a for p in found})
    analyzed = {seq: analyze(d) for seq, d in stored.items()}
    out = []
    for p in found:
        res = compare(analyzed[p.a], f.analyzed, cfg)
        if keep_unrelated or res.verdict != "unrelated":
            out.append(PairResult(res.a, res.b, res.verdict, res.alignment, p.channels))
    return out


def scan(
    docs: Iterable[Document],
    cfg: RetoldConfig | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    keep_unrelated: bool = False,
    batch_size: int = BATCH_SIZE,
) -> tuple[list[PairResult], ScanStats]:
    """Find and align every reused pair in a corpus (indexing it into a fresh in-memory store).

    Args:
        docs: the documents (ids unique; a repeated id raises ValueError).
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
    vectors: VectorIndex | None = None,
) -> list[CandidatePair]:
    """Candidate pairs of new documents (sequence numbers `seqs`) among stored ones and each other.

    Channels: equal exact fingerprints and shared LSH band keys (`retold.candidates.buckets`), shared rare
    terms (`retold.candidates.rewrite`) and, given the stored article `vectors`, nearest article vectors
    (`retold.candidates.vectors`); merged, sorted by ``(a, b)``, ``a`` always the earlier document.
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
    rew, sharing = rare_term_matches(terms, seqs, earlier, cfg.rewrite, sharing=vectors is not None)
    vec = [] if vectors is None else vectors.search(seqs, _vector_rows(feats), exclude=frozenset(exclude))
    vec = sharing_a_term(vec, sharing)
    if exclude:
        gone = set(exclude)
        exact, near, rew = ([c for c in chan if c.a not in gone] for chan in (exact, near, rew))
    return merge(exact, near, rew, vec)


def _vector_rows(feats: Sequence[Features]) -> NDArray[np.float32]:
    """The documents' article vectors as rows (zeros where a document has none: it matches nothing)."""
    out = np.zeros((len(feats), DIM), dtype=np.float32)
    for i, f in enumerate(feats):
        if f.vector is not None:
            out[i] = f.vector
    return out


def _dispatch(
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
) -> Iterator[_Aligned]:
    """Start aligning every candidate pair (with worker processes the jobs run while the caller goes on);
    stored documents come from the cache or are re-analysed from their text.

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
    results = pool.map(_compare_job, jobs, pool.chunksize(len(jobs)))
    return (
        (v, js, None if r is None else PairResult(r.a, r.b, r.verdict, r.alignment, p.channels))
        for p, (v, js, r) in zip(found, results, strict=True)
    )


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
        vector=f.vector,
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
    """Load what every worker needs before its first job: word frequencies, the stemmer, and the sketch kernels
    (numba loads its compiled cache on the first call, ~0.5 s)."""
    zipf("the")
    stem("warming")
    signatures([ngram_hashes(hash_tokens(["warm", "up", "the", "sketch", "kernels", "now"]), 5)], MinHashParams())
