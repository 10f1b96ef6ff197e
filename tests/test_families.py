"""Tests for retold.families: the radius-2 membership rule (chains together, no chaining through partial reuse or
past two hops), the choice of original and its confidence, directed edges, keep-list modes, and a Hypothesis
property over random graphs of version pairs."""

from __future__ import annotations

import doctest
import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retold.dates as dates_module
import retold.families as families_module
from retold import api
from retold.api import compare_documents
from retold.dates import date_warning, parse_date
from retold.families import (
    CONFIDENCE_CONTAINMENT,
    CONFIDENCE_CREDIT,
    CONFIDENCE_DATE,
    CONFIDENCE_ORDER,
    CUE_WEIGHTS,
    LINK_VERDICTS,
    build_families,
    cue_votes,
    keep_list,
    precedence,
)
from retold.model import (
    VERDICTS,
    Alignment,
    DocInfo,
    Document,
    Family,
    FamilyEdge,
    PairResult,
    SideSummary,
    VerdictName,
)
from retold.text.boilerplate import find_boilerplate


def doc(id_: str, order: int, date: str | None = None, credited: bool = False, chars: int = 1000) -> DocInfo:
    return DocInfo(id=id_, date=date, chars=chars, order=order, credited=credited)


def pair(a: str, b: str, verdict: VerdictName, cov_a: float = 0.9, cov_b: float = 0.9) -> PairResult:
    return PairResult(
        a=SideSummary(a, None, 1000, cov_a),
        b=SideSummary(b, None, 1000, cov_b),
        verdict=verdict,
        alignment=Alignment((), (), ()),
    )


def dated(ids: str, start_day: int = 1) -> list[DocInfo]:
    """One document per letter, in corpus order, each a day later than the one before."""
    return [doc(c, i, f"2024-03-{start_day + i:02d}") for i, c in enumerate(ids)]


def groups(fams: Sequence[Family]) -> set[frozenset[str]]:
    return {frozenset(f.members) for f in fams}


def against(winner: float, *others: float) -> float:
    """Confidence of a cue of strength `winner` contradicted by weaker cues of strengths `others`."""
    z = math.log(winner / (1 - winner)) - sum(math.log(p / (1 - p)) for p in others)
    return 1 / (1 + math.exp(-z))


# --- membership -------------------------------------------------------------------------------------------------


def test_chain_of_rewrites_stays_together() -> None:
    # C was rewritten from B, B from A; C shares only a passage with A.
    pairs = [pair("A", "B", "rewrite"), pair("B", "C", "rewrite"), pair("A", "C", "partial-reuse")]
    fams = build_families(dated("ABC"), pairs)
    assert groups(fams) == {frozenset("ABC")}
    (fam,) = fams
    assert fam.original == fam.id == "A" and fam.members == ("A", "B", "C")
    assert fam.confidence == CONFIDENCE_DATE
    assert fam.edges == (FamilyEdge("A", "B", "rewrite"), FamilyEdge("B", "C", "rewrite"))


@pytest.mark.parametrize("core", ["A", "B", "C"])
def test_chain_stays_together_whichever_end_looks_original(core: str) -> None:
    # Without dates the containment cue picks the core; from any position a three-link chain is within radius 2.
    docs = [doc(c, i) for i, c in enumerate("ABC")]
    pairs = [
        pair("A", "B", "rewrite", 0.95 if core == "A" else 0.7, 0.95 if core == "B" else 0.7),
        pair("B", "C", "rewrite", 0.95 if core == "B" else 0.7, 0.95 if core == "C" else 0.7),
    ]
    fams = build_families(docs, pairs)
    assert groups(fams) == {frozenset("ABC")}
    assert fams[0].original == core


