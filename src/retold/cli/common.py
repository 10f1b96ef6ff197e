"""Pieces shared by the CLI modules: consoles, output format, shared options, the progress bar, and how a command
ends (`guarded`: errors and signals become a message and an exit status, never a traceback).

Exit statuses: 0 the run completed (skipped records are listed and counted); 2 nothing could be done (bad usage,
unreadable input, an unusable index or output folder); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM);
1 any other failure (writing an output failed, a worker died, an internal error).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from enum import StrEnum
from types import FrameType
from typing import Annotated, NoReturn

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from retold import stop
from retold.config import AlignConfig, LimitsConfig, RetoldConfig
from retold.errors import DiskFullError, RetoldError
from retold.io.writers import OutputError
from retold.stop import Terminated

out = Console()
err = Console(stderr=True)


class Format(StrEnum):
    text = "text"
    json = "json"


class Keep(StrEnum):
    original = "original"
    first = "first"
    all = "all"


class Templates(StrEnum):
    separate = "separate"
    duplicate = "duplicate"
    ignore = "ignore"


TemplatesOption = Annotated[
    Templates,
    typer.Option(
        "--templates",
        help="Pairs judged 'template' (same wording, other facts): separate (written, kept out of families and "
        "the keep-list), duplicate (also linked in families like near-duplicates), ignore (not written).",
    ),
]


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
MaxCharsOption = Annotated[
    int,
    typer.Option(
        "--max-chars",
        min=1,
        help="Skip (and list) records whose text is longer than this many characters. An index remembers the "
        "value it was built with.",
    ),
]
MAX_CHARS = LimitsConfig().max_chars


def processes(workers: int) -> int:
    """The number of worker processes: `workers`, or every core when it is 0 or less."""
    return workers if workers > 0 else (os.cpu_count() or 1)


def config(semantic: Semantic, max_chars: int = MAX_CHARS) -> RetoldConfig:
    """The configuration a command runs with: the defaults, with the semantic channel and the longest text taken
    as chosen.

    Raises:
        ConfigError: ``on`` while the semantic packages are missing (names the pip command), or a bad value.
    """
    return RetoldConfig(align=AlignConfig(semantic=semantic.value), limits=LimitsConfig(max_chars=max_chars))


def fail(exc: Exception | str, code: int = 2) -> NoReturn:
    """Print an error on stderr and exit with status `code` (2: nothing could be done)."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Ignore further SIGTERMs: a second one must not interrupt the cleanup the first one started. Recorded too:
    # raised inside a ctypes callback the exception is lost, and the pipeline raises it again (`retold.stop`).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop.request(signum)
    raise Terminated


def _interrupt(signum: int, frame: FrameType | None) -> None:
    stop.request(signum)
    raise KeyboardInterrupt


def exit_code(exc: RetoldError) -> int:
    """1 when writing failed after work was done (an output, or the index on a full disk); 2 otherwise (nothing
    could be done)."""
    if isinstance(exc, DiskFullError):
        return 1
    return 1 if isinstance(exc, OutputError) and not exc.usage else 2


@contextmanager
def guarded(stopped: str = "stopped") -> Iterator[None]:
    """Run a command's work so that it ends with a message and an exit status, never a traceback.

    SIGTERM is handled like Ctrl-C while the block runs (exit 143; Ctrl-C exits 130), printing `stopped` (what
    was kept and how to go on). `RetoldError` exits 2 (1 for a failed output); a dead worker, an `OSError` or an
    unexpected error exits 1 (``RETOLD_DEBUG=1`` shows the traceback of the last).
    """
    main = threading.current_thread() is threading.main_thread()
    stop.clear()
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    previous_int = signal.signal(signal.SIGINT, _interrupt) if main else None
    try:
        yield
    except Terminated:
        err.print(f"[yellow]terminated (SIGTERM):[/] {stopped}", highlight=False, soft_wrap=True)
        raise typer.Exit(143) from None
    except KeyboardInterrupt:
        err.print(f"[yellow]interrupted:[/] {stopped}", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise  # the command's own exit
    except RetoldError as exc:
        fail(exc, exit_code(exc))
    except BrokenProcessPool:
        fail("a worker process died (killed, or out of memory?); committed work is kept, run the command again", 1)
    except MemoryError:
        fail("out of memory; try fewer --workers or a lower --max-chars", 1)
    except OSError as exc:
        fail(f"{exc}", 1)
    except Exception as exc:
        if os.environ.get("RETOLD_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (run with RETOLD_DEBUG=1 for the traceback)", 1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


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
