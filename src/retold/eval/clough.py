"""The Clough & Stevenson short-answer benchmark: is an answer reused from its source, and how heavily rewritten?

Each answer is compared with its source text (`retold.api.compare_documents`, answer as side a) and `category`
maps the result to one of the corpus' classes: ``cut`` (copy-paste), ``light`` (light revision), ``heavy``
(heavy paraphrase) or ``non`` (written independently). Reads a folder in the format of ../shared/data/clough:
``labels.jsonl`` with ``{"file", "task", "category", "source"}`` lines and the text files beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from retold.align.passages import coverage
from retold.api import compare_documents, data_dir
from retold.errors import InputError
from retold.eval.base import EvalResult
from retold.eval.sentences import read_jsonl, require_field
from retold.io.readers import read_text_file
from retold.model import Document, PairResult, VerdictName

Category = Literal["non", "heavy", "light", "cut"]
CATEGORIES: tuple[Category, ...] = ("non", "heavy", "light", "cut")
"""From least to most reuse; `category` never moves down this order when the verbatim share rises."""

# Cut-offs of `category`, chosen on the shared Clough data (95 answers; it is the tuning set, held-back
# answers are scored separately) by a grid search in steps of 0.02 maximising 4-way accuracy, taking the
# middle of the widest plateau of best accuracy for each cut-off with the others fixed:
# - answer coverage: best for 0.24-0.30 (unrelated-but-topical answers reach 0.23 on partial-reuse verdicts;
#   the least covered heavy paraphrases 0.32);
# - verbatim share for cut: flat best over 0.50-0.58 (cut answers mostly >= 0.6, light ones mostly <= 0.35);
# - verbatim share for light: best over 0.06-0.10 (heavy paraphrases keep almost no verbatim sentence).
# 4-way accuracy 0.758 and reused-F1 0.955 on that data with the aligner of the time.
MIN_COVERAGE = 0.27
"""Below this share of the answer covered by aligned passages the answer counts as ``non``."""
CUT_VERBATIM = 0.55
"""Verbatim share of the answer's covered characters from which the answer counts as ``cut``."""
LIGHT_VERBATIM = 0.08
"""Verbatim share from which a reused answer counts as ``light`` rather than ``heavy``."""


def verbatim_share(result: PairResult) -> float:
    """Share of the answer's (side a's) aligned characters that are verbatim; 0.0 when nothing is aligned."""
    _cov, verb, para = coverage(result.alignment.spans_a)
    return verb / (verb + para) if verb + para else 0.0


def categorize(verdict: VerdictName, answer_coverage: float, share: float) -> Category:
    """The category from the verdict, the answer's coverage and its verbatim share.

    Rules, in order: ``non`` if the verdict is ``unrelated`` or coverage is below `MIN_COVERAGE`; ``cut`` if
    the verbatim share reaches `CUT_VERBATIM`; ``light`` if it reaches `LIGHT_VERBATIM`; else ``heavy``.
    Monotone: a higher coverage or verbatim share never gives a category earlier in `CATEGORIES`.

    Args:
        verdict: the pair verdict.
        answer_coverage: share of the answer's text that is aligned (verbatim or paraphrase).
        share: verbatim share of the answer's aligned characters.

    Returns:
        One of ``non``, ``heavy``, ``light``, ``cut``.

    Example:
        >>> categorize("near-duplicate", 1.0, 0.9), categorize("rewrite", 0.8, 0.0), categorize("unrelated", 1.0, 1.0)
        ('cut', 'heavy', 'non')
    """
    if verdict == "unrelated" or answer_coverage < MIN_COVERAGE:
        return "non"
    if share >= CUT_VERBATIM:
        return "cut"
    if share >= LIGHT_VERBATIM:
        return "light"
    return "heavy"


def category(result: PairResult) -> Category:
    """The Clough category of an (answer, source) comparison; the answer must be side a.

    Args:
        result: `compare_documents(answer, source)`.

    Returns:
        ``categorize(result.verdict, result.a.coverage, verbatim_share(result))``.
    """
    return categorize(result.verdict, result.a.coverage, verbatim_share(result))


def run(folder: Path | None = None) -> EvalResult:
    """Compare every answer of a Clough folder with its source and score the predicted categories.

    Args:
        folder: folder with ``labels.jsonl`` and the texts; default ``data_dir()/"clough"``.

    Returns:
        Metrics ``f1_reused`` (positive = cut/light/heavy, predicted reused = category other than non) and
        ``accuracy_4way``; details: confusion matrix (true -> predicted -> count), per true category the mean
        answer coverage and verbatim share, and the misclassified files.

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
        res = compare_documents(read_text_file(folder / name), sources[source])
        rows.append(
            {
                "file": name,
                "true": truth,
                "predicted": category(res),
                "verdict": res.verdict,
                "coverage": res.a.coverage,
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
                "verbatim_share": round(sum(r["verbatim_share"] for r in mine) / len(mine), 4),
            }
    wrong = [
        {**r, "coverage": round(r["coverage"], 4), "verbatim_share": round(r["verbatim_share"], 4)}
        for r in rows
        if r["true"] != r["predicted"]
    ]
    return {
        "confusion": confusion,
        "per_category": means,
        "misclassified": wrong,
        "cutoffs": {"min_coverage": MIN_COVERAGE, "cut_verbatim": CUT_VERBATIM, "light_verbatim": LIGHT_VERBATIM},
    }
