"""Family outputs: families.jsonl, keep.jsonl and the same two tables as Parquet, for pipelines that drop copies.

The field names are fixed (other tooling reads them): see `Family.to_json` and `KeepRecord.to_json`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from retold.io.writers import JsonlWriter, write_parquet
from retold.model import Family, KeepRecord

__all__ = ["FAMILIES_SCHEMA", "KEEP_SCHEMA", "write_families"]

FAMILIES_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("members", pa.list_(pa.string()), nullable=False),
        pa.field("original", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field(
            "edges",
            pa.list_(pa.struct([("from", pa.string()), ("to", pa.string()), ("verdict", pa.string())])),
            nullable=False,
        ),
    ]
)

KEEP_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("keep", pa.bool_(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]
)


def write_families(out_dir: Path, families: Iterable[Family], keep: Iterable[KeepRecord]) -> dict[str, Path]:
    """Write the families and the keep-list as JSON lines and as Parquet.

    Args:
        out_dir: Output folder, created if needed; existing files of the same names are replaced, each atomically
            (a failure leaves the previous file, never a truncated one; see `retold.io.writers.AtomicFile`).
        families: Families, one line or row each (``id``, ``members``, ``original``, ``confidence``,
            ``edges`` as ``[{"from", "to", "verdict"}]``, ``from`` being the version ``to`` derives from).
        keep: Keep records, one per document (``id``, ``keep``, ``family``, ``reason``).

    Returns:
        The written paths by file name: ``families.jsonl``, ``keep.jsonl``, ``families.parquet``,
        ``keep.parquet``.

    Raises:
        OutputError: A file cannot be written (names it).

    Example:
        >>> fam = Family("a", ("a",), "a", 1.0)
        >>> write_families(Path("out"), [fam], [KeepRecord("a", True, "a", "singleton")])  # doctest: +SKIP
    """
    # One serialisation feeds both formats, so JSONL and Parquet cannot disagree on a field.
    family_rows = [f.to_json() for f in families]
    keep_rows = [k.to_json() for k in keep]
    paths = {
        "families.jsonl": out_dir / "families.jsonl",
        "keep.jsonl": out_dir / "keep.jsonl",
        "families.parquet": out_dir / "families.parquet",
        "keep.parquet": out_dir / "keep.parquet",
    }
    for name, rows in (("families", family_rows), ("keep", keep_rows)):
        with JsonlWriter(paths[f"{name}.jsonl"]) as out:
            for row in rows:
                out.write(row)
    write_parquet(paths["families.parquet"], family_rows, FAMILIES_SCHEMA)
    write_parquet(paths["keep.parquet"], keep_rows, KEEP_SCHEMA)
    return paths
