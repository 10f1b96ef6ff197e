"""Input readers: turn text files, JSONL, CSV and Parquet into `Document`s.

`read_text_file` loads one document and raises `InputError`; `iter_corpus` streams a whole corpus
and reports every unusable record as a `RecordError` value so that a batch run goes on.
Texts are decoded strictly as UTF-8 and never altered: every offset in retold indexes them.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import json
import os
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from retold.errors import InputError
from retold.model import Document, RecordError

__all__ = ["count_records", "duplicate_error", "iter_corpus", "read_text_file"]

_SNIFF_BYTES = 8192
_BOM = b"\xef\xbb\xbf"
_OPTIONAL_FIELDS = ("date", "title", "url", "source")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_PARQUET_BATCH_ROWS = 1024
_CSV_FIELD_LIMIT = 2**31 - 1  # the default 128 KiB is below the size of some long articles
_FORMATS_HINT = "expected a folder of .txt, .jsonl(.gz), .csv or .parquet"


class _Found(NamedTuple):
    """A usable document plus where it came from, kept for duplicate-id messages."""

    doc: Document
    source: str
    line: int | None


_Item = _Found | RecordError


def read_text_file(path: str | os.PathLike[str]) -> Document:
    """Read one UTF-8 text file as a document.

    Args:
        path: The file to read.

    Returns:
        A `Document` whose id is the file name and whose origin is `path` as given.

    Raises:
        InputError: The path is missing, a directory, unreadable, binary, not valid UTF-8,
            or holds only whitespace.
    """
    source = os.fspath(path)
    return _load_text_file(source, Path(source).name)


def _load_text_file(source: str, doc_id: str) -> Document:
    def fail(reason: str, line: int | None = None) -> InputError:
        return InputError(reason, source=source, line=line, doc_id=doc_id)

    try:
        st = os.stat(source)
    except (FileNotFoundError, NotADirectoryError):
        raise fail("no such file") from None
    except OSError as exc:
        raise fail(f"cannot read file: {_os_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise fail("is a directory, expected a text file")
    if not stat.S_ISREG(st.st_mode):
        raise fail("not a regular file, expected a text file")  # a FIFO or device could block forever
    try:
        with open(source, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise fail(f"cannot read file: {_os_reason(exc)}") from None

    nul = data.find(b"\0", 0, _SNIFF_BYTES)
    if nul >= 0:
        raise fail(f"binary file (NUL byte at offset {nul}), expected UTF-8 text", _line_at(data, nul))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        raise fail(f"invalid UTF-8 at byte {exc.start} (line {line})", line) from None
    if _is_blank(text):
        raise fail("empty text")
    return Document(id=doc_id, text=text, origin=source)


def _iter_text_dir(root: str) -> Iterator[_Item]:
    """Every ``*.txt`` below `root`, sorted by relative POSIX path, which is also the id."""
    entries: list[tuple[str, str | RecordError]] = []

    def on_error(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else root
        rel = Path(os.path.relpath(where, root)).as_posix()
        entries.append((rel, RecordError(where, f"cannot read folder: {_os_reason(exc)}")))

    # followlinks=False: a symlink cycle must not make the walk endless.
    for dirpath, _dirnames, filenames in os.walk(root, onerror=on_error):
        for name in filenames:
            if name.lower().endswith(".txt"):
                full = os.path.join(dirpath, name)
                entries.append((Path(os.path.relpath(full, root)).as_posix(), full))
    entries.sort(key=lambda entry: entry[0])
    for rel, target in entries:
        if isinstance(target, RecordError):
            yield target
        else:
            yield _text_item(target, rel)


def _text_item(source: str, doc_id: str) -> _Item:
    try:
        return _Found(_load_text_file(source, doc_id), source, None)
    except InputError as exc:
        return RecordError(exc.source, exc.reason, exc.line, exc.doc_id)


def iter_corpus(
    paths: Sequence[str | os.PathLike[str]],
    *,
    text_field: str = "text",
    id_field: str = "id",
    unique_ids: bool = True,
) -> Iterator[Document | RecordError]:
    """Stream every record of the given inputs, in path order and then file order.

    Formats, chosen per path:

    * a folder: every ``*.txt`` below it, sorted by relative path; the id is that relative POSIX path;
    * a ``.txt`` file: one document whose id is the file name;
    * ``.jsonl``/``.ndjson`` (optionally ``.gz``): one JSON object per line, blank lines skipped;
    * ``.csv`` with a header row; ``.parquet`` read in batches.

    Record fields are `text_field`, `id_field` and the optional ``date``, ``title``, ``url`` and
    ``source`` (scalars become strings; null or empty becomes None). A record without an id (missing
    or null) gets ``"<file name>:<line>"``, where line is the 1-based line (CSV: the record's first
    line; Parquet: the row number). Origins are ``"<path>:<line>"``.

    Args:
        paths: Files or folders to read (a single path is accepted too).
        text_field: Name of the field holding the article text.
        id_field: Name of the field holding the record id.
        unique_ids: Turn a repeated id into an error here (the first record wins). This keeps every id in
            memory; a caller that detects repeats itself (the indexer asks its store, see `duplicate_error`)
            passes False and gets every usable record.

    Yields:
        One `Document` per usable record, else one `RecordError` naming file, line and id where known.
        A missing or unreadable path, or a file-level problem, yields a single `RecordError`.
        When an id repeats, the first record wins and later ones become errors. Nothing is raised.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # a lone path would otherwise be read as a sequence of one-letter paths
    seen: dict[str, str] = {}
    for path in paths:
        for item in _iter_path(os.fspath(path), text_field, id_field):
            if isinstance(item, RecordError):
                yield item
                continue
            doc = item.doc
            if not unique_ids:
                yield doc
                continue
            first = seen.get(doc.id)
            if first is not None:
                yield RecordError(item.source, f"duplicate id (first seen at {first})", item.line, doc.id)
                continue
            seen[doc.id] = doc.origin or item.source
            yield doc


