"""Typed records that flow between the stages; plain data, no behaviour beyond serialisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from retold._pickling import by_fields

Label = Literal["verbatim", "paraphrase", "new", "attribution"]
PassageLabel = Literal["verbatim", "paraphrase"]
VerdictName = Literal["duplicate", "near-duplicate", "rewrite", "partial-reuse", "template", "unrelated"]
SentenceKind = Literal["text", "heading", "attribution"]
Channel = Literal["exact", "minhash", "rewrite", "vector"]

LABELS: tuple[Label, ...] = ("verbatim", "paraphrase", "new", "attribution")
VERDICTS: tuple[VerdictName, ...] = ("duplicate", "near-duplicate", "rewrite", "partial-reuse", "template", "unrelated")
"""Strongest first. ``template``: the same wording with other facts (a recurring report filled with other figures or
names): not reuse, kept out of families and of the keep-list's duplicate decisions."""


@by_fields
@dataclass(frozen=True, slots=True)
class Document:
    """One input article. `text` is the original text; every offset in retold indexes it.

    `origin` says where the record came from (``file`` or ``file:line``) for messages; stages never read it.
    `encoding` names the encoding a text file was decoded from when it was not UTF-8 (None: UTF-8).
    """

    id: str
    text: str
    date: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    origin: str | None = None
    encoding: str | None = None


@by_fields
@dataclass(frozen=True, slots=True)
class Span:
    """A labelled half-open character range ``[start, end)`` of a document's original text."""

    start: int
    end: int
    label: Label

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "label": self.label}


@by_fields
@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence (or heading, or attribution line) as a span of the original text.

    `tok_start`/`tok_end` index the document's token arrays; `paragraph` numbers paragraphs from 0.
    """

    start: int
    end: int
    tok_start: int
    tok_end: int
    paragraph: int
    kind: SentenceKind


@by_fields
@dataclass(frozen=True, slots=True)
class Candidate:
    """A pair of documents worth aligning, found by one channel. `a < b` by corpus position."""

    a: int
    b: int
    channel: Channel
    score: float


@by_fields
@dataclass(frozen=True, slots=True)
class Passage:
    """A run of aligned text: ``a[a_start:a_end]`` corresponds to ``b[b_start:b_end]``."""

    label: PassageLabel
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "a_start": self.a_start,
            "a_end": self.a_end,
            "b_start": self.b_start,
            "b_end": self.b_end,
            "score": round(self.score, 4),
        }


@by_fields
@dataclass(frozen=True, slots=True)
class Alignment:
    """What `align` found between two documents: passages plus a full labelling of each side."""

    passages: tuple[Passage, ...]
    spans_a: tuple[Span, ...]
    spans_b: tuple[Span, ...]


@by_fields
@dataclass(frozen=True, slots=True)
class SideSummary:
    """Per-document part of a pair result."""

    id: str
    date: str | None
    chars: int
    coverage: float

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "date": self.date, "chars": self.chars, "coverage": round(self.coverage, 4)}


@by_fields
@dataclass(frozen=True, slots=True)
class PairResult:
    """The verdict on one pair with its evidence; `to_json` is the fixed pair JSON."""

    a: SideSummary
    b: SideSummary
    verdict: VerdictName
    alignment: Alignment
    channels: tuple[Channel, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "verdict": self.verdict,
            "passages": [p.to_json() for p in self.alignment.passages],
            "spans": {
                "a": [s.to_json() for s in self.alignment.spans_a],
                "b": [s.to_json() for s in self.alignment.spans_b],
            },
        }


@dataclass(frozen=True, slots=True)
class RecordError:
    """An input record that could not be used; carried as a result so a batch run goes on."""

    source: str
    reason: str
    line: int | None = None
    id: str | None = None

    def where(self) -> str:
        """``file:line (id=…)`` for messages."""
        loc = self.source if self.line is None else f"{self.source}:{self.line}"
        return loc if self.id is None else f"{loc} (id={self.id})"

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DocInfo:
    """What the families stage needs to know about one document (no text).

    `order` is the document's position in the corpus or index (unique, the last tie-break); `chars` is the length
    of its original text; `credited` says the text carries an agency credit ("(with inputs from PTI)", "(Reuters)"),
    i.e. it says it was built from agency copy and is therefore a derived version.
    """

    id: str
    date: str | None
    chars: int
    order: int
    credited: bool


@dataclass(frozen=True, slots=True)
class FamilyEdge:
    """A "derived from" edge inside a family: `target` is a version derived from `source`.

    `source` is the earlier, more original document and `target` the derived one; `verdict` is the verdict of
    the pair that links them. In JSON the direction reads ``{"from": source, "to": target}``.
    """

    source: str
    target: str
    verdict: VerdictName

    def to_json(self) -> dict[str, object]:
        return {"from": self.source, "to": self.target, "verdict": self.verdict}


@dataclass(frozen=True, slots=True)
class Family:
    """A group of versions of one article; `to_json` is the fixed families.jsonl record.

    `id` is the original's id (stable across runs); `members` lists every member, the original first;
    `confidence` in [0, 1] says how firmly the evidence picks `original` (see `retold.families`).
    """

    id: str
    members: tuple[str, ...]
    original: str
    confidence: float
    edges: tuple[FamilyEdge, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "members": list(self.members),
            "original": self.original,
            "confidence": round(self.confidence, 4),
            "edges": [e.to_json() for e in self.edges],
        }


@dataclass(frozen=True, slots=True)
class KeepRecord:
    """Whether a pipeline keeps one document, which family it belongs to and why; the keep.jsonl record."""

    id: str
    keep: bool
    family: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "keep": self.keep, "family": self.family, "reason": self.reason}
