"""`align(a, b)`: sentence similarity, matching and passages for one pair of analysed documents."""

from __future__ import annotations

from retold.align.matching import CONTEXT, match
from retold.align.passages import extend_verbatim, link_pieces, merge_pieces, spans
from retold.align.similarity import sentence_features, sentence_text, similarity_matrix
from retold.config import AlignConfig
from retold.model import Alignment
from retold.text.analyze import Analyzed


def align(a: Analyzed, b: Analyzed, cfg: AlignConfig | None = None) -> Alignment:
    """Align two documents sentence by sentence.

    Args:
        a, b: analysed documents.
        cfg: thresholds and the semantic mode (defaults to `AlignConfig()`: semantic "auto").

    Returns:
        Passages (verbatim or paraphrase runs with offsets on both sides) and spans labelling every
        character of each side verbatim, paraphrase, new or attribution.
    """
    cfg = cfg or AlignConfig()
    units_a = [n for n, s in enumerate(a.sentences) if s.kind != "attribution"]
    units_b = [n for n, s in enumerate(b.sentences) if s.kind != "attribution"]
    fa = [sentence_features(a, n) for n in units_a]
    fb = [sentence_features(b, n) for n in units_b]
    short_a = [f.content_tokens < cfg.min_tokens for f in fa]
    short_b = [f.content_tokens < cfg.min_tokens for f in fb]
    sim, ratio = similarity_matrix(
        fa,
        fb,
        [sentence_text(a, n) for n in units_a],
        [sentence_text(b, n) for n in units_b],
        cfg,
        context=(short_a, short_b, CONTEXT),
    )
    links = match(sim, ratio, short_a, short_b, cfg)
    pieces = [
        piece
        for k in links
        for piece in link_pieces(k, a, b, units_a[k.i], units_b[k.j], cfg.verbatim_run, cfg.verbatim_gap)
    ]
    psg = extend_verbatim(merge_pieces(pieces, a, b, cfg.verbatim_gap), a, b, cfg.verbatim_run, cfg.verbatim_gap)
    linked_a = [False] * len(a.sentences)
    linked_b = [False] * len(b.sentences)
    for k in links:
        linked_a[units_a[k.i]] = True
        linked_b[units_b[k.j]] = True
    verbatim = [p for p in psg if p.label == "verbatim"]
    spans_a = spans(a.doc.text, a.sentences, linked_a, [(p.a_start, p.a_end) for p in verbatim])
    spans_b = spans(b.doc.text, b.sentences, linked_b, [(p.b_start, p.b_end) for p in verbatim])
    return Alignment(tuple(psg), tuple(spans_a), tuple(spans_b))