def test_long_chain_is_not_single_linked() -> None:
    # Connected components would make one family of A..E; radius 2 stops at C, and D starts its own family.
    pairs = [pair(x, y, "rewrite") for x, y in ("AB", "BC", "CD", "DE")]
    fams = build_families(dated("ABCDE"), pairs)
    assert groups(fams) == {frozenset("ABC"), frozenset("DE")}
    assert [f.id for f in fams] == ["A", "D"]


def test_independent_stories_sharing_a_quote_stay_apart() -> None:
    # Two reports of one event, each with its own copies, quoting the same statement (partial reuse).
    docs = dated("XxYy")
    pairs = [
        pair("X", "x", "near-duplicate"),
        pair("Y", "y", "rewrite"),
        pair("X", "Y", "partial-reuse"),
        pair("x", "y", "partial-reuse"),
        pair("X", "y", "unrelated"),
    ]
    assert groups(build_families(docs, pairs)) == {frozenset("Xx"), frozenset("Yy")}


def test_no_chaining_through_a_partial_reuse_hub() -> None:
    # H (a round-up) reuses a paragraph of each of two unrelated families; it joins neither and links neither.
    docs = dated("HABCD")
    pairs = [
        pair("A", "B", "rewrite"),
        pair("C", "D", "duplicate"),
        pair("H", "A", "partial-reuse"),
        pair("H", "B", "partial-reuse"),
        pair("H", "C", "partial-reuse"),
    ]
    assert groups(build_families(docs, pairs)) == {frozenset("H"), frozenset("AB"), frozenset("CD")}


def test_star_family() -> None:
    docs = dated("OABCD")
    verdicts: list[VerdictName] = ["duplicate", "near-duplicate", "rewrite", "rewrite"]
    pairs = [pair("O", m, v) for m, v in zip("ABCD", verdicts, strict=True)]
    (fam,) = build_families(docs, pairs)
    assert fam.original == "O" and set(fam.members) == set("OABCD")
    assert {(e.source, e.target, e.verdict) for e in fam.edges} == {
        ("O", m, v) for m, v in zip("ABCD", verdicts, strict=True)
    }


def test_second_hop_must_pass_through_a_member() -> None:
    # N is at the edge of X's family (X -> M -> N). Z hangs off N and Y links to N, so Z is two hops from Y,
    # but the middle hop N is not a member of Y's family: Z joins neither (three hops from X).
    docs = dated("XMNYZ")
    pairs = [pair("X", "M", "rewrite"), pair("M", "N", "rewrite"), pair("Y", "N", "rewrite"), pair("N", "Z", "rewrite")]
    assert groups(build_families(docs, pairs)) == {frozenset("XMN"), frozenset("Y"), frozenset("Z")}


def test_partial_reuse_links_only_when_asked() -> None:
    docs = dated("AB")
    pairs = [pair("A", "B", "partial-reuse")]
    assert groups(build_families(docs, pairs)) == {frozenset("A"), frozenset("B")}
    linked = build_families(docs, pairs, link_verdicts=(*LINK_VERDICTS, "partial-reuse"))
    assert groups(linked) == {frozenset("AB")}
    only_duplicates: tuple[VerdictName, ...] = ("duplicate",)
    apart = build_families(docs, [pair("A", "B", "rewrite")], link_verdicts=only_duplicates)
    assert groups(apart) == {frozenset("A"), frozenset("B")}


def test_repeated_pair_keeps_the_strongest_verdict() -> None:
    pairs = [pair("A", "B", "partial-reuse"), pair("B", "A", "near-duplicate"), pair("A", "B", "rewrite")]
    (fam,) = build_families(dated("AB"), pairs)
    assert fam.edges == (FamilyEdge("A", "B", "near-duplicate"),)


