"""The facade: compare two files, scan a corpus into an output folder, grow, query and export a persistent index,
find the shared data. The CLI (and later the service) call only these functions.

A scan is an index run into a temporary SQLite file (or the `db` given) followed by an export, so `scan`,
`index add` + `index export`, and an index grown in chunks all give the same pairs and families. Both stream the
inputs through `retold.pipeline.index_documents` batch by batch and write the manifest as batches commit, so memory
does not grow with the corpus (the export holds one small row per document for the families).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from retold.config import RetoldConfig
from retold.errors import InputError
from retold.families import LINK_VERDICTS, build_families, keep_list
from retold.io.outputs import write_families
from retold.io.readers import count_records, duplicate_error, iter_corpus, read_text_file
from retold.io.writers import JsonlWriter, manifest_record
from retold.model import DocInfo, Document, PairResult, RecordError
from retold.pipeline import (
    BATCH_SIZE,
    Outcome,
    Progress,
    ScanStats,
    Workers,
    compare,
    index_documents,
    query,
)
from retold.store.base import dumps, pair_from_json
from retold.store.sqlite import SqliteStore
from retold.text.analyze import analyze

SEED_A = "seeds/000_eb1553226c65909d.txt"
SEED_B = "seeds/004_8625c1f9bcc81fb5.txt"

KeepMode = Literal["original", "first", "all"]

_SIDE = pa.struct([("id", pa.string()), ("date", pa.string()), ("chars", pa.int64()), ("coverage", pa.float64())])
_SPANS = pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())]))
PAIRS_SCHEMA = pa.schema(
    [
        pa.field("a", _SIDE, nullable=False),
        pa.field("b", _SIDE, nullable=False),
        pa.field("verdict", pa.string(), nullable=False),
        pa.field(
            "passages",
            pa.list_(
                pa.struct(
                    [
                        ("label", pa.string()),
                        ("a_start", pa.int64()),
                        ("a_end", pa.int64()),
                        ("b_start", pa.int64()),
                        ("b_end", pa.int64()),
                        ("score", pa.float64()),
                    ]
                )
            ),
            nullable=False,
        ),
        pa.field("spans", pa.struct([("a", _SPANS), ("b", _SPANS)]), nullable=False),
    ]
)
"""pairs.parquet: the pair JSON as nested columns (same field names)."""


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The shared data folder: `explicit`, else ``$RETOLD_DATA``, else ``../shared/data`` from the working
    directory or from the source checkout. Raises `InputError` if none exists.
    """
    tried: list[Path] = []
    if explicit is not None:
        tried.append(Path(explicit))
    elif os.environ.get("RETOLD_DATA"):
        tried.append(Path(os.environ["RETOLD_DATA"]))
    else:
        tried.append(Path.cwd().parent / "shared" / "data")
        tried.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for p in tried:
        if p.is_dir():
            return p
    raise InputError("shared data folder not found (set RETOLD_DATA or pass --data)", source=str(tried[0]))


def compare_files(
    path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], cfg: RetoldConfig | None = None
) -> PairResult:
    """Verdict and alignment of two text files. Raises `InputError` naming the file if one cannot be read."""
    return compare_documents(read_text_file(path_a), read_text_file(path_b), cfg)


def compare_documents(a: Document, b: Document, cfg: RetoldConfig | None = None) -> PairResult:
    """Verdict and alignment of two documents."""
    return compare(analyze(a), analyze(b), cfg)


# --- the persistent index --------------------------------------------------------------------------------------


def open_index(db: str | os.PathLike[str], cfg: RetoldConfig | None = None, *, create: bool = False) -> SqliteStore:
    """Open (or, with `create`, create) an index file made with `cfg`.

    Raises:
        StoreError: Missing file (without `create`), not a retold index, corrupt, or made with another
            configuration.
    """
    cfg = cfg or RetoldConfig()
    return SqliteStore(
        db,
        cfg.digest(),
        json.dumps(asdict(cfg), sort_keys=True),
        create=create,
        keep_postings=cfg.rewrite.max_postings + 1,  # candidate search never reads a longer list
    )


@dataclass(frozen=True, slots=True)
class Corpus:
    """What was read from the inputs: documents in order, unusable records, and both in input order (all in
    memory: `scan_corpus` and `index_corpus` stream instead)."""

    docs: tuple[Document, ...]
    errors: tuple[RecordError, ...]
    items: tuple[Document | RecordError, ...]


