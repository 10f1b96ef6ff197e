"""Input readers: turn text files, JSONL, CSV and Parquet into `Document`s.

`read_text_file` loads one document and raises `InputError`; `iter_corpus` streams a whole corpus
and reports every unusable record as a `RecordError` value so that a batch run goes on: nothing one
record holds can stop it. Text files are decoded by `retold.io.encodings` (UTF-8 strictly, a UTF-16/32
byte order mark, a legacy encoding only where that is safe, stated in `Document.encoding`); JSONL and
CSV must be UTF-8. Texts are never altered: every offset in retold indexes the decoded text.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import gzip
import json
import os
import stat
import sys
import zlib
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from retold.config import LimitsConfig
from retold.errors import InputError
from retold.io.encodings import Undecodable, decode_text
from retold.model import Document, RecordError

__all__ = ["count_records", "duplicate_error", "iter_corpus", "read_text_file"]

MAX_CHARS = LimitsConfig().max_chars
_BYTES_PER_CHAR = 4  # UTF-8, UTF-16 and UTF-32 all spend at most 4 bytes on a character
_JSON_BYTES_PER_CHAR = 12  # "\ud83d\ude00": one character as two escaped surrogates
_LINE_SLACK = 1 << 16  # room for the other fields of a JSONL record
_BOM = b"\xef\xbb\xbf"
_UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_OPTIONAL_FIELDS = ("date", "title", "url", "source")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_PARQUET_BATCH_ROWS = 1024
_CSV_FIELD_LIMIT = 2**31 - 1  # the default 128 KiB is below the size of some long articles
_FORMATS_HINT = "retold reads .txt, .jsonl/.ndjson (.gz), .csv and .parquet files, and folders of them"

Format = Literal["txt", "jsonl", "jsonl.gz", "csv", "parquet"]


class _LineSource(Protocol):
    """A binary file or gzip stream, read line by line."""

    def readline(self, size: int = -1, /) -> bytes: ...


class _Found(NamedTuple):
    """A usable document plus where it came from, kept for duplicate-id messages."""

    doc: Document
    source: str
    line: int | None


_Item = _Found | RecordError


def read_text_file(path: str | os.PathLike[str], *, max_chars: int = MAX_CHARS) -> Document:
    """Read one text file as a document.

    Args:
        path: The file to read.
        max_chars: The longest text accepted, in characters; a file of more than 4 bytes per allowed character is
            refused without being read.

    Returns:
        A `Document` whose id is the file name and whose origin is `path` as given; `encoding` is set when the
        file was not UTF-8 (a UTF-16/32 byte order mark, or a legacy encoding detected safely).

    Raises:
        InputError: The path is missing, a directory, unreadable, binary, in no encoding that can be read safely,
            too long, or holds only whitespace.
    """
    source = os.fspath(path)
    return _load_text_file(source, Path(source).name, max_chars)


def _load_text_file(source: str, doc_id: str, max_chars: int) -> Document:
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
    limit = _BYTES_PER_CHAR * max_chars
    if st.st_size > limit:  # cannot fit: refused before it takes the memory
        raise fail(_too_long(f"{st.st_size:,} bytes, more than {max_chars:,} characters", max_chars))
    try:
        with open(source, "rb") as fh:
            data = fh.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise fail(f"cannot read file: {_os_reason(exc)}") from None
    if len(data) > limit:
        raise fail(_too_long(f"more than {limit:,} bytes", max_chars))

    try:
        decoded = decode_text(data)
    except Undecodable as exc:
        raise fail(exc.reason, exc.line) from None
    if _is_blank(decoded.text):
        raise fail("empty text")
    if len(decoded.text) > max_chars:
        raise fail(_too_long(f"{len(decoded.text):,} characters", max_chars))
    return Document(id=doc_id, text=decoded.text, origin=source, encoding=decoded.encoding)


def _too_long(what: str, max_chars: int) -> str:
    return f"text too long: {what} (limit {max_chars:,}; raise it with --max-chars)"


def _format(name: str) -> Format | None:
    lower = name.lower()
    if lower.endswith(".txt"):
        return "txt"
    if lower.endswith(_JSONL_SUFFIXES):
        return "jsonl.gz" if lower.endswith(".gz") else "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".parquet"):
        return "parquet"
    return None


def _iter_dir(root: str, text_field: str, id_field: str, max_chars: int) -> Iterator[_Item]:
    """Every file below `root`, sorted by relative POSIX path: that path is a text file's id and the prefix of
    the ids of id-less records in the other formats. Files of other kinds (hidden ones too), symbolic links to
    folders and unreadable folders each get an error, so that nothing in the folder goes unmentioned."""
    entries: list[tuple[str, str | RecordError]] = []

    def rel(path: str) -> str:
        return Path(os.path.relpath(path, root)).as_posix()

    def on_error(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else root
        entries.append((rel(where), RecordError(where, f"cannot read folder: {_os_reason(exc)}")))

    # followlinks=False: a symlink cycle must not make the walk endless; linked folders are reported instead.
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                entries.append((rel(full), RecordError(full, "symbolic link to a folder, not followed")))
        for name in filenames:
            full = os.path.join(dirpath, name)
            entries.append((rel(full), full))
    entries.sort(key=lambda entry: entry[0])
    for prefix, target in entries:
        if isinstance(target, RecordError):
            yield target
        else:
            yield from _iter_file(target, prefix, text_field, id_field, max_chars)


def _iter_file(source: str, prefix: str, text_field: str, id_field: str, max_chars: int) -> Iterator[_Item]:
    """The records of one file; `prefix` is a text file's id, else the id prefix of records without one."""
    fmt = _format(Path(source).name)
    if fmt is None:
        yield RecordError(source, f"unsupported input format '{_suffix(Path(source).name)}': {_FORMATS_HINT}")
        return
    if fmt == "txt":
        yield _text_item(source, prefix, max_chars)
        return
    try:
        st = os.stat(source)
    except OSError as exc:  # a dangling symlink, or a file removed since the folder was listed
        yield RecordError(source, f"cannot read file: {_os_reason(exc)}")
        return
    if not stat.S_ISREG(st.st_mode):
        yield RecordError(source, "not a regular file")  # opening a FIFO would block forever
        return
    if fmt == "csv":
        items = _iter_csv(source, prefix, text_field, id_field, max_chars)
    elif fmt == "parquet":
        items = _iter_parquet(source, prefix, text_field, id_field, max_chars)
    else:
        items = _iter_jsonl(source, prefix, text_field, id_field, max_chars, gz=fmt == "jsonl.gz")
    empty = True
    for item in items:
        empty = False
        yield item
    if empty:  # still worth a manifest line: an input that gave nothing is often a mistake
        yield RecordError(source, "no records in the file")