def test_every_document_in_exactly_one_family_and_singletons_included() -> None:
    docs = dated("ABCDEFG")
    pairs = [pair("A", "C", "rewrite"), pair("E", "F", "duplicate"), pair("B", "G", "partial-reuse")]
    fams = build_families(docs, pairs)
    members = [m for f in fams for m in f.members]
    assert sorted(members) == list("ABCDEFG")
    singles = [f for f in fams if len(f.members) == 1]
    assert {f.id for f in singles} == {"B", "D", "G"}
    assert all(f.confidence == 1.0 and f.edges == () and f.original == f.id for f in singles)
    assert [f.id for f in fams] == ["A", "B", "D", "E", "G"]  # by the original's corpus order


def test_empty_corpus() -> None:
    assert build_families([], []) == [] and keep_list([], "original", {}) == []


@pytest.mark.parametrize(
    ("docs", "pairs", "message"),
    [
        ([doc("A", 0), doc("A", 1)], [], "duplicate document id"),
        ([doc("A", 0)], [pair("A", "Z", "rewrite")], "'Z', which is not among"),
        ([doc("A", 0)], [pair("A", "A", "rewrite")], "with itself"),
    ],
)
def test_bad_input_is_refused(docs: list[DocInfo], pairs: list[PairResult], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_families(docs, pairs)


def test_unknown_link_verdict_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown verdicts"):
        build_families([], [], link_verdicts=("copy",))  # type: ignore[arg-type]


# --- original and confidence --------------------------------------------------------------------------------------


def test_original_by_date_beats_corpus_order_and_containment() -> None:
    docs = [doc("late", 0, "2024-03-05"), doc("early", 1, "2024-03-01")]
    # "late" looks contained in "early", but the date decides; the disagreeing cue lowers the confidence.
    (fam,) = build_families(docs, [pair("late", "early", "rewrite", 0.98, 0.6)])
    assert fam.original == "early" and fam.edges == (FamilyEdge("early", "late", "rewrite"),)
    assert fam.confidence == pytest.approx(against(CONFIDENCE_DATE, CONFIDENCE_CONTAINMENT), abs=1e-4)
    assert 0.8 < fam.confidence < CONFIDENCE_DATE


def test_date_beats_containment_and_credit_together() -> None:
    # Both dated: the earlier wins even when every weaker cue points the other way.
    docs = [doc("early", 0, "2024-03-01", credited=True), doc("late", 1, "2024-03-02")]
    (fam,) = build_families(docs, [pair("early", "late", "rewrite", 0.6, 0.97)])
    assert fam.original == "early"
    assert fam.confidence == pytest.approx(
        against(CONFIDENCE_DATE, CONFIDENCE_CONTAINMENT, CONFIDENCE_CREDIT), abs=1e-4
    )
    assert 0.5 < fam.confidence < 0.7


def test_agreeing_cues_raise_confidence() -> None:
    docs = [doc("late", 0, "2024-03-02", credited=True), doc("early", 1, "2024-03-01")]
    (fam,) = build_families(docs, [pair("late", "early", "rewrite", 0.6, 0.97)])
    assert fam.original == "early" and fam.confidence > 0.99


def test_dates_with_times_and_zones_compare_as_instants() -> None:
    docs = [doc("a", 0, "2024-03-01T10:00:00+02:00"), doc("b", 1, "2024-03-01T09:00:00Z")]
    (fam,) = build_families(docs, [pair("a", "b", "near-duplicate")])
    assert fam.original == "a" and fam.confidence == CONFIDENCE_DATE  # 08:00 UTC before 09:00 UTC


@pytest.mark.parametrize(
    "bad", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2021-13-45", "yesterday", "\x00", "+"]
)
def test_unusable_dates_are_undated_not_a_crash(bad: str) -> None:
    # Found after all alignment is done, an OverflowError here used to lose the whole run and every later export.
    docs = [doc("odd", 0, bad), doc("dated", 1, "2024-03-01"), doc("plain", 2)]
    fams = build_families(docs, [pair("odd", "dated", "near-duplicate"), pair("dated", "plain", "near-duplicate")])
    (fam,) = fams
    assert set(fam.members) == {"odd", "dated", "plain"}
    assert fam.original == "odd" and fam.confidence == CONFIDENCE_ORDER  # one-sided date: no evidence
    assert families_module._parse_date(bad) is None


def test_date_edges_that_still_fit_are_kept() -> None:
    assert families_module._parse_date("0001-01-01T00:00:00-05:00") == datetime(1, 1, 1, 5, 0)
    assert families_module._parse_date("9999-12-31T23:59:59+05:00") == datetime(9999, 12, 31, 18, 59, 59)
    assert families_module._parse_date(" 2024-03-01 ") == datetime(2024, 3, 1)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.none(), st.text(), st.datetimes(timezones=st.timezones()).map(datetime.isoformat)))
