"""The writer lock: one writing store per index at a time, across processes and threads. A second writer waits
(saying so) or gives up after its timeout; a killed writer's lock is freed by the kernel; readers never wait; a run
is reported interrupted only when its writer is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from retold.errors import StoreError
from retold.store.sqlite import SqliteStore
from tests.store.test_store import DIGEST, RECORDS, _sqlite

ROOT = str(Path(__file__).resolve().parents[2])

_HOLDER = """
import sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from tests.store.test_store import RECORDS, _sqlite
with _sqlite(Path(sys.argv[1])) as s:
    run = s.begin_run("index add holder.jsonl").run
    with s.transaction():
        s.add(RECORDS[:2], [])
        s.record_batch(run, 0, 2, 0, 0, 1)
    print("holding", flush=True)
    sys.stdin.readline()  # until the test says so (or kills this process)
    with s.transaction():
        s.add(RECORDS[2:], [])
        s.record_batch(run, 1, 2, 0, 0, 3)
    s.finish_run(run)
"""


@contextmanager
def _holder(db: Path) -> Iterator[subprocess.Popen[str]]:
    """A process that opened a run on `db`, committed a batch, and waits for a line on stdin to finish it (killed
    at the end if it is still there)."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db), ROOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stderr is not None
            line = proc.stdout.readline()
            assert line == "holding\n", proc.stderr.read()
            yield proc
        finally:
            proc.kill()


def test_second_writer_waits_says_so_and_reports_no_interrupted_run(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    with _holder(db) as proc:
        told: list[str] = []
        started: list[float] = []
        result: dict[str, object] = {}

        def second() -> None:
            with SqliteStore(db, DIGEST, "{}", create=True, on_wait=told.append) as s:
                assert s.count() == 2  # opening and reading do not wait
                state = s.begin_run("index add second.jsonl")
                started.append(time.monotonic())
                result["interrupted"] = state.interrupted
                result["count"] = s.count()
                s.finish_run(state.run)

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 30
        while not told and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(told) == 1
        assert str(db) in told[0] and f"pid {proc.pid}" in told[0] and "index add holder.jsonl" in told[0]
        assert "waiting for it to finish" in told[0]
        time.sleep(0.3)
        assert not started  # still waiting
        released = time.monotonic()
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
        thread.join(timeout=30)
        assert started and started[0] >= released
        # The holder's run had finished when the second one began: nothing was interrupted, nothing lost.
        assert result == {"interrupted": (), "count": 4}
    assert sorted(os.listdir(tmp_path)) == ["i.sqlite"]  # the lock file went with its last holder


def test_timeout_gives_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    with _holder(db) as proc:
        t0 = time.monotonic()
        with SqliteStore(db, DIGEST, "{}", create=False, lock_timeout=0.3, on_wait=lambda _: None) as s:
            with pytest.raises(StoreError, match=r"is writing to this index; gave up waiting after 0.3 s") as err:
                s.begin_run("index add late.jsonl")
            assert f"pid {proc.pid}" in str(err.value) and str(db) in str(err.value)
            assert 0.3 <= time.monotonic() - t0 < 5
            assert s.count() == 2  # still usable for reads


def test_killed_writer_frees_the_lock_and_its_run_is_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    with _holder(db) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with _sqlite(db, create=False) as s:
        s._lock.timeout = 5  # a stale lock would fail here rather than hang the test
        state = s.begin_run("index add again.jsonl")
        assert state.interrupted == ((1, 1),) and s.count() == 2


def test_stores_of_one_process(tmp_path: Path) -> None:
    """Two stores of one thread: the second cannot wait for the first (it would wait forever), so it fails at once;
    a store in another thread waits for the first to close."""
    db = tmp_path / "i.sqlite"
    with _sqlite(db) as first:
        with first.transaction():
            first.add(RECORDS[:1], [])
        with _sqlite(db, create=False) as second:
            assert second.count() == 1  # reads need no lock
            with pytest.raises(StoreError, match="another open store of this thread"):
                second.begin_run("x")
        done = threading.Event()
        told: list[str] = []

        def other_thread() -> None:
            with SqliteStore(db, DIGEST, "{}", create=False, on_wait=told.append) as s, s.transaction():
                s.add(RECORDS[1:2], [])
            done.set()

        thread = threading.Thread(target=other_thread)
        thread.start()
        assert not done.wait(0.3)
        assert told and "another store of this process" in told[0]
    thread.join(timeout=30)
    assert done.is_set()
    with _sqlite(db, create=False) as s:
        assert s.count() == 2


def test_one_lock_whatever_the_path(tmp_path: Path) -> None:
    """A symlink to the index and the index itself meet at one lock."""
    db = tmp_path / "real" / "i.sqlite"
    db.parent.mkdir()
    link = tmp_path / "link.sqlite"
    with _sqlite(db) as s:
        s.begin_run("x")
        link.symlink_to(db)
        with _sqlite(link, create=False) as other, pytest.raises(StoreError, match="another open store of this"):
            other.begin_run("y")


def test_readers_never_wait(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    with _holder(db):
        with SqliteStore(db, DIGEST, "{}", create=False, readonly=True) as ro:
            assert ro.count() == 2 and ro.lookup(["d0"])["d0"].seq == 0
        with _sqlite(db, create=False) as rw:
            assert rw.count() == 2 and rw.staged_count() == 2
