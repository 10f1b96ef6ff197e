"""Rewrite channel: documents that share many rare content terms (names, numbers, words rare in general
English) are candidates even when their wording differs, because a paraphraser rarely changes those.

Terms are selected and weighted by background rarity (`wordfreq`, corpus-independent). A pair is a candidate
when it shares at least ``min_shared`` usable terms (or two that carry ``few_terms_score`` of the smaller
document's rare-term weight: articles in everyday vocabulary hold only two or three) and the shared weight covers
at least ``min_score`` of the smaller document's rare-term weight.

The one dependence on the rest of the index is ``max_postings``: a term held by more than that many documents of
the index is not usable (wire jargon such as "mln" or "dlrs": long, weak posting lists). Usability is judged on
the whole index, never on what came first: `match_rare_terms` counts the documents of the batch being added, and
when a term stops being usable the pairs found through it are checked again (`recheck_pairs`, scheduled by
`retold.pipeline`), so the candidates of a set of documents do not depend on the order they arrived in or on how
they were cut into batches (docs/index.md, "Order").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from retold._pickling import by_fields
from retold.config import RewriteConfig
from retold.model import Candidate
from retold.sketch.hashing import hash_tokens
from retold.text.analyze import Analyzed
from retold.text.tokens import is_rare, zipf

__all__ = [
    "RARE_MAX_ZIPF",
    "Postings",
    "TermVector",
    "match_rare_terms",
    "rare_terms",
    "rare_weight",
    "rewrite_candidates",
    "term_vector",
]

RARE_MAX_ZIPF = 3.0

_I64 = np.int64
_F64 = np.float64


@lru_cache(maxsize=262144)
def rare_weight(token: str) -> float:
    """A normalised token's rare-term weight (``9 - zipf``; unseen words and numbers weigh 9), 0 if not rare.

    Memoised: a document looks up every token, and most are words seen before.
    """
    if not is_rare(token, RARE_MAX_ZIPF):
        return 0.0
    return 9.0 - (0.0 if token[0].isdigit() else zipf(token))


def rare_terms(an: Analyzed) -> dict[str, float]:
    """Rare content stems of a document with their weights (`rare_weight`)."""
    out: dict[str, float] = {}
    norm, stems = an.tokens.norm, an.stems
    for s in an.content_sentences:
        for i in range(s.tok_start, s.tok_end):
            w = rare_weight(norm[i])
            if w > out.get(stems[i], 0.0):
                out[stems[i]] = w
    return out


@by_fields
@dataclass(frozen=True, slots=True)
class TermVector:
    """A document's rare terms as 64-bit keys (xxhash64 of the stem, as signed int64), sorted, with weights.

    `total` is the sum of the weights in key order, so it is bit-identical wherever it is computed.
    """

    keys: NDArray[np.int64]
    weights: NDArray[np.float64]
    total: float


def term_vector(terms: Mapping[str, float]) -> TermVector:
    """Hash a `rare_terms` mapping into a `TermVector`.

    >>> v = term_vector({"zorvath": 9.0, "2031": 9.0})
    >>> v.keys.dtype.name, v.total
    ('int64', 18.0)
    """
    names = list(terms)
    keys = hash_tokens(names).view(_I64)
    weights = np.fromiter((terms[n] for n in names), dtype=_F64, count=len(names))
    # Sort by key, then weight, and keep the heaviest of equal keys (a 64-bit collision, in theory).
    order = np.lexsort((-weights, keys))
    keys, weights = keys[order], weights[order]
    if keys.size > 1:
        first = np.concatenate(([True], keys[1:] != keys[:-1]))
        keys, weights = keys[first], weights[first]
    return TermVector(keys, weights, float(weights.sum()))


def _empty_i64() -> NDArray[np.int64]:
    return np.empty(0, dtype=_I64)


def _empty_f64() -> NDArray[np.float64]:
    return np.empty(0, dtype=_F64)


@dataclass(frozen=True, slots=True)
class Postings:
    """What an index of earlier documents holds for some terms, as flat arrays.

    `terms` (sorted) and `df` give the posting-list length of each term any earlier document holds; `term`,
    `seq`, `weight` and `total` are the postings of the terms whose list is at most the cap, sorted by term
    (``total`` is the rare-term weight of the posting's document).
    """

    terms: NDArray[np.int64] = field(default_factory=_empty_i64)
    df: NDArray[np.int64] = field(default_factory=_empty_i64)
    term: NDArray[np.int64] = field(default_factory=_empty_i64)
    seq: NDArray[np.int64] = field(default_factory=_empty_i64)
    weight: NDArray[np.float64] = field(default_factory=_empty_f64)
    total: NDArray[np.float64] = field(default_factory=_empty_f64)


def match_rare_terms(
    new: Sequence[TermVector],
    seqs: Sequence[int],
    earlier: Postings,
    cfg: RewriteConfig,
) -> list[Candidate]:
    """Rewrite candidates of new documents among earlier documents and among themselves (`rare_term_matches`
    without the pairs that share terms)."""
    return rare_term_matches(new, seqs, earlier, cfg)[0]


def rare_term_matches(
    new: Sequence[TermVector],
    seqs: Sequence[int],
    earlier: Postings,
    cfg: RewriteConfig,
    *,
    sharing: bool = False,
) -> tuple[list[Candidate], NDArray[np.int64]]:
    """Rewrite candidates of new documents among earlier documents and among themselves, and (with `sharing`)
    every pair that shares at least one usable term.

    A term is usable when at most ``cfg.max_postings`` documents hold it, counting the earlier ones (in
    `earlier`) and every new one. With score ``sum(sqrt(w_i * w_j)) / min(total_i, total_j)`` over the usable
    shared terms, a pair becomes a candidate when ``score >= cfg.min_score`` and it shares at least
    ``cfg.min_shared`` usable terms, or at least two with ``score >= cfg.few_terms_score``. Sums run in term-key
    order, so scores do not depend on how documents were split into batches.

    Args:
        new: The new documents' term vectors, in arrival order.
        seqs: Their sequence numbers (increasing, all above any document in `earlier`).
        earlier: Postings of the earlier documents for (at least) the new documents' terms.
        cfg: Thresholds and the posting cap.

    Returns:
        ``Candidate(a=earlier seq, b=new seq, "rewrite", score)``, score in [0, 1], sorted by ``(a, b)``; and,
        as rows ``(a, b)`` of an int64 array sorted by ``(a, b)``, every pair sharing at least one term under
        the same rule when `sharing` is set (the vector channel asks for one, `retold.candidates.vectors`;
        empty otherwise).
    """
    none = np.empty((0, 2), dtype=_I64)
    m = len(new)
    if m == 0:
        return [], none
    if len(seqs) != m:
        raise ValueError(f"{m} term vectors but {len(seqs)} sequence numbers")
    lengths = np.fromiter((v.keys.size for v in new), dtype=_I64, count=m)
    if int(lengths.sum()) == 0:
        return [], none
    doc = np.repeat(np.arange(m, dtype=_I64), lengths)
    key = np.concatenate([v.keys for v in new])
    wt = np.concatenate([v.weights for v in new])
    new_seq = np.asarray(seqs, dtype=_I64)
    new_total = np.fromiter((v.total for v in new), dtype=_F64, count=m)

    # Entries grouped by term, new documents in arrival order inside a group.
    order = np.lexsort((doc, key))
    doc, key, wt = doc[order], key[order], wt[order]
    size = key.size
    starts_mask = np.empty(size, dtype=bool)
    starts_mask[0] = True
    np.not_equal(key[1:], key[:-1], out=starts_mask[1:])
    starts = np.flatnonzero(starts_mask)
    group = np.cumsum(starts_mask) - 1
    rank = np.arange(size, dtype=_I64) - starts[group]  # new documents before this one holding the term
    uniq = key[starts]
    df_store = np.zeros(uniq.size, dtype=_I64)
    if earlier.terms.size:
        at = np.minimum(np.searchsorted(earlier.terms, uniq), earlier.terms.size - 1)
        df_store = np.where(earlier.terms[at] == uniq, earlier.df[at], 0)
    held_new = np.diff(np.append(starts, size))  # new documents holding each term
    eligible = df_store[group] + held_new[group] <= cfg.max_postings

    # Partners among the new documents: the `rank` earlier entries of the same group.
    n_new = np.where(eligible, rank, 0)
    left = np.repeat(np.arange(size, dtype=_I64), n_new)
    offset = np.arange(int(n_new.sum()), dtype=_I64) - np.repeat(np.cumsum(n_new) - n_new, n_new)
    partner = starts[group[left]] + offset
    p_seq = [new_seq[doc[partner]]]
    p_w = [wt[partner]]
    p_total = [new_total[doc[partner]]]
    me = [left]

    # Partners among the earlier documents: the whole posting list (it is within the cap when eligible).
    lo = np.searchsorted(earlier.term, uniq, side="left")
    list_len = np.searchsorted(earlier.term, uniq, side="right") - lo
    n_old = np.where(eligible, list_len[group], 0)
    if int(n_old.sum()):
        left_old = np.repeat(np.arange(size, dtype=_I64), n_old)
        off_old = np.arange(int(n_old.sum()), dtype=_I64) - np.repeat(np.cumsum(n_old) - n_old, n_old)
        idx = lo[group[left_old]] + off_old
        p_seq.append(earlier.seq[idx])
        p_w.append(earlier.weight[idx])
        p_total.append(earlier.total[idx])
        me.append(left_old)

    mine = np.concatenate(me)
    if mine.size == 0:
        return [], none
    a_seq = np.concatenate(p_seq)
    a_total = np.concatenate(p_total)
    b_local = doc[mine]
    shared = np.sqrt(np.concatenate(p_w) * wt[mine])
    # Sum each pair's shared weights in term-key order: the float result is then independent of batching.
    pair = a_seq * m + b_local  # one id per (earlier, new) pair; seqs are far below 2**54
    pair_order = _pair_term_order(pair, group[mine], uniq.size)
    pair, shared = pair[pair_order], shared[pair_order]
    first = np.empty(pair.size, dtype=bool)
    first[0] = True
    np.not_equal(pair[1:], pair[:-1], out=first[1:])
    heads = np.flatnonzero(first)
    shared_pairs = none
    if sharing:
        shared_pairs = np.column_stack(np.divmod(pair[heads], m))
        shared_pairs[:, 1] = new_seq[shared_pairs[:, 1]]
        shared_pairs = shared_pairs[np.lexsort((shared_pairs[:, 1], shared_pairs[:, 0]))]
    count = np.diff(np.append(heads, pair.size))
    weight = np.add.reduceat(shared, heads)
    # Most pairs share one term; no rule accepts fewer than min(min_shared, 2).
    sel = count >= min(cfg.min_shared, 2)
    heads, count, weight = heads[sel], count[sel], weight[sel]
    a_out, b_out = np.divmod(pair[heads], m)
    a_total = a_total[pair_order[heads]]
    smaller = np.minimum(a_total, new_total[b_out])
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(smaller > 0, weight / smaller, 0.0)
    enough = (count >= cfg.min_shared) | ((count >= 2) & (score >= cfg.few_terms_score))
    keep = enough & (score >= cfg.min_score) & (smaller > 0)
    out = [
        Candidate(int(a), int(b), "rewrite", float(min(1.0, s)))
        for a, b, s in zip(a_out[keep].tolist(), new_seq[b_out[keep]].tolist(), score[keep].tolist(), strict=True)
    ]
    out.sort(key=lambda c: (c.a, c.b))
    return out, shared_pairs


def _pair_term_order(pair: NDArray[np.int64], term: NDArray[np.int64], terms: int) -> NDArray[np.intp]:
    """The order of entries by (pair, term rank); every (pair, term) is distinct (a document holds a term once)."""
    if pair.size and 0 <= int(pair.min()) and int(pair.max()) < (1 << 62) // max(1, terms):
        # One int64 key: distinct keys make the fast (unstable) sort exact, ~10x cheaper than a 2-key lexsort.
        return np.argsort(pair * terms + term)
    return np.lexsort((term, pair))


def recheck_pairs(
    pairs: Sequence[tuple[int, int]],
    vectors: Mapping[int, TermVector],
    common: NDArray[np.int64],
    cfg: RewriteConfig,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which stored pairs still qualify once the terms in `common` (sorted keys held by more than
    ``cfg.max_postings`` documents of the index) may no longer be used.

    A term is usable for a pair while the index holds it at most ``max_postings`` times; a pair found while a
    term was usable is checked again when the term becomes common, with the same sums in the same order as
    `rare_term_matches`, so a pair that shares no common term keeps exactly its score.

    Returns:
        ``(rewrite, sharing)``: per pair, whether it is still a rewrite candidate, and whether its documents
        still share at least one usable term (what the vector channel asks, `retold.candidates.vectors`).
    """
    n = len(pairs)
    rewrite = np.zeros(n, dtype=bool)
    sharing = np.zeros(n, dtype=bool)
    for i, (a, b) in enumerate(pairs):
        va, vb = vectors[a], vectors[b]
        shared, ia, ib = np.intersect1d(va.keys, vb.keys, assume_unique=True, return_indices=True)
        usable = ~np.isin(shared, common, assume_unique=True)
        count = int(usable.sum())
        sharing[i] = count > 0
        if count < min(cfg.min_shared, 2):
            continue
        w = np.sqrt(va.weights[ia[usable]] * vb.weights[ib[usable]])
        weight = float(np.add.reduceat(w, [0])[0])
        smaller = min(va.total, vb.total)
        score = weight / smaller if smaller > 0 else 0.0
        enough = count >= cfg.min_shared or (count >= 2 and score >= cfg.few_terms_score)
        rewrite[i] = enough and score >= cfg.min_score and smaller > 0
    return rewrite, sharing


def rewrite_candidates(terms: Sequence[Mapping[str, float]], cfg: RewriteConfig) -> list[Candidate]:
    """Rewrite candidates of a whole corpus, documents in list order (position = arrival order).

    The same rule as an index grown one document at a time (`match_rare_terms` against an empty index).

    Args:
        terms: Per document, its rare terms and weights (`rare_terms`).
        cfg: Thresholds and the posting cap.

    Returns:
        Candidates with ``a < b`` (list positions), channel ``"rewrite"``, score = weighted containment in [0, 1].

    Example:
        >>> docs = [{"x": 9.0, "y": 9.0, "z": 9.0}, {"x": 9.0, "y": 9.0, "z": 9.0, "q": 9.0}, {"x": 9.0}]
        >>> [(c.a, c.b, c.score) for c in rewrite_candidates(docs, RewriteConfig())]
        [(0, 1, 1.0)]
    """
    return match_rare_terms([term_vector(t) for t in terms], range(len(terms)), Postings(), cfg)
