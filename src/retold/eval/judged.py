"""The judged-pairs benchmark: on pairs a careful reader judged, does retold say reuse only where there is reuse?

Each judged pair is aligned again with the library (`retold.api.compare_documents`, side a first) and its verdict
set against the reader's `truth`: ``reuse`` (one text derived from the other, or both from one source text),
``template`` (the same recurring report format with other figures or names) or ``topical`` (written independently
on the same topic). The reused verdicts are `REUSED`; a ``template`` pair should get the ``template`` verdict and
a ``topical`` pair ``unrelated``. The procedure for judging a fresh sample is docs/judging.md.

Data (``--data``), any of:

* the shared data folder, or a folder holding ``pairs.jsonl`` (``judged-pairs/`` of the shared data, or a judging
  sheet written by ``bench/sample_pairs.py``), or a ``.jsonl`` pairs file itself;
* each line ``{"a", "b", "corpus", "truth", ...}`` as in ../shared/data/judged-pairs (``verdict_then``,
  ``level_ok``, ``passages_ok``, ``why`` are kept for reading, not scored). A line that carries the texts
  (``text_a`` and ``text_b``, as a judging sheet does) is aligned on them; otherwise the texts are the `TEXT_FIELD`
  fields of the records with ids a and b in the corpus folder ``<corpus>/`` beside the pairs file or one level
  up (so ``judged-pairs/pairs.jsonl`` finds ``bbc/docs.jsonl.gz`` and ``reuters21578/docs.jsonl.gz``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from retold.api import compare_documents, data_dir
from retold.config import RetoldConfig
from retold.errors import InputError
from retold.eval.base import EvalResult
from retold.eval.sentences import read_jsonl, require_field
from retold.io.readers import iter_corpus
from retold.model import VERDICTS, Document, VerdictName

Truth = Literal["reuse", "template", "topical"]
TRUTHS: tuple[Truth, ...] = ("reuse", "template", "topical")
"""The reader's judgements (definitions in ../shared/data/judged-pairs/README.md and docs/judging.md)."""
REUSED: tuple[VerdictName, ...] = ("duplicate", "near-duplicate", "rewrite", "partial-reuse")
"""The verdicts that report reuse."""
PRECISION_VERDICTS: tuple[VerdictName, ...] = ("near-duplicate", "rewrite", "partial-reuse")
"""The verdicts whose precision is a metric of its own (``precision_<verdict with _>``), as in the README table."""
EXPECTED: dict[Truth, tuple[VerdictName, ...]] = {
    "reuse": REUSED,
    "template": ("template",),
    "topical": ("unrelated",),
}
"""The verdicts that are right for each truth; any other verdict is listed under ``details.wrong``."""
TEXT_FIELD = "body"
"""The record field holding the text in the corpus folders of the shared data."""
PAIRS_FILE = "pairs.jsonl"
DEFAULT_FOLDER = "judged-pairs"

METRICS: tuple[str, ...] = (
    "reuse_precision",
    "reuse_recall",
    "template_recall",
    "topical_rejected",
    *(f"precision_{v.replace('-', '_')}" for v in PRECISION_VERDICTS),
)
"""The fixed metric names, in the order they are reported."""


@dataclass(frozen=True, slots=True)
class JudgedPair:
    """One line of a judged pairs file. `text_a`/`text_b` are set when the line carries the texts."""

    line: int
    a: str
    b: str
    corpus: str | None
    truth: Truth
    verdict_then: str | None = None
    why: str | None = None
    text_a: str | None = None
    text_b: str | None = None


def _ratio(num: int, den: int) -> float:
    """``num / den``; 1.0 when `den` is 0 (no pair to be wrong about: see `score`)."""
    return num / den if den else 1.0


def score(rows: Iterable[tuple[str, str]]) -> dict[str, float]:
    """The metrics of ``(truth, verdict)`` rows.

    * ``reuse_precision``: of the pairs with a reused verdict (`REUSED`), the share whose truth is ``reuse``;
    * ``reuse_recall``: of the ``reuse`` pairs, the share with a reused verdict;
    * ``template_recall``: of the ``template`` pairs, the share with the verdict ``template``;
    * ``topical_rejected``: of the ``topical`` pairs, the share with the verdict ``unrelated``;
    * ``precision_near_duplicate``, ``precision_rewrite``, ``precision_partial_reuse``: of the pairs with that
      verdict, the share whose truth is ``reuse``.

    A share of no pairs (no reused verdict, no pair of that truth) is 1.0: nothing was got wrong. The counts
    behind each share are in the benchmark's ``details.counts``.

    >>> m = score([("reuse", "rewrite"), ("template", "rewrite"), ("template", "template"), ("topical", "unrelated")])
    >>> m["reuse_precision"], m["reuse_recall"], m["template_recall"], m["topical_rejected"], m["precision_rewrite"]
    (0.5, 1.0, 0.5, 1.0, 0.5)
    """
    return {k: _ratio(num, den) for k, (num, den) in fractions(counts(rows)).items()}


