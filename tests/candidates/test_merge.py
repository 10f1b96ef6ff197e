"""Tests for retold.candidates.merge: channel candidates become one entry per unordered pair, with every channel
that found it (in a fixed order) and the best score."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from retold.candidates.merge import CandidatePair, merge
from retold.model import Candidate


def test_union_of_channels_with_dedup_and_max_score() -> None:
    exact = [Candidate(0, 1, "exact", 1.0)]
    minhash = [Candidate(0, 1, "minhash", 0.9), Candidate(2, 3, "minhash", 0.5), Candidate(2, 3, "minhash", 0.7)]
    rewrite = [Candidate(3, 2, "rewrite", 0.6), Candidate(1, 4, "rewrite", 0.3), Candidate(0, 1, "rewrite", 0.2)]
    assert merge(rewrite, minhash, exact) == [
        CandidatePair(0, 1, ("exact", "minhash", "rewrite"), 1.0),
        CandidatePair(1, 4, ("rewrite",), 0.3),
        CandidatePair(2, 3, ("minhash", "rewrite"), 0.7),
    ]


def test_reversed_pair_is_the_same_pair() -> None:
    assert merge([Candidate(0, 1, "minhash", 0.9)], [Candidate(1, 0, "rewrite", 0.4)]) == [
        CandidatePair(0, 1, ("minhash", "rewrite"), 0.9)
    ]
    assert merge([Candidate(7, 2, "rewrite", 0.4)]) == [CandidatePair(2, 7, ("rewrite",), 0.4)]


def test_self_pairs_and_empty_inputs_are_dropped() -> None:
    assert merge() == []
    assert merge([], []) == []
    assert merge([Candidate(3, 3, "exact", 1.0)]) == []


def test_channels_can_be_any_iterable() -> None:
    gen = (Candidate(i, i + 1, "minhash", 0.5) for i in range(3))
    assert [(p.a, p.b) for p in merge(gen)] == [(0, 1), (1, 2), (2, 3)]


_cands = st.builds(
    Candidate,
    st.integers(0, 8),
    st.integers(0, 8),
    st.sampled_from(["exact", "minhash", "rewrite"]),
    st.floats(0.0, 1.0),
)


@settings(max_examples=200)
@given(st.lists(st.lists(_cands, max_size=15), max_size=3))
def test_merge_properties(channels: list[list[Candidate]]) -> None:
    out = merge(*channels)
    keys = [(p.a, p.b) for p in out]
    assert keys == sorted(set(keys)), "one entry per pair, sorted by (a, b)"
    flat = [c for ch in channels for c in ch if c.a != c.b]
    assert set(keys) == {(min(c.a, c.b), max(c.a, c.b)) for c in flat}
    order = {"exact": 0, "minhash": 1, "rewrite": 2}
    for p in out:
        assert p.a < p.b
        mine = [c for c in flat if {c.a, c.b} == {p.a, p.b}]
        assert set(p.channels) == {c.channel for c in mine}
        assert list(p.channels) == sorted(set(p.channels), key=order.__getitem__)
        assert p.score == max(c.score for c in mine)
    # The order of the channel lists does not matter.
    assert merge(*reversed(channels)) == out
