"""Deterministic benchmark corpus: news-length documents plus planted near-duplicates.

Two sources, same output (`Corpus`):

* ``synthetic`` (default, needs nothing on disk): documents of 300-600 words drawn i.i.d. from a Zipf-Mandelbrot
  distribution over a vocabulary of ~50k made-up words (short words are frequent, as in English), cut into
  sentences of 6-32 words with a capitalised first word, a full stop at the end and the odd comma, so lower-casing
  and whitespace splitting see realistic token variants ("The"/"the", "word."/"word,").
* ``shared``: the same lengths, but each document is a run of real sentences sampled from the BBC and
  Reuters-21578 bodies in ``../shared/data`` (``RETOLD_DATA`` or ``--data`` overrides the folder). Sentences recur
  across documents, so unrelated documents share a few 5-grams, as real news does.

Near-duplicates: ``n_near_dups`` distinct originals are copied, and each copy gets a random word-edit rate
``e ~ U(edit_lo, edit_hi)`` (default 5-15 %): ``round(e * len)`` edits at distinct random positions, each one a
replacement, an insertion (before the position) or a deletion with equal probability; new words come from the
same word distribution. Copies never serve as sources, and no original is copied twice, so the planted pairs are
exactly the near-duplicate pairs by construction. Finally the whole corpus is shuffled, so copies and their
sources sit at random positions. Everything is a pure function of the arguments (``numpy.random.default_rng``).

Usage as a script (prints a summary, optionally writes the texts as JSON Lines)::

    .venv/bin/python bench/corpus.py --docs 1000 --near-dups 50 [--source shared] [--out corpus.jsonl]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Corpus",
    "make_corpus",
    "synthetic_corpus",
    "shared_corpus",
    "default_data_dir",
    "news_stream",
    "write_news_jsonl",
]

_CONSONANTS = list("bcdfghjklmnprstvwyz") + ["ch", "sh", "th", "st", "tr", "br", "pl", "gr"]
_VOWELS = list("aeiou") + ["ai", "ea", "ou", "io", "ee"]


@dataclass
class Corpus:
    """Texts plus the planted near-duplicate pairs.

    Attributes:
        texts: One string per document.
        planted: ``int64`` array ``(k, 2)`` of planted pairs ``(i, j)``, ``i < j``, sorted.
        edit_rates: Word-edit rate of each planted pair (same order as `planted`).
        source: ``"synthetic"`` or ``"shared"``.
        params: The generator arguments (for the JSON report).
    """

    texts: list[str]
    planted: NDArray[np.int64]
    edit_rates: NDArray[np.float64]
    source: str
    params: dict[str, object] = field(default_factory=dict)


def default_data_dir() -> Path:
    """``$RETOLD_DATA`` or ``../shared/data`` relative to the repository root."""
    env = os.environ.get("RETOLD_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _make_vocab(rng: np.random.Generator, size: int) -> list[str]:
    """`size` distinct pronounceable lower-case words, ordered so that frequent ranks get short words."""
    words: set[str] = set()
    out: list[str] = []
    while len(out) < size:
        batch = 2 * (size - len(out)) + 64
        n_syll = rng.choice(np.array([1, 1, 2, 2, 2, 3, 3, 4]), size=batch).tolist()
        cons = rng.integers(len(_CONSONANTS), size=(batch, 5)).tolist()
        vow = rng.integers(len(_VOWELS), size=(batch, 4)).tolist()
        coda = (rng.random(batch) < 0.4).tolist()
        for k in range(batch):
            w = "".join(_CONSONANTS[cons[k][i]] + _VOWELS[vow[k][i]] for i in range(n_syll[k]))
            if coda[k]:
                w += _CONSONANTS[cons[k][4]]
            if w not in words:
                words.add(w)
                out.append(w)
                if len(out) == size:
                    break
    # Short words are frequent: sort by length with a random tie-break (stable, deterministic).
    keys = rng.random(len(out))
    order = sorted(range(len(out)), key=lambda i: (len(out[i]), keys[i]))
    return [out[i] for i in order]


class _WordSampler:
    """Zipf-Mandelbrot word ranks: ``p(r) ~ 1 / (r + q)^s`` over ``0..size-1``."""

    def __init__(self, size: int, s: float = 1.0, q: float = 2.7) -> None:
        p = 1.0 / (np.arange(size, dtype=np.float64) + 1.0 + q) ** s
        self.cdf = np.cumsum(p / p.sum())
        self.cdf[-1] = 1.0

    def __call__(self, rng: np.random.Generator, n: int) -> NDArray[np.int64]:
        return np.searchsorted(self.cdf, rng.random(n), side="right").astype(np.int64)


def _edit(
    words: Sequence[int] | Sequence[str],
    rate: float,
    rng: np.random.Generator,
    new_words: Sequence[int] | Sequence[str],
) -> list:  # type: ignore[type-arg]
    """Apply ``round(rate * len)`` replace/insert/delete edits at distinct random positions."""
    n = len(words)
    m = min(n, max(1, int(round(rate * n))))
    pos = rng.choice(n, size=m, replace=False)
    ops = rng.integers(0, 3, size=m)  # 0 replace, 1 insert before, 2 delete
    op_at = dict(zip(pos.tolist(), ops.tolist(), strict=True))
    out: list = []  # type: ignore[type-arg]
    k = 0
    for i, w in enumerate(words):
        op = op_at.get(i)
        if op is None:
            out.append(w)
        elif op == 0:
            out.append(new_words[k])
            k += 1
        elif op == 1:
            out.append(new_words[k])
            out.append(w)
            k += 1
        # op == 2: deleted
    return out


def _plant(n_docs: int, n_near_dups: int, rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Choose sources among the originals, and the final shuffled position of every document.

    Returns ``(sources, perm_pos)``: original ``sources[k]`` is copied to generated slot
    ``n_orig + k``; generated slot ``g`` ends at position ``perm_pos[g]``.
    """
    if not 0 <= 2 * n_near_dups <= n_docs:
        raise ValueError(f"need 0 <= 2 * near_dups <= docs, got docs={n_docs}, near_dups={n_near_dups}")
    n_orig = n_docs - n_near_dups
    sources = np.sort(rng.choice(n_orig, size=n_near_dups, replace=False)).astype(np.int64)
    perm_pos = rng.permutation(n_docs).astype(np.int64)
    return sources, perm_pos


