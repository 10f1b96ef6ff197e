"""The SQLite index: schema and migrations, batched transactional writes, key lookups for candidate search, and a
run ledger. The only module that imports `sqlite3`; every sqlite error leaves it as `retold.errors.StoreError`.

Schema (version 6)::

    meta(key PK, value)                         schema_version, config_digest, config, created, merged_below,
                                                postings_kept
    docs(seq PK, id UNIQUE, text_hash, text, date, title, source, url, origin, chars, credited,
         fingerprint, rare_total, run)          index docs_fingerprint(fingerprint)
    sketches(seq PK, signature, band_keys, term_keys, term_weights)   little-endian numpy blobs
    bands(key, seq) PK(key, seq)                LSH band buckets (WITHOUT ROWID)
    terms(term PK, df, posts)                   rare-term inverted index: the posting-list length and the first
                                                postings (seq order) as one blob of (seq, weight, total) records
                                                (total = the document's rare-term weight)
    pairs(a, b, verdict, channels, score, json) PK(a, b), index pairs_b(b); json is the pair JSON
    families(id PK, original, size, json)       recomputed from pairs on export
    vectors(seq PK, v, near)                    article vectors of the vector channel (128 little-endian float32)
                                                with the document's count of vector neighbours (-1: not known
                                                yet), only when the semantic channel is on
    runs(run PK, started, finished, note)       the ledger: one row per `index add`/`scan`
    batches(run, batch, added, updated, pairs, last_seq, committed)   PK(run, batch)

The file runs in WAL mode with ``synchronous=NORMAL``: a killed process (Ctrl-C, kill -9) loses at most the
batch in flight, never a committed one (a power cut may lose the last commits, never consistency); so does a full
disk (SQLITE_FULL: `StoreError` "disk full", the index opens as it was after the last commit). A new file is made
beside its path (``<index>-new``) and linked into place whole, so a kill while it is made leaves no half-made index.
Version 1 lacked the families table, version 2 the ``merged_below`` mark, version 3 kept one row per posting (a
``postings`` table beside ``terms(term, df)``), version 4 the ``vectors`` table (documents indexed before it get
their vectors at the start of the next run with the semantic channel on), version 5 the neighbour counts (an index
without them, or without the ``candidate_rules`` meta, is brought in line with the current candidate rules at
the start of its next run: `retold.pipeline.reconcile_index`); `_MIGRATIONS` upgrades each in place.

Postings as blobs: candidate search reads every posting of every term held by at most ``max_postings`` earlier
documents, ~10^5 postings a batch. One row per term holding its postings as a packed blob is read ~20x faster
than one row per posting, and a term held by more documents than the cap is never read, so a term keeps only its
first ``postings_kept`` (= cap + 1, set when the index is made; 0 = all) postings. Deleting one of those from a
longer list leaves the blob short; when the list then falls to the cap again, the term is rebuilt from the
sketches (rare: it takes several replaced documents on one term near the cap).

Staged writes: `bands` and `terms` are keyed by random 64-bit hashes, so writing a batch's rows into
them dirties about one B-tree page per row once they outgrow the page cache. Only documents with
``seq < merged_below`` have rows there; a batch writes its documents and sketches (appended in seq order) and the
band keys and postings of the newer documents are read from their sketches into memory (`_Staged`). Every few
thousand documents, and when a run finishes, one transaction merges them into the keyed tables in key order
(each page written once per merge, not once per batch) and moves the mark. Lookups answer from both, so every
answer is the same as with all rows in the keyed tables; a kill during a merge rolls it back whole.

One writer at a time: SQLite locks the file per transaction only, so two `index add` runs would interleave their
batches and each would take the other's open run for an interrupted one. A store takes the writer lock before its
first write (creating the file, a migration, `begin_run`, a transaction) and holds it until it is closed: an
exclusive `flock` on the sidecar file ``<index>-lock`` beside the resolved path, holding the pid, start time and run
note of the holder for the messages of waiting writers, and removed on release. A second writer waits for it (saying
so once through ``on_wait``), or fails with `StoreError` after ``lock_timeout`` seconds; the kernel drops the lock of
a killed process, so a run is called interrupted only when no live writer holds it. Readers never take it: WAL
readers see the last committed batch while a writer runs.

Opening never writes to a file it has not recognised: the file is first inspected through a read-only connection
(header and size, tables, schema version, configuration), so a text file, an image, a truncated copy, another
program's database or an empty file is refused with `StoreError` and left byte-for-byte as it was. A store opened
with ``readonly=True`` (``mode=ro``) never writes, migrates or backfills; in a folder it may not write to (no
``-shm`` file can be made) it reads the file as ``immutable`` when no ``-wal`` file holds uncheckpointed commits,
which is exact as long as no process of another user writes to the index while it is open.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from array import array
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from retold.errors import ConfigError, DiskFullError, StoreError
from retold.model import Channel, Document, VerdictName
from retold.store.base import CANDIDATE_RULES, DocRecord, DocRow, PairRecord, RunState, StoredDoc, TermPostings, now

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION = 6

_POSTINGS_V3 = """CREATE TABLE postings (term INTEGER NOT NULL, seq INTEGER NOT NULL, weight REAL NOT NULL,
        total REAL NOT NULL, PRIMARY KEY (term, seq)) WITHOUT ROWID"""
_TERMS_V3 = "CREATE TABLE terms (term INTEGER PRIMARY KEY, df INTEGER NOT NULL)"
_TERMS = "CREATE TABLE terms (term INTEGER PRIMARY KEY, df INTEGER NOT NULL, posts BLOB NOT NULL)"

_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE docs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        text_hash TEXT NOT NULL,
        text TEXT NOT NULL,
        date TEXT, title TEXT, source TEXT, url TEXT, origin TEXT,
        chars INTEGER NOT NULL,
        credited INTEGER NOT NULL,
        fingerprint INTEGER,
        rare_total REAL NOT NULL,
        run INTEGER NOT NULL)""",
    "CREATE INDEX docs_fingerprint ON docs(fingerprint) WHERE fingerprint IS NOT NULL",
    """CREATE TABLE sketches (
        seq INTEGER PRIMARY KEY,
        signature BLOB NOT NULL, band_keys BLOB NOT NULL, term_keys BLOB NOT NULL, term_weights BLOB NOT NULL)""",
    "CREATE TABLE bands (key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID",
    """CREATE TABLE pairs (a INTEGER NOT NULL, b INTEGER NOT NULL, verdict TEXT NOT NULL, channels TEXT NOT NULL,
        score REAL NOT NULL, json TEXT NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID""",
    "CREATE INDEX pairs_b ON pairs(b)",
    "CREATE TABLE runs (run INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, note TEXT NOT NULL)",
    """CREATE TABLE batches (run INTEGER NOT NULL, batch INTEGER NOT NULL, added INTEGER NOT NULL,
        updated INTEGER NOT NULL, pairs INTEGER NOT NULL, last_seq INTEGER NOT NULL, committed TEXT NOT NULL,
        PRIMARY KEY (run, batch))""",
)
_FAMILIES = (
    "CREATE TABLE families (id TEXT PRIMARY KEY, original TEXT NOT NULL, size INTEGER NOT NULL, json TEXT NOT NULL)"
)

