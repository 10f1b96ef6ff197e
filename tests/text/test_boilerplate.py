"""Tests for retold.text.boilerplate: date headers, agency and picture credits, bylines and "Also read" lines
are found as trimmed spans of the original text, and ordinary prose is left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.text.boilerplate import Boilerplate, date_header, find_boilerplate


def _found(text: str) -> list[tuple[str, str]]:
    return [(b.kind, text[b.start : b.end]) for b in find_boilerplate(text)]


def _check_spans(text: str, spans: list[Boilerplate]) -> None:
    prev_end = -1
    for b in spans:
        assert 0 <= b.start < b.end <= len(text)
        assert b.start > prev_end, "spans must be sorted and disjoint (and not touching)"
        piece = text[b.start : b.end]
        assert piece == piece.strip(), f"span not trimmed: {piece!r}"
        prev_end = b.end


# --- date header ---------------------------------------------------------------------------------------------


def test_date_header_leading() -> None:
    text = " date 2021-09-06 Afghanistan's new rulers said on Monday."
    date, end = date_header(text)
    assert date == "2021-09-06"
    assert text[:end] == " date 2021-09-06"
    assert _found(text) == [("date-header", "date 2021-09-06")]


@pytest.mark.parametrize(
    ("text", "date", "header"),
    [
        ("date: 2021-09-06 Kabul", "2021-09-06", "date: 2021-09-06"),
        ("DATE 2021-09-06T10:30 Kabul", "2021-09-06", "DATE 2021-09-06T10:30"),
        ("\n  date 2021-09-06 10:30:15\nKabul", "2021-09-06", "\n  date 2021-09-06 10:30:15"),
    ],
)
def test_date_header_variants(text: str, date: str, header: str) -> None:
    assert date_header(text) == (date, len(header))


@pytest.mark.parametrize(
    "text",
    [
        "Kabul fell on Sunday. date 2021-09-06 was the day after.",
        "The update 2021-09-06 was late.",
        "date of birth 2021-09-06",
        "",
        "date 21-09-06 Kabul",
    ],
)
def test_no_date_header(text: str) -> None:
    assert date_header(text) == (None, 0)
    assert all(b.kind != "date-header" for b in find_boilerplate(text))


# --- agency credits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "credit"),
    [
        ("The Taliban took Kabul.\n(with inputs from ANI)\n", "(with inputs from ANI)"),
        ("The Taliban took Kabul. (With inputs from agencies)", "(With inputs from agencies)"),
        ("The Taliban took Kabul on Sunday (Reuters). More text follows.", "(Reuters)"),
        ("NEW DELHI (Reuters) - India said on Monday it would reopen.", "NEW DELHI (Reuters) -"),
        ("KABUL, Sept 6 (Reuters) - The Taliban said they had won.", "KABUL, Sept 6 (Reuters) -"),
        ("The talks ended without agreement. — Agencies", "— Agencies"),
        ("The talks ended without agreement.\n\n— Agencies", "— Agencies"),
        ("The talks ended.\n- PTI\n", "- PTI"),
        ("The talks ended.\nIANS\n", "IANS"),
        ("The talks ended in Kabul (AFP).", "(AFP)"),
        ("The talks ended (PTI/IANS).", "(PTI/IANS)"),
        ("The talks ended.\nWith inputs from PTI", "With inputs from PTI"),
        ("The talks ended.\nSource: Reuters", "Source: Reuters"),
        ("The talks ended.\n\n(With agency inputs)", "(With agency inputs)"),
        ("The talks ended.\n\n(Agency inputs)", "(Agency inputs)"),
        ("The talks ended.\n\n(Compiled from agency reports)", "(Compiled from agency reports)"),
        ("The talks ended. (Based on wire reports)", "(Based on wire reports)"),
    ],
)
def test_agency_credit(text: str, credit: str) -> None:
    found = _found(text)
    assert ("agency", credit) in found
    _check_spans(text, find_boilerplate(text))


def test_agency_credit_offsets_index_original_text() -> None:
    text = "Line one is here.\n\nThe talks ended (AFP). More."
    (b,) = find_boilerplate(text)
    assert (b.start, b.end) == (text.index("(AFP)"), text.index("(AFP)") + len("(AFP)"))


# --- picture credits, also-read, bylines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "credit"),
    [
        ("Picture Credit: @X/Twitter\nThe talks ended.", "Picture Credit: @X/Twitter"),
        ("The minister spoke (Photo: PTI) at length.", "(Photo: PTI)"),
        ("Photo courtesy Ministry of Defence\nThe talks ended.", "Photo courtesy Ministry of Defence"),
        ("The talks ended.\nImage: Reuters", "Image: Reuters"),
        ("The talks ended.\nFile photo of the talks", "File photo of the talks"),
    ],
)
def test_picture_credit(text: str, credit: str) -> None:
    assert ("picture", credit) in _found(text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Also read: Taliban take Kabul\nThe talks ended.", "Also read: Taliban take Kabul"),
        ("The talks ended.\nALSO READ | Taliban take Kabul\nMore.", "ALSO READ | Taliban take Kabul"),
        ("The talks ended.\n  Read more: what happened next", "Read more: what happened next"),
    ],
)
def test_also_read(text: str, line: str) -> None:
    assert ("also-read", line) in _found(text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "The talks ended.\nReporting by John Smith; Editing by Jane Doe",
            "Reporting by John Smith; Editing by Jane Doe",
        ),
        ("By John Smith\nThe talks ended.", "By John Smith"),
        ("By John Smith, Reuters\nThe talks ended.", "By John Smith, Reuters"),
        ("The talks ended.\nAdditional reporting by Ann Lee in Kabul", "Additional reporting by Ann Lee in Kabul"),
    ],
)
def test_byline(text: str, line: str) -> None:
    assert ("byline", line) in _found(text)


def test_several_kinds_in_one_text() -> None:
    text = (
        " date 2021-09-06\nKABUL (Reuters) - The Taliban said on Monday they had taken the valley.\n"
        "Picture Credit: @X/Twitter\n"
        "Also read: Taliban take Kabul\n"
        "Fighting went on for days (Photo: AFP), officials said.\n"
        "Reporting by John Smith; Editing by Jane Doe\n"
        "(with inputs from ANI)"
    )
    spans = find_boilerplate(text)
    _check_spans(text, spans)
    assert [b.kind for b in spans] == ["date-header", "agency", "picture", "also-read", "picture", "byline", "agency"]
    assert text[spans[1].start : spans[1].end] == "KABUL (Reuters) -"


def test_dateline_right_after_date_header() -> None:
    text = " date 2021-09-06 KABUL (Reuters) - The Taliban said on Monday they had taken the valley."
    assert _found(text) == [("date-header", "date 2021-09-06"), ("agency", "KABUL (Reuters) -")]


def test_overlapping_matches_are_merged() -> None:
    text = "The talks ended.\n(Reuters)\n"  # both the bracket and the whole-line agency patterns could match
    spans = find_boilerplate(text)
    assert [(b.kind, text[b.start : b.end]) for b in spans] == [("agency", "(Reuters)")]


# --- negative cases ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The photo showed the minister at the source of the river.",
        "APPLE shares rose as the app was read by many. Apple and AP style were discussed.",
        "He went to the AP office and the Reuters building.",
        "Read the full report, he said, and read it again.",
        "Source of the leak was unknown, officials said.",
        "The photographer said the photos were old.",
        "Photos show the damage to the house.",
        "Watch the skies, he said.",
        "Related reading is available in the library.",
        "By the end of the day, talks had ended.",
        "By then it was too late.",
        "Also, read the fine print.",
        "The results (apart from the first) were good.",
        "The agency said the inputs were useful (in part).",
        "The PTI chief met IANS editors and AFP staff in Kabul.",
        "He said the image - like the photo - was fake.",
        "Picture this: a world without war.",
        "The app is popular among apprentices.",
        "He said (with inputs) it was fine.",
        "The model was compiled from agency data by hand.",
    ],
)
def test_ordinary_prose_is_not_boilerplate(text: str) -> None:
    assert find_boilerplate(text) == []


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("By Monday, the talks had ended."),
        pytest.param("By August, Taliban fighters had taken Kabul."),
        pytest.param("Written by hand, the note was short."),
        pytest.param("Inputs from the states were sought by the Centre."),
    ],
)
def test_ordinary_sentence_lines_are_not_boilerplate(text: str) -> None:
    """One-paragraph-per-line prose: a sentence that happens to open like a credit line is still prose."""
    assert find_boilerplate("The talks went on for days.\n" + text + "\nThe envoy left.") == []


# --- properties ----------------------------------------------------------------------------------------------

_PIECES = [
    " date 2021-09-06 ",
    "date 2021-09-06",
    "(Reuters)",
    "(with inputs from ANI)",
    "NEW DELHI (Reuters) - ",
    " — Agencies",
    "\n- PTI\n",
    "\nIANS\n",
    "(AFP)",
    "\nPicture Credit: @X/Twitter\n",
    "(Photo: PTI)",
    "\nPhoto courtesy the ministry\n",
    "\nAlso read: more news\n",
    "\nReporting by A; Editing by B\n",
    "\nBy John Smith\n",
    "The Taliban said. ",
    "Kabul fell ",
    "apple ",
    "source ",
    "photo ",
    "\n",
    "\n\n",
    " ",
    "\t",
    "(",
    ")",
    "-",
    "—",
    "By ",
    "Reporting ",
    "Also ",
    "read ",
    "AP",
    "Agencies",
]


@settings(max_examples=300)
@given(st.one_of(st.text(), st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)))
def test_spans_sorted_disjoint_trimmed(text: str) -> None:
    spans = find_boilerplate(text)
    _check_spans(text, spans)
    kinds = {"date-header", "agency", "picture", "also-read", "byline"}
    assert all(b.kind in kinds for b in spans)
    # Only a leading header counts, and it comes first.
    assert all(b.kind != "date-header" for b in spans[1:])
    date, end = date_header(text)
    if date is not None:
        assert spans and spans[0].kind == "date-header"
        assert spans[0].start == len(text) - len(text.lstrip())
        assert spans[0].end >= end
