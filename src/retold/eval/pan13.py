"""The PAN-13 text alignment benchmark: retold's passages scored as plagiarism detections with the PAN measures.

Reads a folder in the format of ../shared/data/pan13 (``gold.jsonl`` plus the ``susp/`` and ``src/`` texts), aligns
every (suspicious, source) pair, turns the passages into PAN detections and scores them with retold's own numpy
implementation of the official PAN measures (macro-averaged character precision and recall, granularity, plagdet;
Potthast et al., COLING 2010). Detections can be written as PAN detection XML for the official script.
"""

from __future__ import annotations

import json
import math
import time
import xml.etree.ElementTree as ET
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from retold.api import compare_documents, data_dir
from retold.config import RetoldConfig
from retold.errors import ConfigError, InputError
from retold.eval.base import EvalResult
from retold.io.readers import read_text_file
from retold.model import Document, PairResult, PassageLabel
from retold.pipeline import Progress

K = TypeVar("K", bound=Hashable)
DETECTION = "detected-plagiarism"
_FIELDS = ("this_offset", "this_length", "source_offset", "source_length")
_WORST = 10


@dataclass(frozen=True, slots=True)
class Annotation:
    """A plagiarism case or detection (PAN convention): the suspicious text ``[this_offset, +this_length)`` reuses
    the source text ``[source_offset, +source_length)``.
    """

    this_offset: int
    this_length: int
    source_offset: int
    source_length: int


ByPair = Mapping[K, Sequence[Annotation]]
"""Annotations keyed by pair (any hashable key, e.g. `PanPair.key`)."""


@dataclass(frozen=True, slots=True)
class PanPair:
    """One (suspicious, source) document pair with its gold cases."""

    suspicious: Path
    source: Path
    cases: tuple[Annotation, ...]

    @property
    def key(self) -> tuple[str, str]:
        """``(suspicious file name, source file name)``: the pair's identity in scores and XML."""
        return self.suspicious.name, self.source.name


def load_gold(folder: Path) -> list[PanPair]:
    """Read ``folder/gold.jsonl``: one pair per line, text paths relative to `folder`.

    Args:
        folder: A folder in the format of ../shared/data/pan13.

    Returns:
        The pairs in file order; blank lines are skipped and extra case fields ignored.

    Raises:
        InputError: ``gold.jsonl`` is missing or unreadable, a line is malformed, or a text file it names is
            missing (the message names the file and line).
    """
    path = folder / "gold.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read gold file: {exc}", source=str(path)) from None
    pairs: list[PanPair] = []
    for n, raw in enumerate(lines, 1):
        if raw.strip():
            pairs.append(_gold_pair(raw, folder, str(path), n))
    return pairs


def _gold_pair(raw: str, folder: Path, source: str, line: int) -> PanPair:
    def fail(reason: str) -> InputError:
        return InputError(reason, source=source, line=line)

    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise fail("expected a JSON object")
    paths: list[Path] = []
    for side in ("suspicious", "source"):
        rel = obj.get(side)
        if not isinstance(rel, str) or not rel:
            raise fail(f"'{side}' must be a non-empty string (a path relative to {folder})")
        if not (folder / rel).is_file():
            raise fail(f"{side} text file not found: {folder / rel}")
        paths.append(folder / rel)
    cases = obj.get("cases")
    if not isinstance(cases, list):
        raise fail("'cases' must be a list")
    anns: list[Annotation] = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict):
            raise fail(f"case {i} must be a JSON object")
        values = [case.get(f) for f in _FIELDS]
        nums = [v for v in values if type(v) is int and v >= 0]
        if len(nums) != len(_FIELDS):
            bad = [f for f, v in zip(_FIELDS, values, strict=True) if type(v) is not int or v < 0]
            raise fail(f"case {i}: {', '.join(bad)} must be non-negative integers")
        anns.append(Annotation(*nums))
    return PanPair(paths[0], paths[1], tuple(anns))


