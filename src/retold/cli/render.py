"""Human-readable rendering of a pair result with rich: verdict, passages side by side, adds and drops."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from retold.api import ScanReport
from retold.model import PairResult, Span

_STYLE = {"verbatim": "bold green", "paraphrase": "yellow", "new": "cyan", "attribution": "dim magenta"}
_VERDICT_STYLE = {
    "duplicate": "bold red",
    "near-duplicate": "bold red",
    "rewrite": "bold yellow",
    "partial-reuse": "bold blue",
    "template": "bold magenta",
    "unrelated": "bold green",
}


def _snippet(text: str, start: int, end: int, limit: int = 600) -> str:
    s = " ".join(text[start:end].split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _side_lines(res: PairResult, side: str) -> str:
    s = res.a if side == "a" else res.b
    return f"{side.upper()}  {s.id}   {s.chars} chars   date {s.date or '—'}   coverage {s.coverage:.0%}"


def _spans_of(spans: tuple[Span, ...], label: str) -> list[Span]:
    return [s for s in spans if s.label == label]


def render_pair(console: Console, res: PairResult, text_a: str, text_b: str) -> None:
    """Print verdict, the passages side by side, what each side adds, and the attribution lines."""
    head = Text.assemble(
        ("verdict: ", "bold"),
        (res.verdict.upper(), _VERDICT_STYLE[res.verdict]),
        "\n",
        _side_lines(res, "a"),
        "\n",
        _side_lines(res, "b"),
    )
    console.print(Panel(head, title="retold compare", expand=False))

    table = Table(title=f"Aligned passages ({len(res.alignment.passages)})", show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("label", width=10)
    table.add_column("score", justify="right", width=5)
    table.add_column(f"A  {res.a.id}", ratio=1)
    table.add_column(f"B  {res.b.id}", ratio=1)
    for n, p in enumerate(res.alignment.passages, 1):
        table.add_row(
            str(n),
            Text(p.label, style=_STYLE[p.label]),
            f"{p.score:.2f}",
            f"[{p.a_start}:{p.a_end}] " + _snippet(text_a, p.a_start, p.a_end),
            f"[{p.b_start}:{p.b_end}] " + _snippet(text_b, p.b_start, p.b_end),
        )
    console.print(table)

    for side, other, spans, text in (
        ("A", "B", res.alignment.spans_a, text_a),
        ("B", "A", res.alignment.spans_b, text_b),
    ):
        new = _spans_of(spans, "new")
        body = (
            Group(*(Text(f"• [{s.start}:{s.end}] " + _snippet(text, s.start, s.end, 400)) for s in new))
            if new
            else Text("nothing", style="dim")
        )
        console.print(Panel(body, title=f"{side} adds (not in {other}; what {other} drops)", style=_STYLE["new"]))
    attr = [("A", s, text_a) for s in _spans_of(res.alignment.spans_a, "attribution")]
    attr += [("B", s, text_b) for s in _spans_of(res.alignment.spans_b, "attribution")]
    if attr:
        lines = (Text(f"{side} [{s.start}:{s.end}] " + _snippet(t, s.start, s.end, 200)) for side, s, t in attr)
        console.print(Panel(Group(*lines), title="attribution (not matched)", style=_STYLE["attribution"]))
    legend = Text.assemble(*((f" {k} ", v) for k, v in _STYLE.items()))
    console.print(Text("labels:") + legend)


def render_scan(console: Console, report: ScanReport) -> None:
    """Print the scan summary: records, candidates per channel, aligned vs all pairs, verdicts, speed."""
    st = report.stats
    t = Table(title="retold scan", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("records read", f"{report.read:,}")
    t.add_row("documents", f"{st.documents:,}")
    t.add_row("skipped (see manifest.jsonl)", f"{report.skipped:,}")
    for k, v in st.candidates.items():
        t.add_row(f"candidates: {k}", f"{v:,}")
    t.add_row("pairs aligned", f"{st.aligned:,}  (all pairs: {st.all_pairs:,})")
    for k, v in sorted(st.verdicts.items()):
        t.add_row(f"verdict: {k}", f"{v:,}")
    t.add_row("pairs written", f"{report.pairs:,}")
    t.add_row("wall time", f"{report.wall_seconds:.1f} s  ({report.docs_per_second:,.0f} docs/s)")
    t.add_row("output", str(report.out_dir))
    console.print(t)
