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
import os
import select
import signal
import sys
import threading
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

from retold import stop
from retold._pickling import by_fields
from retold.align.aligner import align
from retold.align.similarity import semantic_active
from retold.candidates.buckets import match_buckets
from retold.candidates.merge import CandidatePair, merge
from retold.candidates.reconcile import Changes, recheck, revive, term_crossings
from retold.candidates.rewrite import Postings, TermVector, rare_term_matches, rare_terms, term_vector
from retold.candidates.vectors import DIM, VectorIndex, shared_vectors, sharing_a_term
from retold.config import RetoldConfig
from retold.model import Candidate, Document, PairResult, VerdictName
from retold.sketch.hashing import hash_tokens, ngram_hashes, text_fingerprint
from retold.sketch.lsh import band_keys
from retold.sketch.minhash import MinHashParams, is_empty, signatures
from retold.store.base import CANDIDATE_RULES, DocRecord, MemoryStore, PairRecord, Store, dumps
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
    return judge(a, b, align(a, b, cfg.align, max_sentences=cfg.limits.align_sentences), cfg.verdict)


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
    retired: int = 0
    revived: int = 0

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


def _stored_vectors(store: Store, cfg: RetoldConfig) -> VectorIndex:
    """The store's vectors for `query`, read once per state of the store (count and next sequence number change
    with every add or replacement), so a session of queries against an open index does not reread them."""
    key = (store.count(), store.next_seq())
    hit = _QUERY_VECTORS.get(store)
    if hit is not None and hit[0] == key:
        return hit[1]
    index = load_vectors(store, cfg)
    _QUERY_VECTORS[store] = (key, index)
    return index


def _article_vector(doc: Document) -> NDArray[np.float32]:
    return shared_vectors().document(analyze(doc))


def backfill_vectors(store: Store, pool: Workers, progress: Progress | None = None, chunk: int = 4096) -> None:
    """Give the documents stored without an article vector (indexed before the vector channel existed) theirs,
    `chunk` documents per transaction (`progress` stage ``"vectors"``)."""
    missing = store.without_vector()
    for c0 in range(0, len(missing), chunk):
        stop.check()
        docs = store.documents(missing[c0 : c0 + chunk])
        order = sorted(docs)
        rows = list(pool.map(_article_vector, [docs[s] for s in order], pool.chunksize(len(order))))
        with store.transaction():
            store.put_vectors(order, np.asarray(rows, dtype=np.float32).reshape(len(order), -1))
        if progress:
            progress("vectors", min(len(missing), c0 + chunk), len(missing))


