"""The semantic channel inside `align`: it only raises lexical similarities, only where the gate allows, never
past `link` in document context, and with the channel off everything is exactly lexical. Most tests use a fake
encoder (fixed vectors), so they run without the optional packages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from retold import semantic
from retold.align import aligner
from retold.align.aligner import align
from retold.align.similarity import (
    combine,
    cosine_matrix,
    near_anchor,
    pair_similarity,
    pair_similarity_texts,
    ratio_matrix,
    semantic_gate,
    semantic_raise,
    sentence_features,
    sentence_text,
    similarity_matrix,
    text_features,
)
from retold.config import AlignConfig
from retold.io.readers import read_text_file
from retold.model import Document
from retold.text.analyze import Analyzed, analyze

ON = AlignConfig(semantic="auto")
OFF = AlignConfig(semantic="off")


class FakeEncoder(semantic.Encoder):
    """Every sentence embeds to the same unit vector (cosine 1 between any two), and calls are recorded."""

    def __init__(self) -> None:
        super().__init__(cache_size=0)
        self.seen: list[str] = []

    def encode(self, sentences: Sequence[str]) -> NDArray[np.float32]:
        self.seen += list(sentences)
        out = np.zeros((len(sentences), semantic.DIM), dtype=np.float32)
        out[:, 0] = 1.0
        return out


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the packages are installed (the fake encoder never loads the model)."""
    monkeypatch.setattr(semantic, "available", lambda: True)


def _units(an: Analyzed) -> list[int]:
    return [n for n, s in enumerate(an.sentences) if s.kind != "attribution"]


def _parts(a: Analyzed, b: Analyzed) -> tuple[list, list, list[str], list[str]]:  # type: ignore[type-arg]
    ua, ub = _units(a), _units(b)
    return (
        [sentence_features(a, n) for n in ua],
        [sentence_features(b, n) for n in ub],
        [sentence_text(a, n) for n in ua],
        [sentence_text(b, n) for n in ub],
    )


@pytest.fixture(scope="module")
def seeds(seed_paths: tuple[Path, Path]) -> tuple[Analyzed, Analyzed]:
    return analyze(read_text_file(seed_paths[0])), analyze(read_text_file(seed_paths[1]))


floats = st.floats(0.0, 1.0, allow_nan=False)


@given(st.lists(st.tuples(floats, floats, st.booleans()), min_size=1, max_size=30))
def test_raise_never_lowers_and_leaves_ungated_pairs_alone(rows: list[tuple[float, float, bool]]) -> None:
    lex = np.array([[r[0] for r in rows]])
    emb = np.array([[r[1] * 2 - 1 for r in rows]])  # cosines in [-1, 1]
    gate = np.array([[r[2] for r in rows]])
    out = semantic_raise(lex, emb, gate, ON)
    assert np.all(out >= lex) and np.all(out <= 1.0)
    assert np.array_equal(out[~gate], lex[~gate])


def test_gate_needs_lexical_evidence_and_no_copy() -> None:
    lex = np.array([[0.1, 0.3, 0.95]])
    ratio = np.array([[0.3, 0.5, 0.95]])
    assert semantic_gate(lex, ratio, ON, ON.semantic_floor).tolist() == [[False, True, False]]
    assert semantic_gate(lex, ratio, ON).tolist() == [[True, True, False]]  # a lone pair: no floor


def test_near_anchor_window() -> None:
    lex = np.zeros((8, 8))
    lex[2, 5] = 0.6  # one anchor
    near = near_anchor(lex, np.zeros((8, 8)), [False] * 8, [False] * 8, ON, 3)
    assert near[0, 2] and near[5, 8 - 1] and near[2, 5]
    assert not near[6, 5] and not near[2, 1]
    short = [n == 2 for n in range(8)]
    assert not near_anchor(lex, np.zeros((8, 8)), short, [False] * 8, ON, 3).any()  # a short anchor is none


