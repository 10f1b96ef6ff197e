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
import shlex
import shutil
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

from retold import stop
from retold.config import LimitsConfig, RetoldConfig
from retold.errors import InputError, StoreError
from retold.families import LINK_VERDICTS, build_families, keep_list
from retold.io.outputs import write_families
from retold.io.readers import count_records, duplicate_error, iter_corpus, read_text_file
from retold.io.writers import (
    AtomicFile,
    JsonlWriter,
    OutputError,
    manifest_record,
    output_file,
    output_folder,
    write_text,
)
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
TemplateMode = Literal["separate", "duplicate", "ignore"]
"""What an export does with ``template`` pairs (same wording, other facts): ``separate`` writes them to the pair
files with their verdict and keeps them out of families and the keep-list; ``duplicate`` also links them in
families like near-duplicates (a data team dropping templated reports); ``ignore`` leaves them out entirely."""

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


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two documents as read and aligned, and their pair result. Render passages from `a.text` and `b.text`:
    the offsets index these texts, and reading the files again could give others (line ends, for one)."""

    a: Document
    b: Document
    result: PairResult


def compare_paths(
    path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], cfg: RetoldConfig | None = None
) -> Comparison:
    """Read and align two text files. Raises `InputError` naming the file if one cannot be read."""
    cfg = cfg or RetoldConfig()
    limit = cfg.limits.max_chars
    a, b = read_text_file(path_a, max_chars=limit), read_text_file(path_b, max_chars=limit)
    return Comparison(a, b, compare_documents(a, b, cfg))


def compare_files(
    path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], cfg: RetoldConfig | None = None
) -> PairResult:
    """Verdict and alignment of two text files. Raises `InputError` naming the file if one cannot be read."""
    return compare_paths(path_a, path_b, cfg).result


def compare_documents(a: Document, b: Document, cfg: RetoldConfig | None = None) -> PairResult:
    """Verdict and alignment of two documents."""
    return compare(analyze(a), analyze(b), cfg)


# --- the persistent index --------------------------------------------------------------------------------------


def open_index(
    db: str | os.PathLike[str], cfg: RetoldConfig | None = None, *, create: bool = False, readonly: bool = False
) -> SqliteStore:
    """Open (or, with `create`, create) an index file made with `cfg`; `readonly` never writes to it (works on a
    read-only file or folder).

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
        readonly=readonly,
    )


@dataclass(frozen=True, slots=True)
class Corpus:
    """What was read from the inputs: documents in order, unusable records, and both in input order (all in
    memory: `scan_corpus` and `index_corpus` stream instead)."""

    docs: tuple[Document, ...]
    errors: tuple[RecordError, ...]
    items: tuple[Document | RecordError, ...]


def read_corpus(
    paths: Sequence[str | os.PathLike[str]],
    *,
    text_field: str = "text",
    id_field: str = "id",
    max_chars: int = LimitsConfig().max_chars,
) -> Corpus:
    """Read every record of the inputs; bad records become `RecordError` values (never raised)."""
    items = tuple(iter_corpus(paths, text_field=text_field, id_field=id_field, max_chars=max_chars))
    docs = tuple(x for x in items if isinstance(x, Document))
    errors = tuple(x for x in items if isinstance(x, RecordError))
    return Corpus(docs, errors, items)


def write_manifest(path: Path, corpus: Corpus, stats: ScanStats) -> None:
    """One line per input record: ``ok`` (added), ``updated`` (text changed; replaced), ``unchanged`` (already
    in the index), or ``skipped`` with the reason."""
    updated, unchanged = set(stats.updated), set(stats.unchanged)
    with JsonlWriter(output_file(path)) as out:
        for item in corpus.items:
            rec = manifest_record(item)
            if isinstance(item, Document):
                rec["status"] = "updated" if item.id in updated else "unchanged" if item.id in unchanged else "ok"
            out.write(rec)