def _text_item(source: str, doc_id: str, max_chars: int) -> _Item:
    try:
        return _Found(_load_text_file(source, doc_id, max_chars), source, None)
    except InputError as exc:
        return RecordError(exc.source, exc.reason, exc.line, exc.doc_id)


def iter_corpus(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    text_field: str = "text",
    id_field: str = "id",
    unique_ids: bool = True,
    max_chars: int = MAX_CHARS,
) -> Generator[Document | RecordError, None, None]:
    """Stream every record of the given inputs, in path order and then file order.

    Formats, chosen per path by its name:

    * a folder: every file below it, in sorted relative-path order, read by its own format; a file of any other
      kind is one error (``unsupported input format``), so the manifest mentions every file;
    * a ``.txt`` file: one document (see `read_text_file` for encodings);
    * ``.jsonl``/``.ndjson`` (optionally ``.gz``): one UTF-8 JSON object per line, blank lines skipped;
    * ``.csv`` (UTF-8) with a header row; ``.parquet`` read in batches.

    Record fields are `text_field`, `id_field` and the optional ``date``, ``title``, ``url`` and
    ``source`` (scalars become strings; null or empty becomes None). Ids:

    * a text file in a folder: its path relative to the folder (POSIX separators); named directly: its file name;
    * a record without an id (missing or null) gets ``"<file>:<line>"``, where file is the path relative to the
      folder scanned, or the path as given (normalised, POSIX separators) for a file named directly, and line is
      the 1-based line (CSV: the record's first line; Parquet: the row number). Two ``docs.jsonl`` in two
      folders thus never share ids.

    Origins are ``"<path>:<line>"`` (a text file: its path).

    Args:
        paths: Files or folders to read (a single path is accepted too).
        text_field: Name of the field holding the article text.
        id_field: Name of the field holding the record id.
        unique_ids: Turn a repeated id into an error here (the first record wins). This keeps every id in
            memory; a caller that detects repeats itself (the indexer asks its store, see `duplicate_error`)
            passes False and gets every usable record.
        max_chars: The longest text accepted, in characters (`LimitsConfig.max_chars`); a longer one is an error.

    Yields:
        One `Document` per usable record, else one `RecordError` naming file, line and id where known.
        A missing or unreadable path, or a file-level problem, yields a single `RecordError`.
        When an id repeats, the first record wins and later ones become errors. Nothing is raised.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # a lone path would otherwise be read as a sequence of one-letter paths
    seen: dict[str, str] = {}
    for path in paths:
        for item in _iter_path(os.fspath(path), text_field, id_field, max_chars):
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


def count_records(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]) -> int:
    """A quick upper bound on the records `iter_corpus` will read, for a progress total: lines of JSONL and CSV
    files (CSV less its header), rows of Parquet files, 1 per text file or other file, the same for the files
    below a folder (one pass over the bytes, no parsing; gzip files are decompressed). Unreadable inputs count 1
    (their error)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    total = 0
    for path in paths:
        source = os.fspath(path)
        if os.path.isdir(source):
            unreadable: list[OSError] = []
            for dirpath, dirnames, filenames in os.walk(source, onerror=unreadable.append):
                total += sum(os.path.islink(os.path.join(dirpath, d)) for d in dirnames)
                total += sum(_count_file(os.path.join(dirpath, name)) for name in filenames)
            total += len(unreadable)
        else:
            total += _count_file(source)
    return total


