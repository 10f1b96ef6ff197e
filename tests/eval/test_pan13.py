"""PAN-13 benchmark: the measures on hand-made cases and against the official PAN script, gold and XML I/O, run()."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retold.api import compare_documents
from retold.errors import InputError
from retold.eval import pan13
from retold.eval.pan13 import Annotation, PanPair
from retold.io.readers import read_text_file
from retold.model import Alignment, PairResult, Passage, SideSummary

OFFICIAL = "pan13/eval/pan12-plagiarism-detection-evaluation.py"
P = ("susp.txt", "src.txt")
A = Annotation


@pytest.fixture(scope="module")
def official(shared_data: Path) -> Iterator[types.ModuleType]:
    """The official PAN script, imported with stub `tira` modules (it needs them only to write its output)."""
    tira = types.ModuleType("tira")
    io_utils = types.ModuleType("tira.io_utils")
    io_utils.to_prototext = lambda *a, **k: ""  # type: ignore[attr-defined]
    tira.io_utils = io_utils  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in ("tira", "tira.io_utils")}
    sys.modules.update({"tira": tira, "tira.io_utils": io_utils})
    try:
        spec = importlib.util.spec_from_file_location("pan_official_eval", shared_data / OFFICIAL)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod
    yield module


def official_score(mod: types.ModuleType, cases: Any, dets: Any) -> dict[str, float]:
    rec, prec = mod.macro_avg_recall_and_precision(cases, dets)
    gran = mod.granularity(cases, dets)
    return {"plagdet": mod.plagdet_score(rec, prec, gran), "precision": prec, "recall": rec, "granularity": gran}


def as_official(mod: types.ModuleType, by_pair: Mapping[tuple[str, str], Sequence[Annotation]]) -> set[Any]:
    """Annotations as the official script builds them from XML: a set of 7-tuples, '.txt' dropped from refs."""
    return {
        mod.Annotation(s.replace(".txt", ""), a.this_offset, a.this_length, r.replace(".txt", ""),
                       a.source_offset, a.source_length, True)
        for (s, r), anns in by_pair.items() for a in anns
    }  # fmt: skip


def assert_close(ours: Mapping[str, float], theirs: Mapping[str, float]) -> None:
    assert set(ours) == set(theirs)
    for k in ours:
        assert math.isclose(ours[k], float(theirs[k]), rel_tol=0, abs_tol=1e-9), (k, ours[k], theirs[k])


# --- measures on hand-made cases ----------------------------------------------------------------------------------


def test_perfect_detection() -> None:
    cases = {P: [A(0, 100, 50, 100), A(300, 20, 0, 20)]}
    assert pan13.score(cases, cases) == {"plagdet": 1.0, "precision": 1.0, "recall": 1.0, "granularity": 1.0}


def test_half_overlap_by_hand() -> None:
    # case: susp [0,100) src [0,100); detection: susp [50,150) src [50,150).
    # recall = (50 + 50) / 200 = 0.5; precision = (50 + 50) / 200 = 0.5; plagdet = F1 = 0.5.
    s = pan13.score({P: [A(0, 100, 0, 100)]}, {P: [A(50, 100, 50, 100)]})
    assert s == pytest.approx({"plagdet": 0.5, "precision": 0.5, "recall": 0.5, "granularity": 1.0})
    # Detection inside the case on the suspicious side only: recall (40 + 100) / 200, precision 1.
    s = pan13.score({P: [A(0, 100, 0, 100)]}, {P: [A(30, 40, 0, 100)]})
    assert s["recall"] == pytest.approx(0.7) and s["precision"] == 1.0
    assert s["plagdet"] == pytest.approx(2 * 0.7 / 1.7)


def test_split_case_has_granularity_two() -> None:
    s = pan13.score({P: [A(0, 100, 0, 100)]}, {P: [A(0, 50, 0, 50), A(50, 50, 50, 50)]})
    assert s["granularity"] == 2.0 and s["recall"] == 1.0 and s["precision"] == 1.0
    assert s["plagdet"] == pytest.approx(1 / math.log2(3))


def test_no_detections_and_no_cases() -> None:
    assert pan13.score({P: [A(0, 10, 0, 10)]}, {}) == {
        "plagdet": 0.0,
        "precision": 0.0,
        "recall": 0.0,
        "granularity": 1.0,
    }
    assert pan13.score({P: []}, {P: []}) == {"plagdet": 1.0, "precision": 1.0, "recall": 1.0, "granularity": 1.0}


def test_detection_without_case_has_zero_precision() -> None:
    s = pan13.score({P: [A(0, 10, 0, 10)]}, {P: [A(500, 10, 500, 10)]})
    assert s == {"plagdet": 0.0, "precision": 0.0, "recall": 0.0, "granularity": 1.0}
    # A false detection in another pair halves the precision of a perfect one.
    s = pan13.score({P: [A(0, 10, 0, 10)]}, {P: [A(0, 10, 0, 10)], ("x.txt", "y.txt"): [A(0, 5, 0, 5)]})
    assert s["precision"] == 0.5 and s["recall"] == 1.0


def test_overlap_needs_both_sides() -> None:
    s = pan13.score({P: [A(0, 100, 0, 100)]}, {P: [A(0, 100, 100, 100)]})  # same susp text, other source text
    assert s["recall"] == 0.0 and s["precision"] == 0.0


def test_plagdet_edge_values() -> None:
    assert pan13.plagdet(0.0, 0.0, 1.0) == 0.0
    assert pan13.plagdet(1.0, 1.0, 0.5) == 0.0
    assert pan13.plagdet(1.0, 0.5, 1.0) == pytest.approx(2 / 3)
    assert pan13.plagdet(0.75, 0.25, 2.0) == pytest.approx(0.23659865)


# --- agreement with the official script on random annotations -----------------------------------------------------

PAIRS = [("s1.txt", "r1.txt"), ("s1.txt", "r2.txt"), ("s2.txt", "r1.txt")]  # pairs share documents, as in PAN


@st.composite
def annotation_st(draw: st.DrawFn) -> Annotation:
    t_off, s_off = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    t_len, s_len = draw(st.integers(0, 40)), draw(st.integers(0, 40))
    if t_len + s_len == 0:
        t_len = 1
    return Annotation(t_off, t_len, s_off, s_len)


by_pair = st.dictionaries(st.sampled_from(PAIRS), st.lists(annotation_st(), max_size=5), max_size=3)


@settings(max_examples=300, deadline=None)
@given(cases=by_pair, dets=by_pair)
def test_score_agrees_with_official(official: types.ModuleType, cases: dict[Any, Any], dets: dict[Any, Any]) -> None:
    theirs = official_score(official, as_official(official, cases), as_official(official, dets))
    assert_close(pan13.score(cases, dets), theirs)


# --- detections ---------------------------------------------------------------------------------------------------


def _result(*passages: Passage) -> PairResult:
    side = SideSummary("x", None, 1000, 0.0)
    return PairResult(side, side, "partial-reuse", Alignment(tuple(passages), (), ()))


def test_detections_merge_and_filter() -> None:
    res = _result(
        Passage("verbatim", 0, 50, 100, 150, 1.0),
        Passage("paraphrase", 40, 80, 140, 190, 0.6),  # overlaps the first on both sides: merged
        Passage("paraphrase", 81, 120, 191, 230, 0.6),  # 1 char apart: merged only with gap >= 1
        Passage("verbatim", 60, 70, 500, 510, 1.0),  # overlaps on one side only: kept apart
        Passage("verbatim", 300, 300, 600, 620, 1.0),  # empty: dropped
    )
    both = ("verbatim", "paraphrase")
    assert pan13.detections(res, both) == [A(0, 80, 100, 90), A(60, 10, 500, 10), A(81, 39, 191, 39)]
    assert pan13.detections(res, both, gap=1) == [A(0, 120, 100, 130), A(60, 10, 500, 10)]
    # The default: verbatim passages only (the no-obfuscation cases are copies).
    assert pan13.detections(res) == [A(0, 50, 100, 50), A(60, 10, 500, 10)]


# --- gold and XML I/O ---------------------------------------------------------------------------------------------


def _folder(tmp_path: Path, lines: Sequence[str]) -> Path:
    (tmp_path / "susp").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "susp" / "a.txt").write_text("suspicious text\n")
    (tmp_path / "src" / "b.txt").write_text("source text\n")
    (tmp_path / "gold.jsonl").write_text("".join(line + "\n" for line in lines))
    return tmp_path


GOOD = {"suspicious": "susp/a.txt", "source": "src/b.txt", "cases": [{"this_offset": 1, "this_length": 2,
        "source_offset": 3, "source_length": 4, "type": "artificial"}]}  # fmt: skip


def test_load_gold(tmp_path: Path) -> None:
    pairs = pan13.load_gold(_folder(tmp_path, [json.dumps(GOOD), ""]))
    assert pairs == [PanPair(tmp_path / "susp/a.txt", tmp_path / "src/b.txt", (A(1, 2, 3, 4),))]
    assert pairs[0].key == ("a.txt", "b.txt")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({**GOOD, "source": "src/missing.txt"}), "source text file not found"),
        (json.dumps({**GOOD, "suspicious": 5}), "'suspicious' must be a non-empty string"),
        (json.dumps({**GOOD, "cases": {}}), "'cases' must be a list"),
        (json.dumps({**GOOD, "cases": [{"this_offset": -1, "this_length": 2}]}), "this_offset, source_offset"),
    ],
)
def test_load_gold_errors_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    folder = _folder(tmp_path, [json.dumps(GOOD), line])
    with pytest.raises(InputError, match=message) as err:
        pan13.load_gold(folder)
    assert err.value.source == str(folder / "gold.jsonl") and err.value.line == 2


def test_load_gold_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read gold file"):
        pan13.load_gold(tmp_path)


def test_xml_round_trip(tmp_path: Path) -> None:
    pair = PanPair(Path("susp/suspicious-document00005.txt"), Path("src/source-document01090.txt"), ())
    dets = [A(3579, 699, 1304, 698), A(10, 5, 0, 7)]
    path = pan13.write_xml(tmp_path / "out", pair, dets)
    assert path.name == "suspicious-document00005-source-document01090.xml"
    text = path.read_text()
    assert '<document reference="suspicious-document00005.txt">' in text
    assert 'source_reference="source-document01090.txt"' in text and 'name="detected-plagiarism"' in text
    assert pan13.read_xml(path) == {pair.key: dets}
    assert pan13.read_xml(path, name="plagiarism") == {}
    truth = pan13.write_xml(tmp_path / "truth", pair, dets[:1], name="plagiarism")
    assert pan13.read_xml(truth, name="plagiarism") == {pair.key: dets[:1]}


def test_read_xml_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<document reference='a.txt'><feature name='detected-plagiarism' this_offset='x'/></document>")
    with pytest.raises(InputError, match="feature 0"):
        pan13.read_xml(bad)
    bad.write_text("<document")
    with pytest.raises(InputError, match="cannot read PAN XML"):
        pan13.read_xml(bad)


# --- real pairs: agreement with the official script, and run() ----------------------------------------------------


@pytest.fixture(scope="module")
def gold(shared_data: Path) -> list[PanPair]:
    return pan13.load_gold(shared_data / "pan13")


@pytest.mark.shared_data
def test_end_to_end_agrees_with_official(official: types.ModuleType, gold: list[PanPair], tmp_path: Path) -> None:
    pairs = gold[::27][:15]
    cases, dets = {}, {}
    for pair in pairs:
        res = compare_documents(read_text_file(pair.suspicious), read_text_file(pair.source))
        dets[pair.key] = pan13.detections(res)
        cases[pair.key] = list(pair.cases)
        pan13.write_xml(tmp_path / "det", pair, dets[pair.key])
        pan13.write_xml(tmp_path / "truth", pair, pair.cases, name="plagiarism")
    assert sum(map(len, dets.values())) > 0
    theirs = official_score(
        official,
        official.extract_annotations_from_files(str(tmp_path / "truth"), "plagiarism"),
        official.extract_annotations_from_files(str(tmp_path / "det"), "detected-plagiarism"),
    )
    assert_close(pan13.score(cases, dets), theirs)
    read_back: dict[tuple[str, str], list[Annotation]] = {}
    for path in sorted((tmp_path / "det").glob("*.xml")):
        read_back |= pan13.read_xml(path)
    assert_close(pan13.score(cases, read_back), theirs)


@pytest.mark.shared_data
def test_run_smoke(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "pan13"
    lines = (root / "gold.jsonl").read_text().splitlines()[:10]
    sub = tmp_path / "pan13"
    sub.mkdir()
    (sub / "gold.jsonl").write_text("\n".join(lines) + "\n")
    for name in ("susp", "src"):
        (sub / name).symlink_to(root / name, target_is_directory=True)
    ticks: list[tuple[str, int, int]] = []
    res = pan13.run(sub, detections_dir=tmp_path / "det", progress=lambda *a: ticks.append(a))
    assert res.name == "pan13" and res.n == 10
    assert set(res.metrics) == {"plagdet", "precision", "recall", "granularity"}
    for k in ("plagdet", "precision", "recall"):
        assert 0.0 <= res.metrics[k] <= 1.0
    assert res.metrics["granularity"] >= 1.0
    assert res.metrics["recall"] > 0.5  # verbatim copies: retold must find most of them
    assert res.details["cases"] == sum(len(json.loads(line)["cases"]) for line in lines)
    assert len(res.details["per_pair_worst"]) == 10
    assert len(list((tmp_path / "det").glob("*.xml"))) == 10
    assert ticks[0] == ("align", 0, 10) and ticks[-1] == ("align", 10, 10)
    json.dumps(res.to_json())
    assert pan13.run(sub, workers=2).metrics == res.metrics
