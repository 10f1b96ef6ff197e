"""Alignment on degenerate input: the grid helpers and tie-breaks against brute-force statements of their rules,
the passage helpers against their quadratic definitions, the sentence cap, and texts that used to take the
aligner's memory (one sentence repeated hundreds of times, a long line without a sentence end) finishing within
stated bounds."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from retold import semantic
from retold.align import document
from retold.align.aligner import align
from retold.align.document import cosine, prepare, ratio
from retold.align.grid import window_count
from retold.align.matching import _best_per_sentence, _supported
from retold.align.passages import _drop_covered, _grow, _union_overlapping, spans, whitespace_source
from retold.config import AlignConfig, LimitsConfig
from retold.errors import ConfigError
from retold.model import Alignment, Document, Passage, PassageLabel, Span
from retold.text.analyze import Analyzed, analyze
from tests.align.test_align import _check_alignment, document_pairs

OFF = AlignConfig(semantic="off")
ON = AlignConfig(semantic="auto")
REPEATED = "The council approved the harbour budget after a long debate on Tuesday. " * 250


@st.composite
def grids(draw: st.DrawFn, max_side: int = 9) -> NDArray[np.bool_]:
    n, m = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    grid: NDArray[np.bool_] = draw(arrays(np.bool_, (n, m)))
    return grid


# --- grid rules against brute force ---------------------------------------------------------------------------


@given(grids(), st.integers(0, 4))
def test_window_count_counts_cells_in_the_box(grid: NDArray[np.bool_], w: int) -> None:
    n, m = grid.shape
    want = [
        [sum(grid[a, b] for a in range(n) for b in range(m) if abs(a - i) <= w and abs(b - j) <= w) for j in range(m)]
        for i in range(n)
    ]
    assert window_count(grid, w).tolist() == want


@given(st.data(), grids(), st.integers(0, 4), st.booleans())
def test_supported_is_an_anchor_in_the_window(
    data: st.DataObject, anchors: NDArray[np.bool_], w: int, exclude_self: bool
) -> None:
    pairs = data.draw(arrays(np.bool_, anchors.shape))
    n, m = anchors.shape
    cells = [(int(a), int(b)) for a, b in zip(*np.nonzero(anchors), strict=True)]
    want = [
        [
            bool(pairs[i, j])
            and any(abs(i - a) <= w and abs(j - b) <= w and not (exclude_self and (i, j) == (a, b)) for a, b in cells)
            for j in range(m)
        ]
        for i in range(n)
    ]
    assert _supported(pairs, anchors, w, exclude_self).tolist() == want


def _ranked_first(s: NDArray[np.float64], i: int, j: int, k: int) -> bool:
    """The documented rule, cell by cell: fewer than k cells of the row (of the column) rank before (i, j)."""
    n, m = s.shape
    before_in_row = sum(1 for c in range(m) if s[i, c] > 0 and (-s[i, c], abs(i - c), c) < (-s[i, j], abs(i - j), j))
    before_in_col = sum(1 for r in range(n) if s[r, j] > 0 and (-s[r, j], abs(r - j), r) < (-s[i, j], abs(i - j), i))
    return before_in_row < k and before_in_col < k


# few distinct values, so ties are common (a text repeating one sentence gives whole rows of equal scores)
tied_scores = st.sampled_from([0.0, 0.0, 0.3, 0.6, 0.6, 0.95, 1.0, 1.0])


@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 3), st.data())
def test_best_per_sentence_follows_the_tie_break(n: int, m: int, k: int, data: st.DataObject) -> None:
    s = data.draw(arrays(np.float64, (n, m), elements=tied_scores))
    keep = _best_per_sentence(s, k)
    want = [[bool(s[i, j] > 0) and _ranked_first(s, i, j, k) for j in range(m)] for i in range(n)]
    assert keep.tolist() == want
    assert keep.sum(axis=1).max() <= k and keep.sum(axis=0).max() <= k
    assert np.array_equal(_best_per_sentence(s.T, k), keep.T)  # symmetric in a and b


@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 3), st.data())
def test_best_per_sentence_without_ties_keeps_the_k_strongest(n: int, m: int, k: int, data: st.DataObject) -> None:
    """Without ties the rule is the one before tie-breaking: at least the k-th strongest of row and column."""
    values = data.draw(st.lists(st.floats(0.01, 1.0), min_size=n * m, max_size=n * m, unique=True))
    zero = data.draw(arrays(np.bool_, (n, m)))
    s = np.where(zero, 0.0, np.array(values).reshape(n, m))
    kth_row = -np.sort(-s, axis=1)[:, min(k, m) - 1 : min(k, m)]
    kth_col = -np.sort(-s, axis=0)[min(k, n) - 1 : min(k, n), :]
    assert np.array_equal(_best_per_sentence(s, k), (s > 0) & (s >= kth_row) & (s >= kth_col))


# --- passage helpers against their quadratic definitions -------------------------------------------------------


def _union_reference(psg: Sequence[Passage]) -> list[Passage]:
    """`_union_overlapping` as first written: every passage scans every merged one."""
    verb = sorted((p for p in psg if p.label == "verbatim"), key=lambda p: (p.a_start, p.b_start))
    merged: list[Passage] = []
    for p in verb:
        for n, q in enumerate(merged):
            if p.a_start <= q.a_end and q.a_start <= p.a_end and p.b_start <= q.b_end and q.b_start <= p.b_end:
                merged[n] = Passage(
                    "verbatim",
                    min(p.a_start, q.a_start),
                    max(p.a_end, q.a_end),
                    min(p.b_start, q.b_start),
                    max(p.b_end, q.b_end),
                    max(p.score, q.score),
                )
                break
        else:
            merged.append(p)
    return merged + [p for p in psg if p.label != "verbatim"]


def _drop_reference(psg: Sequence[Passage]) -> list[Passage]:
    """`_drop_covered` as first written: each passage against each verbatim one."""
    verb = [p for p in psg if p.label == "verbatim"]

    def size(p: Passage) -> int:
        return (p.a_end - p.a_start) + (p.b_end - p.b_start)

    def inside(p: Passage, q: Passage) -> bool:
        if p is q or size(q) <= size(p):
            return False
        return (q.a_start <= p.a_start and p.a_end <= q.a_end) or (q.b_start <= p.b_start and p.b_end <= q.b_end)

    keep = [p for p in psg if not any(inside(p, q) for q in verb)]
    keep.sort(key=lambda p: (p.a_start, p.b_start, p.a_end, p.b_end))
    return keep


@st.composite
def passages(draw: st.DrawFn) -> list[Passage]:
    out = []
    for _ in range(draw(st.integers(0, 14))):
        a0, b0 = draw(st.integers(0, 30)), draw(st.integers(0, 30))
        a1, b1 = a0 + draw(st.integers(0, 12)), b0 + draw(st.integers(0, 12))
        label: PassageLabel = draw(st.sampled_from(["verbatim", "verbatim", "paraphrase"]))
        out.append(Passage(label, a0, a1, b0, b1, draw(st.sampled_from([0.5, 0.8, 1.0]))))
    return out


@given(passages())
def test_union_overlapping_equals_its_quadratic_definition(psg: list[Passage]) -> None:
    assert _union_overlapping(psg) == _union_reference(psg)


@given(passages())
def test_drop_covered_equals_its_quadratic_definition(psg: list[Passage]) -> None:
    assert _drop_covered(psg) == _drop_reference(psg)


@given(
    st.lists(st.sampled_from(["Ab. ", "cd ", "(Reuters) ", "\n\n", "x", " "]), min_size=1, max_size=15).map("".join),
    st.lists(st.tuples(st.integers(-2, 100), st.integers(-2, 100)), max_size=8),
)
def test_spans_paint_verbatim_ranges_like_slices(text: str, ranges: list[tuple[int, int]]) -> None:
    an = analyze(Document("x", text))
    linked = [n % 2 == 0 for n in range(len(an.sentences))]
    got = spans(text, an.sentences, linked, ranges)
    # reference: paint each range by slicing, as the labels were first computed
    codes = ["new"] * len(text)
    for n, s in enumerate(an.sentences):
        start = 0 if n == 0 else s.start
        end = len(text) if n == len(an.sentences) - 1 else an.sentences[n + 1].start
        codes[start:end] = ["attribution" if s.kind == "attribution" else ("paraphrase" if linked[n] else "new")] * (
            end - start
        )
    for v0, v1 in ranges:
        for c in range(max(v0, 0), min(v1, len(text))):
            if codes[c] != "attribution":
                codes[c] = "verbatim"
    want = [codes[src] for src in whitespace_source(text).tolist()]  # whitespace takes the label before it
    assert _labels(got) == want


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from("xyz"), max_size=40),
    st.lists(st.sampled_from("xyz"), max_size=40),
    st.lists(st.tuples(st.integers(-1, 40), st.integers(-1, 40)), min_size=1, max_size=6),
    st.sampled_from([1, -1]),
)
def test_grow_with_a_shared_memo_ends_where_a_fresh_walk_ends(
    ta: list[str], tb: list[str], starts: list[tuple[int, int]], step: int
) -> None:
    ok_a, ok_b = np.ones(len(ta), dtype=bool), np.ones(len(tb), dtype=bool)
    shared: dict[tuple[int, int], tuple[int, int]] = {}
    for i, j in starts:
        fresh = _grow(ta, tb, ok_a, ok_b, i, j, step, 2, 3, {})
        assert _grow(ta, tb, ok_a, ok_b, i, j, step, 2, 3, shared) == fresh


# --- the sentence cap ------------------------------------------------------------------------------------------


def _an(text: str, id_: str) -> Analyzed:
    return analyze(Document(id_, text))


def _seen_end(an: Analyzed, cap: int) -> int:
    """The character where the first `cap` content sentences of `an` end (the text's end when it has no more)."""
    units = [s for s in an.sentences if s.kind != "attribution"]
    return units[cap - 1].end if len(units) > cap else len(an.doc.text)


def _labels(side: Sequence[Span]) -> list[str]:
    """One label per character."""
    return [sp.label for sp in side for _ in range(sp.end - sp.start)]


def _unseen_labels(an: Analyzed, side: Sequence[Span], cap: int) -> set[str]:
    """Labels of the non-space characters past what alignment saw of `an`."""
    text, end = an.doc.text, _seen_end(an, cap)
    return {lab for c, lab in enumerate(_labels(side)) if c >= end and not text[c].isspace()}


@settings(max_examples=60, deadline=None)
@given(document_pairs(), st.integers(1, 4))
def test_sentence_cap_keeps_the_span_contract(pair: tuple[str, str], cap: int) -> None:
    a, b = _an(pair[0], "a"), _an(pair[1], "b")
    al = align(a, b, OFF, max_sentences=cap)
    _check_alignment(a, b, al)  # each side covered by sorted, disjoint spans
    end_a, end_b = _seen_end(a, cap), _seen_end(b, cap)
    for p in al.passages:
        assert p.a_end <= end_a and p.b_end <= end_b
    assert _unseen_labels(a, al.spans_a, cap) <= {"new", "attribution"}  # past what alignment saw: unaligned
    assert _unseen_labels(b, al.spans_b, cap) <= {"new", "attribution"}
    back = align(b, a, OFF, max_sentences=cap)
    assert al.spans_a == back.spans_b and al.spans_b == back.spans_a


@settings(max_examples=30, deadline=None)
@given(document_pairs())
def test_sentence_cap_above_the_sentence_count_changes_nothing(pair: tuple[str, str]) -> None:
    a, b = _an(pair[0], "a"), _an(pair[1], "b")
    units = max(len(a.content_sentences), len(b.content_sentences), 1)
    assert align(a, b, OFF, max_sentences=units) == align(a, b, OFF)


def test_capped_copy_aligns_the_first_sentences_only() -> None:
    text = " ".join(f"Sentence number {w} tells of the harbour budget and {w} councillors." for w in _WORDS)
    a = _an(text, "a")
    al = align(a, a, OFF, max_sentences=3)
    end = _seen_end(a, 3)
    assert set(_labels(al.spans_a)[:end]) == {"verbatim"}
    assert _unseen_labels(a, al.spans_a, 3) == {"new"}
    assert len(al.passages) == 1


_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight"]


def test_sentence_cap_must_be_positive() -> None:
    a = _an("The council met on Tuesday.", "a")
    with pytest.raises(ConfigError, match="max_sentences"):
        align(a, a, OFF, max_sentences=0)


def test_default_cap_is_the_config_default() -> None:
    assert align.__kwdefaults__ == {"max_sentences": LimitsConfig().align_sentences}


def test_capped_inputs_are_the_leading_block_of_the_similarities() -> None:
    a = _an(" ".join(f"The {w} ship sailed into the harbour at dawn with {w} crates." for w in _WORDS), "a")
    b = _an(" ".join(f"A {w} crate of fish was landed in the harbour with {w} ships." for w in _WORDS), "b")
    da, db = document.compute(a), document.compute(b)
    ha, hb = document.compute(a, 3), document.compute(b, 5)
    assert ha.units == da.units[:3] and ha.strings == da.strings[:3] and hb.texts == db.texts[:5]
    assert ha.end_token == a.sentences[ha.units[-1]].tok_end and da.end_token == len(a.tokens)
    assert document.compute(a, len(da.units)).end_token == len(a.tokens)
    assert np.allclose(cosine(ha, hb), cosine(da, db)[:3, :5], rtol=0, atol=1e-12)
    assert np.array_equal(ratio(ha, hb), ratio(da, db)[:3, :5])
    assert ha.plain_spans == da.plain_spans  # the spans cover the whole text


def test_sparse_cosine_equals_the_dense_one(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _an(" ".join(f"The {w} ship sailed into the harbour at dawn with {w} crates." for w in _WORDS), "a")
    b = _an(" ".join(f"A {w} crate of fish was landed in the harbour by {w} ships." for w in _WORDS), "b")
    da, db = prepare(a, b)
    dense = cosine(da, db)
    monkeypatch.setattr(document, "DENSE_CELLS", 0)
    assert np.allclose(cosine(da, db), dense, rtol=0, atol=1e-12)


# --- degenerate texts within stated bounds ---------------------------------------------------------------------


def _measured(a: Analyzed, b: Analyzed, cfg: AlignConfig, **kw: int) -> tuple[Alignment, float, float]:
    """The alignment, its wall time in seconds and its peak traced memory in MiB (inputs prepared afresh; what
    any first alignment loads, such as the background word frequencies, loaded before)."""
    warm = _an("The mayor opened the new bridge on Monday morning.", "w")
    align(warm, warm, cfg)
    document._CACHE.clear()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        al = align(a, b, cfg, **kw)
        return al, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_repeated_sentence_with_its_copy_is_one_verbatim_passage_in_bounded_memory() -> None:
    """250 copies of one sentence (once a (62500, 62500) array, 29 GiB): now a few MiB."""
    a = _an(REPEATED, "a")
    al, seconds, peak = _measured(a, a, OFF)
    assert peak < 32 and seconds < 30
    assert [(p.a_start, p.a_end, p.b_start, p.b_end) for p in al.passages] == [
        (0, len(REPEATED.rstrip()), 0, len(REPEATED.rstrip()))
    ]
    assert {sp.label for sp in al.spans_a} == {"verbatim"}


class _FakeEncoder(semantic.Encoder):
    """Every sentence embeds to one unit vector: the semantic raise runs without the model."""

    def __init__(self) -> None:
        super().__init__(cache_size=0)

    def encode(self, sentences: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(sentences), semantic.DIM), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def test_repeated_anchors_with_the_semantic_raise_in_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of thousands of anchors (a copied sentence between reworded ones) for the semantic gate: the
    anchor neighbourhood is a box filter over the grid, not a sentences x anchors product."""
    monkeypatch.setattr(semantic, "available", lambda: True)
    monkeypatch.setattr(semantic, "shared_encoder", lambda: _FakeEncoder())
    x = "The council approved the harbour budget after a long debate on Tuesday. "
    a = _an((x + "Fishermen said the new quay would bring more boats to the town. ") * 300, "a")
    b = _an((x + "Boat owners expect the quay to draw trade to the town soon. ") * 300, "b")
    al, seconds, peak = _measured(a, b, ON)
    assert peak < 64 and seconds < 60
    _check_alignment(a, b, al)


_LINE = " ".join(f"harbour{n % 97}" for n in range(40_000))[:200_000]  # no sentence end: 600-character windows
_TINY = "Ab. " * 50_000  # 50,000 one-word sentences
_CJK = "".join("中国人民政府经济发展城市新闻报道记者会议"[(n * n) % 20] for n in range(90_000))  # unspaced, no stop


@pytest.mark.parametrize("text", [_LINE, _TINY, _CJK], ids=["long-line", "tiny-sentences", "unspaced-script"])
def test_long_degenerate_text_is_capped_in_bounded_memory(text: str) -> None:
    """Alignment sees the first `max_sentences` sentences of each side; the rest stays new."""
    a = _an(text, "a")
    assert len(a.content_sentences) > 100 and max(s.end - s.start for s in a.sentences) <= 600
    al, seconds, peak = _measured(a, a, OFF, max_sentences=100)
    assert peak < 32 and seconds < 30
    assert set(_labels(al.spans_a)[: _seen_end(a, 100)]) == {"verbatim"}
    assert _unseen_labels(a, al.spans_a, 100) == {"new"}


def test_giant_token_is_one_verbatim_passage_in_bounded_memory() -> None:
    """200,000 letters without a space: one token over 334 windows. The first window holds it (and the character
    ratio reads its first `MAX_STRING` characters); a verbatim passage ends where its last token ends, so the
    copied token is verbatim whole, past the sentences alignment looked at."""
    a = _an("a" * 200_000, "a")
    al, seconds, peak = _measured(a, a, OFF, max_sentences=100)
    assert peak < 32 and seconds < 30
    assert [(sp.start, sp.end, sp.label) for sp in al.spans_a] == [(0, 200_000, "verbatim")]
