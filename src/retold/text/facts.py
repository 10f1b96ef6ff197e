"""The facts a passage states — numbers, percentages, money, dates, names, quotes — with normal forms, and how
two aligned passages' facts agree.

Reuse carries its source's facts (names, figures, dates, quotes); a recurring report filled in again (a bond
notice of another issuer, a daily figure report of another day) or an article on the same topic carries other
facts in the same wording. `extract` finds the facts of a span as offsets into the original text and `compare`
counts, kind by kind, the facts two passages share, the slots filled with different values, and the facts only
one side states.

The patterns are hand-written over `regex`: the libraries that fit part of the job either parse a string already
cut out (price-parser, number-parser), rewrite the text and lose offsets (text2num's alpha2digit), cost
milliseconds a sentence (dateparser, quantulum3), or know nothing of wire conventions ("100 mln dlr",
"6-3/4 pct", "Shr 54 cts vs 48 cts"). Names are capitalised runs told from capitalised common words by their
background frequency (wordfreq, through `retold.text.tokens.zipf`); digits, currencies, dates and quotes work
in any script, names only in cased ones.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from operator import attrgetter
from typing import Literal

import regex
from rapidfuzz import fuzz

from retold._pickling import by_fields
from retold.text.tokens import is_stopword, zipf

__all__ = [
    "FIGURES",
    "KINDS",
    "Fact",
    "FactAgreement",
    "FactKind",
    "KindAgreement",
    "compare",
    "extract",
    "mentioned",
    "name_share",
    "name_words",
    "within",
]

FactKind = Literal["number", "percent", "money", "date", "name", "quote"]
KINDS: tuple[FactKind, ...] = ("number", "percent", "money", "date", "name", "quote")
FIGURES: frozenset[FactKind] = frozenset({"number", "percent", "money", "date"})
"""Kinds a recurring report fills in anew each time: a different value here is the sign of a template."""


@by_fields
@dataclass(frozen=True, slots=True)
class Fact:
    """One stated fact: ``text[start:end]`` read as `kind` with the normal form `value`.

    Values: number ``"1500000"``, ``"6.75"``, ``"ord:3"``; percent ``"15"``; money ``"USD 1500000"``;
    date ``"1987-03-xx"`` (x: not stated), ``"monday"``, ``"t:15:00"``, ``"1990s"``, ``"1986/87"``;
    name ``"ahmad massoud"`` (case-folded, leading titles dropped); quote: its words case-folded.
    """

    kind: FactKind
    value: str
    start: int
    end: int


# --- numbers, percentages, money -------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}  # fmt: skip
_MULTIPLIERS = {
    "hundred": 100, "thousand": 1000, "thousands": 1000, "k": 1000, "lakh": 100_000, "lakhs": 100_000,
    "lac": 100_000, "m": 10**6, "mn": 10**6, "mln": 10**6, "million": 10**6, "millions": 10**6,
    "crore": 10**7, "crores": 10**7, "b": 10**9, "bn": 10**9, "bln": 10**9, "billion": 10**9, "billions": 10**9,
    "tn": 10**12, "trn": 10**12, "trillion": 10**12, "trillions": 10**12,
}  # fmt: skip
_VULGAR = {"½": "0.5", "¼": "0.25", "¾": "0.75", "⅛": "0.125", "⅜": "0.375", "⅝": "0.625", "⅞": "0.875"}
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 8, 16, 32, 64})  # wire prices and fees; "9/11" is no fraction

# Currency words and the family they belong to; cents and pence are a hundredth of their family's unit.
_CURRENCY_WORDS = {
    "dlr": "dollar", "dlrs": "dollar", "dollar": "dollar", "dollars": "dollar", "cts": "dollar/100",
    "cent": "dollar/100", "cents": "dollar/100", "stg": "pound", "sterling": "pound", "pound": "pound",
    "pounds": "pound", "pence": "pound/100", "p": "pound/100", "euro": "euro", "euros": "euro", "ecu": "ecu",
    "ecus": "ecu", "yen": "yen", "yuan": "yuan", "renminbi": "yuan", "mark": "mark", "marks": "mark",
    "d-mark": "mark", "d-marks": "mark", "deutschmark": "mark", "deutschmarks": "mark", "franc": "franc",
    "francs": "franc", "crown": "crown", "crowns": "crown", "krona": "crown", "kronor": "crown", "krone": "crown",
    "kroner": "crown", "guilder": "guilder", "guilders": "guilder", "lira": "lira", "lire": "lira",
    "peseta": "peseta", "pesetas": "peseta", "rupee": "rupee", "rupees": "rupee", "rand": "rand", "peso": "peso",
    "pesos": "peso", "riyal": "riyal", "riyals": "riyal", "schilling": "schilling", "schillings": "schilling",
    "won": "won", "rouble": "rouble", "roubles": "rouble", "ruble": "rouble", "rubles": "rouble", "baht": "baht",
    "ringgit": "ringgit", "rupiah": "rupiah",
}  # fmt: skip
_FAMILY_CODE = {
    "dollar": "USD", "pound": "GBP", "euro": "EUR", "ecu": "XEU", "yen": "JPY", "yuan": "CNY", "mark": "DEM",
    "franc": "franc", "crown": "crown", "guilder": "NLG", "lira": "ITL", "peseta": "ESP", "rupee": "INR",
    "rand": "ZAR", "peso": "peso", "riyal": "SAR", "schilling": "ATS", "won": "KRW", "rouble": "RUB",
    "baht": "THB", "ringgit": "MYR", "rupiah": "IDR",
}  # fmt: skip
_QUALIFIED_CODE = {
    ("us", "dollar"): "USD", ("u.s.", "dollar"): "USD", ("american", "dollar"): "USD",
    ("canadian", "dollar"): "CAD", ("australian", "dollar"): "AUD", ("new zealand", "dollar"): "NZD",
    ("hong kong", "dollar"): "HKD", ("singapore", "dollar"): "SGD", ("taiwan", "dollar"): "TWD",
    ("swiss", "franc"): "CHF", ("french", "franc"): "FRF", ("belgian", "franc"): "BEF",
    ("luxembourg", "franc"): "LUF", ("danish", "crown"): "DKK", ("swedish", "crown"): "SEK",
    ("norwegian", "crown"): "NOK", ("west german", "mark"): "DEM", ("german", "mark"): "DEM",
    ("deutsche", "mark"): "DEM", ("irish", "pound"): "IEP", ("egyptian", "pound"): "EGP",
    ("mexican", "peso"): "MXN", ("argentine", "peso"): "ARS", ("philippine", "peso"): "PHP",
}  # fmt: skip
_PREFIX_CODE = {
    "$": "USD", "us$": "USD", "u.s.$": "USD", "c$": "CAD", "a$": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD",
    "r$": "BRL", "£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR", "rs": "INR", "rs.": "INR", "dm": "DEM",
    "sfr": "CHF", "dfl": "NLG",
}  # fmt: skip
_ISO_CODES = "USD|EUR|GBP|JPY|CHF|INR|CAD|AUD|NZD|HKD|SGD|CNY|DKK|SEK|NOK|ZAR|RUB|BRL|MXN"

_NUMBER_WORDS = frozenset(_UNITS)
_WORD_NUMBER = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\s](?:one|two|three|four|five|six|seven"
    r"|eight|nine)\b)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|an?(?=\s+(?:hundred|thousand|million|billion|mln|bln)\b))"
)
_SPACED_MULT = r"mln|millions?|mn|bln|billions?|bn|trillions?|tn|trn|thousands?|lakhs?|lac|crores?|hundred"
_COUNTRY = (
    r"U\.S\.|US|American|Canadian|Australian|New\s+Zealand|Hong\s+Kong|Singapore|Taiwan|Swiss|French|Belgian"
    r"|Luxembourg|West\s+German|German|Deutsche|Danish|Swedish|Norwegian|Irish|Egyptian|Mexican|Argentine"
    r"|Philippine"
)
_CURRENCY_WORD = "|".join(sorted((w for w in _CURRENCY_WORDS if w != "p"), key=len, reverse=True))
# What may follow a number: a multiplier glued ("1.5m", "$2bn") or spelt out, then a percent sign or word, basis
# points, pence, a currency word (with its country: "Danish crowns") or an ISO code.
_SUFFIX = rf"""
    (?:
       (?P<gm>(?i:bn|mn|tn|trn|m|b|k))(?![\p{{L}}\p{{N}}])
      |(?P<sm>(?:\s+(?i:{_SPACED_MULT})\b){{1,2}})
    )?
    (?:
       \s*(?P<pct>%|(?i:pct|per[\s\-]?cent|percent|pc|percentage\s+points?)\b)
      |\s+(?P<bp>(?i:basis\s+points?|bps?))\b
      |(?P<pence>p)(?![\p{{L}}\p{{N}}])
      |\s+(?:(?P<adj>{_COUNTRY})\s+)?(?P<cur>(?i:{_CURRENCY_WORD}))\b
      |\s?(?P<code>{_ISO_CODES})\b
    )?
