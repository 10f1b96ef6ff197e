"""Tests for retold.align: structural properties of `align` on generated document pairs (full, disjoint span
cover of both sides, passages inside aligned spans, symmetry), worked examples, and the passage/span helpers."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.align.aligner import align
from retold.align.matching import Link
from retold.align.passages import Piece, coverage, link_pieces, merge_pieces, spans
from retold.config import VerdictConfig
from retold.model import LABELS, Alignment, Document, Passage, Sentence, Span
from retold.text.analyze import Analyzed, analyze
from retold.verdict import judge

# --- generators ----------------------------------------------------------------------------------------------

_CONTENT = (
    "taliban kabul valley fighters province minister resigned scandal government officials residents fled "
    "aid agencies medicine food shortage resistance leaders claims victory spokesman governor compound "
    "airport evacuation embassy troops withdrawal council sanctions election ballots parliament budget "
    "zorblax quintara velmoria 2,000 3.5 2021 Monday Tuesday"
).split()
_FUNCTION = "the of a and in to on was were had been after before with their said they it that".split()
_NEW_WORDS = (
    "orchestra violin symphony concert pianist melody rehearsal conductor audience ticket theatre opera ballet "
    "sculpture gallery painter canvas museum exhibition"
).split()
_CREDIT_LINES = ["(with inputs from ANI)", "- PTI", "— Agencies", "Picture Credit: @X/Twitter", "IANS"]


def _sentence(rng: random.Random, vocab: list[str], n: int | None = None) -> str:
    n = n or rng.randint(5, 14)
    words = [rng.choice(vocab) if rng.random() < 0.65 else rng.choice(_FUNCTION) for _ in range(n)]
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


def _render(paras: list[list[str]], header: bool, credits: list[tuple[int, str]], sep: str) -> str:
    blocks = [" ".join(p) for p in paras]
    for pos, line in sorted(credits, reverse=True):
        blocks.insert(min(pos, len(blocks)), line)
    text = sep.join(blocks)
    return (" date 2021-09-06 " + text) if header else text


@st.composite
def document_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A document and an edited version: copies, drops, reorders, reworded words, new sentences, credits."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    paras_a = [[_sentence(rng, _CONTENT) for _ in range(rng.randint(1, 3))] for _ in range(draw(st.integers(0, 5)))]
    paras_b = [list(p) for p in paras_a]
    ops = draw(st.lists(st.sampled_from(["drop", "reorder", "replace", "add", "credit", "unrelated"]), max_size=4))
    credits_b: list[tuple[int, str]] = []
    for op in ops:
        sents = [(i, j) for i, p in enumerate(paras_b) for j in range(len(p))]
        if op == "drop" and sents:
            i, j = rng.choice(sents)
            del paras_b[i][j]
            paras_b = [p for p in paras_b if p]
        elif op == "reorder":
            rng.shuffle(paras_b)
        elif op == "replace" and sents:
            i, j = rng.choice(sents)
            words = paras_b[i][j].rstrip(".").split()
            for _ in range(rng.randint(1, 3)):
                words[rng.randrange(len(words))] = rng.choice(_CONTENT + _NEW_WORDS)
            paras_b[i][j] = " ".join(words) + "."
        elif op == "add":
            new = _sentence(rng, _NEW_WORDS)
            if paras_b and rng.random() < 0.5:
                paras_b[rng.randrange(len(paras_b))].append(new)
            else:
                paras_b.insert(rng.randint(0, len(paras_b)), [new])
        elif op == "credit":
            credits_b.append((rng.randint(0, len(paras_b)), rng.choice(_CREDIT_LINES)))
        elif op == "unrelated":
            paras_b = [[_sentence(rng, _NEW_WORDS) for _ in range(rng.randint(1, 3))] for _ in range(rng.randint(0, 4))]
    credits_a = [(rng.randint(0, len(paras_a)), rng.choice(_CREDIT_LINES))] if draw(st.booleans()) else []
    sep_a = draw(st.sampled_from(["\n\n", "\n"]))
    sep_b = draw(st.sampled_from(["\n\n", "\n"]))
    a = _render(paras_a, draw(st.booleans()), credits_a, sep_a)
    b = _render(paras_b, draw(st.booleans()), credits_b, sep_b)
    return a, b


def _an(text: str, id_: str = "x") -> Analyzed:
    return analyze(Document(id_, text))


# --- property checks -----------------------------------------------------------------------------------------


def _check_side(an: Analyzed, side: tuple[Span, ...], ranges: list[tuple[int, int]]) -> None:
    n = len(an.doc.text)
    if n == 0:
        assert side == ()
        return
    assert side[0].start == 0 and side[-1].end == n
    for s, t in zip(side, side[1:], strict=False):
        assert s.end == t.start
        assert s.label != t.label, "neighbours with the same label merge"
    for s in side:
        assert s.start < s.end
        assert s.label in LABELS
    labels = [""] * n
    for s in side:
        labels[s.start : s.end] = [s.label] * (s.end - s.start)
    for b in an.boilerplate:
        assert all(labels[i] == "attribution" for i in range(b.start, b.end)), "boilerplate not in attribution"
    for start, end in ranges:
        assert 0 <= start < end <= n
        assert all(labels[i] in ("verbatim", "paraphrase") for i in range(start, end))


def _check_alignment(a: Analyzed, b: Analyzed, al: Alignment) -> None:
    for p in al.passages:
        assert p.label in ("verbatim", "paraphrase")
        assert 0.0 < p.score <= 1.0 + 1e-9
    assert list(al.passages) == sorted(al.passages, key=lambda p: (p.a_start, p.b_start))
    _check_side(a, al.spans_a, [(p.a_start, p.a_end) for p in al.passages])
    _check_side(b, al.spans_b, [(p.b_start, p.b_end) for p in al.passages])
    # A verbatim passage is verbatim on both sides.
    for p in al.passages:
        if p.label == "verbatim":
            assert any(s.label == "verbatim" and s.start <= p.a_start < s.end for s in al.spans_a)
            assert any(s.label == "verbatim" and s.start <= p.b_start < s.end for s in al.spans_b)


def _swap(p: Passage) -> tuple[str, int, int, int, int]:
    return (p.label, p.b_start, p.b_end, p.a_start, p.a_end)


@settings(max_examples=80, deadline=None)
@given(document_pairs())
def test_alignment_structure(pair: tuple[str, str]) -> None:
    a, b = _an(pair[0], "a"), _an(pair[1], "b")
    _check_alignment(a, b, align(a, b))


@settings(max_examples=60, deadline=None)
@given(document_pairs())
def test_alignment_is_symmetric(pair: tuple[str, str]) -> None:
    a, b = _an(pair[0], "a"), _an(pair[1], "b")
    ab, ba = align(a, b), align(b, a)
    assert ab.spans_a == ba.spans_b and ab.spans_b == ba.spans_a
    fwd = sorted((p.label, p.a_start, p.a_end, p.b_start, p.b_end) for p in ab.passages)
    back = sorted(_swap(p) for p in ba.passages)
    assert fwd == back
    assert sorted(round(p.score, 6) for p in ab.passages) == sorted(round(p.score, 6) for p in ba.passages)
    rab, rba = judge(a, b, ab), judge(b, a, ba)
    assert rab.verdict == rba.verdict
    assert rab.a.coverage == pytest.approx(rba.b.coverage) and rab.b.coverage == pytest.approx(rba.a.coverage)
    assert (rab.a.id, rab.b.id) == ("a", "b") and (rba.a.id, rba.b.id) == ("b", "a")


@settings(max_examples=40, deadline=None)
@given(document_pairs())
def test_document_aligned_with_itself_is_all_verbatim(pair: tuple[str, str]) -> None:
    a = _an(pair[0])
    al = align(a, a)
    _check_alignment(a, a, al)
    assert all(s.label in ("verbatim", "attribution") for s in al.spans_a)
    assert al.spans_a == al.spans_b
    r = judge(a, a, al)
    if a.content_tokens():
        assert r.verdict == "duplicate"
        assert r.a.coverage == 1.0 and r.b.coverage == 1.0


# --- worked examples -----------------------------------------------------------------------------------------

DOC = "\n\n".join(
    [
        "The Taliban said on Monday they had taken control of the Panjshir valley, the last holdout of "
        "resistance forces.",
        "Resistance leaders said they were still fighting and that claims of victory were false. The "
        "minister resigned on Monday after the scandal.",
        "Thousands of residents have fled the valley in recent days, according to aid agencies working in the region.",
        "Food and medicine were running short across the whole province, officials in Kabul said.",
    ]
)

UNRELATED = """\
Apple unveiled a new phone in California on Tuesday, with a faster chip and a better camera for photographers.

