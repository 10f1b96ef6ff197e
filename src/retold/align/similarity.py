"""Sentence similarity: weighted cosine over stems and a character-level ratio (rapidfuzz).

Term weights come from background word frequencies (`retold.text.tokens.weight`), not from the corpus, so the
similarity of two sentences never depends on what else is in the index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from retold.text.analyze import Analyzed
from retold.text.tokens import weight


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
    return SentenceFeatures(terms, " ".join(norm[s.tok_start : s.tok_end]), content)


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
    """The similarity `align` uses, for one sentence pair (MRPC/STS-B scoring)."""
    cos = cosine_matrix([s1], [s2])
    ratio = ratio_matrix([s1], [s2])
    return float(combine(cos, ratio, cos_weight)[0, 0])


def _dense(feats: Sequence[SentenceFeatures], vocab: dict[str, int]) -> NDArray[np.float64]:
    m = np.zeros((len(feats), max(1, len(vocab))))
    for i, f in enumerate(feats):
        for t, w in f.terms.items():
            m[i, vocab[t]] = w
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: NDArray[np.float64] = m / norms
    return normalised
