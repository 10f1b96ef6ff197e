"""Signals and kills, on real processes: SIGTERM stops `retold` like Ctrl-C (exit 143, committed batches kept, a
message, no traceback), Ctrl-C exits 130, and nothing of a run outlives its main process, even after kill -9:
the workers, the fork server and the resource tracker exit within seconds, and the next scan removes the
temporary folder the killed one left."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from retold import api
from retold.config import AlignConfig, RetoldConfig

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc"),
]

N_DOCS = 400
"""Enough BBC articles for a run of several seconds with two workers."""


@pytest.fixture(scope="module")
def corpus(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("signals") / "bbc.jsonl"
    with gzip.open(shared_data / "bbc/docs.jsonl.gz", "rt", encoding="utf-8") as src, open(path, "w") as dst:
        for n, line in enumerate(src):
            if n == N_DOCS:
                break
            r = json.loads(line)
            dst.write(json.dumps({"id": r["id"], "text": r["body"]}) + "\n")
    return path


def _start(args: list[str], tmp: Path) -> subprocess.Popen[str]:
    """`retold ARGS` in a session of its own (its process group then holds every process of the run)."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    code = "import sys; from retold.cli import main; sys.argv[0] = 'retold'; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _group(pgid: int) -> list[str]:
    """The live processes (zombies aside) of process group `pgid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(stat.parent.name)
    return found


def _wait_for(what: str, ready: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(
                f"retold ended (exit {proc.returncode}) before {what}: {proc.stderr.read() if proc.stderr else ''}"
            )
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _workers_up(proc: subprocess.Popen[str]) -> None:
    # main, resource tracker, fork server and two workers
    _wait_for("the workers to start", lambda: len(_group(proc.pid)) >= 5, proc)


def _gone_within(pgid: int, seconds: float) -> float:
    t0 = time.monotonic()
    while _group(pgid):
        assert time.monotonic() - t0 < seconds, f"still running: {_group(pgid)}"
        time.sleep(0.05)
    return time.monotonic() - t0


_CFG = RetoldConfig(align=AlignConfig(semantic="off"))


def _count(db: Path) -> int:
    try:
        with api.open_index(db, _CFG, readonly=True) as store:
            return store.count()
    except Exception:
        return 0  # not created yet, or busy


def test_sigterm_stops_index_add_cleanly_and_a_rerun_resumes(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    args = ["index", "add", str(corpus), "--db", str(db), "--workers", "2", "--semantic", "off", "--batch-size", "16"]
    proc = _start(args, tmp_path)
    _workers_up(proc)
    _wait_for("a committed batch", lambda: _count(db) > 0, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM): committed batches are kept" in err and "Traceback" not in err
    assert "leaked" not in err
    _gone_within(proc.pid, 5)
    kept = _count(db)
    assert 0 < kept < N_DOCS

    # The committed batches are the first documents of the input: a rerun finds them unchanged and goes on (over
    # a few more documents only, to stay quick).
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    head = tmp_path / "head.jsonl"
    head.write_text("".join(lines[: kept + 3]), encoding="utf-8")
    report = api.index_corpus([head], db, _CFG)
    assert len(report.stats.unchanged) == kept and report.stats.added == 3
    assert report.documents_in_index == kept + 3


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_scan_stops_on_a_signal_and_removes_its_temporary_index(
    corpus: Path, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    out = tmp_path / "out"
    proc = _start(["scan", str(corpus), "--out", str(out), "--workers", "2", "--semantic", "off"], tmp_path)
    _workers_up(proc)
    _wait_for("the temporary index", lambda: any(tmp_path.glob("retold-scan-*/scan.sqlite")), proc)
    time.sleep(0.5)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # as a terminal's Ctrl-C: to the whole group
    else:
        proc.send_signal(sig)  # as `timeout` or docker: to the main process only
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "removed its temporary index" in err
    _gone_within(proc.pid, 5)
    assert not list(tmp_path.glob("retold-scan-*"))
    assert not (out / "manifest.jsonl").exists()  # never a partial manifest


def test_kill_9_leaves_no_process_and_the_next_scan_cleans_up(
    corpus: Path, tmp_path: Path, seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = tmp_path / "retold-scan-not-ours"  # no owner mark: never touched
    foreign.mkdir()
    proc = _start(
        ["scan", str(corpus), "--out", str(tmp_path / "out"), "--workers", "2", "--semantic", "off"], tmp_path
    )
    _workers_up(proc)
    _wait_for("the temporary index", lambda: any(tmp_path.glob("retold-scan-*/scan.sqlite")), proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone_within(proc.pid, 3) < 3  # workers, fork server, resource tracker
    (left,) = (p for p in tmp_path.glob("retold-scan-*") if p != foreign)

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    report = api.scan_corpus([seed_paths[0].parent], tmp_path / "o2", _CFG)
    assert report.pairs == 1
    assert not left.exists() and foreign.exists()
