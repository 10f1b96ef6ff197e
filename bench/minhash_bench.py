"""MinHash + LSH near-duplicate benchmark: retold vs datasketch vs rensa, same process, same shingles.

What is timed, per system, on one corpus (`bench/corpus.py`) and one shared tokenisation (``text.lower().split()``,
the same token lists for everyone; tokenising is timed once and left out of every system's numbers):

* **shingle** - word 5-grams. datasketch / rensa: Python strings, built the usual way
  (``map(" ".join, zip(t, t[1:], ...))``, the faster of the two common idioms; ``--shingler slice`` uses
  ``" ".join(t[i:i+5])``); datasketch also needs them as UTF-8 bytes, and that encoding is counted here.
  retold: `hash_token_lists` (xxh64 of a batch's NUL-joined tokens in one compiled pass, the values of
  `hash_tokens`), then `ngram_hashes_batch` - no shingle strings.
* **sign** - 128-permutation MinHash signatures. datasketch: ``MinHash.bulk``; rensa:
  ``RMinHash.from_token_sets``; retold: `signatures_flat`.
* **lsh** - index build + query of every document, to candidate pairs ``(i, j)``. datasketch:
  ``MinHashLSH(threshold, num_perm)`` (its own (b, r) choice), ``insertion_session`` + ``query``; rensa:
  ``RMinHashLSH(threshold, num_perm, num_bands=8)`` (8 x 16), ``insert_many`` + ``query_all``; retold:
  `band_keys` + `bucket_pairs` at its own operating point (below).
* **end to end** = shingle + sign + lsh, from token lists to candidate pairs (wall clock of the whole run).

retold runs its numba kernels (`retold.sketch._kernels`) where numba is installed; their one-time start-up (numba's
import and loading the cached machine code, or compiling it on a cold cache) happens before the timed runs, as the
anchors' imports do, and is reported separately (``retold_startup`` in the JSON). ``RETOLD_NO_NUMBA=1`` times the
numpy reference path instead.

Documents stream through in batches (``--batch``), so no system holds every document's shingles at once.

Accuracy: planted near-duplicates (5-15 % random word edits; 5-gram Jaccard ~0.26-0.69) are the positives. For
each system: recall and precision of the raw LSH candidates, and after a verification step that is the same for
all systems: the exact Jaccard of the two documents' word 5-gram sets (retold's 64-bit shingle hashes, sorted and
deduplicated, intersected with ``np.intersect1d``; computed only for candidate pairs) must be
``>= --verify-threshold`` (0.2). Verification is timed separately and is not part of "end to end".

retold's operating point: at the anchors' threshold (0.8) LSH cannot see these pairs (8 x 16 bands catch a pair of
Jaccard 0.45 with probability 2e-5, one of 0.68 with 0.017). retold bands for Jaccard ~0.2 instead:
``optimal_params(--retold-lsh-threshold=0.2, 128, exact=True)`` = 64 bands x 2 rows, which catches a pair of
Jaccard 0.26 with probability 0.989 and one of 0.3 with 0.998 (expected recall over the planted mix ~0.9998),
while unrelated news-length documents (Jaccard ~0) almost never share a band; the exact-Jaccard check then removes
the few chance candidates.

Memory: peak RSS of each system's run, as Linux ``VmHWM`` after resetting it (``/proc/self/clear_refs``, after
``malloc_trim``) at the start of the run, minus the RSS at the start (the token lists every system shares). Where
the reset is not possible it falls back to ``resource.getrusage`` (process-lifetime peak; then only the first run
is meaningful) and says so in the JSON. Timing: wall clock per phase and end to end, plus process CPU time (the
"docs/CPU-s" columns), which is steadier than wall clock on a machine shared with other jobs.

Usage::

    .venv/bin/python bench/minhash_bench.py --docs 20000 --json bench/results/minhash-20k.json
    .venv/bin/python bench/minhash_bench.py --docs 100000 --repeat 2 --json bench/results/minhash-100k.json

Needs ``bench/requirements.txt`` (datasketch, rensa) for the anchors; a missing one is skipped with a note.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import gc
import importlib.metadata
import io
import json
import os
import platform
import pstats
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import Corpus, make_corpus  # noqa: E402

from retold.sketch.hashing import _load_kernels, hash_token_lists, ngram_hashes_batch  # noqa: E402
from retold.sketch.lsh import band_keys, bucket_pairs, collision_probability, optimal_params  # noqa: E402
from retold.sketch.minhash import MinHashParams, signatures_flat  # noqa: E402

PHASES = ("shingle", "sign", "lsh")


# --------------------------------------------------------------------------------------------------------------
# Measurement helpers


def _status_kb(name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakRss:
    """Peak resident set size over a block, via VmHWM reset (Linux) or getrusage (fallback)."""

    def __enter__(self) -> PeakRss:
        gc.collect()
        _malloc_trim()  # hand freed heap back, so the next run's growth shows in RSS
        self.reset = False
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")  # resets VmHWM to the current RSS
            self.reset = True
        except OSError:
            pass
        self.base_kb = _status_kb("VmRSS") or 0
        return self

    def __exit__(self, *exc: object) -> None:
        hwm = _status_kb("VmHWM") if self.reset else None
        if hwm is None:
            hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        self.peak_kb = hwm

    def report(self) -> dict[str, Any]:
        return {
            "method": "VmHWM after clear_refs reset" if self.reset else "getrusage ru_maxrss (process lifetime)",
            "base_mb": round(self.base_kb / 1024, 1),
            "peak_mb": round(self.peak_kb / 1024, 1),
            "peak_over_base_mb": round((self.peak_kb - self.base_kb) / 1024, 1),
        }


@dataclass
class Timers:
    """Wall and CPU seconds per phase, accumulated over batches."""

    wall: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def add(self, phase: str, wall: float, cpu: float) -> None:
        self.wall[phase] += wall
        self.cpu[phase] += cpu


class Phase:
    """``with Phase(timers, "sign"):`` adds the block's wall and thread CPU time to a phase."""

    def __init__(self, timers: Timers, name: str) -> None:
        self.timers = timers
        self.name = name

    def __enter__(self) -> None:
        self.w = time.perf_counter()
        self.c = time.thread_time()

    def __exit__(self, *exc: object) -> None:
        self.timers.add(self.name, time.perf_counter() - self.w, time.thread_time() - self.c)


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(start + size, n)