def detections(result: PairResult, labels: Sequence[PassageLabel] = ("verbatim",), *, gap: int = 0) -> list[Annotation]:
    """Retold's passages as PAN detections: side a is the suspicious document, side b the source.

    Args:
        result: ``compare_documents(suspicious, source)``.
        labels: Passage labels that count as detections.
        gap: Passages whose spans overlap, or lie at most `gap` characters apart, on *both* sides merge into
            one detection (their bounding spans), repeatedly until none do. 0 merges overlapping and touching
            passages only.

    Returns:
        Non-empty detections sorted by suspicious offset.
    """
    boxes = [
        [p.a_start, p.a_end, p.b_start, p.b_end]
        for p in result.alignment.passages
        if p.label in labels and p.a_end > p.a_start and p.b_end > p.b_start
    ]
    merged = True
    while merged:
        merged = False
        boxes.sort()
        out: list[list[int]] = []
        for box in boxes:
            for kept in out:
                if _near(kept, box, gap):
                    kept[:] = [min(kept[0], box[0]), max(kept[1], box[1]), min(kept[2], box[2]), max(kept[3], box[3])]
                    merged = True
                    break
            else:
                out.append(box)
        boxes = out
    return [Annotation(a0, a1 - a0, b0, b1 - b0) for a0, a1, b0, b1 in sorted(boxes)]


def _near(x: Sequence[int], y: Sequence[int], gap: int) -> bool:
    return x[0] <= y[1] + gap and y[0] <= x[1] + gap and x[2] <= y[3] + gap and y[2] <= x[3] + gap


def write_xml(folder: Path, pair: PanPair, dets: Sequence[Annotation], *, name: str = DETECTION) -> Path:
    """Write PAN detection XML ``<susp stem>-<src stem>.xml`` into `folder` (created if needed).

    Args:
        folder: Output folder.
        pair: The pair; its file names become the ``reference`` and ``source_reference`` attributes.
        dets: The detections (or, with ``name="plagiarism"``, the gold cases as PAN truth XML).
        name: The features' ``name`` attribute.

    Returns:
        The path written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    root = ET.Element("document", reference=pair.suspicious.name)
    for d in dets:
        n = [str(v) for v in _nums(d)]
        attrs = {"name": name, "this_offset": n[0], "this_length": n[1], "source_reference": pair.source.name}
        ET.SubElement(root, "feature", attrs | {"source_offset": n[2], "source_length": n[3]})
    ET.indent(root)
    path = folder / f"{pair.suspicious.stem}-{pair.source.stem}.xml"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def read_xml(path: Path, *, name: str = DETECTION) -> dict[tuple[str, str], list[Annotation]]:
    """Read a PAN XML file back.

    Args:
        path: A file written by `write_xml` or in the PAN format.
        name: Only features with this ``name`` attribute are read.

    Returns:
        The annotations keyed by ``(reference, source_reference)``, i.e. the key of `PanPair`.

    Raises:
        InputError: The file is not XML, has no ``reference``, or a feature lacks a field or holds a bad number.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputError(f"cannot read PAN XML: {exc}", source=str(path)) from None
    ref = root.get("reference")
    if ref is None:
        raise InputError("root element has no 'reference' attribute", source=str(path))
    out: dict[tuple[str, str], list[Annotation]] = {}
    for i, feat in enumerate(root.iter("feature")):
        if feat.get("name") != name:
            continue
        try:
            values = [int(feat.attrib[f]) for f in _FIELDS]
            key = (ref, feat.attrib["source_reference"])
        except (KeyError, ValueError) as exc:
            raise InputError(f"feature {i}: missing or bad attribute {exc}", source=str(path)) from None
        out.setdefault(key, []).append(Annotation(*values))
    return out


# --- PAN measures -------------------------------------------------------------------------------------------------


def _arr(anns: Iterable[Annotation]) -> NDArray[np.int64]:
    """Unique annotations as rows ``(this_start, this_end, source_start, source_end)``."""
    rows = [(a.this_offset, a.this_offset + a.this_length, a.source_offset, a.source_offset + a.source_length)
            for a in dict.fromkeys(anns)]  # fmt: skip
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _overlap(x: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.bool_]:
    """``[i, j]``: y[j] overlaps x[i] on both sides (PAN's ``is_overlapping``; symmetric)."""
    this = (y[None, :, 1] > x[:, None, 0]) & (y[None, :, 0] < x[:, None, 1])
    return this & (y[None, :, 3] > x[:, None, 2]) & (y[None, :, 2] < x[:, None, 3])


def _union_len(start: int, end: int, starts: NDArray[np.int64], ends: NDArray[np.int64]) -> int:
    """Characters of ``[start, end)`` covered by the union of the intervals ``[starts, ends)``."""
    s, e = np.clip(starts, start, end), np.clip(ends, start, end)
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.concatenate(([start], np.maximum.accumulate(e)[:-1]))
    return int(np.maximum(0, e - np.maximum(s, reach)).sum())


