"""The CLI: compare (text/json), scan (outputs, manifest, bad records), demo; clear errors on bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retold.cli import app

runner = CliRunner()


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_compare_json_matches_pair_schema(seed_paths: tuple[Path, Path]) -> None:
    a, b = seed_paths
    res = runner.invoke(app, ["compare", str(a), str(b), "--format", "json"])
    assert res.exit_code == 0, res.output
    p = json.loads(res.stdout)
    assert set(p) == {"a", "b", "verdict", "passages", "spans"}
    assert set(p["a"]) == {"id", "date", "chars", "coverage"}
    assert p["verdict"] == "rewrite" and p["a"]["date"] == "2021-09-06"
    text_a = a.read_text(encoding="utf-8")
    assert p["spans"]["a"][0]["start"] == 0 and p["spans"]["a"][-1]["end"] == len(text_a)
    for q in p["passages"]:
        assert set(q) == {"label", "a_start", "a_end", "b_start", "b_end", "score"}


def test_compare_text_shows_verdict_passages_and_adds(seed_paths: tuple[Path, Path]) -> None:
    a, b = seed_paths
    res = runner.invoke(app, ["compare", str(a), str(b)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "REWRITE" in out and "Aligned passages" in out
    assert "A adds" in out and "B adds" in out and "Dashty" in out and "attribution" in out


def test_demo(seed_paths: tuple[Path, Path], shared_data: Path) -> None:
    res = runner.invoke(app, ["demo", "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    assert "REWRITE" in res.stdout and "Fahim Dashty" in res.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "no such file"),
        ("empty.txt", b"   \n", "empty text"),
        ("binary.txt", b"abc\x00\x01\x02", "binary file"),
        ("garbled.txt", b"abc\xff\xfe\x80\x81 zz \xc3\x28", "invalid UTF-8 at byte 3 (line 1)"),
    ],
)
def test_compare_bad_input_exits_nonzero_naming_the_file(
    tmp_path: Path, seed_paths: tuple[Path, Path], name: str, content: bytes | None, message: str
) -> None:
    bad = tmp_path / name
    if content is not None:
        _write(bad, content)
    res = runner.invoke(app, ["compare", str(seed_paths[0]), str(bad)])
    assert res.exit_code == 2
    assert name in res.stderr and message in res.stderr


def test_scan_accounts_for_every_record(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    a, b = (p.read_text(encoding="utf-8") for p in seed_paths)
    lines = [
        json.dumps({"id": "s0", "text": a}),
        "{broken",
        json.dumps({"id": "s4", "text": b, "date": "2021-09-05"}),
        json.dumps({"id": "notext"}),
        json.dumps({"id": "blank", "text": "   "}),
        "",
        json.dumps({"id": "s0", "text": "duplicate id"}),
    ]
    corpus = _write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    out = tmp_path / "out"
    res = runner.invoke(app, ["scan", str(corpus), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    manifest = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(manifest) == 6  # the blank line is not a record
    ok = {m["id"] for m in manifest if m["status"] == "ok"}
    skipped = {(m["line"], m["id"]): m["reason"] for m in manifest if m["status"] == "skipped"}
    assert ok == {"s0", "s4"}
    assert set(skipped) == {(2, None), (4, "notext"), (5, "blank"), (7, "s0")}
    assert "malformed JSON" in skipped[(2, None)] and "empty text" in skipped[(5, "blank")]
    assert "duplicate id" in skipped[(7, "s0")]
    assert "c.jsonl:2" in res.stderr  # the skip is reported with file and line
    pairs = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
    assert [(p["a"]["id"], p["b"]["id"], p["verdict"]) for p in pairs] == [("s0", "s4", "rewrite")]
    assert pairs[0]["a"]["date"] == "2021-09-06" and pairs[0]["b"]["date"] == "2021-09-05"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["documents"] == 2 and summary["skipped"] == 4 and summary["aligned_pairs"] >= 1


def test_scan_text_folder_and_gz(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for p in seed_paths:
        _write(folder / p.name, p.read_bytes())
    _write(folder / "bad.txt", b"\xff\xfe\x00bin")
    gz = tmp_path / "more.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "other", "body": "Completely unrelated text about cricket scores today."}) + "\n")
    out = tmp_path / "out"
    res = runner.invoke(app, ["scan", str(folder), str(gz), "--text-field", "body", "--out", str(out)])
    assert res.exit_code == 0, res.output
    manifest = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted(m["status"] for m in manifest) == ["ok", "ok", "ok", "skipped"]
    pairs = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
    assert {(p["a"]["id"], p["b"]["id"]) for p in pairs} == {(seed_paths[0].name, seed_paths[1].name)}


def test_scan_with_no_readable_input_fails(tmp_path: Path) -> None:
    res = runner.invoke(app, ["scan", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "nope.jsonl" in res.stderr
    manifest = (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()
    assert len(manifest) == 1 and json.loads(manifest[0])["status"] == "skipped"


def test_semantic_flag_off_is_lexical_and_on_needs_the_packages(
    seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from retold import semantic
    from retold.align.similarity import paraphrase_threshold
    from retold.config import AlignConfig

    a, b = seed_paths
    off = runner.invoke(app, ["compare", str(a), str(b), "--format", "json", "--semantic", "off"])
    assert off.exit_code == 0, off.output
    assert json.loads(off.stdout)["verdict"] == "rewrite"
    bad = runner.invoke(app, ["compare", str(a), str(b), "--semantic", "sometimes"])
    assert bad.exit_code == 2 and "sometimes" in bad.output
    monkeypatch.setattr(semantic, "available", lambda refresh=False: False)
    res = runner.invoke(app, ["compare", str(a), str(b), "--semantic", "on"])
    assert res.exit_code == 2
    assert "pip install" in res.stderr  # names how to install the channel
    assert paraphrase_threshold(AlignConfig()) == AlignConfig().paraphrase  # auto falls back to lexical


def test_eval_seeds_writes_the_eval_json(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "ev.json"
    res = runner.invoke(
        app, ["eval", "seeds", "--data", str(shared_data / "seeds"), "--json", str(out), "--semantic", "off"]
    )
    assert res.exit_code == 0, res.output
    assert "in_order_links" in res.stdout
    ev = json.loads(out.read_text(encoding="utf-8"))
    assert set(ev) >= {"name", "data", "n", "metrics"} and ev["name"] == "seeds"
    assert ev["details"]["verdict"] == "rewrite"
    unknown = runner.invoke(app, ["eval", "nonsense"])
    assert unknown.exit_code == 2 and "unknown benchmark" in unknown.stderr


def test_index_refuses_a_run_with_another_semantic_setting(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    db = tmp_path / "i.sqlite"
    folder = seed_paths[0].parent
    made = runner.invoke(app, ["index", "add", str(folder), "--db", str(db), "--workers", "1", "--semantic", "off"])
    assert made.exit_code == 0, made.output
    same = runner.invoke(
        app, ["index", "query", str(seed_paths[0]), "--db", str(db), "--semantic", "off", "-f", "json"]
    )
    assert same.exit_code == 0, same.output
    assert [r["verdict"] for r in json.loads(same.stdout)] == ["rewrite"]
    other = runner.invoke(app, ["index", "query", str(seed_paths[0]), "--db", str(db), "--semantic", "on"])
    from retold import semantic

    if semantic.available():  # "on" differs from the index's "off"
        assert other.exit_code == 2 and "--semantic" in other.stderr


def test_compare_renders_the_text_it_aligned_crlf(
    tmp_path: Path, seed_paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CRLF line ends: the snippets are cut from the text the offsets index, not from a re-read of the file
    (universal newlines shifted them by one character per line)."""
    from retold.cli import common

    a, b = (_write(tmp_path / p.name, p.read_text(encoding="utf-8").replace("\n", "\r\n")) for p in seed_paths)
    text_a = a.read_bytes().decode("utf-8")
    as_json = runner.invoke(app, ["compare", str(a), str(b), "--format", "json", "--semantic", "off"])
    assert as_json.exit_code == 0, as_json.output
    passages = json.loads(as_json.stdout)["passages"]
    late = [p for p in passages if text_a.count("\r\n", 0, p["a_start"]) >= 5]  # after several line ends
    assert late
    monkeypatch.setattr(common.out, "width", 400)  # one line per table row
    res = runner.invoke(app, ["compare", str(a), str(b), "--semantic", "off"])
    assert res.exit_code == 0, res.output
    for p in late:
        words = text_a[p["a_start"] : p["a_end"]].split()[:3]
        assert f"[{p['a_start']}:{p['a_end']}] {' '.join(words)}" in res.stdout


