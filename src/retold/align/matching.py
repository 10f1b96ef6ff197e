"""Sentence matching between two documents: links allowed in any order, many-to-one where a rewriter merged
or split sentences or reused one sentence twice.

A pair of sentences links when
1. their character ratio reaches `verbatim` (copied text), or
2. their similarity reaches `link` and is not dominated (at least `dominance` x the best similarity either
   sentence has with anything), or
3. their similarity reaches `context_link`, one is the other's best remaining match, it is not dominated by
   an accepted link, and an anchor (an accepted link of at least `anchor`) lies within `CONTEXT` sentences of
   it on both sides (rewrites move blocks, not single sentences).
Each sentence keeps at most its `MAX_LINKS` strongest links (ties broken as `_best_per_sentence` says, so a text
repeating one sentence still gives each sentence at most `MAX_LINKS`); an isolated link between two sentences
that both have a supported link elsewhere is dropped as a topical look-alike. Sentences with fewer than
`min_tokens` content tokens link only as copies (rule 1), and only next to another link (or when each text is
that unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retold.align.grid import window_count
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
    # In place and row/column-wise where it gives the same numbers: at the sentence cap every (n, m) float
    # array is 18 MB, and a degenerate pair makes all of them dense.
    s = np.where(short & ~copy, 0.0, sim)
    np.maximum(s, ratio, out=s, where=copy)
    # s >= D * max(row best, column best), without the (n, m) array of maxima
    undominated = (s >= DOMINANCE * s.max(axis=1, keepdims=True)) & (s >= DOMINANCE * s.max(axis=0, keepdims=True))

    accepted = copy | ((s >= cfg.link) & undominated)
    candidates = (s >= cfg.context_link) & ~accepted
    if candidates.any():
        # Dominance against what is accepted, so a rejected look-alike cannot block the true match; support
        # only from anchors, so weak links never vouch for each other.
        held = np.where(accepted, s, 0.0)
        row_best, col_best = held.max(axis=1, keepdims=True), held.max(axis=0, keepdims=True)
        free = held  # reused: row_best and col_best are taken
        free.fill(0.0)
        np.copyto(free, s, where=candidates)
        weak = (
            candidates
            & (s >= DOMINANCE * row_best)
            & (s >= DOMINANCE * col_best)
            & ((free >= free.max(axis=1, keepdims=True)) | (free >= free.max(axis=0, keepdims=True)))
        )
        accepted |= _supported(weak, accepted & ((s >= cfg.anchor) | copy), CONTEXT)
    accepted &= _best_per_sentence(np.where(accepted, s, 0.0), MAX_LINKS)
    accepted &= ~_stray(accepted, copy)
    # A copied short unit ("2.", a name, a dateline) means something only next to other reused text, or when it
    # is the whole of both texts.
    short_links = accepted & short
    if (n, m) != (1, 1) and short_links.any():
        accepted &= ~(short_links & ~_supported(short_links, accepted, 1, exclude_self=True))
    ii, jj = np.nonzero(accepted)
    return [Link(int(i), int(j), float(s[i, j]), bool(copy[i, j])) for i, j in zip(ii, jj, strict=True)]


def _supported(
    pairs: NDArray[np.bool_], anchors: NDArray[np.bool_], window: int, exclude_self: bool = False
) -> NDArray[np.bool_]:
    """The cells of `pairs` with a cell of `anchors` within `window` positions on both sides (with
    `exclude_self`, other than the cell itself).

    A box count over the grid (`window_count`): O(n·m) however many pairs and anchors there are (a text that
    repeats one sentence has n·m of both, and comparing each pair with each anchor was O(n²·m²)).
    """
    if not pairs.any() or not anchors.any():
        return np.zeros(pairs.shape, dtype=bool)
    near = window_count(anchors, window)
    if exclude_self:
        near -= anchors
    found: NDArray[np.bool_] = pairs & (near > 0)
    return found


def _stray(accepted: NDArray[np.bool_], copy: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Isolated links between two sentences that both have a supported link elsewhere: topical look-alikes.

    A link is isolated when no other link touches a neighbouring sentence on both sides. A reworded sentence
    reused out of place (a moved block) stays, because its own sentence has no better home.
    """
    sup = _supported(accepted, accepted, 1, exclude_self=True)
    home = np.logical_and.outer(np.any(sup, axis=1), np.any(sup, axis=0))  # both sentences linked elsewhere
    drop: NDArray[np.bool_] = accepted & ~sup & home & ~copy
    return drop


def _best_per_sentence(s: NDArray[np.float64], k: int) -> NDArray[np.bool_]:
    """Links (cells with ``s > 0``) among the k first of their row and the k first of their column.

    One sentence rarely feeds more than two. Cells rank by score, higher first; equal scores (a sentence
    repeated in a text) rank the nearer to the diagonal first (smaller ``|i - j|``, so a text aligned with
    itself keeps ``(i, i)``), then the smaller other index (the column within a row, the row within a column).
    The rule is symmetric in a and b and keeps at most k cells in each row and each column; O(k·n·m).
    """
    keep: NDArray[np.bool_] = _first_k(s, k, axis=1) & _first_k(s, k, axis=0)
    return keep


def _first_k(s: NDArray[np.float64], k: int, axis: int) -> NDArray[np.bool_]:
    """The k first positive cells of each row (axis 1) or column (axis 0) in `_best_per_sentence`'s order."""
    n, m = s.shape
    near = np.abs(np.arange(n, dtype=np.int32)[:, None] - np.arange(m, dtype=np.int32)[None, :])
    far = np.int32(max(n, m))  # beyond every distance
    work = s.copy()
    keep = np.zeros(s.shape, dtype=bool)
    lines = np.arange(s.shape[1 - axis])
    for _ in range(min(k, s.shape[axis])):
        top = (work == work.max(axis=axis, keepdims=True)) & (work > 0)
        # argmin takes the first of equal distances: the smaller index along the line
        pick = np.where(top, near, far).argmin(axis=axis)
        has = top.any(axis=axis)
        at = (lines[has], pick[has]) if axis == 1 else (pick[has], lines[has])
        keep[at] = True
        work[at] = 0.0
    return keep