Analysts expect strong sales during the holiday quarter, though supply chain problems could limit shipments.

The company's shares rose two percent in early trading on the Nasdaq exchange."""


def _labelled(text: str, side: tuple[Span, ...], label: str) -> str:
    return "".join(text[s.start : s.end] for s in side if s.label == label)


def test_identical_documents() -> None:
    text = " date 2021-09-06 " + DOC + "\n\n(with inputs from ANI)"
    a, b = _an(text, "a"), _an(text, "b")
    al = align(a, b)
    _check_alignment(a, b, al)
    assert [s.label for s in al.spans_a] == ["attribution", "verbatim", "attribution"]
    assert al.spans_a == al.spans_b
    assert all(p.label == "verbatim" and p.score == pytest.approx(1.0) for p in al.passages)
    cov, verb, para = coverage(al.spans_a)
    assert cov == 1.0 and para == 0 and verb == sum(s.end - s.start for s in al.spans_a if s.label == "verbatim")
    r = judge(a, b, al)
    assert r.verdict == "duplicate" and r.a.coverage == 1.0 and r.b.coverage == 1.0
    assert r.a.date == "2021-09-06"


def test_credit_and_header_do_not_break_a_duplicate() -> None:
    a = _an(" date 2021-09-06 " + DOC, "a")
    b = _an(DOC + "\n\n(with inputs from ANI)", "b")
    r = judge(a, b, align(a, b))
    assert r.verdict == "duplicate"


