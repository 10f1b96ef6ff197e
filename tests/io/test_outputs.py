"""Tests for retold.io.outputs: families and keep-list round-trip through JSONL and Parquet with the exact field
names and types that other tooling reads."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from retold.io.outputs import FAMILIES_SCHEMA, KEEP_SCHEMA, write_families
from retold.model import Family, FamilyEdge, KeepRecord

FAMILIES = [
    Family(
        "a",
        ("a", "b", "c"),
        "a",
        0.8,
        (FamilyEdge("a", "b", "rewrite"), FamilyEdge("b", "c", "near-duplicate")),
    ),
    Family("é", ("é",), "é", 1.0),
]
KEEP = [
    KeepRecord("a", True, "a", "original of family a"),
    KeepRecord("b", False, "a", "copy of a (rewrite)"),
    KeepRecord("c", False, "a", "copy of a (near-duplicate of b)"),
    KeepRecord("é", True, "é", "singleton"),
]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_writes_four_files(tmp_path: Path) -> None:
    out = tmp_path / "results"
    paths = write_families(out, FAMILIES, KEEP)
    assert paths == {name: out / name for name in ("families.jsonl", "keep.jsonl", "families.parquet", "keep.parquet")}
    assert all(p.is_file() for p in paths.values())


def test_jsonl_exact_fields(tmp_path: Path) -> None:
    paths = write_families(tmp_path, FAMILIES, KEEP)
    fams = read_jsonl(paths["families.jsonl"])
    assert fams[0] == {
        "id": "a",
        "members": ["a", "b", "c"],
        "original": "a",
        "confidence": 0.8,
        "edges": [
            {"from": "a", "to": "b", "verdict": "rewrite"},
            {"from": "b", "to": "c", "verdict": "near-duplicate"},
        ],
    }
    assert fams[1] == {"id": "é", "members": ["é"], "original": "é", "confidence": 1.0, "edges": []}
    assert [list(f) for f in fams] == [["id", "members", "original", "confidence", "edges"]] * 2
    keep = read_jsonl(paths["keep.jsonl"])
    assert keep == [k.to_json() for k in KEEP]
    assert list(keep[1]) == ["id", "keep", "family", "reason"] and keep[1]["keep"] is False


def test_parquet_round_trip_and_types(tmp_path: Path) -> None:
    paths = write_families(tmp_path, FAMILIES, KEEP)
    fams = pq.read_table(paths["families.parquet"])
    assert fams.schema.equals(FAMILIES_SCHEMA)
    assert fams.schema.field("members").type == pa.list_(pa.string())
    edge = fams.schema.field("edges").type.value_type
    assert [edge.field(i).name for i in range(edge.num_fields)] == ["from", "to", "verdict"]
    assert fams.to_pylist() == [f.to_json() for f in FAMILIES]
    keep = pq.read_table(paths["keep.parquet"])
    assert keep.schema.equals(KEEP_SCHEMA)
    assert keep.to_pylist() == [k.to_json() for k in KEEP]


def test_jsonl_and_parquet_agree(tmp_path: Path) -> None:
    paths = write_families(tmp_path, FAMILIES, KEEP)
    assert read_jsonl(paths["families.jsonl"]) == pq.read_table(paths["families.parquet"]).to_pylist()
    assert read_jsonl(paths["keep.jsonl"]) == pq.read_table(paths["keep.parquet"]).to_pylist()


def test_empty_outputs_keep_their_columns(tmp_path: Path) -> None:
    paths = write_families(tmp_path, [], [])
    assert paths["families.jsonl"].read_text(encoding="utf-8") == ""
    assert pq.read_table(paths["families.parquet"]).schema.names == ["id", "members", "original", "confidence", "edges"]
    assert pq.read_table(paths["keep.parquet"]).num_rows == 0


def test_rewrites_existing_files(tmp_path: Path) -> None:
    write_families(tmp_path, FAMILIES, KEEP)
    paths = write_families(tmp_path, FAMILIES[1:], KEEP[3:])
    assert len(read_jsonl(paths["families.jsonl"])) == 1
    assert pq.read_table(paths["keep.parquet"]).num_rows == 1
