"""Draw a fresh random sample of a scan's pairs and write a judging sheet for a human reader.

Usage::

    .venv/bin/python bench/sample_pairs.py SCAN_OUT --inputs PATH [PATH ...] [--text-field body] [--id-field id]
        --seed S [--n 100] [--per-verdict] [--verdicts rewrite,partial-reuse] [--to DIR] [--force]
        [--exclude JUDGED.jsonl ...] [--blind K]

``SCAN_OUT`` is the folder ``retold scan ... --out SCAN_OUT`` wrote (its ``pairs.jsonl``); ``--inputs``,
``--text-field`` and ``--id-field`` are the scan's own inputs and options (the texts are read from them with
`retold.io.readers.iter_corpus`, as the scan read them). The sample is uniform over the scan's pairs with the
`SAMPLED` verdicts (near-duplicate, rewrite, partial-reuse, template; or ``--verdicts``), or with ``--per-verdict``
the same number of pairs from each verdict (``--n`` split as evenly as the verdicts allow). The same scan and seed
always give the same sample.

Writes into ``--to`` (default ``SCAN_OUT/judging-seed<S>``; an existing sheet is never overwritten without
``--force``):

* ``pairs.jsonl``: the judging sheet, one pair a line in the format of ../shared/data/judged-pairs/pairs.jsonl
  (``a``, ``b``, ``corpus``, ``verdict_then``, and ``truth``, ``level_ok``, ``passages_ok``, ``why`` left empty to
  fill), plus ``coverage_a``/``coverage_b``, the aligned ``passages`` with the text of both sides
  (``text_a``/``text_b``) and the full texts ``text_a``/``text_b``. Once filled, ``retold eval judged --data DIR``
  scores it (it aligns the carried texts again with the current retold);
* ``pairs.md``: the same pairs rendered for reading (passages side by side, then both texts);
* ``blind-1.jsonl`` .. ``blind-K.jsonl`` with ``--blind K``: the pairs dealt out among K readers with only the ids,
  the corpus, both texts and the empty ``truth`` and ``why``, so that a reader judges without seeing retold's
  verdict or passages (merge the filled ``truth``/``why`` back into ``pairs.jsonl`` by ``a``/``b``);
* ``sample.json``: how the sample was drawn (scan, inputs, seed, mode, pairs per verdict in the scan and drawn).

The procedure and the judging guidelines are docs/judging.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retold.io.readers import MAX_CHARS, iter_corpus
from retold.model import VERDICTS, Document

SAMPLED = ("near-duplicate", "rewrite", "partial-reuse", "template")
"""The verdicts sampled by default: the reported pairs there is something to judge about. ``duplicate`` pairs
(the same content tokens, figures and names included) are left out unless ``--verdicts`` names them, and
``unrelated`` pairs appear in pairs.jsonl only with ``retold scan --all-pairs``."""


def read_population(
    pairs_file: Path, verdicts: Sequence[str], exclude: frozenset[frozenset[str]] = frozenset()
) -> list[tuple[int, str]]:
    """``(line number, verdict)`` of every pair in `pairs_file` whose verdict is in `verdicts` and whose ids are
    not a pair of `exclude`, in file order."""
    out: list[tuple[int, str]] = []
    with pairs_file.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                pair = json.loads(line)
                if pair["verdict"] in verdicts and frozenset((pair["a"]["id"], pair["b"]["id"])) not in exclude:
                    out.append((n, pair["verdict"]))
    return out


def read_exclusions(files: Sequence[Path]) -> frozenset[frozenset[str]]:
    """The id pairs of earlier judging sheets (``a``, ``b`` per line, as ../shared/data/judged-pairs)."""
    out: set[frozenset[str]] = set()
    for f in files:
        with f.open(encoding="utf-8") as fh:
            out.update(frozenset((str(r["a"]), str(r["b"]))) for r in map(json.loads, fh) if r)
    return frozenset(out)


BLIND_FIELDS = ("a", "b", "corpus", "text_a", "text_b", "truth", "why")
"""What a blind reader's sheet keeps: no verdict, coverage or passages to lean on."""


def quotas(available: dict[str, int], n: int) -> dict[str, int]:
    """`n` split as evenly as possible over the verdicts of `available` (pairs per verdict), none above what it
    has; what a small verdict cannot take goes to the others.

    >>> quotas({"near-duplicate": 3, "rewrite": 50, "partial-reuse": 80}, 10)
    {'near-duplicate': 3, 'rewrite': 4, 'partial-reuse': 3}
    """
    quota = dict.fromkeys(available, 0)
    left = min(n, sum(available.values()))
    while left:
        open_ = [v for v in available if quota[v] < available[v]]
        for v in open_:
            if not left:
                break
            quota[v] += 1
            left -= 1
    return quota