def duplicate_error(doc: Document, first: str | None) -> RecordError:
    """The error for a record whose id was already read (`first`: where, when known), as `iter_corpus` gives it.

    `doc` must come from `iter_corpus`: its origin (``"<path>:<line>"``, or the path of a text file) names it.
    """
    source, line = doc.origin or doc.id, None
    head, sep, tail = source.rpartition(":")
    if sep and head and tail.isdigit() and not source.lower().endswith(".txt"):
        source, line = head, int(tail)
    where = f"first seen at {first}" if first else "seen earlier in this run"
    return RecordError(source, f"duplicate id ({where})", line, doc.id)


def count_records(paths: Sequence[str | os.PathLike[str]]) -> int:
    """A quick upper bound on the records `iter_corpus` will read, for a progress total: lines of JSONL and CSV
    files (CSV less its header), rows of Parquet files, ``*.txt`` files (one pass over the bytes, no parsing;
    gzip files are decompressed). Unreadable inputs count 1 (their error)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    total = 0
    for path in paths:
        source = os.fspath(path)
        lower = source.lower()
        try:
            if os.path.isdir(source):
                total += sum(1 for _, _, names in os.walk(source) for n in names if n.lower().endswith(".txt"))
            elif lower.endswith(_JSONL_SUFFIXES):
                total += _count_lines(source, gz=lower.endswith(".gz"))
            elif lower.endswith(".csv"):
                total += max(1, _count_lines(source, gz=False) - 1)
            elif lower.endswith(".parquet"):
                total += max(1, pq.ParquetFile(source).metadata.num_rows)
            else:
                total += 1
        except (OSError, EOFError, zlib.error, ValueError, pa.ArrowException):
            total += 1
    return total


def _count_lines(source: str, *, gz: bool) -> int:
    n, last = 0, b"\n"
    with gzip.open(source, "rb") if gz else open(source, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _iter_path(source: str, text_field: str, id_field: str) -> Iterator[_Item]:
    try:
        st = os.stat(source)
    except (FileNotFoundError, NotADirectoryError):
        yield RecordError(source, "no such file or folder")
        return
    except OSError as exc:
        yield RecordError(source, f"cannot read: {_os_reason(exc)}")
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _iter_text_dir(source)
        return
    name = Path(source).name
    lower = name.lower()
    if lower.endswith(".txt"):
        yield _text_item(source, name)
    elif lower.endswith(_JSONL_SUFFIXES):
        yield from _iter_jsonl(source, text_field, id_field, gz=lower.endswith(".gz"))
    elif lower.endswith(".csv"):
        yield from _iter_csv(source, text_field, id_field)
    elif lower.endswith(".parquet"):
        yield from _iter_parquet(source, text_field, id_field)
    else:
        yield RecordError(source, f"unsupported input format '{_suffix(name)}': {_FORMATS_HINT}")


def _iter_jsonl(source: str, text_field: str, id_field: str, *, gz: bool) -> Iterator[_Item]:
    name = Path(source).name
    opened = False
    line = 0
    try:
        with gzip.open(source, "rb") if gz else open(source, "rb") as fh:
            opened = True
            for line, start, raw in _raw_lines(fh):
                if raw.strip():  # blank lines are not records
                    yield _jsonl_record(raw, start, source, name, line, text_field, id_field)
    except (OSError, EOFError, zlib.error) as exc:
        if not opened:
            yield RecordError(source, f"cannot read file: {_os_reason(exc)}")
        else:  # the stream broke while reading the next line; the rest of the file is lost
            what = "corrupt gzip stream" if gz else "read error"
            yield RecordError(source, f"{what}: {_os_reason(exc)}", line + 1)


def _raw_lines(fh: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """``(line, file offset of its first byte, bytes)`` per physical line, without a leading BOM.

    Lines split on b"\\n" only, so U+2028 and other separators inside a record stay inside it.
    """
    offset = 0
    for line, raw in enumerate(fh, 1):
        start, offset = offset, offset + len(raw)
        if line == 1 and raw.startswith(_BOM):  # a BOM belongs to the file, not to a record
            raw, start = raw[len(_BOM) :], start + len(_BOM)
        yield line, start, raw


def _jsonl_record(raw: bytes, start: int, source: str, name: str, line: int, text_field: str, id_field: str) -> _Item:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RecordError(source, f"invalid UTF-8 at byte {start + exc.start} (line {line})", line)
    try:
        obj = json.loads(decoded)
    except json.JSONDecodeError as exc:
        return RecordError(source, f"malformed JSON: {exc.msg} (column {exc.colno})", line)
    if not isinstance(obj, dict):
        return RecordError(source, f"expected a JSON object, got {_type_name(obj)}", line)
    return _make_item(obj, source, name, line, text_field, id_field)


def _decoded_lines(fh: Iterable[bytes], bad: dict[int, int]) -> Iterator[str]:
    """Lines for csv.reader; `bad` maps each line that is not UTF-8 to the file offset of the bad byte."""
    for line, start, raw in _raw_lines(fh):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[line] = start + exc.start
            # Keep parsing so one bad byte costs one record, not the rest of the file.
            yield raw.decode("utf-8", "surrogateescape")


def _iter_csv(source: str, text_field: str, id_field: str) -> Iterator[_Item]:
    name = Path(source).name
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    bad: dict[int, int] = {}
    pending: int | None = None  # first line of the record being read, for errors that stop the file
    try:
        with open(source, "rb") as fh:
            pending = 1
            reader = csv.reader(_decoded_lines(fh, bad))
            header = next(reader, None)
            if header is None:
                yield RecordError(source, "empty CSV file (no header row)")
                return
            if text_field not in header:
                yield RecordError(source, f"no '{text_field}' column (header: {_preview(header)})", 1)
                return
            columns = {col: i for i, col in reversed(list(enumerate(header)))}  # first of duplicates wins
            pending = reader.line_num + 1
            for row in reader:
                line, end = pending, reader.line_num  # a quoted field may span several lines
                pending = end + 1
                if not row:  # blank line
                    continue
                bad_at = [bad[n] for n in range(line, end + 1) if n in bad]
                if bad_at:
                    yield RecordError(source, f"invalid UTF-8 at byte {bad_at[0]} (line {line})", line)
                    continue
                record = {col: row[i] for col, i in columns.items() if i < len(row) and row[i] != ""}
                if text_field not in record and columns[text_field] < len(row):
                    record[text_field] = ""  # present but empty: "empty text", not "no field"
                yield _make_item(record, source, name, line, text_field, id_field)
    except csv.Error as exc:
        yield RecordError(source, f"malformed CSV: {exc}", pending)
    except OSError as exc:
        yield RecordError(source, f"cannot read file: {_os_reason(exc)}", pending)


def _iter_parquet(source: str, text_field: str, id_field: str) -> Iterator[_Item]:
    name = Path(source).name
    row = 0
    try:
        with open(source, "rb") as fh:
            pf = pq.ParquetFile(fh)
            names = pf.schema_arrow.names
            if text_field not in names:
                yield RecordError(source, f"no '{text_field}' column (columns: {_preview(names)})")
                return
            wanted = dict.fromkeys(f for f in (id_field, text_field, *_OPTIONAL_FIELDS) if f in names)
            for batch in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=list(wanted)):
                values = {col: batch.column(col).to_pylist() for col in wanted}
                for i in range(batch.num_rows):
                    row += 1
                    record = {col: vals[i] for col, vals in values.items()}
                    yield _make_item(record, source, name, row, text_field, id_field)
    except (OSError, ValueError, pa.ArrowException) as exc:
        yield RecordError(source, f"cannot read Parquet: {_os_reason(exc)}", row + 1 if row else None)


def _make_item(
    record: Mapping[str, object], source: str, name: str, line: int, text_field: str, id_field: str
) -> _Item:
    """Validate one parsed record (JSON object, CSV row or Parquet row) into a document."""
    raw_id = record.get(id_field)
    doc_id: str | None = None
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            reason = f"'{id_field}' must be a string or integer, got {_type_name(raw_id)}"
            return RecordError(source, reason, line)
        doc_id = str(raw_id)
        if not doc_id.strip():
            return RecordError(source, f"empty '{id_field}'", line)
        if not _encodable(doc_id):
            return RecordError(source, f"'{id_field}' contains an unpaired surrogate", line)

    if text_field not in record:
        return RecordError(source, f"no '{text_field}' field", line, doc_id)
    text = record[text_field]
    if not isinstance(text, str):
        return RecordError(source, f"'{text_field}' must be a string, got {_type_name(text)}", line, doc_id)
    if _is_blank(text):
        return RecordError(source, "empty text", line, doc_id)
    if not _encodable(text):
        # JSON "\ud800" escapes decode to lone surrogates that no later stage could write out.
        return RecordError(source, f"'{text_field}' contains an unpaired surrogate", line, doc_id)

    extra: dict[str, str | None] = {}
    for key in _OPTIONAL_FIELDS:
        try:
            extra[key] = _scalar_str(record.get(key))
        except ValueError as exc:
            return RecordError(source, f"'{key}' {exc}", line, doc_id)

    doc = Document(
        id=doc_id if doc_id is not None else f"{name}:{line}",
        text=text,
        date=extra["date"],
        title=extra["title"],
        source=extra["source"],
        url=extra["url"],
        origin=f"{source}:{line}",
    )
    return _Found(doc, source, line)


def _scalar_str(value: object) -> str | None:
    """Optional metadata as text: None or "" -> None, dates in ISO form; ValueError for the rest."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if not _encodable(value):
            raise ValueError("contains an unpaired surrogate")
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (_dt.date, _dt.time)):  # Parquet date/timestamp columns
        return value.isoformat()
    raise ValueError(f"must be a scalar, got {_type_name(value)}")


def _is_blank(text: str) -> bool:
    return not text.lstrip("\ufeff").strip()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _line_at(data: bytes, offset: int) -> int:
    """1-based line holding byte `offset`."""
    return data.count(b"\n", 0, offset) + 1


def _os_reason(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    return strerror if isinstance(strerror, str) and strerror else (str(exc) or type(exc).__name__)


_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: bool is an int subclass
    ((int, float), "number"),
    (str, "string"),
    ((list, tuple), "array"),
    (dict, "object"),
)


def _type_name(value: object) -> str:
    """JSON's name for a value's type, so messages speak the input's language."""
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), type(value).__name__)


def _suffix(name: str) -> str:
    path = Path(name)
    suffixes = path.suffixes
    if not suffixes:
        return "(no extension)"
    return "".join(suffixes[-2:]) if suffixes[-1].lower() == ".gz" else suffixes[-1]


def _preview(columns: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(columns[:limit])
    return shown + (", ..." if len(columns) > limit else "")