def test_unrelated_documents() -> None:
    a, b = _an(DOC), _an(UNRELATED)
    al = align(a, b)
    _check_alignment(a, b, al)
    assert al.passages == ()
    assert [s.label for s in al.spans_a] == ["new"] and [s.label for s in al.spans_b] == ["new"]
    assert coverage(al.spans_a) == (0.0, 0, 0)
    assert judge(a, b, al).verdict == "unrelated"


def test_copy_with_one_sentence_added() -> None:
    added = "Separately, the orchestra announced a new symphony season with three visiting conductors."
    paras = DOC.split("\n\n")
    text_b = "\n\n".join([*paras[:2], added, *paras[2:]])
    a, b = _an(DOC, "a"), _an(text_b, "b")
    al = align(a, b)
    _check_alignment(a, b, al)
    assert [s.label for s in al.spans_a] == ["verbatim"]
    assert [s.label for s in al.spans_b] == ["verbatim", "new", "verbatim"]
    assert _labelled(text_b, al.spans_b, "new").strip() == added
    assert {p.label for p in al.passages} == {"verbatim"}
    r = judge(a, b, al)
    assert r.a.coverage == 1.0 and r.b.coverage < 1.0
    assert r.verdict == "near-duplicate"


def test_reordered_paragraphs_are_still_found() -> None:
    paras = DOC.split("\n\n")
    text_b = "\n\n".join([paras[2], paras[3], paras[0], paras[1]])
    a, b = _an(DOC, "a"), _an(text_b, "b")
    al = align(a, b)
    _check_alignment(a, b, al)
    assert all(s.label == "verbatim" for s in al.spans_a + al.spans_b)
    # Passages in a-order are out of order on side b.
    b_starts = [p.b_start for p in al.passages]
    assert b_starts != sorted(b_starts)
    for p in al.passages:
        assert " ".join(DOC[p.a_start : p.a_end].split()) == " ".join(text_b[p.b_start : p.b_end].split())
    assert judge(a, b, al).verdict in ("duplicate", "near-duplicate")