@dataclass
class RunResult:
    name: str
    n_docs: int
    pairs: NDArray[np.int64]
    timers: Timers
    wall_total: float
    cpu_total: float
    rss: dict[str, Any]
    info: dict[str, Any]


def _pairs_from_neighbours(neigh: Sequence[Sequence[int]]) -> NDArray[np.int64]:
    out = {(i, j) if i < j else (j, i) for i, ns in enumerate(neigh) for j in ns if j != i}
    arr = np.array(sorted(out), dtype=np.int64)
    return arr.reshape(-1, 2)


# --------------------------------------------------------------------------------------------------------------
# Shingling for the anchors (plain Python, as they are usually fed)


def shingles_zip(tokens: list[str], n: int) -> list[str]:
    """Word n-gram strings via zip of shifted lists; a document shorter than n gives its whole text."""
    if len(tokens) < n:
        return [" ".join(tokens)] if tokens else []
    return list(map(" ".join, zip(*[tokens[k:] for k in range(n)], strict=False)))


def shingles_slice(tokens: list[str], n: int) -> list[str]:
    """Word n-gram strings via slicing; a document shorter than n gives its whole text."""
    if len(tokens) < n:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


SHINGLERS: dict[str, Callable[[list[str], int], list[str]]] = {"zip": shingles_zip, "slice": shingles_slice}


# --------------------------------------------------------------------------------------------------------------
# Systems


def run_retold(toks: list[list[str]], args: argparse.Namespace) -> RunResult:
    """retold: compiled token hashing + n-gram hashes + MinHash over batches, then band keys + bucketing."""
    n = len(toks)
    params = MinHashParams(num_perm=args.perms)
    bands, rows = retold_banding(args)
    sigs = np.empty((n, args.perms), dtype=np.uint64)
    timers = Timers()

    def one_batch(span: tuple[int, int]) -> Timers:
        b0, b1 = span
        local = Timers()
        batch = toks[b0:b1]
        with Phase(local, "shingle"):
            th, lengths = hash_token_lists(batch)
            sh, counts = ngram_hashes_batch(th, lengths, args.shingle)
        with Phase(local, "sign"):
            sigs[b0:b1] = signatures_flat(sh, counts, params)
        return local

    with PeakRss() as rss:
        w0, c0 = time.perf_counter(), time.process_time()
        spans = list(_batches(n, args.batch))
        if args.workers > 1:
            with ThreadPoolExecutor(args.workers) as pool:
                parts = list(pool.map(one_batch, spans))
        else:
            parts = [one_batch(s) for s in spans]
        for p in parts:
            for ph in ("shingle", "sign"):
                timers.add(ph, p.wall[ph], p.cpu[ph])
        with Phase(timers, "lsh"):
            pairs = bucket_pairs(band_keys(sigs, bands, rows))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    info = {
        "bands": bands,
        "rows": rows,
        "lsh_threshold": args.retold_lsh_threshold,
        "p_collide_at_0.26": round(collision_probability(0.26, bands, rows), 4),
        "workers": args.workers,
        "batch": args.batch,
        "minhash_seed": params.seed,
        "kernels": "numpy" if _load_kernels() is None else "numba",
    }
    return RunResult("retold", n, pairs, timers, wall, cpu, rss.report(), info)


