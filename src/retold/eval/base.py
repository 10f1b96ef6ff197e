"""The result record every benchmark returns; `to_json` is the fixed eval JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class EvalResult:
    """One benchmark run: `metrics` holds the fixed keys of the benchmark; `details` anything else worth showing
    (confusion matrices, per-kind counts, error examples), written to the JSON under ``"details"``.
    """

    name: str
    data: str
    n: int
    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "data": self.data,
            "n": self.n,
            "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
        }
        if self.details:
            out["details"] = self.details
        return out
