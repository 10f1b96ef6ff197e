"""`retold index add|query|export` and `scan --db/--keep` through the CLI: summaries, queries that do not change
the index, export files with their exact field names (JSONL and Parquet), and clear errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from retold import api
from retold.cli import app
from retold.config import RetoldConfig
from retold.errors import StoreError
from tests.store.corpus import records, write_jsonl

runner = CliRunner()

PAIR_KEYS = {"a", "b", "verdict", "passages", "spans"}
FAMILY_KEYS = {"id", "members", "original", "confidence", "edges"}
KEEP_KEYS = {"id", "keep", "family", "reason"}


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> list[dict[str, str]]:
    return records(shared_data, n_bbc=20)


@pytest.fixture
def index(corpus: list[dict[str, str]], tmp_path: Path) -> Path:
    """An index of the corpus without seed 004 (the article the tests query)."""
    path = write_jsonl(tmp_path / "c.jsonl", [r for r in corpus if r["id"] != "seed-004"])
    db = tmp_path / "i.sqlite"
    res = runner.invoke(app, ["index", "add", str(path), "--db", str(db), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "added" in res.stdout and "documents in index" in res.stdout
    return db


def _count(db: Path) -> int:
    with api.open_index(db) as store:
        return store.count()


def test_query_finds_the_seed_rewrite_without_adding(index: Path, seed_paths: tuple[Path, Path]) -> None:
    before = _count(index)
    res = runner.invoke(app, ["index", "query", str(seed_paths[1]), "--db", str(index), "--format", "json"])
    assert res.exit_code == 0, res.output
    pairs = json.loads(res.stdout)
    assert [(p["a"]["id"], p["b"]["id"], p["verdict"]) for p in pairs] == [("seed-000", seed_paths[1].name, "rewrite")]
    assert set(pairs[0]) == PAIR_KEYS and pairs[0]["passages"]
    assert _count(index) == before
    text = runner.invoke(app, ["index", "query", str(seed_paths[1]), "--db", str(index)])
    assert text.exit_code == 0, text.output
    assert "seed-000" in text.stdout and "rewrite" in text.stdout and "paraphrase" in text.stdout


def test_query_add_stores_the_article(index: Path, seed_paths: tuple[Path, Path]) -> None:
    before = _count(index)
    dry = runner.invoke(app, ["index", "query", str(seed_paths[1]), "--db", str(index), "-f", "json"])
    res = runner.invoke(app, ["index", "query", str(seed_paths[1]), "--db", str(index), "--add", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert [p["verdict"] for p in json.loads(res.stdout)] == ["rewrite"]
    assert json.loads(res.stdout) == json.loads(dry.stdout)  # the query shows exactly what adding stores
    assert _count(index) == before + 1
    again = runner.invoke(app, ["index", "query", str(seed_paths[1]), "--db", str(index), "--add", "-f", "json"])
    assert again.exit_code == 0 and json.loads(again.stdout) == json.loads(res.stdout)
    assert _count(index) == before + 1


def test_query_of_an_unrelated_article(index: Path, tmp_path: Path) -> None:
    doc = tmp_path / "other.txt"
    doc.write_text("Completely unrelated text about cricket scores today in a small town.", encoding="utf-8")
    res = runner.invoke(app, ["index", "query", str(doc), "--db", str(index)])
    assert res.exit_code == 0, res.output
    assert "reuses no article" in res.stdout


@pytest.mark.parametrize("keep", ["original", "first", "all"])
def test_export_files_and_field_names(index: Path, tmp_path: Path, keep: str) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["index", "export", "--db", str(index), "--out", str(out), "--keep", keep])
    assert res.exit_code == 0, res.output
    assert "pairs" in res.stdout and "families" in res.stdout
    names = {"pairs", "families", "keep"}
    assert {p.name for p in out.iterdir()} == {f"{n}.{ext}" for n in names for ext in ("jsonl", "parquet")}
    rows = {n: [json.loads(x) for x in (out / f"{n}.jsonl").read_text().splitlines()] for n in names}
    assert rows["pairs"] and all(set(p) == PAIR_KEYS for p in rows["pairs"])
    assert all(set(f) == FAMILY_KEYS for f in rows["families"])
    assert all(set(k) == KEEP_KEYS for k in rows["keep"])
    assert len(rows["keep"]) == _count(index)
    assert {m for f in rows["families"] for m in f["members"]} == {k["id"] for k in rows["keep"]}
    for n in names:
        table = pq.read_table(out / f"{n}.parquet")
        assert table.num_rows == len(rows[n])
        assert table.to_pylist() == rows[n]
    dropped = {k["id"] for k in rows["keep"] if not k["keep"]}
    if keep == "all":
        assert not dropped
    else:  # the planted copy comes after its source in corpus order and carries nothing more
        assert "planted-copy" in dropped and "bbc-business/004" not in dropped
    with api.open_index(index) as store:
        assert store.family_count() == len(rows["families"])


def test_scan_with_db_and_keep(corpus: list[dict[str, str]], tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", corpus[:10])
    db = tmp_path / "kept.sqlite"
    out = tmp_path / "out"
    res = runner.invoke(app, ["scan", str(path), "--out", str(out), "--db", str(db), "--keep", "all"])
    assert res.exit_code == 0, res.output
    assert _count(db) == 10
    assert all(json.loads(x)["keep"] for x in (out / "keep.jsonl").read_text().splitlines())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["db"] == str(db) and summary["documents"] == 10
    again = runner.invoke(app, ["scan", str(path), "--out", str(tmp_path / "o2"), "--db", str(db)])
    assert again.exit_code == 0, again.output
    manifest = [json.loads(x) for x in (tmp_path / "o2" / "manifest.jsonl").read_text().splitlines()]
    assert {m["status"] for m in manifest} == {"unchanged"}


def test_add_reports_updated_documents(corpus: list[dict[str, str]], tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite"
    first = write_jsonl(tmp_path / "a.jsonl", corpus[:6])
    assert runner.invoke(app, ["index", "add", str(first), "--db", str(db), "--workers", "1"]).exit_code == 0
    changed = [dict(r) for r in corpus[:6]]
    changed[2]["text"] += "\n\nCorrection: an earlier version of this story misspelt a name."
    second = write_jsonl(tmp_path / "b.jsonl", changed)
    res = runner.invoke(
        app, ["index", "add", str(second), "--db", str(db), "--workers", "1", "--manifest", str(tmp_path / "m.jsonl")]
    )
    assert res.exit_code == 0, res.output
    assert f"updated: {changed[2]['id']}" in res.stdout
    statuses = [json.loads(x)["status"] for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert statuses == ["unchanged", "unchanged", "updated", "unchanged", "unchanged", "unchanged"]
    assert _count(db) == 6


def test_errors_are_clear(index: Path, tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    missing = tmp_path / "none.sqlite"
    for args in (["query", str(seed_paths[0])], ["export", "--out", str(tmp_path / "o")]):
        res = runner.invoke(app, ["index", *args, "--db", str(missing)])
        assert res.exit_code == 2 and "no index there" in res.stderr
    assert not missing.exists()
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"garbage, not an index " * 100)
    res = runner.invoke(app, ["index", "query", str(seed_paths[0]), "--db", str(bad)])
    assert res.exit_code == 2 and "not a readable retold index" in res.stderr
    res = runner.invoke(app, ["index", "add", str(seed_paths[0]), "--db", str(bad)])
    assert res.exit_code == 2 and "bad.sqlite" in res.stderr
    res = runner.invoke(app, ["index", "query", str(tmp_path / "nope.txt"), "--db", str(index)])
    assert res.exit_code == 2 and "nope.txt" in res.stderr
    other = RetoldConfig(rewrite=dataclasses.replace(RetoldConfig().rewrite, min_score=0.3))
    with pytest.raises(StoreError, match="configuration"):
        api.index_corpus([seed_paths[0]], index, other)