def _finish(
    docs_by_slot: list[str],
    sources: NDArray[np.int64],
    perm_pos: NDArray[np.int64],
    rates: NDArray[np.float64],
    source: str,
    params: dict[str, object],
) -> Corpus:
    n_docs = len(docs_by_slot)
    n_orig = n_docs - sources.size
    texts: list[str] = [""] * n_docs
    for g, t in enumerate(docs_by_slot):
        texts[int(perm_pos[g])] = t
    a = perm_pos[sources]
    b = perm_pos[n_orig + np.arange(sources.size)]
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1).astype(np.int64)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return Corpus(texts=texts, planted=pairs[order], edit_rates=rates[order], source=source, params=params)


def synthetic_corpus(
    n_docs: int,
    n_near_dups: int,
    seed: int = 0,
    *,
    min_words: int = 300,
    max_words: int = 600,
    vocab_size: int = 50_000,
    zipf_s: float = 1.0,
    edit_lo: float = 0.05,
    edit_hi: float = 0.15,
) -> Corpus:
    """Synthetic news-length documents from a Zipfian vocabulary, with planted near-duplicates."""
    rng = np.random.default_rng(seed)
    vocab = _make_vocab(rng, vocab_size)
    sample = _WordSampler(vocab_size, s=zipf_s)
    # Surface forms: plain, Capitalised (sentence start), "word." (sentence end), "word," (clause end).
    forms = np.array(
        vocab + [w.capitalize() for w in vocab] + [w + "." for w in vocab] + [w + "," for w in vocab], dtype=object
    )
    n_orig = n_docs - n_near_dups
    sources, perm_pos = _plant(n_docs, n_near_dups, rng)

    lengths = rng.integers(min_words, max_words + 1, size=n_orig)
    ids = sample(rng, int(lengths.sum()))
    # Sentence structure over the whole stream: sentence lengths 6..32, first word capitalised, last ends in ".",
    # and ~1 in 12 other words end in ",". Documents are then cut out of the stream (each starts a sentence).
    form = np.zeros(ids.size, dtype=np.int64)
    form[rng.random(ids.size) < 1 / 12] = 3
    doc_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    sent_len = rng.integers(6, 33, size=ids.size // 6 + 1)
    sent_starts = np.cumsum(np.concatenate(([0], sent_len)))
    sent_starts = sent_starts[sent_starts < ids.size]
    # Restart the sentence grid at every document start; drop grid points within 4 words of a document edge.
    doc_of = np.searchsorted(doc_starts, sent_starts, side="right") - 1
    doc_end = doc_starts[doc_of] + lengths[doc_of]
    keep = (sent_starts - doc_starts[doc_of] >= 4) & (doc_end - sent_starts >= 4)
    starts = np.unique(np.concatenate((doc_starts, sent_starts[keep])))
    ends = np.concatenate((starts[1:], [ids.size])) - 1
    form[starts] = 1
    form[ends] = 2
    surface = ids + form * vocab_size

    bounds = np.concatenate((doc_starts, [ids.size]))
    docs_ids = [surface[bounds[i] : bounds[i + 1]] for i in range(n_orig)]
    texts = [" ".join(forms[d].tolist()) for d in docs_ids]

    rates = rng.uniform(edit_lo, edit_hi, size=n_near_dups)
    for k, src in enumerate(sources.tolist()):
        d = docs_ids[src]
        new = sample(rng, int(round(rates[k] * d.size)) + 1)  # plain forms
        edited = _edit(d.tolist(), float(rates[k]), rng, new.tolist())
        texts.append(" ".join(forms[np.asarray(edited, dtype=np.int64)].tolist()))

    params: dict[str, object] = dict(
        docs=n_docs,
        near_dups=n_near_dups,
        seed=seed,
        min_words=min_words,
        max_words=max_words,
        vocab_size=vocab_size,
        zipf_s=zipf_s,
        edit_lo=edit_lo,
        edit_hi=edit_hi,
    )
    return _finish(texts, sources, perm_pos, rates, "synthetic", params)


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")


def _load_sentences(data: Path) -> list[list[str]]:
    sents: list[list[str]] = []
    for rel in ("bbc/docs.jsonl.gz", "reuters21578/docs.jsonl.gz"):
        path = data / rel
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                body = json.loads(line).get("body", "")
                for s in _SENT_SPLIT.split(body):
                    words = s.split()
                    if 4 <= len(words) <= 60:
                        sents.append(words)
    return sents


def shared_corpus(
    n_docs: int,
    n_near_dups: int,
    seed: int = 0,
    *,
    data: Path | None = None,
    min_words: int = 300,
    max_words: int = 600,
    edit_lo: float = 0.05,
    edit_hi: float = 0.15,
) -> Corpus:
    """Documents made of real BBC / Reuters sentences sampled at random, with planted near-duplicates."""
    data = data or default_data_dir()
    sents = _load_sentences(data)
    if not sents:
        raise FileNotFoundError(f"no sentences under {data}")
    rng = np.random.default_rng(seed)
    vocab = sorted({w for s in sents for w in s})
    n_orig = n_docs - n_near_dups
    sources, perm_pos = _plant(n_docs, n_near_dups, rng)
    lengths = rng.integers(min_words, max_words + 1, size=n_orig)
    words_by_doc: list[list[str]] = []
    for target in lengths.tolist():
        words: list[str] = []
        while len(words) < target:
            words.extend(sents[int(rng.integers(len(sents)))])
        words_by_doc.append(words)
    texts = [" ".join(w) for w in words_by_doc]
    rates = rng.uniform(edit_lo, edit_hi, size=n_near_dups)
    for k, src in enumerate(sources.tolist()):
        d = words_by_doc[src]
        new = [vocab[i] for i in rng.integers(len(vocab), size=int(round(rates[k] * len(d))) + 1).tolist()]
        texts.append(" ".join(_edit(d, float(rates[k]), rng, new)))
    params: dict[str, object] = dict(
        docs=n_docs,
        near_dups=n_near_dups,
        seed=seed,
        min_words=min_words,
        max_words=max_words,
        edit_lo=edit_lo,
        edit_hi=edit_hi,
        data=str(data),
        sentences=len(sents),
    )
    return _finish(texts, sources, perm_pos, rates, "shared", params)


def make_corpus(
    n_docs: int, n_near_dups: int, seed: int = 0, source: str = "synthetic", data: Path | None = None
) -> Corpus:
    """`synthetic_corpus` or `shared_corpus` by name. ``"auto"`` uses shared data when present."""
    if source == "auto":
        d = data or default_data_dir()
        source = "shared" if (d / "bbc/docs.jsonl.gz").is_file() else "synthetic"
    if source == "synthetic":
        return synthetic_corpus(n_docs, n_near_dups, seed)
    if source == "shared":
        return shared_corpus(n_docs, n_near_dups, seed, data=data)
    raise ValueError(f"unknown corpus source {source!r}")


# --- a news-archive stream for the scan scaling benchmark (`bench/scan_scale.py`) -------------------------------

NEWS_MIX = {"copy": 0.02, "near": 0.03, "partial": 0.02, "story": 0.25}
"""Rates of the generated kinds in `news_stream`: exact copies, near-duplicates (5-15 % word edits), partial
reuses (half of an earlier article plus new text), and follow-up stories (a new article on a recent story: same
names and numbers, new sentences); the rest are new stories."""


def _real_articles(data: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for rel in ("bbc/docs.jsonl.gz", "reuters21578/docs.jsonl.gz"):
        with gzip.open(data / rel, "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                if str(r.get("body", "")).strip():
                    out.append((f"{rel.split('/')[0]}-{r['id']}", r["body"]))
    return out


class _Bigrams:
    """A word bigram chain over real article text (words keep their punctuation, so sentences end)."""

    def __init__(self, texts: Sequence[str]) -> None:
        index: dict[str, int] = {}
        ids: list[int] = []
        for t in texts:
            ids.extend(index.setdefault(w, len(index)) for w in t.split())
            ids.append(-1)  # document boundary
        self.words = list(index)
        arr = np.asarray(ids, dtype=np.int64)
        prev, nxt = arr[:-1], arr[1:]
        ok = (prev >= 0) & (nxt >= 0)
        order = np.argsort(prev[ok], kind="stable")
        self.succ = nxt[ok][order].tolist()
        counts = np.bincount(prev[ok], minlength=len(self.words))
        self.count = counts.tolist()
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
        self.capitals = [i for i, w in enumerate(self.words) if w[:1].isupper() and counts[i] > 0]

    def sentence(self, rng: np.random.Generator, first: list[str], max_len: int = 40) -> list[str]:
        """A sentence that starts with `first` (spliced in) and walks the chain from a capitalised word."""
        out = list(first)
        w = self.capitals[int(rng.integers(len(self.capitals)))]
        draws = rng.random(max_len).tolist()
        for r in draws:
            word = self.words[w]
            out.append(word)
            if word[-1:] in ".!?" or not self.count[w]:
                break
            w = self.succ[self.start[w] + int(r * self.count[w])]
        if out[-1][-1:] not in ".!?":
            out[-1] += "."
        return out


def _entity(rng: np.random.Generator) -> str:
    syll = int(rng.integers(2, 4))
    word = "".join(
        _CONSONANTS[int(rng.integers(len(_CONSONANTS)))] + _VOWELS[int(rng.integers(len(_VOWELS)))] for _ in range(syll)
    )
    return word.capitalize()


def news_stream(
    n_docs: int, seed: int = 0, *, data: Path | None = None, n_max: int | None = None
) -> Iterator[dict[str, str]]:
    """A news archive in arrival order: real BBC / Reuters articles (all of them, at most a quarter of the
    documents) spread evenly over the first `n_max` (default `n_docs`) positions, between generated news-length
    articles (250-700 words).

    A generated new story is a bigram-chain text (`_Bigrams`, trained on the real articles) whose sentences start
    with the story's own made-up names and numbers, so unrelated articles share common phrases but no story; a
    follow-up story reuses a recent story's names and numbers with new sentences (the rewrite channel's case);
    copies, near-duplicates (5-15 % word edits) and partial reuses copy a recent article (`NEWS_MIX` gives the
    rates). Records are ``{"id", "text", "kind", "of"}`` (``of``: the article copied or followed, else "").
    A pure function of the arguments; the stream for a smaller `n_docs` with the same `n_max` is a prefix.
    """
    data = data or default_data_dir()
    n_max = max(n_max or n_docs, n_docs)
    real = _real_articles(data)
    chain = _Bigrams([t for _, t in real])
    rng = np.random.default_rng(seed)
    is_real = np.zeros(n_max, dtype=bool)
    is_real[np.linspace(0, n_max - 1, num=min(len(real), n_max // 4), dtype=np.int64)] = True
    kinds, probs = list(NEWS_MIX), list(NEWS_MIX.values())
    recent: list[tuple[str, str]] = []  # (id, text) of the last articles, for copies
    stories: list[list[str]] = []  # names and numbers of recent stories
    n_real = 0
    for i in range(n_docs):
        if is_real[i]:
            rid, text = real[n_real]
            n_real += 1
            rec = {"id": rid, "text": text, "kind": "real", "of": ""}
        else:
            u = float(rng.random())
            kind = "new"
            for k, p in zip(kinds, probs, strict=True):
                if u < p:
                    kind = k
                    break
                u -= p
            if kind in ("copy", "near", "partial") and recent:
                src_id, src = recent[int(rng.integers(len(recent)))]
                if kind == "copy":
                    text = src
                elif kind == "near":
                    words = src.split()
                    rate = float(rng.uniform(0.05, 0.15))
                    new = [chain.words[int(x)] for x in rng.integers(len(chain.words), size=len(words) // 5 + 2)]
                    text = " ".join(_edit(words, rate, rng, new))
                else:
                    paras = [p for p in src.split("\n") if p.strip()]
                    keep = paras[: max(1, len(paras) // 2)]
                    extra = [" ".join(chain.sentence(rng, [])) for _ in range(int(rng.integers(3, 8)))]
                    text = "\n\n".join([*keep, *extra])
                rec = {"id": f"gen-{i}", "text": text, "kind": kind, "of": src_id}
            else:
                if kind == "story" and stories:
                    names = stories[int(rng.integers(len(stories)))]
                else:
                    kind = "new"
                    names = [_entity(rng) for _ in range(int(rng.integers(3, 7)))]
                    names += [str(int(rng.integers(2, 9999))) for _ in range(2)]
                    stories.append(names)
                    del stories[:-500]
                target = int(rng.integers(250, 701))
                paras: list[str] = []
                n_words = 0
                while n_words < target:
                    sents = []
                    for _ in range(int(rng.integers(2, 5))):
                        lead = [names[int(rng.integers(len(names)))]] if rng.random() < 0.6 else []
                        s = chain.sentence(rng, lead)
                        n_words += len(s)
                        sents.append(" ".join(s))
                    paras.append(" ".join(sents))
                rec = {"id": f"gen-{i}", "text": "\n\n".join(paras), "kind": kind, "of": ""}
        recent.append((rec["id"], rec["text"]))
        del recent[:-2000]
        yield rec


def write_news_jsonl(path: Path, n_docs: int, seed: int = 0, *, data: Path | None = None) -> dict[str, int]:
    """Write `news_stream` as JSON Lines (``id``, ``text``, ``kind``, ``of``); returns the count of each kind."""
    kinds: dict[str, int] = {}
    with path.open("w", encoding="utf-8") as fh:
        for rec in news_stream(n_docs, seed, data=data):
            kinds[rec["kind"]] = kinds.get(rec["kind"], 0) + 1
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--near-dups", type=int, default=None, help="default: 1%% of --docs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--source", choices=["synthetic", "shared", "auto"], default="synthetic")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="write {id, text} JSON Lines here")
    args = ap.parse_args()
    k = args.near_dups if args.near_dups is not None else max(1, args.docs // 100)
    c = make_corpus(args.docs, k, args.seed, args.source, args.data)
    n_words = [len(t.split()) for t in c.texts]
    print(
        f"{len(c.texts)} docs ({c.source}), words/doc min {min(n_words)} mean {np.mean(n_words):.0f} "
        f"max {max(n_words)}, {len(c.planted)} planted pairs, edit rates "
        f"{c.edit_rates.min() if len(c.edit_rates) else 0:.3f}-{c.edit_rates.max() if len(c.edit_rates) else 0:.3f}"
    )
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for i, t in enumerate(c.texts):
                fh.write(json.dumps({"id": i, "text": t}) + "\n")


if __name__ == "__main__":
    main()
