"""Order independence: the same documents give the same pairs (verdicts, passages, channels) whatever order and
batches they arrive in, including when a rare term grows common or a document joins a crowd of vector
neighbours part-way (`retold.candidates.reconcile`), and after a stored text is replaced."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from retold.candidates.rewrite import rare_terms, term_vector
from retold.config import AlignConfig, RetoldConfig, RewriteConfig, VectorConfig
from retold.model import Document
from retold.pipeline import index_documents
from retold.store.base import MemoryStore
from retold.text.analyze import analyze
from retold.text.tokens import stem, zipf

_SYL = "zor vath quel mir drax bol kesh ulm tren vosk plin garu yth omb sarq neth jix fal rond ekt".split()


def _names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    stems: set[str] = set()
    while len(out) < count:
        name = "".join(rng.choice(_SYL) for _ in range(3)).capitalize()
        if zipf(name.lower()) == 0.0 and stem(name.lower()) not in stems:
            stems.add(stem(name.lower()))
            out.append(name)
    return out


def _story(names: Sequence[str], n: int, style: int) -> str:
    a, b, c, d, e = names
    if style == 0:
        return (
            f"{a} met {b} in the city on Monday to talk about the new plan for the harbour. "
            f"Officials said {1000 + 37 * n} people would be moved before winter, and {c} agreed to pay "
            f"{5 + n} million dollars.\n\n{d} told reporters the meeting went well, while {e} said more work "
            f"was needed before the report due in {2030 + n}."
        )
    return (
        f"The harbour plan came up when {b} and {a} sat down in the capital early in the week. "
        f"About {1000 + 37 * n} residents face relocation ahead of the cold season; {c} accepted a bill of "
        f"{5 + n} million dollars.\n\nSpeaking to the press, {d} called the talks useful. {e} argued much "
        f"remained to be done before the paper expected in {2030 + n}."
    )


def _corpus(seed: int = 3, n: int = 24, twins: int = 5) -> list[Document]:
    """Stories with their own names plus a popular name that many of them mention, reworded copies of some, and
    `twins` pairs of stories that share one name of their own and two more popular names: such a pair shares
    three rare terms (a candidate) only while the popular names are rare, and they cross a small posting cap
    part-way through any order."""
    rng = random.Random(seed)
    names = _names(4 * n + 5 * twins + 4, seed)
    popular = names[-4:]
    docs: list[Document] = []
    for i in range(n):
        own = names[4 * i : 4 * i + 4]
        five = [*own, popular[i % 2]] if i % 3 else [*own, own[0]]
        docs.append(Document(f"s{i:02d}", _story(five, i, 0)))
        if i % 4 == 1:
            docs.append(Document(f"s{i:02d}-r", _story(five, i, 1)))
    for k in range(twins):
        q, a, b, c, d = names[4 * n + 5 * k : 4 * n + 5 * k + 5]
        docs.append(Document(f"t{k}-x", _story([q, popular[2], popular[3], a, b], 200 + k, 0)))
        docs.append(Document(f"t{k}-y", _story([q, popular[3], popular[2], c, d], 300 + k, 1)))
    rng.shuffle(docs)
    return docs


def _canonical(p: dict[str, Any]) -> tuple[tuple[str, str], str]:
    """A pair JSON oriented by id (the side that arrived first is ``a`` in the store), as a comparable string."""
    if p["a"]["id"] <= p["b"]["id"]:
        return (p["a"]["id"], p["b"]["id"]), json.dumps(p, sort_keys=True)
    swapped = {
        "a": p["b"],
        "b": p["a"],
        "verdict": p["verdict"],
        "passages": sorted(
            (
                {**q, "a_start": q["b_start"], "a_end": q["b_end"], "b_start": q["a_start"], "b_end": q["a_end"]}
                for q in p["passages"]
            ),
            key=lambda q: (q["a_start"], q["b_start"]),
        ),
        "spans": {"a": p["spans"]["b"], "b": p["spans"]["a"]},
    }
    return (p["b"]["id"], p["a"]["id"]), json.dumps(swapped, sort_keys=True)


def _state(store: MemoryStore) -> dict[tuple[str, str], tuple[str, tuple[str, ...], str]]:
    """Every stored pair by id pair: verdict, channels and its pair JSON, all independent of orientation."""
    out = {}
    for p in store.pairs():
        key, text = _canonical(json.loads(p.json))
        data = json.loads(text)
        data["passages"].sort(key=lambda q: (q["a_start"], q["b_start"]))
        out[key] = (p.verdict, tuple(sorted(p.channels)), json.dumps(data, sort_keys=True))
    return out


def _index(docs: Iterable[Document], cfg: RetoldConfig, batch: int) -> MemoryStore:
    store = MemoryStore()
    index_documents(store, list(docs), cfg, batch_size=batch)
    return store


LEXICAL = RetoldConfig(rewrite=RewriteConfig(max_postings=4), align=AlignConfig(semantic="off"))


def _final_rewrite_pairs(docs: Sequence[Document], cfg: RewriteConfig) -> set[tuple[str, str]]:
    """The rare-term rule stated on the whole set: a term is usable when at most `max_postings` documents hold
    it; pairs are judged on their usable shared terms."""
    tv = {d.id: term_vector(rare_terms(analyze(d))) for d in docs}
    df: dict[int, int] = {}
    for v in tv.values():
        for k in v.keys.tolist():
            df[k] = df.get(k, 0) + 1
    out = set()
    ids = sorted(tv)
    for i, x in enumerate(ids):
        wx = dict(zip(tv[x].keys.tolist(), tv[x].weights.tolist(), strict=True))
        for y in ids[i + 1 :]:
            wy = dict(zip(tv[y].keys.tolist(), tv[y].weights.tolist(), strict=True))
            shared = [k for k in wx.keys() & wy.keys() if df[k] <= cfg.max_postings]
            smaller = min(tv[x].total, tv[y].total)
            score = sum((wx[k] * wy[k]) ** 0.5 for k in shared) / smaller if smaller else 0.0
            enough = len(shared) >= cfg.min_shared or (len(shared) >= 2 and score >= cfg.few_terms_score)
            if enough and score >= cfg.min_score:
                out.add((x, y))
    return out


def test_rewrite_channel_follows_the_rule_on_the_whole_set() -> None:
    docs = _corpus()
    store = _index(docs, LEXICAL, batch=5)
    state = _state(store)
    found = {k for k, (_, channels, _) in state.items() if "rewrite" in channels}
    want = _final_rewrite_pairs(docs, LEXICAL.rewrite)
    assert found == want
    assert want
    # The popular names crossed the cap part-way: the pairs that used them while they were rare were taken back.
    held: dict[str, int] = {}
    for d in docs:
        for t in rare_terms(analyze(d)):
            held[t] = held.get(t, 0) + 1
    assert sum(1 for n in held.values() if n > LEXICAL.rewrite.max_postings) >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_and_batching_gives_the_same_pairs(seed: int) -> None:
    docs = _corpus()
    base = _state(_index(docs, LEXICAL, batch=256))
    rng = random.Random(seed)
    shuffled = list(docs)
    rng.shuffle(shuffled)
    assert _state(_index(shuffled, LEXICAL, batch=rng.choice([1, 2, 3, 7]))) == base
    assert any(v[0] == "rewrite" for v in base.values())


def test_replaced_text_gives_the_state_of_the_final_set() -> None:
    docs = _corpus()
    changed = {d.id: d for d in docs}
    # One holder of a popular name loses it: the name falls back under the cap, and pairs it supports come back.
    names = [n for n in _names(60, 99) if n not in set(_names(4 * 24 + 5 * 5 + 4, 3))]
    # Three of the five twin pairs lose the two popular names, which fall back under the cap: the two other twin
    # pairs share three usable terms again and become candidates (pairs among stored documents, aligned then).
    for k in (2, 3, 4):
        for side, n in (("x", 0), ("y", 1)):
            twin = changed[f"t{k}-{side}"]
            fresh = names[10 * k + 5 * n : 10 * k + 5 * n + 4]
            changed[twin.id] = Document(twin.id, _story([*fresh, names[0]], 200 + 10 * k + n, n))
    store = MemoryStore()
    index_documents(store, docs, LEXICAL, batch_size=6)
    index_documents(store, [changed[d.id] for d in docs], LEXICAL, batch_size=6)
    final = [changed[d.id] for d in docs]
    state = _state(store)
    assert state == _state(_index(final, LEXICAL, batch=256))
    assert {("t0-x", "t0-y"), ("t1-x", "t1-y")} <= {k for k, v in state.items() if "rewrite" in v[1]}


@pytest.mark.usefixtures("shared_data")
def test_vector_crowds_do_not_depend_on_order(shared_data: Any) -> None:
    import gzip

    from retold.semantic import available

    if not available():
        pytest.skip("semantic packages not installed")
    with gzip.open(shared_data / "bbc/docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        bodies = [json.loads(line)["body"] for _, line in zip(range(30), fh, strict=False)]
    docs = [Document(f"bbc{i}", b) for i, b in enumerate(bodies)]
    # A crowd: five light variants of one article (each is near the other four), and a pair of variants of
    # another article that stays out of any crowd.
    for k in range(5):
        words = bodies[3].split(" ")
        docs.append(Document(f"crowd{k}", " ".join(w for i, w in enumerate(words) if i % 9 != k)))
    for k in range(2):
        words = bodies[7].split(" ")
        docs.append(Document(f"pair{k}", " ".join(w for i, w in enumerate(words) if i % 7 != k)))
    cfg = RetoldConfig(vectors=VectorConfig(crowd=3))
    base = _state(_index(docs, cfg, batch=256))
    shuffled = list(docs)
    random.Random(5).shuffle(shuffled)
    assert _state(_index(shuffled, cfg, batch=4)) == base
    crowd = {"bbc3", *(f"crowd{k}" for k in range(5))}
    assert not any("vector" in ch for (x, y), (_, ch, _) in base.items() if x in crowd or y in crowd)


def _export_state(out: Any) -> tuple[dict[tuple[str, str], tuple[str, str]], set[frozenset[str]]]:
    pairs = {}
    for line in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        key, text = _canonical(json.loads(line))
        data = json.loads(text)
        data["passages"].sort(key=lambda q: (q["a_start"], q["b_start"]))
        pairs[key] = (data["verdict"], json.dumps(data, sort_keys=True))
    fams = {
        frozenset(f["members"])
        for f in map(json.loads, (out / "families.jsonl").read_text(encoding="utf-8").splitlines())
    }
    return pairs, fams


def test_index_add_of_a_shuffled_corpus_in_chunks_equals_a_scan(shared_data: Any, tmp_path: Any) -> None:
    """Through the SQLite index and the files: chunks of a shuffled corpus added one by one export what one scan
    of the corpus in file order writes (pairs as unordered id pairs with mirrored JSON, families as sets)."""
    from retold import api
    from tests.store.corpus import records, write_jsonl

    corpus = records(shared_data)
    api.scan_corpus([write_jsonl(tmp_path / "all.jsonl", corpus)], tmp_path / "scan")
    shuffled = list(corpus)
    random.Random(7).shuffle(shuffled)
    db = tmp_path / "grown.sqlite"
    for n, start in enumerate(range(0, len(shuffled), 9)):
        api.index_corpus([write_jsonl(tmp_path / f"part{n}.jsonl", shuffled[start : start + 9])], db, batch_size=4)
    api.export_index(db, tmp_path / "grown")
    want = _export_state(tmp_path / "scan")
    assert _export_state(tmp_path / "grown") == want
    assert want[0][("seed-000", "seed-004")][0] == "rewrite"


def test_an_index_made_before_the_set_rules_is_reconciled_on_its_next_run(shared_data: Any, tmp_path: Any) -> None:
    """An index of retold 0.1 has no neighbour counts and no ``candidate_rules`` mark, and may lack vector pairs
    the set rules admit (the former rule took the two nearest earlier neighbours only): its next run computes the
    counts, aligns those pairs and exports what a fresh scan of the same documents writes."""
    import sqlite3

    from retold import api
    from tests.store.corpus import records, write_jsonl

    path = write_jsonl(tmp_path / "all.jsonl", records(shared_data))
    api.scan_corpus([path], tmp_path / "scan")
    db = tmp_path / "old.sqlite"
    api.index_corpus([path], db)
    with sqlite3.connect(db) as conn:  # make it look like 0.1: no mark, no counts, a vector pair never proposed
        conn.execute("DELETE FROM meta WHERE key = 'candidate_rules'")
        conn.execute("UPDATE vectors SET near = -1")
        a, b = conn.execute("SELECT a, b FROM pairs WHERE channels = 'vector' OR channels LIKE '%,vector'").fetchone()
        conn.execute("DELETE FROM pairs WHERE a = ? AND b = ?", (a, b))
    api.index_corpus([path], db)  # nothing new to add: the run reconciles
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'candidate_rules'").fetchone() is not None
        assert conn.execute("SELECT COUNT(*) FROM vectors WHERE near < 0").fetchone()[0] == 0
        channels = conn.execute("SELECT channels FROM pairs WHERE a = ? AND b = ?", (a, b)).fetchone()
        assert channels is not None and "vector" in channels[0].split(",")  # aligned again
    api.export_index(db, tmp_path / "grown")
    assert _export_state(tmp_path / "grown") == _export_state(tmp_path / "scan")
