"""Tests for retold.io.readers: every format, every documented error, nothing lost."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.errors import InputError
from retold.io.readers import count_records, iter_corpus, read_text_file
from retold.model import Document, RecordError

_HINT = "retold reads .txt, .jsonl/.ndjson (.gz), .csv and .parquet files, and folders of them"


def _split(items: list[Document | RecordError]) -> tuple[list[Document], list[RecordError]]:
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert len(docs) + len(errors) == len(items)
    return docs, errors


def _file_of(item: Document | RecordError) -> Path:
    """The file a record came from (a document's origin is ``path:line``, or a text file's path)."""
    if isinstance(item, RecordError):
        return Path(item.source)
    assert item.origin is not None
    return Path(item.origin if item.origin.endswith(".txt") else item.origin.rpartition(":")[0])


def _write_jsonl(path: Path, lines: list[object]) -> Path:
    """Objects become JSON lines; str items are written verbatim (for malformed lines)."""
    out = [line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- read_text_file


def test_read_text_file_keeps_every_character(tmp_path: Path) -> None:
    text = "\ufeffHeadline\r\n\r\nBody with é and 😀.\n"
    path = tmp_path / "000_eb1553226c65909d.txt"
    path.write_bytes(text.encode("utf-8"))
    doc = read_text_file(path)
    assert doc.id == "000_eb1553226c65909d.txt"
    assert doc.text == text  # BOM and CRLF kept: offsets index this exact string
    assert doc.origin == str(path)


def test_read_text_file_origin_is_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert read_text_file("a.txt").origin == "a.txt"


def test_read_text_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as info:
        read_text_file(tmp_path / "nope.txt")
    assert info.value.source == str(tmp_path / "nope.txt")


def test_read_text_file_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory, expected a text file"):
        read_text_file(tmp_path)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n ", b"\xef\xbb\xbf\n"])
def test_read_text_file_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match="empty text") as info:
        read_text_file(path)
    assert info.value.doc_id == "empty.txt"


def test_read_text_file_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"GIF89a\n\x00\x01\x02")
    with pytest.raises(InputError, match=r"binary file \(NUL byte at offset 7\), expected UTF-8 text") as info:
        read_text_file(path)
    assert info.value.line == 2


def test_read_text_file_invalid_utf8_names_byte_line_and_guess(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(b"first line\nsecond\n\xff\xfe\xfa junk here\n")  # no code page reads this one way
    with pytest.raises(InputError) as info:
        read_text_file(path)
    err = info.value
    assert err.reason.startswith("invalid UTF-8 at byte 18 (line 3); best guess ")
    assert err.reason.endswith("read it differently: convert it to UTF-8")
    assert err.line == 3
    assert str(err).startswith(f"{path}:3 (id=junk.txt): ")
    assert err.__cause__ is None and err.__suppress_context__  # no raw UnicodeDecodeError chained


def test_read_errors_become_input_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retold.io import readers

    path = tmp_path / "locked.txt"
    path.write_text("x", encoding="utf-8")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(readers, "open", refuse, raising=False)
    with pytest.raises(InputError, match="cannot read file: Permission denied"):
        read_text_file(path)
    (err,) = iter_corpus(path)  # a lone path is accepted as well
    assert isinstance(err, RecordError) and err.reason == "cannot read file: Permission denied"


_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")).filter(
    lambda s: s.lstrip("\ufeff").strip()
)


@settings(max_examples=75, deadline=None)
@given(text=_TEXT)
def test_text_round_trip_txt_and_jsonl(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    txt = folder / "doc.txt"
    txt.write_bytes(text.encode("utf-8"))
    assert read_text_file(txt).text == text

    jsonl = _write_jsonl(folder / "docs.jsonl", [{"id": "x", "text": text}])
    (doc,) = iter_corpus([jsonl])
    assert isinstance(doc, Document)
    assert doc.text == text


# --------------------------------------------------------------------------- folders and .txt


def test_folder_is_recursive_sorted_with_relative_ids(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "b.txt").write_text("bee", encoding="utf-8")
    (root / "a.txt").write_text("ay", encoding="utf-8")
    (root / "sub" / "c.txt").write_text("sea", encoding="utf-8")
    (root / "sub" / "deeper" / "d.txt").write_text("dee", encoding="utf-8")
    (root / "sub" / "empty.txt").write_text("  \n", encoding="utf-8")

    items = list(iter_corpus([root]))
    docs, errors = _split(items)
    assert [d.id for d in docs] == ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]
    assert [d.text for d in docs] == ["ay", "bee", "sea", "dee"]
    assert docs[2].origin == os.path.join(str(root), "sub", "c.txt")
    assert [(e.id, e.reason) for e in errors] == [("sub/empty.txt", "empty text")]
    # Errors come in path order with the documents.
    assert [i.id for i in items] == ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "sub/empty.txt"]


def test_folder_errors_keep_line(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xff")
    (err,) = iter_corpus([tmp_path])
    assert isinstance(err, RecordError)
    assert (err.id, err.line) == ("bad.txt", 2)
    assert err.reason.startswith("invalid UTF-8 at byte 3 (line 2); best guess ")


def test_single_txt_file(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("Only article.", encoding="utf-8")
    (doc,) = iter_corpus([path])
    assert doc == Document(id="one.txt", text="Only article.", origin=str(path))


# --------------------------------------------------------------------------- JSONL


def test_jsonl_fields_and_origin(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "news.jsonl",
        [
            {"id": "a1", "text": "Alpha.", "date": "2024-01-02", "title": "A", "url": "http://x", "source": "BBC"},
            {"id": 7, "text": "Seven.", "date": None, "title": 3.5, "source": True},
        ],
    )
    docs, errors = _split(list(iter_corpus([path])))
    assert errors == []
    assert docs[0] == Document(
        id="a1", text="Alpha.", date="2024-01-02", title="A", source="BBC", url="http://x", origin=f"{path}:1"
    )
    assert docs[1].id == "7"
    assert (docs[1].date, docs[1].title, docs[1].source, docs[1].url) == (None, "3.5", "true", None)
    assert docs[1].origin == f"{path}:2"


def test_jsonl_default_id_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    path.write_text('\n{"text": "first"}\n   \n{"text": "second", "id": null}\n', encoding="utf-8")
    docs, errors = _split(list(iter_corpus([path])))
    assert errors == []
    assert [d.id for d in docs] == [f"{path.as_posix()}:2", f"{path.as_posix()}:4"]  # the path: unique per file


def test_jsonl_field_overrides(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "bbc.jsonl", [{"doc_id": "b1", "body": "Body text.", "text": "wrong"}])
    (doc,) = iter_corpus([path], text_field="body", id_field="doc_id")
    assert isinstance(doc, Document)
    assert (doc.id, doc.text) == ("b1", "Body text.")


def test_jsonl_text_with_line_separators_stays_one_record(tmp_path: Path) -> None:
    text = "para one\u2028para two\u0085end\r"
    path = _write_jsonl(tmp_path / "seps.jsonl", [{"id": "s", "text": text}, {"id": "t", "text": "next"}])
    docs, errors = _split(list(iter_corpus([path])))
    assert errors == []
    assert [d.text for d in docs] == [text, "next"]


def test_jsonl_gz(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(3):
            fh.write(json.dumps({"id": f"g{i}", "text": f"gzipped {i}"}) + "\n")
    docs, errors = _split(list(iter_corpus([path])))
    assert errors == []
    assert [(d.id, d.text, d.origin) for d in docs] == [(f"g{i}", f"gzipped {i}", f"{path}:{i + 1}") for i in range(3)]


def test_jsonl_bad_records_are_reported_and_run_continues(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"id": "ok1", "text": "fine"},
            '{"id": "broken", "text": ',
            "[1, 2]",
            {"id": "notext", "title": "no body"},
            {"id": "num", "text": 42},
            {"id": "blank", "text": " \n\t"},
            {"id": ["list"], "text": "x"},
            {"id": "meta", "text": "x", "title": {"nested": 1}},
            '{"id": "lone", "text": "\\ud800"}',
            {"id": "ok2", "text": "also fine"},
        ],
    )
    items = list(iter_corpus([path]))
    docs, errors = _split(items)
    assert len(items) == 10  # every line accounted for
    assert [d.id for d in docs] == ["ok1", "ok2"]
    got = [(e.line, e.id, e.reason) for e in errors]
    assert got[0][:2] == (2, None) and got[0][2].startswith("malformed JSON: ")
    assert got[1:] == [
        (3, None, "expected a JSON object, got array"),
        (4, "notext", "no 'text' field"),
        (5, "num", "'text' must be a string, got number"),
        (6, "blank", "empty text"),
        (7, None, "'id' must be a string or integer, got array"),
        (8, "meta", "'title' must be a scalar, got object"),
        (9, "lone", "'text' contains an unpaired surrogate"),
    ]
    assert all(e.source == str(path) for e in errors)
    assert str(errors[0]).startswith(f"{path}:2: malformed JSON")
    assert str(errors[2]) == f"{path}:4 (id=notext): no 'text' field"


def test_jsonl_missing_override_field_is_named(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "r.jsonl", [{"id": "r1", "text": "has text, not body"}])
    (err,) = iter_corpus([path], text_field="body")
    assert isinstance(err, RecordError)
    assert (err.id, err.reason) == ("r1", "no 'body' field")


def test_jsonl_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "enc.jsonl"
    data = b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n{"id": "c", "text": "ok"}\n'
    path.write_bytes(data)
    docs, errors = _split(list(iter_corpus([path])))
    assert [d.id for d in docs] == ["a", "c"]
    (err,) = errors
    assert data.index(b"\xe9") == 50  # offset in the file, not in the line
    assert (err.line, err.reason) == (2, "invalid UTF-8 at byte 50 (line 2)")


def test_jsonl_bom_on_first_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a", "text": "x"}\n')
    (doc,) = iter_corpus([path])
    assert isinstance(doc, Document) and doc.text == "x"


def test_corrupt_gzip_stops_file_naming_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    records = [json.dumps({"id": f"r{i}", "text": os.urandom(300).hex()}) for i in range(400)]
    data = gzip.compress(("\n".join(records) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    docs, errors = _split(list(iter_corpus([path])))
    assert 0 < len(docs) < 400
    (err,) = errors
    assert err.reason.startswith("corrupt gzip stream")
    assert err.line == len(docs) + 1
    assert [d.id for d in docs] == [f"r{i}" for i in range(len(docs))]


def test_not_gzip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl.gz"
    path.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    (err,) = iter_corpus([path])
    assert isinstance(err, RecordError)
    assert err.line == 1 and err.reason.startswith("corrupt gzip stream")


# --------------------------------------------------------------------------- CSV


def test_csv_multiline_field_and_record_lines(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text(
        "id,text,date\r\n"
        'a,"line one\nline two\nline three",2024-01-01\r\n'
        "b,plain,\r\n"
        "\r\n"
        "c,,2024-01-03\r\n"
        ",no id here,\r\n"
        "short\r\n",
        encoding="utf-8",
        newline="",
    )
    items = list(iter_corpus([path]))
    docs, errors = _split(items)
    assert [(d.id, d.text, d.date, d.origin) for d in docs] == [
        ("a", "line one\nline two\nline three", "2024-01-01", f"{path}:2"),
        ("b", "plain", None, f"{path}:5"),
        (f"{path.as_posix()}:8", "no id here", None, f"{path}:8"),
    ]
    assert [(e.line, e.id, e.reason) for e in errors] == [(7, "c", "empty text"), (9, "short", "no 'text' field")]


def test_csv_missing_text_column_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "meta.csv"
    path.write_text("id,title\n1,a\n2,b\n", encoding="utf-8")
    (err,) = iter_corpus([path])
    assert isinstance(err, RecordError)
    assert err.reason == "no 'text' column (header: id, title)"


def test_csv_overrides_and_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "reuters.csv"
    data = b'\xef\xbb\xbfkey,body\nk1,good\nk2,caf\xe9\nk3,"multi\nline"\n'
    path.write_bytes(data)
    docs, errors = _split(list(iter_corpus([path], text_field="body", id_field="key")))
    assert [(d.id, d.text) for d in docs] == [("k1", "good"), ("k3", "multi\nline")]
    (err,) = errors
    assert data.index(b"\xe9") == 26
    assert (err.line, err.reason) == (3, "invalid UTF-8 at byte 26 (line 3)")


def test_csv_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "none.csv"
    path.write_bytes(b"")
    (err,) = iter_corpus([path])
    assert isinstance(err, RecordError) and "no header row" in err.reason


# --------------------------------------------------------------------------- Parquet


def test_parquet_rows(tmp_path: Path) -> None:
    path = tmp_path / "news.parquet"
    table = pa.table(
        {
            "id": pa.array([10, 11, 12, 13], pa.int64()),
            "body": ["first", None, "  ", "fourth"],
            "title": ["T1", None, "T3", "T4"],
            "extra": [1, 2, 3, 4],
        }
    )
    pq.write_table(table, path, row_group_size=2)
    items = list(iter_corpus([path], text_field="body"))
    docs, errors = _split(items)
    assert [(d.id, d.text, d.title, d.origin) for d in docs] == [
        ("10", "first", "T1", f"{path}:1"),
        ("13", "fourth", "T4", f"{path}:4"),
    ]
    assert [(e.line, e.id, e.reason) for e in errors] == [
        (2, "11", "'body' must be a string, got null"),
        (3, "12", "empty text"),
    ]


def test_parquet_dates_default_ids_and_missing_column(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "dated.parquet"
    pq.write_table(pa.table({"text": ["x", "y"], "date": [dt.date(2024, 5, 1), None]}), path)
    docs, errors = _split(list(iter_corpus([path])))
    assert errors == []
    assert [(d.id, d.date) for d in docs] == [(f"{path.as_posix()}:1", "2024-05-01"), (f"{path.as_posix()}:2", None)]

    (err,) = iter_corpus([path], text_field="body")
    assert isinstance(err, RecordError)
    assert err.reason == "no 'body' column (columns: text, date)"


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"not parquet at all")
    (err,) = iter_corpus([path])
    assert isinstance(err, RecordError) and err.reason.startswith("cannot read Parquet")


# --------------------------------------------------------------------------- across paths


def test_missing_path_and_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "data.json").write_text("[]", encoding="utf-8")
    (tmp_path / "README").write_text("hi", encoding="utf-8")
    items = list(iter_corpus([tmp_path / "gone", tmp_path / "data.json", tmp_path / "README"]))
    assert items == [
        RecordError(str(tmp_path / "gone"), "no such file or folder"),
        RecordError(str(tmp_path / "data.json"), f"unsupported input format '.json': {_HINT}"),
        RecordError(str(tmp_path / "README"), f"unsupported input format '(no extension)': {_HINT}"),
    ]


def test_duplicate_ids_first_wins(tmp_path: Path) -> None:
    first = _write_jsonl(tmp_path / "one.jsonl", [{"id": "x", "text": "first"}, {"id": "x", "text": "again"}])
    second = tmp_path / "two.csv"
    second.write_text("id,text\nx,third\ny,fine\n", encoding="utf-8")
    items = list(iter_corpus([first, second]))
    docs, errors = _split(items)
    assert [(d.id, d.text) for d in docs] == [("x", "first"), ("y", "fine")]
    assert [(e.source, e.line, e.id, e.reason) for e in errors] == [
        (str(first), 2, "x", f"duplicate id (first seen at {first}:1)"),
        (str(second), 2, "x", f"duplicate id (first seen at {first}:1)"),
    ]


def test_every_record_accounted_for(tmp_path: Path) -> None:
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "a.txt").write_text("a", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"")
    jsonl = _write_jsonl(tmp_path / "m.jsonl", [{"id": "j1", "text": "j"}, "{oops", {"id": "a.txt", "text": "dup"}])
    csv_path = tmp_path / "m.csv"
    csv_path.write_text('id,text\nc1,"x\ny"\nc2,\n', encoding="utf-8")
    pq_path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["p", None]}), pq_path)

    items = list(iter_corpus([folder, jsonl, csv_path, pq_path]))
    docs, errors = _split(items)
    assert len(items) == 2 + 3 + 2 + 2
    assert sorted(d.id for d in docs) == ["a.txt", "c1", "j1", "p1"]
    assert len(errors) == 5


def test_iter_corpus_is_lazy_and_closes_files(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "many.jsonl", [{"id": str(i), "text": "t"} for i in range(10)])
    gen = iter_corpus([path])
    assert next(gen).id == "0"
    gen.close()  # filterwarnings=error turns an unclosed file into a failure


# --------------------------------------------------------------------------- hostile records (issue 14)


def test_jsonl_records_the_parser_refuses_cost_one_line(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    lines = [
        '{"id": "big", "text": "x", "n": ' + "9" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        '{"id": "deep", "text": "x", "n": ' + "[" * 50_000 + "]" * 50_000 + "}",
        json.dumps({"id": "after", "text": "still read"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(iter_corpus([path]))
    docs, errors = _split(items)
    assert [d.id for d in docs] == ["after"]
    assert [(e.line, e.reason) for e in errors] == [
        (1, "malformed JSON: number with more than 4300 digits"),
        (2, "malformed JSON: nested too deeply"),
        (3, "malformed JSON: nested too deeply"),
    ]


def test_id_with_nul_is_refused_and_shown_escaped(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "n.jsonl", [{"id": "a\u0000b", "text": "x"}, {"id": "ok", "text": "y"}])
    err, doc = iter_corpus([path])
    assert isinstance(err, RecordError) and isinstance(doc, Document)
    assert (err.line, err.id, err.reason) == (1, None, "'id' contains a NUL character: 'a\\x00b'")
    assert "\0" not in str(err)


def test_hostile_folder_through_a_scan(tmp_path: Path) -> None:
    """End to end: a text with NUL, a cp1252 file, dates that overflow in UTC and a stray file all end in the
    manifest with what became of them, and families are built (the dates used to kill them after alignment)."""
    from retold.api import scan_corpus

    body = (
        "The council approved the harbour budget on Tuesday after a long debate.\u0000 Ministers said the "
        "railway and the bridge would be finished by spring. The museum will reopen in May."
    )
    root = tmp_path / "in"
    root.mkdir()
    _write_jsonl(
        root / "c.jsonl",
        [
            {"id": "a", "text": body, "date": "0001-01-01T00:00:00+05:00"},
            {"id": "b", "text": body, "date": "9999-12-31T23:59:59-05:00"},
        ],
    )
    (root / "legacy.txt").write_bytes(_FRENCH.encode("cp1252"))
    (root / "notes.md").write_text("# not an input", encoding="utf-8")
    out = tmp_path / "out"
    scan_corpus([root], out, workers=1)
    manifest = {m["source"]: m for m in map(json.loads, (out / "manifest.jsonl").read_text("utf-8").splitlines())}
    assert set(manifest) == {
        f"{root / 'c.jsonl'}:1",
        f"{root / 'c.jsonl'}:2",
        str(root / "legacy.txt"),
        str(root / "notes.md"),
    }
    a = manifest[f"{root / 'c.jsonl'}:1"]
    assert (a["id"], a["status"]) == ("a", "ok")
    assert a["warning"] == "date '0001-01-01T00:00:00+05:00' is out of range once converted to UTC; treated as undated"
    assert manifest[str(root / "legacy.txt")] | {"status": "ok"} == {
        "id": "legacy.txt",
        "source": str(root / "legacy.txt"),
        "status": "ok",
        "encoding": "cp1252",
    }
    assert manifest[str(root / "notes.md")]["status"] == "skipped"
    (pair,) = (json.loads(x) for x in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines())
    assert (pair["a"]["id"], pair["b"]["id"], pair["verdict"]) == ("a", "b", "duplicate")
    assert pair["a"]["chars"] == len(body)  # the NUL is part of the text the offsets index
    families = [json.loads(x) for x in (out / "families.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {"a", "b"} in [set(f["members"]) for f in families]


def test_text_too_long(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "long.jsonl", [{"id": "a", "text": "x" * 11}, {"id": "b", "text": "x" * 10}])
    err, doc = iter_corpus([path], max_chars=10)
    assert isinstance(err, RecordError) and isinstance(doc, Document)
    assert err.reason == "text too long: 11 characters (limit 10; raise it with --max-chars)"

    txt = tmp_path / "long.txt"
    txt.write_text("é" * 11, encoding="utf-8")  # 22 bytes: may fit in 4 bytes a character, but 11 > 10
    with pytest.raises(InputError, match=r"text too long: 11 characters \(limit 10; raise it with --max-chars\)"):
        read_text_file(txt, max_chars=10)
    assert read_text_file(txt, max_chars=11).text == "é" * 11


def test_text_file_too_large_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retold.io import readers

    path = tmp_path / "huge.txt"
    path.write_bytes(b"x" * 41)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a file that cannot fit must not be opened")

    monkeypatch.setattr(readers, "open", refuse, raising=False)
    with pytest.raises(InputError) as info:
        read_text_file(path, max_chars=10)
    assert info.value.reason == "text too long: 41 bytes, more than 10 characters (limit 10; raise it with --max-chars)"


def test_jsonl_line_too_long_is_skipped_unread_and_the_next_line_read(tmp_path: Path) -> None:
    from retold.io import readers

    limit = readers._JSON_BYTES_PER_CHAR * 10 + readers._LINE_SLACK
    path = tmp_path / "l.jsonl"
    huge = json.dumps({"id": "huge", "text": "y", "other": "z" * (limit + 10)})
    _write_jsonl(path, [huge, {"id": "next", "text": "fine"}])
    err, doc = iter_corpus([path], max_chars=10)
    assert isinstance(err, RecordError) and err.line == 1
    assert err.reason.startswith(f"line too long: {len(huge) + 1:,} bytes, more than a text of 10 characters needs")
    assert isinstance(doc, Document) and doc.id == "next" and doc.origin == f"{path}:2"


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
    ],
)
def test_utf16_and_utf32_with_bom(tmp_path: Path, bom: bytes, codec: str) -> None:
    text = "Caf\u00e9 \u8bae\u4f1a \U0001f600 approved.\r\nSecond line.\n"
    path = tmp_path / "wide.txt"
    path.write_bytes(bom + text.encode(codec))
    doc = read_text_file(path)
    assert doc.text == "\ufeff" + text  # the BOM is kept as with UTF-8: one document, one text, in any encoding
    assert doc.encoding == codec
    (from_folder,) = iter_corpus([tmp_path])
    assert from_folder == Document(id="wide.txt", text=doc.text, origin=str(path), encoding=codec)


def test_bom_over_binary_is_still_binary(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\xff\xfe\x00bin")  # a UTF-16 LE BOM, then two code units of nothing that reads as text
    with pytest.raises(InputError, match=r"binary file \(starts with a UTF-16 LE byte order mark"):
        read_text_file(path)
    path.write_bytes(b"\xff\xfe" + b"a")  # odd length
    with pytest.raises(InputError, match="invalid UTF-16 LE at byte 2"):
        read_text_file(path)


def test_nul_anywhere_means_binary(tmp_path: Path) -> None:
    path = tmp_path / "late.txt"
    path.write_bytes(b"line\n" * 5000 + b"\0tail")
    with pytest.raises(InputError, match=r"binary file \(NUL byte at offset 25000\), expected UTF-8 text") as info:
        read_text_file(path)
    assert info.value.line == 5001


_FRENCH = (
    "Le conseil municipal a approuv\u00e9 le budget apr\u00e8s un long d\u00e9bat. La premi\u00e8re ministre "
    "s'est exprim\u00e9e devant l'Assembl\u00e9e : \u00ab Nous avons tr\u00e8s bien travaill\u00e9 \u00bb, "
    "a-t-elle d\u00e9clar\u00e9. Les \u00e9l\u00e8ves et leurs parents \u00e9taient pr\u00e9sents.\n"
)


@pytest.mark.parametrize(
    ("text", "codec", "named"),
    [
        (_FRENCH, "cp1252", "cp1252"),
        (_FRENCH.replace("\u00ab", '"').replace("\u00bb", '"'), "latin-1", "cp1252"),  # same bytes, same text
        ("Caf\u00e9 cr\u00e8me\n", "cp1252", "cp1252"),  # cp1250 reads "crčme": no word, so not a rival
        ("M\u011bstsk\u00e1 rada schv\u00e1lila rozpo\u010det po dlouh\u00e9 debat\u011b.\n", "cp1250", "cp1250"),
        (  # "ą" and "ś" sit elsewhere in cp1250, which reads "s±" and "¶"
            "Rada miasta zatwierdzi\u0142a bud\u017cet. Mieszka\u0144cy s\u0105 zaniepokojeni inflacj\u0105 i "
            "cenami \u017cywno\u015bci.\n",
            "iso8859-2",
            "iso8859_2",
        ),
        (
            "\u5e02\u8bae\u4f1a\u6279\u51c6\u4e86\u9884\u7b97\u3002\u5e02\u957f\u8868\u793a\u4e25\u5cfb\u3002\n",
            "gbk",
            "gb18030",
        ),
        ("\u201cQuoted\u201d \u2013 the council said it cost \u20ac5m.\n" * 3, "cp1252", "cp1252"),
        (
            "\u0413\u043e\u0440\u043e\u0434\u0441\u043a\u043e\u0439 \u0441\u043e\u0432\u0435\u0442 "
            "\u0443\u0442\u0432\u0435\u0440\u0434\u0438\u043b \u0431\u044e\u0434\u0436\u0435\u0442. " * 4,
            "cp1251",
            "cp1251",
        ),
    ],
)
def test_legacy_encoding_read_with_a_stated_fallback(tmp_path: Path, text: str, codec: str, named: str) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode(codec))
    doc = read_text_file(path)
    assert doc.text == text  # never mojibake: the text a reader of that code page sees
    assert doc.encoding == named


@pytest.mark.parametrize(
    ("data", "why"),
    [
        # A stray byte in English: cp1250 reads "˙", cp1251 "я", cp1252 "ÿ", and no word settles it.
        (b"The council approved the budget \xff today. " * 5, "read it differently: convert it to UTF-8"),
        # A stray byte in ASCII text reads as one plausible sign at most: too little to go by.
        (b"The v\x96ccine was approved by the council today, said the minister.\n", "too few of its characters"),
        # Readings that agree on the first 200,000 characters but not after: nothing to choose by.
        (_FRENCH.encode("cp1252") * 800 + b"The v\x96ccine.\n", "read it differently"),
        # Every reading puts a sign where text has none ("v–ccine", "v\u2013ccine"): no clean reading wins.
        (_FRENCH.encode("cp1252") + b"The v\x96ccine.\n", "read it differently"),
        # UTF-8 text with one latin-1 word: a legacy reading would garble every other accent.
        (_FRENCH.encode() + "D\u00e9j\u00e0 vu.\n".encode("latin-1"), "so it is damaged UTF-8"),
        # Reads as Korean, but as syllables no Korean word list has.
        (b"\x81\x8d\x8f\x90\x9d" * 20 + b" \n", "most of its words are in no word list"),
        (bytes(range(0x80, 0x100)) * 3, "no known encoding reads it as text"),
    ],
)
def test_unsafe_guesses_are_refused(tmp_path: Path, data: bytes, why: str) -> None:
    path = tmp_path / "doubt.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_text_file(path)
    with pytest.raises(UnicodeDecodeError) as strict:
        data.decode("utf-8")
    assert info.value.reason.startswith(f"invalid UTF-8 at byte {strict.value.start} (line ")
    assert why in info.value.reason


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_utf16_jsonl_and_csv_are_one_clear_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"wide{suffix}"
    body = '{"id": "a", "text": "x"}\n' if suffix == ".jsonl" else "id,text\na,x\n"
    path.write_bytes(b"\xff\xfe" + body.encode("utf-16-le"))
    (err,) = iter_corpus([path])
    assert isinstance(err, RecordError) and err.line == 1
    assert err.reason == f"UTF-16 or UTF-32 file (byte order mark); {suffix[1:].upper()} must be UTF-8"


# --------------------------------------------------------------------------- folders of every format


def test_folder_reads_every_format_in_path_order_and_reports_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_text("bee", encoding="utf-8")
    _write_jsonl(root / "a.jsonl", [{"text": "from jsonl"}, {"id": "j", "text": "named"}])
    (root / "sub" / "rows.csv").write_text("id,text\n,from csv\n", encoding="utf-8")
    with gzip.open(root / "sub" / "z.ndjson.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "gzipped"}) + "\n")
    pq.write_table(pa.table({"text": ["from parquet"]}), root / "c.parquet")
    (root / "notes.md").write_text("# not an input", encoding="utf-8")
    (root / ".hidden").write_text("dot file", encoding="utf-8")

    items = list(iter_corpus([root]))
    docs, errors = _split(items)
    assert [d.id for d in docs] == ["a.jsonl:1", "j", "b.txt", "c.parquet:1", "sub/rows.csv:2", "sub/z.ndjson.gz:1"]
    assert [d.text for d in docs] == ["from jsonl", "named", "bee", "from parquet", "from csv", "gzipped"]
    assert docs[0].origin == f"{root / 'a.jsonl'}:1"
    assert [(e.source, e.reason) for e in errors] == [
        (str(root / ".hidden"), f"unsupported input format '(no extension)': {_HINT}"),
        (str(root / "notes.md"), f"unsupported input format '.md': {_HINT}"),
    ]
    # Every item in sorted relative-path order.
    files = [_file_of(i).relative_to(root).as_posix() for i in items]
    assert files == sorted(files)
    assert count_records([root]) == len(items)


def test_same_file_name_in_two_folders_gives_distinct_ids(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        _write_jsonl(tmp_path / sub / "docs.jsonl", [{"text": f"{sub} one"}, {"text": f"{sub} two"}])
    docs, errors = _split(list(iter_corpus([tmp_path])))
    assert errors == []
    assert [d.id for d in docs] == ["a/docs.jsonl:1", "a/docs.jsonl:2", "b/docs.jsonl:1", "b/docs.jsonl:2"]


def test_file_named_directly_takes_its_normalised_path_as_id_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        _write_jsonl(tmp_path / sub / "docs.jsonl", [{"text": f"{sub} one"}])
        (tmp_path / sub / "rows.csv").write_text("text\nrow\n", encoding="utf-8")
        pq.write_table(pa.table({"text": ["pq"]}), tmp_path / sub / "t.parquet")
    (tmp_path / "a" / "story.txt").write_text("story", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    paths = ["./a/docs.jsonl", "b/../b/docs.jsonl", "a//rows.csv", "b/rows.csv", "a/t.parquet", "./b/t.parquet"]
    docs, errors = _split(list(iter_corpus([*paths, "./a/story.txt"])))
    assert errors == []
    assert [d.id for d in docs] == [
        "a/docs.jsonl:1",
        "b/docs.jsonl:1",
        "a/rows.csv:2",
        "b/rows.csv:2",
        "a/t.parquet:1",
        "b/t.parquet:1",
        "story.txt",  # a text file named directly keeps its bare name
    ]
    assert docs[0].origin == "./a/docs.jsonl:1"  # origins keep the path as given


def test_folder_symlinks_and_special_files_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.txt").write_text("a", encoding="utf-8")
    (root / "loop").symlink_to(root, target_is_directory=True)  # followed, it would never end
    (root / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")
    os.mkfifo(root / "pipe.jsonl")  # opening it would block forever
    items = list(iter_corpus([root]))
    docs, errors = _split(items)
    assert [d.id for d in docs] == ["real/a.txt"]
    assert [(Path(e.source).name, e.reason) for e in errors] == [
        ("dangling.jsonl", "cannot read file: No such file or directory"),
        ("loop", "symbolic link to a folder, not followed"),
        ("pipe.jsonl", "not a regular file"),
    ]
    assert count_records([root]) == len(items)


# --------------------------------------------------------------------------- CSV that lies about its rows


def test_csv_unterminated_quote_is_reported_with_the_lines_it_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text('id,text\na,fine\nb,"never closed\nc,swallowed\nd,too\n', encoding="utf-8")
    items = list(iter_corpus([path]))
    docs, errors = _split(items)
    assert [d.id for d in docs] == ["a"]
    (err,) = errors
    assert (err.line, err.reason) == (
        3,
        "unterminated quoted field: the record runs to the end of the file; lines 3-5 not read",
    )


def test_csv_quote_closed_rows_later_with_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text('id,text,date\na,"stray,2020-01-01\nb,eaten"\nc,kept,\n', encoding="utf-8")
    docs, errors = _split(list(iter_corpus([path])))
    assert [d.id for d in docs] == ["c"]
    (err,) = errors
    reason = "malformed CSV: a record over lines 2-3 has 2 fields, the header 3 (a stray quote?)"
    assert (err.line, err.reason) == (2, reason)


def test_csv_parser_error_costs_one_record(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b"id,text\na,one\nb,bare\rcarriage return\nc,three\n")
    docs, errors = _split(list(iter_corpus([path])))
    assert [d.id for d in docs] == ["a", "c"]
    (err,) = errors
    assert err.line == 3 and err.reason.startswith("malformed CSV: new-line character seen in unquoted field")


def test_csv_header_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b"id,t\xe9xt\na,b\n")
    (err,) = iter_corpus([path], text_field="t\u00e9xt")
    assert isinstance(err, RecordError)
    assert (err.line, err.reason) == (1, "invalid UTF-8 at byte 4 (line 1) in the header")


# --------------------------------------------------------------------------- Parquet damage costs the least


def test_parquet_damaged_row_group_costs_its_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "groups.parquet"
    table = pa.table({"id": [f"r{i}" for i in range(30)], "text": [f"text {i} " * 5 for i in range(30)]})
    pq.write_table(table, path, row_group_size=10)
    group = pq.ParquetFile(path).metadata.row_group(1)
    data = bytearray(path.read_bytes())
    for j in range(group.num_columns):
        col = group.column(j)
        start = col.dictionary_page_offset or col.data_page_offset
        data[start : start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
    path.write_bytes(bytes(data))
    docs, errors = _split(list(iter_corpus([path])))
    assert [d.id for d in docs] == [f"r{i}" for i in (*range(10), *range(20, 30))]
    (err,) = errors
    assert err.line == 11 and err.reason.startswith("cannot read Parquet rows 11-20: ")
    assert "\n" not in err.reason


def test_parquet_value_python_cannot_hold_costs_one_row(tmp_path: Path) -> None:
    path = tmp_path / "ts.parquet"
    dates = pa.array([0, 10**13, 5], pa.timestamp("s"))  # 10**13 s is past year 9999
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": ["x", "y", "z"], "date": dates}), path)
    docs, errors = _split(list(iter_corpus([path])))
    assert [(d.id, d.date) for d in docs] == [("a", "1970-01-01T00:00:00"), ("c", "1970-01-01T00:00:05")]
    (err,) = errors
    assert (err.line, err.id) == (2, "b") and err.reason.startswith("'date' cannot be read: ")


# --------------------------------------------------------------------------- invariants


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".jsonl", ".csv", ".txt"]))
def test_arbitrary_bytes_never_raise_and_errors_name_the_file(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"input{suffix}"
    path.write_bytes(data)
    items = list(iter_corpus([path]))  # must not raise
    assert items, "every file is accounted for by at least one item"
    for item in items:
        if isinstance(item, RecordError):
            assert item.source == str(path)
            assert item.reason and "\n" not in item.reason
        else:
            assert item.origin is not None and item.origin.startswith(str(path))
            assert item.text.strip("\ufeff").strip()
    if suffix == ".jsonl" and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        records = [line for line in data.split(b"\n") if line.strip()]
        lead = 1 if data.startswith(b"\xef\xbb\xbf") and not data[3:].split(b"\n")[0].strip() else 0
        if len(records) > lead:
            assert len(items) == len(records) - lead  # one item per non-blank line, no more, no less
        else:
            assert [i.reason for i in items] == ["no records in the file"]  # type: ignore[union-attr]
    if suffix == ".txt":
        assert len(items) == 1


def test_torture_corpus_every_record_accounted_for(tmp_path: Path) -> None:
    from tests import torture

    root = tmp_path / "torture"
    expected = torture.build(root, seed=3, big_mb=2, long_line=50_000)
    items = list(iter_corpus([root], max_chars=100_000))
    docs, errors = _split(items)

    def where(item: Document | RecordError) -> tuple[str, int | None]:
        if isinstance(item, RecordError):
            file = Path(item.source).relative_to(root).as_posix()
            return file, None if file.endswith(".txt") else item.line
        assert item.origin is not None
        path, _, line = item.origin.rpartition(":")
        if line.isdigit() and not item.origin.endswith(".txt"):
            return Path(path).relative_to(root).as_posix(), int(line)
        return Path(item.origin).relative_to(root).as_posix(), None

    got = {where(i): i for i in items}
    assert len(got) == len(items)  # one item per record
    for exp in expected:
        if exp.file.endswith(".csv") or exp.file.endswith(".gz"):
            continue  # CSV records span lines; a cut gzip stream's rows depend on where it was cut
        item = got.get((exp.file, exp.line))
        if exp.fate == "any" and exp.line is not None and exp.file.endswith(".jsonl") and item is None:
            continue  # the blank line: not a record
        assert item is not None, exp
        if exp.fate == "ok":
            assert isinstance(item, Document), (exp, item)
        elif exp.fate == "skipped":
            assert isinstance(item, RecordError), (exp, item)
    by_id = {d.id: d for d in docs}
    assert by_id["enc/utf16-bom.txt"].encoding == "utf-16-le"
    assert by_id["enc/cp1252.txt"].encoding == "cp1252"
    assert by_id["enc/cp1252.txt"].text.startswith("\u201cQuoted\u201d \u2013 dash \u20ac5 ")
    assert {d.id for d in docs if d.id.startswith("same/")} == {
        f"same/{s}/docs.jsonl:{n}" for s in "ab" for n in (1, 2, 3)
    }
    csv_items = [i for i in items if where(i)[0] == "csv/rows.csv"]
    assert [type(i).__name__ for i in csv_items] == ["Document", "Document", "RecordError"]
    assert "unterminated quoted field" in csv_items[-1].reason  # type: ignore[union-attr]
    huge = got[("huge/big.txt", None)]
    assert isinstance(huge, RecordError) and huge.reason.startswith("text too long: 2,097,152 bytes")
    assert all(e.source.startswith(str(root)) for e in errors)


@pytest.mark.parametrize(
    ("name", "content"),
    [("blank.jsonl", b"\n  \n"), ("header.csv", b"id,text\n"), ("empty.jsonl.gz", gzip.compress(b""))],
)
def test_file_without_records_is_still_mentioned(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert list(iter_corpus([path])) == [RecordError(str(path), "no records in the file")]
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), tmp_path / "none.parquet")
    assert list(iter_corpus([tmp_path / "none.parquet"])) == [
        RecordError(str(tmp_path / "none.parquet"), "no records in the file")
    ]