def _recall_sum(x: NDArray[np.int64], y: NDArray[np.int64]) -> float:
    """Sum over the rows of `x` of the share of their characters covered by the rows of `y` overlapping them."""
    total = 0.0
    if not len(x) or not len(y):
        return total
    hits = _overlap(x, y)
    for i in np.flatnonzero(hits.any(axis=1)):
        ys = y[hits[i]]
        t0, t1, s0, s1 = (int(v) for v in x[i])
        covered = _union_len(t0, t1, ys[:, 0], ys[:, 1]) + _union_len(s0, s1, ys[:, 2], ys[:, 3])
        length = (t1 - t0) + (s1 - s0)
        total += covered / length if length else 0.0
    return total


def _pooled(cases_by_pair: ByPair[K], dets_by_pair: ByPair[K]) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    keys = dict.fromkeys([*cases_by_pair, *dets_by_pair])
    return [(_arr(cases_by_pair.get(k, ())), _arr(dets_by_pair.get(k, ()))) for k in keys]


def _macro(pairs: list[tuple[NDArray[np.int64], NDArray[np.int64]]]) -> float:
    """PAN ``macro_avg_recall`` of the first element of each pair by the second, pooled over pairs."""
    n_x = sum(len(x) for x, _ in pairs)
    n_y = sum(len(y) for _, y in pairs)
    if n_x == 0 and n_y == 0:
        return 1.0
    if n_x == 0 or n_y == 0:
        return 0.0
    return sum(_recall_sum(x, y) for x, y in pairs) / n_x


def macro_recall(cases_by_pair: ByPair[K], dets_by_pair: ByPair[K]) -> float:
    """Macro-averaged character recall over all cases of all pairs (PAN ``macro_avg_recall``).

    A case's recall is the share of its characters (suspicious plus source side) covered by the detections of
    the same pair that overlap it on both sides. Duplicate annotations of a pair count once (the official script
    reads them into sets). 1 when there are neither cases nor detections, 0 when only one of them is empty.

    Args:
        cases_by_pair: Gold cases keyed by pair.
        dets_by_pair: Detections keyed by pair (keys without cases are false detections).

    Returns:
        The recall in [0, 1].
    """
    return _macro(_pooled(cases_by_pair, dets_by_pair))


def macro_precision(cases_by_pair: ByPair[K], dets_by_pair: ByPair[K]) -> float:
    """Macro-averaged character precision over all detections (PAN ``macro_avg_precision``): recall with cases
    and detections swapped. 0 when there are no detections but some cases (and vice versa), 1 when neither.

    Args:
        cases_by_pair: Gold cases keyed by pair.
        dets_by_pair: Detections keyed by pair.

    Returns:
        The precision in [0, 1].
    """
    return _macro([(y, x) for x, y in _pooled(cases_by_pair, dets_by_pair)])


def granularity(cases_by_pair: ByPair[K], dets_by_pair: ByPair[K]) -> float:
    """Mean number of detections overlapping (on both sides) each detected case; 1 when nothing is detected.

    Args:
        cases_by_pair: Gold cases keyed by pair.
        dets_by_pair: Detections keyed by pair.

    Returns:
        The granularity, at least 1.
    """
    counts = [_overlap(x, y).sum(axis=1) for x, y in _pooled(cases_by_pair, dets_by_pair) if len(x) and len(y)]
    per_case = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    detected = int((per_case > 0).sum())
    return float(per_case.sum()) / detected if detected else 1.0


def plagdet(precision: float, recall: float, granularity: float) -> float:
    """PAN's plagdet: F1 of precision and recall divided by ``log2(1 + granularity)``.

    Args:
        precision: Macro precision.
        recall: Macro recall.
        granularity: Granularity.

    Returns:
        The score; 0 when precision and recall are both 0, either is negative, or granularity is below 1.
    """
    if (precision == 0 and recall == 0) or precision < 0 or recall < 0 or granularity < 1:
        return 0.0
    return (2 * precision * recall / (precision + recall)) / math.log2(1 + granularity)


def score(cases_by_pair: ByPair[K], dets_by_pair: ByPair[K]) -> dict[str, float]:
    """All PAN measures over all pairs jointly (cases and detections pooled, as the official script does).

    Args:
        cases_by_pair: Gold cases keyed by pair, e.g. by `PanPair.key`.
        dets_by_pair: Detections keyed the same way.

    Returns:
        ``plagdet``, ``precision``, ``recall`` and ``granularity``.
    """
    pairs = _pooled(cases_by_pair, dets_by_pair)
    rec = _macro(pairs)
    prec = _macro([(y, x) for x, y in pairs])
    gran = granularity(cases_by_pair, dets_by_pair)
    return {"plagdet": plagdet(prec, rec, gran), "precision": prec, "recall": rec, "granularity": gran}


