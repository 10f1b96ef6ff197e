"""Streaming: the indexer reads its input a few batches ahead only, tells repeated ids from the store and the
batches in flight, and the manifest accounts for every record in input order."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from retold import api
from retold.io.readers import count_records, duplicate_error
from retold.model import Document
from retold.pipeline import Outcome, index_documents
from retold.store.base import MemoryStore
from tests.store.corpus import records, write_jsonl


def _docs(n: int, prefix: str = "d") -> list[Document]:
    return [
        Document(
            f"{prefix}{i}", f"Report number {i} about the harbour {i * 7} and the mayor {i * 13}.", origin=f"f:{i}"
        )
        for i in range(n)
    ]


def test_input_is_read_a_few_batches_ahead_only() -> None:
    pulled = 0
    settled = 0
    ahead: list[int] = []

    def stream() -> Iterator[Document]:
        nonlocal pulled
        for d in _docs(60):
            pulled += 1
            yield d

    def outcomes(batch: list[Outcome]) -> None:
        nonlocal settled
        settled += len(batch)
        ahead.append(pulled - settled)

    stats = index_documents(MemoryStore(), stream(), batch_size=5, outcomes=outcomes)
    assert stats.documents == 60 and settled == 60
    assert max(ahead) <= 3 * 5  # the batches read ahead, never the corpus


def test_repeated_ids_are_duplicates_wherever_the_first_is() -> None:
    """First record in the same batch, in a batch in flight, in a committed batch, or stored unchanged."""
    store = MemoryStore()
    index_documents(store, [Document("old", "An article stored by an earlier run about rain.", origin="a:1")])
    docs = _docs(12)
    stream = [
        docs[0],
        Document("d0", "same batch", origin="b:2"),
        *docs[1:5],
        Document("d1", "batch in flight or committed", origin="b:7"),
        Document("old", "An article stored by an earlier run about rain.", origin="b:8"),
        *docs[5:],
        Document("old", "another text for a repeated unchanged id", origin="b:16"),
        Document("d2", "long after", origin="b:17"),
    ]
    seen: list[Outcome] = []
    stats = index_documents(store, stream, batch_size=3, outcomes=seen.extend)
    assert [o.doc for o in seen] == stream  # one outcome per document, in input order
    status = [(o.doc.origin, o.status, o.first) for o in seen if o.status != "ok"]
    assert status == [
        ("b:2", "duplicate", "f:0"),
        ("b:7", "duplicate", "f:1"),
        ("b:8", "unchanged", None),
        ("b:16", "duplicate", "a:1"),
        ("b:17", "duplicate", "f:2"),
    ]
    assert stats.documents == 12 and stats.unchanged == ["old"] and store.count() == 13


def test_repeated_id_without_outcomes_raises() -> None:
    docs = _docs(4)
    with pytest.raises(ValueError, match="duplicate document id 'd1'"):
        index_documents(MemoryStore(), [*docs, docs[1]], batch_size=2)


def test_duplicate_error_names_file_line_and_first() -> None:
    err = duplicate_error(Document("x", "t", origin="/data/c.jsonl:7"), "/data/a.jsonl:3")
    assert (err.source, err.line, err.id, err.reason) == (
        "/data/c.jsonl",
        7,
        "x",
        "duplicate id (first seen at /data/a.jsonl:3)",
    )
    txt = duplicate_error(Document("b.txt", "t", origin="/data/b.txt"), None)
    assert (txt.source, txt.line) == ("/data/b.txt", None) and "earlier in this run" in txt.reason


def test_count_records(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": "x"} for i in range(5)])
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write('{"id": "g", "text": "y"}\n{"id": "h", "text": "z"}')  # no final newline
    (tmp_path / "c.csv").write_text("id,text\n1,a\n2,b\n", encoding="utf-8")
    folder = tmp_path / "txt"
    folder.mkdir()
    for n in "pq":
        (folder / f"{n}.txt").write_text(n, encoding="utf-8")
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz", tmp_path / "c.csv", folder, tmp_path / "missing.jsonl"]
    assert count_records(paths) == 5 + 2 + 2 + 2 + 1


def test_scan_manifest_keeps_input_order_across_batches(shared_data: Path, tmp_path: Path) -> None:
    corpus = records(shared_data, n_bbc=14)
    lines = [json.dumps(r) for r in corpus]
    lines.insert(3, "{broken")
    lines.insert(11, json.dumps({"id": corpus[1]["id"], "text": "a later record reusing an id"}))
    lines.append(json.dumps({"id": corpus[0]["id"], "text": corpus[0]["text"]}))
    lines.append(json.dumps({"id": "notext"}))
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = api.scan_corpus([path], tmp_path / "out", batch_size=4)
    manifest = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert report.read == len(lines) == len(manifest) and report.skipped == 4
    ids = [json.loads(x).get("id") if x.startswith('{"') else None for x in lines]
    assert [m["id"] for m in manifest] == ids
    skipped = {m["line"]: m for m in manifest if m["status"] == "skipped"}
    assert set(skipped) == {4, 12, len(lines) - 1, len(lines)}
    assert skipped[12]["reason"] == f"duplicate id (first seen at {path}:2)" and skipped[12]["source"] == str(path)
    assert skipped[len(lines) - 1]["reason"] == f"duplicate id (first seen at {path}:1)"
    assert report.stats.documents == len(corpus)
