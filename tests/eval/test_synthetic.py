"""The synthetic benchmark: a deterministic generator that plants edits of the intended size and records chains,
scoring rules, and `run` on a small corpus cut from the shared BBC file.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from retold.eval.synthetic import (
    PlantedDoc,
    PlantedPair,
    SyntheticCorpus,
    generate,
    load_base,
    paragraphs,
    run,
    score,
)
from retold.model import Alignment, Document, PairResult, SideSummary, VerdictName

pytestmark = pytest.mark.shared_data

_CREDIT = re.compile(r"\(with inputs from \w+\)|By [A-Z]\w+ [A-Z]\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+")  # a capitalised word inside a sentence


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _jaccard5(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    sa = {tuple(wa[i : i + 5]) for i in range(len(wa) - 4)}
    sb = {tuple(wb[i : i + 5]) for i in range(len(wb) - 4)}
    return len(sa & sb) / len(sa | sb)


@pytest.fixture(scope="module")
def base(shared_data: Path) -> list[Document]:
    docs, _ = load_base(shared_data / "bbc" / "docs.jsonl.gz")
    return docs[:400]


@pytest.fixture(scope="module")
def corpus(base: list[Document]) -> SyntheticCorpus:
    return generate(base, n_near=30, n_rewrite=30, seed=5)


def _texts(c: SyntheticCorpus) -> dict[str, str]:
    return {d.id: d.text for d in c.docs}


def test_same_seed_same_corpus(base: list[Document], corpus: SyntheticCorpus) -> None:
    again = generate(base, n_near=30, n_rewrite=30, seed=5)
    assert again.docs == corpus.docs
    assert again.planted == corpus.planted and again.derived == corpus.derived
    other = generate(base, n_near=30, n_rewrite=30, seed=6)
    assert _texts(other) != _texts(corpus)


def test_ids_unique_and_pairs_consistent(base: list[Document], corpus: SyntheticCorpus) -> None:
    ids = [d.id for d in corpus.docs]
    assert len(ids) == len(set(ids)) == len(base) + 60
    texts = _texts(corpus)
    assert all(texts[d.id] == d.text for d in base)  # base articles are carried unchanged
    keys = [frozenset((p.a, p.b)) for p in corpus.planted]
    assert len(keys) == len(set(keys)) and all(len(k) == 2 and k <= set(ids) for k in keys)
    kinds = {d.id: d.kind for d in corpus.derived}
    assert sorted(kinds.values()).count("near-duplicate") == 30 and list(kinds.values()).count("rewrite") == 30
    direct = {(p.a, p.b): p.kind for p in corpus.planted if p.kind != "family"}
    assert direct == {(d.source, d.id): d.kind for d in corpus.derived}
    near_sources = [d.source for d in corpus.derived if d.kind == "near-duplicate"]
    rewrite_roots = [d.source for d in corpus.derived if d.depth == 1 and d.kind == "rewrite"]
    assert len(set(near_sources + rewrite_roots)) == len(near_sources) + len(rewrite_roots)  # distinct sources


def test_near_duplicates_have_five_to_fifteen_percent_word_edits(corpus: SyntheticCorpus) -> None:
    texts = _texts(corpus)
    for d in corpus.derived:
        if d.kind != "near-duplicate":
            continue
        body = re.sub(r"^\s*date \d{4}-\d{2}-\d{2} ", "", texts[d.id])
        paras = paragraphs(body)
        if _CREDIT.fullmatch(paras[-1]):
            paras = paras[:-1]
        src = _words(texts[d.source])
        ratio = Levenshtein.distance(src, _words("\n\n".join(paras))) / len(src)
        assert 0.05 <= ratio <= 0.15, (d.id, ratio)


def test_rewrites_reword_most_text_but_keep_names_and_numbers(corpus: SyntheticCorpus) -> None:
    texts = _texts(corpus)
    rewrites = [d for d in corpus.derived if d.kind == "rewrite"]
    for d in rewrites:
        src, new = texts[d.source], texts[d.id]
        assert _jaccard5(src, new) < 0.3, d.id
        # Paragraphs are kept whole or dropped (one at most): a kept one keeps its numbers and names.
        lost = [p for p in paragraphs(src) if any(t not in new for t in _NUMBER.findall(p) + _NAME.findall(p))]
        assert d.depth > 1 or len(lost) <= 1, (d.id, lost)  # a chain drops its parent's credits too
        sents = [s for s in re.split(r"(?<=[.!?])\s+", new) if len(s.split()) >= 6]
        assert sum(s in src for s in sents) <= 0.4 * len(sents), d.id  # most sentences reworded
    assert sum(_jaccard5(texts[d.source], texts[d.id]) for d in rewrites) / len(rewrites) < 0.22


def test_chains_are_recorded_with_their_family(base: list[Document]) -> None:
    c = generate(base, n_near=0, n_rewrite=8, seed=3, chain_rate=1.0)
    info = {d.id: d for d in c.derived}
    chained = [d for d in c.derived if d.depth == 2]
    assert chained
    kinds = {frozenset((p.a, p.b)): p.kind for p in c.planted}
    for d in chained:
        parent = info[d.source]
        assert parent.depth == 1 and parent.family == d.family == parent.source
        assert kinds[frozenset((d.source, d.id))] == "rewrite"
        assert kinds[frozenset((d.family, d.id))] == "family"
    assert c.family_of()[chained[0].id] == chained[0].family


def test_generate_needs_enough_distinct_articles(base: list[Document]) -> None:
    with pytest.raises(ValueError, match="distinct base articles"):
        generate(base[:5] * 3, n_near=4, n_rewrite=4, seed=1)


def _result(a: str, b: str, verdict: VerdictName) -> PairResult:
    return PairResult(SideSummary(a, None, 100, 0.9), SideSummary(b, None, 100, 0.9), verdict, Alignment((), (), ()))


def test_score_counts_families_and_sets_aside_unlabeled_pairs() -> None:
    docs = [Document(i, f"text {i}.") for i in ("x", "y", "z", "n1", "r1", "r2")]
    derived = [
        PlantedDoc("n1", "near-duplicate", "x", "x"),
        PlantedDoc("r1", "rewrite", "y", "y"),
        PlantedDoc("r2", "rewrite", "r1", "y", depth=2),
    ]
    planted = [
        PlantedPair("x", "n1", "near-duplicate"),
        PlantedPair("y", "r1", "rewrite"),
        PlantedPair("r1", "r2", "rewrite"),
        PlantedPair("y", "r2", "family"),
    ]
    results = [
        _result("x", "n1", "near-duplicate"),
        _result("y", "r1", "partial-reuse"),
        _result("r1", "r2", "unrelated"),
        _result("x", "z", "near-duplicate"),  # two base articles: unlabeled
        _result("n1", "z", "partial-reuse"),  # related only through the unlabeled base pair
        _result("r2", "x", "rewrite"),  # a false positive
    ]
    metrics, details = score(SyntheticCorpus(docs, planted, derived), results)
    assert metrics == {"recall_near_duplicate": 1.0, "recall_rewrite": 0.5, "precision": 2 / 3}
    assert details["verdict_accuracy_rewrite"] == 0.0 and details["verdict_accuracy_near_duplicate"] == 1.0
    assert details["reported"]["via_related_base_pair"] == 1 and details["reported"]["base_base_unlabeled"] == 1
    assert details["false_positives"][0]["a"] == "r2"
    assert details["missed_rewrite"][0]["verdict"] == "unrelated"


def test_load_base_reads_text_or_body_and_dedupes(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    recs = [{"id": "a", "text": "One  story."}, {"id": "b", "text": "one story."}, {"id": "c", "text": "Other."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    docs, read = load_base(path)
    assert [d.id for d in docs] == ["a", "c"] and read == path


def test_run_on_a_small_corpus(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "bbc.jsonl.gz"
    with gzip.open(shared_data / "bbc" / "docs.jsonl.gz", "rt", encoding="utf-8") as src:
        lines = [line for _, line in zip(range(260), src, strict=False)]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(lines)
    res = run(path, n_base=150, n_near=15, n_rewrite=15, seed=2)
    assert set(res.metrics) == {"recall_near_duplicate", "recall_rewrite", "precision"}
    assert all(0.0 <= v <= 1.0 for v in res.metrics.values())
    assert res.metrics["recall_near_duplicate"] >= 0.9
    assert res.n == 30 and res.details["counts"]["near-duplicate"] == 15
    assert set(res.details["channel_recall_rewrite"]) == {"exact", "minhash", "rewrite", "any"}
    assert 0.0 <= res.details["minhash_recall_rewrite"] <= 1.0
    json.dumps(res.to_json())
