"""The news-rewrites benchmark: scoring arithmetic on a hand-made set, loading errors, both modes end to end on a
tiny set, and the pairwise mode on the shared data."""

from __future__ import annotations

import doctest
import gzip
import json
from pathlib import Path

import pytest

from retold.errors import InputError
from retold.eval import rewrites as rewrites_module
from retold.eval.rewrites import GoldPair, Provenance, RewriteSet, load, run, score
from retold.eval.runner import BENCHMARKS
from retold.model import Alignment, DocInfo, Document, PairResult, Passage, SideSummary, Span, VerdictName

SHARED = (
    "\n\nThe scheme will fund new cycle lanes across Northbridge and Eastfield from next April. Councillor Mara"
    " Okonkwo said the first routes would open before the summer holidays. Local traders in Eastfield have asked"
    " for loading bays to be kept along the high street. The council expects about 4,200 extra journeys a week"
    " once the Northbridge link is finished."
)
SRC = "Budget plan\n\nThe plan will cost ten million pounds, the minister said. Critics called it a waste of money."
SRC += " A sentence nobody carried over." + SHARED
RW = "Budget plan\n\nA fresh lead of our own. It sets the scene.\n\nThe minister said the plan would cost ten"
RW += " million pounds. Critics described the plan as wasteful spending." + SHARED + "\n\n(With inputs from PTI)"
SE = "Minister defends plan\n\nAn independent report of the same event with its own sentences."