def _count_file(source: str) -> int:
    fmt = _format(Path(source).name)
    try:
        if fmt in ("jsonl", "jsonl.gz"):
            return _count_lines(source, gz=fmt == "jsonl.gz")
        if fmt == "csv":
            return max(1, _count_lines(source, gz=False) - 1)
        if fmt == "parquet":
            return max(1, int(pq.ParquetFile(source).metadata.num_rows))
    except (OSError, EOFError, zlib.error, ValueError, pa.ArrowException):
        pass
    return 1


def _count_lines(source: str, *, gz: bool) -> int:
    n, last = 0, b"\n"
    if not stat.S_ISREG(os.stat(source).st_mode):
        return 1
    with gzip.open(source, "rb") if gz else open(source, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _iter_path(source: str, text_field: str, id_field: str, max_chars: int) -> Iterator[_Item]:
    try:
        st = os.stat(source)
    except (FileNotFoundError, NotADirectoryError):
        yield RecordError(source, "no such file or folder")
        return
    except OSError as exc:
        yield RecordError(source, f"cannot read: {_os_reason(exc)}")
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _iter_dir(source, text_field, id_field, max_chars)
        return
    name = Path(source).name
    # A text file keeps its bare name as id (seed ids such as "000_eb1553226c65909d.txt"); records of other
    # files take the path, so that files of one name in two folders cannot give the same ids.
    prefix = name if _format(name) == "txt" else Path(os.path.normpath(source)).as_posix()
    yield from _iter_file(source, prefix, text_field, id_field, max_chars)


def _iter_jsonl(
    source: str, prefix: str, text_field: str, id_field: str, max_chars: int, *, gz: bool
) -> Iterator[_Item]:
    # A line that cannot hold a text of max_chars and a little more is refused without being read whole.
    limit = _JSON_BYTES_PER_CHAR * max_chars + _LINE_SLACK
    opened = False
    line = 0
    try:
        with gzip.open(source, "rb") if gz else open(source, "rb") as fh:
            opened = True
            for line, start, raw in _raw_lines(fh, limit):
                if isinstance(raw, int):
                    reason = f"line too long: {raw:,} bytes, more than a text of {max_chars:,} characters needs"
                    yield RecordError(source, f"{reason} (raise it with --max-chars)", line)
                elif line == 1 and raw.startswith(_UTF16_32_BOMS):
                    yield RecordError(source, "UTF-16 or UTF-32 file (byte order mark); JSONL must be UTF-8", 1)
                    return
                elif raw.strip():  # blank lines are not records
                    yield _jsonl_record(raw, start, source, prefix, line, text_field, id_field, max_chars)
    except (OSError, EOFError, zlib.error) as exc:
        if not opened:
            yield RecordError(source, f"cannot read file: {_os_reason(exc)}")
        else:  # the stream broke while reading the next line; the rest of the file is lost
            what = "corrupt gzip stream" if gz else "read error"
            yield RecordError(source, f"{what}: {_os_reason(exc)}", line + 1)


def _raw_lines(fh: _LineSource, limit: int | None = None) -> Iterator[tuple[int, int, bytes | int]]:
    """``(line, file offset of its first byte, bytes)`` per physical line, without a leading BOM; a line longer
    than `limit` bytes is skipped unread and given as its length instead.

    Lines split on b"\\n" only, so U+2028 and other separators inside a record stay inside it.
    """
    offset = 0
    line = 0
    size = -1 if limit is None else limit + 1
    while raw := fh.readline(size):
        line += 1
        start, offset = offset, offset + len(raw)
        if limit is not None and len(raw) > limit and not raw.endswith(b"\n"):
            while not raw.endswith(b"\n") and (raw := fh.readline(1 << 20)):
                offset += len(raw)
            yield line, start, offset - start
            continue
        if line == 1 and raw.startswith(_BOM):  # a BOM belongs to the file, not to a record
            raw, start = raw[len(_BOM) :], start + len(_BOM)
        yield line, start, raw


def _jsonl_record(
    raw: bytes, start: int, source: str, prefix: str, line: int, text_field: str, id_field: str, max_chars: int
) -> _Item:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RecordError(source, f"invalid UTF-8 at byte {start + exc.start} (line {line})", line)
    try:
        obj = json.loads(decoded)
    except json.JSONDecodeError as exc:
        return RecordError(source, f"malformed JSON: {exc.msg} (column {exc.colno})", line)
    except RecursionError:
        return RecordError(source, "malformed JSON: nested too deeply", line)
    except ValueError:  # int() refuses very long digit strings (CVE-2020-10735)
        return RecordError(source, f"malformed JSON: number with more than {sys.get_int_max_str_digits()} digits", line)
    if not isinstance(obj, dict):
        return RecordError(source, f"expected a JSON object, got {_type_name(obj)}", line)
    return _make_item(obj, source, prefix, line, text_field, id_field, max_chars)


class _Lines:
    """The lines of a CSV file for csv.reader, each ending in a newline; `ended` turns True once they run out.

    With every line ended, csv.reader completes a row only at a newline, unless a quoted field is still open
    when the lines run out: a row returned after `ended` is exactly an unterminated quote.
    `bad` maps each line that is not UTF-8 to the file offset of the bad byte.
    """

    def __init__(self, fh: _LineSource) -> None:
        self._lines = _raw_lines(fh)
        self.ended = False
        self.bad: dict[int, int] = {}
        self.count = 0
        self.head = b""  # the first bytes of the file, for its byte order mark

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            line, start, raw = next(self._lines)
        except StopIteration:
            self.ended = True
            raise
        self.count = line
        if isinstance(raw, int):  # only lines over a limit come as lengths, and none was given
            raise csv.Error(f"line {line} unreadable")
        if line == 1:
            self.head = raw[:4]
        if not raw.endswith(b"\n"):
            raw += b"\n"
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.bad[line] = start + exc.start
            # Keep parsing so one bad byte costs one record, not the rest of the file.
            return raw.decode("utf-8", "surrogateescape")


def _iter_csv(source: str, prefix: str, text_field: str, id_field: str, max_chars: int) -> Iterator[_Item]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        fh = open(source, "rb")
    except OSError as exc:
        yield RecordError(source, f"cannot read file: {_os_reason(exc)}")
        return
    with fh:
        lines = _Lines(fh)
        reader = csv.reader(lines)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield RecordError(source, f"malformed CSV header: {exc}", 1)
            return
        except OSError as exc:
            yield RecordError(source, f"cannot read file: {_os_reason(exc)}", 1)
            return
        if header is None:
            yield RecordError(source, "empty CSV file (no header row)")
            return
        if lines.head.startswith(_UTF16_32_BOMS):
            yield RecordError(source, "UTF-16 or UTF-32 file (byte order mark); CSV must be UTF-8", 1)
            return
        if lines.ended:
            yield RecordError(source, f"unterminated quoted field in the header (lines 1-{lines.count})", 1)
            return
        if lines.bad:
            first = min(lines.bad)
            yield RecordError(source, f"invalid UTF-8 at byte {lines.bad[first]} (line {first}) in the header", first)
            return
        if text_field not in header:
            yield RecordError(source, f"no '{text_field}' column (header: {_preview(header)})", 1)
            return
        columns = {col: i for i, col in reversed(list(enumerate(header)))}  # first of duplicates wins
        pending = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the reader starts afresh on the next line
                yield RecordError(source, f"malformed CSV: {exc}", pending)
                pending = reader.line_num + 1
                continue
            except OSError as exc:
                yield RecordError(source, f"cannot read file: {_os_reason(exc)}", pending)
                return
            line, end = pending, reader.line_num  # a quoted field may span several lines
            pending = end + 1
            if lines.ended:
                # The quote swallowed every line after it into one field: report them rather than lose them.
                span = f"line {line}" if end == line else f"lines {line}-{end}"
                reason = f"unterminated quoted field: the record runs to the end of the file; {span} not read"
                yield RecordError(source, reason, line)
                return
            if not row:  # blank line
                continue
            bad_at = [lines.bad[n] for n in range(line, end + 1) if n in lines.bad]
            if bad_at:
                yield RecordError(source, f"invalid UTF-8 at byte {bad_at[0]} (line {line})", line)
                continue
            if end > line and len(row) != len(header):
                # A quote opened and closed lines apart most likely joined rows that should stay apart.
                reason = (
                    f"malformed CSV: a record over lines {line}-{end} has {len(row)} fields, the header "
                    f"{len(header)} (a stray quote?)"
                )
                yield RecordError(source, reason, line)
                continue
            record = {col: row[i] for col, i in columns.items() if i < len(row) and row[i] != ""}
            if text_field not in record and columns[text_field] < len(row):
                record[text_field] = ""  # present but empty: "empty text", not "no field"
            yield _make_item(record, source, prefix, line, text_field, id_field, max_chars)


class _Unreadable(NamedTuple):
    """A Parquet value that pyarrow could not turn into Python (a timestamp beyond year 9999, ...)."""

    reason: str


def _values(column: pa.Array | pa.ChunkedArray) -> list[object]:
    """A column as Python values; when the whole column cannot be converted, each value alone, so that one bad
    value costs one row."""
    try:
        return list(column.to_pylist())
    except (ValueError, OverflowError, pa.ArrowException):
        out: list[object] = []
        for i in range(len(column)):
            try:
                out.append(column[i].as_py())
            except (ValueError, OverflowError, pa.ArrowException) as exc:
                out.append(_Unreadable(_os_reason(exc)))
        return out


def _iter_parquet(source: str, prefix: str, text_field: str, id_field: str, max_chars: int) -> Iterator[_Item]:
    try:
        fh = open(source, "rb")
    except OSError as exc:
        yield RecordError(source, f"cannot read file: {_os_reason(exc)}")
        return
    with fh:
        try:
            pf = pq.ParquetFile(fh)
            names = pf.schema_arrow.names
            groups = [pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)]
        except (OSError, ValueError, pa.ArrowException) as exc:
            yield RecordError(source, f"cannot read Parquet: {_os_reason(exc)}")
            return
        if text_field not in names:
            yield RecordError(source, f"no '{text_field}' column (columns: {_preview(names)})")
            return
        wanted = list(dict.fromkeys(f for f in (id_field, text_field, *_OPTIONAL_FIELDS) if f in names))
        row = 0  # rows read before the current batch
        for g, rows_in_group in enumerate(groups):
            group_end = row + rows_in_group
            batches: Iterator[pa.RecordBatch] | None = None
            while True:
                try:
                    if batches is None:
                        batches = pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[g], columns=wanted)
                    batch = next(batches, None)
                    if batch is None:
                        break
                    values = {col: _values(batch.column(col)) for col in wanted}
                except (OSError, ValueError, pa.ArrowException) as exc:
                    # A damaged row group costs its unread rows (named in one error), not the rest of the file.
                    where = f"rows {row + 1:,}-{group_end:,}" if group_end > row + 1 else f"row {row + 1:,}"
                    yield RecordError(source, f"cannot read Parquet {where}: {_os_reason(exc)}", row + 1)
                    break
                for i in range(batch.num_rows):
                    record = {col: vals[i] for col, vals in values.items()}
                    yield _make_item(record, source, prefix, row + i + 1, text_field, id_field, max_chars)
                row += batch.num_rows
            row = group_end


