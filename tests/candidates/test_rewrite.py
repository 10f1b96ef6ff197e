"""Tests for retold.candidates.rewrite: rare-term selection and the rare-term candidate channel on a small planted
corpus of invented-name articles with reworded copies; the rule is order-independent up to the posting cap, so
matching in chunks against an index of earlier documents gives the same candidates as one batch."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from retold.candidates.rewrite import (
    Postings,
    match_rare_terms,
    rare_term_matches,
    rare_terms,
    recheck_pairs,
    rewrite_candidates,
    term_vector,
)
from retold.config import RewriteConfig
from retold.model import Document
from retold.text.analyze import analyze
from retold.text.tokens import stem, zipf

_SYL = [
    "zor",
    "vath",
    "quel",
    "mir",
    "drax",
    "bol",
    "kesh",
    "ulm",
    "tren",
    "vosk",
    "plin",
    "garu",
    "yth",
    "omb",
    "sarq",
    "neth",
    "jix",
    "fal",
    "rond",
    "ekt",
]


def _names(count: int, seed: int = 7) -> list[str]:
    """Distinct invented names, unseen in English (zipf 0) and with distinct stems."""
    rng = random.Random(seed)
    out: list[str] = []
    stems: set[str] = set()
    while len(out) < count:
        name = "".join(rng.choice(_SYL) for _ in range(3)).capitalize()
        low = name.lower()
        if zipf(low) == 0.0 and stem(low) not in stems:
            stems.add(stem(low))
            out.append(name)
    return out


def _article(names: list[str], nums: list[str], style: int) -> str:
    n1, n2, n3, n4 = names
    a, b, c = nums
    if style == 0:
        return (
            f"{n1} met {n2} in the city on Monday to talk about the new plan. "
            f"Officials said {a} people would be moved before the winter, and the government agreed to pay {b} "
            f"dollars for each family.\n\n"
            f"{n3} told reporters the meeting was good, while {n4} said more work was needed. "
            f"The report is expected in {c}."
        )
    return (
        f"The new plan was discussed when {n2} and {n1} came together in the capital at the start of the week. "
        f"Around {a} residents face relocation ahead of the cold season; every household will receive {b} dollars "
        f"under a deal the authorities accepted.\n\n"
        f"Speaking to the press, {n3} called the talks positive. {n4} argued that much remained to be done, and "
        f"a final paper should arrive in {c}."
    )


N_BASE = 40
PLANTED = {5: 40, 17: 41, 30: 42}


def _nums(i: int) -> list[str]:
    return [f"{1000 + 37 * i}", f"{5 + i},{100 + i}", f"{2030 + i}"]


def _corpus(extra: str = "") -> list[str]:
    names = _names(4 * N_BASE)
    docs = [_article(names[4 * i : 4 * i + 4], _nums(i), 0) for i in range(N_BASE)]
    for src in PLANTED:
        # Same names and numbers, different common wording (and names in a different order).
        docs.append(_article(names[4 * src : 4 * src + 4], _nums(src), 1))
    return [d + extra for d in docs]


def _terms(texts: list[str]) -> list[dict[str, float]]:
    return [rare_terms(analyze(Document(str(n), t))) for n, t in enumerate(texts)]


# --- rare_terms ----------------------------------------------------------------------------------------------


def test_rare_terms_picks_names_and_numbers() -> None:
    names = _names(4)
    text = _article(names, ["1234", "5,600", "2031"], 0)
    terms = rare_terms(analyze(Document("x", text)))
    expected = {stem(n.lower()) for n in names} | {"1234", "5,600", "2031"}
    assert set(terms) == expected
    assert all(w == pytest.approx(9.0) for w in terms.values())  # unseen words and numbers weigh 9


def test_rare_terms_skips_stopwords_common_words_and_short_tokens() -> None:
    text = "The government said the people of the city would work on the new plan in 2021, and 7 of them left."
    terms = rare_terms(analyze(Document("x", text)))
    assert terms == {"2021": 9.0}


def test_rare_terms_weights_follow_background_rarity() -> None:
    terms = rare_terms(analyze(Document("x", "Zorvathquel visited Panjshir and Mazar last year.")))
    assert terms["zorvathquel"] == pytest.approx(9.0)
    assert 6.0 < terms[stem("panjshir")] < 9.0
    assert set(terms) >= {"zorvathquel", stem("panjshir")}


def test_rare_terms_keyed_by_stem_with_max_weight() -> None:
    terms = rare_terms(analyze(Document("x", "Zorvathians and the Zorvathian met.")))
    assert len(terms) == 1
    (key,) = terms
    assert key == stem("zorvathians") == stem("zorvathian")


def test_rare_terms_ignore_attribution() -> None:
    names = _names(2)
    text = f"The {names[0]} plan was agreed on Monday.\nReporting by {names[1]} Vosk; Editing by Jane Doe"
    terms = rare_terms(analyze(Document("x", text)))
    assert stem(names[0].lower()) in terms
    assert stem(names[1].lower()) not in terms
    assert rare_terms(analyze(Document("x", ""))) == {}


# --- rewrite_candidates --------------------------------------------------------------------------------------


def test_planted_rewrites_are_found_and_nothing_else() -> None:
    texts = _corpus()
    cands = rewrite_candidates(_terms(texts), RewriteConfig())
    assert {(c.a, c.b) for c in cands} == set(PLANTED.items())
    for c in cands:
        assert c.channel == "rewrite"
        assert c.a < c.b
        assert 0.0 <= c.score <= 1.0
        assert c.score == pytest.approx(1.0)  # every rare term is shared
    assert cands == sorted(cands, key=lambda c: (c.a, c.b))


def test_shared_region_names_below_min_shared_do_not_pair() -> None:
    """Groups of five articles share two mid-frequency invented terms: below `min_shared`, so no pairs."""
    texts = _corpus()
    extra = _names(20, seed=99)
    texts = [
        t + f"\n\nThe {extra[i % 10]} office and the {extra[10 + i % 10]} office were closed."
        for i, t in enumerate(texts)
    ]
    cands = rewrite_candidates(_terms(texts), RewriteConfig())
    assert {(c.a, c.b) for c in cands} == set(PLANTED.items())
    # With min_shared=2 every same-group pair (2 shared terms, about 2/9 of the rare weight) becomes a candidate.
    loose = rewrite_candidates(_terms(texts), RewriteConfig(min_shared=2, min_score=0.1))
    assert {(c.a, c.b) for c in loose} > set(PLANTED.items())
    for c in loose:
        assert c.a % 10 == c.b % 10 or (c.a, c.b) in PLANTED.items()


def test_posting_cap_ignores_a_term_held_by_more_documents_than_the_cap() -> None:
    everywhere = " ".join(_names(3, seed=123))
    texts = _corpus(extra=f"\n\nAlso present: {everywhere}.")
    terms = _terms(texts)
    assert all(sum(stem(w.lower()) in t for w in everywhere.split()) == 3 for t in terms)
    n = len(texts)
    # Under the cap, three shared rare terms (27 of about 90 weight) make every pair a candidate.
    wide = rewrite_candidates(terms, RewriteConfig())
    assert len(wide) == n * (n - 1) // 2
    # With a cap of 5, the terms every document holds are usable for none: only the planted copies pair.
    capped = rewrite_candidates(terms, RewriteConfig(max_postings=5))
    assert {(c.a, c.b) for c in capped} == set(PLANTED.items())


def test_terms_in_only_one_document_never_pair() -> None:
    terms = [{"aa1": 9.0, "bb1": 9.0, "cc1": 9.0}, {"aa2": 9.0, "bb2": 9.0, "cc2": 9.0}]
    assert rewrite_candidates(terms, RewriteConfig(min_shared=1, min_score=0.0)) == []


def test_score_is_weighted_containment_of_the_smaller_document() -> None:
    small = {"x1": 9.0, "x2": 9.0, "x3": 9.0}
    big = {**small, **{f"y{k}": 9.0 for k in range(9)}}
    other = {"x1": 9.0, "x2": 9.0, "z1": 9.0, "z2": 9.0}
    cands = rewrite_candidates([small, big, other], RewriteConfig(min_shared=2, min_score=0.0))
    by_pair = {(c.a, c.b): c.score for c in cands}
    assert by_pair[(0, 1)] == pytest.approx(1.0)  # all of the small document is in the big one
    assert by_pair[(0, 2)] == pytest.approx(2 / 3)
    assert by_pair[(1, 2)] == pytest.approx(2 / 4)
    assert all(0.0 <= s <= 1.0 for s in by_pair.values())
    strict = rewrite_candidates([small, big, other], RewriteConfig(min_shared=2, min_score=0.6))
    assert {(c.a, c.b) for c in strict} == {(0, 1), (0, 2)}
    three = RewriteConfig(min_shared=3, few_terms_score=1.0)
    assert {(c.a, c.b) for c in rewrite_candidates([small, big, other], three)} == {(0, 1)}


def test_two_terms_suffice_when_they_are_most_of_a_small_document() -> None:
    """A rewrite of an article with only two or three rare terms can never share `min_shared`; two shared terms
    qualify when they carry `few_terms_score` of the smaller document's weight, never one, never a small share."""
    few = {"mpc": 9.0, "4.75%": 9.0}
    rewrite = {"mpc": 9.0, "4.75%": 9.0, "outlay": 6.0}
    three = {"endogen": 7.0, "memorandum": 6.0, "telecom": 6.0}
    three_rw = {"endogen": 7.0, "memorandum": 6.0, "widescreen": 6.0}
    broad = {"endogen": 7.0, "memorandum": 6.0, **{f"w{k}": 9.0 for k in range(6)}}
    single = {"mpc": 9.0, "zzz": 9.0}
    cands = rewrite_candidates([few, rewrite, three, three_rw, broad, single], RewriteConfig())
    pairs = {(c.a, c.b): c.score for c in cands}
    assert pairs[(0, 1)] == pytest.approx(1.0)
    assert pairs[(2, 3)] == pytest.approx(13 / 19)  # 2 of 3 terms, 0.68 of the weight
    assert (2, 4) in pairs and (3, 4) in pairs  # the two are all but one term of the smaller document
    assert not any(5 in p for p in pairs)  # one shared term never pairs
    strict = rewrite_candidates([few, rewrite, three, three_rw], RewriteConfig(few_terms_score=0.9))
    assert {(c.a, c.b) for c in strict} == {(0, 1)}


