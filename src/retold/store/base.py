"""The `Store` protocol: what indexing, querying and exporting need from a persistent index; the records it
holds; and `MemoryStore`, a dict-backed store for tests and in-process scans (the SQLite store is the default).

Documents carry a sequence number `seq` (arrival order; a changed document is re-added with a new one). Every
lookup answers for the documents already stored, so the pipeline pairs each new document only with earlier ones.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from retold.model import (
    Alignment,
    Channel,
    Document,
    PairResult,
    Passage,
    PassageLabel,
    SideSummary,
    Span,
    VerdictName,
)

__all__ = [
    "CANDIDATE_RULES",
    "DocRecord",
    "DocRow",
    "MemoryStore",
    "PairRecord",
    "RunState",
    "Store",
    "StoredDoc",
    "TermPostings",
    "pair_from_json",
]


CANDIDATE_RULES = "2"
"""Meta ``candidate_rules`` of a store whose pairs follow the current candidate rules (`retold.candidates.reconcile`:
rules over the set of documents, not their order); a store without it is reconciled at the start of its next run
(`retold.pipeline.reconcile_index`)."""


@dataclass(frozen=True, slots=True)
class DocRecord:
    """One document as stored: text and metadata, plus the sketches that candidate search looks up.

    `fingerprint` is the exact-content hash as a signed 64-bit int (None: no content tokens, never matched);
    `band_keys` the LSH band keys (empty: no content); `term_keys`/`term_weights` the rare terms sorted by key,
    `rare_total` their weight summed in that order; `vector` the article vector of the vector channel (None when
    the channel is off) and `near` its count of vector neighbours among the indexed documents.
    """

    seq: int
    doc: Document
    text_hash: str
    credited: bool
    fingerprint: int | None
    signature: NDArray[np.uint64]
    band_keys: NDArray[np.int64]
    term_keys: NDArray[np.int64]
    term_weights: NDArray[np.float64]
    rare_total: float
    vector: NDArray[np.float32] | None = None
    near: int = 0


@dataclass(frozen=True, slots=True)
class PairRecord:
    """An aligned pair: `a` the earlier document, `b` the later one; `json` is the pair JSON, unchanged."""

    a: int
    b: int
    verdict: VerdictName
    channels: tuple[Channel, ...]
    score: float
    json: str


@dataclass(frozen=True, slots=True)
class StoredDoc:
    """Where a stored document id sits, which text it holds, the run that added it and where it was read from
    (so a run can tell an id it already added, a duplicate record, from one stored earlier)."""

    seq: int
    text_hash: str
    run: int = 0
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class DocRow:
    """What export and families need about a stored document (no text)."""

    seq: int
    id: str
    date: str | None
    chars: int
    credited: bool


@dataclass(frozen=True, slots=True)
class TermPostings:
    """Posting-list lengths of some terms and the postings of those within a cap, as flat arrays (the fields
    of `retold.candidates.rewrite.Postings`): `terms` (sorted) with `df`; `term`, `seq`, `weight`, `total`
    sorted by ``(term, seq)``, ``total`` being the rare-term weight of the posting's document."""

    terms: NDArray[np.int64]
    df: NDArray[np.int64]
    term: NDArray[np.int64]
    seq: NDArray[np.int64]
    weight: NDArray[np.float64]
    total: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RunState:
    """A started run: its number, and the earlier runs that never finished (run, batches they committed)."""

    run: int
    interrupted: tuple[tuple[int, int], ...]


