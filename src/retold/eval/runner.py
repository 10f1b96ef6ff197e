"""Run benchmarks by name, all of them at once, and render the results as a Markdown table."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retold.api import data_dir
from retold.errors import ConfigError
from retold.eval.base import EvalResult


@dataclass(frozen=True, slots=True)
class Benchmark:
    """Where a benchmark lives, its default data (relative to the shared data folder) and its goals."""

    module: str
    function: str
    default: str
    goals: dict[str, str]


BENCHMARKS: dict[str, Benchmark] = {
    "pan13": Benchmark("retold.eval.pan13", "run", "pan13", {"plagdet": ">= 0.95"}),
    "clough": Benchmark("retold.eval.clough", "run", "clough", {"f1_reused": ">= 0.97", "accuracy_4way": ">= 0.80"}),
    "mrpc": Benchmark("retold.eval.sentences", "run_mrpc", "mrpc/train.jsonl", {"accuracy": ">= 0.72"}),
    "stsb": Benchmark("retold.eval.sentences", "run_stsb", "stsb/dev.jsonl", {}),
    "synthetic": Benchmark(
        "retold.eval.synthetic",
        "run",
        "bbc/docs.jsonl.gz",
        {
            "recall_near_duplicate": ">= 0.99",
            "recall_rewrite": ">= 0.95",
            "precision": ">= 0.95",
            "family_ari": ">= 0.95",
            "lookalike_separation": ">= 0.95",
        },
    ),
    "seeds": Benchmark("retold.eval.seeds", "run", "seeds", {}),
    "rewrites": Benchmark(
        "retold.eval.rewrites",
        "run",
        "news-rewrites",
        {
            "hidden_found": "= 1.00",
            "hidden_links_recovered": ">= 0.90",
            "hidden_same_event_rewrite": "<= 1",
            "direction_accuracy": ">= 0.90",
            "direction_accuracy_dated": ">= 0.98",
        },
    ),
    "judged": Benchmark(
        "retold.eval.judged",
        "run",
        "judged-pairs",
        {
            "reuse_recall": ">= 0.95",
            "template_recall": ">= 0.90",
            "precision_near_duplicate": ">= 0.95",
            "precision_rewrite": ">= 0.95",
            "precision_partial_reuse": ">= 0.85",
        },
    ),
}


def run_one(name: str, data: Path | None = None, **options: Any) -> EvalResult:
    """Run benchmark `name` on `data` (default: its file or folder in the shared data)."""
    bench = BENCHMARKS.get(name)
    if bench is None:
        raise ConfigError(f"unknown benchmark {name!r}; choose from {', '.join([*BENCHMARKS, 'all'])}")
    fn: Callable[..., EvalResult] = getattr(importlib.import_module(bench.module), bench.function)
    return fn(data if data is not None else data_dir() / bench.default, **options)


def run_all(root: Path | None = None, **options: Any) -> list[EvalResult]:
    """Every benchmark on its default data under `root` (the shared data folder)."""
    base = root if root is not None else data_dir()
    return [run_one(name, base / bench.default, **options.get(name, {})) for name, bench in BENCHMARKS.items()]


def combined(results: list[EvalResult], root: Path) -> EvalResult:
    """One EvalResult for `all`: metrics flattened as ``bench.metric``, each run's JSON under details."""
    metrics = {f"{r.name}.{k}": v for r in results for k, v in r.metrics.items()}
    return EvalResult("all", str(root), sum(r.n for r in results), metrics, {"runs": [r.to_json() for r in results]})


def markdown(results: list[EvalResult]) -> str:
    """A Markdown table: benchmark, n, metric, value, goal."""
    lines = ["| benchmark | n | metric | value | goal |", "|---|---|---|---|---|"]
    for r in results:
        goals = BENCHMARKS[r.name].goals if r.name in BENCHMARKS else {}
        for k, v in r.metrics.items():
            shown = f"{v:.0f}" if float(v).is_integer() and v > 1 else f"{v:.3f}"
            lines.append(f"| {r.name} | {r.n} | {k} | {shown} | {goals.get(k, '')} |")
    return "\n".join(lines)
