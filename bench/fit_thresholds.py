"""Fit the MRPC paraphrase threshold of `retold.eval.sentences` and print it; writes no file.

Usage::

    .venv/bin/python bench/fit_thresholds.py [--data SHARED_DATA] [--variants]

Prints the accuracy-maximising cut of the aligner's sentence similarity on ``mrpc/train.jsonl`` (the value to
ship as ``retold.config.AlignConfig.paraphrase``; the MRPC test split is held back and scored with it), and for
information the same fit on STS-B train with ``score >= 3.5`` taken as paraphrase. ``--variants`` also scores
scratch variants of the similarity (experiments only, not used by retold): accuracy at the fitted cut, 2-fold
cross-validated accuracy on MRPC train, and Spearman on STS-B dev.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz
from scipy import stats

from retold.align.similarity import SentenceFeatures, cosine_matrix, pair_similarity, ratio_matrix
from retold.api import data_dir
from retold.eval.sentences import MRPC_THRESHOLD, fit_threshold, read_jsonl, similarity, text_features
from retold.model import Document
from retold.text.analyze import analyze


def mrpc_pairs(path: Path) -> tuple[list[tuple[str, str]], list[int]]:
    """Sentence pairs and 0/1 labels of an MRPC JSONL file."""
    rows = [obj for _, obj in read_jsonl(path)]
    return [(str(o["s1"]), str(o["s2"])) for o in rows], [int(o["label"]) for o in rows]


def stsb_pairs(path: Path) -> tuple[list[tuple[str, str]], list[float], list[str]]:
    """Sentence pairs, gold scores and genres of an STS-B JSONL file."""
    rows = [obj for _, obj in read_jsonl(path)]
    return [(str(o["s1"]), str(o["s2"])) for o in rows], [float(o["score"]) for o in rows], [o["genre"] for o in rows]


def accuracy(scores: list[float], labels: list[int], cut: float) -> float:
    """Accuracy of ``score >= cut`` against 0/1 labels."""
    return float(np.mean((np.asarray(scores) >= cut) == (np.asarray(labels) == 1)))


def f1(scores: list[float], labels: list[int], cut: float) -> float:
    """F1 of the positive class of ``score >= cut``."""
    pred, y = np.asarray(scores) >= cut, np.asarray(labels) == 1
    tp, fp, fn = int(np.sum(pred & y)), int(np.sum(pred & ~y)), int(np.sum(~pred & y))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


# --- scratch variants of the sentence similarity (experiments; retold uses `pair_similarity`) ---------------


@dataclass(frozen=True, slots=True)
class Pair:
    """Both sentences' features plus the numbers each mentions."""

    f1: SentenceFeatures
    f2: SentenceFeatures
    nums1: frozenset[str]
    nums2: frozenset[str]


def make_pair(s1: str, s2: str) -> Pair:
    """Analyse both sentences once for all variants."""
    a1, a2 = analyze(Document("s1", s1)), analyze(Document("s2", s2))
    nums1 = frozenset(t for t in a1.tokens.norm if t[:1].isdigit())
    nums2 = frozenset(t for t in a2.tokens.norm if t[:1].isdigit())
    return Pair(text_features(a1), text_features(a2), nums1, nums2)


def _parts(p: Pair) -> tuple[float, float]:
    return float(cosine_matrix([p.f1], [p.f2])[0, 0]), float(ratio_matrix([p.f1], [p.f2])[0, 0])


def _blend(cos: float, ratio: float, w: float) -> float:
    """`retold.align.similarity.combine` for one pair."""
    r = min(max((ratio - 0.5) / 0.5, 0.0), 1.0)
    return max(w * cos + (1.0 - w) * r, ratio if ratio >= 0.9 else 0.0)


def _containment(p: Pair) -> float:
    """Weighted share of the less covered sentence's terms that the other sentence has."""
    t1, t2 = p.f1.terms, p.f2.terms
    shared = t1.keys() & t2.keys()
    c1 = sum(t1[k] for k in shared) / (sum(t1.values()) or 1.0)
    c2 = sum(t2[k] for k in shared) / (sum(t2.values()) or 1.0)
    return min(c1, c2)


def v_cos_weight(w: float) -> Callable[[Pair], float]:
    """The aligner's blend with another cosine weight."""
    return lambda p: _blend(*_parts(p), w)


def v_token_sort(p: Pair) -> float:
    """Blend with rapidfuzz token_sort_ratio instead of ratio (robust to clause reordering)."""
    cos, _ratio = _parts(p)
    return _blend(cos, fuzz.token_sort_ratio(p.f1.string, p.f2.string) / 100.0, 0.7)


def v_numbers(p: Pair) -> float:
    """Blend minus 0.05 per number found in only one sentence (at most 3)."""
    return _blend(*_parts(p), 0.7) - 0.05 * min(3, len(p.nums1 ^ p.nums2))


def v_containment(p: Pair) -> float:
    """Half cosine, half min-containment, plus the ratio term."""
    cos, ratio = _parts(p)
    return _blend(0.5 * cos + 0.5 * _containment(p), ratio, 0.7)