class Store(Protocol):
    """A persistent index of documents, their sketches, pairs and families.

    Writes happen inside `transaction()`; a failure or interruption inside it leaves the store as before it.
    """

    @property
    def location(self) -> str:
        """Where the store lives, for messages."""
        ...

    def close(self) -> None:
        """Release the store; safe to call twice."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit of work: committed on normal exit, rolled back on any exception."""
        ...

    def count(self) -> int:
        """Number of stored documents."""
        ...

    def next_seq(self) -> int:
        """The sequence number the next document gets (one above the largest stored, 0 when empty)."""
        ...

    def lookup(self, ids: Collection[str]) -> dict[str, StoredDoc]:
        """The stored documents among `ids` (with the run that added each: the latest run while one is open).
        Ids match exactly, whatever they hold (NUL, any Unicode, any length)."""
        ...

    def documents(self, seqs: Collection[int]) -> dict[int, Document]:
        """Stored documents by sequence number."""
        ...

    def doc_rows(self) -> list[DocRow]:
        """Every stored document, in sequence order."""
        ...

    def exact_members(self, fingerprints: Collection[int], limit: int) -> dict[int, list[int]]:
        """For each fingerprint, the first `limit` documents holding it, ascending; absent when none."""
        ...

    def band_members(self, keys: Collection[int], limit: int) -> dict[int, list[int]]:
        """For each band key, the first `limit` documents in its bucket, ascending; absent when none."""
        ...

    def postings(self, terms: Collection[int], cap: int) -> TermPostings:
        """Posting-list lengths of `terms`, postings of those with at most `cap` documents, and their totals."""
        ...

    def signatures(self, seqs: Collection[int]) -> dict[int, NDArray[np.uint64]]:
        """MinHash signatures by sequence number."""
        ...

    def vectors(self) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.int64]]:
        """Every stored article vector: sequence numbers (ascending), the vectors (one row each) and each one's
        count of vector neighbours (-1 where the store has none yet)."""
        ...

    def set_near(self, seqs: Sequence[int], counts: Sequence[int] | NDArray[np.int64]) -> None:
        """Store the vector neighbour counts of stored documents."""
        ...

    def holders(self, terms: Collection[int]) -> dict[int, list[int]]:
        """For each term, the documents holding it as far as the store keeps them (at least the first
        ``max_postings + 1``), ascending; absent when none."""
        ...

    def term_vectors(self, seqs: Collection[int]) -> dict[int, tuple[NDArray[np.int64], NDArray[np.float64], float]]:
        """Rare terms of stored documents: ``(keys, weights, total)`` as `DocRecord` holds them."""
        ...

    def common_terms(self, cap: int) -> NDArray[np.int64]:
        """Every term held by more than `cap` stored documents, sorted."""
        ...

    def pairs_among(self, seqs: Collection[int]) -> list[PairRecord]:
        """Stored pairs whose two documents are both in `seqs`, in ``(a, b)`` order."""
        ...

    def pairs_touching(self, seqs: Collection[int]) -> list[PairRecord]:
        """Stored pairs with at least one document in `seqs`, in ``(a, b)`` order."""
        ...

    def set_channels(self, updates: Sequence[tuple[int, int, tuple[Channel, ...]]]) -> None:
        """Give stored pairs new channels; a pair given none is deleted (no longer a candidate)."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A value of the store's meta table (None when absent)."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the store's meta table."""
        ...

    def put_vectors(self, seqs: Sequence[int], vectors: NDArray[np.float32]) -> None:
        """Store article vectors of stored documents (documents indexed before the vector channel existed)."""
        ...

    def without_vector(self) -> list[int]:
        """Sequence numbers of stored documents that have no article vector, ascending."""
        ...

    def add(self, docs: Sequence[DocRecord], pairs: Sequence[PairRecord]) -> None:
        """Store new documents (with their bands, postings and term counts) and pairs."""
        ...

    def delete(self, seqs: Collection[int]) -> None:
        """Remove documents with their bands, postings, term counts and every pair they are in."""
        ...

    def pairs(self, b: int | None = None) -> Iterator[PairRecord]:
        """Stored pairs in ``(a, b)`` order; only those whose later document is `b` when given."""
        ...

    def replace_families(self, families: Sequence[tuple[str, str, int, str]]) -> None:
        """Replace the stored families: ``(id, original, size, json)`` rows."""
        ...

    def family_count(self) -> int:
        """Number of stored families."""
        ...

    def begin_run(self, note: str) -> RunState:
        """Open a run in the ledger (committed at once) and report unfinished earlier runs. A store that other
        processes may write to waits for them first (see `retold.store.sqlite`), so the runs it reports are
        those of writers that are gone, never of one still running."""
        ...

    def record_batch(self, run: int, batch: int, added: int, updated: int, pairs: int, last_seq: int) -> None:
        """Ledger line for a batch; call inside the batch's transaction so it commits with the batch."""
        ...

    def finish_run(self, run: int) -> None:
        """Mark a run finished."""
        ...


def pair_from_json(data: Mapping[str, Any], channels: Sequence[Channel] = ()) -> PairResult:
    """Rebuild a `PairResult` from its pair JSON (``to_json`` of the result is the same JSON again).

    >>> j = {"a": {"id": "x", "date": None, "chars": 5, "coverage": 1.0}, "b": {"id": "y", "date": None,
    ...      "chars": 5, "coverage": 1.0}, "verdict": "duplicate", "passages": [], "spans": {"a": [], "b": []}}
    >>> pair_from_json(j).to_json() == j
    True
    """

    def side(s: Mapping[str, Any]) -> SideSummary:
        return SideSummary(str(s["id"]), s["date"], int(s["chars"]), float(s["coverage"]))

    def spans(rows: Sequence[Mapping[str, Any]]) -> tuple[Span, ...]:
        return tuple(Span(int(r["start"]), int(r["end"]), r["label"]) for r in rows)

    passages = tuple(
        Passage(
            cast(PassageLabel, p["label"]),
            int(p["a_start"]),
            int(p["a_end"]),
            int(p["b_start"]),
            int(p["b_end"]),
            float(p["score"]),
        )
        for p in data["passages"]
    )
    alignment = Alignment(passages, spans(data["spans"]["a"]), spans(data["spans"]["b"]))
    return PairResult(side(data["a"]), side(data["b"]), data["verdict"], alignment, tuple(channels))