def draw(population: list[tuple[int, str]], n: int, seed: int, per_verdict: bool) -> list[int]:
    """Line numbers of the sample, in a random order (the order of the sheet). Deterministic for a seed.

    Uniform: `n` pairs (all if fewer) drawn without replacement. Per verdict: `quotas` pairs of each verdict.
    """
    rng = random.Random(seed)
    if not per_verdict:
        chosen = rng.sample(population, min(n, len(population)))
        return [line for line, _ in chosen]
    groups: dict[str, list[int]] = {}
    for line, verdict in population:
        groups.setdefault(verdict, []).append(line)
    ordered: dict[str, list[int]] = {v: groups[v] for v in VERDICTS if v in groups}
    lines = [
        x for v, k in quotas({v: len(g) for v, g in ordered.items()}, n).items() for x in rng.sample(ordered[v], k)
    ]
    rng.shuffle(lines)
    return lines


def read_pairs_at(pairs_file: Path, lines: Sequence[int]) -> list[dict[str, Any]]:
    """The pair JSON of the given lines of `pairs_file`, in the order of `lines`."""
    wanted = set(lines)
    found: dict[int, dict[str, Any]] = {}
    with pairs_file.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if n in wanted:
                found[n] = json.loads(line)
    return [found[n] for n in lines]


def corpus_name(path: Path) -> str:
    """The corpus a scan input belongs to: a folder's name, or the folder holding a file (``bbc/docs.jsonl.gz`` ->
    ``bbc``, the names of ../shared/data)."""
    return path.name if path.is_dir() else path.resolve().parent.name


def read_texts(
    inputs: Sequence[Path], ids: set[str], *, text_field: str, id_field: str, max_chars: int
) -> dict[str, tuple[Document, str]]:
    """``id -> (document, corpus name)`` for the wanted ids, reading the inputs in order as the scan did (the first
    record with an id wins)."""
    out: dict[str, tuple[Document, str]] = {}
    for path in inputs:
        name = corpus_name(path)
        for item in iter_corpus([path], text_field=text_field, id_field=id_field, max_chars=max_chars):
            if isinstance(item, Document) and item.id in ids and item.id not in out:
                out[item.id] = (item, name)
        if len(out) == len(ids):
            break
    return out


def sheet_line(pair: dict[str, Any], texts: dict[str, tuple[Document, str]]) -> dict[str, Any]:
    """One judging-sheet record of a scan pair: the judged-pairs fields (judgement left empty), the passages with
    the text of both sides, and the two texts."""
    a_id, b_id = pair["a"]["id"], pair["b"]["id"]
    (doc_a, corpus_a), (doc_b, corpus_b) = texts[a_id], texts[b_id]
    passages = [
        {
            **p,
            "text_a": doc_a.text[p["a_start"] : p["a_end"]],
            "text_b": doc_b.text[p["b_start"] : p["b_end"]],
        }
        for p in pair["passages"]
    ]
    return {
        "a": a_id,
        "b": b_id,
        "corpus": corpus_a if corpus_a == corpus_b else f"{corpus_a}+{corpus_b}",
        "verdict_then": pair["verdict"],
        "truth": "",
        "level_ok": None,
        "passages_ok": None,
        "why": "",
        "coverage_a": pair["a"]["coverage"],
        "coverage_b": pair["b"]["coverage"],
        "passages": passages,
        "text_a": doc_a.text,
        "text_b": doc_b.text,
    }