def test_unequal_weights() -> None:
    d0 = {"p": 9.0, "q": 4.0, "r": 1.0}
    d1 = {"p": 9.0, "q": 4.0, "s": 16.0}
    (c,) = rewrite_candidates([d0, d1], RewriteConfig(min_shared=2, min_score=0.0))
    assert c.score == pytest.approx(13.0 / 14.0)


def test_no_per_document_cap_in_a_dense_group() -> None:
    """Ten documents sharing the same rare terms: every pair is a candidate (no top-k), scores by containment."""
    shared = {f"s{k}": 9.0 for k in range(3)}
    terms = [{**shared, **{f"u{d}_{k}": 9.0 for k in range(d)}} for d in range(10)]
    everything = rewrite_candidates(terms, RewriteConfig(min_score=0.0))
    assert len(everything) == 45
    by_pair = {(c.a, c.b): c.score for c in everything}
    assert by_pair[(0, 9)] == pytest.approx(1.0) and by_pair[(8, 9)] == pytest.approx(3 / 11)
    strict = rewrite_candidates(terms, RewriteConfig(min_score=0.5))
    assert {(c.a, c.b) for c in strict} == {(a, b) for (a, b), s in by_pair.items() if s >= 0.5}


def test_hub_keeps_every_spoke() -> None:
    """A wire story and its partial reprints: each reprint is contained in the hub, and every pair is kept."""
    hub: dict[str, float] = {}
    spokes = []
    for d in range(8):
        own = {f"t{d}_{k}": 9.0 for k in range(3)}
        hub.update(own)
        spokes.append(own)
    cands = rewrite_candidates([hub, *spokes], RewriteConfig(min_score=0.0))
    assert {(c.a, c.b) for c in cands} == {(0, d) for d in range(1, 9)}
    assert all(c.score == pytest.approx(1.0) for c in cands)


