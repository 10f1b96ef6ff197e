"""Per-document alignment inputs (`retold.align.document`): the same numbers as the per-pair functions, cached
per text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retold.align import document
from retold.align.document import cosine, prepare, ratio
from retold.align.passages import _average, spans, whitespace_source
from retold.align.similarity import cosine_matrix, ratio_matrix, sentence_features, sentence_text
from retold.model import Document
from retold.text.analyze import Analyzed, analyze

A = (
    "KABUL (Reuters) - The Taliban said on Monday they had taken the Panjshir valley. "
    "The National Resistance Front denied the claim.\n\nFighting went on in the north. Officials said little."
)
B = (
    "The Taliban claimed on Monday to have captured the Panjshir valley, the last holdout. "
    "The resistance front disputed the assertion.\n\n  Fighting went on in the north.\n\nReporting by Reuters"
)


def _units(text: str) -> tuple[Analyzed, list[int]]:
    an = analyze(Document("x", text))
    return an, [n for n, s in enumerate(an.sentences) if s.kind != "attribution"]


def test_inputs_match_sentence_functions() -> None:
    (a, ua), (b, ub) = _units(A), _units(B)
    da, db = document.compute(a), document.compute(b)
    fa = [sentence_features(a, n) for n in ua]
    fb = [sentence_features(b, n) for n in ub]
    assert list(da.units) == ua
    assert list(da.strings) == [f.string for f in fa]
    assert list(da.texts) == [sentence_text(a, n) for n in ua]
    assert da.content.tolist() == [f.content_tokens for f in fa]
    np.testing.assert_allclose(cosine(da, db), cosine_matrix(fa, fb), rtol=0, atol=1e-12)
    assert np.array_equal(ratio(da, db), ratio_matrix(fa, fb))
    assert cosine(da, da).diagonal()[da.content > 0] == pytest.approx(1.0)


def test_empty_and_disjoint_documents() -> None:
    da, db = prepare(analyze(Document("e", "(Reuters)")), analyze(Document("x", "Completely unrelated words here.")))
    _, dc = prepare(analyze(Document("e", "(Reuters)")), analyze(Document("y", "Zebras graze quietly beside rivers.")))
    assert cosine(da, db).shape == (len(da.units), len(db.units))
    assert ratio(da, db).shape == (len(da.units), len(db.units))
    assert not cosine(db, dc).any()


def test_cache_is_keyed_by_text() -> None:
    a1 = analyze(Document("one", A))
    a2 = analyze(Document("two", A))  # another object (as after pickling), same text
    b = analyze(Document("one", B))
    p1, pb = prepare(a1, b)
    p2, _ = prepare(a2, b)
    assert p1 is p2
    assert pb is not p1


def test_plain_spans_and_whitespace_source() -> None:
    an = analyze(Document("x", B))
    d, _ = prepare(an, an)
    none = [False] * len(an.sentences)
    assert list(d.plain_spans) == spans(an.doc.text, an.sentences, none, [])
    linked = [n % 2 == 0 for n in range(len(an.sentences))]
    got = spans(an.doc.text, an.sentences, linked, [(5, 40)], whitespace_source(an.doc.text))
    assert got == spans(an.doc.text, an.sentences, linked, [(5, 40)])
    assert whitespace_source("   ").tolist() == [0, 1, 2]


@given(
    st.lists(
        st.tuples(st.floats(0, 1, allow_nan=False), st.integers(1, 10_000)),
        min_size=1,
        max_size=12,
    )
)
def test_average_is_numpys(items: list[tuple[float, int]]) -> None:
    values, weights = [v for v, _ in items], [w for _, w in items]
    assert _average(values, weights) == float(np.average(values, weights=weights))


def test_term_table_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = analyze(Document("x", A)), analyze(Document("y", B))
    before, _ = prepare(a, b)
    monkeypatch.setattr(document, "MAX_TERMS", 0)
    da, db = prepare(a, b)  # table and cache start afresh before the pair, never between its documents
    assert da is not before
    assert np.array_equal(cosine(da, db), cosine(*prepare(a, b)))
    np.testing.assert_allclose(cosine(da, db), cosine(document.compute(a), document.compute(b)), rtol=0, atol=0)
