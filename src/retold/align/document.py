"""What `align` needs of one document, computed once per document and process rather than once per pair.

A document takes part in many candidate pairs (in a scan of 21k news articles about twice on average; a wire
story picked up by many outlets far more often), and rebuilding its sentence features and each pair's term
vocabulary in Python took about two thirds of the CPU of aligning a pair. `prepare` keeps the last `CACHE_SIZE`
documents' inputs in a per-process LRU keyed by the text: the inputs depend only on the text, are never pickled
(workers get `Analyzed` objects and fill their own cache), and their term ids are valid only in the process
that assigned them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from retold.align.passages import spans, whitespace_source
from retold.align.similarity import sentence_features, sentence_text
from retold.model import Sentence, Span
from retold.text.analyze import Analyzed

if TYPE_CHECKING:
    from scipy import sparse

CACHE_SIZE = 1024
"""Documents whose inputs one process keeps (a few tens of KiB each): more than a batch's worth of pairs touch."""

MAX_TERMS = 2_000_000
"""When the term table grows past this (names and numbers keep coming in a long-lived index), it starts afresh."""

DENSE_CELLS = 1 << 22
"""`cosine` multiplies dense (sentences x shared terms) blocks up to this many cells (32 MiB of float64) and
sparse ones beyond. The benchmark pairs (PAN-13, Clough, news-rewrites, judged pairs) reach 0.45M cells."""

_TERM_IDS: dict[str, int] = {}
"""Stem -> a small integer, for this process only: per-document term lists become sortable integer arrays."""


@dataclass(frozen=True, slots=True, eq=False)
class AlignInputs:
    """One document's content sentences as `align` sees them.

    `units` are the indices of the content sentences (attribution left out); per unit: `strings` (normalised
    tokens joined by spaces, for the character ratio), `texts` (`sentence_text`, for the embedder), `nonempty`
    and `content` (content-token count). The weighted stems are a sparse matrix over the document's sorted term
    ids `terms`: entry k is ``(rows[k], cols[k]) = weights[k]``, each row L2-normalised as `cosine_matrix` does.
    `space_source` is `whitespace_source` of the text (for `spans`); `plain_spans` are the spans of the document
    when nothing in it is reused (what most candidate pairs end with). A long text gives only its first content
    sentences (`compute`'s `max_units`); `end_token` is the token index where they end (every token when all
    are in).
    """

    units: tuple[int, ...]
    strings: tuple[str, ...]
    texts: tuple[str, ...]
    nonempty: NDArray[np.bool_]
    content: NDArray[np.int64]
    terms: NDArray[np.int64]
    rows: NDArray[np.intp]
    cols: NDArray[np.intp]
    weights: NDArray[np.float64]
    space_source: NDArray[np.int32]
    plain_spans: tuple[Span, ...]
    end_token: int


_CACHE: OrderedDict[str, tuple[tuple[Sentence, ...], int | None, AlignInputs]] = OrderedDict()
_LOCK = threading.Lock()


def prepare(a: Analyzed, b: Analyzed, max_units: int | None = None) -> tuple[AlignInputs, AlignInputs]:
    """`AlignInputs` of both documents of a pair (of their first `max_units` content sentences when given), from
    the per-process cache when a text was prepared recently.

    Both come from one term table (it is only ever started afresh before a pair, never between its documents).
    """
    with _LOCK:
        if len(_TERM_IDS) > MAX_TERMS:
            _TERM_IDS.clear()
            _CACHE.clear()
        return _cached(a, max_units), _cached(b, max_units)


def _cached(an: Analyzed, max_units: int | None) -> AlignInputs:
    key = an.doc.text
    hit = _CACHE.get(key)
    if hit is not None and hit[1] == max_units and (hit[0] is an.sentences or hit[0] == an.sentences):
        _CACHE.move_to_end(key)
        return hit[2]
    inputs = compute(an, max_units)
    _CACHE[key] = (an.sentences, max_units, inputs)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return inputs