def fractions(c: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Numerator and denominator of each metric of `score`, from `counts`."""
    out = {
        "reuse_precision": (c["reused_and_reuse"], c["reused"]),
        "reuse_recall": (c["reused_and_reuse"], c["truth_reuse"]),
        "template_recall": (c["template_and_template"], c["truth_template"]),
        "topical_rejected": (c["unrelated_and_topical"], c["truth_topical"]),
    }
    for v in PRECISION_VERDICTS:
        out[f"precision_{v.replace('-', '_')}"] = (c[f"{v}_and_reuse"], c[v])
    return out


def counts(rows: Iterable[tuple[str, str]]) -> dict[str, int]:
    """The numerators and denominators of `score`: ``truth_<t>`` pairs per truth, ``<verdict>`` pairs per verdict,
    ``reused`` pairs with a reused verdict, and ``reused_and_reuse``, ``template_and_template``,
    ``unrelated_and_topical``, ``<verdict>_and_reuse``."""
    pairs = list(rows)
    truth = Counter(t for t, _ in pairs)
    verdict = Counter(v for _, v in pairs)
    out = {f"truth_{t}": truth[t] for t in TRUTHS}
    out |= {v: verdict[v] for v in VERDICTS}
    out["reused"] = sum(verdict[v] for v in REUSED)
    out["reused_and_reuse"] = sum(1 for t, v in pairs if t == "reuse" and v in REUSED)
    out["template_and_template"] = sum(1 for t, v in pairs if t == "template" and v == "template")
    out["unrelated_and_topical"] = sum(1 for t, v in pairs if t == "topical" and v == "unrelated")
    out |= {f"{v}_and_reuse": sum(1 for t, w in pairs if t == "reuse" and w == v) for v in PRECISION_VERDICTS}
    return out


def confusion(rows: Iterable[tuple[str, str]], columns: Sequence[str] = VERDICTS) -> dict[str, dict[str, int]]:
    """truth -> verdict -> count, every truth and every column present (a verdict outside `columns` is added)."""
    table: dict[str, dict[str, int]] = {t: dict.fromkeys(columns, 0) for t in TRUTHS}
    for t, v in rows:
        table[t][v] = table[t].get(v, 0) + 1
    return table


def locate(data: Path) -> Path:
    """The pairs file of `data`: a file itself, else ``pairs.jsonl`` in the folder, else
    ``judged-pairs/pairs.jsonl`` (the shared data folder)."""
    if data.is_file():
        return data
    for candidate in (data / PAIRS_FILE, data / DEFAULT_FOLDER / PAIRS_FILE):
        if candidate.is_file():
            return candidate
    raise InputError(f"no {PAIRS_FILE} here nor in {DEFAULT_FOLDER}/ (nor a pairs file)", source=str(data))


def read_pairs(path: Path) -> list[JudgedPair]:
    """Every judged pair of a pairs file, checked.

    Raises:
        InputError: a line is not JSON, lacks ``a``, ``b`` or ``truth``, has a `truth` outside `TRUTHS` (an
            unfilled judging sheet: ``truth`` is empty), carries only one of ``text_a``/``text_b``, or lacks
            ``corpus`` without carrying the texts; or the file has no pairs.
    """
    pairs: list[JudgedPair] = []
    for n, obj in read_jsonl(path):
        a = require_field(obj, "a", str, path, n)
        b = require_field(obj, "b", str, path, n)
        truth = obj.get("truth")
        if truth not in TRUTHS:
            shown = "empty (not judged yet)" if truth in ("", None) else repr(truth)
            raise InputError(f"field 'truth' must be one of {', '.join(TRUTHS)}; it is {shown}", str(path), n)
        has_a, has_b = obj.get("text_a") is not None, obj.get("text_b") is not None
        if has_a != has_b:
            raise InputError("a line carries both texts (text_a and text_b) or neither", str(path), n)
        text_a = require_field(obj, "text_a", str, path, n) if has_a else None
        text_b = require_field(obj, "text_b", str, path, n) if has_b else None
        if has_a:  # the texts are here: the corpus only names where they came from
            corpus = obj["corpus"] if isinstance(obj.get("corpus"), str) else None
        else:
            corpus = require_field(obj, "corpus", str, path, n)
        then, why = obj.get("verdict_then"), obj.get("why")
        pairs.append(
            JudgedPair(
                line=n,
                a=a,
                b=b,
                corpus=corpus,
                truth=truth,
                verdict_then=then if isinstance(then, str) else None,
                why=why if isinstance(why, str) else None,
                text_a=text_a,
                text_b=text_b,
            )
        )
    if not pairs:
        raise InputError("no judged pairs", source=str(path))
    return pairs


def load_documents(pairs: Sequence[JudgedPair], pairs_file: Path) -> dict[tuple[str, str], Document]:
    """``(corpus, id) -> Document`` for every pair that does not carry its texts, read from the corpus folders
    beside `pairs_file` or one level up (`TEXT_FIELD` holds the text).

    Raises:
        InputError: a corpus folder is missing, or an id is not in it.
    """
    wanted: dict[str, set[str]] = {}
    for p in pairs:
        if p.text_a is None and p.corpus is not None:
            wanted.setdefault(p.corpus, set()).update((p.a, p.b))
    roots = (pairs_file.parent, pairs_file.parent.parent)
    docs: dict[tuple[str, str], Document] = {}
    for corpus, ids in sorted(wanted.items()):
        folder = next((r / corpus for r in roots if (r / corpus).exists()), None)
        if folder is None:
            raise InputError(f"corpus {corpus!r} not found beside the pairs file or one level up", str(pairs_file))
        for item in iter_corpus([folder], text_field=TEXT_FIELD):
            if isinstance(item, Document) and item.id in ids:
                docs[(corpus, item.id)] = item
        missing = sorted(ids - {i for c, i in docs if c == corpus})
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise InputError(f"ids not found in corpus {corpus!r} ({TEXT_FIELD!r} field): {shown}", str(folder))
    return docs


def run(data: Path | None = None, cfg: RetoldConfig | None = None) -> EvalResult:
    """Align every judged pair of `data` again and score the verdicts against the reader's truth.

    Args:
        data: the shared data folder, a folder holding ``pairs.jsonl``, or a pairs file (see the module doc);
            default ``data_dir()/"judged-pairs"``.
        cfg: configuration; default the defaults.

    Returns:
        `METRICS` (defined in `score`); details: ``confusion`` (truth -> verdict -> count), ``confusion_then``
        (truth -> the verdict recorded when the pair was judged, where lines have ``verdict_then``), ``counts``
        (the numerators and denominators), ``per_corpus`` (n and metrics per corpus), and ``wrong`` (the pairs
        whose verdict is not right for their truth, with the reader's note).

    Raises:
        InputError: the pairs file is missing or malformed, or a text cannot be found.
    """
    data = data if data is not None else data_dir() / DEFAULT_FOLDER
    pairs_file = locate(data)
    pairs = read_pairs(pairs_file)
    docs = load_documents(pairs, pairs_file)
    rows: list[dict[str, Any]] = []
    for p in pairs:
        if p.text_a is not None and p.text_b is not None:
            doc_a, doc_b = Document(p.a, p.text_a), Document(p.b, p.text_b)
        else:
            corpus = p.corpus or ""
            doc_a, doc_b = docs[(corpus, p.a)], docs[(corpus, p.b)]
        res = compare_documents(doc_a, doc_b, cfg)
        rows.append(
            {
                "line": p.line,
                "a": p.a,
                "b": p.b,
                "corpus": p.corpus,
                "truth": p.truth,
                "verdict": res.verdict,
                "verdict_then": p.verdict_then,
                "coverage_a": round(res.a.coverage, 4),
                "coverage_b": round(res.b.coverage, 4),
                "why": p.why,
            }
        )
    pairs_tv = [(r["truth"], r["verdict"]) for r in rows]
    then = [(r["truth"], r["verdict_then"]) for r in rows if r["verdict_then"] is not None]
    corpora = sorted({r["corpus"] or "" for r in rows})
    details: dict[str, Any] = {
        "confusion": confusion(pairs_tv),
        "confusion_then": confusion(then) if then else {},
        "counts": counts(pairs_tv),
        "per_corpus": {c: _corpus_summary([r for r in rows if (r["corpus"] or "") == c]) for c in corpora},
        "wrong": [r for r in rows if r["verdict"] not in EXPECTED[r["truth"]]],
    }
    return EvalResult(name="judged", data=str(data), n=len(rows), metrics=score(pairs_tv), details=details)


def _corpus_summary(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    """n and the metrics of one corpus' rows; a metric with no pair to count (say, no near-duplicate verdict) is
    left out rather than shown as 1.0."""
    shares = fractions(counts((r["truth"], r["verdict"]) for r in rows))
    return {"n": len(rows), **{k: round(num / den, 4) for k, (num, den) in shares.items() if den}}
