"""Scan the real corpora in ../shared/data: seeds + BBC + Reuters-21578 (about 21k articles).

Finds the seed rewrite among thousands of unrelated news articles, reports the known exact duplicates of both
corpora, and aligns far fewer pairs than all pairs.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from retold import api
from retold.api import ScanReport


@pytest.fixture(scope="module")
def scanned(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[ScanReport, list[dict]]:
    out = tmp_path_factory.mktemp("shared-scan")
    report = api.scan_corpus(
        [shared_data / "seeds", shared_data / "bbc/docs.jsonl.gz", shared_data / "reuters21578/docs.jsonl.gz"],
        out,
        text_field="body",
        workers=2,
    )
    pairs = [json.loads(line) for line in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    return report, pairs


def _duplicate_groups(path: Path) -> list[list[str]]:
    """Groups of records whose bodies are equal after whitespace normalisation (the datasets' own definition)."""
    groups: dict[str, list[str]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            groups[" ".join(r["body"].split())].append(str(r["id"]))
    return [g for g in groups.values() if len(g) > 1]


def _components(edges: list[tuple[str, str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    return {x: find(x) for x in list(parent)}


def test_every_record_accounted_for(scanned: tuple[ScanReport, list[dict]]) -> None:
    report, _ = scanned
    assert report.read == 2 + 2225 + 19043
    assert report.skipped == 0 and report.stats.documents == report.read
    manifest = (report.out_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(manifest) == report.read


def test_seed_pair_found_as_rewrite(scanned: tuple[ScanReport, list[dict]]) -> None:
    _, pairs = scanned
    seed = [
        p for p in pairs if {p["a"]["id"], p["b"]["id"]} == {"000_eb1553226c65909d.txt", "004_8625c1f9bcc81fb5.txt"}
    ]
    assert len(seed) == 1 and seed[0]["verdict"] == "rewrite"


@pytest.mark.parametrize("corpus", ["bbc", "reuters21578"])
def test_exact_duplicates_reported(scanned: tuple[ScanReport, list[dict]], shared_data: Path, corpus: str) -> None:
    _, pairs = scanned
    groups = _duplicate_groups(shared_data / corpus / "docs.jsonl.gz")
    assert groups, "the corpus has known duplicates"
    comp = _components([(p["a"]["id"], p["b"]["id"]) for p in pairs if p["verdict"] == "duplicate"])
    missed = [g for g in groups if len({comp.get(x, x) for x in g}) > 1]
    assert not missed, f"{len(missed)} of {len(groups)} duplicate groups not reported, e.g. {missed[:3]}"


def test_far_fewer_pairs_than_all_pairs(scanned: tuple[ScanReport, list[dict]]) -> None:
    report, _ = scanned
    st = report.stats
    assert st.aligned < st.all_pairs / 1000
    assert st.candidates["merged"] == st.aligned
    summary = json.loads((report.out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["aligned_pairs"] == st.aligned and summary["all_pairs"] == st.all_pairs