def _postings(terms: list[dict[str, float]], cap: int) -> Postings:
    """An index of `terms` (seq = position), as a store answers for every term."""
    rows = sorted(
        (k, seq, w, term_vector(t).total)
        for seq, t in enumerate(terms)
        for k, w in zip(term_vector(t).keys.tolist(), term_vector(t).weights.tolist(), strict=True)
    )
    df: dict[int, int] = {}
    for k, *_ in rows:
        df[k] = df.get(k, 0) + 1
    short = [r for r in rows if df[r[0]] <= cap]
    return Postings(
        np.asarray(sorted(df), dtype=np.int64),
        np.asarray([df[k] for k in sorted(df)], dtype=np.int64),
        np.asarray([r[0] for r in short], dtype=np.int64),
        np.asarray([r[1] for r in short], dtype=np.int64),
        np.asarray([r[2] for r in short], dtype=np.float64),
        np.asarray([r[3] for r in short], dtype=np.float64),
    )


@pytest.mark.parametrize("cap", [3, 200])
@pytest.mark.parametrize("chunk", [1, 7, 20])
def test_chunks_against_an_index_equal_one_batch_once_rechecked(chunk: int, cap: int) -> None:
    """Each chunk judges usability with the index as the chunk leaves it; the pairs found while a term was still
    usable are the ones `recheck_pairs` takes back, so chunks plus the recheck give exactly one batch."""
    rng = random.Random(3)
    # A skewed vocabulary: a few words most documents hold (they cross a small cap), many held by two or three.
    vocab = [f"w{k}" for k in range(60)]
    skew = [1.0 / (k + 1) for k in range(60)]
    terms = [{w: rng.choice([6.5, 7.0, 9.0]) for w in rng.choices(vocab, skew, k=rng.randint(0, 9))} for _ in range(40)]
    cfg = RewriteConfig(min_shared=2, min_score=0.3, max_postings=cap)
    batch = rewrite_candidates(terms, cfg)
    grown = []
    for start in range(0, len(terms), chunk):
        new = [term_vector(t) for t in terms[start : start + chunk]]
        grown += match_rare_terms(new, range(start, start + len(new)), _postings(terms[:start], cap), cfg)
    full = _postings(terms, cap)
    common = np.sort(full.terms[full.df > cap])
    vecs = {i: term_vector(t) for i, t in enumerate(terms)}
    keep, _ = recheck_pairs([(c.a, c.b) for c in grown], vecs, common, cfg)
    assert sorted((c for c, k in zip(grown, keep.tolist(), strict=True) if k), key=lambda c: (c.a, c.b)) == batch
    assert {(c.a, c.b) for c in batch} <= {(c.a, c.b) for c in grown}
    assert batch  # the corpus does produce candidates
    if cap == 3 and chunk < 20:
        assert len(grown) > len(batch)  # some terms did cross the cap part-way