"""
# Digit amounts. The lookahead gate first: most positions of a text hold a lower-case letter, and rejecting them
# on one character keeps the scan to a few microseconds a sentence.
_AMOUNT_RE = regex.compile(
    rf"""
    (?=[\d½¼¾⅛⅜⅝⅞$£€¥₹A-Z])
    (?:(?P<pre>US\$|U\.S\.\s?\$|C\$|A\$|NZ\$|HK\$|S\$|R\$|\$|£|€|¥|₹
       |(?<![\p{{L}}\p{{N}}])(?:Rs\.?|DM|SFr|Dfl|{_ISO_CODES})(?=\s?\d))\s?
    )?
    (?<![\p{{L}}\p{{N}}_/])(?<!\p{{L}}-)(?<!\d[.,])  # "Baa-1", "F-16" are codes; "1075-1100" is two numbers
    (?:
      (?P<whole>\d{{1,4}})-(?P<fn>\d{{1,2}})/(?P<fd>\d{{1,2}})(?![/\d])     # wire fractions: 6-3/4, 101-3/8
     |(?P<fn2>\d{{1,2}})/(?P<fd2>\d{{1,2}})(?![/\d])                       # 5/8
     |(?P<thou>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)(?![\d,]\d)                # 1,500,000.5
     |(?P<cont>\d{{1,3}}(?:\.\d{{3}}){{2,}}(?:,\d+)?)(?!\d)                # 1.500.000,5
     |(?P<dec>\d+(?:[.,]\d+)?)(?P<vf>[½¼¾⅛⅜⅝⅞])?(?![.,]?\d)                # 1.5, 1,5, 1500, 6½
     |(?P<vf2>[½¼¾⅛⅜⅝⅞])
    )
    (?P<ord>st|nd|rd|th)?
    {_SUFFIX}
    """,
    regex.VERBOSE,
)
# Spelt-out amounts ("six pct", "two billion dollars"), tried only where a number word stands.
_WORD_AMOUNT_RE = regex.compile(rf"(?P<word>(?i:{_WORD_NUMBER}))(?![\p{{L}}\-]){_SUFFIX}", regex.VERBOSE)
_WORDISH_RE = regex.compile(r"(?<![\p{L}\-])[A-Za-z]+")
_DECIMAL = Context(prec=12)


def _fmt(d: Decimal) -> str:
    """Canonical text of a number: no exponent, no trailing zeros ("1500000", "6.75")."""
    d = _DECIMAL.plus(d)
    text = format(d.normalize(_DECIMAL), "f")
    return text if text != "-0" else "0"


def _digits(m: regex.Match[str]) -> Decimal | None:
    """The numeric value of the digit or word part of an amount match; None when it is no number."""
    g = m.groupdict()
    if g.get("word") is not None:
        words = regex.sub(r"[-\s]+", " ", g["word"].casefold()).split(" ")
        return Decimal(sum(_UNITS[w] for w in words))
    if g["whole"] is not None or g["fn2"] is not None:
        num, den = int(g["fn"] or g["fn2"]), int(g["fd"] or g["fd2"])
        if den not in _FRACTION_DENOMINATORS or not 0 < num < den:
            return None
        frac = _DECIMAL.divide(Decimal(num), Decimal(den))
        return frac + Decimal(g["whole"]) if g["whole"] is not None else frac
    if g["thou"] is not None:
        return Decimal(g["thou"].replace(",", ""))
    if g["cont"] is not None:
        return Decimal(g["cont"].replace(".", "").replace(",", "."))
    if g["dec"] is not None:
        # A lone comma is a thousands separator only before exactly three digits (handled above): "1,5" is 1.5.
        value = Decimal(g["dec"].replace(",", "."))
        return value + Decimal(_VULGAR[g["vf"]]) if g["vf"] else value
    if g["vf2"] is not None:
        return Decimal(_VULGAR[g["vf2"]])
    return None


def _amount_fact(m: regex.Match[str]) -> Fact | None:
    """Read one amount match as a number, percent or money fact."""
    g = m.groupdict()
    word, pre, ordinal = g.get("word"), g.get("pre"), g.get("ord")
    value = _digits(m)
    if value is None:
        return None
    start, end = m.span()
    mult = g["gm"] or g["sm"]
    if word is not None and word.casefold() in ("one", "a", "an") and not (mult or g["pct"] or g["cur"]):
        return None  # "one of the largest": a lone "one" states no figure
    if mult:
        for unit in mult.split():
            value *= _MULTIPLIERS[unit.casefold()]
    if ordinal is not None:
        if g["dec"] is None or mult or not g["dec"].isdigit():
            return None
        return Fact("number", "ord:" + g["dec"], start, m.end("ord"))
    if pre is not None and g["cur"] is None:
        code = _PREFIX_CODE.get(regex.sub(r"\s", "", pre).casefold(), pre.strip().upper())
        return Fact("money", f"{code} {_fmt(value)}", start, end)
    if g["pct"] is not None:
        return Fact("percent", _fmt(value), start, end)
    if g["bp"] is not None:
        return Fact("percent", _fmt(value / 100), start, end)
    if g["pence"] is not None:
        if mult or word is not None:
            return None
        return Fact("money", f"GBP {_fmt(value / 100)}", start, end)
    if g["cur"] is not None:
        family = _CURRENCY_WORDS[g["cur"].casefold()]
        if family.endswith("/100"):
            family, value = family[:-4], value / 100
        adj = regex.sub(r"\s+", " ", g["adj"]).casefold() if g["adj"] else None
        code = _QUALIFIED_CODE.get((adj, family), f"{adj} {family}") if adj else _FAMILY_CODE[family]
        return Fact("money", f"{code} {_fmt(value)}", start, end)
    if g["code"] is not None:
        return Fact("money", f"{g['code']} {_fmt(value)}", start, end)
    return Fact("number", _fmt(value), start, end)


# --- dates -----------------------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?:(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER)\b"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec|JAN|FEB|MAR|APR|JUN|JUL|AUG|SEPT|SEP|OCT|NOV|DEC)"
    r"\b\.?)"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\p{L}\p{N}]|[.,:]\d)"
_YEAR = r"(?:1[5-9]\d\d|20\d\d)(?![\p{L}\p{N}]|[.,]\d)"
_NOT_AMOUNT = r"(?!\s*(?:%|(?i:pct|per\s?cent|percent|mln|million|billion|bln|bn|dlrs?|dollars?|stg|yen|cts)\b))"
_ZONE = r"(?:GMT|EST|EDT|CST|CDT|PST|PDT|BST|CET|UTC|local\s+time)\b"
_DATE_RE = regex.compile(
    rf"""
    (?=[\dJFMASONDTW])  # the gate: see _AMOUNT_RE
    (?<![\p{{L}}\p{{N}}])
    (?:
      (?P<m1>{_MONTH})\s+(?P<d1>{_DAY})(?:,?\s+(?P<y1>{_YEAR}))?
     |(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>{_YEAR}))?
     |(?P<m3>{_MONTH}),?\s+(?P<y3>{_YEAR})
     |(?P<iso>(?P<iy>1[5-9]\d\d|20\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d))(?!\d)
     |(?P<dmy>\d{{1,2}}(?P<sep>[/.])\d{{1,2}}(?P=sep)(?:\d{{4}}|\d{{2}}))(?![\p{{N}}]|[/.,]\d)
     |(?P<fy>(?:1[89]|20)\d\d[/-]\d\d)(?![\p{{N}}]|[/.,]\d)
     |(?P<decade>(?:1[5-9]|20)\d0s)\b
     |(?P<t1>\d{{1,2}}):(?P<t2>\d{{2}})(?!\d)(?:\s*(?P<ap1>(?i:[ap]\.m\.|[ap]m\b)))?(?:\s*{_ZONE})?
     |(?P<t3>\d{{1,2}})(?:\.(?P<t4>\d{{2}}))?\s*(?P<ap2>(?i:[ap]\.m\.|[ap]m\b))
     |(?P<t5>[012]\d)(?P<t6>[0-5]\d)\s+{_ZONE}
     |(?P<wd>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|(?:MON|TUES|WEDNES|THURS|FRI|SATUR|SUN)DAY)\b
     |(?P<m4>(?:January|February|March|April|June|July|August|September|October|November|December)\b)
     |(?<![$£€¥\-]\s?)(?<![\d.,])(?P<y4>{_YEAR}){_NOT_AMOUNT}
    )
    """,
    regex.VERBOSE,
)


def _date_fact(m: regex.Match[str]) -> Fact:
    g = m.groupdict()
    start, end = m.span()
    if g["wd"] is not None:
        return Fact("date", g["wd"].casefold(), start, end)
    if g["iso"] is not None:
        return Fact("date", g["iso"], start, end)
    for key in ("dmy", "fy", "decade"):
        if g[key] is not None:
            return Fact("date", g[key].replace(".", "/").replace("-", "/"), start, end)
    if g["t1"] is not None or g["t3"] is not None or g["t5"] is not None:
        hour = int(g["t1"] or g["t3"] or g["t5"])
        minute = int(g["t2"] or g["t4"] or g["t6"] or 0)
        ap = (g["ap1"] or g["ap2"] or "").casefold()
        if ap.startswith("p") and hour < 12:
            hour += 12
        elif ap.startswith("a") and hour == 12:
            hour = 0
        return Fact("date", f"t:{hour:02d}:{minute:02d}", start, end)
    mon = g["m1"] or g["m2"] or g["m3"] or g["m4"]
    day = g["d1"] or g["d2"]
    year = g["y1"] or g["y2"] or g["y3"] or g["y4"]
    mm = f"{_MONTHS[mon[:3].casefold()]:02d}" if mon else "xx"
    dd = f"{int(day.rstrip('stndrh')):02d}" if day else "xx"
    return Fact("date", f"{year or 'xxxx'}-{mm}-{dd}", start, end)


# --- quotes ----------------------------------------------------------------------------------------------------

_IN_PARA = r"(?:[^\n{stop}]|\n(?![ \t]*\n))"  # a quote may wrap lines but never crosses a blank line
_QUOTE_RE = regex.compile(
    r"“(?P<q1>" + _IN_PARA.format(stop="“”") + r"{2,2000}?)”"
    r"|„(?P<q2>" + _IN_PARA.format(stop="„“”") + r"{2,2000}?)[“”]"
    r"|«(?P<q3>" + _IN_PARA.format(stop="«»") + r"{2,2000}?)»"
    r"|「(?P<q4>[^「」]{2,2000}?)」|『(?P<q5>[^『』]{2,2000}?)』"
    r"|(?<![\p{L}\p{N}])\"(?=\S)(?P<q6>" + _IN_PARA.format(stop='"') + r"{2,2000}?)(?<=\S)\"(?![\p{L}\p{N}])"
    # Single quotes double as apostrophes: an opener follows no letter, a closer precedes none, and an apostrophe
    # inside a word (don't, firm's) belongs to the content; one after a space would open another quote, so a scan
    # never runs past it (which kept "'a 'a 'a ..." linear).
    r"|(?<![\p{L}\p{N}])['‘](?=[\p{L}\p{N}])(?P<q7>(?:[^'‘’\n]|(?<=[\p{L}\p{N}])['’](?=\p{L})|\n(?![ \t]*\n)){2,2000}?)"
    r"(?<=\S)['’](?![\p{L}\p{N}])"
)
_WORD_RE = regex.compile(r"[\p{L}\p{N}]+(?:['’][\p{L}]+)*")
_MIN_QUOTE_WORDS = 3  # shorter quoted bits are scare quotes ('to cut') or titles, not statements


def _quote_fact(m: regex.Match[str]) -> Fact | None:
    content = next(c for c in m.groups() if c is not None)
    words = _WORD_RE.findall(unicodedata.normalize("NFKC", content).casefold().replace("’", "'"))
    if len(words) < _MIN_QUOTE_WORDS:
        return None
    return Fact("quote", " ".join(words), m.start(), m.end())


# --- names -----------------------------------------------------------------------------------------------------

_CAP = (
    r"(?:\p{Lu}\.){2,}"  # dotted acronyms: U.S., U.K.
    r"|(?:\p{Lu}|(?<!\p{L})\p{Ll}{1,2}\p{Lu})[\p{L}\p{M}\p{N}]*(?:['’\-&][\p{L}\p{M}\p{N}]+)*"  # O'Brien, iPod, AT&T
)
_CONN = r"(?:del|des|den|der|de|du|la|le|van|von|da|di|al|bin|el|of|and|&)"
_GAP = r"(?:[ \t]+|[ \t]*\n[ \t]*)"  # one line break at most (wire copy is wrapped); a blank line ends a name
_RUN_RE = regex.compile(rf"(?:{_CAP})(?:{_GAP}(?:{_CONN}{_GAP})*(?:{_CAP}))*")
_RUN_TOKEN_RE = regex.compile(rf"{_CAP}|{_CONN}(?![\p{{L}}\p{{N}}])")
_PARAGRAPH_GAP = regex.compile(r"\n[ \t]*\n|\n[ \t]{2,}|\n\t")
_UPPER_RE = regex.compile(r"\p{Lu}")
_LOWER_RE = regex.compile(r"\p{Ll}")
_LOWER_SUFFIX = regex.compile(r"-\p{Ll}")  # "Netherlands-based", "Indian-born": the name ends at the hyphen
_CONNECTORS = frozenset({"of", "de", "du", "des", "la", "le", "van", "von", "der", "den", "da", "di", "del", "al",
                         "bin", "el", "&"})  # fmt: skip
# "and" joins a name only where an organisation's own word follows: "Samuel Montagu and Co", "Securities and
# Exchange Commission", never "France and Germany".
_AND_JOINS = frozenset({"co", "company", "sons", "partners", "brothers", "associates", "exchange", "gamble"})
_TITLES = frozenset(
    """mr mrs ms miss dr prof sir lord lady dame president prime minister chancellor secretary senator sen rep
    gov governor king queen prince princess general gen col capt judge justice chairman chief pope saint st
    mayor sheikh""".split()
)
# Wire-table row labels (Reuters earnings and dividend notices) capitalised at a line start, and the wire's
# sign-off ("REUTER", closing every Reuters-21578 story): no names.
_WIRE_LABELS = frozenset("shr shrs mthly qtly qtr div revs oper avg net pay record note vs reuter".split())
# One country under its other names and its adjective: rewriters swap "Iranian" for "Iran", "US" for "America".
_COUNTRY_NAMES = {
    "us": "usa|america|american|americans|united states|united states of america",
    "uk": "britain|british|briton|britons|great britain|united kingdom",
    "netherlands": "dutch|holland", "afghanistan": "afghan", "argentina": "argentine|argentinian",
    "australia": "australian", "austria": "austrian", "belgium": "belgian", "brazil": "brazilian",
    "canada": "canadian", "china": "chinese", "colombia": "colombian", "cuba": "cuban", "denmark": "danish",
    "egypt": "egyptian", "england": "english", "europe": "european", "finland": "finnish", "france": "french",
    "germany": "german", "greece": "greek", "hungary": "hungarian", "india": "indian", "indonesia": "indonesian",
    "iran": "iranian", "iraq": "iraqi", "ireland": "irish", "israel": "israeli", "italy": "italian",
    "japan": "japanese", "jordan": "jordanian", "kenya": "kenyan", "korea": "korean", "kuwait": "kuwaiti",
    "lebanon": "lebanese", "malaysia": "malaysian", "mexico": "mexican", "morocco": "moroccan",
    "nigeria": "nigerian", "norway": "norwegian", "pakistan": "pakistani", "palestine": "palestinian",
    "philippines": "philippine|filipino", "poland": "polish", "portugal": "portuguese", "russia": "russian",
    "saudi arabia": "saudi", "scotland": "scottish|scots", "singapore": "singaporean", "spain": "spanish",
    "sweden": "swedish", "switzerland": "swiss", "syria": "syrian", "taiwan": "taiwanese", "thailand": "thai",
    "turkey": "turkish", "ukraine": "ukrainian", "venezuela": "venezuelan", "vietnam": "vietnamese",
    "wales": "welsh", "zimbabwe": "zimbabwean", "south africa": "south african",
}  # fmt: skip
_NAME_ALIASES = {alias: country for country, aliases in _COUNTRY_NAMES.items() for alias in aliases.split("|")}
_COMMON_OPENER_ZIPF = 4.8  # a run's first word at a sentence start this common is an opener ("However", "John")
_RARE_ZIPF = 3.5  # a lone capitalised word at a sentence start is a name only when this rare ("Commerzbank")
_CAPS_ACRONYM_ZIPF = 5.0  # an all-caps word of 4-6 letters is an acronym unless a common word ("NOTE")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr inc ltd co corp bros vs gen lt col sgt capt maj gov sen rep no jan feb mar apr "
    "jun jul aug sep sept oct nov dec".split()
)


def _sentence_start(text: str, pos: int) -> bool:
    """Whether the word at `pos` opens a sentence or a paragraph (so its capital says nothing)."""
    j = pos
    while j > 0 and text[j - 1] in "\"'“‘„«([*•-–—":
        j -= 1
    k = j
    while k > 0 and text[k - 1].isspace():
        k -= 1
    if k == 0:
        return True
    # A blank line or an indented line starts a paragraph; a plain line break inside wrapped wire copy does not.
    if "\n" in text[k:j] and _PARAGRAPH_GAP.search(text, k, j):
        return True
    c = text[k - 1]
    if c in "\"'”’)]" and k >= 2:
        c = text[k - 2]
    if c == ":":
        return "\n" in text[k:j]  # "NOTE:\nFranklin ..." but "said: Microsoft"
    if c not in ".!?…":
        return False
    if c == ".":
        w = k - 1
        while w > 0 and (text[w - 1].isalpha() or text[w - 1] == "."):
            w -= 1
        word = text[w : k - 1].casefold()
        if (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS or "." in word:
            return False  # "Mr. Smith", "J. Smith", "U.S. Treasury"
    return True


def _mostly_caps(text: str, start: int, end: int) -> bool:
    upper = len(_UPPER_RE.findall(text, start, end))
    lower = len(_LOWER_RE.findall(text, start, end))
    return upper + lower >= 20 and upper > 1.5 * lower


def _name_word(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).casefold().replace("’", "'").replace(".", "")


def _is_name_token(raw: str) -> bool:
    """A capitalised token that can be part of a name (not "The", not "I", not a wire label)."""
    low = _name_word(raw)
    if raw.isupper() and len(low) >= 2:  # an acronym, unless a common word in capitals ("TV", "NOTE")
        if low in _NAME_ALIASES or low in _COUNTRY_NAMES:
            return True
        return low not in _WIRE_LABELS and zipf(low) < (_CAPS_ACRONYM_ZIPF if len(low) <= 6 else _RARE_ZIPF)
    return len(low) >= 2 and low not in _WIRE_LABELS and not is_stopword(low)


def _token_end(text: str, s: int, e: int) -> int:
    """End of a name token without a possessive ('s) or a lower-case hyphen suffix (-based)."""
    raw = text[s:e]
    if "-" in raw:
        cut = _LOWER_SUFFIX.search(raw)
        if cut:
            e = s + cut.start()
            raw = text[s:e]
    if raw.endswith(("'s", "’s")) and len(raw) > 2:
        return e - 2
    if raw.endswith(("'", "’")):
        return e - 1
    return e


def _name_facts(text: str, start: int, end: int, free: Callable[[int, int], bool]) -> Iterator[Fact]:
    """Names: runs of capitalised tokens, joined by connectors ("Bank of England"), cut where a token is taken
    by another fact or is no name word."""
    caps: bool | None = None
    for run in _RUN_RE.finditer(text, start, end):
        if caps is None:
            caps = _mostly_caps(text, start, end)
        if caps:
            return  # all-caps copy: a capital tells nothing
        toks = [(t.start(), t.end(), t.group()) for t in _RUN_TOKEN_RE.finditer(text, run.start(), run.end())]
        sub: list[tuple[int, int]] = []
        pending: list[tuple[int, int]] = []
        for i, (s, e, raw) in enumerate(toks):
            if raw in _CONNECTORS or raw == "and":
                nxt = toks[i + 1][2] if i + 1 < len(toks) else ""
                if sub and (raw != "and" or _name_word(nxt) in _AND_JOINS):
                    pending.append((s, e))
                    continue
            elif free(s, e) and _is_name_token(raw):
                cut = _token_end(text, s, e)
                sub.extend(pending)
                sub.append((s, cut))
                pending = []
                if cut == e:
                    continue
            yield from _emit(text, sub)
            sub, pending = [], []
        yield from _emit(text, sub)


def _emit(text: str, run: list[tuple[int, int]]) -> Iterator[Fact]:
    if not run:
        return
    words = [_name_word(text[s:e]) for s, e in run]
    first = 0
    if _sentence_start(text, run[0][0]):
        raw = text[run[0][0] : run[0][1]]
        # Acronyms, McDonald, Saab-Scania and countries are names wherever they stand.
        special = sum(c.isupper() for c in raw) > 1 or "-" in raw or words[0] in _COUNTRY_NAMES
        if not special and zipf(words[0]) >= (_RARE_ZIPF if len(run) == 1 else _COMMON_OPENER_ZIPF):
            first = 1
    while first < len(run) and (words[first] in _TITLES or words[first] in _CONNECTORS):
        first += 1
    if first < len(run):
        value = " ".join(words[first:])
        yield Fact("name", _NAME_ALIASES.get(value, value), run[first][0], run[-1][1])


# --- extraction ------------------------------------------------------------------------------------------------


class _Claims:
    """Disjoint spans already taken by a fact of an earlier (stronger) pass."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def free(self, s: int, e: int) -> bool:
        i = bisect_right(self.starts, s)
        if i > 0 and self.ends[i - 1] > s:
            return False
        return i >= len(self.starts) or self.starts[i] >= e

    def take(self, s: int, e: int) -> None:
        i = bisect_left(self.starts, s)
        self.starts.insert(i, s)
        self.ends.insert(i, e)


def _amount_matches(text: str, start: int, end: int) -> Iterator[regex.Match[str]]:
    yield from _AMOUNT_RE.finditer(text, start, end)
    for w in _WORDISH_RE.finditer(text, start, end):
        if w.group().casefold() in _NUMBER_WORDS:
            m = _WORD_AMOUNT_RE.match(text, w.start(), end)
            if m is not None:
                yield m


def extract(text: str, start: int = 0, end: int | None = None) -> list[Fact]:
    """The facts stated in ``text[start:end]``, sorted and disjoint, with offsets into `text`.

    Quotes are taken first and hold what they quote; then dates (their digits are not numbers), amounts
    (money, percentages, numbers), and names from the capitalised words left over.

    >>> [(f.kind, f.value) for f in extract("Commerzbank is issuing a 100 mln dlr eurobond due 1992 paying 7-1/4 pct")]
    [('name', 'commerzbank'), ('money', 'USD 100000000'), ('date', '1992-xx-xx'), ('percent', '7.25')]
    """
    end = len(text) if end is None else min(end, len(text))
    start = max(0, start)
    if end <= start:
        return []
    claims = _Claims()
    out: list[Fact] = []

    def keep(fact: Fact | None) -> None:
        if fact is not None and fact.end > fact.start and claims.free(fact.start, fact.end):
            claims.take(fact.start, fact.end)
            out.append(fact)

    for m in _QUOTE_RE.finditer(text, start, end):
        keep(_quote_fact(m))
    for m in _DATE_RE.finditer(text, start, end):
        keep(_date_fact(m))
    for m in _amount_matches(text, start, end):
        try:
            keep(_amount_fact(m))
        except (InvalidOperation, KeyError, ValueError):  # an unreadable amount is no fact, never an error
            continue
    for fact in _name_facts(text, start, end, claims.free):
        keep(fact)
    out.sort(key=lambda f: f.start)
    return out


_START = attrgetter("start")


def within(facts: Sequence[Fact], start: int, end: int) -> list[Fact]:
    """The facts of a sorted list (as `extract` returns) lying inside ``[start, end)``: extract a document once,
    then take each sentence's or passage's facts from it."""
    i = bisect_left(facts, start, key=_START)
    out: list[Fact] = []
    for f in facts[i:]:
        if f.start >= end:
            break
        if f.end <= end:
            out.append(f)
    return out


# --- comparison ------------------------------------------------------------------------------------------------

# How much one fact weighs: a figure (or a quote) pins a report down more than a name, which recurs across
# stories on one subject. A fact on one side only weighs a quarter: rewrites drop and add facts freely.
_WEIGHT: dict[FactKind, float] = {"number": 1.0, "percent": 1.0, "money": 1.0, "date": 0.75, "name": 0.5,
                                  "quote": 1.0}  # fmt: skip
_ONE_SIDED = 0.25
_NAME_VOTE = 0.5  # in `other_facts`, a name shared or differing counts half a figure
_NAME_CONFLICTS_ALONE = 2  # differing names that make template evidence without any differing figure
_NAME_NOISE = frozenset(
    "inc corp co ltd plc ag nv sa ab gmbh llc bv spa and of the de la group holdings company".split()
)


@by_fields
@dataclass(frozen=True, slots=True)
class KindAgreement:
    """How two passages' facts of one kind compare.

    `agree`: facts matched one to one (same value; names by their words, dates where no stated part differs).
    `conflict`: unmatched facts that face an unmatched fact of the same kind on the other side — a slot filled
    with another value (min of the two unmatched counts). `only_a`/`only_b`: the remaining unmatched facts.
    """

    kind: FactKind
    agree: int
    conflict: int
    only_a: int
    only_b: int

    @property
    def clash(self) -> bool:
        """Both sides state facts of this kind and none is shared."""
        return self.agree == 0 and self.conflict > 0


@by_fields
@dataclass(frozen=True, slots=True)
class FactAgreement:
    """Kind-by-kind agreement of two passages' facts (kinds neither side states are left out)."""

    kinds: tuple[KindAgreement, ...]

    def _sum(self, field: str, kinds: frozenset[FactKind] | None = None) -> int:
        return sum(getattr(k, field) for k in self.kinds if kinds is None or k.kind in kinds)

    def of(self, kind: FactKind) -> KindAgreement:
        """The counts of one kind (zeros when neither side states it)."""
        return next((k for k in self.kinds if k.kind == kind), KindAgreement(kind, 0, 0, 0, 0))

    @property
    def agree(self) -> int:
        return self._sum("agree")

    @property
    def conflict(self) -> int:
        return self._sum("conflict")

    @property
    def only_a(self) -> int:
        return self._sum("only_a")

    @property
    def only_b(self) -> int:
        return self._sum("only_b")

    @property
    def figures_agree(self) -> int:
        """Shared numbers, percentages, amounts and dates."""
        return self._sum("agree", FIGURES)

    @property
    def figures_conflict(self) -> int:
        """Numbers, percentages, amounts and dates stated differently."""
        return self._sum("conflict", FIGURES)

    @property
    def score(self) -> float:
        """From -1 (every fact stated differently) to 1 (every fact shared); 0 without facts.

        Weighted agreements minus weighted conflicts over everything weighed, a one-sided fact at a quarter.
        """
        good = bad = loose = 0.0
        for k in self.kinds:
            w = _WEIGHT[k.kind]
            good += w * k.agree
            bad += w * k.conflict
            loose += w * _ONE_SIDED * (k.only_a + k.only_b)
        total = good + bad + loose
        return 0.0 if total == 0 else (good - bad) / total

    @property
    def other_facts(self) -> bool:
        """Template evidence: the two sides fill the same slots with other values ("same wording, other facts").

        True when a figure or a quote differs (or two names do: a name alone also differs where a rewriter
        writes "the Dutch firm" for "Mittal Steel") and the differing facts outweigh the shared ones, figures and
        quotes counting 1 and names 1/2. Facts on one side only never count: rewrites drop and add them.
        """
        names, quotes = self.of("name"), self.of("quote")
        hard = self.figures_conflict + quotes.conflict
        if hard == 0 and names.conflict < _NAME_CONFLICTS_ALONE:
            return False
        differ = hard + _NAME_VOTE * names.conflict
        shared = self.figures_agree + quotes.agree + _NAME_VOTE * names.agree
        return differ > shared


def _name_words(value: str) -> frozenset[str]:
    words = frozenset(value.split()) - _NAME_NOISE
    return words or frozenset(value.split())


def _same_date(a: str, b: str) -> bool:
    """Equal, or partial dates that agree on every part both state and share at least one ("March 3" and
    "March 3, 2005"; but a bare year and a bare day state nothing in common: "1992" is not "April 2")."""
    if a == b:
        return True
    if len(a) != 10 or len(b) != 10 or a[4] != "-" or b[4] != "-":
        return False
    parts = list(zip(a.split("-"), b.split("-"), strict=True))
    both = [(x, y) for x, y in parts if "x" not in x and "x" not in y]
    return bool(both) and all(x == y for x, y in both)


def _same_money(a: str, b: str) -> bool:
    ca, _, va = a.partition(" ")
    cb, _, vb = b.partition(" ")
    if va != vb:
        return False
    # An unqualified currency word ("francs") may be any of its family ("Swiss francs"): not a conflict.
    return ca == cb or ca in _FAMILY_CODE or cb in _FAMILY_CODE


def _same_quote(a: str, b: str) -> bool:
    if a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} ":
        return True
    return fuzz.ratio(a, b) >= 90


