"""The vector channel: exact near pairs and neighbour counts (checked against a brute-force statement, and for the
same answer however a stream is cut into batches), the safetensors reader, and the article vectors of the real
model."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold import semantic
from retold.candidates import vectors as vc
from retold.config import RetoldConfig, VectorConfig
from retold.model import Document
from retold.text.analyze import analyze


def _brute_near(vecs: np.ndarray, t: float) -> set[tuple[int, int]]:
    """Every pair (a < b) whose cosine reaches t, as stated."""
    return {(a, b) for b in range(len(vecs)) for a in range(b) if float(vc.cosines(vecs[[b]], vecs[[a]])[0]) >= t}


def _stream(vecs: np.ndarray, cuts: list[int], t: float) -> tuple[set[tuple[int, int]], np.ndarray]:
    """Near pairs and neighbour counts, found and added batch by batch (`cuts` are the batch ends), as
    `index_documents` does."""
    idx = vc.VectorIndex()
    found: set[tuple[int, int]] = set()
    start = 0
    for end in [*cuts, len(vecs)]:
        if end <= start:
            continue
        seqs = list(range(start, end))
        a, b, _ = idx.near_pairs(seqs, vecs[start:end], min_cosine=t)
        found |= set(zip(a.tolist(), b.tolist(), strict=True))
        idx.add(
            seqs,
            vecs[start:end],
            np.bincount(b - start, minlength=end - start) + np.bincount(a[a >= start] - start, minlength=end - start),
        )
        old = a[a < start]
        if old.size:
            idx.bump(old, np.ones(old.size, dtype=np.int64))
        start = end
    counts = idx.counts(list(range(len(vecs)))) if len(vecs) else np.zeros(0, dtype=np.int64)
    return found, counts


@st.composite
def _corpus(draw: st.DrawFn) -> tuple[np.ndarray, list[int]]:
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = rng.standard_normal((max(1, n // 4), vc.DIM)).astype(np.float32)
    # clusters of near copies (some exact, so ties occur) and a few empty documents
    vecs = base[rng.integers(0, len(base), n)] + rng.choice([0.0, 0.3, 1.0], (n, 1)) * rng.standard_normal(
        (n, vc.DIM)
    ).astype(np.float32)
    vecs[rng.random(n) < 0.1] = 0.0
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = np.where(norms > 0, vecs / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)))
    return vecs, cuts


@settings(max_examples=60, deadline=None)
@given(_corpus(), st.sampled_from([0.5, 0.8, 0.95]))
def test_near_pairs_and_counts_are_the_stated_rule_whatever_the_batches(
    data: tuple[np.ndarray, list[int]], t: float
) -> None:
    vecs, cuts = data
    want = _brute_near(vecs, t)
    counts = np.zeros(len(vecs), dtype=np.int64)
    for a, b in want:
        counts[a] += 1
        counts[b] += 1
    for c in (cuts, []):
        found, got = _stream(vecs, c, t)
        assert found == want
        assert got.tolist() == counts.tolist()
    idx = vc.VectorIndex(list(range(len(vecs))), vecs)
    assert idx.full_counts(t).tolist() == counts.tolist()
    for x in range(len(vecs)):
        near, _ = idx.neighbours(x, t)
        assert set(near.tolist()) == {b if a == x else a for a, b in want if x in (a, b)}


def test_cosines_and_exclusion() -> None:
    v = np.eye(vc.DIM, dtype=np.float32)[:3]
    v[2] = (v[0] * 0.99 + v[1] * 0.14) / np.linalg.norm([0.99, 0.14])
    idx = vc.VectorIndex([0, 1], v[:2])
    a, b, cos = idx.near_pairs([2], v[2:], min_cosine=0.9)
    assert (a.tolist(), b.tolist()) == ([0], [2]) and cos[0] == pytest.approx(0.99 / np.hypot(0.99, 0.14))
    assert idx.near_pairs([2], v[2:], min_cosine=0.9, exclude=frozenset({0}))[0].size == 0
    assert idx.near_pairs([2], np.zeros((1, vc.DIM), np.float32), min_cosine=0.9)[0].size == 0  # empty document


def test_remove_growth_and_counts() -> None:
    rng = np.random.default_rng(1)
    v = rng.standard_normal((3000, vc.DIM)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    idx = vc.VectorIndex()
    for s in range(0, 3000, 700):  # grows past its first capacity
        idx.add(list(range(s, min(3000, s + 700))), v[s : s + 700], [s % 5] * len(range(s, min(3000, s + 700))))
    assert len(idx) == 3000 and idx.counts([0, 700, 2999]).tolist() == [0, 0, 2100 % 5]
    q = v[[10]]
    assert idx.near_pairs([3000], q, min_cosine=0.99)[0].tolist() == [10]
    idx.bump([10, 10, 12], [1, 1, -1])
    assert idx.counts([10, 12]).tolist() == [2, -1]
    idx.remove([10, 11])
    assert len(idx) == 2998 and idx.near_pairs([3000], q, min_cosine=0.99)[0].size == 0
    assert idx.has([9, 10, 12, 5000]).tolist() == [True, False, True, False]
    with pytest.raises(KeyError):
        idx.counts([10])
    with pytest.raises(ValueError, match="vectors"):
        vc.VectorIndex([1, 2], v[:1])


def _safetensors(path: Path, arr: np.ndarray, name: str = vc.TENSOR, dtype: str = "F32") -> Path:
    data = arr.astype("<f4").tobytes()
    header = json.dumps({name: {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [0, len(data)]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def test_read_tensor_checks_what_it_reads(tmp_path: Path) -> None:
    import hashlib

    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    p = _safetensors(tmp_path / "m.safetensors", arr)
    digest = hashlib.sha256(arr.astype("<f4").tobytes()).hexdigest()
    assert np.array_equal(vc.read_tensor(p, expected=digest), arr)
    with pytest.raises(semantic.SemanticUnavailable, match="differs from the pinned one"):
        vc.read_tensor(p)
    with pytest.raises(semantic.SemanticUnavailable, match="cannot read tensor"):
        vc.read_tensor(p, name="other", expected=None)
    with pytest.raises(semantic.SemanticUnavailable, match="not float32"):
        vc.read_tensor(_safetensors(tmp_path / "h.safetensors", arr, dtype="F16"), expected=None)
    with pytest.raises(semantic.SemanticUnavailable, match="cannot read tensor"):
        vc.read_tensor(tmp_path / "missing.safetensors")


needs_model = pytest.mark.skipif(not semantic.available(), reason="semantic channel not installed")


@needs_model
def test_seed_rewrite_is_a_near_vector_and_other_news_is_not(seed_paths: tuple[Path, Path], shared_data: Path) -> None:
    import gzip

    wv = vc.WordVectors()
    a, b = (wv.document(analyze(Document(p.name, p.read_text(encoding="utf-8")))) for p in seed_paths)
    assert float(np.linalg.norm(a)) == pytest.approx(1.0, abs=1e-5)
    assert float(a @ b) >= VectorConfig().min_cosine  # 000 rewords 004: their vectors stay close
    with gzip.open(shared_data / "bbc/docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        others = [json.loads(next(fh))["body"] for _ in range(50)]
    sims = [float(a @ wv.document(analyze(Document("x", t)))) for t in others]
    assert max(sims) < VectorConfig().min_cosine  # no other news article comes that close
    assert not wv.document(analyze(Document("e", "the and of"))).any()  # stopwords only: no vector


@needs_model
@pytest.mark.parametrize("mode", ["on", "off"])
def test_scan_runs_the_channel_with_the_semantic_one(shared_data: Path, mode: str) -> None:
    from retold.config import AlignConfig, RetoldConfig
    from retold.pipeline import scan
    from tests.store.corpus import records

    docs = [Document(r["id"], r["text"]) for r in records(shared_data, n_bbc=20)]
    results, stats = scan(docs, RetoldConfig(align=AlignConfig(semantic=mode)))  # type: ignore[arg-type]
    seed = next(r for r in results if (r.a.id, r.b.id) == ("seed-000", "seed-004"))
    if mode == "on":
        assert "vector" in seed.channels and stats.candidates["vector"] >= 1
    else:
        assert stats.candidates["vector"] == 0 and all("vector" not in r.channels for r in results)
    assert seed.verdict == "rewrite"


def test_query_reads_the_stored_vectors_once_per_state_of_the_store() -> None:
    from retold.pipeline import _stored_vectors
    from retold.store.base import DocRecord, MemoryStore

    def record(seq: int) -> DocRecord:
        vec = np.zeros(vc.DIM, dtype=np.float32)
        vec[seq % vc.DIM] = 1.0
        empty = np.zeros(0, dtype=np.int64)
        return DocRecord(
            seq, Document(f"d{seq}", "text"), "h", False, None, np.zeros(4, np.uint64), empty, empty,
            np.zeros(0, np.float64), 0.0, vec,
        )  # fmt: skip

    cfg = RetoldConfig()
    store = MemoryStore()
    with store.transaction():
        store.add([record(0), record(1)], [])
    first = _stored_vectors(store, cfg)
    assert _stored_vectors(store, cfg) is first and len(first) == 2  # an open index is not reread per query
    with store.transaction():
        store.add([record(2)], [])
    assert len(_stored_vectors(store, cfg)) == 3  # a new document: read again
    with store.transaction():
        store.delete([0])
        store.add([record(3)], [])
    assert len(_stored_vectors(store, cfg)) == 3 and _stored_vectors(store, cfg) is not first
