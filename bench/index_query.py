"""Benchmark: `retold index query` of one article against a 100k-article index.

Builds (once; ``--rebuild`` to redo) a synthetic news index in ``bench/results/index_<docs>.sqlite`` with
`retold.api.index_corpus`, then times `retold.pipeline.query` (what `index query` runs once the index is open: analyse,
sign, look up bands and postings, align the candidates, judge) for held-out articles and prints the median and
90th percentile, with the time per stage and the cold CLI time for reference.

Synthetic articles: 8-16 sentences of 10-24 words drawn from the 6,000 most frequent English words (wordfreq,
Zipf-weighted), each story salted with its own rare terms: three invented names from a pool of 60,000 and two
numbers. 15 % of the articles are versions of an earlier one: exact copies, light edits (5 % of words changed, a
sentence added), rewrites (sentences reordered, 30 % of common words replaced, names and numbers kept) and partial
reuse (four sentences of the source plus new ones). Queries: half versions of indexed stories, half new stories.

Usage::

    .venv/bin/python bench/index_query.py [--docs 100000] [--queries 200] [--workers N] [--rebuild]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from retold import api
from retold.config import RetoldConfig
from retold.model import Document
from retold.pipeline import featurize, find_candidates, query
from retold.sketch.minhash import MinHashParams, signatures

RESULTS = Path(__file__).resolve().parent / "results"
_SYL = ["zor", "vath", "quel", "mir", "drax", "bol", "kesh", "ulm", "tren", "vosk", "plin", "garu", "yth", "omb",
        "sarq", "neth", "jix", "fal", "rond", "ekt", "zub", "orin", "kal", "thes", "wun", "pyr"]  # fmt: skip


class Generator:
    """Deterministic synthetic stories and versions of them."""

    def __init__(self, seed: int) -> None:
        from wordfreq import top_n_list, zipf_frequency

        self.rng = random.Random(seed)
        self.words = [w for w in top_n_list("en", 6000) if w.isalpha()]
        self.cum = list(itertools.accumulate(10 ** zipf_frequency(w, "en") for w in self.words))
        names: set[str] = set()
        while len(names) < 60_000:
            names.add("".join(self.rng.choice(_SYL) for _ in range(self.rng.randint(3, 4))).capitalize())
        self.names = sorted(names)

    def sentence(self, salt: list[str]) -> str:
        n = self.rng.randint(10, 24)
        words = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        for term in self.rng.sample(salt, k=min(len(salt), self.rng.randint(0, 2))):
            words.insert(self.rng.randrange(len(words) + 1), term)
        return " ".join(words).capitalize() + "."

    def story(self) -> tuple[list[str], list[str]]:
        salt = self.rng.sample(self.names, 3) + [str(self.rng.randint(1000, 99999)), f"{self.rng.randint(2, 99)}.5"]
        return [self.sentence(salt) for _ in range(self.rng.randint(8, 16))], salt

    @staticmethod
    def text(sentences: list[str]) -> str:
        return "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))

    def version(self, sentences: list[str], salt: list[str]) -> list[str]:
        kind = self.rng.choice(["copy", "edit", "rewrite", "partial"])
        if kind == "copy":
            return list(sentences)
        if kind == "edit":
            out = [
                " ".join(w if self.rng.random() > 0.05 else self.rng.choice(self.words) for w in s.split())
                for s in sentences
            ]
            return [*out, self.sentence(salt)]
        if kind == "rewrite":
            out = [
                " ".join(
                    w if w in salt or self.rng.random() > 0.3 else self.rng.choices(self.words, cum_weights=self.cum)[0]
                    for w in s.rstrip(".").split()
                ).capitalize()
                + "."
                for s in sentences
            ]
            self.rng.shuffle(out)
            return out
        start = self.rng.randrange(max(1, len(sentences) - 4))
        return sentences[start : start + 4] + [self.sentence(salt) for _ in range(self.rng.randint(3, 8))]

    def corpus(self, n: int) -> list[dict[str, str]]:
        stories: list[tuple[list[str], list[str]]] = []
        out = []
        for i in range(n):
            if stories and self.rng.random() < 0.15:
                src, salt = self.rng.choice(stories)
                sentences = self.version(src, salt)
            else:
                sentences, salt = self.story()
                stories.append((sentences, salt))
            out.append({"id": f"doc{i:06d}", "text": self.text(sentences)})
        self.stories = stories
        return out

    def queries(self, n: int) -> list[Document]:
        out = []
        for i in range(n):
            if i % 2 == 0:
                src, salt = self.rng.choice(self.stories)
                sentences = self.version(src, salt)
            else:
                sentences, _ = self.story()
            out.append(Document(f"query{i:04d}", self.text(sentences)))
        return out


def build(db: Path, docs: int, workers: int, seed: int) -> Generator:
    """Generate the corpus (always: the queries need its stories) and index it unless a finished index exists."""
    gen = Generator(seed)
    corpus = gen.corpus(docs)
    done = db.with_suffix(".done")
    if db.exists() and done.exists():
        return gen
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    src = RESULTS / f"corpus_{docs}.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for r in corpus:
            fh.write(json.dumps(r) + "\n")
    t0 = time.perf_counter()
    report = api.index_corpus([src], db, workers=workers)
    elapsed = time.perf_counter() - t0
    st = report.stats
    line = (
        f"built {db.name}: {st.documents:,} docs in {elapsed:.0f} s ({st.documents / elapsed:,.0f} docs/s, "
        f"{workers} workers); candidates {st.candidates}; verdicts {st.verdicts}; seconds "
        f"{ {k: round(v, 1) for k, v in st.seconds.items()} }; {db.stat().st_size / 2**20:,.0f} MiB"
    )
    done.write_text(line + "\n", encoding="utf-8")
    print(line)
    return gen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    db = RESULTS / f"index_{args.docs}.sqlite"
    if args.rebuild and db.exists():
        db.unlink()
    gen = build(db, args.docs, args.workers, args.seed)
    cfg = RetoldConfig()
    queries = gen.queries(args.queries)
    params = MinHashParams(num_perm=cfg.sketch.num_perm, seed=cfg.sketch.seed)
    with api.open_index(db, cfg) as store:
        n_docs = store.count()
        query(store, queries[0], cfg)  # warm-up: caches, lazily loaded models and tables
        total: list[float] = []
        found: list[int] = []
        stages: dict[str, list[float]] = {"analyse+sign": [], "candidates": [], "align": []}
        for doc in queries:
            t0 = time.perf_counter()
            results = query(store, doc, cfg)
            total.append(time.perf_counter() - t0)
            found.append(len(results))
            # The same work split into stages (a second pass; not part of the timing above).
            t0 = time.perf_counter()
            f = featurize(doc, cfg)
            sigs = signatures([f.shingles], params)
            t1 = time.perf_counter()
            pairs = find_candidates(store, [f], sigs, [store.next_seq()], cfg)
            t2 = time.perf_counter()
            stages["analyse+sign"].append(t1 - t0)
            stages["candidates"].append(t2 - t1)
            stages["align"].append(max(0.0, total[-1] - (t2 - t0)))
            found[-1] = len(pairs) * 1000 + found[-1]
    ms = sorted(x * 1000 for x in total)
    print(f"index: {n_docs:,} documents ({db})")
    print(
        f"query (in process, index open): median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * len(ms))]:.1f} ms, "
        f"max {ms[-1]:.1f} ms over {len(ms)} queries"
    )
    for name, picked in (("versions of indexed stories", 0), ("new stories", 1)):
        part = [total[i] * 1000 for i in range(len(total)) if i % 2 == picked]
        print(f"  {name:<28} median {statistics.median(part):.1f} ms over {len(part)}")
    for k, v in stages.items():
        print(f"  stage {k:<13} median {statistics.median(v) * 1000:.1f} ms")
    per_query = [x // 1000 for x in found]
    hits = [x % 1000 for x in found]
    print(
        f"  candidates per query: median {statistics.median(per_query)}, max {max(per_query)}; "
        f"queries reusing an indexed article: {sum(1 for h in hits if h)} of {len(hits)}"
    )
    q = RESULTS / "query.txt"
    q.write_text(queries[0].text, encoding="utf-8")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from retold.cli import main; main()", "index", "query", str(q), "--db",
                    str(db), "--format", "json"], check=True, capture_output=True)  # fmt: skip
    print(f"cold CLI `retold index query` (process start, imports, open, query): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
