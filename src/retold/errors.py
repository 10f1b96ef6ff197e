"""Exceptions raised by retold.

RetoldError
├── ConfigError        invalid configuration value
├── InputError         an input file or record cannot be read (names file, line, id)
├── IndexMismatchError two sketches/indexes built with different parameters
└── StoreError         the persistent store failed
    └── DiskFullError  the disk filled while writing (the index keeps every committed batch)

In batch runs bad records are not raised but returned as `retold.model.RecordError` values.
"""

from __future__ import annotations


class RetoldError(Exception):
    """Base class of every error retold raises on purpose."""


class ConfigError(RetoldError, ValueError):
    """A configuration value is out of range or inconsistent."""


class InputError(RetoldError):
    """An input cannot be read; the message names the file, line and record id where known."""

    def __init__(self, reason: str, source: str, line: int | None = None, doc_id: str | None = None) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        self.doc_id = doc_id
        loc = source if line is None else f"{source}:{line}"
        if doc_id is not None:
            loc = f"{loc} (id={doc_id})"
        super().__init__(f"{loc}: {reason}")


class IndexMismatchError(RetoldError, ValueError):
    """Two sketches or indexes were built with different parameters; names the field that differs."""


class StoreError(RetoldError):
    """The persistent store failed or holds data from an incompatible configuration."""


class DiskFullError(StoreError):
    """The disk filled while the store wrote; the transaction in flight was rolled back, committed work is kept."""