def read_corpus(paths: Sequence[str | os.PathLike[str]], *, text_field: str = "text", id_field: str = "id") -> Corpus:
    """Read every record of the inputs; bad records become `RecordError` values (never raised)."""
    items = tuple(iter_corpus(paths, text_field=text_field, id_field=id_field))
    docs = tuple(x for x in items if isinstance(x, Document))
    errors = tuple(x for x in items if isinstance(x, RecordError))
    return Corpus(docs, errors, items)


def write_manifest(path: Path, corpus: Corpus, stats: ScanStats) -> None:
    """One line per input record: ``ok`` (added), ``updated`` (text changed; replaced), ``unchanged`` (already
    in the index), or ``skipped`` with the reason."""
    updated, unchanged = set(stats.updated), set(stats.unchanged)
    with JsonlWriter(path) as out:
        for item in corpus.items:
            rec = manifest_record(item)
            if isinstance(item, Document):
                rec["status"] = "updated" if item.id in updated else "unchanged" if item.id in unchanged else "ok"
            out.write(rec)


class _Ledger:
    """Accounts for every input record while the corpus streams through the indexer.

    Records wait here, in input order, until the indexer reports what became of them (`settle`); each then gets
    its manifest line at once (when a manifest is written), so the manifest keeps input order and only the
    batches in flight are held. Bad records are kept (`errors`) for the report.
    """

    def __init__(self, manifest: Path | None) -> None:
        self.read = 0
        self.errors: list[RecordError] = []
        self._queue: deque[Document | RecordError] = deque()
        self._out = JsonlWriter(manifest) if manifest is not None else None
        if self._out is not None:
            self._out.__enter__()

    def documents(self, paths: Sequence[str | os.PathLike[str]], text_field: str, id_field: str) -> Iterator[Document]:
        """The usable records of the inputs, every id passed on (the indexer reports repeats)."""
        for item in iter_corpus(paths, text_field=text_field, id_field=id_field, unique_ids=False):
            self.read += 1
            if isinstance(item, Document):
                self._queue.append(item)
                yield item
            elif self._queue:
                self._queue.append(item)
            else:
                self._skip(item)

    def settle(self, outcomes: list[Outcome]) -> None:
        """Write the lines of these documents (in input order) and of the bad records read before or between them."""
        for o in outcomes:
            head = self._queue.popleft()
            while isinstance(head, RecordError):
                self._skip(head)
                head = self._queue.popleft()
            if head is not o.doc:
                raise RuntimeError(f"indexer reported {o.doc.id!r} out of input order")  # a bug, never input
            if o.status == "duplicate":
                self._skip(duplicate_error(o.doc, o.first))
            elif self._out is not None:
                rec = manifest_record(o.doc)
                rec["status"] = o.status
                self._out.write(rec)
        while self._queue and isinstance(first := self._queue[0], RecordError):
            self._queue.popleft()
            self._skip(first)

    def finish(self) -> None:
        """Account for the bad records after the last document; close the manifest."""
        while self._queue:
            item = self._queue.popleft()
            if not isinstance(item, RecordError):
                raise RuntimeError(f"indexer never reported {item.id!r}")
            self._skip(item)
        self.close()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()

    def _skip(self, error: RecordError) -> None:
        self.errors.append(error)
        if self._out is not None:
            self._out.write(manifest_record(error))


def _index_stream(
    store: SqliteStore,
    paths: Sequence[str | os.PathLike[str]],
    cfg: RetoldConfig,
    ledger: _Ledger,
    *,
    text_field: str,
    id_field: str,
    pool: Workers,
    batch_size: int,
    progress: Progress | None,
    note: str,
) -> ScanStats:
    """Stream the inputs into the store, accounting for every record in `ledger`."""
    docs = ledger.documents(paths, text_field, id_field)
    total = count_records(paths)
    stats = index_documents(
        store,
        docs,
        cfg,
        workers=pool,
        batch_size=batch_size,
        progress=progress,
        note=note,
        outcomes=ledger.settle,
        total=total,
    )
    ledger.finish()
    return stats


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What `index_corpus` read and did."""

    read: int
    skipped: int
    stats: ScanStats
    db: Path
    documents_in_index: int
    wall_seconds: float
    errors: tuple[RecordError, ...]

    @property
    def docs_per_second(self) -> float:
        return self.stats.documents / self.wall_seconds if self.wall_seconds > 0 else 0.0


def index_corpus(
    paths: Sequence[str | os.PathLike[str]],
    db: str | os.PathLike[str],
    cfg: RetoldConfig | None = None,
    *,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    manifest: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Add a corpus to an index file (created if missing): only new documents and changed texts are processed.

    Interrupting it (Ctrl-C, kill -9) loses at most the batch in flight; running it again resumes. The inputs
    are streamed (see `retold.pipeline.index_documents`); the manifest, when asked for, gets one line per input
    record as its batch commits.

    Raises:
        StoreError: The index cannot be used (corrupt, other configuration, busy).
    """
    t0 = time.perf_counter()
    cfg = cfg or RetoldConfig()
    note = "index add " + " ".join(os.fspath(p) for p in paths)
    ledger = _Ledger(Path(manifest) if manifest is not None else None)
    try:
        with Workers(workers) as pool, open_index(db, cfg, create=True) as store:
            stats = _index_stream(
                store,
                paths,
                cfg,
                ledger,
                text_field=text_field,
                id_field=id_field,
                pool=pool,
                batch_size=batch_size,
                progress=progress,
                note=note,
            )
            total = store.count()
    finally:
        ledger.close()
    return IndexReport(
        read=ledger.read,
        skipped=len(ledger.errors),
        stats=stats,
        db=Path(db),
        documents_in_index=total,
        wall_seconds=time.perf_counter() - t0,
        errors=tuple(ledger.errors),
    )