def test_date_parsing_is_total(value: str | None) -> None:
    when = parse_date(value)
    assert when is None or (isinstance(when, datetime) and when.tzinfo is None)
    warning = date_warning(value)
    assert (warning is not None) == (value is not None and bool(value.strip()) and when is None)


def test_dates_docstring_examples() -> None:
    assert doctest.testmod(dates_module).failed == 0


def test_original_by_containment_when_dates_tie() -> None:
    # "short" is largely contained in "long" (long adds material), so "short" is the likelier original.
    docs = [doc("long", 0, "2024-03-01"), doc("short", 1, "2024-03-01")]
    (fam,) = build_families(docs, [pair("long", "short", "near-duplicate", 0.6, 0.97)])
    assert fam.original == "short" and fam.confidence == CONFIDENCE_CONTAINMENT
    assert fam.edges == (FamilyEdge("short", "long", "near-duplicate"),)


def test_small_coverage_difference_is_not_containment() -> None:
    docs = [doc("a", 0), doc("b", 1)]
    (fam,) = build_families(docs, [pair("a", "b", "rewrite", 0.8, 0.85)])
    assert fam.original == "a" and fam.confidence == CONFIDENCE_ORDER
    (fam,) = build_families(docs, [pair("a", "b", "rewrite", 0.8, 0.85)], containment_margin=0.02)
    assert fam.original == "b" and fam.confidence == CONFIDENCE_CONTAINMENT


def test_original_by_agency_credit() -> None:
    docs = [doc("credited", 0, "2024-03-01", credited=True), doc("plain", 1, "2024-03-01")]
    (fam,) = build_families(docs, [pair("credited", "plain", "rewrite")])
    assert fam.original == "plain" and fam.confidence == CONFIDENCE_CREDIT


def test_one_sided_date_is_no_evidence() -> None:
    docs = [doc("undated", 0), doc("dated", 1, "2024-03-01")]
    (fam,) = build_families(docs, [pair("undated", "dated", "rewrite")])
    assert fam.original == "undated" and fam.confidence == CONFIDENCE_ORDER  # corpus order, a coin toss
    docs = [doc("dated", 0, "2024-03-01"), doc("undated", 1)]
    (fam,) = build_families(docs, [pair("undated", "dated", "rewrite")])
    assert fam.original == "dated" and fam.confidence == CONFIDENCE_ORDER


def test_one_sided_date_does_not_beat_containment() -> None:
    # Only one side is dated: containment decides (the dated one adds material).
    docs = [doc("dated", 0, "2024-03-01"), doc("undated", 1)]
    (fam,) = build_families(docs, [pair("dated", "undated", "rewrite", 0.7, 0.95)])
    assert fam.original == "undated" and fam.confidence == CONFIDENCE_CONTAINMENT