def v_length(p: Pair) -> float:
    """Blend scaled down when one sentence has far more content words (extra information)."""
    n1, n2 = p.f1.content_tokens, p.f2.content_tokens
    return _blend(*_parts(p), 0.7) * (0.5 + 0.5 * min(n1, n2) / max(1, n1, n2))


def v_combo(p: Pair) -> float:
    """token_sort ratio, min-containment and the number penalty together."""
    cos, _ratio = _parts(p)
    tsr = fuzz.token_sort_ratio(p.f1.string, p.f2.string) / 100.0
    return _blend(0.5 * cos + 0.5 * _containment(p), tsr, 0.7) - 0.05 * min(3, len(p.nums1 ^ p.nums2))


VARIANTS: dict[str, Callable[[Pair], float]] = {
    "align (pair_similarity)": lambda p: pair_similarity(p.f1, p.f2),
    "cos_weight 0.6": v_cos_weight(0.6),
    "cos_weight 0.8": v_cos_weight(0.8),
    "cosine only": v_cos_weight(1.0),
    "token_sort_ratio": v_token_sort,
    "number penalty": v_numbers,
    "min-containment": v_containment,
    "length penalty": v_length,
    "tsr+containment+numbers": v_combo,
}


def cross_validated(scores: list[float], labels: list[int], seed: int = 0) -> float:
    """Mean accuracy of a threshold fitted on one random half and applied to the other (both ways)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(scores))
    half = len(scores) // 2
    s, y = np.asarray(scores), np.asarray(labels)
    accs = []
    for fit_idx, test_idx in ((perm[:half], perm[half:]), (perm[half:], perm[:half])):
        cut = fit_threshold(list(s[fit_idx]), list(y[fit_idx]))
        accs.append(accuracy(list(s[test_idx]), list(y[test_idx]), cut))
    return float(np.mean(accs))


def run_variants(root: Path) -> None:
    """Print each scratch variant's MRPC train accuracy (fitted cut and 2-fold CV) and STS-B dev Spearman."""
    pairs, labels = mrpc_pairs(root / "mrpc" / "train.jsonl")
    sts, gold, genres = stsb_pairs(root / "stsb" / "dev.jsonl")
    mp = [make_pair(a, b) for a, b in pairs]
    sp = [make_pair(a, b) for a, b in sts]
    news = [i for i, g in enumerate(genres) if g == "news"]
    print(f"\n{'variant':28s} {'cut':>6s} {'acc':>6s} {'cv-acc':>6s} {'rho':>6s} {'rho-news':>8s}")
    for name, fn in VARIANTS.items():
        ms = [fn(p) for p in mp]
        ss = [fn(p) for p in sp]
        cut = fit_threshold(ms, labels)
        rho = float(stats.spearmanr(ss, gold)[0])
        rho_news = float(stats.spearmanr([ss[i] for i in news], [gold[i] for i in news])[0])
        acc, cv = accuracy(ms, labels, cut), cross_validated(ms, labels)
        print(f"{name:28s} {cut:6.3f} {acc:6.4f} {cv:6.4f} {rho:6.3f} {rho_news:8.3f}")


def main() -> None:
    """Fit and print the thresholds (and optionally score the variants)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default: retold.api.data_dir())")
    ap.add_argument("--variants", action="store_true", help="also score scratch variants of the similarity")
    args = ap.parse_args()
    root = data_dir(args.data)

    t0 = time.perf_counter()
    pairs, labels = mrpc_pairs(root / "mrpc" / "train.jsonl")
    scores = [similarity(a, b) for a, b in pairs]
    cut = fit_threshold(scores, labels)
    shipped = round(cut, 4)
    print(f"MRPC train ({len(labels)} pairs, {sum(labels)} positive, {time.perf_counter() - t0:.1f} s)")
    acc, f1_ = accuracy(scores, labels, cut), f1(scores, labels, cut)
    print(f"  fitted threshold {cut:.6f}: accuracy {acc:.4f}, F1 {f1_:.4f}")
    print(f"  MRPC_THRESHOLD = {shipped}: accuracy {accuracy(scores, labels, shipped):.4f}")
    if not math.isclose(shipped, MRPC_THRESHOLD):
        print(
            f"  (retold.eval.sentences.MRPC_THRESHOLD is {MRPC_THRESHOLD}: accuracy "
            f"{accuracy(scores, labels, MRPC_THRESHOLD):.4f}; update the constant by hand)"
        )
    print(f"  all-positive baseline accuracy {sum(labels) / len(labels):.4f}")

    t0 = time.perf_counter()
    sts, gold, _genres = stsb_pairs(root / "stsb" / "train.jsonl")
    sts_labels = [int(g >= 3.5) for g in gold]
    sts_scores = [similarity(a, b) for a, b in sts]
    sts_cut = fit_threshold(sts_scores, sts_labels)
    print(f"STS-B train ({len(sts)} pairs, {sum(sts_labels)} with score >= 3.5, {time.perf_counter() - t0:.1f} s)")
    print(
        f"  fitted threshold {sts_cut:.4f}: accuracy {accuracy(sts_scores, sts_labels, sts_cut):.4f}"
        f" (all-negative baseline {1 - sum(sts_labels) / len(sts_labels):.4f}); for information only"
    )
    if args.variants:
        run_variants(root)


if __name__ == "__main__":
    main()
