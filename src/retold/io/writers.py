"""Output writers: JSONL streams, run manifests and Parquet tables, every file written atomically.

Each output file is written under a temporary name in its own folder, flushed to disk and moved over the final
name only when complete (`AtomicFile`): a failure (a full disk, a kill) leaves the previous file or none, never
a truncated one, and an output name that is a symbolic link is replaced, its target left alone. Every `OSError`
while writing becomes an `OutputError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from retold.dates import date_warning
from retold.errors import RetoldError
from retold.model import Document, RecordError

__all__ = [
    "AtomicFile",
    "JsonlWriter",
    "OutputError",
    "manifest_record",
    "output_file",
    "output_folder",
    "write_jsonl",
    "write_parquet",
    "write_text",
]


class OutputError(RetoldError):
    """An output file or folder cannot be written; the message names it.

    `usage` is set when the output was found unusable before any work began (a read-only folder, a file where a
    folder is expected); `kept` is the index a failed scan left behind so the work can be finished.
    """

    def __init__(
        self, message: str, path: str | os.PathLike[str], *, usage: bool = False, kept: Path | None = None
    ) -> None:
        self.path = Path(path)
        self.usage = usage
        self.kept = kept
        super().__init__(message)


def os_reason(exc: OSError) -> str:
    """The operating system's words for `exc` ("No space left on device"), without the errno and path."""
    return exc.strerror or str(exc) or type(exc).__name__


def output_folder(path: str | os.PathLike[str]) -> Path:
    """Make sure `path` is a folder this process can write in, creating it if missing; call it before any work.

    Raises:
        OutputError: (with ``usage``) `path` is a file, cannot be created, or is not writable.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a folder (--out names the folder the outputs go in)", out, usage=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a dangling symbolic link, or a race with another process
        raise OutputError(f"{out}: exists and is not a folder", out, usage=True) from None
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder: {os_reason(exc)}", out, usage=True) from None
    # Access bits do not tell (root, read-only mounts, ACLs): try the real thing.
    try:
        fd, probe = tempfile.mkstemp(dir=out, prefix=".retold-probe-")
    except OSError as exc:
        raise OutputError(f"{out}: cannot write in the output folder: {os_reason(exc)}", out, usage=True) from None
    os.close(fd)
    os.unlink(probe)
    return out


def output_file(path: str | os.PathLike[str]) -> Path:
    """Make sure a file can be written at `path` (its folder is writable, it is not a folder); call it before any
    work.

    Raises:
        OutputError: (with ``usage``) it cannot.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder, expected a file name", target, usage=True)
    output_folder(target.parent)
    return target


