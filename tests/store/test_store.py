"""The stores: SQLite schema, WAL mode, migration from version 1, refusal of foreign or broken files, atomic
transactions, and the same answers from `SqliteStore` and `MemoryStore` for the lookups candidate search uses."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from retold.errors import StoreError
from retold.model import Document
from retold.store.base import CANDIDATE_RULES, DocRecord, MemoryStore, PairRecord, Store, pair_from_json
from retold.store.sqlite import SCHEMA_V1, SCHEMA_V2, SCHEMA_V4, SCHEMA_V5, SCHEMA_VERSION, SqliteStore

DIGEST = "cfg-1"


def _sqlite(
    path: Path,
    digest: str = DIGEST,
    create: bool = True,
    merge_docs: tuple[int, int] = (4096, 32768),
    keep_postings: int = 0,
) -> SqliteStore:
    return SqliteStore(path, digest, "{}", create=create, merge_docs=merge_docs, keep_postings=keep_postings)


def _record(seq: int, doc_id: str, *, fp: int | None, bands: list[int], terms: dict[int, float]) -> DocRecord:
    keys = np.asarray(sorted(terms), dtype=np.int64)
    weights = np.asarray([terms[k] for k in sorted(terms)], dtype=np.float64)
    return DocRecord(
        seq=seq,
        doc=Document(doc_id, f"text of {doc_id}", date="2024-01-02" if seq % 2 else None, origin="t.jsonl"),
        text_hash=f"h-{doc_id}",
        credited=seq % 3 == 0,
        fingerprint=fp,
        signature=np.arange(8, dtype=np.uint64) + np.uint64(seq),
        band_keys=np.asarray(bands, dtype=np.int64),
        term_keys=keys,
        term_weights=weights,
        rare_total=float(weights.sum()),
    )


def _pair(a: int, b: int, verdict: str = "rewrite") -> PairRecord:
    side = {"date": None, "chars": 10, "coverage": 0.5}
    js = {
        "a": {"id": f"d{a}", **side},
        "b": {"id": f"d{b}", **side},
        "verdict": verdict,
        "passages": [],
        "spans": {"a": [], "b": []},
    }
    return PairRecord(a, b, verdict, ("minhash", "rewrite"), 0.5, json.dumps(js))  # type: ignore[arg-type]


BIG = 2**63 - 5  # band keys and term keys use the whole signed 64-bit range
RECORDS = [
    _record(0, "d0", fp=7, bands=[1, 2, -BIG], terms={10: 9.0, 11: 8.0, BIG: 7.5}),
    _record(1, "d1", fp=7, bands=[1, 3, 4], terms={10: 9.0, 12: 6.5}),
    _record(2, "d2", fp=None, bands=[], terms={}),
    _record(3, "d3", fp=-9, bands=[1, 2, 5], terms={10: 9.0, 11: 8.0, 13: 9.0}),
]


@pytest.fixture(params=["sqlite-staged", "sqlite-merged", "sqlite-half", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The records in a store: SQLite with their keyed rows staged, merged, or half of each; or in memory."""
    s: Store = _sqlite(tmp_path / "i.sqlite") if request.param.startswith("sqlite") else MemoryStore()
    with s.transaction():
        s.add(RECORDS[:2] if request.param == "sqlite-half" else RECORDS, [])
    if request.param == "sqlite-half":
        cast(SqliteStore, s).merge()
        with s.transaction():
            s.add(RECORDS[2:], [])
    with s.transaction():
        s.add([], [_pair(0, 1), _pair(0, 3, "unrelated"), _pair(1, 3)])
    if request.param == "sqlite-merged":
        cast(SqliteStore, s).merge()
    if isinstance(s, SqliteStore):
        assert s.staged_count() == {"sqlite-staged": 4, "sqlite-merged": 0, "sqlite-half": 2}[request.param]
    yield s
    s.close()


# --- the same answers from both stores ------------------------------------------------------------------------


