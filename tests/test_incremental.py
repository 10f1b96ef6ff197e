"""Incremental equals batch: an index grown in chunks, or killed (SIGKILL) mid-run and rerun, or holding a document
whose text later changed, ends up with exactly the pairs and families of one uninterrupted scan."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from retold import api
from retold.config import AlignConfig, RetoldConfig
from retold.errors import StoreError
from retold.store.sqlite import MERGE_DOCS_ENV, SqliteStore
from tests import hooked_cli
from tests.store.corpus import records, write_jsonl

CLI = [sys.executable, "-c", "from retold.cli import main; main()"]
OUTPUTS = ("pairs.jsonl", "families.jsonl", "keep.jsonl")


def _files(out: Path) -> dict[str, str]:
    return {name: (out / name).read_text(encoding="utf-8") for name in OUTPUTS}


def _rows(db: Path) -> dict[str, int]:
    """Row counts of the data tables (the ledger tables `runs`/`batches` record history and may differ)."""
    with api.open_index(db) as store:
        counts = store.table_counts()
    return {k: v for k, v in counts.items() if k not in ("runs", "batches", "meta")}


@pytest.fixture(scope="module")
def corpus(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    return records(shared_data)


@pytest.fixture(scope="module")
def scanned(corpus: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scan of the whole corpus (temporary index)."""
    tmp = tmp_path_factory.mktemp("scan")
    report = api.scan_corpus([write_jsonl(tmp / "all.jsonl", corpus)], tmp / "out")
    assert report.pairs >= 4  # the seed rewrite and the three planted versions
    return tmp / "out"