class _Ledger:
    """Accounts for every input record while the corpus streams through the indexer.

    Records wait here, in input order, until the indexer reports what became of them (`settle`); each then gets
    its manifest line at once (when a manifest is written), so the manifest keeps input order and only the
    batches in flight are held. Bad records are kept (`errors`) for the report. The manifest file appears when
    every record is accounted for (`finish`); a run that fails or is interrupted leaves the previous one.
    """

    def __init__(self, manifest: Path | None) -> None:
        self.read = 0
        self.errors: list[RecordError] = []
        self.finished = False
        self._queue: deque[Document | RecordError] = deque()
        self._out = JsonlWriter(manifest) if manifest is not None else None
        if self._out is not None:
            self._out.__enter__()

    def in_flight(self) -> str:
        """The input records read but not yet accounted for, for an error message ("" when none)."""
        docs = [x.origin or f"id {x.id!r}" for x in self._queue if isinstance(x, Document)]
        if not docs:
            return ""
        return f"the records {docs[0]} to {docs[-1]}" if len(docs) > 1 else f"the record {docs[0]}"

    def documents(
        self, paths: Sequence[str | os.PathLike[str]], text_field: str, id_field: str, max_chars: int
    ) -> Iterator[Document]:
        """The usable records of the inputs, every id passed on (the indexer reports repeats)."""
        for item in iter_corpus(paths, text_field=text_field, id_field=id_field, unique_ids=False, max_chars=max_chars):
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
        """Account for the bad records after the last document; write the manifest into place."""
        while self._queue:
            item = self._queue.popleft()
            if not isinstance(item, RecordError):
                raise RuntimeError(f"indexer never reported {item.id!r}")
            self._skip(item)
        if self._out is not None:
            out, self._out = self._out, None
            out.close()
        self.finished = True

    def close(self) -> None:
        """Drop the manifest unless `finish` wrote it: a partial one would leave records unaccounted for."""
        if self._out is not None:
            out, self._out = self._out, None
            out.discard()

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
    docs = ledger.documents(paths, text_field, id_field, cfg.limits.max_chars)
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
    removed_empty: bool = False
    """The run created `db`, could read no document into it, and removed it again."""

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

    Interrupting it (Ctrl-C, SIGTERM, kill -9) loses at most the batch in flight; running it again resumes. The
    inputs are streamed (see `retold.pipeline.index_documents`); the manifest, when asked for, gets one line per
    input record as its batch commits, and appears when the run completes. When no input record can be read and
    the run created `db`, the empty file is removed again (`IndexReport.removed_empty`).

    Raises:
        StoreError: The index cannot be used (corrupt, other configuration, busy).
        OutputError: The manifest cannot be written (checked before any work, with ``usage``).
    """
    t0 = time.perf_counter()
    cfg = cfg or RetoldConfig()
    note = "index add " + " ".join(os.fspath(p) for p in paths)
    created = not os.path.lexists(db)
    ledger = _Ledger(output_file(manifest) if manifest is not None else None)
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
    removed = created and total == 0 and ledger.read == len(ledger.errors) and _remove_index(Path(db))
    return IndexReport(
        read=ledger.read,
        skipped=len(ledger.errors),
        stats=stats,
        db=Path(db),
        documents_in_index=total,
        wall_seconds=time.perf_counter() - t0,
        errors=tuple(ledger.errors),
        removed_empty=removed,
    )


def _remove_index(db: Path) -> bool:
    """Remove an index file and SQLite's companions of it; whether the index file went."""
    for suffix in ("-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{db}{suffix}")
        except OSError:
            pass
    try:
        os.unlink(db)
    except OSError:
        return False
    return True


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
    cfg = cfg or RetoldConfig()
    return query_document(db, read_text_file(path, max_chars=cfg.limits.max_chars), cfg, add=add)


def query_document(
    db: str | os.PathLike[str], doc: Document, cfg: RetoldConfig | None = None, *, add: bool = False
) -> QueryReport:
    """`query_file` for a document already in memory. Without `add` the index is opened read-only (a read-only
    file or folder is fine)."""
    t0 = time.perf_counter()
    cfg = cfg or RetoldConfig()
    with open_index(db, cfg, readonly=not add) as store:
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
    templates: TemplateMode = "separate",
) -> ExportReport:
    """Write pairs, families and the keep-list of an index (JSONL and Parquet); families are recomputed from
    the stored pairs and stored again, so the index and the files agree. `templates`: see `TemplateMode`.

    Every file is replaced atomically: a failure leaves the previous file (or none), never a truncated one.

    Raises:
        StoreError: No index at `db`, or it cannot be used.
        OutputError: `out_dir` is not a writable folder (``usage``: checked first), or writing failed.
    """
    out = output_folder(out_dir)
    with open_index(db, cfg) as store:
        return _export(store, out, keep=keep, include_unrelated=include_unrelated, templates=templates)


_PARQUET_ROWS = 8192


