"""Recognise boilerplate that is not the article's own content: date headers, agency credits, picture credits,
bylines and "Also read" lines. Spans are labelled, never deleted, and excluded from matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retold._pickling import by_fields
from retold.text.sentences import trim

_AGENCIES = (
    r"Reuters|Reuter|AP|AFP|PTI|IANS|ANI|UNI|Bloomberg|dpa|DPA|Xinhua|AAP|EFE|ANSA|Kyodo|Yonhap|TASS|"
    r"Associated\s+Press|Press\s+Trust\s+of\s+India|Agencies|Agency|Agence\s+France-Presse"
)

DATE_HEADER_RE = re.compile(r"\A\s*date\s*:?\s+(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?", re.IGNORECASE)

# Each pattern matches a whole attribution span; line patterns are anchored with MULTILINE.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "agency",
        re.compile(
            r"\(\s*(?:with\s+)?(?:agency\s+)?inputs?\s+(?:from\s+)?[^()\n]{0,80}\)"
            r"|\(\s*(?:with\s+)?(?:agency|agencies|wire|news\s+agency)\s+inputs?\s*\)"  # "(With agency inputs)"
            # "(Compiled from agency reports)", "(Based on wire reports)"
            r"|\(\s*(?:compiled|based|adapted|written)\s+(?:from|on|with)\s+(?:news\s+)?(?:agency|agencies|wire|wires)"
            r"[^()\n]{0,40}\)"
            rf"|\(\s*(?:{_AGENCIES})(?:\s*(?:,|/|and|&)\s*(?:{_AGENCIES}))*\s*\)",
            re.IGNORECASE,
        ),
    ),
    (
        "agency",
        re.compile(
            # "With inputs from PTI", "(Inputs from agencies)": the credited names are capitalised (or "agencies")
            rf"^[ \t]*(?:[—–-]{{1,2}}|\|)?[ \t]*\(?(?i:with\s+)?(?i:agency\s+)?(?i:inputs?\s+from)\s+"
            rf"(?:[A-Z][\w.&'-]*|(?i:agencies))(?:[ \t,&/]+(?:and[ \t]+)?(?:[A-Z][\w.&'-]*|(?i:agencies))){{0,5}}"
            rf"\)?\.?[ \t]*$"
            rf"|^[ \t]*(?i:source)[ \t]*:[ \t]*(?:[A-Z][\w.&'-]*)(?:[ \t,&/]+[A-Z][\w.&'-]*){{0,5}}\.?[ \t]*$"
            rf"|^[ \t]*(?:[—–]|--?)[ \t]*(?:{_AGENCIES})[ \t]*\.?[ \t]*$"
            rf"|^[ \t]*(?:{_AGENCIES})[ \t]*$",
            re.MULTILINE,
        ),
    ),
    # "— Agencies" or "- PTI" closing a paragraph
    # The run of blanks is taken whole (possessive, and only where one starts): a long run of spaces would
    # otherwise be retried from each of its positions, quadratic in its length.
    ("agency", re.compile(rf"(?<![ \t])[ \t]++(?:[—–]|--)[ \t]*(?:{_AGENCIES})[ \t]*\.?[ \t]*$", re.MULTILINE)),
    # dateline with agency: "NEW DELHI (Reuters) -"
    (
        "agency",
        re.compile(
            rf"^[ \t]*[A-Z][A-Za-z .,'/-]{{1,40}}?,?[ \t]*(?:[A-Z][a-z]{{2,8}}\.?[ \t]+\d{{1,2}}[ \t]*)?"
            rf"\((?:{_AGENCIES})\)[ \t]*[—–:-]{{1,2}}[ \t]*",
            re.MULTILINE,
        ),
    ),
    (
        "picture",
        re.compile(
            r"^[ \t]*(?:Picture|Photo|Image|Pic|Photograph|Video|Graphic|Cover\s+image|Representational\s+image)s?"
            r"[ \t]*(?:credits?|courtesy|source)?[ \t]*(?::|-|–|—|\|)[^\n]{0,120}$"
            r"|^[ \t]*(?:Picture|Photo|Image)s?\s+(?:credits?|courtesy)\b[^\n]{0,120}$"
            r"|\((?:Picture|Photo|Image|Pic|File\s+photo|Representational\s+(?:image|photo|picture))[^()\n]{0,100}\)"
            r"|^[ \t]*(?:File\s+photo|Representational\s+(?:image|photo|picture))[^\n]{0,80}$",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
    (
        "also-read",
        re.compile(
            r"^[ \t]*(?:also\s+read|read\s+also|read\s+more|also\s+see|also\s+watch|watch|related)[ \t]*[:|-][^\n]*$"
            r"|^[ \t]*(?:also\s+read|read\s+also)\b[^\n]*$",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
    (
        "byline",
        re.compile(
            r"^[ \t]*(?:Reporting|Writing|Editing|Additional\s+reporting|Compiled|Edited|Written)\s+by\s+"
            r"[A-Z][^\n]{0,160}$"
            # "By Jane Doe" or "By Jane Doe, Reuters": names only, never "By Monday, the talks had ended."
            r"|^[ \t]*By\s+(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
            r"April|May|June|July|August|September|October|November|December)\b)"
            r"[A-Z][\w.'-]*(?:\s+(?:[A-Z][\w.'-]*|and|&|de|van|von)){0,5}"
            r"(?:[ \t]*,[ \t]*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3})?[ \t]*$",
            re.MULTILINE,
        ),
    ),
)


@by_fields
@dataclass(frozen=True, slots=True)
class Boilerplate:
    """An attribution span and what kind of boilerplate it is."""

    start: int
    end: int
    kind: str


def date_header(text: str) -> tuple[str | None, int]:
    """The date of a leading ``date YYYY-MM-DD`` header and where the header ends (0 when absent).

    >>> date_header(" date 2021-09-06 Kabul: ...")
    ('2021-09-06', 16)
    """
    m = DATE_HEADER_RE.match(text)
    return (m.group(1), m.end()) if m else (None, 0)


def find_boilerplate(text: str) -> list[Boilerplate]:
    """Attribution spans of `text`, sorted and disjoint, trimmed of surrounding whitespace."""
    found: list[Boilerplate] = []
    _, hdr_end = date_header(text)
    if hdr_end:
        found.append(Boilerplate(len(text) - len(text.lstrip()), hdr_end, "date-header"))
    # Blank the header (same length, ending in a line break) so line-anchored patterns see its end as a line start.
    view = " " * (hdr_end - 1) + "\n" + text[hdr_end:] if hdr_end else text
    for kind, pat in _PATTERNS:
        for m in pat.finditer(view, hdr_end):
            s, e = trim(text, m.start(), m.end())
            if e > s:
                found.append(Boilerplate(s, e, kind))
    return _merge(found)


def _merge(spans: list[Boilerplate]) -> list[Boilerplate]:
    """Union overlapping spans, keeping the kind of the earliest."""
    out: list[Boilerplate] = []
    for b in sorted(spans, key=lambda x: (x.start, -x.end)):
        if out and b.start <= out[-1].end:
            last = out[-1]
            if b.end > last.end:
                out[-1] = Boilerplate(last.start, b.end, last.kind)
        else:
            out.append(b)
    return out