def test_five_chunks_equal_one_scan(corpus: list[dict[str, str]], scanned: Path, tmp_path: Path) -> None:
    db = tmp_path / "grown.sqlite"
    size = -(-len(corpus) // 5)
    for n, start in enumerate(range(0, len(corpus), size)):
        chunk = write_jsonl(tmp_path / f"chunk{n}.jsonl", corpus[start : start + size])
        api.index_corpus([chunk], db, batch_size=7)
    out = tmp_path / "out"
    api.export_index(db, out)
    assert _files(out) == _files(scanned)
    pairs = {
        (p["a"]["id"], p["b"]["id"]): p["verdict"] for p in map(json.loads, _files(out)["pairs.jsonl"].split("\n")[:-1])
    }
    assert pairs[("seed-000", "seed-004")] == "rewrite"
    assert pairs[("bbc-business/004", "planted-copy")] == "duplicate"
    assert {"planted-edit", "planted-part"} <= {b for _, b in pairs}


def test_rerun_adds_nothing(corpus: list[dict[str, str]], tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", corpus[:12])
    db = tmp_path / "i.sqlite"
    first = api.index_corpus([path], db)
    again = api.index_corpus([path], db, manifest=tmp_path / "manifest.jsonl")
    assert first.stats.added == 12 and again.stats.documents == 0 and len(again.stats.unchanged) == 12
    manifest = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert {m["status"] for m in manifest} == {"unchanged"}


def test_changed_document_is_replaced(corpus: list[dict[str, str]], scanned: Path, tmp_path: Path) -> None:
    """A stored id whose text changes: old pairs go, it is re-added as the newest document; the index then
    equals a scan with the new version at the end."""
    seed4 = next(r for r in corpus if r["id"] == "seed-004")
    wrong = {"id": "seed-004", "text": "An unrelated first draft about cricket scores, filed in error."}
    first = [wrong if r["id"] == "seed-004" else r for r in corpus]
    db = tmp_path / "i.sqlite"
    api.index_corpus([write_jsonl(tmp_path / "first.jsonl", first)], db)
    res = api.index_corpus([write_jsonl(tmp_path / "fix.jsonl", [seed4])], db, manifest=tmp_path / "m.jsonl")
    assert res.stats.updated == ["seed-004"] and res.documents_in_index == len(corpus)
    assert json.loads((tmp_path / "m.jsonl").read_text())["status"] == "updated"
    out = tmp_path / "out"
    api.export_index(db, out)
    moved = [r for r in corpus if r["id"] != "seed-004"] + [seed4]
    ref = tmp_path / "ref"
    api.scan_corpus([write_jsonl(tmp_path / "moved.jsonl", moved)], ref)
    assert _files(out) == _files(ref)
    assert '"id":"seed-004"' in _files(out)["pairs.jsonl"]


BATCH = 2


def _committed_batches(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or the schema is being written
        return 0


@pytest.mark.parametrize(
    ("sig", "after_batches"),
    [(signal.SIGKILL, 1), (signal.SIGKILL, 3), (signal.SIGINT, 2)],
    ids=["kill1", "kill3", "int2"],
)
def test_killed_run_resumes_to_the_same_index(
    corpus: list[dict[str, str]], scanned: Path, tmp_path: Path, sig: signal.Signals, after_batches: int
) -> None:
    """Kill -9 (or Ctrl-C) an `index add` subprocess once some batches have landed, rerun it, and compare."""
    path = write_jsonl(tmp_path / "c.jsonl", corpus)
    db = tmp_path / "killed.sqlite"
    # Batches of 2 (23 transactions): a run of larger batches can end before the poll below sees the mark.
    cmd = [*CLI, "index", "add", str(path), "--db", str(db), "--workers", "1", "--batch-size", str(BATCH)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _committed_batches(db) < after_batches and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    for _ in range(20):
        proc.send_signal(sig)
        try:
            # Long enough for a clean exit (rollback, closing the index and the model): a second Ctrl-C during
            # that shutdown would kill the process with the signal instead of the exit status 130.
            proc.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            # Python drops a KeyboardInterrupt raised inside a finaliser ("Exception ignored"); a user presses
            # Ctrl-C again, and so does this test.
            continue
    expected = -signal.SIGKILL if sig == signal.SIGKILL else 130
    assert proc.returncode == expected, f"finished before the signal? {_committed_batches(db)} batches committed"
    done = _committed_batches(db)
    assert done >= after_batches
    with api.open_index(db) as store:
        assert store.count() == BATCH * done  # whole batches only: the one in flight left nothing behind
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed" in rerun.stderr and "interrupted" in rerun.stderr
    reference = tmp_path / "ref.sqlite"
    api.index_corpus([path], reference)
    assert _rows(db) == _rows(reference)
    out = tmp_path / "out"
    api.export_index(db, out)
    assert _files(out) == _files(scanned)


def test_index_from_before_the_vector_channel_gets_vectors(
    corpus: list[dict[str, str]], scanned: Path, tmp_path: Path
) -> None:
    # An index made before schema 5 has no article vectors: the next run gives every stored document its vector
    # before it searches, so the pairs are those of one scan.
    from retold import semantic

    if not semantic.available():
        pytest.skip("semantic channel not installed: no vector channel")
    db = tmp_path / "old.sqlite"
    half = len(corpus) // 2
    api.index_corpus([write_jsonl(tmp_path / "first.jsonl", corpus[:half])], db)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM vectors")
    with api.open_index(db) as store:
        assert len(store.without_vector()) == half
    api.index_corpus([write_jsonl(tmp_path / "second.jsonl", corpus[half:])], db)
    with api.open_index(db) as store:
        assert store.without_vector() == [] and store.vectors()[0].size == len(corpus)
    out = tmp_path / "out"
    api.export_index(db, out)
    assert _files(out) == _files(scanned)


# --- kill -9 at random points, also inside a merge of the staged rows --------------------------------------------

OFF = RetoldConfig(align=AlignConfig(semantic="off"))
"""The lexical channels only: several times faster to index, and the kill points are about the store."""


@pytest.fixture(scope="module")
def lexical(corpus: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A part of the corpus (26 documents: the seeds, the planted copy and their sources) and the export of one
    uninterrupted `index add` of it, lexical channels only."""
    tmp = tmp_path_factory.mktemp("lexical")
    path = write_jsonl(tmp / "c.jsonl", corpus[:26])
    api.index_corpus([path], tmp / "ref.sqlite", OFF)
    api.export_index(tmp / "ref.sqlite", tmp / "out", OFF)
    return path, _files(tmp / "out")


def _progress(db: Path, kind: str) -> int:
    """Committed batches (index add); for a scan 1 once its batch is committed, 2 once its run has finished."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            batches, finished = conn.execute(
                "SELECT (SELECT COUNT(*) FROM batches), (SELECT COUNT(*) FROM runs WHERE finished IS NOT NULL)"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # not made yet
        return 0
    return int(batches) if kind == "index" else min(1, int(batches)) + int(finished)


def _command(kind: str, path: Path, db: Path, out: Path) -> list[str]:
    if kind == "index":
        args = ["index", "add", str(path), "--db", str(db), "--batch-size", str(BATCH)]
    else:
        args = ["scan", str(path), "--db", str(db), "--out", str(out)]
    return [*hooked_cli.COMMAND, *args, "--workers", "1", "--semantic", "off"]


def _rerun_and_compare(cmd: list[str], kind: str, db: Path, out: Path, reference: dict[str, str]) -> None:
    """Run `cmd` to the end and check that the index exports exactly the reference (and, for a scan, that its
    own outputs are the reference too)."""
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    if kind == "scan":
        assert _files(out) == reference
    export = out.parent / "export"
    api.export_index(db, export, OFF)
    assert _files(export) == reference


@pytest.mark.parametrize(
    ("kind", "seed"),
    [("index", 1), ("index", 2), ("index", 3), ("scan", 3), ("scan", 4), ("scan", 5)],
    ids=lambda x: str(x),
)
def test_kill_at_a_random_point_then_rerun(
    lexical: tuple[Path, dict[str, str]], tmp_path: Path, kind: str, seed: int
) -> None:
    """kill -9 of `index add` or `scan --db` at a random moment (merges after every other batch, so that some
    kills land in one), then the same command again: the same export as one uninterrupted run."""
    path, reference = lexical
    rng = random.Random(seed)
    db, out = tmp_path / "i.sqlite", tmp_path / "out"
    cmd = _command(kind, path, db, out)
    env = {**os.environ, MERGE_DOCS_ENV: "3,3"}
    # index add: after a random number of its 13 batches has committed; scan (one batch), by seed: once the index
    # file is made (its batch is being analysed), its batch has committed (merge, export) or its run has finished
    # (export); then a random moment more.
    if kind == "index":
        stage, jitter = rng.randrange(0, 13), rng.uniform(0, 0.1)
    else:
        stage, jitter = seed % 3, rng.uniform(0, 0.02)
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if db.exists() and _progress(db, kind) >= stage:
                break
            time.sleep(0.002)
        time.sleep(jitter)
        proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the run ended before the kill"
    _rerun_and_compare(cmd, kind, db, out, reference)


@pytest.mark.parametrize("kind", ["index", "scan"])
def test_kill_inside_a_merge_then_rerun(lexical: tuple[Path, dict[str, str]], tmp_path: Path, kind: str) -> None:
    """kill -9 while a merge has written its rows into the keyed tables but not committed them: the index holds
    the staged rows as before the merge, and the rerun gives the export of one uninterrupted run."""
    path, reference = lexical
    db, out = tmp_path / "i.sqlite", tmp_path / "out"
    marker = tmp_path / "in-merge"
    cmd = _command(kind, path, db, out)
    # index add merges after every batch (the 3rd merge: some documents are merged already); a scan holds one
    # batch and merges once, when its run finishes.
    at = 3 if kind == "index" else 1
    env = {**os.environ, MERGE_DOCS_ENV: "1,1", "RETOLD_TEST_PAUSE_IN_MERGE": f"{marker}:{at}"}
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert marker.exists(), proc.stderr.read() if proc.stderr else ""
        proc.kill()
    staged = int(marker.read_text())
    with api.open_index(db, OFF) as store:
        assert store.staged_count() == staged > 0  # the merge left nothing behind
        merged = int(store.meta()["merged_below"])
        assert store.table_counts()["bands"] == sum(
            len(set(np.frombuffer(b, dtype="<i8").tolist()))
            for (b,) in store.conn.execute("SELECT band_keys FROM sketches WHERE seq < ?", (merged,))
        )
    _rerun_and_compare(cmd, kind, db, out, reference)


def test_disk_full_during_index_add_then_rerun(
    lexical: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up (SQLITE_FULL, simulated with ``max_page_count``) in the middle of an `index add`: a clear
    error; the index opens, sound, holding whole batches; the rerun (with room again) exports the reference."""
    path, reference = lexical
    full = tmp_path / "full.sqlite"
    api.index_corpus([path], full, OFF)
    with api.open_index(full, OFF) as store:
        pages = int(store.conn.execute("PRAGMA page_count").fetchone()[0])
    tune = SqliteStore._tune

    def small_disk(self: SqliteStore) -> None:
        tune(self)
        self.conn.execute(f"PRAGMA max_page_count = {pages * 2 // 3}")

    db = tmp_path / "i.sqlite"
    monkeypatch.setattr(SqliteStore, "_tune", small_disk)
    with pytest.raises(StoreError, match="disk full") as err:
        api.index_corpus([path], db, OFF, batch_size=BATCH)
    monkeypatch.undo()
    assert str(db) in str(err.value)
    with api.open_index(db, OFF) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        batches = int(store.conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0])
        assert 0 < store.count() == BATCH * batches < 26
    api.index_corpus([path], db, OFF, batch_size=BATCH)
    api.export_index(db, tmp_path / "out", OFF)
    assert _files(tmp_path / "out") == reference
