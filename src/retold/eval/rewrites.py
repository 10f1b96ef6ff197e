"""The news-rewrites benchmark: hand-written rewrites of BBC articles with sentence-level gold, measured pair by pair
and hidden in a corpus as a scan sees them.

Reads a folder in the format of ../shared/data/news-rewrites: ``docs.jsonl`` (``{"id", "text", "date", ...}``) and
``gold.jsonl`` (``{"a", "b", "kind", "level", "links", "new_in_a", "dropped_from_b", "attribution_in_a"}``; `a`
is derived from `b`; kinds ``rewrite``, ``rewrite-of-rewrite``, ``rewrite-transitive``, ``partial``,
``same-event``; levels ``light``, ``medium``, ``heavy`` or null). Two modes, both scored with the same rules:

- ``pairwise_``: every gold pair aligned directly (`retold.api.compare_documents`, derived side as a);
- ``hidden_``: the documents hidden in a corpus and indexed the way ``retold scan`` does
  (`retold.pipeline.index_documents` into a fresh `retold.store.base.MemoryStore`, families by
  `retold.families.build_families` over the stored rows and linking pairs, as the scan's export): the BBC articles
  (``bbc/docs.jsonl.gz``, field ``body``, without the originals the set holds under their BBC id) and every
  `reuters_every`-th Reuters article (``reuters21578/docs.jsonl.gz``, ``body``, ids ``reuters/<id>``), shuffled
  with a fixed seed so that arrival order tells nothing about which version came first. A gold pair counts
  only when the scan reports it; the mode takes a minute or two (``run(..., hidden_mode=False)`` skips it).

Every date is removed from the input of both modes (the documents are aligned and scanned undated; retold
reads dates only when it ranks versions); the ``_dated`` direction metrics give the families the dates of
``docs.jsonl`` (and of Reuters in the hidden mode) back.

Metrics, each with the mode's prefix (``pairwise_`` or ``hidden_``). Version verdicts: duplicate, near-duplicate,
rewrite; reuse verdicts: those and partial-reuse; "reported" means a reuse verdict. Direct pairs: those of kinds
rewrite, rewrite-of-rewrite and partial, 30 in the shared set (the transitive ones are composed through another):

- ``found``: share of the direct pairs found: a rewrite or rewrite-of-rewrite with a version verdict, a partial
  reuse with any reuse verdict;
- ``found_light``, ``found_medium``, ``found_heavy``: share of the ``rewrite`` pairs of the level with a version
  verdict;
- ``found_second_generation``: share of the ``rewrite-of-rewrite`` pairs with a version verdict;
- ``found_transitive``: share of the ``rewrite-transitive`` pairs with a version verdict (details of the hidden
  mode also count those that only share a family);
- ``found_partial``: share of the ``partial`` pairs with any reuse verdict;
- ``links_recovered``: share of the gold sentence links of the direct pairs recovered: a link counts when ONE
  passage of the reported pair covers at least 50 % of the characters of both its sentences;
- ``same_event_rewrite``: number of ``same-event`` pairs (independent reports, hard negatives) given a version
  verdict (a count; lower is better); ``same_event_reuse``: number given any reuse verdict;
- ``new_labelled_new``: over the direct pairs found, share of the characters of the ``new_in_a`` sentences
  (credit lines left out) labelled ``new`` in side a's spans; ``dropped_labelled_new``: the same for the
  ``dropped_from_b`` sentences in side b's spans;
- ``attribution_labelled``: over the direct pairs found, share of the characters of the credit lines
  (``attribution_in_a``) labelled ``attribution``;
- ``plagdet``: PAN plagdet (`retold.eval.pan13.score`; details hold precision, recall and granularity) with
  each gold link as a case (suspicious = a, source = b) and the passages of reported pairs as detections
  (`retold.eval.pan13.detections`, verbatim and paraphrase, touching passages merged), over the direct and the
  same-event pairs (detections on those are false ones); ``plagdet_light``, ``plagdet_medium``,
  ``plagdet_heavy``: over the ``rewrite`` pairs of that level;
- ``direction_accuracy``, ``direction_accuracy_dated`` (hidden mode, unprefixed: the names issue 20 gives) and
  ``pairwise_direction_accuracy``, ``pairwise_direction_accuracy_dated``: over the gold pairs of every kind but
  same-event that retold relates, the share where it takes side b for the earlier one. The pair JSON states no
  source yet, so the direction is read from the families, as ``families.jsonl`` gives it: when both documents
  are in one family, from the family's member order (most original first, the order its edges ``from`` → ``to``
  follow); else, for a reported pair, from the pair's ``source`` field once results carry one, today from
  `retold.families.precedence` on the pair's cues with corpus order as the last tie-break, as the families do.
  The hidden mode's families are those of its scan; the pairwise mode's are built from the gold pairs' results
  alone over the set's documents in the same seeded order (so second-generation chains are there too). Pairs
  retold does not relate have no direction and are left out (details count them as ``unrelated``, and as
  ``by_order_only`` the pairs whose own cues do not separate the two: arrival order, or the family's other
  members, decided those). Without dates the families see only credits, containment and arrival order;
  ``_dated`` adds the documents' dates.

Shares with nothing to count are 0.0. Details: per gold pair rows (kind, level, verdict, links recovered of
total with the missed sentences, label shares, direction), plagdet components, counts and timings; the hidden
mode adds the corpus sizes, scan statistics, and reported pairs of hidden documents that are not gold pairs.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

from retold.api import compare_documents, data_dir
from retold.config import RetoldConfig
from retold.errors import InputError
from retold.eval import pan13
from retold.eval.base import EvalResult
from retold.eval.sentences import read_jsonl, require_field
from retold.families import CONTAINMENT_MARGIN, LINK_VERDICTS, build_families, cue_votes, precedence
from retold.io.readers import iter_corpus
from retold.model import DocInfo, Document, Label, PairResult, Span
from retold.pipeline import Progress, Workers, index_documents
from retold.store.base import MemoryStore, pair_from_json
from retold.text.analyze import analyze

Kind = Literal["rewrite", "rewrite-of-rewrite", "rewrite-transitive", "partial", "same-event"]
Level = Literal["light", "medium", "heavy"]
KINDS: tuple[Kind, ...] = ("rewrite", "rewrite-of-rewrite", "rewrite-transitive", "partial", "same-event")
LEVELS: tuple[Level, ...] = ("light", "medium", "heavy")
DIRECT: tuple[Kind, ...] = ("rewrite", "rewrite-of-rewrite", "partial")
"""Kinds whose pairs were written from one another (the transitive pairs are composed through an intermediate)."""
VERSION_VERDICTS = frozenset(LINK_VERDICTS)
REUSE_VERDICTS = VERSION_VERDICTS | {"partial-reuse"}
LINK_COVER = 0.5
"""A gold link is recovered when one passage covers at least this share of both its sentences."""
SEED = 16
_MISSED_SHOWN = 3
_SNIPPET = 90

Interval = tuple[int, int]
Link = tuple[int, int, int, int]
Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class GoldPair:
    """One line of ``gold.jsonl``: `a` was derived from `b`; offsets index the documents' texts."""

    a: str
    b: str
    kind: Kind
    level: Level | None
    links: tuple[Link, ...] = ()
    new_in_a: tuple[Interval, ...] = ()
    dropped_from_b: tuple[Interval, ...] = ()
    attribution_in_a: tuple[Interval, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.a, self.b


@dataclass(frozen=True, slots=True)
class RewriteSet:
    """The documents of a news-rewrites folder (dates as given, file order) and its gold pairs."""

    docs: tuple[Document, ...]
    gold: tuple[GoldPair, ...]

    def texts(self) -> dict[str, str]:
        return {d.id: d.text for d in self.docs}


@dataclass(frozen=True, slots=True)
class Provenance:
    """What retold says about which version came first: the documents as the families read them and each
    document's family and position in it (0: the original)."""

    infos: Mapping[str, DocInfo]
    rank: Mapping[str, tuple[str, int]]

    @classmethod
    def build(cls, infos: Sequence[DocInfo], results: Iterable[PairResult]) -> Provenance:
        """Families of `infos` linked by `results` (`retold.families.build_families`)."""
        families = build_families(infos, list(results))
        rank = {m: (f.id, i) for f in families for i, m in enumerate(f.members)}
        return cls({d.id: d for d in infos}, rank)


def load(folder: Path) -> RewriteSet:
    """Read ``docs.jsonl`` and ``gold.jsonl`` of `folder`.

    Raises:
        InputError: A file is missing or malformed, an id repeats, a gold line names an unknown document, an
            unknown kind or level, or an offset outside its text (the message names file and line).
    """
    path = folder / "docs.jsonl"
    docs: list[Document] = []
    for line, obj in read_jsonl(path):
        doc_id = require_field(obj, "id", str, path, line)
        text = require_field(obj, "text", str, path, line)
        if any(d.id == doc_id for d in docs):
            raise InputError(f"duplicate id {doc_id!r}", source=str(path), line=line)
        meta = {k: obj.get(k) if isinstance(obj.get(k), str) and obj.get(k) else None for k in ("date", "title")}
        docs.append(Document(doc_id, text, meta["date"], meta["title"], _opt_str(obj.get("source"))))
    lengths = {d.id: len(d.text) for d in docs}
    path = folder / "gold.jsonl"
    gold = [_gold_pair(obj, lengths, path, line) for line, obj in read_jsonl(path)]
    return RewriteSet(tuple(docs), tuple(gold))


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _gold_pair(obj: dict[str, Any], lengths: Mapping[str, int], path: Path, line: int) -> GoldPair:
    def fail(reason: str) -> InputError:
        return InputError(reason, source=str(path), line=line)

    a, b = (require_field(obj, side, str, path, line) for side in ("a", "b"))
    for side in (a, b):
        if side not in lengths:
            raise fail(f"unknown document {side!r}")
    kind, level = obj.get("kind"), obj.get("level")
    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if level is not None and level not in LEVELS:
        raise fail(f"unknown level {level!r}; expected one of {', '.join(LEVELS)} or null")

    def spans(name: str, width: int, sides: tuple[str, ...]) -> list[tuple[int, ...]]:
        rows = obj.get(name, [])
        if not isinstance(rows, list):
            raise fail(f"{name!r} must be a list")
        out: list[tuple[int, ...]] = []
        for i, row in enumerate(rows):
            ok = isinstance(row, list) and len(row) == width and all(type(v) is int for v in row)
            if ok:
                ok = all(0 <= row[k] <= row[k + 1] <= lengths[sides[k // 2]] for k in range(0, width, 2))
            if not ok:
                raise fail(f"{name}[{i}]: expected {width} offsets, start <= end, inside the text")
            out.append(tuple(row))
        return out

    return GoldPair(
        a,
        b,
        cast(Kind, kind),
        cast(Level | None, level),
        tuple(cast(Link, x) for x in spans("links", 4, (a, b))),
        tuple(cast(Interval, x) for x in spans("new_in_a", 2, (a,))),
        tuple(cast(Interval, x) for x in spans("dropped_from_b", 2, (b,))),
        tuple(cast(Interval, x) for x in spans("attribution_in_a", 2, (a,))),
    )


# --- scoring ------------------------------------------------------------------------------------------------------


def _oriented(r: PairResult, pair: GoldPair) -> tuple[list[Box], tuple[Span, ...], tuple[Span, ...]]:
    """The passages of `r` as ``(a_start, a_end, b_start, b_end)`` in the gold pair's orientation, and the spans
    of gold side a and gold side b."""
    boxes = [(p.a_start, p.a_end, p.b_start, p.b_end) for p in r.alignment.passages]
    if r.a.id == pair.a:
        return boxes, r.alignment.spans_a, r.alignment.spans_b
    return [(b0, b1, a0, a1) for a0, a1, b0, b1 in boxes], r.alignment.spans_b, r.alignment.spans_a


def _overlap(s0: int, s1: int, t0: int, t1: int) -> int:
    return max(0, min(s1, t1) - max(s0, t0))


def link_recovered(link: Link, passages: Sequence[Box], cover: float = LINK_COVER) -> bool:
    """Whether one passage covers at least `cover` of both sentences of `link` (an empty sentence is covered).

    >>> link_recovered((0, 10, 100, 120), [(0, 6, 90, 112)])
    True
    >>> link_recovered((0, 10, 100, 120), [(0, 6, 130, 140), (20, 30, 100, 120)])
    False
    """
    a0, a1, b0, b1 = link
    return any(
        _overlap(a0, a1, p[0], p[1]) >= cover * (a1 - a0) and _overlap(b0, b1, p[2], p[3]) >= cover * (b1 - b0)
        for p in passages
    )


def labelled_chars(spans: Sequence[Span], intervals: Iterable[Interval], label: Label) -> tuple[int, int]:
    """Characters of `intervals` lying in spans labelled `label`, and their total length.

    >>> from retold.model import Span
    >>> labelled_chars([Span(0, 5, "new"), Span(5, 10, "verbatim")], [(2, 8)], "new")
    (3, 6)
    """
    hit = total = 0
    for s, e in intervals:
        total += e - s
        hit += sum(_overlap(s, e, sp.start, sp.end) for sp in spans if sp.label == label)
    return hit, total


def _detections(r: PairResult, pair: GoldPair) -> list[pan13.Annotation]:
    dets = pan13.detections(r, ("verbatim", "paraphrase"))
    if r.a.id == pair.a:
        return dets
    return [pan13.Annotation(d.source_offset, d.source_length, d.this_offset, d.this_length) for d in dets]


def _cases(pair: GoldPair) -> list[pan13.Annotation]:
    return [pan13.Annotation(a0, a1 - a0, b0, b1 - b0) for a0, a1, b0, b1 in pair.links]


def _share(hit: float, total: float) -> float:
    return hit / total if total else 0.0


def _direction(pair: GoldPair, r: PairResult | None, prov: Provenance) -> tuple[bool | None, bool]:
    """Whether retold puts gold side b first (None: it does not relate the two), and whether a cue of the pair's
    own separates them (False: arrival order alone decides, unless the family's other members do)."""
    if pair.a not in prov.infos or pair.b not in prov.infos:
        return None, False
    linked = r is not None and r.verdict in VERSION_VERDICTS
    contained = None
    if r is not None and linked:
        gap = r.a.coverage - r.b.coverage
        contained = r.a.id if gap >= CONTAINMENT_MARGIN else r.b.id if -gap >= CONTAINMENT_MARGIN else None
    x, y = prov.infos[pair.b], prov.infos[pair.a]
    cued = any(cue_votes(x, y, contained).values())
    fa, fb = prov.rank.get(pair.a), prov.rank.get(pair.b)
    if fa is not None and fb is not None and fa[0] == fb[0]:
        return fb[1] < fa[1], cued
    if r is None or r.verdict not in REUSE_VERDICTS:
        return None, cued
    source = getattr(r, "source", None)
    if isinstance(source, str) and source in pair.key:
        return source == pair.b, cued
    first, _ = precedence(x, y, contained, linked=linked)
    return (x.order < y.order) if first is None else first, cued


def score(
    data: RewriteSet,
    results: Mapping[frozenset[str], PairResult],
    undated: Provenance,
    dated: Provenance,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Score one mode: `results` holds retold's pair results by their two ids (either orientation; a missing pair
    or one with a verdict outside the reuse verdicts is not reported); `undated` and `dated` say which version
    retold takes for the earlier one without and with dates.

    Returns:
        The metrics of the module docstring (without the mode's prefix) and details: ``pairs`` (one row per
        gold pair), ``counts`` ("k of n" per metric), ``plagdet`` components and ``direction`` counts.
    """
    texts = data.texts()
    rows: list[dict[str, Any]] = []
    tally: dict[str, list[float]] = {}  # metric -> [hit, total]
    cases: dict[tuple[str, str], list[pan13.Annotation]] = {}
    dets: dict[tuple[str, str], list[pan13.Annotation]] = {}
    directions: dict[str, Counter[str]] = {"": Counter(), "_dated": Counter()}

    def add(name: str, hit: float, total: float = 1.0) -> None:
        t = tally.setdefault(name, [0.0, 0.0])
        t[0] += hit
        t[1] += total

    for pair in data.gold:
        r = results.get(frozenset(pair.key))
        reported = r is not None and r.verdict in REUSE_VERDICTS
        version = r is not None and r.verdict in VERSION_VERDICTS
        passages, spans_a, spans_b = _oriented(r, pair) if r is not None and reported else ([], (), ())
        row: dict[str, Any] = {"a": pair.a, "b": pair.b, "kind": pair.kind, "level": pair.level}
        row["verdict"] = r.verdict if r is not None else "not reported"
        if pair.kind == "same-event":
            add("same_event_rewrite", version)
            add("same_event_reuse", reported)
        elif pair.kind == "rewrite" and pair.level is not None:
            add(f"found_{pair.level}", version)
        elif pair.kind == "rewrite-of-rewrite":
            add("found_second_generation", version)
        elif pair.kind == "rewrite-transitive":
            add("found_transitive", version)
        elif pair.kind == "partial":
            add("found_partial", reported)
        if pair.kind in DIRECT:
            add("found", reported if pair.kind == "partial" else version)
            hits = [link_recovered(link, passages) for link in pair.links]
            add("links_recovered", sum(hits), len(hits))
            row["links"] = [sum(hits), len(hits)]
            row["missed"] = [
                [texts[pair.a][a0:a1][:_SNIPPET], texts[pair.b][b0:b1][:_SNIPPET]]
                for (a0, a1, b0, b1), hit in zip(pair.links, hits, strict=True)
                if not hit
            ][:_MISSED_SHOWN]
            if reported:
                credit = set(pair.attribution_in_a)
                shares = {
                    "new_labelled_new": labelled_chars(spans_a, [x for x in pair.new_in_a if x not in credit], "new"),
                    "dropped_labelled_new": labelled_chars(spans_b, pair.dropped_from_b, "new"),
                    "attribution_labelled": labelled_chars(spans_a, pair.attribution_in_a, "attribution"),
                }
                for name, (hit, total) in shares.items():
                    add(name, hit, total)
                    row[name.split("_")[0]] = round(_share(hit, total), 3) if total else None
        if pair.kind in DIRECT or pair.kind == "same-event":
            cases[pair.key] = _cases(pair)
            dets[pair.key] = _detections(r, pair) if r is not None and reported else []
        if pair.kind != "same-event":
            for suffix, prov in (("", undated), ("_dated", dated)):
                right, cued = _direction(pair, r, prov)
                outcome = "unrelated" if right is None else "right" if right else "wrong"
                directions[suffix][outcome] += 1
                directions[suffix]["by_order_only"] += right is not None and not cued
                row[f"direction{suffix}"] = outcome
        rows.append(row)

    metrics: dict[str, float] = {}
    for name in (
        "found",
        *(f"found_{level}" for level in LEVELS),
        "found_second_generation",
        "found_transitive",
        "found_partial",
        "links_recovered",
        "same_event_rewrite",
        "same_event_reuse",
        "new_labelled_new",
        "dropped_labelled_new",
        "attribution_labelled",
    ):
        got, of = tally.get(name, [0.0, 0.0])
        metrics[name] = got if name.startswith("same_event") else _share(got, of)
    plag: dict[str, dict[str, float]] = {}
    subsets: dict[str, list[tuple[str, str]]] = {"plagdet": list(cases)}
    for level in LEVELS:
        subsets[f"plagdet_{level}"] = [p.key for p in data.gold if p.kind == "rewrite" and p.level == level]
    for name, keys in subsets.items():
        measures = pan13.score({k: cases[k] for k in keys}, {k: dets[k] for k in keys}) if keys else {}
        metrics[name] = measures.get("plagdet", 0.0)
        plag[name] = {k: round(v, 4) for k, v in measures.items()}
    for suffix, counts in directions.items():
        metrics[f"direction_accuracy{suffix}"] = _share(counts["right"], counts["right"] + counts["wrong"])
    counts_out = {name: [round(got), round(of)] for name, (got, of) in tally.items()}
    details: dict[str, Any] = {
        "counts": counts_out,
        "plagdet": plag,
        "direction": {"undated": dict(directions[""]), "dated": dict(directions["_dated"])},
        "pairs": rows,
    }
    return metrics, details


# --- the two modes ------------------------------------------------------------------------------------------------


def _shuffled(docs: Sequence[Document], seed: int) -> list[Document]:
    out = list(docs)
    random.Random(seed).shuffle(out)
    return out


def _undated(docs: Iterable[Document]) -> list[Document]:
    return [replace(d, date=None) for d in docs]


def pairwise(
    data: RewriteSet, cfg: RetoldConfig | None = None, *, seed: int = SEED
) -> tuple[dict[str, float], dict[str, Any]]:
    """Align every gold pair directly (undated documents, derived side as a) and `score` the results; the
    families are built from these results over the set's documents in a seeded order."""
    t0 = time.perf_counter()
    docs = {d.id: d for d in _undated(data.docs)}
    results = {frozenset(p.key): compare_documents(docs[p.a], docs[p.b], cfg) for p in data.gold}
    order = [d.id for d in _shuffled(data.docs, seed)]
    dates = {d.id: d.date for d in data.docs}
    infos = _infos([docs[i] for i in order])
    reported = [r for r in results.values() if r.verdict in REUSE_VERDICTS]
    undated, dated = Provenance.build(infos, reported), Provenance.build(_dated(infos, dates), reported)
    metrics, details = score(data, results, undated, dated)
    details["seconds"] = round(time.perf_counter() - t0, 2)
    return metrics, details


def _infos(docs: Sequence[Document]) -> list[DocInfo]:
    """What the families read about `docs`, in this order, as the pipeline derives it (a date header of the
    text, the agency credit)."""
    out: list[DocInfo] = []
    for i, doc in enumerate(docs):
        an = analyze(doc)
        credited = any(b.kind == "agency" for b in an.boilerplate)
        out.append(DocInfo(doc.id, an.doc.date, len(doc.text), i, credited))
    return out


def _dated(infos: Sequence[DocInfo], dates: Mapping[str, str | None]) -> list[DocInfo]:
    """`infos` with the input's dates given back (a date the text itself states is kept where none is given)."""
    return [replace(d, date=dates.get(d.id) or d.date) for d in infos]


def background(bbc: Path, reuters: Path, *, skip: Iterable[str] = (), reuters_every: int = 4) -> list[Document]:
    """The corpus to hide the set in: the BBC articles (field ``body``) whose id is not in `skip`, then every
    `reuters_every`-th Reuters article (``body``; ids ``reuters/<id>``), in file order; unusable records are
    left out."""
    if reuters_every < 1:
        raise InputError(f"reuters_every must be >= 1, got {reuters_every}", source=str(reuters))
    for path in (bbc, reuters):
        if not path.is_file():
            raise InputError("corpus to hide the set in not found (the pairwise mode runs without it)", str(path))
    skipped = set(skip)
    out = [d for d in iter_corpus([bbc], text_field="body") if isinstance(d, Document) and d.id not in skipped]
    reu = [d for d in iter_corpus([reuters], text_field="body") if isinstance(d, Document)]
    return out + [replace(d, id=f"reuters/{d.id}") for d in reu[::reuters_every]]


def hidden(
    data: RewriteSet,
    corpus: Sequence[Document],
    cfg: RetoldConfig | None = None,
    *,
    seed: int = SEED,
    workers: int = 1,
    progress: Progress | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Hide the set's documents in `corpus`, scan all of them undated into a fresh in-memory index, build the
    families as the scan's export does (without dates, and with the input's dates given back) and `score`."""
    t0 = time.perf_counter()
    own = {d.id for d in data.docs}
    clash = [d.id for d in corpus if d.id in own]
    if clash:
        raise InputError(f"corpus documents share ids with the set: {', '.join(clash[:5])}", source="corpus")
    everything = [*data.docs, *corpus]
    dates = {d.id: d.date for d in everything}
    docs = _shuffled(_undated(everything), seed)
    store = MemoryStore()
    with Workers(workers) as pool:
        stats = index_documents(store, docs, cfg, workers=pool, progress=progress)
    t1 = time.perf_counter()
    rows = store.doc_rows()
    infos = [DocInfo(r.id, r.date, r.chars, i, r.credited) for i, r in enumerate(rows)]
    pairs = [pair_from_json(json.loads(p.json), p.channels) for p in store.pairs() if p.verdict in REUSE_VERDICTS]
    undated, dated = Provenance.build(infos, pairs), Provenance.build(_dated(infos, dates), pairs)
    results = {frozenset((r.a.id, r.b.id)): r for r in pairs}
    metrics, details = score(data, results, undated, dated)
    gold = {frozenset(p.key) for p in data.gold}
    others = [r for key, r in results.items() if key & own and key not in gold]
    transitive = [p for p in data.gold if p.kind == "rewrite-transitive"]
    same_family = [p for p in transitive if undated.rank[p.a][0] == undated.rank[p.b][0]]
    details |= {
        "corpus": {"documents": len(docs), "hidden": len(own), "background": len(corpus)},
        "transitive_same_family": [len(same_family), len(transitive)],
        "other_pairs": {
            "verdicts": dict(Counter(r.verdict for r in others)),
            "versions": [
                {"a": r.a.id, "b": r.b.id, "verdict": r.verdict} for r in others if r.verdict in VERSION_VERDICTS
            ][:10],
        },
        "scan": {"verdicts": dict(Counter(r.verdict for r in pairs)), "candidates": stats.candidates},
        "seconds": {"scan": round(t1 - t0, 2), "total": round(time.perf_counter() - t0, 2)},
    }
    return metrics, details


def run(
    folder: Path | None = None,
    *,
    hidden_mode: bool = True,
    bbc: Path | None = None,
    reuters: Path | None = None,
    reuters_every: int = 4,
    seed: int = SEED,
    workers: int = 1,
    cfg: RetoldConfig | None = None,
    progress: Progress | None = None,
) -> EvalResult:
    """Score retold on a news-rewrites folder pair by pair and, with `hidden_mode`, hidden in BBC and Reuters.

    Args:
        folder: A folder in the format of ../shared/data/news-rewrites (default: the shared one).
        hidden_mode: Also run the hidden mode (a scan of about 7,000 documents: a minute or two).
        bbc: The BBC corpus (default: ``bbc/docs.jsonl.gz`` beside `folder`, else in the shared data).
        reuters: The Reuters corpus (default: ``reuters21578/docs.jsonl.gz``, found the same way).
        reuters_every: Every n-th Reuters article is hidden among (4: a quarter).
        seed: Seed of the arrival order.
        workers: Processes for the hidden mode's scan.
        cfg: retold configuration (default: the defaults).
        progress: Callback of the scan (stage ``"index"``).

    Returns:
        The metrics of the module docstring, ``pairwise_`` and (with `hidden_mode`) ``hidden_`` plus
        ``direction_accuracy`` and ``direction_accuracy_dated``; details per mode.

    Raises:
        InputError: A file is missing or malformed.
    """
    folder = folder if folder is not None else data_dir() / "news-rewrites"
    t0 = time.perf_counter()
    data = load(folder)
    metrics: dict[str, float] = {}
    details: dict[str, Any] = {}
    pm, pd = pairwise(data, cfg, seed=seed)
    metrics |= {f"pairwise_{k}": v for k, v in pm.items()}
    details["pairwise"] = pd
    if hidden_mode:
        corpus = background(
            bbc or _beside(folder, "bbc/docs.jsonl.gz"),
            reuters or _beside(folder, "reuters21578/docs.jsonl.gz"),
            skip={d.id for d in data.docs},
            reuters_every=reuters_every,
        )
        hm, hd = hidden(data, corpus, cfg, seed=seed, workers=workers, progress=progress)
        direction = {k: hm.pop(k) for k in ("direction_accuracy", "direction_accuracy_dated")}
        metrics |= {f"hidden_{k}": v for k, v in hm.items()} | direction
        details["hidden"] = hd
    details["seconds"] = round(time.perf_counter() - t0, 2)
    return EvalResult("rewrites", str(folder), len(data.gold), metrics, details)


def _beside(folder: Path, rel: str) -> Path:
    """`rel` in the folder that holds `folder` when it is there, else in the shared data folder."""
    near = folder.parent / rel
    return near if near.is_file() else data_dir() / rel
