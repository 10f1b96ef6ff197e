"""The `retold` command line: thin Typer commands over `retold.api`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

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
from retold.io.writers import write_text

app = typer.Typer(
    name="retold",
    help="Find copied, near-duplicate and rewritten versions of news articles, and show what was reused.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="First article (UTF-8 text file).")],
    b: Annotated[Path, typer.Argument(help="Second article (UTF-8 text file).")],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="Output: text (human) or json (pair JSON).")
    ] = Format.text,
    semantic: SemanticOption = Semantic.auto,
    max_chars: MaxCharsOption = MAX_CHARS,
) -> None:
    """Align two articles: verdict, reused passages, and what each adds."""
    with guarded():
        pair = api.compare_paths(a, b, config(semantic, max_chars))
    if format is Format.json:
        sys.stdout.write(json.dumps(pair.result.to_json(), ensure_ascii=False) + "\n")
    else:
        from retold.cli.render import render_pair

        # The texts the library aligned: the offsets index them (a second read could differ, e.g. in line ends).
        render_pair(out, pair.result, pair.a.text, pair.b.text)


@app.command()
def scan(
    corpus: Annotated[
        list[Path], typer.Argument(help="Folder of .txt, .jsonl(.gz), .csv or .parquet; several allowed.")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder for pairs.jsonl, manifest.jsonl, summary.json.")
    ] = Path("retold-out"),
    text_field: TextFieldOption = "text",
    id_field: IdFieldOption = "id",
    workers: WorkersOption = 0,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Also write candidate pairs judged unrelated.")
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", help="Index into this SQLite file (kept) instead of a temporary one.")
    ] = None,
    keep: Annotated[Keep, typer.Option(help="Keep-list: each family's original, its first, or all.")] = Keep.original,
    templates: TemplatesOption = Templates.separate,
    semantic: SemanticOption = Semantic.auto,
    max_chars: MaxCharsOption = MAX_CHARS,
) -> None:
    """Find every copied, near-duplicate or rewritten pair in a corpus; write pairs, families and a keep-list."""
    from retold.cli.render import render_scan

    n_workers = processes(workers)
    stopped = (
        f"committed batches are kept in {db}; run the same command again to resume"
        if db is not None
        else "the scan stopped before writing its outputs and removed its temporary index (a scan with --db FILE "
        "keeps its committed batches and resumes)"
    )
    with guarded(stopped):
        cfg = config(semantic, max_chars)
        with progress_bar() as progress:
            report = api.scan_corpus(
                corpus,
                out_dir,
                cfg,
                text_field=text_field,
                id_field=id_field,
                workers=n_workers,
                keep_unrelated=all_pairs,
                progress=progress,
                db=db,
                keep=keep.value,
                templates=templates.value,
            )
    for e in report.errors[:20]:
        err.print(f"[yellow]skipped:[/] {e}", highlight=False, soft_wrap=True)
    if len(report.errors) > 20:
        err.print(f"[yellow]… and {len(report.errors) - 20} more skipped records (see manifest.jsonl)[/]")
    render_scan(out, report)
    if report.read == report.skipped:  # nothing readable (with --db, unchanged documents were read)
        err.print("[bold red]error:[/] no readable documents in the input")
        raise typer.Exit(2)


@app.command()
def demo(
    data: Annotated[
        Path | None, typer.Option(help="Shared data folder (default: $RETOLD_DATA or ../shared/data).")
    ] = None,
    semantic: SemanticOption = Semantic.auto,
) -> None:
    """The founding case: seed 000 is a rewrite of seed 004. Shows verdict, passages, adds and drops."""
    with guarded():
        root = api.data_dir(data)
        pair = api.compare_paths(root / api.SEED_A, root / api.SEED_B, config(semantic))
    from retold.cli.render import render_pair

    render_pair(out, pair.result, pair.a.text, pair.b.text)


@app.command("eval")
def eval_(
    name: Annotated[str, typer.Argument(help="pan13, clough, mrpc, stsb, synthetic, seeds, rewrites, judged or all.")],
    data: Annotated[
        Path | None, typer.Option(help="Data in the format of ../shared/data/NAME (for all: the shared data folder).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result as JSON to this file.")] = None,
    detections: Annotated[Path | None, typer.Option(help="pan13: write detections as PAN XML here.")] = None,
    workers: Annotated[int, typer.Option(help="Processes (pan13, synthetic, rewrites; default: all cores).")] = 0,
    pairwise_only: Annotated[
        bool, typer.Option("--pairwise-only", help="rewrites: skip the scan with the set hidden in BBC + Reuters.")
    ] = False,
    semantic: SemanticOption = Semantic.auto,
) -> None:
    """Quality benchmarks on real data; prints a Markdown table."""
    from retold.eval import runner

    n_workers = processes(workers)
    with guarded():
        cfg = config(semantic)
        opts: dict[str, dict[str, object]] = {name: {"cfg": cfg} for name in runner.BENCHMARKS}
        opts["pan13"] |= {"workers": n_workers, "detections_dir": detections}
        opts["synthetic"] |= {"workers": n_workers}
        opts["rewrites"] |= {"workers": n_workers, "hidden_mode": not pairwise_only}
        if name == "all":
            root = data if data is not None else api.data_dir()
            results = runner.run_all(root, **opts)
            result = runner.combined(results, root)
        else:
            result = runner.run_one(name, data, **opts.get(name, {}))
            results = [result]
    sys.stdout.write(runner.markdown(results) + "\n")
    if json_out is not None:
        with guarded():
            write_text(json_out, json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    """Console-script entry point. The commands turn errors into messages (`guarded`); whatever escapes them
    (a bug in rendering, say) still ends as a message and exit 1, not a traceback."""
    try:
        app()
    except Exception as exc:
        if os.environ.get("RETOLD_DEBUG"):
            raise
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (run with RETOLD_DEBUG=1 for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


from retold.cli.index import index_app  # noqa: E402  (registered after the commands above)

app.add_typer(index_app, name="index")