@dataclass(frozen=True, slots=True)
class QueryReport:
    """The earlier articles a document reuses: pair results with the stored article as ``a``."""

    doc: Document
    results: tuple[PairResult, ...]
    added: bool
    seconds: float


def query_file(
    db: str | os.PathLike[str],
    path: str | os.PathLike[str],
    cfg: RetoldConfig | None = None,
    *,
    add: bool = False,
) -> QueryReport:
    """Which stored articles the text file at `path` reuses; with `add`, also add it to the index.

    Raises:
        InputError: The file cannot be read.
        StoreError: No index at `db`, or it cannot be used.
    """
    return query_document(db, read_text_file(path), cfg, add=add)


def query_document(
    db: str | os.PathLike[str], doc: Document, cfg: RetoldConfig | None = None, *, add: bool = False
) -> QueryReport:
    """`query_file` for a document already in memory."""
    t0 = time.perf_counter()
    cfg = cfg or RetoldConfig()
    with open_index(db, cfg) as store:
        if not add:
            results = query(store, doc, cfg)
        else:
            index_documents(store, [doc], cfg, note=f"index query --add {doc.id}")
            seq = store.lookup([doc.id])[doc.id].seq
            results = [
                pair_from_json(json.loads(p.json), p.channels) for p in store.pairs(b=seq) if p.verdict != "unrelated"
            ]
    return QueryReport(doc, tuple(results), add, time.perf_counter() - t0)


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote: pairs, families (singletons included) and the keep-list."""

    pairs: int
    families: int
    multi_member_families: int
    files: tuple[Path, ...]


def export_index(
    db: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    cfg: RetoldConfig | None = None,
    *,
    keep: KeepMode = "original",
    include_unrelated: bool = False,
) -> ExportReport:
    """Write pairs, families and the keep-list of an index (JSONL and Parquet); families are recomputed from
    the stored pairs and stored again, so the index and the files agree.

    Raises:
        StoreError: No index at `db`, or it cannot be used.
    """
    with open_index(db, cfg) as store:
        return _export(store, Path(out_dir), keep=keep, include_unrelated=include_unrelated)


_PARQUET_ROWS = 8192


def _export(store: SqliteStore, out: Path, *, keep: KeepMode, include_unrelated: bool) -> ExportReport:
    out.mkdir(parents=True, exist_ok=True)
    rows = store.doc_rows()
    order = {r.id: i for i, r in enumerate(rows)}
    infos = [DocInfo(r.id, r.date, r.chars, order[r.id], r.credited) for r in rows]
    linking: list[PairResult] = []
    table: list[dict[str, object]] = []
    written = 0
    # The stored pair JSON is written as it is: pairs.jsonl holds exactly `PairResult.to_json`. Parquet is
    # written in row groups of `_PARQUET_ROWS` pairs, so the pairs never sit in memory all at once.
    with (
        open(out / "pairs.jsonl", "w", encoding="utf-8", newline="\n") as fh,
        pq.ParquetWriter(out / "pairs.parquet", PAIRS_SCHEMA) as parquet,
    ):
        for p in store.pairs():
            linked = p.verdict in LINK_VERDICTS
            if not linked and not include_unrelated and p.verdict == "unrelated":
                continue
            data = json.loads(p.json)
            if linked:
                linking.append(pair_from_json(data, p.channels))
            if include_unrelated or p.verdict != "unrelated":
                fh.write(p.json + "\n")
                table.append(data)
                written += 1
                if len(table) >= _PARQUET_ROWS:
                    parquet.write_table(pa.Table.from_pylist(table, schema=PAIRS_SCHEMA))
                    table.clear()
        if table or not written:
            parquet.write_table(pa.Table.from_pylist(table, schema=PAIRS_SCHEMA))
    families = build_families(infos, linking)
    keep_records = keep_list(families, keep, order)
    with store.transaction():
        store.replace_families([(f.id, f.original, len(f.members), dumps(f.to_json())) for f in families])
    paths = write_families(out, families, keep_records)
    return ExportReport(
        pairs=written,
        families=len(families),
        multi_member_families=sum(1 for f in families if len(f.members) > 1),
        files=(out / "pairs.jsonl", out / "pairs.parquet", *paths.values()),
    )


# --- scan ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What a scan read, found and wrote."""

    read: int
    skipped: int
    stats: ScanStats
    pairs: int
    out_dir: Path
    wall_seconds: float
    errors: tuple[RecordError, ...]
    families: int = 0
    db: Path | None = None

    @property
    def docs_per_second(self) -> float:
        return self.stats.documents / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "documents": self.stats.documents,
            "records_read": self.read,
            "skipped": self.skipped,
            "updated": len(self.stats.updated),
            "unchanged": len(self.stats.unchanged),
            "candidates": self.stats.candidates,
            "aligned_pairs": self.stats.aligned,
            "all_pairs": self.stats.all_pairs,
            "pairs_written": self.pairs,
            "verdicts": self.stats.verdicts,
            "families": self.families,
            "seconds": {k: round(v, 3) for k, v in self.stats.seconds.items()},
            "wall_seconds": round(self.wall_seconds, 3),
            "docs_per_second": round(self.docs_per_second, 1),
            "db": str(self.db) if self.db is not None else None,
        }


