"""Sentence-pair benchmarks: MRPC (paraphrase yes/no) and STS-B (graded similarity).

Both score a pair with exactly the similarity `align` uses between two sentences judged on their own
(`retold.align.similarity.pair_similarity_texts`: lexical, raised by the semantic channel when it is active), so
they measure the link decision of the aligner in isolation.
Reads files in the format of ../shared/data/mrpc and ../shared/data/stsb (JSON Lines).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from retold import semantic
from retold.align.similarity import (
    content_text,
    pair_similarity_analyzed,
    pair_similarity_texts,
    paraphrase_threshold,
    semantic_active,
)
from retold.api import data_dir
from retold.config import AlignConfig, RetoldConfig
from retold.errors import InputError
from retold.eval.base import EvalResult
from retold.model import Document
from retold.text.analyze import analyze

MRPC_THRESHOLD = AlignConfig().paraphrase
"""The shipped lexical sentence-paraphrase cut (`AlignConfig.paraphrase`, fitted on MRPC train; see config.py).
With the semantic channel active the cut is `AlignConfig.semantic_paraphrase` (`paraphrase_threshold`)."""


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every non-blank line of a JSON Lines file as ``(line number, object)``.

    Args:
        path: the file to read (UTF-8).

    Yields:
        The 1-based line number and the decoded JSON object of each non-blank line.

    Raises:
        InputError: the file cannot be read, or a line is not valid JSON or not a JSON object.
    """
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
    with fh:
        try:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"invalid JSON: {exc.msg}", source=str(path), line=n) from None
                if not isinstance(obj, dict):
                    raise InputError("expected a JSON object", source=str(path), line=n)
                yield n, obj
        except UnicodeDecodeError as exc:
            raise InputError(f"invalid UTF-8 at byte {exc.start}", source=str(path)) from None


def require_field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], path: Path, line: int) -> Any:
    """``obj[name]``, checked to be present and of type `kind`; raises `InputError` naming file and line."""
    if name not in obj:
        raise InputError(f"missing field {name!r}", source=str(path), line=line)
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"field {name!r} has the wrong type ({type(value).__name__})", source=str(path), line=line)
    return value


def similarity(s1: str, s2: str, cfg: AlignConfig | None = None) -> float:
    """The aligner's similarity of two sentences (or short texts), in [0, 1] (`pair_similarity_texts`).

    Args:
        s1: first sentence; analysed as a one-sentence document.
        s2: second sentence.
        cfg: alignment configuration; defaults to `AlignConfig()` (semantic channel "auto").
    """
    return pair_similarity_texts(s1, s2, cfg)


def similarities(pairs: Sequence[tuple[str, str]], cfg: AlignConfig | None = None) -> list[float]:
    """`similarity` of every pair; with the semantic channel active, all texts are embedded in one batched pass
    first (the encoder caches them), which is several times faster than one pair at a time."""
    cfg = cfg or AlignConfig()
    analysed = {t: analyze(Document("s", t)) for pair in pairs for t in pair}
    if semantic_active(cfg):
        semantic.shared_encoder().encode(sorted({content_text(an) for an in analysed.values()}))
    return [pair_similarity_analyzed(analysed[s1], analysed[s2], cfg) for s1, s2 in pairs]


