"""One index, several processes: two `retold index add` runs at once serialise (the second waits and says so;
neither calls the other's run interrupted; nothing is lost), and queries answer while an `index add` runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retold import api
from retold.config import AlignConfig, RetoldConfig
from retold.errors import StoreError
from retold.model import Document
from retold.pipeline import query
from retold.store.sqlite import MERGE_DOCS_ENV, SqliteStore
from tests import hooked_cli
from tests.store.corpus import records, write_jsonl

CLI = [sys.executable, "-c", "from retold.cli import main; main()"]
OFF = RetoldConfig(align=AlignConfig(semantic="off"))
OUTPUTS = ("pairs.jsonl", "families.jsonl", "keep.jsonl")


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> list[dict[str, str]]:
    return records(shared_data, n_bbc=20)


def _add(path: Path, db: Path, batch: int = 2) -> list[str]:
    args = ["index", "add", str(path), "--db", str(db), "--workers", "1", "--semantic", "off", "--batch-size"]
    return [*CLI, *args, str(batch)]


def _batches(db: Path) -> int:
    try:
        with SqliteStore(db, OFF.digest(), "{}", create=False, readonly=True) as s:
            return int(s.conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0])
    except StoreError:  # not made yet
        return 0


def _export(db: Path, out: Path) -> dict[str, str]:
    api.export_index(db, out, OFF)
    return {n: (out / n).read_text(encoding="utf-8") for n in OUTPUTS}


def _sequential(parts: list[Path], tmp: Path) -> dict[str, str]:
    """The export of the parts added one after the other."""
    db = tmp / "sequential.sqlite"
    for p in parts:
        api.index_corpus([p], db, OFF)
    return _export(db, tmp / "sequential")


def test_second_index_add_waits_for_the_first(corpus: list[dict[str, str]], tmp_path: Path) -> None:
    """The first run is held inside a merge (a test hook) until the second has said that it waits: then both end,
    the second after the first, neither reporting an interrupted run, and the index is the two parts in order."""
    a = write_jsonl(tmp_path / "a.jsonl", corpus[:12])
    b = write_jsonl(tmp_path / "b.jsonl", corpus[12:])
    db = tmp_path / "i.sqlite"
    marker = tmp_path / "paused"
    env = {**os.environ, MERGE_DOCS_ENV: "1,1", "RETOLD_TEST_PAUSE_IN_MERGE": f"{marker}:2"}
    first_cmd = [*hooked_cli.COMMAND, *_add(a, db)[len(CLI) :]]
    log = tmp_path / "second.log"
    with (
        subprocess.Popen(first_cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as first,
        open(log, "w") as second_err,
    ):
        deadline = time.monotonic() + 120
        while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert marker.exists(), first.communicate()[1]
        with subprocess.Popen(_add(b, db), stdout=subprocess.DEVNULL, stderr=second_err) as second:
            while "waiting" not in log.read_text() and second.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert second.poll() is None  # it waits for the first
            Path(f"{marker}.go").touch()
            err_a = first.communicate(timeout=300)[1]
            second.wait(timeout=300)
    err_b = log.read_text()
    assert first.returncode == 0 and second.returncode == 0, err_a + err_b
    assert "waiting for it to finish" in err_b and f"pid {first.pid}" in err_b and str(a) in err_b
    for err in (err_a, err_b):
        assert "interrupted" not in err and "resumed" not in err
    with SqliteStore(db, OFF.digest(), "{}", create=False, readonly=True) as s:
        runs = s.conn.execute("SELECT note, finished IS NOT NULL FROM runs ORDER BY run").fetchall()
        assert s.count() == len(corpus)
    assert [(n.split()[-1], f) for n, f in runs] == [(str(a), 1), (str(b), 1)]
    assert _export(db, tmp_path / "out") == _sequential([a, b], tmp_path)


def test_two_index_adds_started_together(corpus: list[dict[str, str]], tmp_path: Path) -> None:
    """Both start on a missing file: one makes it, the other waits (also while it is being made); the index
    equals the two parts added one after the other, in the order the ledger shows."""
    a = write_jsonl(tmp_path / "a.jsonl", corpus[::2])
    b = write_jsonl(tmp_path / "b.jsonl", corpus[1::2])
    db = tmp_path / "i.sqlite"
    procs = [subprocess.Popen(_add(p, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in (a, b)]
    errs = []
    for proc in procs:
        with proc:
            errs.append(proc.communicate(timeout=300)[1])
        assert proc.returncode == 0, errs[-1]
    assert all("interrupted" not in e and "Traceback" not in e for e in errs)
    with SqliteStore(db, OFF.digest(), "{}", create=False, readonly=True) as s:
        order = [Path(str(n).split()[-1]) for (n,) in s.conn.execute("SELECT note FROM runs ORDER BY run")]
        assert s.count() == len(corpus)
    assert sorted(order) == sorted([a, b])
    assert _export(db, tmp_path / "out") == _sequential(order, tmp_path)
    assert not Path(f"{db}-lock").exists()


def test_queries_while_index_add_runs(corpus: list[dict[str, str]], tmp_path: Path) -> None:
    """A read-only store (and a writable one that only reads, as `index query` opens today) answers queries while
    an `index add` commits batches and merges (after every batch here): each answer is the one of a committed
    state, and the final one equals a query of the finished index."""
    seed4 = next(r for r in corpus if r["id"] == "seed-004")
    path = write_jsonl(tmp_path / "c.jsonl", [r for r in corpus if r["id"] != "seed-004"])
    doc = Document("query", seed4["text"])
    db = tmp_path / "i.sqlite"
    env = {**os.environ, MERGE_DOCS_ENV: "1,1"}
    cmd = _add(path, db, batch=1)
    answered = 0
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 120
        while _batches(db) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        while proc.poll() is None and time.monotonic() < deadline:
            with SqliteStore(db, OFF.digest(), "{}", create=False, readonly=True) as ro:
                n = ro.count()
                found = [(r.a.id, r.verdict) for r in query(ro, doc, OFF)]
            assert n >= 2 and ("seed-000", "rewrite") in found  # seed-000 came in the first batch
            report = api.query_document(db, doc, OFF)
            assert ("seed-000", "rewrite") in [(r.a.id, r.verdict) for r in report.results]
            answered += 1
        err = proc.communicate()[1]
    assert proc.returncode == 0, err
    assert answered >= 1, "the run ended before a query"
    with SqliteStore(db, OFF.digest(), "{}", create=False, readonly=True) as ro:
        final = [r.to_json() for r in query(ro, doc, OFF)]
    assert final == [r.to_json() for r in api.query_document(db, doc, OFF).results]