_VECTORS_V5 = "CREATE TABLE vectors (seq INTEGER PRIMARY KEY, v BLOB NOT NULL)"
_VECTORS = "CREATE TABLE vectors (seq INTEGER PRIMARY KEY, v BLOB NOT NULL, near INTEGER NOT NULL DEFAULT -1)"
SCHEMA: tuple[str, ...] = (*_TABLES, _TERMS, _FAMILIES, _VECTORS)
"""The current schema, as created in a new file."""

SCHEMA_V1: tuple[str, ...] = (*_TABLES, _TERMS_V3, _POSTINGS_V3)
"""Version 1 (no families table); kept to document and test the migration."""

_MERGED_ALL = "INSERT INTO meta(key, value) SELECT 'merged_below', CAST(COALESCE(MAX(seq), -1) + 1 AS TEXT) FROM docs"
SCHEMA_V2: tuple[str, ...] = (*_TABLES, _TERMS_V3, _POSTINGS_V3, _FAMILIES)
"""Version 2 (every document's rows in the keyed tables, no ``merged_below``); kept to test the migration."""

SCHEMA_V3: tuple[str, ...] = SCHEMA_V2
"""Version 3 (one ``postings`` row per posting; the mark is in meta); kept to test the migration."""

SCHEMA_V4: tuple[str, ...] = (*_TABLES, _TERMS, _FAMILIES)
"""Version 4 (no ``vectors`` table); kept to test the migration."""

SCHEMA_V5: tuple[str, ...] = (*_TABLES, _TERMS, _FAMILIES, _VECTORS_V5)
"""Version 5 (no neighbour counts); kept to test the migration."""

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (_FAMILIES,),
    2: (_MERGED_ALL,),
    3: (),
    4: (_VECTORS_V5,),
    5: ("ALTER TABLE vectors ADD COLUMN near INTEGER NOT NULL DEFAULT -1",),
}
"""Statements that take a file from version ``v`` to ``v + 1`` (3 -> 4 also runs `_postings_to_blobs`)."""

_BUSY_MS = 10_000
_MERGE_DOCS = (4096, 32768)
"""Merge the staged documents once they number a quarter of the merged ones, within these bounds: a merge
rewrites about every page of the keyed tables, so merging after a fixed fraction keeps the cost per document
flat; the upper bound caps the memory of the staged rows (~10 KB per document)."""
MERGE_DOCS_ENV = "RETOLD_MERGE_DOCS"
"""Environment variable overriding `_MERGE_DOCS` as ``LO,HI`` (tests use ``1,1`` to merge after every batch)."""
_IDS_PER_STATEMENT = 500
"""Document ids bound per lookup statement (well below SQLite's limit of 32766 parameters)."""
_NEEDED = frozenset({"meta", "docs", "sketches", "bands", "terms", "pairs", "runs", "batches"})
"""Tables every version of the schema has."""
_POSTING = np.dtype([("seq", "<i8"), ("weight", "<f8"), ("total", "<f8")])
"""One posting in a term's blob (24 bytes, little-endian)."""
_P = ParamSpec("_P")
_R = TypeVar("_R")

_log = logging.getLogger("retold.store")


def _mapped(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Re-raise sqlite errors of a store method as `StoreError` naming the file."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        except sqlite3.Error as exc:
            store = cast("SqliteStore", args[0])
            raise _error(store.location, exc) from exc
        except UnicodeEncodeError as exc:
            store = cast("SqliteStore", args[0])
            raise StoreError(f"{store.location}: text that is not valid Unicode cannot be stored ({exc})") from exc

    return wrapper


def _error(path: str, exc: sqlite3.Error) -> StoreError:
    """The `StoreError` for an sqlite error (`DiskFullError` when the disk filled)."""
    full = str(getattr(exc, "sqlite_errorname", "")) == "SQLITE_FULL" or "disk is full" in str(exc)
    return (DiskFullError if full else StoreError)(_describe(path, exc))


def _describe(path: str, exc: sqlite3.Error) -> str:
    msg = str(exc)
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_FULL" or "disk is full" in msg:
        return (
            f"{path}: disk full ({msg}); the transaction in flight was rolled back and every committed batch is "
            "kept: free some space and run the same command again to resume"
        )
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in msg or "malformed" in msg:
        return f"{path}: not a readable retold index ({msg}); the file is corrupt or of another kind"
    if name.startswith("SQLITE_READONLY") or "readonly database" in msg:
        return f"{path}: cannot write to the index ({msg}); the file or its folder is read-only"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in msg or "busy" in msg:
        return f"{path}: the index is busy ({msg}); is another program writing to it?"
    if name.startswith("SQLITE_IOERR"):
        return f"{path}: disk I/O error ({name}: {msg}); committed batches are kept"
    return f"{path}: {msg}"


def _merge_docs_default() -> tuple[int, int]:
    raw = os.environ.get(MERGE_DOCS_ENV)
    if not raw:
        return _MERGE_DOCS
    try:
        lo, hi = (int(x) for x in raw.split(","))
    except ValueError:
        raise ConfigError(f"{MERGE_DOCS_ENV}={raw!r}: expected two integers LO,HI") from None
    if not 1 <= lo <= hi:
        raise ConfigError(f"{MERGE_DOCS_ENV}={raw!r}: expected 1 <= LO <= HI")
    return lo, hi


def _header_problem(path: Path) -> str | None:
    """Why `path` (not empty) cannot be a whole SQLite database, from its 100-byte header and its size; None when
    it may be one. Checked before SQLite opens it, so that a truncated copy is refused rather than written to."""
    with open(path, "rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "not an SQLite database"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return "not an SQLite database (bad page size in the header)"
    pages = int.from_bytes(head[28:32], "big")
    # The page count in the header is valid when the change counters agree (SQLite >= 3.7). A -wal file with
    # commits may hold pages past the end of the main file (a checkpoint cut short), so size is judged without one.
    wal = Path(f"{path}-wal")
    size = path.stat().st_size
    if pages and head[24:28] == head[92:96] and size < pages * page and not (wal.exists() and wal.stat().st_size):
        return f"truncated: {size:,} bytes, its header says {pages * page:,}"
    return None


_HELD: dict[str, int] = {}
"""Writer locks held by the stores of this process (lock file -> thread): a second `flock` of the same file from
this process would wait for itself, so stores of one process queue here first."""
_HELD_CHANGED = threading.Condition()


def _try_flock(fd: int) -> bool:
    if sys.platform == "win32":
        return True  # no flock: there only the stores of one process exclude each other
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class _WriterLock:
    """The exclusive right to write one index: `flock` on ``<index>-lock`` between processes, `_HELD` between the
    stores of one process. Waits `timeout` seconds at most (None: as long as it takes), telling `on_wait` once."""

    def __init__(self, db: Path, timeout: float | None, on_wait: Callable[[str], None] | None) -> None:
        self.db = db
        # Beside the resolved path: two paths to one index (a symlink, ./x and x) must meet at one lock file.
        self.path = Path(f"{os.path.realpath(db)}-lock")
        self.timeout = timeout
        self.on_wait = on_wait
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, note: str) -> None:
        if self._fd is not None:
            return
        key = str(self.path)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        told = False
        with _HELD_CHANGED:
            while key in _HELD:
                if _HELD[key] == threading.get_ident():
                    raise StoreError(
                        f"{self.db}: another open store of this thread is writing to this index; close it first"
                    )
                told = self._waiting("another store of this process", told, deadline)
                _HELD_CHANGED.wait(self._left(deadline, 1.0))
            _HELD[key] = threading.get_ident()
        try:
            self._fd = self._lock_file(note, told, deadline)
        except BaseException:
            self._forget()
            raise

    def _lock_file(self, note: str, told: bool, deadline: float | None) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        while True:
            try:
                fd = os.open(self.path, flags, 0o644)
            except OSError as exc:
                hint = ""
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    hint = "; is the folder read-only? (a read-only index can be queried, not written)"
                raise StoreError(
                    f"{self.db}: cannot open the writer lock {self.path} ({exc.strerror or exc}){hint}"
                ) from exc
            try:
                # Polled, not a blocking flock: a blocking call could not give up at the deadline.
                while not _try_flock(fd):
                    told = self._waiting(self._holder(fd), told, deadline)
                    time.sleep(self._left(deadline, 0.1))
                if self._current(fd):
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # the holder removed that file on release: lock the one now at the path
        self._label(fd, note)
        return fd

    def label(self, note: str) -> None:
        """Tell waiting writers what the holder now does (e.g. the run it began)."""
        if self._fd is not None:
            self._label(self._fd, note)

    @staticmethod
    def _label(fd: int, note: str) -> None:
        info = {"pid": os.getpid(), "since": now(), "note": note}
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(info) + "\n").encode())
        except OSError:
            pass  # only for the messages of waiting writers (a full disk must not stop the run here)

    def _current(self, fd: int) -> bool:
        """Whether the locked file is still the one at the path (a releasing holder unlinks it)."""
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino)

    def _waiting(self, holder: str, told: bool, deadline: float | None) -> bool:
        if deadline is not None and time.monotonic() >= deadline:
            raise StoreError(
                f"{self.db}: {holder} is writing to this index; gave up waiting after {self.timeout:g} s "
                "(run this again once it has finished)"
            )
        if not told:
            msg = f"{self.db}: {holder} is writing to this index; waiting for it to finish (one writer at a time)"
            if self.on_wait is not None:
                self.on_wait(msg)
            else:
                _log.warning("%s", msg)
        return True

    @staticmethod
    def _left(deadline: float | None, most: float) -> float:
        return most if deadline is None else max(0.0, min(most, deadline - time.monotonic()))

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            info = json.loads(os.read(fd, 4096) or b"{}")
        except (OSError, ValueError):
            info = None
        if not isinstance(info, dict) or "pid" not in info:
            return "another retold process"
        return f"another retold process (pid {info['pid']}, since {info.get('since')}: {info.get('note')})"

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Removed while still held, so no file is left behind; a writer that opened it meanwhile sees that
            # it no longer is the file at the path (`_current`) and locks a new one.
            try:
                os.unlink(self.path)
            except OSError:
                pass
            os.close(fd)  # drops the flock
        finally:
            self._forget()

    def _forget(self) -> None:
        with _HELD_CHANGED:
            _HELD.pop(str(self.path), None)
            _HELD_CHANGED.notify_all()