def _make_item(
    record: Mapping[str, object],
    source: str,
    prefix: str,
    line: int,
    text_field: str,
    id_field: str,
    max_chars: int,
) -> _Item:
    """Validate one parsed record (JSON object, CSV row or Parquet row) into a document."""
    raw_id = record.get(id_field)
    doc_id: str | None = None
    if isinstance(raw_id, _Unreadable):
        return RecordError(source, f"'{id_field}' cannot be read: {raw_id.reason}", line)
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            reason = f"'{id_field}' must be a string or integer, got {_type_name(raw_id)}"
            return RecordError(source, reason, line)
        doc_id = str(raw_id)
        if not doc_id.strip():
            return RecordError(source, f"empty '{id_field}'", line)
        if not _encodable(doc_id):
            return RecordError(source, f"'{id_field}' contains an unpaired surrogate", line)
        if "\0" in doc_id:
            # The index looks ids up through SQLite's JSON functions, which end a string at NUL: such an id would
            # never be found again. Shown escaped; a NUL must not reach a terminal or a log.
            return RecordError(source, f"'{id_field}' contains a NUL character: {_shown(doc_id)}", line)

    if text_field not in record:
        return RecordError(source, f"no '{text_field}' field", line, doc_id)
    text = record[text_field]
    if isinstance(text, _Unreadable):
        return RecordError(source, f"'{text_field}' cannot be read: {text.reason}", line, doc_id)
    if not isinstance(text, str):
        return RecordError(source, f"'{text_field}' must be a string, got {_type_name(text)}", line, doc_id)
    if _is_blank(text):
        return RecordError(source, "empty text", line, doc_id)
    if not _encodable(text):
        # JSON "\ud800" escapes decode to lone surrogates that no later stage could write out.
        return RecordError(source, f"'{text_field}' contains an unpaired surrogate", line, doc_id)
    if len(text) > max_chars:
        return RecordError(source, _too_long(f"{len(text):,} characters", max_chars), line, doc_id)

    extra: dict[str, str | None] = {}
    for key in _OPTIONAL_FIELDS:
        try:
            extra[key] = _scalar_str(record.get(key))
        except ValueError as exc:
            return RecordError(source, f"'{key}' {exc}", line, doc_id)

    doc = Document(
        id=doc_id if doc_id is not None else f"{prefix}:{line}",
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
    if isinstance(value, _Unreadable):
        raise ValueError(f"cannot be read: {value.reason}")
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


def _shown(value: str, limit: int = 60) -> str:
    """`value` for a message: escaped, and cut when long."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _os_reason(exc: BaseException) -> str:
    """What went wrong, on one line (pyarrow's messages span several)."""
    strerror = getattr(exc, "strerror", None)
    reason = strerror if isinstance(strerror, str) and strerror else str(exc)
    return " ".join(reason.split()) or type(exc).__name__


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