def test_lookups(store: Store) -> None:
    assert store.count() == 4 and store.next_seq() == 4
    found = store.lookup(["d1", "d3", "nope"])
    assert {k: (v.seq, v.text_hash) for k, v in found.items()} == {"d1": (1, "h-d1"), "d3": (3, "h-d3")}
    docs = store.documents([3, 0, 99])
    assert set(docs) == {0, 3} and docs[3] == RECORDS[3].doc
    rows = store.doc_rows()
    assert [(r.seq, r.id, r.date, r.chars, r.credited) for r in rows] == [
        (r.seq, r.doc.id, r.doc.date, len(r.doc.text), r.credited) for r in RECORDS
    ]
    assert store.exact_members([7, -9, 123], limit=5) == {7: [0, 1], -9: [3]}
    assert store.exact_members([7], limit=1) == {7: [0]}
    assert store.band_members([1, 2, -BIG, 77], limit=10) == {1: [0, 1, 3], 2: [0, 3], -BIG: [0]}
    assert store.band_members([1], limit=2) == {1: [0, 1]}
    sigs = store.signatures([1, 2])
    assert set(sigs) == {1, 2} and sigs[1].dtype == np.uint64 and sigs[1].tolist() == list(range(1, 9))


def test_postings_respect_the_cap(store: Store) -> None:
    tp = store.postings([10, 11, 12, BIG, 404], cap=2)
    assert dict(zip(tp.terms.tolist(), tp.df.tolist(), strict=True)) == {10: 3, 11: 2, 12: 1, BIG: 1}
    assert tp.terms.tolist() == sorted(tp.terms.tolist())
    # term 10 is over the cap: no postings; the rest sorted by (term, seq), with each document's total weight
    rows = list(zip(tp.term.tolist(), tp.seq.tolist(), tp.weight.tolist(), tp.total.tolist(), strict=True))
    assert rows == [(11, 0, 8.0, 24.5), (11, 3, 8.0, 26.0), (12, 1, 6.5, 15.5), (BIG, 0, 7.5, 24.5)]


def test_pairs_in_order_and_by_later_document(store: Store) -> None:
    assert [(p.a, p.b) for p in store.pairs()] == [(0, 1), (0, 3), (1, 3)]
    assert [(p.a, p.verdict) for p in store.pairs(b=3)] == [(0, "unrelated"), (1, "rewrite")]
    p = next(iter(store.pairs()))
    assert p.channels == ("minhash", "rewrite") and json.loads(p.json)["a"]["id"] == "d0"


def test_delete_removes_everything_of_a_document(store: Store) -> None:
    with store.transaction():
        store.delete([0])
    assert store.count() == 3 and "d0" not in store.lookup(["d0"])
    assert store.exact_members([7], 5) == {7: [1]}
    assert store.band_members([1, 2, -BIG], 10) == {1: [1, 3], 2: [3]}
    tp = store.postings([10, 11, BIG], cap=10)
    assert dict(zip(tp.terms.tolist(), tp.df.tolist(), strict=True)) == {10: 2, 11: 1}
    assert [(p.a, p.b) for p in store.pairs()] == [(1, 3)]
    assert store.next_seq() == 4
    with store.transaction():
        store.delete([3])
    assert store.next_seq() == 3  # one above the largest stored (2)


def test_ledger_reports_unfinished_runs(store: Store) -> None:
    first = store.begin_run("index add a")
    with store.transaction():
        store.record_batch(first.run, 0, 4, 0, 2, 3)
    second = store.begin_run("index add a")
    assert second.interrupted == ((first.run, 1),)
    store.finish_run(second.run)
    store.finish_run(first.run)
    assert store.begin_run("again").interrupted == ()


def test_families_replaced(store: Store) -> None:
    with store.transaction():
        store.replace_families([("d0", "d0", 2, "{}"), ("d2", "d2", 1, "{}")])
    with store.transaction():
        store.replace_families([("d1", "d1", 1, "{}")])
    assert store.family_count() == 1


def test_pair_json_round_trip() -> None:
    js = {
        "a": {"id": "x", "date": "2021-09-06", "chars": 120, "coverage": 0.8123},
        "b": {"id": "y", "date": None, "chars": 99, "coverage": 0.5},
        "verdict": "rewrite",
        "passages": [{"label": "paraphrase", "a_start": 0, "a_end": 50, "b_start": 3, "b_end": 40, "score": 0.61}],
        "spans": {
            "a": [{"start": 0, "end": 50, "label": "paraphrase"}, {"start": 50, "end": 120, "label": "new"}],
            "b": [{"start": 0, "end": 99, "label": "paraphrase"}],
        },
    }
    res = pair_from_json(js, ("rewrite",))
    assert res.to_json() == js and res.channels == ("rewrite",)


# --- SQLite specifics -----------------------------------------------------------------------------------------


