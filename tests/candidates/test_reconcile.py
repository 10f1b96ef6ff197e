"""`retold.candidates.reconcile` on a hand-made store: which channels a batch's changes take back or bring back."""

from __future__ import annotations

import numpy as np

from retold.candidates.reconcile import Changes, recheck, revive, term_crossings
from retold.candidates.rewrite import term_vector
from retold.candidates.vectors import DIM, VectorIndex
from retold.config import RetoldConfig, RewriteConfig, VectorConfig
from retold.model import Document
from retold.store.base import DocRecord, MemoryStore, PairRecord

CFG = RetoldConfig(rewrite=RewriteConfig(max_postings=2), vectors=VectorConfig(crowd=1))


def _doc(seq: int, terms: dict[str, float]) -> DocRecord:
    tv = term_vector(terms)
    empty = np.zeros(0, dtype=np.int64)
    vec = np.zeros(DIM, dtype=np.float32)
    vec[0] = 1.0
    return DocRecord(
        seq, Document(f"d{seq}", "x"), "h", False, None, np.zeros(4, np.uint64), empty, tv.keys, tv.weights,
        tv.total, vec,
    )  # fmt: skip


def _key(term: str) -> int:
    return int(term_vector({term: 9.0}).keys[0])


def _store() -> MemoryStore:
    """d0 and d1 share three rare terms of their six, one of them ("common") held by a third document too: two
    shared terms of six are not enough for the rare-term rule."""
    store = MemoryStore()
    shared = {"alpha": 9.0, "beta": 9.0, "common": 9.0}
    own = [{f"{w}{n}": 9.0 for w in ("x", "y", "z")} for n in range(2)]
    store.add(
        [_doc(0, shared | own[0]), _doc(1, shared | own[1]), _doc(2, {"common": 9.0, "zeta": 9.0})],
        [PairRecord(0, 1, "rewrite", ("rewrite", "vector"), 0.9, "{}")],
    )
    return store


def test_term_crossings() -> None:
    terms = np.array([1, 2, 3, 4], dtype=np.int64)
    up, down = term_crossings(terms, np.array([2, 3, 1, 3]), np.array([3, 3, 2, 2]), cap=2)
    assert up.tolist() == [1] and down.tolist() == [4]


def test_a_term_grown_common_takes_back_the_rewrite_channel() -> None:
    store = _store()
    assert recheck(store, Changes(terms_up=np.array([_key("common")])), CFG) == [(0, 1, ("vector",))]


def test_a_crowd_and_a_common_term_in_one_batch_take_back_both_channels() -> None:
    # Both changes touch the same pair: neither may hide the other (the pair is no longer a candidate at all).
    store = _store()
    changes = Changes(terms_up=np.array([_key("common")]), crowded=np.array([0]))
    assert recheck(store, changes, CFG) == [(0, 1, ())]


def test_pairs_that_still_qualify_are_left_alone() -> None:
    store = _store()
    assert recheck(store, Changes(terms_up=np.array([_key("zeta")])), CFG) == []


def test_revive_after_a_deletion_proposes_the_pairs_the_rules_admit_again() -> None:
    store = MemoryStore()
    shared = {"alpha": 9.0, "beta": 9.0, "gamma": 9.0}
    store.add([_doc(0, shared), _doc(1, shared)], [])
    vectors = VectorIndex([0, 1], np.stack([_doc(0, shared).vector, _doc(1, shared).vector]), [1, 1])
    fresh, added = revive(store, Changes(terms_down=np.array([_key("alpha")])), CFG, vectors)
    assert [(p.a, p.b, p.channels) for p in fresh] == [(0, 1, ("rewrite", "vector"))] and added == []
    store.add([], [PairRecord(0, 1, "rewrite", ("rewrite",), 0.9, "{}")])
    fresh, added = revive(store, Changes(uncrowded=np.array([0])), CFG, vectors)
    assert fresh == [] and added == [(0, 1, ("rewrite", "vector"))]
