"""Output errors end in a clear message, never a traceback: an unusable `--out` is refused before any work
(exit 2); a write that fails later (a full disk) leaves the previous files, keeps the scan's index and names
the command that finishes the job (exit 1); symlinked outputs are replaced, not followed."""

from __future__ import annotations

import errno
import shlex
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retold import api
from retold.cli import app
from retold.errors import StoreError
from retold.store.sqlite import SqliteStore
from tests.io.test_writers import full_disk

runner = CliRunner()


@pytest.fixture
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder scans put their index in, inside this test's folder."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def _scan(corpus: Path, out: Path, *more: str) -> list[str]:
    return ["scan", str(corpus), "--out", str(out), "--workers", "1", "--semantic", "off", *more]


def test_out_naming_a_file_is_refused_before_any_work(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    not_a_folder = tmp_path / "results.txt"
    not_a_folder.write_text("mine", encoding="utf-8")
    db = tmp_path / "i.sqlite"
    res = runner.invoke(app, _scan(seed_paths[0].parent, not_a_folder, "--db", str(db)))
    assert res.exit_code == 2, res.output
    assert "results.txt: is a file, not a folder" in res.stderr and "Traceback" not in res.output
    assert not db.exists() and not_a_folder.read_text(encoding="utf-8") == "mine"  # refused before indexing
    exp = runner.invoke(app, ["index", "export", "--db", str(db), "--out", str(not_a_folder)])
    assert exp.exit_code == 2 and "is a file, not a folder" in exp.stderr


def test_unwritable_out_is_refused_before_any_work(
    tmp_path: Path, seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tempfile.mkstemp

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        if str(kwargs.get("prefix", "")).startswith(".retold-probe-"):
            raise PermissionError(errno.EROFS, "Read-only file system")
        return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    db = tmp_path / "i.sqlite"
    res = runner.invoke(app, _scan(seed_paths[0].parent, tmp_path / "out", "--db", str(db)))
    assert res.exit_code == 2, res.output
    assert "cannot write in the output folder: Read-only file system" in res.stderr
    assert not db.exists()


def test_full_disk_during_export_keeps_the_index_and_the_previous_files(
    tmp_path: Path, tmp_dir: Path, seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "pairs.jsonl").write_text("previous run\n", encoding="utf-8")
    full_disk(monkeypatch, 100, frozenset({"pairs.jsonl"}))
    res = runner.invoke(app, _scan(seed_paths[0].parent, out))
    assert res.exit_code == 1, res.output
    assert "pairs.jsonl: No space left on device" in res.stderr and "Traceback" not in res.output
    assert (out / "pairs.jsonl").read_text(encoding="utf-8") == "previous run\n"  # not truncated
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    (kept,) = tmp_dir.glob("retold-scan-*/scan.sqlite")
    assert str(kept) in res.stderr
    assert api._remove_stale_scans(tmp_dir) == [] and kept.exists()  # no later scan removes it
    command = res.stderr.split("`")[1]
    assert command == f"retold index export --db {kept} --out {out} --semantic off"

    monkeypatch.undo()  # space again: the named command finishes the job
    done = runner.invoke(app, shlex.split(command)[1:])
    assert done.exit_code == 0, done.output
    assert '"verdict":"rewrite"' in (out / "pairs.jsonl").read_text(encoding="utf-8")


def test_full_disk_while_indexing_keeps_the_index_to_resume(
    tmp_path: Path, tmp_dir: Path, seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    full_disk(monkeypatch, 0, frozenset({"manifest.jsonl"}))
    out = tmp_path / "out"
    res = runner.invoke(app, _scan(seed_paths[0].parent, out))
    assert res.exit_code == 1, res.output
    assert "manifest.jsonl: No space left on device" in res.stderr
    (kept,) = tmp_dir.glob("retold-scan-*/scan.sqlite")
    assert f"run the scan again with `--db {kept}`" in res.stderr
    assert not (out / "manifest.jsonl").exists()  # never a partial manifest


def test_symlinked_outputs_are_replaced_not_followed(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    precious = tmp_path / "precious.jsonl"
    precious.write_text("do not overwrite\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("pairs.jsonl", "manifest.jsonl", "summary.json"):
        (out / name).symlink_to(precious)
    res = runner.invoke(app, _scan(seed_paths[0].parent, out))
    assert res.exit_code == 0, res.output
    assert precious.read_text(encoding="utf-8") == "do not overwrite\n"
    assert not (out / "pairs.jsonl").is_symlink() and '"verdict":"rewrite"' in (out / "pairs.jsonl").read_text()


def test_an_index_failure_names_the_records_not_the_temporary_file(
    tmp_path: Path, tmp_dir: Path, seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: SqliteStore, *args: object, **kwargs: object) -> None:
        raise StoreError(f"{self.location}: database or disk is full")

    monkeypatch.setattr(SqliteStore, "record_batch", fail)
    res = runner.invoke(app, _scan(seed_paths[0].parent, tmp_path / "out"))
    assert res.exit_code == 2, res.output
    assert "the scan's temporary index: database or disk is full" in res.stderr
    assert str(tmp_dir) not in res.stderr and "while indexing the records" in res.stderr
    assert seed_paths[0].name in res.stderr
    assert list(tmp_dir.iterdir()) == []  # the temporary index went