def now() -> str:
    """UTC timestamp for ledger rows."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class MemoryStore:
    """A `Store` in dicts: same answers as the SQLite store, nothing on disk.

    Transactions are not atomic here (a failure leaves partial writes); it serves tests and in-process scans,
    where a failure discards the whole store.
    """

    def __init__(self) -> None:
        self._docs: dict[int, DocRecord] = {}
        self._by_id: dict[str, int] = {}
        self._fp: dict[int, list[int]] = {}
        self._bands: dict[int, list[int]] = {}
        self._postings: dict[int, dict[int, float]] = {}
        self._pairs: dict[tuple[int, int], PairRecord] = {}
        self._families: list[tuple[str, str, int, str]] = []
        self._runs: dict[int, list[int]] = {}
        self._finished: set[int] = set()
        self._added_by: dict[int, int] = {}
        self._vectors: dict[int, NDArray[np.float32]] = {}
        self._near: dict[int, int] = {}
        self._meta: dict[str, str] = {"candidate_rules": CANDIDATE_RULES}

    @property
    def location(self) -> str:
        return ":memory:"

    def close(self) -> None:
        return None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        yield

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    def count(self) -> int:
        return len(self._docs)

    def next_seq(self) -> int:
        return max(self._docs, default=-1) + 1

    def lookup(self, ids: Collection[str]) -> dict[str, StoredDoc]:
        out: dict[str, StoredDoc] = {}
        for i in ids:
            seq = self._by_id.get(i)
            if seq is not None:
                r = self._docs[seq]
                out[i] = StoredDoc(seq, r.text_hash, self._added_by[seq], r.doc.origin)
        return out

    def documents(self, seqs: Collection[int]) -> dict[int, Document]:
        return {s: self._docs[s].doc for s in seqs if s in self._docs}

    def doc_rows(self) -> list[DocRow]:
        return [DocRow(s, r.doc.id, r.doc.date, len(r.doc.text), r.credited) for s, r in sorted(self._docs.items())]

    def exact_members(self, fingerprints: Collection[int], limit: int) -> dict[int, list[int]]:
        return {f: self._fp[f][:limit] for f in fingerprints if self._fp.get(f)}

    def band_members(self, keys: Collection[int], limit: int) -> dict[int, list[int]]:
        return {k: self._bands[k][:limit] for k in keys if self._bands.get(k)}

    def postings(self, terms: Collection[int], cap: int) -> TermPostings:
        held = sorted(t for t in set(terms) if self._postings.get(t))
        rows = [
            (t, s, w, self._docs[s].rare_total)
            for t in held
            if len(self._postings[t]) <= cap
            for s, w in sorted(self._postings[t].items())
        ]
        return TermPostings(
            np.asarray(held, dtype=np.int64),
            np.asarray([len(self._postings[t]) for t in held], dtype=np.int64),
            np.asarray([r[0] for r in rows], dtype=np.int64),
            np.asarray([r[1] for r in rows], dtype=np.int64),
            np.asarray([r[2] for r in rows], dtype=np.float64),
            np.asarray([r[3] for r in rows], dtype=np.float64),
        )

    def signatures(self, seqs: Collection[int]) -> dict[int, NDArray[np.uint64]]:
        return {s: self._docs[s].signature for s in seqs if s in self._docs}

    def vectors(self) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.int64]]:
        held = sorted(self._vectors)
        if not held:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return (
            np.asarray(held, dtype=np.int64),
            np.array([self._vectors[s] for s in held], dtype=np.float32),
            np.asarray([self._near.get(s, -1) for s in held], dtype=np.int64),
        )

    def set_near(self, seqs: Sequence[int], counts: Sequence[int] | NDArray[np.int64]) -> None:
        for s, n in zip(seqs, np.asarray(counts).tolist(), strict=True):
            if s in self._docs:
                self._near[s] = int(n)

    def holders(self, terms: Collection[int]) -> dict[int, list[int]]:
        return {t: sorted(self._postings[t]) for t in terms if self._postings.get(t)}

    def term_vectors(self, seqs: Collection[int]) -> dict[int, tuple[NDArray[np.int64], NDArray[np.float64], float]]:
        return {
            s: (self._docs[s].term_keys, self._docs[s].term_weights, self._docs[s].rare_total)
            for s in seqs
            if s in self._docs
        }

    def common_terms(self, cap: int) -> NDArray[np.int64]:
        return np.asarray(sorted(t for t, p in self._postings.items() if len(p) > cap), dtype=np.int64)

    def pairs_among(self, seqs: Collection[int]) -> list[PairRecord]:
        want = set(seqs)
        return [p for k, p in sorted(self._pairs.items()) if k[0] in want and k[1] in want]

    def pairs_touching(self, seqs: Collection[int]) -> list[PairRecord]:
        want = set(seqs)
        return [p for k, p in sorted(self._pairs.items()) if k[0] in want or k[1] in want]

    def set_channels(self, updates: Sequence[tuple[int, int, tuple[Channel, ...]]]) -> None:
        for a, b, channels in updates:
            p = self._pairs.get((a, b))
            if p is None:
                continue
            if channels:
                self._pairs[(a, b)] = PairRecord(a, b, p.verdict, channels, p.score, p.json)
            else:
                del self._pairs[(a, b)]

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def put_vectors(self, seqs: Sequence[int], vectors: NDArray[np.float32]) -> None:
        for s, v in zip(seqs, vectors, strict=True):
            if s in self._docs:
                self._vectors[s] = np.asarray(v, dtype=np.float32)
                self._near[s] = -1

    def without_vector(self) -> list[int]:
        return sorted(set(self._docs) - set(self._vectors))

    def add(self, docs: Sequence[DocRecord], pairs: Sequence[PairRecord]) -> None:
        for r in docs:
            if r.doc.id in self._by_id:
                raise ValueError(f"document {r.doc.id!r} is already stored")
            self._docs[r.seq] = r
            self._by_id[r.doc.id] = r.seq
            self._added_by[r.seq] = max(self._runs, default=0)
            if r.fingerprint is not None:
                self._fp.setdefault(r.fingerprint, []).append(r.seq)
            for k in dict.fromkeys(r.band_keys.tolist()):
                self._bands.setdefault(k, []).append(r.seq)
            for t, w in zip(r.term_keys.tolist(), r.term_weights.tolist(), strict=True):
                self._postings.setdefault(t, {})[r.seq] = w
            if r.vector is not None:
                self._vectors[r.seq] = np.asarray(r.vector, dtype=np.float32)
                self._near[r.seq] = r.near
        for p in pairs:
            self._pairs[(p.a, p.b)] = p

    def delete(self, seqs: Collection[int]) -> None:
        for s in seqs:
            r = self._docs.pop(s, None)
            if r is None:
                continue
            del self._by_id[r.doc.id]
            del self._added_by[s]
            self._vectors.pop(s, None)
            self._near.pop(s, None)
            if r.fingerprint is not None:
                _drop(self._fp, r.fingerprint, s)
            for k in dict.fromkeys(r.band_keys.tolist()):
                _drop(self._bands, k, s)
            for t in r.term_keys.tolist():
                plist = self._postings[t]
                del plist[s]
                if not plist:
                    del self._postings[t]
        gone = set(seqs)
        for key in [k for k in self._pairs if k[0] in gone or k[1] in gone]:
            del self._pairs[key]

    def pairs(self, b: int | None = None) -> Iterator[PairRecord]:
        for key in sorted(self._pairs):
            if b is None or key[1] == b:
                yield self._pairs[key]

    def replace_families(self, families: Sequence[tuple[str, str, int, str]]) -> None:
        self._families = list(families)

    def family_count(self) -> int:
        return len(self._families)

    def begin_run(self, note: str) -> RunState:
        run = max(self._runs, default=0) + 1
        interrupted = tuple((r, len(b)) for r, b in sorted(self._runs.items()) if r not in self._finished)
        self._runs[run] = []
        return RunState(run, interrupted)

    def record_batch(self, run: int, batch: int, added: int, updated: int, pairs: int, last_seq: int) -> None:
        self._runs[run].append(batch)

    def finish_run(self, run: int) -> None:
        self._finished.add(run)


def _drop(index: dict[int, list[int]], key: int, seq: int) -> None:
    members = index[key]
    members.remove(seq)
    if not members:
        del index[key]


def dumps(record: Mapping[str, Any]) -> str:
    """Compact JSON, as `retold.io.writers.JsonlWriter` writes it."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
