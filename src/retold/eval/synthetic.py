"""The synthetic benchmark: plant near-duplicates and rewrites of real news articles in a corpus of them, scan
it, and score what retold finds.

`generate` derives documents from distinct base articles (by default the shared BBC corpus): near-duplicates
(5-15 % word edits, sometimes a dropped sentence, a credit line or a date header) and rewrites in the manner of
the seed pair (most sentences reworded by `retold.eval.synthetic_edits`, a paragraph moved and one dropped, a
new lead, agency and picture credits), some made from an earlier rewrite (chains A → B → C). It also plants
look-alikes: independent reports of a base article's event (another article of the same topic, from outside
the scanned corpus, with the event's names and figures put in for its own, a lead naming them, sentences
stating its figures, sometimes one of its quotes verbatim), mostly of articles that have planted versions.
A version's date header is never earlier than its source's.

`run` scans base sample + planted documents with `retold.pipeline.scan`, groups them with
`retold.families.build_families`, and reports recall per kind, precision on pairs that involve a planted
version, family pairwise precision/recall and adjusted Rand index against the planted families, the share of
look-alikes kept out of their event's family, the channels that proposed each planted pair, and examples of
errors.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from retold.api import data_dir
from retold.config import RetoldConfig
from retold.errors import InputError
from retold.eval import synthetic_edits as ed
from retold.eval.base import EvalResult
from retold.eval.clusters import pair_counts
from retold.families import CONTAINMENT_MARGIN, CUE_WEIGHTS, LINK_VERDICTS, build_families, cue_votes
from retold.io.readers import iter_corpus
from retold.model import DocInfo, Document, Family, PairResult
from retold.pipeline import scan
from retold.text.boilerplate import date_header, find_boilerplate

PlantedKind = Literal["near-duplicate", "rewrite", "lookalike"]
PairKind = Literal["near-duplicate", "rewrite", "family"]

REUSE_VERDICTS = frozenset({"duplicate", "near-duplicate", "rewrite", "partial-reuse"})
EXPECTED_VERDICTS = {"near-duplicate": frozenset({"duplicate", "near-duplicate"}), "rewrite": frozenset({"rewrite"})}
MAX_REWRITE_JACCARD = (0.3, 0.25)
"""A planted rewrite of a base article, and of an earlier rewrite, shares less than this word 5-gram Jaccard with
its source (the seed pair: 0.08). Rewording a rewrite changes less, so chains must clear a lower bar."""
FILLER_WORDS = tuple(
    "new major local recent several key early further large public final main also now still just then often "
    "again widely later soon quite very many other same whole big top first last senior chief former small".split()
)
"""Words that replace or are inserted in near-duplicates where the paraphrase table offers no synonym."""
_AGENCIES = ("PTI", "ANI", "IANS", "Reuters", "AFP", "agencies")
_BYLINES = ("By Sarah Mitchell", "By Rahul Verma", "By James Carter", "By Priya Nair", "By Tom Hughes")
_PICTURES = ("Picture Credit: Getty Images", "Picture Credit: @NewsDesk/Twitter", "Photo: Reuters", "Image: AFP")
_LEADS = (
    "There has been a fresh twist in the story surrounding {name}.",
    "{name} is back in the headlines this week, and the details matter.",
    "Here is what is known so far about the latest developments involving {name}.",
    "The story involving {name} has drawn wide attention in recent days.",
    "Fresh details have emerged about {name}, in a development that is being closely watched.",
)
_NAME_RE = re.compile(r"(?<=[a-z,] )([A-Z][a-z]+(?: [A-Z][a-z]+)+)")
_LEAD_NAME = re.compile(r"(?<=[\w,] )[A-Z][a-z]{3,}")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]{2,}\b")
_FIGURE = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)*(?![\d])")
_QUOTED = re.compile(r"[\"“]([^\"“”]{40,240}?)[,.]?[\"”]")
_CALENDAR = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August "
    "September October November December".split()
)
_LOOKALIKE_LEADS = (
    "{a} and {b} are at the centre of a story that has moved quickly, with {n} the figure everyone is quoting.",
    "All eyes are on {a} after a week in which {b} also played a part and {n} became the number to watch.",
    "Questions are being asked of {a}, and {b} is never far from the debate, as the figure of {n} sinks in.",
    "What happens next for {a} is anyone's guess, though {b} and a figure of {n} keep coming up.",
)
_FACTS = (
    "{a} put the figure at {n}.",
    "The number cited by {a} was {n}.",
    "For {a}, {n} is the figure that matters.",
    "Reports linked {a} to a figure of {n}.",
)


@dataclass(frozen=True, slots=True)
class PlantedDoc:
    """How a planted document was made: its kind, the document it was derived from, its family (the base
    article at the root of its chain), the article its new lead was taken from, and its chain depth.

    A look-alike is no version: `source` is the article whose event it reports, `family` is its own id,
    `donor` the article whose sentences it was written from, and `depth` 0.
    """

    id: str
    kind: PlantedKind
    source: str
    family: str
    donor: str | None = None
    depth: int = 1


@dataclass(frozen=True, slots=True)
class PlantedPair:
    """A pair that should be found: direct (``near-duplicate``, ``rewrite``) or indirect in a chain (``family``)."""

    a: str
    b: str
    kind: PairKind


@dataclass(slots=True)
class SyntheticCorpus:
    """Base articles plus planted documents (`docs`), every related planted pair, and each planted doc's origin."""

    docs: list[Document]
    planted: list[PlantedPair]
    derived: list[PlantedDoc] = field(default_factory=list)

    def family_of(self) -> dict[str, str]:
        """Family id of every document (a base article and a look-alike are each their own family)."""
        return {d.id: d.id for d in self.docs} | {p.id: p.family for p in self.derived}


