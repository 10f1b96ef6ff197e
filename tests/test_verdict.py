"""Tests for retold.verdict.decide: one table row per verdict under the documented rules, symmetry in a and b,
and the evidence threshold; `judge` is exercised end to end in tests/align."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.config import VerdictConfig
from retold.model import VERDICTS
from retold.verdict import decide

CFG = VerdictConfig()


@pytest.mark.parametrize(
    ("cov_a", "cov_b", "verbatim", "aligned", "identical", "evidence", "expected"),
    [
        # duplicate: identical content wins over everything else
        (1.0, 1.0, 4000, (2000, 2000), True, 1.0, "duplicate"),
        (0.0, 0.0, 0, (0, 0), True, 0.0, "duplicate"),
        # unrelated: too little aligned, or no strong passage
        (0.0, 0.0, 0, (0, 0), False, 0.0, "unrelated"),
        (0.9, 0.9, 100, (50, 79), False, 1.0, "unrelated"),
        (0.9, 0.9, 0, (2000, 1900), False, 0.47, "unrelated"),
        # near-duplicate: mostly verbatim and both sides (almost) fully covered
        (0.95, 0.9, 3800, (2000, 1900), False, 1.0, "near-duplicate"),
        (0.8, 0.8, 3200, (2000, 2000), False, 1.0, "near-duplicate"),
        # ... or one version extending the other: one side fully covered, the other at least rewrite_coverage
        (1.0, 0.6, 2000, (1000, 1000), False, 1.0, "near-duplicate"),
        (0.55, 0.95, 1900, (1000, 1000), False, 1.0, "near-duplicate"),
        # rewrite: most content shared, largely reworded
        (0.84, 0.85, 300, (2000, 1900), False, 0.8, "rewrite"),
        (0.5, 0.5, 0, (1000, 1000), False, 0.5, "rewrite"),
        (0.9, 0.9, 3000, (2000, 2000), False, 1.0, "rewrite"),  # 75% verbatim: below near_duplicate_verbatim
        # partial-reuse: one side mostly new
        (0.3, 0.9, 1000, (500, 500), False, 1.0, "partial-reuse"),
        (0.45, 1.0, 2000, (1000, 1000), False, 1.0, "partial-reuse"),  # verbatim, but b mostly new
        (0.49, 0.49, 200, (200, 200), False, 0.9, "partial-reuse"),
        (0.1, 0.05, 160, (80, 80), False, 1.0, "partial-reuse"),
    ],
)
def test_decide_table(
    cov_a: float,
    cov_b: float,
    verbatim: int,
    aligned: tuple[int, int],
    identical: bool,
    evidence: float,
    expected: str,
) -> None:
    assert decide(cov_a, cov_b, verbatim, aligned, identical, evidence, CFG) == expected


def test_docstring_example() -> None:
    assert decide(0.84, 0.85, 300, (2000, 1900), False, 0.8, VerdictConfig()) == "rewrite"


def test_evidence_threshold() -> None:
    args = (0.9, 0.9, 0, (2000, 1900), False)
    assert decide(*args, CFG.min_passage_score, CFG) == "rewrite"
    assert decide(*args, CFG.min_passage_score - 1e-9, CFG) == "unrelated"
    assert decide(*args, 0.3, VerdictConfig(min_passage_score=0.3)) == "rewrite"
    assert decide(*args, 0.0, VerdictConfig(min_passage_score=0.0)) == "rewrite"


def test_partial_chars_threshold_uses_the_larger_side() -> None:
    assert decide(0.9, 0.9, 159, (79, 80), False, 1.0, CFG) != "unrelated"
    assert decide(0.9, 0.9, 158, (79, 79), False, 1.0, CFG) == "unrelated"
    assert decide(0.9, 0.9, 158, (79, 79), False, 1.0, VerdictConfig(partial_chars=0)) != "unrelated"


def test_coverage_cut_offs_follow_the_config() -> None:
    args = (0.6, 0.6, 0, (1000, 1000), False, 1.0)
    assert decide(*args, CFG) == "rewrite"
    assert decide(*args, VerdictConfig(rewrite_coverage=0.7)) == "partial-reuse"
    verb = (0.85, 0.85, 1800, (1000, 1000), False, 1.0)
    assert decide(*verb, CFG) == "near-duplicate"
    assert decide(*verb, VerdictConfig(near_duplicate_verbatim=0.95)) == "rewrite"
    assert decide(*verb, VerdictConfig(near_duplicate_coverage=0.9)) != "near-duplicate"


def test_verdict_is_monotone_in_coverage() -> None:
    """Raising both coverages never turns shared text into a weaker verdict than partial reuse."""
    rank = {"unrelated": 0, "partial-reuse": 1, "rewrite": 2, "near-duplicate": 2, "duplicate": 3}
    prev = 0
    for k in range(0, 101, 5):
        cov = k / 100
        v = decide(cov, cov, 0, (1000, 1000), False, 0.9, CFG)
        assert rank[v] >= prev
        prev = rank[v]


_cov = st.floats(0.0, 1.0, allow_nan=False)
_chars = st.integers(0, 5000)


@settings(max_examples=300)
@given(_cov, _cov, _chars, _chars, st.floats(0.0, 1.0), st.booleans(), st.floats(0.0, 1.0))
def test_decide_is_symmetric(
    cov_a: float,
    cov_b: float,
    ca: int,
    cb: int,
    verbatim_share: float,
    identical: bool,
    evidence: float,
) -> None:
    verbatim = int(verbatim_share * (ca + cb))
    v1 = decide(cov_a, cov_b, verbatim, (ca, cb), identical, evidence, CFG)
    v2 = decide(cov_b, cov_a, verbatim, (cb, ca), identical, evidence, CFG)
    assert v1 == v2
    assert v1 in VERDICTS
    if identical:
        assert v1 == "duplicate"
    elif evidence < CFG.min_passage_score or max(ca, cb) < CFG.partial_chars:
        assert v1 == "unrelated"
    else:
        assert v1 != "unrelated" and v1 != "duplicate"
        if min(cov_a, cov_b) < CFG.rewrite_coverage:
            assert v1 == "partial-reuse"
        if v1 == "near-duplicate":
            assert verbatim / max(1, ca + cb) >= CFG.near_duplicate_verbatim
            assert max(cov_a, cov_b) >= CFG.near_duplicate_coverage


@settings(max_examples=100)
@given(
    st.builds(
        VerdictConfig,
        near_duplicate_coverage=_cov,
        near_duplicate_verbatim=_cov,
        rewrite_coverage=_cov,
        partial_chars=st.integers(0, 500),
        min_passage_score=_cov,
    ),
    _cov,
    _cov,
    _chars,
    _chars,
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_decide_is_symmetric_under_any_config(
    cfg: VerdictConfig,
    cov_a: float,
    cov_b: float,
    ca: int,
    cb: int,
    share: float,
    evidence: float,
) -> None:
    verbatim = int(share * (ca + cb))
    assert decide(cov_a, cov_b, verbatim, (ca, cb), False, evidence, cfg) == decide(
        cov_b, cov_a, verbatim, (cb, ca), False, evidence, cfg
    )


def test_short_verbatim_passage_is_not_evidence_on_its_own() -> None:
    """A shared stock phrase (a verbatim run shorter than min_verbatim_chars) does not make a pair reused."""
    from retold.model import Alignment, Document, Passage, Span
    from retold.text.analyze import analyze
    from retold.verdict import judge

    a = analyze(Document("a", "Alpha alpha alpha alpha alpha alpha alpha alpha alpha. " * 10))
    b = analyze(Document("b", "Beta beta beta beta beta beta beta beta beta beta. " * 10))
    phrase = Passage("verbatim", 0, 40, 0, 40, 1.0)
    spans = (Span(0, 200, "verbatim"), Span(200, 400, "new"))
    weak = Alignment((phrase,), spans, spans)
    assert judge(a, b, weak).verdict == "unrelated"
    long = Passage("verbatim", 0, 200, 0, 200, 1.0)
    assert judge(a, b, Alignment((long,), spans, spans)).verdict == "partial-reuse"


def test_one_shared_sentence_is_no_partial_reuse() -> None:
    """A partial reuse needs aligned text in `partial_sentences` (2) sentences of each side: one shared sentence
    (a stock background line, a name list, a quote) is what independent reports share."""
    from retold.model import Alignment, Document, Passage, Span
    from retold.text.analyze import analyze
    from retold.verdict import judge

    sentence = "The singer died of a drug overdose in London in 1970 at the age of twenty seven years. "
    a = analyze(Document("a", sentence + "His house in Mayfair is now a museum open to all visitors. " * 6))
    b = analyze(Document("b", sentence + "A guitar he played at a festival sold for a record sum today. " * 6))
    one = Passage("verbatim", 0, len(sentence) - 1, 0, len(sentence) - 1, 1.0)
    spans_a = (Span(0, len(sentence), "verbatim"), Span(len(sentence), len(a.doc.text), "new"))
    spans_b = (Span(0, len(sentence), "verbatim"), Span(len(sentence), len(b.doc.text), "new"))
    assert judge(a, b, Alignment((one,), spans_a, spans_b)).verdict == "unrelated"
    two = Passage("verbatim", 0, len(sentence) + 20, 0, len(sentence) + 20, 1.0)
    assert judge(a, b, Alignment((two,), spans_a, spans_b)).verdict == "partial-reuse"
    lenient = VerdictConfig(partial_sentences=1)
    assert judge(a, b, Alignment((one,), spans_a, spans_b), lenient).verdict == "partial-reuse"
