"""The seed-pair benchmark: how many aligned passages keep the documents' order and how many were moved.

Reads a folder in the format of ../shared/data/seeds: two ``.txt`` files, the rewrite first in name order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path

from retold.api import compare_files, data_dir
from retold.config import RetoldConfig
from retold.errors import InputError
from retold.eval.base import EvalResult
from retold.model import Passage


def in_order(passages: Sequence[Passage]) -> list[bool]:
    """Which passages lie on the longest chain that is increasing in both documents (the rest were moved).

    >>> from retold.model import Passage
    >>> ps = [Passage("paraphrase", 0, 5, 50, 60, 1.0), Passage("paraphrase", 10, 20, 0, 9, 1.0),
    ...       Passage("verbatim", 30, 40, 20, 30, 1.0)]
    >>> in_order(ps)
    [False, True, True]
    """
    order = sorted(range(len(passages)), key=lambda k: (passages[k].a_start, passages[k].b_start))
    # Longest strictly increasing subsequence of b_start along a-order (patience sorting, with back-links).
    tails: list[int] = []
    tail_idx: list[int] = []
    back: dict[int, int] = {}
    for k in order:
        b = passages[k].b_start
        pos = bisect_left(tails, b)
        if pos == len(tails):
            tails.append(b)
            tail_idx.append(k)
        else:
            tails[pos] = b
            tail_idx[pos] = k
        if pos > 0:
            back[k] = tail_idx[pos - 1]
    keep = [False] * len(passages)
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        keep[k] = True
        k = back.get(k, -1)
    return keep


def run(folder: Path | None = None, cfg: RetoldConfig | None = None) -> EvalResult:
    """Align the two texts of `folder` (with `cfg`; default the defaults) and count in-order and reordered
    passages."""
    folder = folder or data_dir() / "seeds"
    files = sorted(folder.glob("*.txt"))
    if len(files) != 2:
        raise InputError(f"expected exactly two .txt files, found {len(files)}", source=str(folder))
    res = compare_files(files[0], files[1], cfg)
    flags = in_order(res.alignment.passages)
    return EvalResult(
        name="seeds",
        data=str(folder),
        n=1,
        metrics={"in_order_links": float(sum(flags)), "reordered_links": float(len(flags) - sum(flags))},
        details={
            "verdict": res.verdict,
            "coverage_a": round(res.a.coverage, 4),
            "coverage_b": round(res.b.coverage, 4),
            "date_a": res.a.date,
            "passages": len(flags),
            "verbatim_passages": sum(p.label == "verbatim" for p in res.alignment.passages),
        },
    )
