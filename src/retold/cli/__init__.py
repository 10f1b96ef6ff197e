"""The `retold` command line: thin Typer commands over `retold.api`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from retold import api
from retold.cli.common import (
    Format,
    IdFieldOption,
    Keep,
    Semantic,
    SemanticOption,
    TextFieldOption,
    WorkersOption,
    config,
    err,
    out,
    processes,
    progress_bar,
)
from retold.cli.common import fail as _fail
from retold.errors import RetoldError

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
) -> None:
    """Align two articles: verdict, reused passages, and what each adds."""
    try:
        res = api.compare_files(a, b, config(semantic))
    except RetoldError as exc:
        _fail(exc)
        return
    if format is Format.json:
        sys.stdout.write(json.dumps(res.to_json(), ensure_ascii=False) + "\n")
    else:
        from retold.cli.render import render_pair

        render_pair(out, res, a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8"))


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
    semantic: SemanticOption = Semantic.auto,
) -> None:
    """Find every copied, near-duplicate or rewritten pair in a corpus; write pairs, families and a keep-list."""
    from retold.cli.render import render_scan

    n_workers = processes(workers)
    try:
        cfg = config(semantic)
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
            )
    except RetoldError as exc:
        _fail(exc)
        return
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
    try:
        root = api.data_dir(data)
        a, b = root / api.SEED_A, root / api.SEED_B
        res = api.compare_files(a, b, config(semantic))
    except RetoldError as exc:
        _fail(exc)
        return
    from retold.cli.render import render_pair

    render_pair(out, res, a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8"))


@app.command("eval")
def eval_(
    name: Annotated[str, typer.Argument(help="pan13, clough, mrpc, stsb, synthetic, seeds or all.")],
    data: Annotated[
        Path | None, typer.Option(help="Data in the format of ../shared/data/NAME (for all: the shared data folder).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result as JSON to this file.")] = None,
    detections: Annotated[Path | None, typer.Option(help="pan13: write detections as PAN XML here.")] = None,
    workers: Annotated[int, typer.Option(help="Processes (pan13, synthetic; default: all cores).")] = 0,
    semantic: SemanticOption = Semantic.auto,
) -> None:
    """Quality benchmarks on real data; prints a Markdown table."""
    from retold.eval import runner

    n_workers = processes(workers)
    try:
        cfg = config(semantic)
        opts: dict[str, dict[str, object]] = {name: {"cfg": cfg} for name in runner.BENCHMARKS}
        opts["pan13"] |= {"workers": n_workers, "detections_dir": detections}
        opts["synthetic"] |= {"workers": n_workers}
        if name == "all":
            root = data if data is not None else api.data_dir()
            results = runner.run_all(root, **opts)
            result = runner.combined(results, root)
        else:
            result = runner.run_one(name, data, **opts.get(name, {}))
            results = [result]
    except RetoldError as exc:
        _fail(exc)
        return
    sys.stdout.write(runner.markdown(results) + "\n")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    """Console-script entry point."""
    app()


from retold.cli.index import index_app  # noqa: E402  (registered after the commands above)

app.add_typer(index_app, name="index")