def compute(an: Analyzed, max_units: int | None = None) -> AlignInputs:
    """`AlignInputs` of `an` (of its first `max_units` content sentences when given), computed afresh (term ids
    from this process's table). The features of sentences past `max_units` are never computed, so the cost of
    a very long text beyond them is that of its spans only."""
    units = tuple(n for n, s in enumerate(an.sentences) if s.kind != "attribution")
    end_token = len(an.tokens)
    if max_units is not None and len(units) > max_units:
        units = units[:max_units]
        end_token = an.sentences[units[-1]].tok_end
    feats = [sentence_features(an, n) for n in units]
    texts = tuple(sentence_text(an, n) for n in units)
    rows: list[int] = []
    ids: list[int] = []
    vals: list[float] = []
    for r, f in enumerate(feats):
        for term, value in f.terms.items():
            rows.append(r)
            ids.append(_TERM_IDS.setdefault(term, len(_TERM_IDS)))
            vals.append(value)
    src = whitespace_source(an.doc.text)
    row = np.asarray(rows, dtype=np.intp)
    w = np.asarray(vals, dtype=np.float64)
    norms = np.sqrt(np.bincount(row, weights=w * w, minlength=len(units)))
    terms, cols = np.unique(np.asarray(ids, dtype=np.int64), return_inverse=True)
    return AlignInputs(
        units=units,
        strings=tuple(f.string for f in feats),
        texts=texts,
        nonempty=np.array([bool(t.strip()) for t in texts], dtype=bool),
        content=np.array([f.content_tokens for f in feats], dtype=np.int64),
        terms=terms,
        rows=row,
        cols=cols.astype(np.intp).reshape(-1),
        weights=w / norms[row],
        space_source=src,
        plain_spans=tuple(spans(an.doc.text, an.sentences, [False] * len(an.sentences), [], src)),
        end_token=end_token,
    )


def cosine(a: AlignInputs, b: AlignInputs) -> NDArray[np.float64]:
    """`cosine_matrix` of the two documents' content sentences, over the terms they share only."""
    if not len(a.terms) or not len(b.terms):
        return np.zeros((len(a.units), len(b.units)))
    pos = np.minimum(np.searchsorted(b.terms, a.terms), len(b.terms) - 1)
    ia = np.flatnonzero(b.terms[pos] == a.terms)
    ib = pos[ia]
    if len(ia) == 0:
        return np.zeros((len(a.units), len(b.units)))
    if (len(a.units) + len(b.units)) * len(ia) <= DENSE_CELLS:
        return np.clip(_columns(a, ia) @ _columns(b, ib).T, 0.0, 1.0)
    # Long texts share thousands of terms: the dense blocks would grow as sentences x terms, the sparse product
    # only as the sentence pairs that share a term (the same sums, up to the order of float additions).
    prod: NDArray[np.float64] = (_sparse_columns(a, ia) @ _sparse_columns(b, ib).T).toarray()
    return np.clip(prod, 0.0, 1.0, out=prod)


def _columns(d: AlignInputs, idx: NDArray[np.intp]) -> NDArray[np.float64]:
    """The dense (units x len(idx)) block of `d`'s term matrix for its terms ``d.terms[idx]``."""
    pos = np.full(len(d.terms), -1, dtype=np.intp)
    pos[idx] = np.arange(len(idx))
    col = pos[d.cols]
    keep = col >= 0
    out = np.zeros((len(d.units), len(idx)))
    out[d.rows[keep], col[keep]] = d.weights[keep]
    return out


def _sparse_columns(d: AlignInputs, idx: NDArray[np.intp]) -> sparse.csr_matrix:
    """`_columns` as a sparse matrix."""
    from scipy import sparse  # only long texts need it: no import cost for every worker

    pos = np.full(len(d.terms), -1, dtype=np.intp)
    pos[idx] = np.arange(len(idx))
    col = pos[d.cols]
    keep = col >= 0
    return sparse.csr_matrix((d.weights[keep], (d.rows[keep], col[keep])), shape=(len(d.units), len(idx)))


def ratio(a: AlignInputs, b: AlignInputs) -> NDArray[np.float64]:
    """`ratio_matrix` of the two documents' content sentences."""
    if not a.units or not b.units:
        return np.zeros((len(a.units), len(b.units)))
    m = process.cdist(a.strings, b.strings, scorer=fuzz.ratio, dtype=np.float32, workers=1)
    out: NDArray[np.float64] = np.asarray(m, dtype=np.float64)
    out /= 100.0  # in place: one (n, m) float64 array fewer at the sentence cap
    return out
