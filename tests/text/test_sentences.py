"""Tests for retold.text.sentences: paragraph splitting (incl. hard-wrapped wire copy), sentence ends,
abbreviations, headings and the windows that cut over-long unpunctuated stretches."""

from __future__ import annotations

import random
import re
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.text.sentences import _SENT_END, is_heading, paragraphs, sentences


def _sents(text: str) -> list[str]:
    return [text[s:e] for ps, pe in paragraphs(text) for s, e in sentences(text, ps, pe)]


def _paras(text: str) -> list[str]:
    return [text[s:e] for s, e in paragraphs(text)]


# --- sentence ends -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones in the U.S. capital. J. Smith said yes. He left.",
            ["Mr. Smith met Dr. Jones in the U.S. capital.", "J. Smith said yes.", "He left."],
        ),
        ("Gen. Milley spoke. Sen. Graham replied.", ["Gen. Milley spoke.", "Sen. Graham replied."]),
        ("The U.S. Army left. The U.K. stayed.", ["The U.S. Army left.", "The U.K. stayed."]),
        ("He left at 10 a.m. Monday. Then more came.", ["He left at 10 a.m. Monday.", "Then more came."]),
        ("Prof. A. B. Khan spoke first.", ["Prof. A. B. Khan spoke first."]),
        ("The firm, Acme Inc. Ltd. and Co. Cork won.", ["The firm, Acme Inc. Ltd. and Co. Cork won."]),
    ],
)
def test_abbreviations_do_not_split(text: str, expected: list[str]) -> None:
    assert _sents(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is it true? Yes! He left.", ["Is it true?", "Yes!", "He left."]),
        ('He said "yes." Then he left.', ['He said "yes."', "Then he left."]),
        ("He said “yes.” Then he left.", ["He said “yes.”", "Then he left."]),
        ("He said 'yes.' Then he left.", ["He said 'yes.'", "Then he left."]),
        ("“Why?” He asked again.", ["“Why?”", "He asked again."]),
        ("He came (and left.) Then she came.", ["He came (and left.)", "Then she came."]),
        ("Wait… Then go.", ["Wait…", "Then go."]),
        ("He left... Then she came.", ["He left...", "Then she came."]),
        ("The war ended in 2021. 2022 was calm.", ["The war ended in 2021.", "2022 was calm."]),
        ("It ended. “Good,” he said.", ["It ended.", "“Good,” he said."]),
        ("It cost $3.5 million. Then it rose.", ["It cost $3.5 million.", "Then it rose."]),
    ],
)
def test_sentence_ends(text: str, expected: list[str]) -> None:
    assert _sents(text) == expected


def test_lowercase_after_full_stop_does_not_split() -> None:
    assert _sents("The rate was 5 p.c. higher. It fell.") == ["The rate was 5 p.c. higher.", "It fell."]
    assert _sents("See the site example.com for details.") == ["See the site example.com for details."]


def test_no_at_sentence_end_splits() -> None:
    assert _sents("Asked if he would stay, he said no. He left on Monday.") == [
        "Asked if he would stay, he said no.",
        "He left on Monday.",
    ]


def test_cjk_full_stop_splits() -> None:
    text = "塔利班宣布胜利。美国撤军！他们说什么？最后"
    assert _sents(text) == ["塔利班宣布胜利。", "美国撤军！", "他们说什么？", "最后"]


def test_cjk_closing_quote_stays_with_sentence() -> None:
    assert _sents("他说「好。」然后走了。") == ["他说「好。」", "然后走了。"]


def test_sentence_spans_index_the_original_text() -> None:
    text = "Intro line here.\n\n  First one.   Second one?\tThird!  \n"
    ps = paragraphs(text)
    assert [text[s:e] for s, e in ps] == ["Intro line here.", "First one.   Second one?\tThird!"]
    s, e = ps[1]
    assert sentences(text, s, e) == [
        (text.index("First"), text.index("First") + len("First one.")),
        (text.index("Second"), text.index("Second") + len("Second one?")),
        (text.index("Third"), text.index("Third") + len("Third!")),
    ]


# --- headings ------------------------------------------------------------------------------------------------


