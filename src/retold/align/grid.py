"""Neighbourhood counts on a boolean sentence-pair grid (rows: sentences of a, columns: sentences of b).

"Is there a link within w sentences of (i, j) on both sides?" is a box filter over the grid of links, which
costs O(n·m) whatever the number of links; comparing every pair of links costs O(links²), and links can number
n·m when a text repeats one sentence.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def window_count(grid: NDArray[np.bool_], window: int) -> NDArray[np.int32]:
    """For each cell (i, j), how many True cells (a, b) have ``|a - i| <= window`` and ``|b - j| <= window``."""
    counts = grid.astype(np.int32)
    if counts.size == 0:
        return counts
    for axis in (0, 1):
        counts = _window_sum(counts, window, axis)
    return counts


def dilate(grid: NDArray[np.bool_], window: int) -> NDArray[np.bool_]:
    """Cells within `window` positions, on both axes, of some True cell of `grid`."""
    near: NDArray[np.bool_] = window_count(grid, window) > 0
    return near


def _window_sum(x: NDArray[np.int32], window: int, axis: int) -> NDArray[np.int32]:
    """Sums of `x` over ``[k - window, k + window]`` along `axis` (clipped at the edges), from cumulative sums.

    In `window_count` the running sums are at most n (ones along axis 0), then (2·window + 1)·m: int32 holds
    them for any grid that fits in memory.
    """
    size = x.shape[axis]
    first = np.zeros_like(np.take(x, [0], axis=axis))
    csum = np.concatenate([first, np.cumsum(x, axis=axis, dtype=np.int32)], axis=axis)
    k = np.arange(size)
    hi = np.minimum(k + window + 1, size)
    lo = np.maximum(k - window, 0)
    out: NDArray[np.int32] = np.take(csum, hi, axis=axis) - np.take(csum, lo, axis=axis)
    return out
