"""Tests for retold.io.writers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.io.readers import iter_corpus
from retold.io.writers import JsonlWriter, manifest_record, write_jsonl, write_parquet
from retold.model import Document, RecordError


def test_jsonl_writer_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "out.jsonl"
    records = [{"id": "é", "n": 1, "xs": [1.5, None]}, {"text": "line\nbreak \u2028 😀"}]
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


@settings(max_examples=50, deadline=None)
@given(
    records=st.lists(
        st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",))),
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(st.characters(blacklist_categories=("Cs",)))),
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