def retold_startup(args: argparse.Namespace) -> dict[str, Any]:
    """Load retold's kernels before the timed runs (numba import + cached code, or a compile on a cold cache)."""
    t = time.perf_counter()
    kernels = _load_kernels()
    t_import = time.perf_counter() - t
    t = time.perf_counter()
    docs = [[f"w{i}" for i in range(20)], [], ["a", "b"]]
    sh, counts = ngram_hashes_batch(*hash_token_lists(docs), args.shingle)
    signatures_flat(sh, counts, MinHashParams(num_perm=args.perms))
    return {
        "kernels": "numpy" if kernels is None else "numba",
        "import_s": round(t_import, 3),
        "first_calls_s": round(time.perf_counter() - t, 3),
    }


def retold_banding(args: argparse.Namespace) -> tuple[int, int]:
    if args.retold_bands:
        if args.perms % args.retold_bands:
            raise SystemExit(f"--retold-bands {args.retold_bands} must divide --perms {args.perms}")
        return args.retold_bands, args.perms // args.retold_bands
    return optimal_params(args.retold_lsh_threshold, args.perms, exact=True)


def run_rensa(toks: list[list[str]], args: argparse.Namespace) -> RunResult:
    """rensa: Python shingle strings -> RMinHash.from_token_sets -> RMinHashLSH insert_many + query_all."""
    import rensa

    n = len(toks)
    shingle = SHINGLERS[args.shingler]
    timers = Timers()
    k = args.shingle
    with PeakRss() as rss:
        w0, c0 = time.perf_counter(), time.process_time()
        lsh = rensa.RMinHashLSH(args.threshold, args.perms, args.rensa_bands)
        mhs: list[Any] = []
        for b0, b1 in _batches(n, args.batch):
            with Phase(timers, "shingle"):
                sets = [shingle(t, k) for t in toks[b0:b1]]
            with Phase(timers, "sign"):
                batch_mh = rensa.RMinHash.from_token_sets(sets, args.perms, args.rensa_seed)
            with Phase(timers, "lsh"):
                lsh.insert_many(batch_mh, b0)
            mhs.extend(batch_mh)
            del sets
        with Phase(timers, "lsh"):
            pairs = _pairs_from_neighbours(lsh.query_all(mhs))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    info = {
        "bands": args.rensa_bands,
        "rows": args.perms // args.rensa_bands,
        "shingler": args.shingler,
        "version": _version("rensa"),
    }
    return RunResult("rensa", n, pairs, timers, wall, cpu, rss.report(), info)


def run_datasketch(toks: list[list[str]], args: argparse.Namespace) -> RunResult:
    """datasketch: Python shingle strings (UTF-8 bytes) -> MinHash.bulk -> MinHashLSH insertion_session + query."""
    from datasketch import MinHash, MinHashLSH

    n = len(toks)
    shingle = SHINGLERS[args.shingler]
    timers = Timers()
    k = args.shingle
    with PeakRss() as rss:
        w0, c0 = time.perf_counter(), time.process_time()
        lsh = MinHashLSH(threshold=args.threshold, num_perm=args.perms)
        mhs: list[Any] = []
        for b0, b1 in _batches(n, args.batch):
            with Phase(timers, "shingle"):
                sets = [[s.encode("utf8") for s in shingle(t, k)] for t in toks[b0:b1]]
            with Phase(timers, "sign"):
                batch_mh = MinHash.bulk(sets, num_perm=args.perms, seed=1)
            with Phase(timers, "lsh"):
                with lsh.insertion_session() as session:
                    for i, m in enumerate(batch_mh, start=b0):
                        session.insert(i, m)
            mhs.extend(batch_mh)
            del sets
        with Phase(timers, "lsh"):
            pairs = _pairs_from_neighbours([lsh.query(m) for m in mhs])
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    info = {"bands": lsh.b, "rows": lsh.r, "shingler": args.shingler, "version": _version("datasketch")}
    return RunResult("datasketch", n, pairs, timers, wall, cpu, rss.report(), info)


