"""Turn a Document into an `Analyzed` record: tokens, sentences and attribution spans, all as offsets."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace

from retold._pickling import by_fields
from retold.model import Document, Sentence, SentenceKind
from retold.text.boilerplate import Boilerplate, date_header, find_boilerplate
from retold.text.sentences import is_heading, paragraphs, sentences, trim
from retold.text.tokens import Tokens, is_stopword, stem, tokenize


@by_fields
@dataclass(frozen=True, slots=True)
class Analyzed:
    """A document with everything the stages need; `doc.date` is filled from a leading date header."""

    doc: Document
    tokens: Tokens
    stems: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    boilerplate: tuple[Boilerplate, ...]

    @property
    def content_sentences(self) -> tuple[Sentence, ...]:
        """Sentences that take part in matching (everything but attribution)."""
        return tuple(s for s in self.sentences if s.kind != "attribution")

    def content_tokens(self) -> list[str]:
        """Normalised tokens of the matchable text, in order (attribution and header excluded)."""
        norm = self.tokens.norm
        out: list[str] = []
        for s in self.sentences:
            if s.kind != "attribution":
                out.extend(norm[s.tok_start : s.tok_end])
        return out

    def content_stems(self) -> list[str]:
        """Stems of content tokens without stopwords."""
        st, norm = self.stems, self.tokens.norm
        return [
            st[i]
            for s in self.sentences
            if s.kind != "attribution"
            for i in range(s.tok_start, s.tok_end)
            if not is_stopword(norm[i])
        ]


def analyze(doc: Document) -> Analyzed:
    """Tokenise and segment a document.

    Args:
        doc: the input document; its text is never modified.

    Returns:
        An `Analyzed` whose sentences are sorted, disjoint spans of ``doc.text``.

    Example:
        >>> a = analyze(Document("x", " date 2021-09-06 Hello there. Bye now.\\n\\n(Reuters)"))
        >>> a.doc.date, [a.doc.text[s.start:s.end] for s in a.sentences]
        ('2021-09-06', ['date 2021-09-06', 'Hello there.', 'Bye now.', '(Reuters)'])
    """
    text = doc.text
    hdr_date, _ = date_header(text)
    if doc.date is None and hdr_date is not None:
        doc = replace(doc, date=hdr_date)
    toks = tokenize(text)
    bps = find_boilerplate(text)
    starts = toks.starts.tolist()  # bisect on a list: a numpy call per scalar lookup costs more than the search
    out: list[Sentence] = []

    def add(s: int, e: int, para: int, kind: SentenceKind) -> None:
        out.append(Sentence(s, e, bisect_left(starts, s), bisect_left(starts, e), para, kind))

    bi = 0
    for para, (ps, pe) in enumerate(paragraphs(text)):
        pos = ps
        # (start, end, is_attribution) in text order: attribution spans are cut out as units of their own.
        pieces: list[tuple[int, int, bool]] = []
        while bi < len(bps) and bps[bi].start < pe:
            b = bps[bi]
            if b.end <= ps:
                bi += 1
                continue
            if b.start > pos:
                pieces.append((pos, b.start, False))
            pieces.append((max(b.start, ps), min(b.end, pe), True))
            pos = max(pos, b.end)
            if b.end > pe:
                break
            bi += 1
        if pos < pe:
            pieces.append((pos, pe, False))
        first = len(out)
        for s, e, is_attr in pieces:
            if is_attr:
                add(s, e, para, "attribution")
                continue
            s, e = trim(text, s, e)
            if e <= s:
                continue
            if not _has_word(text, s, e):
                if len(out) > first:  # stray punctuation: glue to the unit just before it
                    prev = out.pop()
                    add(prev.start, e, para, prev.kind)
                else:
                    add(s, e, para, "text")
            elif is_heading(text, s, e) and (s, e) == trim(text, ps, pe):
                add(s, e, para, "heading")
            else:
                for ss, se in sentences(text, s, e):
                    add(ss, se, para, "text")
    out.sort(key=lambda x: x.start)
    stems = tuple(map(stem, toks.norm))
    return Analyzed(doc, toks, stems, tuple(out), tuple(bps))


def _has_word(text: str, s: int, e: int) -> bool:
    return any(ch.isalnum() for ch in text[s:e])
