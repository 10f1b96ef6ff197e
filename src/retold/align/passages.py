"""From sentence links to passages and to a labelling of every character of each side.

Inside each linked sentence pair, runs of at least `verbatim_run` identical tokens (an Indel/LCS alignment of
the two token sequences, via rapidfuzz) are verbatim pieces; what lies between them, when both sides have words
there, is a paraphrase piece. A pair of near-identical sentences (a copy link) is one verbatim piece. Pieces that
follow each other on both sides merge into passages, verbatim ones across small gaps (OCR slips, a changed
word), so a copied block is one passage however it was split into sentences.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray
from rapidfuzz.distance import Indel

from retold.align.matching import Link
from retold.model import Label, Passage, Sentence, Span
from retold.text.analyze import Analyzed

_CODE: dict[Label, int] = {"new": 0, "paraphrase": 1, "verbatim": 2, "attribution": 3}
_LABEL: tuple[Label, ...] = ("new", "paraphrase", "verbatim", "attribution")
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x3002)])  # str.isspace; nothing above U+3000 is space


@dataclass(frozen=True, slots=True)
class Piece:
    """Aligned character ranges inside one linked sentence pair; `i`/`j` index the sentences of a and b."""

    label: Label
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float


def link_pieces(link: Link, a: Analyzed, b: Analyzed, ia: int, jb: int, min_run: int, max_gap: int) -> list[Piece]:
    """Verbatim runs and the paraphrased stretches between them for sentences ``a.sentences[ia]`` and
    ``b.sentences[jb]``. Symmetric: swapping a and b swaps the sides of every piece.
    """
    sa, sb = a.sentences[ia], b.sentences[jb]
    if link.verbatim:
        return [Piece("verbatim", sa.start, sa.end, sb.start, sb.end, link.score)]
    ta = a.tokens.norm[sa.tok_start : sa.tok_end]
    tb = b.tokens.norm[sb.tok_start : sb.tok_end]
    runs = _runs(ta, tb, min_run, max_gap)
    if not runs:
        return [Piece("paraphrase", sa.start, sa.end, sb.start, sb.end, link.score)]
    a_st, a_en = a.tokens.starts, a.tokens.ends
    b_st, b_en = b.tokens.starts, b.tokens.ends
    oa, ob = sa.tok_start, sb.tok_start
    out: list[Piece] = []
    prev_a, prev_b = 0, 0
    for i0, i1, j0, j1 in [*runs, (len(ta), len(ta), len(tb), len(tb))]:
        if i0 > prev_a and j0 > prev_b:  # words on both sides between runs: reworded
            out.append(
                Piece(
                    "paraphrase",
                    int(a_st[oa + prev_a]),
                    int(a_en[oa + i0 - 1]),
                    int(b_st[ob + prev_b]),
                    int(b_en[ob + j0 - 1]),
                    link.score,
                )
            )
        if i1 > i0:
            out.append(
                Piece(
                    "verbatim",
                    int(a_st[oa + i0]),
                    int(a_en[oa + i1 - 1]),
                    int(b_st[ob + j0]),
                    int(b_en[ob + j1 - 1]),
                    1.0,
                )
            )
        prev_a, prev_b = i1, j1
    return out


def _runs(ta: Sequence[str], tb: Sequence[str], min_run: int, max_gap: int) -> list[tuple[int, int, int, int]]:
    """Token runs shared in order, each at least `min_run` long, joined across gaps of `max_gap` tokens."""
    swap = tuple(ta) > tuple(tb)  # one canonical orientation keeps the result symmetric
    src, dst = (tb, ta) if swap else (ta, tb)
    blocks = [
        (op.src_start, op.src_end, op.dest_start, op.dest_end)
        for op in Indel.opcodes(list(src), list(dst))
        if op.tag == "equal" and op.src_end - op.src_start >= min_run
    ]
    if swap:
        blocks = [(j0, j1, i0, i1) for i0, i1, j0, j1 in blocks]
    joined: list[tuple[int, int, int, int]] = []
    for blk in blocks:
        if joined and blk[0] - joined[-1][1] <= max_gap and blk[2] - joined[-1][3] <= max_gap:
            joined[-1] = (joined[-1][0], blk[1], joined[-1][2], blk[3])
        else:
            joined.append(blk)
    return joined


def merge_pieces(pieces: Sequence[Piece], a: Analyzed, b: Analyzed, max_gap: int) -> list[Passage]:
    """Passages: pieces of one label that follow each other on both sides, with at most `max_gap` tokens
    between them for verbatim pieces and none for paraphrase ones."""
    parent = list(range(len(pieces)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    crosses_a, crosses_b = _attribution_test(a), _attribution_test(b)
    # Tokens starting before each piece boundary, looked up once: the tokens starting in [x, y) for boundaries
    # x < y are then a subtraction, where a lookup per pair of pieces cost more than the scan itself.
    a0, a1 = _token_counts(a, [p.a_start for p in pieces]), _token_counts(a, [p.a_end for p in pieces])
    b0, b1 = _token_counts(b, [p.b_start for p in pieces]), _token_counts(b, [p.b_end for p in pieces])
    order = sorted(range(len(pieces)), key=lambda k: (pieces[k].a_start, pieces[k].b_start))
    # Each piece scans the pieces after it that start within `gap` tokens of its end: a few, except in a
    # stretch without tokens (the windows of one giant token), where the scan is quadratic in those pieces.
    for pos, k in enumerate(order):
        p = pieces[k]
        gap = max_gap if p.label == "verbatim" else 0
        for nxt in range(pos + 1, len(order)):
            m = order[nxt]
            q = pieces[m]
            if q.a_start > p.a_end and a0[m] - a1[k] > gap:
                break
            if (
                q.label == p.label
                and q.a_start >= p.a_end
                and q.b_start >= p.b_end
                and (q.b_start <= p.b_end or b0[m] - b1[k] <= gap)
                and not crosses_a(p.a_end, q.a_start)
                and not crosses_b(p.b_end, q.b_start)
            ):
                parent[find(m)] = find(k)
    groups: dict[int, list[Piece]] = {}
    for k in order:
        groups.setdefault(find(k), []).append(pieces[k])
    out = []
    for grp in groups.values():
        weight = [max(1, g.a_end - g.a_start + g.b_end - g.b_start) for g in grp]
        out.append(
            Passage(
                label="verbatim" if grp[0].label == "verbatim" else "paraphrase",
                a_start=min(g.a_start for g in grp),
                a_end=max(g.a_end for g in grp),
                b_start=min(g.b_start for g in grp),
                b_end=max(g.b_end for g in grp),
                score=_average([g.score for g in grp], weight),
            )
        )
    out.sort(key=lambda p: (p.a_start, p.b_start, p.a_end, p.b_end))
    return out


def _average(values: Sequence[float], weights: Sequence[int]) -> float:
    """``np.average(values, weights=weights)`` to the last bit, without numpy's overhead for a few values (numpy
    sums fewer than 8 numbers one after the other, as `sum` does)."""
    if len(values) >= 8:
        return float(np.average(values, weights=weights))
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def extend_verbatim(
    psg: Sequence[Passage],
    a: Analyzed,
    b: Analyzed,
    min_run: int,
    max_gap: int,
    *,
    ends: tuple[int, int] | None = None,
) -> list[Passage]:
    """Grow verbatim passages token by token past their ends while both texts go on alike (across sentence
    and window boundaries that fell differently in the two texts), then merge what now overlaps and drop
    repeats: a verbatim passage inside a longer one on one side but elsewhere on the other.

    `ends`: token indices of a and b that growth never reaches (the text beyond what `align` looked at).
    Passages that grow along the same path share its walk, so the walks cost at most one step per distinct
    token pair visited, however many passages a repetitive text has.
    """
    ok_a, ok_b = _free_tokens(a), _free_tokens(b)
    if ends is not None:
        ok_a[ends[0] :] = False
        ok_b[ends[1] :] = False
    ta, tb = a.tokens.norm, b.tokens.norm
    forward: dict[tuple[int, int], tuple[int, int]] = {}
    backward: dict[tuple[int, int], tuple[int, int]] = {}
    grown: list[Passage] = []
    for p in psg:
        if p.label != "verbatim":
            grown.append(p)
            continue
        i0, i1 = _token_range(a, p.a_start, p.a_end)
        j0, j1 = _token_range(b, p.b_start, p.b_end)
        i1, j1 = _grow(ta, tb, ok_a, ok_b, i1, j1, 1, max_gap, min_run, forward)
        e0, f0 = _grow(ta, tb, ok_a, ok_b, i0 - 1, j0 - 1, -1, max_gap, min_run, backward)
        i0, j0 = e0 + 1, f0 + 1
        grown.append(
            Passage(
                "verbatim",
                min(p.a_start, int(a.tokens.starts[i0])) if i0 < i1 else p.a_start,
                max(p.a_end, int(a.tokens.ends[i1 - 1])) if i0 < i1 else p.a_end,
                min(p.b_start, int(b.tokens.starts[j0])) if j0 < j1 else p.b_start,
                max(p.b_end, int(b.tokens.ends[j1 - 1])) if j0 < j1 else p.b_end,
                p.score,
            )
        )
    return _drop_covered(_union_overlapping(grown))


def _free_tokens(an: Analyzed) -> NDArray[np.bool_]:
    """Tokens outside attribution spans (extension never runs into a credit line)."""
    free = np.ones(len(an.tokens), dtype=bool)
    for bp in an.boilerplate:
        free[np.searchsorted(an.tokens.starts, bp.start) : np.searchsorted(an.tokens.starts, bp.end)] = False
    return free


def _token_range(an: Analyzed, start: int, end: int) -> tuple[int, int]:
    st = an.tokens.starts
    return int(np.searchsorted(st, start, "left")), int(np.searchsorted(st, end, "left"))


def _grow(
    ta: Sequence[str],
    tb: Sequence[str],
    ok_a: NDArray[np.bool_],
    ok_b: NDArray[np.bool_],
    i: int,
    j: int,
    step: int,
    max_gap: int,
    resync: int,
    memo: dict[tuple[int, int], tuple[int, int]],
) -> tuple[int, int]:
    """Walk from token i of a and j of b in direction `step` while tokens agree (resyncing over up to `max_gap`
    differing tokens when `resync` tokens agree after them); returns the first position that did not agree.

    Where the walk ends depends only on where it is, so `memo` (one per direction and pair) maps every
    position a walk passed to its end, and a later walk that reaches one stops there.
    """
    na, nb = len(ta), len(tb)

    def same(x: int, y: int, k: int) -> bool:
        for t in range(k):
            u, v = x + t * step, y + t * step
            if not (0 <= u < na and 0 <= v < nb and ok_a[u] and ok_b[v] and ta[u] == tb[v]):
                return False
        return True

    def free(ok: NDArray[np.bool_], x: int, k: int) -> bool:
        return all(0 <= x + t * step < len(ok) and ok[x + t * step] for t in range(k))

    hops = [(da, db) for da in range(max_gap + 1) for db in range(max_gap + 1) if 0 < da + db <= max_gap + 1]
    path: list[tuple[int, int]] = []
    while True:
        known = memo.get((i, j))
        if known is not None:
            i, j = known
            break
        path.append((i, j))
        if same(i, j, 1):
            i, j = i + step, j + step
            continue
        hop = next(
            (
                (da, db)
                for da, db in hops
                if free(ok_a, i, da) and free(ok_b, j, db) and same(i + da * step, j + db * step, resync)
            ),
            None,
        )
        if hop is None:
            break
        i, j = i + hop[0] * step, j + hop[1] * step
    for pos in path:
        memo[pos] = (i, j)
    return i, j


def _union_overlapping(psg: Sequence[Passage]) -> list[Passage]:
    """Merge verbatim passages that overlap or touch on both sides: each, in order of start, into the first
    earlier (merged) passage it meets, else it starts a new one."""
    verb = sorted((p for p in psg if p.label == "verbatim"), key=lambda p: (p.a_start, p.b_start))
    merged: list[Passage] = []
    # Merged passages that still reach the current start on side a, in order of creation: one that ends
    # before it can never meet a later passage (starts only grow), so the scan skips it for good.
    active: list[int] = []
    for p in verb:
        active = [n for n in active if merged[n].a_end >= p.a_start]
        for n in active:
            q = merged[n]
            if p.a_start <= q.a_end and q.a_start <= p.a_end and p.b_start <= q.b_end and q.b_start <= p.b_end:
                merged[n] = Passage(
                    "verbatim",
                    min(p.a_start, q.a_start),
                    max(p.a_end, q.a_end),
                    min(p.b_start, q.b_start),
                    max(p.b_end, q.b_end),
                    max(p.score, q.score),
                )
                break
        else:
            merged.append(p)
            active.append(len(merged) - 1)
    return merged + [p for p in psg if p.label != "verbatim"]


def _drop_covered(psg: Sequence[Passage]) -> list[Passage]:
    """Drop a passage lying inside a longer verbatim passage on one side (a repeat, or a paraphrase piece that
    the verbatim text already explains). "Longer" counts the characters of both sides."""
    verb = [p for p in psg if p.label == "verbatim"]
    size = [(p.a_end - p.a_start) + (p.b_end - p.b_start) for p in psg]
    vsize = [(q.a_end - q.a_start) + (q.b_end - q.b_start) for q in verb]
    in_a = _inside_longer(
        [(q.a_start, q.a_end, n) for q, n in zip(verb, vsize, strict=True)],
        [(p.a_start, p.a_end, n) for p, n in zip(psg, size, strict=True)],
    )
    in_b = _inside_longer(
        [(q.b_start, q.b_end, n) for q, n in zip(verb, vsize, strict=True)],
        [(p.b_start, p.b_end, n) for p, n in zip(psg, size, strict=True)],
    )
    keep = [p for p, x, y in zip(psg, in_a, in_b, strict=True) if not (x or y)]
    keep.sort(key=lambda p: (p.a_start, p.b_start, p.a_end, p.b_end))
    return keep


def _inside_longer(outer: Sequence[tuple[int, int, int]], inner: Sequence[tuple[int, int, int]]) -> list[bool]:
    """For each ``(start, end, size)`` of `inner`: does some ``(start, end, size)`` of `outer` contain its range
    with a larger size? O((outer + inner) log) by a sweep over starts and a Fenwick tree of maxima over ends."""
    if not outer or not inner:
        return [False] * len(inner)
    ends = sorted({e for _, e, _ in outer} | {e for _, e, _ in inner}, reverse=True)
    rank = {e: r + 1 for r, e in enumerate(ends)}  # 1-based; an end >= e has a rank <= rank[e]
    tree = [-1] * (len(ends) + 1)
    events = [(s, 0, n) for n, (s, _, _) in enumerate(outer)] + [(s, 1, n) for n, (s, _, _) in enumerate(inner)]
    events.sort()
    out = [False] * len(inner)
    for _, kind, n in events:  # at one start, outer ranges enter before the inner ones are asked about
        if kind == 0:
            _, e, size = outer[n]
            r = rank[e]
            while r <= len(ends):
                tree[r] = max(tree[r], size)
                r += r & -r
        else:
            _, e, size = inner[n]
            r, best = rank[e], -1
            while r > 0:
                best = max(best, tree[r])
                r -= r & -r
            out[n] = best > size
    return out


def _token_counts(an: Analyzed, offsets: Sequence[int]) -> list[int]:
    """For each character offset, how many tokens start before it."""
    counts: list[int] = np.searchsorted(an.tokens.starts, np.asarray(offsets, dtype=np.int64), "left").tolist()
    return counts


def _attribution_test(an: Analyzed) -> Callable[[int, int], bool]:
    """``crosses(x, y)``: does an attribution span of `an` overlap ``[x, y)``? A bisection over the spans sorted
    by start and the running maximum of their ends, so a text with thousands of credit lines costs log(n)."""
    bps = sorted(an.boilerplate, key=lambda bp: bp.start)
    starts = [bp.start for bp in bps]
    reach = list(accumulate((bp.end for bp in bps), max))

    def crosses(x: int, y: int) -> bool:
        k = bisect_left(starts, y)  # spans starting before y
        return k > 0 and reach[k - 1] > x

    return crosses


def spans(
    text: str,
    sents: Sequence[Sentence],
    linked: Sequence[bool],
    verbatim: Sequence[tuple[int, int]],
    space_source: NDArray[np.int32] | None = None,
) -> list[Span]:
    """Cover ``[0, len(text))`` with sorted, disjoint labelled spans.

    Each sentence is attribution, paraphrase when linked, or new; verbatim ranges are painted over all but
    attribution.
    Whitespace takes the label of the text before it (leading whitespace that of the first text), and
    neighbours with one label merge. `space_source` is `whitespace_source` of `text` when the caller has it.
    """
    if not text:
        return []
    codes = np.zeros(len(text), dtype=np.int8)
    for n, s in enumerate(sents):
        start = 0 if n == 0 else s.start
        end = len(text) if n == len(sents) - 1 else sents[n + 1].start
        codes[start:end] = _CODE["attribution"] if s.kind == "attribution" else int(linked[n])
    ranges = np.clip(np.asarray(verbatim, dtype=np.int64).reshape(-1, 2), 0, len(text))
    ranges = ranges[ranges[:, 1] > ranges[:, 0]]
    if len(ranges):
        # characters inside any range, by a running count of opened ranges: O(text + ranges) however they overlap
        depth = np.zeros(len(text) + 1, dtype=np.int64)
        np.add.at(depth, ranges[:, 0], 1)
        np.add.at(depth, ranges[:, 1], -1)
        inside = np.cumsum(depth[:-1]) > 0
        codes[inside & (codes != _CODE["attribution"])] = _CODE["verbatim"]
    src = whitespace_source(text) if space_source is None else space_source
    return _runs_of(codes[src])


def whitespace_source(text: str) -> NDArray[np.int32]:
    """For each character of `text`, the character whose label it takes in `spans`: itself, or for whitespace
    the last non-space character before it (the first one for leading whitespace; itself when all is space)."""
    space = _IS_SPACE[np.minimum(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), 0x3001)]
    if space.all():
        return np.arange(len(text), dtype=np.int32)
    src = np.where(space, 0, np.arange(len(text), dtype=np.int32)).astype(np.int32)
    np.maximum.accumulate(src, out=src)
    first = int(np.argmin(space))
    src[:first] = first
    return src


def _runs_of(codes: NDArray[np.int8]) -> list[Span]:
    cuts = (np.flatnonzero(np.diff(codes)) + 1).tolist()
    starts = [0, *cuts]
    ends = [*cuts, codes.size]
    labels = codes[starts].tolist()
    return [Span(s, e, _LABEL[c]) for s, e, c in zip(starts, ends, labels, strict=True)]


def coverage(spans_: Sequence[Span]) -> tuple[float, int, int]:
    """(share of non-attribution characters that are verbatim or paraphrase, verbatim chars, paraphrase chars)."""
    total = verb = para = 0
    for s in spans_:
        n = s.end - s.start
        if s.label == "attribution":
            continue
        total += n
        if s.label == "verbatim":
            verb += n
        elif s.label == "paraphrase":
            para += n
    return ((verb + para) / total if total else 0.0), verb, para