SYSTEMS: dict[str, Callable[[list[list[str]], argparse.Namespace], RunResult]] = {
    "retold": run_retold,
    "rensa": run_rensa,
    "datasketch": run_datasketch,
}


# --------------------------------------------------------------------------------------------------------------
# Accuracy


def shingle_sets(toks: list[list[str]], docs: NDArray[np.int64], n: int) -> dict[int, NDArray[np.uint64]]:
    """Sorted, deduplicated 64-bit word n-gram hashes (retold's) of the given documents."""
    out: dict[int, NDArray[np.uint64]] = {}
    for b0 in range(0, docs.size, 512):
        ids = docs[b0 : b0 + 512].tolist()
        batch = [toks[d] for d in ids]
        sh, counts = ngram_hashes_batch(*hash_token_lists(batch), n)
        for d, part in zip(ids, np.split(sh, np.cumsum(counts)[:-1]), strict=True):
            out[d] = np.unique(part)
    return out


def exact_jaccard(pairs: NDArray[np.int64], sets: dict[int, NDArray[np.uint64]]) -> NDArray[np.float64]:
    js = np.empty(pairs.shape[0], dtype=np.float64)
    for k, (i, j) in enumerate(pairs.tolist()):
        a, b = sets[i], sets[j]
        inter = np.intersect1d(a, b, assume_unique=True).size
        union = a.size + b.size - inter
        js[k] = inter / union if union else 0.0
    return js


def score(pairs: NDArray[np.int64], planted: set[tuple[int, int]]) -> dict[str, Any]:
    got = {(int(i), int(j)) for i, j in pairs.tolist()}
    tp = len(got & planted)
    return {
        "pairs": len(got),
        "true_positives": tp,
        "recall": round(tp / len(planted), 4) if planted else None,
        "precision": round(tp / len(got), 4) if got else None,
    }


def verify(
    toks: list[list[str]], pairs: NDArray[np.int64], threshold: float, n: int
) -> tuple[NDArray[np.int64], float]:
    t0 = time.perf_counter()
    if pairs.shape[0] == 0:
        return pairs, 0.0
    sets = shingle_sets(toks, np.unique(pairs.ravel()), n)
    keep = exact_jaccard(pairs, sets) >= threshold
    return pairs[keep], time.perf_counter() - t0


# --------------------------------------------------------------------------------------------------------------
# Report


def _version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def summarise(
    r: RunResult, planted: set[tuple[int, int]], toks: list[list[str]], args: argparse.Namespace, all_runs: list[float]
) -> dict[str, Any]:
    basis = r.info.get("workers", 1)
    phases = {}
    for ph in PHASES:
        w = r.timers.wall[ph]
        phases[ph] = {
            "wall_s": round(w, 3),
            "thread_cpu_s": round(r.timers.cpu[ph], 3),
            "docs_per_s": round(r.n_docs / w, 1) if w > 0 else None,
        }
    verified, vt = verify(toks, r.pairs, args.verify_threshold, args.shingle)
    planted_here = {p for p in planted if p[1] < r.n_docs}
    return {
        "docs": r.n_docs,
        "phases": phases,
        "phase_time_basis": "wall clock" if basis == 1 else f"summed over {basis} worker threads",
        "end_to_end": {
            "wall_s": round(r.wall_total, 3),
            "process_cpu_s": round(r.cpu_total, 3),
            "docs_per_s": round(r.n_docs / r.wall_total, 1),
            "docs_per_cpu_s": round(r.n_docs / r.cpu_total, 1),
            "all_repeats_wall_s": [round(x, 3) for x in all_runs],
        },
        "peak_rss": r.rss,
        "raw": score(r.pairs, planted_here),
        "verified": {**score(verified, planted_here), "threshold": args.verify_threshold, "verify_s": round(vt, 3)},
        "planted_in_scope": len(planted_here),
        **r.info,
    }


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}"


def fmt_pr(s: dict[str, Any]) -> str:
    r = "-" if s["recall"] is None else f"{s['recall']:.3f}"
    p = "-" if s["precision"] is None else f"{s['precision']:.3f}"
    return f"{r}/{p}"


