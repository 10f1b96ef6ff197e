"""`align(a, b)`: sentence similarity, matching and passages for one pair of analysed documents."""

from __future__ import annotations

from retold.align.matching import match
from retold.align.passages import passages, sentence_labels, spans
from retold.align.similarity import combine, cosine_matrix, ratio_matrix, sentence_features
from retold.config import AlignConfig
from retold.model import Alignment
from retold.text.analyze import Analyzed


def align(a: Analyzed, b: Analyzed, cfg: AlignConfig | None = None) -> Alignment:
    """Align two documents sentence by sentence.

    Args:
        a, b: analysed documents.
        cfg: thresholds (defaults to `AlignConfig()`).

    Returns:
        Passages (verbatim or paraphrase runs with offsets on both sides) and spans labelling every
        character of each side verbatim, paraphrase, new or attribution.
    """
    cfg = cfg or AlignConfig()
    units_a = [n for n, s in enumerate(a.sentences) if s.kind != "attribution"]
    units_b = [n for n, s in enumerate(b.sentences) if s.kind != "attribution"]
    fa = [sentence_features(a, n) for n in units_a]
    fb = [sentence_features(b, n) for n in units_b]
    ratio = ratio_matrix(fa, fb)
    sim = combine(cosine_matrix(fa, fb), ratio, cfg.cos_weight)
    links = match(
        sim,
        ratio,
        [a.sentences[n].paragraph for n in units_a],
        [b.sentences[n].paragraph for n in units_b],
        [f.content_tokens < cfg.min_tokens for f in fa],
        [f.content_tokens < cfg.min_tokens for f in fb],
        cfg,
    )
    psg = passages(links, units_a, units_b, a.sentences, b.sentences)
    spans_a = spans(len(a.doc.text), a.sentences, sentence_labels(links, units_a, a.sentences, "a"))
    spans_b = spans(len(b.doc.text), b.sentences, sentence_labels(links, units_b, b.sentences, "b"))
    return Alignment(tuple(psg), tuple(spans_a), tuple(spans_b))