def test_recheck_keeps_the_score_of_a_pair_without_common_terms() -> None:
    rng = random.Random(8)
    vocab = [f"w{k}" for k in range(30)]
    terms = [{w: round(rng.uniform(6, 9), 3) for w in rng.sample(vocab, rng.randint(0, 9))} for _ in range(50)]
    cfg = RewriteConfig(min_shared=2, min_score=0.25, max_postings=50)
    vecs = {i: term_vector(t) for i, t in enumerate(terms)}
    got = rewrite_candidates(terms, cfg)
    keep, sharing = recheck_pairs([(c.a, c.b) for c in got], vecs, np.empty(0, dtype=np.int64), cfg)
    assert keep.all() and sharing.all() and got


def test_degenerate_inputs() -> None:
    assert rewrite_candidates([], RewriteConfig()) == []
    assert rewrite_candidates([{"a": 9.0}], RewriteConfig()) == []
    assert rewrite_candidates([{}, {}, {}], RewriteConfig()) == []


def test_candidates_do_not_depend_on_document_order_beyond_relabelling() -> None:
    texts = _corpus()
    terms = _terms(texts)
    order = list(range(len(terms)))
    random.Random(5).shuffle(order)
    shuffled = [terms[i] for i in order]
    cands = rewrite_candidates(shuffled, RewriteConfig())
    back = {tuple(sorted((order[c.a], order[c.b]))) for c in cands}
    assert back == set(PLANTED.items())
    assert all(c.a < c.b for c in cands)


