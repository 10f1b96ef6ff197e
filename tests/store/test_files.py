"""Files the SQLite store must handle without harm: foreign, corrupt, truncated and empty files are refused with a
`StoreError` and left byte-for-byte as they were; read-only files and folders can still be queried; a full disk
fails the transaction in flight and keeps every committed one; any Python string is a document id."""

from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retold.errors import ConfigError, DiskFullError, StoreError
from retold.model import Document
from retold.store.base import DocRecord, MemoryStore
from retold.store.sqlite import MERGE_DOCS_ENV, SCHEMA_V4, SqliteStore
from tests.store.test_store import DIGEST, RECORDS, _old_file, _pair, _random_record, _record, _same_answers, _sqlite

# --- foreign and damaged files ----------------------------------------------------------------------------------


def _index_bytes(tmp: Path) -> bytes:
    """A real index holding records and pairs, checkpointed into one file."""
    path = tmp / "real.sqlite"
    rng = random.Random(3)
    with _sqlite(path) as s, s.transaction():
        s.add([_random_record(i, rng) for i in range(300)], [_pair(0, 1), _pair(1, 2)])
    data = path.read_bytes()
    assert len(data) > 8 * 4096 and not Path(f"{path}-wal").exists()
    return data


def _sqlite_file(path: Path, *statements: str, wal: bool = False) -> bytes:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    for stmt in statements:
        conn.execute(stmt)
    conn.commit()
    conn.close()
    return path.read_bytes()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 200

FOREIGN: dict[str, tuple[Callable[[Path, Path], bytes], str]] = {
    "text": (lambda p, t: b"id,text\n1,hello world\n" * 300, "not a readable retold index"),
    "png": (lambda p, t: PNG, "not a readable retold index"),
    "header-only": (lambda p, t: _index_bytes(t)[:100], "truncated"),
    "truncated-half": (lambda p, t: (b := _index_bytes(t))[: len(b) // 2], "truncated"),
    "truncated-last-page": (lambda p, t: (b := _index_bytes(t))[: len(b) - 4096], "truncated"),
    "cut-mid-page": (lambda p, t: (b := _index_bytes(t))[: len(b) - 1000], "truncated"),
    "garbage-after-header": (lambda p, t: b"SQLite format 3\x00" + b"\xff" * 4000, "not a readable retold index"),
    "other-program": (lambda p, t: _sqlite_file(p, "CREATE TABLE x (a)"), "not a retold index"),
    "other-meta": (
        lambda p, t: _sqlite_file(p, "CREATE TABLE meta (name TEXT, n INTEGER)", "INSERT INTO meta VALUES ('a', 1)"),
        "not a retold index",
    ),
    "other-wal": (
        lambda p, t: _sqlite_file(p, "CREATE TABLE settings (k, v)", "INSERT INTO settings VALUES (1, 2)", wal=True),
        "not a retold index",
    ),
    "no-version": (
        lambda p, t: _sqlite_file(p, *(s for s in SCHEMA_V4 if "TABLE" in s)),
        "no schema version",
    ),
    "no-tables": (lambda p, t: _sqlite_file(p, "PRAGMA user_version = 7"), "not a retold index"),
    "empty": (lambda p, t: b"", "empty file"),
}


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_foreign_or_damaged_file_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    make, message = FOREIGN[kind]
    folder = tmp_path / "f"
    folder.mkdir()
    path = folder / "index.sqlite"
    data = make(path, tmp_path)
    path.write_bytes(data)
    before = _listing(folder)
    for opts in ({"create": True}, {"create": False}, {"create": False, "readonly": True}):
        with pytest.raises(StoreError, match=message) as err:
            SqliteStore(path, DIGEST, "{}", **opts)  # type: ignore[arg-type]
        assert str(path) in str(err.value)
        assert path.read_bytes() == data, opts
        assert _listing(folder) == before, opts  # no lock, -wal or -shm file left beside it


def test_folder_and_other_non_files(tmp_path: Path) -> None:
    for opts in ({"create": True}, {"create": False}, {"create": False, "readonly": True}):
        with pytest.raises(StoreError, match="is a folder"):
            SqliteStore(tmp_path, DIGEST, "{}", **opts)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match="not a regular file"):
        SqliteStore("/dev/null", DIGEST, "{}", create=True)


def test_missing_file_or_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no index there"):
        SqliteStore(tmp_path / "none.sqlite", DIGEST, "{}", create=False, readonly=True)
    with pytest.raises(StoreError, match=f"no folder {tmp_path / 'nope'} to make the index in"):
        SqliteStore(tmp_path / "nope" / "i.sqlite", DIGEST, "{}", create=True)
    assert list(tmp_path.iterdir()) == []


def test_merge_threshold_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MERGE_DOCS_ENV, "1,1")
    with SqliteStore(tmp_path / "i.sqlite", DIGEST, "{}", create=True) as s:
        with s.transaction():
            s.add(RECORDS[:2], [])
        assert s.staged_count() == 0 and s.meta()["merged_below"] == "2"  # merged after the batch
    for bad in ("3", "a,b", "0,1", "5,2"):
        monkeypatch.setenv(MERGE_DOCS_ENV, bad)
        with pytest.raises(ConfigError, match=MERGE_DOCS_ENV):
            SqliteStore(tmp_path / "i.sqlite", DIGEST, "{}", create=False)


