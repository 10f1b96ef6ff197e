"""Tests for retold.text.facts: offsets that slice what they claim, normal forms (numbers, percentages, money,
dates, names, quotes) on wire copy and BBC prose, and the agreement of two passages' facts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.text.facts import KINDS, Fact, compare, extract, mentioned, name_share, within

# Real sentences: two Reuters new-issue notices of different issuers (a template), a BBC sentence and a rewrite.
COMMERZBANK = (
    "Commerzbank is issuing a 100 mln dlr eurobond due 1992 paying 7-1/4 pct and priced at 101-3/8 pct,\n"
    "lead manager Commerzbank AG said. The selling concession is 1-1/4 pct while management and\n"
    "underwriting combined pays 5/8 pct."
)
NORDIC = (
    "Nordic Investment Bank is issuing a 300\nmln Danish crown bond, due April 15, 1994, priced at par with\n"
    "an 11-1/4 pct coupon, lead manager Enskilda Securities said. Fees involve 1-1/4 pct\nfor selling and 5/8 pct "
    "for management and underwriting\ncombined."
)
BBC = (
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m) for the three months to "
    "December, from $639m year-earlier."
)
BBC_REWRITE = (
    "TimeWarner, the American media giant, said its quarterly profit rose 76% to $1.13bn (£600m) in the three "
    "months to December, against $639m a year earlier."
)


def facts(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in extract(text) if kind is None or f.kind == kind]


def value(text: str) -> tuple[str, str]:
    """The one fact of a short text."""
    found = facts(text)
    assert len(found) == 1, found
    return found[0]


# --- extraction examples ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1.5 mln", "1.5 million", "1,500,000", "1.5m", "1.5 mn", "1500000"])
def test_numbers_normalise_alike(text: str) -> None:
    assert value(text) == ("number", "1500000")


@pytest.mark.parametrize("text", ["15 pct", "15%", "15 per cent", "15 percent", "15pc", "fifteen pct", "15.0 %"])
def test_percentages_normalise_alike(text: str) -> None:
    assert value(text) == ("percent", "15")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1.5bn", "USD 1500000000"),
        ("1.5 billion dlrs", "USD 1500000000"),
        ("US$1.5 billion", "USD 1500000000"),
        ("1.5 billion U.S. dollars", "USD 1500000000"),
        ("£600m", "GBP 600000000"),
        ("600 mln stg", "GBP 600000000"),
        ("Rs 200 crore", "INR 2000000000"),
        ("300 mln Danish crowns", "DKK 300000000"),
        ("100 mln Canadian dlrs", "CAD 100000000"),
        ("15 billion yen", "JPY 15000000000"),
        ("54 cts", "USD 0.54"),
        ("50p", "GBP 0.5"),
        ("€3.2bn", "EUR 3200000000"),
        ("two billion dollars", "USD 2000000000"),
    ],
)
def test_money(text: str, expected: str) -> None:
    assert value(text) == ("money", expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6-3/4 pct", ("percent", "6.75")),
        ("priced at 101-3/8", ("number", "101.375")),
        ("1/2", ("number", "0.5")),
        ("5/8 pct", ("percent", "0.625")),
        ("6½", ("number", "6.5")),
        ("20 basis points", ("percent", "0.2")),
        ("twenty-five", ("number", "25")),
        ("the 3rd", ("number", "ord:3")),
        ("1,5", ("number", "1.5")),
        ("1.500.000", ("number", "1500000")),
    ],
)
def test_fractions_words_and_separators(text: str, expected: tuple[str, str]) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on March 3", "xxxx-03-03"),
        ("on 3 March 2005", "2005-03-03"),
        ("on Feb 26", "xxxx-02-26"),
        ("due April 2, 1992", "1992-04-02"),
        ("in 1987", "1987-xx-xx"),
        ("in January 1988", "1988-01-xx"),
        ("in December", "xxxx-12-xx"),
        ("on Friday", "friday"),
        ("at 1500 GMT", "t:15:00"),
        ("at 3.30 pm", "t:15:30"),
        ("in the 1990s", "1990s"),
        ("fiscal 1986/87", "1986/87"),
        ("on 2005-03-01", "2005-03-01"),
    ],
)
def test_dates(text: str, expected: str) -> None:
    assert value(text) == ("date", expected)


def test_digits_inside_dates_and_amounts_are_not_counted_twice() -> None:
    assert facts("It was due March 31, 1992 and cost 1.5 billion dlrs.") == [
        ("date", "1992-03-31"),
        ("money", "USD 1500000000"),
    ]


def test_names() -> None:
    text = (
        "Afghanistan's National Resistance Front (NRF) commander, Ahmad Massoud, is safe, a spokesman told ANI. "
        "However, the Taliban said on Monday that Panjshir had fallen."
    )
    assert facts(text, "name") == [
        ("name", "afghanistan"),
        ("name", "national resistance front"),
        ("name", "nrf"),
        ("name", "ahmad massoud"),
        ("name", "ani"),
        ("name", "taliban"),
        ("name", "panjshir"),
    ]


def test_names_at_sentence_starts_titles_and_wrapped_lines() -> None:
    text = (
        "Commerzbank is issuing a bond, joint-lead manager Samuel\nMontagu and Co Ltd said. The bank is "
        "owned by Mr Mittal. Prime Minister Tony Blair met France and Germany."
    )
    # "The" opens a sentence and is no name; a rare word there ("Commerzbank") is; titles are dropped.
    assert facts(text, "name") == [
        ("name", "commerzbank"),
        ("name", "samuel montagu and co ltd"),
        ("name", "mittal"),
        ("name", "tony blair"),
        ("name", "france"),
        ("name", "germany"),
    ]


def test_wire_table_labels_and_all_caps_copy_give_no_names() -> None:
    assert facts("Mthly div 7.1 cts vs 7.1 cts prior\n    Pay March 31\n    NOTE: Franklin Fund.\n Reuter", "name") == [
        ("name", "franklin fund")
    ]
    assert facts("SWISSAIR SAID ITS LOAD FACTOR FOR JANUARY WAS STEADY AT 58 PCT", "name") == []


def test_countries_under_other_names_are_one_name() -> None:
    assert {v for _, v in facts("An Iranian court, the US envoy and American and U.S. officials in Iran", "name")} == {
        "iran",
        "us",
    }


def test_quotes() -> None:
    text = "\"We are not going to be the cheapest,\" he said of the firm's 'to cut' plan and ‘the long road ahead’."
    # The scare quote ('to cut') is too short to state anything; the apostrophe of "firm's" opens nothing.
    assert facts(text, "quote") == [
        ("quote", "we are not going to be the cheapest"),
        ("quote", "the long road ahead"),
    ]


def test_bbc_sentence() -> None:
    assert facts(BBC) == [
        ("name", "us"),
        ("name", "timewarner"),
        ("percent", "76"),
        ("money", "USD 1130000000"),
        ("money", "GBP 600000000"),
        ("number", "3"),
        ("date", "xxxx-12-xx"),
        ("money", "USD 639000000"),
    ]


def test_reuters_bond_notice() -> None:
    assert facts(COMMERZBANK)[:6] == [
        ("name", "commerzbank"),
        ("money", "USD 100000000"),
        ("date", "1992-xx-xx"),
        ("percent", "7.25"),
        ("percent", "101.375"),
        ("name", "commerzbank ag"),
    ]


def test_range_and_within() -> None:
    text = "First 10 pct. Then 20 pct on March 3. Last 30 pct."
    start = text.index("Then")
    end = text.index(" Last")
    assert [f.value for f in extract(text, start, end)] == ["20", "xxxx-03-03"]
    whole = extract(text)
    assert within(whole, start, end) == extract(text, start, end)
    assert extract(text, 5, 5) == [] and extract(text, 10, 3) == []


# --- comparison examples ---------------------------------------------------------------------------------------


def test_bond_notices_of_two_issuers_state_other_facts() -> None:
    c = compare(extract(COMMERZBANK), extract(NORDIC))
    assert c.of("percent").agree == 2  # the standard fees: 1-1/4 and 5/8 pct
    assert c.of("percent").conflict == 1  # the coupon: 7-1/4 against 11-1/4
    assert c.of("money").conflict == 1 and c.of("date").conflict == 1 and c.of("name").conflict == 2
    assert c.figures_conflict == 3 and c.figures_agree == 2
    assert c.other_facts and c.score < 0


def test_a_rewrite_keeps_its_facts() -> None:
    c = compare(extract(BBC), extract(BBC_REWRITE))
    assert c.conflict == 0 and not c.other_facts
    assert c.figures_agree == 6 and c.of("name").agree == 2  # "US" and "American" are one country
    assert c.score == pytest.approx(1.0)


def test_conflict_is_a_slot_filled_differently() -> None:
    a = extract("Sales rose 5 pct to 10 mln dlrs.")
    b = extract("Sales rose 7 pct.")
    c = compare(a, b)
    assert (c.of("percent").conflict, c.of("percent").agree) == (1, 0)
    assert c.of("percent").clash
    assert (c.of("money").only_a, c.of("money").conflict) == (1, 0)  # one side only: no conflict
    assert c.of("name") == compare([], []).of("name")


def test_partial_dates_names_and_amounts_match_their_fuller_forms() -> None:
    c = compare(
        extract("Mittal said on March 3 it paid 4.5 billion for it."),
        extract("Lakshmi Mittal said on March 3, 2005 that it paid $4.5bn for it."),
    )
    assert c.of("name").agree == 1 and c.of("date").agree == 1
    assert c.of("money").agree == 1  # a bare 4.5 billion against $4.5bn: the amount is the fact
    assert compare(extract("in 10 Swiss francs"), extract("in 10 francs")).of("money").agree == 1


def test_names_differ_when_neither_contains_the_other() -> None:
    c = compare(
        extract("NOTE: Franklin Insured Tax-Free Income Fund."),
        extract("NOTE: Franklin Puerto Rico Tax-Free Income Fund."),
    )
    assert c.of("name").conflict == 1
    # One differing name alone is no template evidence: rewriters change a mention ("the Dutch firm").
    assert not c.other_facts


def test_quotes_agree_when_one_contains_the_other() -> None:
    c = compare(
        extract('"My leader and brother Ahmad Massoud is safe and will be giving a message soon!" he tweeted.'),
        extract('He tweeted: "Ahmad Massoud is safe and will be giving a message soon".'),
    )
    assert c.of("quote").agree == 1


def test_no_facts_no_agreement() -> None:
    c = compare([], extract("the cat sat on the mat"))
    assert c.kinds == () and c.score == 0.0 and not c.other_facts


@pytest.mark.shared_data
def test_seed_rewrite_keeps_the_source_facts(shared_data: Path) -> None:
    a = (shared_data / "seeds/000_eb1553226c65909d.txt").read_text(encoding="utf-8")
    b = (shared_data / "seeds/004_8625c1f9bcc81fb5.txt").read_text(encoding="utf-8")
    c = compare(extract(a), extract(b))
    assert c.of("quote").agree >= 1 and c.of("name").agree >= 30
    assert c.figures_conflict <= 1 and not c.other_facts


# --- properties ------------------------------------------------------------------------------------------------

_WIRE = st.sampled_from(
    [
        "Commerzbank", "is issuing", "a 100 mln dlr", "eurobond due", "March 31, 1992", "6-3/4", "pct", "1/2",
        "$1.5bn", "£600m", "Rs 200 crore", "15 per cent", "1,500,000", "1.5m", "six", "twenty-five", "a million",
        "Mr", "Ahmad Massoud", "NRF", "U.S.", "O'Brien", "the", "The", "said", ".", ",", "\n", "\n\n", "    ",
        '"', "“", "”", "'", "‘", "’", "«", "»", "「", "」", "(", ")", "-", "/", ":", "%", "$", "£", "€", "½",
        "Monday", "May", "3rd", "1500 GMT", "10:30", "am", "1986/87", "1990s", "2005-03-01", "3/4/87",
        "塔利班", "İstanbul", "straße", "Ｔａｌｉｂａｎ", "٣", "१२", "x", "0", "00", "9" * 30,
    ]
)  # fmt: skip
_TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs", "Cc"))),
    st.lists(_WIRE, max_size=40).map(" ".join),
    st.lists(_WIRE, max_size=40).map("".join),
)


def _check(text: str, found: list[Fact], start: int, end: int) -> None:
    prev_end = start
    for f in found:
        assert f.kind in KINDS
        assert start <= f.start < f.end <= end
        assert f.start >= prev_end, "facts overlap or are out of order"
        assert text[f.start : f.end].strip() != ""
        assert text[f.start : f.end] == text[f.start : f.end].strip() or f.kind == "quote"
        assert f.value
        prev_end = f.end


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_offsets_slice_the_text_and_never_overlap(text: str) -> None:
    _check(text, extract(text), 0, len(text))


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.integers(-5, 200), st.integers(-5, 200))
def test_a_range_yields_only_facts_inside_it(text: str, start: int, end: int) -> None:
    found = extract(text, start, end)
    _check(text, found, max(0, start), min(end, len(text)))


_AMOUNTS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999.999"), places=3)


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


@settings(max_examples=150, deadline=None)
@given(_AMOUNTS)
def test_number_forms_are_equivalent(x: Decimal) -> None:
    s = _plain(x)
    forms = [f"{s} mln", f"{s} million", f"{s}m", f"{s} mn"]
    values = {value(f"about {form} tonnes")[1] for form in forms}
    assert values == {_plain(x * 1_000_000)}
    whole = int(x * 1_000_000)
    if whole == x * 1_000_000:
        assert value(f"about {whole:,} tonnes") == ("number", str(whole))


@settings(max_examples=150, deadline=None)
@given(_AMOUNTS)
def test_percent_and_money_forms_are_equivalent(x: Decimal) -> None:
    s = _plain(x)
    assert {value(f"up {s}{unit} on") for unit in (" pct", "%", " per cent", " percent", " pc")} == {("percent", s)}
    money = {value(f"for {form} in") for form in (f"${s}bn", f"{s} billion dlrs", f"{s} billion dollars", f"US${s}bn")}
    assert money == {("money", f"USD {_plain(x * 1_000_000_000)}")}


@settings(max_examples=150, deadline=None)
@given(_TEXTS, _TEXTS)
def test_compare_is_symmetric_and_self_agreement_is_total(x: str, y: str) -> None:
    a, b = extract(x), extract(y)
    ab, ba = compare(a, b), compare(b, a)
    assert (ab.agree, ab.conflict) == (ba.agree, ba.conflict)
    assert (ab.only_a, ab.only_b) == (ba.only_b, ba.only_a)
    assert -1.0 <= ab.score <= 1.0
    same = compare(a, a)
    assert same.conflict == 0 and same.only_a == 0 and same.agree == len(a)
    assert same.score == (1.0 if a else 0.0) and not same.other_facts


def test_doctests_and_pickling() -> None:
    import doctest
    import pickle

    from retold.text import facts as facts_module

    assert doctest.testmod(facts_module).failed == 0
    found = extract(COMMERZBANK)
    agreement = compare(found, extract(NORDIC))
    assert pickle.loads(pickle.dumps(found)) == found
    assert pickle.loads(pickle.dumps(agreement)) == agreement


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("G Murphy; G Dempsey, B O'Driscoll, S Horgan, D Hickie; R O'Gara, P Stringer; R Corrigan", 0.95, 1.0),
        ("U.S. Treasury Secretary James Baker's", 0.95, 1.0),
        ("Bank of Japan governor Satoshi Sumita", 0.8, 0.8),
        (BBC, 0.0, 0.4),  # a sentence heavy with names
        ("FED ADDS RESERVES VIA CUSTOMER REPURCHASES", 0.0, 0.5),  # capitals are not names
        ("Die Bundesregierung hat am Montag beschlossen, die Steuern zu senken", 0.4, 0.75),
        ("", 0.0, 0.0),
        ("12 34 -- ;", 0.0, 0.0),
    ],
)
def test_name_share(text: str, low: float, high: float) -> None:
    assert low <= name_share(text) <= high


def test_name_share_of_a_slice() -> None:
    text = "The team: G Murphy, G Dempsey, B O'Driscoll. They played well in the rain yesterday."
    cut = text.index(" They")
    assert name_share(text, 0, cut) > 0.8 > name_share(text, cut)


def test_mentioned() -> None:
    text = "The Dutch firm, led by chairman Lakshmi Mittal, said Mittal's profits rose. New Zealand bonds fell."
    facts = extract(text)
    assert mentioned("mittal steel co", text, facts)  # "Mittal" is named
    assert mentioned("zealand", text, facts)  # every word is in the text
    assert mentioned("new zealand", text, facts)
    assert not mentioned("nissan motor co ltd", text, facts)
    assert not mentioned("first interstate bancorp", text, facts)
