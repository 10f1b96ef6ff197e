"""How much the arrival order changes a scan: the same documents scanned in file order and in random orders.

Builds one JSONL corpus from the shared data (seeds + BBC + Reuters-21578 by default; ids prefixed by their
source so they stay unique), writes it in file order and in `--orders` random permutations, scans each with
`retold.api.scan_corpus`, and compares the reported pairs as unordered id pairs (with their verdicts) and the
families against the file-order scan.

    .venv/bin/python bench/scan_orders.py --orders 3 [--sources bbc seeds] [--semantic auto|off] [--json FILE]

Prints one Markdown row per order: pairs, pairs only in this order / only in file order, verdict changes,
families that differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from retold import api
from retold.config import AlignConfig, RetoldConfig

SOURCES = ("seeds", "bbc", "reuters")


def corpus(data: Path, sources: list[str]) -> list[dict[str, object]]:
    """The documents of the chosen shared corpora, in file order, as JSONL records with unique ids."""
    out: list[dict[str, object]] = []
    if "seeds" in sources:
        for p in sorted((data / "seeds").glob("*.txt")):
            out.append({"id": f"seeds/{p.name}", "text": p.read_text(encoding="utf-8")})
    for name, folder in (("bbc", "bbc"), ("reuters", "reuters21578")):
        if name not in sources:
            continue
        with gzip.open(data / folder / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                text = r.get("body") or r.get("text") or ""
                if not str(text).strip():
                    continue
                rec: dict[str, object] = {"id": f"{name}:{r['id']}", "text": text}
                if r.get("date"):
                    rec["date"] = r["date"]
                out.append(rec)
    return out


def pair_set(out: Path) -> dict[frozenset[str], str]:
    pairs: dict[frozenset[str], str] = {}
    with open(out / "pairs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            p = json.loads(line)
            pairs[frozenset((p["a"]["id"], p["b"]["id"]))] = p["verdict"]
    return pairs


def family_set(out: Path) -> set[frozenset[str]]:
    with open(out / "families.jsonl", encoding="utf-8") as fh:
        return {frozenset(f["members"]) for f in map(json.loads, fh) if len(f["members"]) > 1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder")
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    ap.add_argument("--orders", type=int, default=3, help="random orders besides file order")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--semantic", default="auto", choices=("auto", "on", "off"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the rows here")
    ap.add_argument("--keep", type=Path, default=None, help="keep each order's corpus and outputs in this folder")
    args = ap.parse_args()
    docs = corpus(api.data_dir(args.data), args.sources)
    cfg = RetoldConfig(align=AlignConfig(semantic=args.semantic))
    rows = []
    with tempfile.TemporaryDirectory(prefix="retold-orders-") as scratch:
        tmp = str(args.keep) if args.keep else scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        base_pairs: dict[frozenset[str], str] = {}
        base_fams: set[frozenset[str]] = set()
        for k in range(args.orders + 1):
            order = list(docs)
            if k:
                random.Random(args.seed * 1000 + k).shuffle(order)
            src = Path(tmp) / f"order{k}.jsonl"
            src.write_text("".join(json.dumps(d) + "\n" for d in order), encoding="utf-8")
            t0 = time.perf_counter()
            api.scan_corpus([src], Path(tmp) / f"out{k}", cfg, workers=args.workers)
            secs = time.perf_counter() - t0
            pairs, fams = pair_set(Path(tmp) / f"out{k}"), family_set(Path(tmp) / f"out{k}")
            if k == 0:
                base_pairs, base_fams = pairs, fams
            common = pairs.keys() & base_pairs.keys()
            row = {
                "order": "file" if k == 0 else f"random {k}",
                "docs": len(docs),
                "pairs": len(pairs),
                "only_here": len(pairs.keys() - base_pairs.keys()),
                "only_file_order": len(base_pairs.keys() - pairs.keys()),
                "verdict_changed": sum(1 for p in common if pairs[p] != base_pairs[p]),
                "families": len(fams),
                "families_differ": len(fams ^ base_fams),
                "seconds": round(secs, 1),
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
