"""Tokens with character offsets into the original text, their normal forms, stems and background rarity.

Tokens are never produced from a rewritten copy of the text: each match of the token pattern is normalised on
its own (NFKC, case-folded, typographic quotes folded, possessive 's dropped), so offsets need no map back.
Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) give one token per character; word
n-grams over them are character n-grams.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import regex
from numpy.typing import NDArray

from retold._pickling import by_fields

_NOSPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_WORDCH = rf"[[\w]--[_{_NOSPACE}]]"
TOKEN_RE = regex.compile(
    rf"(?V1)\d+(?:[.,:/]\d+)+%?"  # numbers with separators: 2,000  3.5  9/11  10:30
    rf"|[{_NOSPACE}]"  # one token per character where words are not spaced
    rf"|{_WORDCH}+(?:['’]{_WORDCH}+)*"  # words, keeping inner apostrophes (don't, O'Brien)
)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})

_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else ever few for from further
    had has have having he her here hers herself him himself his how however i if in into is it its itself
    just may me might more most must my myself neither no nor not now of off on once only or other ought our
    ours ourselves out over own per said same say says she should since so some such than that the their
    theirs them themselves then there these they this those though through thus to too under until up upon
    us very via was we were what when where whether which while who whom whose why will with within without
    would yet you your yours yourself yourselves""".split()
)


@by_fields
@dataclass(frozen=True, slots=True)
class Tokens:
    """Parallel arrays over a text's tokens: `norm[i]` is ``text[starts[i]:ends[i]]`` normalised."""

    norm: tuple[str, ...]
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.norm)


def normalize_token(raw: str) -> str:
    """Case-folded NFKC form of one token, with typographic quotes folded and a possessive 's dropped.

    >>> normalize_token("Afghanistan’s")
    'afghanistan'
    """
    t = unicodedata.normalize("NFKC", raw).translate(_QUOTES).casefold()
    if t.endswith("'s") and len(t) > 2:
        t = t[:-2]
    return t


def tokenize(text: str) -> Tokens:
    """All tokens of `text` with their offsets.

    >>> tokenize("Hi, O’Brien!").norm
    ('hi', "o'brien")
    """
    matches = list(TOKEN_RE.finditer(text))
    norm = tuple(map(_normalize_cached, map(_GROUP, matches)))
    # Flat (start, end, start, end, ...) straight into an array: no list of tuples for numpy to inspect.
    flat = np.fromiter(chain.from_iterable(map(_SPAN, matches)), dtype=np.int64, count=2 * len(matches))
    return Tokens(norm, flat[0::2].copy(), flat[1::2].copy())


_MATCH = type(TOKEN_RE.search("a"))
_GROUP, _SPAN = _MATCH.group, _MATCH.span


_normalize_cached = lru_cache(maxsize=262144)(normalize_token)
"""`normalize_token` memoised: most tokens of a text are words seen before (a third of the analysis time)."""


def is_stopword(token: str) -> bool:
    """True for function words that carry no content on their own."""
    return token in _STOPWORDS


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer  # PyStemmer: Snowball in C

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=262144)
def stem(token: str) -> str:
    """Snowball (English) stem of a normalised token; tokens with digits are kept whole."""
    if any(ch.isdigit() for ch in token) or not token.isascii():
        return token
    return str(_stemmer().stemWord(token))  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def _zipf_table() -> dict[str, float]:
    from wordfreq import get_frequency_dict  # ships its word lists inside the package: no download

    return {w: float(np.log10(f * 1e9)) for w, f in get_frequency_dict("en", wordlist="large").items()}


@lru_cache(maxsize=262144)
def zipf(token: str) -> float:
    """Background frequency of a normalised token on the Zipf scale (log10 per billion words; 0 = unseen).

    Corpus-independent, so the weight of a term never changes as an index grows.
    """
    z = _zipf_table().get(token)
    if z is None and "'" in token:
        z = _zipf_table().get(token.replace("'", ""))
    return 0.0 if z is None else z


@lru_cache(maxsize=262144)
def weight(token: str) -> float:
    """IDF-like weight from background frequency: about ln(1/p) in units of ln 10; 0 for stopwords."""
    if token in _STOPWORDS:
        return 0.0
    return max(0.5, 9.0 - zipf(token))


def is_rare(token: str, max_zipf: float = 3.0) -> bool:
    """Content terms a paraphraser rarely changes: names, numbers and words rare in general English."""
    if token in _STOPWORDS or len(token) < 2:
        return False
    if token[0].isdigit():
        return len(token) >= 2
    return zipf(token) < max_zipf
