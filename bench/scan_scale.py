"""Scaling of the full scan: `retold scan` (exact + MinHash and rare-term channels, alignment, export) at N and 4N
documents of a news archive, each in a fresh subprocess.

The corpus is `corpus.news_stream`: the real BBC and Reuters-21578 articles spread evenly over the largest N,
between generated news-length articles (new stories, follow-ups on recent stories, and copies, near-duplicates
and partial reuses of recent articles; `corpus.NEWS_MIX`), so a smaller N is a prefix with the same mix.

For every N it reports wall time, CPU time of the process tree (scan process, fork server and workers; sampled
from /proc) and of the scan process alone, docs/s by both, peak RSS of the tree and of the scan process, the index
size, and the scan's stage seconds; then the ratios time(N_i)/time(N_0) and a straight-line fit of peak RSS against
N extrapolated to 1M documents. Writes JSON (``--json``; ``bench/results/`` is git-ignored).

    .venv/bin/python bench/scan_scale.py --docs 50000 200000 --json bench/results/scan-scale.json
    .venv/bin/python bench/scan_scale.py --docs 5000 20000 --semantic auto   # smaller, semantic channel on
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import default_data_dir, write_news_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            raw = fh.read()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def _tree(root: int) -> dict[int, list[str]]:
    """Stat fields of `root` and all its descendants."""
    parent: dict[int, int] = {}
    fields: dict[int, list[str]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            f = _stat(int(name))
            if f is not None:
                parent[int(name)] = int(f[1])
                fields[int(name)] = f
    out = {root: fields[root]} if root in fields else {}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in out and pid not in out:
                out[pid] = fields[pid]
                grew = True
    return out


def _vm_hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _pss(pid: int) -> int | None:
    """Proportional set size (shared pages split between the processes that map them), bytes."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def measure(cmd: list[str], interval: float = 0.2) -> dict[str, float]:
    """Run `cmd`; wall seconds, CPU seconds of its process tree and of the scan process, peak memory of the tree
    (sum of RSS, which counts pages the workers share with the fork server once per process, and sum of PSS, which
    does not) and peak RSS of the scan process itself."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    cpu: dict[int, float] = {}
    peak_rss = peak_pss = peak_main = 0
    while proc.poll() is None:
        tree = _tree(proc.pid)
        rss = pss = 0
        for pid, f in tree.items():
            cpu[pid] = (int(f[11]) + int(f[12])) / _TICK  # utime + stime (fields 14, 15)
            rss += int(f[21]) * _PAGE  # rss (field 24)
            pss += _pss(pid) or int(f[21]) * _PAGE
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        peak_main = max(peak_main, _vm_hwm(proc.pid))
        time.sleep(interval)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed with status {proc.returncode}")
    mb = 2**20
    return {
        "wall_s": wall,
        "cpu_s": sum(cpu.values()),
        "cpu_main_s": cpu.get(proc.pid, 0.0),
        "peak_tree_rss_mb": peak_rss / mb,
        "peak_tree_pss_mb": peak_pss / mb,
        "peak_main_rss_mb": peak_main / mb,
    }


def child(path: Path, out: Path, semantic: str, workers: int) -> None:
    """The measured process: one scan of `path` into `out` (index kept in `out` to report its size)."""
    from retold import api
    from retold.config import AlignConfig, RetoldConfig

    cfg = RetoldConfig(align=AlignConfig(semantic=semantic))  # type: ignore[arg-type]
    db = out / "scan.sqlite"
    report = api.scan_corpus([path], out, cfg, workers=workers, db=db)
    info = report.to_json()
    info["db_mb"] = sum(p.stat().st_size for p in out.glob("scan.sqlite*")) / 2**20
    (out / "scale.json").write_text(json.dumps(info) + "\n", encoding="utf-8")


def corpus_file(n_max: int, seed: int, data: Path) -> tuple[Path, dict[str, int]]:
    """The stream for the largest N, generated once and cached in bench/results/."""
    path = RESULTS / f"news_{n_max}_s{seed}.jsonl"
    meta = path.with_suffix(".kinds.json")
    if not (path.is_file() and meta.is_file()):
        RESULTS.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        kinds = write_news_jsonl(path, n_max, seed, data=data)
        meta.write_text(json.dumps(kinds) + "\n", encoding="utf-8")
        print(f"generated {n_max:,} documents in {time.perf_counter() - t:.0f} s: {kinds}", flush=True)
    return path, json.loads(meta.read_text(encoding="utf-8"))


def prefix(path: Path, n: int, dest: Path) -> dict[str, int]:
    kinds: dict[str, int] = {}
    with path.open(encoding="utf-8") as src, dest.open("w", encoding="utf-8") as out:
        for _, line in zip(range(n), src, strict=False):
            out.write(line)
            kind = json.loads(line)["kind"]
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--semantic", choices=["off", "auto", "on"], default="off")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("CORPUS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.semantic, args.workers)
        return
    sizes = sorted(set(args.docs))
    big, _ = corpus_file(sizes[-1], args.seed, args.data or default_data_dir())
    runs = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="scan-scale-", dir=RESULTS) as tmp:
            part, out = Path(tmp) / "corpus.jsonl", Path(tmp) / "out"
            kinds = prefix(big, n, part)
            out.mkdir()
            cmd = [sys.executable, __file__, "--child", str(part), str(out)]
            cmd += ["--semantic", args.semantic, "--workers", str(args.workers)]
            m = measure(cmd)
            info = json.loads((out / "scale.json").read_text(encoding="utf-8"))
            shutil.rmtree(out, ignore_errors=True)
        run = {
            "docs": n,
            "kinds": kinds,
            **{k: round(v, 2) for k, v in m.items()},
            "docs_per_s_wall": round(n / m["wall_s"], 1),
            "docs_per_cpu_s": round(n / m["cpu_s"], 1),
            "scan": info,
        }
        runs.append(run)
        if args.json:  # each run as soon as it is measured: a long series that fails late keeps the others
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")
        print(
            f"{n:>9,} docs  wall {m['wall_s']:7.1f} s ({run['docs_per_s_wall']:6.1f}/s)  cpu {m['cpu_s']:7.1f} s "
            f"({run['docs_per_cpu_s']:6.1f}/cpu-s, scan process {m['cpu_main_s']:.1f} s)  "
            f"peak tree RSS {m['peak_tree_rss_mb']:6.0f} MB "
            f"PSS {m['peak_tree_pss_mb']:6.0f} MB "
            f"main {m['peak_main_rss_mb']:6.0f} MB  index {info['db_mb']:6.0f} MB  pairs {info['aligned_pairs']:,}  "
            f"stages {info['seconds']}",
            flush=True,
        )
    base = runs[0]
    ratios = [
        {
            "docs": r["docs"],
            "x": r["docs"] / base["docs"],
            "wall_ratio": round(r["wall_s"] / base["wall_s"], 2),
            "cpu_ratio": round(r["cpu_s"] / base["cpu_s"], 2),
            "cpu_main_ratio": round(r["cpu_main_s"] / base["cpu_main_s"], 2),
        }
        for r in runs[1:]
    ]
    for r in ratios:
        print(
            f"time({r['docs']:,}) / time({base['docs']:,}) = {r['wall_ratio']} wall, {r['cpu_ratio']} CPU, "
            f"{r['cpu_main_ratio']} CPU of the scan process "
            f"({r['x']:g}x docs)"
        )
    trend = {}
    if len(runs) > 1:
        x = np.array([r["docs"] for r in runs], dtype=float)
        for key in ("peak_tree_rss_mb", "peak_tree_pss_mb", "peak_main_rss_mb"):
            slope, icpt = np.polyfit(x, np.array([r[key] for r in runs], dtype=float), 1)
            trend[key] = {
                "mb_per_100k_docs": round(float(slope) * 1e5, 1),
                "intercept_mb": round(float(icpt), 1),
                "at_1m_mb": round(float(icpt + slope * 1e6)),
            }
        print(f"peak RSS trend (linear fit): {trend}")
    result = {
        "corpus": {"generator": "bench/corpus.py news_stream", "seed": args.seed, "n_max": sizes[-1]},
        "semantic": args.semantic,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_avg_end": os.getloadavg(),
        "runs": runs,
        "ratios": ratios,
        "rss_trend": trend,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
