"""Golden test: the founding pair. Seed 000 is a reworded version of seed 004 (see DEVELOPERS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retold import api
from retold.model import PairResult, Passage, Span


@pytest.fixture(scope="module")
def pair(seed_paths: tuple[Path, Path]) -> tuple[PairResult, str, str]:
    a, b = seed_paths
    return api.compare_files(a, b), a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")


def _range(text: str, snippet: str) -> tuple[int, int]:
    start = text.find(snippet)
    assert start >= 0, f"snippet not in text: {snippet!r}"
    assert text.find(snippet, start + 1) < 0, f"snippet not unique: {snippet!r}"
    return start, start + len(snippet)


def _labels(spans: tuple[Span, ...], text: str, snippet: str) -> set[str]:
    s, e = _range(text, snippet)
    return {sp.label for sp in spans if sp.start < e and sp.end > s}


def _linked(passages: tuple[Passage, ...], ta: str, sa: str, tb: str, sb: str) -> list[Passage]:
    a0, a1 = _range(ta, sa)
    b0, b1 = _range(tb, sb)
    return [p for p in passages if p.a_start < a1 and p.a_end > a0 and p.b_start < b1 and p.b_end > b0]


def test_verdict_and_metadata(pair: tuple[PairResult, str, str]) -> None:
    res, ta, tb = pair
    assert res.verdict == "rewrite"
    assert res.a.id == "000_eb1553226c65909d.txt" and res.b.id == "004_8625c1f9bcc81fb5.txt"
    assert res.a.date == "2021-09-06" and res.b.date is None
    assert (res.a.chars, res.b.chars) == (len(ta), len(tb))
    # Most of each side is shared; each adds its own material.
    assert 0.6 <= res.a.coverage <= 0.95
    assert 0.6 <= res.b.coverage <= 0.95


@pytest.mark.parametrize(
    ("side", "snippet", "label"),
    [
        ("a", "date 2021-09-06", "attribution"),
        ("a", "(with inputs from ANI)", "attribution"),
        ("a", "Picture Credit: @AhmadMassoud/Twitter", "attribution"),
        ("a", "Afghanistan's National Resistance Front (NRF) commander, Ahmad Massoud, is safe", "new"),
        ("a", "My leader and brother Ahmad Massoud is safe", "new"),
        ("a", "Ahmad Massoud safe, says spokesperson", "new"),
        ("a", "The Twitter account from which the information was transmitted, however, was unverified.", "new"),
        ("a", "Senior Taliban commander killed in Panjshir by resistance forces", "verbatim"),
        ("a", "Taliban claims victory in Panjshir; Northern Alliance denies", "verbatim"),
        ("a", '"Panjshir province, the last stronghold of the mercenary enemy, was completely conquered,"', "verbatim"),
        # Inside reworded sentences, copied runs of words (a one-word change tolerated) are verbatim, the rest
        # paraphrase.
        ("a", "Maulvi Fassihuddin, a senior Taliban commander and the group's chief of operations", "verbatim"),
        ("a", "according to reports", "paraphrase"),
        ("a", "Reportedly,", "paraphrase"),
        ("a", "Fassihuddin, the notorious Taliban commander", "verbatim"),
        ("a", "from Badakhshan, was in charge of", "paraphrase"),
        ("a", "Meanwhile, a prominent Taliban commander was killed amid severe combat", "paraphrase"),
        ("a", "Images from Panjshir also showed Taliban gunmen", "paraphrase"),
        ("a", "They also told the Afghan people", "paraphrase"),
        ("a", "The NRF forces are", "paraphrase"),
        ("a", "present in all strategic positions across the valley to continue the fight", "verbatim"),
        ("b", "Fahim Dashty, spokesman of the National Resistance Front (NRF)", "new"),
        ("b", "The resistance forces announced Dashty's death on their Facebook page.", "new"),
        ("b", "Apart from Dashty, Ahmad Massoud's nephew", "new"),
        ("b", "Senior Taliban commander killed in Panjshir by resistance forces", "verbatim"),
        ("b", "Taliban claims victory in Panjshir; Northern Alliance denies", "verbatim"),
        ("b", "According to reports,", "paraphrase"),
        ("b", "In a big win for the resistance forces", "paraphrase"),
        ("b", "Visuals from Panjshir also showed", "paraphrase"),
        ("b", "On the contrary, the Resistance Force has revealed", "paraphrase"),
        ("b", "The NRFA has also assured", "paraphrase"),
    ],
)
def test_span_labels(pair: tuple[PairResult, str, str], side: str, snippet: str, label: str) -> None:
    res, ta, tb = pair
    spans = res.alignment.spans_a if side == "a" else res.alignment.spans_b
    assert _labels(spans, ta if side == "a" else tb, snippet) == {label}


IN_ORDER = [
    ("Meanwhile, a prominent Taliban commander", "In a big win for the resistance forces"),
    ("Maulvi Fassihuddin, a senior Taliban commander and", "According to reports, Maulvi Fassihuddin"),
    ("Reportedly, Fassihuddin", "Reports further added"),
    ("Fasihudin's death is a major defeat", "Fasihudin's killing comes as a massive setback"),
    ("On Monday, the Taliban declared victory", "The Taliban on Monday had claimed victory"),
    ("Taliban Spokesperson Zabihullah stated", "Taking to Twitter, Taliban Spokesperson Zabihullah"),
    ("Images from Panjshir", "Visuals from Panjshir"),
]
REORDERED = [
    ("The NRF forces are present in all strategic positions", "On the contrary, the Resistance Force"),
    ("They also told the Afghan people", "The NRFA has also assured"),
    ("We assure the people of Afghanistan", "The NRFA has also assured"),
    ("According to the NRF, resistance forces are positioned", "On the contrary, the Resistance Force"),
]
VERBATIM = [
    "Senior Taliban commander killed in Panjshir by resistance forces",
    "Taliban claims victory in Panjshir; Northern Alliance denies",
    '"Panjshir province, the last stronghold of the mercenary enemy, was completely conquered," tweeted Zabihullah.',
]


@pytest.mark.parametrize(("sa", "sb"), IN_ORDER + REORDERED)
def test_correspondences(pair: tuple[PairResult, str, str], sa: str, sb: str) -> None:
    res, ta, tb = pair
    assert _linked(res.alignment.passages, ta, sa, tb, sb), f"no passage links {sa!r} to {sb!r}"


@pytest.mark.parametrize("snippet", VERBATIM)
def test_verbatim_passages(pair: tuple[PairResult, str, str], snippet: str) -> None:
    res, ta, tb = pair
    found = _linked(res.alignment.passages, ta, snippet, tb, snippet)
    assert found and all(p.label == "verbatim" for p in found)


def test_reordered_block_is_out_of_order(pair: tuple[PairResult, str, str]) -> None:
    """The NRF-tweet paragraphs come early in 000 but match 004's last paragraph: passages cross."""
    res, ta, tb = pair
    tweet = _linked(res.alignment.passages, ta, "The NRF forces are present", tb, "On the contrary")[0]
    heading = _linked(res.alignment.passages, ta, VERBATIM[0], tb, VERBATIM[0])[0]
    assert tweet.a_start < heading.a_start and tweet.b_start > heading.b_start


def test_no_false_links_to_added_material(pair: tuple[PairResult, str, str]) -> None:
    res, ta, tb = pair
    d0, d1 = _range(tb, "This also comes after the Northern Alliance earlier received a setback")
    lead0, lead1 = _range(ta, "Afghanistan's National Resistance Front (NRF) commander")
    for p in res.alignment.passages:
        assert not (p.b_start < d1 and p.b_end > d0), "004's Dashty paragraph must stay unmatched"
        assert not (p.a_start < lead1 and p.a_end > lead0), "000's lead must stay unmatched"
