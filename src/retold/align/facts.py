"""What aligned text asserts on both sides: fact agreement of passages and of the sentences that hold them.

Reuse carries its source's facts; a recurring report filled in again (a bond notice of another issuer, a daily
figure report of another day) carries other facts in the same wording. `retold.text.facts` reads the facts;
this module compares them across an alignment, for the aligner (a passage whose figures differ is not verbatim)
and for the verdict (`template_evidence`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from retold.model import Passage, PassageLabel, Sentence
from retold.text.analyze import Analyzed
from retold.text.facts import Fact, FactAgreement, compare, extract, mentioned, name_words, within

TEMPLATE_SHARE = 0.5
"""A pair is a template when at least this share of its linked sentence pairs that state facts fill the same
slots with other values (`FactAgreement.other_facts`), or all its aligned text taken together does. On the 120
hand-judged pairs of ../shared/data/judged-pairs (an exploration, `bench/fact_agreement.py`): 39 of 57 templates,
0 of 38 reuse pairs, 1 of 25 topical pairs; none of the 36 rewrites and partial reuses of news-rewrites, nor the
seed pair, nor one of its 487 hand-aligned sentence pairs."""
SUBJECT_REACH = 60
"""A lead's subject is the first name of its first text sentence when it starts within this many characters of
the sentence ("Nissan Motor Co Ltd is issuing ...", "The First Interstate Bank of California subsidiary of ...
said"); a lead that opens otherwise has none."""
NAME_LIST_PROSE = 2
"""A passage with names and at most this many other words (`retold.text.facts.name_words`) on both sides is a
name list or a title: a team sheet ("... J O'Connor, A Foley (capt)"), "Bank of Japan governor Satoshi Sumita".
It proves no reuse on its own."""


def figures_differ(a: Analyzed, b: Analyzed, p: Passage) -> bool:
    """Whether a passage's two sides state a number, amount, percentage or date differently."""
    return (
        compare(extract(a.doc.text, p.a_start, p.a_end), extract(b.doc.text, p.b_start, p.b_end)).figures_conflict > 0
    )


def _cuts(sentences: Sequence[Sentence], start: int, end: int) -> list[int]:
    """Where the sentences inside ``[start, end)`` begin (the first cut is `start`)."""
    return [start, *(s.start for s in sentences if start < s.start < end)]


def relabel_figures(a: Analyzed, b: Analyzed, p: Passage) -> list[Passage]:
    """A verbatim passage with its sentences that state a figure differently relabelled ``paraphrase``.

    Copied wording with other numbers ("priced at 101-3/8" / "priced at 101-1/4") is no copy of them. The passage
    is cut at the sentence starts it holds, sentence for sentence on both sides (a copy has the same sentences);
    where the two sides hold different numbers of sentences the whole passage is relabelled.
    """
    if p.label != "verbatim":
        return [p]
    fa, fb = extract(a.doc.text, p.a_start, p.a_end), extract(b.doc.text, p.b_start, p.b_end)
    if compare(fa, fb).figures_conflict == 0:
        return [p]
    ca, cb = _cuts(a.sentences, p.a_start, p.a_end), _cuts(b.sentences, p.b_start, p.b_end)
    if len(ca) != len(cb):
        return [replace(p, label="paraphrase")]
    ca.append(p.a_end)
    cb.append(p.b_end)
    out: list[Passage] = []
    for k in range(len(ca) - 1):
        differ = compare(within(fa, ca[k], ca[k + 1]), within(fb, cb[k], cb[k + 1])).figures_conflict > 0
        label: PassageLabel = "paraphrase" if differ else "verbatim"
        if out and out[-1].label == label:
            out[-1] = replace(out[-1], a_end=ca[k + 1], b_end=cb[k + 1])
        else:
            out.append(Passage(label, ca[k], ca[k + 1], cb[k], cb[k + 1], p.score))
    return out


def _covering(sentences: Sequence[Sentence], starts: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The span of the sentences overlapping ``[start, end)`` (the span itself when none does)."""
    lo = max(0, bisect_right(starts, start) - 1)
    hi = bisect_left(starts, end)
    hit = [s for s in sentences[lo:hi] if s.start < end and s.end > start]
    return (hit[0].start, hit[-1].end) if hit else (start, end)


def names_only(a: Analyzed, b: Analyzed, p: Passage) -> bool:
    """Whether a passage is a name list or a title on both sides (`NAME_LIST_PROSE`)."""
    for text, start, end in ((a.doc.text, p.a_start, p.a_end), (b.doc.text, p.b_start, p.b_end)):
        names, other = name_words(text, start, end)
        if names == 0 or other > NAME_LIST_PROSE:
            return False
    return True


def lead_subject(an: Analyzed) -> tuple[tuple[int, int], Fact] | None:
    """The lead (the first text sentence, run on into the next when shorter than `SUBJECT_REACH`: a split at
    "Finance A.S. Is issuing") and its subject, a name it opens with, if it has one."""
    texts = [s for s in an.sentences if s.kind == "text"]
    if not texts:
        return None
    start, end = texts[0].start, texts[0].end
    if end - start < SUBJECT_REACH and len(texts) > 1 and texts[1].paragraph == texts[0].paragraph:
        end = texts[1].end
    first = next((f for f in extract(an.doc.text, start, end) if f.kind == "name"), None)
    if first is None or first.start - start > SUBJECT_REACH:
        return None
    return (start, end), first


def other_subject(a: Analyzed, b: Analyzed, passages: Sequence[Passage]) -> bool:
    """The two leads are aligned with each other but each names a subject the other text never names: the same
    notice of another issuer, bank or company ("Nissan Motor Co Ltd is issuing a 35 billion yen eurobond" /
    "Toyota Motor Credit Corp is issuing a 23 billion yen eurobond"). A rewrite keeps its source's subject; a
    partial reuse does not align the leads."""
    sa, sb = lead_subject(a), lead_subject(b)
    if sa is None or sb is None:
        return False
    ((a0, a1), fa), ((b0, b1), fb) = sa, sb
    if not any(p.a_start < a1 and p.a_end > a0 and p.b_start < b1 and p.b_end > b0 for p in passages):
        return False
    return not mentioned(fa.value, b.doc.text, extract(b.doc.text)) and not mentioned(
        fb.value, a.doc.text, extract(a.doc.text)
    )


@dataclass(frozen=True, slots=True)
class TemplateEvidence:
    """The fact agreement of an alignment: per linked sentence pair (those that hold a passage) and as a whole;
    and whether the leads name other subjects (`other_subject`)."""

    sentences: tuple[FactAgreement, ...]
    whole: FactAgreement
    subject: bool = False

    @property
    def other_facts_share(self) -> float:
        """Share of the linked sentence pairs stating facts whose facts differ (0 when none states any)."""
        stating = [f for f in self.sentences if f.kinds]
        return sum(f.other_facts for f in stating) / len(stating) if stating else 0.0

    @property
    def other_names(self) -> bool:
        """The aligned text names someone on both sides and no one on both (a notice of another fund)."""
        return self.whole.of("name").clash

    @property
    def template(self) -> bool:
        """Same wording, other facts (`TEMPLATE_SHARE`), or about another subject (`other_subject`)."""
        return self.other_facts_share >= TEMPLATE_SHARE or self.whole.other_facts or self.subject


def template_evidence(a: Analyzed, b: Analyzed, passages: Sequence[Passage]) -> TemplateEvidence:
    """Compare the facts of the sentences holding each passage, and of all passages together."""
    starts_a = [s.start for s in a.sentences]
    starts_b = [s.start for s in b.sentences]
    facts: dict[tuple[str, int, int], list[Fact]] = {}

    def facts_of(side: str, an: Analyzed, span: tuple[int, int]) -> list[Fact]:
        key = (side, *span)
        if key not in facts:
            facts[key] = extract(an.doc.text, *span)
        return facts[key]

    pairs: dict[tuple[tuple[int, int], tuple[int, int]], FactAgreement] = {}
    whole_a: dict[tuple[int, int], Fact] = {}
    whole_b: dict[tuple[int, int], Fact] = {}
    for p in passages:
        sa = _covering(a.sentences, starts_a, p.a_start, p.a_end)
        sb = _covering(b.sentences, starts_b, p.b_start, p.b_end)
        if (sa, sb) not in pairs:
            pairs[(sa, sb)] = compare(facts_of("a", a, sa), facts_of("b", b, sb))
        whole_a.update(((f.start, f.end), f) for f in extract(a.doc.text, p.a_start, p.a_end))
        whole_b.update(((f.start, f.end), f) for f in extract(b.doc.text, p.b_start, p.b_end))
    whole = compare(sorted(whole_a.values(), key=lambda f: f.start), sorted(whole_b.values(), key=lambda f: f.start))
    return TemplateEvidence(tuple(pairs.values()), whole, other_subject(a, b, passages))
