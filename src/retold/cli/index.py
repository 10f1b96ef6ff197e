"""`retold index add|query|export`: grow, query and export a persistent SQLite index (thin, over `retold.api`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from retold import api
from retold.cli.common import (
    MAX_CHARS,
    Format,
    IdFieldOption,
    Keep,
    MaxCharsOption,
    Semantic,
    SemanticOption,
    Templates,
    TemplatesOption,
    TextFieldOption,
    WorkersOption,
    config,
    err,
    guarded,
    out,
    processes,
    progress_bar,
)

index_app = typer.Typer(
    help="A persistent index: add corpora incrementally, ask which earlier articles one reuses, export results.",
    no_args_is_help=True,
)

DbOption = Annotated[Path, typer.Option("--db", help="The index file (SQLite).")]


@index_app.command("add")
def add(
    corpus: Annotated[
        list[Path], typer.Argument(help="Folder of .txt, .jsonl(.gz), .csv or .parquet; several allowed.")
    ],
    db: DbOption,
    text_field: TextFieldOption = "text",
    id_field: IdFieldOption = "id",
    workers: WorkersOption = 0,
    batch_size: Annotated[int, typer.Option(help="Documents per transaction.", min=1)] = api.BATCH_SIZE,
    manifest: Annotated[Path | None, typer.Option(help="Write one status line per input record here.")] = None,
    semantic: SemanticOption = Semantic.auto,
    max_chars: MaxCharsOption = MAX_CHARS,
) -> None:
    """Add new and changed documents to the index (created if missing); rerun after an interruption to resume."""
    n_workers = processes(workers)
    with guarded("committed batches are kept; run the same command again to resume"):
        cfg = config(semantic, max_chars)
        with progress_bar() as progress:
            report = api.index_corpus(
                corpus,
                db,
                cfg,
                text_field=text_field,
                id_field=id_field,
                workers=n_workers,
                batch_size=batch_size,
                manifest=manifest,
                progress=progress,
            )
    st = report.stats
    for run, batches in st.interrupted:
        err.print(f"[yellow]resumed:[/] run {run} was interrupted after {batches} committed batches")
    for e in report.errors[:20]:
        err.print(f"[yellow]skipped:[/] {e}", highlight=False, soft_wrap=True)
    for doc_id in st.updated[:20]:
        out.print(f"[cyan]updated:[/] {doc_id} (text changed; old pairs replaced)", highlight=False)
    t = Table(title=f"retold index add → {report.db}", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("records read", f"{report.read:,}")
    t.add_row("added", f"{st.added:,}")
    t.add_row("updated", f"{len(st.updated):,}")
    t.add_row("unchanged (already indexed)", f"{len(st.unchanged):,}")
    t.add_row("skipped (bad records)", f"{report.skipped:,}")
    t.add_row("pairs aligned", f"{st.aligned:,}")
    for k, v in sorted(st.verdicts.items()):
        t.add_row(f"verdict: {k}", f"{v:,}")
    t.add_row("documents in index", f"{report.documents_in_index:,}")
    t.add_row("wall time", f"{report.wall_seconds:.1f} s  ({report.docs_per_second:,.0f} docs/s)")
    out.print(t)
    if report.read == report.skipped:  # nothing readable (unchanged documents count as read), as `scan`
        gone = "; no index was created" if report.removed_empty else ""
        err.print(f"[bold red]error:[/] no readable documents in the input{gone}", highlight=False)
        raise typer.Exit(2)


@index_app.command("query")
def query(
    doc: Annotated[Path, typer.Argument(help="The article (UTF-8 text file).")],
    db: DbOption,
    add: Annotated[bool, typer.Option("--add", help="Also add the article to the index.")] = False,
    format: Annotated[
        Format, typer.Option("--format", "-f", help="Output: text (table) or json (a list of pair JSON).")
    ] = Format.text,
    semantic: SemanticOption = Semantic.auto,
    max_chars: MaxCharsOption = MAX_CHARS,
) -> None:
    """Which earlier articles in the index this one reuses: verdicts, coverage and passages."""
    with guarded():
        report = api.query_file(db, doc, config(semantic, max_chars), add=add)
    if format is Format.json:
        sys.stdout.write(json.dumps([r.to_json() for r in report.results], ensure_ascii=False) + "\n")
        return
    render_query(report)


@index_app.command("export")
def export(
    db: DbOption,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    keep: Annotated[Keep, typer.Option(help="Keep-list: each family's original, its first, or all.")] = Keep.original,
    templates: TemplatesOption = Templates.separate,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Also write candidate pairs judged unrelated.")
    ] = False,
    semantic: SemanticOption = Semantic.auto,
    max_chars: MaxCharsOption = MAX_CHARS,
) -> None:
    """Write pairs.jsonl, families.jsonl, keep.jsonl (and the same as Parquet) for everything in the index."""
    with guarded("no file was left half-written; run the command again"):
        cfg = config(semantic, max_chars)
        report = api.export_index(
            db, out_dir, cfg, keep=keep.value, include_unrelated=all_pairs, templates=templates.value
        )
    out.print(
        f"{report.pairs:,} pairs, {report.families:,} families ({report.multi_member_families:,} with several "
        f"versions) → {out_dir}",
        highlight=False,
    )


def _snippet(text: str, start: int, end: int, limit: int = 160) -> str:
    s = " ".join(text[start:end].split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_query(report: api.QueryReport) -> None:
    """One row per earlier article reused: verdict, coverage of both sides, and the passages (from this article)."""
    doc = report.doc
    if not report.results:
        out.print(f"{doc.id}: reuses no article in the index ({report.seconds * 1000:.0f} ms)", highlight=False)
        return
    t = Table(
        title=f"{doc.id} reuses {len(report.results)} earlier article(s)" + (" (added)" if report.added else ""),
        show_lines=True,
        expand=True,
    )
    t.add_column("#", justify="right", width=3)
    t.add_column("earlier article", ratio=1)
    t.add_column("verdict", width=14)
    t.add_column("coverage\nthis / earlier", justify="right", width=14)
    t.add_column("passages in this article", ratio=3)
    for n, r in enumerate(report.results, 1):
        passages = Text()
        for p in r.alignment.passages[:3]:
            passages.append(
                f"{p.label} [{p.b_start}:{p.b_end}] ", style="bold green" if p.label == "verbatim" else "yellow"
            )
            passages.append(_snippet(doc.text, p.b_start, p.b_end) + "\n")
        if len(r.alignment.passages) > 3:
            passages.append(f"… {len(r.alignment.passages) - 3} more", style="dim")
        t.add_row(
            str(n),
            f"{r.a.id}\n{r.a.date or '—'}",
            r.verdict,
            f"{r.b.coverage:.0%} / {r.a.coverage:.0%}",
            passages,
        )
    out.print(t)