def _cell(text: str, limit: int = 700) -> str:
    """Text for one Markdown table cell: one line, pipes escaped, shortened past `limit` characters."""
    s = " ".join(text.split()).replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _quoted(text: str) -> str:
    """A text as a Markdown block quote, its paragraphs kept."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def markdown(rows: Sequence[dict[str, Any]], title: str) -> str:
    """The sheet rendered for a human reader: per pair the verdict, the passages side by side and both texts."""
    out = [
        f"# {title}",
        "",
        "Judge in `pairs.jsonl` (fields `truth`, `level_ok`, `passages_ok`, `why`); guidelines: docs/judging.md.",
        "",
    ]
    for k, r in enumerate(rows, 1):
        out += [
            f"## {k}. `{r['a']}` ↔ `{r['b']}`: {r['verdict_then']} ({r['corpus']})",
            "",
            f"Coverage A {r['coverage_a']:.0%}, B {r['coverage_b']:.0%}; {len(r['passages'])} passages.",
            "",
            "| # | label | A | B |",
            "|---|---|---|---|",
            *(
                f"| {j} | {p['label']} | {_cell(p['text_a'])} | {_cell(p['text_b'])} |"
                for j, p in enumerate(r["passages"], 1)
            ),
            "",
            f"**A `{r['a']}`** ({len(r['text_a'])} chars)",
            "",
            _quoted(r["text_a"]),
            "",
            f"**B `{r['b']}`** ({len(r['text_b'])} chars)",
            "",
            _quoted(r["text_b"]),
            "",
        ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("scan_out", type=Path, help="the scan's output folder (holds pairs.jsonl)")
    ap.add_argument("--inputs", type=Path, nargs="+", required=True, help="the scan's inputs, as given to it")
    ap.add_argument("--text-field", default="text", help="the scan's --text-field (default: text)")
    ap.add_argument("--id-field", default="id", help="the scan's --id-field (default: id)")
    ap.add_argument("--max-chars", type=int, default=MAX_CHARS, help="the scan's --max-chars")
    ap.add_argument("--n", type=int, default=100, help="pairs to draw (default 100)")
    ap.add_argument("--seed", type=int, required=True, help="random seed (record it with the results)")
    ap.add_argument("--per-verdict", action="store_true", help="the same number of pairs from each verdict")
    ap.add_argument("--verdicts", default=",".join(SAMPLED), help="comma-separated verdicts (default: %(default)s)")
    ap.add_argument("--to", type=Path, default=None, help="output folder (default SCAN_OUT/judging-seed<S>)")
    ap.add_argument("--force", action="store_true", help="overwrite an existing sheet")
    ap.add_argument(
        "--exclude", type=Path, nargs="*", default=[], help="pairs files already judged: their pairs are not drawn"
    )
    ap.add_argument(
        "--blind",
        type=int,
        default=0,
        metavar="K",
        help="also write blind-1.jsonl .. blind-K.jsonl: the pairs split among K readers, without the verdict",
    )
    args = ap.parse_args(argv)

    pairs_file = args.scan_out / "pairs.jsonl"
    if not pairs_file.is_file():
        ap.error(f"no pairs.jsonl in {args.scan_out}")
    verdicts = [v.strip() for v in args.verdicts.split(",") if v.strip()]
    unknown = [v for v in verdicts if v not in VERDICTS]
    if unknown or not verdicts or args.n < 1:
        ap.error(f"--verdicts takes some of {', '.join(VERDICTS)}; --n at least 1")
    to: Path = args.to if args.to is not None else args.scan_out / f"judging-seed{args.seed}"
    if (to / "pairs.jsonl").exists() and not args.force:
        ap.error(f"{to / 'pairs.jsonl'} exists (a sheet may hold judgements): pass --force or another --to")

    population = read_population(pairs_file, verdicts, read_exclusions(args.exclude))
    lines = draw(population, args.n, args.seed, args.per_verdict)
    pairs = read_pairs_at(pairs_file, lines)
    ids = {p[side]["id"] for p in pairs for side in ("a", "b")}
    texts = read_texts(args.inputs, ids, text_field=args.text_field, id_field=args.id_field, max_chars=args.max_chars)
    missing = sorted(ids - set(texts))
    if missing:
        ap.error(
            f"{len(missing)} ids of the sample are not in --inputs (e.g. {missing[0]!r}): same inputs as the scan?"
        )
    rows = [sheet_line(p, texts) for p in pairs]

    to.mkdir(parents=True, exist_ok=True)
    with (to / "pairs.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    mode = "per verdict" if args.per_verdict else "uniform"
    title = f"Judging sheet: {len(rows)} pairs of {args.scan_out} (seed {args.seed}, {mode})"
    (to / "pairs.md").write_text(markdown(rows, title) + "\n", encoding="utf-8")
    for k in range(args.blind):
        with (to / f"blind-{k + 1}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows[k :: args.blind]:
                fh.write(json.dumps({f: r[f] for f in BLIND_FIELDS}, ensure_ascii=False) + "\n")
    info = {
        "scan": str(args.scan_out),
        "inputs": [str(p) for p in args.inputs],
        "text_field": args.text_field,
        "id_field": args.id_field,
        "seed": args.seed,
        "n": len(rows),
        "mode": mode,
        "verdicts": verdicts,
        "excluded": [str(p) for p in args.exclude],
        "blind_readers": args.blind,
        "scan_pairs": dict(Counter(v for _, v in population)),
        "drawn": dict(Counter(r["verdict_then"] for r in rows)),
    }
    (to / "sample.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(
        f"{len(rows)} pairs ({', '.join(f'{v} {k}' for v, k in info['drawn'].items())}) -> {to}/pairs.jsonl, pairs.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
