"""Sentence similarity: weighted cosine over stems and a character-level ratio (rapidfuzz), optionally raised
by the cosine of sentence embeddings (`retold.semantic`).

Term weights come from background word frequencies (`retold.text.tokens.weight`), not from the corpus, and
embeddings depend only on the sentence, so the similarity of two sentences never depends on what else is in the
index.

The semantic channel only raises the lexical similarity (`semantic_raise`) and never touches a copy, so verbatim
detection stays lexical; with the channel off (or not installed) every number is exactly the lexical one. Two
sentences judged on their own get the combined similarity; inside a document pair, meaning only adds context
links next to lexically reused text (`similarity_matrix`, `context_band`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from retold import semantic
from retold.align.grid import dilate
from retold.config import AlignConfig
from retold.errors import ConfigError
from retold.model import Document
from retold.text.analyze import Analyzed, analyze
from retold.text.tokens import is_stopword, weight

MAX_STRING = 1_200
"""The normalised string the character ratio reads is cut at this many characters. A sentence window holds at most
600 characters of text (1,199 once an unspaced script's characters are spaced), so only a unit that ends in a
giant token (thousands of characters without a space, which a window cannot cut) is cut; uncut, one ratio of it
would cost its length squared."""


@dataclass(frozen=True, slots=True)
class SentenceFeatures:
    """What similarity needs of one sentence: weighted stems, the normalised string and its content size."""

    terms: dict[str, float]
    string: str
    content_tokens: int


def sentence_features(an: Analyzed, sentence_index: int) -> SentenceFeatures:
    """Features of ``an.sentences[sentence_index]``; term weight = (1 + ln tf) x background IDF."""
    s = an.sentences[sentence_index]
    norm, stems = an.tokens.norm, an.stems
    tf: dict[str, int] = {}
    idf: dict[str, float] = {}
    content = 0
    for i in range(s.tok_start, s.tok_end):
        w = weight(norm[i])
        if w == 0.0:  # stopword
            continue
        content += 1
        st = stems[i]
        tf[st] = tf.get(st, 0) + 1
        if w > idf.get(st, 0.0):
            idf[st] = w
    terms = {k: (1.0 + math.log(v)) * idf[k] if v > 1 else idf[k] for k, v in tf.items()}
    return SentenceFeatures(terms, " ".join(norm[s.tok_start : s.tok_end])[:MAX_STRING], content)


def cosine_matrix(a: Sequence[SentenceFeatures], b: Sequence[SentenceFeatures]) -> NDArray[np.float64]:
    """Cosine similarity of every sentence of `a` with every sentence of `b` (shape len(a) x len(b))."""
    vocab: dict[str, int] = {}
    for f in (*a, *b):
        for t in f.terms:
            vocab.setdefault(t, len(vocab))
    ma = _dense(a, vocab)
    mb = _dense(b, vocab)
    return np.clip(ma @ mb.T, 0.0, 1.0)


def ratio_matrix(a: Sequence[SentenceFeatures], b: Sequence[SentenceFeatures]) -> NDArray[np.float64]:
    """Normalised Indel similarity (rapidfuzz ``ratio``/100) of the normalised sentence strings."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    m = process.cdist([f.string for f in a], [f.string for f in b], scorer=fuzz.ratio, dtype=np.float32, workers=1)
    return np.asarray(m, dtype=np.float64) / 100.0


def combine(cos: NDArray[np.float64], ratio: NDArray[np.float64], cos_weight: float) -> NDArray[np.float64]:
    """One similarity in [0, 1]: a blend of cosine and rescaled ratio, never below the cosine for copies.

    Character ratios of unrelated sentences sit around 0.3-0.5, so the ratio only counts above 0.5.
    """
    r = np.clip((ratio - 0.5) / 0.5, 0.0, 1.0)
    blend = cos_weight * cos + (1.0 - cos_weight) * r
    return np.maximum(blend, np.where(ratio >= 0.9, ratio, 0.0))


def pair_similarity(s1: SentenceFeatures, s2: SentenceFeatures, cos_weight: float = 0.7) -> float:
    """The lexical similarity `align` uses, for one sentence pair (see `pair_similarity_texts` for the full one)."""
    cos = cosine_matrix([s1], [s2])
    ratio = ratio_matrix([s1], [s2])
    return float(combine(cos, ratio, cos_weight)[0, 0])


def semantic_active(cfg: AlignConfig) -> bool:
    """Whether `cfg` uses the semantic channel: "off" never, "auto" when installed, "on" always.

    Raises:
        ConfigError: ``semantic="on"`` and the packages are missing (names the pip command).
    """
    if cfg.semantic == "off":
        return False
    if semantic.available():
        return True
    if cfg.semantic == "on":
        raise ConfigError(
            f"semantic='on' needs the optional semantic packages; install them with: {semantic.INSTALL_HINT}"
        )
    return False


def paraphrase_threshold(cfg: AlignConfig) -> float:
    """The sentence-paraphrase cut that goes with `cfg`'s similarity: `semantic_paraphrase` when the semantic
    channel is active, else the lexical `paraphrase`."""
    return cfg.semantic_paraphrase if semantic_active(cfg) else cfg.paraphrase


def semantic_raise(
    lex: NDArray[np.float64], emb_cos: NDArray[np.float64], where: NDArray[np.bool_], cfg: AlignConfig
) -> NDArray[np.float64]:
    """`lex` raised by the embedding cosine where `where` holds: ``lex + w * max(0, g - lex)`` with
    ``g = clip((emb_cos - low) / (high - low), 0, 1)``; elsewhere `lex` unchanged. Never lowers a similarity."""
    g = np.clip((emb_cos - cfg.semantic_low) / (cfg.semantic_high - cfg.semantic_low), 0.0, 1.0)
    raised = lex + cfg.semantic_weight * np.maximum(0.0, g - lex)
    out: NDArray[np.float64] = np.where(where, raised, lex)
    return out


def semantic_gate(
    lex: NDArray[np.float64], ratio: NDArray[np.float64], cfg: AlignConfig, floor: float = 0.0
) -> NDArray[np.bool_]:
    """Sentence pairs the semantic channel may raise: no copy (verbatim detection stays lexical), and a lexical
    similarity of at least `floor` (`semantic_floor` in document alignment, none for a lone sentence pair)."""
    gate: NDArray[np.bool_] = (lex >= floor) & (ratio < cfg.verbatim)
    return gate


def embedding_cosine(
    texts_a: Sequence[str], texts_b: Sequence[str], gate: NDArray[np.bool_], encoder: semantic.Encoder | None = None
) -> NDArray[np.float64]:
    """Embedding cosines of the sentence pairs in `gate` (0 elsewhere); only sentences in some gated pair are
    embedded."""
    out = np.zeros(gate.shape, dtype=np.float64)
    rows, cols = np.flatnonzero(gate.any(axis=1)), np.flatnonzero(gate.any(axis=0))
    if len(rows) == 0:
        return out
    enc = encoder or semantic.shared_encoder()
    ea = enc.encode([texts_a[int(i)] for i in rows])
    eb = enc.encode([texts_b[int(j)] for j in cols])
    sub = np.clip(ea.astype(np.float64) @ eb.astype(np.float64).T, -1.0, 1.0)
    out[np.ix_(rows, cols)] = sub
    out[~gate] = 0.0
    return out


def near_anchor(
    lex: NDArray[np.float64],
    ratio: NDArray[np.float64],
    short_a: Sequence[bool] | NDArray[np.bool_],
    short_b: Sequence[bool] | NDArray[np.bool_],
    cfg: AlignConfig,
    window: int,
) -> NDArray[np.bool_]:
    """Sentence pairs within `window` positions, on both sides, of a lexical anchor: a pair of sentences that
    are not short whose lexical similarity reaches `cfg.anchor` or whose character ratio reaches `cfg.verbatim`."""
    anchor = (lex >= cfg.anchor) | (ratio >= cfg.verbatim)
    anchor &= ~(np.asarray(short_a, dtype=bool)[:, None] | np.asarray(short_b, dtype=bool)[None, :])
    # a box filter over the grid: O(n·m) however many anchors (a repeated sentence makes n·m of them)
    return dilate(anchor, window)


def similarity_matrix(
    fa: Sequence[SentenceFeatures],
    fb: Sequence[SentenceFeatures],
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    cfg: AlignConfig,
    *,
    context: tuple[Sequence[bool], Sequence[bool], int] | None = None,
    encoder: semantic.Encoder | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(similarity, ratio)`` of every sentence of a with every sentence of b: the lexical `combine`, raised by
    the semantic channel when `cfg` has it active (`texts_*` are the sentences' original texts).

    Args:
        context: for document alignment, ``(short_a, short_b, window)``: only pairs with lexical evidence
            (`semantic_floor`) below `cfg.link`, within `window` sentences of a lexical anchor on both sides
            (`near_anchor`) and not between two sentences that both link lexically elsewhere are considered, and
            a pair the combined similarity judges a paraphrase enters the context-link band (`context_band`).
            Meaning alone then never links two texts that share no reused sentence (independent writing on one
            topic says the same things); it picks the right partner among weak candidates and links a reworded
            sentence next to reused text. None (two sentences judged on their own, as MRPC and STS-B do): the
            combined similarity of every pair that is no copy.
        encoder: the embedding model (default: the process-wide `retold.semantic.shared_encoder`).
    """
    ratio = ratio_matrix(fa, fb)
    lex = combine(cosine_matrix(fa, fb), ratio, cfg.cos_weight)
    return raise_semantic(lex, ratio, texts_a, texts_b, cfg, context=context, encoder=encoder)


def raise_semantic(
    lex: NDArray[np.float64],
    ratio: NDArray[np.float64],
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    cfg: AlignConfig,
    *,
    context: tuple[Sequence[bool] | NDArray[np.bool_], Sequence[bool] | NDArray[np.bool_], int] | None = None,
    encoder: semantic.Encoder | None = None,
    nonempty: tuple[NDArray[np.bool_], NDArray[np.bool_]] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The semantic half of `similarity_matrix`: ``(similarity, ratio)`` from the lexical similarity and ratio.

    `nonempty` says which texts have any non-space character (computed from `texts_*` when not given).
    """
    if lex.size == 0 or not semantic_active(cfg):
        return lex, ratio
    gate: NDArray[np.bool_] = semantic_gate(lex, ratio, cfg, cfg.semantic_floor if context is not None else 0.0)
    # An empty text has no meaning to compare (its embedding is a constant vector, not zero).
    if nonempty is None:
        nonempty = (
            np.array([bool(t.strip()) for t in texts_a], dtype=bool),
            np.array([bool(t.strip()) for t in texts_b], dtype=bool),
        )
    gate &= np.outer(nonempty[0], nonempty[1])
    if context is not None:
        # Pairs that already link lexically need no help, nor do pairs of two sentences that both link
        # lexically elsewhere (a link between them would be a stray look-alike to the matcher).
        linked: NDArray[np.bool_] = (lex >= cfg.link) | (ratio >= cfg.verbatim)
        both = np.outer(linked.any(axis=1), linked.any(axis=0))
        gate &= ~linked & ~both
        # A short sentence links only as a copy (the matcher zeroes its other similarities): raising it is
        # wasted work, and its embedding the most common one asked for in tables and wire headers.
        gate &= ~np.logical_or.outer(np.asarray(context[0], dtype=bool), np.asarray(context[1], dtype=bool))
        if gate.any():
            gate &= near_anchor(lex, ratio, context[0], context[1], cfg, context[2])
    if not gate.any():
        return lex, ratio
    sim = semantic_raise(lex, embedding_cosine(texts_a, texts_b, gate, encoder), gate, cfg)
    if context is not None:
        sim = context_band(lex, sim, gate, cfg)
    return sim, ratio


def context_band(
    lex: NDArray[np.float64], combined: NDArray[np.float64], gate: NDArray[np.bool_], cfg: AlignConfig
) -> NDArray[np.float64]:
    """What the semantic channel adds in document alignment: a gated pair whose combined similarity reaches the
    sentence-paraphrase cut (`semantic_paraphrase`) gets at least a context-link similarity, rising linearly
    from `context_link` at the cut to just below `link` at 1 (so the matcher still ranks such pairs); every
    other pair keeps its lexical similarity. Meaning alone thus makes context links, which need a lexical
    anchor nearby, never stand-alone links or anchors."""
    cut = cfg.semantic_paraphrase
    span = max(1e-9, 1.0 - cut)
    band = cfg.context_link + (cfg.link - cfg.context_link) * np.clip((combined - cut) / span, 0.0, 1.0)
    band = np.minimum(band, np.nextafter(cfg.link, 0.0))
    out: NDArray[np.float64] = np.where(gate & (combined >= cut), np.maximum(lex, band), lex)
    return out


def sentence_text(an: Analyzed, sentence_index: int) -> str:
    """The original text of a sentence, whitespace runs collapsed (what the embedding model reads)."""
    s = an.sentences[sentence_index]
    return " ".join(an.doc.text[s.start : s.end].split())


def text_features(an: Analyzed) -> SentenceFeatures:
    """Features of all content sentences of `an` taken together, as one `SentenceFeatures`.

    For a single content sentence this equals `sentence_features` of that sentence; for several, term
    frequencies add up over the sentences and the strings are joined with a space.
    """
    units = [n for n, s in enumerate(an.sentences) if s.kind != "attribution"]
    if len(units) == 1:
        return sentence_features(an, units[0])
    norm, stems = an.tokens.norm, an.stems
    tf: dict[str, int] = {}
    idf: dict[str, float] = {}
    content = 0
    parts: list[str] = []
    for n in units:
        s = an.sentences[n]
        parts.append(" ".join(norm[s.tok_start : s.tok_end]))
        for i in range(s.tok_start, s.tok_end):
            t = norm[i]
            if is_stopword(t):
                continue
            content += 1
            tf[stems[i]] = tf.get(stems[i], 0) + 1
            idf[stems[i]] = max(idf.get(stems[i], 0.0), weight(t))
    terms = {k: (1.0 + math.log(v)) * idf[k] for k, v in tf.items()}
    return SentenceFeatures(terms, " ".join(p for p in parts if p), content)


def pair_similarity_texts(s1: str, s2: str, cfg: AlignConfig | None = None) -> float:
    """The aligner's similarity of two sentences (or short texts) given as strings, in [0, 1].

    Each text is analysed as a one-document text; its content sentences taken together give the lexical
    features (`text_features`), and the whole content text (whitespace collapsed) is embedded. With the
    semantic channel active this is the combined similarity (`semantic_raise` of every pair that is no copy;
    compare it with `paraphrase_threshold`); ``semantic="off"`` gives exactly the lexical `pair_similarity`.
    Inside a document pair `align` uses the same raise, confined to the context of reused text.
    """
    return pair_similarity_analyzed(analyze(Document("s1", s1)), analyze(Document("s2", s2)), cfg)


def pair_similarity_analyzed(a1: Analyzed, a2: Analyzed, cfg: AlignConfig | None = None) -> float:
    """`pair_similarity_texts` of two texts already analysed (each taken as one unit)."""
    sim, _ratio = similarity_matrix(
        [text_features(a1)], [text_features(a2)], [content_text(a1)], [content_text(a2)], cfg or AlignConfig()
    )
    return float(sim[0, 0])


def content_text(an: Analyzed) -> str:
    """The content sentences of `an` (attribution left out), each as `sentence_text`, joined by a space."""
    return " ".join(sentence_text(an, n) for n, s in enumerate(an.sentences) if s.kind != "attribution")


def _dense(feats: Sequence[SentenceFeatures], vocab: dict[str, int]) -> NDArray[np.float64]:
    m = np.zeros((len(feats), max(1, len(vocab))))
    for i, f in enumerate(feats):
        for t, w in f.terms.items():
            m[i, vocab[t]] = w
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: NDArray[np.float64] = m / norms
    return normalised