def test_index_add_with_nothing_readable_fails_and_creates_no_index(
    tmp_path: Path, seed_paths: tuple[Path, Path]
) -> None:
    db = tmp_path / "new.sqlite"
    res = runner.invoke(
        app, ["index", "add", str(tmp_path / "missing"), "--db", str(db), "--semantic", "off", "--workers", "1"]
    )
    assert res.exit_code == 2, res.output
    assert "missing" in res.stderr and "no readable documents in the input; no index was created" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    scan = runner.invoke(app, ["scan", str(tmp_path / "missing"), "--db", str(db), "--out", str(tmp_path / "o")])
    assert scan.exit_code == 2 and not db.exists()  # the same for `scan --db`
    made = runner.invoke(
        app, ["index", "add", str(seed_paths[0].parent), "--db", str(db), "--semantic", "off", "--workers", "1"]
    )
    assert made.exit_code == 0, made.output
    again = runner.invoke(
        app, ["index", "add", str(tmp_path / "missing"), "--db", str(db), "--semantic", "off", "--workers", "1"]
    )
    assert again.exit_code == 2 and "no index was created" not in again.stderr
    assert db.exists()  # an index this run did not create is never removed


def test_max_chars_is_part_of_the_index_configuration(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    db = tmp_path / "i.sqlite"
    folder = str(seed_paths[0].parent)
    opts = ["--db", str(db), "--semantic", "off"]
    made = runner.invoke(app, ["index", "add", folder, *opts, "--max-chars", "100000", "--workers", "1"])
    assert made.exit_code == 0, made.output
    other = runner.invoke(app, ["index", "query", str(seed_paths[0]), *opts, "-f", "json"])
    assert other.exit_code == 2 and "Traceback" not in other.output  # the default is another configuration
    same = runner.invoke(app, ["index", "query", str(seed_paths[0]), *opts, "-f", "json", "--max-chars", "100000"])
    assert same.exit_code == 0, same.output
    out = tmp_path / "out"
    exported = runner.invoke(app, ["index", "export", *opts, "--out", str(out), "--max-chars", "100000"])
    assert exported.exit_code == 0, exported.output
    bad = runner.invoke(app, ["compare", *map(str, seed_paths), "--max-chars", "0"])
    assert bad.exit_code == 2 and "max-chars" in bad.output


def test_query_leaves_a_read_only_index_untouched(tmp_path: Path, seed_paths: tuple[Path, Path]) -> None:
    folder = tmp_path / "idx"
    folder.mkdir()
    db = folder / "i.sqlite"
    made = runner.invoke(
        app, ["index", "add", str(seed_paths[1]), "--db", str(db), "--semantic", "off", "--workers", "1"]
    )
    assert made.exit_code == 0, made.output
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        res = runner.invoke(app, ["index", "query", str(seed_paths[0]), "--db", str(db), "--semantic", "off"])
        after = {p.name: p.read_bytes() for p in folder.iterdir()}
    finally:
        folder.chmod(0o755)
        db.chmod(0o644)
    assert res.exit_code == 0, res.output
    assert "rewrite" in res.stdout
    assert after["i.sqlite"] == before["i.sqlite"] and not after.get("i.sqlite-wal")  # nothing written