def test_all_pairs_scores_symmetric_and_bounded() -> None:
    rng = random.Random(11)
    vocab = [f"w{k}" for k in range(12)]
    terms = [{w: rng.choice([6.5, 7.0, 9.0]) for w in rng.sample(vocab, rng.randint(0, 8))} for _ in range(15)]
    cands = rewrite_candidates(terms, RewriteConfig(min_shared=1, min_score=0.0))
    for c in cands:
        assert 0 <= c.a < c.b < len(terms)
        assert 0.0 <= c.score <= 1.0
    expected = {(i, j) for i, j in itertools.combinations(range(15), 2) if set(terms[i]) & set(terms[j])}
    assert {(c.a, c.b) for c in cands} == expected


def _brute_force(terms: list[dict[str, float]], seqs: list[int], cfg: RewriteConfig) -> dict[tuple[int, int], float]:
    """The rule of `match_rare_terms`, pair by pair: shared terms held by at most the cap of all documents, summed
    in key order."""
    vecs = [term_vector(t) for t in terms]
    out: dict[tuple[int, int], float] = {}
    for j, vj in enumerate(vecs):
        held_before = {k: sum(k in v.keys.tolist() for v in vecs) for k in vj.keys.tolist()}
        wj = dict(zip(vj.keys.tolist(), vj.weights.tolist(), strict=True))
        for i in range(j):
            wi = dict(zip(vecs[i].keys.tolist(), vecs[i].weights.tolist(), strict=True))
            shared = sorted(k for k in wj if k in wi and held_before[k] <= cfg.max_postings)
            smaller = min(vecs[i].total, vj.total)
            if not shared or smaller <= 0:
                continue
            score = 0.0
            for k in shared:
                score += float(np.sqrt(wi[k] * wj[k]))
            score /= smaller
            n = len(shared)
            enough = n >= cfg.min_shared or (n >= 2 and score >= cfg.few_terms_score)
            if enough and score >= cfg.min_score:
                out[(seqs[i], seqs[j])] = min(1.0, score)
    return out


@pytest.mark.parametrize("min_shared", [1, 2, 3])
@pytest.mark.parametrize("base", [0, 2**52])  # 2**52: seqs too large for the one-key sort: the lexsort path
def test_match_rare_terms_equals_the_pairwise_rule(min_shared: int, base: int) -> None:
    rng = random.Random(min_shared)
    vocab = [f"w{k}" for k in range(30)]
    terms = [{w: round(rng.uniform(6, 9), 3) for w in rng.sample(vocab, rng.randint(0, 8))} for _ in range(60)]
    cfg = RewriteConfig(min_shared=min_shared, min_score=0.25, max_postings=9, few_terms_score=0.5)
    seqs = [base + 3 * n for n in range(len(terms))]
    got = match_rare_terms([term_vector(t) for t in terms], seqs, Postings(), cfg)
    want = _brute_force(terms, seqs, cfg)
    assert [(c.a, c.b) for c in got] == sorted(want) and len(want) > 10
    assert all(c.score == pytest.approx(want[(c.a, c.b)], rel=1e-12) for c in got)


def test_sharing_pairs_are_those_with_one_usable_term_in_common() -> None:
    rng = random.Random(5)
    vocab = [f"w{k}" for k in range(30)]
    terms = [{w: round(rng.uniform(6, 9), 3) for w in rng.sample(vocab, rng.randint(0, 8))} for _ in range(60)]
    cfg = RewriteConfig(max_postings=6)
    vecs = [term_vector(t) for t in terms]
    want = set()
    for j, vj in enumerate(vecs):
        for i in range(j):
            held = {k for k in vj.keys.tolist() if sum(k in v.keys.tolist() for v in vecs) <= 6}
            if held & set(vecs[i].keys.tolist()):
                want.add((i, j))
    cands, sharing = rare_term_matches(vecs, range(60), Postings(), cfg, sharing=True)
    assert [tuple(r) for r in sharing.tolist()] == sorted(want) and len(want) > 50
    assert {(c.a, c.b) for c in cands} <= want
    assert rare_term_matches(vecs, range(60), Postings(), cfg)[1].shape == (0, 2)  # not asked: not computed