def test_newer_schema_and_other_configuration_are_refused_untouched(tmp_path: Path) -> None:
    newer, other = tmp_path / "newer.sqlite", tmp_path / "other.sqlite"
    _sqlite(newer).close()
    _sqlite(other).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    data = {p: p.read_bytes() for p in (newer, other)}
    for opts in ({"create": True}, {"create": False, "readonly": True}):
        with pytest.raises(StoreError, match="schema version 99 is newer than this retold supports"):
            SqliteStore(newer, DIGEST, "{}", **opts)  # type: ignore[arg-type]
        with pytest.raises(StoreError, match=f"built with configuration {DIGEST}, this run uses another"):
            SqliteStore(other, "another", "{}", **opts)  # type: ignore[arg-type]
    assert {p: p.read_bytes() for p in data} == data and _listing(tmp_path) == {"newer.sqlite", "other.sqlite"}


def test_index_is_made_beside_its_path_and_linked_whole(tmp_path: Path) -> None:
    """A writer killed while making the index leaves a ``-new`` file, never a half-made index at the path; the next
    writer clears it. After a close only the index is left (no lock, -wal or -shm file)."""
    path = tmp_path / "i.sqlite"
    Path(f"{path}-new").write_bytes(b"half-made")
    with _sqlite(path) as s, s.transaction():
        s.add(RECORDS[:1], [])
    assert _listing(tmp_path) == {"i.sqlite"}
    with _sqlite(path, create=False) as s:
        assert s.count() == 1
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(StoreError, match="empty file"):
        SqliteStore(empty, DIGEST, "{}", create=True)
    assert empty.read_bytes() == b"" and _listing(tmp_path) == {"i.sqlite", "empty.sqlite"}


# --- read-only files and folders ---------------------------------------------------------------------------------


def _filled(path: Path) -> None:
    with _sqlite(path) as s:
        with s.transaction():
            s.add(RECORDS, [_pair(0, 1), _pair(1, 3)])
        s.merge()
        with s.transaction():
            s.add([_record(4, "d4", fp=1, bands=[1], terms={10: 1.0})], [])  # one staged document


def test_readonly_store_reads_everything_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    _filled(path)
    data = path.read_bytes()
    with _sqlite(path, create=False) as rw, SqliteStore(path, DIGEST, "{}", create=False, readonly=True) as ro:
        assert ro.readonly and not rw.readonly
        assert ro.count() == rw.count() == 5 and ro.staged_count() == 1
        assert ro.doc_rows() == rw.doc_rows() and list(ro.pairs()) == list(rw.pairs())
        assert ro.band_members([1, 2, 3], 10) == rw.band_members([1, 2, 3], 10)
        assert ro.postings([10, 11], 10).seq.tolist() == rw.postings([10, 11], 10).seq.tolist()
        assert ro.lookup(["d1", "d4"]).keys() == {"d1", "d4"}
        writes: list[Callable[[], object]] = [
            ro.transaction().__enter__,
            lambda: ro.add([_record(5, "d5", fp=None, bands=[], terms={})], []),
            lambda: ro.delete([0]),
            lambda: ro.begin_run("index add x"),
            lambda: ro.record_batch(1, 0, 1, 0, 0, 0),
            lambda: ro.finish_run(1),
            ro.merge,
            lambda: ro.replace_families([]),
            lambda: ro.put_vectors([0], np.zeros((1, 4), dtype=np.float32)),
        ]
        for write in writes:
            with pytest.raises(StoreError, match="opened read-only"):
                write()
        assert ro.count() == 5 and ro.staged_count() == 1
    assert path.read_bytes() == data
    with pytest.raises(ValueError, match="read-only"):
        SqliteStore(path, DIGEST, "{}", create=True, readonly=True)


def test_readonly_store_never_migrates(tmp_path: Path) -> None:
    path = _old_file(tmp_path / "v4.sqlite", SCHEMA_V4, [("schema_version", "4"), ("merged_below", "1")])
    data = path.read_bytes()
    with pytest.raises(StoreError, match="needs an upgrade"):
        SqliteStore(path, DIGEST, "{}", create=False, readonly=True)
    assert path.read_bytes() == data