def _at(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


# Gold: the title, two body sentences (link 2 is the one the hand-made result misses), the lead, the credit line
# and the dropped sentence.
TITLE = (0, 11, 0, 11)
LINK1 = (
    *_at(RW, "The minister said the plan would cost ten million pounds."),
    *_at(SRC, "The plan will cost ten million pounds, the minister said."),
)
LINK2 = (
    *_at(RW, "Critics described the plan as wasteful spending."),
    *_at(SRC, "Critics called it a waste of money."),
)
LEAD = [_at(RW, "A fresh lead of our own."), _at(RW, "It sets the scene.")]
CREDIT = _at(RW, "(With inputs from PTI)")
DROPPED = _at(SRC, "A sentence nobody carried over.")


def _gold() -> RewriteSet:
    docs = (
        Document("src", SRC, "2005-03-01"),
        Document("rw", RW, "2005-03-02"),
        Document("se", SE, "2005-03-01"),
    )
    pairs = (
        GoldPair("rw", "src", "rewrite", "light", (TITLE, LINK1, LINK2), (*LEAD, CREDIT), (DROPPED,), (CREDIT,)),
        GoldPair("se", "src", "same-event", None),
    )
    return RewriteSet(docs, pairs)


def _result(
    a: str, b: str, verdict: VerdictName, passages: list[Passage], spans_a: list[Span], spans_b: list[Span]
) -> PairResult:
    return PairResult(
        SideSummary(a, None, 100, 0.5),
        SideSummary(b, None, 100, 0.5),
        verdict,
        Alignment(tuple(passages), tuple(spans_a), tuple(spans_b)),
    )


def _hand_results() -> dict[frozenset[str], PairResult]:
    """retold's results as a scan would give them: the rewrite pair with the original as side a (so every offset
    is flipped), the title and link 1 found exactly, link 2 covered on 40 % of its rewritten sentence only; the
    first lead sentence labelled new, the second paraphrase, the credit line attribution."""
    a0, a1, b0, b1 = LINK2
    partial_end = a0 + int(0.4 * (a1 - a0))
    passages = [
        Passage("verbatim", TITLE[2], TITLE[3], TITLE[0], TITLE[1], 1.0),
        Passage("paraphrase", LINK1[2], LINK1[3], LINK1[0], LINK1[1], 0.8),
        Passage("paraphrase", b0, b1, a0, partial_end, 0.7),
    ]
    spans_rw = [Span(*LEAD[0], "new"), Span(*LEAD[1], "paraphrase"), Span(*CREDIT, "attribution")]
    flipped = _result("src", "rw", "rewrite", passages, [Span(*DROPPED, "new")], spans_rw)
    same_event = _result("se", "src", "partial-reuse", [], [], [])
    return {frozenset(("rw", "src")): flipped, frozenset(("se", "src")): same_event}


def _provenance(*, credited: bool, dated: bool, linked: bool = True) -> Provenance:
    """The derived version arrives first; its credit line and the dates, when given, say otherwise."""
    infos = [
        DocInfo("rw", "2005-03-02" if dated else None, len(RW), 0, credited),
        DocInfo("src", "2005-03-01" if dated else None, len(SRC), 1, False),
        DocInfo("se", None, len(SE), 2, False),
    ]
    return Provenance.build(infos, list(_hand_results().values()) if linked else [])


def test_score_arithmetic_on_a_hand_made_pair() -> None:
    results = _hand_results()
    metrics, details = score(
        _gold(), results, _provenance(credited=False, dated=False), _provenance(credited=False, dated=True)
    )
    assert metrics["found"] == 1.0 and metrics["found_light"] == 1.0
    assert metrics["found_heavy"] == 0.0 and metrics["found_partial"] == 0.0  # nothing to find: 0.0
    assert metrics["links_recovered"] == pytest.approx(2 / 3)
    assert metrics["same_event_rewrite"] == 0.0 and metrics["same_event_reuse"] == 1.0
    lead_chars = sum(e - s for s, e in LEAD)
    assert metrics["new_labelled_new"] == pytest.approx((LEAD[0][1] - LEAD[0][0]) / lead_chars)
    assert metrics["dropped_labelled_new"] == 1.0
    assert metrics["attribution_labelled"] == 1.0
    # PAN: three cases; detections lie inside them (precision 1), the third is covered on 40 % of its a side.
    a0, a1, b0, b1 = LINK2
    third = (int(0.4 * (a1 - a0)) + (b1 - b0)) / ((a1 - a0) + (b1 - b0))
    measures = details["plagdet"]["plagdet_light"]
    assert measures["precision"] == 1.0 and measures["granularity"] == 1.0
    assert measures["recall"] == pytest.approx((2 + third) / 3, abs=1e-4)
    assert metrics["plagdet_light"] == pytest.approx(2 * measures["recall"] / (1 + measures["recall"]), abs=1e-4)
    assert metrics["plagdet"] == metrics["plagdet_light"]  # the same-event pair has no detections
    # Undated and uncredited, arrival order decides: the derived version came first, so the direction is wrong;
    # with dates it is right.
    assert metrics["direction_accuracy"] == 0.0 and metrics["direction_accuracy_dated"] == 1.0
    assert details["direction"]["undated"] == {"wrong": 1, "by_order_only": 1}
    row = details["pairs"][0]
    assert row["links"] == [2, 3] and row["verdict"] == "rewrite" and row["direction"] == "wrong"
    assert row["missed"] == [[RW[LINK2[0] : LINK2[1]], SRC[LINK2[2] : LINK2[3]]]]
    assert details["counts"]["same_event_reuse"] == [1, 1]


def test_the_credit_line_orders_an_undated_pair() -> None:
    undated = _provenance(credited=True, dated=False)
    metrics, details = score(_gold(), _hand_results(), undated, undated)
    assert metrics["direction_accuracy"] == 1.0
    assert details["direction"]["undated"] == {"right": 1, "by_order_only": 0}


def test_unreported_pairs_find_nothing_and_have_no_direction() -> None:
    prov = _provenance(credited=True, dated=True, linked=False)
    metrics, details = score(_gold(), {}, prov, prov)
    assert metrics["found"] == 0.0 and metrics["links_recovered"] == 0.0 and metrics["plagdet"] == 0.0
    assert metrics["same_event_reuse"] == 0.0 and metrics["direction_accuracy"] == 0.0
    assert details["direction"]["dated"] == {"unrelated": 1, "by_order_only": 0}
    assert details["pairs"][0]["verdict"] == "not reported"


def test_doctests() -> None:
    assert doctest.testmod(rewrites_module).failed == 0


def _write_set(folder: Path) -> None:
    folder.mkdir()
    data = _gold()
    docs = [{"id": d.id, "text": d.text, "date": d.date, "title": None, "source": None} for d in data.docs]
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    gold = [
        {
            "a": p.a,
            "b": p.b,
            "kind": p.kind,
            "level": p.level,
            "links": [list(x) for x in p.links],
            "new_in_a": [list(x) for x in p.new_in_a],
            "dropped_from_b": [list(x) for x in p.dropped_from_b],
            "attribution_in_a": [list(x) for x in p.attribution_in_a],
        }
        for p in data.gold
    ]
    (folder / "gold.jsonl").write_text("".join(json.dumps(g) + "\n" for g in gold), encoding="utf-8")


def test_load_reads_what_was_written(tmp_path: Path) -> None:
    _write_set(tmp_path / "set")
    assert load(tmp_path / "set") == _gold()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"a": "rw", "b": "nope", "kind": "rewrite", "level": "light"}, "unknown document 'nope'"),
        ({"a": "rw", "b": "src", "kind": "copy", "level": "light"}, "unknown kind 'copy'"),
        ({"a": "rw", "b": "src", "kind": "rewrite", "level": "mild"}, "unknown level 'mild'"),
        ({"a": "rw", "b": "src", "kind": "rewrite", "level": None, "links": [[0, 5, 0, 999]]}, "links[0]"),
        ({"a": "rw", "b": "src", "kind": "rewrite", "level": None, "new_in_a": [[5, 2]]}, "new_in_a[0]"),
    ],
)
def test_load_names_the_bad_gold_line(tmp_path: Path, line: dict[str, object], message: str) -> None:
    _write_set(tmp_path / "set")
    with (tmp_path / "set" / "gold.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    with pytest.raises(InputError, match=r"gold\.jsonl:3") as info:
        load(tmp_path / "set")
    assert message in str(info.value)


def _gz(path: Path, records: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    return path


def test_run_both_modes_on_a_tiny_set(tmp_path: Path) -> None:
    _write_set(tmp_path / "set")
    filler = "Shares in the firm rose sharply on Monday after its results beat forecasts by a wide margin."
    bbc = _gz(
        tmp_path / "bbc.jsonl.gz",
        [{"id": "src", "body": SRC}, {"id": "business/001", "body": filler}, {"id": "tech/001", "body": SE + " More."}],
    )
    reuters = _gz(tmp_path / "reuters.jsonl.gz", [{"id": k, "body": f"{filler} Item {k}."} for k in range(1, 9)])
    result = run(tmp_path / "set", bbc=bbc, reuters=reuters, workers=1)
    out = result.to_json()
    assert out["name"] == "rewrites" and out["n"] == 2
    metrics = out["metrics"]
    assert {"pairwise_found", "hidden_found", "direction_accuracy", "direction_accuracy_dated"} <= set(metrics)
    assert "hidden_direction_accuracy" not in metrics
    assert metrics["pairwise_found"] == metrics["hidden_found"] == 1.0
    hidden = out["details"]["hidden"]
    # "src" of the BBC file is the set's own original: skipped; Reuters 1 and 5 are every 4th.
    assert hidden["corpus"] == {"documents": 7, "hidden": 3, "background": 4}
    assert {r["a"] for r in out["details"]["pairwise"]["pairs"]} == {"rw", "se"}
    assert set(BENCHMARKS["rewrites"].goals) <= set(metrics)


def test_run_pairwise_only_on_the_shared_set(shared_data: Path) -> None:
    result = run(shared_data / "news-rewrites", hidden_mode=False)
    out = result.to_json()
    assert out["n"] == 45
    metrics = out["metrics"]
    assert all(k.startswith("pairwise_") for k in metrics)
    assert "pairwise_direction_accuracy" in metrics and "pairwise_direction_accuracy_dated" in metrics
    assert all(0.0 <= v <= 1.0 for k, v in metrics.items() if "same_event" not in k)
    assert 0 <= metrics["pairwise_same_event_rewrite"] <= 9
    details = out["details"]["pairwise"]
    assert len(details["pairs"]) == 45
    assert details["counts"]["found"][1] == 30 and details["counts"]["same_event_rewrite"][1] == 9
    # The light rewrites are what the seed pair is: every one of them is found, most of their links recovered.
    light = [p for p in details["pairs"] if p["kind"] == "rewrite" and p["level"] == "light"]
    assert len(light) == 6 and metrics["pairwise_found_light"] == 1.0
    assert all(p["verdict"] in ("duplicate", "near-duplicate", "rewrite") for p in light)
    assert sum(p["links"][0] for p in light) >= 0.8 * sum(p["links"][1] for p in light)