def dedupe(docs: Iterable[Document]) -> list[Document]:
    """`docs` without later copies of a text already seen (compared case- and whitespace-folded)."""
    seen: dict[str, Document] = {}
    for d in docs:
        seen.setdefault(" ".join(d.text.casefold().split()), d)
    return list(seen.values())


def load_base(data: Path | None = None) -> tuple[list[Document], Path]:
    """Distinct base articles of a JSONL(.gz) corpus (default: the shared BBC corpus) and the path read.

    The text field is ``body`` when the first record has one, else ``text``.
    """
    path = data if data is not None else data_dir() / "bbc" / "docs.jsonl.gz"
    if not path.is_file():
        raise InputError("expected a JSONL(.gz) corpus of news articles", source=str(path))
    with gzip.open(path, "rt", encoding="utf-8") if path.name.endswith(".gz") else path.open(encoding="utf-8") as fh:
        first = json.loads(next((line for line in fh if line.strip()), "{}"))
    text_field = "body" if isinstance(first, dict) and "body" in first else "text"
    return dedupe(d for d in iter_corpus([path], text_field=text_field) if isinstance(d, Document)), path


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs of `text` (single line breaks when there are no blank lines)."""
    parts = re.split(r"\n\s*\n", text.strip())
    return [p.strip() for p in (parts if len(parts) > 1 else text.split("\n")) if p.strip()]


def shingle_jaccard(a: str, b: str, n: int = 5) -> float:
    """Jaccard similarity of the word `n`-gram sets of two texts."""
    wa, wb = ed.words(a), ed.words(b)
    sa, sb = ({tuple(w[i : i + n]) for i in range(len(w) - n + 1)} for w in (wa, wb))
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def generate(
    base: Sequence[Document],
    *,
    n_near: int,
    n_rewrite: int,
    seed: int,
    donors: Sequence[Document] | None = None,
    chain_rate: float = 0.25,
    n_lookalike: int = 0,
) -> SyntheticCorpus:
    """Plant near-duplicates and rewrites of distinct base articles, and look-alikes of their events.

    A rewrite that still shares `MAX_REWRITE_JACCARD` (lower for a rewrite of a rewrite) or more of its word
    5-grams with its source after the strongest rewording is made again, from another earlier rewrite or from a
    fresh base article.

    Args:
        base: base news articles (de-duplicated here).
        n_near: near-duplicates to plant.
        n_rewrite: rewrites to plant; up to `chain_rate` of them rewrite an earlier rewrite (A → B → C).
        seed: the same seed gives the same corpus.
        donors: articles a new lead may be taken from (default: `base`): only those whose lead names nobody
            another base article names, each once; the donor is recorded.
        chain_rate: probability that a rewrite (after the first) continues a chain.
        n_lookalike: look-alikes to plant (see `lookalike_body`): first of the roots of planted families, then
            of other base articles, each written from a different donor outside `base` (same topic, the id
            prefix before ``/``, where one is left).

    Returns:
        The base articles plus planted documents (shuffled), the planted pairs and each planted doc's origin.

    Raises:
        ValueError: fewer distinct base articles than the planted documents need, or fewer donors outside
            `base` than look-alikes.
    """
    rng = random.Random(seed)
    pool = dedupe(base)
    fresh = iter(rng.sample(pool, len(pool)))
    # Lead donors name nobody that another base article names, so a borrowed lead ties a rewrite to no story
    # of the corpus; each lends one lead at most.
    names = Counter(n for d in pool for n in set(_LEAD_NAME.findall(d.text)))
    own = {d.id for d in pool}
    fit = [d for d in donors or pool if all(names[n] <= (d.id in own) for n in _LEAD_NAME.findall(_lead(d)))]
    donor_queue = iter(rng.sample(fit, len(fit)))
    lent: set[str] = set()
    by_id: dict[str, tuple[Document, list[str]]] = {}  # document and its body paragraphs
    derived: list[PlantedDoc] = []

    def take() -> Document:
        src = next(fresh, None)
        if src is None:
            raise ValueError(f"not enough distinct base articles ({len(pool)}) for the planted documents")
        by_id[src.id] = (src, paragraphs(src.text))
        return src

    for i in range(n_near):
        src, doc_id = take(), f"synthetic/near/{i:04d}"
        body = near_duplicate_body(by_id[src.id][1], rng, rng.uniform(0.065, 0.14), rng.random() < 0.3)
        extra = rng.choice(["", "", f"(with inputs from {rng.choice(_AGENCIES)})", rng.choice(_BYLINES)])
        by_id[doc_id] = (_document(doc_id, src, body + ([extra] if extra else []), rng, 0.3), body)
        derived.append(PlantedDoc(doc_id, "near-duplicate", src.id, src.id))
    firsts: list[PlantedDoc] = []  # rewrites of base articles: where a chain may continue
    for k in range(n_rewrite):
        doc_id = f"synthetic/rewrite/{k:04d}"
        parent = rng.choice(firsts) if firsts and rng.random() < chain_rate else None
        for attempt in range(len(pool) + 4):
            src = by_id[parent.id][0] if parent else take()
            family = parent.family if parent else src.id
            donor = next(donor_queue, None) if rng.random() < 0.5 else None
            lent |= {donor.id} if donor else set()
            donor = donor if donor is None or donor.id != family else None
            body = _rewrite(by_id[src.id][1], src.text, donor, rng)
            credits = [f"(with inputs from {rng.choice(_AGENCIES)})"] if rng.random() < 0.8 else []
            credits += [rng.choice(_PICTURES)] if rng.random() < 0.6 else []
            doc = _document(doc_id, src, body + credits, rng, 0.5, rewrite=True)
            if shingle_jaccard(src.text, doc.text) < MAX_REWRITE_JACCARD[parent is not None]:
                break
            # Too close to its source: try other parents, then a fresh base article.
            parent = rng.choice(firsts) if parent and attempt < 6 else None
        by_id[doc_id] = (doc, body)
        derived.append(PlantedDoc(doc_id, "rewrite", src.id, family, donor.id if donor else None, 1 + bool(parent)))
        if parent is None:
            firsts.append(derived[-1])
    outside = [d for d in donors or () if d.id not in own | lent]
    for planted, doc in _lookalikes(pool, derived, outside, n_lookalike, rng):
        by_id[planted.id] = (doc, [])
        derived.append(planted)
    docs = pool + [by_id[d.id][0] for d in derived]
    rng.shuffle(docs)
    return SyntheticCorpus(docs, _planted_pairs(derived), derived)


def near_duplicate_body(paras: list[str], rng: random.Random, rate: float, drop_sentence: bool) -> list[str]:
    """Light edits: about ``rate`` x words replaced, inserted or deleted, optionally one short sentence dropped.

    A dropped sentence counts towards the edit budget, so the word-level edit distance to the input stays close
    to ``rate`` x its word count.
    """
    sents = [ed.split_sentences(p) for p in paras]
    budget = max(1, round(rate * sum(len(ed.words(p)) for p in paras)))
    short = [(i, j) for i, ss in enumerate(sents) for j, s in enumerate(ss) if len(ss) > 1 and 3 <= len(ed.words(s))]
    short = [(i, j) for i, j in short if len(ed.words(sents[i][j])) <= budget // 2]
    if drop_sentence and short:
        i, j = rng.choice(short)
        budget -= len(ed.words(sents[i].pop(j)))
    toks = [" ".join(ss).split(" ") for ss in sents]
    word_re = re.compile(r"(\W*)([A-Za-z]+)(\W*)")
    slots = [(i, j, m.groups()) for i, ts in enumerate(toks) for j, t in enumerate(ts) if (m := word_re.fullmatch(t))]
    for i, j, (pre, word, post) in sorted(rng.sample(slots, min(budget, len(slots))), reverse=True):  # back to front
        op = rng.random()
        if op < 0.25:
            toks[i].insert(j, rng.choice(FILLER_WORDS))
        elif op < 0.5 and len(toks[i]) > 1:
            del toks[i][j]
        else:
            alts = [a for a in ed.PARAPHRASES.get(word.lower(), ()) if a.isalpha()]
            alt = rng.choice(alts or [w for w in FILLER_WORDS if w != word.lower()])
            toks[i][j] = pre + (ed.cap(alt) if word[0].isupper() else alt) + post
    return [" ".join(ts) for ts in toks]


def _document(
    doc_id: str, src: Document, body: list[str], rng: random.Random, p_header: float, *, rewrite: bool = False
) -> Document:
    header = ""
    if rng.random() < p_header:
        # A version is dated on or after a dated source, so a date never points at the wrong original.
        after, _ = date_header(src.text)
        day = date.fromisoformat(after) + timedelta(days=rng.randint(0, 3)) if after else _random_day(rng)
        header = f" date {day.isoformat()} "
    title = ed.substitute(src.title, rng, 0.9) if rewrite and src.title else src.title
    origin = f"synthetic:{'rewrite' if rewrite else 'near-duplicate'}:{src.id}"
    return Document(doc_id, header + "\n\n".join(body), title=title, source="synthetic", origin=origin)


def _random_day(rng: random.Random) -> date:
    return date(rng.randint(2004, 2005), rng.randint(1, 12), rng.randint(1, 28))


def _lead(doc: Document) -> str:
    return " ".join(ed.split_sentences(paragraphs(doc.text)[0])[:2])


def _rewrite(paras: list[str], text: str, donor: Document | None, rng: random.Random) -> list[str]:
    """A new lead (reworded from `donor`, else a template) over `paras` with a paragraph dropped, one moved and
    every other reworded; reworded again more strongly while the 5-gram Jaccard with `text` is 0.2 or more.
    """
    lead_rng = random.Random(rng.getrandbits(64))
    if donor is not None:
        lead = ed.paraphrase_paragraph(_lead(donor), lead_rng, 1.0)
    else:
        m = _NAME_RE.search(text)
        lead = rng.choice(_LEADS).format(name=m[1] if m else "this story")
    body = list(paras)
    small = [i for i, p in enumerate(body) if i and 4 * len(p.split()) <= sum(len(q.split()) for q in body)]
    if len(body) >= 4 and small and rng.random() < 0.7:  # drop a paragraph, but not a quarter of the story
        del body[rng.choice(small)]
    if len(body) >= 3:
        block = body.pop(rng.randrange(1, len(body)))
        body.insert(rng.randrange(1, len(body) + 1), block)
    seed, source = rng.getrandbits(64), frozenset(ed.shingles(text))
    out: list[str] = []
    for strength in (0.6, 1.0):
        sub = random.Random(seed)
        out = [ed.cap(lead)] + [ed.paraphrase_paragraph(p, sub, strength, source) for p in body]
        if shingle_jaccard(text, "\n\n".join(out)) < 0.2:
            break
    return out


def lookalike_body(target: Document, donor: Document, rng: random.Random) -> list[str]:
    """An independent report of `target`'s event, written from `donor` (another article, ideally of the same
    topic): the donor's paragraphs with the target's names and figures put in for the donor's own (most
    frequent for most frequent), after a new lead naming the target's two main names and a figure; up to two
    short sentences state figures of the target in other words, and half the time one of its quotes is repeated
    verbatim (independent reports quote the same statement). So it shares the event's rare terms with the
    target, and a quote at most, but no sentences.
    """
    t_names, d_names = _names(target.text), _names(donor.text)
    t_figs, d_figs = _figures(target.text), _figures(donor.text)
    body = paragraphs(donor.text)
    name_swap = {d: t_names[i % len(t_names)] for i, d in enumerate(d_names)} if t_names else {}
    figure_swap = {d: t_figs[i % len(t_figs)] for i, d in enumerate(d_figs)} if t_figs else {}
    body = [_replace(_replace(p, name_swap, r"\b({})\b"), figure_swap, r"(?<![\d.,])({})(?![\d])") for p in body]
    a, b = (t_names + ["the officials", "the organisers"])[:2]
    figure = t_figs[0] if t_figs else "one"
    extra: list[str] = []
    facts = [
        (n, f)
        for s in ed.split_sentences(" ".join(paragraphs(target.text)))
        for n in _names(s)[:1]
        if n in t_names
        for f in _figures(s)[:1]
    ]
    for n, f in rng.sample(facts, min(2, len(facts))):
        extra.append(rng.choice(_FACTS).format(a=n, n=f))
    quotes = _QUOTED.findall(target.text)
    if quotes and rng.random() < 0.5:
        extra.append(f'"{rng.choice(quotes)}," {a} said.')
    for sentence in extra:
        body.insert(rng.randint(1, len(body)), sentence)
    return [rng.choice(_LOOKALIKE_LEADS).format(a=a, b=b, n=figure), *body]


def _replace(text: str, table: dict[str, str], pattern: str) -> str:
    """`text` with every key of `table` (as a whole word or number, by `pattern`) replaced in one pass."""
    if not table:
        return text
    found = re.compile(pattern.format("|".join(map(re.escape, sorted(table, key=len, reverse=True)))))
    return found.sub(lambda m: table[m[1]], text)


def _names(text: str) -> list[str]:
    """Capitalised words that never occur in lower case in `text` (names, places, acronyms), most frequent
    first."""
    lower = set(re.findall(r"\b[a-z]+\b", text))
    caps = [w for w in _CAPITALISED.findall(text) if w.lower() not in lower and w not in _CALENDAR]
    return [w for w, _ in Counter(caps).most_common()]


def _figures(text: str) -> list[str]:
    """Numbers of `text`, most frequent first."""
    return [f for f, _ in Counter(_FIGURE.findall(text)).most_common()]


def _lookalikes(
    pool: Sequence[Document],
    derived: Sequence[PlantedDoc],
    donors: Sequence[Document],
    n: int,
    rng: random.Random,
) -> list[tuple[PlantedDoc, Document]]:
    """`n` look-alikes: of planted families' roots first, then of other base articles."""
    if n > len(donors):
        raise ValueError(f"{n} look-alikes need as many donor articles outside the corpus; {len(donors)} given")
    roots = list(dict.fromkeys(d.family for d in derived))
    planted = set(roots)
    rest = [d.id for d in pool if d.id not in planted]
    targets = rng.sample(roots, len(roots)) + rng.sample(rest, len(rest))
    by_id = {d.id: d for d in pool}
    by_topic: dict[str, list[Document]] = {}
    for d in rng.sample(list(donors), len(donors)):
        by_topic.setdefault(_topic(d), []).append(d)
    out: list[tuple[PlantedDoc, Document]] = []
    for k, target_id in zip(range(n), targets * (1 + n // max(1, len(targets))), strict=False):
        target = by_id[target_id]
        shelf = by_topic.get(_topic(target)) or max(by_topic.values(), key=len)
        donor = shelf.pop()
        doc_id = f"synthetic/lookalike/{k:04d}"
        body = lookalike_body(target, donor, rng)
        body += [f"(with inputs from {rng.choice(_AGENCIES)})"] if rng.random() < 0.5 else []
        header = f" date {_random_day(rng).isoformat()} " if rng.random() < 0.3 else ""
        names = _names(target.text)
        title = f"{names[0]}: what we know" if names else target.title
        doc = Document(
            doc_id,
            header + "\n\n".join(body),
            title=title,
            source="synthetic",
            origin=f"synthetic:lookalike:{target.id}",
        )
        out.append((PlantedDoc(doc_id, "lookalike", target.id, doc_id, donor.id, depth=0), doc))
    return out


def _topic(doc: Document) -> str:
    return doc.id.split("/", 1)[0] if "/" in doc.id else ""


def _planted_pairs(derived: Sequence[PlantedDoc]) -> list[PlantedPair]:
    versions = [d for d in derived if d.kind != "lookalike"]
    pairs = [
        PlantedPair(d.source, d.id, "near-duplicate" if d.kind == "near-duplicate" else "rewrite") for d in versions
    ]
    direct = {frozenset((p.a, p.b)) for p in pairs}
    families: dict[str, list[str]] = {}
    for d in versions:
        families.setdefault(d.family, [d.family]).append(d.id)
    for members in families.values():
        pairs += [PlantedPair(a, b, "family") for a, b in combinations(members, 2) if frozenset((a, b)) not in direct]
    return pairs


def run(
    data: Path | None = None,
    *,
    n_base: int = 1000,
    n_near: int = 100,
    n_rewrite: int = 100,
    n_lookalike: int = 100,
    seed: int = 13,
    workers: int = 1,
    cfg: RetoldConfig | None = None,
) -> EvalResult:
    """Plant near-duplicates, rewrites and look-alikes among `n_base` base articles, scan, group, and score.

    Args:
        data: JSONL(.gz) corpus of base articles, field ``body`` or ``text`` (default: shared BBC corpus).
        n_base: base articles in the scanned corpus (the rest of the corpus only lends new leads and the
            look-alikes' sentences).
        n_near: near-duplicates to plant.
        n_rewrite: rewrites to plant.
        n_lookalike: look-alikes to plant.
        seed: seed of the sample and the generator.
        workers: processes for the scan.
        cfg: configuration of the scan; default the defaults.

    Returns:
        Metrics ``recall_near_duplicate``, ``recall_rewrite``, ``precision`` and the family metrics of
        `score_families`; details hold verdict accuracy, channel recall, counts, timings and examples of misses
        and false positives.
    """
    t0 = time.perf_counter()
    pool, path = load_base(data)
    order = random.Random(seed).sample(range(len(pool)), len(pool))
    sample, donors = [pool[i] for i in sorted(order[:n_base])], [pool[i] for i in order[n_base:]]
    corpus = generate(sample, n_near=n_near, n_rewrite=n_rewrite, seed=seed, donors=donors, n_lookalike=n_lookalike)
    t1 = time.perf_counter()
    results, stats = scan(corpus.docs, cfg, workers=workers, keep_unrelated=True)
    t2 = time.perf_counter()
    metrics, details = score(corpus, results)
    details["candidates"] = stats.candidates
    details["seconds"] = {"generate": round(t1 - t0, 2), "scan": round(t2 - t1, 2)} | {
        f"scan_{k}": round(v, 2) for k, v in stats.seconds.items() if k != "total"
    }
    return EvalResult("synthetic", str(path), n_near + n_rewrite + n_lookalike, metrics, details)


def score(corpus: SyntheticCorpus, results: Sequence[PairResult]) -> tuple[dict[str, float], dict[str, Any]]:
    """Recall per planted kind, precision on reported pairs that involve a planted version, the family metrics
    of `score_families`, and error examples.

    A reported pair between documents of different families whose roots are themselves reported as related (the
    base corpus has real follow-up stories) is unlabeled: left out of `precision`, counted in
    ``precision_strict``. Pairs with a look-alike are scored by `score_families` only (a look-alike quoting
    its event's statement is rightly reported as partial reuse). `results` should include unrelated candidates
    (``scan(..., keep_unrelated=True)``) so that channel recall also counts candidates that alignment rejected.
    """
    fam, texts = corpus.family_of(), {d.id: d.text for d in corpus.docs}
    lookalikes = {d.id for d in corpus.derived if d.kind == "lookalike"}
    planted = {d.id for d in corpus.derived} - lookalikes
    got = {frozenset((r.a.id, r.b.id)): r for r in results}
    reported = [r for r in results if r.verdict != "unrelated" and not {r.a.id, r.b.id} & lookalikes]
    base_links = _base_links(corpus, results)
    donors = {(d.family, d.donor) for d in corpus.derived if d.donor}
    counts = Counter[str](p.kind for p in corpus.planted)
    counts.update(
        documents=len(corpus.docs), chained_rewrites=sum(d.depth > 1 for d in corpus.derived), lookalike=len(lookalikes)
    )
    metrics: dict[str, float] = {}
    details: dict[str, Any] = {"counts": dict(counts)}
    for kind in ("near-duplicate", "rewrite", "family"):
        pairs = [p for p in corpus.planted if p.kind == kind]
        found = [got.get(frozenset((p.a, p.b))) for p in pairs]
        hit = [r is not None and r.verdict in REUSE_VERDICTS for r in found]
        key, n = kind.replace("-", "_"), max(1, len(pairs))
        metrics[f"recall_{key}"] = sum(hit) / n
        if kind == "family":
            continue
        details[f"verdict_accuracy_{key}"] = (
            sum(r is not None and r.verdict in EXPECTED_VERDICTS[kind] for r in found) / n
        )
        details[f"verdicts_{key}"] = dict(Counter(r.verdict if r else "not proposed" for r in found))
        chans = {
            ch: sum(r is not None and ch in r.channels for r in found) / n
            for ch in ("exact", "minhash", "rewrite", "vector")
        }
        details[f"channel_recall_{key}"] = chans | {"any": sum(r is not None for r in found) / n}
        missed = [(p, r) for p, r, h in zip(pairs, found, hit, strict=True) if not h]
        details[f"missed_{key}"] = [_example(p.a, p.b, r, texts) for p, r in missed[:5]]
        js = [shingle_jaccard(texts[p.a], texts[p.b]) for p in pairs]
        details[f"jaccard5_{key}"] = {"mean": sum(js) / max(1, len(js)), "max": max(js, default=0.0)}
    details["recall_family"] = metrics.pop("recall_family")
    details["minhash_recall_rewrite"] = details["channel_recall_rewrite"]["minhash"]
    outcome = Counter(dict.fromkeys(("planted_related", "false_positive", "via_related_base_pair", "lead_donor"), 0))
    false_pos: list[dict[str, Any]] = []
    for r in (r for r in reported if {r.a.id, r.b.id} & planted):
        fa, fb = fam[r.a.id], fam[r.b.id]
        if fa == fb:
            outcome["planted_related"] += 1
        elif frozenset((fa, fb)) in base_links:
            outcome["via_related_base_pair"] += 1
        elif (fa, fb) in donors or (fb, fa) in donors:
            outcome["lead_donor"] += 1
        else:
            outcome["false_positive"] += 1
            false_pos += [_example(r.a.id, r.b.id, r, texts)] if len(false_pos) < 5 else []
    tp, fp = outcome["planted_related"], outcome["false_positive"]
    metrics["precision"] = tp / (tp + fp) if tp + fp else 1.0
    details["precision_strict"] = tp / max(1, tp + fp + outcome["via_related_base_pair"])
    details["reported"] = dict(outcome) | {"base_base_unlabeled": len(base_links)}
    details["false_positives"] = false_pos
    fam_metrics, fam_details = score_families(corpus, results)
    metrics |= fam_metrics
    details |= fam_details
    return metrics, json.loads(json.dumps(details), parse_float=lambda v: round(float(v), 4))


def doc_infos(docs: Sequence[Document]) -> list[DocInfo]:
    """What `retold.families` reads about each document, as the pipeline derives it: the date of a leading
    date header, the length, the corpus position and whether the text carries an agency credit."""
    return [
        DocInfo(
            d.id,
            d.date or date_header(d.text)[0],
            len(d.text),
            i,
            any(b.kind == "agency" for b in find_boilerplate(d.text)),
        )
        for i, d in enumerate(docs)
    ]


def score_families(corpus: SyntheticCorpus, results: Sequence[PairResult]) -> tuple[dict[str, float], dict[str, Any]]:
    """Group the scanned corpus with `retold.families.build_families` and score the families.

    Gold: each planted family (a base article, its versions and chains) is one group; every other base article
    and every look-alike is a group of its own. Pairs across two base articles that the scan reports related
    (the base corpus has real duplicates and follow-ups) are unlabeled and left out of every count, as in
    `score`; ``family_ari_strict`` keeps them.

    Returns:
        Metrics ``family_pair_precision``, ``family_pair_recall``, ``family_ari`` and
        ``lookalike_separation`` (share of look-alikes whose family holds no document of their event's planted
        family); details with the strict ARI, the share of planted families whose original is their root, the
        look-alikes' verdicts and channels against their event's article, and examples of errors.
    """
    gold = corpus.family_of()
    infos = doc_infos(corpus.docs)
    families = build_families(infos, results)
    pred = {m: f.id for f in families for m in f.members}
    unlabeled = [(a, b) for a, b in (sorted(link) for link in _base_links(corpus, results))]
    counts = pair_counts(gold, pred, unlabeled)
    strict = pair_counts(gold, pred)
    by_pred: dict[str, Family] = {f.id: f for f in families}
    gold_members: dict[str, list[str]] = {}
    for doc_id, g in gold.items():
        gold_members.setdefault(g, []).append(doc_id)
    got = {frozenset((r.a.id, r.b.id)): r for r in results}
    lookalikes = [d for d in corpus.derived if d.kind == "lookalike"]
    merged: list[dict[str, Any]] = []
    for d in lookalikes:
        event = gold[d.source]
        mates = [m for m in by_pred[pred[d.id]].members if gold[m] == event]
        if mates:
            r = got.get(frozenset((d.id, d.source)))
            merged.append({"lookalike": d.id, "event": d.source, "family": pred[d.id], "with": mates[:5]})
            merged[-1]["verdict"] = r.verdict if r else "not proposed"
    versions = {g: ms for g, ms in gold_members.items() if len(ms) > 1}
    right = [g for g, ms in versions.items() if by_pred[pred[g]].original == g]
    split = [
        {"root": g, "families": sorted({pred[m] for m in ms})}
        for g, ms in versions.items()
        if len({pred[m] for m in ms}) > 1
    ]
    wrong = [
        {"root": g, "original": by_pred[pred[g]].original, "confidence": by_pred[pred[g]].confidence}
        for g in versions
        if g not in right
    ]
    pairs = [got.get(frozenset((d.id, d.source))) for d in lookalikes]
    n = max(1, len(lookalikes))
    metrics = {
        "family_pair_precision": counts.precision,
        "family_pair_recall": counts.recall,
        "family_ari": counts.ari,
        "lookalike_separation": 1.0 - len(merged) / n,
    }
    details: dict[str, Any] = {
        "family_ari_strict": strict.ari,
        "family_pairs": {"gold": counts.gold, "predicted": counts.predicted, "both": counts.both},
        "families_predicted": sum(len(f.members) > 1 for f in families),
        "families_planted": len(versions),
        "families_split": split[:5],
        "original_accuracy": len(right) / max(1, len(versions)),
        "original_cues": _cue_accuracy(corpus, infos, got),
        "original_wrong": wrong[:5],
        "lookalike_verdicts": dict(Counter(r.verdict if r else "not proposed" for r in pairs)),
        "lookalike_candidate_rate": sum(r is not None for r in pairs) / n,
        "lookalike_merged": merged[:5],
    }
    return metrics, details


def _cue_accuracy(
    corpus: SyntheticCorpus, infos: Sequence[DocInfo], got: dict[frozenset[str], PairResult]
) -> dict[str, dict[str, float]]:
    """For the planted (source, version) pairs the scan links: per cue of `retold.families`, how often it
    separates the two and how often it then puts the source first."""
    info = {d.id: d for d in infos}
    fired, right = Counter[str](), Counter[str]()
    for d in corpus.derived:
        r = got.get(frozenset((d.source, d.id)))
        if d.kind == "lookalike" or r is None or r.verdict not in LINK_VERDICTS:
            continue
        gap = r.a.coverage - r.b.coverage
        contained = r.a.id if gap >= CONTAINMENT_MARGIN else r.b.id if -gap >= CONTAINMENT_MARGIN else None
        for cue, vote in cue_votes(info[d.source], info[d.id], contained).items():
            fired[cue] += vote != 0
            right[cue] += vote > 0
    return {c: {"fired": fired[c], "right": right[c] / fired[c] if fired[c] else 1.0} for c in CUE_WEIGHTS}


def _base_links(corpus: SyntheticCorpus, results: Sequence[PairResult]) -> set[frozenset[str]]:
    """Base-article pairs the scan reports as related (any verdict but unrelated): no gold label says whether
    they are versions."""
    planted = {d.id for d in corpus.derived}
    return {frozenset((r.a.id, r.b.id)) for r in results if r.verdict != "unrelated" and not {r.a.id, r.b.id} & planted}


def _example(a: str, b: str, r: PairResult | None, texts: dict[str, str]) -> dict[str, Any]:
    """A pair for error analysis: verdict, channels, coverage, its strongest passage if any, and a typical
    sentence pair (the median of each sentence of `b`'s body matched to its most similar sentence of `a`).
    """
    out: dict[str, Any] = {"a": a, "b": b, "verdict": r.verdict if r else "not proposed"}
    if r is not None:
        out |= {"channels": list(r.channels), "coverage": [r.a.coverage, r.b.coverage]}
        if r.alignment.passages:
            p = max(r.alignment.passages, key=lambda x: (x.label == "verbatim", x.score))
            out["passage"] = {"label": p.label, "a": texts[r.a.id][p.a_start : p.a_end][:300]}
            out["passage"]["b"] = texts[r.b.id][p.b_start : p.b_end][:300]
    src = [s for para in paragraphs(texts[a]) for s in ed.split_sentences(para)]
    best = sorted(
        max((_word_jaccard(s, t), t, s) for t in src)
        for para in paragraphs(texts[b])[1:]
        for s in ed.split_sentences(para)
        if len(s.split()) >= 8 and src
    )
    if best:
        sim, sa, sb = best[len(best) // 2]
        out["sentence_pair"] = {"a": sa, "b": sb, "word_jaccard": sim}
    return out


def _word_jaccard(a: str, b: str) -> float:
    sa, sb = set(ed.words(a)), set(ed.words(b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0