def _file_mode() -> int:
    """The mode a plain `open` would give a new file (``0o666`` less the umask): `mkstemp` makes files private."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read the umask by setting it (briefly) and putting it back
    os.umask(mask)
    return 0o666 & ~mask


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files of `path` left by a process that died while writing it (kill -9, power loss)."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp$")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if m is None or _alive(int(m.group(1))):
            continue
        try:
            os.unlink(path.parent / name)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: another user's process
        return True
    return True


class AtomicFile:
    """A binary file written under a temporary name beside `path` and moved over it by `commit`.

    Use as a context manager: leaving the block normally commits, an exception discards (the previous file at
    `path`, if any, is untouched). An `OSError` raised in the block or while committing becomes an `OutputError`
    naming `path`.

    Example:
        >>> with AtomicFile("out/table.parquet") as f:  # doctest: +SKIP
        ...     pq.write_table(table, f.fh)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._done = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temporaries(self.path)
            # The pid in the name lets a later writer of the same file remove this one if we die mid-write.
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp")
        except OSError as exc:
            raise self._error(exc) from None
        self._tmp = Path(tmp)
        try:
            os.fchmod(fd, _file_mode())
        except OSError:
            pass  # the file stays private: not a reason to fail
        self.fh: IO[bytes] = os.fdopen(fd, "wb")

    def _error(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot write {self.path}: {os_reason(exc)}", self.path)

    def write(self, data: bytes) -> None:
        """Append `data`. Raises `OutputError` (after discarding the file) if the write fails."""
        try:
            self.fh.write(data)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None

    def commit(self) -> None:
        """Flush the data to disk and move the file over `path` (a symbolic link there is replaced, not followed);
        a second call does nothing.

        Raises:
            OutputError: Flushing or moving failed (the temporary file is removed; `path` is untouched).
        """
        if self._done:
            return
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None
        self._done = True
        _sync_folder(self.path.parent)

    def discard(self) -> None:
        """Remove the temporary file, leaving `path` as it was; safe to call twice, never raises."""
        if self._done:
            return
        self._done = True
        try:
            self.fh.close()
        except OSError:
            pass  # closing flushes the buffer, which fails again on a full disk: the file goes anyway
        try:
            os.unlink(self._tmp)
        except OSError:
            pass

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.commit()
            return
        self.discard()
        if isinstance(exc, OSError):
            raise self._error(exc) from None


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: not every file system lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8, ``\\n`` line ends) to `path` atomically.

    Raises:
        OutputError: It cannot be written.
    """
    with AtomicFile(path) as f:
        f.write(text.encode("utf-8"))


class JsonlWriter:
    """Writes one compact UTF-8 JSON object per line; use as a context manager.

    The file appears at `path` when the writer is closed (`close`, or leaving the ``with`` block normally); an
    exception in the block or `discard` leaves the previous file, if any (see `AtomicFile`).

    Example:
        >>> with JsonlWriter("out/pairs.jsonl") as out:  # doctest: +SKIP
        ...     out.write({"a": "x", "b": "y"})
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.count = 0
        self._file: AtomicFile | None = None

    def __enter__(self) -> JsonlWriter:
        """Open the temporary file. Raises `OutputError` if it cannot be created."""
        self._file = AtomicFile(self.path)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self.discard()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record as a JSON line.

        Args:
            record: A JSON-serialisable mapping.

        Raises:
            RuntimeError: The writer is not open (used outside its ``with`` block).
            ValueError: The record holds NaN or infinity, which JSON cannot express.
            TypeError: The record holds a value JSON cannot serialise.
            OutputError: The write failed (e.g. a full disk); the file is discarded.
        """
        if self._file is None:
            raise RuntimeError(f"JsonlWriter for {self.path} is not open; use it in a 'with' block")
        # Serialise first so a bad record never leaves half a line in the file.
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        # "\n" whatever the platform: the same bytes everywhere.
        try:
            self._file.write((line + "\n").encode("utf-8"))
        except OutputError:
            self._file = None
            raise
        self.count += 1

    def close(self) -> None:
        """Finish the file and move it into place; safe to call twice.

        Raises:
            OutputError: It could not be written to disk (the previous file is left).
        """
        if self._file is not None:
            f, self._file = self._file, None
            f.commit()

    def discard(self) -> None:
        """Drop what was written, leaving the previous file (if any); safe to call twice."""
        if self._file is not None:
            f, self._file = self._file, None
            f.discard()


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> int:
    """Write `records` to `path` as JSON lines, creating parent folders.

    Args:
        path: Output file; replaced (atomically) if it exists.
        records: JSON-serialisable mappings.

    Returns:
        The number of records written.

    Raises:
        OutputError: The file cannot be written.
    """
    with JsonlWriter(path) as out:
        for record in records:
            out.write(record)
    return out.count


def manifest_record(item: Document | RecordError) -> dict[str, Any]:
    """The manifest line for one input record: what was read, or why it was skipped.

    Args:
        item: A document that was read or the error for a record that was not.

    Returns:
        ``{"id", "source", "status": "ok"}`` for a document, plus ``encoding`` when its text was decoded from
        something other than UTF-8 and ``warning`` when it has a date that will be ignored (each key only when
        there is something to say); for an error also ``line`` and ``reason`` with ``"status": "skipped"``
        (``id`` is None when the record had none).
    """
    if isinstance(item, Document):
        record: dict[str, Any] = {"id": item.id, "source": item.origin, "status": "ok"}
        if item.encoding is not None:
            record["encoding"] = item.encoding
        if (warning := date_warning(item.date)) is not None:
            record["warning"] = warning
        return record
    return {
        "id": item.id,
        "source": item.source,
        "line": item.line,
        "status": "skipped",
        "reason": item.reason,
    }


def write_parquet(
    path: str | os.PathLike[str],
    records: Sequence[Mapping[str, Any]],
    schema: pa.Schema | None = None,
) -> None:
    """Write `records` as one Parquet table, creating parent folders.

    Args:
        path: Output file; replaced (atomically) if it exists.
        records: Rows as mappings of column name to value.
        schema: Column types; inferred from the rows when None.

    Raises:
        ValueError: No rows and no schema, so the columns are unknown.
        OutputError: The file cannot be written.
    """
    if not records and schema is None:
        raise ValueError(f"cannot write {os.fspath(path)}: no records and no schema to give the columns")
    table = pa.Table.from_pylist(list(records), schema=schema)
    with AtomicFile(path) as f:
        pq.write_table(table, f.fh)
