"""Scores of a grouping against gold groups: pairwise precision and recall, and the adjusted Rand index (ARI).

Every unordered pair of items counts once: a pair is gold-together when both items have the same gold label and
predicted-together when both have the same predicted label. Pairs that cannot be labelled (two gold groups that
are really related, e.g. follow-up stories in a base corpus) can be left out of every count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

__all__ = ["PairCounts", "pair_counts"]


@dataclass(frozen=True, slots=True)
class PairCounts:
    """Pair counts of a grouping: `total` pairs, `gold` gold-together, `predicted` predicted-together, and
    `both` that are both."""

    total: int
    gold: int
    predicted: int
    both: int

    @property
    def precision(self) -> float:
        """Share of predicted-together pairs that are gold-together (1.0 when nothing is predicted together)."""
        return self.both / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of gold-together pairs that are predicted together (1.0 when no pair is gold-together)."""
        return self.both / self.gold if self.gold else 1.0

    @property
    def ari(self) -> float:
        """Adjusted Rand index (Hubert and Arabie 1985): 1 for the gold grouping, about 0 for a random one.

        >>> round(pair_counts({"a": 0, "b": 0, "c": 1, "d": 1}, {"a": 0, "b": 0, "c": 1, "d": 2}).ari, 4)
        0.5714
        """
        if self.total == 0:
            return 1.0
        expected = self.gold * self.predicted / self.total
        best = (self.gold + self.predicted) / 2
        # Both groupings all singletons (or both one group): they agree, and the index is undefined.
        return (self.both - expected) / (best - expected) if best != expected else 1.0


def _c2(n: int) -> int:
    return n * (n - 1) // 2


def pair_counts(
    gold: Mapping[str, object],
    predicted: Mapping[str, object],
    unlabeled: Collection[tuple[object, object]] = (),
) -> PairCounts:
    """Pair counts of `predicted` against `gold` (labels per item; both must cover the same items).

    Args:
        gold: Gold label of every item.
        predicted: Predicted label of every item.
        unlabeled: Pairs of distinct gold labels whose cross pairs are left out of every count.

    Raises:
        ValueError: The two mappings cover different items, or an unlabeled pair names one label twice.
    """
    if gold.keys() != predicted.keys():
        raise ValueError("gold and predicted labels must cover the same items")
    if any(a == b for a, b in unlabeled):
        raise ValueError("an unlabeled pair must name two different gold labels")
    sizes = Counter(gold.values())
    cells = Counter((g, predicted[item]) for item, g in gold.items())
    by_gold: dict[object, list[tuple[object, int]]] = {}
    for (g, p), n in cells.items():
        by_gold.setdefault(g, []).append((p, n))
    total = _c2(len(gold))
    pred_together = sum(_c2(n) for n in Counter(predicted.values()).values())
    for g1, g2 in {frozenset(u) for u in unlabeled if u[0] in sizes and u[1] in sizes}:
        total -= sizes[g1] * sizes[g2]
        shared = dict(by_gold[g2])
        pred_together -= sum(n * shared.get(p, 0) for p, n in by_gold[g1])
    return PairCounts(
        total=total,
        gold=sum(_c2(n) for n in sizes.values()),
        predicted=pred_together,
        both=sum(_c2(n) for n in cells.values()),
    )