def test_one_sided_date_does_not_beat_an_agency_credit() -> None:
    # The seed pattern: the dated version carries "(with inputs from ANI)", its undated source does not.
    docs = [doc("rewrite", 0, "2021-09-06", credited=True), doc("source", 1)]
    (fam,) = build_families(docs, [pair("rewrite", "source", "rewrite", 0.778, 0.781)])
    assert fam.original == "source" and fam.members == ("source", "rewrite")
    assert fam.edges == (FamilyEdge("source", "rewrite", "rewrite"),)
    assert fam.confidence == CONFIDENCE_CREDIT
    # A disagreeing containment cue (weaker: trimmed copies are the more covered side) only lowers the confidence.
    (fam,) = build_families(docs, [pair("rewrite", "source", "rewrite", 0.95, 0.7)])
    assert fam.original == "source"
    assert fam.confidence == pytest.approx(against(CONFIDENCE_CREDIT, CONFIDENCE_CONTAINMENT), abs=1e-4)


def test_precedence_matches_families() -> None:
    src, rewrite = doc("s", 1), doc("r", 0, "2021-09-06", credited=True)
    first, p = precedence(src, rewrite)
    assert first is True and p == pytest.approx(CONFIDENCE_CREDIT)
    assert cue_votes(src, rewrite) == {"date": 0, "containment": 0, "credit": 1}
    assert cue_votes(rewrite, src, "r") == {"date": 0, "containment": 1, "credit": -1}
    assert precedence(rewrite, src)[0] is False
    assert precedence(doc("a", 0), doc("b", 1)) == (None, CONFIDENCE_ORDER)
    # Containment is read for linking pairs only.
    assert precedence(doc("a", 0), doc("b", 1), "a")[0] is True
    assert precedence(doc("a", 0), doc("b", 1), "a", linked=False) == (None, CONFIDENCE_ORDER)


def test_dated_members_keep_date_order_around_an_undated_original() -> None:
    # U (undated, no credit) beats both dated, credited versions; among those the earlier comes first,
    # even though the later one has more links.
    docs = [doc("d2", 0, "2024-03-02", credited=True), doc("d1", 1, "2024-03-01", credited=True), doc("U", 2)]
    docs += [doc(f"x{i}", 3 + i, credited=True) for i in range(3)]
    pairs = [pair("U", "d1", "rewrite"), pair("U", "d2", "rewrite"), pair("d1", "d2", "near-duplicate")]
    pairs += [pair("d2", f"x{i}", "near-duplicate") for i in range(3)]
    (fam,) = build_families(docs, pairs)
    assert fam.original == "U" and fam.members[:3] == ("U", "d1", "d2")


def test_chain_confidence_follows_the_weakest_link() -> None:
    # Undated chain: A is contained in B, B in C; A and C were never compared, the chain still orders them.
    docs = [doc("C", 0), doc("B", 1), doc("A", 2)]
    pairs = [pair("A", "B", "rewrite", 0.97, 0.7), pair("B", "C", "rewrite", 0.97, 0.7)]
    (fam,) = build_families(docs, pairs)
    assert fam.members == ("A", "B", "C") and fam.confidence == CONFIDENCE_CONTAINMENT
    weaker = [pair("A", "B", "rewrite", 0.97, 0.7), pair("B", "C", "rewrite")]
    (fam,) = build_families(docs, weaker)
    assert fam.original == "A" and fam.confidence == CONFIDENCE_ORDER


def test_unparseable_date_counts_as_missing() -> None:
    # Compared as text "2023-13-45" would come first; it is no date, so corpus order decides.
    docs = [doc("dated", 0, "2024-03-05"), doc("junk", 1, "2023-13-45")]
    (fam,) = build_families(docs, [pair("junk", "dated", "rewrite")])
    assert fam.original == "dated" and fam.confidence == CONFIDENCE_ORDER
    assert cue_votes(doc("junk", 0, "last Tuesday"), doc("dated", 1, "2024-03-01"))["date"] == 0


def test_corpus_order_when_nothing_distinguishes() -> None:
    docs = [doc("first", 0), doc("second", 1)]
    (fam,) = build_families(docs, [pair("second", "first", "duplicate")])
    assert fam.original == "first" and fam.confidence == CONFIDENCE_ORDER


