"""`align(a, b)`: sentence similarity, matching and passages for one pair of analysed documents."""

from __future__ import annotations

from retold.align.document import cosine, prepare
from retold.align.document import ratio as doc_ratio
from retold.align.facts import relabel_figures
from retold.align.matching import CONTEXT, match
from retold.align.passages import extend_verbatim, link_pieces, merge_pieces, spans
from retold.align.similarity import combine, raise_semantic
from retold.config import AlignConfig, LimitsConfig
from retold.errors import ConfigError
from retold.model import Alignment
from retold.text.analyze import Analyzed


def align(
    a: Analyzed,
    b: Analyzed,
    cfg: AlignConfig | None = None,
    *,
    max_sentences: int = LimitsConfig().align_sentences,
) -> Alignment:
    """Align two documents sentence by sentence.

    Args:
        a, b: analysed documents.
        cfg: thresholds and the semantic mode (defaults to `AlignConfig()`: semantic "auto").
        max_sentences: how many content sentences of each side alignment looks at (the first ones; the
            config's ``limits.align_sentences``). Sentences beyond stay unaligned ("new", or "attribution"),
            and verbatim passages do not grow into them, so a pair costs at most ``max_sentences**2``
            sentence comparisons whatever its texts.

    Returns:
        Passages (verbatim or paraphrase runs with offsets on both sides) and spans labelling every
        character of each side verbatim, paraphrase, new or attribution. A run of identical wording whose two
        sides state a number, amount, percentage or date differently is labelled paraphrase, not verbatim.

    Raises:
        ConfigError: `max_sentences` is below 1.
    """
    if max_sentences < 1:
        raise ConfigError(f"max_sentences must be >= 1, got {max_sentences}")
    cfg = cfg or AlignConfig()
    da, db = prepare(a, b, max_sentences)
    units_a, units_b = da.units, db.units
    short_a = da.content < cfg.min_tokens
    short_b = db.content < cfg.min_tokens
    ratio = doc_ratio(da, db)
    sim, ratio = raise_semantic(
        combine(cosine(da, db), ratio, cfg.cos_weight),
        ratio,
        da.texts,
        db.texts,
        cfg,
        context=(short_a, short_b, CONTEXT),
        nonempty=(da.nonempty, db.nonempty),
    )
    links = match(sim, ratio, short_a, short_b, cfg)
    if not links:
        return Alignment((), da.plain_spans, db.plain_spans)
    pieces = [
        piece
        for k in links
        for piece in link_pieces(k, a, b, units_a[k.i], units_b[k.j], cfg.verbatim_run, cfg.verbatim_gap)
    ]
    # growth stops where the looked-at sentences end (the rest of a capped text stays unaligned)
    ends = (da.end_token, db.end_token)
    psg = extend_verbatim(
        merge_pieces(pieces, a, b, cfg.verbatim_gap), a, b, cfg.verbatim_run, cfg.verbatim_gap, ends=ends
    )
    # Copied wording that states other figures ("priced at 101-3/8" / "priced at 101-1/4") is not a copy.
    psg = [piece for p in psg for piece in relabel_figures(a, b, p)]
    linked_a = [False] * len(a.sentences)
    linked_b = [False] * len(b.sentences)
    for k in links:
        linked_a[units_a[k.i]] = True
        linked_b[units_b[k.j]] = True
    verbatim = [p for p in psg if p.label == "verbatim"]
    spans_a = spans(a.doc.text, a.sentences, linked_a, [(p.a_start, p.a_end) for p in verbatim], da.space_source)
    spans_b = spans(b.doc.text, b.sentences, linked_b, [(p.b_start, p.b_end) for p in verbatim], db.space_source)
    return Alignment(tuple(psg), tuple(spans_a), tuple(spans_b))