def test_heading_detection() -> None:
    text = "Taliban take Kabul\nThe group said it had won. It will rule."
    (h0, h1), (p0, p1) = paragraphs(text)
    assert is_heading(text, h0, h1)
    assert not is_heading(text, p0, p1)
    assert _sents(text) == ["Taliban take Kabul", "The group said it had won.", "It will rule."]


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("Taliban take Kabul", True),
        ("Is it over? Taliban take Kabul", True),
        ("Taliban take Kabul.", False),
        ("“Taliban take Kabul”", False),
        ("Taliban take Kabul (video)", False),
        ("Taliban take Kabul:", False),
        ("塔利班宣布胜利。", False),
        ("word " * 60, False),  # too long to be a heading
    ],
)
def test_is_heading(text: str, heading: bool) -> None:
    assert is_heading(text, 0, len(text)) is heading


# --- paragraphs and hard-wrapped text ------------------------------------------------------------------------

_PARAS = [
    "KABUL, Sept 6 (Reuters) - The Taliban said on Monday they had taken control of the Panjshir valley, the "
    "last holdout of anti-Taliban forces in Afghanistan, after a week of heavy fighting in the mountains north "
    "of the capital.",
    "Resistance leaders said they were still fighting and that claims of victory were false. The group's "
    "spokesman Zabihullah Mujahid said the valley was now under the control of the Islamic Emirate and that "
    "its forces had seized the provincial governor's compound.",
    "Thousands of residents have fled the valley in recent days, according to aid agencies working in the "
    "region, who said food and medicine were running short across the whole province.",
]


def test_hard_wrapped_text_is_not_split_at_line_breaks() -> None:
    text = "\n\n".join(textwrap.fill(p, 65, break_on_hyphens=False) for p in _PARAS)
    assert max(len(ln) for ln in text.splitlines()) <= 65
    paras = _paras(text)
    assert [" ".join(p.split()) for p in paras] == _PARAS
    sents = _sents(text)
    assert len(sents) == 4  # the second paragraph has two sentences; line breaks are not sentence ends
    assert (
        " ".join(sents[1].split()) == "Resistance leaders said they were still fighting and that claims of "
        "victory were false."
    )


def test_hard_wrapped_text_with_indented_paragraphs() -> None:
    text = "\n".join(textwrap.fill(p, 65, initial_indent="    ", break_on_hyphens=False) for p in _PARAS)
    assert [" ".join(p.split()) for p in _paras(text)] == _PARAS


def test_one_paragraph_per_line_is_split_at_each_line() -> None:
    lines = [
        "The Taliban said on Monday they had taken the Panjshir valley after a week of fighting.",
        "Resistance leaders said they were still fighting and that the claims were false.",
        "Thousands of residents have fled the valley in recent days, aid agencies said.",
        "Food and medicine were running short across the province, officials added.",
        "Taliban fighters patrolled the streets of the provincial capital",
    ]
    text = "\n".join(lines)
    assert _paras(text) == lines


def test_short_texts_split_at_single_line_breaks() -> None:
    text = "Taliban take Kabul\nThe group said it had won\nOfficials left"
    assert _paras(text) == ["Taliban take Kabul", "The group said it had won", "Officials left"]


def test_blank_lines_with_spaces_separate_paragraphs() -> None:
    text = "  First para.  \n \t \n\n  Second para.\n"
    assert _paras(text) == ["First para.", "Second para."]
    assert paragraphs("") == [] and paragraphs(" \n\n ") == []


def test_paragraphs_of_a_slice() -> None:
    text = "xxxx First.\nSecond.\nyyyy"
    assert _paras(text) == ["xxxx First.", "Second.", "yyyy"]
    assert paragraphs(text, 5, 19) == [(5, 11), (12, 19)]


# --- windows -------------------------------------------------------------------------------------------------


def test_long_unpunctuated_text_is_cut_into_windows() -> None:
    rng = random.Random(3)
    words = [rng.choice(["taliban", "kabul", "valley", "fighters", "the", "of", "a", "province"]) for _ in range(400)]
    text = " ".join(words)
    assert len(text) > 2000
    spans = sentences(text, 0, len(text))
    assert len(spans) >= 4
    assert all(e - s <= 600 for s, e in spans)
    # Cuts fall between words: the windows rejoin to the text.
    assert " ".join(text[s:e] for s, e in spans) == text


def test_window_size_parameter_and_cut_without_spaces() -> None:
    text = "a" * 1500
    spans = sentences(text, 0, len(text))
    assert spans == [(0, 600), (600, 1200), (1200, 1500)]
    spans = sentences(text, 0, len(text), max_chars=100)
    assert all(e - s <= 100 for s, e in spans) and spans[0][0] == 0 and spans[-1][1] == 1500


