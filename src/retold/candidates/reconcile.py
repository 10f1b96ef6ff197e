"""Stored candidates equal the candidate rules over the set of indexed documents, whatever their arrival order.

Two rules look beyond a pair (docs/index.md, "Order"): a rare term is usable only while at most
``RewriteConfig.max_postings`` documents of the index hold it (`retold.candidates.rewrite`), and a vector pair
needs both documents out of a crowd, i.e. with at most ``VectorConfig.crowd`` neighbours among all indexed
documents (`retold.candidates.vectors`). A batch applies both rules with the counts it leaves behind, which covers
its own pairs; for the pairs stored by earlier batches it reports what changed (`Changes`):

* growth only tightens the rules: a term held by one document too many stops being usable, a document gains a
  neighbour too many. `recheck` then drops the channel from the stored pairs that relied on it (a pair left with
  no channel is no longer a candidate and is deleted). Every pair found through a term is among the term's first
  ``max_postings + 1`` holders, which the index keeps, and a document has at most ``crowd`` vector pairs, so the
  work is bounded by the caps;
* deleting documents (a replaced text) can loosen them: `revive` proposes the pairs the rules admit again, for the
  pipeline to align (or adds the channel to a pair already stored).

So a set of documents gives the same candidates whether it is added in one batch, in chunks, or in any order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from retold.candidates.merge import CandidatePair
from retold.candidates.rewrite import TermVector, recheck_pairs
from retold.candidates.vectors import VectorIndex, cosines
from retold.config import RetoldConfig
from retold.model import Channel
from retold.store.base import PairRecord, Store

__all__ = ["Changes", "ChannelUpdate", "recheck", "revive", "term_crossings"]

ChannelUpdate = tuple[int, int, tuple[Channel, ...]]
"""``(a, b, channels)``: a stored pair's channels from now on (none: the pair is no longer a candidate)."""

_ORDER: dict[Channel, int] = {"exact": 0, "minhash": 1, "rewrite": 2, "vector": 3}


def _empty() -> NDArray[np.int64]:
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Changes:
    """What a batch changed in the rules' inputs for documents stored before it.

    `terms_up`/`terms_down`: terms that stopped being / became again usable; `crowded`/`uncrowded`: stored
    documents that joined / left a crowd of vector neighbours.
    """

    terms_up: NDArray[np.int64] = field(default_factory=_empty)
    terms_down: NDArray[np.int64] = field(default_factory=_empty)
    crowded: NDArray[np.int64] = field(default_factory=_empty)
    uncrowded: NDArray[np.int64] = field(default_factory=_empty)

    def __bool__(self) -> bool:
        return bool(self.terms_up.size or self.terms_down.size or self.crowded.size or self.uncrowded.size)


