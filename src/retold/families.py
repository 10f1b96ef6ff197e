"""Families: group the versions of one article, pick the likely original, and derive a keep-list.

Pure functions over `DocInfo` and `PairResult` records; no I/O (see `retold.io.outputs` for the files).

Membership rule (radius 2 from the core, no single-link chaining):
    Documents are visited from most to least original. The first document not yet in a family becomes the
    core of a new family. An unassigned document joins that family only if it has a linking pair with the core
    itself, or a linking pair with a document that joined because it has a linking pair with the core. Every
    hop is a linking pair, i.e. a version-level verdict (duplicate, near-duplicate or rewrite by default), so
    every member is at most two version hops from its original.

Why this rule: a strict star would split a chain A → B → C in which C was rewritten from B and shares too
little with A to be called a version of it; plain connected components would chain long sequences of loosely
linked stories into one family. Radius 2 keeps such chains together and stops there: a fourth link D (three
hops from A) starts a family of its own. Partial reuse never links: a shared passage (a quoted statement, a
paragraph of agency copy) makes two articles share text, not versions of one article, and linking on it would
join independent reports of the same event through one common quote.

Originality order (most original first; the family's core is its original):
    1. dated documents before undated ones, earlier dates first (ISO 8601; a bare day is the start of that day;
       an unparseable date counts as missing);
    2. containment: a document's score is the number of its linking pairs in which it is largely contained in
       the other side (its coverage exceeds the other's by at least `containment_margin`: the other adds
       material) minus the number in which it is the side that adds; the higher score comes first;
    3. a text without an agency credit before a credited one (a credit says it was built from agency copy);
    4. corpus order.

Confidence scale: for each other member, the first cue above that separates it from the original gives
1.0 (strictly earlier date), 0.8 (containment), 0.7 (agency credit), 0.6 (the original is dated, the member is
not) or 0.5 (nothing but corpus order); a family's confidence is the lowest over its members, and a singleton's
is 1.0. Edges run from the more original to the derived document of every linking pair inside a family, by the
same order, so they never form a cycle.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from retold.model import VERDICTS, DocInfo, Family, FamilyEdge, KeepRecord, PairResult, VerdictName

__all__ = [
    "CONFIDENCE_CONTAINMENT",
    "CONFIDENCE_CREDIT",
    "CONFIDENCE_DATE",
    "CONFIDENCE_DATED",
    "CONFIDENCE_ORDER",
    "CONTAINMENT_MARGIN",
    "LINK_VERDICTS",
    "KeepMode",
    "build_families",
    "keep_list",
]

KeepMode = Literal["original", "first", "all"]

LINK_VERDICTS: tuple[VerdictName, ...] = ("duplicate", "near-duplicate", "rewrite")
CONTAINMENT_MARGIN = 0.1

CONFIDENCE_DATE = 1.0
CONFIDENCE_CONTAINMENT = 0.8
CONFIDENCE_CREDIT = 0.7
CONFIDENCE_DATED = 0.6
CONFIDENCE_ORDER = 0.5

# Higher is closer; used to keep the strongest verdict when a pair is given twice.
_STRENGTH: dict[str, int] = {v: len(VERDICTS) - i for i, v in enumerate(VERDICTS)}
_KEEP_MODES: tuple[KeepMode, ...] = ("original", "first", "all")


class _Rank(NamedTuple):
    """Sort key of originality; smaller is more original."""

    undated: bool
    when: datetime
    neg_containment: int
    credited: bool
    order: int
    id: str


@dataclass(frozen=True, slots=True)
class _Link:
    """A linking pair: its verdict and which side, if either, is largely contained in the other."""

    verdict: VerdictName
    contained: str | None


def build_families(
    docs: Sequence[DocInfo],
    pairs: Sequence[PairResult],
    *,
    link_verdicts: Collection[VerdictName] = LINK_VERDICTS,
    containment_margin: float = CONTAINMENT_MARGIN,
) -> list[Family]:
    """Group documents into families of versions (see the module docstring for the rule).

    Args:
        docs: Every document of the corpus; ids must be unique.
        pairs: Verdicts on candidate pairs; only those whose verdict is in `link_verdicts` connect versions.
            If a pair is given more than once the strongest verdict counts.
        link_verdicts: The verdicts that make two documents versions of one article. Partial reuse is a shared
            passage, not a version, and is left out by default.
        containment_margin: How much higher one side's coverage must be for it to count as contained.

    Returns:
        One family per group, ordered by the corpus order of its original; every document is in exactly one
        family, singletons included. Members are listed most original first, so ``members[0] == original``.

    Raises:
        ValueError: A duplicate document id, a pair naming an unknown document or one document twice, or a
            link verdict that is not a verdict.

    Example:
        >>> docs = [DocInfo("a", "2024-01-01", 900, 0, False), DocInfo("b", "2024-01-02", 950, 1, True)]
        >>> [f.members for f in build_families(docs, [])]
        [('a',), ('b',)]
    """
    unknown = set(link_verdicts) - set(VERDICTS)
    if unknown:
        raise ValueError(f"link_verdicts holds unknown verdicts {sorted(unknown)}; choose from {list(VERDICTS)}")
    info = _index(docs)
    links = _links(pairs, info, frozenset(link_verdicts), containment_margin)
    adjacent: dict[str, set[str]] = {d: set() for d in info}
    score = dict.fromkeys(info, 0)
    for (x, y), link in links.items():
        adjacent[x].add(y)
        adjacent[y].add(x)
        if link.contained is not None:
            score[link.contained] += 1
            score[y if link.contained == x else x] -= 1
    ranks = {d: _rank(doc, score[d]) for d, doc in info.items()}

    family_of: dict[str, str] = {}
    families: list[Family] = []
    for core in sorted(info, key=ranks.__getitem__):
        if core in family_of:
            continue
        ring1 = {n for n in adjacent[core] if n not in family_of}
        ring2 = {m for r in ring1 for m in adjacent[r] if m not in family_of and m != core} - ring1
        members = {core} | ring1 | ring2
        for m in members:
            family_of[m] = core
        families.append(_family(core, members, ranks, links))
    families.sort(key=lambda f: (info[f.original].order, f.original))
    return families


def keep_list(families: Iterable[Family], mode: KeepMode, order: Mapping[str, int]) -> list[KeepRecord]:
    """Which documents a pipeline keeps, one record per document, in corpus order.

    Args:
        families: Families from `build_families`; each document must be in exactly one.
        mode: ``original`` keeps each family's original and drops the rest; ``first`` keeps the member that
            comes first in corpus order; ``all`` keeps everything and only says why. Singletons are always kept.
        order: Corpus position of every document id.

    Returns:
        `KeepRecord` per document with its family id and a reason such as ``original of family X``,
        ``copy of X (rewrite)`` or ``singleton``.

    Raises:
        ValueError: An unknown mode, a document in two families, or a member missing from `order`.

    Example:
        >>> fam = Family("a", ("a", "b"), "a", 1.0, (FamilyEdge("a", "b", "rewrite"),))
        >>> [(r.id, r.keep, r.reason) for r in keep_list([fam], "original", {"a": 0, "b": 1})]
        [('a', True, 'original of family a'), ('b', False, 'copy of a (rewrite)')]
    """
    if mode not in _KEEP_MODES:
        raise ValueError(f"unknown keep mode {mode!r}; choose from {list(_KEEP_MODES)}")
    records: list[KeepRecord] = []
    seen: set[str] = set()
    for fam in families:
        for m in fam.members:
            if m in seen:
                raise ValueError(f"document {m!r} is in more than one family")
            if m not in order:
                raise ValueError(f"document {m!r} of family {fam.id!r} has no corpus position in `order`")
            seen.add(m)
        records.extend(_keep_family(fam, mode, order))
    records.sort(key=lambda r: (order[r.id], r.id))
    return records


def _index(docs: Sequence[DocInfo]) -> dict[str, DocInfo]:
    info: dict[str, DocInfo] = {}
    for d in docs:
        if d.id in info:
            raise ValueError(f"duplicate document id {d.id!r}")
        info[d.id] = d
    return info


def _links(
    pairs: Sequence[PairResult], info: Mapping[str, DocInfo], link: frozenset[str], margin: float
) -> dict[tuple[str, str], _Link]:
    """Linking pairs keyed by ``(smaller id, larger id)``, keeping the strongest verdict of repeated pairs."""
    out: dict[tuple[str, str], _Link] = {}
    for p in pairs:
        a, b = p.a.id, p.b.id
        for side in (a, b):
            if side not in info:
                raise ValueError(f"pair {a!r}–{b!r} names {side!r}, which is not among the documents")
        if a == b:
            raise ValueError(f"pair compares document {a!r} with itself")
        if p.verdict not in link:
            continue
        contained = a if p.a.coverage - p.b.coverage >= margin else b if p.b.coverage - p.a.coverage >= margin else None
        key = (a, b) if a < b else (b, a)
        old = out.get(key)
        if old is None or _STRENGTH[p.verdict] > _STRENGTH[old.verdict]:
            out[key] = _Link(p.verdict, contained)
    return out


def _parse_date(value: str | None) -> datetime | None:
    """The instant of an ISO 8601 date, naive UTC; None when missing or unparseable."""
    if not value or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    # Aware and naive datetimes cannot be compared; naive ones are taken as UTC.
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo is not None else when


def _rank(doc: DocInfo, containment: int) -> _Rank:
    when = _parse_date(doc.date)
    return _Rank(when is None, when or datetime.min, -containment, doc.credited, doc.order, doc.id)


def _cue(original: _Rank, member: _Rank) -> float:
    """How firmly the first separating cue puts `original` before `member`."""
    if original.undated != member.undated:
        return CONFIDENCE_DATED
    if not original.undated and original.when != member.when:
        return CONFIDENCE_DATE
    if original.neg_containment != member.neg_containment:
        return CONFIDENCE_CONTAINMENT
    if original.credited != member.credited:
        return CONFIDENCE_CREDIT
    return CONFIDENCE_ORDER


def _family(core: str, members: set[str], ranks: Mapping[str, _Rank], links: Mapping[tuple[str, str], _Link]) -> Family:
    ordered = tuple(sorted(members, key=ranks.__getitem__))
    position = {m: i for i, m in enumerate(ordered)}
    edges: list[FamilyEdge] = []
    for (x, y), link in links.items():
        if x in position and y in position:
            src, dst = (x, y) if position[x] < position[y] else (y, x)
            edges.append(FamilyEdge(src, dst, link.verdict))
    edges.sort(key=lambda e: (position[e.source], position[e.target]))
    confidence = min((_cue(ranks[core], ranks[m]) for m in ordered[1:]), default=1.0)
    return Family(id=core, members=ordered, original=core, confidence=confidence, edges=tuple(edges))


def _relation(fam: Family, member: str) -> str:
    """How `member` is tied into its family: ``rewrite`` (of the original), ``rewrite of b``, or the reverse."""
    incoming = [e for e in fam.edges if e.target == member]
    for e in incoming:
        if e.source == fam.original:
            return e.verdict
    if incoming:  # edges are sorted most original source first
        return f"{incoming[0].verdict} of {incoming[0].source}"
    outgoing = [e for e in fam.edges if e.source == member]
    if outgoing:
        return f"{outgoing[0].target} is a {outgoing[0].verdict} of it"
    return "member"


def _keep_family(fam: Family, mode: KeepMode, order: Mapping[str, int]) -> list[KeepRecord]:
    if len(fam.members) == 1:
        return [KeepRecord(fam.members[0], True, fam.id, "singleton")]
    out: list[KeepRecord] = []
    if mode == "first":
        kept = min(fam.members, key=lambda m: (order[m], m))
        for m in fam.members:
            role = f"original of family {fam.id}" if m == fam.original else f"version of {fam.original}"
            if m == kept:
                out.append(KeepRecord(m, True, fam.id, f"{role}, first in corpus order"))
            else:
                detail = "" if m == fam.original else f" ({_relation(fam, m)})"
                out.append(KeepRecord(m, False, fam.id, f"{role}{detail}; kept {kept}, first in corpus order"))
        return out
    for m in fam.members:
        if m == fam.original:
            out.append(KeepRecord(m, True, fam.id, f"original of family {fam.id}"))
        elif mode == "original":
            out.append(KeepRecord(m, False, fam.id, f"copy of {fam.original} ({_relation(fam, m)})"))
        else:
            out.append(KeepRecord(m, True, fam.id, f"version of {fam.original} ({_relation(fam, m)})"))
    return out