def _same(kind: FactKind, a: str, b: str) -> bool:
    if kind == "name":
        wa, wb = _name_words(a), _name_words(b)
        return wa <= wb or wb <= wa
    if kind == "date":
        return _same_date(a, b)
    if kind == "money":
        return _same_money(a, b)
    if kind == "quote":
        return _same_quote(a, b)
    return a == b


def _match(kind: FactKind, xs: list[str], ys: list[str]) -> tuple[list[str], list[str]]:
    """Pair equal values first, then values that are the same fact; return what is left on each side."""
    left_y = list(ys)
    rest_x: list[str] = []
    for x in xs:
        if x in left_y:
            left_y.remove(x)
        else:
            rest_x.append(x)
    if kind in ("number", "percent"):
        return rest_x, left_y
    unmatched: list[str] = []
    for x in rest_x:
        j = next((j for j, y in enumerate(left_y) if _same(kind, x, y)), None)
        if j is None:
            unmatched.append(x)
        else:
            del left_y[j]
    return unmatched, left_y


def compare(a: Sequence[Fact], b: Sequence[Fact]) -> FactAgreement:
    """What two passages' facts have in common, kind by kind.

    An amount with a currency on one side and the same amount without one on the other counts as one shared
    amount ("1.5 billion" for "$1.5bn").

    >>> x = extract("Commerzbank is issuing a 100 mln dlr eurobond paying 7-1/4 pct")
    >>> y = extract("Nordic Investment Bank is issuing a 100 mln dlr bond paying 11-1/4 pct")
    >>> c = compare(x, y)
    >>> (c.of("money").agree, c.of("percent").conflict, c.of("name").conflict)
    (1, 1, 1)
    """
    by_a: dict[FactKind, list[str]] = {k: [] for k in KINDS}
    by_b: dict[FactKind, list[str]] = {k: [] for k in KINDS}
    for f in a:
        by_a[f.kind].append(f.value)
    for f in b:
        by_b[f.kind].append(f.value)
    left = {k: _match(k, by_a[k], by_b[k]) for k in KINDS}
    agreed = {k: len(by_a[k]) - len(left[k][0]) for k in KINDS}
    # Money against a bare number of the same amount: the amount is what a reader checks.
    for money_side, number_side in ((0, 1), (1, 0)):
        monies, numbers = left["money"][money_side], left["number"][number_side]
        for v in list(monies):
            amount = v.partition(" ")[2]
            if amount in numbers:
                numbers.remove(amount)
                monies.remove(v)
                agreed["money"] += 1
    kinds: list[KindAgreement] = []
    for k in KINDS:
        ua, ub = left[k]
        conflict = min(len(ua), len(ub))
        if agreed[k] or ua or ub:
            kinds.append(KindAgreement(k, agreed[k], conflict, len(ua) - conflict, len(ub) - conflict))
    return FactAgreement(tuple(kinds))