def test_long_sentence_windows_stay_inside_the_paragraph() -> None:
    body = " ".join(["Word"] * 300)
    text = "Lead. " + body + " end. Tail."
    spans = sentences(text, 0, len(text))
    assert text[spans[0][0] : spans[0][1]] == "Lead."
    assert text[spans[-1][0] : spans[-1][1]] == "Tail."
    assert all(e - s <= 600 for s, e in spans)


# --- properties ----------------------------------------------------------------------------------------------

_WORDS = [
    "Kabul",
    "taliban",
    "Mr.",
    "U.S.",
    "said",
    "no.",
    "fighters",
    "2,000",
    "3.5",
    "J.",
    "?",
    "!",
    "”",
    "“",
    ".",
    "…",
    "塔利班。",
    "valley",
    "(AP)",
    "Dr.",
    "e.g.",
    "A.",
    "it.",
    "Yes!",
]


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(st.sampled_from(_WORDS), st.sampled_from([" ", "  ", "\n", "\n\n", "\t"]), st.text(max_size=5)),
        max_size=80,
    ).map("".join),
    st.integers(min_value=20, max_value=700),
)
def test_spans_are_sorted_disjoint_stripped(text: str, max_chars: int) -> None:
    prev = 0
    for ps, pe in paragraphs(text):
        assert prev <= ps < pe <= len(text)
        assert text[ps:pe] == text[ps:pe].strip()
        inner = ps
        for s, e in sentences(text, ps, pe, max_chars=max_chars):
            assert inner <= s < e <= pe
            assert e - s <= max_chars
            assert text[s:e] == text[s:e].strip()
            inner = e
        prev = pe
    # Nothing but whitespace is left out.
    covered: set[int] = set()
    for ps, pe in paragraphs(text):
        for s, e in sentences(text, ps, pe, max_chars=max_chars):
            covered.update(range(s, e))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


# --- hostile input: cost linear in the text ------------------------------------------------------------------

# The sentence-end pattern before runs were taken whole: the same matches, found in quadratic time on long runs.
_BACKTRACKING_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])|[。！？]+[」』”’)]*")


@settings(max_examples=300)
@given(st.text(alphabet=".!?…\"')] \n\tAa。！？」x", max_size=40))
def test_sentence_end_pattern_finds_what_the_backtracking_one_found(text: str) -> None:
    assert [m.span() for m in _SENT_END.finditer(text)] == [m.span() for m in _BACKTRACKING_END.finditer(text)]


@pytest.mark.parametrize(
    "text",
    [
        "A" + "!" * 200_000 + " b",  # one long run of end marks, then no sentence start
        "A" + "." * 100_000 + " " * 100_000 + "b",  # end marks, then a long blank
        "A" + ("." * 1_000 + " ") * 200,  # many runs
    ],
)
def test_long_runs_of_end_marks_split_in_linear_time(text: str) -> None:
    t0 = time.perf_counter()
    out = _sents(text)
    # a quadratic scan of 200,000 characters takes minutes; linear takes milliseconds
    assert time.perf_counter() - t0 < 5.0
    assert "".join(out).replace(" ", "") == text.replace(" ", "")


def test_short_wire_notice_with_run_on_lines_is_hard_wrapped() -> None:
    """Wire copy whose paragraphs are one or two lines: few lines end open, but lines that run on into a line
    opening in lower case or with a digit show the wrapping (no heading is taken from a wrapped line)."""
    text = (
        "Nissan Motor Co Ltd <NSAN.T> is issuing a\n"
        "35 billion yen eurobond due March 25 1992 paying 5-1/8 pct and\n"
        "priced at 103-3/8, Nikko Securities Co (Europe) Ltd said.\n"
        "    The non-callable issue is available in denominations of one\n"
        "mln Yen and will be listed in Luxembourg.\n"
        "    The payment date is March 25.\n"
        "    Nikko said it was still completing the syndicate.\n"
    )
    paras = _paras(text)
    assert " ".join(paras[0].split()).startswith("Nissan Motor Co Ltd <NSAN.T> is issuing a 35 billion yen")
    assert len(paras) == 4
    # Lines that open with capitals after open-ended lines are headings and stay apart.
    headings = "Taliban take Kabul\nResistance in the valley\nThe group said it had won the war.\nOfficials left."
    assert _paras(headings) == headings.split("\n")