def load_vectors(store: Store, cfg: RetoldConfig) -> VectorIndex:
    """The store's article vectors and neighbour counts as a `VectorIndex` (documents without a vector take no
    part); counts the store does not hold yet (an index made before they were kept) are computed here, in memory
    (`reconcile_index` stores them)."""
    seqs, vecs, near = store.vectors()
    index = VectorIndex(seqs.tolist(), vecs if len(seqs) else None, np.maximum(near, 0))
    if bool((near < 0).any()):
        counts = index.full_counts(cfg.vectors.min_cosine)
        index.bump(seqs, counts - index.counts(seqs))
    return index


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
    `replaced` counts the stored documents it replaces (deleted when it was prepared); `changes` what the batch
    changes for pairs stored before it, `near_new` the new documents' vector neighbour counts and `near_stored`
    the stored documents' counts once the batch is in (``(seqs, counts)``)."""

    batch: _Batch
    feats: list[Features]
    sigs: NDArray[np.uint64]
    keys: list[NDArray[np.int64]]
    seqs: list[int]
    replaced: int
    found: list[CandidatePair]
    changes: Changes
    near_new: NDArray[np.int64]
    near_stored: tuple[NDArray[np.int64], NDArray[np.int64]]

    def records(self) -> Iterator[tuple[int, Features, NDArray[np.uint64], NDArray[np.int64], str, int]]:
        """Arguments of `_doc_record` for each document."""
        for seq, f, sig, band, (_, h, _), near in zip(
            self.seqs, self.feats, self.sigs, self.keys, self.batch.todo, self.near_new.tolist(), strict=True
        ):
            yield seq, f, sig, band, h, near


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

    Nothing outlives this process: each worker watches it and exits within moments of its death, however it
    died (kill -9 included); the fork server and multiprocessing's resource tracker then exit too, as the last
    holders of their pipes are gone. Workers ignore Ctrl-C and SIGTERM: this process decides, and on leaving the
    ``with`` block (normally or on Ctrl-C, SIGTERM, an error) drops the queued jobs and waits only for those
    running.
    """

    def __init__(self, n: int = 1) -> None:
        self.n = max(1, n)
        self._pool: ProcessPoolExecutor | None = None
        if self.n > 1:
            self._quiet_resource_tracker()
            ctx = get_context("forkserver")
            ctx.set_forkserver_preload(["retold.pipeline"])
            self._pool = ProcessPoolExecutor(self.n, mp_context=ctx, initializer=_warm_up, initargs=(os.getpid(),))
            try:
                list(self._pool.map(_noop, range(self.n)))  # start the processes now
            except BaseException:
                self.close()
                raise

    @staticmethod
    def _watch(pid: int) -> None:
        """End this worker as soon as process `pid` (the one that started the pool) has exited.

        A worker waits for jobs on a queue whose writing end it holds itself, so it never sees its parent die:
        after a kill -9 of the main process it would wait (holding its memory, the fork server and the resource
        tracker) indefinitely. `os._exit`: nothing of the worker's state is worth saving.
        """
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(1)
        except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll
            while True:
                time.sleep(0.5)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    os._exit(1)
                except OSError:
                    pass
        # A pidfd turns readable when the process exits.
        select.select([fd], [], [])
        os._exit(1)

    @staticmethod
    def _quiet_resource_tracker() -> None:
        """After a kill -9 of this process, multiprocessing's resource tracker removes the pool's semaphores, as it
        should, and warns about each as "leaked": only an alarm. The tracker starts with this interpreter's
        ``-W`` options (`sys.warnoptions`), so the warning is silenced there, not here."""
        flag = "ignore::UserWarning:multiprocessing.resource_tracker"
        if flag not in sys.warnoptions:
            sys.warnoptions.append(flag)

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
        """Stop the processes: jobs not started are dropped, running ones finish (a chunk each, moments).

        Workers are never killed from here: on Python 3.11 a pool whose worker dies while it holds cancelled
        jobs crashes its manager thread and can hang this process at exit.
        """
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

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
            vindex = load_vectors(store, cfg)
        reconcile_index(store, cfg, vindex, pool, stats)
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
            lost = _Deleted()
            if old:
                lost = _delete(store, old, cfg, vindex)
                for seq in old:
                    cache.pop(seq, None)
            base = store.next_seq()
            seqs = list(range(base, base + len(feats)))
            found = find_candidates(store, feats, sigs, seqs, cfg, keys=keys, vectors=vindex)
            changes, near_stored = _changes(store, found, lost, cfg, vindex)
            seconds["analyse"] += t1 - t0
            seconds["candidates"] += time.perf_counter() - t1
            return _Prepared(
                batch, feats, sigs, keys, seqs, len(old), found.pairs, changes, found.near_new, near_stored
            )

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
            stop.check()  # a Ctrl-C or SIGTERM whose exception Python dropped (see `retold.stop`)
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
                    vindex.add(cur.seqs, _vector_rows(cur.feats), cur.near_new)
                    seqs_st, counts_st = cur.near_stored
                    if seqs_st.size:
                        vindex.bump(seqs_st, counts_st - vindex.counts(seqs_st))
                        store.set_near(seqs_st.tolist(), counts_st)
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
                if cur.changes:
                    _reconcile(store, cur.changes, cfg, vindex, pool, cache, cache_size, stats, skip=cur.seqs)
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
    vindex = _stored_vectors(store, cfg) if vectors_on(cfg) else None
    found = find_candidates(
        store, [f], sigs, [store.next_seq()], cfg, exclude={own.seq} if own else set(), vectors=vindex
    ).pairs
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

    store = MemoryStore()
    with Workers(workers) as pool:
        stats = index_documents(store, docs, cfg, workers=pool, batch_size=batch_size, progress=progress, sink=collect)
    # A pair that a later document took out of the rules (a term grown common, a crowd) is no longer stored.
    kept = {(p.a, p.b) for p in store.pairs()}
    found = [x for x in found if (x[0], x[1]) in kept]
    found.sort(key=lambda x: (x[0], x[1]))
    results = [r for _, _, r in found]
    stats.verdicts = dict(Counter(r.verdict for r in results))
    return results, stats


@dataclass(frozen=True, slots=True)
class Found:
    """Candidate pairs of new documents, and what adding them changes for the rules that look beyond a pair.

    `terms` are the new documents' distinct rare terms with the number of indexed documents holding each before
    (`df_before`) and after (`df_after`) they are added; `near_new` each new document's count of vector
    neighbours among the index and the new documents, and `gained` ``(stored seqs, neighbours each gains)``.
    """

    pairs: list[CandidatePair]
    terms: NDArray[np.int64]
    df_before: NDArray[np.int64]
    df_after: NDArray[np.int64]
    near_new: NDArray[np.int64]
    gained: tuple[NDArray[np.int64], NDArray[np.int64]]


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
) -> Found:
    """Candidate pairs of new documents (sequence numbers `seqs`) among stored ones and each other.

    Channels: equal exact fingerprints and shared LSH band keys (`retold.candidates.buckets`), shared rare
    terms (`retold.candidates.rewrite`) and, given the stored article `vectors`, vector neighbours
    (`retold.candidates.vectors`); merged, sorted by ``(a, b)``, ``a`` always the earlier document. The rare-term
    and vector rules are applied to the index as it is once the new documents are in it (`Found` says what that
    changes for stored pairs: `retold.candidates.reconcile`). `keys` are the documents' band keys (`_band_keys`;
    computed when not given). Stored documents in `exclude` are left out.
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
    all_keys = np.concatenate([v.keys for v in terms]) if terms else np.empty(0, dtype=np.int64)
    uniq, held = np.unique(all_keys, return_counts=True)
    tp = store.postings(uniq.tolist(), cfg.rewrite.max_postings)
    df_before = np.zeros(uniq.size, dtype=np.int64)
    if tp.terms.size:
        at = np.minimum(np.searchsorted(tp.terms, uniq), tp.terms.size - 1)
        df_before = np.where(tp.terms[at] == uniq, tp.df[at], 0)
    earlier = Postings(tp.terms, tp.df, tp.term, tp.seq, tp.weight, tp.total)
    rew, sharing = rare_term_matches(terms, seqs, earlier, cfg.rewrite, sharing=vectors is not None)

    m = len(feats)
    near_new = np.zeros(m, dtype=np.int64)
    gained = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    vec: list[Candidate] = []
    if vectors is not None:
        va, vb, cos = vectors.near_pairs(
            seqs, _vector_rows(feats), min_cosine=cfg.vectors.min_cosine, exclude=frozenset(exclude)
        )
        old = va < first
        near_new += np.bincount(vb - first, minlength=m)
        near_new += np.bincount(va[~old] - first, minlength=m)
        gained = np.unique(va[old], return_counts=True)
        count_a = np.empty(va.size, dtype=np.int64)
        count_a[~old] = near_new[va[~old] - first]
        if gained[0].size:
            after = vectors.counts(gained[0]) + gained[1]
            count_a[old] = after[np.searchsorted(gained[0], va[old])]
        crowd = cfg.vectors.crowd
        ok = (count_a <= crowd) & (near_new[vb - first] <= crowd)
        vec = sharing_a_term(
            [
                Candidate(int(a), int(b), "vector", float(min(1.0, c)))
                for a, b, c in zip(va[ok].tolist(), vb[ok].tolist(), cos[ok].tolist(), strict=True)
            ],
            sharing,
        )
    if exclude:
        gone = set(exclude)
        exact, near, rew = ([c for c in chan if c.a not in gone] for chan in (exact, near, rew))
    return Found(merge(exact, near, rew, vec), uniq, df_before, df_before + held, near_new, gained)


