"""The Clough & Stevenson short-answer benchmark: is an answer reused from its source, and how heavily rewritten?

Each answer is compared with its source text (`retold.api.compare_documents`, answer as side a) and `category`
maps the result to one of the corpus' classes: ``cut`` (copy-paste), ``light`` (light revision), ``heavy``
(heavy paraphrase) or ``non`` (written independently). Reads a folder in the format of ../shared/data/clough:
``labels.jsonl`` with ``{"file", "task", "category", "source"}`` lines and the text files beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from rapidfuzz import fuzz

from retold.align.passages import coverage
from retold.api import compare_documents, data_dir
from retold.config import RetoldConfig
from retold.errors import InputError
from retold.eval.base import EvalResult
from retold.eval.sentences import read_jsonl, require_field
from retold.io.readers import read_text_file
from retold.model import Document, PairResult, VerdictName

Category = Literal["non", "heavy", "light", "cut"]
CATEGORIES: tuple[Category, ...] = ("non", "heavy", "light", "cut")
"""From least to most reuse; `category` never moves down this order when coverage or closeness rises."""

# Cut-offs of `category`, chosen on the shared Clough data (95 answers; it is the tuning set, held-back
# answers are scored separately) by a grid search (coverage in steps of 0.05, closeness in steps of 0.01)
# maximising 4-way accuracy, taking the middle of the plateau of best accuracy:
# - answer coverage: 0.20-0.25 are equally good (topical answers judged partial-reuse reach 0.18; the least
#   covered heavy paraphrases 0.28);
# - closeness for cut: 0.90-0.92 (copy-paste answers keep >= 0.94 save those stitched from sentence pieces);
# - closeness for light: 0.77-0.79 (heavy paraphrases mostly 0.50-0.76).
# Closeness separated light from heavy better than the verbatim share (36 best settings against 4, same best
# accuracy): light revisions change a word here and there in most sentences, which breaks verbatim runs but
# keeps the characters close. 4-way accuracy 0.80, reused-F1 0.965 with the aligner of 2026-11-23.
MIN_COVERAGE = 0.22
"""Below this share of the answer covered by aligned passages the answer counts as ``non``."""
CUT_CLOSENESS = 0.91
"""Closeness of the aligned text from which the answer counts as ``cut``."""
LIGHT_CLOSENESS = 0.78
"""Closeness from which a reused answer counts as ``light`` rather than ``heavy``."""


def verbatim_share(result: PairResult) -> float:
    """Share of the answer's (side a's) aligned characters that are verbatim; 0.0 when nothing is aligned."""
    _cov, verb, para = coverage(result.alignment.spans_a)
    return verb / (verb + para) if verb + para else 0.0


def closeness(result: PairResult, answer: str, source: str) -> float:
    """How little the reused text was edited: the character similarity (rapidfuzz ratio) of each passage's two
    sides, averaged with passage length as weight; 0.0 when nothing is aligned."""
    ps = result.alignment.passages
    if not ps:
        return 0.0
    weights = [p.a_end - p.a_start for p in ps]
    scores = [fuzz.ratio(answer[p.a_start : p.a_end], source[p.b_start : p.b_end]) / 100.0 for p in ps]
    return sum(w * x for w, x in zip(weights, scores, strict=True)) / max(1, sum(weights))


def categorize(verdict: VerdictName, answer_coverage: float, close: float) -> Category:
    """The category from the verdict, the answer's coverage and the closeness of its aligned text.

    Rules, in order: ``non`` if the verdict is ``unrelated`` or coverage is below `MIN_COVERAGE`; ``cut`` if
    closeness reaches `CUT_CLOSENESS`; ``light`` if it reaches `LIGHT_CLOSENESS`; else ``heavy``.
    Monotone: a higher coverage or closeness never gives a category earlier in `CATEGORIES`.

    Args:
        verdict: the pair verdict.
        answer_coverage: share of the answer's text that is aligned (verbatim or paraphrase).
        close: `closeness` of the aligned text.

    Returns:
        One of ``non``, ``heavy``, ``light``, ``cut``.

    Example:
        >>> categorize("near-duplicate", 1.0, 0.98), categorize("rewrite", 0.8, 0.6), categorize("unrelated", 1.0, 1.0)
        ('cut', 'heavy', 'non')
    """
    if verdict == "unrelated" or answer_coverage < MIN_COVERAGE:
        return "non"
    if close >= CUT_CLOSENESS:
        return "cut"
    if close >= LIGHT_CLOSENESS:
        return "light"
    return "heavy"


def category(result: PairResult, answer: str, source: str) -> Category:
    """The Clough category of an (answer, source) comparison; the answer must be side a.

    Args:
        result: `compare_documents(answer, source)`.
        answer: the answer's text; source: the source's text.

    Returns:
        ``categorize(result.verdict, result.a.coverage, closeness(result, answer, source))``.
    """
    return categorize(result.verdict, result.a.coverage, closeness(result, answer, source))


def run(folder: Path | None = None, cfg: RetoldConfig | None = None) -> EvalResult:
    """Compare every answer of a Clough folder with its source and score the predicted categories.

    Args:
        folder: folder with ``labels.jsonl`` and the texts; default ``data_dir()/"clough"``.
        cfg: configuration; default the defaults.

    Returns:
        Metrics ``f1_reused`` (positive = cut/light/heavy, predicted reused = category other than non) and
        ``accuracy_4way``; details: confusion matrix (true -> predicted -> count), per true category the mean
        answer coverage, closeness and verbatim share, and the misclassified files.

    Raises:
        InputError: ``labels.jsonl`` is missing or malformed (names file and line), or a text is unreadable.
    """
    folder = folder or data_dir() / "clough"
    labels = folder / "labels.jsonl"
    if not labels.is_file():
        raise InputError("no labels.jsonl in the Clough folder", source=str(labels))
    sources: dict[str, Document] = {}
    rows: list[dict[str, Any]] = []
    for n, obj in read_jsonl(labels):
        name = require_field(obj, "file", str, labels, n)
        source = require_field(obj, "source", str, labels, n)
        truth = require_field(obj, "category", str, labels, n)
        if truth not in CATEGORIES:
            raise InputError(
                f"field 'category' must be one of {', '.join(CATEGORIES)}, got {truth!r}", source=str(labels), line=n
            )
        if source not in sources:
            sources[source] = read_text_file(folder / source)
        answer = read_text_file(folder / name)
        res = compare_documents(answer, sources[source], cfg)
        rows.append(
            {
                "file": name,
                "true": truth,
                "predicted": category(res, answer.text, sources[source].text),
                "verdict": res.verdict,
                "coverage": res.a.coverage,
                "closeness": closeness(res, answer.text, sources[source].text),
                "verbatim_share": verbatim_share(res),
            }
        )
    if not rows:
        raise InputError("no answers", source=str(labels))
    return EvalResult(name="clough", data=str(folder), n=len(rows), metrics=_metrics(rows), details=_details(rows))


def _metrics(rows: list[dict[str, Any]]) -> dict[str, float]:
    tp = sum(1 for r in rows if r["true"] != "non" and r["predicted"] != "non")
    fp = sum(1 for r in rows if r["true"] == "non" and r["predicted"] != "non")
    fn = sum(1 for r in rows if r["true"] != "non" and r["predicted"] == "non")
    return {
        "f1_reused": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "accuracy_4way": sum(1 for r in rows if r["true"] == r["predicted"]) / len(rows),
    }


def _details(rows: list[dict[str, Any]]) -> dict[str, Any]:
    confusion = {t: {p: 0 for p in CATEGORIES} for t in CATEGORIES}
    for r in rows:
        confusion[r["true"]][r["predicted"]] += 1
    means: dict[str, dict[str, float | int]] = {}
    for c in CATEGORIES:
        mine = [r for r in rows if r["true"] == c]
        if mine:
            means[c] = {
                "n": len(mine),
                "coverage": round(sum(r["coverage"] for r in mine) / len(mine), 4),
                "closeness": round(sum(r["closeness"] for r in mine) / len(mine), 4),
                "verbatim_share": round(sum(r["verbatim_share"] for r in mine) / len(mine), 4),
            }
    wrong = [
        {**r, **{k: round(r[k], 4) for k in ("coverage", "closeness", "verbatim_share")}}
        for r in rows
        if r["true"] != r["predicted"]
    ]
    return {
        "confusion": confusion,
        "per_category": means,
        "misclassified": wrong,
        "cutoffs": {"min_coverage": MIN_COVERAGE, "cut_closeness": CUT_CLOSENESS, "light_closeness": LIGHT_CLOSENESS},
    }
