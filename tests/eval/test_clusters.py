"""Pairwise precision/recall and the adjusted Rand index of `retold.eval.clusters`, checked against known values
and a brute-force count over every pair."""

from __future__ import annotations

import doctest
import random
from itertools import combinations

import pytest

import retold.eval.clusters as clusters_module
from retold.eval.clusters import pair_counts


def labels(*values: int) -> dict[str, int]:
    return {f"d{i}": v for i, v in enumerate(values)}


@pytest.mark.parametrize(
    ("gold", "pred", "ari"),
    [
        ((0, 0, 1, 1), (0, 0, 1, 2), 4 / 7),  # sklearn's documented example: 0.57
        ((0, 0, 1, 1), (1, 1, 0, 0), 1.0),  # label names do not matter
        ((0, 0, 0, 0), (0, 1, 2, 3), 0.0),  # everything split
        ((0, 0, 1, 2), (0, 0, 1, 2), 1.0),
        ((0, 1, 2, 3), (0, 1, 2, 3), 1.0),  # all singletons on both sides
        ((0, 0, 1, 1), (0, 1, 0, 1), -0.5),  # worse than chance
    ],
)
def test_known_values(gold: tuple[int, ...], pred: tuple[int, ...], ari: float) -> None:
    assert pair_counts(labels(*gold), labels(*pred)).ari == pytest.approx(ari)


def test_precision_and_recall() -> None:
    c = pair_counts(labels(0, 0, 0, 1, 2), labels(0, 0, 1, 1, 2))
    assert (c.total, c.gold, c.predicted, c.both) == (10, 3, 2, 1)
    assert c.precision == pytest.approx(0.5) and c.recall == pytest.approx(1 / 3)
    none = pair_counts(labels(0, 1), labels(0, 1))
    assert none.precision == none.recall == none.ari == 1.0


def brute(gold: dict[str, int], pred: dict[str, int], skip: set[frozenset[int]]) -> tuple[int, int, int, int]:
    total = g = p = both = 0
    for x, y in combinations(gold, 2):
        if frozenset((gold[x], gold[y])) in skip:
            continue
        total += 1
        g += gold[x] == gold[y]
        p += pred[x] == pred[y]
        both += gold[x] == gold[y] and pred[x] == pred[y]
    return total, g, p, both


@pytest.mark.parametrize("seed", range(20))
def test_matches_brute_force_with_unlabeled_pairs(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 30)
    gold = labels(*(rng.randint(0, 6) for _ in range(n)))
    pred = labels(*(rng.randint(0, 6) for _ in range(n)))
    groups = sorted(set(gold.values()))
    unlabeled = [tuple(rng.sample(groups, 2)) for _ in range(3)] if len(groups) > 1 else []
    c = pair_counts(gold, pred, unlabeled)  # type: ignore[arg-type]
    assert (c.total, c.gold, c.predicted, c.both) == brute(gold, pred, {frozenset(u) for u in unlabeled})


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same items"):
        pair_counts({"a": 0}, {"b": 0})
    with pytest.raises(ValueError, match="two different gold labels"):
        pair_counts(labels(0, 1), labels(0, 1), [(0, 0)])


def test_docstring_examples() -> None:
    assert doctest.testmod(clusters_module).failed == 0