def _export(
    store: SqliteStore, out: Path, *, keep: KeepMode, include_unrelated: bool, templates: TemplateMode = "separate"
) -> ExportReport:
    rows = store.doc_rows()
    order = {r.id: i for i, r in enumerate(rows)}
    infos = [DocInfo(r.id, r.date, r.chars, order[r.id], r.credited) for r in rows]
    linking: list[PairResult] = []
    table: list[dict[str, object]] = []
    written = 0
    # The stored pair JSON is written as it is: pairs.jsonl holds exactly `PairResult.to_json`. Parquet is
    # written in row groups of `_PARQUET_ROWS` pairs, so the pairs never sit in memory all at once. Both files
    # are written beside their final names and moved into place only when complete.
    with (
        AtomicFile(out / "pairs.jsonl") as fh,
        AtomicFile(out / "pairs.parquet") as parquet_file,
        pq.ParquetWriter(parquet_file.fh, PAIRS_SCHEMA) as parquet,
    ):
        link_verdicts = (*LINK_VERDICTS, "template") if templates == "duplicate" else LINK_VERDICTS
        for p in store.pairs():
            linked = p.verdict in link_verdicts
            if p.verdict == "template" and templates == "ignore":
                continue
            if not linked and not include_unrelated and p.verdict == "unrelated":
                continue
            data = json.loads(p.json)
            if linked:
                linking.append(pair_from_json(data, p.channels))
            if include_unrelated or p.verdict != "unrelated":
                fh.write((p.json + "\n").encode("utf-8"))
                table.append(data)
                written += 1
                if len(table) >= _PARQUET_ROWS:
                    parquet.write_table(pa.Table.from_pylist(table, schema=PAIRS_SCHEMA))
                    table.clear()
        if table or not written:
            parquet.write_table(pa.Table.from_pylist(table, schema=PAIRS_SCHEMA))
    families = build_families(infos, linking, link_verdicts=link_verdicts)
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


_SCAN_PREFIX = "retold-scan-"
_SCAN_OWNER = "retold-owner.json"
"""In a scan's temporary folder: marks it as retold's and names the process that owns it (pid, start time)."""


@dataclass(slots=True)
class _ScanDb:
    """The index a scan runs into: the `db` given, or a file in a temporary folder."""

    path: Path
    temporary: bool
    kept: bool = False

    def keep(self) -> Path:
        """Keep a temporary index after a failure, for the user to finish the work with; no later scan removes
        it (the owner mark goes)."""
        if self.temporary and not self.kept:
            self.kept = True
            try:
                os.unlink(self.path.parent / _SCAN_OWNER)
            except OSError:
                pass
        return self.path