def test_sentence_level_paraphrase() -> None:
    old = "The minister resigned on Monday after the scandal."
    new = "After the scandal, the minister quit on Monday."
    text_b = DOC.replace(old, new)
    assert text_b != DOC
    a, b = _an(DOC, "a"), _an(text_b, "b")
    al = align(a, b)
    _check_alignment(a, b, al)
    (p,) = [p for p in al.passages if p.label == "paraphrase"]
    assert DOC[p.a_start : p.a_end] == old
    assert text_b[p.b_start : p.b_end] == new
    assert _labelled(DOC, al.spans_a, "paraphrase").strip() == old
    assert _labelled(text_b, al.spans_b, "paraphrase").strip() == new
    assert all(q.label == "verbatim" for q in al.passages if q is not p)


def test_inline_credit_before_final_full_stop_is_ignored() -> None:
    text_a = DOC.replace("officials in Kabul said.", "officials in Kabul said (Reuters).")
    a, b = _an(text_a, "a"), _an(DOC, "b")
    al = align(a, b)
    _check_alignment(a, b, al)
    assert judge(a, b, al).verdict == "duplicate"


def test_attribution_between_sentences_breaks_a_passage() -> None:
    text = (
        "The Taliban took the Panjshir valley on Monday after heavy fighting.\n- PTI\n"
        "Residents of the valley fled north towards the mountains on foot."
    )
    a = _an(text)
    al = align(a, a)
    _check_alignment(a, a, al)
    assert len(al.passages) == 2
    assert [s.label for s in al.spans_a] == ["verbatim", "attribution", "verbatim"]


def test_empty_documents() -> None:
    e, d = _an(""), _an(DOC)
    al = align(e, d)
    assert al.passages == () and al.spans_a == ()
    assert [s.label for s in al.spans_b] == ["new"]
    assert judge(e, d, al).verdict == "unrelated"
    al = align(e, e)
    assert al == Alignment((), (), ())
    assert judge(e, e, al).verdict == "unrelated"  # nothing to be a duplicate of


# --- helpers on hand-built inputs ----------------------------------------------------------------------------


def _sent(start: int, end: int, kind: str = "text", para: int = 0) -> Sentence:
    return Sentence(start, end, 0, 0, para, kind)  # type: ignore[arg-type]


def test_spans_cover_text_and_merge_equal_neighbours() -> None:
    #        0123456789012345678901234567
    text = "  One two.  Three.\n\n(AFP) Four. "
    sents = [_sent(2, 10), _sent(12, 18), _sent(20, 25, "attribution"), _sent(26, 31)]
    out = spans(text, sents, [True, True, False, False], [(2, 18)])
    assert out == [Span(0, 20, "verbatim"), Span(20, 26, "attribution"), Span(26, len(text), "new")]
    out = spans(text, sents, [True, True, False, False], [(2, 10)])
    assert out == [
        Span(0, 12, "verbatim"),
        Span(12, 20, "paraphrase"),
        Span(20, 26, "attribution"),
        Span(26, len(text), "new"),
    ]


def test_spans_edge_cases() -> None:
    assert spans("", [], [], []) == []
    assert spans("abcde", [], [], []) == [Span(0, 5, "new")]
    assert spans("   abc    ", [_sent(3, 6)], [True], []) == [Span(0, 10, "paraphrase")]
    assert spans("abcd efgh ", [_sent(0, 4), _sent(5, 9)], [False, True], [(5, 9)]) == [
        Span(0, 5, "new"),
        Span(5, 10, "verbatim"),
    ]
    # Verbatim paint (an extended copy) reaches unlinked text, never attribution.
    assert spans("abcd efgh ", [_sent(0, 4, "attribution"), _sent(5, 9)], [False, False], [(0, 10)]) == [
        Span(0, 5, "attribution"),
        Span(5, 10, "verbatim"),
    ]