def test_new_file_schema_wal_and_meta(tmp_path: Path) -> None:
    with _sqlite(tmp_path / "i.sqlite") as s:
        assert s.journal_mode() == "wal"
        meta = s.meta()
        assert (
            meta["schema_version"] == str(SCHEMA_VERSION) == "6"
            and meta["candidate_rules"] == CANDIDATE_RULES
            and meta["merged_below"] == "0"
            and meta["postings_kept"] == "0"
            and meta["config_digest"] == DIGEST
        )
        assert set(s.table_counts()) == {
            "meta", "docs", "sketches", "bands", "terms", "pairs", "families", "runs", "batches", "vectors"
        }  # fmt: skip
        with s.transaction():
            s.add(RECORDS[:1], [])
        assert (tmp_path / "i.sqlite-wal").exists()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with _sqlite(tmp_path / "i.sqlite") as s:
        with pytest.raises(RuntimeError), s.transaction():
            s.add(RECORDS[:2], [_pair(0, 1)])
            assert s.count() == 2  # visible inside the transaction
            raise RuntimeError("interrupted")
        assert s.count() == 0 and list(s.pairs()) == [] and s.postings([10], 10).df.size == 0
        with pytest.raises(KeyboardInterrupt), s.transaction():
            s.add(RECORDS[:1], [])
            raise KeyboardInterrupt
        assert s.count() == 0
    with _sqlite(tmp_path / "i.sqlite") as s:  # and nothing half-written reached the file
        assert s.table_counts()["docs"] == 0


def test_duplicate_row_is_a_store_error_and_rolls_back(tmp_path: Path) -> None:
    with _sqlite(tmp_path / "i.sqlite") as s:
        with s.transaction():
            s.add(RECORDS[:1], [])
        with pytest.raises(StoreError, match="UNIQUE"), s.transaction():
            s.add(RECORDS[1:2], [])
            s.add(RECORDS[:1], [])
        assert s.count() == 1


def test_reopen_keeps_data(tmp_path: Path) -> None:
    with _sqlite(tmp_path / "i.sqlite") as s, s.transaction():
        s.add(RECORDS, [_pair(0, 1)])
    with _sqlite(tmp_path / "i.sqlite", create=False) as s:
        assert s.count() == 4 and [(p.a, p.b) for p in s.pairs()] == [(0, 1)]


def _old_file(path: Path, schema: tuple[str, ...], meta: list[tuple[str, str]]) -> Path:
    """An index file of an earlier schema holding one document, ``kept`` (seq 0)."""
    conn = sqlite3.connect(path)
    for stmt in schema:
        conn.execute(stmt)
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [("config_digest", DIGEST), *meta])
    conn.execute(
        "INSERT INTO docs(seq, id, text_hash, text, chars, credited, fingerprint, rare_total, run) "
        "VALUES (0, 'kept', 'h', 'old text', 8, 0, NULL, 0.0, 1)"
    )
    conn.commit()
    conn.close()
    return path


def test_migration_from_version_1(tmp_path: Path) -> None:
    path = _old_file(tmp_path / "old.sqlite", SCHEMA_V1, [("schema_version", "1")])
    with _sqlite(path, create=False) as s:
        assert s.meta()["schema_version"] == str(SCHEMA_VERSION) and s.meta()["merged_below"] == "1"
        assert s.lookup(["kept"])["kept"].text_hash == "h"
        with s.transaction():
            s.replace_families([("kept", "kept", 1, "{}")])
        assert s.family_count() == 1


def test_refuses_other_configuration(tmp_path: Path) -> None:
    _sqlite(tmp_path / "i.sqlite").close()
    with pytest.raises(StoreError, match=r"configuration cfg-1, this run uses cfg-2"):
        _sqlite(tmp_path / "i.sqlite", digest="cfg-2")