def term_crossings(
    terms: NDArray[np.int64], before: NDArray[np.int64], after: NDArray[np.int64], cap: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Terms whose document count crossed the cap: ``(no longer usable, usable again)``."""
    up = terms[(before <= cap) & (after > cap)]
    down = terms[(before > cap) & (after <= cap)]
    return np.sort(up), np.sort(down)


def _term_vectors(store: Store, seqs: Collection[int]) -> dict[int, TermVector]:
    return {s: TermVector(k, w, t) for s, (k, w, t) in store.term_vectors(seqs).items()}


def _common(store: Store, vectors: Mapping[int, TermVector], cap: int) -> NDArray[np.int64]:
    """The terms of these documents that the index holds more than `cap` times (sorted)."""
    keys = [v.keys for v in vectors.values()]
    terms = np.unique(np.concatenate(keys)) if keys else _empty()
    tp = store.postings(terms.tolist(), 0)
    return np.sort(tp.terms[tp.df > cap])


def _channels(old: Iterable[Channel], drop: set[Channel]) -> tuple[Channel, ...]:
    return tuple(sorted((c for c in old if c not in drop), key=_ORDER.__getitem__))


def recheck(store: Store, changes: Changes, cfg: RetoldConfig) -> list[ChannelUpdate]:
    """Stored pairs whose rare-term or vector channel no longer holds after growth, with their new channels.

    Call once the batch's documents are stored (the index's term counts are then the batch's end state).
    """
    drops: dict[tuple[int, int], set[Channel]] = {}
    stored: dict[tuple[int, int], PairRecord] = {}
    if changes.crowded.size:
        for p in store.pairs_touching(changes.crowded.tolist()):
            if "vector" in p.channels:
                stored[(p.a, p.b)] = p
                drops.setdefault((p.a, p.b), set()).add("vector")
    if changes.terms_up.size:
        holders = store.holders(changes.terms_up.tolist())
        pairs: dict[tuple[int, int], PairRecord] = {}
        for seqs in holders.values():
            for p in store.pairs_among(seqs):
                if "rewrite" in p.channels or "vector" in p.channels:
                    pairs[(p.a, p.b)] = p
        if pairs:
            keys = sorted(pairs)
            tv = _term_vectors(store, {s for k in keys for s in k})
            rewrite, sharing = recheck_pairs(keys, tv, _common(store, tv, cfg.rewrite.max_postings), cfg.rewrite)
            for key, rw, sh in zip(keys, rewrite.tolist(), sharing.tolist(), strict=True):
                p = pairs[key]
                stored[key] = p
                if "rewrite" in p.channels and not rw:
                    drops.setdefault(key, set()).add("rewrite")
                if "vector" in p.channels and not sh:
                    drops.setdefault(key, set()).add("vector")
    updates = {key: _channels(stored[key].channels, drop) for key, drop in drops.items()}
    return [(a, b, ch) for (a, b), ch in sorted(updates.items())]


def revive(
    store: Store,
    changes: Changes,
    cfg: RetoldConfig,
    vectors: VectorIndex | None,
    *,
    skip: Collection[int] = (),
) -> tuple[list[CandidatePair], list[ChannelUpdate]]:
    """Pairs among stored documents that the rules admit again after deletions.

    Returns new candidates to align (``a < b``) and channel additions for pairs already stored. Documents in
    `skip` (the batch's new ones, whose pairs the batch finds itself) take no part. Call once the batch's
    documents are stored and `vectors` holds the batch's counts.
    """
    gone = set(skip)
    proposals: dict[tuple[int, int], dict[Channel, float]] = {}
    if changes.terms_down.size:
        for seqs in store.holders(changes.terms_down.tolist()).values():
            held = sorted(s for s in seqs if s not in gone)
            keys = [(a, b) for i, a in enumerate(held) for b in held[i + 1 :]]
            if not keys:
                continue
            tv = _term_vectors(store, held)
            rewrite, sharing = recheck_pairs(keys, tv, _common(store, tv, cfg.rewrite.max_postings), cfg.rewrite)
            for key, rw, sh in zip(keys, rewrite.tolist(), sharing.tolist(), strict=True):
                if rw:
                    proposals.setdefault(key, {})["rewrite"] = _score(tv, key, cfg)
                if sh and vectors is not None:
                    c = _vector_pair(vectors, key, cfg)
                    if c is not None:
                        proposals.setdefault(key, {})["vector"] = c
    if vectors is not None and changes.uncrowded.size:
        for x in changes.uncrowded.tolist():
            if x in gone or not bool(vectors.has([x])[0]) or int(vectors.counts([x])[0]) > cfg.vectors.crowd:
                continue
            near, sims = vectors.neighbours(x, cfg.vectors.min_cosine)
            keep = [i for i, y in enumerate(near.tolist()) if y not in gone]
            if not keep:
                continue
            near, sims = near[keep], sims[keep]
            ok = vectors.counts(near) <= cfg.vectors.crowd
            keys = [(min(x, y), max(x, y)) for y in near[ok].tolist()]
            if not keys:
                continue
            tv = _term_vectors(store, {s for k in keys for s in k})
            _, sharing = recheck_pairs(keys, tv, _common(store, tv, cfg.rewrite.max_postings), cfg.rewrite)
            for key, sh, c in zip(keys, sharing.tolist(), sims[ok].tolist(), strict=True):
                if sh:
                    proposals.setdefault(key, {})["vector"] = min(1.0, c)
    if not proposals:
        return [], []
    stored = {(p.a, p.b): p for p in store.pairs_among(sorted({s for k in proposals for s in k}))}
    fresh: list[CandidatePair] = []
    updates: list[ChannelUpdate] = []
    for key in sorted(proposals):
        chans = proposals[key]
        p = stored.get(key)
        if p is None:
            names = tuple(sorted(chans, key=_ORDER.__getitem__))
            fresh.append(CandidatePair(key[0], key[1], names, max(chans.values())))
        elif not set(chans) <= set(p.channels):
            updates.append((key[0], key[1], _channels((*p.channels, *chans), set())))
    return fresh, updates


def _score(tv: Mapping[int, TermVector], key: tuple[int, int], cfg: RetoldConfig) -> float:
    """The candidate score a revived rare-term pair gets: its weighted containment (as the channel gives it)."""
    va, vb = tv[key[0]], tv[key[1]]
    _, ia, ib = np.intersect1d(va.keys, vb.keys, assume_unique=True, return_indices=True)
    smaller = min(va.total, vb.total)
    return float(min(1.0, np.sqrt(va.weights[ia] * vb.weights[ib]).sum() / smaller)) if smaller > 0 else 0.0


def _vector_pair(vectors: VectorIndex, key: tuple[int, int], cfg: RetoldConfig) -> float | None:
    """The cosine of two indexed documents when they are vector neighbours out of a crowd, else None."""
    if not bool(vectors.has(list(key)).all()):
        return None
    if bool((vectors.counts(list(key)) > cfg.vectors.crowd).any()):
        return None
    c = float(cosines(vectors.vector(key[0])[None, :], vectors.vector(key[1])[None, :])[0])
    return min(1.0, c) if c >= cfg.vectors.min_cosine else None
