"""The facade: compare two files, scan a corpus into an output folder, find the shared data. The CLI (and
later the service) call only these functions.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retold.config import RetoldConfig
from retold.errors import InputError
from retold.io.readers import iter_corpus, read_text_file
from retold.io.writers import JsonlWriter, manifest_record
from retold.model import Document, PairResult, RecordError
from retold.pipeline import Progress, ScanStats, compare, scan
from retold.text.analyze import analyze

SEED_A = "seeds/000_eb1553226c65909d.txt"
SEED_B = "seeds/004_8625c1f9bcc81fb5.txt"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The shared data folder: `explicit`, else ``$RETOLD_DATA``, else ``../shared/data`` from the working
    directory or from the source checkout. Raises `InputError` if none exists.
    """
    tried: list[Path] = []
    if explicit is not None:
        tried.append(Path(explicit))
    elif os.environ.get("RETOLD_DATA"):
        tried.append(Path(os.environ["RETOLD_DATA"]))
    else:
        tried.append(Path.cwd().parent / "shared" / "data")
        tried.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for p in tried:
        if p.is_dir():
            return p
    raise InputError("shared data folder not found (set RETOLD_DATA or pass --data)", source=str(tried[0]))


def compare_files(
    path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], cfg: RetoldConfig | None = None
) -> PairResult:
    """Verdict and alignment of two text files. Raises `InputError` naming the file if one cannot be read."""
    return compare_documents(read_text_file(path_a), read_text_file(path_b), cfg)


def compare_documents(a: Document, b: Document, cfg: RetoldConfig | None = None) -> PairResult:
    """Verdict and alignment of two documents."""
    return compare(analyze(a), analyze(b), cfg)


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What a scan read, found and wrote."""

    read: int
    skipped: int
    stats: ScanStats
    pairs: int
    out_dir: Path
    wall_seconds: float
    errors: tuple[RecordError, ...]

    @property
    def docs_per_second(self) -> float:
        return self.stats.documents / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "documents": self.stats.documents,
            "records_read": self.read,
            "skipped": self.skipped,
            "candidates": self.stats.candidates,
            "aligned_pairs": self.stats.aligned,
            "all_pairs": self.stats.all_pairs,
            "pairs_written": self.pairs,
            "verdicts": self.stats.verdicts,
            "seconds": {k: round(v, 3) for k, v in self.stats.seconds.items()},
            "wall_seconds": round(self.wall_seconds, 3),
            "docs_per_second": round(self.docs_per_second, 1),
        }


def scan_corpus(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    cfg: RetoldConfig | None = None,
    *,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
    keep_unrelated: bool = False,
    progress: Progress | None = None,
) -> ScanReport:
    """Read a corpus, find reused pairs, and write ``pairs.jsonl``, ``manifest.jsonl`` and ``summary.json``.

    Every input record gets one manifest line (``ok``, or ``skipped`` with the reason); bad records never stop
    the run.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    docs: list[Document] = []
    errors: list[RecordError] = []
    with JsonlWriter(out / "manifest.jsonl") as manifest:
        for item in iter_corpus(paths, text_field=text_field, id_field=id_field):
            manifest.write(manifest_record(item))
            if isinstance(item, RecordError):
                errors.append(item)
            else:
                docs.append(item)
    results, stats = scan(docs, cfg, workers=workers, progress=progress, keep_unrelated=keep_unrelated)
    with JsonlWriter(out / "pairs.jsonl") as pairs_out:
        for r in results:
            pairs_out.write(r.to_json())
    report = ScanReport(
        read=len(docs) + len(errors),
        skipped=len(errors),
        stats=stats,
        pairs=len(results),
        out_dir=out,
        wall_seconds=time.perf_counter() - t0,
        errors=tuple(errors),
    )
    (out / "summary.json").write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    return report
