"""Tests for retold.text.tokens: offsets that round-trip to the normal forms, normalisation rules, scripts
written without spaces, and the background-frequency helpers (stem, zipf, weight, is_rare)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.text.tokens import Tokens, is_rare, is_stopword, normalize_token, stem, tokenize, weight, zipf

CJK = "塔利班宣布胜利美国撤军。喀布尔机场ひらがなカタカナ"
THAI = "สวัสดีครับกรุงเทพมหานคร"

_texts = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "Zs", "Cc"))),
    st.text(alphabet=st.sampled_from(list(CJK + THAI + " .,'’-0123456789abcXYZ Ｔａ"))),
    st.lists(
        st.sampled_from(
            [
                "Afghanistan’s",
                "O'Brien",
                "2,000",
                "3.5%",
                "9/11",
                "10:30",
                "don't",
                "Ｔａｌｉｂａｎ",
                "塔利班",
                "สวัสดี",
                "ﬁne",
                "İstanbul",
                "straße",
                "—",
                " ",
                "\n",
                "'s",
                "’",
                "x²",
            ]
        ),
    ).map("".join),
)


def _check_tokens(text: str, toks: Tokens) -> None:
    n = len(toks)
    assert len(toks.norm) == len(toks.starts) == len(toks.ends) == n
    starts, ends = toks.starts.tolist(), toks.ends.tolist()
    for i in range(n):
        assert 0 <= starts[i] < ends[i] <= len(text)
        assert normalize_token(text[starts[i] : ends[i]]) == toks.norm[i]
        if i:
            assert starts[i] > starts[i - 1]
            assert starts[i] >= ends[i - 1], "tokens overlap"


@settings(max_examples=300)
@given(_texts)
def test_offsets_round_trip(text: str) -> None:
    toks = tokenize(text)
    assert toks.starts.dtype == np.int64 and toks.ends.dtype == np.int64
    _check_tokens(text, toks)


@settings(max_examples=100)
@given(_texts, _texts)
def test_tokens_of_concatenation_with_space_are_the_union(left: str, right: str) -> None:
    """A space separates tokens, so tokenising ``left + ' ' + right`` shifts right's tokens by the prefix."""
    joined = left + " " + right
    tl, tr, tj = tokenize(left), tokenize(right), tokenize(joined)
    assert tj.norm == tl.norm + tr.norm
    shift = len(left) + 1
    assert tj.starts.tolist() == tl.starts.tolist() + [s + shift for s in tr.starts.tolist()]
    assert tj.ends.tolist() == tl.ends.tolist() + [e + shift for e in tr.ends.tolist()]


def test_empty_and_punctuation_only() -> None:
    for text in ("", "   ", "... — !?", "\n\n"):
        toks = tokenize(text)
        assert len(toks) == 0
        assert toks.starts.shape == (0,) and toks.ends.shape == (0,)


def test_possessive_and_typographic_apostrophes() -> None:
    toks = tokenize("Afghanistan’s troops and Afghanistan's people; O’Brien didn’t go")
    assert toks.norm == ("afghanistan", "troops", "and", "afghanistan", "people", "o'brien", "didn't", "go")
    text = "Afghanistan’s troops"
    toks = tokenize(text)
    # The offsets keep the possessive: the token is the whole word as written.
    assert text[toks.starts[0] : toks.ends[0]] == "Afghanistan’s"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Afghanistan’s", "afghanistan"),
        ("Afghanistan's", "afghanistan"),
        ("O’Brien", "o'brien"),
        ("Ｔａｌｉｂａｎ", "taliban"),
        ("TALIBAN", "taliban"),
        ("ﬁne", "fine"),
        ("Straße", "strasse"),
        ("'s", "'s"),  # nothing left to drop
    ],
)
def test_normalize_token(raw: str, expected: str) -> None:
    assert normalize_token(raw) == expected


def test_full_width_letters_are_one_token() -> None:
    text = "Ｔａｌｉｂａｎ took Kabul"
    toks = tokenize(text)
    assert toks.norm == ("taliban", "took", "kabul")
    assert (int(toks.starts[0]), int(toks.ends[0])) == (0, 7)


def test_numbers_with_separators() -> None:
    toks = tokenize("2,000 people, 3.5% growth on 9/11 at 10:30 and 1,234,567.89 dollars.")
    assert toks.norm == (
        "2,000",
        "people",
        "3.5%",
        "growth",
        "on",
        "9/11",
        "at",
        "10:30",
        "and",
        "1,234,567.89",
        "dollars",
    )


def test_sentence_final_number_does_not_swallow_full_stop() -> None:
    toks = tokenize("It happened in 2021. Then 2,000 left.")
    assert "2021" in toks.norm and "2,000" in toks.norm
    assert all(not t.endswith(".") for t in toks.norm)


def test_cjk_one_token_per_character() -> None:
    text = "塔利班宣布胜利"
    toks = tokenize(text)
    assert toks.norm == tuple(text)
    assert toks.starts.tolist() == list(range(len(text)))
    assert toks.ends.tolist() == list(range(1, len(text) + 1))


def test_japanese_kana_one_token_per_character() -> None:
    text = "ひらがなカタカナ"
    assert tokenize(text).norm == tuple(text)


def test_thai_one_token_per_character() -> None:
    text = "สวัสดีครับ"
    toks = tokenize(text)
    assert len(toks) == len(text)
    assert toks.norm == tuple(text)


def test_mixed_scripts_split_at_script_boundary() -> None:
    toks = tokenize("Kabul喀布尔2021")
    assert toks.norm == ("kabul", "喀", "布", "尔", "2021")


def test_stopwords_and_weight() -> None:
    for w in ("the", "a", "of", "and", "said", "would"):
        assert is_stopword(w)
        assert weight(w) == 0.0
    assert not is_stopword("taliban")
    assert weight("taliban") > 0
    # Rarer words weigh more; weight is bounded below by 0.5 and above by 9 (unseen words).
    assert weight("zorblaxian") == pytest.approx(9.0)
    assert weight("people") < weight("taliban") < weight("zorblaxian")
    assert weight("time") >= 0.5


def test_zipf() -> None:
    assert zipf("the") > 7.0
    assert zipf("zorblaxian") == 0.0
    assert 0 < zipf("taliban") < zipf("government") < zipf("the")
    # An apostrophe form falls back to the form without it.
    assert zipf("don't") > 5.0


def test_is_rare() -> None:
    assert is_rare("zorblaxian")  # a made-up name
    assert is_rare("2021") and is_rare("2,000")
    assert not is_rare("the")
    assert not is_rare("people")
    assert not is_rare("government")
    assert not is_rare("x")  # too short
    assert not is_rare("7")  # one digit
    assert is_rare("kabul", max_zipf=4.0) and not is_rare("kabul", max_zipf=3.0)


def test_stem() -> None:
    assert stem("resigned") == stem("resigns") == stem("resigning") == "resign"
    assert stem("people") == "peopl"
    assert stem("2,000") == "2,000"  # digits kept whole
    assert stem("x2021") == "x2021"
    assert stem("喀") == "喀"  # non-ASCII kept whole
    assert stem("straße") == "straße"