def test_confidence_scale_is_ordered_and_lexicographic() -> None:
    assert 1.0 >= CONFIDENCE_DATE > CONFIDENCE_CREDIT > CONFIDENCE_CONTAINMENT > CONFIDENCE_ORDER == 0.5
    # Each cue outweighs all weaker ones together, so the first separating cue decides.
    w = list(CUE_WEIGHTS.values())
    assert list(CUE_WEIGHTS) == ["date", "credit", "containment"]
    assert all(w[i] > sum(w[i + 1 :]) for i in range(len(w)))
    assert against(CONFIDENCE_DATE, CONFIDENCE_CREDIT, CONFIDENCE_CONTAINMENT) > 0.5


def test_family_confidence_is_the_weakest_member_cue() -> None:
    # B is a day later (date decides), C has the original's date and no other cue (corpus order decides).
    docs = [doc("A", 0, "2024-03-01"), doc("B", 1, "2024-03-02"), doc("C", 2, "2024-03-01")]
    (fam,) = build_families(docs, [pair("A", "B", "rewrite"), pair("A", "C", "rewrite")])
    assert fam.original == "A" and fam.confidence == CONFIDENCE_ORDER


def test_edges_run_from_more_original_to_derived() -> None:
    docs = [doc("C", 0, "2024-03-03"), doc("A", 1, "2024-03-01"), doc("B", 2, "2024-03-02")]
    pairs = [pair("C", "B", "rewrite"), pair("B", "A", "near-duplicate"), pair("C", "A", "rewrite")]
    (fam,) = build_families(docs, pairs)
    assert fam.members == ("A", "B", "C")
    assert fam.edges == (
        FamilyEdge("A", "B", "near-duplicate"),
        FamilyEdge("A", "C", "rewrite"),
        FamilyEdge("B", "C", "rewrite"),
    )


def test_very_large_family_is_ranked_by_summed_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past `_EXACT_MAX` members the dense greedy ranking is replaced by each member's summed log-odds.
    monkeypatch.setattr(families_module, "_EXACT_MAX", 2)
    docs = [doc("B", 0, "2024-03-03"), doc("O", 1, "2024-03-01"), doc("A", 2, "2024-03-02"), doc("C", 3)]
    pairs = [pair("O", m, "rewrite") for m in "ABC"]
    (fam,) = build_families(docs, pairs)
    assert fam.original == "O" and fam.members[0] == "O" and set(fam.members) == set("OABC")
    # C is undated: only corpus order separates it from O, the others are later by date.
    assert fam.confidence == CONFIDENCE_ORDER
    assert {(e.source, e.target) for e in fam.edges} == {("O", "A"), ("O", "B"), ("O", "C")}


def test_with_real_pair_results() -> None:
    texts = {
        "a": "The minister said on Monday that the new bridge over the river will open next year. "
        "It cost 40 million dollars to build. Local people welcomed the news.",
        "b": "On Monday the minister announced that the new river bridge would open next year. "
        "Building it cost 40 million dollars. Residents welcomed the announcement.\n(With inputs from PTI)",
        "c": "Scientists found a new species of frog in the rain forest. The frog is bright blue and very small.",
    }
    docs = [Document(k, v) for k, v in texts.items()]
    infos = [
        DocInfo(d.id, None, len(d.text), i, any(b.kind == "agency" for b in find_boilerplate(d.text)))
        for i, d in enumerate(docs)
    ]
    assert [i.credited for i in infos] == [False, True, False]
    pairs = [compare_documents(docs[0], docs[1]), compare_documents(docs[1], docs[2])]
    assert pairs[0].verdict in LINK_VERDICTS and pairs[1].verdict not in LINK_VERDICTS
    fams = build_families(infos, pairs)
    assert groups(fams) == {frozenset("ab"), frozenset("c")}
    assert {f.id: f.original for f in fams} == {"a": "a", "c": "c"}


