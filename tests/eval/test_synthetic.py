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
    score_families,
    shingle_jaccard,
)
from retold.model import Alignment, Document, PairResult, SideSummary, VerdictName
from retold.text.boilerplate import date_header

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
def outside(shared_data: Path) -> list[Document]:
    """Articles that are not in `base`: donors for look-alikes."""
    docs, _ = load_base(shared_data / "bbc" / "docs.jsonl.gz")
    return docs[400:700]


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


_CAPS = re.compile(r"\b[A-Z][A-Za-z]{2,}\b")


def _names(text: str) -> set[str]:
    lower = set(re.findall(r"\b[a-z]+\b", text))
    return {w for w in _CAPS.findall(text) if w.lower() not in lower}


def test_lookalikes_share_the_event_but_no_sentences(base: list[Document], outside: list[Document]) -> None:
    c = generate(base, n_near=10, n_rewrite=10, seed=4, donors=outside, n_lookalike=15)
    texts, fam = _texts(c), c.family_of()
    looks = [d for d in c.derived if d.kind == "lookalike"]
    roots = {d.family for d in c.derived if d.kind != "lookalike"}
    assert len(looks) == 15 and len(c.docs) == len(base) + 35
    assert {d.source for d in looks} <= roots  # next to planted families first
    assert len({d.source for d in looks}) == 15  # one look-alike per event while there are enough
    donors = [d.donor for d in looks]
    assert len(set(donors)) == 15 and not set(donors) & set(texts)  # written from articles outside the corpus
    assert all(fam[d.id] == d.id and d.depth == 0 for d in looks)  # each its own family
    assert not {x for p in c.planted for x in (p.a, p.b)} & {d.id for d in looks}  # never a planted pair
    for d in looks:
        event, text = texts[d.source], texts[d.id]
        assert shingle_jaccard(event, text) < 0.05, d.id
        assert len(_names(event) & _names(text)) >= 3, d.id  # the event's names, places, acronyms
        figures = set(_NUMBER.findall(event))
        assert not figures or figures & set(_NUMBER.findall(text)), d.id
        own = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 8 and '"' not in s]
        assert not [s for s in own if s in event], d.id  # only a quote may be shared verbatim


def test_lookalikes_need_donors_outside_the_corpus(base: list[Document]) -> None:
    with pytest.raises(ValueError, match="donor articles outside"):
        generate(base, n_near=1, n_rewrite=1, seed=1, n_lookalike=1)  # default donors are the corpus itself


def test_versions_are_never_dated_before_a_dated_source(base: list[Document]) -> None:
    c = generate(base, n_near=20, n_rewrite=40, seed=8, chain_rate=0.6)
    texts = _texts(c)
    both = 0
    for d in c.derived:
        src, own = date_header(texts[d.source])[0], date_header(texts[d.id])[0]
        if src and own:
            both += 1
            assert own >= src, d.id
    assert both >= 3


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
    old = {k: metrics[k] for k in ("recall_near_duplicate", "recall_rewrite", "precision")}
    assert old == {"recall_near_duplicate": 1.0, "recall_rewrite": 0.5, "precision": 2 / 3}
    assert {"family_ari", "family_pair_precision", "family_pair_recall", "lookalike_separation"} <= set(metrics)
    assert details["verdict_accuracy_rewrite"] == 0.0 and details["verdict_accuracy_near_duplicate"] == 1.0
    assert details["reported"]["via_related_base_pair"] == 1 and details["reported"]["base_base_unlabeled"] == 1
    assert details["false_positives"][0]["a"] == "r2"
    assert details["missed_rewrite"][0]["verdict"] == "unrelated"


def _family_case(lookalike_verdict: VerdictName) -> tuple[SyntheticCorpus, list[PairResult]]:
    # x has a near-duplicate n1 (x carries an agency credit, n1 does not); y has a chain y -> r1 -> r2; L reports
    # y's event independently; z and w are base articles the scan finds related (unlabeled).
    texts = dict.fromkeys(("x", "n1", "y", "r1", "r2", "L", "z", "w"), "Some text.")
    texts["x"] = "Some text.\n\n(Reuters)"
    docs = [Document(i, t) for i, t in texts.items()]
    derived = [
        PlantedDoc("n1", "near-duplicate", "x", "x"),
        PlantedDoc("r1", "rewrite", "y", "y"),
        PlantedDoc("r2", "rewrite", "r1", "y", depth=2),
        PlantedDoc("L", "lookalike", "y", "L", "donor", depth=0),
    ]
    results = [
        _result("x", "n1", "near-duplicate"),
        _result("y", "r1", "rewrite"),
        _result("r1", "r2", "rewrite"),
        _result("y", "L", lookalike_verdict),
        _result("z", "w", "rewrite"),
    ]
    return SyntheticCorpus(docs, [], derived), results


def test_score_families_on_a_planted_example() -> None:
    metrics, details = score_families(*_family_case("partial-reuse"))
    # Gold pairs: x-n1 and the three of {y, r1, r2}; z-w is left out, L is alone.
    assert metrics == {
        "family_pair_precision": 1.0,
        "family_pair_recall": 1.0,
        "family_ari": 1.0,
        "lookalike_separation": 1.0,
    }
    assert details["family_pairs"] == {"gold": 4, "predicted": 4, "both": 4}
    # Strict: z-w counts as a wrong pair among 28: (4 - 4 * 5 / 28) / (4.5 - 4 * 5 / 28).
    assert details["family_ari_strict"] == pytest.approx((4 - 20 / 28) / (4.5 - 20 / 28))
    # The credited x loses its family to its near-duplicate: one original of two right.
    assert details["original_accuracy"] == 0.5
    assert details["original_cues"]["credit"] == {"fired": 1, "right": 0.0}
    assert details["lookalike_verdicts"] == {"partial-reuse": 1} and details["lookalike_merged"] == []


def test_score_families_counts_a_merged_lookalike() -> None:
    metrics, details = score_families(*_family_case("rewrite"))
    assert metrics["lookalike_separation"] == 0.0
    assert metrics["family_pair_precision"] == pytest.approx(4 / 7) and metrics["family_pair_recall"] == 1.0
    assert metrics["family_ari"] < 0.8
    assert details["lookalike_merged"][0] | {"with": []} == {
        "lookalike": "L",
        "event": "y",
        "family": "y",
        "with": [],
        "verdict": "rewrite",
    }


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
    res = run(path, n_base=150, n_near=15, n_rewrite=15, n_lookalike=15, seed=2)
    assert set(res.metrics) == {
        "recall_near_duplicate",
        "recall_rewrite",
        "precision",
        "family_pair_precision",
        "family_pair_recall",
        "family_ari",
        "lookalike_separation",
    }
    assert all(0.0 <= v <= 1.0 for v in res.metrics.values())
    assert res.metrics["recall_near_duplicate"] >= 0.9
    assert res.metrics["family_ari"] >= 0.9 and res.metrics["lookalike_separation"] >= 0.9
    assert res.n == 45 and res.details["counts"]["near-duplicate"] == 15 and res.details["counts"]["lookalike"] == 15
    assert res.details["lookalike_candidate_rate"] >= 0.5  # the look-alikes are hard: most reach alignment
    assert set(res.details["channel_recall_rewrite"]) == {"exact", "minhash", "rewrite", "vector", "any"}
    assert 0.0 <= res.details["minhash_recall_rewrite"] <= 1.0
    json.dumps(res.to_json())