def test_refuses_newer_schema(tmp_path: Path) -> None:
    _sqlite(tmp_path / "i.sqlite").close()
    conn = sqlite3.connect(tmp_path / "i.sqlite")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this retold supports"):
        _sqlite(tmp_path / "i.sqlite")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no index there"):
        _sqlite(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not an SQLite file at all, just text " * 200, "not a readable retold index"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "not a readable retold index"),
    ],
)
def test_corrupt_file(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(content)
    with pytest.raises(StoreError, match=message):
        _sqlite(bad, create=False)


def test_other_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE x (a)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a retold index"):
        _sqlite(path)
    with pytest.raises(StoreError, match="is a folder"):
        _sqlite(tmp_path)


@pytest.mark.parametrize(("version", "keep"), [(2, 0), (3, 0), (3, 2)])
def test_migration_from_versions_2_and_3(tmp_path: Path, version: int, keep: int) -> None:
    """A version-2 or -3 file (every document's rows in the keyed tables, one row per posting, as the former code
    wrote them) opens, answers the same, and grows with staged documents."""
    path = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(path)
    for stmt in SCHEMA_V2:
        conn.execute(stmt)
    meta = [("schema_version", str(version)), ("config_digest", DIGEST)]
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta + [("merged_below", "3")] * (version == 3))
    for r in RECORDS[:3]:
        conn.execute(
            "INSERT INTO docs(seq, id, text_hash, text, date, origin, chars, credited, fingerprint, rare_total, run) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (r.seq, r.doc.id, r.text_hash, r.doc.text, r.doc.date, r.doc.origin, len(r.doc.text), int(r.credited),
             r.fingerprint, r.rare_total),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO sketches(seq, signature, band_keys, term_keys, term_weights) VALUES (?, ?, ?, ?, ?)",
            (r.seq, r.signature.astype("<u8").tobytes(), r.band_keys.astype("<i8").tobytes(),
             r.term_keys.astype("<i8").tobytes(), r.term_weights.astype("<f8").tobytes()),
        )  # fmt: skip
        conn.executemany("INSERT INTO bands(key, seq) VALUES (?, ?)", [(k, r.seq) for k in r.band_keys.tolist()])
        for t, w in zip(r.term_keys.tolist(), r.term_weights.tolist(), strict=True):
            conn.execute(
                "INSERT INTO postings(term, seq, weight, total) VALUES (?, ?, ?, ?)", (t, r.seq, w, r.rare_total)
            )
            conn.execute("INSERT INTO terms(term, df) VALUES (?, 1) ON CONFLICT(term) DO UPDATE SET df = df + 1", (t,))
    conn.commit()
    conn.close()
    reference = MemoryStore()
    with reference.transaction():
        reference.add(RECORDS, [])
    with _sqlite(path, create=False, keep_postings=keep) as s:
        meta = s.meta()
        assert (meta["schema_version"], meta["merged_below"], meta["postings_kept"]) == ("6", "3", str(keep))
        assert s.without_vector() == [0, 1, 2]  # indexed before the vector channel: given vectors by the next run
        assert s.staged_count() == 0 and "postings" not in s.table_counts()
        with s.transaction():
            s.add(RECORDS[3:], [])
        assert s.staged_count() == 1
        caps = (1,) if keep else (1, 4, 1000)
        _same_answers(s, reference, RECORDS, caps=caps)
        s.merge()
        _same_answers(s, reference, RECORDS, caps=caps)
        assert s.table_counts()["bands"] == 9 and s.table_counts()["terms"] == 5


# --- staged rows and merges: the same answers as the in-memory store ----------------------------------------------


def _random_record(seq: int, rng: random.Random, doc_id: str | None = None) -> DocRecord:
    """Band keys and terms from small pools, so that buckets and posting lists fill up past the limits."""
    bands = [rng.randrange(60) for _ in range(rng.randrange(0, 6))]
    terms = {rng.randrange(80) - 40: round(rng.uniform(1, 9), 3) for _ in range(rng.randrange(0, 8))}
    fp = rng.randrange(5) if rng.random() < 0.8 else None
    return _record(seq, doc_id or f"d{seq}", fp=fp, bands=bands, terms=terms)


def _same_answers(
    s: Store, reference: Store, records: list[DocRecord], limit: int = 3, caps: tuple[int, ...] = (4, 1000)
) -> None:
    bands = sorted({k for r in records for k in r.band_keys.tolist()} | {999})
    terms = sorted({k for r in records for k in r.term_keys.tolist()} | {999})
    fps = sorted({r.fingerprint for r in records if r.fingerprint is not None})
    assert s.count() == reference.count() and s.next_seq() == reference.next_seq()
    assert s.band_members(bands, limit) == reference.band_members(bands, limit)
    assert s.band_members(bands, 1000) == reference.band_members(bands, 1000)
    assert s.exact_members(fps, limit) == reference.exact_members(fps, limit)
    for c in caps:
        got, want = s.postings(terms, c), reference.postings(terms, c)
        for field in ("terms", "df", "term", "seq", "weight", "total"):
            assert getattr(got, field).tolist() == getattr(want, field).tolist(), field


