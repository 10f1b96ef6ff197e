"""Tests for retold.eval.clough: the category rule (order, monotonicity), metrics on a hand-made mini folder,
input errors, and a sanity run on the shared Clough data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retold.api import compare_documents
from retold.errors import InputError
from retold.eval import clough
from retold.eval.clough import CATEGORIES, categorize, category, closeness, verbatim_share
from retold.model import VERDICTS, Document

SOURCE = (
    "Dynamic programming is a method for solving problems that exhibit overlapping subproblems and optimal "
    "substructure. The method takes far less time than naive approaches. Richard Bellman coined the term in "
    "the 1940s to describe the process of solving problems where one needs to find the best decisions one after "
    "another. By 1953 he had refined this to the modern meaning. The word programming referred to finding an "
    "optimal program in the sense of a military schedule for training or logistics.\n\n"
    "Optimal substructure means that optimal solutions of subproblems can be used to find the optimal solution "
    "of the overall problem. For example, the shortest path to a goal from a vertex in a graph can be found by "
    "first computing the shortest path to the goal from all adjacent vertices.\n"
)
COPY = (
    "Dynamic programming is a method for solving problems that exhibit overlapping subproblems and optimal "
    "substructure. Richard Bellman coined the term in the 1940s to describe the process of solving problems "
    "where one needs to find the best decisions one after another. Optimal substructure means that optimal "
    "solutions of subproblems can be used to find the optimal solution of the overall problem.\n"
)
UNRELATED = (
    "The orchestra rehearsed the symphony for three weeks before the opening concert. Its conductor asked the "
    "violin section to soften the second movement. Tickets for the premiere sold out within an hour, and the "
    "theatre added a matinee performance on Sunday afternoon. Critics praised the pianist for her restraint.\n"
)

_RANK = {c: i for i, c in enumerate(CATEGORIES)}
_REUSED_VERDICTS = [v for v in VERDICTS if v != "unrelated"]


def _write_folder(root: Path, answers: dict[str, tuple[str, str]]) -> Path:
    """A Clough-format folder: one source (task a) and `answers` = file -> (text, true category)."""
    (root / "orig_taska.txt").write_text(SOURCE, encoding="utf-8")
    lines = []
    for name, (text, cat) in answers.items():
        (root / name).write_text(text, encoding="utf-8")
        lines.append(json.dumps({"file": name, "task": "a", "category": cat, "source": "orig_taska.txt"}))
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# --- the category rule ---------------------------------------------------------------------------------------


def test_cutoffs_are_ordered() -> None:
    assert 0.0 < clough.MIN_COVERAGE < 1.0
    assert 0.0 < clough.LIGHT_CLOSENESS < clough.CUT_CLOSENESS <= 1.0


def test_categorize_examples() -> None:
    assert categorize("near-duplicate", 1.0, 1.0) == "cut"
    assert categorize("rewrite", 0.9, clough.CUT_CLOSENESS) == "cut"
    assert categorize("rewrite", 0.9, clough.LIGHT_CLOSENESS) == "light"
    assert categorize("rewrite", 0.9, 0.0) == "heavy"
    assert categorize("partial-reuse", clough.MIN_COVERAGE - 0.01, 1.0) == "non"
    assert categorize("unrelated", 1.0, 1.0) == "non"


@given(
    st.sampled_from(_REUSED_VERDICTS),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_higher_closeness_never_gives_a_lighter_category(verdict: str, cov: float, s1: float, s2: float) -> None:
    lo, hi = sorted((s1, s2))
    assert _RANK[categorize(verdict, cov, lo)] <= _RANK[categorize(verdict, cov, hi)]  # type: ignore[arg-type]


@given(st.sampled_from(_REUSED_VERDICTS), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_higher_coverage_never_gives_a_lighter_category(verdict: str, share: float, c1: float, c2: float) -> None:
    lo, hi = sorted((c1, c2))
    assert _RANK[categorize(verdict, lo, share)] <= _RANK[categorize(verdict, hi, share)]  # type: ignore[arg-type]


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_unrelated_is_always_non(cov: float, share: float) -> None:
    assert categorize("unrelated", cov, share) == "non"


def test_category_of_real_comparisons() -> None:
    copy = compare_documents(Document("ans", COPY), Document("src", SOURCE))
    assert copy.a.coverage == pytest.approx(1.0)
    assert verbatim_share(copy) == pytest.approx(1.0)
    assert closeness(copy, COPY, SOURCE) == pytest.approx(1.0)
    assert category(copy, COPY, SOURCE) == "cut"
    other = compare_documents(Document("ans", UNRELATED), Document("src", SOURCE))
    assert verbatim_share(other) == 0.0 and closeness(other, UNRELATED, SOURCE) == 0.0
    assert category(other, UNRELATED, SOURCE) == "non"


# --- run on a hand-made folder -------------------------------------------------------------------------------


def test_run_metrics_on_mini_folder(tmp_path: Path) -> None:
    folder = _write_folder(
        tmp_path,
        {
            "g0_cut.txt": (COPY, "cut"),  # predicted cut: true positive, correct
            "g0_non.txt": (UNRELATED, "non"),  # predicted non: true negative, correct
            "g1_heavy.txt": (UNRELATED, "heavy"),  # predicted non: false negative
            "g1_non.txt": (COPY, "non"),  # predicted cut: false positive
        },
    )
    res = clough.run(folder)
    assert res.name == "clough"
    assert res.n == 4
    assert set(res.metrics) == {"f1_reused", "accuracy_4way"}
    assert res.metrics["f1_reused"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert res.metrics["accuracy_4way"] == pytest.approx(0.5)
    conf = res.details["confusion"]
    assert set(conf) == set(CATEGORIES) and all(set(row) == set(CATEGORIES) for row in conf.values())
    assert conf["cut"]["cut"] == 1 and conf["non"]["non"] == 1
    assert conf["heavy"]["non"] == 1 and conf["non"]["cut"] == 1
    assert sum(v for row in conf.values() for v in row.values()) == 4
    assert sorted(r["file"] for r in res.details["misclassified"]) == ["g1_heavy.txt", "g1_non.txt"]
    per = res.details["per_category"]
    assert per["cut"]["coverage"] == pytest.approx(1.0) and per["cut"]["verbatim_share"] == pytest.approx(1.0)
    assert per["cut"]["closeness"] == pytest.approx(1.0)
    assert "light" not in per
    json.dumps(res.to_json())  # serialisable


def test_perfect_folder_scores_one(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path, {"a.txt": (COPY, "cut"), "b.txt": (UNRELATED, "non")})
    res = clough.run(folder)
    assert res.metrics == {"f1_reused": 1.0, "accuracy_4way": 1.0}
    assert res.details["misclassified"] == []


# --- input errors ----------------------------------------------------------------------------------------------


def test_missing_labels_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="labels.jsonl"):
        clough.run(tmp_path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"file": "a.txt", "task": "a", "source": "orig_taska.txt"}', "missing field 'category'"),
        ('{"file": "a.txt", "category": "cut", "task": "a"}', "missing field 'source'"),
        ('{"file": 3, "category": "cut", "source": "orig_taska.txt"}', "field 'file' has the wrong type"),
        ('{"file": "a.txt", "category": "copied", "source": "orig_taska.txt"}', "must be one of"),
    ],
)
def test_malformed_label_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    folder = _write_folder(tmp_path, {"a.txt": (COPY, "cut")})
    labels = folder / "labels.jsonl"
    labels.write_text(labels.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        clough.run(folder)
    assert err.value.source == str(labels)
    assert err.value.line == 2


def test_missing_answer_file(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path, {"a.txt": (COPY, "cut")})
    (folder / "a.txt").unlink()
    with pytest.raises(InputError, match="no such file") as err:
        clough.run(folder)
    assert err.value.source.endswith("a.txt")


def test_empty_labels(tmp_path: Path) -> None:
    (tmp_path / "labels.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no answers"):
        clough.run(tmp_path)


# --- the shared data -------------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_shared_clough_sanity(shared_data: Path) -> None:
    res = clough.run(shared_data / "clough")
    assert res.n == 95
    assert set(res.metrics) == {"f1_reused", "accuracy_4way"}
    assert res.metrics["f1_reused"] > 0.8
    assert res.metrics["accuracy_4way"] > 0.6  # chance is 0.4 (always "non")
    per = res.details["per_category"]
    # The features separate the classes in the corpus' order on average.
    assert per["cut"]["verbatim_share"] > per["light"]["verbatim_share"] > per["non"]["verbatim_share"]
    assert per["cut"]["closeness"] > per["light"]["closeness"] > per["heavy"]["closeness"]
    assert min(per[c]["coverage"] for c in ("cut", "light", "heavy")) > per["non"]["coverage"]