def fit_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The cut that maximises accuracy of ``score >= cut`` as a predictor of ``label == 1``.

    Cuts are tried below all scores, between every two neighbouring distinct scores (at the midpoint) and
    above all scores; among equally accurate cuts the lowest wins.

    Args:
        scores: one similarity per pair.
        labels: 0 or 1 per pair, aligned with `scores`.

    Returns:
        The threshold.

    Raises:
        ValueError: empty input, different lengths, labels other than 0/1, or non-finite scores.

    Example:
        >>> fit_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])
        0.5
    """
    if len(scores) != len(labels):
        raise ValueError(f"scores and labels differ in length: {len(scores)} != {len(labels)}")
    if not scores:
        raise ValueError("no scores to fit a threshold on")
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order].astype(np.int64)
    n = len(s)
    # Cut before index i (0..n): predicted positive = s[i:]. Correct = positives from i on + negatives before i.
    pos_after = np.concatenate([np.cumsum(y[::-1])[::-1], [0]])
    neg_before = np.concatenate([[0], np.cumsum(1 - y)])
    correct = pos_after + neg_before
    valid = np.ones(n + 1, dtype=bool)
    valid[1:n] = s[1:] > s[:-1]  # only cut between distinct scores
    correct[~valid] = -1
    i = int(np.argmax(correct))
    if i == 0:
        return float(s[0])
    if i == n:
        return float(np.nextafter(s[-1], np.inf))
    mid = float((s[i - 1] + s[i]) / 2.0)
    return mid if mid > s[i - 1] else float(s[i])


def run_mrpc(path: Path | None = None, threshold: float | None = None, cfg: RetoldConfig | None = None) -> EvalResult:
    """Paraphrase decision on MRPC pairs: paraphrase when ``similarity >= threshold``.

    Args:
        path: JSONL with ``{"label": 0|1, "s1", "s2"}`` lines; default ``data_dir()/"mrpc/train.jsonl"``.
        threshold: the cut; default the shipped one for `cfg` (`paraphrase_threshold`: lexical or semantic).
        cfg: configuration (its `align` part is used); default the defaults.

    Returns:
        Metrics ``accuracy`` and ``f1`` (positive class 1); details: threshold, all-positive baseline accuracy,
        number of positives, and a few false positives/negatives.

    Raises:
        InputError: the file is unreadable or a line is malformed (names file and line).
    """
    path = path or data_dir() / "mrpc" / "train.jsonl"
    acfg = (cfg or RetoldConfig()).align
    cut = paraphrase_threshold(acfg) if threshold is None else threshold
    labels: list[int] = []
    pairs: list[tuple[str, str]] = []
    for n, obj in read_jsonl(path):
        label = require_field(obj, "label", int, path, n)
        if label not in (0, 1):
            raise InputError(f"field 'label' must be 0 or 1, got {label}", source=str(path), line=n)
        s1, s2 = require_field(obj, "s1", str, path, n), require_field(obj, "s2", str, path, n)
        labels.append(label)
        pairs.append((s1, s2))
    if not labels:
        raise InputError("no pairs", source=str(path))
    scores = similarities(pairs, acfg)
    y = np.asarray(labels)
    pred = np.asarray(scores) >= cut
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    accuracy = float(np.mean(pred == (y == 1)))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    def examples(want_label: int, predicted: bool) -> list[dict[str, Any]]:
        idx = [i for i in range(len(labels)) if labels[i] == want_label and bool(pred[i]) == predicted]
        idx.sort(key=lambda i: abs(scores[i] - cut), reverse=True)  # the most confident mistakes first
        return [{"score": round(scores[i], 4), "s1": pairs[i][0], "s2": pairs[i][1]} for i in idx[:5]]

    return EvalResult(
        name="mrpc",
        data=str(path),
        n=len(labels),
        metrics={"accuracy": accuracy, "f1": f1},
        details={
            "threshold": cut,
            "semantic": semantic_active(acfg),
            "baseline_all_positive_accuracy": round(float(np.mean(y == 1)), 4),
            "positives": int(np.sum(y == 1)),
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": len(labels) - tp - fp - fn},
            "false_positives": examples(0, True),
            "false_negatives": examples(1, False),
        },
    )


def run_stsb(path: Path | None = None, cfg: RetoldConfig | None = None) -> EvalResult:
    """Rank correlation of the aligner's similarity with STS-B human scores (0-5).

    Args:
        path: JSONL with ``{"score", "s1", "s2", "genre"}`` lines; default ``data_dir()/"stsb/dev.jsonl"``.
        cfg: configuration (its `align` part is used); default the defaults.

    Returns:
        Metric ``spearman`` over all pairs; details: spearman and count per genre, pearson over all pairs.
        A correlation that is undefined (fewer than two pairs, or constant scores) is reported as 0.0 in the
        metrics and as null in the details.

    Raises:
        InputError: the file is unreadable or a line is malformed (names file and line).
    """
    path = path or data_dir() / "stsb" / "dev.jsonl"
    acfg = (cfg or RetoldConfig()).align
    gold: list[float] = []
    pairs: list[tuple[str, str]] = []
    genres: list[str] = []
    for n, obj in read_jsonl(path):
        score = float(require_field(obj, "score", (int, float), path, n))
        if not math.isfinite(score):
            raise InputError(f"field 'score' must be finite, got {score}", source=str(path), line=n)
        genre = require_field(obj, "genre", str, path, n)
        s1, s2 = require_field(obj, "s1", str, path, n), require_field(obj, "s2", str, path, n)
        gold.append(score)
        genres.append(genre)
        pairs.append((s1, s2))
    if not gold:
        raise InputError("no pairs", source=str(path))
    sims = similarities(pairs, acfg)
    per_genre: dict[str, dict[str, float | int | None]] = {}
    for g in sorted(set(genres)):
        idx = [i for i, x in enumerate(genres) if x == g]
        rho = _correlation(stats.spearmanr, [sims[i] for i in idx], [gold[i] for i in idx])
        per_genre[g] = {"n": len(idx), "spearman": None if rho is None else round(rho, 4)}
    overall = _correlation(stats.spearmanr, sims, gold)
    pearson = _correlation(stats.pearsonr, sims, gold)
    return EvalResult(
        name="stsb",
        data=str(path),
        n=len(gold),
        metrics={"spearman": 0.0 if overall is None else overall},
        details={
            "per_genre": per_genre,
            "pearson": None if pearson is None else round(pearson, 4),
            "semantic": semantic_active(acfg),
        },
    )


def _correlation(fn: Callable[..., Any], x: Sequence[float], y: Sequence[float]) -> float | None:
    """A scipy correlation coefficient, or None where it is undefined (avoids scipy's constant-input warning)."""
    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(fn(x, y)[0])
