"""Decoding a text file's bytes: UTF-8 strictly, a UTF-16/32 byte order mark, and a legacy encoding only when safe.

Offsets in retold index the decoded text, so a wrong guess would not fail later: it would silently align mojibake
("aprčs" for "après"). A legacy (non-Unicode) encoding is therefore taken only when the evidence is one-sided:

1. the bytes are not damaged UTF-8 (valid multi-byte UTF-8 sequences at least as common as invalid bytes);
2. charset-normalizer's readings among common legacy encodings (Windows code pages, ISO 8859, KOI8, the CJK
   ones) that are nearly free of mess (chaos within `MARGIN` of the least, and at most `MAX_CHAOS`) are kept;
3. the words they read with non-ASCII letters decide: the chosen text's must mostly be real words, and where
   two readings differ, the chosen one must read real words ("après") and the other must not ("aprčs"). Words
   are looked up in wordfreq's lists (a project dependency) for the languages of the scripts involved; CJK
   characters one by one. charset-normalizer's own language guess is not used: it calls French in latin-1
   "Hungarian" and would pick cp1250;
4. the text looks like text: no control characters but whitespace, no private-use or unassigned characters,
   and no symbols where text has none (typographic quotes, dashes and signs are expected in their usual places;
   "v–ccine" or "Monsoo╜" mean stray bytes).

Anything else is refused with the first bad byte and the best guess, for the user to convert.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import regex
import xxhash
from charset_normalizer import from_bytes
from numpy.typing import NDArray

__all__ = ["Decoded", "Undecodable", "decode_text"]

MAX_CHAOS = 0.1
MARGIN = 0.03  # readings this close in mess are told apart by their words, not by charset-normalizer's rank
MIN_KNOWN = 0.6  # share of its accented words the chosen reading must find in a word list
MAX_RIVAL_KNOWN = 0.3  # ... and that every other reading must not reach
_MAX_UNITS = 2000  # distinct words looked up per reading: enough evidence, bounded time
_EVIDENCE_CHARS = 200_000  # ... taken from the first so many characters
_MIN_SIGNS = 3  # with no accented word to go by, typographic signs in place that a reading must show

_BOMS: tuple[tuple[bytes, str, str], ...] = (  # UTF-32 LE before UTF-16 LE: its BOM starts with FF FE
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)

# Encodings news archives were written in before UTF-8; DOS and Mac code pages are left out on purpose: they
# read Western text about as well as the Windows ones and would only add ties.
_LEGACY = [
    *(f"cp{n}" for n in range(1250, 1259)),
    "latin_1", "iso8859_2", "iso8859_4", "iso8859_5", "iso8859_7", "iso8859_8", "iso8859_9", "iso8859_13",
    "iso8859_15", "iso8859_16", "koi8_r", "koi8_u", "cp874",
    "cp932", "shift_jis", "euc_jp", "gb18030", "big5", "cp949", "euc_kr",
]  # fmt: skip
_PREFERRED_NAMES = ("cp1252", "cp1250", "cp1251")  # when several code pages give the same text, name the commonest

# wordfreq languages per script; scripts without word lists here (Han, Kana, Hangul, Thai) are not checked.
_SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Latin": tuple("en fr de es pt it nl ca da nb sv fi is cs sk pl hu ro sl sh tr lt lv vi id ms fil".split()),
    "Cyrillic": ("ru", "uk", "bg", "mk"),
    "Greek": ("el",),
    "Hebrew": ("he",),
    "Arabic": ("ar", "fa", "ur"),
}
_SCRIPT_OF = {name: regex.compile(rf"\p{{Script={name}}}") for name in _SCRIPT_LANGUAGES}

# A fallback's text may hold no C0/C1 controls but whitespace, nor private-use or unassigned code points: random
# bytes and wrong code pages produce them, real text does not.
_NOT_TEXT = regex.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\p{Co}\p{Cn}]")
_TEXTUAL = regex.compile(r"[\s\p{P}]")  # any real document has a space, a line break or punctuation somewhere
_TOKEN = regex.compile(r"[^\s\p{P}]+")  # punctuation splits words; symbols do not ("wydzia³a" stays one)
_NON_ASCII_LETTER = regex.compile(r"(?=[\p{L}\p{M}])[^\x00-\x7f]")  # or mark: "tariff\u0301" is no word
_SYMBOL_IN_WORD = regex.compile(r"\p{L}[^\x00-\x7f\p{L}]+\p{L}")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
_CJK_ONLY = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u30fc\d]+")  # ー: the long-vowel mark
# Where a non-ASCII character that is neither a letter nor a mark may stand in text: typographic quotes, dashes
# and signs in their usual places, and the punctuation of the scripts around them. A wrong code page, or stray
# bytes, put such characters elsewhere ("v–ccine", "Monsoo╜"): what is left after removing these is suspect.
_TYPOGRAPHY = regex.compile(
    r"""
      (?<=^|[\s(\[{\-/])[“”‘’«»„‚‹›]+(?=\S)                      # opening quotes, in any language's style
    | (?<=\S)[“”‘’«»‹›]+(?=$|[\s.,;:!?)\]}\-/“”‘’«»‹›…])           # closing quotes
    | (?<=\p{L})’(?=\p{L})                                          # apostrophes
    | (?<=\s)[«»‹›] | [«»‹›](?=\s)                                # French guillemets, spaced
    | (?<=\s|^)[–—―](?=\s|$) | (?<=\d)[–—](?=\d) | (?<=\p{L})—(?=\p{L})   # dashes
    | (?<=\S)…(?=$|[\s"”’»)\]])
    | [€£¥¢](?=\s?\d) | (?<=\d\s?)[€£¥¢]                   # currencies
    | (?<=\d)[°%‰²³¹½¼¾ºª] | [±×÷](?=\s?\d) | [§¶](?=\s?\d)
    | [©®™] | (?<=^|\s)[•·▪◦](?=\s) | (?<=\p{L})·(?=\p{L})  # bullets; Catalan l·l
    | (?<=^|\s)[¿¡](?=\p{L}|\d)
    | [\u00a0\u2007\u2009\u200a\u202f\u3000]                    # non-breaking and thin spaces
    | (?<=[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u3000-\u303f\uff00-\uffef]\s?)[\u3000-\u303f\uff00-\uffef\u30fb]
    | [\u3000-\u303f\uff00-\uffef\u30fb](?=\s?[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u3000-\u303f\uff00-\uffef])
    | (?<=\p{Arabic}\s?)[،؛؟٪]
    | (?<=\p{Hebrew})[׳״־] | ־(?=\p{Hebrew})
    | (?<=\p{Greek}\s?)[;·΄΅]
    """,
    regex.VERBOSE | regex.MULTILINE,
)
_SUSPECT = regex.compile(r"[^\x00-\x7f\p{L}\p{M}]|(?<=[\x00-\x7f])(?!\p{Script=Inherited})\p{M}")
_VALID_MULTIBYTE = regex.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A file's text and the encoding it was read with (None: UTF-8)."""

    text: str
    encoding: str | None


class Undecodable(ValueError):
    """The bytes are not text retold can read safely; `line` (1-based) holds the first byte that shows it."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def decode_text(data: bytes) -> Decoded:
    """Decode a whole text file (see the module docstring for the rules).

    A BOM is kept in the text, as U+FEFF, whatever the encoding: the same document in UTF-8 and UTF-16 then has
    the same text and offsets.

    Raises:
        Undecodable: A binary file (NUL bytes, or a UTF-16/32 BOM over bytes that are not such text), or bytes
            that are not UTF-8 and have no safe legacy reading; the reason names the first bad byte.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _decode_unicode(data, codec, label)
    nul = data.find(b"\0")
    if nul >= 0:
        raise Undecodable(f"binary file (NUL byte at offset {nul}), expected UTF-8 text", _line_at(data, nul))
    try:
        return Decoded(data.decode("utf-8"), None)
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    guess = _legacy(data)
    if isinstance(guess, Decoded):
        return guess
    line = _line_at(data, first_bad)
    raise Undecodable(f"invalid UTF-8 at byte {first_bad} (line {line}); {guess}", line)


def _decode_unicode(data: bytes, codec: str, label: str) -> Decoded:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise Undecodable(f"invalid {label} at byte {exc.start} after a {label} byte order mark", None) from None
    if _NOT_TEXT.search(text) or not _TEXTUAL.search(text):
        # A BOM is two bytes of evidence; a binary file that happens to start with FF FE is not UTF-16 text.
        raise Undecodable(f"binary file (starts with a {label} byte order mark but is not {label} text)", None)
    return Decoded(text, codec)


def _legacy(data: bytes) -> Decoded | str:
    """The safe legacy reading of non-UTF-8 bytes, else why there is none (ending the refusal's reason)."""
    lenient = data.decode("utf-8", "replace")
    invalid = lenient.count("\ufffd") - data.count("\ufffd".encode())
    if len(_VALID_MULTIBYTE.findall(data)) >= invalid:
        return "the rest reads as UTF-8, so it is damaged UTF-8, not another encoding"
    readings = [m for m in from_bytes(data, cp_isolation=_LEGACY) if m.chaos <= MAX_CHAOS]
    if not readings:
        return "no known encoding reads it as text"
    least = min(m.chaos for m in readings)
    names: dict[str, str] = {}  # each distinct text -> the first encoding giving it, in charset-normalizer's order
    for m in readings:
        if m.chaos <= least + MARGIN:
            names.setdefault(str(m), m.encoding)
    # A long article's start is evidence enough.
    found = {text: _Reading(_units(text[:_EVIDENCE_CHARS]), _odd(text[:_EVIDENCE_CHARS]) is None) for text in names}
    winners = [t for t in names if all(_beats(found[t], found[r]) for r in names if r != t)]
    if len(winners) != 1:
        best = max(names, key=lambda t: (found[t].clean, _known_share(found[t].units) or 0.0))  # first of equals
        listed = _listed([names[t] for t in names if t != best])
        return f"best guess {_name(data, best, names[best])}, but {listed} read it differently: convert it to UTF-8"
    (text,) = winners
    name = _name(data, text, names[text])
    if (share := _known_share(found[text].units)) is not None and share < MIN_KNOWN:
        return f"best guess {name}, but most of its words are in no word list: convert it to UTF-8"
    if _tally(found[text].units)[0] == 0 and len(_TYPOGRAPHY.findall(text[:_EVIDENCE_CHARS])) < _MIN_SIGNS:
        # A stray byte or two in ASCII text read as one plausible sign ("‘erdict") is no encoding to trust.
        return f"best guess {name}, but too few of its characters are not ASCII to tell: convert it to UTF-8"
    if _NOT_TEXT.search(text) or not _TEXTUAL.search(text):
        return f"best guess {name}, but that does not read as text"
    if (at := _odd(text)) is not None:
        context = text[max(0, at - 10) : at + 10].replace("\n", " ")
        return f"best guess {name}, but it puts {text[at]!r} where text has none ({context!r}): convert it to UTF-8"
    return Decoded(text, name)


class _Reading(NamedTuple):
    """What one reading of the bytes shows: its evidence units, and whether its symbols all stand where text has
    them."""

    units: set[str]
    clean: bool


def _beats(ours: _Reading, theirs: _Reading) -> bool:
    """Whether, where two readings differ, ours reads real words (or expected symbols) and theirs does not."""
    if not ours.clean:
        return False
    mine, other = ours.units - theirs.units, theirs.units - ours.units
    share, rival = _known_share(mine), _known_share(other)
    if share is not None and share < MIN_KNOWN:
        return False
    if not theirs.clean:
        return True  # "“Quoted”" against koi8-r's "⌠Quoted■"
    if not mine and not other:
        return False  # no evidence either way
    return rival is None or rival <= MAX_RIVAL_KNOWN


def _odd(text: str) -> int | None:
    """Where `text` first holds a symbol or mark that text does not have there, if anywhere."""
    cleaned = _TYPOGRAPHY.sub(lambda m: " " * len(m[0]), text)  # blanked, not removed: positions stay
    odd = _SUSPECT.search(cleaned)
    return None if odd is None else odd.start()


def _units(text: str) -> set[str]:
    """The evidence a reading gives: its distinct lower-cased words holding a non-ASCII letter (or a non-ASCII
    symbol between letters, as "wydzia³a": cp1252's reading of cp1250's "ł"), except that a word of CJK characters
    alone gives each character, as unspaced scripts cannot be split into words to look up."""
    out: set[str] = set()
    for token in set(_TOKEN.findall(text)):  # distinct first: an article repeats its words
        if token.isascii():
            continue
        if _CJK_ONLY.fullmatch(token):
            out.update(_CJK.findall(token))
        elif _NON_ASCII_LETTER.search(token) or _SYMBOL_IN_WORD.search(token):
            out.add(token.lower())  # a CJK character inside a Latin word stays in it, and makes it unknown
    return out


def _known_share(units: set[str]) -> float | None:
    """The share of `units` found in the word lists (CJK characters: in the characters of the CJK lists); None
    when there is nothing to look up."""
    known, looked_up = _tally(units)
    return known / looked_up if looked_up else None


def _tally(units: set[str]) -> tuple[int, int]:
    """How many of (a sample of) `units` are known, and how many were looked up."""
    sample = sorted(units)[:_MAX_UNITS]  # sorted: the same sample every run
    return sum(map(_is_known, sample)), len(sample)


def _is_known(unit: str) -> bool:
    if _CJK.fullmatch(unit):
        return unit in _cjk_characters()
    key = xxhash.xxh64_intdigest(unit.encode())
    return any(_contains(_known_words(name), key) for name, pattern in _SCRIPT_OF.items() if pattern.search(unit))


def _contains(table: NDArray[np.uint64], key: int) -> bool:
    i = int(np.searchsorted(table, np.uint64(key)))
    return i < len(table) and int(table[i]) == key


@cache
def _known_words(script: str) -> NDArray[np.uint64]:
    """Sorted 64-bit hashes of the non-ASCII words in wordfreq's small lists for `script`'s languages: a few MB,
    where the words themselves would take ~100 MB; loaded only when a file needs them."""
    import wordfreq  # ships its lists inside the package; imported only when a file needs them (~0.2 s)

    hashes: set[int] = set()
    files = wordfreq.available_languages("small")
    for lang in _SCRIPT_LANGUAGES[script]:
        if lang in files:
            for bucket in wordfreq.read_cBpack(files[lang]):
                hashes.update(xxhash.xxh64_intdigest(w.encode()) for w in bucket if not w.isascii())
    return np.array(sorted(hashes), dtype=np.uint64)


@cache
def _cjk_characters() -> frozenset[str]:
    """The CJK characters of wordfreq's Chinese, Japanese and Korean word lists: those in common use."""
    import wordfreq

    chars: set[str] = set()
    files = wordfreq.available_languages("small")
    for lang in ("zh", "ja", "ko"):
        if lang in files:
            for bucket in wordfreq.read_cBpack(files[lang]):
                for word in bucket:
                    chars.update(_CJK.findall(word))
    return frozenset(chars)


def _name(data: bytes, text: str, fallback: str) -> str:
    """Several code pages often give this very text: name the commonest of them."""
    return next((cp for cp in _PREFERRED_NAMES if _decode(data, cp) == text), fallback)


def _listed(encodings: list[str]) -> str:
    shown = sorted(set(encodings))
    shown = [*shown[:3], "others"] if len(shown) > 3 else shown
    return " and ".join(filter(None, (", ".join(shown[:-1]), shown[-1])))


def _line_at(data: bytes, offset: int) -> int:
    """1-based line holding byte `offset`."""
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None
