"""Pieces shared by the CLI modules: consoles, output format, the semantic option, error exit and the progress
bar."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from retold.config import AlignConfig, RetoldConfig

out = Console()
err = Console(stderr=True)


class Format(StrEnum):
    text = "text"
    json = "json"


class Keep(StrEnum):
    original = "original"
    first = "first"
    all = "all"


class Semantic(StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


SemanticOption = Annotated[
    Semantic,
    typer.Option(
        "--semantic",
        help="Sentence-embedding channel for paraphrases: auto (when installed), on (error if not), off (lexical).",
    ),
]


TextFieldOption = Annotated[str, typer.Option(help="Field holding the article text in JSONL/CSV/Parquet.")]
IdFieldOption = Annotated[str, typer.Option(help="Field holding the document id.")]
WorkersOption = Annotated[int, typer.Option(help="Processes for analysis and alignment (default: all cores).")]


def processes(workers: int) -> int:
    """The number of worker processes: `workers`, or every core when it is 0 or less."""
    return workers if workers > 0 else (os.cpu_count() or 1)


def config(semantic: Semantic) -> RetoldConfig:
    """The configuration a command runs with: the defaults, with the semantic channel as chosen.

    Raises:
        ConfigError: ``on`` while the semantic packages are missing (names the pip command).
    """
    return RetoldConfig(align=AlignConfig(semantic=semantic.value))


def fail(exc: Exception | str) -> NoReturn:
    """Print an error on stderr and exit with status 2."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on stderr (only on a terminal)."""
    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        yield progress