@contextmanager
def _scan_db(db: str | os.PathLike[str] | None) -> Iterator[Path]:
    if db is not None:
        yield Path(db)
        return
    with tempfile.TemporaryDirectory(prefix="retold-scan-") as tmp:
        yield Path(tmp) / "scan.sqlite"


def scan_corpus(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    cfg: RetoldConfig | None = None,
    *,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
    keep_unrelated: bool = False,
    progress: Progress | None = None,
    db: str | os.PathLike[str] | None = None,
    keep: KeepMode = "original",
    batch_size: int = BATCH_SIZE,
) -> ScanReport:
    """Read a corpus, index it (into `db`, else a temporary file), and write ``pairs.jsonl``, ``families.jsonl``,
    ``keep.jsonl`` (and the same as Parquet), ``manifest.jsonl`` and ``summary.json``.

    Every input record gets one manifest line (``ok``, or ``skipped`` with the reason; with an existing `db`
    also ``updated`` or ``unchanged``), written as its batch commits; bad records never stop the run. The inputs
    are streamed (memory is bounded by the batches, not the corpus). With `db`, the outputs cover everything in
    that index.

    Raises:
        StoreError: `db` cannot be used.
    """
    t0 = time.perf_counter()
    cfg = cfg or RetoldConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    note = "scan " + " ".join(os.fspath(p) for p in paths)
    ledger = _Ledger(out / "manifest.jsonl")
    try:
        with _scan_db(db) as path, Workers(workers) as pool, open_index(path, cfg, create=True) as store:
            stats = _index_stream(
                store,
                paths,
                cfg,
                ledger,
                text_field=text_field,
                id_field=id_field,
                pool=pool,
                batch_size=batch_size,
                progress=progress,
                note=note,
            )
            t_export = time.perf_counter()
            exported = _export(store, out, keep=keep, include_unrelated=keep_unrelated)
            stats.seconds["export"] = time.perf_counter() - t_export
    finally:
        ledger.close()
    if not keep_unrelated:
        stats.verdicts.pop("unrelated", None)
    report = ScanReport(
        read=ledger.read,
        skipped=len(ledger.errors),
        stats=stats,
        pairs=exported.pairs,
        out_dir=out,
        wall_seconds=time.perf_counter() - t0,
        errors=tuple(ledger.errors),
        families=exported.multi_member_families,
        db=Path(db) if db is not None else None,
    )
    (out / "summary.json").write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    return report


__all__ = [
    "BATCH_SIZE",
    "PAIRS_SCHEMA",
    "SEED_A",
    "SEED_B",
    "Corpus",
    "ExportReport",
    "IndexReport",
    "KeepMode",
    "QueryReport",
    "ScanReport",
    "compare_documents",
    "compare_files",
    "data_dir",
    "export_index",
    "index_corpus",
    "open_index",
    "query_document",
    "query_file",
    "read_corpus",
    "scan_corpus",
    "write_manifest",
]