def table(systems: dict[str, dict[str, Any]]) -> str:
    e2e = {k: v["end_to_end"]["docs_per_s"] for k, v in systems.items()}
    cpu = {k: v["end_to_end"]["docs_per_cpu_s"] for k, v in systems.items()}
    head = [
        "system",
        "docs",
        "shingle/s",
        "sign/s",
        "lsh/s",
        "e2e docs/s",
        "vs datasketch",
        "vs rensa",
        "e2e docs/CPU-s",
        "CPU vs ds",
        "CPU vs rensa",
        "peak RSS MB",
        "bands",
        "raw pairs",
        "raw R/P",
        "verified R/P",
    ]
    rows = []
    for name, s in systems.items():
        ph = s["phases"]
        rows.append(
            [
                name + (f" ({s['workers']}w)" if s.get("workers", 1) > 1 else ""),
                str(s["docs"]),
                fmt_rate(ph["shingle"]["docs_per_s"]),
                fmt_rate(ph["sign"]["docs_per_s"]),
                fmt_rate(ph["lsh"]["docs_per_s"]),
                fmt_rate(e2e[name]),
                f"{e2e[name] / e2e['datasketch']:.2f}x" if "datasketch" in e2e else "-",
                f"{e2e[name] / e2e['rensa']:.2f}x" if "rensa" in e2e else "-",
                fmt_rate(cpu[name]),
                f"{cpu[name] / cpu['datasketch']:.2f}x" if "datasketch" in cpu else "-",
                f"{cpu[name] / cpu['rensa']:.2f}x" if "rensa" in cpu else "-",
                f"{s['peak_rss']['peak_over_base_mb']:.0f}",
                f"{s['bands']}x{s['rows']}",
                str(s["raw"]["pairs"]),
                fmt_pr(s["raw"]),
                fmt_pr(s["verified"]),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, default=100_000, help="documents in the corpus (default 100000)")
    ap.add_argument("--near-dups", type=int, default=None, help="planted near-duplicates (default: 1%% of --docs)")
    ap.add_argument("--threshold", type=float, default=0.8, help="anchors' LSH threshold (default 0.8)")
    ap.add_argument("--perms", type=int, default=128, help="MinHash permutations (default 128)")
    ap.add_argument("--shingle", type=int, default=5, help="word n-gram width (default 5)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--skip-datasketch", action="store_true", help="leave datasketch out (slowest)")
    ap.add_argument("--skip-rensa", action="store_true", help="leave rensa out")
    ap.add_argument(
        "--datasketch-docs",
        type=int,
        default=None,
        help="run datasketch on the first N documents only (its docs/s is size-independent)",
    )
    ap.add_argument("--workers", type=int, default=1, help="threads for retold's shingle+sign batches (default 1)")
    ap.add_argument("--batch", type=int, default=512, help="documents per batch (default 512)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per system, interleaved; the fastest is reported")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--corpus", choices=["synthetic", "shared", "auto"], default="synthetic")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--shingler", choices=sorted(SHINGLERS), default="zip", help="anchors' Python shingling idiom")
    ap.add_argument("--verify-threshold", type=float, default=0.2, help="exact 5-gram Jaccard to accept a pair")
    ap.add_argument(
        "--retold-lsh-threshold",
        type=float,
        default=0.2,
        help="Jaccard retold's banding targets, via optimal_params(exact=True) (default 0.2)",
    )
    ap.add_argument("--retold-bands", type=int, default=None, help="override retold's bands (rows = perms / bands)")
    ap.add_argument("--rensa-bands", type=int, default=8, help="rensa num_bands (default 8: 8 x 16)")
    ap.add_argument("--rensa-seed", type=int, default=42)
    ap.add_argument("--profile", type=Path, default=None, help="cProfile retold's run into this .pstats file")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    k = args.near_dups if args.near_dups is not None else max(1, args.docs // 100)
    order = ["rensa", "retold", "datasketch"]
    skipped: dict[str, str] = {}
    if args.skip_datasketch:
        skipped["datasketch"] = "--skip-datasketch"
    if args.skip_rensa:
        skipped["rensa"] = "--skip-rensa"
    for mod in ("datasketch", "rensa"):
        if mod not in skipped and _version(mod) is None:
            skipped[mod] = "not installed (pip install -r bench/requirements.txt)"
    order = [s for s in order if s not in skipped]
    load0 = os.getloadavg()
    # First, before anything else here touches retold's kernels (the accuracy set-up below does).
    startup = retold_startup(args) if "retold" in order else {}
    if startup:
        print(f"retold start-up (not in any timing below): {startup}", flush=True)

    t = time.perf_counter()
    corpus: Corpus = make_corpus(args.docs, k, args.seed, args.corpus, args.data)
    t_corpus = time.perf_counter() - t
    t = time.perf_counter()
    toks = [text.lower().split() for text in corpus.texts]
    t_tok = time.perf_counter() - t
    n_tokens = sum(map(len, toks))
    del corpus.texts[:]
    # The token lists live for the whole run: move them out of the cyclic GC's reach, so a full collection
    # triggered by one system's allocations does not traverse 45M list slots (same for every system).
    gc.collect()
    gc.freeze()
    planted = {(int(i), int(j)) for i, j in corpus.planted.tolist()}
    sets = shingle_sets(toks, np.unique(corpus.planted.ravel()), args.shingle)
    true_j = exact_jaccard(corpus.planted, sets)
    del sets
    print(
        f"corpus: {args.docs} docs ({corpus.source}), {n_tokens} tokens ({n_tokens / args.docs:.0f}/doc), "
        f"{len(planted)} planted pairs, 5-gram Jaccard {true_j.min():.3f}..{true_j.max():.3f} "
        f"(median {np.median(true_j):.3f}); generated in {t_corpus:.1f}s, tokenised in {t_tok:.1f}s "
        f"({args.docs / t_tok:.0f} docs/s)",
        flush=True,
    )

    best: dict[str, RunResult] = {}
    walls: dict[str, list[float]] = {s: [] for s in order}
    prof = cProfile.Profile() if args.profile else None
    for rep in range(args.repeat):
        for name in order:
            sub = toks
            if name == "datasketch" and args.datasketch_docs:
                sub = toks[: args.datasketch_docs]
            gc.collect()
            if prof is not None and name == "retold":
                prof.enable()
            r = SYSTEMS[name](sub, args)
            if prof is not None and name == "retold":
                prof.disable()
            walls[name].append(r.wall_total)
            print(
                f"  run {rep + 1}/{args.repeat} {name:<10} {r.n_docs} docs in {r.wall_total:7.2f}s "
                f"= {r.n_docs / r.wall_total:9.0f} docs/s, {r.pairs.shape[0]} candidate pairs",
                flush=True,
            )
            if name not in best or r.wall_total < best[name].wall_total:
                best[name] = r
            else:
                del r
            gc.collect()

    systems = {name: summarise(best[name], planted, toks, args, walls[name]) for name in order}
    print()
    print(table(systems))
    ratios: dict[str, float] = {}
    if "retold" in systems:
        for other in ("rensa", "datasketch"):
            if other in systems:
                for key, label in (("docs_per_s", "wall"), ("docs_per_cpu_s", "cpu")):
                    ratios[f"retold_vs_{other}_{label}"] = round(
                        systems["retold"]["end_to_end"][key] / systems[other]["end_to_end"][key], 2
                    )
    print()
    print(
        f"tokenisation (shared, not in any system's numbers): {args.docs / t_tok:.0f} docs/s; "
        f"load average before/after: {load0[0]:.2f}/{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")

    result: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "config": {k_: (str(v) if isinstance(v, Path) else v) for k_, v in vars(args).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor(),
            "loadavg_before": load0,
            "loadavg_after": os.getloadavg(),
        },
        "versions": {p: _version(p) for p in ("retold", "numpy", "numba", "xxhash", "datasketch", "rensa")},
        "retold_startup": startup,
        "corpus": {
            "source": corpus.source,
            **corpus.params,
            "tokens": n_tokens,
            "planted": len(planted),
            "true_jaccard": {
                "min": round(float(true_j.min()), 4),
                "median": round(float(np.median(true_j)), 4),
                "max": round(float(true_j.max()), 4),
            },
            "generate_s": round(t_corpus, 2),
            "tokenise_s": round(t_tok, 2),
            "tokenise_docs_per_s": round(args.docs / t_tok, 1),
        },
        "systems": systems,
        "ratios_end_to_end": ratios,
        "skipped": skipped,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if prof is not None:
        prof.dump_stats(str(args.profile))
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(15)
        print(s.getvalue())
    return result


if __name__ == "__main__":
    main()
