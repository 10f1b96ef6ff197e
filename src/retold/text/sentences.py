"""Paragraph and sentence segmentation returning character spans of the original text.

Paragraphs end at blank lines, and at single line breaks unless the text is hard-wrapped (most lines end
mid-sentence at a similar width, as in Reuters wire copy). A paragraph without a closing full stop is a heading
and forms one sentence. Over-long unpunctuated stretches are cut into windows so alignment still has units.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_PARA_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]{2,}\S)")
_LINE_BREAK = re.compile(r"\n\s*")
_RUN_ON = re.compile(r"[ \t]*[a-z0-9]")  # a line that goes on with the sentence of the line before
_WRAP_WIDTH = 30  # the median line width of hard-wrapped text is at least this
# Candidate sentence ends: terminal punctuation plus closing quotes/brackets, then space and a likely start.
# Runs are taken whole (possessive, and only from their first character): giving some back can never let the
# space follow, and retrying each suffix of a long run ("!!!…" or "." then a long blank) was quadratic.
_SENT_END = re.compile(
    r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s++[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])|(?<![。！？])[。！？]++[」』”’)]*+"
)
_ABBREV = frozenset(
    """mr mrs ms dr prof gen lt col sgt capt cpt maj adm cmdr sen rep gov pres st jr sr inc ltd co corp bros vs
    etc jan feb mar apr jun jul aug sep sept oct nov dec mt ft rev hon gen u.s u.k u.n e.g i.e
    a.m p.m dept univ est approx""".split()
)
# Abbreviations only when a number follows: "No. 10", but "he said no. He left".
_NUMBER_ABBREV = frozenset({"no", "nos", "vol", "fig", "pp", "art", "sec"})
_TERMINAL = re.compile(r"[.!?…:;\"'”’)\]。！？]\s*\Z")


def paragraphs(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the paragraphs in ``text[start:end]``, stripped of surrounding whitespace."""
    end = len(text) if end is None else end
    splitter = _PARA_BREAK if _hard_wrapped(text[start:end]) else _LINE_BREAK
    out: list[tuple[int, int]] = []
    pos = start
    for m in splitter.finditer(text, start, end):
        out.extend(_strip(text, pos, m.start()))
        pos = m.end()
    out.extend(_strip(text, pos, end))
    return out


def sentences(text: str, start: int, end: int, max_chars: int = 600) -> list[tuple[int, int]]:
    """Sentence spans within one paragraph ``text[start:end]``."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        if m.group()[0] == "." and _is_abbreviation(text, start, m.start()):
            continue
        out.extend(_strip(text, pos, m.end()))
        pos = m.end()
    out.extend(_strip(text, pos, end))
    return [piece for s, e in out for piece in _windows(text, s, e, max_chars)]


def is_heading(text: str, start: int, end: int) -> bool:
    """A paragraph that does not end like a sentence (no full stop, quote or bracket) and is short."""
    return end - start <= 200 and not _TERMINAL.search(text, start, end)


def _hard_wrapped(text: str) -> bool:
    """Most lines end mid-sentence at a similar width; or, in short wire notices whose paragraphs are one or two
    lines, lines at least twice run on into a next line that opens in lower case or with a digit ("is issuing
    a" / "35 billion yen eurobond"), which no heading or paragraph does."""
    raw = text.split("\n")
    lines = [ln for ln in raw if ln.strip()]
    if len(lines) < 4:
        return False
    inner = lines[:-1]
    widths = sorted(len(ln) for ln in inner)
    if widths[len(widths) // 2] < _WRAP_WIDTH:
        return False
    open_ended = sum(1 for ln in inner if not _TERMINAL.search(ln))
    if open_ended / len(inner) > 0.5:
        return True
    run_on = sum(
        1 for ln, nx in zip(raw, raw[1:], strict=False) if ln.strip() and not _TERMINAL.search(ln) and _RUN_ON.match(nx)
    )
    return run_on >= 2


def _is_abbreviation(text: str, para_start: int, dot: int) -> bool:
    j = dot
    while j > para_start and (text[j - 1].isalpha() or text[j - 1] == "."):
        j -= 1
    word = text[j:dot].lower()
    if len(word) == 1 and word.isalpha():  # initials: "J. Smith"
        return True
    if word in _NUMBER_ABBREV:
        rest = text[dot + 1 : dot + 4].lstrip()
        return bool(rest) and rest[0].isdigit()
    return word in _ABBREV


def trim(text: str, s: int, e: int) -> tuple[int, int]:
    """Shrink ``[s, e)`` past surrounding whitespace (possibly to an empty span)."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _strip(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    s, e = trim(text, s, e)
    if e > s:
        yield (s, e)


def _windows(text: str, s: int, e: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut a span longer than `max_chars` at whitespace into roughly equal windows."""
    while e - s > max_chars:
        cut = text.rfind(" ", s + max_chars // 2, s + max_chars)
        if cut <= s:
            cut = s + max_chars
        yield from _strip(text, s, cut)
        s = cut
    yield from _strip(text, s, e)