# --- the benchmark ------------------------------------------------------------------------------------------------


def _align_job(job: tuple[Document, Document, tuple[PassageLabel, ...], int, RetoldConfig | None]) -> list[Annotation]:
    susp, src, labels, gap, cfg = job
    return detections(compare_documents(susp, src, cfg), labels, gap=gap)


def run(
    folder: Path | None = None,
    *,
    detections_dir: Path | None = None,
    labels: Sequence[PassageLabel] = ("verbatim",),
    gap: int = 0,
    cfg: RetoldConfig | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> EvalResult:
    """Align every pair of a PAN-13 folder and score retold's passages with the PAN measures.

    Args:
        folder: A folder in the format of ../shared/data/pan13 (default: the shared one).
        detections_dir: If given, one PAN detection XML file per pair is written there.
        labels: Passage labels that count as detections.
        gap: Merge distance for passages, see `detections`.
        cfg: retold configuration (default: the defaults).
        workers: Processes aligning pairs (1 = in this process).
        progress: ``progress("align", done, total)`` after each pair.

    Returns:
        ``plagdet``, ``precision``, ``recall`` and ``granularity`` over all pairs; details hold the numbers of
        cases and detections and the 10 pairs with the lowest plagdet.

    Raises:
        InputError: The gold file or a text is missing or malformed.
        ConfigError: An unknown label or a negative gap.
    """
    folder = folder if folder is not None else data_dir() / "pan13"
    labs = tuple(labels)
    unknown = [lab for lab in labs if lab not in ("verbatim", "paraphrase")]
    if unknown:
        raise ConfigError(f"unknown passage labels {unknown}; choose from verbatim, paraphrase")
    if gap < 0:
        raise ConfigError(f"gap must be >= 0, got {gap}")
    t0 = time.perf_counter()
    pairs = load_gold(folder)
    docs = {path: read_text_file(path) for path in dict.fromkeys(p for q in pairs for p in (q.suspicious, q.source))}
    jobs = [(docs[p.suspicious], docs[p.source], labs, gap, cfg) for p in pairs]
    if workers <= 1:
        found = _collect(map(_align_job, jobs), len(jobs), progress)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            found = _collect(pool.map(_align_job, jobs, chunksize=4), len(jobs), progress)
    if detections_dir is not None:
        for pair, dets in zip(pairs, found, strict=True):
            write_xml(detections_dir, pair, dets)
    metrics = score({p.key: p.cases for p in pairs}, {p.key: d for p, d in zip(pairs, found, strict=True)})
    return EvalResult(
        name="pan13",
        data=str(folder),
        n=len(pairs),
        metrics=metrics,
        details={
            "cases": sum(len(set(p.cases)) for p in pairs),
            "detections": sum(len(d) for d in found),
            "labels": list(labs),
            "gap": gap,
            "seconds": round(time.perf_counter() - t0, 2),
            "per_pair_worst": _worst(pairs, found),
        },
    )


def _collect(results: Iterable[list[Annotation]], total: int, progress: Progress | None) -> list[list[Annotation]]:
    out: list[list[Annotation]] = []
    if progress:
        progress("align", 0, total)
    for dets in results:
        out.append(dets)
        if progress:
            progress("align", len(out), total)
    return out


def _worst(pairs: Sequence[PanPair], found: Sequence[list[Annotation]]) -> list[dict[str, Any]]:
    """The pairs with the lowest plagdet, with their measures, cases and detections (offset, length lists)."""
    rows: list[dict[str, Any]] = []
    for pair, dets in zip(pairs, found, strict=True):
        measures = {k: round(v, 4) for k, v in score({pair.key: pair.cases}, {pair.key: dets}).items()}
        numbers = {"cases": [_nums(c) for c in pair.cases], "detections": [_nums(d) for d in dets]}
        rows.append({"suspicious": pair.key[0], "source": pair.key[1], **measures, **numbers})
    rows.sort(key=lambda r: (r["plagdet"], r["suspicious"], r["source"]))
    return rows[:_WORST]


def _nums(a: Annotation) -> list[int]:
    return [a.this_offset, a.this_length, a.source_offset, a.source_length]