def test_off_is_exactly_lexical(seeds: tuple[Analyzed, Analyzed], installed: None) -> None:
    fa, fb, ta, tb = _parts(*seeds)
    fake = FakeEncoder()
    sim, ratio = similarity_matrix(fa, fb, ta, tb, OFF, encoder=fake)
    assert np.array_equal(sim, combine(cosine_matrix(fa, fb), ratio_matrix(fa, fb), OFF.cos_weight))
    assert fake.seen == []


def test_off_alignment_equals_the_alignment_without_the_packages(
    seeds: tuple[Analyzed, Analyzed], monkeypatch: pytest.MonkeyPatch
) -> None:
    off = align(*seeds, OFF)
    monkeypatch.setattr(semantic, "available", lambda: False)
    assert align(*seeds, AlignConfig()) == off


def test_off_pair_similarity_is_the_lexical_one() -> None:
    s1, s2 = "Shares of the bank fell 5 percent on Monday.", "The bank's shares dropped 5% on Monday."
    lexical = pair_similarity(
        text_features(analyze(Document("s1", s1))), text_features(analyze(Document("s2", s2))), OFF.cos_weight
    )
    assert pair_similarity_texts(s1, s2, OFF) == lexical


def test_document_context_caps_below_link_and_embeds_only_gated_sentences(
    seeds: tuple[Analyzed, Analyzed], installed: None
) -> None:
    fa, fb, ta, tb = _parts(*seeds)
    lex, ratio = similarity_matrix(fa, fb, ta, tb, OFF)
    short_a = [f.content_tokens < ON.min_tokens for f in fa]
    short_b = [f.content_tokens < ON.min_tokens for f in fb]
    fake = FakeEncoder()
    sim, ratio_on = similarity_matrix(fa, fb, ta, tb, ON, context=(short_a, short_b, 3), encoder=fake)
    assert np.array_equal(ratio, ratio_on)
    raised = sim > lex
    assert raised.any()  # cosine 1 everywhere: every gated pair goes up ...
    assert np.all(sim[raised] < ON.link)  # ... but meaning alone never makes a stand-alone link
    assert np.all(lex[raised] >= ON.semantic_floor) and np.all(ratio[raised] < ON.verbatim)
    assert np.array_equal(sim[~raised], lex[~raised])
    gated_a = {ta[i] for i in np.flatnonzero(raised.any(axis=1))}
    assert set(fake.seen) <= set(ta) | set(tb) and gated_a <= set(fake.seen)
    assert len(fake.seen) < len(ta) + len(tb)  # sentences in no gated pair are not embedded


def test_no_semantic_links_between_texts_without_a_lexical_anchor(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two independently written texts on one topic: even a perfect cosine adds nothing without reused text."""
    a = analyze(Document("a", "The council approved the new budget for schools. Teachers welcomed the money."))
    b = analyze(Document("b", "Schools get more money under the budget passed by councillors. Staff were pleased."))
    fake = FakeEncoder()
    monkeypatch.setattr(semantic, "shared_encoder", lambda: fake)
    assert align(a, b, ON) == align(a, b, OFF)
    assert fake.seen == []


@pytest.mark.skipif(not semantic.available(), reason="semantic packages not installed")
def test_seed_pair_with_the_real_model(seeds: tuple[Analyzed, Analyzed]) -> None:
    """With the model the seed pair keeps its lexical passages and links at least as many sentences."""
    on, off = aligner.align(*seeds, AlignConfig(semantic="on")), aligner.align(*seeds, OFF)
    verbatim_off = {(p.a_start, p.a_end) for p in off.passages if p.label == "verbatim"}
    verbatim_on = {(p.a_start, p.a_end) for p in on.passages if p.label == "verbatim"}
    assert verbatim_off == verbatim_on  # verbatim detection stays lexical

    def covered(spans: tuple) -> int:  # type: ignore[type-arg]
        return sum(s.end - s.start for s in spans if s.label in ("verbatim", "paraphrase"))

    assert covered(on.spans_a) >= covered(off.spans_a)
