"""The hostile corpus end to end: `retold scan` and `retold index add` over every kind of bad record finish, in
bounded memory, with exit status 0, one manifest line per input record, and the copies among them found."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import torture

CLI = [sys.executable, "-c", "from retold.cli import main; main()"]
PEAK_RSS_MB = 2500
"""Peak resident memory of any one process of a run (main, a worker), far below what the hostile records used to
take (a 29 GiB alignment array, 61.6 GiB for the 50 MB article)."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[torture.Expect]]:
    root = tmp_path_factory.mktemp("torture") / "in"
    return root, torture.build(root, seed=11)


def _where(rec: dict[str, object], root: Path) -> tuple[str, int | None]:
    """(file relative to the corpus, line) of a manifest line."""
    source = str(rec["source"])
    line = rec.get("line")
    head, sep, tail = source.rpartition(":")
    if line is None and sep and tail.isdigit() and not source.endswith(".txt"):
        source, line = head, int(tail)
    rel = Path(source).relative_to(root).as_posix()
    return rel, (None if rel.endswith(".txt") or line is None else int(str(line)))


def _run(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return proc, seconds, peak


def _check_manifest(manifest: Path, root: Path, expected: list[torture.Expect]) -> list[dict[str, object]]:
    lines = [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines()]
    where: dict[tuple[str, int | None], dict[str, object]] = {}
    for rec in lines:
        key = _where(rec, root)
        assert key not in where, f"two manifest lines for {key}"
        where[key] = rec
        assert rec["status"] in ("ok", "skipped", "unchanged", "updated")
        if rec["status"] == "skipped":
            assert rec["reason"], rec
    for exp in expected:
        if exp.file.endswith((".csv", ".gz")):
            assert any(k[0] == exp.file for k in where), exp  # rows span lines; a cut stream ends anywhere
            continue
        rec = where.get((exp.file, exp.line))
        if rec is None and exp.fate == "any" and exp.file.endswith(".jsonl"):
            continue  # the blank line is not a record
        assert rec is not None, f"no manifest line for {exp}"
        if exp.fate == "ok":
            assert rec["status"] in ("ok", "unchanged"), (exp, rec)
        elif exp.fate == "skipped":
            assert rec["status"] == "skipped", (exp, rec)
    # Nothing beyond the records the corpus holds: every line is one of them.
    files = {e.file for e in expected}
    assert {k[0] for k in where} <= files
    return lines


def test_scan_over_the_torture_corpus(corpus: tuple[Path, list[torture.Expect]], tmp_path: Path) -> None:
    root, expected = corpus
    out = tmp_path / "out"
    proc, seconds, peak = _run(["scan", str(root), "--out", str(out), "--workers", "2"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert peak < PEAK_RSS_MB, f"peak RSS {peak:.0f} MB"
    lines = _check_manifest(out / "manifest.jsonl", root, expected)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["records_read"] == len(lines)
    assert summary["documents"] + summary["skipped"] == len(lines)
    rows = (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    pairs = {frozenset((p["a"]["id"], p["b"]["id"])): p for p in map(json.loads, rows)}
    for a, b in [("plain/original.txt", "plain/copy.txt"), ("repeat/repeated.txt", "repeat/repeated-copy.txt")]:
        assert pairs[frozenset((a, b))]["verdict"] in ("duplicate", "near-duplicate"), (a, b)
    # The text read from UTF-16 and the CRLF copy are versions of the same article, found as such.
    assert frozenset(("plain/original.txt", "enc/utf16-bom.txt")) in pairs
    print(f"torture scan: {len(lines)} records, {seconds:.1f} s, peak RSS {peak:.0f} MB")


def test_index_add_over_the_torture_corpus_twice(corpus: tuple[Path, list[torture.Expect]], tmp_path: Path) -> None:
    root, expected = corpus
    db = tmp_path / "t.sqlite"
    for n in (1, 2):
        manifest = tmp_path / f"manifest{n}.jsonl"
        proc, _, peak = _run(
            ["index", "add", str(root), "--db", str(db), "--manifest", str(manifest), "--workers", "2"], tmp_path
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr and peak < PEAK_RSS_MB
        lines = _check_manifest(manifest, root, expected)
        if n == 2:  # everything readable is already in the index
            assert {r["status"] for r in lines} <= {"unchanged", "skipped"}
    proc, _, _ = _run(["index", "export", "--db", str(db), "--out", str(tmp_path / "exp")], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "exp" / "pairs.jsonl").stat().st_size > 0
