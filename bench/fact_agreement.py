"""Explore how well fact agreement (`retold.text.facts`) tells reuse from templates; writes no file.

Usage::

    .venv/bin/python bench/fact_agreement.py [--data SHARED_DATA] [--rule NAME] [--show N]

For every pair of ``judged-pairs/pairs.jsonl`` (120 hand-judged pairs a scan reported: truth reuse / template /
topical), of the gold pairs of ``news-rewrites/`` (real rewrites and partial reuses, and same-event articles) and
for the seed pair, the pair is aligned with ``retold.api.compare_documents`` and the facts of each aligned
passage — and of the linked sentences that contain it — are compared. It prints per-truth distributions of the
agreement features, then the confusion table of each candidate rule for "same wording, other facts" (template
evidence) on all three sets, and for news-rewrites also the rate at which the gold sentence links (true reuse,
aligned by hand) would be flagged. ``--show N`` prints the passages of N flagged reuse pairs and N unflagged
template pairs under ``--rule``.

This is an exploration on 120 pairs: the rules are few and simple on purpose, and their numbers here are not a
measurement (any later measurement is made on a fresh sample).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retold import api
from retold.model import Document, PairResult
from retold.text.analyze import Analyzed, analyze
from retold.text.facts import FIGURES, Fact, FactAgreement, compare, extract, within


@dataclass(frozen=True, slots=True)
class Unit:
    """One aligned unit: a passage (or the linked sentences around it) and how its facts agree."""

    a: tuple[int, int]
    b: tuple[int, int]
    label: str
    facts: FactAgreement


@dataclass(frozen=True, slots=True)
class PairFacts:
    """The fact agreement of one aligned pair, passage by passage, sentence by sentence and as a whole."""

    name: str
    truth: str
    verdict: str
    passages: tuple[Unit, ...]
    sentences: tuple[Unit, ...]
    whole: FactAgreement  # the facts of all aligned text of a against those of b
    verdict_then: str = ""  # the judged pairs' verdict when they were judged

    def share(self, units: str, test: Callable[[FactAgreement], bool]) -> float:
        """Share of the units (of those with any fact) passing `test`; 0 without such units."""
        us = [u for u in getattr(self, units) if u.facts.kinds]
        return sum(test(u.facts) for u in us) / len(us) if us else 0.0


def _linked_sentences(an: Analyzed, start: int, end: int) -> tuple[int, int]:
    """The span of the sentences overlapping ``[start, end)``."""
    hit = [s for s in an.sentences if s.start < end and s.end > start]
    return (min(s.start for s in hit), max(s.end for s in hit)) if hit else (start, end)


def _facts_of_spans(facts: Sequence[Fact], spans: Iterable[tuple[int, int]]) -> list[Fact]:
    seen: dict[tuple[int, int], Fact] = {}
    for s, e in spans:
        for f in within(facts, s, e):
            seen[(f.start, f.end)] = f
    return sorted(seen.values(), key=lambda f: f.start)


def pair_facts(name: str, truth: str, a: Document, b: Document, verdict_then: str = "") -> PairFacts:
    """Align a pair with retold and compare the facts of what was aligned."""
    result: PairResult = api.compare_documents(a, b)
    an_a, an_b = analyze(a), analyze(b)
    fa, fb = extract(a.text), extract(b.text)
    passages: list[Unit] = []
    sentences: list[Unit] = []
    linked: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    for p in result.alignment.passages:
        pa, pb = (p.a_start, p.a_end), (p.b_start, p.b_end)
        passages.append(Unit(pa, pb, p.label, compare(within(fa, *pa), within(fb, *pb))))
        sa, sb = _linked_sentences(an_a, *pa), _linked_sentences(an_b, *pb)
        if (sa, sb) not in linked:
            linked.add((sa, sb))
            sentences.append(Unit(sa, sb, p.label, compare(within(fa, *sa), within(fb, *sb))))
    whole = compare(_facts_of_spans(fa, (u.a for u in passages)), _facts_of_spans(fb, (u.b for u in passages)))
    return PairFacts(name, truth, result.verdict, tuple(passages), tuple(sentences), whole, verdict_then)


# --- features and rules ----------------------------------------------------------------------------------------


def _fig_conflict(f: FactAgreement) -> bool:
    return f.figures_conflict > 0


def _other(f: FactAgreement) -> bool:
    return f.other_facts


FEATURES: dict[str, Callable[[PairFacts], float]] = {
    "passages": lambda p: float(len(p.passages)),
    "linked sentence pairs with facts": lambda p: float(sum(1 for u in p.sentences if u.facts.kinds)),
    "share psg figure conflict": lambda p: p.share("passages", _fig_conflict),
    "share psg other facts": lambda p: p.share("passages", _other),
    "share sent figure conflict": lambda p: p.share("sentences", _fig_conflict),
    "share sent other facts": lambda p: p.share("sentences", _other),
    "whole: figures agree": lambda p: float(p.whole.figures_agree),
    "whole: figures conflict": lambda p: float(p.whole.figures_conflict),
    "whole: names agree": lambda p: float(p.whole.of("name").agree),
    "whole: names conflict": lambda p: float(p.whole.of("name").conflict),
    "whole: quotes agree": lambda p: float(p.whole.of("quote").agree),
    "whole: score": lambda p: p.whole.score,
}

RECOMMENDED = "sent other facts >= 1/2, or whole"
RULES: dict[str, Callable[[PairFacts], bool]] = {
    "any sent figure conflict": lambda p: any(_fig_conflict(u.facts) for u in p.sentences),
    "sent figure conflict >= 1/2": lambda p: p.share("sentences", _fig_conflict) >= 0.5,
    "whole score < 0": lambda p: p.whole.score < 0,
    "any sent other facts": lambda p: any(u.facts.other_facts for u in p.sentences),
    "psg other facts >= 1/2": lambda p: p.share("passages", _other) >= 0.5,
    "sent other facts >= 1/3": lambda p: p.share("sentences", _other) >= 1 / 3,
    "sent other facts >= 1/2": lambda p: p.share("sentences", _other) >= 0.5,
    "whole other facts": lambda p: p.whole.other_facts,
    RECOMMENDED: lambda p: p.share("sentences", _other) >= 0.5 or p.whole.other_facts,
}
# The unit-level test behind each rule, applied to the hand-aligned sentence pairs of news-rewrites.
LINK_TESTS: dict[str, Callable[[FactAgreement], bool]] = {
    "any sent figure conflict": _fig_conflict,
    "sent figure conflict >= 1/2": _fig_conflict,
    "whole score < 0": lambda f: f.score < 0,
}

# --- data ------------------------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def judged(data: Path) -> list[PairFacts]:
    texts: dict[str, dict[str, str]] = {}
    for corpus, file in (("bbc", "bbc/docs.jsonl.gz"), ("reuters21578", "reuters21578/docs.jsonl.gz")):
        texts[corpus] = {str(d["id"]): str(d["body"]) for d in _read_jsonl(data / file)}
    out = []
    for row in _read_jsonl(data / "judged-pairs/pairs.jsonl"):
        docs = texts[str(row["corpus"])]
        a, b = str(row["a"]), str(row["b"])
        out.append(
            pair_facts(
                f"{row['corpus']}:{a}~{b}",
                str(row["truth"]),
                Document(a, docs[a]),
                Document(b, docs[b]),
                f"{row['verdict_then']}, {'BBC' if row['corpus'] == 'bbc' else 'Reuters'}",
            )
        )
    return out


def news_rewrites(data: Path) -> tuple[list[PairFacts], list[FactAgreement]]:
    """The gold pairs aligned by retold, and the fact agreement of every gold sentence link."""
    docs = {str(d["id"]): str(d["text"]) for d in _read_jsonl(data / "news-rewrites/docs.jsonl")}
    facts = {k: extract(v) for k, v in docs.items()}
    pairs, links = [], []
    for row in _read_jsonl(data / "news-rewrites/gold.jsonl"):
        a, b, kind = str(row["a"]), str(row["b"]), str(row["kind"])
        pairs.append(pair_facts(f"{a}~{b}", kind, Document(a, docs[a]), Document(b, docs[b])))
        for a0, a1, b0, b1 in row["links"]:  # type: ignore[attr-defined]
            links.append(compare(within(facts[a], a0, a1), within(facts[b], b0, b1)))
    return pairs, links


def seed(data: Path) -> PairFacts:
    a = Document("000", (data / api.SEED_A).read_text(encoding="utf-8"))
    b = Document("004", (data / api.SEED_B).read_text(encoding="utf-8"))
    return pair_facts("seed 000~004", "rewrite", a, b)


# --- report ----------------------------------------------------------------------------------------------------


def _quartiles(xs: list[float]) -> str:
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return f"{q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} (mean {statistics.fmean(xs):.2f})"


def print_distributions(pairs: list[PairFacts], title: str) -> None:
    groups = sorted({p.truth for p in pairs})
    print(f"\n## {title}: features per truth (q1 / median / q3 (mean))\n")
    print("| feature | " + " | ".join(f"{g} ({sum(p.truth == g for p in pairs)})" for g in groups) + " |")
    print("|---|" + "---|" * len(groups))
    for name, feat in FEATURES.items():
        cells = [_quartiles([feat(p) for p in pairs if p.truth == g]) for g in groups]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n| share of pairs with | " + " | ".join(groups) + " |")
    print("|---|" + "---|" * len(groups))
    flags: dict[str, Callable[[PairFacts], bool]] = {
        "any passage with a figure conflict": lambda p: any(_fig_conflict(u.facts) for u in p.passages),
        "a verbatim passage with a figure conflict": lambda p: any(
            u.label == "verbatim" and _fig_conflict(u.facts) for u in p.passages
        ),
        "any agreeing figure (whole)": lambda p: p.whole.figures_agree > 0,
        "any agreeing name (whole)": lambda p: p.whole.of("name").agree > 0,
        "any conflicting name (whole)": lambda p: p.whole.of("name").conflict > 0,
        "no fact in aligned text": lambda p: not p.whole.kinds,
    }
    for name, flag in flags.items():
        cells = []
        for g in groups:
            sel = [p for p in pairs if p.truth == g]
            cells.append(f"{sum(map(flag, sel))}/{len(sel)}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def print_rules(sets: dict[str, list[PairFacts]], links: list[FactAgreement]) -> None:
    print("\n## Rules for template evidence: pairs flagged per truth\n")
    columns = [(s, g) for s, ps in sets.items() for g in sorted({p.truth for p in ps})]
    print("| rule | " + " | ".join(f"{s}: {g}" for s, g in columns) + " | gold links, unit test |")
    print("|---|" + "---|" * len(columns) + "---|")
    for name, rule in RULES.items():
        cells = []
        for s, g in columns:
            sel = [p for p in sets[s] if p.truth == g]
            cells.append(f"{sum(map(rule, sel))}/{len(sel)}")
        test = LINK_TESTS.get(name, _other)
        gold = f"{sum(map(test, links))}/{len(links)}"
        print(f"| {name} | " + " | ".join(cells) + f" | {gold} |")


def print_confusion(pairs: list[PairFacts], rule_name: str) -> None:
    rule = RULES[rule_name]
    print(f"\n## Confusion on the judged pairs, rule `{rule_name}`\n")
    print("| truth | flagged template | not flagged |")
    print("|---|---|---|")
    for g in ("reuse", "template", "topical"):
        sel = [p for p in pairs if p.truth == g]
        n = sum(map(rule, sel))
        print(f"| {g} | {n} | {len(sel) - n} |")
    print("\n| verdict then, corpus | reuse flagged | template flagged | topical flagged |")
    print("|---|---|---|---|")
    for group in sorted({p.verdict_then for p in pairs}):
        c = Counter((p.truth, rule(p)) for p in pairs if p.verdict_then == group)
        cells = [f"{c[(t, True)]}/{c[(t, True)] + c[(t, False)]}" for t in ("reuse", "template", "topical")]
        print(f"| {group} | " + " | ".join(cells) + " |")


def show(pairs: list[PairFacts], texts: dict[str, tuple[str, str]], rule_name: str, n: int) -> None:
    rule = RULES[rule_name]
    for truth, want in (("reuse", True), ("template", False)):
        picked = [p for p in pairs if p.truth == truth and rule(p) == want][:n]
        for p in picked:
            ta, tb = texts[p.name]
            print(f"\n### {truth} {'flagged' if want else 'missed'}: {p.name} ({p.verdict}) whole={p.whole}")
            for u in p.sentences:
                print(f"  [{u.label}] {ta[u.a[0] : u.a[1]]!r}\n     ~ {tb[u.b[0] : u.b[1]]!r}\n     {u.facts.kinds}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--rule", default=RECOMMENDED, choices=sorted(RULES))
    ap.add_argument("--show", type=int, default=0)
    args = ap.parse_args(argv)
    data = api.data_dir(args.data)
    t0 = time.perf_counter()
    jp = judged(data)
    nr, links = news_rewrites(data)
    sd = seed(data)
    print(
        f"aligned {len(jp)} judged pairs, {len(nr)} news-rewrites gold pairs and the seed pair "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    print_distributions(jp, "judged pairs")
    print_distributions(nr, "news-rewrites gold pairs (truth = gold kind)")
    print_distributions([sd], "seed pair")
    print_rules({"judged": jp, "news-rewrites": nr, "seed": [sd]}, links)
    print_confusion(jp, args.rule)
    kinds = Counter(k.kind for f in links for k in f.kinds if k.conflict)
    verbatim = [u for p in jp for u in p.passages if u.label == "verbatim"]
    print(
        f"\njudged pairs: {sum(_fig_conflict(u.facts) for u in verbatim)} of {len(verbatim)} verbatim passages "
        "state a figure differently"
    )
    print(f"news-rewrites gold links: {len(links)}; with a conflict, by kind: {dict(kinds)}")
    if args.show:
        texts: dict[str, tuple[str, str]] = {}
        corpora = {
            c: {str(d["id"]): str(d["body"]) for d in _read_jsonl(data / f"{c}/docs.jsonl.gz")}
            for c in ("bbc", "reuters21578")
        }
        for p in jp:
            corpus, ids = p.name.split(":", 1)
            a, b = ids.split("~")
            texts[p.name] = (corpora[corpus][a], corpora[corpus][b])
        show(jp, texts, args.rule, args.show)


__all__ = ["FIGURES", "RULES", "PairFacts", "main", "pair_facts"]

if __name__ == "__main__":
    main()
