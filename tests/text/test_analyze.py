"""Tests for retold.text.analyze: sentences of an analysed document are sorted, disjoint, stripped spans with
consistent token ranges; boilerplate becomes attribution units; a leading date header fills `doc.date`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.model import Document
from retold.text.analyze import Analyzed, analyze
from retold.text.tokens import is_stopword

_WORDS = (
    "taliban kabul valley fighters province minister resigned monday scandal government officials said the of "
    "a and in to on was were had been after before with their zorblax quintara 2,000 3.5 2021 Mr. U.S. Dr. "
    "塔利班 ok"
).split()
_CREDITS = ["(Reuters)", "(AFP)", "(Photo: PTI)", "(with inputs from ANI)"]
_LINES = [
    "(with inputs from ANI)",
    "- PTI",
    "IANS",
    "Also read: more news here",
    "Picture Credit: @X/Twitter",
    "Reporting by John Smith; Editing by Jane Doe",
]


@st.composite
def sentence_text(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=14))
    if draw(st.booleans()) and len(words) > 2:
        # An inline credit followed by more words of the sentence.
        k = draw(st.integers(1, len(words) - 1))
        words.insert(k, draw(st.sampled_from(_CREDITS)))
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    return text + draw(st.sampled_from([".", ".", "?", "!", ".”", "", "。"]))


@st.composite
def documents(draw: st.DrawFn) -> str:
    paras = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 5)) == 0:
            paras.append(draw(st.sampled_from(_LINES)))
        else:
            sep = draw(st.sampled_from([" ", "  ", "\n"]))
            paras.append(sep.join(draw(st.lists(sentence_text(), min_size=1, max_size=4))))
    body = "".join(p + draw(st.sampled_from(["\n", "\n\n", "\n \n", "\n\n\n"])) for p in paras)
    if draw(st.booleans()):
        body += "(with inputs from ANI)"
    if draw(st.booleans()):
        body = draw(st.sampled_from([" date 2021-09-06 ", "date 2021-09-06\n", " date: 2021-09-06T10:30 "])) + body
    return body


def _check_analyzed(an: Analyzed) -> None:
    text = an.doc.text
    starts = an.tokens.starts.tolist()
    prev_end = 0
    prev_para = 0
    for s in an.sentences:
        assert prev_end <= s.start < s.end <= len(text), "sentences must be sorted and disjoint"
        piece = text[s.start : s.end]
        assert piece and piece == piece.strip()
        assert s.kind in ("text", "heading", "attribution")
        assert s.paragraph >= prev_para
        # Token range: exactly the tokens whose start lies inside the sentence.
        assert 0 <= s.tok_start <= s.tok_end <= len(starts)
        assert all(s.start <= starts[k] < s.end for k in range(s.tok_start, s.tok_end))
        assert s.tok_start == 0 or starts[s.tok_start - 1] < s.start
        assert s.tok_end == len(starts) or starts[s.tok_end] >= s.end
        prev_end, prev_para = s.end, s.paragraph
    # Every token that starts inside some sentence is in that sentence's range (follows from the above, but
    # check it the direct way too).
    for k, st_ in enumerate(starts):
        for s in an.sentences:
            if s.start <= st_ < s.end:
                assert s.tok_start <= k < s.tok_end
    # Attribution units cover the boilerplate exactly, up to whitespace and stray punctuation glued on.
    bp_chars = {i for b in an.boilerplate for i in range(b.start, b.end) if not text[i].isspace()}
    attr_chars = {i for s in an.sentences if s.kind == "attribution" for i in range(s.start, s.end)}
    assert bp_chars <= attr_chars
    assert all(not text[i].isalnum() for i in attr_chars - bp_chars)
    assert len(an.stems) == len(an.tokens)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_analyze_properties(text: str) -> None:
    an = analyze(Document("d", text))
    _check_analyzed(an)
    assert an.doc.text == text
    if text.lstrip().startswith("date"):
        assert an.doc.date == "2021-09-06"
        assert an.sentences[0].kind == "attribution"
    else:
        assert an.doc.date is None
    # Nothing with a word character is left out of every sentence.
    covered = {i for s in an.sentences for i in range(s.start, s.end)}
    assert all(not text[i].isalnum() for i in range(len(text)) if i not in covered)
    # Content tokens are the tokens of the non-attribution units.
    attr_tokens = {k for s in an.sentences if s.kind == "attribution" for k in range(s.tok_start, s.tok_end)}
    assert an.content_tokens() == [t for k, t in enumerate(an.tokens.norm) if k not in attr_tokens]
    assert an.content_stems() == [
        an.stems[k] for k, t in enumerate(an.tokens.norm) if k not in attr_tokens and not is_stopword(t)
    ]


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_analyze_any_text(text: str) -> None:
    _check_analyzed(analyze(Document("d", text)))


def test_example_document() -> None:
    text = (
        " date 2021-09-06 Kabul: The Taliban said on Monday they had won. Mr. Mujahid spoke.\n\n"
        "Taliban take Panjshir\n\n"
        "Fighting went on (Reuters) for a week. Residents fled!\n"
        "(with inputs from ANI)"
    )
    an = analyze(Document("x", text))
    got = [(s.kind, text[s.start : s.end], s.paragraph) for s in an.sentences]
    assert got == [
        ("attribution", "date 2021-09-06", 0),
        ("text", "Kabul: The Taliban said on Monday they had won.", 0),
        ("text", "Mr. Mujahid spoke.", 0),
        ("heading", "Taliban take Panjshir", 1),
        ("text", "Fighting went on", 2),
        ("attribution", "(Reuters)", 2),
        ("text", "for a week.", 2),
        ("text", "Residents fled!", 2),
        ("attribution", "(with inputs from ANI)", 3),
    ]
    assert an.doc.date == "2021-09-06"
    assert [b.kind for b in an.boilerplate] == ["date-header", "agency", "agency"]
    assert an.content_sentences == tuple(s for s in an.sentences if s.kind != "attribution")
    assert "reuters" not in an.content_tokens() and "ani" not in an.content_tokens()
    assert "taliban" in an.content_stems() and "the" not in an.content_stems()
    _check_analyzed(an)


def test_explicit_date_wins_over_header() -> None:
    an = analyze(Document("x", " date 2021-09-06 Kabul fell.", date="2020-01-01"))
    assert an.doc.date == "2020-01-01"


def test_document_fields_are_kept() -> None:
    doc = Document("id7", "Kabul fell.", title="T", source="S", url="U", origin="f:1")
    assert analyze(doc).doc == doc


def test_empty_document() -> None:
    an = analyze(Document("x", ""))
    assert an.sentences == () and len(an.tokens) == 0 and an.content_tokens() == []


def test_heading_needs_the_whole_paragraph() -> None:
    text = "Fighting went on (Reuters) for a week"  # no final punctuation, but split by a credit
    an = analyze(Document("x", text))
    assert [s.kind for s in an.sentences] == ["text", "attribution", "text"]
    an = analyze(Document("x", "Taliban take Kabul\nThey won."))
    assert [s.kind for s in an.sentences] == ["heading", "text"]


def test_stray_punctuation_is_glued_to_previous_unit() -> None:
    text = "Kabul fell on Sunday. !!\n\nNext one."
    an = analyze(Document("x", text))
    assert [text[s.start : s.end] for s in an.sentences] == ["Kabul fell on Sunday. !!", "Next one."]


def test_boilerplate_spanning_a_paragraph_break_is_attribution_in_both() -> None:
    text = "date\n\n2021-09-06\n\nThe Taliban said so."
    an = analyze(Document("x", text))
    assert [(s.kind, text[s.start : s.end]) for s in an.sentences] == [
        ("attribution", "date"),
        ("attribution", "2021-09-06"),
        ("text", "The Taliban said so."),
    ]
    assert an.doc.date == "2021-09-06"
    _check_analyzed(an)


@pytest.mark.parametrize(
    "text",
    [
        "Kabul fell on Sunday (Reuters).",  # text sentence (0, 31) overlaps attribution (21, 30)
        "The minister spoke. (Photo: PTI).",
        ":(Reuters)",  # the attribution unit becomes the empty span (1, 1)
        "Kabul fell.\n\n* (Photo: PTI)",  # attribution unit (15, 14): end before start
    ],
)
def test_credit_before_final_full_stop_keeps_sentences_disjoint(text: str) -> None:
    an = analyze(Document("x", text))
    _check_analyzed(an)


def test_sentence_tokens_are_numpy_consistent() -> None:
    an = analyze(Document("x", "One two three. Four five."))
    s0, s1 = an.sentences
    assert (s0.tok_start, s0.tok_end, s1.tok_start, s1.tok_end) == (0, 3, 3, 5)
    assert isinstance(an.tokens.starts, np.ndarray)