def _storable(text: str) -> bool:
    """Whether SQLite can take the string: UTF-8 has no lone surrogates ("\\ud800" in JSON decodes to one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _blob(arr: NDArray[np.generic], dtype: str) -> bytes:
    return np.ascontiguousarray(arr, dtype=dtype).tobytes()


def _records(seq: NDArray[np.int64], weight: NDArray[np.float64], total: NDArray[np.float64]) -> NDArray[np.void]:
    out = np.empty(seq.size, dtype=_POSTING)
    out["seq"], out["weight"], out["total"] = seq, weight, total
    return out


def _seq_at(blob: bytes, offset: int) -> int:
    """The seq of the posting record at byte `offset` of a blob."""
    return int.from_bytes(blob[offset : offset + 8], "little", signed=True)


def _ids(values: Collection[int]) -> str:
    return json.dumps([int(v) for v in values])


class _Staged:
    """Band keys and postings of the documents with ``seq >= below`` (not yet in the keyed tables), in memory.

    Kept compact (tens of bytes a row, up to ~140 rows a document): a bucket with one member holds the bare seq,
    and a posting is an index into flat arrays.
    """

    def __init__(self, below: int) -> None:
        self.below = below
        self.docs: list[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], float]] = []
        self.bands: dict[int, int | list[int]] = {}
        self.posts: dict[int, list[int]] = {}
        self.seq = array("q")
        self.weight = array("d")
        self.total = array("d")

    def add(
        self, seq: int, bands: NDArray[np.int64], terms: NDArray[np.int64], weights: NDArray[np.float64], total: float
    ) -> None:
        # A document's two bands with one key (a 64-bit collision) are one member, as in the keyed table.
        keys = np.unique(bands)
        self.docs.append((seq, keys, terms, weights, total))
        held = self.bands
        for k in keys.tolist():
            m = held.setdefault(k, seq)
            if isinstance(m, list):
                m.append(seq)
            elif m != seq:
                held[k] = [m, seq]
        row = len(self.weight)
        for i, t in enumerate(terms.tolist()):
            self.posts.setdefault(t, []).append(row + i)
        n = terms.size
        self.seq.extend([seq] * n)
        self.weight.frombytes(np.ascontiguousarray(weights, dtype=np.float64).tobytes())
        self.total.extend([total] * n)

    def members(self, key: int) -> list[int]:
        m = self.bands.get(key)
        return [] if m is None else sorted(m) if isinstance(m, list) else [m]

    def postings(self, terms: Sequence[int]) -> tuple[NDArray[np.int64], NDArray[np.void]]:
        """The staged postings of `terms`: their term keys and (seq, weight, total) records, seq order per term."""
        rows: list[int] = []
        counts: list[int] = []
        for t in terms:
            held = self.posts.get(t, ())
            rows.extend(held)
            counts.append(len(held))
        idx = np.asarray(rows, dtype=np.int64)
        out = np.empty(idx.size, dtype=_POSTING)
        out["seq"] = np.frombuffer(self.seq, dtype=np.int64)[idx]
        out["weight"] = np.frombuffer(self.weight, dtype=np.float64)[idx]
        out["total"] = np.frombuffer(self.total, dtype=np.float64)[idx]
        return np.repeat(np.asarray(terms, dtype=np.int64), counts), out


class SqliteStore:
    """A `retold.store.base.Store` in one SQLite file.

    Args:
        path: The index file.
        config_digest: `RetoldConfig.digest()` of the run; a file made with another digest is refused.
        config_json: The configuration as JSON, kept in the file for reference.
        create: Create the file when it is missing (else a missing file is an error).
        merge_docs: Merge staged documents into the keyed tables once they number a quarter of the merged ones,
            at least ``merge_docs[0]`` and at most ``merge_docs[1]`` (see the module docstring; default
            ``$RETOLD_MERGE_DOCS`` as ``LO,HI``, else (4096, 32768)).
        keep_postings: Postings kept per term (0 = all); `postings` then answers for caps below it. Used when
            the file is made (or migrated from version 3); an existing file keeps its own.
        readonly: Open without write access (``mode=ro``): every write raises `StoreError`; an index of an
            older schema is refused rather than migrated.
        lock_timeout: Seconds to wait for the writer lock while another process writes to the index (None: as
            long as it takes; 0: fail at once).
        on_wait: Told once (a sentence naming the index and the holder) when a write has to wait for the lock;
            default: a warning on the ``retold.store`` logger.

    Raises:
        StoreError: Missing file (with ``create=False``), not a retold index, corrupt, truncated, empty, made
            with another configuration or by a newer retold; another writer held the lock past `lock_timeout`.

    Example:
        >>> store = SqliteStore("index.sqlite", "abc123", "{}", create=True)  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        config_digest: str,
        config_json: str,
        *,
        create: bool,
        merge_docs: tuple[int, int] | None = None,
        keep_postings: int = 0,
        readonly: bool = False,
        lock_timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        if keep_postings < 0:
            raise ValueError(f"keep_postings must be >= 0, got {keep_postings}")
        if readonly and create:
            raise ValueError("a read-only store cannot create its file")
        if lock_timeout is not None and lock_timeout < 0:
            raise ValueError(f"lock_timeout must be >= 0 or None, got {lock_timeout}")
        self._path = Path(path)
        self._keep = keep_postings
        self._readonly = readonly
        self._conn: sqlite3.Connection | None = None
        self._staged: _Staged | None = None
        self._data_version = -1
        self._merge_docs = merge_docs if merge_docs is not None else _merge_docs_default()
        self._lock = _WriterLock(self._path, lock_timeout, on_wait)
        try:
            if readonly:
                self._inspect(config_digest).close()
                self._conn = self._connect_ro()
                self._conn.execute("PRAGMA query_only = ON")
                self._tune()
            else:
                self._open(config_digest, config_json, create)
        except sqlite3.Error as exc:
            self.close()
            raise _error(str(self._path), exc) from exc
        except BaseException:
            self.close()
            raise

    # --- opening -------------------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return str(self._path)

    @property
    def readonly(self) -> bool:
        """Opened with ``readonly=True``: every write raises `StoreError`."""
        return self._readonly

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self._path}: the index is closed")
        return self._conn

    def _open(self, digest: str, config_json: str, create: bool) -> None:
        """Open for writing: create a missing file, else inspect it read-only before the first write."""
        if not self._path.exists():
            if not create:
                raise StoreError(f"{self._path}: no index there (create one with `retold index add CORPUS --db FILE`)")
            if not self._path.parent.is_dir():
                raise StoreError(f"{self._path}: no folder {self._path.parent} to make the index in")
            # Under the lock: another writer may be creating it right now.
            self._lock.acquire("create the index")
            if not self._path.exists():
                self._create(digest, config_json)
        self._inspect(digest).close()
        self._conn = self._connect("rw")
        self._tune()
        version = int(self.meta().get("schema_version", "0"))
        if version < SCHEMA_VERSION:
            self._migrate()
        self._keep = int(self.meta().get("postings_kept", "0"))

    def _connect(self, mode: str, *, immutable: bool = False) -> sqlite3.Connection:
        # A URI with an explicit mode: "rw" never creates a file that vanished since it was looked at.
        uri = f"{self._path.absolute().as_uri()}?mode={mode}" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=_BUSY_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        return conn

    def _connect_ro(self) -> sqlite3.Connection:
        """The connection of a read-only store. A WAL file needs its ``-shm`` file: where none exists and the
        folder cannot take one, the file is read as immutable, which is exact only when no ``-wal`` file holds
        commits that are not yet in the main file (else refused: only a writer can recover them)."""
        conn = self._connect("ro")
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            name = str(getattr(exc, "sqlite_errorname", ""))
            if not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
                raise
            if self._wal_commits():
                raise StoreError(
                    f"{self._path}: cannot be read without write access: {self._path.name}-wal holds commits not "
                    "yet in the index file and the folder is read-only; open it once where it can be written "
                    "(e.g. `retold index add` with no new documents, or a copy of both files)"
                ) from exc
            conn = self._connect("ro", immutable=True)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn

    def _wal_commits(self) -> bool:
        """Whether a ``-wal`` file beside the index may hold commits (it exists and is not empty)."""
        wal = Path(f"{self._path}-wal")
        return wal.exists() and wal.stat().st_size > 0

    def _inspect(self, digest: str) -> sqlite3.Connection:
        """Check that the file is a retold index of this configuration through a read-only connection (so that
        nothing is written to a file that is not one) and return that connection.

        Raises:
            StoreError: The file is not a usable index.
        """
        p = self._path
        if p.is_dir():
            raise StoreError(f"{p}: is a folder, not an index file")
        if not p.exists():
            raise StoreError(f"{p}: no index there (create one with `retold index add CORPUS --db FILE`)")
        if not p.is_file():
            raise StoreError(f"{p}: not a regular file, not an index")
        wal = self._wal_commits()
        if p.stat().st_size == 0 and not wal:
            raise StoreError(f"{p}: empty file, not a retold index (delete it, or name another file, to make one)")
        problem = _header_problem(p) if p.stat().st_size else None
        if problem is not None:
            raise StoreError(f"{p}: not a readable retold index ({problem}); the file is corrupt or of another kind")
        # Without a -wal file the main file holds every commit: read it as immutable, which makes no -wal or -shm
        # file beside one that may not be an index (a reader without write access could not remove them).
        conn = self._connect_ro() if wal else self._connect("ro", immutable=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                raise StoreError(f"{p}: an SQLite file holding no tables, not a retold index")
            missing = sorted(_NEEDED - tables)
            if missing:
                raise StoreError(f"{p}: an SQLite file, but not a retold index (no {', '.join(missing)} table)")
            try:
                meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{p}: an SQLite file, but not a retold index (its meta table: {exc})") from exc
            try:
                version = int(meta.get("schema_version", "0"))
            except ValueError:
                version = 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{p}: index schema version {version} is newer than this retold supports ({SCHEMA_VERSION}); "
                    "upgrade retold"
                )
            if version < 1:
                raise StoreError(f"{p}: not a retold index (no schema version)")
            if version < SCHEMA_VERSION and self._readonly:
                raise StoreError(
                    f"{p}: index schema version {version} needs an upgrade to {SCHEMA_VERSION}, which writes to it; "
                    "open it once for writing (e.g. `retold index add` with no new documents)"
                )
            stored = meta.get("config_digest")
            if stored != digest:
                raise StoreError(
                    f"{p}: index built with configuration {stored}, this run uses {digest}; "
                    "use another --db file or the configuration the index was built with (e.g. the same --semantic "
                    "setting; with --semantic auto, whether the semantic packages are installed counts too)"
                )
            if self._readonly:
                self._keep = int(meta.get("postings_kept", "0"))
            # Reading the last row of each big table reads the right edge of its B-tree: a file damaged past
            # its header shows here, at open, rather than in the middle of a run.
            for table, key in (("docs", "seq"), ("sketches", "seq"), ("pairs", "a DESC, b")):
                conn.execute(f"SELECT * FROM {table} ORDER BY {key} DESC LIMIT 1").fetchall()
        except BaseException:
            conn.close()
            raise
        return conn

    def _tune(self) -> None:
        c = self.conn
        c.execute("PRAGMA cache_size = -65536")
        c.execute("PRAGMA temp_store = MEMORY")
        if self._readonly:
            return
        mode = c.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self._path}: cannot switch the index to WAL mode (got {mode!r})")
        c.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint the WAL every 64 MiB rather than every 4 MiB: each checkpoint syncs the file, and a batch
        # writes a few MiB.
        c.execute("PRAGMA wal_autocheckpoint = 16384")

    def _writing(self, note: str = "write to the index") -> None:
        """Refuse writes to a read-only store; take the writer lock before the first write (see the module
        docstring)."""
        if self._readonly:
            raise StoreError(f"{self._path}: opened read-only; cannot {note}")
        self._lock.acquire(note)

    def _create(self, digest: str, config_json: str) -> None:
        """Make the index beside its path and link it into place whole (call with the lock held): a kill while
        it is being made leaves no half-made file at the path, and an existing file is never replaced."""
        tmp = Path(f"{self._path}-new")
        for leftover in (tmp, *(Path(f"{tmp}{x}") for x in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)  # of a writer killed while making it (the lock is held)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for stmt in SCHEMA:
                conn.execute(stmt)
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("config_digest", digest),
                    ("config", config_json),
                    ("created", now()),
                    ("merged_below", "0"),
                    ("postings_kept", str(self._keep)),
                    ("candidate_rules", CANDIDATE_RULES),
                ],
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        try:
            try:
                os.link(tmp, self._path)  # fails if a file appeared at the path meanwhile
            except FileExistsError:
                raise StoreError(f"{self._path}: a file appeared there while the index was being made") from None
            except OSError:
                if self._path.exists():  # a file system without hard links: move it, never over a file
                    raise StoreError(f"{self._path}: a file appeared there while the index was being made") from None
                os.rename(tmp, self._path)
        finally:
            tmp.unlink(missing_ok=True)

    def _migrate(self) -> None:
        self._writing("upgrade the index schema")
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the lock: another writer may have upgraded the file since it was inspected.
            row = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0])
            for v in range(version, SCHEMA_VERSION):
                for stmt in _MIGRATIONS[v]:
                    c.execute(stmt)
                if v == 3:
                    self._postings_to_blobs()
            c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def _postings_to_blobs(self) -> None:
        """Version 3 -> 4: one ``terms`` row per term with its postings as a blob, instead of a row per posting."""
        c = self.conn
        c.execute("ALTER TABLE terms RENAME TO terms_v3")
        c.execute(_TERMS)
        cur = c.execute("SELECT term, seq, weight, total FROM postings ORDER BY term, seq")
        while rows := cur.fetchmany(1 << 16):
            arr = np.array(rows, dtype=[("term", "<i8"), ("seq", "<i8"), ("weight", "<f8"), ("total", "<f8")])
            self._append_postings(arr["term"], _records(arr["seq"], arr["weight"], arr["total"]))
        c.execute("DROP TABLE postings")
        c.execute("DROP TABLE terms_v3")
        c.execute("INSERT INTO meta(key, value) VALUES ('postings_kept', ?)", (str(self._keep),))

    @_mapped
    def meta(self) -> dict[str, str]:
        """The meta table as a dict."""
        return {str(k): str(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    @_mapped
    def journal_mode(self) -> str:
        """The journal mode in force (``wal``)."""
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        """Close the file, then release the writer lock (after the checkpoint that closing may run)."""
        try:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None
        finally:
            self._lock.release()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions --------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        c = self.conn
        self._writing()
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _error(self.location, exc) from exc
        try:
            yield
        except BaseException:
            self._staged = None  # it may hold rows of the rolled-back writes
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        try:
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            self._staged = None
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise _error(self.location, exc) from exc

    def transaction(self) -> AbstractContextManager[None]:
        """One batch: committed on normal exit, rolled back on any exception; a merge follows when it is due."""
        return self._batch()

    @contextmanager
    def _batch(self) -> Iterator[None]:
        with self._transaction():
            yield
        staged = self._staged
        if staged is not None and len(staged.docs) >= self._merge_threshold(staged):
            self.merge()

    def _merge_threshold(self, staged: _Staged) -> int:
        lo, hi = self._merge_docs
        return max(lo, min(hi, staged.below // 4))

    # --- staged rows -------------------------------------------------------------------------------------------

    def _stage(self) -> _Staged:
        """The staged rows, (re)read from the file when not held or when another connection has committed."""
        c = self.conn
        version = int(c.execute("PRAGMA data_version").fetchone()[0])
        if self._staged is None or version != self._data_version:
            row = c.execute("SELECT value FROM meta WHERE key = 'merged_below'").fetchone()
            staged = _Staged(int(row[0]))
            rows = c.execute(
                "SELECT s.seq, s.band_keys, s.term_keys, s.term_weights, d.rare_total FROM sketches AS s "
                "JOIN docs AS d ON d.seq = s.seq WHERE s.seq >= ? ORDER BY s.seq",
                (staged.below,),
            )
            for seq, bands, terms, weights, total in rows:
                staged.add(
                    int(seq),
                    np.frombuffer(bands, dtype="<i8").astype(np.int64),
                    np.frombuffer(terms, dtype="<i8").astype(np.int64),
                    np.frombuffer(weights, dtype="<f8").astype(np.float64),
                    float(total),
                )
            self._staged, self._data_version = staged, version
        return self._staged

    @_mapped
    def staged_count(self) -> int:
        """Documents whose band keys and postings are not yet merged into the keyed tables."""
        return len(self._stage().docs)

    @_mapped
    def merge(self) -> None:
        """Move the staged rows into the keyed tables, in key order, in one transaction."""
        with self._transaction():
            staged = self._stage()
            self._write_keyed(staged.docs)
            below = self.next_seq()
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'merged_below'", (str(below),))
            self._staged = _Staged(below)

    def _write_keyed(
        self, docs: Sequence[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], float]]
    ) -> None:
        """Band keys, postings and term counts of `docs` (seq, unique band keys, term keys, weights, total),
        written in key order so that B-tree inserts stay local."""
        if not docs:
            return
        c = self.conn
        seqs = np.array([d[0] for d in docs], dtype=np.int64)
        keys = np.concatenate([d[1] for d in docs])
        owner = np.repeat(seqs, [d[1].size for d in docs])
        order = np.lexsort((owner, keys))
        c.executemany(
            "INSERT INTO bands(key, seq) VALUES (?, ?)", zip(keys[order].tolist(), owner[order].tolist(), strict=True)
        )
        terms = np.concatenate([d[2] for d in docs])
        if not terms.size:
            return
        counts = [d[2].size for d in docs]
        pseq = np.repeat(seqs, counts)
        weights = np.concatenate([d[3] for d in docs])
        totals = np.repeat(np.array([d[4] for d in docs], dtype=np.float64), counts)
        order = np.lexsort((pseq, terms))
        self._append_postings(terms[order], _records(pseq[order], weights[order], totals[order]))

    def _append_postings(self, terms: NDArray[np.int64], posts: NDArray[np.void]) -> None:
        """Add postings (sorted by term, then seq) to the terms' rows, keeping each blob in seq order."""
        if not terms.size:
            return
        c = self.conn
        heads = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
        uniq = terms[heads]
        ends = np.append(heads[1:], terms.size)
        old = {
            int(t): (int(df), bytes(b))
            for t, df, b in c.execute(
                "SELECT t.term, t.df, t.posts FROM json_each(?) AS j CROSS JOIN terms AS t ON t.term = j.value",
                (_ids(uniq.tolist()),),
            )
        }
        keep = self._keep * _POSTING.itemsize
        rows: list[tuple[int, int, bytes]] = []
        grown: list[tuple[int, int]] = []
        raw = posts.tobytes()
        size = _POSTING.itemsize
        for t, h, e in zip(uniq.tolist(), heads.tolist(), ends.tolist(), strict=True):
            df, blob = old.get(t, (0, b""))
            more = raw[h * size : e * size]
            if blob and _seq_at(more, 0) < _seq_at(blob, len(blob) - size):
                # A document added below the mark (seqs given out of order): merge in seq order.
                both = np.concatenate((np.frombuffer(blob, dtype=_POSTING), np.frombuffer(more, dtype=_POSTING)))
                blob = both[np.argsort(both["seq"], kind="stable")].tobytes()
            elif keep and len(blob) >= keep:
                grown.append((e - h, t))  # the blob is full: only the count grows
                continue
            else:
                blob += more
            rows.append((t, df + e - h, blob[:keep] if keep else blob))
        c.executemany("INSERT OR REPLACE INTO terms(term, df, posts) VALUES (?, ?, ?)", rows)
        c.executemany("UPDATE terms SET df = df + ? WHERE term = ?", grown)

    # --- reads ---------------------------------------------------------------------------------------------

    @_mapped
    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    @_mapped
    def next_seq(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM docs").fetchone()[0])

    @_mapped
    def lookup(self, ids: Collection[str]) -> dict[str, StoredDoc]:
        # Ids are bound as parameters, not passed through `json_each` like the integer keys: SQLite's JSON
        # functions cut a string at an escaped NUL ("a\u0000b" -> "a"), which found the wrong document, or none.
        # An id that is not valid Unicode (a lone surrogate) cannot be stored, so it is not there.
        wanted = [i for i in dict.fromkeys(ids) if _storable(i)]
        out: dict[str, StoredDoc] = {}
        for k in range(0, len(wanted), _IDS_PER_STATEMENT):
            chunk = wanted[k : k + _IDS_PER_STATEMENT]
            rows = self.conn.execute(
                f"SELECT id, seq, text_hash, run, origin FROM docs WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update({str(i): StoredDoc(int(s), str(h), int(r), o) for i, s, h, r, o in rows})
        return out

    @_mapped
    def documents(self, seqs: Collection[int]) -> dict[int, Document]:
        rows = self.conn.execute(
            "SELECT d.seq, d.id, d.text, d.date, d.title, d.source, d.url, d.origin "
            "FROM json_each(?) AS j CROSS JOIN docs AS d ON d.seq = j.value",
            (_ids(seqs),),
        )
        return {int(r[0]): Document(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows}

    @_mapped
    def doc_rows(self) -> list[DocRow]:
        rows = self.conn.execute("SELECT seq, id, date, chars, credited FROM docs ORDER BY seq")
        return [DocRow(int(s), str(i), d, int(c), bool(cr)) for s, i, d, c, cr in rows]

    @_mapped
    def exact_members(self, fingerprints: Collection[int], limit: int) -> dict[int, list[int]]:
        return self._members(
            "SELECT seq FROM docs WHERE fingerprint = j.value ORDER BY seq LIMIT :limit", fingerprints, limit
        )

    @_mapped
    def band_members(self, keys: Collection[int], limit: int) -> dict[int, list[int]]:
        staged = self._stage()
        out = self._members("SELECT seq FROM bands WHERE key = j.value ORDER BY seq LIMIT :limit", keys, limit)
        if staged.bands:
            # Staged documents come after every merged one (seq >= merged_below).
            for k in set(keys):
                if k in staged.bands:
                    held = out.get(k, [])
                    if len(held) < limit:
                        out[k] = held + staged.members(k)[: limit - len(held)]
        return out

    def _members(self, inner: str, keys: Collection[int], limit: int) -> dict[int, list[int]]:
        # One statement for all keys: the correlated subquery walks the (key, seq) index and stops at `limit`.
        rows = self.conn.execute(
            f"SELECT j.value, (SELECT group_concat(seq) FROM ({inner})) AS m FROM json_each(:keys) AS j",
            {"keys": _ids(keys), "limit": limit},
        )
        # json.loads parses the comma-separated seqs in C, several times faster than int() per item.
        return {int(k): sorted(json.loads(f"[{m}]")) for k, m in rows if m is not None}

    @_mapped
    def postings(self, terms: Collection[int], cap: int) -> TermPostings:
        if self._keep and cap >= self._keep:
            raise ValueError(f"{self._path} keeps {self._keep} postings per term: it answers for caps below that")
        staged = self._stage()
        wanted = sorted(set(terms))
        rows = self.conn.execute(
            "SELECT t.term, t.df, t.posts FROM json_each(?) AS j CROSS JOIN terms AS t ON t.term = j.value",
            (_ids(wanted),),
        ).fetchall()
        m_term = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        m_df = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        s_term = np.array([t for t in wanted if t in staged.posts], dtype=np.int64)
        s_df = np.fromiter((len(staged.posts[t]) for t in s_term.tolist()), dtype=np.int64, count=s_term.size)
        held = np.union1d(m_term, s_term)
        df = np.zeros(held.size, dtype=np.int64)
        df[np.searchsorted(held, m_term)] += m_df
        df[np.searchsorted(held, s_term)] += s_df
        within = set(held[df <= cap].tolist())
        # Merged postings of a term precede its staged ones (seq < merged_below); a stable sort by term keeps that.
        ok = [r for r in rows if r[0] in within]
        merged = np.frombuffer(b"".join(r[2] for r in ok), dtype=_POSTING)
        counts = [len(r[2]) // _POSTING.itemsize for r in ok]
        parts_term = [np.repeat(np.fromiter((r[0] for r in ok), dtype=np.int64, count=len(ok)), counts)]
        parts = [merged]
        if s_term.size:
            st, sp = staged.postings([t for t in s_term.tolist() if t in within])
            parts_term.append(st)
            parts.append(sp)
        term = np.concatenate(parts_term)
        post = np.concatenate(parts)
        order = np.argsort(term, kind="stable")
        term, post = term[order], post[order]
        return TermPostings(
            held,
            df,
            term,
            np.ascontiguousarray(post["seq"], dtype=np.int64),
            np.ascontiguousarray(post["weight"], dtype=np.float64),
            np.ascontiguousarray(post["total"], dtype=np.float64),
        )

    @_mapped
    def signatures(self, seqs: Collection[int]) -> dict[int, NDArray[np.uint64]]:
        rows = self.conn.execute(
            "SELECT s.seq, s.signature FROM json_each(?) AS j CROSS JOIN sketches AS s ON s.seq = j.value",
            (_ids(seqs),),
        )
        return {int(s): np.frombuffer(b, dtype="<u8").astype(np.uint64) for s, b in rows}

    @_mapped
    def vectors(self) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.int64]]:
        seqs: list[int] = []
        near: list[int] = []
        buf = bytearray()
        for s, v, n in self.conn.execute("SELECT seq, v, near FROM vectors ORDER BY seq"):
            seqs.append(int(s))
            near.append(int(n))
            buf += v
        if not seqs:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
        vecs = np.frombuffer(bytes(buf), dtype="<f4").astype(np.float32)
        return np.asarray(seqs, dtype=np.int64), vecs.reshape(len(seqs), -1), np.asarray(near, dtype=np.int64)

    @_mapped
    def put_vectors(self, seqs: Sequence[int], vectors: NDArray[np.float32]) -> None:
        self._writing()
        self.conn.executemany(
            "INSERT OR REPLACE INTO vectors(seq, v, near) SELECT ?, ?, -1 "
            "WHERE EXISTS (SELECT 1 FROM docs WHERE seq = ?)",
            [(int(s), _blob(v, "<f4"), int(s)) for s, v in zip(seqs, vectors, strict=True)],
        )

    @_mapped
    def set_near(self, seqs: Sequence[int], counts: Sequence[int] | NDArray[np.int64]) -> None:
        self._writing()
        self.conn.executemany(
            "UPDATE vectors SET near = ? WHERE seq = ?",
            [(int(n), int(s)) for s, n in zip(seqs, np.asarray(counts).tolist(), strict=True)],
        )

    @_mapped
    def holders(self, terms: Collection[int]) -> dict[int, list[int]]:
        staged = self._stage()
        wanted = sorted(set(terms))
        out: dict[int, list[int]] = {}
        for t, posts in self.conn.execute(
            "SELECT t.term, t.posts FROM json_each(?) AS j CROSS JOIN terms AS t ON t.term = j.value", (_ids(wanted),)
        ):
            out[int(t)] = np.frombuffer(posts, dtype=_POSTING)["seq"].astype(np.int64).tolist()
        for t in wanted:
            if t in staged.posts:
                _, sp = staged.postings([t])
                out.setdefault(t, []).extend(sp["seq"].astype(np.int64).tolist())
        return {t: sorted(seqs) for t, seqs in out.items() if seqs}

    @_mapped
    def term_vectors(self, seqs: Collection[int]) -> dict[int, tuple[NDArray[np.int64], NDArray[np.float64], float]]:
        rows = self.conn.execute(
            "SELECT s.seq, s.term_keys, s.term_weights, d.rare_total FROM json_each(?) AS j "
            "CROSS JOIN sketches AS s ON s.seq = j.value JOIN docs AS d ON d.seq = s.seq",
            (_ids(sorted(set(seqs))),),
        )
        return {
            int(s): (
                np.frombuffer(k, dtype="<i8").astype(np.int64),
                np.frombuffer(w, dtype="<f8").astype(np.float64),
                float(tot),
            )
            for s, k, w, tot in rows
        }

    @_mapped
    def common_terms(self, cap: int) -> NDArray[np.int64]:
        staged = self._stage()
        df: dict[int, int] = {int(t): int(n) for t, n in self.conn.execute("SELECT term, df FROM terms")}
        for t, rows in staged.posts.items():
            df[t] = df.get(t, 0) + len(rows)
        return np.asarray(sorted(t for t, n in df.items() if n > cap), dtype=np.int64)

    _PAIR_COLUMNS = "SELECT a, b, verdict, channels, score, json FROM pairs"

    @staticmethod
    def _pair(row: tuple[object, ...]) -> PairRecord:
        a, b, verdict, channels, score, js = row
        return PairRecord(
            int(cast(int, a)),
            int(cast(int, b)),
            cast(VerdictName, verdict),
            tuple(cast(Channel, x) for x in str(channels).split(",") if x),
            float(cast(float, score)),
            str(js),
        )

    @_mapped
    def pairs_among(self, seqs: Collection[int]) -> list[PairRecord]:
        ids = _ids(sorted(set(seqs)))
        rows = self.conn.execute(
            f"{self._PAIR_COLUMNS} WHERE a IN (SELECT value FROM json_each(?)) "
            "AND b IN (SELECT value FROM json_each(?)) ORDER BY a, b",
            (ids, ids),
        )
        return [self._pair(r) for r in rows]

    @_mapped
    def pairs_touching(self, seqs: Collection[int]) -> list[PairRecord]:
        ids = _ids(sorted(set(seqs)))
        rows = self.conn.execute(
            f"{self._PAIR_COLUMNS} WHERE a IN (SELECT value FROM json_each(?)) UNION "
            f"{self._PAIR_COLUMNS} WHERE b IN (SELECT value FROM json_each(?)) ORDER BY a, b",
            (ids, ids),
        )
        return [self._pair(r) for r in rows]

    @_mapped
    def set_channels(self, updates: Sequence[tuple[int, int, tuple[Channel, ...]]]) -> None:
        if not updates:
            return
        self._writing()
        c = self.conn
        c.executemany(
            "UPDATE pairs SET channels = ? WHERE a = ? AND b = ?",
            [(",".join(ch), int(a), int(b)) for a, b, ch in updates if ch],
        )
        c.executemany("DELETE FROM pairs WHERE a = ? AND b = ?", [(int(a), int(b)) for a, b, ch in updates if not ch])

    @_mapped
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @_mapped
    def set_meta(self, key: str, value: str) -> None:
        self._writing()
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @_mapped
    def without_vector(self) -> list[int]:
        rows = self.conn.execute("SELECT seq FROM docs WHERE seq NOT IN (SELECT seq FROM vectors) ORDER BY seq")
        return [int(r[0]) for r in rows]

    def pairs(self, b: int | None = None) -> Iterator[PairRecord]:
        return self._iter_pairs(b)

    def _iter_pairs(self, b: int | None) -> Iterator[PairRecord]:
        # A generator: errors surface while iterating, so they are mapped here rather than by `_mapped`.
        try:
            if b is None:
                cur = self.conn.execute("SELECT a, b, verdict, channels, score, json FROM pairs ORDER BY a, b")
            else:
                cur = self.conn.execute(
                    "SELECT a, b, verdict, channels, score, json FROM pairs WHERE b = ? ORDER BY a", (b,)
                )
            for a, bb, verdict, channels, score, js in cur:
                yield PairRecord(
                    int(a),
                    int(bb),
                    cast(VerdictName, verdict),
                    tuple(cast(Channel, x) for x in str(channels).split(",") if x),
                    float(score),
                    str(js),
                )
        except sqlite3.Error as exc:
            raise _error(self.location, exc) from exc

    @_mapped
    def family_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM families").fetchone()[0])

    @_mapped
    def table_counts(self) -> dict[str, int]:
        """Rows per table (for reports and tests)."""
        names = [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: int(self.conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names}

    # --- writes (inside `transaction()`) ---------------------------------------------------------------------

    @_mapped
    def add(self, docs: Sequence[DocRecord], pairs: Sequence[PairRecord]) -> None:
        self._writing()
        try:
            self._add(docs, pairs)
        except UnicodeEncodeError:
            for r in docs:
                fields = (r.doc.id, r.doc.text, r.doc.date, r.doc.title, r.doc.source, r.doc.url, r.doc.origin)
                if not all(_storable(x) for x in fields if x is not None):
                    raise StoreError(
                        f"{self._path}: document {r.doc.id!r} holds text that is not valid Unicode (a lone "
                        "surrogate, e.g. from a JSON \\ud800 escape); it cannot be stored"
                    ) from None
            raise

    def _add(self, docs: Sequence[DocRecord], pairs: Sequence[PairRecord]) -> None:
        c = self.conn
        staged = self._stage()  # before the sketches are written: it would read them
        run = self._current_run()
        c.executemany(
            "INSERT INTO docs(seq, id, text_hash, text, date, title, source, url, origin, chars, credited, "
            "fingerprint, rare_total, run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.seq,
                    r.doc.id,
                    r.text_hash,
                    r.doc.text,
                    r.doc.date,
                    r.doc.title,
                    r.doc.source,
                    r.doc.url,
                    r.doc.origin,
                    len(r.doc.text),
                    int(r.credited),
                    r.fingerprint,
                    r.rare_total,
                    run,
                )
                for r in docs
            ],
        )
        c.executemany(
            "INSERT INTO sketches(seq, signature, band_keys, term_keys, term_weights) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    r.seq,
                    _blob(r.signature, "<u8"),
                    _blob(r.band_keys, "<i8"),
                    _blob(r.term_keys, "<i8"),
                    _blob(r.term_weights, "<f8"),
                )
                for r in docs
            ],
        )
        if docs:
            rows = [
                (
                    r.seq,
                    np.asarray(r.band_keys, dtype=np.int64),
                    np.asarray(r.term_keys, dtype=np.int64),
                    np.asarray(r.term_weights, dtype=np.float64),
                    float(r.rare_total),
                )
                for r in docs
            ]
            # A document below the mark (only when seqs are given out of order) goes straight to the keyed tables.
            self._write_keyed([(s, np.unique(b), t, w, tot) for s, b, t, w, tot in rows if s < staged.below])
            for s, b, t, w, tot in rows:
                if s >= staged.below:
                    staged.add(s, b, t, w, tot)
        c.executemany(
            "INSERT INTO vectors(seq, v, near) VALUES (?, ?, ?)",
            [(r.seq, _blob(r.vector, "<f4"), int(r.near)) for r in docs if r.vector is not None],
        )
        c.executemany(
            "INSERT INTO pairs(a, b, verdict, channels, score, json) VALUES (?, ?, ?, ?, ?, ?)",
            [(p.a, p.b, p.verdict, ",".join(p.channels), p.score, p.json) for p in pairs],
        )

    @_mapped
    def delete(self, seqs: Collection[int]) -> None:
        self._writing()
        c = self.conn
        below = self._stage().below
        self._staged = None  # reread without the deleted documents
        short: set[int] = set()
        for seq in seqs:
            row = c.execute("SELECT band_keys, term_keys FROM sketches WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                continue
            c.execute("DELETE FROM pairs WHERE a = ?", (seq,))
            c.execute("DELETE FROM pairs WHERE b = ?", (seq,))
            c.execute("DELETE FROM sketches WHERE seq = ?", (seq,))
            c.execute("DELETE FROM vectors WHERE seq = ?", (seq,))
            c.execute("DELETE FROM docs WHERE seq = ?", (seq,))
            if seq >= below:
                continue  # staged: no rows in the keyed tables
            bands = np.frombuffer(row[0], dtype="<i8").tolist()
            terms = np.frombuffer(row[1], dtype="<i8").tolist()
            c.executemany("DELETE FROM bands WHERE key = ? AND seq = ?", [(k, seq) for k in set(bands)])
            rows = c.execute(
                "SELECT t.term, t.df, t.posts FROM json_each(?) AS j CROSS JOIN terms AS t ON t.term = j.value",
                (_ids(terms),),
            ).fetchall()
            updated = []
            for t, df, blob in rows:
                posts = np.frombuffer(blob, dtype=_POSTING)
                posts = posts[posts["seq"] != seq]
                updated.append((df - 1, posts.tobytes(), t))
                if posts.size < df - 1 < self._keep:
                    short.add(t)  # the list is back within reach of the cap but misses postings beyond the blob
            c.executemany("UPDATE terms SET df = ?, posts = ? WHERE term = ?", updated)
        c.execute("DELETE FROM terms WHERE df <= 0")
        if short:
            self._rebuild_terms(short, below)
        # Keep the mark at most one above the largest stored seq: the next document (seq = max + 1) is staged.
        c.execute(
            "UPDATE meta SET value = CAST(MIN(CAST(value AS INTEGER), (SELECT COALESCE(MAX(seq), -1) + 1 FROM docs)) "
            "AS TEXT) WHERE key = 'merged_below'"
        )

    def _rebuild_terms(self, terms: set[int], below: int) -> None:
        """Rewrite the rows of `terms` from the sketches of the merged documents (one pass over them)."""
        c = self.conn
        wanted = np.array(sorted(terms), dtype=np.int64)
        found: list[tuple[NDArray[np.int64], NDArray[np.void]]] = []
        rows = c.execute(
            "SELECT s.seq, s.term_keys, s.term_weights, d.rare_total FROM sketches AS s JOIN docs AS d "
            "ON d.seq = s.seq WHERE s.seq < ? ORDER BY s.seq",
            (below,),
        )
        for seq, keys, weights, total in rows:
            k = np.frombuffer(keys, dtype="<i8")
            hit = np.isin(k, wanted)
            if hit.any():
                n = int(hit.sum())
                w = np.frombuffer(weights, dtype="<f8")[hit]
                found.append((k[hit].astype(np.int64), _records(np.full(n, seq), w, np.full(n, float(total)))))
        c.execute("DELETE FROM terms WHERE term IN (SELECT value FROM json_each(?))", (_ids(terms),))
        if found:
            term = np.concatenate([f[0] for f in found])
            post = np.concatenate([f[1] for f in found])
            order = np.argsort(term, kind="stable")  # seq order within a term: the rows came in seq order
            self._append_postings(term[order], post[order])

    @_mapped
    def replace_families(self, families: Sequence[tuple[str, str, int, str]]) -> None:
        self._writing()
        c = self.conn
        c.execute("DELETE FROM families")
        c.executemany("INSERT INTO families(id, original, size, json) VALUES (?, ?, ?, ?)", families)

    # --- ledger --------------------------------------------------------------------------------------------

    def _current_run(self) -> int:
        row = self.conn.execute("SELECT MAX(run) FROM runs").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @_mapped
    def begin_run(self, note: str) -> RunState:
        """Open a run in the ledger. Takes the writer lock first (waiting while another process writes), so the
        unfinished runs it reports are those of writers that died, never of one still running."""
        self._writing(note)
        self._lock.label(note)
        with self._transaction():
            c = self.conn
            interrupted = tuple(
                (int(r), int(n))
                for r, n in c.execute(
                    "SELECT r.run, (SELECT COUNT(*) FROM batches b WHERE b.run = r.run) FROM runs r "
                    "WHERE r.finished IS NULL ORDER BY r.run"
                )
            )
            cur = c.execute("INSERT INTO runs(started, note) VALUES (?, ?)", (now(), note))
            run = int(cur.lastrowid or 0)
        return RunState(run, interrupted)

    @_mapped
    def record_batch(self, run: int, batch: int, added: int, updated: int, pairs: int, last_seq: int) -> None:
        self._writing()
        self.conn.execute(
            "INSERT INTO batches(run, batch, added, updated, pairs, last_seq, committed) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run, batch, added, updated, pairs, last_seq, now()),
        )

    @_mapped
    def finish_run(self, run: int) -> None:
        """Merge the staged rows (so that a finished index answers queries from its keyed tables) and mark the
        run finished."""
        if self.staged_count():
            self.merge()
        with self._transaction():
            self.conn.execute("UPDATE runs SET finished = ? WHERE run = ?", (now(), run))