# --- the rules that look beyond a pair (retold.candidates.reconcile) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Deleted:
    """What deleting stored documents took away: their terms with the index's counts before the deletion, and
    the vector neighbour counts of the stored documents that lost a neighbour (``(seqs, counts before)``)."""

    terms: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    df: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    near: tuple[NDArray[np.int64], NDArray[np.int64]] = field(
        default_factory=lambda: (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    )


def _delete(store: Store, seqs: Sequence[int], cfg: RetoldConfig, vindex: VectorIndex | None) -> _Deleted:
    """Delete stored documents (replaced texts), keeping what the rules' bookkeeping needs."""
    tv = store.term_vectors(seqs)
    keys = [k for k, _, _ in tv.values()]
    terms = np.unique(np.concatenate(keys)) if keys else np.empty(0, dtype=np.int64)
    tp = store.postings(terms.tolist(), 0)
    df = np.zeros(terms.size, dtype=np.int64)
    if tp.terms.size:
        at = np.minimum(np.searchsorted(tp.terms, terms), tp.terms.size - 1)
        df = np.where(tp.terms[at] == terms, tp.df[at], 0)
    near = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    if vindex is not None:
        gone = set(seqs)
        lost = [
            int(x)
            for d in seqs
            if bool(vindex.has([d])[0])
            for x in vindex.neighbours(d, cfg.vectors.min_cosine)[0].tolist()
            if x not in gone
        ]
        if lost:
            xs, n = np.unique(np.asarray(lost, dtype=np.int64), return_counts=True)
            near = (xs, vindex.counts(xs))
            vindex.bump(xs, -n)
        vindex.remove(seqs)
    store.delete(seqs)
    return _Deleted(terms, df, near)


def _changes(
    store: Store, found: Found, lost: _Deleted, cfg: RetoldConfig, vindex: VectorIndex | None
) -> tuple[Changes, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """What a batch changes for the pairs stored before it (its deletions, `lost`, then its documents), and the
    vector neighbour counts of the stored documents it touches once it is in (``(seqs, counts)``)."""
    cap = cfg.rewrite.max_postings
    terms, before, after = found.terms, found.df_before, found.df_after
    if lost.terms.size:
        # Terms of deleted documents: counted before the deletion, and after it plus the batch's documents.
        tp = store.postings(lost.terms.tolist(), 0)
        now = np.zeros(lost.terms.size, dtype=np.int64)
        if tp.terms.size:
            at = np.minimum(np.searchsorted(tp.terms, lost.terms), tp.terms.size - 1)
            now = np.where(tp.terms[at] == lost.terms, tp.df[at], 0)
        in_batch = np.isin(lost.terms, terms)
        added = np.zeros(lost.terms.size, dtype=np.int64)
        if in_batch.any():
            idx = np.searchsorted(terms, lost.terms[in_batch])
            added[in_batch] = after[idx] - before[idx]
        rest = ~np.isin(terms, lost.terms)
        terms = np.concatenate([terms[rest], lost.terms])
        before = np.concatenate([before[rest], lost.df])
        after = np.concatenate([after[rest], now + added])
    up, down = term_crossings(terms, before, after, cap)
    stored = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    crowded = uncrowded = np.empty(0, dtype=np.int64)
    if vindex is not None:
        gained_seqs, gained = found.gained
        lost_seqs, lost_before = lost.near
        seqs_all = np.union1d(gained_seqs, lost_seqs)
        seqs_all = seqs_all[vindex.has(seqs_all)]
        start = vindex.counts(seqs_all)
        if lost_seqs.size:  # counts before the deletion (the index already holds them after it)
            keep = np.isin(lost_seqs, seqs_all)
            start[np.searchsorted(seqs_all, lost_seqs[keep])] = lost_before[keep]
        end = vindex.counts(seqs_all)
        if gained_seqs.size:
            keep = np.isin(gained_seqs, seqs_all)
            end[np.searchsorted(seqs_all, gained_seqs[keep])] += gained[keep]
        crowd = cfg.vectors.crowd
        crowded = seqs_all[(start <= crowd) & (end > crowd)]
        uncrowded = seqs_all[(start > crowd) & (end <= crowd)]
        changed = start != end
        stored = (seqs_all[changed | np.isin(seqs_all, lost_seqs)], end[changed | np.isin(seqs_all, lost_seqs)])
    return Changes(up, down, crowded, uncrowded), stored


def _reconcile(
    store: Store,
    changes: Changes,
    cfg: RetoldConfig,
    vindex: VectorIndex | None,
    pool: Workers,
    cache: OrderedDict[int, Analyzed],
    cache_size: int,
    stats: ScanStats,
    *,
    skip: Collection[int] = (),
) -> None:
    """Bring the stored pairs in line with the rules after a batch (inside its transaction, its documents and
    pairs written): drop the channels that no longer hold, align the pairs the rules admit again."""
    updates = recheck(store, changes, cfg)
    stats.retired += sum(1 for _, _, ch in updates if not ch)
    store.set_channels(updates)
    fresh, added = revive(store, changes, cfg, vindex, skip=skip)
    store.set_channels(added)
    if fresh:
        jobs = _dispatch(store, fresh, {}, cache, pool, cfg, cache_size, stats, keep=False)
        aligned = list(jobs)
        store.add(
            [],
            [
                PairRecord(p.a, p.b, verdict, p.channels, p.score, js)
                for p, (verdict, js, _) in zip(fresh, aligned, strict=True)
            ],
        )
        _count(stats, fresh, aligned)
        stats.revived += len(fresh)


def reconcile_index(
    store: Store, cfg: RetoldConfig, vindex: VectorIndex | None, pool: Workers, stats: ScanStats
) -> None:
    """Once per index made before the set rules (no ``candidate_rules`` meta): store the vector neighbour counts,
    drop the stored channels the rules no longer admit and align the pairs they admit that were never proposed
    (a vector neighbour beyond the former two nearest)."""
    if store.get_meta("candidate_rules") == CANDIDATE_RULES:
        return
    with store.transaction():
        if store.count():
            uncrowded = crowded = np.empty(0, dtype=np.int64)
            if vindex is not None and len(vindex):
                seqs = vindex.seqs.copy()
                counts = vindex.counts(seqs)
                store.set_near(seqs.tolist(), counts)
                crowded = seqs[counts > cfg.vectors.crowd]
                uncrowded = seqs[(counts <= cfg.vectors.crowd) & (counts > 0)]
            changes = Changes(store.common_terms(cfg.rewrite.max_postings), np.empty(0, np.int64), crowded, uncrowded)
            cache: OrderedDict[int, Analyzed] = OrderedDict()
            _reconcile(store, changes, cfg, vindex, pool, cache, 0, stats)
        store.set_meta("candidate_rules", CANDIDATE_RULES)


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
    for seq in dict.fromkeys(s for p in found for s in (p.a, p.b)):  # b is stored too for a revived pair
        if seq in analyzed:
            continue
        hit = cache.get(seq)
        if hit is not None:
            cache.move_to_end(seq)
            analyzed[seq] = hit
        else:
            missing.append(seq)
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


def _doc_record(
    seq: int, f: Features, sig: NDArray[np.uint64], bands: NDArray[np.int64], h: str, near: int
) -> DocRecord:
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
        near=near,
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


def _warm_up(main_pid: int | None = None) -> None:
    """Start watching `main_pid` (see `Workers._watch`), then load what every worker needs before its first job:
    word frequencies, the stemmer, and the sketch kernels (numba loads its compiled cache on the first call,
    ~0.5 s)."""
    if main_pid is not None:
        # Ctrl-C reaches the whole process group (and systemd sends SIGTERM to the whole service): a worker
        # interrupted while it waits for a job dies, and a pool that loses a worker is broken. The main process
        # handles both and stops the workers in order; the watchdog covers its death.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        threading.Thread(target=Workers._watch, args=(main_pid,), name="retold-watchdog", daemon=True).start()
    zipf("the")
    stem("warming")
    signatures([ngram_hashes(hash_tokens(["warm", "up", "the", "sketch", "kernels", "now"]), 5)], MinHashParams())