@contextmanager
def _scan_db(db: str | os.PathLike[str] | None) -> Iterator[_ScanDb]:
    """`db`, or a temporary index removed at the end unless `_ScanDb.keep` was called. A process killed before
    it could remove its folder (kill -9) leaves it behind: the next scan removes it (`_remove_stale_scans`)."""
    if db is not None:
        yield _ScanDb(Path(db), temporary=False)
        return
    _remove_stale_scans()
    tmp = Path(tempfile.mkdtemp(prefix=_SCAN_PREFIX))
    scan = _ScanDb(tmp / "scan.sqlite", temporary=True)
    try:
        owner = {"pid": os.getpid(), "started": _start_time(os.getpid())}
        (tmp / _SCAN_OWNER).write_text(json.dumps(owner), encoding="utf-8")
        yield scan
    finally:
        if not scan.kept:
            shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_scans(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the temporary folders of scans whose process is gone; only folders of this user that carry
    retold's owner mark (anything else called ``retold-scan-*`` is left alone). Returns the folders removed."""
    removed: list[Path] = []
    try:
        found = list(Path(folder if folder is not None else tempfile.gettempdir()).glob(_SCAN_PREFIX + "*"))
    except OSError:
        return removed
    for d in found:
        try:
            if d.is_symlink() or not d.is_dir() or d.stat().st_uid != os.getuid():
                continue
            owner = json.loads((d / _SCAN_OWNER).read_text(encoding="utf-8"))
            pid, started = int(owner["pid"]), owner.get("started")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not ours, kept on purpose, or its owner is still writing the mark
        if _running(pid, started):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed


def _running(pid: int, started: object) -> bool:
    """Whether process `pid` is the one that started at `started` (a pid can be reused) and still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # another user's process: it exists
    stat = _proc_stat(pid)
    if stat is None:  # no /proc: the pid exists, assume it is the owner
        return True
    state, now = stat
    return state not in ("Z", "X") and (started is None or now == started)


def _start_time(pid: int) -> int | None:
    """When process `pid` started (clock ticks after boot; None where there is no /proc)."""
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """The state and start time of process `pid`, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        return fields[0], int(fields[19])  # fields 3 and 22: the command name before ")" may hold spaces
    except (OSError, ValueError, IndexError):
        return None


def export_command(
    db: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    cfg: RetoldConfig | None = None,
    *,
    keep: KeepMode = "original",
    include_unrelated: bool = False,
    templates: TemplateMode = "separate",
) -> str:
    """The ``retold index export`` command line that writes the outputs of index `db` into `out_dir` (for
    messages: the options the command line can express)."""
    cfg = cfg or RetoldConfig()
    args = ["retold", "index", "export", "--db", os.fspath(db), "--out", os.fspath(out_dir)]
    if keep != "original":
        args += ["--keep", keep]
    if include_unrelated:
        args.append("--all-pairs")
    if templates != "separate":
        args += ["--templates", templates]
    if cfg.align.semantic != "auto":
        args += ["--semantic", cfg.align.semantic]
    if cfg.limits.max_chars != LimitsConfig().max_chars:
        args += ["--max-chars", str(cfg.limits.max_chars)]
    return shlex.join(args)


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
    templates: TemplateMode = "separate",
) -> ScanReport:
    """Read a corpus, index it (into `db`, else a temporary file), and write ``pairs.jsonl``, ``families.jsonl``,
    ``keep.jsonl`` (and the same as Parquet), ``manifest.jsonl`` and ``summary.json``.

    Every input record gets one manifest line (``ok``, or ``skipped`` with the reason; with an existing `db`
    also ``updated`` or ``unchanged``), written as its batch commits; bad records never stop the run. The inputs
    are streamed (memory is bounded by the batches, not the corpus). With `db`, the outputs cover everything in
    that index. `out_dir` is checked before any work; every output file is replaced atomically.

    Raises:
        StoreError: `db` cannot be used, or the index failed (a temporary index is not named: the records being
            indexed are).
        OutputError: `out_dir` is not a writable folder (``usage``), or writing an output failed: the index is
            then kept (`OutputError.kept`; a temporary one too) and the message names the command that finishes
            the job.
    """
    t0 = time.perf_counter()
    cfg = cfg or RetoldConfig()
    out = output_folder(out_dir)
    note = "scan " + " ".join(os.fspath(p) for p in paths)
    created = db is not None and not os.path.lexists(db)
    ledger = _Ledger(out / "manifest.jsonl")
    try:
        with _scan_db(db) as scan_db:
            try:
                with Workers(workers) as pool, open_index(scan_db.path, cfg, create=True) as store:
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
                    stop.check()  # a stop whose exception Python dropped: no outputs from a stopped run
                    t_export = time.perf_counter()
                    exported = _export(store, out, keep=keep, include_unrelated=keep_unrelated, templates=templates)
                    stats.seconds["export"] = time.perf_counter() - t_export
                if not keep_unrelated:
                    stats.verdicts.pop("unrelated", None)
                if templates == "ignore":
                    stats.verdicts.pop("template", None)
                if created and ledger.read == len(ledger.errors) and _remove_index(scan_db.path):
                    db = None  # nothing readable: no index file left behind, as `index_corpus`
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
                write_text(out / "summary.json", json.dumps(report.to_json(), indent=2) + "\n")
            except OutputError as exc:
                kept = scan_db.keep()
                if ledger.finished:
                    command = export_command(
                        kept, out, cfg, keep=keep, include_unrelated=keep_unrelated, templates=templates
                    )
                    then = f"finish with `{command}`"
                else:
                    then = f"run the scan again with `--db {shlex.quote(str(kept))}` to resume from it"
                what = "the scan's index is kept" if scan_db.temporary else "the index is"
                raise OutputError(f"{exc}; {what} at {kept}: {then}", exc.path, kept=kept) from exc
            except StoreError as exc:
                if not scan_db.temporary:
                    raise
                raise StoreError(_scan_store_error(exc, scan_db.path, ledger.in_flight())) from exc
    finally:
        ledger.close()
    return report


def _scan_store_error(exc: StoreError, path: Path, records: str) -> str:
    """The message of a temporary index's error, naming the records being indexed instead of a path under /tmp
    the user never gave."""
    msg = str(exc).replace(str(path), "the scan's temporary index").replace(str(path.parent), "a temporary folder")
    return f"{msg} (while indexing {records})" if records else msg


__all__ = [
    "BATCH_SIZE",
    "PAIRS_SCHEMA",
    "SEED_A",
    "SEED_B",
    "Comparison",
    "Corpus",
    "ExportReport",
    "IndexReport",
    "KeepMode",
    "TemplateMode",
    "QueryReport",
    "ScanReport",
    "compare_documents",
    "compare_files",
    "compare_paths",
    "data_dir",
    "export_command",
    "export_index",
    "index_corpus",
    "open_index",
    "query_document",
    "query_file",
    "read_corpus",
    "scan_corpus",
    "write_manifest",
]
