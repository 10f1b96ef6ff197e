"""Tests for retold.eval.judged (metric arithmetic, the three data layouts, input errors, the shared 120 pairs) and
for bench/sample_pairs.py (sampling, the judging sheet, and scoring a filled sheet)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from retold import api
from retold.config import AlignConfig, RetoldConfig
from retold.errors import InputError
from retold.eval import judged, runner
from retold.eval.judged import METRICS, REUSED, TRUTHS, counts, score
from retold.model import VERDICTS

ARTICLE = (
    "The city council approved a new budget on Tuesday after a long debate about road repairs. "
    "Council leader Maria Lopez said the plan would fix 40 miles of streets over the next two years. "
    "Opposition members argued that the money should go to schools instead.\n\n"
    "The budget of 12 million pounds includes funds for street lighting and new cycle lanes. "
    "Residents will be able to comment on the plans at a public meeting next month.\n"
)
EDITED = ARTICLE.replace("approved", "passed").replace(
    "Opposition members argued that the money should go to schools instead.\n\n", ""
)
CONCERT = (
    "The national orchestra opened its winter season with a performance of Mahler's fifth symphony. "
    "The conductor, who joined the orchestra last spring, was praised for the slow movement. "
    "Tickets for the remaining concerts are nearly sold out.\n\n"
    "The orchestra will tour three cities in February before returning for a festival in March.\n"
)
HARVEST = (
    "Farmers in the north reported an early wheat harvest after a dry and warm summer. "
    "Yields were lower than last year, the farmers' union said, but grain quality was high. "
    "Prices at the regional market rose for the third week in a row.\n"
)
MATCH = (
    "The home side won the cup final with a late goal from their captain in front of a full stadium. "
    "The visitors had led for most of the second half after a penalty. "
    "Fans celebrated in the streets of the town until the early morning.\n"
)
CFG = RetoldConfig(align=AlignConfig(semantic="off"))  # lexical only: fast, and the same on every machine


def _write_gz(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _judged(a: str, b: str, corpus: str, truth: str, then: str = "rewrite") -> dict[str, Any]:
    return {
        "a": a,
        "b": b,
        "corpus": corpus,
        "verdict_then": then,
        "truth": truth,
        "level_ok": None,
        "passages_ok": False,
        "why": "hand-made",
    }


def _mini_shared(root: Path) -> Path:
    """A shared-data-like folder: judged-pairs/pairs.jsonl, bbc/docs.jsonl.gz, reuters21578/docs.jsonl.gz."""
    _write_gz(
        root / "bbc" / "docs.jsonl.gz",
        [
            {"id": "news/001", "category": "news", "title": "Budget", "body": ARTICLE},
            {"id": "news/002", "category": "news", "title": "Budget again", "body": ARTICLE},
            {"id": "arts/001", "category": "arts", "title": "Concert", "body": CONCERT},
        ],
    )
    _write_gz(
        root / "reuters21578" / "docs.jsonl.gz",
        [
            {"id": 1, "date": "1987-02-26T15:01:01", "title": "BUDGET", "body": ARTICLE},
            {"id": 2, "date": "1987-02-27T10:00:00", "title": "BUDGET", "body": EDITED},
            {"id": 3, "date": "1987-02-27T11:00:00", "title": "HARVEST", "body": HARVEST},
            {"id": 4, "date": "1987-02-28T12:00:00", "title": "CUP", "body": MATCH},
        ],
    )
    _write_jsonl(
        root / "judged-pairs" / "pairs.jsonl",
        [
            _judged("news/001", "news/002", "bbc", "reuse", "near-duplicate"),  # duplicate: right
            _judged("news/001", "arts/001", "bbc", "topical", "partial-reuse"),  # unrelated: right
            _judged("1", "2", "reuters21578", "template", "near-duplicate"),  # reused verdict: a false reuse
            _judged("1", "3", "reuters21578", "reuse"),  # unrelated: a missed reuse
            _judged("3", "4", "reuters21578", "template"),  # unrelated: template not recognised
            _judged("2", "4", "reuters21578", "topical"),  # unrelated: right
        ],
    )
    return root


# --- the arithmetic ----------------------------------------------------------------------------------------------


def test_score_by_hand() -> None:
    rows = [
        ("reuse", "duplicate"),
        ("reuse", "near-duplicate"),
        ("reuse", "rewrite"),
        ("reuse", "partial-reuse"),
        ("reuse", "template"),  # a missed reuse
        ("template", "near-duplicate"),
        ("template", "rewrite"),
        ("template", "rewrite"),
        ("template", "template"),
        ("topical", "partial-reuse"),
        ("topical", "template"),
        ("topical", "unrelated"),
    ]
    m = score(rows)
    assert list(m) == list(METRICS)
    assert m["reuse_precision"] == pytest.approx(4 / 8)  # 8 reused verdicts, 4 of them on reuse pairs
    assert m["reuse_recall"] == pytest.approx(4 / 5)
    assert m["template_recall"] == pytest.approx(1 / 4)
    assert m["topical_rejected"] == pytest.approx(1 / 3)
    assert m["precision_near_duplicate"] == pytest.approx(1 / 2)
    assert m["precision_rewrite"] == pytest.approx(1 / 3)
    assert m["precision_partial_reuse"] == pytest.approx(1 / 2)
    c = counts(rows)
    assert (c["reused"], c["truth_reuse"], c["truth_template"], c["truth_topical"]) == (8, 5, 4, 3)


def test_a_share_of_no_pairs_is_one() -> None:
    m = score([("reuse", "duplicate"), ("topical", "unrelated")])
    assert m["template_recall"] == 1.0  # no template pair to miss
    assert m["precision_rewrite"] == 1.0  # no rewrite verdict to be wrong
    assert m["reuse_precision"] == 1.0 and m["reuse_recall"] == 1.0 and m["topical_rejected"] == 1.0
    assert score([("template", "rewrite")])["reuse_precision"] == 0.0


def test_registered_with_goals_on_its_metrics() -> None:
    bench = runner.BENCHMARKS["judged"]
    assert bench.default == "judged-pairs" and set(bench.goals) <= set(METRICS)
    assert set(REUSED) | {"template", "unrelated"} == set(VERDICTS)


# --- a hand-made judged set --------------------------------------------------------------------------------------


def test_mini_set_metrics(tmp_path: Path) -> None:
    root = _mini_shared(tmp_path)
    res = judged.run(root, CFG)  # the shared-data form: finds judged-pairs/pairs.jsonl and the corpora beside it
    assert res.name == "judged" and res.n == 6 and list(res.metrics) == list(METRICS)
    verdicts = [(r["a"], r["b"], r["verdict"]) for r in res.details["wrong"]]
    conf = res.details["confusion"]
    assert sum(conf["reuse"].values()) == 2 and sum(conf["template"].values()) == 2
    assert sum(conf["topical"].values()) == 2
    # Copies get a reused verdict, unrelated texts "unrelated" (whatever the aligner's levels).
    assert conf["reuse"]["unrelated"] == 1 and sum(conf["reuse"][v] for v in REUSED) == 1
    assert sum(conf["template"][v] for v in REUSED) == 1 and conf["template"]["unrelated"] == 1
    assert conf["topical"]["unrelated"] == 2
    m = res.metrics
    assert m["reuse_precision"] == 0.5  # pairs 1 and 3 called reused, pair 1 truly reuse
    assert m["reuse_recall"] == 0.5  # pair 4 (unrelated texts judged reuse) missed
    assert m["template_recall"] == 0.0
    assert m["topical_rejected"] == 1.0
    assert {(a, b) for a, b, _ in verdicts} == {("1", "2"), ("1", "3"), ("3", "4")}
    assert res.details["confusion_then"]["template"]["near-duplicate"] == 1
    assert res.details["per_corpus"]["bbc"]["n"] == 2 and res.details["per_corpus"]["reuters21578"]["n"] == 4
    assert "precision_rewrite" not in res.details["per_corpus"]["bbc"]  # no rewrite verdict there: left out
    assert json.loads(json.dumps(res.to_json()))["metrics"] == {k: round(v, 4) for k, v in m.items()}
    # The same set given as the judged-pairs folder or as the pairs file: corpora found one level up.
    for data in (root / "judged-pairs", root / "judged-pairs" / "pairs.jsonl"):
        assert judged.run(data, CFG).metrics == m


def test_a_pairs_file_that_carries_its_texts(tmp_path: Path) -> None:
    sheet = _write_jsonl(
        tmp_path / "sheet" / "pairs.jsonl",
        [
            {**_judged("x", "y", "mine", "reuse"), "text_a": ARTICLE, "text_b": EDITED},
            {**_judged("x", "z", "mine", "topical"), "text_a": ARTICLE, "text_b": CONCERT},
            {"a": "p", "b": "q", "truth": "template", "text_a": HARVEST, "text_b": MATCH},  # no corpus needed
        ],
    )
    res = judged.run(sheet.parent, CFG)
    assert res.n == 3
    assert res.metrics["reuse_recall"] == 1.0 and res.metrics["reuse_precision"] == 1.0
    assert res.metrics["topical_rejected"] == 1.0 and res.metrics["template_recall"] == 0.0
    assert res.details["per_corpus"][""]["n"] == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"a": "x", "b": "y", "corpus": "c", "truth": ""}, "not judged yet"),
        ({"a": "x", "b": "y", "corpus": "c", "truth": "copy"}, "'copy'"),
        ({"a": "x", "b": "y", "truth": "reuse"}, "missing field 'corpus'"),
        ({"a": "x", "b": "y", "truth": "reuse", "text_a": "t"}, "both texts"),
        ({"a": 1, "b": "y", "corpus": "c", "truth": "reuse"}, "'a'"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: dict[str, Any], message: str) -> None:
    path = _write_jsonl(
        tmp_path / "pairs.jsonl", [{**_judged("a", "b", "c", "reuse"), "text_a": "x", "text_b": "y"}, line]
    )
    with pytest.raises(InputError, match=message) as info:
        judged.read_pairs(path)
    assert info.value.line == 2 and info.value.source == str(path)


def test_missing_texts_and_files(tmp_path: Path) -> None:
    root = _mini_shared(tmp_path)
    with pytest.raises(InputError, match="no pairs.jsonl"):
        judged.run(tmp_path / "bbc", CFG)
    _write_jsonl(root / "judged-pairs" / "pairs.jsonl", [_judged("1", "99", "reuters21578", "reuse")])
    with pytest.raises(InputError, match="ids not found .*: 99"):
        judged.run(root, CFG)
    _write_jsonl(root / "judged-pairs" / "pairs.jsonl", [_judged("1", "2", "nowhere", "reuse")])
    with pytest.raises(InputError, match="corpus 'nowhere' not found"):
        judged.run(root, CFG)
    (root / "judged-pairs" / "pairs.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no judged pairs"):
        judged.run(root, CFG)


# --- bench/sample_pairs.py ---------------------------------------------------------------------------------------


def _sampler() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "sample_pairs.py"
    spec = importlib.util.spec_from_file_location("sample_pairs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sample_pairs", module)
    spec.loader.exec_module(module)
    return module


def test_quotas_and_draw_are_deterministic() -> None:
    sp = _sampler()
    assert sp.quotas({"near-duplicate": 3, "rewrite": 50, "partial-reuse": 80}, 10) == {
        "near-duplicate": 3,
        "rewrite": 4,
        "partial-reuse": 3,
    }
    assert sp.quotas({"rewrite": 2, "partial-reuse": 1}, 10) == {"rewrite": 2, "partial-reuse": 1}
    population = [(n, "rewrite" if n % 3 else "near-duplicate") for n in range(1, 61)]
    uniform = sp.draw(population, 10, 7, False)
    assert uniform == sp.draw(population, 10, 7, False) and len(set(uniform)) == 10
    assert uniform != sp.draw(population, 10, 8, False)
    strat = sp.draw(population, 10, 7, True)
    assert sum(1 for n in strat if n % 3 == 0) == 5 and len(set(strat)) == 10
    assert sorted(sp.draw(population, 100, 1, False)) == list(range(1, 61))  # fewer pairs than asked: all


def test_sample_sheet_round_trip(tmp_path: Path) -> None:
    corpus = [
        {"id": "budget-1", "body": ARTICLE},
        {"id": "budget-2", "body": EDITED},
        {"id": "budget-3", "body": ARTICLE},
        {"id": "concert", "body": CONCERT},
        {"id": "harvest", "body": HARVEST},
    ]
    inputs = _write_jsonl(tmp_path / "news" / "docs.jsonl", corpus)
    api.scan_corpus([inputs], tmp_path / "scan", CFG, text_field="body")
    scan_pairs = [json.loads(x) for x in (tmp_path / "scan" / "pairs.jsonl").read_text().splitlines()]
    assert len(scan_pairs) == 3  # the three budget copies
    sp = _sampler()
    argv = [str(tmp_path / "scan"), "--inputs", str(inputs), "--text-field", "body", "--seed", "3", "--n", "2"]
    assert sp.main(argv) == 0
    out = tmp_path / "scan" / "judging-seed3"
    rows = [json.loads(x) for x in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2
    shared_fields = ["a", "b", "corpus", "verdict_then", "truth", "level_ok", "passages_ok", "why"]
    texts = {r["id"]: r["body"] for r in corpus}
    for r in rows:
        assert list(r)[:8] == shared_fields and r["truth"] == "" and r["corpus"] == "news"
        assert r["text_a"] == texts[r["a"]] and r["text_b"] == texts[r["b"]]
        assert r["passages"] and all(
            p["text_a"] == r["text_a"][p["a_start"] : p["a_end"]]
            and p["text_b"] == r["text_b"][p["b_start"] : p["b_end"]]
            for p in r["passages"]
        )
    md = (out / "pairs.md").read_text(encoding="utf-8")
    assert md.count("\n## ") == 2 and "| # | label | A | B |" in md
    info = json.loads((out / "sample.json").read_text())
    assert info["seed"] == 3 and info["mode"] == "uniform" and sum(info["drawn"].values()) == 2
    assert "duplicate" not in info["scan_pairs"]  # budget-1 = budget-3: nothing to judge, left out by default
    # An unfilled sheet cannot be scored, nor overwritten.
    with pytest.raises(InputError, match="not judged yet"):
        judged.run(out, CFG)
    with pytest.raises(SystemExit):
        sp.main(argv)
    # Filled, it scores: the carried texts are aligned again, with the same verdicts as the scan.
    filled = [{**r, "truth": "reuse", "level_ok": True, "passages_ok": True} for r in rows]
    _write_jsonl(out / "pairs.jsonl", filled)
    res = judged.run(out, CFG)
    assert res.n == 2 and res.metrics["reuse_recall"] == 1.0 and res.metrics["reuse_precision"] == 1.0
    assert res.details["confusion"] == res.details["confusion_then"]
    # Per verdict, into another folder, overwriting on request.
    assert sp.main([*argv, "--per-verdict", "--to", str(tmp_path / "sheet"), "--n", "5"]) == 0
    assert sp.main([*argv, "--per-verdict", "--to", str(tmp_path / "sheet"), "--force"]) == 0
    assert json.loads((tmp_path / "sheet" / "sample.json").read_text())["mode"] == "per verdict"
    assert sp.main([*argv, "--to", str(tmp_path / "dup"), "--verdicts", "duplicate"]) == 0
    assert json.loads((tmp_path / "dup" / "sample.json").read_text())["drawn"] == {"duplicate": 1}
    # Pairs already judged are not drawn again; blind sheets carry no verdict and deal the pairs out.
    every = ["--verdicts", "duplicate,near-duplicate,rewrite,partial-reuse", "--n", "5"]
    assert sp.main([*argv, *every, "--to", str(tmp_path / "fresh"), "--exclude", str(out / "pairs.jsonl")]) == 0
    fresh = [json.loads(x) for x in (tmp_path / "fresh" / "pairs.jsonl").read_text().splitlines()]
    assert len(fresh) == 1 and {fresh[0]["a"], fresh[0]["b"]} not in [{r["a"], r["b"]} for r in rows]
    assert sp.main([*argv, "--to", str(tmp_path / "blind"), "--blind", "2"]) == 0
    blind = [json.loads(x) for k in (1, 2) for x in (tmp_path / "blind" / f"blind-{k}.jsonl").read_text().splitlines()]
    assert len(blind) == 2 and all(list(b) == list(sp.BLIND_FIELDS) for b in blind)
    assert all("verdict_then" not in b and "passages" not in b for b in blind)


# --- the shared data ---------------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_shared_judged_pairs(shared_data: Path) -> None:
    res = judged.run(shared_data, CFG)
    assert res.n == 120 and list(res.metrics) == list(METRICS)
    assert all(0.0 <= v <= 1.0 for v in res.metrics.values())
    conf = res.details["confusion"]
    assert set(conf) == set(TRUTHS) and all(set(VERDICTS) <= set(row) for row in conf.values())
    assert {t: sum(row.values()) for t, row in conf.items()} == {"reuse": 38, "template": 57, "topical": 25}
    then = res.details["confusion_then"]
    assert sum(then["reuse"].values()) == 38 and then["template"]["rewrite"] == 34  # the README's table
    assert sum(c["n"] for c in res.details["per_corpus"].values()) == 120
    assert set(res.details["per_corpus"]) == {"bbc", "reuters21578"}
    assert len(res.details["wrong"]) == 120 - sum(sum(conf[t][v] for v in judged.EXPECTED[t]) for t in TRUTHS)