def test_link_pieces_split_runs_and_reworded_stretches() -> None:
    a = _an("The prime minister resigned on Monday after a long and bitter row over the budget plan.", "a")
    b = _an(
        "On Tuesday the prime minister resigned on Monday after a long and bitter quarrel over the budget plan.", "b"
    )
    link = Link(0, 0, 0.7, False)
    pieces = link_pieces(link, a, b, 0, 0, min_run=5, max_gap=0)
    labels = [(p.label, a.doc.text[p.a_start : p.a_end], b.doc.text[p.b_start : p.b_end]) for p in pieces]
    assert labels == [
        (
            "verbatim",
            "The prime minister resigned on Monday after a long and bitter",
            "the prime minister resigned on Monday after a long and bitter",
        ),
        # A four-token run is too short to count as copied: it stays inside the reworded stretch.
        ("paraphrase", "row over the budget plan", "quarrel over the budget plan"),
    ]
    # Swapping the sides swaps every piece.
    back = link_pieces(link, b, a, 0, 0, min_run=5, max_gap=0)
    assert [(p.label, p.b_start, p.b_end, p.a_start, p.a_end) for p in back] == [
        (p.label, p.a_start, p.a_end, p.b_start, p.b_end) for p in pieces
    ]


def test_link_pieces_join_runs_across_a_small_gap() -> None:
    a = _an("The committee approved the new budget for schools and hospitals in the northern region today.", "a")
    b = _an("The committee approved the new budget for schools und hospitals in the northern region today.", "b")
    link = Link(0, 0, 0.8, False)
    assert [p.label for p in link_pieces(link, a, b, 0, 0, min_run=5, max_gap=0)] == [
        "verbatim",
        "paraphrase",
        "verbatim",
    ]
    (joined,) = link_pieces(link, a, b, 0, 0, min_run=5, max_gap=2)
    assert joined.label == "verbatim" and (joined.a_start, joined.a_end) == (0, len(a.doc.text) - 1)


def test_merge_pieces_across_sentences_but_not_across_attribution() -> None:
    text = "Alpha beta gamma delta epsilon. Zeta eta theta iota kappa.\n\n(Reuters)\n\nLambda mu nu xi omicron."
    a = _an(text, "a")
    b = _an(text.replace("(Reuters)", "Filler words stand here."), "b")
    s = a.sentences
    pieces = [
        Piece("verbatim", x.start, x.end, y.start, y.end, 1.0)
        for x, y in zip(s, b.sentences, strict=False)
        if x.kind != "attribution"
    ]
    pieces = [p for p in pieces]
    out = merge_pieces(
        pieces[:2] + [Piece("verbatim", s[3].start, s[3].end, b.sentences[3].start, b.sentences[3].end, 1.0)], a, b, 2
    )
    assert [(p.a_start, p.a_end) for p in out] == [(s[0].start, s[1].end), (s[3].start, s[3].end)]


def test_judge_verdicts_on_alignments() -> None:
    cfg = VerdictConfig()
    first = DOC.split("\n\n")[0]
    a = _an(first, "a")
    b = _an(UNRELATED + "\n\n" + first + "\n\n" + UNRELATED.replace("Apple", "Samsung"), "b")
    al = align(a, b)
    _check_alignment(a, b, al)
    r = judge(a, b, al, cfg)
    assert r.a.coverage == 1.0 and 0.0 < r.b.coverage < cfg.rewrite_coverage
    assert r.verdict == "partial-reuse"
    assert r.channels == ()
    assert r.to_json()["verdict"] == "partial-reuse"
    assert (r.a.chars, r.b.chars) == (len(a.doc.text), len(b.doc.text))
