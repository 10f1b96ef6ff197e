"""Output writers: JSONL streams, run manifests and Parquet tables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from retold.model import Document, RecordError

__all__ = ["JsonlWriter", "manifest_record", "write_jsonl", "write_parquet"]


class JsonlWriter:
    """Writes one compact UTF-8 JSON object per line; use as a context manager.

    Example:
        >>> with JsonlWriter("out/pairs.jsonl") as out:  # doctest: +SKIP
        ...     out.write({"a": "x", "b": "y"})
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.count = 0
        self._fh: IO[str] | None = None

    def __enter__(self) -> JsonlWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # newline="\n": the same bytes on every platform.
        self._fh = open(self.path, "w", encoding="utf-8", newline="\n")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record as a JSON line.

        Args:
            record: A JSON-serialisable mapping.

        Raises:
            RuntimeError: The writer is not open (used outside its ``with`` block).
            ValueError: The record holds NaN or infinity, which JSON cannot express.
            TypeError: The record holds a value JSON cannot serialise.
        """
        if self._fh is None:
            raise RuntimeError(f"JsonlWriter for {self.path} is not open; use it in a 'with' block")
        # Serialise first so a bad record never leaves half a line in the file.
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        self._fh.write(line + "\n")
        self.count += 1

    def close(self) -> None:
        """Close the file; safe to call twice."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> int:
    """Write `records` to `path` as JSON lines, creating parent folders.

    Args:
        path: Output file; replaced if it exists.
        records: JSON-serialisable mappings.

    Returns:
        The number of records written.
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
        ``{"id", "source", "status": "ok"}`` for a document; for an error also ``line`` and
        ``reason`` with ``"status": "skipped"`` (``id`` is None when the record had none).
    """
    if isinstance(item, Document):
        return {"id": item.id, "source": item.origin, "status": "ok"}
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
        path: Output file; replaced if it exists.
        records: Rows as mappings of column name to value.
        schema: Column types; inferred from the rows when None.

    Raises:
        ValueError: No rows and no schema, so the columns are unknown.
    """
    if not records and schema is None:
        raise ValueError(f"cannot write {os.fspath(path)}: no records and no schema to give the columns")
    table = pa.Table.from_pylist(list(records), schema=schema)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
