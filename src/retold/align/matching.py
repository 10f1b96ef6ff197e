"""Sentence matching between two documents: links allowed in any order, many-to-one where a rewriter merged
or split sentences or reused one sentence twice.

A pair of sentences links when
1. their character ratio reaches `verbatim` (copied text), or
2. their similarity reaches `link` and is not dominated (at least `dominance` x the best similarity either
   sentence has with anything), or
3. their similarity reaches `context_link`, one is the other's best remaining match, it is not dominated by
   an accepted link, and an anchor (an accepted link of at least `anchor`) lies within `CONTEXT` sentences of
   it on both sides (rewrites move blocks, not single sentences).
Each sentence keeps at most its `MAX_LINKS` strongest links; an isolated link between two sentences that both
have a supported link elsewhere is dropped as a topical look-alike. Sentences with fewer than `min_tokens`
content tokens link only as copies (rule 1), and only next to another link (or when each text is that unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retold.config import AlignConfig


@dataclass(frozen=True, slots=True)
class Link:
    """Sentence `i` of side a matches sentence `j` of side b (indices into the unit lists given to `match`)."""

    i: int
    j: int
    score: float
    verbatim: bool


DOMINANCE = 0.6
MAX_LINKS = 2
CONTEXT = 3


def match(
    sim: NDArray[np.float64],
    ratio: NDArray[np.float64],
    short_a: Sequence[bool] | NDArray[np.bool_],
    short_b: Sequence[bool] | NDArray[np.bool_],
    cfg: AlignConfig,
) -> list[Link]:
    """Links between units of a (rows) and b (columns), sorted by (i, j).

    Args:
        sim: combined similarity, shape (n, m).
        ratio: character ratio in [0, 1], same shape.
        short_a, short_b: True where a unit is too short to link on anything but a copy.
        cfg: thresholds.
    """
    n, m = sim.shape
    if n == 0 or m == 0:
        return []
    copy = ratio >= cfg.verbatim
    if not copy.any() and not (sim >= min(cfg.link, cfg.context_link)).any():
        return []  # most candidate pairs: nothing reaches a link threshold (short units only lower a similarity)
    short = np.asarray(short_a, dtype=bool)[:, None] | np.asarray(short_b, dtype=bool)[None, :]
    s = np.where(short & ~copy, 0.0, sim)
    s = np.where(copy, np.maximum(s, ratio), s)
    best = np.maximum(s.max(axis=1, keepdims=True), s.max(axis=0, keepdims=True))
    undominated = s >= DOMINANCE * best

    accepted = copy | ((s >= cfg.link) & undominated)
    units = np.arange(max(n, m))
    candidates = (s >= cfg.context_link) & ~accepted
    if candidates.any():
        # Dominance against what is accepted, so a rejected look-alike cannot block the true match; support
        # only from anchors, so weak links never vouch for each other.
        row_best = np.where(accepted, s, 0.0).max(axis=1, keepdims=True)
        col_best = np.where(accepted, s, 0.0).max(axis=0, keepdims=True)
        free = np.where(candidates, s, 0.0)
        weak = (
            candidates
            & (s >= DOMINANCE * np.maximum(row_best, col_best))
            & ((free >= free.max(axis=1, keepdims=True)) | (free >= free.max(axis=0, keepdims=True)))
        )
        wi, wj = np.nonzero(weak)
        ok = _supported(wi, wj, np.nonzero(accepted & ((s >= cfg.anchor) | copy)), units, units, CONTEXT)
        accepted[wi[ok], wj[ok]] = True
    accepted &= _best_per_sentence(np.where(accepted, s, 0.0), MAX_LINKS)
    accepted &= ~_stray(accepted, copy)
    # A copied short unit ("2.", a name, a dateline) means something only next to other reused text, or when it
    # is the whole of both texts.
    ii, jj = np.nonzero(accepted & short)
    if len(ii) and (n, m) != (1, 1):
        lonely = ~_supported(ii, jj, np.nonzero(accepted), units, units, 1, exclude_self=True)
        accepted[ii[lonely], jj[lonely]] = False
    ii, jj = np.nonzero(accepted)
    return [Link(int(i), int(j), float(s[i, j]), bool(copy[i, j])) for i, j in zip(ii, jj, strict=True)]


def _supported(
    wi: NDArray[np.intp],
    wj: NDArray[np.intp],
    acc: tuple[NDArray[np.intp], ...],
    pa: NDArray[np.int_],
    pb: NDArray[np.int_],
    window: int,
    exclude_self: bool = False,
) -> NDArray[np.bool_]:
    """For each pair (wi, wj): is an accepted link within `window` positions of it on both sides?"""
    ai, bj = acc
    if len(ai) == 0 or len(wi) == 0:
        return np.zeros(len(wi), dtype=bool)
    near = (np.abs(pa[wi][:, None] - pa[ai][None, :]) <= window) & (np.abs(pb[wj][:, None] - pb[bj][None, :]) <= window)
    if exclude_self:
        near &= ~((wi[:, None] == ai[None, :]) & (wj[:, None] == bj[None, :]))
    found: NDArray[np.bool_] = near.any(axis=1)
    return found


def _stray(accepted: NDArray[np.bool_], copy: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Isolated links between two sentences that both have a supported link elsewhere: topical look-alikes.

    A link is isolated when no other link touches a neighbouring sentence on both sides. A reworded sentence
    reused out of place (a moved block) stays, because its own sentence has no better home.
    """
    ii, jj = np.nonzero(accepted)
    units = np.arange(max(accepted.shape))
    sup = _supported(ii, jj, (ii, jj), units, units, 1, exclude_self=True)
    out = np.zeros_like(accepted)
    if len(ii) == 0:
        return out
    row_home = np.zeros(accepted.shape[0], dtype=bool)
    col_home = np.zeros(accepted.shape[1], dtype=bool)
    row_home[ii[sup]] = True
    col_home[jj[sup]] = True
    drop = ~sup & row_home[ii] & col_home[jj] & ~copy[ii, jj]
    out[ii[drop], jj[drop]] = True
    return out


def _best_per_sentence(s: NDArray[np.float64], k: int) -> NDArray[np.bool_]:
    """Links among the k strongest of both their sentences: one sentence rarely feeds more than two."""
    if s.size == 0:
        return np.zeros(s.shape, dtype=bool)
    kth_row = -np.sort(-s, axis=1)[:, min(k, s.shape[1]) - 1 : min(k, s.shape[1])]
    kth_col = -np.sort(-s, axis=0)[min(k, s.shape[0]) - 1 : min(k, s.shape[0]), :]
    keep: NDArray[np.bool_] = (s > 0) & (s >= kth_row) & (s >= kth_col)
    return keep