# --- keep list ----------------------------------------------------------------------------------------------------


CHAIN = [pair("A", "B", "rewrite"), pair("B", "C", "near-duplicate")]
# Corpus order C, B, A, S: the copies come first, as in a crawl of aggregators; S is a singleton.
CHAIN_DOCS = [doc("C", 0, "2024-03-03"), doc("B", 1, "2024-03-02"), doc("A", 2, "2024-03-01"), doc("S", 3)]
ORDER = {d.id: d.order for d in CHAIN_DOCS}


def keep(mode: str) -> dict[str, tuple[bool, str, str]]:
    recs = keep_list(build_families(CHAIN_DOCS, CHAIN), mode, ORDER)  # type: ignore[arg-type]
    assert [r.id for r in recs] == ["C", "B", "A", "S"]  # one record per document, corpus order
    return {r.id: (r.keep, r.family, r.reason) for r in recs}


def test_keep_original() -> None:
    assert keep("original") == {
        "A": (True, "A", "original of family A"),
        "B": (False, "A", "copy of A (rewrite)"),
        "C": (False, "A", "copy of A (near-duplicate of B)"),
        "S": (True, "S", "singleton"),
    }


def test_keep_first() -> None:
    assert keep("first") == {
        "C": (True, "A", "version of A, first in corpus order"),
        "B": (False, "A", "version of A (rewrite); kept C, first in corpus order"),
        "A": (False, "A", "original of family A; kept C, first in corpus order"),
        "S": (True, "S", "singleton"),
    }


def test_keep_all() -> None:
    got = keep("all")
    assert all(k for k, _, _ in got.values())
    assert got["A"][2] == "original of family A" and got["B"][2] == "version of A (rewrite)"
    assert got["C"][2] == "version of A (near-duplicate of B)" and got["S"][2] == "singleton"


def test_keep_reason_for_a_member_more_original_than_its_link() -> None:
    # B joins through C but ranks before it (earlier date), so its only edge points away from it.
    fam = Family("A", ("A", "B", "C"), "A", 1.0, (FamilyEdge("A", "C", "rewrite"), FamilyEdge("B", "C", "rewrite")))
    recs = keep_list([fam], "original", {"A": 0, "B": 1, "C": 2})
    assert recs[1].reason == "copy of A (C is a rewrite of it)"


def test_keep_list_refuses_bad_input() -> None:
    fam = Family("A", ("A", "B"), "A", 1.0)
    with pytest.raises(ValueError, match="unknown keep mode"):
        keep_list([fam], "best", {"A": 0, "B": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more than one family"):
        keep_list([fam, Family("B", ("B",), "B", 1.0)], "all", {"A": 0, "B": 1})
    with pytest.raises(ValueError, match="no corpus position"):
        keep_list([fam], "all", {"A": 0})


def test_docstring_examples() -> None:
    assert doctest.testmod(families_module).failed == 0


@pytest.mark.shared_data
def test_seed_family_original_is_the_undated_uncredited_source(shared_data: Path, tmp_path: Path) -> None:
    # Seed 000 is a rewrite of 004: it alone has a date header, and it adds "(with inputs from ANI)".
    api.scan_corpus([shared_data / "seeds"], tmp_path)
    lines = (tmp_path / "families.jsonl").read_text(encoding="utf-8").splitlines()
    (fam,) = [json.loads(line) for line in lines]
    rewrite, source = Path(api.SEED_A).name, Path(api.SEED_B).name
    assert fam["original"] == fam["id"] == source and fam["members"] == [source, rewrite]
    assert fam["edges"] == [{"from": source, "to": rewrite, "verdict": "rewrite"}]
    # The credit decides (coverage is even, and a date on one side only is no evidence).
    assert fam["confidence"] == CONFIDENCE_CREDIT
    keep = {r["id"]: r["keep"] for r in map(json.loads, (tmp_path / "keep.jsonl").read_text().splitlines())}
    assert keep == {source: True, rewrite: False}


# --- property -----------------------------------------------------------------------------------------------------


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list[DocInfo], list[PairResult]]:
    n = draw(st.integers(1, 14))
    ids = [f"d{i}" for i in range(n)]
    days = st.none() | st.integers(1, 4).map(lambda d: f"2024-03-0{d}")
    docs = [doc(d, i, draw(days), draw(st.booleans())) for i, d in enumerate(ids)]
    pairs: list[PairResult] = []
    if n > 1:
        couples = st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda t: t[0] != t[1])
        cov = st.sampled_from([0.3, 0.6, 0.85, 0.97])
        for a, b in draw(st.lists(couples, max_size=3 * n)):
            pairs.append(pair(a, b, draw(st.sampled_from(VERDICTS)), draw(cov), draw(cov)))
    return docs, pairs


