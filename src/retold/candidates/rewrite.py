"""Rewrite channel: documents that share many rare content terms (names, numbers, words rare in general
English) are candidates even when their wording differs, because a paraphraser rarely changes those.

Terms are selected by background rarity (corpus-independent) and weighted by it; the corpus only enters
through a document-frequency cap that keeps postings short (passim's ``maxDF``). Scoring is a sparse product
``X W Xᵀ`` over the kept terms, so there is no loop over document pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from retold.config import RewriteConfig
from retold.model import Candidate
from retold.text.analyze import Analyzed
from retold.text.tokens import is_rare, zipf

RARE_MAX_ZIPF = 3.0


def rare_terms(an: Analyzed) -> dict[str, float]:
    """Rare content stems of a document with their weights (``9 - zipf``; unseen words weigh 9)."""
    out: dict[str, float] = {}
    norm, stems = an.tokens.norm, an.stems
    for s in an.content_sentences:
        for i in range(s.tok_start, s.tok_end):
            t = norm[i]
            if is_rare(t, RARE_MAX_ZIPF):
                w = 9.0 - (0.0 if t[0].isdigit() else zipf(t))
                st = stems[i]
                if w > out.get(st, 0.0):
                    out[st] = w
    return out


def rewrite_candidates(terms: Sequence[dict[str, float]], cfg: RewriteConfig) -> list[Candidate]:
    """Pairs whose shared rare-term weight, over the smaller document's total, reaches `cfg.min_score`.

    Args:
        terms: per document, its rare terms and weights (`rare_terms`).
        cfg: df cap, minimum shared terms and score, top-k per document.

    Returns:
        Candidates with ``a < b``, channel ``"rewrite"``, score = weighted containment in [0, 1].
    """
    n = len(terms)
    if n < 2:
        return []
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for d, ts in enumerate(terms):
        for t, w in ts.items():
            rows.append(d)
            cols.append(vocab.setdefault(t, len(vocab)))
            vals.append(w)
    if not vocab:
        return []
    x = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (np.asarray(rows), np.asarray(cols))), shape=(n, len(vocab)))
    totals = np.asarray(x.sum(axis=1)).ravel()
    binary = x.copy()
    binary.data[:] = 1.0
    df = np.asarray(binary.sum(axis=0)).ravel()
    cap = max(cfg.min_df_cap, int(cfg.max_df * n))
    keep = np.flatnonzero((df >= 2) & (df <= cap))
    if keep.size == 0:
        return []
    xk = x[:, keep].tocsr()
    bk = binary[:, keep].tocsr()
    root = xk.sqrt()  # sqrt(w) on both sides: the product sums the weight of each shared term once
    shared = sp.triu(root @ root.T, k=1).tocsr()
    count = sp.triu(bk @ bk.T, k=1).tocsr()
    shared.sort_indices()
    count.sort_indices()
    # Same sparsity pattern (all weights are positive), so the data arrays line up entry by entry.
    coo = shared.tocoo()
    a, b, s, cnt = coo.row, coo.col, coo.data, count.data
    score = s / np.minimum(totals[a], totals[b])
    ok = (cnt >= cfg.min_shared) & (score >= cfg.min_score)
    a, b, score = a[ok], b[ok], score[ok]
    return _top_k(a, b, score, cfg.top_k)


def _top_k(a: np.ndarray, b: np.ndarray, score: np.ndarray, k: int) -> list[Candidate]:
    """Keep the pairs each document proposes: its k best-scoring pairs, ranked over all its pairs.

    A pair stays when either document proposes it, so at most ``n_docs * k`` pairs survive; a document that
    is the best match of many others (a wire story and its many reprints) keeps all of those pairs.
    """
    if a.size == 0:
        return []
    pair = np.arange(a.size)
    doc = np.concatenate([a, b])
    idx = np.concatenate([pair, pair])
    sc = np.concatenate([score, score])
    order = np.lexsort((idx, -sc, doc))
    ranked = doc[order]
    first = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
    rank = np.arange(ranked.size) - np.repeat(first, np.diff(np.r_[first, ranked.size]))
    keep = np.zeros(a.size, dtype=bool)
    keep[idx[order[rank < k]]] = True
    out = [
        Candidate(int(i), int(j), "rewrite", float(min(1.0, s)))
        for i, j, s in zip(a[keep], b[keep], score[keep], strict=True)
    ]
    out.sort(key=lambda c: (c.a, c.b))
    return out
