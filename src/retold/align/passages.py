"""From sentence links to passages (runs of adjacent links) and to a full labelling of each side's text."""

from __future__ import annotations

from collections.abc import Sequence

from retold.align.matching import Link
from retold.model import Label, Passage, Sentence, Span

_RANK: dict[Label, int] = {"new": 0, "paraphrase": 1, "verbatim": 2, "attribution": 3}


def passages(
    links: Sequence[Link],
    units_a: Sequence[int],
    units_b: Sequence[int],
    sents_a: Sequence[Sentence],
    sents_b: Sequence[Sentence],
) -> list[Passage]:
    """Merge links that are adjacent on both sides and share a label into passages.

    `units_a[i]` is the index in `sents_a` of unit `i`; adjacency is judged on those indices, so an
    attribution line between two sentences breaks a passage.
    """
    parent = list(range(len(links)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_pos = {(units_a[k.i], units_b[k.j]): n for n, k in enumerate(links)}
    for n, k in enumerate(links):
        ia, jb = units_a[k.i], units_b[k.j]
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                other = by_pos.get((ia + da, jb + db))
                if other is not None and other != n and links[other].verbatim == k.verbatim:
                    parent[find(other)] = find(n)
    groups: dict[int, list[Link]] = {}
    for n, k in enumerate(links):
        groups.setdefault(find(n), []).append(k)
    out: list[Passage] = []
    for grp in groups.values():
        rows = [units_a[k.i] for k in grp]
        cols = [units_b[k.j] for k in grp]
        out.append(
            Passage(
                label="verbatim" if grp[0].verbatim else "paraphrase",
                a_start=sents_a[min(rows)].start,
                a_end=sents_a[max(rows)].end,
                b_start=sents_b[min(cols)].start,
                b_end=sents_b[max(cols)].end,
                score=sum(k.score for k in grp) / len(grp),
            )
        )
    out.sort(key=lambda p: (p.a_start, p.b_start))
    return out


def sentence_labels(links: Sequence[Link], units: Sequence[int], sents: Sequence[Sentence], side: str) -> list[Label]:
    """Label of every sentence of one side: attribution, else the strongest label among its links, else new."""
    labels: list[Label] = ["attribution" if s.kind == "attribution" else "new" for s in sents]
    for k in links:
        idx = units[k.i] if side == "a" else units[k.j]
        lab: Label = "verbatim" if k.verbatim else "paraphrase"
        if _RANK[lab] > _RANK[labels[idx]]:
            labels[idx] = lab
    return labels


def spans(text_len: int, sents: Sequence[Sentence], labels: Sequence[Label]) -> list[Span]:
    """Cover ``[0, text_len)`` with sorted, disjoint labelled spans.

    Whitespace between sentences goes to the preceding sentence (leading whitespace to the first one), and
    neighbours with the same label merge.
    """
    if text_len == 0:
        return []
    if not sents:
        return [Span(0, text_len, "new")]
    out: list[Span] = []
    for n, (s, lab) in enumerate(zip(sents, labels, strict=True)):
        start = 0 if n == 0 else s.start
        end = text_len if n == len(sents) - 1 else sents[n + 1].start
        if out and out[-1].label == lab:
            out[-1] = Span(out[-1].start, end, lab)
        else:
            out.append(Span(start, end, lab))
    return out


def coverage(spans_: Sequence[Span]) -> tuple[float, int, int]:
    """(share of non-attribution characters that are verbatim or paraphrase, verbatim chars, paraphrase chars)."""
    total = verb = para = 0
    for s in spans_:
        n = s.end - s.start
        if s.label == "attribution":
            continue
        total += n
        if s.label == "verbatim":
            verb += n
        elif s.label == "paraphrase":
            para += n
    return ((verb + para) / total if total else 0.0), verb, para