# --- names beyond a passage ------------------------------------------------------------------------------------

_LIST_WORD_RE = regex.compile(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}'’.-]*")
_FUNCTION_WORD_CHARS = 3  # a lower-case word this short ("of", "and", "de", "van") joins names, counted as neither


def name_words(text: str, start: int = 0, end: int | None = None) -> tuple[int, int]:
    """How many words of ``text[start:end]`` read as names, and how many as other words.

    Names: capitalised words ("Murphy", "Bank"), initials and short acronyms ("G", "U.S.", "TBC"). Lower-case
    words of up to three letters ("of", "and", "de") join names and are counted as neither; numbers are other
    words; text in capitals is not read as names.
    """
    names = other = 0
    for m in _LIST_WORD_RE.finditer(text, start, len(text) if end is None else end):
        w = m.group().rstrip(".'’-")
        if not w or (w.islower() and len(w) <= _FUNCTION_WORD_CHARS):
            continue
        if w[0].isalpha() and w[0].isupper() and (not w.isupper() or len(w.replace(".", "")) <= _FUNCTION_WORD_CHARS):
            names += 1
        else:
            other += 1
    return names, other


def name_share(text: str, start: int = 0, end: int | None = None) -> float:
    """Share of the words of ``text[start:end]`` that read as names (`name_words`). A team sheet, a name list or
    a title ("Bank of Japan governor Satoshi Sumita") scores near 1; running prose about 0.1–0.4, German prose
    (nouns capitalised) 0.5–0.7. 0 for text without words."""
    names, other = name_words(text, start, end)
    return names / (names + other) if names + other else 0.0


def _text_words(text: str) -> frozenset[str]:
    out: set[str] = set()
    for m in _LIST_WORD_RE.finditer(text):
        w = _name_word(m.group()).rstrip("'-")
        out.add(w)
        if w.endswith("'s"):
            out.add(w[:-2])
    return frozenset(out)


def mentioned(name: str, text: str, facts: Sequence[Fact]) -> bool:
    """Whether a name's value (as `extract` reads it) is named in `text`, whose facts are `facts`: one of its
    names holds the name's words or the other way round ("Mittal" for "Mittal Steel"), or the text holds every
    word of it anywhere (a name the reader cut differently: "New Zealand" read as "Zealand")."""
    words = _name_words(name)
    for f in facts:
        if f.kind == "name":
            other = _name_words(f.value)
            if words <= other or other <= words:
                return True
    return words <= _text_words(text)