@settings(max_examples=300, deadline=None)
@given(corpora())
def test_property_partition_radius_and_edges(corpus: tuple[list[DocInfo], list[PairResult]]) -> None:
    docs, pairs = corpus
    fams = build_families(docs, pairs)
    members = [m for f in fams for m in f.members]
    assert sorted(members) == sorted(d.id for d in docs)  # every document in exactly one family
    linked = {frozenset((p.a.id, p.b.id)) for p in pairs if p.verdict in LINK_VERDICTS}
    date = {d.id: d.date for d in docs}
    for fam in fams:
        original = fam.original
        assert fam.id == original == fam.members[0]
        assert 0.0 <= fam.confidence <= 1.0
        assert len(fam.members) > 1 or fam.confidence == 1.0
        # every member within radius 2 of some core, the middle hop being a member linked to the core
        assert any(within_two(core, fam.members, linked) for core in fam.members)
        dates = [date[m] for m in fam.members if date[m] is not None]
        assert dates == sorted(dates)  # type: ignore[type-var]  # dated members in date order
        position = {m: i for i, m in enumerate(fam.members)}
        assert len(fam.edges) == sum(1 for p in linked if p <= set(fam.members))
        for e in fam.edges:
            assert frozenset((e.source, e.target)) in linked
            assert position[e.source] < position[e.target]  # from the more original: never a cycle


def within_two(core: str, members: Sequence[str], linked: set[frozenset[str]]) -> bool:
    ring1 = {m for m in members if frozenset((core, m)) in linked}
    return all(m == core or m in ring1 or any(frozenset((r, m)) in linked for r in ring1) for m in members)


@settings(max_examples=60, deadline=None)
@given(corpora(), st.randoms(use_true_random=False))
def test_property_membership_does_not_depend_on_arrival_order(
    corpus: tuple[list[DocInfo], list[PairResult]], rng: object
) -> None:
    docs, pairs = corpus
    positions = list(range(len(docs)))
    rng.shuffle(positions)  # type: ignore[attr-defined]
    moved = [DocInfo(d.id, d.date, d.chars, positions[i], d.credited) for i, d in enumerate(docs)]
    assert {frozenset(f.members) for f in build_families(moved, pairs)} == {
        frozenset(f.members) for f in build_families(docs, pairs)
    }


def test_a_chain_splits_the_same_way_whatever_arrived_first() -> None:
    # A - B - C - D - E with no cue anywhere: the core is the best linked document, ties to the first by id
    # (B), never the first to arrive, so the members are the same for both arrival orders (the original may
    # differ: arrival order is the last cue for it).
    pairs = [pair(x, y, "rewrite") for x, y in ("AB", "BC", "CD", "DE")]
    forward = [doc(x, n) for n, x in enumerate("ABCDE")]
    backward = [doc(x, 4 - n) for n, x in enumerate("ABCDE")]
    want = {frozenset("ABCD"), frozenset("E")}
    assert groups(build_families(forward, pairs)) == want == groups(build_families(backward, pairs))