_READER = """
import json, sys
from retold.errors import StoreError
from retold.store.sqlite import SqliteStore
out = {}
try:
    with SqliteStore(sys.argv[1], sys.argv[2], "{}", create=False, readonly=True) as s:
        out["count"] = s.count()
        out["ids"] = [r.id for r in s.doc_rows()]
        out["pairs"] = [[p.a, p.b] for p in s.pairs()]
        out["staged"] = s.staged_count()
except StoreError as exc:
    out["error"] = str(exc)
try:
    with SqliteStore(sys.argv[1], sys.argv[2], "{}", create=False, lock_timeout=0) as s:
        s.begin_run("a write")
except StoreError as exc:
    out["write_error"] = str(exc)
print(json.dumps(out))
"""


def _without_file_permission_override() -> None:
    """Run as root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped from the bounding set before exec):
    file modes then bind root as they bind any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _read_without_write_access(path: Path) -> dict[str, object]:
    """Open `path` read-only (and try a write) in a process that file modes bind (root ignores them, so as root
    the process gives up the capabilities that override them)."""
    cmd = [sys.executable, "-c", _READER, str(path), DIGEST]
    try:
        if os.geteuid() == 0:
            res = subprocess.run(
                cmd, capture_output=True, text=True, timeout=60, preexec_fn=_without_file_permission_override
            )
        else:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise
    except subprocess.SubprocessError as exc:  # the capabilities could not be dropped
        pytest.skip(f"cannot run a process that file modes bind: {exc}")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_query_of_a_read_only_file(tmp_path: Path) -> None:
    """chmod 444 in a folder the reader may write to: SQLite makes its -shm file there and reads the WAL."""
    folder = tmp_path / "f"
    folder.mkdir()
    path = folder / "i.sqlite"
    _filled(path)
    path.chmod(0o444)
    data = path.read_bytes()
    got = _read_without_write_access(path)
    assert got["count"] == 5 and got["ids"] == ["d0", "d1", "d2", "d3", "d4"] and got["staged"] == 1
    assert got["pairs"] == [[0, 1], [1, 3]]
    assert "cannot write to the index" in str(got["write_error"])
    assert path.read_bytes() == data


def test_query_of_an_index_in_a_read_only_folder(tmp_path: Path) -> None:
    """No -shm file can be made: with no uncheckpointed -wal the file is read as immutable; a writer is refused
    clearly."""
    folder = tmp_path / "f"
    folder.mkdir()
    path = folder / "i.sqlite"
    _filled(path)
    folder.chmod(0o555)
    assert _listing(folder) == {"i.sqlite"}
    data = path.read_bytes()
    got = _read_without_write_access(path)
    assert got["count"] == 5 and got["pairs"] == [[0, 1], [1, 3]]
    assert "read-only" in str(got["write_error"])
    assert path.read_bytes() == data and _listing(folder) == {"i.sqlite"}


def test_read_only_folder_with_commits_only_in_the_wal(tmp_path: Path) -> None:
    """A copy taken while a writer ran (commits still in -wal, no -shm) in a read-only folder cannot be read
    exactly without recovering the WAL: refused with a clear error, not read as if immutable."""
    src = tmp_path / "src"
    src.mkdir()
    live = src / "i.sqlite"
    _filled(live)
    folder = tmp_path / "f"
    folder.mkdir()
    with _sqlite(live, create=False) as s:
        s.conn.execute("PRAGMA wal_autocheckpoint = 0")
        with s.transaction():
            s.add([_record(5, "d5", fp=None, bands=[], terms={})], [])
        for name in ("i.sqlite", "i.sqlite-wal"):
            shutil.copyfile(src / name, folder / name)
    folder.chmod(0o555)
    got = _read_without_write_access(folder / "i.sqlite")
    assert "holds commits not yet in the index file" in str(got["error"])


def test_read_only_folder_while_a_writer_runs(tmp_path: Path) -> None:
    """A writer holds the index open (its -wal and -shm exist): a reader without write access sees every
    committed batch through the WAL."""
    folder = tmp_path / "f"
    folder.mkdir()
    path = folder / "i.sqlite"
    _filled(path)
    with _sqlite(path, create=False) as s:
        with s.transaction():
            s.add([_record(5, "d5", fp=None, bands=[], terms={})], [])
        folder.chmod(0o555)
        got = _read_without_write_access(path)
        assert got["count"] == 6 and got["staged"] == 2
        assert "is writing to this index" in str(got["write_error"])


# --- a full disk --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("merge_docs", [(1, 1), (4096, 32768)], ids=["merge-every-batch", "default-merges"])
def test_disk_full_keeps_every_committed_batch(tmp_path: Path, merge_docs: tuple[int, int]) -> None:
    """SQLITE_FULL (simulated with ``max_page_count``) fails the batch or merge in flight with a clear error; the
    index reopens holding exactly the committed batches, answers like the reference, and takes more once there is
    room."""
    path = tmp_path / "i.sqlite"
    rng = random.Random(11)
    committed: list[DocRecord] = []
    with _sqlite(path, merge_docs=merge_docs) as s:
        pages = int(s.conn.execute("PRAGMA page_count").fetchone()[0])
        s.conn.execute(f"PRAGMA max_page_count = {pages + 12}")
        with pytest.raises(StoreError, match="disk full") as err:
            for b in range(1000):
                batch = [_random_record(20 * b + i, rng, f"d{20 * b + i}-" + "x" * 400) for i in range(20)]
                with s.transaction():
                    s.add(batch, [_pair(20 * b, 20 * b + 1)])
                    s.record_batch(1, b, 20, 0, 1, 20 * b + 19)
                committed.extend(batch)
        assert str(path) in str(err.value) and "committed batch is kept" in str(err.value)
        assert isinstance(err.value, DiskFullError)  # the CLI exits 1: work was done and is kept
        assert s.count() == len(committed)  # the store stays usable after the failure
    assert committed
    reference = MemoryStore()
    with reference.transaction():
        reference.add(committed, [])
    with _sqlite(path, create=False, merge_docs=merge_docs) as s:
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert s.table_counts()["batches"] == len(committed) // 20
        _same_answers(s, reference, committed)
        more = [_random_record(len(committed) + i, rng, f"more{i}") for i in range(5)]
        with s.transaction():
            s.add(more, [])
        reference.add(more, [])
        _same_answers(s, reference, committed + more)


# --- document ids ---------------------------------------------------------------------------------------------------

IDS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("\x00a/.\u200b\u202e\U0001f600"), max_size=20),
    st.builds(lambda t, n: (t or "\x00") * n, st.text(max_size=5), st.integers(1000, 20000)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(IDS, min_size=1, max_size=12, unique=True))
def test_any_string_is_an_id(ids: list[str]) -> None:
    """Ids with NUL, control, RTL and astral characters, path fragments, or 20,000 characters round-trip exactly,
    and a lookup finds each and nothing else (SQLite's JSON functions cut strings at NUL: lookups bind them)."""
    with tempfile.TemporaryDirectory() as tmp:
        with _sqlite(Path(tmp) / "i.sqlite") as s:
            records = [_record(i, x, fp=None, bands=[], terms={}) for i, x in enumerate(ids)]
            with s.transaction():
                s.add(records, [])
            assert [r.id for r in s.doc_rows()] == ids
            found = s.lookup([*ids, *(x + "\x00" for x in ids), *(x[:-1] for x in ids if x), "\x00"])
            assert {k: v.seq for k, v in found.items()} == {x: i for i, x in enumerate(ids)}
            assert {d.id for d in s.documents(range(len(ids))).values()} == set(ids)
            with pytest.raises(StoreError, match="UNIQUE"), s.transaction():
                s.add([_record(len(ids), ids[-1], fp=None, bands=[], terms={})], [])


def test_rerun_with_nul_ids_finds_them(tmp_path: Path) -> None:
    """The pipeline's resume: a second run over the same documents finds every stored id (before, an id with NUL
    was not found and its re-insertion failed with "UNIQUE constraint failed: docs.id" on every rerun)."""
    from retold.config import AlignConfig, RetoldConfig
    from retold.pipeline import index_documents

    cfg = RetoldConfig(align=AlignConfig(semantic="off"))
    docs = [
        Document("a\x00b", "The council approved the budget for the new bridge on Monday evening."),
        Document("a", "The council approved the budget for the new bridge on Monday evening, officials said."),
        Document("\x00", "An unrelated note about the weather in the hills."),
    ]
    with _sqlite(tmp_path / "i.sqlite", digest=cfg.digest()) as s:
        first = index_documents(s, docs, cfg)
        again = index_documents(s, docs, cfg)
        assert first.added == 3 and again.added == 0 and sorted(again.unchanged) == sorted(d.id for d in docs)
        assert [r.id for r in s.doc_rows()] == [d.id for d in docs]


def test_an_id_that_is_not_unicode_is_a_clear_error(tmp_path: Path) -> None:
    with _sqlite(tmp_path / "i.sqlite") as s:
        assert s.lookup(["bad\ud800"]) == {}
        with pytest.raises(StoreError, match=r"document 'bad\\ud800' holds text that is not valid Unicode"):
            with s.transaction():
                s.add([RECORDS[0], _record(1, "bad\ud800", fp=None, bands=[], terms={})], [])
        assert s.count() == 0
