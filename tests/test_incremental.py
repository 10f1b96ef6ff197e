"""Incremental equals batch: an index grown in chunks, or killed (SIGKILL) mid-run and rerun, or holding a document
whose text later changed, ends up with exactly the pairs and families of one uninterrupted scan."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retold import api
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
