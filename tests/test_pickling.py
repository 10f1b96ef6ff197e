"""`retold._pickling.by_fields`: what crosses process boundaries pickles as a constructor call and comes back equal."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

import numpy as np
import pytest

from retold._pickling import by_fields
from retold.config import RetoldConfig
from retold.model import Document, Sentence
from retold.pipeline import featurize


def test_features_of_a_document_round_trip() -> None:
    text = "Zorvath met Quellan in Ostrava. They signed the 2031 accord.\n\n(Reuters)"
    f = featurize(Document("d1", text), RetoldConfig())
    back = pickle.loads(pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.analyzed.doc == f.analyzed.doc and back.analyzed.sentences == f.analyzed.sentences
    assert back.analyzed.tokens.norm == f.analyzed.tokens.norm and back.analyzed.stems == f.analyzed.stems
    assert np.array_equal(back.analyzed.tokens.starts, f.analyzed.tokens.starts)
    assert np.array_equal(back.shingles, f.shingles) and np.array_equal(back.terms.keys, f.terms.keys)
    assert (back.fingerprint, back.credited, back.terms.total) == (f.fingerprint, f.credited, f.terms.total)
    # the reduced form is a call of the class with the field values, not the dataclass getstate
    assert Sentence(1, 2, 0, 1, 0, "text").__reduce__() == (Sentence, (1, 2, 0, 1, 0, "text"))


def test_single_field_class() -> None:
    @by_fields
    @dataclass(frozen=True, slots=True)
    class One:
        x: int

    assert One(3).__reduce__() == (One, (3,))


def test_refuses_a_class_whose_slots_are_not_its_init_arguments() -> None:
    with pytest.raises(TypeError, match="not the __init__ arguments"):

        @by_fields
        @dataclass(frozen=True, slots=True)
        class Derived:
            x: int
            y: int = field(init=False, default=0)
