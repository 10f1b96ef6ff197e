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
from retold.io.readers import iter_corpus, read_text_file
from retold.model import Document, RecordError


def _split(items: list[Document | RecordError]) -> tuple[list[Document], list[RecordError]]:
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert len(docs) + len(errors) == len(items)
    return docs, errors


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


def test_read_text_file_invalid_utf8_names_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"first line\nsecond\ncaf\xe9 au lait\n")
    with pytest.raises(InputError) as info:
        read_text_file(path)
    err = info.value
    assert err.reason == "invalid UTF-8 at byte 21 (line 3)"
    assert err.line == 3
    assert str(err).startswith(f"{path}:3 (id=latin1.txt): ")
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


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")).filter(
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
    (root / "notes.md").write_text("ignored", encoding="utf-8")
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
    assert (err.id, err.line, err.reason) == ("bad.txt", 2, "invalid UTF-8 at byte 3 (line 2)")


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
    assert [d.id for d in docs] == ["feed.ndjson:2", "feed.ndjson:4"]


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
        ("news.csv:8", "no id here", None, f"{path}:8"),
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
    assert [(d.id, d.date) for d in docs] == [("dated.parquet:1", "2024-05-01"), ("dated.parquet:2", None)]

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
        RecordError(
            str(tmp_path / "data.json"),
            "unsupported input format '.json': expected a folder of .txt, .jsonl(.gz), .csv or .parquet",
        ),
        RecordError(
            str(tmp_path / "README"),
            "unsupported input format '(no extension)': expected a folder of .txt, .jsonl(.gz), .csv or .parquet",
        ),
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