@pytest.mark.parametrize(("seed", "keep"), [(1, 0), (2, 0), (3, 0), (1, 5), (4, 4), (5, 3)])
def test_staged_and_merged_rows_answer_like_the_reference(tmp_path: Path, seed: int, keep: int) -> None:
    """Random batches, replacements and merges (every 3-7 documents): after every batch the SQLite store answers
    exactly as `MemoryStore` (the brute-force reference), also when it keeps only the first `keep` postings of a
    term; the keyed tables end with the reference's rows."""
    rng = random.Random(seed)
    reference = MemoryStore()
    added: list[DocRecord] = []
    caps = tuple(range(1, keep)) if keep else (4, 1000)
    with _sqlite(tmp_path / "i.sqlite", merge_docs=(3, 7), keep_postings=keep) as s:
        nxt = 0
        for _ in range(25):
            old = rng.sample([r.seq for r in added if r.seq < nxt], k=min(2, len(added))) if rng.random() < 0.3 else []
            batch: list[DocRecord] = []
            for store in (s, reference):
                with store.transaction():
                    store.delete(old)
                    base = store.next_seq()
                    if store is s:
                        batch = [_random_record(base + i, rng, f"b{base + i}") for i in range(rng.randrange(1, 5))]
                        added = [r for r in added if r.seq not in old] + batch
                    store.add(batch, [])
            nxt = s.next_seq()
            _same_answers(s, reference, added, caps=caps)
        s.merge()
        _same_answers(s, reference, added, caps=caps)
        n_bands = sum(len(set(r.band_keys.tolist())) for r in added)
        n_posts = sum(r.term_keys.size for r in added)
        counts = s.table_counts()
        df, longest = s.conn.execute("SELECT SUM(df), MAX(LENGTH(posts)) FROM terms").fetchone()
        assert (counts["bands"], df) == (n_bands, n_posts)
        assert counts["terms"] == len({t for r in added for t in r.term_keys.tolist()})
        assert not keep or longest <= keep * 24


def test_short_posting_list_is_rebuilt_after_deletions(tmp_path: Path) -> None:
    """A store keeping 3 postings per term: deleting the kept ones of a 6-document list brings it back within
    the cap, and the missing postings are read back from the sketches."""
    records = [_record(i, f"d{i}", fp=None, bands=[], terms={7: 1.0 + i, 8 + i: 2.0}) for i in range(6)]
    reference = MemoryStore()
    with reference.transaction():
        reference.add(records, [])
    with _sqlite(tmp_path / "i.sqlite", keep_postings=3) as s:
        with s.transaction():
            s.add(records, [])
        s.merge()
        assert s.conn.execute("SELECT df, LENGTH(posts) FROM terms WHERE term = 7").fetchone() == (6, 72)
        with pytest.raises(ValueError, match="keeps 3 postings"):
            s.postings([7], 3)
        deleted: set[int] = set()
        for gone in ([0], [1, 3], [2]):  # the last one leaves 2 postings, none of them in the blob
            deleted.update(gone)
            for store in (s, reference):
                with store.transaction():
                    store.delete(gone)
            _same_answers(s, reference, [r for r in records if r.seq not in deleted], caps=(1, 2))
        tp = s.postings([7], 2)
        assert tp.seq.tolist() == [4, 5] and tp.weight.tolist() == [5.0, 6.0]


def test_interrupted_merge_rolls_back_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the middle of a merge (after the band rows are written) leaves the store as before it."""
    rng = random.Random(5)
    records = [_random_record(i, rng) for i in range(12)]
    reference = MemoryStore()
    with reference.transaction():
        reference.add(records, [])
    with _sqlite(tmp_path / "i.sqlite") as s:
        with s.transaction():
            s.add(records, [])
        real = s.conn

        class Interrupting:
            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

            def executemany(self, sql: str, rows: object) -> object:
                if sql.startswith("INSERT OR REPLACE INTO terms"):
                    raise KeyboardInterrupt
                return real.executemany(sql, rows)  # type: ignore[arg-type]

        monkeypatch.setattr(SqliteStore, "conn", property(lambda self: Interrupting()))
        with pytest.raises(KeyboardInterrupt):
            s.merge()
        monkeypatch.undo()
        assert s.staged_count() == 12 and s.table_counts()["bands"] == 0 and s.meta()["merged_below"] == "0"
        _same_answers(s, reference, records)
        s.merge()
        _same_answers(s, reference, records)


_WRITER = """
import random, sys
sys.path.insert(0, sys.argv[2])
from tests.store.test_store import _random_record, _sqlite
from pathlib import Path
rng = random.Random(0)
with _sqlite(Path(sys.argv[1]), merge_docs=(1, 1)) as s:
    seq = 0
    while True:
        with s.transaction():
            s.add([_random_record(seq + i, random.Random(seq + i), f"k{seq + i}") for i in range(50)], [])
        seq += 50
