"""Merge candidates from all channels into one list of pairs, remembering which channels proposed each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from retold.model import Candidate, Channel

_ORDER: dict[Channel, int] = {"exact": 0, "minhash": 1, "rewrite": 2, "vector": 3}


@dataclass(frozen=True, slots=True)
class CandidatePair:
    """A pair to align (``a < b``) with every channel that found it and its best score."""

    a: int
    b: int
    channels: tuple[Channel, ...]
    score: float


def merge(*channels: Iterable[Candidate]) -> list[CandidatePair]:
    """Union of the channels' candidates, one entry per unordered pair, sorted by (a, b).

    >>> merge([Candidate(0, 1, "minhash", 0.9)], [Candidate(1, 0, "rewrite", 0.4)])
    [CandidatePair(a=0, b=1, channels=('minhash', 'rewrite'), score=0.9)]
    """
    found: dict[tuple[int, int], tuple[set[Channel], float]] = {}
    for chan in channels:
        for c in chan:
            if c.a == c.b:
                continue
            key = (min(c.a, c.b), max(c.a, c.b))
            names, best = found.get(key, (set(), 0.0))
            names.add(c.channel)
            found[key] = (names, max(best, c.score))
    return [
        CandidatePair(a, b, tuple(sorted(names, key=_ORDER.__getitem__)), score)
        for (a, b), (names, score) in sorted(found.items())
    ]
