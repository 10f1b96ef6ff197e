"""Tests for retold.io.writers: JSONL and Parquet round trips, and atomic writes (a failure leaves the previous
file, a symlink is replaced, not followed)."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.io.readers import iter_corpus
from retold.io.writers import (
    AtomicFile,
    JsonlWriter,
    OutputError,
    manifest_record,
    output_folder,
    write_jsonl,
    write_parquet,
    write_text,
)
from retold.model import Document, RecordError


def test_jsonl_writer_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "out.jsonl"
    records: list[dict[str, object]] = [{"id": "é", "n": 1, "xs": [1.5, None]}, {"text": "line\nbreak \u2028 😀"}]
    with JsonlWriter(path) as out:
        for record in records:
            out.write(record)
        assert out.count == 2
    raw = path.read_bytes()
    assert raw.count(b"\n") == 2 and raw.endswith(b"\n")
    assert "é".encode() in raw  # ensure_ascii=False
    assert b'{"id":"\xc3\xa9","n":1,' in raw  # compact separators
    assert [json.loads(line) for line in raw.decode("utf-8").splitlines()[:1]] == records[:1]
    assert [json.loads(line) for line in raw.split(b"\n") if line] == records


def test_write_jsonl_counts_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    n = write_jsonl(path, ({"id": f"d{i}", "text": f"text {i}"} for i in range(5)))
    assert n == 5
    docs = list(iter_corpus([path]))
    assert [d.id for d in docs if isinstance(d, Document)] == [f"d{i}" for i in range(5)]


def test_jsonl_writer_rejects_bad_use(tmp_path: Path) -> None:
    writer = JsonlWriter(tmp_path / "x.jsonl")
    with pytest.raises(RuntimeError, match="not open"):
        writer.write({"a": 1})
    with JsonlWriter(tmp_path / "y.jsonl") as out:
        with pytest.raises(ValueError):
            out.write({"score": float("nan")})
        assert out.count == 0
    assert (tmp_path / "y.jsonl").read_bytes() == b""


_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)


@settings(max_examples=50, deadline=None)
@given(
    records=st.lists(
        st.dictionaries(
            st.text(st.characters(blacklist_categories=_SURROGATES)),
            st.one_of(
                st.none(), st.booleans(), st.integers(), st.text(st.characters(blacklist_categories=_SURROGATES))
            ),
        ),
        max_size=5,
    )
)
def test_jsonl_round_trip_property(tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, object]]) -> None:
    path = tmp_path_factory.mktemp("w") / "r.jsonl"
    assert write_jsonl(path, records) == len(records)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == records


def test_manifest_record_ok() -> None:
    doc = Document(id="a", text="t", origin="in.jsonl:3")
    assert manifest_record(doc) == {"id": "a", "source": "in.jsonl:3", "status": "ok"}


@pytest.mark.parametrize(
    ("date", "warning"),
    [
        ("2021-13-45", "date '2021-13-45' is not an ISO 8601 date; treated as undated"),
        ("yesterday", "date 'yesterday' is not an ISO 8601 date; treated as undated"),
        (
            "0001-01-01T00:00:00+05:00",
            "date '0001-01-01T00:00:00+05:00' is out of range once converted to UTC; treated as undated",
        ),
        (
            "9999-12-31T23:59:59-05:00",
            "date '9999-12-31T23:59:59-05:00' is out of range once converted to UTC; treated as undated",
        ),
        ("x" * 100, f"date '{'x' * 60}...' is not an ISO 8601 date; treated as undated"),  # a hostile date is cut
    ],
)
def test_manifest_record_warns_of_an_unusable_date(date: str, warning: str) -> None:
    doc = Document(id="a", text="t", date=date, origin="in.jsonl:3")
    assert manifest_record(doc) == {"id": "a", "source": "in.jsonl:3", "status": "ok", "warning": warning}


def test_manifest_record_states_a_fallback_encoding_and_only_then() -> None:
    doc = Document(id="a.txt", text="caf\u00e9", date="2024-03-01T10:00:00+02:00", origin="a.txt", encoding="cp1252")
    assert manifest_record(doc) == {"id": "a.txt", "source": "a.txt", "status": "ok", "encoding": "cp1252"}
    for usable in (None, "", "  ", "2024-03-01", "2024-03-01T10:00:00Z"):
        assert set(manifest_record(Document(id="b", text="t", date=usable))) == {"id", "source", "status"}


def test_manifest_record_skipped() -> None:
    err = RecordError("in.jsonl", "malformed JSON: Expecting value (column 1)", 4)
    assert manifest_record(err) == {
        "id": None,
        "source": "in.jsonl",
        "line": 4,
        "status": "skipped",
        "reason": "malformed JSON: Expecting value (column 1)",
    }
    assert manifest_record(RecordError("f.csv", "empty text", 2, "x"))["id"] == "x"
    json.dumps(manifest_record(err))  # serialisable as is


def test_write_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "keep" / "list.parquet"
    records = [{"id": "a", "keep": True, "score": 0.5}, {"id": "b", "keep": False, "score": None}]
    write_parquet(path, records)
    assert pq.read_table(path).to_pylist() == records


def test_write_parquet_with_schema(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.string()), ("cluster", pa.int32())])
    path = tmp_path / "typed.parquet"
    write_parquet(path, [{"id": "a", "cluster": 1}], schema=schema)
    table = pq.read_table(path)
    assert table.schema.field("cluster").type == pa.int32()
    assert table.to_pylist() == [{"id": "a", "cluster": 1}]

    empty = tmp_path / "empty.parquet"
    write_parquet(empty, [], schema=schema)
    assert pq.read_table(empty).num_rows == 0
    with pytest.raises(ValueError, match="no records and no schema"):
        write_parquet(tmp_path / "nothing.parquet", [])


# --- atomic writes ----------------------------------------------------------------------------------------------


class _FullDisk:
    """A file object that takes `room` bytes and then fails as a full disk does."""

    def __init__(self, fh: IO[bytes], room: int) -> None:
        self._fh = fh
        self._room = room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._fh, name)


def full_disk(monkeypatch: pytest.MonkeyPatch, room: int, names: frozenset[str] | None = None) -> None:
    """Every `AtomicFile` opened from now on (of these file `names`, default all) fails after `room` bytes, as on a
    full disk."""
    real_init = AtomicFile.__init__

    def init(self: AtomicFile, path: str | os.PathLike[str]) -> None:
        real_init(self, path)
        if names is None or self.path.name in names:
            self.fh = _FullDisk(self.fh, room)  # type: ignore[assignment]

    monkeypatch.setattr(AtomicFile, "__init__", init)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_failed_jsonl_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"old":1}\n', encoding="utf-8")
    full_disk(monkeypatch, 40)
    with JsonlWriter(path) as out:
        out.write({"n": 1})
        with pytest.raises(OutputError, match=r"cannot write .*pairs\.jsonl: No space left on device"):
            for i in range(100):
                out.write({"n": i, "text": "x" * 20})
    assert path.read_text(encoding="utf-8") == '{"old":1}\n'
    assert _leftovers(tmp_path) == []


def test_exception_in_the_block_discards_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with pytest.raises(KeyboardInterrupt), JsonlWriter(path) as out:
        out.write({"a": 1})
        raise KeyboardInterrupt
    assert not path.exists() and _leftovers(tmp_path) == []


def test_failed_parquet_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.parquet"
    write_parquet(path, [{"id": "old"}])
    full_disk(monkeypatch, 100)
    with pytest.raises(OutputError, match=r"t\.parquet: No space left on device"):
        write_parquet(path, [{"id": str(i) * 50} for i in range(1000)])
    assert pq.read_table(path).to_pylist() == [{"id": "old"}]
    assert _leftovers(tmp_path) == []


def test_a_symlinked_output_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    write_jsonl(link, [{"a": 1}])
    assert target.read_text(encoding="utf-8") == "keep me"
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == '{"a":1}\n'


def test_output_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "s.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "s.json").stat().st_mode) == 0o640


def test_a_folder_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pairs.jsonl").mkdir()
    with pytest.raises(OutputError, match=r"cannot write .*pairs\.jsonl: Is a directory"):
        write_jsonl(tmp_path / "pairs.jsonl", [{"a": 1}])
    assert _leftovers(tmp_path) == []


def test_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".pairs.jsonl.{dead.stdout.strip()}.abc123.tmp"
    live = tmp_path / f".pairs.jsonl.{os.getpid()}.def456.tmp"  # a writer still at work
    other = tmp_path / ".notes.txt.1.x.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    write_jsonl(tmp_path / "pairs.jsonl", [{"a": 1}])
    assert not stale.exists() and live.exists() and other.exists()


def test_output_folder_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert output_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file, not a folder") as info:
        output_folder(tmp_path / "f")
    assert info.value.usage
    with pytest.raises(OutputError, match="cannot create the output folder"):
        output_folder(tmp_path / "f" / "sub")

    def denied(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(OutputError, match="cannot write in the output folder: Permission denied"):
        output_folder(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="Permission denied"):
            output_folder(ro)
    finally:
        ro.chmod(0o755)


def test_a_real_write_limit(tmp_path: Path) -> None:
    """A real failing write (RLIMIT_FSIZE: the kernel refuses the write with EFBIG) in a child process."""
    path = tmp_path / "big.jsonl"
    path.write_text('{"old":1}\n', encoding="utf-8")
    code = (
        "import resource, sys\n"
        "from retold.io.writers import OutputError, write_jsonl\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))\n"
        "try:\n"
        f"    write_jsonl({str(path)!r}, ({{'n': i, 'text': 'x' * 100}} for i in range(10_000)))\n"
        "except OutputError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 3, res.stderr
    assert "big.jsonl: File too large" in res.stdout
    assert path.read_text(encoding="utf-8") == '{"old":1}\n' and _leftovers(tmp_path) == []