"""


def _stored(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet
        return 0


def test_kill_during_merges_loses_no_committed_batch(tmp_path: Path) -> None:
    """kill -9 a writer that merges after every batch (so most of its time is in merges), several times: the file
    always holds whole batches, and answers as the reference holding the same documents."""
    db = tmp_path / "k.sqlite"
    root = str(Path(__file__).resolve().parents[2])
    for batches, extra in ((1, 0.0), (3, 0.05), (6, 0.13)):
        log = tmp_path / "writer.log"
        with (
            open(log, "wb") as err,
            subprocess.Popen([sys.executable, "-c", _WRITER, str(db), root], stderr=err) as proc,
        ):
            deadline = time.monotonic() + 120
            while _stored(db) < 50 * batches and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(extra)
            assert proc.poll() is None, log.read_text()
            proc.kill()
            proc.wait(timeout=30)
        with _sqlite(db, create=False) as s:
            n = s.count()
            assert n % 50 == 0 and n >= 50 * batches
            records = [_random_record(i, random.Random(i), f"k{i}") for i in range(n)]
            reference = MemoryStore()
            with reference.transaction():
                reference.add(records, [])
            _same_answers(s, reference, records)
            db.unlink()
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("keep", [0, 3])
def test_document_added_below_the_mark_keeps_postings_in_seq_order(tmp_path: Path, keep: int) -> None:
    later = [_record(s, f"d{s}", fp=None, bands=[s], terms={7: 1.0 + s}) for s in (5, 6, 8)]
    early = [_record(2, "d2", fp=None, bands=[2], terms={7: 3.0})]
    reference = MemoryStore()
    with _sqlite(tmp_path / "i.sqlite", keep_postings=keep) as s:
        for store in (s, reference):
            with store.transaction():
                store.add(later, [])
        s.merge()
        for store in (s, reference):
            with store.transaction():
                store.add(early, [])  # below the merged mark: straight into the keyed rows
        assert s.staged_count() == 0
        _same_answers(s, reference, later + early, caps=(1, 2) if keep else (3, 4, 1000))
        if not keep:
            assert s.postings([7], 10).seq.tolist() == [2, 5, 6, 8]
        df, blob = s.conn.execute("SELECT df, posts FROM terms WHERE term = 7").fetchone()
        seqs = np.frombuffer(blob, dtype=[("seq", "<i8"), ("weight", "<f8"), ("total", "<f8")])["seq"].tolist()
        assert df == 4 and seqs == [2, 5, 6, 8][: keep or 4]


# --- article vectors (the vector candidate channel) ------------------------------------------------------------


def _with_vector(r: DocRecord, seed: int) -> DocRecord:
    vec = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return DocRecord(
        **{f: getattr(r, f) for f in DocRecord.__slots__ if f not in ("vector", "near")}, vector=vec, near=seed % 3
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_vectors_stored_put_and_deleted(tmp_path: Path, kind: str) -> None:
    s: Store = MemoryStore() if kind == "memory" else _sqlite(tmp_path / "v.sqlite")
    try:
        recs = [_with_vector(r, n) if n % 2 == 0 else r for n, r in enumerate(RECORDS)]
        with s.transaction():
            s.add(recs, [])
        seqs, vecs, near = s.vectors()
        with_vec = [r for r in recs if r.vector is not None]
        assert near.tolist() == [r.near for r in with_vec]
        assert seqs.tolist() == [r.seq for r in with_vec] and vecs.dtype == np.float32
        assert all(np.array_equal(v, r.vector) for v, r in zip(vecs, with_vec, strict=True))
        missing = [r.seq for r in recs if r.vector is None]
        assert s.without_vector() == missing
        filler = np.ones((len(missing) + 1, 384), dtype=np.float32)
        with s.transaction():
            s.put_vectors([*missing, 999], filler)  # 999 is no stored document: ignored
            s.delete([with_vec[0].seq])
            s.set_near([with_vec[1].seq], [7])
        seqs, vecs, near = s.vectors()
        got = dict(zip(seqs.tolist(), near.tolist(), strict=True))
        assert got[with_vec[1].seq] == 7 and all(got[m] == -1 for m in missing)  # put: not known yet
        assert s.without_vector() == []
        assert seqs.tolist() == sorted({r.seq for r in recs} - {with_vec[0].seq})
    finally:
        s.close()


def test_empty_store_has_no_vectors(tmp_path: Path) -> None:
    with _sqlite(tmp_path / "e.sqlite") as s:
        seqs, vecs, near = s.vectors()
        assert seqs.size == 0 and vecs.shape[0] == 0 and near.size == 0
    seqs, vecs, near = MemoryStore().vectors()
    assert seqs.size == 0 and vecs.shape[0] == 0 and near.size == 0


def test_migration_from_version_4_adds_the_vectors_table(tmp_path: Path) -> None:
    meta = [("schema_version", "4"), ("merged_below", "1"), ("postings_kept", "0")]
    path = _old_file(tmp_path / "v4.sqlite", SCHEMA_V4, meta)
    with _sqlite(path, create=False) as s:
        assert s.meta()["schema_version"] == str(SCHEMA_VERSION)
        assert "vectors" in s.table_counts() and s.without_vector() == [0]


def test_migration_from_version_5_adds_neighbour_counts_and_asks_for_a_reconcile(tmp_path: Path) -> None:
    meta = [("schema_version", "5"), ("merged_below", "0"), ("postings_kept", "0")]
    path = _old_file(tmp_path / "v5.sqlite", SCHEMA_V5, meta)
    with _sqlite(path, create=False) as s:
        assert s.meta()["schema_version"] == str(SCHEMA_VERSION)
        assert s.get_meta("candidate_rules") is None  # the next run reconciles it (retold.pipeline)
        seqs, _, near = s.vectors()
        assert near.tolist() == [-1] * seqs.size


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_lookups_of_the_set_rules(tmp_path: Path, kind: str) -> None:
    """holders, term_vectors, common_terms, pairs_among/touching, set_channels and meta: the same answers from
    both stores (the SQLite one with staged and merged rows)."""
    s: Store = MemoryStore() if kind == "memory" else _sqlite(tmp_path / "r.sqlite")
    try:
        pairs = [
            PairRecord(0, 1, "rewrite", ("rewrite",), 0.5, "{}"),
            PairRecord(0, 2, "near-duplicate", ("minhash", "vector"), 0.9, "{}"),
            PairRecord(1, 3, "partial-reuse", ("rewrite", "vector"), 0.4, "{}"),
        ]
        with s.transaction():
            s.add(RECORDS[:2], [])
        if isinstance(s, SqliteStore):
            s.merge()  # the first two merged, the rest staged
        with s.transaction():
            s.add(RECORDS[2:], pairs)
        held: dict[int, list[int]] = {}
        for r in RECORDS:
            for t in r.term_keys.tolist():
                held.setdefault(t, []).append(r.seq)
        terms = sorted(held)[:40]
        assert s.holders(terms) == {t: sorted(held[t]) for t in terms}
        tv = s.term_vectors([0, 3, 999])
        assert sorted(tv) == [0, 3]
        assert np.array_equal(tv[3][0], RECORDS[3].term_keys) and tv[3][2] == RECORDS[3].rare_total
        common = s.common_terms(1)
        assert common.tolist() == sorted(t for t, h in held.items() if len(h) > 1)
        assert [(p.a, p.b) for p in s.pairs_among([0, 1, 3])] == [(0, 1), (1, 3)]
        assert [(p.a, p.b) for p in s.pairs_touching([2, 3])] == [(0, 2), (1, 3)]
        with s.transaction():
            s.set_channels([(0, 2, ("minhash",)), (1, 3, ())])
            s.set_meta("candidate_rules", "x")
        assert [(p.a, p.b, p.channels) for p in s.pairs()] == [(0, 1, ("rewrite",)), (0, 2, ("minhash",))]
        assert s.get_meta("candidate_rules") == "x" and s.get_meta("nothing") is None
    finally:
        s.close()
